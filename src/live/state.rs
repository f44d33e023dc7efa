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

mod messages;
mod presence;
mod queues;
mod supervision;

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
mod tests;
