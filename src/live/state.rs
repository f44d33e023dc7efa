//! The live chat state and its rules: presence, the unclaimed and offline queues, rooms and who
//! serves them, flags. Every client event and presence change of product.md §6 is decided here.
//! No I/O: each method returns a `Plan` that `live::actor` carries out (writes, then deliveries,
//! in command order). The clock comes in as `now` (ms), so tests control it.

use super::plan::*;
use super::request::Request;
use crate::auth::Principal;
use crate::model::{new_id, Role, Staff, Visitor, MESSAGE_CHAT, MESSAGE_SYSTEM};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The error sentences clients see, in one place.
pub mod say {
    pub const CLOSED: &str = "The chat room is either closed or doesn't exist.";
    pub const ALREADY_CLAIMED: &str = "This chat has already been claimed.";
    pub const NOT_CLAIMED: &str = "This chat has not been claimed yet.";
    pub const NOT_IN_ROOM: &str = "You are not serving this chat.";
    pub const ALREADY_IN_ROOM: &str = "You are already serving this chat.";
    pub const STAFF_ONLY: &str = "Only staff can send this event.";
    pub const VISITOR_ONLY: &str = "Only visitors can send this event.";
    pub const TAKE_OVER_ROLE: &str = "Only supervisors and admins can take over chats.";
    pub const ADD_ROLE: &str = "Only supervisors and admins can add staff to chats.";
    pub const REMOVE_ROLE: &str = "Only supervisors and admins can remove staff from chats.";
    pub const STAFF_NOT_ONLINE: &str = "That staff member is not online.";
    pub const STAFF_ALREADY_IN: &str = "That staff member is already in this chat.";
    pub const STAFF_NOT_IN: &str = "That staff member is not in this chat.";
    pub const NO_OPEN_CHAT: &str = "You have no open chat.";
    pub const NOT_CONNECTED: &str = "This connection is not signed in.";
}

/// How many offline unclaimed chats (and flagged chats) a console shows.
pub const LIST_SIZE: usize = 15;

#[derive(Debug, Clone)]
pub struct LiveConfig {
    pub reconnect_grace: Duration,
    /// How long serving staff have to come back after a restart (at least 60 s).
    pub restart_grace: Duration,
    pub max_staffs_in_chat: usize,
}

impl LiveConfig {
    pub fn new(reconnect_grace: Duration, max_staffs_in_chat: usize) -> LiveConfig {
        LiveConfig {
            reconnect_grace,
            restart_grace: reconnect_grace.max(Duration::from_secs(60)),
            max_staffs_in_chat,
        }
    }
}

/// A supervision event, for the rank rule (`LiveState::rank_refusal`).
#[derive(Debug, Clone, Copy)]
enum Supervision<'a> {
    TakeOver,
    Add,
    /// Removing this staff member.
    Remove(&'a str),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Staff,
    Visitor,
}

/// A staff member who is online, or within the reconnect grace (`conn` is None then).
#[derive(Debug)]
struct StaffEntry {
    staff: Staff,
    conn: Option<ConnId>,
    /// Bumped on every connect/disconnect, so a stale grace timer does nothing.
    epoch: u64,
    /// Visitor ids of the chats this staff serves.
    rooms: Vec<String>,
}

#[derive(Debug)]
struct VisitorEntry {
    visitor: Visitor,
    conn: Option<ConnId>,
    epoch: u64,
}

/// An open chat, keyed by its visitor (a visitor has at most one open chat).
#[derive(Debug)]
struct Chat {
    chat_id: String,
    visitor: Visitor,
    status: ChatStatus,
    /// Staff ids serving the chat, the first one is "the" serving staff.
    serving: Vec<String>,
    severity_level: i64,
    flagged_at: Option<i64>,
    tags: Vec<String>,
    /// When it entered its current queue.
    queued_at: i64,
    /// The queue position last told to the visitor.
    told_position: Option<usize>,
}

pub struct LiveState {
    cfg: LiveConfig,
    conns: HashMap<ConnId, (Kind, String)>,
    staff: HashMap<String, StaffEntry>,
    visitors: HashMap<String, VisitorEntry>,
    chats: HashMap<String, Chat>,
    /// Visitor ids, oldest first.
    unclaimed: Vec<String>,
    offline: Vec<String>,
    /// Queue positions changed for visitors behind the head; told at the next tick.
    positions_dirty: bool,
    /// Moving average of how long a chat waits to be claimed, in seconds.
    avg_wait_secs: f64,
}

