//! What the store writes and reads back for the live chat: the write operations a plan asks
//! for (`DbOp`, carried out in order in one transaction by `chats::apply`) and the open chats
//! restored at start. The store owns these types; the live rules build them and never the other
//! way round.

use crate::model::{Availability, ChatId, Staff, StaffId, Visitor, VisitorId};
use serde_json::value::RawValue;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatStatus {
    Unclaimed,
    Offline,
    Claimed,
    Ended,
}

impl ChatStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatStatus::Unclaimed => "unclaimed",
            ChatStatus::Offline => "offline",
            ChatStatus::Claimed => "claimed",
            ChatStatus::Ended => "ended",
        }
    }
    pub fn parse(s: &str) -> Option<ChatStatus> {
        Some(match s {
            "unclaimed" => ChatStatus::Unclaimed,
            "offline" => ChatStatus::Offline,
            "claimed" => ChatStatus::Claimed,
            "ended" => ChatStatus::Ended,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: String,
    pub chat_id: ChatId,
    pub type_id: i64,
    pub sender: Option<StaffId>,
    pub content: Arc<RawValue>,
    pub created_at: i64,
    /// The client's own id for it: a resend with the same id (same sender, same chat) is
    /// stored once (`Slot::Duplicate`).
    pub client_msg_id: Option<String>,
}

/// A write (or a consistent read) done by the writer, in plan order, in one transaction.
#[derive(Debug, Clone)]
pub enum DbOp {
    CreateChat {
        chat_id: ChatId,
        visitor_id: VisitorId,
        at: i64,
    },
    SetChatStatus {
        chat_id: ChatId,
        status: ChatStatus,
        at: i64,
    },
    StaffJoined {
        chat_id: ChatId,
        staff_id: StaffId,
        at: i64,
    },
    StaffLeft {
        chat_id: ChatId,
        staff_id: StaffId,
        at: i64,
    },
    SetPriority {
        chat_id: ChatId,
        severity_level: i64,
        flagged_at: Option<i64>,
        at: i64,
    },
    InsertMessage {
        slot: usize,
        message: NewMessage,
    },
    /// A staff member's availability, kept across reloads and restarts.
    SetStaffAvailability {
        staff_id: StaffId,
        status: Availability,
    },
    /// A visitor left contact details (`visitor_update`).
    UpdateVisitor {
        visitor_id: VisitorId,
        name: Option<String>,
        email: Option<String>,
        at: i64,
    },
    /// The chat's messages with `sequence_num` above `after` (0: all), as of this point;
    /// without `notes` for a visitor (internal notes are staff only).
    LoadMessages {
        slot: usize,
        chat_id: ChatId,
        after: i64,
        notes: bool,
    },
    /// A side read the chat up to `seq` (`message_read`).
    SetRead {
        chat_id: ChatId,
        by_visitor: bool,
        seq: i64,
    },
    /// The chat's tags are now exactly these (`tag_chat`).
    SetTags {
        chat_id: ChatId,
        tags: Vec<String>,
        at: i64,
    },
    /// The visitor rated the chat (`rate_chat`).
    RateChat {
        chat_id: ChatId,
        rating: &'static str,
        comment: Option<String>,
        at: i64,
    },
}

/// A chat as loaded from the database at start.
#[derive(Debug, Clone)]
pub struct RestoredChat {
    pub chat_id: ChatId,
    pub visitor: Visitor,
    pub status: ChatStatus,
    pub severity_level: i64,
    pub flagged_at: Option<i64>,
    pub queued_at: i64,
    pub tags: Vec<String>,
    pub staff: Vec<Staff>,
    /// The highest `sequence_num` read by the visitor and by staff, and the highest stored.
    pub visitor_read_seq: i64,
    pub staff_read_seq: i64,
    pub last_seq: i64,
    /// The automatic offers recorded in a claimed chat (its `assigned` system messages), in
    /// order: routing takes an unanswered one back up after a restart.
    pub offers: Vec<Offer>,
}

/// An automatic offer of a chat, as its system message recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub staff_id: StaffId,
    pub at: i64,
    /// That staff member wrote in the chat after it.
    pub answered: bool,
}

/// The typed ids are stored as their text.
macro_rules! sql_id {
    ($($t:ty),*) => {$(
        impl rusqlite::types::ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }
        impl rusqlite::types::FromSql for $t {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                String::column_result(v).map(Self)
            }
        }
    )*};
}
sql_id!(
    crate::model::StaffId,
    crate::model::VisitorId,
    crate::model::ChatId
);
