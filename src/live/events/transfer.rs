//! Transfers (product.md §8.4, seed `002`): `transfer_chat {visitor, staff, note?}` hands a
//! chat from the staff member serving it to another connected colleague, with its history and
//! an optional note. Sent by a serving staff member, or by a supervisor/admin for whoever serves
//! it.

use super::{Args, Family, Sender};
use crate::live::plan::*;
use crate::live::state::lifecycle::hook_staff;
use crate::live::state::routing::shown_name;
use crate::live::state::views::{raw, system_payload};
use crate::live::state::LiveState;
use crate::model::{Staff, StaffId, VisitorId};
use crate::webhooks::Event;
use serde::Serialize;

/// The longest note a transfer may carry, in characters.
pub const MAX_NOTE_CHARS: usize = 1000;

#[derive(Debug, Clone)]
pub enum Transfer {
    Chat {
        visitor: VisitorId,
        to: StaffId,
        note: Option<String>,
    },
}

pub fn parse_transfer(a: &Args) -> Result<Family, Refusal> {
    let f = a.fields("visitor")?;
    let visitor = f.id("visitor")?;
    let to = f.id("staff")?;
    let note = match f.get("note") {
        None => None,
        Some(raw) if raw.get().trim() == "null" => None,
        Some(raw) => {
            let text = serde_json::from_str::<String>(raw.get())
                .ok()
                .filter(|t| t.chars().count() <= MAX_NOTE_CHARS)
                .ok_or_else(|| Refusal::invalid("note"))?;
            let text = text.trim().to_string();
            (!text.is_empty()).then_some(text)
        }
    };
    Ok(Family::Transfer(Transfer::Chat { visitor, to, note }))
}

pub const TO_SELF: Refusal = Refusal::fixed(
    Code::InvalidField,
    "You cannot transfer a chat to yourself.",
);

#[derive(Serialize)]
struct Transferred<'a> {
    content: &'static str,
    from: &'a StaffId,
    to: &'a StaffId,
    from_name: &'a str,
    to_name: &'a str,
    /// Whether a note came with it. The note itself is for the colleague only: it travels in
    /// `chat_transferred_to_you` and is never stored where the visitor can read it (history,
    /// `visitor_init`, `sync`, REST).
    with_note: bool,
}

impl Transfer {
    pub fn apply(self, s: &mut LiveState, by: &Sender, now: i64) -> Plan {
        let staff = match by.staff() {
            Ok(st) => st,
            Err(refused) => return Plan::err(refused),
        };
        match self {
            Transfer::Chat { visitor, to, note } => {
                transfer(s, staff, by.conn, &visitor, &to, note.as_deref(), now)
            }
        }
    }
}

fn transfer(
    s: &mut LiveState,
    by: &Staff,
    by_conn: ConnId,
    vid: &VisitorId,
    to: &StaffId,
    note: Option<&str>,
    now: i64,
) -> Plan {
    let Some(chat) = s.rooms.get(vid) else {
        return Plan::err(say::CLOSED);
    };
    // From the sender if they serve it; a supervisor or admin moves it from its serving staff.
    let from_id = if chat.is_served_by(&by.id) {
        by.id.clone()
    } else if by.role_id.is_supervisor() {
        match chat.serving().first() {
            Some(first) => first.clone(),
            None => return Plan::err(say::NOT_CLAIMED),
        }
    } else {
        return Plan::err(say::NOT_IN_ROOM);
    };
    if *to == by.id {
        return Plan::err(TO_SELF);
    }
    // Only a connected staff member (a visitor's id is no staff member's).
    let (Some(target), Some(target_conn)) = (s.roster.staff(to).cloned(), s.roster.staff_conn(to))
    else {
        return Plan::err(say::STAFF_NOT_ONLINE);
    };
    if chat.is_served_by(to) {
        return Plan::err(say::STAFF_ALREADY_IN);
    }
    let Some(from) = s.roster.staff(&from_id).cloned() else {
        return Plan::err(say::STAFF_NOT_ONLINE);
    };
    let chat_id = chat.chat_id.clone();
    if let Some(c) = s.rooms.get_mut(vid) {
        // A person decided: automatic routing of this chat is over.
        c.route = Default::default();
    }
    let mut plan = Plan::ok();
    s.unjoin(&mut plan, &from.id, vid, now);
    s.join(&mut plan, &target.id, vid, now);
    let record = Transferred {
        content: "transfer",
        from: &from.id,
        to: &target.id,
        from_name: shown_name(&from),
        to_name: shown_name(&target),
        with_note: note.is_some(),
    };
    s.system_message_with(&mut plan, vid, Some(&by.id), system_payload(&record), now);
    s.hook(&mut plan, Event::ChatClaimed, vid, now, || {
        vec![("staff", hook_staff(&target))]
    });

    let (fj, tj) = (raw(&from), raw(&target));
    let history = plan.load_messages(&chat_id);
    s.tell(
        &mut plan,
        Audience::Conn(target_conn),
        Out::ChatTransferredToYou,
        vec![
            ("visitor", s.room(vid)),
            ("contents", Part::Messages(vec![history])),
            ("from", fj.clone()),
            ("note", raw(&note)),
        ],
    );
    s.tell(
        &mut plan,
        Audience::Visitor(vid),
        Out::ChatTransferred,
        vec![("from", fj.clone()), ("to", tj.clone())],
    );
    // The staff member it was taken from, and supervisors and admins: not the new one (told
    // above), nor the sender (the ack says it).
    let mut staff_side = s.audience(Audience::Supervisors(Some(&target.id)));
    if let Some(c) = s.roster.staff_conn(&from.id) {
        if !staff_side.contains(&c) {
            staff_side.push(c);
        }
    }
    staff_side.retain(|c| *c != by_conn);
    s.tell(
        &mut plan,
        Audience::Listed(&staff_side),
        Out::ChatTransferred,
        vec![("from", fj), ("to", tj), ("visitor", s.room(vid))],
    );
    plan
}