fn staff_json(s: &Staff) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

fn visitor_json(v: &Visitor) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// A payload part rendered once, straight from our own types (no `Value` tree on the way).
fn raw_part<T: serde::Serialize>(v: &T) -> Part {
    match serde_json::value::to_raw_value(v) {
        Ok(raw) => Part::Raw(Arc::from(raw)),
        Err(_) => Part::Json(Value::Null),
    }
}

/// The "room" object of product.md §5: the visitor merged with its open chat and the staff
/// serving it.
#[derive(serde::Serialize)]
struct RoomJson<'a> {
    #[serde(flatten)]
    visitor: &'a Visitor,
    visitor_id: &'a str,
    chat_id: Option<&'a str>,
    severity_level: i64,
    tags: &'a [String],
    staff: Option<&'a Staff>,
}

fn system_content(text: &str) -> Arc<RawValue> {
    let raw = serde_json::to_string(&json!({ "content": text })).unwrap_or_default();
    Arc::from(
        RawValue::from_string(raw)
            .unwrap_or_else(|_| RawValue::from_string("{}".into()).expect("{} is JSON")),
    )
}

fn j(v: Value) -> Part {
    Part::Json(v)
}

impl LiveState {
    pub fn new(cfg: LiveConfig) -> LiveState {
        LiveState {
            cfg,
            conns: HashMap::new(),
            staff: HashMap::new(),
            visitors: HashMap::new(),
            chats: HashMap::new(),
            unclaimed: Vec::new(),
            offline: Vec::new(),
            positions_dirty: false,
            avg_wait_secs: 60.0,
        }
    }

    // ----- lookups -----------------------------------------------------------------------

    fn staff_conns(&self, except: Option<&str>) -> Vec<ConnId> {
        self.staff
            .iter()
            .filter(|(id, _)| Some(id.as_str()) != except)
            .filter_map(|(_, e)| e.conn)
            .collect()
    }

    fn supervisor_conns(&self, except: Option<&str>) -> Vec<ConnId> {
        self.staff
            .iter()
            .filter(|(id, e)| Some(id.as_str()) != except && e.staff.role_id.is_supervisor())
            .filter_map(|(_, e)| e.conn)
            .collect()
    }

    fn serving_conns(&self, vid: &str, except: Option<&str>) -> Vec<ConnId> {
        let Some(chat) = self.chats.get(vid) else {
            return vec![];
        };
        chat.serving
            .iter()
            .filter(|s| Some(s.as_str()) != except)
            .filter_map(|s| self.staff.get(s).and_then(|e| e.conn))
            .collect()
    }

    fn visitor_conn(&self, vid: &str) -> Vec<ConnId> {
        self.visitors
            .get(vid)
            .and_then(|e| e.conn)
            .into_iter()
            .collect()
    }

    fn staff_obj(&self, sid: &str) -> Option<&Staff> {
        self.staff.get(sid).map(|e| &e.staff)
    }

    /// The serving staff of a chat (the first one), if online or within the grace.
    fn serving_staff(&self, vid: &str) -> Option<&Staff> {
        self.chats
            .get(vid)
            .and_then(|c| c.serving.first())
            .and_then(|s| self.staff_obj(s))
    }

