//! Resuming after a reconnect (product.md §8.11): `sync {chat_id, after_sequence_num}` answers
//! the asking connection alone with `messages_since {chat_id, messages}`, every message after
//! that number as of this point in command order, so live events that follow come after it.

use super::{Args, By, Family, Sender};
use crate::live::plan::*;
use crate::live::state::views::raw;
use crate::live::state::LiveState;
use crate::model::ChatId;

#[derive(Debug, Clone)]
pub enum Resume {
    Sync { chat_id: ChatId, after: i64 },
}

pub fn parse_sync(a: &Args) -> Result<Family, Refusal> {
    let f = a.fields("chat_id")?;
    let chat_id = f.id("chat_id")?;
    let after = f
        .get("after_sequence_num")
        .and_then(|raw| serde_json::from_str::<i64>(raw.get()).ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| Refusal::invalid("after_sequence_num"))?;
    Ok(Family::Resume(Resume::Sync { chat_id, after }))
}

const NOT_YOURS: Refusal = Refusal::fixed(Code::NotAllowed, "You may not read this chat.");

impl Resume {
    pub fn apply(self, s: &mut LiveState, by: &Sender) -> Plan {
        let Resume::Sync { chat_id, after } = self;
        let Some(chat) = s.rooms.by_chat_id(&chat_id) else {
            return Plan::err(say::CLOSED);
        };
        // Who may read an open chat: its visitor; staff serving it, supervisors and admins;
        // any staff while it waits in a queue (they see it there). A visitor is not told that
        // someone else's chat exists.
        let allowed = match &by.by {
            By::Visitor(vid) => {
                if chat.visitor.id != *vid {
                    return Plan::err(say::CLOSED);
                }
                true
            }
            By::Staff(st) => {
                chat.is_served_by(&st.id)
                    || st.role_id.is_supervisor()
                    || matches!(chat.status, ChatStatus::Unclaimed | ChatStatus::Offline)
            }
        };
        if !allowed {
            return Plan::err(NOT_YOURS);
        }
        let mut plan = Plan::ok();
        // A visitor never sees internal notes.
        let slot = match by.by {
            By::Visitor(_) => plan.load_visitor_messages_after(&chat_id, after),
            By::Staff(_) => plan.load_messages_after(&chat_id, after),
        };
        s.tell(
            &mut plan,
            Audience::Conn(by.conn),
            Out::MessagesSince,
            vec![
                ("chat_id", raw(&chat_id)),
                ("messages", Part::Messages(vec![slot])),
            ],
        );
        plan
    }
}
