//! Restart, the periodic tick and the `/metrics` counts.

use super::rooms::Chat;
use super::LiveState;
use crate::live::plan::*;

#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub staff_online: usize,
    pub visitors_online: usize,
    pub unclaimed: usize,
    pub offline: usize,
    pub claimed: usize,
    pub oldest_unclaimed_ms: Option<i64>,
}

impl LiveState {
    /// Takes back the open chats after a restart. Nobody is connected yet: unclaimed chats
    /// become offline unclaimed chats; serving staff and their visitors get the restart grace.
    pub fn restore(&mut self, chats: Vec<RestoredChat>, now: i64) -> Plan {
        let mut plan = Plan::default();
        let cfg = self.cfg.clone();
        let grace_of = |t: &Timer| cfg.grace(t).max(super::RESTART_GRACE_MIN);
        for c in chats {
            let vid = c.visitor.id.clone();
            let status = c.status;
            if status == ChatStatus::Ended {
                continue;
            }
            let mut chat = Chat::new(c.chat_id, c.visitor.clone(), status, c.queued_at);
            chat.severity_level = c.severity_level;
            chat.flagged_at = c.flagged_at;
            chat.tags = c.tags;
            chat.read = super::rooms::Read {
                visitor: c.visitor_read_seq,
                staff: c.staff_read_seq,
            };
            chat.last_seq = c.last_seq;
            // Idle time counts from the restart: nobody could write while it was down.
            chat.last_activity = now;
            let serving = c.staff.iter().map(|s| s.id.clone()).collect();
            self.rooms.open(chat, serving);
            self.queues.moved(&vid, None, status);
            match status {
                ChatStatus::Unclaimed => self.set_status(&mut plan, &vid, ChatStatus::Offline, now),
                ChatStatus::Claimed => {
                    self.restore_offer(&mut plan, &vid, &c.offers, now);
                    for s in &c.staff {
                        if let Some(t) = self.roster.restore_staff(s) {
                            plan.timers.push((grace_of(&t), t));
                        }
                    }
                    let t = self.roster.restore_visitor(&c.visitor);
                    plan.timers.push((grace_of(&t), t));
                }
                ChatStatus::Offline | ChatStatus::Ended => {}
            }
        }
        // Nobody is connected to be told a position.
        self.queues.take_dirty();
        plan
    }

    /// Tells every waiting visitor whose place in the queue or estimated wait changed (run on a
    /// timer, so a burst of claims costs one pass).
    pub fn tick(&mut self, now: i64) -> Plan {
        let mut plan = Plan::default();
        // Business hours just ended: the waiting visitors are told, not left waiting.
        let open = self.settings.schedule.as_ref().map(|s| s.is_open(now));
        if open != self.hours_open {
            self.hours_open = open;
            if open == Some(false) {
                self.if_nobody_available(&mut plan, now);
            }
        }
        if self.undecided_until != 0 && now >= self.undecided_until {
            // The restart grace is over: whoever is not back is not available.
            self.undecided_until = 0;
            self.if_nobody_available(&mut plan, now);
        }
        self.check_idle(&mut plan, now);
        self.check_unseen(&mut plan, now);
        if !self.queues.take_dirty() {
            return plan;
        }
        let cap = self.capacity();
        for vid in self.queues.unclaimed().to_vec() {
            self.tell_position_with(&mut plan, &vid, cap, now);
        }
        plan
    }

    pub fn counts(&self) -> Counts {
        Counts {
            staff_online: self.roster.staff_online(),
            visitors_online: self.roster.visitors_online(),
            unclaimed: self.queues.unclaimed().len(),
            offline: self.queues.offline().len(),
            claimed: self
                .rooms
                .iter()
                .filter(|(_, c)| c.status == ChatStatus::Claimed)
                .count(),
            oldest_unclaimed_ms: self
                .queues
                .unclaimed()
                .first()
                .and_then(|v| self.rooms.get(v))
                .map(|c| c.queued_at),
        }
    }
}
