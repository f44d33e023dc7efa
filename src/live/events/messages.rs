//! Messages: `visitor_first_msg`, `visitor_msg_unclaimed` and `visitor_msg` (one decision:
//! what happens depends on the chat's state, so clients need not track it), `staff_msg`, and
//! `visitor_leave_room`.

use super::{Args, Family, Sender};
use crate::live::plan::*;
use crate::live::state::lifecycle::hook_staff;
use crate::live::state::views::raw;
use crate::live::state::LiveState;
use crate::model::{new_id, ChatId, VisitorId, MESSAGE_CHAT};
use crate::webhooks::Event;
use serde_json::value::RawValue;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Messages {
    /// Any of the three visitor message events.
    Visitor {
        content: Arc<RawValue>,
        client_msg_id: Option<String>,
    },
    Staff {
        visitor: VisitorId,
        content: Arc<RawValue>,
        client_msg_id: Option<String>,
    },
    VisitorLeave,
}

pub fn parse_visitor_msg(a: &Args) -> Result<Family, Refusal> {
    Ok(Family::Messages(Messages::Visitor {
        content: a.content()?,
        client_msg_id: a.client_msg_id(None)?,
    }))
}

pub fn parse_staff_msg(a: &Args) -> Result<Family, Refusal> {
    let (visitor, content, client_msg_id) = staff_content(a)?;
    Ok(Family::Messages(Messages::Staff {
        visitor,
        content,
        client_msg_id,
    }))
}

/// `{visitor, content, client_msg_id?}`: what a staff member writes into a room (a message or
/// a note).
pub fn staff_content(a: &Args) -> Result<(VisitorId, Arc<RawValue>, Option<String>), Refusal> {
    let f = a.fields("visitor")?;
    Ok((
        f.id("visitor")?,
        f.content("content", a.max_content)?,
        a.client_msg_id(Some(&f))?,
    ))
}

pub fn parse_visitor_leave(_: &Args) -> Result<Family, Refusal> {
    Ok(Family::Messages(Messages::VisitorLeave))
}

impl Messages {
    pub fn apply(self, s: &mut LiveState, by: &Sender, now: i64) -> Plan {
        match self {
            Messages::Visitor {
                content,
                client_msg_id,
            } => match by.visitor() {
                Ok(vid) => visitor_message(s, vid, MESSAGE_CHAT, content, client_msg_id, now),
                Err(refused) => Plan::err(refused),
            },
            Messages::Staff {
                visitor,
                content,
                client_msg_id,
            } => match by.staff() {
                Ok(staff) => staff_message(
                    s,
                    staff,
                    &visitor,
                    MESSAGE_CHAT,
                    content,
                    client_msg_id,
                    now,
                ),
                Err(refused) => Plan::err(refused),
            },
            Messages::VisitorLeave => {
                let vid = match by.visitor() {
                    Ok(v) => v,
                    Err(refused) => return Plan::err(refused),
                };
                if !s.rooms.contains(vid) {
                    return Plan::err(say::NO_OPEN_CHAT);
                }
                let mut plan = Plan::ok();
                s.end_by_visitor(&mut plan, vid, now);
                plan
            }
        }
    }
}

/// A message sent over HTTP by one of the chat's parties: a file already on disk
/// (`POST /api/v1/chats/{id}/attachments`, `type_id` 2) or a text
/// (`POST /api/v1/chats/{id}/messages`, `type_id` 1), decided and delivered exactly as a chat
/// message of that party over the socket, `client_msg_id` included. Only the chat's visitor
/// while it is open, or staff serving it.
pub fn post(
    s: &mut LiveState,
    by: &super::By,
    chat_id: &ChatId,
    posted: super::Posted,
    now: i64,
) -> Plan {
    let Some(vid) = s.rooms.by_chat_id(chat_id).map(|c| c.visitor.id.clone()) else {
        return Plan::err(say::CLOSED);
    };
    let super::Posted {
        type_id,
        content,
        client_msg_id,
    } = posted;
    match by {
        super::By::Visitor(v) if *v == vid => {
            visitor_message(s, &vid, type_id, content, client_msg_id, now)
        }
        super::By::Visitor(_) => Plan::err(say::CLOSED),
        super::By::Staff(staff) => {
            staff_message(s, staff, &vid, type_id, content, client_msg_id, now)
        }
    }
}

