//! Rooms: the open chats (keyed by their visitor: a visitor has at most one open chat) and who
//! serves them. `open`, `join`, `leave` and `close` are the only ways to change who serves
//! what, and they keep both directions of it in step: the chat's serving list and each staff
//! member's list of rooms.

use crate::live::plan::ChatStatus;
use crate::model::{ChatId, StaffId, Visitor, VisitorId};
use std::collections::HashMap;

/// An open chat.
#[derive(Debug)]
pub struct Chat {
    pub chat_id: ChatId,
    pub visitor: Visitor,
    /// Changed only by `LiveState::set_status`, which keeps the queues in step.
    pub status: ChatStatus,
    /// Staff ids serving the chat; the first one is "the" serving staff.
    serving: Vec<StaffId>,
    pub severity_level: i64,
    pub flagged_at: Option<i64>,
    pub tags: Vec<String>,
    /// When it entered its current (or last) queue.
    pub queued_at: i64,
    /// Its automatic routing so far (`state/routing.rs`).
    pub route: super::routing::Route,
}

impl Chat {
    pub fn new(chat_id: ChatId, visitor: Visitor, status: ChatStatus, queued_at: i64) -> Chat {
        Chat {
            chat_id,
            visitor,
            status,
            serving: vec![],
            severity_level: 0,
            flagged_at: None,
            tags: vec![],
            queued_at,
            route: Default::default(),
        }
    }

    pub fn serving(&self) -> &[StaffId] {
        &self.serving
    }

    pub fn is_served_by(&self, sid: &str) -> bool {
        self.serving.iter().any(|s| s == sid)
    }
}

#[derive(Default)]
pub struct Rooms {
    chats: HashMap<VisitorId, Chat>,
    /// Each open chat's visitor, by chat id.
    by_chat: HashMap<ChatId, VisitorId>,
    /// The rooms each staff member serves, in the order joined.
    by_staff: HashMap<StaffId, Vec<VisitorId>>,
}

impl Rooms {
    /// Opens a chat; `serving` (after a restart) are the staff already in it.
    pub fn open(&mut self, chat: Chat, serving: Vec<StaffId>) {
        let vid = chat.visitor.id.clone();
        self.by_chat.insert(chat.chat_id.clone(), vid.clone());
        if let Some(old) = self.chats.insert(vid.clone(), chat) {
            // Never happens (a visitor has one open chat), but the index must not keep it.
            self.by_chat.remove(&old.chat_id);
        }
        for sid in serving {
            self.join(&sid, &vid);
        }
    }

    pub fn get(&self, vid: &str) -> Option<&Chat> {
        self.chats.get(vid)
    }

    pub fn get_mut(&mut self, vid: &str) -> Option<&mut Chat> {
        self.chats.get_mut(vid)
    }

    /// The open chat with this id.
    pub fn by_chat_id(&self, chat_id: &str) -> Option<&Chat> {
        self.by_chat.get(chat_id).and_then(|v| self.chats.get(v))
    }

    pub fn contains(&self, vid: &str) -> bool {
        self.chats.contains_key(vid)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&VisitorId, &Chat)> {
        self.chats.iter()
    }

    /// `sid` now serves the room. `false` if there is no such chat or it already does.
    pub fn join(&mut self, sid: &StaffId, vid: &VisitorId) -> bool {
        let Some(chat) = self.chats.get_mut(vid) else {
            return false;
        };
        if chat.is_served_by(sid) {
            return false;
        }
        chat.serving.push(sid.clone());
        self.by_staff
            .entry(sid.clone())
            .or_default()
            .push(vid.clone());
        true
    }

    /// `sid` no longer serves the room. `false` if it did not.
    pub fn leave(&mut self, sid: &StaffId, vid: &VisitorId) -> bool {
        let Some(chat) = self.chats.get_mut(vid) else {
            return false;
        };
        let before = chat.serving.len();
        chat.serving.retain(|s| s != sid);
        if chat.serving.len() == before {
            return false;
        }
        self.unindex(sid, vid);
        true
    }

    /// The chat is over: it leaves the rooms, and its staff stop serving it.
    pub fn close(&mut self, vid: &VisitorId) -> Option<Chat> {
        let chat = self.chats.remove(vid)?;
        self.by_chat.remove(&chat.chat_id);
        for sid in &chat.serving {
            self.unindex(sid, vid);
        }
        Some(chat)
    }

    /// The rooms a staff member serves, in the order joined.
    pub fn served_by(&self, sid: &str) -> &[VisitorId] {
        self.by_staff.get(sid).map_or(&[], Vec::as_slice)
    }

    fn unindex(&mut self, sid: &StaffId, vid: &VisitorId) {
        if let Some(rooms) = self.by_staff.get_mut(sid) {
            rooms.retain(|v| v != vid);
            if rooms.is_empty() {
                self.by_staff.remove(sid);
            }
        }
    }
}
