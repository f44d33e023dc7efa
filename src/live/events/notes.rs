//! Internal notes and watching (product.md §8.8). `staff_note {visitor, content}` stores a
//! `type_id` 3 message that only staff ever see: `staff_note_send` goes to the staff serving
//! or watching the room and to supervisors and admins — never to the visitor, and visitor
//! reads (`visitor_init`, a visitor's `sync`, REST with a visitor token) leave notes out.
//! `watch_chat` / `unwatch_chat`: a supervisor or admin hears every room event the serving
//! staff hear (`LiveState::audience` counts watchers with them) without serving the chat and
//! without the visitor being told.

use super::{Args, Family, Sender};
use crate::live::plan::*;
use crate::live::state::views::raw;
use crate::live::state::LiveState;
use crate::model::{new_id, Staff, VisitorId, MESSAGE_NOTE};
use serde_json::value::RawValue;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Notes {
    Note {
        visitor: VisitorId,
        content: Arc<RawValue>,
        client_msg_id: Option<String>,
    },
    Watch {
        visitor: VisitorId,
    },
    Unwatch {
        visitor: VisitorId,
    },
}

pub const WATCH_ROLE: Refusal = Refusal::fixed(
    Code::NotAllowed,
    "Only supervisors and admins can watch chats.",
);
pub const ALREADY_WATCHING: Refusal =
    Refusal::fixed(Code::AlreadyInChat, "You are already watching this chat.");
pub const NOT_WATCHING: Refusal =
    Refusal::fixed(Code::NotInChat, "You are not watching this chat.");

pub fn parse_note(a: &Args) -> Result<Family, Refusal> {
    let (visitor, content, client_msg_id) = super::messages::staff_content(a)?;
    Ok(Family::Notes(Notes::Note {
        visitor,
        content,
        client_msg_id,
    }))
}

pub fn parse_watch(a: &Args) -> Result<Family, Refusal> {
    let f = a.fields("visitor")?;
    Ok(Family::Notes(Notes::Watch {
        visitor: f.id("visitor")?,
    }))
}

pub fn parse_unwatch(a: &Args) -> Result<Family, Refusal> {
    let f = a.fields("visitor")?;
    Ok(Family::Notes(Notes::Unwatch {
        visitor: f.id("visitor")?,
    }))
}

impl Notes {
    pub fn apply(self, s: &mut LiveState, by: &Sender, now: i64) -> Plan {
        let staff = match by.staff() {
            Ok(st) => st.clone(),
            Err(refused) => return Plan::err(refused),
        };
        match self {
            Notes::Note {
                visitor,
                content,
                client_msg_id,
            } => note(s, &staff, &visitor, content, client_msg_id, now),
            Notes::Watch { visitor } => watch(s, &staff, &visitor, by.conn),
            Notes::Unwatch { visitor } => {
                if !staff.role_id.is_supervisor() {
                    return Plan::err(WATCH_ROLE);
                }
                if !s.rooms.contains(&visitor) {
                    return Plan::err(say::CLOSED);
                }
                if !s.rooms.unwatch(&visitor, &staff.id) {
                    return Plan::err(NOT_WATCHING);
                }
                Plan::ok()
            }
        }
    }
}

fn note(
    s: &mut LiveState,
    staff: &Staff,
    vid: &VisitorId,
    content: Arc<RawValue>,
    client_msg_id: Option<String>,
    now: i64,
) -> Plan {
    let Some(chat) = s.rooms.get_mut(vid) else {
        return Plan::err(say::CLOSED);
    };
    // A note is not an answer to the visitor: inactivity still counts.
    chat.counted(false, now);
    let chat_id = chat.chat_id.clone();
    let mut plan = Plan::ok();
    let m = plan.insert_message(NewMessage {
        id: new_id(),
        chat_id,
        type_id: MESSAGE_NOTE,
        sender: Some(staff.id.clone()),
        content,
        created_at: now,
        client_msg_id,
    });
    // Staff in or watching the room, and supervisors: each once, never the sender.
    let mut to = s.audience(Audience::Serving(vid, Some(&staff.id)));
    for c in s.audience(Audience::Supervisors(Some(&staff.id))) {
        if !to.contains(&c) {
            to.push(c);
        }
    }
    s.tell(
        &mut plan,
        Audience::Listed(&to),
        Out::StaffNoteSend,
        vec![
            ("staff", raw(staff)),
            ("visitor", s.room(vid)),
            ("content", Part::Message(m)),
        ],
    );
    plan
}

fn watch(s: &mut LiveState, staff: &Staff, vid: &VisitorId, conn: ConnId) -> Plan {
    if !staff.role_id.is_supervisor() {
        return Plan::err(WATCH_ROLE);
    }
    let Some(chat) = s.rooms.get(vid) else {
        return Plan::err(say::CLOSED);
    };
    if chat.is_served_by(&staff.id) {
        return Plan::err(say::ALREADY_IN_ROOM);
    }
    let chat_id = chat.chat_id.clone();
    if !s.rooms.watch(vid, &staff.id) {
        return Plan::err(ALREADY_WATCHING);
    }
    let mut plan = Plan::ok();
    let history = plan.load_messages(&chat_id);
    s.tell(
        &mut plan,
        Audience::Conn(conn),
        Out::ChatWatched,
        vec![
            ("visitor", s.room(vid)),
            ("contents", Part::Messages(vec![history])),
        ],
    );
    plan
}
