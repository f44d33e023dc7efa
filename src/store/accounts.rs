//! SQL for staff accounts, visitors, access tokens and settings. Plain functions on a
//! connection: the caller chooses the writer (`Store::write`) or a reader (`Store::read`).

use crate::error::StoreError;
use crate::model::{new_id, now_ms, Availability, Role, Staff, Visitor};
use rusqlite::{params, Connection, OptionalExtension, Row};

/// One statement, so two processes starting at once still make one organisation.
pub fn ensure_organisation(conn: &Connection) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO organisations (id, name, created_at) SELECT ?1, 'Frontdesk', ?2 \
         WHERE NOT EXISTS (SELECT 1 FROM organisations)",
        params![new_id(), now_ms()],
    )?;
    Ok(())
}

/// The columns of a staff account, in the order `staff_at` reads them.
pub const STAFF_COLS: &str =
    "id, email, full_name, display_name, organisation_id, role_id, disabled, \
                          created_at, updated_at, max_chats, availability, title, avatar_at";

/// `STAFF_COLS` of a table named `alias` in a join (`s.id, s.email, …`): one list of columns,
/// so a new one cannot be forgotten in a query that `staff_at` reads.
pub fn staff_cols(alias: &str) -> String {
    STAFF_COLS
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many columns `STAFF_COLS` names.
pub const STAFF_COL_COUNT: usize = 13;

fn staff_from_row(r: &Row) -> rusqlite::Result<Staff> {
    staff_at(r, 0)
}

/// A staff account from `STAFF_COLS` starting at column `i`.
pub fn staff_at(r: &Row, i: usize) -> rusqlite::Result<Staff> {
    let role: i64 = r.get(i + 5)?;
    Ok(Staff {
        id: r.get(i)?,
        email: r.get(i + 1)?,
        full_name: r.get(i + 2)?,
        display_name: r.get(i + 3)?,
        organisation_id: r.get(i + 4)?,
        role_id: Role::from_id(role).unwrap_or(Role::Agent),
        disabled: r.get(i + 6)?,
        created_at: r.get(i + 7)?,
        updated_at: r.get(i + 8)?,
        max_chats: r.get(i + 9)?,
        availability: Availability::parse(&r.get::<_, String>(i + 10)?).unwrap_or_default(),
        title: r.get(i + 11)?,
        avatar_url: avatar_url(r.get(i)?, r.get(i + 12)?),
    })
}

/// The photo's address; it changes with the photo, so it may be cached for long.
fn avatar_url(id: String, at: Option<i64>) -> Option<String> {
    at.map(|at| format!("/api/v1/staff/{id}/avatar?v={at}"))
}

/// Sets (`Some`) or removes a staff member's photo (a PNG made by `crate::avatar`).
pub fn set_avatar(conn: &Connection, id: &str, png: Option<&[u8]>) -> Result<Staff, StoreError> {
    if staff_by_id(conn, id)?.is_none() {
        return Err(StoreError::NotFound(format!("No staff account {id}.")));
    }
    let now = now_ms();
    match png {
        Some(png) => {
            conn.execute(
                "INSERT INTO staff_avatars (staff_id, png) VALUES (?1, ?2) \
                 ON CONFLICT (staff_id) DO UPDATE SET png = excluded.png",
                params![id, png],
            )?;
            // Strictly later than before, so the address always changes with the photo.
            conn.execute(
                "UPDATE staff SET avatar_at = MAX(?2, IFNULL(avatar_at, 0) + 1), updated_at = ?2 \
                 WHERE id = ?1",
                params![id, now],
            )?;
        }
        None => {
            conn.execute("DELETE FROM staff_avatars WHERE staff_id = ?1", [id])?;
            conn.execute(
                "UPDATE staff SET avatar_at = NULL, updated_at = ?2 WHERE id = ?1",
                params![id, now],
            )?;
        }
    }
    staff_by_id(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("No staff account {id}.")))
}

