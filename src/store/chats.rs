//! SQL for chats and messages: carrying out the live state's `DbOp`s inside the writer,
//! restoring open chats at start, and reading history.

use super::accounts;
use super::ops::{ChatStatus, DbOp, Offer, RestoredChat};
use crate::error::StoreError;
use crate::model::{Message, Visitor};
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::value::RawValue;
use std::sync::Arc;

/// What a slot holds after the ops ran.
#[derive(Debug, Clone)]
pub enum Slot {
    Empty,
    Message(Arc<Message>),
    /// A resend of a message already stored (same client id): nothing new was stored, and
    /// nothing that shows it is delivered again.
    Duplicate(Arc<Message>),
    Messages(Vec<Arc<Message>>),
}

/// The next `sequence_num` of the chat is decided inside the insert, by the one writer.
/// A resend (same chat, sender and client id) inserts nothing and returns no row.
const INSERT_MESSAGE: &str = "INSERT INTO messages \
     (id, chat_id, sequence_num, type_id, sender, content, created_at, client_msg_id) \
     VALUES (?1, ?2, (SELECT COALESCE(MAX(sequence_num), 0) + 1 FROM messages WHERE chat_id = ?2), \
             ?3, ?4, ?5, ?6, ?7) \
     ON CONFLICT DO NOTHING RETURNING sequence_num";

const FIND_RESENT: &str = "SELECT id, chat_id, sequence_num, type_id, sender, content, created_at \
     FROM messages WHERE chat_id = ?1 AND IFNULL(sender, '') = IFNULL(?2, '') AND client_msg_id = ?3";

