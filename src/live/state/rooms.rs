//! Rooms: the open chats (keyed by their visitor: a visitor has at most one open chat) and who
//! serves them. `open`, `join`, `leave` and `close` are the only ways to change who serves
//! what, and they keep both directions of it in step: the chat's serving list and each staff
//! member's list of rooms. A staff member watching a chat (`watch`) never also serves it.

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
    /// The highest `sequence_num` read by the visitor and by staff (`message_read`).
    pub read: Read,
    /// At least the chat's highest `sequence_num` (each planned message counts; a resend that
    /// is stored once counts too, so it may run ahead): a read beyond it is refused.
    pub last_seq: i64,
    /// When either side last wrote (ms): inactivity counts from here.
    pub last_activity: i64,
    /// The inactivity warning was sent for the current idle spell.
    pub warned: bool,
    /// Supervisors and admins watching it (`watch_chat`): they hear what its serving staff
    /// hear without serving it.
    pub watchers: Vec<StaffId>,
}

/// Read pointers of a chat (product.md §8.6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Read {
    pub visitor: i64,
    pub staff: i64,
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
            read: Read::default(),
            last_seq: 0,
            last_activity: queued_at,
            warned: false,
            watchers: vec![],
        }
    }

    pub fn serving(&self) -> &[StaffId] {
        &self.serving
    }

    pub fn is_served_by(&self, sid: &str) -> bool {
        self.serving.iter().any(|s| s == sid)
    }

    pub fn is_watched_by(&self, sid: &str) -> bool {
        self.watchers.iter().any(|s| s == sid)
    }

    /// One more message planned in it; `activity`: written by a party (not a system line),
    /// which restarts the inactivity count.
    pub fn counted(&mut self, activity: bool, now: i64) {
        self.last_seq += 1;
        if activity {
            self.last_activity = now;
            self.warned = false;
        }
    }
}

#[derive(Default)]
pub struct Rooms {
    chats: HashMap<VisitorId, Chat>,
    /// Each open chat's visitor, by chat id.
    by_chat: HashMap<ChatId, VisitorId>,
    /// The rooms each staff member serves, in the order joined.
    by_staff: HashMap<StaffId, Vec<VisitorId>>,
    /// Each visitor's chat that ended during this run and is not rated yet (`rate_chat`);
    /// dropped when they open another chat or go away.
    ended: HashMap<VisitorId, ChatId>,
}

impl Rooms {
    /// Opens a chat; `serving` (after a restart) are the staff already in it.
    pub fn open(&mut self, chat: Chat, serving: Vec<StaffId>) {
        let vid = chat.visitor.id.clone();
        self.ended.remove(&vid);
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
        // Serving it, they no longer just watch it (and never hear an event twice).
        chat.watchers.retain(|w| w != sid);
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
        self.ended.insert(vid.clone(), chat.chat_id.clone());
        for sid in &chat.serving {
            self.unindex(sid, vid);
        }
        Some(chat)
    }

    /// The visitor's ended chat they may still rate, taken (it can be rated once).
    pub fn take_rateable(&mut self, vid: &str) -> Option<ChatId> {
        self.ended.remove(vid)
    }

    /// The visitor went away: nothing of theirs is kept.
    pub fn forget_visitor(&mut self, vid: &str) {
        self.ended.remove(vid);
    }

    /// A supervisor or admin starts watching an open chat; `false` if it is not open.
    pub fn watch(&mut self, vid: &str, sid: &StaffId) -> bool {
        match self.chats.get_mut(vid) {
            Some(c) if !c.is_watched_by(sid) => {
                c.watchers.push(sid.clone());
                true
            }
            _ => false,
        }
    }

    /// Stops watching; `false` if they were not.
    pub fn unwatch(&mut self, vid: &str, sid: &str) -> bool {
        match self.chats.get_mut(vid) {
            Some(c) if c.is_watched_by(sid) => {
                c.watchers.retain(|w| w != sid);
                true
            }
            _ => false,
        }
    }

    /// A staff member went away: they watch nothing any more.
    pub fn unwatch_all(&mut self, sid: &str) {
        for c in self.chats.values_mut() {
            c.watchers.retain(|w| w != sid);
        }
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
