//! Chats over REST (issue 16, product.md §8.1): the list with its filters and keyset pages, the
//! figures of each chat (message counts, first response, waiting for a reply), and **who may see
//! which chat**: `Scope` is the one place that rule is written, as SQL, for the list and for a
//! single chat alike.

use crate::error::StoreError;
use crate::store::chats::{chat_record, ChatRecord};
use crate::store::{accounts, search};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

/// Who is asking, as far as seeing chats goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Supervisors and admins: every chat.
    All,
    /// An agent: the chats they serve or served, and those waiting in a queue.
    Agent(String),
    /// A visitor: their own chats.
    Visitor(String),
}

impl Scope {
    /// The rule as a condition on `chats c`, with its parameters.
    fn condition(&self) -> (&'static str, Vec<Value>) {
        match self {
            Scope::All => ("1", vec![]),
            Scope::Agent(id) => (
                "(c.status IN ('unclaimed', 'offline') \
                  OR EXISTS (SELECT 1 FROM chat_staff cs WHERE cs.chat_id = c.id AND cs.staff_id = ?))",
                vec![Value::Text(id.clone())],
            ),
            Scope::Visitor(id) => ("c.visitor_id = ?", vec![Value::Text(id.clone())]),
        }
    }
}

/// Open (waiting or served) or ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Open,
    Ended,
}

/// The list's filters; `None` is "any".
#[derive(Debug, Clone, Default)]
pub struct ChatFilter {
    pub status: Option<StatusFilter>,
    pub visitor: Option<String>,
    /// Served (now or before) by this staff member.
    pub staff: Option<String>,
    /// Tagged with this name (case-insensitive).
    pub tag: Option<String>,
    pub severity: Option<i64>,
    /// At least this many messages from either side (system messages and notes not counted).
    pub min_message_count: Option<i64>,
    /// Started at or after (ms).
    pub since: Option<i64>,
    /// Started before (ms).
    pub until: Option<i64>,
    /// Rated `good` or `bad` by the visitor.
    pub rating: Option<String>,
    /// Has a message matching this FTS5 expression (`search::match_expr`).
    pub search: Option<String>,
}

/// Where a page ends: the newest-first order is `(created_at, id)` descending, so chats that
/// start while someone pages through never shift the pages after the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: i64,
    pub id: String,
}

impl Cursor {
    /// Opaque to clients: the position as hex digits.
    pub fn encode(&self) -> String {
        format!("{:x}{}", self.created_at, self.id)
    }

    /// `None` for anything `encode` did not make.
    pub fn decode(s: &str) -> Option<Cursor> {
        if s.len() <= 32 || s.len() > 32 + 16 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let (at, id) = s.split_at(s.len() - 32);
        let created_at = i64::from_str_radix(at, 16).ok()?;
        Some(Cursor {
            created_at,
            id: id.to_ascii_lowercase(),
        })
    }
}

/// Visitor-visible messages: chat messages and attachments (not system messages, not notes).
const SPOKEN: &str = "m.type_id IN (1, 2)";

/// A page of chats, newest first, each with its figures (`ChatRecord`), and the cursor of the
/// next page if there may be one.
pub fn list_chats(
    conn: &Connection,
    scope: &Scope,
    filter: &ChatFilter,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<(Vec<ChatRecord>, Option<Cursor>), StoreError> {
    let common = match &filter.search {
        Some(expr) => search::is_common(conn, expr)?,
        None => false,
    };
    let (sql, params) = list_sql(scope, filter, after, limit, common);
    let mut keys: Vec<(String, i64)> = conn
        .prepare_cached(&sql)?
        .query_map(rusqlite::params_from_iter(params), |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<_, _>>()?;
    let more = keys.len() > limit;
    keys.truncate(limit);
    let next = if more {
        keys.last().map(|(id, at)| Cursor {
            created_at: *at,
            id: id.clone(),
        })
    } else {
        None
    };
    let notes = !matches!(scope, Scope::Visitor(_));
    let mut out = Vec::with_capacity(keys.len());
    for (id, _) in &keys {
        if let Some(mut rec) = chat_record(conn, id)? {
            if let Some(expr) = &filter.search {
                rec.hit = search::first_hit(conn, id, expr, notes, common)?
                    .map(|(sequence_num, text)| SearchHit { sequence_num, text });
            }
            out.push(rec);
        }
    }
    Ok((out, next))
}

/// `EXPLAIN QUERY PLAN` of the query `list_chats` runs for these arguments, one line per step
/// (the history benchmark prints it; a test checks that filters use an index).
pub fn explain_list(
    conn: &Connection,
    scope: &Scope,
    filter: &ChatFilter,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let common = match &filter.search {
        Some(expr) => search::is_common(conn, expr)?,
        None => false,
    };
    let (sql, params) = list_sql(scope, filter, after, limit, common);
    Ok(conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?
        .query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })?
        .collect::<Result<_, _>>()?)
}

