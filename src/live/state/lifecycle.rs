//! A chat's lifecycle, shared by the events and by presence: opening, status changes (which
//! keep the queues in step), staff joining and leaving (with their writes), the last one out
//! closing the room, the visitor ending it, system messages and queue positions.

use super::queues::Capacity;
use super::rooms::Chat;
use super::views::{raw, system_content, QueuePosition};
use super::LiveState;
use crate::live::plan::*;
use crate::model::{new_id, ChatId, Staff, StaffId, VisitorId, MESSAGE_SYSTEM};
use crate::webhooks::{Event, Fire};

/// A chat as webhooks show it: `{id, visitor_id, status, severity_level, tags, staff, visitor}`.
pub(crate) fn hook_chat(chat: &Chat) -> Part {
    Part::Json(serde_json::json!({
        "id": chat.chat_id,
        "visitor_id": chat.visitor.id,
        "status": chat.status.as_str(),
        "severity_level": chat.severity_level,
        "tags": chat.tags,
        "staff": chat.serving(),
        "visitor": chat.visitor,
    }))
}

/// A staff member as webhooks show them: `{id, name}`.
pub(crate) fn hook_staff(staff: &Staff) -> Part {
    let name = super::routing::shown_name(staff);
    Part::Json(serde_json::json!({ "id": staff.id, "name": name }))
}