fn visitor_message(
    s: &mut LiveState,
    vid: &VisitorId,
    type_id: i64,
    content: Arc<RawValue>,
    client_msg_id: Option<String>,
    now: i64,
) -> Plan {
    let mut plan = Plan::ok();
    let status = s.rooms.get(vid).map(|c| c.status);
    if status.is_none() {
        if let Some(refused) = s.prechat_missing(vid) {
            return Plan::err(refused);
        }
        if !s.open_chat(&mut plan, vid, now) {
            return Plan::err(say::NOT_CONNECTED);
        }
    }
    let Some(chat) = s.rooms.get_mut(vid) else {
        return Plan::err(say::NOT_CONNECTED);
    };
    chat.counted(true, now);
    let chat_id = chat.chat_id.clone();
    // Who hears a message in the room if all are connected (Web Push below).
    let listeners = chat.serving().len() + chat.watchers.len();
    let m = plan.insert_message(NewMessage {
        id: new_id(),
        chat_id,
        type_id,
        sender: None,
        content: content.clone(),
        created_at: now,
        client_msg_id,
    });
    if status.is_none() {
        push_new_chat(s, &mut plan, vid, &content);
    }
    // Nobody to answer (closed, or no agent available): the chat waits in the offline queue,
    // and the visitor is told so, with when the business opens if it says.
    let nobody = match status {
        None | Some(ChatStatus::Offline) | Some(ChatStatus::Unclaimed) => {
            let (available, opens_at) = s.availability(now);
            (!available).then_some(opens_at)
        }
        _ => None,
    };
    if let Some(opens_at) = nobody {
        // Every console hears of it (a new chat, or one more line of a waiting one), and it
        // waits offline, with the visitor told why.
        match status {
            None => tell_new_chat(s, &mut plan, vid, m),
            _ => tell_waiting_msg(s, &mut plan, vid, m),
        }
        if status != Some(ChatStatus::Offline) {
            s.wait_offline(&mut plan, vid, now);
            // The staff notification list hears of it by email, once as the chat starts
            // waiting offline (not for each further line), after the commit.
            if let Some(chat) = s.rooms.get(vid) {
                plan.notices.push(crate::email::Notice::OfflineMessage {
                    chat_id: chat.chat_id.clone(),
                    visitor: chat.visitor.clone(),
                    content: content.clone(),
                });
            }
        }
        tell_nobody(s, &mut plan, vid, opens_at);
        hook_visitor_message(s, &mut plan, vid, status.is_none(), m, now);
        return plan;
    }
    match status {
        None => {
            tell_new_chat(s, &mut plan, vid, m);
            s.tell_position(&mut plan, vid, now);
        }
        Some(ChatStatus::Offline) => {
            s.tell(
                &mut plan,
                Audience::AllStaff(None),
                Out::RemoveVisitorOfflineChat,
                vec![("visitor", s.room(vid))],
            );
            s.requeue(&mut plan, vid, now);
        }
        Some(ChatStatus::Unclaimed) => tell_waiting_msg(s, &mut plan, vid, m),
        Some(ChatStatus::Claimed) => {
            let room = s.message_room(vid);
            let sends = plan.sends.len();
            s.tell(
                &mut plan,
                Audience::Serving(vid, None),
                Out::VisitorSend,
                vec![("visitor", room.clone()), ("content", Part::Message(m))],
            );
            let heard = plan.sends.get(sends).map_or(0, |x| x.to.len());
            if heard < listeners {
                push_message(s, &mut plan, vid, &content);
            }
            s.tell_if_heard(
                &mut plan,
                Audience::Supervisors(None),
                Out::NewVisitorMsgForSupervisor,
                || vec![("visitor", room), ("content", Part::Message(m))],
            );
        }
        Some(ChatStatus::Ended) => {}
    }
    hook_visitor_message(s, &mut plan, vid, status.is_none(), m, now);
    plan
}

