//! Canned replies: `/shortcut` in the console's composer expands to their text (product.md
//! §8.8). Admins manage them over REST (`http/canned.rs`); every console has the list in
//! `staff_init` and hears `canned_replies_changed`.

use rusqlite::Connection;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Canned {
    pub id: String,
    pub shortcut: String,
    pub text: String,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

/// Every canned reply, by shortcut.
pub fn load_canned(conn: &Connection) -> rusqlite::Result<Vec<Canned>> {
    let mut st = conn.prepare_cached(
        "SELECT id, shortcut, text, created_at, updated_at FROM canned_replies ORDER BY shortcut",
    )?;
    let rows = st.query_map([], |r| {
        Ok(Canned {
            id: r.get(0)?,
            shortcut: r.get(1)?,
            text: r.get(2)?,
            created_at: r.get(3)?,
            updated_at: r.get(4)?,
        })
    })?;
    rows.collect()
}
