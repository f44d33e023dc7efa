//! What the store writes and reads back for the live chat: the write operations a plan asks
//! for (`DbOp`, carried out in order in one transaction by `chats::apply`) and the open chats
//! restored at start. The store owns these types; the live rules build them and never the other
//! way round.

use crate::model::Visitor;
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
    pub chat_id: String,
    pub type_id: i64,
    pub sender: Option<String>,
    pub content: Arc<RawValue>,
    pub created_at: i64,
}

/// A write (or a consistent read) done by the writer, in plan order, in one transaction.
#[derive(Debug, Clone)]
pub enum DbOp {
    CreateChat {
        chat_id: String,
        visitor_id: String,
        at: i64,
    },
    SetChatStatus {
        chat_id: String,
        status: ChatStatus,
        at: i64,
    },
    StaffJoined {
        chat_id: String,
        staff_id: String,
        at: i64,
    },
    StaffLeft {
        chat_id: String,
        staff_id: String,
        at: i64,
    },
    SetPriority {
        chat_id: String,
        severity_level: i64,
        flagged_at: Option<i64>,
        at: i64,
    },
    InsertMessage {
        slot: usize,
        message: NewMessage,
    },
    LoadMessages {
        slot: usize,
        chat_id: String,
    },
}

/// A chat as loaded from the database at start.
#[derive(Debug, Clone)]
pub struct RestoredChat {
    pub chat_id: String,
    pub visitor: Visitor,
    pub status: ChatStatus,
    pub severity_level: i64,
    pub flagged_at: Option<i64>,
    pub queued_at: i64,
    pub tags: Vec<String>,
    pub staff: Vec<crate::model::Staff>,
}
