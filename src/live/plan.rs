//! What the live state decides: a `Plan` per command. Pure data — who gets which event with
//! which payload, what to write, which connections to close, which timers to set — so the rules
//! can be tested without sockets or a database. `live::actor` carries plans out.

pub use super::outgoing::{Audience, Out};
pub use super::refusal::{say, Code, Refusal};
use crate::model::{ChatId, StaffId, VisitorId};
pub use crate::store::ops::{ChatStatus, DbOp, NewMessage, RestoredChat};
use serde_json::value::RawValue;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// A live connection (one socket of either transport).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// The answer to a client event: `(true, null)` or `(false, sentence)` with its code.
pub type Reply = Result<(), Refusal>;

/// A part of an event payload. Messages are only known after the commit (the writer assigns
/// `sequence_num`), so payloads refer to them by slot.
#[derive(Debug, Clone)]
pub enum Part {
    Json(Value),
    /// JSON already rendered (shared by every send of a plan that carries it).
    Raw(Arc<RawValue>),
    /// The message inserted in this slot.
    Message(usize),
    /// A list made of these slots, each a message or a loaded history, flattened in order.
    Messages(Vec<usize>),
    /// A nested object (e.g. `{visitor, contents}` entries of `staff_init`).
    Object(Vec<(&'static str, Part)>),
    List(Vec<Part>),
}

/// An event payload: a JSON object with these keys in this order.
#[derive(Debug, Clone)]
pub struct Payload(pub Vec<(&'static str, Part)>);

#[cfg(test)]
impl Payload {
    pub fn get(&self, key: &str) -> Option<&Part> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, p)| p)
    }
    /// The JSON value of a key (test helper; `None` for message parts).
    pub fn json(&self, key: &str) -> Option<Value> {
        match self.get(key) {
            Some(Part::Json(v)) => Some(v.clone()),
            Some(Part::Raw(r)) => serde_json::from_str(r.get()).ok(),
            Some(Part::List(items)) => items
                .iter()
                .map(|p| match p {
                    Part::Raw(r) => serde_json::from_str(r.get()).ok(),
                    Part::Json(v) => Some(v.clone()),
                    _ => None,
                })
                .collect::<Option<Vec<Value>>>()
                .map(Value::Array),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Send {
    pub to: Vec<ConnId>,
    pub event: Out,
    pub payload: Payload,
}

/// Timers the live state asks for; they come back as commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timer {
    StaffGone {
        staff_id: StaffId,
        epoch: u64,
    },
    VisitorGone {
        visitor_id: VisitorId,
        epoch: u64,
    },
    /// An automatically assigned chat's agent has had `assign_timeout_secs` to answer; the
    /// `attempt`-th offer of the chat.
    AssignTimeout {
        visitor_id: VisitorId,
        staff_id: StaffId,
        attempt: usize,
    },
}

#[derive(Debug, Default)]
pub struct Plan {
    /// The answer to the command's sender, if it asked.
    pub reply: Option<Reply>,
    pub ops: Vec<DbOp>,
    pub sends: Vec<Send>,
    /// Connections to close after their sends.
    pub closes: Vec<ConnId>,
    pub timers: Vec<(Duration, Timer)>,
    /// Emails to send once the plan is committed (src/email/).
    pub notices: Vec<crate::email::Notice>,
    /// Web pushes to send once the plan is committed (src/push/).
    pub pushes: Vec<crate::push::Push>,
    /// Webhook events to hand to the sender once the plan is committed (src/webhooks/).
    pub hooks: Vec<crate::webhooks::Fire>,
    slots: usize,
}

impl Plan {
    pub fn ok() -> Plan {
        Plan {
            reply: Some(Ok(())),
            ..Default::default()
        }
    }

    pub fn err(why: Refusal) -> Plan {
        Plan {
            reply: Some(Err(why)),
            ..Default::default()
        }
    }

    /// Queues `event` for these connections (resolved from an `Audience` by
    /// `LiveState::tell`, the one place that sends).
    pub fn send(&mut self, to: Vec<ConnId>, event: Out, payload: Vec<(&'static str, Part)>) {
        if !to.is_empty() {
            self.sends.push(Send {
                to,
                event,
                payload: Payload(payload),
            });
        }
    }

    pub fn op(&mut self, op: DbOp) {
        self.ops.push(op);
    }

    /// Stores a message; returns the slot its stored form will be in.
    pub fn insert_message(&mut self, message: NewMessage) -> usize {
        let slot = self.next_slot();
        self.ops.push(DbOp::InsertMessage { slot, message });
        slot
    }

    /// Loads a chat's messages (as of this point of the transaction) into a slot.
    pub fn load_messages(&mut self, chat_id: &ChatId) -> usize {
        self.load_messages_after(chat_id, 0)
    }

    /// Loads a chat's messages with `sequence_num` above `after` into a slot.
    pub fn load_messages_after(&mut self, chat_id: &ChatId, after: i64) -> usize {
        self.load(chat_id, after, true)
    }

    /// The same as a visitor may see them: without internal notes.
    pub fn load_visitor_messages_after(&mut self, chat_id: &ChatId, after: i64) -> usize {
        self.load(chat_id, after, false)
    }

    fn load(&mut self, chat_id: &ChatId, after: i64, notes: bool) -> usize {
        let slot = self.next_slot();
        self.ops.push(DbOp::LoadMessages {
            slot,
            chat_id: chat_id.clone(),
            after,
            notes,
        });
        slot
    }

    /// How many slots the writer must fill.
    pub fn slot_count(&self) -> usize {
        self.slots
    }

    fn next_slot(&mut self) -> usize {
        self.slots += 1;
        self.slots - 1
    }

    #[cfg(test)]
    /// Events sent to `conn`, in order (test helper).
    pub fn events_for(&self, conn: ConnId) -> Vec<&'static str> {
        self.sends
            .iter()
            .filter(|s| s.to.contains(&conn))
            .map(|s| s.event.name())
            .collect()
    }

    #[cfg(test)]
    /// The first send of `event` (test helper).
    pub fn find(&self, event: &str) -> Option<&Send> {
        self.sends.iter().find(|s| s.event.name() == event)
    }
}
