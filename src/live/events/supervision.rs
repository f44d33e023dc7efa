//! Supervision: `take_over_chat`, `add_staff_to_chat`, `remove_staff_from_chat` (all under the
//! rank rule, `rank_refusal`, in one place) and `change_chat_priority` (flags).

use super::{Args, Family, Sender};
use crate::live::plan::*;
use crate::live::state::views::raw;
use crate::live::state::LiveState;
use crate::model::{Role, Staff, StaffId, VisitorId};

#[derive(Debug, Clone)]
pub enum Supervision {
    TakeOver {
        visitor: VisitorId,
    },
    Add {
        visitor: VisitorId,
        staff: StaffId,
    },
    Remove {
        visitor: VisitorId,
        staff: StaffId,
    },
    Priority {
        visitor: VisitorId,
        severity_level: i64,
    },
}

pub fn parse_take_over(a: &Args) -> Result<Family, Refusal> {
    let visitor = a.fields("visitor")?.id("visitor")?;
    Ok(Family::Supervision(Supervision::TakeOver { visitor }))
}

pub fn parse_add(a: &Args) -> Result<Family, Refusal> {
    let f = a.fields("visitor")?;
    let (visitor, staff) = (f.id("visitor")?, f.id("staff")?);
    Ok(Family::Supervision(Supervision::Add { visitor, staff }))
}

pub fn parse_remove(a: &Args) -> Result<Family, Refusal> {
    let f = a.fields("visitor")?;
    let (visitor, staff) = (f.id("visitor")?, f.id("staff")?);
    Ok(Family::Supervision(Supervision::Remove { visitor, staff }))
}

pub fn parse_priority(a: &Args) -> Result<Family, Refusal> {
    let f = a.fields("visitor")?;
    let visitor = f.id("visitor")?;
    // The seed's default is 0; booleans, floats and negatives are refused.
    let severity_level = f
        .optional("severity_level", |raw| {
            serde_json::from_str::<i64>(raw.get())
                .ok()
                .filter(|l| (0..=1000).contains(l))
        })?
        .unwrap_or(0);
    Ok(Family::Supervision(Supervision::Priority {
        visitor,
        severity_level,
    }))
}

impl Supervision {
    pub fn apply(self, s: &mut LiveState, by: &Sender, now: i64) -> Plan {
        let staff = match by.staff() {
            Ok(st) => st,
            Err(refused) => return Plan::err(refused),
        };
        match self {
            Supervision::TakeOver { visitor } => take_over(s, staff, &visitor, now),
            Supervision::Add {
                visitor,
                staff: target,
            } => add_staff(s, staff, &visitor, &target, now),
            Supervision::Remove {
                visitor,
                staff: target,
            } => remove_staff(s, staff, &visitor, &target, now),
            Supervision::Priority {
                visitor,
                severity_level,
            } => change_priority(s, staff, &visitor, severity_level, now),
        }
    }
}

/// A supervision act, for the rank rule.
#[derive(Debug, Clone, Copy)]
enum Act<'a> {
    TakeOver,
    Add,
    /// Removing this staff member.
    Remove(&'a StaffId),
}

/// The rank rule of every supervision event, in one place. Only supervisors and admins
/// supervise, and nobody acts over someone of their own rank or above:
/// - take over: the requester outranks every staff member serving the chat (the seed's
///   "A supervisor cannot take over a chat from a supervisor.");
/// - remove: the requester outranks the staff member removed (or removes themselves) —
///   otherwise removing an admin and then claiming the chat would be a take-over by the
///   back door;
/// - add: nobody serving the chat outranks the requester (a supervisor may bring a colleague
///   into a supervisor's or an agent's chat, not into an admin's).
fn rank_refusal(s: &LiveState, by: &Staff, act: Act, vid: &str) -> Option<Refusal> {
    let role_of = |sid: &str| {
        s.roster
            .staff(sid)
            .map(|s| s.role_id)
            .unwrap_or(Role::Agent)
    };
    let role_needed = match act {
        Act::TakeOver => say::TAKE_OVER_ROLE,
        Act::Add => say::ADD_ROLE,
        Act::Remove(_) => say::REMOVE_ROLE,
    };
    if !by.role_id.is_supervisor() {
        return Some(role_needed);
    }
    // The first other serving staff member of a rank that `blocks`.
    let first_serving = |blocks: &dyn Fn(Role) -> bool| {
        let serving = s.rooms.get(vid).map(|c| c.serving());
        serving
            .unwrap_or_default()
            .iter()
            .filter(|sid| **sid != by.id)
            .map(|sid| role_of(sid))
            .find(|r| blocks(*r))
    };
    let (blocker, what) = match act {
        // Themselves among the serving staff: that answer comes later ("already").
        Act::TakeOver => (
            first_serving(&|r| !by.role_id.outranks(r))?,
            "take over a chat from",
        ),
        Act::Add => (
            first_serving(&|r| r.outranks(by.role_id))?,
            "add staff to a chat served by",
        ),
        Act::Remove(target) => {
            let role = role_of(target);
            if *target == by.id || by.role_id.outranks(role) {
                return None;
            }
            (role, "remove")
        }
    };
    let who = if by.role_id == Role::Admin {
        "An admin"
    } else {
        "A supervisor"
    };
    let an = if blocker == Role::Admin { "an" } else { "a" };
    let tail = if matches!(act, Act::Remove(_)) {
        " from a chat"
    } else {
        ""
    };
    Some(Refusal::new(
        Code::NotAllowed,
        format!("{who} cannot {what} {an} {}{tail}.", blocker.name()),
    ))
}

