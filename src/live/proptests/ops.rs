//! The steps of a random sequence and how they are drawn.

use super::{PEOPLE, STAFF, VISITORS};
use proptest::prelude::*;

#[derive(Debug, Clone)]
pub(super) enum Op {
    Connect {
        who: usize,
        force: bool,
    },
    /// Everyone not connected connects (after a restart, or to get busy rooms).
    ConnectAll,
    /// A staff event by whoever serves visitor `v`'s chat (random staff rarely hit a served
    /// chat): `staff_msg`, or `staff_leave_room` when `leave`.
    ByServer {
        v: usize,
        leave: bool,
    },
    Disconnect {
        who: usize,
    },
    VisitorMsg {
        v: usize,
    },
    VisitorLeave {
        v: usize,
    },
    Claim {
        s: usize,
        v: usize,
    },
    StaffMsg {
        s: usize,
        v: usize,
    },
    StaffLeave {
        s: usize,
        v: usize,
    },
    TakeOver {
        s: usize,
        v: usize,
    },
    Add {
        s: usize,
        target: usize,
        v: usize,
    },
    Remove {
        s: usize,
        target: usize,
        v: usize,
    },
    Priority {
        s: usize,
        v: usize,
        level: i64,
    },
    Typing {
        who: usize,
        v: usize,
        typing: bool,
    },
    /// `sync` of visitor `v`'s open chat (or of a chat that does not exist), by anyone.
    Sync {
        who: usize,
        v: usize,
        after: i64,
    },
    /// The admin sets the routing (0 manual, 1 round robin, 2 least busy).
    Routing {
        mode: usize,
    },
    SetAvailability {
        s: usize,
        away: bool,
    },
    /// `transfer_chat` by `s` of visitor `v`'s chat to `target` (an index past the staff is a
    /// visitor's id).
    Transfer {
        s: usize,
        target: usize,
        v: usize,
    },
    VisitorUpdate {
        v: usize,
    },
    /// `message_read` of visitor `v`'s chat up to `seq`, by anyone (issue 14's events below).
    Read {
        who: usize,
        v: usize,
        seq: i64,
    },
    Note {
        s: usize,
        v: usize,
    },
    Tag {
        s: usize,
        v: usize,
    },
    Rate {
        v: usize,
        good: bool,
    },
    /// Time passes; grace timers due by then fire, in time order.
    Advance {
        ms: u64,
    },
    Restart,
}

pub(super) fn op() -> impl Strategy<Value = Op> {
    let s = 0..STAFF.len();
    // One in four staff events names a visitor with no chat (or no such visitor).
    let v = 0..VISITORS.len() + 1;
    prop_oneof![
        4 => (0..PEOPLE, any::<bool>()).prop_map(|(who, f)| Op::Connect { who, force: f }),
        1 => Just(Op::ConnectAll),
        3 => (0..VISITORS.len(), prop::bool::weighted(0.25))
            .prop_map(|(v, leave)| Op::ByServer { v, leave }),
        2 => (0..PEOPLE).prop_map(|who| Op::Disconnect { who }),
        4 => (0..VISITORS.len()).prop_map(|v| Op::VisitorMsg { v }),
        1 => (0..VISITORS.len()).prop_map(|v| Op::VisitorLeave { v }),
        6 => (s.clone(), v.clone()).prop_map(|(s, v)| Op::Claim { s, v }),
        2 => (s.clone(), v.clone()).prop_map(|(s, v)| Op::StaffMsg { s, v }),
        1 => (s.clone(), v.clone()).prop_map(|(s, v)| Op::StaffLeave { s, v }),
        3 => (s.clone(), v.clone()).prop_map(|(s, v)| Op::TakeOver { s, v }),
        3 => (s.clone(), s.clone(), v.clone()).prop_map(|(s, target, v)| Op::Add { s, target, v }),
        3 => (s.clone(), s.clone(), v.clone())
            .prop_map(|(s, target, v)| Op::Remove { s, target, v }),
        1 => (s.clone(), v.clone(), 0..3i64).prop_map(|(s, v, level)| Op::Priority { s, v, level }),
        1 => (0..PEOPLE, v.clone(), any::<bool>()).prop_map(|(who, v, typing)| Op::Typing { who, v, typing }),
        1 => (0..PEOPLE, v.clone(), 0..4i64).prop_map(|(who, v, after)| Op::Sync { who, v, after }),
        1 => (0..3usize).prop_map(|mode| Op::Routing { mode }),
        2 => (s.clone(), prop::bool::weighted(0.3)).prop_map(|(s, away)| Op::SetAvailability { s, away }),
        2 => (s.clone(), 0..PEOPLE, v.clone()).prop_map(|(s, target, v)| Op::Transfer { s, target, v }),
        1 => (0..VISITORS.len()).prop_map(|v| Op::VisitorUpdate { v }),
        2 => (0..PEOPLE, v.clone(), 0..6i64).prop_map(|(who, v, seq)| Op::Read { who, v, seq }),
        1 => (s.clone(), v.clone()).prop_map(|(s, v)| Op::Note { s, v }),
        1 => (s, v).prop_map(|(s, v)| Op::Tag { s, v }),
        1 => (0..VISITORS.len(), any::<bool>()).prop_map(|(v, good)| Op::Rate { v, good }),
        2 => (0..12_000u64).prop_map(|ms| Op::Advance { ms }),
        1 => Just(Op::Restart),
    ]
}
