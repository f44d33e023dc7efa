//! The objects that travel in payloads (product.md §5) and the small helpers every layer shares:
//! ids, timestamps, roles.

use serde::Serialize;
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, UTC: the one timestamp format of the protocol.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A new id: UUIDv4 as 32 lowercase hex digits, no dashes.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Whether a client-supplied string has the shape of one of our ids.
pub fn is_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Typed ids: a staff id can never be passed where a visitor or chat id is meant. Each is the
/// 32-hex-digit text of `new_id`, serialised as a plain string.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn new() -> $name {
                $name(new_id())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
        impl From<String> for $name {
            fn from(s: String) -> $name {
                $name(s)
            }
        }
        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                $name(s.to_string())
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

id_type!(
    /// A staff member's id.
    StaffId
);
id_type!(
    /// A visitor's id; also the id of the visitor's room (product.md §5).
    VisitorId
);
id_type!(
    /// A chat's id (one conversation of a visitor).
    ChatId
);

/// Staff roles. The numbers are the seed's `role_id`; a lower number outranks a higher one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin = 1,
    Supervisor = 2,
    Agent = 3,
}

impl Role {
    pub fn id(self) -> i64 {
        self as i64
    }

    pub fn from_id(id: i64) -> Option<Role> {
        match id {
            1 => Some(Role::Admin),
            2 => Some(Role::Supervisor),
            3 => Some(Role::Agent),
            _ => None,
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        match name.to_ascii_lowercase().as_str() {
            "admin" => Some(Role::Admin),
            "supervisor" => Some(Role::Supervisor),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
        }
    }

    /// Supervisors and admins see the `*_for_supervisor` events and may take over chats.
    pub fn is_supervisor(self) -> bool {
        matches!(self, Role::Admin | Role::Supervisor)
    }

    /// Whether this role strictly outranks `other`.
    pub fn outranks(self, other: Role) -> bool {
        self.id() < other.id()
    }
}

impl Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.id())
    }
}

/// A staff account as shown in payloads. Never carries a password hash or token.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Staff {
    pub id: StaffId,
    pub email: String,
    pub full_name: String,
    pub display_name: Option<String>,
    pub organisation_id: String,
    pub role_id: Role,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: Option<i64>,
    /// How many chats this staff member may serve at once (product.md §8.3; set by admins).
    pub max_chats: u32,
    /// A job title shown beside the name ("Support lead"); left out of payloads when unset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Where their photo is (`/api/v1/staff/{id}/avatar?v=…`, changing with the photo); left
    /// out when they have none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
    /// Available or away (kept across reloads and restarts); shown as `status` on online
    /// staff, not in the staff object.
    #[serde(skip)]
    pub availability: Availability,
}

/// The capacity of a staff member nobody set one for.
pub const DEFAULT_MAX_CHATS: u32 = 3;
/// The most chats an admin may give one staff member.
pub const MAX_MAX_CHATS: u32 = 50;

/// A staff member's availability (product.md §8.3): only `available` staff get chats routed to
/// them, and "nobody available" means no connected staff member is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    #[default]
    Available,
    Away,
}

impl Availability {
    pub fn parse(s: &str) -> Option<Availability> {
        match s {
            "available" => Some(Availability::Available),
            "away" => Some(Availability::Away),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::Away => "away",
        }
    }
}

/// A visitor as shown in payloads.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Visitor {
    pub id: VisitorId,
    pub name: String,
    pub email: Option<String>,
    pub is_anonymous: bool,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: Option<i64>,
}

/// A stored chat message (product.md §5). `content` is the client's JSON, byte-for-byte.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: String,
    pub chat_id: String,
    pub sequence_num: i64,
    /// 0 = system, 1 = chat message.
    pub type_id: i64,
    /// The staff id, or `None` for the visitor (and for system messages about the visitor).
    pub sender: Option<String>,
    pub content: std::sync::Arc<serde_json::value::RawValue>,
    pub created_at: i64,
}

pub const MESSAGE_SYSTEM: i64 = 0;
pub const MESSAGE_CHAT: i64 = 1;
/// A file sent in the chat: content `{"attachment": {id, name, size, mime, url}}`.
pub const MESSAGE_ATTACHMENT: i64 = 2;
/// An internal note: staff only, never sent or shown to a visitor.
pub const MESSAGE_NOTE: i64 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_lowercase_hex() {
        let id = new_id();
        assert!(is_id(&id), "{id}");
        assert!(!is_id(&id.to_uppercase()));
        assert!(!is_id("not-an-id"));
    }

    #[test]
    fn lower_role_number_outranks() {
        assert!(Role::Admin.outranks(Role::Supervisor));
        assert!(Role::Supervisor.outranks(Role::Agent));
        assert!(!Role::Supervisor.outranks(Role::Supervisor));
        assert!(!Role::Agent.outranks(Role::Admin));
        assert_eq!(serde_json::to_string(&Role::Agent).unwrap(), "3");
    }
}
