//! SQL for webhooks (issue 16, product.md §8.12): the hooks admins set up, and their
//! deliveries, which are also the durable outbox (`src/webhooks/` sends, `http/webhooks.rs`
//! edits). A delivery with `next_at` set is not finished; after a restart it is resumed.

use crate::error::StoreError;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

/// Finished deliveries kept per hook; older ones are deleted as new ones finish.
pub const KEEP_FINISHED: i64 = 50;

/// A hook as stored (and as admins see it over REST).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Hook {
    pub id: String,
    pub url: String,
    pub secret: String,
    pub events: Vec<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub created_by: Option<String>,
}

/// One delivery as admins see it (without its body).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub event: String,
    /// `pending` (an attempt is due), `delivered` or `failed` (given up).
    pub state: &'static str,
    pub attempts: i64,
    /// The last attempt's HTTP status, if the receiver answered.
    pub status: Option<i64>,
    /// Why the last attempt failed, in a sentence.
    pub error: Option<String>,
    pub created_at: i64,
    pub next_attempt_at: Option<i64>,
    pub delivered_at: Option<i64>,
}

/// A delivery to attempt now: everything the sender needs.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: String,
    pub event: String,
    pub body: String,
    pub attempts: i64,
    pub url: String,
    pub secret: String,
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub id: String,
    pub status: Option<i64>,
    pub error: Option<String>,
    /// `Some(at)`: try again at; `None`: finished.
    pub next_at: Option<i64>,
    pub delivered: bool,
    pub at: i64,
}

const HOOK_COLUMNS: &str = "id, url, secret, events, enabled, created_at, created_by";

fn hook_row(r: &Row) -> rusqlite::Result<Hook> {
    let events: String = r.get(3)?;
    Ok(Hook {
        id: r.get(0)?,
        url: r.get(1)?,
        secret: r.get(2)?,
        events: events
            .split(',')
            .filter(|e| !e.is_empty())
            .map(String::from)
            .collect(),
        enabled: r.get(4)?,
        created_at: r.get(5)?,
        created_by: r.get(6)?,
    })
}

