//! Automatic routing (product.md §8.3, seed `002`'s `searchAgent`, `assignTimeout`,
//! `assignMaxAttempts`): with the setting `routing` at `round_robin` or `least_busy`, a chat
//! waiting in the live queue is given to a connected, available staff member with free
//! capacity, exactly as if they had claimed it, and they get `chat_assigned`. An agent who
//! writes nothing in it within `assign_timeout_secs` loses it to the next one; after
//! `assign_max_attempts` offers it just waits (manual claims always work). When capacity frees
//! up, the oldest waiting chat goes first. Each step is a system message in the chat.
//!
//! The decision — who gets a chat — is `choose`, a pure function of the candidates, the chat's
//! route and the `Router`'s memory, unit-tested below without any state or socket. `route`
//! runs after every command that may have changed a queue or a capacity; in `manual` mode it
//! costs one comparison.

use super::views::{raw, system_payload};
use super::LiveState;
use crate::live::plan::*;
use crate::model::{Availability, Staff, StaffId, VisitorId};
use crate::settings::RoutingMode;
use crate::store::ops::Offer;
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

/// A chat's automatic routing so far.
#[derive(Debug, Clone, Default)]
pub struct Route {
    /// The staff it was offered to, in order (each at most once).
    pub tried: Vec<StaffId>,
    /// Offered to this staff member, who has not written in it yet.
    pub pending: Option<StaffId>,
    /// The offers ran out: it waits for a manual claim.
    pub gave_up: bool,
}

/// What routing remembers across chats: who got the last chat (round robin) and when each
/// staff member last got one (least busy's tie-break).
#[derive(Debug, Default)]
pub struct Router {
    last: Option<StaffId>,
    assigned_at: HashMap<StaffId, i64>,
}

/// A staff member who may get a chat now: connected, available, with free capacity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: StaffId,
    pub active: usize,
}

impl Router {
    fn note(&mut self, sid: &StaffId, now: i64) {
        self.last = Some(sid.clone());
        self.assigned_at.insert(sid.clone(), now);
    }

    /// Forget a staff member who went offline (their turn and tie-break start afresh).
    pub fn forget(&mut self, sid: &str) {
        self.assigned_at.remove(sid);
    }
}

/// Who gets the chat: of `candidates` (sorted by id: the fixed round-robin order), those it
/// was not offered to yet; `round_robin` takes the first after the last one assigned (wrapping
/// round), `least_busy` the one with the fewest active chats, then the one who got a chat
/// longest ago, then by id. `None` in `manual` mode or when nobody is left.
pub fn choose(
    mode: RoutingMode,
    candidates: &[Candidate],
    route: &Route,
    router: &Router,
) -> Option<StaffId> {
    let mut open = candidates
        .iter()
        .filter(|c| !route.tried.contains(&c.id))
        .peekable();
    open.peek()?;
    match mode {
        RoutingMode::Manual => None,
        RoutingMode::RoundRobin => {
            let open: Vec<&Candidate> = open.collect();
            let after = router.last.as_ref();
            open.iter()
                .find(|c| after.is_some_and(|l| c.id > *l))
                .or_else(|| open.first())
                .map(|c| c.id.clone())
        }
        RoutingMode::LeastBusy => open
            .min_by_key(|c| {
                (
                    c.active,
                    router.assigned_at.get(&c.id).copied().unwrap_or(i64::MIN),
                    c.id.clone(),
                )
            })
            .map(|c| c.id.clone()),
    }
}

#[derive(Serialize)]
struct Assigned<'a> {
    content: &'static str,
    staff: &'a StaffId,
    name: &'a str,
    routing: RoutingMode,
    attempt: usize,
}

#[derive(Serialize)]
struct TimedOut<'a> {
    content: &'static str,
    staff: &'a StaffId,
    name: &'a str,
    after_secs: u64,
}

/// Why an offer was taken back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TakeBack {
    /// No answer within `assign_timeout_secs`.
    Timeout,
    /// The agent left it (`staff_leave_room`) before answering.
    Declined,
}

impl TakeBack {
    fn content(self) -> &'static str {
        match self {
            TakeBack::Timeout => "assign_timeout",
            TakeBack::Declined => "assign_declined",
        }
    }
    fn reason(self) -> &'static str {
        match self {
            TakeBack::Timeout => "timeout",
            TakeBack::Declined => "declined",
        }
    }
}

#[derive(Serialize)]
struct GaveUp {
    content: &'static str,
    attempts: usize,
}

/// The name a visitor or colleague sees for a staff member.
pub fn shown_name(s: &Staff) -> &str {
    s.display_name.as_deref().unwrap_or(&s.full_name)
}

