//! The audit log (migration 11): who did what among the admin actions. `record` is called in
//! the same writer job as the change it records, so there is never one without the other.

use crate::error::StoreError;
use crate::model::Staff;
use rusqlite::{params, Connection};
use serde::Serialize;
use serde_json::Value;

/// Who acted: a staff member (by token), the server itself, or the command line.
#[derive(Debug, Clone)]
pub enum Actor {
    Staff { id: String, name: String },
    System,
    Cli,
}

impl Actor {
    pub fn staff(s: &Staff) -> Actor {
        Actor::Staff {
            id: s.id.to_string(),
            name: s.full_name.clone(),
        }
    }
}

/// Records one action. `detail` should be a JSON object.
pub fn record(
    conn: &Connection,
    actor: &Actor,
    action: &str,
    target: Option<(&str, &str)>,
    detail: Value,
) -> Result<(), StoreError> {
    let (id, name) = match actor {
        Actor::Staff { id, name } => (Some(id.as_str()), name.as_str()),
        Actor::System => (None, "system"),
        Actor::Cli => (None, "cli"),
    };
    conn.prepare_cached(
        "INSERT INTO audit_log (at, actor_id, actor_name, action, target_kind, target_id, detail) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        crate::model::now_ms(),
        id,
        name,
        action,
        target.map(|t| t.0),
        target.map(|t| t.1),
        detail.to_string()
    ])?;
    Ok(())
}

/// One entry as `GET /api/v1/audit` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<String>,
    pub detail: Value,
}

/// Newest first, those with an id below `before` (keyset), at most `limit`.
pub fn list(conn: &Connection, before: Option<i64>, limit: i64) -> Result<Vec<Entry>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, at, actor_id, actor_name, action, target_kind, target_id, detail \
             FROM audit_log WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
        )?
        .query_map(params![before.unwrap_or(i64::MAX), limit], |r| {
            let detail: String = r.get(7)?;
            Ok(Entry {
                id: r.get(0)?,
                at: r.get(1)?,
                actor_id: r.get(2)?,
                actor_name: r.get(3)?,
                action: r.get(4)?,
                target_kind: r.get(5)?,
                target_id: r.get(6)?,
                detail: serde_json::from_str(&detail).unwrap_or(Value::Null),
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// The settings keys a change touched, each `{"from": …, "to": …}` as the API shows them;
/// a secret (the SMTP URL, which holds a password) only as "(changed)", never its value.
pub fn settings_change(before: &Value, after: &Value, keys: &[String]) -> Value {
    const SECRET: &[&str] = &["smtp_url"];
    let mut out = serde_json::Map::new();
    for k in keys {
        let v = if SECRET.contains(&k.as_str()) {
            Value::from("(changed)")
        } else {
            serde_json::json!({"from": before[k.as_str()], "to": after[k.as_str()]})
        };
        out.insert(k.clone(), v);
    }
    serde_json::json!({ "changes": out })
}

/// A settings change: the keys sent whose stored value changed (compared unmasked, so a new
/// SMTP password counts), old → new as the API shows them (`settings_change`). Nothing is
/// recorded when nothing changed.
pub fn settings_changed(
    conn: &Connection,
    by: &Actor,
    before: &crate::settings::Settings,
    after: &crate::settings::Settings,
    keys: Vec<String>,
) -> Result<(), StoreError> {
    let (rb, ra) = (before.to_rows(), after.to_rows());
    let stored =
        |rows: &[(&str, String)], k: &str| rows.iter().find(|r| r.0 == k).map(|r| r.1.clone());
    let changed: Vec<String> = keys
        .into_iter()
        .filter(|k| stored(&rb, k) != stored(&ra, k))
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let (b, a) = (json(before), json(after));
    record(
        conn,
        by,
        "settings.changed",
        None,
        settings_change(&b, &a, &changed),
    )
}

fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// What an account looks like in the log (never its password hash).
fn staff_view(s: &Staff) -> Value {
    serde_json::json!({
        "email": s.email, "full_name": s.full_name, "display_name": s.display_name,
        "title": s.title, "role": s.role_id.name(), "max_chats": s.max_chats,
        "disabled": s.disabled,
    })
}

pub fn staff_created(conn: &Connection, by: &Actor, s: &Staff) -> Result<(), StoreError> {
    record(
        conn,
        by,
        "staff.created",
        Some(("staff", &s.id)),
        staff_view(s),
    )
}

/// An account changed: the fields that did, old → new; a new password as its own entry.
pub fn staff_changed(
    conn: &Connection,
    by: &Actor,
    before: Option<&Staff>,
    after: &Staff,
    password: bool,
) -> Result<(), StoreError> {
    let target = Some(("staff", after.id.as_str()));
    if password {
        record(
            conn,
            by,
            "staff.password_reset",
            target,
            serde_json::json!({}),
        )?;
    }
    let (b, a) = (
        before.map(staff_view).unwrap_or(Value::Null),
        staff_view(after),
    );
    let mut changes = serde_json::Map::new();
    if let Some(obj) = a.as_object() {
        for (k, v) in obj {
            if &b[k.as_str()] != v {
                changes.insert(
                    k.clone(),
                    serde_json::json!({"from": b[k.as_str()], "to": v}),
                );
            }
        }
    }
    if changes.is_empty() {
        return Ok(());
    }
    record(
        conn,
        by,
        "staff.changed",
        target,
        serde_json::json!({ "changes": changes }),
    )
}

/// A canned reply created, changed (`action` "canned.created" / "canned.changed") or deleted.
pub fn canned(
    conn: &Connection,
    by: &Actor,
    action: &str,
    id: &str,
    shortcut: Option<&str>,
) -> Result<(), StoreError> {
    let detail = serde_json::json!({ "shortcut": shortcut });
    record(conn, by, action, Some(("canned_reply", id)), detail)
}

/// A webhook created, changed or deleted (`action` "webhook.created" / "webhook.changed" /
/// "webhook.deleted"); `detail` names what changed, never the secret itself.
pub fn webhook(
    conn: &Connection,
    by: &Actor,
    action: &str,
    id: &str,
    detail: Value,
) -> Result<(), StoreError> {
    record(conn, by, action, Some(("webhook", id)), detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_never_written_down() {
        let before = json!({"smtp_url": "smtp://u:********@a", "routing": "manual"});
        let after = json!({"smtp_url": "smtp://u:********@b", "routing": "least_busy"});
        let d = settings_change(&before, &after, &["smtp_url".into(), "routing".into()]);
        assert_eq!(
            d,
            json!({"changes": {"smtp_url": "(changed)",
                               "routing": {"from": "manual", "to": "least_busy"}}})
        );
    }
}
