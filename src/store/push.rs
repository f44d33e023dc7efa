//! SQL for Web Push (issue 15): the server's VAPID key (one row, made on first start) and the
//! staff's push subscriptions (`src/push/` sends, `http/push.rs` subscribes).

use crate::error::StoreError;
use crate::model::{new_id, StaffId};
use rusqlite::{params, Connection, OptionalExtension};

/// One browser's subscription, as stored (keys base64url as the browser gave them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub staff_id: StaffId,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

/// The VAPID private key, made by `make` and kept if there is none yet; the same key ever
/// after. Two processes starting at once keep whichever was written first.
pub fn vapid_key(
    conn: &Connection,
    make: impl FnOnce() -> Vec<u8>,
    now: i64,
) -> Result<Vec<u8>, StoreError> {
    let get = |c: &Connection| {
        c.query_row("SELECT private_key FROM push_vapid WHERE id = 1", [], |r| {
            r.get::<_, Vec<u8>>(0)
        })
        .optional()
    };
    if let Some(key) = get(conn)? {
        return Ok(key);
    }
    conn.execute(
        "INSERT OR IGNORE INTO push_vapid (id, private_key, created_at) VALUES (1, ?1, ?2)",
        params![make(), now],
    )?;
    get(conn)?.ok_or_else(|| StoreError::Invalid("the VAPID key could not be kept".into()))
}

/// Keeps `sub` for its staff member (an endpoint subscribed again moves to them with its new
/// keys); beyond `max` subscriptions of theirs the oldest go. Answers the other staff member
/// the endpoint was taken from (one browser profile, two accounts) if they have none left.
pub fn subscribe(
    conn: &Connection,
    sub: &Subscription,
    max: usize,
    now: i64,
) -> Result<Option<StaffId>, StoreError> {
    let before: Option<String> = conn
        .prepare_cached("SELECT staff_id FROM push_subscriptions WHERE endpoint = ?1")?
        .query_row([&sub.endpoint], |r| r.get(0))
        .optional()?;
    conn.prepare_cached(
        "INSERT INTO push_subscriptions (id, staff_id, endpoint, p256dh, auth, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (endpoint) DO UPDATE SET staff_id = excluded.staff_id,
             p256dh = excluded.p256dh, auth = excluded.auth,
             created_at = excluded.created_at, last_error = NULL",
    )?
    .execute(params![
        new_id(),
        sub.staff_id.as_str(),
        sub.endpoint,
        sub.p256dh,
        sub.auth,
        now
    ])?;
    conn.prepare_cached(
        "DELETE FROM push_subscriptions WHERE staff_id = ?1 AND id NOT IN (
             SELECT id FROM push_subscriptions WHERE staff_id = ?1
             ORDER BY created_at DESC, id LIMIT ?2)",
    )?
    .execute(params![sub.staff_id.as_str(), max as i64])?;
    match before {
        Some(prev) if prev != sub.staff_id.as_str() && !has_subscriptions(conn, &prev)? => {
            Ok(Some(StaffId(prev)))
        }
        _ => Ok(None),
    }
}

/// Removes the caller's subscription with this endpoint; whether there was one.
pub fn unsubscribe(conn: &Connection, staff_id: &str, endpoint: &str) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached("DELETE FROM push_subscriptions WHERE staff_id = ?1 AND endpoint = ?2")?
        .execute(params![staff_id, endpoint])?;
    Ok(n > 0)
}

/// Removes a subscription the push service says is gone (404/410); whose it was, if any.
pub fn forget_endpoint(conn: &Connection, endpoint: &str) -> Result<Option<StaffId>, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM push_subscriptions WHERE endpoint = ?1 RETURNING staff_id")?
        .query_row([endpoint], |r| r.get::<_, String>(0))
        .optional()?
        .map(StaffId))
}

/// Whether a staff member has any subscription left.
pub fn has_subscriptions(conn: &Connection, staff_id: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM push_subscriptions WHERE staff_id = ?1 LIMIT 1")?
        .query_row([staff_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Every staff member with at least one subscription (loaded at start).
pub fn subscribed_staff(conn: &Connection) -> Result<Vec<StaffId>, StoreError> {
    let mut stmt = conn.prepare("SELECT DISTINCT staff_id FROM push_subscriptions")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0).map(StaffId))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The subscriptions of these staff members whose accounts are enabled.
pub fn subscriptions_of(
    conn: &Connection,
    staff: &[StaffId],
) -> Result<Vec<Subscription>, StoreError> {
    let mut out = vec![];
    let mut stmt = conn.prepare_cached(
        "SELECT p.staff_id, p.endpoint, p.p256dh, p.auth FROM push_subscriptions p
         JOIN staff s ON s.id = p.staff_id
         WHERE p.staff_id = ?1 AND s.disabled = 0 ORDER BY p.created_at",
    )?;
    for sid in staff {
        let rows = stmt.query_map([sid.as_str()], |r| {
            Ok(Subscription {
                staff_id: StaffId(r.get(0)?),
                endpoint: r.get(1)?,
                p256dh: r.get(2)?,
                auth: r.get(3)?,
            })
        })?;
        for row in rows {
            out.push(row?);
        }
    }
    Ok(out)
}

/// Notes a delivery's outcome on its subscription (`None`: it worked).
pub fn set_outcome(
    conn: &Connection,
    endpoint: &str,
    error: Option<&str>,
) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE push_subscriptions SET last_error = ?2 WHERE endpoint = ?1")?
        .execute(params![endpoint, error])?;
    Ok(())
}

/// The endpoints a staff member has (tests, and the REST answer's count).
pub fn endpoints_of(conn: &Connection, staff_id: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT endpoint FROM push_subscriptions WHERE staff_id = ?1 ORDER BY created_at",
    )?;
    let rows = stmt.query_map([staff_id], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
