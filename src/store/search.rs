//! Full-text search over what people wrote (issue 16): an FTS5 index (`message_search`,
//! contentless, its rowid the message's) of chat messages, attachments' file names and notes.
//!
//! The chat path never waits for it: the writer indexes in batches (`index_batch`), either when
//! it has been idle for a moment (`search::run_indexer` in the server) or right before a search
//! (`catch_up`), so an ack costs no index work and a search still sees every message.

use crate::error::StoreError;
use rusqlite::{params, Connection};
use serde_json::Value;

/// Messages indexed by one writer job: a few milliseconds of the writer's time.
pub const BATCH: usize = 2000;
/// The most words one search may have.
pub const MAX_TERMS: usize = 10;

/// What a message says, for the index: its text, or an attachment's file name.
pub fn indexable_text(content: &str) -> Option<String> {
    let v: Value = serde_json::from_str(content).ok()?;
    let mut out = String::new();
    if let Some(t) = v.get("content").and_then(Value::as_str) {
        out.push_str(t);
    }
    if let Some(n) = v
        .get("attachment")
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(n);
    }
    (!out.trim().is_empty()).then_some(out)
}

/// Indexes up to `limit` messages past the last one indexed; returns how many it looked at
/// (fewer than `limit`: the index is up to date). A writer job.
pub fn index_batch(conn: &Connection, limit: usize) -> Result<usize, StoreError> {
    let from: i64 = conn
        .prepare_cached("SELECT indexed_rowid FROM search_state WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    let rows: Vec<(i64, i64, String)> = conn
        .prepare_cached(
            "SELECT rowid, type_id, content FROM messages WHERE rowid > ?1 ORDER BY rowid LIMIT ?2",
        )?
        .query_map(params![from, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    let Some(last) = rows.last().map(|r| r.0) else {
        return Ok(0);
    };
    let mut insert =
        conn.prepare_cached("INSERT INTO message_search (rowid, text) VALUES (?1, ?2)")?;
    for (rowid, type_id, content) in &rows {
        // System messages (0) are the server's words, not the people's.
        if *type_id == 0 {
            continue;
        }
        if let Some(text) = indexable_text(content) {
            insert.execute(params![rowid, text])?;
        }
    }
    conn.prepare_cached("UPDATE search_state SET indexed_rowid = ?1 WHERE id = 1")?
        .execute([last])?;
    Ok(rows.len())
}

/// Indexes everything not indexed yet, a batch per writer job (so chat writes queued meanwhile
/// go between them). Run before a search, so it sees every message.
pub async fn catch_up(store: &super::Store) -> Result<(), StoreError> {
    // Bounded: 20,000 batches are 40 million messages.
    for _ in 0..20_000 {
        if store.write(|c| index_batch(c, BATCH)).await? < BATCH {
            break;
        }
    }
    Ok(())
}

/// How long the writer must have had nothing to do before the indexer gives it a batch.
const IDLE: std::time::Duration = std::time::Duration::from_millis(500);

/// Keeps the index up to date in the writer's idle moments: every `IDLE`, if no write happened
/// since the last look, a batch; more batches while the writer stays otherwise idle. Under a
/// steady stream of chat writes it waits (a search catches up itself). Ends with the writer.
pub async fn run_indexer(store: super::Store) {
    use std::sync::atomic::Ordering::Relaxed;
    let jobs = || store.writer_stats().jobs.load(Relaxed);
    let mut every = tokio::time::interval(IDLE);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut seen = jobs();
    loop {
        every.tick().await;
        let idle = jobs() == seen;
        seen = jobs();
        if !idle {
            continue;
        }
        loop {
            let before = jobs();
            match store.write(|c| index_batch(c, BATCH)).await {
                Ok(n) => {
                    seen = jobs();
                    // Up to date, or somebody else wrote meanwhile: wait for the next quiet.
                    if n < BATCH || seen != before + 1 {
                        break;
                    }
                }
                Err(StoreError::WriterGone) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "search indexing failed");
                    break;
                }
            }
        }
    }
}

/// Whether messages wait to be indexed (a read).
pub fn behind(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE rowid > \
                 (SELECT indexed_rowid FROM search_state WHERE id = 1))",
        )?
        .query_row([], |r| r.get(0))?)
}

