//! The table of outgoing events: every event the server sends, by typed name, with who hears
//! it, and the `Audience` kinds that say so at each send. "Who hears `staff_send`?" — its row
//! below, and `grep -rn -B1 'Out::StaffSend' src/live` for the sends with their audiences. The
//! audiences are resolved into connections in one place, `LiveState::audience`
//! (`live/state.rs`).

use super::plan::ConnId;
use crate::model::{StaffId, VisitorId};

macro_rules! outgoing {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// Every server → client event.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Out {
            $($(#[$doc])* $variant,)*
        }

        impl Out {
            pub const ALL: &'static [Out] = &[$(Out::$variant,)*];

            /// The event's name on both transports.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Out::$variant => $name,)*
                }
            }
        }
    };
}

outgoing! {
    // ----- presence (live/state/presence.rs, live/events/presence.rs) -----
    /// The connecting staff console: everything it shows.
    StaffInit = "staff_init",
    /// A second console of an online staff member, refused without `force`.
    StaffAlreadyOnline = "staff_already_online",
    /// All other staff, when a staff member comes online (not on a reconnect in the grace).
    StaffGoesOnline = "staff_goes_online",
    /// All staff, when a staff member's grace ran out.
    StaffGoesOffline = "staff_goes_offline",
    /// The visitors of the chats a staff member serves and all other staff: that staff
    /// member's connection dropped; their chats wait for them (the staff reconnect grace).
    StaffAway = "staff_away",
    /// The same audience: the staff member is back within the grace.
    StaffBack = "staff_back",
    /// All staff (the sender too): a staff member set their availability.
    StaffAvailabilityChanged = "staff_availability_changed",
    /// The connecting visitor: serving staff and the open chat's messages.
    VisitorInit = "visitor_init",
    /// A second session of a connected visitor, refused without `force`.
    VisitorRoomExists = "visitor_room_exists",
    /// All staff, when a visitor comes online.
    VisitorGoesOnline = "visitor_goes_online",
    /// All staff, when a visitor's grace ran out.
    VisitorGoesOffline = "visitor_goes_offline",
    /// All staff: a visitor's connection dropped; the chat stays open (the visitor grace).
    VisitorAway = "visitor_away",
    /// All staff: the visitor is back within the grace.
    VisitorBack = "visitor_back",

    // ----- queues -----
    /// All staff: a new (or returning) chat waits to be claimed.
    AppendUnclaimedChats = "append_unclaimed_chats",
    /// All staff: a message in a chat still waiting.
    VisitorUnclaimedMsg = "visitor_unclaimed_msg",
    /// All staff: an offline unclaimed chat left that list (its visitor wrote again).
    RemoveVisitorOfflineChat = "remove_visitor_offline_chat",
    /// All staff: a waiting chat's visitor went away; the chat waits offline.
    UnclaimedChatToOffline = "unclaimed_chat_to_offline",
    /// The waiting visitor: their place in the queue and the estimated wait.
    QueuePosition = "queue_position",
    /// The visitor who wrote while nobody is available (closed, or no agent available): the
    /// chat waits in the offline queue; `opens_at` when business hours say when.
    NoStaffAvailable = "no_staff_available",
    /// All staff: a visitor left contact details (`visitor_update`).
    VisitorUpdated = "visitor_updated",

    // ----- routing and transfers (live/state/routing.rs, live/events/transfer.rs) -----
    /// The agent routing gave a chat to (their claim, made for them), with its history.
    ChatAssigned = "chat_assigned",
    /// The agent who did not answer an assigned chat in time: it is taken back.
    ChatUnassigned = "chat_unassigned",
    /// The staff member a chat is transferred to, with its history and the note.
    ChatTransferredToYou = "chat_transferred_to_you",
    /// The visitor (`{from, to}`), the staff member it was taken from and supervisors and
    /// admins, but not the sender (`{from, to, visitor}`): a chat changed hands.
    ChatTransferred = "chat_transferred",

    // ----- messages and rooms (live/events/messages.rs, claim.rs) -----
    /// The staff serving the room: the visitor wrote.
    VisitorSend = "visitor_send",
    /// Supervisors and admins: a visitor wrote in a claimed chat.
    NewVisitorMsgForSupervisor = "new_visitor_msg_for_supervisor",
    /// The visitor and the other staff serving the room: a staff message.
    StaffSend = "staff_send",
    /// Supervisors and admins except the sender: a staff message.
    NewStaffMsgForSupervisor = "new_staff_msg_for_supervisor",
    /// All other staff: a chat was claimed.
    StaffClaimChat = "staff_claim_chat",
    /// The visitor: a staff member claimed their chat.
    StaffJoinRoom = "staff_join_room",
    /// Supervisors and admins except the claimer: a chat was claimed, with its history.
    AgentNewChat = "agent_new_chat",
    /// The visitor and the staff still serving the room: a staff member left.
    StaffLeave = "staff_leave",
    /// Supervisors and admins except the one leaving: a staff member left a room.
    StaffLeaveChatForSupervisor = "staff_leave_chat_for_supervisor",
    /// All staff: the visitor ended the chat.
    VisitorLeaveQueue = "visitor_leave_queue",
    /// Supervisors and admins: the visitor ended the chat.
    VisitorLeaveChatForSupervisor = "visitor_leave_chat_for_supervisor",

    // ----- resume (live/events/resume.rs) -----
    /// The connection that sent `sync`: the chat's messages after the number it gave.
    MessagesSince = "messages_since",

    // ----- supervision (live/events/supervision.rs) -----
    /// The replaced serving staff and the visitor: a supervisor took the chat over.
    StaffBeingTakenOverChat = "staff_being_taken_over_chat",
    /// Supervisors and admins except the one taking over.
    StaffTakeOverChat = "staff_take_over_chat",
    /// The room (visitor: `{staff}`; serving staff, the added one too: `{staff, visitor}`).
    StaffBeingAddedToChat = "staff_being_added_to_chat",
    /// The room and the removed staff member (staff also get the room).
    StaffBeingRemovedFromChat = "staff_being_removed_from_chat",
    /// Supervisors and admins except the sender: a chat's priority changed.
    ChatHasChangedPriorityForSupervisor = "chat_has_changed_priority_for_supervisor",

    // ----- the conversation (live/events/{receipts,notes,tagging,rating,visits}.rs,
    //       live/state/conversation.rs) -----
    /// The other side of the room (a staff read: the visitor and the other staff in or
    /// watching it; a visitor's read: the staff in or watching it): read up to a number.
    MessageSeen = "message_seen",
    /// Staff in or watching the room and supervisors/admins, never the sender nor the
    /// visitor: an internal note.
    StaffNoteSend = "staff_note_send",
    /// The supervisor or admin who started watching a chat: the room with its messages.
    ChatWatched = "chat_watched",
    /// All staff: a chat's tags changed.
    ChatTagsChanged = "chat_tags_changed",
    /// All staff: the visitor rated their chat.
    ChatRated = "chat_rated",
    /// All staff: a visitor viewed a page (with the last pages and their browser).
    VisitorPageViewed = "visitor_page_viewed",
    /// The room: nobody wrote for `inactivity_warning_secs`; it closes in `seconds_left`.
    ChatTimeoutWarning = "chat_timeout_warning",
    /// The room: closed after `inactivity_close_secs` without a message.
    ChatClosedInactive = "chat_closed_inactive",
    /// All staff: the canned replies changed (an admin edited them).
    CannedRepliesChanged = "canned_replies_changed",

    // ----- typing (live/events/typing.rs) -----
    /// The other parties of the room.
    UserTypingReceive = "user_typing_receive",
    /// The other parties of the room.
    UserStopTypingReceive = "user_stop_typing_receive",
}

/// Who hears an event, in the live state's terms. Resolved to connections by
/// `LiveState::audience`, the one place that knows how.
#[derive(Debug, Clone, Copy)]
pub enum Audience<'a> {
    /// One connection (e.g. the one connecting).
    Conn(ConnId),
    /// Connections found before the state changed (the staff a take-over replaces).
    Listed(&'a [ConnId]),
    /// The room's visitor.
    Visitor(&'a VisitorId),
    /// The staff serving the room and those watching it, except one.
    Serving(&'a VisitorId, Option<&'a StaffId>),
    /// The room: its visitor and its serving (and watching) staff, except one staff member.
    Room(&'a VisitorId, Option<&'a StaffId>),
    /// The visitors of every room a staff member serves.
    VisitorsServedBy(&'a StaffId),
    /// Every online staff member, except one.
    AllStaff(Option<&'a StaffId>),
    /// Online supervisors and admins, except one.
    Supervisors(Option<&'a StaffId>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for o in Out::ALL {
            assert!(seen.insert(o.name()), "{} twice", o.name());
        }
    }
}
