//! Data protection (issue 16, product.md §8.12): deleting a visitor and everything of theirs,
//! deleting chats past the retention period, and a visitor's data as one export.
//!
//! Every table that holds something of a visitor or of a chat (schema.sql, migrations 1–11):
//! - `visitors` (name, email: the contact details they gave), `access_tokens` (subject_id,
//!   kind 'visitor'), `resume_links` (visitor_id, chat_id);
//! - `chats` (ratings, read pointers, transcript_sent_at), `messages`, `message_search` (the
//!   FTS5 index, rowid = the message's), `attachments` (+ their files), `chat_staff`,
//!   `chat_tags`, `offline_queue`;
//! - `email_outbox` (a notice's JSON carries the chat id and a copy of the visitor).
//!
//! Not stored: pages visited (kept in memory while connected: `live/state/visits.rs`). Tags
//! themselves (`tags`) are shared names, not the visitor's; `audit_log` keeps the id of a
//! deleted visitor (not their name or details) to say that it was deleted.

use crate::error::StoreError;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{json, Value};

/// Chats deleted per writer job by retention: a few milliseconds of the writer's time.
pub const RETENTION_BATCH: usize = 200;

/// Deletes these chats and everything of them. Returns the stored names of their files (to
/// remove once committed). Open or not: the caller decides (a live chat must have been taken
/// out of the live state first).
pub fn delete_chats(conn: &Connection, chat_ids: &[String]) -> Result<Vec<String>, StoreError> {
    let mut files = vec![];
    for chat_id in chat_ids {
        let mut names: Vec<String> = conn
            .prepare_cached("SELECT stored_name FROM attachments WHERE chat_id = ?1")?
            .query_map([chat_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        files.append(&mut names);
        for sql in [
            "DELETE FROM attachments WHERE chat_id = ?1",
            // The contentless index forgets its words by rowid: before the messages go.
            "DELETE FROM message_search WHERE rowid IN (SELECT rowid FROM messages WHERE chat_id = ?1)",
            "DELETE FROM messages WHERE chat_id = ?1",
            "DELETE FROM chat_staff WHERE chat_id = ?1",
            "DELETE FROM chat_tags WHERE chat_id = ?1",
            "DELETE FROM offline_queue WHERE chat_id = ?1",
            "DELETE FROM resume_links WHERE chat_id = ?1",
            // Ids are 32 hex digits: nothing in them is a LIKE pattern.
            "DELETE FROM email_outbox WHERE instr(notice, ?1) > 0",
            // Webhook deliveries carry the chat (and its messages) in their bodies.
            "DELETE FROM webhook_deliveries WHERE instr(body, ?1) > 0",
            "DELETE FROM chats WHERE id = ?1",
        ] {
            conn.prepare_cached(sql)?.execute([chat_id])?;
        }
    }
    search_mark_back(conn)?;
    Ok(files)
}

/// After messages were deleted: the indexer's high-water mark comes back to the highest
/// message left. SQLite gives a new row `max(rowid) + 1`, so once the newest messages are gone
/// a new message may get a rowid the indexer has already passed, and would never be indexed.
pub fn search_mark_back(conn: &Connection) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE search_state SET indexed_rowid = \
             MIN(indexed_rowid, IFNULL((SELECT MAX(rowid) FROM messages), 0)) WHERE id = 1",
    )?
    .execute([])?;
    Ok(())
}

/// Deletes a visitor and everything of theirs in one transaction (a writer job). `None`: no
/// such visitor. Otherwise how many chats went and the stored names of their files, to remove
/// once committed.
pub fn delete_visitor(
    conn: &Connection,
    vid: &str,
) -> Result<Option<(usize, Vec<String>)>, StoreError> {
    let exists: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM visitors WHERE id = ?1)")?
        .query_row([vid], |r| r.get(0))?;
    if !exists {
        return Ok(None);
    }
    let chats = chat_ids(conn, vid)?;
    let files = delete_chats(conn, &chats)?;
    for sql in [
        "DELETE FROM resume_links WHERE visitor_id = ?1",
        "DELETE FROM access_tokens WHERE kind = 'visitor' AND subject_id = ?1",
        "DELETE FROM email_outbox WHERE instr(notice, ?1) > 0",
        "DELETE FROM webhook_deliveries WHERE instr(body, ?1) > 0",
        "DELETE FROM visitors WHERE id = ?1",
    ] {
        conn.prepare_cached(sql)?.execute([vid])?;
    }
    Ok(Some((chats.len(), files)))
}

