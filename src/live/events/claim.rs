//! Claiming and leaving: `staff_join` (where a claim is decided) and `staff_leave_room`.

use super::{Args, Family, Sender};
use crate::live::plan::*;
use crate::live::state::routing::TakeBack;
use crate::live::state::LiveState;
use crate::model::{Staff, VisitorId};

#[derive(Debug, Clone)]
pub enum Claim {
    Join { visitor: VisitorId },
    Leave { visitor: VisitorId },
}

pub fn parse_join(a: &Args) -> Result<Family, Refusal> {
    let visitor = a.fields("visitor")?.id("visitor")?;
    Ok(Family::Claim(Claim::Join { visitor }))
}

pub fn parse_leave(a: &Args) -> Result<Family, Refusal> {
    let visitor = a.fields("visitor")?.id("visitor")?;
    Ok(Family::Claim(Claim::Leave { visitor }))
}

impl Claim {
    pub fn apply(self, s: &mut LiveState, by: &Sender, now: i64) -> Plan {
        let staff = match by.staff() {
            Ok(st) => st,
            Err(refused) => return Plan::err(refused),
        };
        match self {
            Claim::Join { visitor } => claim(s, staff, &visitor, now),
            Claim::Leave { visitor } => {
                match s.rooms.get(&visitor) {
                    None => return Plan::err(say::CLOSED),
                    Some(c) if !c.is_served_by(&staff.id) => return Plan::err(say::NOT_IN_ROOM),
                    _ => {}
                }
                let mut plan = Plan::ok();
                if s.offered_to(&visitor, &staff.id) {
                    // Declining an automatic offer: the chat goes on to the next agent.
                    s.take_back(&mut plan, &visitor, &staff.id, TakeBack::Declined, now);
                } else {
                    s.leave_room(&mut plan, staff, &visitor, now);
                }
                plan
            }
        }
    }
}

/// The claim. Commands run one at a time, so of two racing claims the first wins and the
/// second finds the chat claimed. A manual claim ends any automatic routing of the chat.
fn claim(s: &mut LiveState, staff: &Staff, vid: &VisitorId, now: i64) -> Plan {
    let Some(chat) = s.rooms.get_mut(vid) else {
        return Plan::err(say::CLOSED);
    };
    if chat.status == ChatStatus::Claimed {
        return Plan::err(if chat.is_served_by(&staff.id) {
            say::ALREADY_IN_ROOM
        } else {
            say::ALREADY_CLAIMED
        });
    }
    chat.route = Default::default();
    let mut plan = Plan::ok();
    s.take_chat(&mut plan, staff, vid, now);
    plan
}
