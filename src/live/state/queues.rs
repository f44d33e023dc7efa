//! Queues: positions and estimated waits for waiting visitors, the periodic tick, restoring open chats at start, and the counts for `/metrics`.
//! One `impl LiveState` block of the rules in `live/state.rs` (the state and its helpers live there).

use super::*;

impl LiveState {
    pub(super) fn estimate(&self, position: usize) -> Value {
        let staff_online = self.staff.values().filter(|e| e.conn.is_some()).count();
        if staff_online == 0 {
            return Value::Null;
        }
        json!((position as f64 * self.avg_wait_secs / staff_online as f64).ceil() as i64)
    }

    pub(super) fn tell_position(&mut self, plan: &mut Plan, vid: &str) {
        let Some(pos) = self.unclaimed.iter().position(|v| v == vid).map(|i| i + 1) else {
            return;
        };
        let Some(conn) = self.visitors.get(vid).and_then(|e| e.conn) else {
            return;
        };
        let estimate = self.estimate(pos);
        if let Some(chat) = self.chats.get_mut(vid) {
            if chat.told_position == Some(pos) {
                return;
            }
            chat.told_position = Some(pos);
        }
        plan.send(
            vec![conn],
            "queue_position",
            vec![
                ("position", j(json!(pos))),
                ("estimated_wait_seconds", j(estimate)),
            ],
        );
    }

    /// Tells every waiting visitor whose place in the queue changed (run on a timer, so a burst
    /// of claims costs one pass).
    pub fn tick(&mut self) -> Plan {
        let mut plan = Plan::default();
        if !self.positions_dirty {
            return plan;
        }
        self.positions_dirty = false;
        for vid in self.unclaimed.clone() {
            self.tell_position(&mut plan, &vid);
        }
        plan
    }

    // ----- restart -----------------------------------------------------------------------

    /// Takes back the open chats after a restart. Nobody is connected yet: unclaimed chats
    /// become offline unclaimed chats; serving staff and their visitors get the restart grace.
    pub fn restore(&mut self, chats: Vec<RestoredChat>, now: i64) -> Plan {
        let mut plan = Plan::default();
        let grace = self.cfg.restart_grace;
        for c in chats {
            let vid = c.visitor.id.clone();
            let status = c.status;
            self.chats.insert(
                vid.clone(),
                Chat {
                    chat_id: c.chat_id,
                    visitor: c.visitor.clone(),
                    status,
                    serving: c.staff.iter().map(|s| s.id.clone()).collect(),
                    severity_level: c.severity_level,
                    flagged_at: c.flagged_at,
                    tags: c.tags,
                    queued_at: c.queued_at,
                    told_position: None,
                },
            );
            match status {
                ChatStatus::Unclaimed => {
                    // `set_status` moves it from the unclaimed list it is not in yet: add first.
                    self.unclaimed.push(vid.clone());
                    self.set_status(&mut plan, &vid, ChatStatus::Offline, now);
                }
                ChatStatus::Offline => self.offline.push(vid.clone()),
                ChatStatus::Claimed => {
                    for s in c.staff {
                        let e = self
                            .staff
                            .entry(s.id.clone())
                            .or_insert_with(|| StaffEntry {
                                staff: s.clone(),
                                conn: None,
                                epoch: 1,
                                rooms: vec![],
                            });
                        e.rooms.push(vid.clone());
                    }
                    self.visitors.insert(
                        vid.clone(),
                        VisitorEntry {
                            visitor: c.visitor,
                            conn: None,
                            epoch: 1,
                        },
                    );
                    plan.timers.push((
                        grace,
                        Timer::VisitorGone {
                            visitor_id: vid,
                            epoch: 1,
                        },
                    ));
                }
                ChatStatus::Ended => {
                    self.chats.remove(&vid);
                }
            }
        }
        self.positions_dirty = false;
        for sid in self.staff.keys() {
            plan.timers.push((
                grace,
                Timer::StaffGone {
                    staff_id: sid.clone(),
                    epoch: 1,
                },
            ));
        }
        plan
    }

    // ----- for metrics -------------------------------------------------------------------

    pub fn counts(&self) -> Counts {
        Counts {
            staff_online: self.staff.values().filter(|e| e.conn.is_some()).count(),
            visitors_online: self.visitors.values().filter(|e| e.conn.is_some()).count(),
            unclaimed: self.unclaimed.len(),
            offline: self.offline.len(),
            claimed: self
                .chats
                .values()
                .filter(|c| c.status == ChatStatus::Claimed)
                .count(),
            oldest_unclaimed_ms: self
                .unclaimed
                .first()
                .and_then(|v| self.chats.get(v))
                .map(|c| c.queued_at),
        }
    }
}