/// Webhooks (src/webhooks/): `chat.started` for a new chat (once it waits, live or offline),
/// then `message.created`.
fn hook_visitor_message(
    s: &LiveState,
    plan: &mut Plan,
    vid: &VisitorId,
    new: bool,
    m: usize,
    now: i64,
) {
    if new {
        s.hook(plan, Event::ChatStarted, vid, now, || {
            vec![("message", Part::Message(m))]
        });
    }
    s.hook(plan, Event::MessageCreated, vid, now, || {
        vec![("message", Part::Message(m))]
    });
}

/// Every console: a new chat waits, with its first message.
fn tell_new_chat(s: &LiveState, plan: &mut Plan, vid: &VisitorId, m: usize) {
    s.tell(
        plan,
        Audience::AllStaff(None),
        Out::AppendUnclaimedChats,
        vec![
            ("visitor", s.room(vid)),
            ("contents", Part::Messages(vec![m])),
        ],
    );
}

/// Every console: one more message in a chat nobody serves yet.
fn tell_waiting_msg(s: &LiveState, plan: &mut Plan, vid: &VisitorId, m: usize) {
    s.tell(
        plan,
        Audience::AllStaff(None),
        Out::VisitorUnclaimedMsg,
        vec![
            ("visitor", s.message_room(vid)),
            ("content", Part::Message(m)),
        ],
    );
}

/// `no_staff_available {opens_at}` to the visitor who wrote.
fn tell_nobody(s: &LiveState, plan: &mut Plan, vid: &VisitorId, opens_at: Option<i64>) {
    s.tell(
        plan,
        Audience::Visitor(vid),
        Out::NoStaffAvailable,
        vec![("opens_at", raw(&opens_at))],
    );
}

fn staff_message(
    s: &mut LiveState,
    staff: &crate::model::Staff,
    vid: &VisitorId,
    type_id: i64,
    content: Arc<RawValue>,
    client_msg_id: Option<String>,
    now: i64,
) -> Plan {
    let Some(chat) = s.rooms.get_mut(vid) else {
        return Plan::err(say::CLOSED);
    };
    if !chat.is_served_by(&staff.id) {
        return Plan::err(say::NOT_IN_ROOM);
    }
    chat.counted(true, now);
    let chat_id = chat.chat_id.clone();
    // A reply the visitor may not see: emailed if it stays unseen (state/unseen.rs).
    s.unseen.replied(vid, &chat_id, chat.last_seq, now);
    // An agent routing gave this chat to has answered: it is theirs.
    s.answered(vid, &staff.id);
    let mut plan = Plan::ok();
    let m = plan.insert_message(NewMessage {
        id: new_id(),
        chat_id,
        type_id,
        sender: Some(staff.id.clone()),
        content,
        created_at: now,
        client_msg_id,
    });
    let sj = raw(staff);
    s.tell(
        &mut plan,
        Audience::Room(vid, Some(&staff.id)),
        Out::StaffSend,
        vec![("staff", sj.clone()), ("content", Part::Message(m))],
    );
    s.tell_if_heard(
        &mut plan,
        Audience::Supervisors(Some(&staff.id)),
        Out::NewStaffMsgForSupervisor,
        || {
            vec![
                ("staff", sj),
                ("content", Part::Message(m)),
                ("visitor", s.message_room(vid)),
            ]
        },
    );
    s.hook(&mut plan, Event::MessageCreated, vid, now, || {
        vec![("message", Part::Message(m)), ("staff", hook_staff(staff))]
    });
    plan
}

/// Web Push (src/push/): a new chat, to every subscribed staff member with no console open.
fn push_new_chat(s: &LiveState, plan: &mut Plan, vid: &VisitorId, content: &Arc<RawValue>) {
    let Some(subscribed) = s.push_staff.as_ref().filter(|p| !p.is_empty()) else {
        return;
    };
    let staff = subscribed.those(|sid| s.roster.staff_conn(sid).is_none());
    push(s, plan, crate::push::Kind::NewChat, staff, vid, content);
}

