//! The roster: who is here. Connections, the staff and visitors they belong to, and each
//! party's epoch (bumped on every connect and disconnect, so a grace timer set for an older
//! disconnect does nothing). A party stays on the roster through its reconnect grace with no
//! connection; `remove_*` is the end of the grace. Owns its invariants: a connection maps to a
//! party iff that party's `conn` is it.

use crate::live::plan::{ConnId, Timer};
pub use crate::model::Availability;
use crate::model::{Staff, StaffId, Visitor, VisitorId};
use std::collections::HashMap;

/// Who a connection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Party {
    Staff(StaffId),
    Visitor(VisitorId),
}

/// A staff member who is online, or within the reconnect grace (`conn` is None then).
#[derive(Debug)]
pub struct StaffEntry {
    pub staff: Staff,
    pub conn: Option<ConnId>,
    pub status: Availability,
    epoch: u64,
}

#[derive(Debug)]
pub struct VisitorEntry {
    pub visitor: Visitor,
    pub conn: Option<ConnId>,
    epoch: u64,
}

/// What `attach_*` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Attach {
    /// Already connected elsewhere and not forced: the new connection is not attached.
    Refused,
    Attached {
        /// The older connection this one replaced (`force`): to be closed.
        replaced: Option<ConnId>,
        /// Already on the roster (back within the grace, or replacing a connection): nobody
        /// was told it left, so nobody is told it came.
        resumed: bool,
        /// It had no connection: it was away (within its grace) and is back.
        was_away: bool,
    },
}

#[derive(Default)]
pub struct Roster {
    conns: HashMap<ConnId, Party>,
    staff: HashMap<StaffId, StaffEntry>,
    visitors: HashMap<VisitorId, VisitorEntry>,
}

impl Roster {
    pub fn party(&self, conn: ConnId) -> Option<&Party> {
        self.conns.get(&conn)
    }

    pub fn attach_staff(&mut self, conn: ConnId, staff: &Staff, force: bool) -> Attach {
        let fresh = || StaffEntry {
            staff: staff.clone(),
            conn: None,
            status: staff.availability,
            epoch: 0,
        };
        let party = Party::Staff(staff.id.clone());
        let refresh = |e: &mut StaffEntry| e.staff = staff.clone();
        let to = (conn, party);
        attach(
            &mut self.conns,
            &mut self.staff,
            &staff.id,
            to,
            force,
            fresh,
            |e| (&mut e.conn, &mut e.epoch),
            refresh,
        )
    }

    pub fn attach_visitor(&mut self, conn: ConnId, visitor: &Visitor, force: bool) -> Attach {
        let fresh = || VisitorEntry {
            visitor: visitor.clone(),
            conn: None,
            epoch: 0,
        };
        let party = Party::Visitor(visitor.id.clone());
        let refresh = |e: &mut VisitorEntry| e.visitor = visitor.clone();
        let to = (conn, party);
        attach(
            &mut self.conns,
            &mut self.visitors,
            &visitor.id,
            to,
            force,
            fresh,
            |e| (&mut e.conn, &mut e.epoch),
            refresh,
        )
    }

    /// A connection closed. If it was its party's current one, the party is now away and the
    /// timer to set for the end of its grace comes back.
    pub fn detach(&mut self, conn: ConnId) -> Option<Timer> {
        match self.conns.remove(&conn)? {
            Party::Staff(staff_id) => {
                let e = self.staff.get_mut(&staff_id)?;
                (e.conn == Some(conn)).then(|| {
                    e.conn = None;
                    e.epoch += 1;
                    Timer::StaffGone {
                        staff_id,
                        epoch: e.epoch,
                    }
                })
            }
            Party::Visitor(visitor_id) => {
                let e = self.visitors.get_mut(&visitor_id)?;
                (e.conn == Some(conn)).then(|| {
                    e.conn = None;
                    e.epoch += 1;
                    Timer::VisitorGone {
                        visitor_id,
                        epoch: e.epoch,
                    }
                })
            }
        }
    }

    /// Whether the party of a grace timer is still away since that disconnect.
    pub fn still_away(&self, timer: &Timer) -> bool {
        match timer {
            Timer::StaffGone { staff_id, epoch } => self
                .staff
                .get(staff_id)
                .is_some_and(|e| e.conn.is_none() && e.epoch == *epoch),
            Timer::VisitorGone { visitor_id, epoch } => self
                .visitors
                .get(visitor_id)
                .is_some_and(|e| e.conn.is_none() && e.epoch == *epoch),
            Timer::AssignTimeout { .. } => false,
        }
    }

    /// After a restart: a party that was here, not connected, with the restart grace (the
    /// timer to set comes back).
    pub fn restore_staff(&mut self, staff: &Staff) -> Option<Timer> {
        if self.staff.contains_key(&staff.id) {
            return None;
        }
        self.staff.insert(
            staff.id.clone(),
            StaffEntry {
                staff: staff.clone(),
                conn: None,
                status: staff.availability,
                epoch: 1,
            },
        );
        Some(Timer::StaffGone {
            staff_id: staff.id.clone(),
            epoch: 1,
        })
    }

