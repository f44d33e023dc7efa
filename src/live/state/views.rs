//! Payload views: the objects of product.md §5 as the live state shows them, serialisable
//! structs rendered once per plan (no `Value` trees, no hand-assembled JSON).

use super::roster::{Availability, StaffEntry};
use super::LiveState;
use crate::live::plan::Part;
use crate::model::{ChatId, Staff, Visitor, VisitorId};
use serde::Serialize;
use serde_json::value::RawValue;
use std::sync::Arc;

/// A payload part rendered once, straight from our own types.
pub fn raw<T: Serialize + ?Sized>(v: &T) -> Part {
    match serde_json::value::to_raw_value(v) {
        Ok(raw) => Part::Raw(Arc::from(raw)),
        Err(_) => Part::Raw(null()),
    }
}

fn null() -> Arc<RawValue> {
    Arc::from(RawValue::NULL.to_owned())
}

/// The "room" object of product.md §5: the visitor merged with its open chat and the staff
/// serving it, and what each side has read.
#[derive(Serialize)]
pub struct RoomView<'a> {
    #[serde(flatten)]
    visitor: &'a Visitor,
    visitor_id: &'a VisitorId,
    chat_id: Option<&'a ChatId>,
    severity_level: i64,
    tags: &'a [String],
    staff: Option<&'a Staff>,
    /// What each side has read (product.md §8.6): the console's unread counts. Left out of the
    /// room in per-message events (`LiveState::message_room`).
    #[serde(skip_serializing_if = "Option::is_none")]
    read: Option<super::rooms::Read>,
}

/// An online staff member in `staff_init`: the staff object with availability and load
/// (product.md §8.3).
#[derive(Serialize)]
pub struct OnlineStaff<'a> {
    #[serde(flatten)]
    staff: &'a Staff,
    status: Availability,
    pub active_chats: usize,
    pub max_chats: u32,
    /// `false` while within the reconnect grace (their connection dropped).
    connected: bool,
}

/// `queue_position`'s payload.
#[derive(Serialize)]
pub struct QueuePosition {
    pub position: usize,
    pub estimated_wait_seconds: Option<i64>,
}

/// A system message's content from a struct (`{"content": "assigned", "staff": …}`).
pub fn system_payload<T: Serialize>(v: &T) -> Arc<RawValue> {
    serde_json::value::to_raw_value(v)
        .map(Arc::from)
        .unwrap_or_else(|_| null())
}

/// A system message's content, `{"content": text}`.
pub fn system_content(text: &str) -> Arc<RawValue> {
    #[derive(Serialize)]
    struct System<'a> {
        content: &'a str,
    }
    serde_json::value::to_raw_value(&System { content: text })
        .map(Arc::from)
        .unwrap_or_else(|_| null())
}

impl LiveState {
    /// The serving staff of a chat (the first one), if online or within the grace.
    pub fn serving_staff(&self, vid: &str) -> Option<&Staff> {
        self.rooms
            .get(vid)
            .and_then(|c| c.serving().first())
            .and_then(|s| self.roster.staff(s))
    }

    pub fn room_view(&self, vid: &str) -> Option<RoomView<'_>> {
        let chat = self.rooms.get(vid);
        let visitor = chat
            .map(|c| &c.visitor)
            .or_else(|| self.roster.visitor(vid))?;
        Some(RoomView {
            visitor,
            visitor_id: &visitor.id,
            chat_id: chat.map(|c| &c.chat_id),
            severity_level: chat.map_or(0, |c| c.severity_level),
            tags: chat.map_or(&[], |c| c.tags.as_slice()),
            staff: self.serving_staff(vid),
            read: Some(chat.map(|c| c.read).unwrap_or_default()),
        })
    }

    /// The room object rendered for a payload (`null` if the room is unknown).
    pub fn room(&self, vid: &str) -> Part {
        match self.room_view(vid) {
            Some(r) => raw(&r),
            None => Part::Raw(null()),
        }
    }

    /// The room as the events of each message carry it (`visitor_send`,
    /// `visitor_unclaimed_msg`, `new_*_msg_for_supervisor`): without `read`. Whoever hears
    /// them got the room with its read pointers first (`staff_init`, the claim, the
    /// assignment, the watch) and follows them with `message_seen`; this is the hottest
    /// payload, rendered for every message.
    pub fn message_room(&self, vid: &str) -> Part {
        match self.room_view(vid) {
            Some(r) => raw(&RoomView { read: None, ..r }),
            None => Part::Raw(null()),
        }
    }

    pub fn online_staff<'a>(&'a self, e: &'a StaffEntry) -> OnlineStaff<'a> {
        OnlineStaff {
            staff: &e.staff,
            status: e.status,
            active_chats: self.rooms.served_by(&e.staff.id).len(),
            max_chats: e.staff.max_chats,
            connected: e.conn.is_some(),
        }
    }
}