pub fn list(conn: &Connection) -> Result<Vec<Hook>, StoreError> {
    let mut st = conn.prepare(&format!(
        "SELECT {HOOK_COLUMNS} FROM webhooks ORDER BY created_at, id"
    ))?;
    let rows = st.query_map([], hook_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<Hook>, StoreError> {
    Ok(conn
        .query_row(
            &format!("SELECT {HOOK_COLUMNS} FROM webhooks WHERE id = ?1"),
            [id],
            hook_row,
        )
        .optional()?)
}

pub fn count(conn: &Connection) -> Result<usize, StoreError> {
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM webhooks", [], |r| r.get(0))?;
    Ok(n as usize)
}

/// Inserts or replaces the hook with this id.
pub fn save(conn: &Connection, h: &Hook) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO webhooks (id, url, secret, events, enabled, created_at, created_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT (id) DO UPDATE SET url = ?2, secret = ?3, events = ?4, enabled = ?5",
        params![
            h.id,
            h.url,
            h.secret,
            h.events.join(","),
            h.enabled,
            h.created_at,
            h.created_by
        ],
    )?;
    Ok(())
}

/// Deletes a hook with its deliveries; whether there was one.
pub fn delete(conn: &Connection, id: &str) -> Result<bool, StoreError> {
    conn.execute("DELETE FROM webhook_deliveries WHERE hook_id = ?1", [id])?;
    Ok(conn.execute("DELETE FROM webhooks WHERE id = ?1", [id])? > 0)
}

/// Queues deliveries `(id, hook_id, event, body)`, due now.
pub fn enqueue(
    conn: &Connection,
    rows: &[(String, String, &'static str, String)],
    now: i64,
) -> Result<(), StoreError> {
    let mut st = conn.prepare_cached(
        "INSERT INTO webhook_deliveries (id, hook_id, event, body, attempts, next_at, created_at) \
         SELECT ?1, ?2, ?3, ?4, 0, ?5, ?5 WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = ?2)",
    )?;
    for (id, hook, event, body) in rows {
        st.execute(params![id, hook, event, body, now])?;
    }
    Ok(())
}

/// Deliveries due by `now` (at most `limit`), oldest first, and when the next one after
/// those is due.
pub fn due(
    conn: &Connection,
    now: i64,
    limit: usize,
) -> Result<(Vec<Due>, Option<i64>), StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT d.id, d.event, d.body, d.attempts, w.url, w.secret \
         FROM webhook_deliveries d JOIN webhooks w ON w.id = d.hook_id \
         WHERE d.next_at IS NOT NULL AND d.next_at <= ?1 AND w.enabled = 1 ORDER BY d.next_at, d.id LIMIT ?2",
    )?;
    let due = st
        .query_map(params![now, limit as i64], |r| {
            Ok(Due {
                id: r.get(0)?,
                event: r.get(1)?,
                body: r.get(2)?,
                attempts: r.get(3)?,
                url: r.get(4)?,
                secret: r.get(5)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let next: Option<i64> = conn.query_row(
        "SELECT MIN(next_at) FROM webhook_deliveries WHERE next_at IS NOT NULL AND next_at > ?1",
        [now],
        |r| r.get(0),
    )?;
    Ok((due, next))
}

/// Records attempts' outcomes and keeps only the last `KEEP_FINISHED` finished deliveries of
/// each hook concerned.
pub fn record(conn: &Connection, outcomes: &[Outcome]) -> Result<(), StoreError> {
    let mut st = conn.prepare_cached(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?2, error = ?3, \
         next_at = ?4, delivered_at = CASE WHEN ?5 THEN ?6 ELSE delivered_at END \
         WHERE id = ?1 RETURNING hook_id",
    )?;
    let mut hooks: Vec<String> = vec![];
    for o in outcomes {
        let hook: Option<String> = st
            .query_row(
                params![o.id, o.status, o.error, o.next_at, o.delivered, o.at],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(h) = hook.filter(|_| o.next_at.is_none()) {
            if !hooks.contains(&h) {
                hooks.push(h);
            }
        }
    }
    for h in hooks {
        conn.execute(
            "DELETE FROM webhook_deliveries WHERE hook_id = ?1 AND next_at IS NULL AND id NOT IN \
             (SELECT id FROM webhook_deliveries WHERE hook_id = ?1 AND next_at IS NULL \
              ORDER BY created_at DESC, id DESC LIMIT ?2)",
            params![h, KEEP_FINISHED],
        )?;
    }
    Ok(())
}

/// The last `limit` deliveries of a hook, newest first.
pub fn deliveries(conn: &Connection, hook: &str, limit: i64) -> Result<Vec<Delivery>, StoreError> {
    let mut st = conn.prepare(
        "SELECT id, event, attempts, status, error, created_at, next_at, delivered_at \
         FROM webhook_deliveries WHERE hook_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2",
    )?;
    let rows = st.query_map(params![hook, limit], |r| {
        let next_at: Option<i64> = r.get(6)?;
        let delivered_at: Option<i64> = r.get(7)?;
        Ok(Delivery {
            id: r.get(0)?,
            event: r.get(1)?,
            state: match (next_at, delivered_at) {
                (Some(_), _) => "pending",
                (None, Some(_)) => "delivered",
                (None, None) => "failed",
            },
            attempts: r.get(2)?,
            status: r.get(3)?,
            error: r.get(4)?,
            created_at: r.get(5)?,
            next_attempt_at: next_at,
            delivered_at,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let mut c = Connection::open(&path).unwrap();
        c.pragma_update(None, "foreign_keys", "ON").unwrap();
        crate::store::migrate::migrate(&mut c, &path).unwrap();
        (dir, c)
    }

    fn hook(id: &str) -> Hook {
        Hook {
            id: id.into(),
            url: "http://127.0.0.1:9/h".into(),
            secret: "s".into(),
            events: vec!["chat.started".into(), "chat.ended".into()],
            enabled: true,
            created_at: 1,
            created_by: None,
        }
    }

    #[test]
    fn deliveries_are_due_then_finished_and_only_the_last_ones_kept() {
        let (_dir, c) = db();
        save(&c, &hook("h")).unwrap();
        assert_eq!(list(&c).unwrap()[0].events.len(), 2);
        let rows: Vec<_> = (0..KEEP_FINISHED + 3)
            .map(|i| {
                (
                    format!("d{i:03}"),
                    "h".to_string(),
                    "ping",
                    "{}".to_string(),
                )
            })
            .collect();
        enqueue(&c, &rows, 10).unwrap();
        // Not for a hook that is gone.
        enqueue(&c, &[("x".into(), "gone".into(), "ping", "{}".into())], 10).unwrap();
        let (due_now, next) = due(&c, 10, 1000).unwrap();
        assert_eq!(due_now.len(), rows.len());
        assert_eq!(next, None);
        // One is retried later, the rest finish.
        let mut outcomes: Vec<Outcome> = due_now
            .iter()
            .map(|d| Outcome {
                id: d.id.clone(),
                status: Some(200),
                error: None,
                next_at: None,
                delivered: true,
                at: 11,
            })
            .collect();
        outcomes[0].next_at = Some(50);
        outcomes[0].delivered = false;
        outcomes[0].status = Some(500);
        record(&c, &outcomes).unwrap();
        let (due_now, next) = due(&c, 11, 1000).unwrap();
        assert!(due_now.is_empty());
        assert_eq!(next, Some(50));
        let all = deliveries(&c, "h", 1000).unwrap();
        assert_eq!(all.len() as i64, KEEP_FINISHED + 1);
        let first = all.iter().find(|d| d.id == "d000").unwrap();
        assert_eq!(
            (first.state, first.attempts, first.status),
            ("pending", 1, Some(500))
        );
        assert!(delete(&c, "h").unwrap());
        assert!(deliveries(&c, "h", 10).unwrap().is_empty());
    }
}
