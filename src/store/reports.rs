//! Reports (issue 16, product.md §8.9): how the team did over a date range — first response
//! time, time to close, chats per agent, missed chats, ratings, volume by hour of the week.
//! One read of the chats started in the range (each with its first staff reply, found through
//! the messages index); the figures are worked out here, not in SQL, so the same rows give
//! every figure.

use crate::error::StoreError;
use rusqlite::{params, Connection};
use serde::Serialize;
use std::collections::BTreeMap;

/// One chat, as the report needs it.
#[derive(Debug, Clone)]
pub struct ChatRow {
    pub created_at: i64,
    pub ended_at: Option<i64>,
    pub rating: Option<String>,
    /// The first chat message or file from staff: when, and who.
    pub first_reply: Option<(i64, String)>,
    /// Every staff member who served it.
    pub staff: Vec<String>,
}

/// The queries of `chats_between`, in order (the history benchmark explains them).
pub const QUERIES: [&str; 3] = [
    "SELECT id, created_at, ended_at, rating FROM chats \
     WHERE created_at >= ?1 AND created_at < ?2 ORDER BY created_at",
    "SELECT created_at, sender FROM messages WHERE chat_id = ?1 AND sender IS NOT NULL \
     AND type_id IN (1, 2) ORDER BY sequence_num LIMIT 1",
    "SELECT DISTINCT staff_id FROM chat_staff WHERE chat_id = ?1",
];

pub fn chats_between(
    conn: &Connection,
    since: i64,
    until: i64,
) -> Result<Vec<ChatRow>, StoreError> {
    let mut rows = conn.prepare_cached(QUERIES[0])?;
    let mut first = conn.prepare_cached(QUERIES[1])?;
    let mut staff = conn.prepare_cached(QUERIES[2])?;
    let chats: Vec<(String, i64, Option<i64>, Option<String>)> = rows
        .query_map(params![since, until], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut out = Vec::with_capacity(chats.len());
    for (id, created_at, ended_at, rating) in chats {
        use rusqlite::OptionalExtension;
        let first_reply = first
            .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let staff = staff
            .query_map([&id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        out.push(ChatRow {
            created_at,
            ended_at,
            rating,
            first_reply,
            staff,
        });
    }
    Ok(out)
}

/// A median and a 90th percentile (nearest rank), in ms; `None` without data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Spread {
    pub median: Option<i64>,
    pub p90: Option<i64>,
    pub count: usize,
}

pub fn spread(mut v: Vec<i64>) -> Spread {
    v.sort_unstable();
    let rank = |q: f64| -> Option<i64> {
        if v.is_empty() {
            return None;
        }
        let i = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
        Some(v[i])
    };
    Spread {
        median: rank(0.5),
        p90: rank(0.9),
        count: v.len(),
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AgentFigures {
    pub staff_id: String,
    /// Chats they served (alone or with others).
    pub chats: usize,
    /// Chats in which theirs was the first staff reply.
    pub first_replies: usize,
    /// Their first replies' times.
    pub first_response_ms: Spread,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub chats: usize,
    /// With a staff reply within `missed_after_ms` of the start.
    pub answered: usize,
    /// Without one: ended or still waiting with no staff reply in time.
    pub missed: usize,
    pub first_response_ms: Spread,
    pub time_to_close_ms: Spread,
    pub ratings: BTreeMap<&'static str, usize>,
    pub agents: Vec<AgentFigures>,
    /// Chats started per weekday (Monday first) and hour, in the report's time zone.
    pub volume: [[usize; 24]; 7],
}

/// The figures of `rows`. `local` gives a start's weekday (0 = Monday) and hour; `now` decides
/// whether a chat still waiting has been waiting too long.
pub fn figures(
    rows: &[ChatRow],
    missed_after_ms: i64,
    now: i64,
    local: impl Fn(i64) -> (usize, usize),
) -> Report {
    let mut r = Report {
        chats: rows.len(),
        ..Default::default()
    };
    r.ratings.insert("good", 0);
    r.ratings.insert("bad", 0);
    let mut first = vec![];
    let mut close = vec![];
    let mut agents: BTreeMap<&str, (usize, Vec<i64>)> = BTreeMap::new();
    for c in rows {
        let reply_in = c
            .first_reply
            .as_ref()
            .map(|(at, _)| (at - c.created_at).max(0));
        match reply_in {
            Some(ms) if ms <= missed_after_ms => r.answered += 1,
            // Still within its time, unanswered and open: neither answered nor missed yet.
            None if c.ended_at.is_none() && now - c.created_at <= missed_after_ms => {}
            _ => r.missed += 1,
        }
        if let Some(ms) = reply_in {
            first.push(ms);
        }
        if let Some(end) = c.ended_at {
            close.push((end - c.created_at).max(0));
        }
        if let Some(rating) = c.rating.as_deref() {
            if let Some(n) = r
                .ratings
                .get_mut(if rating == "good" { "good" } else { "bad" })
            {
                *n += 1;
            }
        }
        for s in &c.staff {
            agents.entry(s).or_default().0 += 1;
        }
        if let (Some((_, who)), Some(ms)) = (&c.first_reply, reply_in) {
            agents.entry(who).or_default().1.push(ms);
        }
        let (day, hour) = local(c.created_at);
        if let Some(slot) = r.volume.get_mut(day).and_then(|d| d.get_mut(hour)) {
            *slot += 1;
        }
    }
    r.first_response_ms = spread(first);
    r.time_to_close_ms = spread(close);
    r.agents = agents
        .into_iter()
        .map(|(id, (chats, firsts))| AgentFigures {
            staff_id: id.to_string(),
            chats,
            first_replies: firsts.len(),
            first_response_ms: spread(firsts),
        })
        .collect();
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(created: i64, reply: Option<(i64, &str)>, ended: Option<i64>) -> ChatRow {
        ChatRow {
            created_at: created,
            ended_at: ended,
            rating: None,
            first_reply: reply.map(|(at, s)| (at, s.to_string())),
            staff: reply.map(|(_, s)| vec![s.to_string()]).unwrap_or_default(),
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(spread(vec![]).median, None);
        let s = spread((1..=10).rev().collect());
        assert_eq!((s.median, s.p90, s.count), (Some(5), Some(9), 10));
        assert_eq!(spread(vec![7]).p90, Some(7));
    }

    #[test]
    fn answered_missed_and_still_in_time() {
        let rows = [
            row(0, Some((1_000, "a")), Some(60_000)), // answered in 1 s
            row(0, Some((400_000, "b")), None),       // answered too late: missed
            row(0, None, Some(10_000)),               // ended unanswered: missed
            row(990_000, None, None),                 // waiting, still in time
            row(0, None, None),                       // waiting too long: missed
        ];
        let r = figures(&rows, 300_000, 1_000_000, |_| (0, 0));
        assert_eq!((r.chats, r.answered, r.missed), (5, 1, 3));
        assert_eq!(r.first_response_ms.median, Some(1_000));
        assert_eq!(r.time_to_close_ms.count, 2);
        assert_eq!(r.agents.len(), 2);
        assert_eq!(r.volume[0][0], 5);
    }
}
