//! What email to visitors keeps (issue 15, migration 7): the links that resume a conversation
//! (`resume_links`, tokens kept as their SHA-256) and whether a chat's transcript was sent.

use crate::error::StoreError;
use crate::model::{now_ms, Message};
use rusqlite::{params, Connection, OptionalExtension};

/// Keeps a resume link's token hash, valid until `expires_at` (ms).
pub fn insert_resume_link(
    conn: &Connection,
    hash: &[u8],
    visitor_id: &str,
    chat_id: &str,
    expires_at: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO resume_links (token_hash, visitor_id, chat_id, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![hash, visitor_id, chat_id, now_ms(), expires_at])?;
    Ok(())
}

/// The visitor and chat of a resume link that has not expired.
pub fn resume_link(conn: &Connection, hash: &[u8]) -> Result<Option<(String, String)>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT visitor_id, chat_id FROM resume_links \
             WHERE token_hash = ?1 AND expires_at > ?2",
        )?
        .query_row(params![hash, now_ms()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Drops links that expired before `cutoff` (ms).
pub fn purge_resume_links(conn: &Connection, cutoff: i64) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("DELETE FROM resume_links WHERE expires_at < ?1")?
        .execute([cutoff])?)
}

/// A visitor's latest chat: its id, status and whether its transcript was sent.
pub struct LatestChat {
    pub chat_id: String,
    pub ended: bool,
    pub transcript_sent: bool,
}

pub fn latest_chat(conn: &Connection, visitor_id: &str) -> Result<Option<LatestChat>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, status = 'ended', transcript_sent_at IS NOT NULL FROM chats \
             WHERE visitor_id = ?1 ORDER BY created_at DESC, rowid DESC LIMIT 1",
        )?
        .query_row([visitor_id], |r| {
            Ok(LatestChat {
                chat_id: r.get(0)?,
                ended: r.get(1)?,
                transcript_sent: r.get(2)?,
            })
        })
        .optional()?)
}

/// Marks the transcript of an ended chat sent; `false` if it already was (once per chat).
pub fn mark_transcript_sent(conn: &Connection, chat_id: &str) -> Result<bool, StoreError> {
    let n = conn
        .prepare_cached(
            "UPDATE chats SET transcript_sent_at = ?2 \
             WHERE id = ?1 AND status = 'ended' AND transcript_sent_at IS NULL",
        )?
        .execute(params![chat_id, now_ms()])?;
    Ok(n == 1)
}

/// Undoes `mark_transcript_sent` (the email could not be handed to the outbox).
pub fn unmark_transcript_sent(conn: &Connection, chat_id: &str) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE chats SET transcript_sent_at = NULL WHERE id = ?1")?
        .execute([chat_id])?;
    Ok(())
}

/// What an email about a chat shows: the messages a visitor can see after `after`, in
/// order (never notes), at most `limit`, and the names of the staff who wrote them.
pub struct ChatExcerpt {
    pub messages: Vec<Message>,
    /// `(staff id, the name visitors see)`.
    pub names: Vec<(String, String)>,
}

pub fn chat_excerpt(
    conn: &Connection,
    chat_id: &str,
    after: i64,
    limit: i64,
) -> Result<ChatExcerpt, StoreError> {
    let messages = super::chats::messages_after(conn, chat_id, after, limit, false)?;
    let mut names: Vec<(String, String)> = vec![];
    for id in messages.iter().filter_map(|m| m.sender.as_deref()) {
        if names.iter().any(|(n, _)| n == id) {
            continue;
        }
        if let Some(s) = super::accounts::staff_by_id(conn, id)? {
            let shown = s.display_name.clone().unwrap_or(s.full_name.clone());
            names.push((id.to_string(), shown));
        }
    }
    Ok(ChatExcerpt { messages, names })
}

/// Keeps an email the outbox is about to send; its row id.
pub fn outbox_add(conn: &Connection, kind: &str, notice: &str) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO email_outbox (kind, notice, attempts, created_at) VALUES (?1, ?2, 0, ?3)",
    )?
    .execute(params![kind, notice, now_ms()])?;
    Ok(conn.last_insert_rowid())
}

/// Records the tries so far of a waiting email.
pub fn outbox_tried(conn: &Connection, id: i64, attempts: u32) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE email_outbox SET attempts = ?2 WHERE id = ?1")?
        .execute(params![id, attempts])?;
    Ok(())
}

/// The email was sent or given up.
pub fn outbox_done(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM email_outbox WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// A waiting email: `(id, kind, notice JSON, attempts, created_at)`.
pub type Waiting = (i64, String, String, u32, i64);

/// Every waiting email, oldest first.
pub fn outbox_waiting(conn: &Connection) -> Result<Vec<Waiting>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT id, kind, notice, attempts, created_at FROM email_outbox ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