/// A search as FTS5 wants it: each word a quoted term (so nothing a user types is read as
/// query syntax), all of them required. `None` when there is no word or too many.
pub fn match_expr(q: &str) -> Option<String> {
    let terms: Vec<String> = q
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-' && c != '_')
        .filter(|t| !t.is_empty())
        .map(|t| format!("\"{}\"", t.replace('"', "")))
        .collect();
    (!terms.is_empty() && terms.len() <= MAX_TERMS).then(|| terms.join(" "))
}

/// Matches above which a word counts as common (`is_common`). Unit tests use a small number so
/// that both ways are tried on a small store.
#[cfg(not(test))]
pub const COMMON_AT: i64 = 10_000;
#[cfg(test)]
pub const COMMON_AT: i64 = 100;

/// Whether the search matches many messages (at least `COMMON_AT`; counting stops there).
/// A rare search is answered by collecting its few matches once; a common one by asking the
/// index about each chat's messages in turn, newest chats first, which finds a page of chats
/// after a few hundred lookups instead of collecting hundreds of thousands of matches.
pub fn is_common(conn: &Connection, expr: &str) -> Result<bool, StoreError> {
    let n: i64 = conn
        .prepare_cached(
            "SELECT count(*) FROM (SELECT 1 FROM message_search WHERE message_search MATCH ?1 \
             LIMIT ?2)",
        )?
        .query_row(params![expr, COMMON_AT], |r| r.get(0))?;
    Ok(n >= COMMON_AT)
}

/// The SQL condition "message `m` matches" for `is_common`'s answer: membership in the
/// collected matches (rare), or the index asked about this one message (common; `FROM` must
/// be `messages_from(true)`).
fn matches_sql(common: bool) -> &'static str {
    if common {
        "(s.rowid = m.rowid AND s.text MATCH ?)"
    } else {
        "m.rowid IN (SELECT rowid FROM message_search WHERE message_search MATCH ?)"
    }
}

/// `FROM` of a message lookup for `matches_sql(common)`: CROSS JOIN keeps the chat's messages
/// as the outer loop, so the index is asked about each of them by rowid.
fn messages_from(common: bool) -> &'static str {
    if common {
        "messages m CROSS JOIN message_search s"
    } else {
        "messages m"
    }
}

/// The first message of `chat_id` that matches (its number and what it says), for showing
/// why a chat was found. Notes only when `notes`.
pub fn first_hit(
    conn: &Connection,
    chat_id: &str,
    expr: &str,
    notes: bool,
    common: bool,
) -> Result<Option<(i64, String)>, StoreError> {
    use rusqlite::OptionalExtension;
    let sql = format!(
        "SELECT m.sequence_num, m.content FROM {} \
         WHERE m.chat_id = ?1 AND (?3 OR m.type_id <> 3) AND {} \
         ORDER BY m.sequence_num LIMIT 1",
        messages_from(common),
        matches_sql(common).replace('?', "?2"),
    );
    let hit: Option<(i64, String)> = conn
        .prepare_cached(&sql)?
        .query_row(params![chat_id, expr, notes], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    Ok(hit.map(|(seq, content)| (seq, indexable_text(&content).unwrap_or_default())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_people_typed_is_never_query_syntax() {
        assert_eq!(match_expr("parcel"), Some("\"parcel\"".into()));
        assert_eq!(
            match_expr("  where's my \"parcel\" OR NOT x*"),
            Some("\"where's\" \"my\" \"parcel\" \"OR\" \"NOT\" \"x\"".into())
        );
        assert_eq!(match_expr(" ,;* "), None);
        assert_eq!(match_expr(&"a ".repeat(MAX_TERMS + 1)), None);
    }

    #[test]
    fn the_index_has_texts_and_file_names() {
        assert_eq!(
            indexable_text(r#"{"content":"hi there"}"#).as_deref(),
            Some("hi there")
        );
        assert_eq!(
            indexable_text(r#"{"content":"","attachment":{"name":"invoice.pdf"}}"#).as_deref(),
            Some("invoice.pdf")
        );
        assert_eq!(indexable_text(r#"{"content":"  "}"#), None);
        assert_eq!(indexable_text("not json"), None);
    }
}
