//! The live state and its rules. The state is three components, each owning its data and its
//! invariants, none calling back up: the `roster` (who is connected), the `rooms` (open chats
//! and who serves them) and the `queues` (waiting chats, positions). The rules compose them;
//! they are pure: each returns a `Plan` that `live::actor` carries out (writes, then
//! deliveries, in command order), and the clock comes in as `now` (ms), so tests control it.
//!
//! Where things are:
//! - client events: `live/events/` (one file per family: parse, role gate, decision);
//! - connects, disconnects, grace timers, `staff_init`, `visitor_init`: `state/presence.rs`;
//! - the chat lifecycle shared by several events (status changes, join, leave, close, system
//!   messages, queue positions): `state/lifecycle.rs`;
//! - restart, the periodic tick and the `/metrics` counts: `state/restore.rs`;
//! - payload views (room, online staff): `state/views.rs`;
//! - who hears what: `LiveState::tell` below resolves every `Audience`.

use super::events::{By, Request, Sender, Who};
use super::plan::*;
use crate::model::{StaffId, VisitorId};
use std::time::Duration;
use views::raw;

pub mod conversation;
pub mod forget;
pub mod lifecycle;
pub mod presence;
pub mod queues;
pub mod restore;
pub mod rooms;
pub mod roster;
pub mod routing;
pub mod unseen;
pub mod views;
pub mod visits;

pub use conversation::Welcome;
pub use queues::LIST_SIZE;
pub use restore::Counts;

#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// How long a visitor whose connection dropped has to come back (0: at once, the seed's
    /// behaviour).
    pub visitor_grace: Duration,
    /// The same for staff.
    pub staff_grace: Duration,
    pub max_staffs_in_chat: usize,
}

/// After a restart everyone is disconnected at once: the serving staff and their visitors get
/// at least this long to come back, whatever the graces.
pub const RESTART_GRACE_MIN: Duration = Duration::from_secs(60);

impl LiveConfig {
    /// The same grace for visitors and staff.
    pub fn new(grace: Duration, max_staffs_in_chat: usize) -> LiveConfig {
        LiveConfig::with_graces(grace, grace, max_staffs_in_chat)
    }

    pub fn with_graces(
        visitor: Duration,
        staff: Duration,
        max_staffs_in_chat: usize,
    ) -> LiveConfig {
        LiveConfig {
            visitor_grace: visitor,
            staff_grace: staff,
            max_staffs_in_chat,
        }
    }

    /// The grace of the party a timer is for.
    pub fn grace(&self, timer: &Timer) -> Duration {
        match timer {
            Timer::StaffGone { .. } => self.staff_grace,
            Timer::VisitorGone { .. } => self.visitor_grace,
            // Not a grace: its own duration comes with it.
            Timer::AssignTimeout { .. } => Duration::ZERO,
        }
    }
}

pub struct LiveState {
    pub(crate) cfg: LiveConfig,
    pub(crate) roster: roster::Roster,
    pub(crate) rooms: rooms::Rooms,
    pub(crate) queues: queues::Queues,
    pub(crate) router: routing::Router,
    /// The admin's live settings (routing, business hours).
    pub(crate) settings: crate::settings::Settings,
    /// Whether the business hours were open at the last tick (`None`: no hours set).
    pub(crate) hours_open: Option<bool>,
    /// Right after a restart nobody's console is back yet, so "nobody available" is not
    /// decided before this instant (ms; 0: decided): a visitor who writes in those seconds
    /// waits in the queue as before the restart. At its end, waiting chats with nobody there
    /// go offline and their visitors are told (`tick`).
    pub(crate) undecided_until: i64,
    /// What connected visitors are looking at (`visitor_page`).
    pub(crate) visits: visits::Visits,
    /// The canned replies every console has (`staff_init`, `canned_replies_changed`).
    pub(crate) canned: Vec<crate::store::canned::Canned>,
    /// Chats with staff replies their visitor has not seen (emailed on a tick: `unseen.rs`).
    pub(crate) unseen: unseen::Unseen,
    /// Who has Web Push subscriptions (`None`: push is off); read only for staff with no
    /// console open (`live/events/messages.rs`).
    pub(crate) push_staff: Option<crate::push::Subscribed>,
    /// The webhook events some enabled hook wants (src/webhooks/): one branch per event when
    /// none does (`LiveState::hook`, state/lifecycle.rs).
    pub(crate) hooks: crate::webhooks::Mask,
    /// Visitors an admin deleted (`forget.rs`): never let back in with an older token.
    pub(crate) forgotten: std::collections::HashSet<VisitorId>,
}

impl LiveState {
    pub fn new(cfg: LiveConfig) -> LiveState {
        LiveState {
            cfg,
            roster: Default::default(),
            rooms: Default::default(),
            queues: Default::default(),
            router: Default::default(),
            settings: Default::default(),
            hours_open: None,
            undecided_until: 0,
            visits: Default::default(),
            canned: vec![],
            unseen: Default::default(),
            push_staff: None,
            hooks: Default::default(),
            forgotten: Default::default(),
        }
    }

