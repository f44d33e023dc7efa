//! Messages and rooms: visitor and staff messages, claims, joining and leaving a room, closing a chat.
//! One `impl LiveState` block of the rules in `live/state.rs` (the state and its helpers live there).

use super::*;

impl LiveState {
    /// `visitor_first_msg`, `visitor_msg_unclaimed` and `visitor_msg` alike: what happens
    /// depends on the chat's state, so clients need not track it.
    pub(super) fn visitor_message(&mut self, vid: &str, content: Arc<RawValue>, now: i64) -> Plan {
        let mut plan = Plan::ok();
        let status = self.chats.get(vid).map(|c| c.status);
        if status.is_none() {
            let Some(visitor) = self.visitors.get(vid).map(|e| e.visitor.clone()) else {
                return Plan::err(say::NOT_CONNECTED);
            };
            let chat_id = new_id();
            plan.op(DbOp::CreateChat {
                chat_id: chat_id.clone(),
                visitor_id: vid.to_string(),
                at: now,
            });
            self.chats.insert(
                vid.to_string(),
                Chat {
                    chat_id,
                    visitor,
                    status: ChatStatus::Unclaimed,
                    serving: vec![],
                    severity_level: 0,
                    flagged_at: None,
                    tags: vec![],
                    queued_at: now,
                    told_position: None,
                },
            );
            self.unclaimed.push(vid.to_string());
        }
        let chat_id = self
            .chats
            .get(vid)
            .map(|c| c.chat_id.clone())
            .unwrap_or_default();
        let m = plan.insert_message(NewMessage {
            id: new_id(),
            chat_id: chat_id.clone(),
            type_id: MESSAGE_CHAT,
            sender: None,
            content,
            created_at: now,
        });
        match status {
            None => {
                let room = self.room_part(vid);
                plan.send(
                    self.staff_conns(None),
                    "append_unclaimed_chats",
                    vec![("visitor", room), ("contents", Part::Messages(vec![m]))],
                );
                self.tell_position(&mut plan, vid);
            }
            Some(ChatStatus::Offline) => {
                let everyone = self.staff_conns(None);
                plan.send(
                    everyone.clone(),
                    "remove_visitor_offline_chat",
                    vec![("visitor", self.room_part(vid))],
                );
                self.set_status(&mut plan, vid, ChatStatus::Unclaimed, now);
                let history = plan.load_messages(&chat_id);
                plan.send(
                    everyone,
                    "append_unclaimed_chats",
                    vec![
                        ("visitor", self.room_part(vid)),
                        ("contents", Part::Messages(vec![history])),
                    ],
                );
                self.tell_position(&mut plan, vid);
            }
            Some(ChatStatus::Unclaimed) => {
                plan.send(
                    self.staff_conns(None),
                    "visitor_unclaimed_msg",
                    vec![
                        ("visitor", self.room_part(vid)),
                        ("content", Part::Message(m)),
                    ],
                );
            }
            Some(ChatStatus::Claimed) => {
                let room = self.room_part(vid);
                plan.send(
                    self.serving_conns(vid, None),
                    "visitor_send",
                    vec![("visitor", room.clone()), ("content", Part::Message(m))],
                );
                plan.send(
                    self.supervisor_conns(None),
                    "new_visitor_msg_for_supervisor",
                    vec![("visitor", room), ("content", Part::Message(m))],
                );
            }
            Some(ChatStatus::Ended) => {}
        }
        plan
    }