fn take_over(s: &mut LiveState, staff: &Staff, vid: &VisitorId, now: i64) -> Plan {
    if let Some(why) = rank_refusal(s, staff, Act::TakeOver, vid) {
        return Plan::err(why);
    }
    let Some(chat) = s.rooms.get(vid) else {
        return Plan::err(say::CLOSED);
    };
    if chat.status != ChatStatus::Claimed {
        return Plan::err(say::NOT_CLAIMED);
    }
    if chat.is_served_by(&staff.id) {
        return Plan::err(say::ALREADY_IN_ROOM);
    }
    let replaced = chat.serving().to_vec();
    let replaced_conns: Vec<ConnId> = replaced
        .iter()
        .filter_map(|sid| s.roster.staff_conn(sid))
        .collect();
    let mut plan = Plan::ok();
    for sid in &replaced {
        s.unjoin(&mut plan, sid, vid, now);
    }
    s.join(&mut plan, &staff.id, vid, now);
    s.system_message(&mut plan, vid, Some(&staff.id), "take over room", now);
    let room = s.room(vid);
    let sj = raw(staff);
    let mut to = replaced_conns;
    to.extend(s.roster.visitor_conn(vid));
    s.tell(
        &mut plan,
        Audience::Listed(&to),
        Out::StaffBeingTakenOverChat,
        vec![("staff", sj.clone()), ("visitor", room.clone())],
    );
    s.tell(
        &mut plan,
        Audience::Supervisors(Some(&staff.id)),
        Out::StaffTakeOverChat,
        vec![("staff", sj), ("visitor", room)],
    );
    plan
}

fn add_staff(s: &mut LiveState, by: &Staff, vid: &VisitorId, target: &StaffId, now: i64) -> Plan {
    if let Some(why) = rank_refusal(s, by, Act::Add, vid) {
        return Plan::err(why);
    }
    let Some(chat) = s.rooms.get(vid) else {
        return Plan::err(say::CLOSED);
    };
    if chat.status != ChatStatus::Claimed {
        return Plan::err(say::NOT_CLAIMED);
    }
    if chat.is_served_by(target) {
        return Plan::err(say::STAFF_ALREADY_IN);
    }
    let Some(added) = s
        .roster
        .staff_entry(target)
        .filter(|e| e.conn.is_some())
        .map(|e| e.staff.clone())
    else {
        return Plan::err(say::STAFF_NOT_ONLINE);
    };
    let max = s.cfg.max_staffs_in_chat;
    if chat.serving().len() >= max {
        return Plan::err(Refusal::new(
            Code::ChatFull,
            format!("This chat already has the maximum of {max} staff."),
        ));
    }
    let mut plan = Plan::ok();
    s.join(&mut plan, target, vid, now);
    s.system_message(&mut plan, vid, Some(target), "join room", now);
    let aj = raw(&added);
    s.tell(
        &mut plan,
        Audience::Visitor(vid),
        Out::StaffBeingAddedToChat,
        vec![("staff", aj.clone())],
    );
    // Staff also get the room, so the added one can open it.
    s.tell(
        &mut plan,
        Audience::Serving(vid, None),
        Out::StaffBeingAddedToChat,
        vec![("staff", aj), ("visitor", s.room(vid))],
    );
    plan
}

fn remove_staff(
    s: &mut LiveState,
    by: &Staff,
    vid: &VisitorId,
    target: &StaffId,
    now: i64,
) -> Plan {
    if let Some(why) = rank_refusal(s, by, Act::Remove(target), vid) {
        return Plan::err(why);
    }
    let Some(chat) = s.rooms.get(vid) else {
        return Plan::err(say::CLOSED);
    };
    if !chat.is_served_by(target) {
        return Plan::err(say::STAFF_NOT_IN);
    }
    /// A staff member no longer on the roster is shown by id.
    #[derive(serde::Serialize)]
    struct JustId<'a> {
        id: &'a StaffId,
    }
    let rj = match s.roster.staff(target) {
        Some(st) => raw(st),
        None => raw(&JustId { id: target }),
    };
    let mut plan = Plan::ok();
    s.tell(
        &mut plan,
        Audience::Visitor(vid),
        Out::StaffBeingRemovedFromChat,
        vec![("staff", rj.clone())],
    );
    // Staff also get the room, so the removed one knows which chat to close.
    s.tell(
        &mut plan,
        Audience::Serving(vid, None),
        Out::StaffBeingRemovedFromChat,
        vec![("staff", rj), ("visitor", s.room(vid))],
    );
    s.system_message(&mut plan, vid, Some(target), "leave room", now);
    s.unjoin(&mut plan, target, vid, now);
    if s.rooms.get(vid).is_some_and(|c| c.serving().is_empty()) {
        // Nobody serves it any more: back to the queue it belongs in.
        if s.roster.has_visitor(vid) {
            s.requeue(&mut plan, vid, now);
        } else {
            s.wait_offline(&mut plan, vid, now);
        }
    }
    plan
}

fn change_priority(
    s: &mut LiveState,
    staff: &Staff,
    vid: &VisitorId,
    level: i64,
    now: i64,
) -> Plan {
    let Some(chat) = s.rooms.get_mut(vid) else {
        return Plan::err(say::CLOSED);
    };
    chat.severity_level = level;
    chat.flagged_at = (level > 0).then_some(now);
    let mut plan = Plan::ok();
    plan.op(DbOp::SetPriority {
        chat_id: chat.chat_id.clone(),
        severity_level: level,
        flagged_at: chat.flagged_at,
        at: now,
    });
    s.tell(
        &mut plan,
        Audience::Supervisors(Some(&staff.id)),
        Out::ChatHasChangedPriorityForSupervisor,
        vec![("staff", raw(staff)), ("visitor", s.room(vid))],
    );
    plan
}
