//! Unit tests of the live rules: plans in, events and writes out, no sockets.

use super::*;
use crate::auth::Principal;
use crate::live::events::transfer;
use crate::model::{Availability, StaffId, VisitorId};
use crate::model::{Role, Staff, Visitor, MESSAGE_SYSTEM};
use serde_json::value::RawValue;
use serde_json::{json, Value};

/// A client event as the transports hand it over: through the table's parser.
fn req(name: &str, data: Value) -> Request {
    let raw = RawValue::from_string(data.to_string()).unwrap();
    Request::parse(name, Some(&raw), 1 << 14).unwrap()
}

fn visitor_msg() -> Request {
    req("visitor_msg", json!({"content": "hi"}))
}

fn join(visitor: &str) -> Request {
    req("staff_join", json!({ "visitor": visitor }))
}

fn take_over(visitor: &str) -> Request {
    req("take_over_chat", json!({ "visitor": visitor }))
}

/// Test fixtures other modules' tests use too (`live/events/messages.rs`).
pub(crate) fn staff(id: &str, role: Role) -> Principal {
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
        max_chats: crate::model::DEFAULT_MAX_CHATS,
        availability: Default::default(),
        title: None,
        avatar_url: None,
    })
}

pub(crate) fn visitor(id: &str) -> Principal {
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

pub(crate) fn live(grace_secs: u64) -> LiveState {
    LiveState::new(LiveConfig::new(Duration::from_secs(grace_secs), 5))
}

const AGENT: ConnId = ConnId(1);
const AGENT2: ConnId = ConnId(2);
const SUP: ConnId = ConnId(3);
const VIS: ConnId = ConnId(10);

/// agent "a" (conn 1), agent "b" (2), supervisor "s" (3), visitor "v" (10) with a queued chat.
fn room_with_queued_chat(grace: u64) -> LiveState {
    let mut l = live(grace);
    l.connect(AGENT, &staff("a", Role::Agent), false, 0);
    l.connect(AGENT2, &staff("b", Role::Agent), false, 0);
    l.connect(SUP, &staff("s", Role::Supervisor), false, 0);
    l.connect(VIS, &visitor("v"), false, 0);
    let p = l.request(VIS, visitor_msg(), 1);
    assert_eq!(p.reply, Some(Ok(())));
    assert_eq!(p.events_for(AGENT), ["append_unclaimed_chats"]);
    assert_eq!(p.events_for(VIS), ["queue_position"]);
    l
}

#[test]
fn the_first_claim_wins_and_others_hear_of_it() {
    let mut l = room_with_queued_chat(0);
    let win = l.request(AGENT, join("v"), 2);
    assert_eq!(win.reply, Some(Ok(())));
    let lose = l.request(AGENT2, join("v"), 2);
    assert_eq!(lose.reply, Some(Err(say::ALREADY_CLAIMED)));
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
    assert!(win.ops.iter().any(
        |o| matches!(o, DbOp::InsertMessage { message, .. } if message.type_id == MESSAGE_SYSTEM)
    ));
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

    l.connect(ConnId(11), &visitor("v"), false, 0);
    let p = l.request(ConnId(11), visitor_msg(), 7);
    assert_eq!(
        p.events_for(AGENT),
        ["remove_visitor_offline_chat", "append_unclaimed_chats"]
    );
    assert_eq!(l.counts().unclaimed, 1);
}

#[test]
fn a_reconnect_within_the_grace_keeps_the_chat_and_the_others_hear_away_and_back() {
    let mut l = room_with_queued_chat(10);
    let p = l.disconnect(VIS, 5);
    // Away, not gone: the chat stays in the queue.
    assert_eq!(p.events_for(AGENT), ["visitor_away"]);
    assert!(p.ops.is_empty());
    assert_eq!(l.counts().unclaimed, 1);
    let (after, timer) = p.timers[0].clone();
    assert_eq!(after, Duration::from_secs(10));
    let back = l.connect(ConnId(12), &visitor("v"), false, 0);
    assert_eq!(
        back.events_for(ConnId(12)),
        ["visitor_init", "queue_position"]
    );
    assert_eq!(
        back.events_for(AGENT),
        ["visitor_back"],
        "back, and no visitor_goes_online after a resume"
    );
    assert!(
        l.timer(timer, 10_006).sends.is_empty(),
        "the stale timer does nothing"
    );

    // Without a reconnect, the timer applies the disconnect.
    let p = l.disconnect(ConnId(12), 20_000);
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
    let p = l.connect(ConnId(20), &staff("a", Role::Agent), false, 0);
    assert_eq!(p.events_for(ConnId(20)), ["staff_already_online"]);
    assert_eq!(p.closes, [ConnId(20)]);
    let p = l.connect(ConnId(21), &staff("a", Role::Agent), true, 0);
    assert_eq!(p.closes, [AGENT]);
    assert_eq!(p.events_for(ConnId(21)), ["staff_init"]);
    assert!(
        p.events_for(SUP).is_empty(),
        "a forced takeover is not a new arrival"
    );
    // The old connection's close is ignored.
    assert!(l.disconnect(AGENT, 10).sends.is_empty());
    let p = l.connect(ConnId(22), &visitor("v"), false, 0);
    assert_eq!(p.events_for(ConnId(22)), ["visitor_room_exists"]);
}

#[test]
fn take_over_needs_a_higher_rank() {
    let mut l = room_with_queued_chat(0);
    l.connect(ConnId(4), &staff("s2", Role::Supervisor), false, 0);
    l.request(SUP, join("v"), 2);
    let p = l.request(ConnId(4), take_over("v"), 3);
    assert_eq!(
        p.reply,
        Some(Err(Refusal::new(
            Code::NotAllowed,
            "A supervisor cannot take over a chat from a supervisor.".into()
        )))
    );
    let p = l.request(AGENT, take_over("v"), 3);
    assert_eq!(p.reply, Some(Err(say::TAKE_OVER_ROLE)));
    l.connect(ConnId(5), &staff("boss", Role::Admin), false, 0);
    let p = l.request(ConnId(5), take_over("v"), 4);
    assert_eq!(p.reply, Some(Ok(())));
    // The replaced supervisor hears it both as the one replaced and as a supervisor.
    assert_eq!(
        p.events_for(SUP),
        ["staff_being_taken_over_chat", "staff_take_over_chat"]
    );
    assert_eq!(p.events_for(VIS), ["staff_being_taken_over_chat"]);
    assert_eq!(p.events_for(ConnId(4)), ["staff_take_over_chat"]);
}

#[test]
fn nobody_supervises_their_own_rank_or_above() {
    let mut l = room_with_queued_chat(0);
    const BOSS: ConnId = ConnId(5);
    l.connect(BOSS, &staff("boss", Role::Admin), false, 0);
    let remove = |staff: &str| {
        req(
            "remove_staff_from_chat",
            json!({"visitor": "v", "staff": staff}),
        )
    };
    let add = |staff: &str| req("add_staff_to_chat", json!({"visitor": "v", "staff": staff}));
    assert_eq!(l.request(BOSS, join("v"), 2).reply, Some(Ok(())));
    let take_over = take_over("v");
    assert_eq!(
        l.request(BOSS, take_over.clone(), 2).reply,
        Some(Err(say::ALREADY_IN_ROOM))
    );
    assert_eq!(
        l.request(SUP, take_over, 2).reply,
        Some(Err(Refusal::new(
            Code::NotAllowed,
            "A supervisor cannot take over a chat from an admin.".into()
        )))
    );
    // The back door of finding 6: remove the admin, then claim the chat.
    let p = l.request(SUP, remove("boss"), 3);
    assert_eq!(
        p.reply,
        Some(Err(Refusal::new(
            Code::NotAllowed,
            "A supervisor cannot remove an admin from a chat.".into()
        )))
    );
    assert!(p.ops.is_empty() && p.sends.is_empty());
    assert_eq!(
        l.request(SUP, join("v"), 4).reply,
        Some(Err(say::ALREADY_CLAIMED))
    );
    // Nor into an admin's chat by adding themselves or anyone else.
    for who in ["s", "a"] {
        let p = l.request(SUP, add(who), 5);
        assert_eq!(
            p.reply,
            Some(Err(Refusal::new(
                Code::NotAllowed,
                "A supervisor cannot add staff to a chat served by an admin.".into()
            )))
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
        Some(Err(say::REMOVE_ROLE))
    );
    assert_eq!(
        l.request(AGENT, add("b"), 13).reply,
        Some(Err(say::ADD_ROLE))
    );
}

/// Agent "a" claims `vid`; the `next_offline_unclaimed_visitor` the others are told.
fn claim_and_next(l: &mut LiveState, vid: &str, now: i64) -> Value {
    let p = l.request(AGENT, join(vid), now);
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
    l.connect(AGENT, &staff("a", Role::Agent), false, 0);
    for i in 0..17 {
        let (conn, vid) = (ConnId(100 + i), format!("v{i:02}"));
        l.connect(conn, &visitor(&vid), false, 0);
        l.request(conn, visitor_msg(), i as i64);
        l.disconnect(conn, 100 + i as i64);
    }
    assert_eq!(l.counts().offline, 17);
    l.connect(AGENT2, &staff("b", Role::Agent), false, 0);
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
        chat_id: format!("c-{}", v.id).into(),
        visitor: v,
        status,
        severity_level: 0,
        flagged_at: None,
        queued_at: 0,
        tags: vec![],
        visitor_read_seq: 0,
        staff_read_seq: 0,
        last_seq: 0,
        staff,
        offers: vec![],
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
    let p = l.connect(AGENT, &staff("a", Role::Agent), false, 0);
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

/// Staff `id`'s entry in the `online_users` of the plan's `staff_init`.
fn online_user(p: &Plan, id: &str) -> Value {
    let users = p.find("staff_init").unwrap().payload.json("online_users");
    let users = users
        .and_then(|u| u.as_array().cloned())
        .unwrap_or_default();
    users.into_iter().find(|u| u["id"] == id).unwrap()
}

#[test]
fn availability_is_told_to_every_console_and_kept_through_a_reconnect() {
    let mut l = room_with_queued_chat(10);
    let away = || req("set_availability", json!({"status": "away"}));
    let p = l.request(AGENT, away(), 2);
    assert_eq!(p.reply, Some(Ok(())));
    for c in [AGENT, AGENT2, SUP] {
        assert_eq!(p.events_for(c), ["staff_availability_changed"]);
    }
    assert!(p.events_for(VIS).is_empty());
    assert!(
        matches!(
            p.ops.as_slice(),
            [DbOp::SetStaffAvailability { staff_id, status: Availability::Away }] if staff_id == "a"
        ),
        "kept in the staff row: {:?}",
        p.ops
    );
    let e = p.find("staff_availability_changed").unwrap();
    assert_eq!(e.payload.json("status"), Some(json!("away")));
    assert_eq!(e.payload.json("staff").unwrap()["id"], "a");
    // A visitor may not.
    let p = l.request(VIS, away(), 3);
    assert_eq!(p.reply, Some(Err(say::STAFF_ONLY)));
    assert!(p.sends.is_empty());

    // The console comes back within the grace: still away, with its load.
    assert_eq!(l.request(AGENT, join("v"), 4).reply, Some(Ok(())));
    l.disconnect(AGENT, 5);
    let p = l.connect(ConnId(7), &staff("a", Role::Agent), false, 0);
    let me = online_user(&p, "a");
    assert_eq!(
        (
            me["status"].clone(),
            me["active_chats"].clone(),
            me["max_chats"].clone()
        ),
        (json!("away"), json!(1), json!(3))
    );
    assert_eq!(online_user(&p, "b")["status"], "available");

    // Gone for good and back later: a new session starts as the staff row says (the store
    // kept "away"; the account read at sign-in carries it).
    l.disconnect(ConnId(7), 6);
    let gone = Timer::StaffGone {
        staff_id: "a".into(),
        epoch: 4,
    };
    assert!(!l.timer(gone, 20_000).sends.is_empty(), "the grace ran out");
    let Principal::Staff(mut a) = staff("a", Role::Agent) else {
        unreachable!()
    };
    a.availability = Availability::Away;
    let p = l.connect(ConnId(8), &Principal::Staff(a), false, 0);
    let me = online_user(&p, "a");
    assert_eq!(
        (me["status"].clone(), me["active_chats"].clone()),
        (json!("away"), json!(0))
    );
}

#[test]
fn a_serving_agent_away_is_told_to_their_visitors_and_colleagues_and_back() {
    let mut l = room_with_queued_chat(10);
    assert_eq!(l.request(AGENT, join("v"), 2).reply, Some(Ok(())));
    let p = l.disconnect(AGENT, 3);
    for c in [VIS, AGENT2, SUP] {
        assert_eq!(p.events_for(c), ["staff_away"], "{c:?}");
    }
    assert!(p.ops.is_empty(), "the chat stays as it is");
    let e = p.find("staff_away").unwrap();
    assert_eq!(e.payload.json("staff").unwrap()["id"], "a");
    let p = l.connect(ConnId(7), &staff("a", Role::Agent), false, 0);
    assert_eq!(p.events_for(ConnId(7)), ["staff_init"]);
    for c in [VIS, AGENT2, SUP] {
        assert_eq!(p.events_for(c), ["staff_back"], "{c:?}");
    }
    // A second tab replacing a live one (force) is neither away nor back.
    let p = l.connect(ConnId(8), &staff("a", Role::Agent), true, 0);
    assert!(p.events_for(VIS).is_empty() && p.events_for(SUP).is_empty());
    // Staff and visitors have their own graces.
    let mut l = LiveState::new(LiveConfig::with_graces(
        Duration::from_secs(900),
        Duration::from_secs(300),
        5,
    ));
    l.connect(AGENT, &staff("a", Role::Agent), false, 0);
    l.connect(VIS, &visitor("v"), false, 0);
    assert_eq!(l.disconnect(AGENT, 1).timers[0].0, Duration::from_secs(300));
    assert_eq!(l.disconnect(VIS, 1).timers[0].0, Duration::from_secs(900));
}

#[test]
fn sync_answers_only_the_asking_connection_and_only_who_may_read() {
    let mut l = room_with_queued_chat(10);
    let chat_id = match l.rooms.get("v") {
        Some(c) => c.chat_id.to_string(),
        None => panic!("no chat"),
    };
    let sync = |after: i64| {
        req(
            "sync",
            json!({"chat_id": chat_id, "after_sequence_num": after}),
        )
    };
    // The visitor, and any staff while the chat waits in the queue.
    for c in [VIS, AGENT2] {
        let p = l.request(c, sync(0), 2);
        assert_eq!(p.reply, Some(Ok(())));
        assert_eq!(p.sends.len(), 1);
        assert_eq!(p.sends[0].to, vec![c]);
        assert_eq!(p.sends[0].event.name(), "messages_since");
        assert!(p.ops.iter().any(
            |o| matches!(o, DbOp::LoadMessages { after: 0, chat_id: c, .. } if *c == chat_id)
        ));
    }
    // Once claimed by "a": "b" (an agent) may not; the supervisor may.
    assert_eq!(l.request(AGENT, join("v"), 3).reply, Some(Ok(())));
    let p = l.request(AGENT2, sync(1), 4);
    assert_eq!(p.reply.unwrap().unwrap_err().code, Code::NotAllowed);
    assert!(p.ops.is_empty() && p.sends.is_empty());
    assert_eq!(l.request(SUP, sync(1), 4).reply, Some(Ok(())));
    let p = l.request(AGENT, sync(5), 4);
    assert!(p
        .ops
        .iter()
        .any(|o| matches!(o, DbOp::LoadMessages { after: 5, .. })));
    // Another visitor is told it does not exist; so is anyone, for an unknown chat.
    l.connect(ConnId(30), &visitor("w"), false, 0);
    assert_eq!(
        l.request(ConnId(30), sync(0), 5).reply,
        Some(Err(say::CLOSED))
    );
    let other = req("sync", json!({"chat_id": "nope", "after_sequence_num": 0}));
    assert_eq!(l.request(SUP, other, 5).reply, Some(Err(say::CLOSED)));
}

#[test]
fn a_client_message_id_rides_along_to_the_store() {
    let mut l = room_with_queued_chat(10);
    let raw = RawValue::from_string(r#"{"content": "again"}"#.into()).unwrap();
    let id = RawValue::from_string(r#""m-1""#.into()).unwrap();
    let r = Request::parse_args(&crate::live::events::Args {
        name: "visitor_msg",
        data: Some(&raw),
        max_content: 1 << 14,
        client_msg_id: Some(&id),
    })
    .unwrap();
    let p = l.request(VIS, r, 2);
    assert!(p.ops.iter().any(|o| matches!(
        o,
        DbOp::InsertMessage { message, .. } if message.client_msg_id.as_deref() == Some("m-1")
    )));
    // Inside the data for staff_msg.
    assert_eq!(l.request(AGENT, join("v"), 3).reply, Some(Ok(())));
    let staff_msg = req(
        "staff_msg",
        json!({"visitor": "v", "content": {"content": "x"}, "client_msg_id": "s-1"}),
    );
    let p = l.request(AGENT, staff_msg, 4);
    assert!(p.ops.iter().any(|o| matches!(
        o,
        DbOp::InsertMessage { message, .. } if message.client_msg_id.as_deref() == Some("s-1")
    )));
}

mod conversation;
mod routing;
