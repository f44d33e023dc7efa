//! Supervision: the rank rule (`rank_refusal`), take over, add and remove staff, and priority flags.
//! One `impl LiveState` block of the rules in `live/state.rs` (the state and its helpers live there).

use super::*;

impl LiveState {
    /// The rank rule of every supervision event, in one place. Only supervisors and admins
    /// supervise, and nobody acts over someone of their own rank or above:
    /// - take over: the requester outranks every staff member serving the chat (the seed's
    ///   "A supervisor cannot take over a chat from a supervisor.");
    /// - remove: the requester outranks the staff member removed (or removes themselves) —
    ///   otherwise removing an admin and then claiming the chat would be a take-over by the
    ///   back door;
    /// - add: nobody serving the chat outranks the requester (a supervisor may bring a colleague
    ///   into a supervisor's or an agent's chat, not into an admin's).
    pub(super) fn rank_refusal(&self, by: &Staff, act: Supervision, vid: &str) -> Option<String> {
        let role_of = |sid: &str| {
            self.staff_obj(sid)
                .map(|s| s.role_id)
                .unwrap_or(Role::Agent)
        };
        let role_needed = match act {
            Supervision::TakeOver => say::TAKE_OVER_ROLE,
            Supervision::Add => say::ADD_ROLE,
            Supervision::Remove(_) => say::REMOVE_ROLE,
        };
        if !by.role_id.is_supervisor() {
            return Some(role_needed.into());
        }
        // The first other serving staff member of a rank that `blocks`.
        let first_serving = |blocks: &dyn Fn(Role) -> bool| {
            let serving = self.chats.get(vid).map(|c| c.serving.as_slice());
            serving
                .unwrap_or_default()
                .iter()
                .filter(|s| **s != by.id)
                .map(|s| role_of(s))
                .find(|r| blocks(*r))
        };
        let (blocker, what) = match act {
            // Themselves among the serving staff: that answer comes later ("already").
            Supervision::TakeOver => (
                first_serving(&|r| !by.role_id.outranks(r))?,
                "take over a chat from",
            ),
            Supervision::Add => (
                first_serving(&|r| r.outranks(by.role_id))?,
                "add staff to a chat served by",
            ),
            Supervision::Remove(target) => {
                let role = role_of(target);
                if target == by.id || by.role_id.outranks(role) {
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
        let tail = if matches!(act, Supervision::Remove(_)) {
            " from a chat"
        } else {
            ""
        };
        Some(format!(
            "{who} cannot {what} {an} {}{tail}.",
            blocker.name()
        ))
    }

    pub(super) fn take_over(&mut self, staff: &Staff, vid: &str, now: i64) -> Plan {
        if let Some(why) = self.rank_refusal(staff, Supervision::TakeOver, vid) {
            return Plan::err(why);
        }
        let Some(chat) = self.chats.get(vid) else {
            return Plan::err(say::CLOSED);
        };
        if chat.status != ChatStatus::Claimed {
            return Plan::err(say::NOT_CLAIMED);
        }
        if chat.serving.contains(&staff.id) {
            return Plan::err(say::ALREADY_IN_ROOM);
        }
        let chat_id = chat.chat_id.clone();
        let replaced = chat.serving.clone();
        let replaced_conns: Vec<ConnId> = replaced
            .iter()
            .filter_map(|s| self.staff.get(s).and_then(|e| e.conn))
            .collect();
        let mut plan = Plan::ok();
        for sid in &replaced {
            self.unjoin(&mut plan, sid, vid, now);
        }
        self.join(&mut plan, &staff.id, vid, &chat_id, now);
        self.system_message(&mut plan, vid, Some(&staff.id), "take over room", now);
        let room = self.room_part(vid);
        let sj = raw_part(staff);
        let mut to = replaced_conns;
        to.extend(self.visitor_conn(vid));
        plan.send(
            to,
            "staff_being_taken_over_chat",
            vec![("staff", sj.clone()), ("visitor", room.clone())],
        );
        plan.send(
            self.supervisor_conns(Some(&staff.id)),
            "staff_take_over_chat",
            vec![("staff", sj), ("visitor", room)],
        );
        plan
    }

    pub(super) fn add_staff(&mut self, by: &Staff, vid: &str, target: &str, now: i64) -> Plan {
        if let Some(why) = self.rank_refusal(by, Supervision::Add, vid) {
            return Plan::err(why);
        }
        let Some(chat) = self.chats.get(vid) else {
            return Plan::err(say::CLOSED);
        };
        if chat.status != ChatStatus::Claimed {
            return Plan::err(say::NOT_CLAIMED);
        }
        if chat.serving.iter().any(|s| s == target) {
            return Plan::err(say::STAFF_ALREADY_IN);
        }
        let Some(added) = self
            .staff
            .get(target)
            .filter(|e| e.conn.is_some())
            .map(|e| e.staff.clone())
        else {
            return Plan::err(say::STAFF_NOT_ONLINE);
        };
        if chat.serving.len() >= self.cfg.max_staffs_in_chat {
            return Plan::err(format!(
                "This chat already has the maximum of {} staff.",
                self.cfg.max_staffs_in_chat
            ));
        }
        let chat_id = chat.chat_id.clone();
        let mut plan = Plan::ok();
        self.join(&mut plan, target, vid, &chat_id, now);
        self.system_message(&mut plan, vid, Some(target), "join room", now);
        let aj = raw_part(&added);
        plan.send(
            self.visitor_conn(vid),
            "staff_being_added_to_chat",
            vec![("staff", aj.clone())],
        );
        // Staff also get the room, so the added one can open it.
        plan.send(
            self.serving_conns(vid, None),
            "staff_being_added_to_chat",
            vec![("staff", aj), ("visitor", self.room_part(vid))],
        );
        plan
    }

    pub(super) fn remove_staff(&mut self, by: &Staff, vid: &str, target: &str, now: i64) -> Plan {
        if let Some(why) = self.rank_refusal(by, Supervision::Remove(target), vid) {
            return Plan::err(why);
        }
        let Some(chat) = self.chats.get(vid) else {
            return Plan::err(say::CLOSED);
        };
        if !chat.serving.iter().any(|s| s == target) {
            return Plan::err(say::STAFF_NOT_IN);
        }
        let removed = self.staff_obj(target).cloned();
        let mut plan = Plan::ok();
        let rj = removed
            .as_ref()
            .map(staff_json)
            .unwrap_or(json!({ "id": target }));
        plan.send(
            self.visitor_conn(vid),
            "staff_being_removed_from_chat",
            vec![("staff", j(rj.clone()))],
        );
        // Staff also get the room, so the removed one knows which chat to close.
        plan.send(
            self.serving_conns(vid, None),
            "staff_being_removed_from_chat",
            vec![("staff", j(rj)), ("visitor", self.room_part(vid))],
        );
        self.system_message(&mut plan, vid, Some(target), "leave room", now);
        self.unjoin(&mut plan, target, vid, now);
        if self.chats.get(vid).is_some_and(|c| c.serving.is_empty()) {
            // Nobody serves it any more: back to the queue it belongs in.
            let chat_id = self
                .chats
                .get(vid)
                .map(|c| c.chat_id.clone())
                .unwrap_or_default();
            let online = self.visitors.contains_key(vid);
            if online {
                self.set_status(&mut plan, vid, ChatStatus::Unclaimed, now);
                let history = plan.load_messages(&chat_id);
                plan.send(
                    self.staff_conns(None),
                    "append_unclaimed_chats",
                    vec![
                        ("visitor", self.room_part(vid)),
                        ("contents", Part::Messages(vec![history])),
                    ],
                );
                self.tell_position(&mut plan, vid);
            } else {
                self.set_status(&mut plan, vid, ChatStatus::Offline, now);
                plan.send(
                    self.staff_conns(None),
                    "unclaimed_chat_to_offline",
                    vec![("visitor", self.room_part(vid))],
                );
            }
        }
        plan
    }

    pub(super) fn change_priority(
        &mut self,
        staff: &Staff,
        vid: &str,
        level: i64,
        now: i64,
    ) -> Plan {
        let Some(chat) = self.chats.get_mut(vid) else {
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
        plan.send(
            self.supervisor_conns(Some(&staff.id)),
            "chat_has_changed_priority_for_supervisor",
            vec![("staff", raw_part(staff)), ("visitor", self.room_part(vid))],
        );
        plan
    }
}
