//! Claiming and leaving: `staff_join` (where a claim is decided) and `staff_leave_room`.

use super::{Args, Family, Sender};
use crate::live::plan::*;
use crate::live::state::views::raw;
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
                s.leave_room(&mut plan, staff, &visitor, now);
                plan
            }
        }
    }
}

/// The claim. Commands run one at a time, so of two racing claims the first wins and the
/// second finds the chat claimed.
fn claim(s: &mut LiveState, staff: &Staff, vid: &VisitorId, now: i64) -> Plan {
    let Some(chat) = s.rooms.get(vid) else {
        return Plan::err(say::CLOSED);
    };
    if chat.status == ChatStatus::Claimed {
        return Plan::err(if chat.is_served_by(&staff.id) {
            say::ALREADY_IN_ROOM
        } else {
            say::ALREADY_CLAIMED
        });
    }
    let was = chat.status;
    let waited = (now - chat.queued_at).max(0) as f64 / 1000.0;
    let chat_id = chat.chat_id.clone();
    let mut plan = Plan::ok();
    // A console lists 15 offline chats; when one of those goes, the 16th moves up.
    let next_offline = s.queues.next_offline_if_listed_leaves(vid);
    if was == ChatStatus::Unclaimed {
        s.queues.record_wait(waited);
    }
    s.set_status(&mut plan, vid, ChatStatus::Claimed, now);
    s.join(&mut plan, &staff.id, vid, now);
    s.system_message(&mut plan, vid, Some(&staff.id), "join room", now);

    let room = s.room(vid);
    let next = next_offline.map_or(raw(&()), |v| s.room(&v));
    let sj = raw(staff);
    s.tell(
        &mut plan,
        Audience::AllStaff(Some(&staff.id)),
        Out::StaffClaimChat,
        vec![
            ("staff", sj.clone()),
            ("visitor", room.clone()),
            ("next_offline_unclaimed_visitor", next),
        ],
    );
    s.tell(
        &mut plan,
        Audience::Visitor(vid),
        Out::StaffJoinRoom,
        vec![("staff", sj.clone())],
    );
    let history = plan.load_messages(&chat_id);
    s.tell(
        &mut plan,
        Audience::Supervisors(Some(&staff.id)),
        Out::AgentNewChat,
        vec![
            ("staff", sj),
            ("visitor", room),
            ("contents", Part::Messages(vec![history])),
        ],
    );
    plan
}
