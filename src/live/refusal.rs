//! Refusals: every `(false, sentence)` answer a client can get, with its stable code
//! (product.md §8: "an ack that refuses also carries a stable code"). Programs decide on the
//! code; people read the sentence. `/ws` acks carry both; Socket.IO acks keep the seed's two
//! arguments and carry the sentence only.

use std::borrow::Cow;

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal,)*) => {
        /// The stable, snake_case codes of refusals. Never renamed once shipped: consoles and
        /// integrations decide on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    /// A field is missing or has the wrong type or range ("Missing/Invalid field: visitor").
    InvalidField = "invalid_field",
    /// The content is over `max_content_bytes`.
    TooLarge = "too_large",
    /// No client event has this name.
    UnknownEvent = "unknown_event",
    /// `/ws` only: the frame is not a JSON event object.
    InvalidFrame = "invalid_frame",
    /// Over the per-connection event budget.
    RateLimited = "rate_limited",
    /// The connection is not (or no longer) signed in.
    NotSignedIn = "not_signed_in",
    /// The sender's kind, role or rank may not do this.
    NotAllowed = "not_allowed",
    /// The chat is closed or does not exist.
    ChatClosed = "chat_closed",
    /// Someone else claimed the chat first.
    AlreadyClaimed = "already_claimed",
    /// The chat is still waiting to be claimed.
    NotClaimed = "not_claimed",
    /// The sender does not serve this chat.
    NotInChat = "not_in_chat",
    /// The sender already serves this chat.
    AlreadyInChat = "already_in_chat",
    /// The staff member named is not online.
    StaffNotOnline = "staff_not_online",
    /// The staff member named already serves this chat.
    StaffAlreadyInChat = "staff_already_in_chat",
    /// The staff member named does not serve this chat.
    StaffNotInChat = "staff_not_in_chat",
    /// The chat already has `max_staffs_in_chat` staff.
    ChatFull = "chat_full",
    /// The visitor has no open chat.
    NoOpenChat = "no_open_chat",
    /// The pre-chat form asks for a detail the visitor has not given (`visitor_update`).
    PrechatRequired = "prechat_required",
    /// The database write failed; nothing changed.
    SaveFailed = "save_failed",
    /// The server is stopping.
    ShuttingDown = "shutting_down",
}

/// Why a client event was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: Code,
    pub sentence: Cow<'static, str>,
}

impl Refusal {
    pub const fn fixed(code: Code, sentence: &'static str) -> Refusal {
        Refusal {
            code,
            sentence: Cow::Borrowed(sentence),
        }
    }

    pub fn new(code: Code, sentence: String) -> Refusal {
        Refusal {
            code,
            sentence: Cow::Owned(sentence),
        }
    }

    /// "Missing/Invalid field: x".
    pub fn invalid(field: &str) -> Refusal {
        Refusal::new(
            Code::InvalidField,
            format!("Missing/Invalid field: {field}"),
        )
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.sentence)
    }
}

/// The fixed refusals, in one place.
pub mod say {
    use super::{Code, Refusal};
    pub const CLOSED: Refusal = Refusal::fixed(
        Code::ChatClosed,
        "The chat room is either closed or doesn't exist.",
    );
    pub const ALREADY_CLAIMED: Refusal =
        Refusal::fixed(Code::AlreadyClaimed, "This chat has already been claimed.");
    pub const NOT_CLAIMED: Refusal =
        Refusal::fixed(Code::NotClaimed, "This chat has not been claimed yet.");
    pub const NOT_IN_ROOM: Refusal =
        Refusal::fixed(Code::NotInChat, "You are not serving this chat.");
    pub const ALREADY_IN_ROOM: Refusal =
        Refusal::fixed(Code::AlreadyInChat, "You are already serving this chat.");
    pub const STAFF_ONLY: Refusal =
        Refusal::fixed(Code::NotAllowed, "Only staff can send this event.");
    pub const VISITOR_ONLY: Refusal =
        Refusal::fixed(Code::NotAllowed, "Only visitors can send this event.");
    pub const TAKE_OVER_ROLE: Refusal = Refusal::fixed(
        Code::NotAllowed,
        "Only supervisors and admins can take over chats.",
    );
    pub const ADD_ROLE: Refusal = Refusal::fixed(
        Code::NotAllowed,
        "Only supervisors and admins can add staff to chats.",
    );
    pub const REMOVE_ROLE: Refusal = Refusal::fixed(
        Code::NotAllowed,
        "Only supervisors and admins can remove staff from chats.",
    );
    pub const STAFF_NOT_ONLINE: Refusal =
        Refusal::fixed(Code::StaffNotOnline, "That staff member is not online.");
    pub const STAFF_ALREADY_IN: Refusal = Refusal::fixed(
        Code::StaffAlreadyInChat,
        "That staff member is already in this chat.",
    );
    pub const STAFF_NOT_IN: Refusal = Refusal::fixed(
        Code::StaffNotInChat,
        "That staff member is not in this chat.",
    );
    pub const NO_OPEN_CHAT: Refusal = Refusal::fixed(Code::NoOpenChat, "You have no open chat.");
    pub const NOT_CONNECTED: Refusal =
        Refusal::fixed(Code::NotSignedIn, "This connection is not signed in.");
    pub const SLOW_DOWN: Refusal = Refusal::fixed(Code::RateLimited, "Too many events; slow down.");
    pub const SLOW_DOWN_TYPING: Refusal =
        Refusal::fixed(Code::RateLimited, "Too many typing events; slow down.");
    pub const SAVE_FAILED: Refusal = Refusal::fixed(
        Code::SaveFailed,
        "The server could not save this. Please try again.",
    );
    pub const SHUTTING_DOWN: Refusal =
        Refusal::fixed(Code::ShuttingDown, "The server is shutting down.");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{s}"
            );
        }
    }
}
