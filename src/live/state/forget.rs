//! Data protection (issue 16): an admin deletes a visitor and everything of theirs. The live
//! state forgets them first, in command order, so nothing can write for them afterwards: their
//! connection closes, their open chat leaves the rooms and queues, and the consoles hear what
//! they hear when a visitor leaves (`visitor_leave_queue`, supervisors
//! `visitor_leave_chat_for_supervisor`, then `visitor_goes_offline`). The rule writes nothing:
//! the actor deletes the rows right after this plan (`live/actor/forget.rs`).

use super::LiveState;
use crate::live::plan::*;
use crate::model::VisitorId;

impl LiveState {
    pub fn forget_visitor(&mut self, vid: &VisitorId, now: i64) -> Plan {
        let mut plan = Plan::default();
        self.forgotten.insert(vid.clone());
        let room = self.room(vid);
        if let Some(chat) = self.rooms.get_mut(vid) {
            let was = chat.status;
            chat.status = ChatStatus::Ended;
            self.queues.moved(vid, Some(was), ChatStatus::Ended);
            self.tell(
                &mut plan,
                Audience::AllStaff(None),
                Out::VisitorLeaveQueue,
                vec![("user", room.clone())],
            );
            self.tell(
                &mut plan,
                Audience::Supervisors(None),
                Out::VisitorLeaveChatForSupervisor,
                vec![("visitor", room.clone())],
            );
            self.rooms.close(vid);
            self.queues.mark_dirty();
        }
        if self.roster.has_visitor(vid) {
            plan.closes.extend(self.roster.visitor_conn(vid));
            self.tell(
                &mut plan,
                Audience::AllStaff(None),
                Out::VisitorGoesOffline,
                vec![("visitor", room)],
            );
            self.roster.remove_visitor(vid);
        }
        self.rooms.forget_visitor(vid);
        self.visits.forget(vid);
        // Capacity freed: waiting chats may go to the staff who served this one.
        self.route(&mut plan, now);
        plan
    }

    /// A visitor deleted by an admin may not come back with a token checked just before.
    pub fn is_forgotten(&self, vid: &str) -> bool {
        self.forgotten.contains(vid)
    }
}

#[cfg(test)]
mod tests {
    use crate::live::events::Request;
    use crate::live::plan::*;
    use crate::live::state::tests::{live, staff, visitor};
    use crate::model::Role;
    use serde_json::value::RawValue;
    use serde_json::{json, Value};

    fn req(name: &str, data: Value) -> Request {
        let raw = RawValue::from_string(data.to_string()).unwrap();
        Request::parse(name, Some(&raw), 1 << 14).unwrap()
    }

    #[test]
    fn a_forgotten_visitor_leaves_rooms_and_queues_and_staff_hear_the_end() {
        let (agent, sup, vis) = (ConnId(1), ConnId(3), ConnId(10));
        let mut l = live(0);
        l.connect(agent, &staff("a", Role::Agent), false, 0);
        l.connect(sup, &staff("s", Role::Supervisor), false, 0);
        l.connect(vis, &visitor("v"), false, 0);
        let p = l.request(vis, req("visitor_msg", json!({"content": "hi"})), 1);
        assert_eq!(p.reply, Some(Ok(())));
        let p = l.request(agent, req("staff_join", json!({"visitor": "v"})), 2);
        assert_eq!(p.reply, Some(Ok(())));

        let plan = l.forget_visitor(&"v".into(), 3);
        assert!(
            plan.ops.is_empty(),
            "the rule writes nothing: {:?}",
            plan.ops
        );
        assert_eq!(plan.closes, vec![vis]);
        assert_eq!(
            plan.events_for(agent),
            ["visitor_leave_queue", "visitor_goes_offline"]
        );
        assert_eq!(
            plan.events_for(sup),
            [
                "visitor_leave_queue",
                "visitor_leave_chat_for_supervisor",
                "visitor_goes_offline"
            ]
        );
        assert!(plan.events_for(vis).is_empty());
        assert!(l.rooms.get("v").is_none());
        assert!(!l.roster.has_visitor("v"));
        assert!(l.rooms.served_by("a").is_empty());
        assert!(l.queues.unclaimed().is_empty() && l.queues.offline().is_empty());
        // Whatever still arrives on that connection is refused and writes nothing.
        let p = l.request(vis, req("visitor_msg", json!({"content": "again"})), 4);
        assert!(p.ops.is_empty() && matches!(p.reply, Some(Err(_))));
        assert!(l.is_forgotten("v"));
    }
}
