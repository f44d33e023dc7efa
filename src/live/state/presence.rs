//! Presence: staff and visitors connecting (`staff_init` and `visitor_init` are built here),
//! dropped sockets, and what happens when a reconnect grace runs out.

use super::roster::Attach;
use super::views::raw;
use super::LiveState;
use crate::auth::Principal;
use crate::live::plan::*;
use crate::model::{Staff, StaffId, Visitor, VisitorId};

impl LiveState {
    /// A new authenticated connection.
    pub fn connect(&mut self, conn: ConnId, who: &Principal, force: bool, now: i64) -> Plan {
        match who {
            Principal::Staff(s) => {
                let mut plan = self.connect_staff(conn, s, force);
                self.queues.mark_dirty();
                // A staff member who may take chats is here: waiting chats may go to them.
                self.route(&mut plan, now);
                plan
            }
            Principal::Visitor(v) => self.connect_visitor(conn, v, force, now),
        }
    }

    /// Whether a visitor who writes now reaches someone (product.md §8.5): within business
    /// hours (if set) and with at least one connected staff member available. The second
    /// value is when the business opens next, if business hours are why not.
    pub fn availability(&self, now: i64) -> (bool, Option<i64>) {
        if let Some(schedule) = &self.settings.schedule {
            if !schedule.is_open(now) {
                return (false, schedule.opens_at(now));
            }
        }
        if now < self.undecided_until {
            // Just restarted: the consoles are on their way back.
            return (true, None);
        }
        // Within their reconnect grace staff still count (a console reloading is not "nobody
        // here"); routing itself waits for them to be connected.
        let someone = self
            .roster
            .all_staff()
            .any(|e| e.status == crate::model::Availability::Available);
        (someone, None)
    }

    /// If nobody is available any more, the chats waiting in the live queue wait offline and
    /// their visitors are told, as if they had written just now (product.md §8.5): a visitor is
    /// never left looking at "waiting for an agent" with nobody there.
    pub(crate) fn if_nobody_available(&mut self, plan: &mut Plan, now: i64) {
        let (available, opens_at) = self.availability(now);
        if available {
            return;
        }
        for vid in self.queues.unclaimed().to_vec() {
            self.wait_offline(plan, &vid, now);
            self.tell(
                plan,
                Audience::Visitor(&vid),
                Out::NoStaffAvailable,
                vec![("opens_at", raw(&opens_at))],
            );
        }
    }

    fn connect_staff(&mut self, conn: ConnId, staff: &Staff, force: bool) -> Plan {
        let mut plan = Plan::default();
        let resumed = match self.roster.attach_staff(conn, staff, force) {
            Attach::Refused => {
                self.tell(
                    &mut plan,
                    Audience::Conn(conn),
                    Out::StaffAlreadyOnline,
                    vec![("staff", raw(staff))],
                );
                plan.closes.push(conn);
                return plan;
            }
            Attach::Attached {
                replaced,
                resumed,
                was_away,
            } => {
                plan.closes.extend(replaced);
                if was_away {
                    self.tell_staff_presence(&mut plan, staff, Out::StaffBack);
                }
                resumed
            }
        };
        self.staff_init(&mut plan, conn, &staff.id);
        if !resumed {
            self.tell(
                &mut plan,
                Audience::AllStaff(Some(&staff.id)),
                Out::StaffGoesOnline,
                vec![("staff", raw(staff))],
            );
        }
        plan
    }