impl LiveState {
    /// A webhook event about the open chat of `vid`, with data `{chat, ..more}`, delivered
    /// after the commit (src/webhooks/). Unless an enabled hook wants `event`: one branch.
    pub(crate) fn hook(
        &self,
        plan: &mut Plan,
        event: Event,
        vid: &str,
        now: i64,
        more: impl FnOnce() -> Vec<(&'static str, Part)>,
    ) {
        if !self.hooks.wants(event) {
            return;
        }
        let Some(chat) = self.rooms.get(vid) else {
            return;
        };
        let mut data = vec![("chat", hook_chat(chat))];
        data.extend(more());
        plan.hooks.push(Fire {
            event,
            at: now,
            data,
        });
    }

    /// A new chat for a connected visitor, waiting in the live queue.
    pub(crate) fn open_chat(&mut self, plan: &mut Plan, vid: &VisitorId, now: i64) -> bool {
        let Some(visitor) = self.roster.visitor(vid).cloned() else {
            return false;
        };
        let chat_id = ChatId::new();
        plan.op(DbOp::CreateChat {
            chat_id: chat_id.clone(),
            visitor_id: vid.clone(),
            at: now,
        });
        self.rooms.open(
            Chat::new(chat_id, visitor, ChatStatus::Unclaimed, now),
            vec![],
        );
        self.queues.moved(vid, None, ChatStatus::Unclaimed);
        true
    }

    /// The one way a chat's status changes: the chat, its queue and the database together.
    pub(crate) fn set_status(
        &mut self,
        plan: &mut Plan,
        vid: &VisitorId,
        status: ChatStatus,
        now: i64,
    ) {
        let Some(chat) = self.rooms.get_mut(vid) else {
            return;
        };
        let was = chat.status;
        chat.status = status;
        if matches!(status, ChatStatus::Unclaimed | ChatStatus::Offline) {
            chat.queued_at = now;
            // Waiting again: no offer of it is pending.
            chat.route.pending = None;
        }
        plan.op(DbOp::SetChatStatus {
            chat_id: chat.chat_id.clone(),
            status,
            at: now,
        });
        self.queues.moved(vid, Some(was), status);
    }

    pub(crate) fn chat_id(&self, vid: &str) -> Option<ChatId> {
        self.rooms.get(vid).map(|c| c.chat_id.clone())
    }

    pub(crate) fn system_message(
        &mut self,
        plan: &mut Plan,
        vid: &str,
        sender: Option<&StaffId>,
        text: &str,
        now: i64,
    ) {
        self.system_message_with(plan, vid, sender, system_content(text), now);
    }

    /// A system message with more than a text (`{"content": "assigned", "staff": …}`).
    pub(crate) fn system_message_with(
        &mut self,
        plan: &mut Plan,
        vid: &str,
        sender: Option<&StaffId>,
        content: std::sync::Arc<serde_json::value::RawValue>,
        now: i64,
    ) {
        if let Some(chat) = self.rooms.get_mut(vid) {
            chat.counted(false, now);
            plan.insert_message(NewMessage {
                id: new_id(),
                chat_id: chat.chat_id.clone(),
                type_id: MESSAGE_SYSTEM,
                sender: sender.cloned(),
                content,
                created_at: now,
                client_msg_id: None,
            });
        }
    }

    /// A waiting chat becomes `staff`'s: what a claim does, whoever decided it (the staff
    /// member's `staff_join`, or routing). Everyone else hears it as a claim. Returns the
    /// chat's id.
    pub(crate) fn take_chat(
        &mut self,
        plan: &mut Plan,
        staff: &Staff,
        vid: &VisitorId,
        now: i64,
    ) -> Option<ChatId> {
        let chat = self.rooms.get(vid)?;
        let was = chat.status;
        let waited = (now - chat.queued_at).max(0) as f64 / 1000.0;
        let chat_id = chat.chat_id.clone();
        // A console lists 15 offline chats; when one of those goes, the 16th moves up.
        let next_offline = self.queues.next_offline_if_listed_leaves(vid);
        if was == ChatStatus::Unclaimed {
            self.queues.record_wait(waited, now);
        }
        self.set_status(plan, vid, ChatStatus::Claimed, now);
        self.join(plan, &staff.id, vid, now);
        self.system_message(plan, vid, Some(&staff.id), "join room", now);
        if let Some(chat) = self.rooms.get_mut(vid) {
            // Inactivity counts from the claim, not from a wait in the queue.
            chat.last_activity = now;
            chat.warned = false;
        }

        let room = self.room(vid);
        let next = next_offline.map_or(raw(&()), |v| self.room(&v));
        let sj = raw(staff);
        self.tell(
            plan,
            Audience::AllStaff(Some(&staff.id)),
            Out::StaffClaimChat,
            vec![
                ("staff", sj.clone()),
                ("visitor", room.clone()),
                ("next_offline_unclaimed_visitor", next),
            ],
        );
        self.tell(
            plan,
            Audience::Visitor(vid),
            Out::StaffJoinRoom,
            vec![("staff", sj.clone())],
        );
        let history = plan.load_messages(&chat_id);
        self.tell(
            plan,
            Audience::Supervisors(Some(&staff.id)),
            Out::AgentNewChat,
            vec![
                ("staff", sj),
                ("visitor", room),
                ("contents", Part::Messages(vec![history])),
            ],
        );
        self.hook(plan, Event::ChatClaimed, vid, now, || {
            vec![("staff", hook_staff(staff))]
        });
        Some(chat_id)
    }

    pub(crate) fn join(&mut self, plan: &mut Plan, sid: &StaffId, vid: &VisitorId, now: i64) {
        let Some(chat_id) = self.chat_id(vid) else {
            return;
        };
        self.rooms.join(sid, vid);
        self.queues.mark_dirty();
        plan.op(DbOp::StaffJoined {
            chat_id,
            staff_id: sid.clone(),
            at: now,
        });
    }

    pub(crate) fn unjoin(&mut self, plan: &mut Plan, sid: &StaffId, vid: &VisitorId, now: i64) {
        let Some(chat_id) = self.chat_id(vid) else {
            return;
        };
        self.rooms.leave(sid, vid);
        self.queues.mark_dirty();
        plan.op(DbOp::StaffLeft {
            chat_id,
            staff_id: sid.clone(),
            at: now,
        });
    }

    /// A staff member leaves a room (by `staff_leave_room` or by going away). The last one
    /// out closes the chat.
    pub(crate) fn leave_room(&mut self, plan: &mut Plan, staff: &Staff, vid: &VisitorId, now: i64) {
        if !self
            .rooms
            .get(vid)
            .is_some_and(|c| c.is_served_by(&staff.id))
        {
            return;
        }
        self.system_message(plan, vid, Some(&staff.id), "leave room", now);
        self.unjoin(plan, &staff.id, vid, now);
        self.tell_left(plan, staff, vid);
        if self.rooms.get(vid).is_some_and(|c| c.serving().is_empty()) {
            self.close_chat(plan, vid, now);
        }
    }

    /// A staff member no longer serves the room: its visitor and remaining staff get
    /// `staff_leave`, supervisors `staff_leave_chat_for_supervisor`.
    pub(crate) fn tell_left(&self, plan: &mut Plan, staff: &Staff, vid: &VisitorId) {
        let sj = raw(staff);
        self.tell(
            plan,
            Audience::Room(vid, None),
            Out::StaffLeave,
            vec![("staff", sj.clone())],
        );
        self.tell(
            plan,
            Audience::Supervisors(Some(&staff.id)),
            Out::StaffLeaveChatForSupervisor,
            vec![("staff", sj), ("visitor", self.room(vid))],
        );
    }

    /// The visitor ends the chat (`visitor_leave_room`, or gone while claimed).
    pub(crate) fn end_by_visitor(&mut self, plan: &mut Plan, vid: &VisitorId, now: i64) {
        let room = self.room(vid);
        self.system_message(plan, vid, None, "leave room", now);
        self.tell(
            plan,
            Audience::AllStaff(None),
            Out::VisitorLeaveQueue,
            vec![("user", room.clone())],
        );
        self.tell(
            plan,
            Audience::Supervisors(None),
            Out::VisitorLeaveChatForSupervisor,
            vec![("visitor", room)],
        );
        self.close_chat(plan, vid, now);
    }

    pub(crate) fn close_chat(&mut self, plan: &mut Plan, vid: &VisitorId, now: i64) {
        self.set_status(plan, vid, ChatStatus::Ended, now);
        self.hook(plan, Event::ChatEnded, vid, now, Vec::new);
        self.rooms.close(vid);
        if !self.roster.has_visitor(vid) {
            // Nobody left to rate it.
            self.rooms.forget_visitor(vid);
        }
    }

    /// Back to the live queue with its history for every console (an offline chat whose
    /// visitor wrote again, or a chat nobody serves any more).
    pub(crate) fn requeue(&mut self, plan: &mut Plan, vid: &VisitorId, now: i64) {
        let Some(chat_id) = self.chat_id(vid) else {
            return;
        };
        self.set_status(plan, vid, ChatStatus::Unclaimed, now);
        let history = plan.load_messages(&chat_id);
        self.tell(
            plan,
            Audience::AllStaff(None),
            Out::AppendUnclaimedChats,
            vec![
                ("visitor", self.room(vid)),
                ("contents", Part::Messages(vec![history])),
            ],
        );
        self.tell_position(plan, vid, now);
    }

    /// A waiting chat whose visitor is away waits offline; every console is told.
    pub(crate) fn wait_offline(&mut self, plan: &mut Plan, vid: &VisitorId, now: i64) {
        self.set_status(plan, vid, ChatStatus::Offline, now);
        self.tell(
            plan,
            Audience::AllStaff(None),
            Out::UnclaimedChatToOffline,
            vec![("visitor", self.room(vid))],
        );
    }

    /// What the queue estimate needs to know of the staff side now.
    pub(crate) fn capacity(&self) -> Capacity {
        let mut cap = Capacity::default();
        for (staff, busy) in self.on_duty() {
            cap.available_agents += 1;
            cap.free_slots += (staff.max_chats as usize).saturating_sub(busy);
        }
        cap
    }

    /// Tells a waiting, connected visitor their place in the queue and the estimated wait, if
    /// either changed.
    pub(crate) fn tell_position(&mut self, plan: &mut Plan, vid: &VisitorId, now: i64) {
        // Routing first: a chat an agent takes at once is never told a place in the queue.
        self.route(plan, now);
        if self.queues.position(vid).is_none() {
            return;
        }
        let cap = self.capacity();
        self.tell_position_with(plan, vid, cap, now);
    }

    pub(crate) fn tell_position_with(
        &mut self,
        plan: &mut Plan,
        vid: &VisitorId,
        cap: Capacity,
        now: i64,
    ) {
        let Some(position) = self.queues.position(vid) else {
            return;
        };
        let Some(conn) = self.roster.visitor_conn(vid) else {
            return;
        };
        let estimate = self.queues.estimate(position, cap, now);
        if !self.queues.tell(vid, position, estimate) {
            return;
        }
        let view = QueuePosition {
            position,
            estimated_wait_seconds: estimate,
        };
        // Beyond the seed: the chat's id, so a visitor's client knows which chat to `sync`
        // from its first message on (its acks carry no id).
        let chat_id = self.chat_id(vid);
        self.tell(
            plan,
            Audience::Conn(conn),
            Out::QueuePosition,
            vec![
                ("position", raw(&view.position)),
                ("estimated_wait_seconds", raw(&view.estimated_wait_seconds)),
                ("chat_id", raw(&chat_id)),
            ],
        );
    }
}
