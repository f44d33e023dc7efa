//! Queues: the chats waiting to be claimed (visitor online) and the offline unclaimed chats,
//! oldest first; the positions last told to waiting visitors; the measured wait. `moved` is the
//! one way in or out, called by `LiveState::set_status` on every status change, so a chat is
//! in a queue exactly when its status says so.

use crate::live::plan::ChatStatus;
use crate::model::VisitorId;
use std::collections::{HashMap, VecDeque};

/// How many recent waits the estimate looks at, and how old they may be.
const RECENT_WAITS: usize = 20;
const RECENT_FOR_MS: i64 = 2 * 3600 * 1000;

/// An estimate as precise as it can honestly be, and only as precise as a visitor reads it
/// ("less than a minute", "about 3 minutes"): whole quarter minutes up to 2 minutes, whole
/// minutes up to 10, then five-minute steps, always rounded up. A new measured wait then moves
/// the estimates of hundreds of waiting visitors only when it changes what they would read,
/// instead of re-sending every `queue_position` after each claim.
pub fn coarse(secs: i64) -> i64 {
    let step = match secs {
        ..=120 => 15,
        121..=600 => 60,
        _ => 300,
    };
    (secs.max(1) + step - 1) / step * step
}

/// What the estimate knows of the staff side right now.
#[derive(Debug, Clone, Copy, Default)]
pub struct Capacity {
    /// Connected staff members who are available.
    pub available_agents: usize,
    /// The chats those agents could still take (`max_chats` minus what they serve).
    pub free_slots: usize,
}

/// How many offline unclaimed chats (and flagged chats) a console lists.
pub const LIST_SIZE: usize = 15;

#[derive(Default)]
pub struct Queues {
    /// Visitor ids, oldest first.
    unclaimed: Vec<VisitorId>,
    offline: Vec<VisitorId>,
    /// The queue position and estimate last told to each waiting visitor.
    told: HashMap<VisitorId, (usize, Option<i64>)>,
    /// Positions changed for visitors behind the head; told at the next tick.
    positions_dirty: bool,
    /// How long recent chats waited in the live queue before they were claimed: `(when
    /// claimed, seconds)`, newest last.
    waits: VecDeque<(i64, f64)>,
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

    /// A chat waited `secs` in the live queue before it was claimed at `now`.
    pub fn record_wait(&mut self, secs: f64, now: i64) {
        self.waits.push_back((now, secs));
        while self.waits.len() > RECENT_WAITS {
            self.waits.pop_front();
        }
        // Every waiting visitor's estimate may move.
        self.positions_dirty = true;
    }

    /// The estimated wait, in seconds, of the visitor at `position` (product.md §8.2):
    /// - `None` when it cannot be estimated: no available agent is connected, or no chat was
    ///   claimed from the live queue in the last two hours;
    /// - `w`, the median of the last 20 measured waits (entering the live queue → claimed);
    /// - `slots`, the free capacity of the available agents, but at least one per available
    ///   agent (a full agent still frees a chat now and then);
    /// - the visitors ahead are served `slots` at a time, each round in about `w`:
    ///   `w × ceil(position / slots)`, and never less than a second.
    pub fn estimate(&self, position: usize, cap: Capacity, now: i64) -> Option<i64> {
        if cap.available_agents == 0 || position == 0 {
            return None;
        }
        let mut recent: Vec<f64> = self
            .waits
            .iter()
            .filter(|(at, _)| now - at <= RECENT_FOR_MS)
            .map(|(_, secs)| *secs)
            .collect();
        if recent.is_empty() {
            return None;
        }
        recent.sort_by(f64::total_cmp);
        let w = recent[recent.len() / 2];
        let slots = cap.free_slots.max(cap.available_agents);
        let rounds = position.div_ceil(slots);
        Some(coarse((w * rounds as f64).ceil() as i64))
    }

    /// Whether this position and estimate are news to this visitor (and remembers them as
    /// told).
    pub fn tell(&mut self, vid: &VisitorId, position: usize, estimate: Option<i64>) -> bool {
        self.told.insert(vid.clone(), (position, estimate)) != Some((position, estimate))
    }

    /// Estimates change with capacity: the next tick looks at every waiting visitor.
    pub fn mark_dirty(&mut self) {
        self.positions_dirty = true;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cap(available_agents: usize, free_slots: usize) -> Capacity {
        Capacity {
            available_agents,
            free_slots,
        }
    }

    #[test]
    fn no_estimate_without_an_agent_or_a_measured_wait() {
        let mut q = Queues::default();
        assert_eq!(q.estimate(1, cap(2, 6), 0), None, "nothing measured yet");
        q.record_wait(30.0, 1_000);
        assert_eq!(q.estimate(1, cap(0, 0), 2_000), None, "nobody available");
        assert_eq!(q.estimate(1, cap(1, 3), 2_000), Some(30));
        q.record_wait(1.0, 1_500);
        assert_eq!(
            q.estimate(1, cap(1, 3), 2_000),
            Some(30),
            "median of 30 and 1"
        );
        assert_eq!(
            q.estimate(1, cap(1, 3), 1_500 + RECENT_FOR_MS + 1),
            None,
            "old waits say nothing about now"
        );
    }

    #[test]
    fn the_median_wait_per_round_of_free_slots() {
        let mut q = Queues::default();
        for secs in [10.0, 20.0, 600.0] {
            q.record_wait(secs, 0);
        }
        // Median 20 s; two free slots: positions 1-2 one round, 3-4 two, 5 three (in quarter
        // minutes).
        let e: Vec<_> = (1..=5).map(|p| q.estimate(p, cap(1, 2), 0)).collect();
        assert_eq!(e, [Some(30), Some(30), Some(45), Some(45), Some(60)]);
        // Full agents: at least one slot per available agent.
        assert_eq!(q.estimate(3, cap(3, 0), 0), Some(30));
        assert_eq!(
            q.estimate(30, cap(1, 1), 0),
            Some(600),
            "20 s x 30 = 10 min"
        );
        assert_eq!(
            q.estimate(31, cap(1, 1), 0),
            Some(900),
            "620 s: five-minute steps"
        );
    }

    #[test]
    fn coarse_rounds_up_to_what_a_visitor_reads() {
        let c: Vec<i64> = [0, 1, 15, 16, 119, 121, 599, 601].map(coarse).to_vec();
        assert_eq!(c, [15, 15, 15, 30, 120, 180, 600, 900]);
    }
}