/// A staff member's photo (PNG), if they have one.
pub fn avatar(conn: &Connection, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT png FROM staff_avatars WHERE staff_id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

pub struct NewStaff {
    pub email: String,
    pub full_name: String,
    pub display_name: Option<String>,
    pub title: Option<String>,
    pub role: Role,
    pub password_hash: String,
}

/// A write of a staff email: the unique index refusing it means another account has it.
fn email_free(res: rusqlite::Result<usize>, email: &str) -> Result<(), StoreError> {
    match res {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(StoreError::Conflict(format!(
                "A staff account with the email {email} already exists."
            )))
        }
        other => other.map(|_| ()).map_err(StoreError::from),
    }
}

pub fn create_staff(conn: &Connection, s: NewStaff) -> Result<Staff, StoreError> {
    let org: String = conn.query_row("SELECT id FROM organisations LIMIT 1", [], |r| r.get(0))?;
    let id = new_id();
    let res = conn.execute(
        "INSERT INTO staff (id, organisation_id, email, email_norm, full_name, display_name, \
         role_id, password_hash, disabled, created_at, title) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, ?9, ?10)",
        params![
            id,
            org,
            s.email,
            s.email.to_lowercase(),
            s.full_name,
            s.display_name,
            s.role.id(),
            s.password_hash,
            now_ms(),
            s.title
        ],
    );
    email_free(res, &s.email)?;
    staff_by_id(conn, &id)?.ok_or_else(|| StoreError::NotFound("staff vanished".into()))
}

pub fn staff_by_id(conn: &Connection, id: &str) -> Result<Option<Staff>, StoreError> {
    let sql = format!("SELECT {STAFF_COLS} FROM staff WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], staff_from_row)
        .optional()?)
}

/// The account and its password hash, by email (case-insensitive).
pub fn staff_login_by_email(
    conn: &Connection,
    email: &str,
) -> Result<Option<(Staff, String)>, StoreError> {
    let sql = format!("SELECT {STAFF_COLS}, password_hash FROM staff WHERE email_norm = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([email.to_lowercase()], |r| {
            Ok((staff_from_row(r)?, r.get::<_, String>(STAFF_COL_COUNT)?))
        })
        .optional()?)
}

pub fn list_staff(conn: &Connection) -> Result<Vec<Staff>, StoreError> {
    let sql = format!("SELECT {STAFF_COLS} FROM staff ORDER BY role_id, email_norm");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([], staff_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Finds a staff account by id or by email.
pub fn find_staff(conn: &Connection, id_or_email: &str) -> Result<Staff, StoreError> {
    if let Some(s) = staff_by_id(conn, id_or_email)? {
        return Ok(s);
    }
    staff_login_by_email(conn, id_or_email)?
        .map(|(s, _)| s)
        .ok_or_else(|| StoreError::NotFound(format!("No staff account {id_or_email}.")))
}

pub fn set_staff_password(conn: &Connection, id: &str, hash: &str) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE staff SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, hash, now_ms()],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("No staff account {id}.")));
    }
    revoke_all_tokens(conn, "staff", id)
}

/// Disables (or re-enables) an account; disabling revokes its tokens.
pub fn set_staff_disabled(conn: &Connection, id: &str, disabled: bool) -> Result<(), StoreError> {
    let n = conn.execute(
        "UPDATE staff SET disabled = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, disabled, now_ms()],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("No staff account {id}.")));
    }
    if disabled {
        revoke_all_tokens(conn, "staff", id)?;
    }
    Ok(())
}

/// Whether an enabled admin account exists (if not, the first-run setup is open).
pub fn admin_exists(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM staff WHERE role_id = 1 AND disabled = 0)",
        [],
        |r| r.get(0),
    )?)
}

pub const VISITOR_COLS: &str = "id, name, email, is_anonymous, disabled, created_at, updated_at";