    fn room_json(&self, vid: &str) -> Option<RoomJson<'_>> {
        let chat = self.chats.get(vid);
        let visitor = chat
            .map(|c| &c.visitor)
            .or_else(|| self.visitors.get(vid).map(|e| &e.visitor))?;
        Some(RoomJson {
            visitor,
            visitor_id: &visitor.id,
            chat_id: chat.map(|c| c.chat_id.as_str()),
            severity_level: chat.map_or(0, |c| c.severity_level),
            tags: chat.map_or(&[], |c| c.tags.as_slice()),
            staff: self.serving_staff(vid),
        })
    }

    /// The room object (see `RoomJson`) as a value, for lists.
    fn room(&self, vid: &str) -> Value {
        self.room_json(vid)
            .and_then(|r| serde_json::to_value(r).ok())
            .unwrap_or(Value::Null)
    }

    /// The room object rendered for a payload: the hot path of every chat message.
    fn room_part(&self, vid: &str) -> Part {
        match self.room_json(vid) {
            Some(r) => raw_part(&r),
            None => Part::Json(Value::Null),
        }
    }

    fn system_message(
        &self,
        plan: &mut Plan,
        vid: &str,
        sender: Option<&str>,
        text: &str,
        now: i64,
    ) {
        if let Some(chat) = self.chats.get(vid) {
            plan.insert_message(NewMessage {
                id: new_id(),
                chat_id: chat.chat_id.clone(),
                type_id: MESSAGE_SYSTEM,
                sender: sender.map(str::to_string),
                content: system_content(text),
                created_at: now,
            });
        }
    }

    fn set_status(&mut self, plan: &mut Plan, vid: &str, status: ChatStatus, now: i64) {
        let Some(chat) = self.chats.get_mut(vid) else {
            return;
        };
        let was = chat.status;
        chat.status = status;
        if matches!(status, ChatStatus::Unclaimed | ChatStatus::Offline) {
            chat.queued_at = now;
        }
        chat.told_position = None;
        plan.op(DbOp::SetChatStatus {
            chat_id: chat.chat_id.clone(),
            status,
            at: now,
        });
        if was == ChatStatus::Unclaimed && status != ChatStatus::Unclaimed {
            if let Some(i) = self.unclaimed.iter().position(|v| v == vid) {
                self.unclaimed.remove(i);
                // Everyone behind it moved up.
                if i < self.unclaimed.len() {
                    self.positions_dirty = true;
                }
            }
        }
        if was == ChatStatus::Offline && status != ChatStatus::Offline {
            self.offline.retain(|v| v != vid);
        }
        if status == ChatStatus::Unclaimed && was != ChatStatus::Unclaimed {
            self.unclaimed.push(vid.to_string());
        }
        if status == ChatStatus::Offline && was != ChatStatus::Offline {
            self.offline.push(vid.to_string());
        }
    }

    // ----- connections -------------------------------------------------------------------

    /// A new authenticated connection.
    pub fn connect(&mut self, conn: ConnId, who: &Principal, force: bool) -> Plan {
        match who {
            Principal::Staff(s) => self.connect_staff(conn, s, force),
            Principal::Visitor(v) => self.connect_visitor(conn, v, force),
        }
    }

    fn connect_staff(&mut self, conn: ConnId, staff: &Staff, force: bool) -> Plan {
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
    fn staff_init(&self, plan: &mut Plan, conn: ConnId, sid: &str) {
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

    fn connect_visitor(&mut self, conn: ConnId, visitor: &Visitor, force: bool) -> Plan {
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

    fn staff_gone(&mut self, plan: &mut Plan, sid: &str, now: i64) {
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

    fn visitor_gone(&mut self, plan: &mut Plan, vid: &str, now: i64) {
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

    /// A client event from `conn`.
    pub fn request(&mut self, conn: ConnId, req: Request, now: i64) -> Plan {
        let Some((kind, id)) = self.conns.get(&conn).cloned() else {
            return Plan::err(say::NOT_CONNECTED);
        };
        match (kind, req) {
            (Kind::Visitor, Request::VisitorMessage { content }) => {
                self.visitor_message(&id, content, now)
            }
            (Kind::Visitor, Request::VisitorLeave) => {
                if !self.chats.contains_key(&id) {
                    return Plan::err(say::NO_OPEN_CHAT);
                }
                let mut plan = Plan::ok();
                self.end_by_visitor(&mut plan, &id, now);
                plan
            }
            (Kind::Visitor, Request::Typing { typing, .. }) => self.typing(None, &id, typing),
            (Kind::Visitor, _) => Plan::err(say::STAFF_ONLY),
            (Kind::Staff, Request::VisitorMessage { .. } | Request::VisitorLeave) => {
                Plan::err(say::VISITOR_ONLY)
            }
            (Kind::Staff, req) => {
                let Some(staff) = self.staff_obj(&id).cloned() else {
                    return Plan::err(say::NOT_CONNECTED);
                };
                self.staff_request(&staff, req, now)
            }
        }
    }

    fn staff_request(&mut self, staff: &Staff, req: Request, now: i64) -> Plan {
        match req {
            Request::StaffJoin { visitor } => self.claim(staff, &visitor, now),
            Request::StaffMsg { visitor, content } => {
                self.staff_message(staff, &visitor, content, now)
            }
            Request::StaffLeave { visitor } => {
                match self.chats.get(&visitor) {
                    None => return Plan::err(say::CLOSED),
                    Some(c) if !c.serving.contains(&staff.id) => {
                        return Plan::err(say::NOT_IN_ROOM)
                    }
                    _ => {}
                }
                let mut plan = Plan::ok();
                self.leave_room(&mut plan, staff, &visitor, now);
                plan
            }
            Request::TakeOver { visitor } => self.take_over(staff, &visitor, now),
            Request::AddStaff {
                visitor,
                staff: target,
            } => self.add_staff(staff, &visitor, &target, now),
            Request::RemoveStaff {
                visitor,
                staff: target,
            } => self.remove_staff(staff, &visitor, &target, now),
            Request::ChangePriority {
                visitor,
                severity_level,
            } => self.change_priority(staff, &visitor, severity_level, now),
            Request::Typing { visitor, typing } => match visitor {
                Some(vid) => self.typing(Some(staff), &vid, typing),
                None => Plan::err("Missing/Invalid field: visitor"),
            },
            Request::VisitorMessage { .. } | Request::VisitorLeave => Plan::err(say::VISITOR_ONLY),
        }
    }

    /// `visitor_first_msg`, `visitor_msg_unclaimed` and `visitor_msg` alike: what happens
    /// depends on the chat's state, so clients need not track it.
    fn visitor_message(&mut self, vid: &str, content: Arc<RawValue>, now: i64) -> Plan {
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
    fn claim(&mut self, staff: &Staff, vid: &str, now: i64) -> Plan {
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

    fn join(&mut self, plan: &mut Plan, sid: &str, vid: &str, chat_id: &str, now: i64) {
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

    fn unjoin(&mut self, plan: &mut Plan, sid: &str, vid: &str, now: i64) {
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

    fn staff_message(
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
    fn leave_room(&mut self, plan: &mut Plan, staff: &Staff, vid: &str, now: i64) {
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
    fn end_by_visitor(&mut self, plan: &mut Plan, vid: &str, now: i64) {
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

    fn close_chat(&mut self, plan: &mut Plan, vid: &str, now: i64) {
        self.set_status(plan, vid, ChatStatus::Ended, now);
        if let Some(chat) = self.chats.remove(vid) {
            for sid in chat.serving {
                if let Some(e) = self.staff.get_mut(&sid) {
                    e.rooms.retain(|v| v != vid);
                }
            }
        }
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
    fn rank_refusal(&self, by: &Staff, act: Supervision, vid: &str) -> Option<String> {
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

    fn take_over(&mut self, staff: &Staff, vid: &str, now: i64) -> Plan {
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

    fn add_staff(&mut self, by: &Staff, vid: &str, target: &str, now: i64) -> Plan {
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

    fn remove_staff(&mut self, by: &Staff, vid: &str, target: &str, now: i64) -> Plan {
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

    fn change_priority(&mut self, staff: &Staff, vid: &str, level: i64, now: i64) -> Plan {
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

    /// Typing indicators go to the other parties of the room; nothing is stored.
    fn typing(&mut self, staff: Option<&Staff>, vid: &str, typing: bool) -> Plan {
        let Some(chat) = self.chats.get(vid) else {
            return Plan::err(say::CLOSED);
        };
        let to = match staff {
            Some(s) => {
                if !chat.serving.contains(&s.id) {
                    return Plan::err(say::NOT_IN_ROOM);
                }
                let mut to = self.visitor_conn(vid);
                to.extend(self.serving_conns(vid, Some(&s.id)));
                to
            }
            None => self.serving_conns(vid, None),
        };
        let event = if typing {
            "user_typing_receive"
        } else {
            "user_stop_typing_receive"
        };
        let mut plan = Plan::ok();
        plan.send(
            to,
            event,
            vec![
                ("visitor", j(visitor_json(&chat.visitor))),
                ("staff", j(staff.map(staff_json).unwrap_or(Value::Null))),
            ],
        );
        plan
    }

    // ----- queue position ----------------------------------------------------------------

    fn estimate(&self, position: usize) -> Value {
        let staff_online = self.staff.values().filter(|e| e.conn.is_some()).count();
        if staff_online == 0 {
            return Value::Null;
        }
        json!((position as f64 * self.avg_wait_secs / staff_online as f64).ceil() as i64)
    }

    fn tell_position(&mut self, plan: &mut Plan, vid: &str) {
        let Some(pos) = self.unclaimed.iter().position(|v| v == vid).map(|i| i + 1) else {
            return;
        };
        let Some(conn) = self.visitors.get(vid).and_then(|e| e.conn) else {
            return;
        };
        let estimate = self.estimate(pos);
        if let Some(chat) = self.chats.get_mut(vid) {
            if chat.told_position == Some(pos) {
                return;
            }
            chat.told_position = Some(pos);
        }
        plan.send(
            vec![conn],
            "queue_position",
            vec![
                ("position", j(json!(pos))),
                ("estimated_wait_seconds", j(estimate)),
            ],
        );
    }

    /// Tells every waiting visitor whose place in the queue changed (run on a timer, so a burst
    /// of claims costs one pass).
    pub fn tick(&mut self) -> Plan {
        let mut plan = Plan::default();
        if !self.positions_dirty {
            return plan;
        }
        self.positions_dirty = false;
        for vid in self.unclaimed.clone() {
            self.tell_position(&mut plan, &vid);
        }
        plan
    }

    // ----- restart -----------------------------------------------------------------------

    /// Takes back the open chats after a restart. Nobody is connected yet: unclaimed chats
    /// become offline unclaimed chats; serving staff and their visitors get the restart grace.
    pub fn restore(&mut self, chats: Vec<RestoredChat>, now: i64) -> Plan {
        let mut plan = Plan::default();
        let grace = self.cfg.restart_grace;
        for c in chats {
            let vid = c.visitor.id.clone();
            let status = c.status;
            self.chats.insert(
                vid.clone(),
                Chat {
                    chat_id: c.chat_id,
                    visitor: c.visitor.clone(),
                    status,
                    serving: c.staff.iter().map(|s| s.id.clone()).collect(),
                    severity_level: c.severity_level,
                    flagged_at: c.flagged_at,
                    tags: c.tags,
                    queued_at: c.queued_at,
                    told_position: None,
                },
            );
            match status {
                ChatStatus::Unclaimed => {
                    // `set_status` moves it from the unclaimed list it is not in yet: add first.
                    self.unclaimed.push(vid.clone());
                    self.set_status(&mut plan, &vid, ChatStatus::Offline, now);
                }
                ChatStatus::Offline => self.offline.push(vid.clone()),
                ChatStatus::Claimed => {
                    for s in c.staff {
                        let e = self
                            .staff
                            .entry(s.id.clone())
                            .or_insert_with(|| StaffEntry {
                                staff: s.clone(),
                                conn: None,
                                epoch: 1,
                                rooms: vec![],
                            });
                        e.rooms.push(vid.clone());
                    }
                    self.visitors.insert(
                        vid.clone(),
                        VisitorEntry {
                            visitor: c.visitor,
                            conn: None,
                            epoch: 1,
                        },
                    );
                    plan.timers.push((
                        grace,
                        Timer::VisitorGone {
                            visitor_id: vid,
                            epoch: 1,
                        },
                    ));
                }
                ChatStatus::Ended => {
                    self.chats.remove(&vid);
                }
            }
        }
        self.positions_dirty = false;
        for sid in self.staff.keys() {
            plan.timers.push((
                grace,
                Timer::StaffGone {
                    staff_id: sid.clone(),
                    epoch: 1,
                },
            ));
        }
        plan
    }

    // ----- for metrics -------------------------------------------------------------------

    pub fn counts(&self) -> Counts {
        Counts {
            staff_online: self.staff.values().filter(|e| e.conn.is_some()).count(),
            visitors_online: self.visitors.values().filter(|e| e.conn.is_some()).count(),
            unclaimed: self.unclaimed.len(),
            offline: self.offline.len(),
            claimed: self
                .chats
                .values()
                .filter(|c| c.status == ChatStatus::Claimed)
                .count(),
            oldest_unclaimed_ms: self
                .unclaimed
                .first()
                .and_then(|v| self.chats.get(v))
                .map(|c| c.queued_at),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub staff_online: usize,
    pub visitors_online: usize,
    pub unclaimed: usize,
    pub offline: usize,
    pub claimed: usize,
    pub oldest_unclaimed_ms: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Role, Staff, Visitor};

    fn staff(id: &str, role: Role) -> Principal {
        Principal::Staff(Staff {
            id: id.into(),
            email: format!("{id}@shop.test"),
            full_name: id.into(),
            display_name: None,
            organisation_id: "org".into(),
            role_id: role,
            disabled: false,
            created_at: 0,
            updated_at: None,
        })
    }

    fn visitor(id: &str) -> Principal {
        Principal::Visitor(Visitor {
            id: id.into(),
            name: format!("Visitor {id}"),
            email: None,
            is_anonymous: true,
            disabled: false,
            created_at: 0,
            updated_at: None,
        })
    }

    fn content() -> Arc<RawValue> {
        Arc::from(RawValue::from_string(r#"{"content": "hi"}"#.into()).unwrap())
    }

    fn live(grace_secs: u64) -> LiveState {
        LiveState::new(LiveConfig::new(Duration::from_secs(grace_secs), 5))
    }

    const AGENT: ConnId = 1;
    const AGENT2: ConnId = 2;
    const SUP: ConnId = 3;
    const VIS: ConnId = 10;

    /// agent "a" (conn 1), agent "b" (2), supervisor "s" (3), visitor "v" (10) with a queued chat.
    fn room_with_queued_chat(grace: u64) -> LiveState {
        let mut l = live(grace);
        l.connect(AGENT, &staff("a", Role::Agent), false);
        l.connect(AGENT2, &staff("b", Role::Agent), false);
        l.connect(SUP, &staff("s", Role::Supervisor), false);
        l.connect(VIS, &visitor("v"), false);
        let p = l.request(VIS, Request::VisitorMessage { content: content() }, 1);
        assert_eq!(p.reply, Some(Ok(())));
        assert_eq!(p.events_for(AGENT), ["append_unclaimed_chats"]);
        assert_eq!(p.events_for(VIS), ["queue_position"]);
        l
    }

    #[test]
    fn the_first_claim_wins_and_others_hear_of_it() {
        let mut l = room_with_queued_chat(0);
        let win = l.request(
            AGENT,
            Request::StaffJoin {
                visitor: "v".into(),
            },
            2,
        );
        assert_eq!(win.reply, Some(Ok(())));
        let lose = l.request(
            AGENT2,
            Request::StaffJoin {
                visitor: "v".into(),
            },
            2,
        );
        assert_eq!(lose.reply, Some(Err(say::ALREADY_CLAIMED.into())));
        assert!(
            lose.ops.is_empty() && lose.sends.is_empty(),
            "a lost claim changes nothing"
        );

        assert!(
            win.events_for(AGENT).is_empty(),
            "the claimer only gets the ack"
        );
        assert_eq!(win.events_for(AGENT2), ["staff_claim_chat"]);
        assert_eq!(win.events_for(SUP), ["staff_claim_chat", "agent_new_chat"]);
        assert_eq!(win.events_for(VIS), ["staff_join_room"]);
        let claim = win.find("staff_claim_chat").unwrap();
        assert_eq!(claim.payload.json("visitor").unwrap()["staff"]["id"], "a");
        assert_eq!(
            claim.payload.json("next_offline_unclaimed_visitor"),
            Some(Value::Null)
        );
        assert!(win
            .ops
            .iter()
            .any(|o| matches!(o, DbOp::StaffJoined { staff_id, .. } if staff_id == "a")));
        assert!(win.ops.iter().any(|o| matches!(o, DbOp::InsertMessage { message, .. } if message.type_id == MESSAGE_SYSTEM)));
    }

    #[test]
    fn a_dropped_visitor_moves_to_the_offline_queue_and_back_when_writing() {
        let mut l = room_with_queued_chat(0);
        let p = l.disconnect(VIS, 5);
        assert_eq!(
            p.events_for(AGENT),
            ["visitor_goes_offline", "unclaimed_chat_to_offline"]
        );
        assert!(p.ops.iter().any(|o| matches!(
            o,
            DbOp::SetChatStatus {
                status: ChatStatus::Offline,
                ..
            }
        )));
        assert_eq!(l.counts().offline, 1);
        assert_eq!(l.counts().unclaimed, 0);

        l.connect(11, &visitor("v"), false);
        let p = l.request(11, Request::VisitorMessage { content: content() }, 7);
        assert_eq!(
            p.events_for(AGENT),
            ["remove_visitor_offline_chat", "append_unclaimed_chats"]
        );
        assert_eq!(l.counts().unclaimed, 1);
    }

    #[test]
    fn a_reconnect_within_the_grace_is_silent() {
        let mut l = room_with_queued_chat(10);
        let p = l.disconnect(VIS, 5);
        assert!(p.sends.is_empty());
        let (after, timer) = p.timers[0].clone();
        assert_eq!(after, Duration::from_secs(10));
        let back = l.connect(12, &visitor("v"), false);
        assert_eq!(back.events_for(12), ["visitor_init", "queue_position"]);
        assert!(
            back.events_for(AGENT).is_empty(),
            "no visitor_goes_online after a silent resume"
        );
        assert!(
            l.timer(timer, 10_006).sends.is_empty(),
            "the stale timer does nothing"
        );

        // Without a reconnect, the timer applies the disconnect.
        let p = l.disconnect(12, 20_000);
        let (_, timer) = p.timers[0].clone();
        let gone = l.timer(timer, 30_000);
        assert_eq!(
            gone.events_for(AGENT),
            ["visitor_goes_offline", "unclaimed_chat_to_offline"]
        );
    }

    #[test]
    fn a_second_session_is_refused_unless_forced() {
        let mut l = room_with_queued_chat(0);
        let p = l.connect(20, &staff("a", Role::Agent), false);
        assert_eq!(p.events_for(20), ["staff_already_online"]);
        assert_eq!(p.closes, [20]);
        let p = l.connect(21, &staff("a", Role::Agent), true);
        assert_eq!(p.closes, [AGENT]);
        assert_eq!(p.events_for(21), ["staff_init"]);
        assert!(
            p.events_for(SUP).is_empty(),
            "a forced takeover is not a new arrival"
        );
        // The old connection's close is ignored.
        assert!(l.disconnect(AGENT, 10).sends.is_empty());
        let p = l.connect(22, &visitor("v"), false);
        assert_eq!(p.events_for(22), ["visitor_room_exists"]);
    }

    #[test]
    fn take_over_needs_a_higher_rank() {
        let mut l = room_with_queued_chat(0);
        l.connect(4, &staff("s2", Role::Supervisor), false);
        l.request(
            SUP,
            Request::StaffJoin {
                visitor: "v".into(),
            },
            2,
        );
        let p = l.request(
            4,
            Request::TakeOver {
                visitor: "v".into(),
            },
            3,
        );
        assert_eq!(
            p.reply,
            Some(Err(
                "A supervisor cannot take over a chat from a supervisor.".into()
            ))
        );
        let p = l.request(
            AGENT,
            Request::TakeOver {
                visitor: "v".into(),
            },
            3,
        );
        assert_eq!(p.reply, Some(Err(say::TAKE_OVER_ROLE.into())));
        l.connect(5, &staff("boss", Role::Admin), false);
        let p = l.request(
            5,
            Request::TakeOver {
                visitor: "v".into(),
            },
            4,
        );
        assert_eq!(p.reply, Some(Ok(())));
        // The replaced supervisor hears it both as the one replaced and as a supervisor.
        assert_eq!(
            p.events_for(SUP),
            ["staff_being_taken_over_chat", "staff_take_over_chat"]
        );
        assert_eq!(p.events_for(VIS), ["staff_being_taken_over_chat"]);
        assert_eq!(p.events_for(4), ["staff_take_over_chat"]);
    }

    #[test]
    fn nobody_supervises_their_own_rank_or_above() {
        let mut l = room_with_queued_chat(0);
        const BOSS: ConnId = 5;
        l.connect(BOSS, &staff("boss", Role::Admin), false);
        let join = |visitor: &str| Request::StaffJoin {
            visitor: visitor.into(),
        };
        let remove = |staff: &str| Request::RemoveStaff {
            visitor: "v".into(),
            staff: staff.into(),
        };
        let add = |staff: &str| Request::AddStaff {
            visitor: "v".into(),
            staff: staff.into(),
        };
        assert_eq!(l.request(BOSS, join("v"), 2).reply, Some(Ok(())));
        let take_over = Request::TakeOver {
            visitor: "v".into(),
        };
        assert_eq!(
            l.request(BOSS, take_over.clone(), 2).reply,
            Some(Err(say::ALREADY_IN_ROOM.into()))
        );
        assert_eq!(
            l.request(SUP, take_over, 2).reply,
            Some(Err(
                "A supervisor cannot take over a chat from an admin.".into()
            ))
        );
        // The back door of finding 6: remove the admin, then claim the chat.
        let p = l.request(SUP, remove("boss"), 3);
        assert_eq!(
            p.reply,
            Some(Err(
                "A supervisor cannot remove an admin from a chat.".into()
            ))
        );
        assert!(p.ops.is_empty() && p.sends.is_empty());
        assert_eq!(
            l.request(SUP, join("v"), 4).reply,
            Some(Err(say::ALREADY_CLAIMED.into()))
        );
        // Nor into an admin's chat by adding themselves or anyone else.
        for who in ["s", "a"] {
            let p = l.request(SUP, add(who), 5);
            assert_eq!(
                p.reply,
                Some(Err(
                    "A supervisor cannot add staff to a chat served by an admin.".into()
                ))
            );
            assert!(p.ops.is_empty() && p.sends.is_empty());
        }
        // The admin outranks both: adds the supervisor and an agent, and removes them again.
        assert_eq!(l.request(BOSS, add("s"), 6).reply, Some(Ok(())));
        assert_eq!(l.request(BOSS, add("a"), 7).reply, Some(Ok(())));
        // The supervisor may remove an agent and themselves, never the admin.
        assert_eq!(l.request(SUP, remove("a"), 8).reply, Some(Ok(())));
        assert!(l.request(SUP, remove("boss"), 9).reply.unwrap().is_err());
        assert_eq!(l.request(SUP, remove("s"), 10).reply, Some(Ok(())));
        assert_eq!(l.request(BOSS, add("s"), 11).reply, Some(Ok(())));
        assert_eq!(l.request(BOSS, remove("s"), 12).reply, Some(Ok(())));
        // Agents supervise nothing.
        assert_eq!(
            l.request(AGENT, remove("boss"), 13).reply,
            Some(Err(say::REMOVE_ROLE.into()))
        );
        assert_eq!(
            l.request(AGENT, add("b"), 13).reply,
            Some(Err(say::ADD_ROLE.into()))
        );
    }

    /// Agent "a" claims `vid`; the `next_offline_unclaimed_visitor` the others are told.
    fn claim_and_next(l: &mut LiveState, vid: &str, now: i64) -> Value {
        let p = l.request(
            AGENT,
            Request::StaffJoin {
                visitor: vid.into(),
            },
            now,
        );
        let claim = p
            .find("staff_claim_chat")
            .expect("others hear of the claim");
        claim
            .payload
            .json("next_offline_unclaimed_visitor")
            .expect("the key is there")
    }

    #[test]
    fn claiming_a_listed_offline_chat_brings_up_the_sixteenth() {
        let mut l = live(0);
        l.connect(AGENT, &staff("a", Role::Agent), false);
        for i in 0..17 {
            let (conn, vid) = (100 + i, format!("v{i:02}"));
            l.connect(conn, &visitor(&vid), false);
            l.request(
                conn,
                Request::VisitorMessage { content: content() },
                i as i64,
            );
            l.disconnect(conn, 100 + i as i64);
        }
        assert_eq!(l.counts().offline, 17);
        l.connect(AGENT2, &staff("b", Role::Agent), false);
        let next = claim_and_next(&mut l, "v03", 500);
        assert_eq!(
            next["id"], "v15",
            "the 16th in line moves into the list of 15"
        );
        let next = claim_and_next(&mut l, "v16", 501);
        assert_eq!(
            next,
            Value::Null,
            "a chat beyond the list changes nothing shown"
        );
    }

    #[test]
    fn a_restart_makes_waiting_chats_offline_and_gives_serving_staff_time() {
        let mut l = live(10);
        let Principal::Visitor(v1) = visitor("v1") else {
            unreachable!()
        };
        let Principal::Visitor(v2) = visitor("v2") else {
            unreachable!()
        };
        let Principal::Staff(a) = staff("a", Role::Agent) else {
            unreachable!()
        };
        let chat = |v: Visitor, status, staff: Vec<Staff>| RestoredChat {
            chat_id: format!("c-{}", v.id),
            visitor: v,
            status,
            severity_level: 0,
            flagged_at: None,
            queued_at: 0,
            tags: vec![],
            staff,
        };
        let p = l.restore(
            vec![
                chat(v1, ChatStatus::Unclaimed, vec![]),
                chat(v2, ChatStatus::Claimed, vec![a]),
            ],
            1000,
        );
        assert!(p.ops.iter().any(|o| matches!(o, DbOp::SetChatStatus { chat_id, status: ChatStatus::Offline, .. } if chat_id == "c-v1")));
        assert!(
            p.timers.iter().all(|(d, _)| *d == Duration::from_secs(60)),
            "at least 60 s after a restart"
        );
        assert!(p.timers.contains(&(
            Duration::from_secs(60),
            Timer::StaffGone {
                staff_id: "a".into(),
                epoch: 1
            }
        )));
        // The staff comes back in time: their chat is there.
        let p = l.connect(AGENT, &staff("a", Role::Agent), false);
        let init = p.find("staff_init").unwrap();
        match init.payload.get("serving_chats") {
            Some(Part::List(items)) => assert_eq!(items.len(), 1),
            other => panic!("{other:?}"),
        }
        assert!(l
            .timer(
                Timer::StaffGone {
                    staff_id: "a".into(),
                    epoch: 1
                },
                61_000
            )
            .sends
            .is_empty());
    }
}