    /// `staff_init`: everything a console shows, as of this point in command order.
    fn staff_init(&self, plan: &mut Plan, conn: ConnId, sid: &StaffId) {
        let mut online: Vec<_> = self.roster.all_staff().collect();
        online.sort_by(|a, b| a.staff.full_name.cmp(&b.staff.full_name));
        let online_users: Vec<_> = online.iter().map(|e| self.online_staff(e)).collect();
        let mut visitors: Vec<&Visitor> = self.roster.all_visitors().map(|e| &e.visitor).collect();
        visitors.sort_by_key(|v| v.created_at);

        // A room with its messages so far: `{visitor: room, contents}`.
        let with_contents = |plan: &mut Plan, vid: &VisitorId| -> Part {
            let contents = match self.chat_id(vid) {
                Some(chat_id) => Part::Messages(vec![plan.load_messages(&chat_id)]),
                None => Part::List(vec![]),
            };
            Part::Object(vec![("visitor", self.room(vid)), ("contents", contents)])
        };
        let rooms = |vids: &mut dyn Iterator<Item = &VisitorId>| -> Part {
            Part::List(vids.map(|v| self.room(v)).collect())
        };
        let unclaimed: Vec<Part> = self
            .queues
            .unclaimed()
            .iter()
            .map(|vid| with_contents(plan, vid))
            .collect();
        let offline = rooms(&mut self.queues.offline().iter().take(super::LIST_SIZE));
        let mut flagged: Vec<(&VisitorId, i64)> = self
            .rooms
            .iter()
            .filter(|(_, c)| c.severity_level > 0)
            .map(|(v, c)| (v, c.flagged_at.unwrap_or(0)))
            .collect();
        flagged.sort_by_key(|f| std::cmp::Reverse(f.1));
        let flagged = rooms(&mut flagged.iter().take(super::LIST_SIZE).map(|f| f.0));
        let serving: Vec<Part> = self
            .rooms
            .served_by(sid)
            .iter()
            .map(|vid| with_contents(plan, vid))
            .collect();
        let mut payload = vec![
            ("online_users", raw(&online_users)),
            ("online_visitors", raw(&visitors)),
            ("unclaimed_chats", Part::List(unclaimed)),
            ("offline_unclaimed_chats", offline),
            ("flagged_chats", flagged),
            // Beyond the seed: the chats this staff serves (a reloaded console restores them)...
            ("serving_chats", Part::List(serving)),
            // ...the canned replies and what connected visitors are looking at (§8.8)...
            ("canned_replies", self.canned_part()),
            ("visitor_pages", raw(&self.visits.for_consoles(&self.rooms))),
        ];
        // ...and, for supervisors and admins, every claimed chat with its serving staff.
        if self
            .roster
            .staff(sid)
            .is_some_and(|s| s.role_id.is_supervisor())
        {
            let mut claimed: Vec<_> = self
                .rooms
                .iter()
                .filter(|(_, c)| c.status == ChatStatus::Claimed)
                .collect();
            claimed.sort_by_key(|c| c.1.queued_at);
            payload.push(("claimed_chats", rooms(&mut claimed.iter().map(|c| c.0))));
        }
        self.tell(plan, Audience::Conn(conn), Out::StaffInit, payload);
    }

    fn connect_visitor(&mut self, conn: ConnId, visitor: &Visitor, force: bool, now: i64) -> Plan {
        let mut plan = Plan::default();
        let vid = &visitor.id;
        let resumed = match self.roster.attach_visitor(conn, visitor, force) {
            Attach::Refused => {
                self.tell(
                    &mut plan,
                    Audience::Conn(conn),
                    Out::VisitorRoomExists,
                    vec![("visitor", self.room(vid))],
                );
                plan.closes.push(conn);
                return plan;
            }
            Attach::Attached {
                replaced,
                resumed,
                was_away,
            } => {
                plan.closes.extend(replaced);
                if was_away {
                    self.tell(
                        &mut plan,
                        Audience::AllStaff(None),
                        Out::VisitorBack,
                        vec![("visitor", self.room(vid))],
                    );
                }
                resumed
            }
        };
        if let Some(chat) = self.rooms.get_mut(vid) {
            chat.visitor = visitor.clone();
        }
        self.queues.forget_told(vid);
        let contents = match self.chat_id(vid) {
            Some(chat_id) => Part::Messages(vec![plan.load_visitor_messages_after(&chat_id, 0)]),
            None => Part::List(vec![]),
        };
        let (available, opens_at) = self.availability(now);
        self.tell(
            &mut plan,
            Audience::Conn(conn),
            Out::VisitorInit,
            vec![
                ("staff", raw(&self.serving_staff(vid))),
                ("contents", contents),
                // Beyond the seed (product.md §8.5): whether anyone is there to answer.
                ("available", raw(&available)),
                ("opens_at", raw(&opens_at)),
                // ...what each side has read, and the pre-chat form (§8.6, §8.8).
                (
                    "read",
                    raw(&self.rooms.get(vid).map(|c| c.read).unwrap_or_default()),
                ),
                ("prechat", raw(&self.settings.prechat)),
            ],
        );
        if !resumed {
            self.tell(
                &mut plan,
                Audience::AllStaff(None),
                Out::VisitorGoesOnline,
                vec![("visitor", self.room(vid))],
            );
        }
        self.tell_position(&mut plan, vid, now);
        plan
    }