fn visitor_from_row(r: &Row) -> rusqlite::Result<Visitor> {
    visitor_at(r, 0)
}

/// A visitor from `VISITOR_COLS` starting at column `i`.
pub fn visitor_at(r: &Row, i: usize) -> rusqlite::Result<Visitor> {
    Ok(Visitor {
        id: r.get(i)?,
        name: r.get(i + 1)?,
        email: r.get(i + 2)?,
        is_anonymous: r.get(i + 3)?,
        disabled: r.get(i + 4)?,
        created_at: r.get(i + 5)?,
        updated_at: r.get(i + 6)?,
    })
}

pub fn create_visitor(
    conn: &Connection,
    name: &str,
    email: Option<&str>,
    is_anonymous: bool,
) -> Result<Visitor, StoreError> {
    let v = Visitor {
        id: crate::model::VisitorId::new(),
        name: name.to_string(),
        email: email.map(str::to_string),
        is_anonymous,
        disabled: false,
        created_at: now_ms(),
        updated_at: None,
    };
    conn.prepare_cached(
        "INSERT INTO visitors (id, name, email, is_anonymous, disabled, created_at) \
         VALUES (?1, ?2, ?3, ?4, 0, ?5)",
    )?
    .execute(params![v.id, v.name, v.email, v.is_anonymous, v.created_at])?;
    Ok(v)
}

pub fn visitor_by_id(conn: &Connection, id: &str) -> Result<Option<Visitor>, StoreError> {
    let sql = format!("SELECT {VISITOR_COLS} FROM visitors WHERE id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([id], visitor_from_row)
        .optional()?)
}

/// Who a token belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Staff,
    Visitor,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Staff => "staff",
            TokenKind::Visitor => "visitor",
        }
    }
}

pub fn insert_token(
    conn: &Connection,
    hash: &[u8],
    kind: TokenKind,
    subject: &str,
    expires_at: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO access_tokens (token_hash, kind, subject_id, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![hash, kind.as_str(), subject, now_ms(), expires_at])?;
    Ok(())
}

/// The live subject of a token: not expired, not revoked, account not disabled.
pub enum Subject {
    Staff(Staff),
    Visitor(Visitor),
}

