//! Read receipts (product.md §8.6): `message_read {visitor, sequence_num}` from the visitor or
//! from staff serving or watching the chat. Each side has one pointer (the highest number it
//! read), stored on the chat; the other side hears `message_seen {visitor, reader,
//! sequence_num}` (`reader`: the staff member, or null for the visitor). Consoles count unread
//! messages from the room's `read` (which a reload gets back).

use super::{Args, By, Family, Sender};
use crate::live::plan::*;
use crate::live::state::views::raw;
use crate::live::state::LiveState;
use crate::model::VisitorId;

#[derive(Debug, Clone)]
pub enum Receipts {
    Read {
        /// `None`: the visitor's own chat.
        visitor: Option<VisitorId>,
        sequence_num: i64,
    },
}

pub const NOT_IN_ROOM: Refusal = Refusal::fixed(
    Code::NotAllowed,
    "Only the staff in the room can mark its messages read.",
);

pub fn parse_read(a: &Args) -> Result<Family, Refusal> {
    let f = a.fields("sequence_num")?;
    let visitor = match f.get("visitor") {
        None => None,
        Some(_) => Some(f.id("visitor")?),
    };
    let sequence_num = f
        .get("sequence_num")
        .and_then(|raw| serde_json::from_str::<i64>(raw.get()).ok())
        .filter(|n| *n >= 1)
        .ok_or_else(|| Refusal::invalid("sequence_num"))?;
    Ok(Family::Receipts(Receipts::Read {
        visitor,
        sequence_num,
    }))
}

impl Receipts {
    pub fn apply(self, s: &mut LiveState, by: &Sender) -> Plan {
        let Receipts::Read {
            visitor,
            sequence_num,
        } = self;
        let vid = match (&by.by, visitor) {
            (By::Visitor(v), None) => v.clone(),
            (By::Visitor(v), Some(named)) if named == *v => named,
            (By::Visitor(_), Some(_)) => return Plan::err(say::CLOSED),
            (By::Staff(_), None) => return Plan::err(Refusal::invalid("visitor")),
            (By::Staff(_), Some(named)) => named,
        };
        let staff = match &by.by {
            By::Staff(st) => Some(st),
            By::Visitor(_) => None,
        };
        let Some(chat) = s.rooms.get_mut(&vid) else {
            return Plan::err(match staff {
                Some(_) => say::CLOSED,
                None => say::NO_OPEN_CHAT,
            });
        };
        if let Some(st) = staff {
            if !chat.is_served_by(&st.id) && !chat.is_watched_by(&st.id) {
                return Plan::err(NOT_IN_ROOM);
            }
        }
        if sequence_num > chat.last_seq {
            return Plan::err(Refusal::invalid("sequence_num"));
        }
        let pointer = match staff {
            Some(_) => &mut chat.read.staff,
            None => &mut chat.read.visitor,
        };
        let mut plan = Plan::ok();
        if sequence_num <= *pointer {
            return plan;
        }
        *pointer = sequence_num;
        plan.op(DbOp::SetRead {
            chat_id: chat.chat_id.clone(),
            by_visitor: staff.is_none(),
            seq: sequence_num,
        });
        let to = match staff {
            Some(st) => Audience::Room(&vid, Some(&st.id)),
            None => Audience::Serving(&vid, None),
        };
        s.tell(
            &mut plan,
            to,
            Out::MessageSeen,
            vec![
                ("visitor", raw(&vid)),
                ("reader", raw(&staff)),
                ("sequence_num", raw(&sequence_num)),
            ],
        );
        plan
    }
}