fn chat_ids(conn: &Connection, vid: &str) -> Result<Vec<String>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id FROM chats WHERE visitor_id = ?1 ORDER BY created_at")?
        .query_map([vid], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// What one retention batch did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Swept {
    pub chats: usize,
    pub visitors: usize,
    pub files: Vec<String>,
}

/// One retention batch (a writer job): up to `limit` chats ended before `cutoff` (ms), then
/// visitors left with no chat who came before `cutoff` and hold no token still good (a
/// connected visitor always does, so nobody connected goes).
pub fn retention_batch(
    conn: &Connection,
    cutoff: i64,
    now: i64,
    limit: usize,
) -> Result<Swept, StoreError> {
    let ids: Vec<String> = conn
        .prepare_cached(
            "SELECT id FROM chats WHERE status = 'ended' AND ended_at IS NOT NULL AND ended_at < ?1 \
             ORDER BY ended_at LIMIT ?2",
        )?
        .query_map(params![cutoff, limit as i64], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let files = delete_chats(conn, &ids)?;
    let mut out = Swept {
        chats: ids.len(),
        visitors: 0,
        files,
    };
    if ids.len() < limit {
        let gone: Vec<String> = conn
            .prepare_cached(
                "SELECT v.id FROM visitors v WHERE v.created_at < ?1 \
                   AND NOT EXISTS (SELECT 1 FROM chats c WHERE c.visitor_id = v.id) \
                   AND NOT EXISTS (SELECT 1 FROM access_tokens t WHERE t.kind = 'visitor' \
                        AND t.subject_id = v.id AND t.revoked_at IS NULL AND t.expires_at > ?2) \
                 LIMIT ?3",
            )?
            .query_map(params![cutoff, now, limit as i64], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for vid in &gone {
            if let Some((_, mut f)) = delete_visitor(conn, vid)? {
                out.files.append(&mut f);
            }
        }
        out.visitors = gone.len();
    }
    Ok(out)
}

const DAY_MS: i64 = 86_400_000;
/// The first retention run comes this long after start (the live state restored, the consoles
/// back), then one a day.
const RETENTION_FIRST: std::time::Duration = std::time::Duration::from_secs(3);
const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(86_400);
/// Bounded: 50,000 batches are ten million chats.
const RETENTION_MAX_BATCHES: usize = 50_000;

/// Deletes what the retention setting says is too old: shortly after start, then once a day.
/// Ends with the writer.
pub async fn run_retention(store: super::Store, data_dir: std::path::PathBuf) {
    tokio::time::sleep(RETENTION_FIRST).await;
    let mut every = tokio::time::interval(RETENTION_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match retention_pass(&store, &data_dir, crate::model::now_ms()).await {
            Ok(Some(done)) => {
                tracing::info!(
                    chats = done.chats,
                    visitors = done.visitors,
                    "retention run"
                )
            }
            Ok(None) => {}
            Err(StoreError::WriterGone) => return,
            Err(e) => tracing::warn!(error = %e, "retention run failed"),
        }
    }
}

/// One retention run: batches of `RETENTION_BATCH` chats, each its own writer job (chat writes
/// queued meanwhile commit between them), each batch's files removed after its commit; then
/// one audit entry. `None`: retention is off.
pub async fn retention_pass(
    store: &super::Store,
    data_dir: &std::path::Path,
    now: i64,
) -> Result<Option<Swept>, StoreError> {
    let rows = store.read(super::accounts::load_settings).await?;
    let Some(days) = crate::settings::Settings::from_rows(&rows).retention_days else {
        return Ok(None);
    };
    let cutoff = now.saturating_sub((days as i64).saturating_mul(DAY_MS));
    let dir = super::attachments::dir(data_dir);
    let mut total = Swept::default();
    for _ in 0..RETENTION_MAX_BATCHES {
        let swept = store
            .write(move |c| retention_batch(c, cutoff, now, RETENTION_BATCH))
            .await?;
        let d = dir.clone();
        let files = swept.files;
        let _ =
            tokio::task::spawn_blocking(move || super::attachments::remove_files(&d, &files)).await;
        total.chats += swept.chats;
        total.visitors += swept.visitors;
        if swept.chats < RETENTION_BATCH && swept.visitors < RETENTION_BATCH {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let detail = json!({"retention_days": days, "chats": total.chats, "visitors": total.visitors});
    store
        .write(move |c| {
            super::audit::record(
                c,
                &super::audit::Actor::System,
                "retention.run",
                None,
                detail,
            )
        })
        .await?;
    Ok(Some(total))
}

/// Everything stored of a visitor, as one JSON document (`None`: no such visitor). Internal
/// notes are staff-only and left out; the document says so.
pub fn export(conn: &Connection, vid: &str) -> Result<Option<Value>, StoreError> {
    let Some(visitor) = super::accounts::visitor_by_id(conn, vid)? else {
        return Ok(None);
    };
    let mut chats = vec![];
    for chat_id in chat_ids(conn, vid)? {
        let Some(rec) = super::chats::chat_record(conn, &chat_id)? else {
            continue;
        };
        let messages = super::chats::messages_after(conn, &chat_id, 0, i64::MAX, false)?;
        let attachments: Vec<Value> = conn
            .prepare_cached(
                "SELECT id, name, mime, size, uploader_staff, created_at FROM attachments \
                 WHERE chat_id = ?1 ORDER BY created_at, id",
            )?
            .query_map([&chat_id], |r| {
                let id: String = r.get(0)?;
                Ok(json!({
                    "id": id, "name": r.get::<_, String>(1)?, "mime": r.get::<_, String>(2)?,
                    "size": r.get::<_, i64>(3)?,
                    "sent_by": if r.get::<_, Option<String>>(4)?.is_some() { "staff" } else { "visitor" },
                    "created_at": r.get::<_, i64>(5)?,
                    "url": format!("/api/v1/attachments/{id}"),
                }))
            })?
            .collect::<Result<_, _>>()?;
        let transcript_sent_at: Option<i64> = conn
            .prepare_cached("SELECT transcript_sent_at FROM chats WHERE id = ?1")?
            .query_row([&chat_id], |r| r.get(0))
            .optional()?
            .flatten();
        chats.push(json!({
            "chat": rec, "messages": messages, "attachments": attachments,
            "transcript_emailed_at": transcript_sent_at,
        }));
    }
    let reply_emails: Vec<Value> = conn
        .prepare_cached(
            "SELECT chat_id, created_at, expires_at FROM resume_links WHERE visitor_id = ?1 \
             ORDER BY created_at",
        )?
        .query_map([vid], |r| {
            Ok(
                json!({"chat_id": r.get::<_, String>(0)?, "sent_at": r.get::<_, i64>(1)?,
                      "link_expires_at": r.get::<_, i64>(2)?}),
            )
        })?
        .collect::<Result<_, _>>()?;
    Ok(Some(json!({
        "format": "frontdesk-visitor-export/1",
        "exported_at": crate::model::now_ms(),
        "note": "Everything stored about this visitor: their details, every chat with the \
                 messages they could see, tags, ratings and attachments (download each at its \
                 url with an admin token). Staff-only internal notes are not included. Pages \
                 visited are not stored (only shown live while the visitor is connected).",
        "visitor": visitor,
        "chats": chats,
        "emails": {
            "missed_replies": reply_emails,
            "transcripts": "see transcript_emailed_at on each chat",
        },
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, Synchronous};

    #[tokio::test]
    async fn a_deleted_visitor_leaves_nothing_and_the_indexer_still_sees_new_messages() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Synchronous::Normal).unwrap();
        store
            .write(|c| {
                c.execute_batch(
                    "INSERT INTO visitors (id, name, is_anonymous, created_at) VALUES ('v', 'V', 0, 0), ('w', 'W', 0, 0);
                     INSERT INTO chats (id, visitor_id, status, created_at) VALUES ('cw', 'w', 'ended', 0);
                     INSERT INTO chats (id, visitor_id, status, created_at) VALUES ('c1', 'v', 'ended', 0);
                     INSERT INTO messages (id, chat_id, sequence_num, type_id, content, created_at)
                        VALUES ('m0', 'cw', 1, 1, '{\"content\":\"kept words\"}', 0),
                               ('m1', 'c1', 1, 1, '{\"content\":\"secret parcel\"}', 0);",
                )?;
                crate::store::search::index_batch(c, 100)?;
                Ok(())
            })
            .await
            .unwrap();
        let files = store.write(|c| delete_visitor(c, "v")).await.unwrap();
        assert_eq!(files, Some((1, vec![])));
        assert_eq!(store.write(|c| delete_visitor(c, "v")).await.unwrap(), None);
        // A new message takes the rowid the deleted one had: it must still be indexed.
        let found: i64 = store
            .write(|c| {
                c.execute_batch(
                    "INSERT INTO chats (id, visitor_id, status, created_at) VALUES ('c2', 'w', 'claimed', 1);
                     INSERT INTO messages (id, chat_id, sequence_num, type_id, content, created_at)
                        VALUES ('m2', 'c2', 1, 1, '{\"content\":\"fresh parcel\"}', 1);",
                )?;
                crate::store::search::index_batch(c, 100)?;
                Ok(c.query_row(
                    "SELECT count(*) FROM message_search WHERE message_search MATCH 'parcel'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(found, 1, "the new message is found, the deleted one is not");
        store.close().await;
    }

    #[tokio::test]
    async fn retention_takes_old_ended_chats_and_only_visitors_nobody_can_be_connected_as() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Synchronous::Normal).unwrap();
        store
            .write(|c| {
                c.execute_batch(
                    "INSERT INTO visitors (id, name, is_anonymous, created_at)
                        VALUES ('gone', 'G', 0, 0), ('token', 'T', 0, 0), ('open', 'O', 0, 0), ('new', 'N', 0, 900);
                     INSERT INTO access_tokens (token_hash, kind, subject_id, created_at, expires_at)
                        VALUES (x'01', 'visitor', 'token', 0, 5000), (x'02', 'visitor', 'gone', 0, 10);
                     INSERT INTO chats (id, visitor_id, status, created_at, ended_at) VALUES
                        ('old1', 'gone', 'ended', 0, 10), ('old2', 'token', 'ended', 0, 20),
                        ('recent', 'new', 'ended', 900, 950), ('live', 'open', 'claimed', 0, NULL);
                     INSERT INTO messages (id, chat_id, sequence_num, type_id, content, created_at)
                        VALUES ('m1', 'old1', 1, 1, '{}', 0), ('m2', 'recent', 1, 1, '{}', 900);",
                )?;
                Ok(())
            })
            .await
            .unwrap();
        // Cutoff 100, now 1000: the two old ended chats go, one per batch of one.
        let first = store
            .write(|c| retention_batch(c, 100, 1000, 1))
            .await
            .unwrap();
        assert_eq!((first.chats, first.visitors), (1, 0));
        let second = store
            .write(|c| retention_batch(c, 100, 1000, 10))
            .await
            .unwrap();
        // 'gone' has no chat left and no good token; 'token' still holds one (it may be
        // connected); 'open' has an open chat; 'new' came after the cutoff.
        assert_eq!((second.chats, second.visitors), (1, 1));
        let left: Vec<String> = store
            .read(|c| {
                Ok(c.prepare("SELECT id FROM visitors ORDER BY id")?
                    .query_map([], |r| r.get(0))?
                    .collect::<Result<_, _>>()?)
            })
            .await
            .unwrap();
        assert_eq!(left, ["new", "open", "token"]);
        let chats: i64 = store
            .read(|c| Ok(c.query_row("SELECT count(*) FROM chats", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(chats, 2, "the recent and the open chat stay");
        store.close().await;
    }
}