/// The live subject of a token and when the token expires (ms).
pub fn token_subject_until(
    conn: &Connection,
    hash: &[u8],
) -> Result<Option<(Subject, i64)>, StoreError> {
    let row: Option<(String, String, i64)> = conn
        .prepare_cached(
            "SELECT kind, subject_id, expires_at FROM access_tokens \
             WHERE token_hash = ?1 AND revoked_at IS NULL AND expires_at > ?2",
        )?
        .query_row(params![hash, now_ms()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    let Some((kind, subject, expires_at)) = row else {
        return Ok(None);
    };
    let subject = match kind.as_str() {
        "staff" => staff_by_id(conn, &subject)?
            .filter(|s| !s.disabled)
            .map(Subject::Staff),
        _ => visitor_by_id(conn, &subject)?
            .filter(|v| !v.disabled)
            .map(Subject::Visitor),
    };
    Ok(subject.map(|s| (s, expires_at)))
}

/// Of these token hashes, the ones that still belong to an enabled staff account (not revoked,
/// not expired), with that account's current role id. One query per 500 hashes: the live
/// sweeper asks this about every staff connection, often.
pub fn live_staff_tokens(
    conn: &Connection,
    hashes: &[Vec<u8>],
) -> Result<std::collections::HashMap<Vec<u8>, i64>, StoreError> {
    let now = now_ms();
    let mut valid = std::collections::HashMap::new();
    for chunk in hashes.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(",");
        // `now` is our own integer, not client input: safe to write into the SQL.
        let sql = format!(
            "SELECT t.token_hash, s.role_id FROM access_tokens t \
             JOIN staff s ON s.id = t.subject_id \
             WHERE t.kind = 'staff' AND t.revoked_at IS NULL AND t.expires_at > {now} \
             AND s.disabled = 0 AND t.token_hash IN ({marks})"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(chunk.iter()), |r| {
            Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (hash, role) = row?;
            valid.insert(hash, role);
        }
    }
    Ok(valid)
}

pub fn revoke_token(conn: &Connection, hash: &[u8]) -> Result<bool, StoreError> {
    Ok(conn.execute(
        "UPDATE access_tokens SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL",
        params![hash, now_ms()],
    )? > 0)
}

fn revoke_all_tokens(conn: &Connection, kind: &str, subject: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE access_tokens SET revoked_at = ?3 \
         WHERE kind = ?1 AND subject_id = ?2 AND revoked_at IS NULL",
        params![kind, subject, now_ms()],
    )?;
    Ok(())
}

/// Drops tokens that expired or were revoked more than a day ago.
pub fn purge_tokens(conn: &Connection) -> Result<usize, StoreError> {
    let cutoff = now_ms() - 86_400_000;
    let links = super::email::purge_resume_links(conn, cutoff)?;
    Ok(links
        + conn.execute(
            "DELETE FROM access_tokens WHERE expires_at < ?1 OR revoked_at < ?1",
            [cutoff],
        )?)
}

/// The changes an admin may make to a staff account.
#[derive(Default)]
pub struct StaffChanges {
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub title: Option<Option<String>>,
    pub display_name: Option<Option<String>>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
    pub max_chats: Option<u32>,
}

/// Applies `changes`; refuses to leave the organisation without an enabled admin.
pub fn update_staff(
    conn: &Connection,
    id: &str,
    changes: StaffChanges,
) -> Result<Staff, StoreError> {
    let before = staff_by_id(conn, id)?
        .ok_or_else(|| StoreError::NotFound(format!("No staff account {id}.")))?;
    let now = now_ms();
    if let Some(e) = &changes.email {
        let res = conn.execute(
            "UPDATE staff SET email = ?2, email_norm = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, e, e.to_lowercase(), now],
        );
        email_free(res, e)?;
    }
    if let Some(t) = &changes.title {
        conn.execute(
            "UPDATE staff SET title = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, t, now],
        )?;
    }
    if let Some(n) = &changes.full_name {
        conn.execute(
            "UPDATE staff SET full_name = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, n, now],
        )?;
    }
    if let Some(d) = &changes.display_name {
        conn.execute(
            "UPDATE staff SET display_name = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, d, now],
        )?;
    }
    if let Some(r) = changes.role {
        conn.execute(
            "UPDATE staff SET role_id = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, r.id(), now],
        )?;
    }
    if let Some(m) = changes.max_chats {
        conn.execute(
            "UPDATE staff SET max_chats = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, m, now],
        )?;
    }
    if let Some(d) = changes.disabled {
        set_staff_disabled(conn, id, d)?;
    }
    if let Some(h) = &changes.password_hash {
        set_staff_password(conn, id, h)?;
    }
    if before.role_id == Role::Admin && !admin_exists(conn)? {
        // The writer rolls this job's savepoint back.
        return Err(StoreError::Conflict(
            "This is the last enabled admin account; make another admin first.".into(),
        ));
    }
    staff_by_id(conn, id)?.ok_or_else(|| StoreError::NotFound(format!("No staff account {id}.")))
}

/// Every stored setting as `(key, JSON text)`.
pub fn load_settings(conn: &Connection) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt = conn.prepare("SELECT key, value FROM settings ORDER BY key")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Stores these settings (one transaction: the writer's job).
pub fn save_settings(conn: &Connection, rows: &[(&str, String)]) -> Result<(), StoreError> {
    for (key, value) in rows {
        conn.prepare_cached(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )?
        .execute(params![key, value])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn staff_col_count_matches_the_list() {
        assert_eq!(super::STAFF_COLS.split(',').count(), super::STAFF_COL_COUNT);
    }
}