    pub fn restore_visitor(&mut self, visitor: &Visitor) -> Timer {
        self.visitors.insert(
            visitor.id.clone(),
            VisitorEntry {
                visitor: visitor.clone(),
                conn: None,
                epoch: 1,
            },
        );
        Timer::VisitorGone {
            visitor_id: visitor.id.clone(),
            epoch: 1,
        }
    }

    pub fn remove_staff(&mut self, sid: &StaffId) -> Option<StaffEntry> {
        let e = self.staff.remove(sid)?;
        if let Some(c) = e.conn {
            self.conns.remove(&c);
        }
        Some(e)
    }

    pub fn remove_visitor(&mut self, vid: &VisitorId) -> Option<VisitorEntry> {
        let e = self.visitors.remove(vid)?;
        if let Some(c) = e.conn {
            self.conns.remove(&c);
        }
        Some(e)
    }

    /// A staff member's account changed (an admin set their capacity): the entry shows it.
    pub fn refresh_staff(&mut self, staff: &Staff) -> bool {
        match self.staff.get_mut(&staff.id) {
            Some(e) => {
                e.staff = staff.clone();
                e.staff.availability = e.status;
                true
            }
            None => false,
        }
    }

    /// A visitor left contact details: their entry shows them (no longer anonymous).
    pub fn update_visitor(
        &mut self,
        vid: &str,
        name: Option<&str>,
        email: Option<&str>,
        now: i64,
    ) -> bool {
        let Some(e) = self.visitors.get_mut(vid) else {
            return false;
        };
        if let Some(n) = name {
            e.visitor.name = n.to_string();
        }
        if let Some(m) = email {
            e.visitor.email = Some(m.to_string());
        }
        e.visitor.is_anonymous = false;
        e.visitor.updated_at = Some(now);
        true
    }

    pub fn set_status(&mut self, sid: &StaffId, status: Availability) -> bool {
        match self.staff.get_mut(sid) {
            Some(e) => {
                e.status = status;
                e.staff.availability = status;
                true
            }
            None => false,
        }
    }

    // ----- lookups -----------------------------------------------------------------------

    pub fn staff(&self, sid: &str) -> Option<&Staff> {
        self.staff.get(sid).map(|e| &e.staff)
    }

    pub fn staff_entry(&self, sid: &str) -> Option<&StaffEntry> {
        self.staff.get(sid)
    }

    /// Online staff (and those within their grace), in no particular order.
    pub fn all_staff(&self) -> impl Iterator<Item = &StaffEntry> {
        self.staff.values()
    }

    pub fn visitor(&self, vid: &str) -> Option<&Visitor> {
        self.visitors.get(vid).map(|e| &e.visitor)
    }

    pub fn all_visitors(&self) -> impl Iterator<Item = &VisitorEntry> {
        self.visitors.values()
    }

    pub fn has_visitor(&self, vid: &str) -> bool {
        self.visitors.contains_key(vid)
    }

    pub fn staff_conn(&self, sid: &str) -> Option<ConnId> {
        self.staff.get(sid).and_then(|e| e.conn)
    }

    pub fn visitor_conn(&self, vid: &str) -> Option<ConnId> {
        self.visitors.get(vid).and_then(|e| e.conn)
    }

    /// Connected staff, except one.
    pub fn staff_conns(&self, except: Option<&StaffId>) -> Vec<ConnId> {
        self.staff
            .iter()
            .filter(|(id, _)| Some(*id) != except)
            .filter_map(|(_, e)| e.conn)
            .collect()
    }

    /// Connected supervisors and admins, except one.
    pub fn supervisor_conns(&self, except: Option<&StaffId>) -> Vec<ConnId> {
        self.staff
            .iter()
            .filter(|(id, e)| Some(*id) != except && e.staff.role_id.is_supervisor())
            .filter_map(|(_, e)| e.conn)
            .collect()
    }

    pub fn staff_online(&self) -> usize {
        self.staff.values().filter(|e| e.conn.is_some()).count()
    }

    pub fn visitors_online(&self) -> usize {
        self.visitors.values().filter(|e| e.conn.is_some()).count()
    }
}

/// The attach rule for both kinds of party, in one place: a second live connection is refused
/// unless forced (then the older one is replaced and its disconnect ignored); the entry is
/// created or refreshed (`link` is where its connection and epoch live), and the epoch moves on so a grace timer set for an earlier disconnect does nothing.
#[allow(clippy::too_many_arguments)]
fn attach<K: std::hash::Hash + Eq + Clone, E>(
    conns: &mut HashMap<ConnId, Party>,
    entries: &mut HashMap<K, E>,
    id: &K,
    (conn, party): (ConnId, Party),
    force: bool,
    fresh: impl FnOnce() -> E,
    link: fn(&mut E) -> (&mut Option<ConnId>, &mut u64),
    refresh: impl FnOnce(&mut E),
) -> Attach {
    let old = entries.get_mut(id).and_then(|e| *link(e).0);
    if old.is_some() && !force {
        return Attach::Refused;
    }
    if let Some(old) = old {
        conns.remove(&old);
    }
    let resumed = entries.contains_key(id);
    let entry = entries.entry(id.clone()).or_insert_with(fresh);
    refresh(entry);
    let (slot, epoch) = link(entry);
    *slot = Some(conn);
    *epoch += 1;
    conns.insert(conn, party);
    Attach::Attached {
        replaced: old,
        resumed,
        was_away: resumed && old.is_none(),
    }
}
