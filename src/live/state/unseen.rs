//! Replies the visitor has not seen (issue 15, product.md §8.10): a staff message in a chat
//! marks it (`replied`, O(1) on the chat path); on each tick (`check_unseen`, pure, the clock
//! passed in) a chat whose first unseen reply is `email_reply_after_secs` old, whose visitor
//! is not connected, has not read it and gave an email address, yields one
//! `Notice::VisitorReplies`, and its mark is dropped: the same replies are never emailed twice,
//! and a reply after that email marks the chat again. Marks live as long as the chat is open;
//! a restart forgets them (the replies stay in the chat, shown at the visitor's next visit).

use super::LiveState;
use crate::live::plan::Plan;
use crate::model::{ChatId, VisitorId};
use std::collections::HashMap;

/// Chats with a reply their visitor has not seen, by visitor.
#[derive(Debug, Default)]
pub struct Unseen {
    marks: HashMap<VisitorId, Mark>,
}

#[derive(Debug, Clone)]
struct Mark {
    chat_id: ChatId,
    /// When the first unseen reply was written (ms).
    since: i64,
    /// The chat's message count after that reply: a visitor read pointer this far has seen it.
    seq: i64,
}

impl Unseen {
    /// A staff message in the visitor's chat, now; `seq`: the chat's count with it. A chat
    /// already marked keeps its first reply's time.
    pub fn replied(&mut self, vid: &VisitorId, chat_id: &ChatId, seq: i64, now: i64) {
        if !self.marks.contains_key(vid) {
            self.marks.insert(
                vid.clone(),
                Mark {
                    chat_id: chat_id.clone(),
                    since: now,
                    seq,
                },
            );
        }
    }

    pub fn len(&self) -> usize {
        self.marks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.marks.is_empty()
    }
}

impl LiveState {
    /// The tick's rule: see the module's comment. Costs nothing while no chat is marked.
    pub(crate) fn check_unseen(&mut self, plan: &mut Plan, now: i64) {
        if self.unseen.is_empty() {
            return;
        }
        let after_ms = self.settings.email.email_reply_after_secs as i64 * 1000;
        if after_ms == 0 || !self.settings.email.is_on() {
            // Off: nothing is remembered for later.
            self.unseen.marks.clear();
            return;
        }
        let mut due = vec![];
        self.unseen.marks.retain(|vid, mark| {
            let Some(chat) = self.rooms.get(vid).filter(|c| c.chat_id == mark.chat_id) else {
                // Ended (or another chat): nothing to resume.
                return false;
            };
            if chat.read.visitor >= mark.seq {
                return false;
            }
            if now - mark.since < after_ms || self.roster.visitor_conn(vid).is_some() {
                return true;
            }
            if chat.visitor.email.as_deref().is_some_and(|e| !e.is_empty()) {
                due.push(crate::email::Notice::VisitorReplies {
                    chat_id: chat.chat_id.clone(),
                    visitor: chat.visitor.clone(),
                    after_seq: chat.read.visitor,
                });
                return false;
            }
            // No address yet: the visitor may still give one when they come back.
            true
        });
        plan.notices.extend(due);
    }
}

#[cfg(test)]
mod tests {
    use crate::live::plan::*;
    use crate::live::state::{LiveConfig, LiveState};
    use crate::model::{ChatId, Visitor, VisitorId};
    use serde_json::json;

    fn state(email: bool) -> LiveState {
        let mut s = LiveState::new(LiveConfig::new(std::time::Duration::from_secs(60), 3));
        let mut patch = json!({"email_reply_after_secs": 60});
        if email {
            patch["smtp_url"] = json!("smtp://127.0.0.1:25?tls=none");
            patch["email_from"] = json!("shop@example.test");
        }
        s.settings = s.settings.patched(patch.as_object().unwrap()).unwrap();
        s
    }

    fn open(s: &mut LiveState, email: Option<&str>) -> (VisitorId, ChatId) {
        let visitor = Visitor {
            id: "v1".into(),
            name: "Eve".into(),
            email: email.map(str::to_string),
            is_anonymous: false,
            disabled: false,
            created_at: 0,
            updated_at: None,
        };
        let chat_id = ChatId("c1".into());
        s.rooms.open(
            crate::live::state::rooms::Chat::new(chat_id.clone(), visitor, ChatStatus::Offline, 0),
            vec![],
        );
        ("v1".into(), chat_id)
    }

    fn due(s: &mut LiveState, now: i64) -> usize {
        let mut plan = Plan::default();
        s.check_unseen(&mut plan, now);
        plan.notices.len()
    }

    #[test]
    fn an_unseen_reply_is_emailed_once_after_the_delay() {
        let mut s = state(true);
        let (vid, chat) = open(&mut s, Some("eve@example.test"));
        s.unseen.replied(&vid, &chat, 3, 1_000);
        // A second reply keeps the first one's time.
        s.unseen.replied(&vid, &chat, 4, 50_000);
        assert_eq!(due(&mut s, 60_999), 0);
        assert_eq!(due(&mut s, 61_000), 1);
        assert_eq!(due(&mut s, 200_000), 0, "once per batch");
        s.unseen.replied(&vid, &chat, 5, 300_000);
        assert_eq!(due(&mut s, 360_000), 1, "a new reply, a new email");
    }

    #[test]
    fn nothing_when_read_without_address_or_email_off() {
        let mut s = state(true);
        let (vid, chat) = open(&mut s, Some("eve@example.test"));
        s.unseen.replied(&vid, &chat, 3, 0);
        if let Some(c) = s.rooms.get_mut(&vid) {
            c.read.visitor = 3;
        }
        assert_eq!(due(&mut s, 100_000), 0);
        assert!(s.unseen.is_empty());

        let mut s = state(true);
        let (vid, chat) = open(&mut s, None);
        s.unseen.replied(&vid, &chat, 3, 0);
        assert_eq!(due(&mut s, 100_000), 0);
        assert_eq!(s.unseen.len(), 1, "kept: an address may come");

        let mut s = state(false);
        let (vid, chat) = open(&mut s, Some("eve@example.test"));
        s.unseen.replied(&vid, &chat, 3, 0);
        assert_eq!(due(&mut s, 100_000), 0);
        assert!(s.unseen.is_empty());
    }
}