/// The keys query of a page: `(id, created_at)` of up to `limit + 1` chats, newest first.
fn list_sql(
    scope: &Scope,
    filter: &ChatFilter,
    after: Option<&Cursor>,
    limit: usize,
    common: bool,
) -> (String, Vec<Value>) {
    let (rule, mut params) = scope.condition();
    let mut sql = format!("SELECT c.id, c.created_at FROM chats c WHERE {rule}");
    let mut and = |cond: &str, values: Vec<Value>| {
        sql.push_str(" AND ");
        sql.push_str(cond);
        params.extend(values);
    };
    match filter.status {
        // Open chats are few (those live now): found by the status index, then sorted.
        Some(StatusFilter::Open) => and("c.status IN ('unclaimed', 'offline', 'claimed')", vec![]),
        // Ended is nearly every chat: `+` keeps SQLite from reading all of them through the
        // status index and sorting; newest first through `chats_created` finds a page at once.
        Some(StatusFilter::Ended) => and("+c.status = 'ended'", vec![]),
        None => {}
    }
    if let Some(v) = &filter.visitor {
        and("c.visitor_id = ?", vec![Value::Text(v.clone())]);
    }
    if let Some(s) = &filter.staff {
        and(
            "EXISTS (SELECT 1 FROM chat_staff fs WHERE fs.chat_id = c.id AND fs.staff_id = ?)",
            vec![Value::Text(s.clone())],
        );
    }
    if let Some(t) = &filter.tag {
        // A tag is on few chats: start from them (`chat_tags_tag`), not from every chat.
        and(
            "c.id IN (SELECT ct.chat_id FROM chat_tags ct \
                      WHERE ct.tag_id = (SELECT id FROM tags WHERE name = ? COLLATE NOCASE))",
            vec![Value::Text(t.clone())],
        );
    }
    if let Some(r) = &filter.rating {
        and("c.rating = ?", vec![Value::Text(r.clone())]);
    }
    if let Some(s) = filter.severity {
        and("c.severity_level = ?", vec![Value::Integer(s)]);
    }
    if let Some(n) = filter.min_message_count {
        and(
            &format!("(SELECT count(*) FROM messages m WHERE m.chat_id = c.id AND {SPOKEN}) >= ?"),
            vec![Value::Integer(n)],
        );
    }
    if let Some(t) = filter.since {
        and("c.created_at >= ?", vec![Value::Integer(t)]);
    }
    if let Some(t) = filter.until {
        and("c.created_at < ?", vec![Value::Integer(t)]);
    }
    // Notes are found only by staff.
    let notes = !matches!(scope, Scope::Visitor(_));
    if let Some(expr) = &filter.search {
        // A rare search collects its matches once; a common one asks about each chat's
        // messages, newest chats first, and stops at a page (search::is_common).
        let cond = if common {
            "EXISTS (SELECT 1 FROM messages m CROSS JOIN message_search s \
             WHERE m.chat_id = c.id AND (? OR m.type_id <> 3) \
             AND s.rowid = m.rowid AND s.text MATCH ?)"
        } else {
            "c.id IN (SELECT m.chat_id FROM messages m WHERE (? OR m.type_id <> 3) AND m.rowid IN \
                 (SELECT rowid FROM message_search WHERE message_search MATCH ?))"
        };
        and(
            cond,
            vec![Value::Integer(notes as i64), Value::Text(expr.clone())],
        );
    }
    if let Some(c) = after {
        and(
            "(c.created_at < ? OR (c.created_at = ? AND c.id < ?))",
            vec![
                Value::Integer(c.created_at),
                Value::Integer(c.created_at),
                Value::Text(c.id.clone()),
            ],
        );
    }
    sql.push_str(" ORDER BY c.created_at DESC, c.id DESC LIMIT ?");
    params.push(Value::Integer(limit as i64 + 1));
    (sql, params)
}

