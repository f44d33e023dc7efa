//! Client events: the table of every event a client may send (name, who may send it, parser),
//! one file per family holding each event's parse and decision (as mini-redis keeps one file
//! per command), and the dispatch. Both transports go through `Request::parse`; the live state
//! checks `who` in one place (`LiveState::request`) and hands the request to its family.
//!
//! Adding an event: a variant and its `parse_*`/decision in its family's file, one row in
//! `EVENTS` below (and, if it sends something new, one row in `live/outgoing.rs`).

pub mod args;
pub mod claim;
pub mod contact;
pub mod messages;
pub mod notes;
pub mod presence;
pub mod rating;
pub mod receipts;
pub mod resume;
pub mod supervision;
pub mod tagging;
pub mod transfer;
pub mod typing;
pub mod visits;

use super::plan::ConnId;
use super::plan::Plan;
use super::refusal::{Code, Refusal};
use super::state::LiveState;
use crate::model::{Staff, VisitorId};
pub use args::{check_json, content, Args, MAX_CONTENT_DEPTH};
use serde_json::value::RawValue;

/// Who may send an event; checked by `LiveState::request` before the family sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Visitor,
    Staff,
    /// Either (the family checks what else it needs, e.g. serving the room).
    Either,
}

/// Who sent an event, as the live state knows it.
#[derive(Debug, Clone)]
pub enum By {
    Visitor(VisitorId),
    Staff(Staff),
}

/// A message that arrives over HTTP rather than as an event (`LiveState::post`).
#[derive(Debug, Clone)]
pub struct Posted {
    /// 1 (a chat message) or 2 (an attachment).
    pub type_id: i64,
    pub content: std::sync::Arc<serde_json::value::RawValue>,
    pub client_msg_id: Option<String>,
}

/// The sender of an event: who, and on which connection (for answers to it alone).
#[derive(Debug, Clone)]
pub struct Sender {
    pub conn: ConnId,
    pub by: By,
}

/// One row of the table.
#[derive(Debug)]
pub struct EventSpec {
    pub name: &'static str,
    pub who: Who,
    pub parse: fn(&Args) -> Result<Family, Refusal>,
}

const fn row(
    name: &'static str,
    who: Who,
    parse: fn(&Args) -> Result<Family, Refusal>,
) -> EventSpec {
    EventSpec { name, who, parse }
}

/// Every client event (product.md §6, §8): its name, who may send it, and its parser (in its
/// family's file, next to the decision).
#[rustfmt::skip]
pub static EVENTS: &[EventSpec] = &[
    //  name                       who            parser
    row("visitor_first_msg",       Who::Visitor,  messages::parse_visitor_msg),
    row("visitor_msg_unclaimed",   Who::Visitor,  messages::parse_visitor_msg),
    row("visitor_msg",             Who::Visitor,  messages::parse_visitor_msg),
    row("visitor_leave_room",      Who::Visitor,  messages::parse_visitor_leave),
    row("staff_msg",               Who::Staff,    messages::parse_staff_msg),
    row("staff_join",              Who::Staff,    claim::parse_join),
    row("staff_leave_room",        Who::Staff,    claim::parse_leave),
    row("take_over_chat",          Who::Staff,    supervision::parse_take_over),
    row("add_staff_to_chat",       Who::Staff,    supervision::parse_add),
    row("remove_staff_from_chat",  Who::Staff,    supervision::parse_remove),
    row("change_chat_priority",    Who::Staff,    supervision::parse_priority),
    row("user_typing_send",        Who::Either,   typing::parse),
    row("user_stop_typing_send",   Who::Either,   typing::parse),
    row("set_availability",        Who::Staff,    presence::parse_set_availability),
    row("sync",                    Who::Either,   resume::parse_sync),
    row("transfer_chat",           Who::Staff,    transfer::parse_transfer),
    row("visitor_update",          Who::Visitor,  contact::parse_update),
    row("message_read",            Who::Either,   receipts::parse_read),
    row("staff_note",              Who::Staff,    notes::parse_note),
    row("watch_chat",              Who::Staff,    notes::parse_watch),
    row("unwatch_chat",            Who::Staff,    notes::parse_unwatch),
    row("tag_chat",                Who::Staff,    tagging::parse_tag),
    row("rate_chat",               Who::Visitor,  rating::parse_rate),
    row("visitor_page",            Who::Visitor,  visits::parse_page),
];

/// A parsed event, by the family that decides it.
#[derive(Debug, Clone)]
pub enum Family {
    Messages(messages::Messages),
    Claim(claim::Claim),
    Supervision(supervision::Supervision),
    Typing(typing::Typing),
    Presence(presence::Presence),
    Resume(resume::Resume),
    Transfer(transfer::Transfer),
    Contact(contact::Contact),
    Receipts(receipts::Receipts),
    Notes(notes::Notes),
    Tagging(tagging::Tagging),
    Rating(rating::Rating),
    Visits(visits::Visits),
}

/// A client event, parsed and checked, on its way to the live state.
#[derive(Debug, Clone)]
pub struct Request {
    pub spec: &'static EventSpec,
    pub body: Family,
}

impl Request {
    /// Parses event `name` with its data (`None` when the client sent none).
    pub fn parse(
        name: &str,
        data: Option<&RawValue>,
        max_content: usize,
    ) -> Result<Request, Refusal> {
        Request::parse_args(&Args {
            name,
            data,
            max_content,
            client_msg_id: None,
        })
    }

    /// Parses an event with everything the transport read beside its data.
    pub fn parse_args(args: &Args) -> Result<Request, Refusal> {
        let Some(spec) = EVENTS.iter().find(|e| e.name == args.name) else {
            let shown: String = args.name.chars().take(64).collect();
            return Err(Refusal::new(
                Code::UnknownEvent,
                format!("Unknown event: {shown}"),
            ));
        };
        Ok(Request {
            spec,
            body: (spec.parse)(args)?,
        })
    }

    pub fn who(&self) -> Who {
        self.spec.who
    }

    pub fn is_typing(&self) -> bool {
        matches!(self.body, Family::Typing(_))
    }

    /// The family decides (the sender already passed the `who` gate).
    pub fn apply(self, state: &mut LiveState, by: &Sender, now: i64) -> Plan {
        match self.body {
            Family::Messages(e) => e.apply(state, by, now),
            Family::Claim(e) => e.apply(state, by, now),
            Family::Supervision(e) => e.apply(state, by, now),
            Family::Typing(e) => e.apply(state, by),
            Family::Presence(e) => e.apply(state, by, now),
            Family::Resume(e) => e.apply(state, by),
            Family::Transfer(e) => e.apply(state, by, now),
            Family::Contact(e) => e.apply(state, by, now),
            Family::Receipts(e) => e.apply(state, by),
            Family::Notes(e) => e.apply(state, by, now),
            Family::Tagging(e) => e.apply(state, by, now),
            Family::Rating(e) => e.apply(state, by, now),
            Family::Visits(e) => e.apply(state, by, now),
        }
    }
}

impl Sender {
    /// The staff member, for events the table allows staff only.
    pub fn staff(&self) -> Result<&Staff, Refusal> {
        match &self.by {
            By::Staff(s) => Ok(s),
            By::Visitor(_) => Err(super::refusal::say::STAFF_ONLY),
        }
    }

    /// The visitor, for events the table allows visitors only.
    pub fn visitor(&self) -> Result<&VisitorId, Refusal> {
        match &self.by {
            By::Visitor(v) => Ok(v),
            By::Staff(_) => Err(super::refusal::say::VISITOR_ONLY),
        }
    }
}

#[cfg(test)]
mod tests;
