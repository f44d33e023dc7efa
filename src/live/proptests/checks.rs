//! The checks of the live-core proptest: the simulated database fed from each plan's writes,
//! and the invariants and recipient rules checked after every step (see the parent module).

use super::*;

pub(super) fn json_of(p: &Part) -> Option<Value> {
    match p {
        Part::Json(v) => Some(v.clone()),
        Part::Raw(r) => serde_json::from_str(r.get()).ok(),
        Part::List(items) => items
            .iter()
            .map(json_of)
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        _ => None,
    }
}

pub(super) fn field<'a>(payload: &'a Payload, key: &str) -> Option<&'a Part> {
    payload.0.iter().find(|(k, _)| *k == key).map(|(_, p)| p)
}

pub(super) fn room_vid(room: &Value) -> String {
    room["visitor_id"].as_str().unwrap_or("?").to_string()
}

/// The visitor ids of `{visitor, contents}` entries (`unclaimed_chats`, `serving_chats`).
pub(super) fn entry_vids(p: Option<&Part>) -> Vec<String> {
    match p {
        Some(Part::List(items)) => items
            .iter()
            .map(|it| match it {
                Part::Object(kv) => kv
                    .iter()
                    .find(|(k, _)| *k == "visitor")
                    .and_then(|(_, p)| json_of(p))
                    .map(|r| room_vid(&r))
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .collect(),
        other => panic!("not a list of entries: {other:?}"),
    }
}

pub(super) fn room_list(p: Option<&Part>) -> Vec<Value> {
    match p.and_then(json_of) {
        Some(Value::Array(a)) => a,
        other => panic!("not a list of rooms: {other:?}"),
    }
}

impl World {
    /// Applies a plan's writes to the simulated database, as the writer does, in order.
    pub(super) fn apply_ops(&mut self, plan: &Plan) {
        let mut slots = vec![false; plan.slot_count()];
        for op in &plan.ops {
            match op {
                DbOp::CreateChat {
                    chat_id,
                    visitor_id,
                    at,
                } => {
                    let (chat_id, visitor_id) = (&chat_id.0, &visitor_id.0);
                    assert!(!self.chats.contains_key(chat_id), "chat id reused");
                    assert!(
                        !self.open_chat.contains_key(visitor_id),
                        "a second open chat for {visitor_id}"
                    );
                    self.chats.insert(
                        chat_id.clone(),
                        DbChat {
                            vid: visitor_id.clone(),
                            status: ChatStatus::Unclaimed,
                            serving: vec![],
                            last_seq: 0,
                            severity: 0,
                            flagged_at: None,
                            queued_at: *at,
                        },
                    );
                    self.open_chat.insert(visitor_id.clone(), chat_id.clone());
                    self.queue.push(visitor_id.clone());
                }
                DbOp::SetChatStatus {
                    chat_id,
                    status,
                    at,
                } => {
                    let chat_id = &chat_id.0;
                    let c = self
                        .chats
                        .get_mut(chat_id)
                        .expect("status of an unknown chat");
                    assert_ne!(
                        c.status,
                        ChatStatus::Ended,
                        "status change of an ended chat"
                    );
                    let (was, vid) = (c.status, c.vid.clone());
                    c.status = *status;
                    if matches!(status, ChatStatus::Unclaimed | ChatStatus::Offline) {
                        c.queued_at = *at;
                    }
                    if was == ChatStatus::Unclaimed && *status != was {
                        self.queue.retain(|v| *v != vid);
                    }
                    if was == ChatStatus::Offline && *status != was {
                        self.offline.retain(|v| *v != vid);
                    }
                    if *status == ChatStatus::Unclaimed && was != *status {
                        self.queue.push(vid.clone());
                    }
                    if *status == ChatStatus::Offline && was != *status {
                        self.offline.push(vid.clone());
                    }
                    if *status == ChatStatus::Ended {
                        self.open_chat.remove(&vid);
                    }
                }
                DbOp::StaffJoined {
                    chat_id, staff_id, ..
                } => {
                    let (chat_id, staff_id) = (&chat_id.0, &staff_id.0);
                    let c = self
                        .chats
                        .get_mut(chat_id)
                        .expect("join of an unknown chat");
                    assert_ne!(c.status, ChatStatus::Ended, "join of an ended chat");
                    assert!(!c.serving.contains(staff_id), "{staff_id} joined twice");
                    c.serving.push(staff_id.clone());
                }
                DbOp::StaffLeft {
                    chat_id, staff_id, ..
                } => {
                    let (chat_id, staff_id) = (&chat_id.0, &staff_id.0);
                    let c = self
                        .chats
                        .get_mut(chat_id)
                        .expect("leave of an unknown chat");
                    assert!(
                        c.serving.contains(staff_id),
                        "{staff_id} left without joining"
                    );
                    c.serving.retain(|s| s != staff_id);
                }
                DbOp::SetPriority {
                    chat_id,
                    severity_level,
                    flagged_at,
                    ..
                } => {
                    let c = self
                        .chats
                        .get_mut(chat_id.as_str())
                        .expect("priority of an unknown chat");
                    assert_ne!(c.status, ChatStatus::Ended, "priority of an ended chat");
                    c.severity = *severity_level;
                    c.flagged_at = *flagged_at;
                }
                DbOp::InsertMessage { slot, message } => {
                    let c = self
                        .chats
                        .get_mut(message.chat_id.as_str())
                        .unwrap_or_else(|| {
                            panic!("message into unknown chat {:?}", message.chat_id)
                        });
                    assert_ne!(c.status, ChatStatus::Ended, "message into an ended chat");
                    c.last_seq += 1;
                    self.seqs
                        .entry(message.chat_id.0.clone())
                        .or_default()
                        .push(c.last_seq);
                    assert!(!std::mem::replace(&mut slots[*slot], true), "slot reused");
                }
                DbOp::SetStaffAvailability { .. } | DbOp::UpdateVisitor { .. } => {}
                DbOp::SetRead { chat_id, seq, .. } => {
                    let c = self
                        .chats
                        .get(chat_id.as_str())
                        .expect("read of unknown chat");
                    assert!(*seq <= c.last_seq, "read beyond the last message");
                }
                DbOp::SetTags { chat_id, .. } | DbOp::RateChat { chat_id, .. } => {
                    assert!(self.chats.contains_key(chat_id.as_str()), "unknown chat");
                }
                DbOp::LoadMessages { slot, chat_id, .. } => {
                    assert!(
                        self.chats.contains_key(chat_id.as_str()),
                        "history of unknown chat {chat_id:?}"
                    );
                    assert!(!std::mem::replace(&mut slots[*slot], true), "slot reused");
                }
            }
        }
        assert!(slots.iter().all(|s| *s), "a slot the writer never fills");
    }

    /// Runs one plan: its writes, its sends checked, its timers set, its closes done.
    pub(super) fn carry_out(&mut self, plan: Plan, mut ctx: Ctx) {
        if matches!(plan.reply, Some(Err(_))) {
            assert!(
                plan.ops.is_empty() && plan.sends.is_empty() && plan.closes.is_empty(),
                "a refused request changed something: {plan:?}"
            );
        }
        // Rooms the step touched: before the writes...
        for op in &plan.ops {
            let chat_id = match op {
                DbOp::CreateChat { chat_id, .. }
                | DbOp::SetChatStatus { chat_id, .. }
                | DbOp::StaffJoined { chat_id, .. }
                | DbOp::StaffLeft { chat_id, .. }
                | DbOp::SetPriority { chat_id, .. }
                | DbOp::LoadMessages { chat_id, .. }
                | DbOp::SetRead { chat_id, .. }
                | DbOp::SetTags { chat_id, .. }
                | DbOp::RateChat { chat_id, .. } => chat_id,
                DbOp::InsertMessage { message, .. } => &message.chat_id,
                DbOp::SetStaffAvailability { .. } | DbOp::UpdateVisitor { .. } => continue,
            };
            if let Some(c) = self.chats.get(chat_id.as_str()) {
                ctx.rooms
                    .entry(c.vid.clone())
                    .or_default()
                    .extend(c.serving.iter().cloned());
            }
        }
        let before: Vec<String> = ctx.rooms.keys().cloned().collect();
        for v in before {
            let s = self.serving_of(&v);
            ctx.rooms.entry(v).or_default().extend(s);
        }
        self.apply_ops(&plan);
        // ...and after them.
        let touched: Vec<String> = ctx.rooms.keys().cloned().collect();
        for v in touched.iter().chain(
            plan.ops
                .iter()
                .filter_map(|o| match o {
                    DbOp::CreateChat { visitor_id, .. } => Some(&visitor_id.0),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        ) {
            let s = self.serving_of(v);
            ctx.rooms.entry(v.clone()).or_default().extend(s);
        }
        // A console that connects may be given waiting chats right after its `staff_init`
        // (which is as of its point in the plan): those come in `chat_assigned`.
        ctx.assigned = plan
            .sends
            .iter()
            .filter(|s| s.event == Out::ChatAssigned)
            .filter_map(|s| {
                let v = field(&s.payload, "visitor")
                    .and_then(json_of)
                    .and_then(|r| r["id"].as_str().map(str::to_string))?;
                Some((s.to[0], v))
            })
            .collect();
        for send in &plan.sends {
            self.check_send(send, &ctx);
        }
        for (after, t) in &plan.timers {
            self.timer_seq += 1;
            self.timers.push((
                self.now + after.as_millis() as i64,
                self.timer_seq,
                t.clone(),
            ));
        }
        for c in plan.closes {
            // The transport closes it and reports the disconnect, as a socket would.
            if let Some(p) = self.open.remove(&c) {
                if self.current.get(&p) == Some(&c) {
                    self.current.remove(&p);
                }
            }
            let plan = self.state.disconnect(c, self.now);
            self.carry_out(plan, Ctx::default());
        }
    }

    pub(super) fn check_send(&mut self, send: &Send, ctx: &Ctx) {
        let ev = send.event.name();
        let kinds: Vec<(ConnId, Option<usize>)> = send
            .to
            .iter()
            .map(|c| (*c, self.open.get(c).copied()))
            .collect();
        for (c, p) in &kinds {
            assert!(
                p.is_some() || ctx.connecting.is_some_and(|(n, _)| n == *c),
                "{ev} sent to connection {c:?}, which is not open"
            );
        }
        let only_staff = || kinds.iter().all(|(_, p)| p.is_some_and(is_staff));
        let only_sup = || {
            kinds
                .iter()
                .all(|(_, p)| p.is_some_and(|p| is_staff(p) && STAFF[p].1.is_supervisor()))
        };
        let staff_conns: BTreeSet<ConnId> = self
            .open
            .iter()
            .filter(|(_, p)| is_staff(**p))
            .map(|(c, _)| *c)
            .collect();
        let to: BTreeSet<ConnId> = send.to.iter().copied().collect();
        // The parties of a room this step touched: its visitor and its serving staff.
        let in_some_room = |c: ConnId| {
            ctx.rooms.iter().any(|(v, serving)| {
                self.conn_of_id(v) == Some(c)
                    || serving.iter().any(|s| self.conn_of_id(s) == Some(c))
            })
        };
        match ev {
            "visitor_init" | "visitor_room_exists" | "staff_init" | "staff_already_online" => {
                let (conn, who) = ctx.connecting.expect(ev);
                assert_eq!(send.to, vec![conn], "{ev}");
                assert_eq!(
                    ev.starts_with("staff"),
                    is_staff(who),
                    "{ev} to the wrong kind of connection"
                );
                if ev == "staff_init" {
                    self.check_staff_init(send, ctx);
                }
            }
            "queue_position" => {
                assert_eq!(send.to.len(), 1);
                let p = self.open.get(&send.to[0]).copied().expect("open");
                assert!(!is_staff(p), "queue_position to staff");
                let v = pid(p).to_string();
                let pos = self
                    .queue
                    .iter()
                    .position(|q| *q == v)
                    .unwrap_or_else(|| panic!("queue_position to {v}, who is not queued"));
                let told = field(&send.payload, "position")
                    .and_then(json_of)
                    .and_then(|j| j.as_u64())
                    .expect("position") as usize;
                assert_eq!(told, pos + 1, "{v} told the wrong place");
                self.told_position.insert(v, told);
            }
            "append_unclaimed_chats" | "visitor_unclaimed_msg" => {
                assert_eq!(to, staff_conns, "{ev} must reach every online staff");
            }
            "staff_claim_chat"
            | "visitor_leave_queue"
            | "visitor_goes_online"
            | "visitor_goes_offline"
            | "staff_goes_online"
            | "staff_goes_offline"
            | "unclaimed_chat_to_offline"
            | "remove_visitor_offline_chat" => {
                assert!(only_staff(), "{ev} (staff only) sent to a visitor");
            }
            "no_staff_available" => {
                // The visitor who wrote, or a waiting visitor when the last agent left.
                assert_eq!(send.to.len(), 1, "{ev} to more than one");
                let p = self.open.get(&send.to[0]).copied().expect("open");
                assert!(!is_staff(p), "{ev} to staff");
                assert!(
                    self.offline.contains(&pid(p).to_string()),
                    "{ev} to {}, whose chat does not wait offline",
                    pid(p)
                );
            }
            "visitor_updated" | "chat_watched" => {
                assert!(only_staff(), "{ev} (staff only) sent to a visitor");
            }
            "staff_note_send" => {
                // Never a visitor, never the note's author.
                assert!(only_staff(), "a note reached a visitor");
                assert!(ctx.actor.is_none_or(|a| !to.contains(&a)), "{ev} echoed");
            }
            "chat_tags_changed"
            | "chat_rated"
            | "visitor_page_viewed"
            | "canned_replies_changed" => {
                assert_eq!(to, staff_conns, "{ev} must reach every online staff");
            }
            "message_seen" | "chat_timeout_warning" | "chat_closed_inactive" => {
                for c in &send.to {
                    assert!(in_some_room(*c), "{ev} sent to {c:?}, outside the room");
                }
                assert!(ctx.actor.is_none_or(|a| !to.contains(&a)), "{ev} echoed");
            }
            "staff_availability_changed" => {
                assert_eq!(to, staff_conns, "{ev} must reach every online staff");
            }
            "chat_assigned" | "chat_transferred_to_you" => {
                // One staff member, who now serves the chat.
                assert_eq!(send.to.len(), 1, "{ev} to more than one");
                let p = self.open.get(&send.to[0]).copied().expect("open");
                assert!(is_staff(p), "{ev} to a visitor");
                let v = field(&send.payload, "visitor")
                    .and_then(json_of)
                    .and_then(|r| r["id"].as_str().map(str::to_string))
                    .expect("visitor");
                assert!(
                    self.serving_of(&v).contains(pid(p)),
                    "{ev} to {} who does not serve {v}",
                    pid(p)
                );
                if ev == "chat_assigned" {
                    let load = self
                        .open_chat
                        .values()
                        .filter_map(|c| self.chats.get(c))
                        .filter(|c| c.serving.iter().any(|s| s == pid(p)))
                        .count();
                    assert!(
                        load <= crate::model::DEFAULT_MAX_CHATS as usize,
                        "routing gave {} a chat beyond their capacity ({load})",
                        pid(p)
                    );
                }
            }
            "chat_unassigned" => {
                assert_eq!(send.to.len(), 1, "{ev} to more than one");
                assert!(only_staff(), "{ev} to a visitor");
            }
            "chat_transferred" => {
                // The visitor gets {from, to}; staff also get the room.
                let has_room = field(&send.payload, "visitor").is_some();
                assert_eq!(
                    only_staff(),
                    has_room,
                    "{ev}: the visitor gets no room object"
                );
                if !has_room {
                    assert!(send.to.len() == 1 && !only_staff());
                }
            }
            "messages_since" => {
                let me = ctx.actor.expect("sync has a sender");
                assert_eq!(send.to, vec![me], "messages_since to anyone but the asker");
            }
            "visitor_away" | "visitor_back" => {
                assert!(only_staff(), "{ev} (staff only) sent to a visitor");
            }
            "staff_away" | "staff_back" => {
                // Other staff, and the visitors of the chats that staff member serves.
                let sid = field(&send.payload, "staff")
                    .and_then(json_of)
                    .and_then(|s| s["id"].as_str().map(str::to_string))
                    .expect("staff id");
                for c in &send.to {
                    let p = self.open.get(c).copied().expect("open");
                    if is_staff(p) {
                        assert_ne!(pid(p), sid, "{ev} told to the staff member themselves");
                    } else {
                        assert!(
                            self.serving_of(pid(p)).contains(&sid),
                            "{ev} to a visitor {sid} does not serve"
                        );
                    }
                }
            }
            "new_visitor_msg_for_supervisor"
            | "new_staff_msg_for_supervisor"
            | "agent_new_chat"
            | "staff_leave_chat_for_supervisor"
            | "visitor_leave_chat_for_supervisor"
            | "staff_take_over_chat"
            | "chat_has_changed_priority_for_supervisor" => {
                assert!(only_sup(), "{ev} sent to someone below supervisor");
            }
            "visitor_send" => {
                let v = ctx.rooms.keys().next().cloned().unwrap_or_default();
                let serving: BTreeSet<ConnId> = self
                    .serving_of(&v)
                    .iter()
                    .filter_map(|s| self.conn_of_id(s))
                    .collect();
                assert_eq!(
                    to, serving,
                    "visitor_send must reach exactly the serving staff"
                );
            }
            "staff_send"
            | "staff_leave"
            | "staff_join_room"
            | "staff_being_taken_over_chat"
            | "staff_being_added_to_chat"
            | "staff_being_removed_from_chat"
            | "user_typing_receive"
            | "user_stop_typing_receive" => {
                for c in &send.to {
                    assert!(in_some_room(*c), "{ev} sent to {c:?}, outside the room");
                }
                if matches!(
                    ev,
                    "staff_send" | "user_typing_receive" | "user_stop_typing_receive"
                ) {
                    assert!(
                        ctx.actor.is_none_or(|a| !to.contains(&a)),
                        "{ev} echoed to its sender"
                    );
                }
                if ev == "staff_join_room" {
                    assert!(
                        !only_staff() || send.to.is_empty(),
                        "staff_join_room to staff"
                    );
                }
            }
            other => panic!("an event the recipient rules do not know: {other}"),
        }
    }
}
