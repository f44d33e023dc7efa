//! Presence: staff and visitors connecting, their `staff_init` / `visitor_init`, dropped sockets and what the reconnect grace does when it runs out.
//! One `impl LiveState` block of the rules in `live/state.rs` (the state and its helpers live there).

use super::*;

impl LiveState {
    /// A new authenticated connection.
    pub fn connect(&mut self, conn: ConnId, who: &Principal, force: bool) -> Plan {
        match who {
            Principal::Staff(s) => self.connect_staff(conn, s, force),
            Principal::Visitor(v) => self.connect_visitor(conn, v, force),
        }
    }

    pub(super) fn connect_staff(&mut self, conn: ConnId, staff: &Staff, force: bool) -> Plan {
        let mut plan = Plan::default();
        let sid = staff.id.clone();
        if let Some(old) = self.staff.get(&sid).and_then(|e| e.conn) {
            if !force {
                plan.send(
                    vec![conn],
                    "staff_already_online",
                    vec![("staff", raw_part(staff))],
                );
                plan.closes.push(conn);
                return plan;
            }
            // `force`: this tab wins; the older one is closed, and its disconnect is ignored.
            self.conns.remove(&old);
            plan.closes.push(old);
        }
        let resumed = self.staff.contains_key(&sid);
        let entry = self.staff.entry(sid.clone()).or_insert_with(|| StaffEntry {
            staff: staff.clone(),
            conn: None,
            epoch: 0,
            rooms: vec![],
        });
        entry.staff = staff.clone();
        entry.conn = Some(conn);
        entry.epoch += 1;
        self.conns.insert(conn, (Kind::Staff, sid.clone()));
        self.staff_init(&mut plan, conn, &sid);
        if !resumed {
            let others = self.staff_conns(Some(&sid));
            plan.send(
                others,
                "staff_goes_online",
                vec![("staff", raw_part(staff))],
            );
        }
        plan
    }

    /// `staff_init`: everything a console shows, as of this point in command order.
    pub(super) fn staff_init(&self, plan: &mut Plan, conn: ConnId, sid: &str) {
        let mut online: Vec<&StaffEntry> = self.staff.values().collect();
        online.sort_by(|a, b| a.staff.full_name.cmp(&b.staff.full_name));
        let online_users: Vec<Value> = online.iter().map(|e| staff_json(&e.staff)).collect();
        let mut visitors: Vec<&VisitorEntry> = self.visitors.values().collect();
        visitors.sort_by_key(|e| e.visitor.created_at);
        let online_visitors: Vec<Value> =
            visitors.iter().map(|e| visitor_json(&e.visitor)).collect();

        let with_contents = |plan: &mut Plan, vid: &str| -> Part {
            let chat_id = self
                .chats
                .get(vid)
                .map(|c| c.chat_id.clone())
                .unwrap_or_default();
            let slot = plan.load_messages(&chat_id);
            Part::Object(vec![
                ("visitor", self.room_part(vid)),
                ("contents", Part::Messages(vec![slot])),
            ])
        };
        let unclaimed: Vec<Part> = self
            .unclaimed
            .iter()
            .map(|vid| with_contents(plan, vid))
            .collect();
        let offline: Vec<Value> = self
            .offline
            .iter()
            .take(LIST_SIZE)
            .map(|v| self.room(v))
            .collect();
        let mut flagged: Vec<(&String, i64)> = self
            .chats
            .iter()
            .filter(|(_, c)| c.severity_level > 0)
            .map(|(v, c)| (v, c.flagged_at.unwrap_or(0)))
            .collect();
        flagged.sort_by_key(|f| std::cmp::Reverse(f.1));
        let flagged: Vec<Value> = flagged
            .iter()
            .take(LIST_SIZE)
            .map(|(v, _)| self.room(v))
            .collect();
        let me = self.staff.get(sid);
        let serving: Vec<Part> = me
            .map(|e| e.rooms.clone())
            .unwrap_or_default()
            .iter()
            .map(|vid| with_contents(plan, vid))
            .collect();
        let mut payload = vec![
            ("online_users", j(Value::Array(online_users))),
            ("online_visitors", j(Value::Array(online_visitors))),
            ("unclaimed_chats", Part::List(unclaimed)),
            ("offline_unclaimed_chats", j(Value::Array(offline))),
            ("flagged_chats", j(Value::Array(flagged))),
            // Beyond the seed: the chats this staff serves (a reloaded console restores them)...
            ("serving_chats", Part::List(serving)),
        ];
        // ...and, for supervisors and admins, every claimed chat with its serving staff.
        if me.is_some_and(|e| e.staff.role_id.is_supervisor()) {
            let mut claimed: Vec<(&String, &Chat)> = self
                .chats
                .iter()
                .filter(|(_, c)| c.status == ChatStatus::Claimed)
                .collect();
            claimed.sort_by_key(|c| c.1.queued_at);
            let claimed: Vec<Value> = claimed.iter().map(|(v, _)| self.room(v)).collect();
            payload.push(("claimed_chats", j(Value::Array(claimed))));
        }
        plan.send(vec![conn], "staff_init", payload);
    }