    /// After a restart of a server that has served chats before: who is available is not
    /// decided for the restart grace (`RESTART_GRACE_MIN`), while consoles come back.
    pub fn restarted(&mut self, now: i64) {
        self.undecided_until = now + RESTART_GRACE_MIN.as_millis() as i64;
    }

    /// A client event from `conn`: the sender is looked up, the event's `who` (from the table
    /// in `live/events/mod.rs`) is checked here, in one place, and the family decides.
    pub fn request(&mut self, conn: ConnId, req: Request, now: i64) -> Plan {
        let by = match self.roster.party(conn) {
            Some(roster::Party::Visitor(vid)) => By::Visitor(vid.clone()),
            Some(roster::Party::Staff(sid)) => match self.roster.staff(sid) {
                Some(s) => By::Staff(s.clone()),
                None => return Plan::err(say::NOT_CONNECTED),
            },
            None => return Plan::err(say::NOT_CONNECTED),
        };
        match (req.who(), &by) {
            (Who::Staff, By::Visitor(_)) => return Plan::err(say::STAFF_ONLY),
            (Who::Visitor, By::Staff(_)) => return Plan::err(say::VISITOR_ONLY),
            _ => {}
        }
        let sender = Sender { conn, by };
        let mut plan = req.apply(self, &sender, now);
        if matches!(plan.reply, Some(Ok(()))) {
            // A chat may have started waiting, or capacity freed up.
            self.route(&mut plan, now);
        }
        plan
    }

    /// The admin changed the settings: they apply from now on (waiting chats may be routed at
    /// once, and estimates may change).
    pub fn set_settings(&mut self, settings: crate::settings::Settings, now: i64) -> Plan {
        self.settings = settings;
        self.queues.mark_dirty();
        let mut plan = Plan::default();
        self.route(&mut plan, now);
        plan
    }

    /// An admin changed a staff account (e.g. its `max_chats`): an online member's entry shows
    /// it, every console hears their new load, and waiting chats may now go to them.
    pub fn staff_changed(&mut self, staff: &crate::model::Staff, now: i64) -> Plan {
        let mut plan = Plan::default();
        if !self.roster.refresh_staff(staff) {
            return plan;
        }
        self.queues.mark_dirty();
        self.tell_availability(&mut plan, &staff.id);
        self.route(&mut plan, now);
        plan
    }

    /// `staff_availability_changed {staff, status, active_chats, max_chats}` to every console.
    pub(crate) fn tell_availability(&self, plan: &mut Plan, sid: &StaffId) {
        let Some(e) = self.roster.staff_entry(sid) else {
            return;
        };
        let v = self.online_staff(e);
        self.tell(
            plan,
            Audience::AllStaff(None),
            Out::StaffAvailabilityChanged,
            vec![
                ("staff", raw(&e.staff)),
                ("status", raw(&e.status)),
                ("active_chats", raw(&v.active_chats)),
                ("max_chats", raw(&v.max_chats)),
            ],
        );
    }

    /// The connections an audience is right now: the one place that knows.
    pub fn audience(&self, to: Audience) -> Vec<ConnId> {
        let r = &self.roster;
        match to {
            Audience::Conn(c) => vec![c],
            Audience::Listed(conns) => conns.to_vec(),
            Audience::Visitor(vid) => r.visitor_conn(vid).into_iter().collect(),
            Audience::Serving(vid, except) => self.serving_conns(vid, except),
            Audience::Room(vid, except) => {
                let mut to: Vec<ConnId> = r.visitor_conn(vid).into_iter().collect();
                to.extend(self.serving_conns(vid, except));
                to
            }
            Audience::VisitorsServedBy(sid) => self
                .rooms
                .served_by(sid)
                .iter()
                .filter_map(|vid| r.visitor_conn(vid))
                .collect(),
            Audience::AllStaff(except) => r.staff_conns(except),
            Audience::Supervisors(except) => r.supervisor_conns(except),
        }
    }

    /// Sends `event` to `to`: every send of the rules goes through here.
    pub fn tell(
        &self,
        plan: &mut Plan,
        to: Audience,
        event: Out,
        payload: Vec<(&'static str, Part)>,
    ) {
        plan.send(self.audience(to), event, payload);
    }

    /// As `tell`, rendering the payload only when someone hears it (supervisors are often
    /// none, and the per-message events render a room).
    pub fn tell_if_heard(
        &self,
        plan: &mut Plan,
        to: Audience,
        event: Out,
        payload: impl FnOnce() -> Vec<(&'static str, Part)>,
    ) {
        let to = self.audience(to);
        if !to.is_empty() {
            plan.send(to, event, payload());
        }
    }

    /// The staff serving a room and those watching it (`watch_chat`): they hear the same.
    fn serving_conns(&self, vid: &VisitorId, except: Option<&StaffId>) -> Vec<ConnId> {
        let Some(chat) = self.rooms.get(vid) else {
            return vec![];
        };
        chat.serving()
            .iter()
            .chain(chat.watchers.iter())
            .filter(|s| Some(*s) != except)
            .filter_map(|s| self.roster.staff_conn(s))
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests;