/// Runs a plan's ops in order; returns the filled slots.
pub fn apply(conn: &Connection, ops: &[DbOp], slots: usize) -> Result<Vec<Slot>, StoreError> {
    let mut out = vec![Slot::Empty; slots];
    for op in ops {
        match op {
            DbOp::CreateChat {
                chat_id,
                visitor_id,
                at,
            } => {
                conn.prepare_cached(
                    "INSERT INTO chats (id, visitor_id, status, created_at) \
                     VALUES (?1, ?2, 'unclaimed', ?3)",
                )?
                .execute(params![chat_id, visitor_id, at])?;
            }
            DbOp::SetChatStatus {
                chat_id,
                status,
                at,
            } => {
                let ended = (*status == ChatStatus::Ended).then_some(*at);
                conn.prepare_cached(
                    "UPDATE chats SET status = ?2, updated_at = ?3, ended_at = COALESCE(?4, ended_at) \
                     WHERE id = ?1",
                )?
                .execute(params![chat_id, status.as_str(), at, ended])?;
                if *status == ChatStatus::Offline {
                    conn.prepare_cached(
                        "INSERT OR REPLACE INTO offline_queue (chat_id, queued_at) VALUES (?1, ?2)",
                    )?
                    .execute(params![chat_id, at])?;
                } else {
                    conn.prepare_cached("DELETE FROM offline_queue WHERE chat_id = ?1")?
                        .execute([chat_id])?;
                }
                if *status == ChatStatus::Ended {
                    conn.prepare_cached(
                        "UPDATE chat_staff SET left_at = ?2 WHERE chat_id = ?1 AND left_at IS NULL",
                    )?
                    .execute(params![chat_id, at])?;
                }
            }
            DbOp::StaffJoined {
                chat_id,
                staff_id,
                at,
            } => {
                conn.prepare_cached(
                    "INSERT INTO chat_staff (chat_id, staff_id, joined_at) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![chat_id, staff_id, at])?;
            }
            DbOp::StaffLeft {
                chat_id,
                staff_id,
                at,
            } => {
                conn.prepare_cached(
                    "UPDATE chat_staff SET left_at = ?3 \
                     WHERE chat_id = ?1 AND staff_id = ?2 AND left_at IS NULL",
                )?
                .execute(params![chat_id, staff_id, at])?;
            }
            DbOp::SetPriority {
                chat_id,
                severity_level,
                flagged_at,
                at,
            } => {
                conn.prepare_cached(
                    "UPDATE chats SET severity_level = ?2, flagged_at = ?3, updated_at = ?4 WHERE id = ?1",
                )?
                .execute(params![chat_id, severity_level, flagged_at, at])?;
            }
            DbOp::InsertMessage { slot, message: m } => {
                // The one writer makes MAX + 1 race-free, and a failed insert leaves no gap.
                let seq: Option<i64> = conn
                    .prepare_cached(INSERT_MESSAGE)?
                    .query_row(
                        params![
                            m.id,
                            m.chat_id,
                            m.type_id,
                            m.sender,
                            m.content.get(),
                            m.created_at,
                            m.client_msg_id
                        ],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(seq) = seq else {
                    let earlier = conn.prepare_cached(FIND_RESENT)?.query_row(
                        params![m.chat_id, m.sender, m.client_msg_id],
                        message_from_row,
                    )?;
                    set(&mut out, *slot, Slot::Duplicate(Arc::new(earlier)))?;
                    continue;
                };
                set(
                    &mut out,
                    *slot,
                    Slot::Message(Arc::new(Message {
                        id: m.id.clone(),
                        chat_id: m.chat_id.0.clone(),
                        sequence_num: seq,
                        type_id: m.type_id,
                        sender: m.sender.as_ref().map(|s| s.0.clone()),
                        content: m.content.clone(),
                        created_at: m.created_at,
                    })),
                )?;
            }
            DbOp::SetRead {
                chat_id,
                by_visitor,
                seq,
            } => {
                let sql = if *by_visitor {
                    "UPDATE chats SET visitor_read_seq = MAX(visitor_read_seq, ?2) WHERE id = ?1"
                } else {
                    "UPDATE chats SET staff_read_seq = MAX(staff_read_seq, ?2) WHERE id = ?1"
                };
                conn.prepare_cached(sql)?.execute(params![chat_id, seq])?;
            }
            DbOp::SetTags { chat_id, tags, at } => set_tags(conn, chat_id, tags, *at)?,
            DbOp::RateChat {
                chat_id,
                rating,
                comment,
                at,
            } => {
                conn.prepare_cached(
                    "UPDATE chats SET rating = ?2, rating_comment = ?3, rated_at = ?4 WHERE id = ?1",
                )?
                .execute(params![chat_id, rating, comment, at])?;
            }
            DbOp::SetStaffAvailability { staff_id, status } => {
                conn.prepare_cached("UPDATE staff SET availability = ?2 WHERE id = ?1")?
                    .execute(params![staff_id, status.as_str()])?;
            }
            DbOp::UpdateVisitor {
                visitor_id,
                name,
                email,
                at,
            } => {
                conn.prepare_cached(
                    "UPDATE visitors SET name = COALESCE(?2, name), email = COALESCE(?3, email), \
                     is_anonymous = 0, updated_at = ?4 WHERE id = ?1",
                )?
                .execute(params![visitor_id, name, email, at])?;
            }
            DbOp::LoadMessages {
                slot,
                chat_id,
                after,
                notes,
            } => {
                let all = messages_after(conn, chat_id, *after, i64::MAX, *notes)?;
                set(
                    &mut out,
                    *slot,
                    Slot::Messages(all.into_iter().map(Arc::new).collect()),
                )?;
            }
        }
    }
    Ok(out)
}

fn set(out: &mut [Slot], slot: usize, value: Slot) -> Result<(), StoreError> {
    let place = out
        .get_mut(slot)
        .ok_or_else(|| StoreError::Invalid(format!("plan slot {slot} out of range")))?;
    *place = value;
    Ok(())
}

fn message_from_row(r: &Row) -> rusqlite::Result<Message> {
    let content: String = r.get(5)?;
    let content = RawValue::from_string(content)
        .map(Arc::from)
        .unwrap_or_else(|_| Arc::from(RawValue::from_string("null".into()).expect("null is JSON")));
    Ok(Message {
        id: r.get(0)?,
        chat_id: r.get(1)?,
        sequence_num: r.get(2)?,
        type_id: r.get(3)?,
        sender: r.get(4)?,
        content,
        created_at: r.get(6)?,
    })
}

/// A chat's tags become exactly `tags` (names are kept in `tags`, shared by chats).
fn set_tags(
    conn: &Connection,
    chat_id: &crate::model::ChatId,
    tags: &[String],
    at: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM chat_tags WHERE chat_id = ?1")?
        .execute([chat_id])?;
    for name in tags {
        conn.prepare_cached(
            "INSERT INTO tags (id, name, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
        )?
        .execute(params![crate::model::new_id(), name, at])?;
        conn.prepare_cached(
            "INSERT OR IGNORE INTO chat_tags (chat_id, tag_id) SELECT ?1, id FROM tags WHERE name = ?2",
        )?
        .execute(params![chat_id, name])?;
    }
    Ok(())
}

/// Messages of a chat with `sequence_num` above `after`, oldest first, at most `limit`;
/// without `notes`, internal notes (`type_id` 3) are left out: what a visitor may read.
pub fn messages_after(
    conn: &Connection,
    chat_id: &str,
    after: i64,
    limit: i64,
    notes: bool,
) -> Result<Vec<Message>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, chat_id, sequence_num, type_id, sender, content, created_at FROM messages \
         WHERE chat_id = ?1 AND sequence_num > ?2 AND (?4 OR type_id <> 3) \
         ORDER BY sequence_num LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![chat_id, after, limit, notes], message_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The `limit` messages just before `before`, oldest first (history read backwards).
pub fn messages_before(
    conn: &Connection,
    chat_id: &str,
    before: i64,
    limit: i64,
    notes: bool,
) -> Result<Vec<Message>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, chat_id, sequence_num, type_id, sender, content, created_at FROM messages \
         WHERE chat_id = ?1 AND sequence_num < ?2 AND (?4 OR type_id <> 3) \
         ORDER BY sequence_num DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![chat_id, before, limit, notes], message_from_row)?;
    let mut out: Vec<Message> = rows.collect::<Result<_, _>>()?;
    out.reverse();
    Ok(out)
}