/// Whether `scope` may see the chat (false when there is no such chat).
pub fn can_see(conn: &Connection, scope: &Scope, chat_id: &str) -> Result<bool, StoreError> {
    let (rule, mut params) = scope.condition();
    params.insert(0, Value::Text(chat_id.to_string()));
    let sql = format!("SELECT 1 FROM chats c WHERE c.id = ? AND {rule}");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(rusqlite::params_from_iter(params), |_| Ok(()))
        .optional()?
        .is_some())
}

/// Why a search found a chat: its first matching message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SearchHit {
    pub sequence_num: i64,
    pub text: String,
}

/// The figures of one chat that the list and the single chat show.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ChatFigures {
    /// Messages from the visitor (chat messages and attachments).
    pub visitor_message_count: i64,
    /// Messages from staff (chat messages and attachments; notes are not counted).
    pub staff_message_count: i64,
    /// From the chat's start to the first staff message, ms; `None` before one.
    pub first_response_ms: Option<i64>,
    /// Open, and the last message is the visitor's.
    pub waiting_for_reply: bool,
}

pub fn figures(
    conn: &Connection,
    chat_id: &str,
    created_at: i64,
    open: bool,
) -> Result<ChatFigures, StoreError> {
    let (visitor, staff, first_staff): (i64, i64, Option<i64>) = conn
        .prepare_cached(&format!(
            "SELECT count(*) FILTER (WHERE m.sender IS NULL), \
                    count(*) FILTER (WHERE m.sender IS NOT NULL), \
                    min(m.created_at) FILTER (WHERE m.sender IS NOT NULL) \
             FROM messages m WHERE m.chat_id = ?1 AND {SPOKEN}"
        ))?
        .query_row([chat_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let last_from_visitor = if open {
        conn.prepare_cached(&format!(
            "SELECT m.sender IS NULL FROM messages m WHERE m.chat_id = ?1 AND {SPOKEN} \
             ORDER BY m.sequence_num DESC LIMIT 1"
        ))?
        .query_row([chat_id], |r| r.get::<_, bool>(0))
        .optional()?
        .unwrap_or(false)
    } else {
        false
    };
    Ok(ChatFigures {
        visitor_message_count: visitor,
        staff_message_count: staff,
        first_response_ms: first_staff.map(|t| (t - created_at).max(0)),
        waiting_for_reply: last_from_visitor,
    })
}

/// Everyone who served the chat at some time, in the order they first joined.
pub fn participant_ids(conn: &Connection, chat_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT staff_id FROM chat_staff WHERE chat_id = ?1 \
             GROUP BY staff_id ORDER BY min(joined_at)",
        )?
        .query_map([chat_id], |r| r.get(0))?
        .collect::<Result<_, _>>()?)
}

/// One stint of a staff member in a chat (`/participations`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Participation {
    pub staff: crate::model::Staff,
    pub joined_at: i64,
    pub left_at: Option<i64>,
}