    /// A connection closed. Its effects wait for the reconnect grace.
    pub fn disconnect(&mut self, conn: ConnId, now: i64) -> Plan {
        let Some(timer) = self.roster.detach(conn) else {
            return Plan::default();
        };
        let grace = self.cfg.grace(&timer);
        if grace.is_zero() {
            // No grace: the disconnect takes effect now, exactly as when a grace runs out.
            return self.timer(timer, now);
        }
        let mut plan = Plan::default();
        // The others are told the party is away, not gone: its chats stay open.
        match &timer {
            Timer::StaffGone { staff_id, .. } => {
                if let Some(staff) = self.roster.staff(staff_id).cloned() {
                    self.tell_staff_presence(&mut plan, &staff, Out::StaffAway);
                }
                self.queues.mark_dirty();
            }
            Timer::VisitorGone { visitor_id, .. } => self.tell(
                &mut plan,
                Audience::AllStaff(None),
                Out::VisitorAway,
                vec![("visitor", self.room(visitor_id))],
            ),
            Timer::AssignTimeout { .. } => {}
        }
        plan.timers.push((grace, timer));
        plan
    }

    /// `staff_away` / `staff_back`: to the visitors of the chats the staff member serves and
    /// to every other console.
    fn tell_staff_presence(&self, plan: &mut Plan, staff: &Staff, event: Out) {
        let sj = raw(staff);
        self.tell(
            plan,
            Audience::VisitorsServedBy(&staff.id),
            event,
            vec![("staff", sj.clone())],
        );
        self.tell(
            plan,
            Audience::AllStaff(Some(&staff.id)),
            event,
            vec![("staff", sj)],
        );
    }

    /// A timer ran out. A grace period: if nobody came back, the disconnect takes effect. An
    /// assignment's: the agent may lose the chat. Either way, waiting chats may be routed.
    pub fn timer(&mut self, timer: Timer, now: i64) -> Plan {
        let mut plan = Plan::default();
        match timer {
            Timer::AssignTimeout {
                visitor_id,
                staff_id,
                attempt,
            } => self.assign_timeout(&mut plan, &visitor_id, &staff_id, attempt, now),
            t if !self.roster.still_away(&t) => return plan,
            Timer::StaffGone { staff_id, .. } => self.staff_gone(&mut plan, &staff_id, now),
            Timer::VisitorGone { visitor_id, .. } => self.visitor_gone(&mut plan, &visitor_id, now),
        }
        self.route(&mut plan, now);
        plan
    }

    fn staff_gone(&mut self, plan: &mut Plan, sid: &StaffId, now: i64) {
        let Some(staff) = self.roster.staff(sid).cloned() else {
            return;
        };
        for vid in self.rooms.served_by(sid).to_vec() {
            self.leave_room(plan, &staff, &vid, now);
        }
        self.roster.remove_staff(sid);
        self.rooms.unwatch_all(sid);
        self.router.forget(sid);
        self.queues.mark_dirty();
        self.if_nobody_available(plan, now);
        self.tell(
            plan,
            Audience::AllStaff(None),
            Out::StaffGoesOffline,
            vec![("staff", raw(&staff))],
        );
    }

    fn visitor_gone(&mut self, plan: &mut Plan, vid: &VisitorId, now: i64) {
        self.tell(
            plan,
            Audience::AllStaff(None),
            Out::VisitorGoesOffline,
            vec![("visitor", self.room(vid))],
        );
        match self.rooms.get(vid).map(|c| c.status) {
            Some(ChatStatus::Unclaimed) => self.wait_offline(plan, vid, now),
            Some(ChatStatus::Claimed) => self.end_by_visitor(plan, vid, now),
            _ => {}
        }
        self.roster.remove_visitor(vid);
        self.rooms.forget_visitor(vid);
        self.visits.forget(vid);
    }
}