    /// `staff_join`: the claim. Commands run one at a time, so of two racing claims the first
    /// wins and the second finds the chat claimed.
    pub(super) fn claim(&mut self, staff: &Staff, vid: &str, now: i64) -> Plan {
        let Some(chat) = self.chats.get(vid) else {
            return Plan::err(say::CLOSED);
        };
        if chat.status == ChatStatus::Claimed {
            return Plan::err(if chat.serving.contains(&staff.id) {
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
        let next_offline = match self.offline.iter().position(|v| v == vid) {
            Some(i) if i < LIST_SIZE => self.offline.get(LIST_SIZE).cloned(),
            _ => None,
        };
        if was == ChatStatus::Unclaimed {
            self.avg_wait_secs = 0.8 * self.avg_wait_secs + 0.2 * waited;
        }
        self.set_status(&mut plan, vid, ChatStatus::Claimed, now);
        self.join(&mut plan, &staff.id, vid, &chat_id, now);
        self.system_message(&mut plan, vid, Some(&staff.id), "join room", now);

        let room = self.room_part(vid);
        let next = next_offline.map_or(Part::Json(Value::Null), |v| self.room_part(&v));
        let sj = raw_part(staff);
        plan.send(
            self.staff_conns(Some(&staff.id)),
            "staff_claim_chat",
            vec![
                ("staff", sj.clone()),
                ("visitor", room.clone()),
                ("next_offline_unclaimed_visitor", next),
            ],
        );
        plan.send(
            self.visitor_conn(vid),
            "staff_join_room",
            vec![("staff", sj.clone())],
        );
        let history = plan.load_messages(&chat_id);
        plan.send(
            self.supervisor_conns(Some(&staff.id)),
            "agent_new_chat",
            vec![
                ("staff", sj),
                ("visitor", room),
                ("contents", Part::Messages(vec![history])),
            ],
        );
        plan
    }

    pub(super) fn join(&mut self, plan: &mut Plan, sid: &str, vid: &str, chat_id: &str, now: i64) {
        if let Some(chat) = self.chats.get_mut(vid) {
            chat.serving.push(sid.to_string());
        }
        if let Some(e) = self.staff.get_mut(sid) {
            e.rooms.push(vid.to_string());
        }
        plan.op(DbOp::StaffJoined {
            chat_id: chat_id.to_string(),
            staff_id: sid.to_string(),
            at: now,
        });
    }

    pub(super) fn unjoin(&mut self, plan: &mut Plan, sid: &str, vid: &str, now: i64) {
        let Some(chat) = self.chats.get_mut(vid) else {
            return;
        };
        chat.serving.retain(|s| s != sid);
        plan.op(DbOp::StaffLeft {
            chat_id: chat.chat_id.clone(),
            staff_id: sid.to_string(),
            at: now,
        });
        if let Some(e) = self.staff.get_mut(sid) {
            e.rooms.retain(|v| v != vid);
        }
    }

    pub(super) fn staff_message(
        &mut self,
        staff: &Staff,
        vid: &str,
        content: Arc<RawValue>,
        now: i64,
    ) -> Plan {
        let Some(chat) = self.chats.get(vid) else {
            return Plan::err(say::CLOSED);
        };
        if !chat.serving.contains(&staff.id) {
            return Plan::err(say::NOT_IN_ROOM);
        }
        let mut plan = Plan::ok();
        let m = plan.insert_message(NewMessage {
            id: new_id(),
            chat_id: chat.chat_id.clone(),
            type_id: MESSAGE_CHAT,
            sender: Some(staff.id.clone()),
            content,
            created_at: now,
        });
        let sj = raw_part(staff);
        let mut to = self.visitor_conn(vid);
        to.extend(self.serving_conns(vid, Some(&staff.id)));
        plan.send(
            to,
            "staff_send",
            vec![("staff", sj.clone()), ("content", Part::Message(m))],
        );
        plan.send(
            self.supervisor_conns(Some(&staff.id)),
            "new_staff_msg_for_supervisor",
            vec![
                ("staff", sj),
                ("content", Part::Message(m)),
                ("visitor", self.room_part(vid)),
            ],
        );
        plan
    }

    /// A staff leaves a room (by `staff_leave_room` or by going away). The last one out
    /// closes the chat.
    pub(super) fn leave_room(&mut self, plan: &mut Plan, staff: &Staff, vid: &str, now: i64) {
        if !self
            .chats
            .get(vid)
            .is_some_and(|c| c.serving.contains(&staff.id))
        {
            return;
        }
        self.system_message(plan, vid, Some(&staff.id), "leave room", now);
        self.unjoin(plan, &staff.id, vid, now);
        let sj = raw_part(staff);
        let mut to = self.visitor_conn(vid);
        to.extend(self.serving_conns(vid, None));
        plan.send(to, "staff_leave", vec![("staff", sj.clone())]);
        plan.send(
            self.supervisor_conns(Some(&staff.id)),
            "staff_leave_chat_for_supervisor",
            vec![("staff", sj), ("visitor", self.room_part(vid))],
        );
        if self.chats.get(vid).is_some_and(|c| c.serving.is_empty()) {
            self.close_chat(plan, vid, now);
        }
    }

    /// The visitor ends the chat (`visitor_leave_room`, or gone while claimed).
    pub(super) fn end_by_visitor(&mut self, plan: &mut Plan, vid: &str, now: i64) {
        let room = self.room_part(vid);
        self.system_message(plan, vid, None, "leave room", now);
        plan.send(
            self.staff_conns(None),
            "visitor_leave_queue",
            vec![("user", room.clone())],
        );
        plan.send(
            self.supervisor_conns(None),
            "visitor_leave_chat_for_supervisor",
            vec![("visitor", room)],
        );
        self.close_chat(plan, vid, now);
    }

    pub(super) fn close_chat(&mut self, plan: &mut Plan, vid: &str, now: i64) {
        self.set_status(plan, vid, ChatStatus::Ended, now);
        if let Some(chat) = self.chats.remove(vid) {
            for sid in chat.serving {
                if let Some(e) = self.staff.get_mut(&sid) {
                    e.rooms.retain(|v| v != vid);
                }
            }
        }
    }
}
