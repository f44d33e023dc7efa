//! SQL for canned replies (issue 14): `/shortcut` in the console's composer expands to a text.
//! Admins manage them over REST (`http/canned.rs`); every console gets the whole list in
//! `staff_init` and again in `canned_replies_changed` after each change.

use crate::error::StoreError;
use crate::model::{new_id, now_ms};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

/// One canned reply as REST answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Canned {
    pub id: String,
    pub shortcut: String,
    pub text: String,
    pub created_at: i64,
    /// `null` until it is first changed.
    pub updated_at: Option<i64>,
}

const COLS: &str = "id, shortcut, text, created_at, updated_at";

fn from_row(r: &Row) -> rusqlite::Result<Canned> {
    Ok(Canned {
        id: r.get(0)?,
        shortcut: r.get(1)?,
        text: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

/// Every canned reply, by shortcut.
pub fn load_canned(conn: &Connection) -> rusqlite::Result<Vec<Canned>> {
    let sql = format!("SELECT {COLS} FROM canned_replies ORDER BY shortcut");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], from_row)?;
    rows.collect()
}

fn by_id(conn: &Connection, id: &str) -> rusqlite::Result<Option<Canned>> {
    let sql = format!("SELECT {COLS} FROM canned_replies WHERE id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id], from_row)
        .optional()
}

fn not_found() -> StoreError {
    StoreError::NotFound("No such canned reply.".into())
}

/// The unique shortcut turned into a 409; other failures pass through.
fn taken(res: rusqlite::Result<usize>, shortcut: &str) -> Result<usize, StoreError> {
    match res {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(StoreError::Conflict(format!(
                "A canned reply with the shortcut {shortcut} already exists."
            )))
        }
        other => Ok(other?),
    }
}

/// Stores a new canned reply (`shortcut` already checked and lower-cased).
pub fn create_canned(conn: &Connection, shortcut: &str, text: &str) -> Result<Canned, StoreError> {
    let id = new_id();
    taken(
        conn.execute(
            "INSERT INTO canned_replies (id, shortcut, text, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, shortcut, text, now_ms()],
        ),
        shortcut,
    )?;
    by_id(conn, &id)?.ok_or_else(not_found)
}

/// Changes the fields given; `NotFound` for an unknown id, `Conflict` for a taken shortcut.
pub fn update_canned(
    conn: &Connection,
    id: &str,
    shortcut: Option<&str>,
    text: Option<&str>,
) -> Result<Canned, StoreError> {
    let now = now_ms();
    if by_id(conn, id)?.is_none() {
        return Err(not_found());
    }
    if let Some(s) = shortcut {
        taken(
            conn.execute(
                "UPDATE canned_replies SET shortcut = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, s, now],
            ),
            s,
        )?;
    }
    if let Some(t) = text {
        conn.execute(
            "UPDATE canned_replies SET text = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, t, now],
        )?;
    }
    by_id(conn, id)?.ok_or_else(not_found)
}

/// Deletes one; `NotFound` for an unknown id.
pub fn delete_canned(conn: &Connection, id: &str) -> Result<(), StoreError> {
    match conn.execute("DELETE FROM canned_replies WHERE id = ?1", [id])? {
        0 => Err(not_found()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        crate::store::migrate::migrate(&mut c, std::path::Path::new(":memory:")).unwrap();
        c
    }

    #[test]
    fn round_trip_by_shortcut_with_conflicts_and_unknown_ids() {
        let c = db();
        let b = create_canned(&c, "shipping", "We ship in 2 days.").unwrap();
        let a = create_canned(&c, "refund", "Refunds take 5 days.").unwrap();
        assert_eq!(b.updated_at, None);
        let list = load_canned(&c).unwrap();
        assert_eq!(list, [a.clone(), b.clone()], "ordered by shortcut");
        assert!(matches!(
            create_canned(&c, "refund", "again"),
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            update_canned(&c, &b.id, Some("refund"), None),
            Err(StoreError::Conflict(_))
        ));
        let b2 = update_canned(&c, &b.id, None, Some("Two days.")).unwrap();
        assert_eq!(
            (b2.shortcut.as_str(), b2.text.as_str()),
            ("shipping", "Two days.")
        );
        assert!(b2.updated_at.is_some());
        assert!(matches!(
            update_canned(&c, "nope", None, Some("x")),
            Err(StoreError::NotFound(_))
        ));
        delete_canned(&c, &a.id).unwrap();
        assert!(matches!(
            delete_canned(&c, &a.id),
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(load_canned(&c).unwrap(), [b2]);
    }
}
