//! Queues: the chats waiting to be claimed (visitor online) and the offline unclaimed chats,
//! oldest first; the positions last told to waiting visitors; the measured wait. `moved` is the
//! one way in or out, called by `LiveState::set_status` on every status change, so a chat is
//! in a queue exactly when its status says so.

use crate::live::plan::ChatStatus;
use crate::model::VisitorId;
use std::collections::HashMap;

/// How many offline unclaimed chats (and flagged chats) a console lists.
pub const LIST_SIZE: usize = 15;

pub struct Queues {
    /// Visitor ids, oldest first.
    unclaimed: Vec<VisitorId>,
    offline: Vec<VisitorId>,
    /// The queue position last told to each waiting visitor.
    told: HashMap<VisitorId, usize>,
    /// Positions changed for visitors behind the head; told at the next tick.
    positions_dirty: bool,
    /// Moving average of how long a chat waits to be claimed, in seconds.
    avg_wait_secs: f64,
}

impl Default for Queues {
    fn default() -> Queues {
        Queues {
            unclaimed: Vec::new(),
            offline: Vec::new(),
            told: HashMap::new(),
            positions_dirty: false,
            avg_wait_secs: 60.0,
        }
    }
}

impl Queues {
    /// A chat's status changed from `was` (`None`: a new chat) to `now`.
    pub fn moved(&mut self, vid: &VisitorId, was: Option<ChatStatus>, now: ChatStatus) {
        self.told.remove(vid);
        if was == Some(now) {
            return;
        }
        match was {
            Some(ChatStatus::Unclaimed) => {
                if let Some(i) = self.unclaimed.iter().position(|v| v == vid) {
                    self.unclaimed.remove(i);
                    // Everyone behind it moved up.
                    if i < self.unclaimed.len() {
                        self.positions_dirty = true;
                    }
                }
            }
            Some(ChatStatus::Offline) => self.offline.retain(|v| v != vid),
            _ => {}
        }
        match now {
            ChatStatus::Unclaimed => self.unclaimed.push(vid.clone()),
            ChatStatus::Offline => self.offline.push(vid.clone()),
            _ => {}
        }
    }

    pub fn unclaimed(&self) -> &[VisitorId] {
        &self.unclaimed
    }

    pub fn offline(&self) -> &[VisitorId] {
        &self.offline
    }

    /// 1-based place in the live queue.
    pub fn position(&self, vid: &str) -> Option<usize> {
        self.unclaimed.iter().position(|v| v == vid).map(|i| i + 1)
    }

    /// A console lists `LIST_SIZE` offline chats: when `vid` leaves that list, the one that
    /// moves up into it.
    pub fn next_offline_if_listed_leaves(&self, vid: &str) -> Option<VisitorId> {
        match self.offline.iter().position(|v| v == vid) {
            Some(i) if i < LIST_SIZE => self.offline.get(LIST_SIZE).cloned(),
            _ => None,
        }
    }

    /// A chat waited this long before it was claimed.
    pub fn record_wait(&mut self, secs: f64) {
        self.avg_wait_secs = 0.8 * self.avg_wait_secs + 0.2 * secs;
    }

    /// Seconds a visitor at `position` may wait with `staff_online` staff, or `None` when
    /// nobody is online to estimate from.
    pub fn estimate(&self, position: usize, staff_online: usize) -> Option<i64> {
        if staff_online == 0 {
            return None;
        }
        Some((position as f64 * self.avg_wait_secs / staff_online as f64).ceil() as i64)
    }

    /// Whether `position` is news to this visitor (and remembers it as told).
    pub fn tell(&mut self, vid: &VisitorId, position: usize) -> bool {
        self.told.insert(vid.clone(), position) != Some(position)
    }

    /// Forget what this visitor was told (they reconnected: tell again).
    pub fn forget_told(&mut self, vid: &str) {
        self.told.remove(vid);
    }

    /// Whether positions changed since the last call.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.positions_dirty)
    }
}