pub fn participations(conn: &Connection, chat_id: &str) -> Result<Vec<Participation>, StoreError> {
    let sql = format!(
        "SELECT {}, cs.joined_at, cs.left_at FROM chat_staff cs JOIN staff s ON s.id = cs.staff_id \
         WHERE cs.chat_id = ?1 ORDER BY cs.joined_at, cs.rowid",
        accounts::staff_cols("s")
    );
    let n = accounts::STAFF_COL_COUNT;
    Ok(conn
        .prepare_cached(&sql)?
        .query_map([chat_id], |r| {
            Ok(Participation {
                staff: accounts::staff_at(r, 0)?,
                joined_at: r.get(n)?,
                left_at: r.get(n + 1)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_anything_else_is_refused() {
        let c = Cursor {
            created_at: 1_764_000_000_123,
            id: "0123456789abcdef0123456789abcdef".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        for bad in [
            "",
            "zz",
            "0123456789abcdef0123456789abcdef",
            "1x0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad}");
        }
    }

    /// Both ways of answering a search (rare: collect the matches; common: ask about each
    /// chat's messages) find exactly the chats with a match, newest first, page after page.
    #[test]
    fn rare_and_common_searches_find_the_same_chats() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        crate::store::migrate::migrate(&mut conn, &path).unwrap();
        let tx = conn.transaction().unwrap();
        tx.execute(
            "INSERT INTO visitors (id, name, is_anonymous, created_at) VALUES ('v', 'V', 1, 0)",
            [],
        )
        .unwrap();
        let id = |i: usize| format!("{i:032x}");
        for i in 0..40 {
            tx.execute(
                "INSERT INTO chats (id, visitor_id, status, created_at) VALUES (?1, 'v', 'ended', ?2)",
                rusqlite::params![id(i), i as i64 * 1000],
            )
            .unwrap();
            for seq in 1..=10 {
                let mut text = String::from("hello");
                if i % 2 == 0 {
                    text.push_str(" often");
                }
                if (i, seq) == (5, 7) || (i, seq) == (31, 2) {
                    text.push_str(" needle");
                }
                tx.execute(
                    "INSERT INTO messages (id, chat_id, sequence_num, type_id, content, created_at) \
                     VALUES (?1, ?2, ?3, 1, ?4, 0)",
                    rusqlite::params![
                        format!("m{i}-{seq}"),
                        id(i),
                        seq,
                        serde_json::json!({ "content": text }).to_string()
                    ],
                )
                .unwrap();
            }
        }
        tx.commit().unwrap();
        while search::index_batch(&conn, 5_000).unwrap() > 0 {}
        let often = search::match_expr("often").unwrap();
        let needle = search::match_expr("needle").unwrap();
        assert!(search::is_common(&conn, &often).unwrap());
        assert!(!search::is_common(&conn, &needle).unwrap());

        let find = |expr: &str, after: Option<&Cursor>| {
            let filter = ChatFilter {
                search: Some(expr.to_string()),
                ..Default::default()
            };
            list_chats(&conn, &Scope::All, &filter, after, 7).unwrap()
        };
        let mut seen = vec![];
        let mut cursor = None;
        for _ in 0..10 {
            let (page, next) = find(&often, cursor.as_ref());
            for rec in &page {
                assert_eq!(rec.hit.as_ref().map(|h| h.sequence_num), Some(1));
            }
            seen.extend(page.into_iter().map(|r| r.id));
            cursor = next;
            if cursor.is_none() {
                break;
            }
        }
        let even: Vec<String> = (0..40).rev().filter(|i| i % 2 == 0).map(id).collect();
        assert_eq!(seen, even, "every chat with the word, newest first, once");

        let (page, next) = find(&needle, None);
        let found: Vec<(String, Option<i64>)> = page
            .into_iter()
            .map(|r| (r.id, r.hit.map(|h| h.sequence_num)))
            .collect();
        assert_eq!(found, [(id(31), Some(2)), (id(5), Some(7))]);
        assert!(next.is_none());
    }

    /// The plans the history bench measured: each filter through the index that keeps a page
    /// cheap over 100,000 chats (`cargo bench --bench history` prints them all).
    #[test]
    fn filters_use_the_indexes_that_keep_a_page_cheap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = Connection::open(&path).unwrap();
        crate::store::migrate::migrate(&mut conn, &path).unwrap();
        let plan = |scope: Scope, filter: ChatFilter| {
            explain_list(&conn, &scope, &filter, None, 100)
                .unwrap()
                .join(" | ")
        };
        let staff = "0123456789abcdef0123456789abcdef".to_string();
        let by_staff = plan(
            Scope::All,
            ChatFilter {
                staff: Some(staff.clone()),
                ..Default::default()
            },
        );
        assert!(by_staff.contains("chat_staff_pair"), "{by_staff}");
        let agent = plan(Scope::Agent(staff), ChatFilter::default());
        assert!(agent.contains("chat_staff_pair"), "{agent}");
        let ended = plan(
            Scope::All,
            ChatFilter {
                status: Some(StatusFilter::Ended),
                ..Default::default()
            },
        );
        assert!(
            ended.contains("chats_created") && !ended.contains("TEMP B-TREE"),
            "{ended}"
        );
        let open = plan(
            Scope::All,
            ChatFilter {
                status: Some(StatusFilter::Open),
                ..Default::default()
            },
        );
        assert!(open.contains("chats_status"), "{open}");
        let tagged = plan(
            Scope::All,
            ChatFilter {
                tag: Some("vip".into()),
                ..Default::default()
            },
        );
        assert!(tagged.contains("chat_tags_tag"), "{tagged}");
    }
}