/// Every chat that is not ended, with what the live state needs to take it back.
/// Whether this database has ever held a chat (a restart, not a first start).
pub fn any_chat(conn: &Connection) -> Result<bool, StoreError> {
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM chats)", [], |r| r.get(0))?)
}

/// An offer still waiting for its answer has at most a few messages after it (the visitor's,
/// within `assign_timeout_secs`): restoring looks no further back than this.
const OFFER_WINDOW: i64 = 100;

/// With `offers`, claimed chats also carry the automatic offers recorded among their last
/// `OFFER_WINDOW` messages (only worth reading when routing is automatic).
pub fn load_open_chats(conn: &Connection, offers: bool) -> Result<Vec<RestoredChat>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT c.id, c.status, c.severity_level, c.flagged_at, c.created_at, \
                COALESCE(q.queued_at, c.updated_at, c.created_at), \
                v.id, v.name, v.email, v.is_anonymous, v.disabled, v.created_at, v.updated_at, \
                c.visitor_read_seq, c.staff_read_seq, \
                (SELECT COALESCE(MAX(sequence_num), 0) FROM messages m WHERE m.chat_id = c.id) \
         FROM chats c JOIN visitors v ON v.id = c.visitor_id \
         LEFT JOIN offline_queue q ON q.chat_id = c.id \
         WHERE c.status <> 'ended' ORDER BY COALESCE(q.queued_at, c.created_at)",
    )?;
    let rows = stmt.query_map([], |r| {
        let status: String = r.get(1)?;
        Ok(RestoredChat {
            chat_id: r.get(0)?,
            status: ChatStatus::parse(&status).unwrap_or(ChatStatus::Unclaimed),
            severity_level: r.get(2)?,
            flagged_at: r.get(3)?,
            queued_at: r.get(5)?,
            visitor: accounts::visitor_at(r, 6)?,
            tags: vec![],
            staff: vec![],
            visitor_read_seq: r.get(13)?,
            staff_read_seq: r.get(14)?,
            last_seq: r.get(15)?,
            offers: vec![],
        })
    })?;
    let mut chats: Vec<RestoredChat> = rows.collect::<Result<_, _>>()?;
    let mut staff_stmt = conn.prepare(&format!(
        "SELECT {} FROM chat_staff cs JOIN staff s ON s.id = cs.staff_id \
         WHERE cs.chat_id = ?1 AND cs.left_at IS NULL ORDER BY cs.joined_at",
        accounts::staff_cols("s")
    ))?;
    let mut tag_stmt = conn.prepare(
        "SELECT t.name FROM chat_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.chat_id = ?1 ORDER BY t.name",
    )?;
    // `{"content": "assigned", "staff": …}` system messages (live/state/routing.rs), and
    // whether that staff member wrote after each.
    let mut offer_stmt = conn.prepare(
        "SELECT json_extract(m.content, '$.staff'), m.created_at, EXISTS (SELECT 1 FROM messages a \
                WHERE a.chat_id = m.chat_id AND a.type_id IN (1, 2) \
                AND a.sender = json_extract(m.content, '$.staff') AND a.sequence_num > m.sequence_num) \
         FROM messages m WHERE m.chat_id = ?1 AND m.type_id = 0 \
         AND m.sequence_num > (SELECT COALESCE(MAX(sequence_num), 0) FROM messages WHERE chat_id = ?1) - ?2 \
         AND json_valid(m.content) AND json_extract(m.content, '$.content') = 'assigned' \
         AND json_type(m.content, '$.staff') = 'text' ORDER BY m.sequence_num",
    )?;
    for chat in &mut chats {
        if offers && chat.status == ChatStatus::Claimed {
            chat.offers = offer_stmt
                .query_map(params![chat.chat_id, OFFER_WINDOW], |r| {
                    Ok(Offer {
                        staff_id: r.get(0)?,
                        at: r.get(1)?,
                        answered: r.get(2)?,
                    })
                })?
                .collect::<Result<_, _>>()?;
        }
        chat.staff = staff_stmt
            .query_map([&chat.chat_id], |r| accounts::staff_at(r, 0))?
            .collect::<Result<_, _>>()?;
        chat.tags = tag_stmt
            .query_map([&chat.chat_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
    }
    Ok(chats)
}

/// A chat as the REST API shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ChatRecord {
    pub id: String,
    pub visitor_id: String,
    pub status: String,
    pub severity_level: i64,
    pub flagged_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// Messages from either side (chat messages and attachments; system messages and notes are
    /// not counted).
    pub message_count: i64,
    /// The counts by side, the first response, whether the visitor waits for a reply.
    #[serde(flatten)]
    pub figures: super::history::ChatFigures,
    pub visitor: Visitor,
    /// Staff serving now.
    pub staff: Vec<String>,
    /// Everyone who served it at some time, in the order they first joined.
    pub participants: Vec<String>,
    /// In a search's results: the first message that matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hit: Option<super::history::SearchHit>,
    pub tags: Vec<String>,
    /// The visitor's rating at the end, if given.
    pub rating: Option<RatingRecord>,
    /// What each side has read (`message_read`).
    pub read: ReadRecord,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RatingRecord {
    pub value: String,
    pub comment: Option<String>,
    pub at: Option<i64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ReadRecord {
    pub visitor: i64,
    pub staff: i64,
}

pub fn chat_record(conn: &Connection, chat_id: &str) -> Result<Option<ChatRecord>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT c.id, c.visitor_id, c.status, c.severity_level, c.flagged_at, c.created_at, \
                    c.updated_at, c.ended_at, 0, \
                    v.id, v.name, v.email, v.is_anonymous, v.disabled, v.created_at, v.updated_at, \
                    c.rating, c.rating_comment, c.rated_at, c.visitor_read_seq, c.staff_read_seq \
             FROM chats c JOIN visitors v ON v.id = c.visitor_id WHERE c.id = ?1",
        )?
        .query_row([chat_id], |r| {
            Ok(ChatRecord {
                id: r.get(0)?,
                visitor_id: r.get(1)?,
                status: r.get(2)?,
                severity_level: r.get(3)?,
                flagged_at: r.get(4)?,
                created_at: r.get(5)?,
                updated_at: r.get(6)?,
                ended_at: r.get(7)?,
                message_count: 0,
                figures: Default::default(),
                visitor: accounts::visitor_at(r, 9)?,
                staff: vec![],
                participants: vec![],
                hit: None,
                tags: vec![],
                rating: r.get::<_, Option<String>>(16)?.map(|value| RatingRecord {
                    value,
                    comment: r.get(17).ok().flatten(),
                    at: r.get(18).ok().flatten(),
                }),
                read: ReadRecord {
                    visitor: r.get(19)?,
                    staff: r.get(20)?,
                },
            })
        })
        .optional()?;
    let Some(mut rec) = row else { return Ok(None) };
    rec.figures = super::history::figures(conn, chat_id, rec.created_at, rec.status != "ended")?;
    rec.message_count = rec.figures.visitor_message_count + rec.figures.staff_message_count;
    rec.participants = super::history::participant_ids(conn, chat_id)?;
    rec.staff = conn
        .prepare_cached("SELECT staff_id FROM chat_staff WHERE chat_id = ?1 AND left_at IS NULL ORDER BY joined_at")?
        .query_map([chat_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    rec.tags = conn
        .prepare_cached(
            "SELECT t.name FROM chat_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.chat_id = ?1 ORDER BY t.name",
        )?
        .query_map([chat_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(Some(rec))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ops::NewMessage;
    use crate::store::{Store, Synchronous};

    /// Parsing and planning the insert again on every message cost the writer half its time
    /// (see `store::configure`); a cached statement must be used as it is.
    #[tokio::test]
    async fn message_inserts_number_in_order_and_are_never_prepared_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Synchronous::Normal).unwrap();
        store
            .write(|c| {
                c.execute_batch(
                    "INSERT INTO visitors (id, name, is_anonymous, created_at) VALUES ('v', 'V', 0, 0);
                     INSERT INTO chats (id, visitor_id, status, created_at) VALUES ('c', 'v', 'claimed', 0);",
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let mut seqs = vec![];
        for i in 0..5 {
            let ops = vec![DbOp::InsertMessage {
                slot: 0,
                message: NewMessage {
                    id: format!("m{i}"),
                    chat_id: "c".into(),
                    type_id: 1,
                    sender: None,
                    content: Arc::from(RawValue::from_string("{}".into()).unwrap()),
                    created_at: i,
                    client_msg_id: None,
                },
            }];
            match store.write(move |c| apply(c, &ops, 1)).await.unwrap().pop() {
                Some(Slot::Message(m)) => seqs.push(m.sequence_num),
                other => panic!("no message in the slot: {other:?}"),
            }
        }
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
        let reprepared = store
            .write(|c| {
                Ok(c.prepare_cached(INSERT_MESSAGE)?
                    .get_status(rusqlite::StatementStatus::RePrepare))
            })
            .await
            .unwrap();
        assert_eq!(reprepared, 0);
        store.close().await;
    }

    /// A resend with the same client id (same chat, same sender) stores nothing and hands
    /// back the message stored the first time; another sender's id is its own.
    #[tokio::test]
    async fn a_resent_client_id_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Synchronous::Normal).unwrap();
        store
            .write(|c| {
                c.execute_batch(
                    "INSERT INTO visitors (id, name, is_anonymous, created_at) VALUES ('v', 'V', 0, 0);
                     INSERT INTO chats (id, visitor_id, status, created_at) VALUES ('c', 'v', 'claimed', 0);",
                )?;
                Ok(())
            })
            .await
            .unwrap();
        let send = |i: i64, sender: Option<&str>, id: Option<&str>| {
            let ops = vec![DbOp::InsertMessage {
                slot: 0,
                message: NewMessage {
                    id: format!("m{i}"),
                    chat_id: "c".into(),
                    type_id: 1,
                    sender: sender.map(Into::into),
                    content: Arc::from(RawValue::from_string(format!("{{\"n\":{i}}}")).unwrap()),
                    created_at: i,
                    client_msg_id: id.map(str::to_string),
                },
            }];
            let store = store.clone();
            async move {
                store
                    .write(move |c| apply(c, &ops, 1))
                    .await
                    .unwrap()
                    .pop()
                    .unwrap()
            }
        };
        let first = match send(1, None, Some("a")).await {
            Slot::Message(m) => m,
            other => panic!("{other:?}"),
        };
        match send(2, None, Some("a")).await {
            Slot::Duplicate(m) => {
                assert_eq!((m.sequence_num, m.id.as_str()), (first.sequence_num, "m1"));
                assert_eq!(m.content.get(), r#"{"n":1}"#, "the first one's content");
            }
            other => panic!("a resend was stored again: {other:?}"),
        }
        // Another sender, or no id at all: new messages, numbered without a gap.
        let seqs: Vec<i64> = [
            send(3, Some("s"), Some("a")).await,
            send(4, None, None).await,
            send(5, None, None).await,
        ]
        .into_iter()
        .map(|s| match s {
            Slot::Message(m) => m.sequence_num,
            other => panic!("{other:?}"),
        })
        .collect();
        assert_eq!(seqs, [2, 3, 4]);
        let all = store
            .read(|c| messages_after(c, "c", 0, 100, true))
            .await
            .unwrap();
        assert_eq!(all.len(), 4);
    }
}