    pub(super) fn connect_visitor(&mut self, conn: ConnId, visitor: &Visitor, force: bool) -> Plan {
        let mut plan = Plan::default();
        let vid = visitor.id.clone();
        if let Some(old) = self.visitors.get(&vid).and_then(|e| e.conn) {
            if !force {
                plan.send(
                    vec![conn],
                    "visitor_room_exists",
                    vec![("visitor", self.room_part(&vid))],
                );
                plan.closes.push(conn);
                return plan;
            }
            self.conns.remove(&old);
            plan.closes.push(old);
        }
        let resumed = self.visitors.contains_key(&vid);
        let entry = self
            .visitors
            .entry(vid.clone())
            .or_insert_with(|| VisitorEntry {
                visitor: visitor.clone(),
                conn: None,
                epoch: 0,
            });
        entry.visitor = visitor.clone();
        entry.conn = Some(conn);
        entry.epoch += 1;
        self.conns.insert(conn, (Kind::Visitor, vid.clone()));
        if let Some(chat) = self.chats.get_mut(&vid) {
            chat.visitor = visitor.clone();
            chat.told_position = None;
        }
        let contents = match self.chats.get(&vid) {
            Some(c) => {
                let chat_id = c.chat_id.clone();
                Part::Messages(vec![plan.load_messages(&chat_id)])
            }
            None => j(json!([])),
        };
        plan.send(
            vec![conn],
            "visitor_init",
            vec![
                ("staff", raw_part(&self.serving_staff(&vid))),
                ("contents", contents),
            ],
        );
        if !resumed {
            plan.send(
                self.staff_conns(None),
                "visitor_goes_online",
                vec![("visitor", self.room_part(&vid))],
            );
        }
        self.tell_position(&mut plan, &vid);
        plan
    }

    /// A connection closed. Its effects wait for the reconnect grace.
    pub fn disconnect(&mut self, conn: ConnId, now: i64) -> Plan {
        let mut plan = Plan::default();
        let Some((kind, id)) = self.conns.remove(&conn) else {
            return plan;
        };
        // Only the current connection of a staff or visitor counts (not a replaced one).
        let detach = |entry_conn: &mut Option<ConnId>, epoch: &mut u64| {
            (*entry_conn == Some(conn)).then(|| {
                *entry_conn = None;
                *epoch += 1;
                *epoch
            })
        };
        let timer = match kind {
            Kind::Staff => self
                .staff
                .get_mut(&id)
                .and_then(|e| detach(&mut e.conn, &mut e.epoch))
                .map(|epoch| Timer::StaffGone {
                    staff_id: id,
                    epoch,
                }),
            Kind::Visitor => self
                .visitors
                .get_mut(&id)
                .and_then(|e| detach(&mut e.conn, &mut e.epoch))
                .map(|epoch| Timer::VisitorGone {
                    visitor_id: id,
                    epoch,
                }),
        };
        let Some(timer) = timer else {
            return plan;
        };
        let grace = self.cfg.reconnect_grace;
        if grace.is_zero() {
            // No grace: the disconnect takes effect now, exactly as when a grace runs out.
            return self.timer(timer, now);
        }
        plan.timers.push((grace, timer));
        plan
    }

    /// A grace period ended: if nobody came back, the disconnect takes effect.
    pub fn timer(&mut self, timer: Timer, now: i64) -> Plan {
        let mut plan = Plan::default();
        match timer {
            Timer::StaffGone { staff_id, epoch } => {
                if self
                    .staff
                    .get(&staff_id)
                    .is_some_and(|e| e.conn.is_none() && e.epoch == epoch)
                {
                    self.staff_gone(&mut plan, &staff_id, now);
                }
            }
            Timer::VisitorGone { visitor_id, epoch } => {
                if self
                    .visitors
                    .get(&visitor_id)
                    .is_some_and(|e| e.conn.is_none() && e.epoch == epoch)
                {
                    self.visitor_gone(&mut plan, &visitor_id, now);
                }
            }
        }
        plan
    }

    pub(super) fn staff_gone(&mut self, plan: &mut Plan, sid: &str, now: i64) {
        let Some(entry) = self.staff.get(sid) else {
            return;
        };
        let staff = entry.staff.clone();
        for vid in entry.rooms.clone() {
            self.leave_room(plan, &staff, &vid, now);
        }
        self.staff.remove(sid);
        plan.send(
            self.staff_conns(None),
            "staff_goes_offline",
            vec![("staff", raw_part(&staff))],
        );
    }

    pub(super) fn visitor_gone(&mut self, plan: &mut Plan, vid: &str, now: i64) {
        let room = self.room_part(vid);
        plan.send(
            self.staff_conns(None),
            "visitor_goes_offline",
            vec![("visitor", room.clone())],
        );
        match self.chats.get(vid).map(|c| c.status) {
            Some(ChatStatus::Unclaimed) => {
                self.set_status(plan, vid, ChatStatus::Offline, now);
                plan.send(
                    self.staff_conns(None),
                    "unclaimed_chat_to_offline",
                    vec![("visitor", room)],
                );
            }
            Some(ChatStatus::Claimed) => self.end_by_visitor(plan, vid, now),
            _ => {}
        }
        self.visitors.remove(vid);
    }

    // ----- client events -----------------------------------------------------------------
}
