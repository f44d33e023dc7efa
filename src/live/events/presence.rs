//! Presence events: `set_availability {status}` (product.md §8.3): kept across reloads and
//! restarts; every console hears it with the member's load; an agent who becomes available
//! may get waiting chats at once (`LiveState::request` routes after every event). Connecting, disconnecting
//! and the grace are not client events: they live in `live/state/presence.rs`.

use super::{Args, Family, Sender};
use crate::live::plan::*;
use crate::live::state::roster::Availability;
use crate::live::state::LiveState;

#[derive(Debug, Clone)]
pub enum Presence {
    SetAvailability { status: Availability },
}

pub fn parse_set_availability(a: &Args) -> Result<Family, Refusal> {
    let status = a
        .fields("status")?
        .get("status")
        .and_then(|raw| serde_json::from_str::<&str>(raw.get()).ok())
        .and_then(Availability::parse)
        .ok_or_else(|| Refusal::invalid("status"))?;
    Ok(Family::Presence(Presence::SetAvailability { status }))
}

impl Presence {
    pub fn apply(self, s: &mut LiveState, by: &Sender, now: i64) -> Plan {
        let staff = match by.staff() {
            Ok(st) => st,
            Err(refused) => return Plan::err(refused),
        };
        match self {
            Presence::SetAvailability { status } => {
                if !s.roster.set_status(&staff.id, status) {
                    return Plan::err(say::NOT_CONNECTED);
                }
                let mut plan = Plan::ok();
                // Kept in the staff row: a reload and a restart keep it.
                plan.op(DbOp::SetStaffAvailability {
                    staff_id: staff.id.clone(),
                    status,
                });
                s.queues.mark_dirty();
                s.tell_availability(&mut plan, &staff.id);
                if status == Availability::Away {
                    s.if_nobody_available(&mut plan, now);
                }
                plan
            }
        }
    }
}