impl LiveState {
    /// The staff who may get a chat now, sorted by id.
    pub fn candidates(&self) -> Vec<Candidate> {
        let mut out: Vec<Candidate> = self
            .on_duty()
            .filter(|(s, active)| (*active as u64) < s.max_chats as u64)
            .map(|(s, active)| Candidate {
                id: s.id.clone(),
                active,
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Connected staff who are available, with how many chats each serves: who routing may
    /// give a chat to (`candidates`) and what the queue estimate counts on (`capacity`).
    pub(crate) fn on_duty(&self) -> impl Iterator<Item = (&Staff, usize)> {
        self.roster
            .all_staff()
            .filter(|e| e.conn.is_some() && e.status == Availability::Available)
            .map(|e| (&e.staff, self.rooms.served_by(&e.staff.id).len()))
    }

    /// Gives waiting chats, oldest first, to whoever may take them, until no chat or nobody
    /// is left.
    pub(crate) fn route(&mut self, plan: &mut Plan, now: i64) {
        let mode = self.settings.routing;
        if mode == RoutingMode::Manual || self.queues.unclaimed().is_empty() {
            return;
        }
        loop {
            let candidates = self.candidates();
            if candidates.is_empty() {
                return;
            }
            let next = self.queues.unclaimed().iter().find_map(|vid| {
                let chat = self.rooms.get(vid)?;
                if chat.route.gave_up {
                    return None;
                }
                choose(mode, &candidates, &chat.route, &self.router).map(|sid| (vid.clone(), sid))
            });
            let Some((vid, sid)) = next else {
                return;
            };
            self.assign(plan, &sid, &vid, now);
        }
    }

    /// The chat becomes `sid`'s as if they had claimed it; they get `chat_assigned`, and a
    /// timer starts for their first answer.
    fn assign(&mut self, plan: &mut Plan, sid: &StaffId, vid: &VisitorId, now: i64) {
        let Some(staff) = self.roster.staff(sid).cloned() else {
            return;
        };
        let Some(chat) = self.rooms.get_mut(vid) else {
            return;
        };
        chat.route.tried.push(sid.clone());
        chat.route.pending = Some(sid.clone());
        let attempt = chat.route.tried.len();
        self.router.note(sid, now);
        let mode = self.settings.routing;
        let note = Assigned {
            content: "assigned",
            staff: sid,
            name: shown_name(&staff),
            routing: mode,
            attempt,
        };
        self.system_message_with(plan, vid, None, system_payload(&note), now);
        let chat_id = self.take_chat(plan, &staff, vid, now);
        if let (Some(conn), Some(chat_id)) = (self.roster.staff_conn(sid), chat_id) {
            let history = plan.load_messages(&chat_id);
            self.tell(
                plan,
                Audience::Conn(conn),
                Out::ChatAssigned,
                vec![
                    ("visitor", self.room(vid)),
                    ("contents", Part::Messages(vec![history])),
                ],
            );
        }
        plan.timers.push((
            Duration::from_secs(self.settings.assign_timeout_secs),
            Timer::AssignTimeout {
                visitor_id: vid.clone(),
                staff_id: sid.clone(),
                attempt,
            },
        ));
    }

    /// An assigned agent's time to answer ran out: if they still have not written in the
    /// chat, it is taken back and waits again (and is offered on by `route`), or, after the
    /// last attempt, just waits.
    pub(crate) fn assign_timeout(
        &mut self,
        plan: &mut Plan,
        vid: &VisitorId,
        sid: &StaffId,
        attempt: usize,
        now: i64,
    ) {
        let pending = self.rooms.get(vid).is_some_and(|chat| {
            chat.route.pending.as_ref() == Some(sid)
                && chat.route.tried.len() == attempt
                && chat.is_served_by(sid)
        });
        if pending {
            self.take_back(plan, vid, sid, TakeBack::Timeout, now);
        }
    }

    /// Whether `sid` was offered this chat and has not answered yet (then leaving it is
    /// declining the offer, not ending the chat).
    pub(crate) fn offered_to(&self, vid: &str, sid: &StaffId) -> bool {
        self.rooms
            .get(vid)
            .is_some_and(|c| c.route.pending.as_ref() == Some(sid) && c.serving() == [sid.clone()])
    }

    /// An offer is over without an answer (timed out, or declined with `staff_leave_room`):
    /// the agent stops serving the chat, which waits again for the next agent, or, after the
    /// last attempt, for a manual claim.
    pub(crate) fn take_back(
        &mut self,
        plan: &mut Plan,
        vid: &VisitorId,
        sid: &StaffId,
        why: TakeBack,
        now: i64,
    ) {
        let Some(chat) = self.rooms.get_mut(vid) else {
            return;
        };
        chat.route.pending = None;
        let attempts = chat.route.tried.len();
        let gave_up = attempts as u64 >= self.settings.assign_max_attempts;
        chat.route.gave_up = gave_up;
        let Some(staff) = self.roster.staff(sid).cloned() else {
            return;
        };
        let note = TimedOut {
            content: why.content(),
            staff: sid,
            name: shown_name(&staff),
            after_secs: self.settings.assign_timeout_secs,
        };
        self.system_message_with(plan, vid, None, system_payload(&note), now);
        if gave_up {
            let note = GaveUp {
                content: "assign_gave_up",
                attempts,
            };
            self.system_message_with(plan, vid, None, system_payload(&note), now);
        }
        let room = self.room(vid);
        if let Some(conn) = self.roster.staff_conn(sid) {
            self.tell(
                plan,
                Audience::Conn(conn),
                Out::ChatUnassigned,
                vec![("visitor", room), ("reason", raw(why.reason()))],
            );
        }
        self.unjoin(plan, sid, vid, now);
        self.tell_left(plan, &staff, vid);
        if self.rooms.get(vid).is_some_and(|c| c.serving().is_empty()) {
            self.requeue(plan, vid, now);
        }
    }

    /// After a restart: an offer recorded in the chat that its agent had not answered yet
    /// (`offers`, from its system messages) still runs out at its time.
    pub(crate) fn restore_offer(
        &mut self,
        plan: &mut Plan,
        vid: &VisitorId,
        offers: &[Offer],
        now: i64,
    ) {
        let Some(last) = offers.last() else {
            return;
        };
        let Some(chat) = self.rooms.get_mut(vid) else {
            return;
        };
        if last.answered || chat.serving() != [last.staff_id.clone()] {
            return;
        }
        chat.route.tried = offers.iter().map(|o| o.staff_id.clone()).collect();
        chat.route.pending = Some(last.staff_id.clone());
        let due = last.at + self.settings.assign_timeout_secs as i64 * 1000;
        plan.timers.push((
            Duration::from_millis((due - now).max(0) as u64),
            Timer::AssignTimeout {
                visitor_id: vid.clone(),
                staff_id: last.staff_id.clone(),
                attempt: offers.len(),
            },
        ));
    }

    /// `sid` wrote in the chat: an offer to them is accepted, and the chat's routing is done.
    pub(crate) fn answered(&mut self, vid: &VisitorId, sid: &StaffId) {
        if let Some(chat) = self.rooms.get_mut(vid) {
            if chat.route.pending.as_ref() == Some(sid) {
                chat.route = Route::default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cands(loads: &[(&str, usize)]) -> Vec<Candidate> {
        loads
            .iter()
            .map(|(id, active)| Candidate {
                id: (*id).into(),
                active: *active,
            })
            .collect()
    }

    #[test]
    fn manual_never_chooses() {
        let c = cands(&[("a", 0)]);
        assert_eq!(
            choose(
                RoutingMode::Manual,
                &c,
                &Route::default(),
                &Router::default()
            ),
            None
        );
    }

    #[test]
    fn round_robin_takes_turns_and_wraps() {
        let c = cands(&[("a", 0), ("b", 0), ("c", 0)]);
        let mut router = Router::default();
        let mut got = vec![];
        for t in 0..6 {
            let sid = choose(RoutingMode::RoundRobin, &c, &Route::default(), &router).unwrap();
            router.note(&sid, t);
            got.push(sid.0);
        }
        assert_eq!(got, ["a", "b", "c", "a", "b", "c"]);
    }

    #[test]
    fn round_robin_skips_the_tried_and_the_missing() {
        // "b" was last; "c" was already offered this chat; "d" is full (not a candidate).
        let c = cands(&[("a", 0), ("b", 1), ("c", 0)]);
        let router = Router {
            last: Some("b".into()),
            ..Default::default()
        };
        let route = Route {
            tried: vec!["c".into()],
            ..Default::default()
        };
        assert_eq!(
            choose(RoutingMode::RoundRobin, &c, &route, &router),
            Some("a".into())
        );
        let route = Route {
            tried: vec!["a".into(), "b".into(), "c".into()],
            ..Default::default()
        };
        assert_eq!(choose(RoutingMode::RoundRobin, &c, &route, &router), None);
    }

    #[test]
    fn least_busy_takes_the_fewest_chats_then_the_longest_idle() {
        let c = cands(&[("a", 2), ("b", 1), ("c", 1)]);
        let mut router = Router::default();
        router.note(&"b".into(), 10);
        router.note(&"c".into(), 5);
        assert_eq!(
            choose(RoutingMode::LeastBusy, &c, &Route::default(), &router),
            Some("c".into()),
            "b and c serve one chat each; c got theirs longer ago"
        );
        let route = Route {
            tried: vec!["c".into()],
            ..Default::default()
        };
        assert_eq!(
            choose(RoutingMode::LeastBusy, &c, &route, &router),
            Some("b".into())
        );
        let never = cands(&[("a", 0), ("z", 0)]);
        router.note(&"a".into(), 1);
        assert_eq!(
            choose(RoutingMode::LeastBusy, &never, &Route::default(), &router),
            Some("z".into()),
            "one who never got a chat goes before one who did"
        );
    }
}