/// Web Push: a visitor's message, to the subscribed staff serving the chat whose console is
/// not connected (within their reconnect grace they still serve it). Only called when fewer
/// connections heard it than serve or watch the chat, so it costs nothing while all are there.
fn push_message(s: &LiveState, plan: &mut Plan, vid: &VisitorId, content: &Arc<RawValue>) {
    let (Some(subscribed), Some(chat)) = (s.push_staff.as_ref(), s.rooms.get(vid)) else {
        return;
    };
    let staff = chat
        .serving()
        .iter()
        .filter(|sid| s.roster.staff_conn(sid).is_none() && subscribed.contains(sid))
        .cloned()
        .collect();
    push(s, plan, crate::push::Kind::Message, staff, vid, content);
}

fn push(
    s: &LiveState,
    plan: &mut Plan,
    kind: crate::push::Kind,
    staff: Vec<crate::model::StaffId>,
    vid: &VisitorId,
    content: &Arc<RawValue>,
) {
    let Some(chat) = s.rooms.get(vid).filter(|_| !staff.is_empty()) else {
        return;
    };
    plan.pushes.push(crate::push::Push {
        kind,
        staff,
        chat_id: chat.chat_id.clone(),
        visitor: chat.visitor.name.clone(),
        content: content.clone(),
    });
}

#[cfg(test)]
mod push_rules {
    //! Web Push decisions, plans in and pushes out: to subscribed staff with no console only.
    use crate::live::plan::ConnId;
    use crate::live::state::tests::{live, staff, visitor};
    use crate::live::state::LiveState;
    use crate::model::{Role, StaffId};
    use crate::push::{Kind, Subscribed};
    use serde_json::{json, value::RawValue};

    fn msg(l: &mut LiveState, text: &str, now: i64) -> crate::live::plan::Plan {
        let raw = RawValue::from_string(json!({ "content": text }).to_string()).unwrap();
        let req = crate::live::events::Request::parse("visitor_msg", Some(&raw), 1 << 14).unwrap();
        l.request(ConnId(10), req, now)
    }

    #[test]
    fn pushes_go_only_to_subscribed_staff_without_a_console() {
        let mut l = live(60);
        let subscribed = Subscribed::default();
        l.push_staff = Some(subscribed.clone());
        subscribed.set(&StaffId::from("a"), true);
        subscribed.set(&StaffId::from("away"), true);
        l.connect(ConnId(1), &staff("a", Role::Agent), false, 0);
        l.connect(ConnId(10), &visitor("v"), false, 0);
        // A new chat: "away" (subscribed, no console) hears of it; "a" is connected.
        let p = msg(&mut l, "hello", 1);
        assert_eq!(p.pushes.len(), 1);
        assert_eq!(p.pushes[0].kind, Kind::NewChat);
        assert_eq!(p.pushes[0].staff, [StaffId::from("away")]);
        assert_eq!(p.pushes[0].visitor, "Visitor v");
        // "a" serves it: messages push nothing while a's console is connected…
        let raw = RawValue::from_string(json!({"visitor": "v"}).to_string()).unwrap();
        let join = crate::live::events::Request::parse("staff_join", Some(&raw), 1 << 14).unwrap();
        assert_eq!(l.request(ConnId(1), join, 2).reply, Some(Ok(())));
        assert!(msg(&mut l, "still there?", 3).pushes.is_empty());
        // …and push to "a" once it drops (still serving within the grace).
        l.disconnect(ConnId(1), 4);
        let p = msg(&mut l, "hello?", 5);
        assert_eq!(p.pushes.len(), 1);
        assert_eq!(p.pushes[0].kind, Kind::Message);
        assert_eq!(p.pushes[0].staff, [StaffId::from("a")]);
        // Not subscribed any more: nothing.
        subscribed.set(&StaffId::from("a"), false);
        assert!(msg(&mut l, "anyone?", 6).pushes.is_empty());
    }
}
