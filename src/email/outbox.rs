//! Emails survive a restart (issue 15): the outbox task keeps each notice in `email_outbox`
//! (migration 7) as it takes it, records each failed try, and drops the row once the email is
//! sent or given up. At start, the rows left by the last run are tried again, counting the
//! tries they already had. The stored form carries ids, not people's details: the visitor is
//! read again from the database, so a visitor deleted meanwhile gets nothing. An email older
//! than `STALE` is not sent any more. (A notice still in the channel when the process dies,
//! before its row is written, is lost: that window is the time of one small write.)

use super::Notice;
use crate::model::{ChatId, VisitorId};
use crate::store::{accounts, email as store_email, Store};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::sync::Arc;

/// A waiting email older than this (ms) is dropped at start rather than sent late.
const STALE: i64 = 2 * 86_400_000;

#[derive(Serialize, Deserialize)]
struct Stored {
    chat_id: String,
    visitor_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content: Option<Box<RawValue>>,
    #[serde(default)]
    after_seq: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    to: Option<String>,
}

fn stored(notice: &Notice) -> Stored {
    let (chat_id, visitor) = match notice {
        Notice::OfflineMessage {
            chat_id, visitor, ..
        }
        | Notice::VisitorReplies {
            chat_id, visitor, ..
        }
        | Notice::Transcript {
            chat_id, visitor, ..
        } => (chat_id, visitor),
    };
    Stored {
        chat_id: chat_id.0.clone(),
        visitor_id: visitor.id.0.clone(),
        content: match notice {
            Notice::OfflineMessage { content, .. } => {
                RawValue::from_string(content.get().into()).ok()
            }
            _ => None,
        },
        after_seq: match notice {
            Notice::VisitorReplies { after_seq, .. } => *after_seq,
            _ => 0,
        },
        to: match notice {
            Notice::Transcript { to, .. } => Some(to.to_string()),
            _ => None,
        },
    }
}

/// Keeps a notice the outbox just took; its row, or `None` if it could not be written (it is
/// sent all the same, only not resumed after a restart).
pub(super) async fn keep(store: &Store, notice: &Notice) -> Option<i64> {
    let kind = notice.kind();
    let json = serde_json::to_string(&stored(notice)).ok()?;
    match store
        .write(move |c| store_email::outbox_add(c, kind, &json))
        .await
    {
        Ok(id) => Some(id),
        Err(e) => {
            tracing::warn!(kind, error = %e, "an email could not be kept for after a restart");
            None
        }
    }
}

pub(super) async fn tried(store: &Store, row: Option<i64>, attempts: u32) {
    if let Some(id) = row {
        if let Err(e) = store
            .write(move |c| store_email::outbox_tried(c, id, attempts))
            .await
        {
            tracing::warn!(error = %e, "the tries of an email could not be recorded");
        }
    }
}

pub(super) async fn done(store: &Store, row: Option<i64>) {
    if let Some(id) = row {
        if let Err(e) = store.write(move |c| store_email::outbox_done(c, id)).await {
            tracing::warn!(error = %e, "a sent email stays in the outbox table");
        }
    }
}

/// The emails the last run left: `(row, notice, tries so far)`. Rows that cannot be used any
/// more (stale, unreadable, their visitor gone) are dropped.
pub(super) async fn waiting(store: &Store) -> Vec<(i64, Notice, u32)> {
    let now = crate::model::now_ms();
    let loaded = store
        .read(move |c| {
            let mut out = vec![];
            let mut drop = vec![];
            for (id, kind, json, attempts, created_at) in store_email::outbox_waiting(c)? {
                let notice = serde_json::from_str::<Stored>(&json)
                    .ok()
                    .filter(|_| now - created_at < STALE)
                    .map(|s| {
                        let v = accounts::visitor_by_id(c, &s.visitor_id)?;
                        Ok::<_, crate::error::StoreError>(v.and_then(|v| notice(&kind, s, v)))
                    })
                    .transpose()?
                    .flatten();
                match notice {
                    Some(n) => out.push((id, n, attempts)),
                    None => drop.push(id),
                }
            }
            Ok((out, drop))
        })
        .await;
    let (out, drop) = match loaded {
        Ok(x) => x,
        Err(e) => {
            tracing::warn!(error = %e, "the waiting emails could not be read");
            return vec![];
        }
    };
    for id in drop {
        done(store, Some(id)).await;
    }
    if !out.is_empty() {
        tracing::info!(count = out.len(), "resuming emails left by the last run");
    }
    out
}

fn notice(kind: &str, s: Stored, visitor: crate::model::Visitor) -> Option<Notice> {
    let chat_id = ChatId(s.chat_id);
    debug_assert_eq!(visitor.id, VisitorId(s.visitor_id.clone()));
    Some(match kind {
        "offline_message" => Notice::OfflineMessage {
            chat_id,
            visitor,
            content: Arc::from(s.content?),
        },
        "visitor_replies" => Notice::VisitorReplies {
            chat_id,
            visitor,
            after_seq: s.after_seq,
        },
        "transcript" => Notice::Transcript {
            chat_id,
            visitor,
            to: super::settings::mailbox(&s.to?).ok()?,
        },
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_stored_and_read_back() {
        let visitor = crate::model::Visitor {
            id: "v".into(),
            name: "Eve".into(),
            email: Some("eve@example.test".into()),
            is_anonymous: false,
            disabled: false,
            created_at: 0,
            updated_at: None,
        };
        let content: Arc<RawValue> =
            Arc::from(RawValue::from_string("{\"content\":\"hi\"}".into()).unwrap());
        for n in [
            Notice::OfflineMessage {
                chat_id: ChatId("c".into()),
                visitor: visitor.clone(),
                content,
            },
            Notice::VisitorReplies {
                chat_id: ChatId("c".into()),
                visitor: visitor.clone(),
                after_seq: 7,
            },
            Notice::Transcript {
                chat_id: ChatId("c".into()),
                visitor: visitor.clone(),
                to: "Eve <eve@example.test>".parse().unwrap(),
            },
        ] {
            let json = serde_json::to_string(&stored(&n)).unwrap();
            let back = notice(
                n.kind(),
                serde_json::from_str(&json).unwrap(),
                visitor.clone(),
            )
            .unwrap();
            assert_eq!(format!("{n:?}"), format!("{back:?}"));
        }
    }
}
