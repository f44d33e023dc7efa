//! Typing indicators: `user_typing_send` and `user_stop_typing_send`, from the visitor or a
//! staff member serving the room, to the other parties of the room. Nothing is stored.

use super::{Args, By, Family, Sender};
use crate::live::plan::*;
use crate::live::state::views::raw;
use crate::live::state::LiveState;
use crate::model::VisitorId;

#[derive(Debug, Clone)]
pub struct Typing {
    /// Required from staff; a visitor may leave it out (it is their own room).
    pub visitor: Option<VisitorId>,
    pub typing: bool,
}

pub fn parse(a: &Args) -> Result<Family, Refusal> {
    let visitor = if a.is_empty() {
        None
    } else {
        let f = a.fields("visitor")?;
        match f.get("visitor") {
            None => None,
            Some(_) => Some(f.id("visitor")?),
        }
    };
    Ok(Family::Typing(Typing {
        visitor,
        typing: a.name == "user_typing_send",
    }))
}

impl Typing {
    pub fn apply(self, s: &mut LiveState, by: &Sender) -> Plan {
        let (vid, staff) = match &by.by {
            By::Visitor(vid) => (vid.clone(), None),
            By::Staff(st) => match self.visitor {
                Some(vid) => (vid, Some(st)),
                None => return Plan::err(Refusal::invalid("visitor")),
            },
        };
        let Some(chat) = s.rooms.get(&vid) else {
            return Plan::err(say::CLOSED);
        };
        let to = match staff {
            Some(st) if !chat.is_served_by(&st.id) => return Plan::err(say::NOT_IN_ROOM),
            Some(st) => Audience::Room(&vid, Some(&st.id)),
            None => Audience::Serving(&vid, None),
        };
        let event = if self.typing {
            Out::UserTypingReceive
        } else {
            Out::UserStopTypingReceive
        };
        let mut plan = Plan::ok();
        s.tell(
            &mut plan,
            to,
            event,
            vec![("visitor", raw(&chat.visitor)), ("staff", raw(&staff))],
        );
        plan
    }
}
