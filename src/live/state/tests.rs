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

fn staff(id: &str, role: Role) -> Principal {
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
    })
}

fn visitor(id: &str) -> Principal {
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

fn live(grace_secs: u64) -> LiveState {
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

// ----- routing, transfers, nobody available (issue 13) -----------------------------------

fn routed(mode: &str, timeout: u64, attempts: u64) -> LiveState {
    let mut l = live(0);
    let patch = json!({"routing": mode, "assign_timeout_secs": timeout,
        "assign_max_attempts": attempts});
    let s = crate::settings::Settings::default()
        .patched(patch.as_object().unwrap())
        .unwrap();
    l.set_settings(s, 0);
    l
}

/// Visitor `vid` on conn `conn` writes their first message at `now`.
fn visitor_writes(l: &mut LiveState, conn: u64, vid: &str, now: i64) -> Plan {
    l.connect(ConnId(conn), &visitor(vid), false, now);
    let p = l.request(ConnId(conn), visitor_msg(), now);
    assert_eq!(p.reply, Some(Ok(())));
    p
}

fn assigned_to(p: &Plan) -> Vec<ConnId> {
    p.sends
        .iter()
        .filter(|s| s.event == Out::ChatAssigned)
        .flat_map(|s| s.to.clone())
        .collect()
}

fn system_contents(p: &Plan) -> Vec<Value> {
    p.ops
        .iter()
        .filter_map(|o| match o {
            DbOp::InsertMessage { message, .. } if message.type_id == MESSAGE_SYSTEM => {
                serde_json::from_str(message.content.get()).ok()
            }
            _ => None,
        })
        .collect()
}

#[test]
fn round_robin_gives_each_available_agent_a_turn_and_the_claim_effects() {
    let mut l = routed("round_robin", 30, 3);
    l.connect(AGENT, &staff("a", Role::Agent), false, 0);
    l.connect(AGENT2, &staff("b", Role::Agent), false, 0);
    l.connect(SUP, &staff("s", Role::Supervisor), false, 0);
    let mut got = vec![];
    for i in 0..6u64 {
        let p = visitor_writes(&mut l, 100 + i, &format!("v{i}"), 10 + i as i64);
        got.extend(assigned_to(&p));
        if i == 0 {
            // Everyone else hears a claim; the visitor sees the agent join.
            assert_eq!(
                p.events_for(ConnId(100)),
                ["staff_join_room"],
                "taken at once: never told a place in the queue"
            );
            assert!(p.events_for(AGENT2).contains(&"staff_claim_chat"));
            assert!(p.events_for(SUP).contains(&"agent_new_chat"));
            let notes = system_contents(&p);
            assert_eq!(notes[0]["content"], "assigned");
            assert_eq!(notes[0]["staff"], "a");
            assert_eq!(notes[0]["routing"], "round_robin");
            assert!(p.timers.iter().any(|(d, t)| *d == Duration::from_secs(30)
                && matches!(t, Timer::AssignTimeout { attempt: 1, .. })));
        }
    }
    // a, b and s each got two, in turn (sorted by id: a, b, s).
    assert_eq!(
        got,
        [AGENT, AGENT2, SUP, AGENT, AGENT2, SUP],
        "in turn, the supervisor too"
    );
}

#[test]
fn capacity_away_and_manual_claims() {
    let mut l = routed("least_busy", 30, 3);
    l.connect(AGENT, &staff("a", Role::Agent), false, 0);
    l.connect(AGENT2, &staff("b", Role::Agent), false, 0);
    let away = req("set_availability", json!({"status": "away"}));
    assert_eq!(l.request(AGENT2, away, 1).reply, Some(Ok(())));
    let mut to_a = 0;
    for i in 0..4u64 {
        let p = visitor_writes(&mut l, 100 + i, &format!("v{i}"), 10 + i as i64);
        assert!(!assigned_to(&p).contains(&AGENT2), "away gets nothing");
        to_a += assigned_to(&p).iter().filter(|c| **c == AGENT).count();
    }
    assert_eq!(to_a, 3, "max_chats 3: the fourth waits");
    assert_eq!(l.queues.unclaimed().len(), 1);
    // The away agent can still claim it by hand.
    assert_eq!(l.request(AGENT2, join("v3"), 20).reply, Some(Ok(())));
    // Capacity frees up: the oldest waiting chat goes first.
    visitor_writes(&mut l, 200, "w1", 30);
    visitor_writes(&mut l, 201, "w2", 31);
    let p = l.request(AGENT, req("staff_leave_room", json!({"visitor": "v0"})), 40);
    assert_eq!(assigned_to(&p), [AGENT]);
    assert_eq!(
        p.find("chat_assigned")
            .unwrap()
            .payload
            .json("visitor")
            .unwrap()["id"],
        "w1"
    );
}

#[test]
fn least_busy_prefers_the_fewest_chats() {
    let mut l = routed("least_busy", 30, 3);
    l.connect(AGENT, &staff("a", Role::Agent), false, 0);
    visitor_writes(&mut l, 100, "v0", 1);
    visitor_writes(&mut l, 101, "v1", 2);
    // a serves two; b arrives with none.
    l.connect(AGENT2, &staff("b", Role::Agent), false, 3);
    let p = visitor_writes(&mut l, 102, "v2", 4);
    assert_eq!(assigned_to(&p), [AGENT2]);
}

#[test]
fn an_unanswered_offer_moves_on_and_gives_up_after_the_last_attempt() {
    let mut l = routed("round_robin", 10, 2);
    l.connect(AGENT, &staff("a", Role::Agent), false, 0);
    l.connect(AGENT2, &staff("b", Role::Agent), false, 0);
    l.connect(SUP, &staff("s", Role::Supervisor), false, 0);
    let p = visitor_writes(&mut l, 100, "v", 1);
    assert_eq!(assigned_to(&p), [AGENT]);
    let t = |sid: &str, attempt| Timer::AssignTimeout {
        visitor_id: "v".into(),
        staff_id: sid.into(),
        attempt,
    };
    // a stays silent: the chat goes to b.
    let p = l.timer(t("a", 1), 11_000);
    assert_eq!(
        p.events_for(AGENT),
        [
            "chat_unassigned",
            "append_unclaimed_chats",
            "staff_claim_chat"
        ],
        "a hears it waits again, then that b has it"
    );
    assert_eq!(assigned_to(&p), [AGENT2]);
    assert!(p.events_for(ConnId(100)).contains(&"staff_leave"));
    let notes: Vec<Value> = system_contents(&p)
        .into_iter()
        .map(|n| n["content"].clone())
        .collect();
    assert_eq!(notes, ["assign_timeout", "assigned", "join room"]);
    // A stale timer (a's, again) does nothing.
    assert!(l.timer(t("a", 1), 12_000).sends.is_empty());
    // b stays silent too: that was the last attempt; it waits for a manual claim.
    let p = l.timer(t("b", 2), 22_000);
    assert!(assigned_to(&p).is_empty());
    let notes: Vec<Value> = system_contents(&p)
        .into_iter()
        .map(|n| n["content"].clone())
        .collect();
    assert_eq!(notes, ["assign_timeout", "assign_gave_up"]);
    assert_eq!(l.queues.unclaimed(), ["v".into()] as [VisitorId; 1]);
    assert_eq!(l.request(SUP, join("v"), 23_000).reply, Some(Ok(())));
}

#[test]
fn an_answered_offer_is_kept() {
    let mut l = routed("round_robin", 10, 3);
    l.connect(AGENT, &staff("a", Role::Agent), false, 0);
    l.connect(AGENT2, &staff("b", Role::Agent), false, 0);
    visitor_writes(&mut l, 100, "v", 1);
    let hi = req(
        "staff_msg",
        json!({"visitor": "v", "content": {"content": "hi"}}),
    );
    assert_eq!(l.request(AGENT, hi, 2).reply, Some(Ok(())));
    let p = l.timer(
        Timer::AssignTimeout {
            visitor_id: "v".into(),
            staff_id: "a".into(),
            attempt: 1,
        },
        11_000,
    );
    assert!(p.sends.is_empty() && p.ops.is_empty());
    assert!(l.rooms.get("v").unwrap().is_served_by("a"));
}

#[test]
fn a_transfer_hands_over_with_history_and_note_and_refuses_what_it_must() {
    let mut l = room_with_queued_chat(0);
    assert_eq!(l.request(AGENT, join("v"), 2).reply, Some(Ok(())));
    let tr = |to: &str| {
        req(
            "transfer_chat",
            json!({"visitor": "v", "staff": to, "note": "VIP"}),
        )
    };
    // Refusals change nothing.
    for (who, to, why) in [
        (AGENT, "a", transfer::TO_SELF),
        (AGENT, "nobody", say::STAFF_NOT_ONLINE),
        (AGENT, "v", say::STAFF_NOT_ONLINE),
        (AGENT2, "s", say::NOT_IN_ROOM),
    ] {
        let p = l.request(who, tr(to), 3);
        assert_eq!(p.reply, Some(Err(why)), "{to}");
        assert!(p.ops.is_empty() && p.sends.is_empty());
    }
    let p = l.request(AGENT, tr("b"), 4);
    assert_eq!(p.reply, Some(Ok(())));
    assert_eq!(p.events_for(AGENT2), ["chat_transferred_to_you"]);
    assert_eq!(p.events_for(VIS), ["chat_transferred"]);
    assert!(p.events_for(AGENT).is_empty(), "the sender has the ack");
    assert_eq!(p.events_for(SUP), ["chat_transferred"]);
    let to_b = p.find("chat_transferred_to_you").unwrap();
    assert_eq!(to_b.payload.json("note"), Some(json!("VIP")));
    assert_eq!(to_b.payload.json("from").unwrap()["id"], "a");
    assert!(matches!(
        to_b.payload.get("contents"),
        Some(Part::Messages(_))
    ));
    let to_v = p.sends.iter().find(|s| s.to == [VIS]).unwrap();
    assert_eq!(to_v.payload.json("to").unwrap()["id"], "b");
    assert!(
        to_v.payload.get("visitor").is_none(),
        "the visitor gets from and to"
    );
    let record = &system_contents(&p)[0];
    assert_eq!(record["content"], "transfer");
    assert_eq!(record["with_note"], true);
    assert!(
        !record.to_string().contains("VIP"),
        "the note is never stored where the visitor can read it"
    );
    let chat = l.rooms.get("v").unwrap();
    assert_eq!(chat.serving(), ["b".into()] as [StaffId; 1]);
    // Already serving; and a supervisor moves it from whoever serves it.
    assert_eq!(
        l.request(SUP, tr("b"), 5).reply,
        Some(Err(say::STAFF_ALREADY_IN))
    );
    let p = l.request(SUP, tr("a"), 6);
    assert_eq!(p.reply, Some(Ok(())));
    assert_eq!(
        p.events_for(AGENT2),
        ["chat_transferred"],
        "b hears it was taken"
    );
    assert!(p.events_for(SUP).is_empty(), "the sender has the ack");
    assert_eq!(
        l.rooms.get("v").unwrap().serving(),
        ["a".into()] as [StaffId; 1]
    );
}

#[test]
fn nobody_available_sends_the_chat_offline_and_keeps_the_contact() {
    let mut l = live(0);
    let p = l.connect(VIS, &visitor("v"), false, 0);
    let init = p.find("visitor_init").unwrap();
    assert_eq!(init.payload.json("available"), Some(json!(false)));
    assert_eq!(init.payload.json("opens_at"), Some(Value::Null));
    let p = l.request(VIS, visitor_msg(), 1);
    assert_eq!(p.reply, Some(Ok(())));
    assert_eq!(p.events_for(VIS), ["no_staff_available"]);
    assert_eq!(l.queues.offline(), ["v".into()] as [VisitorId; 1]);
    // Writing again stays offline.
    let p = l.request(VIS, visitor_msg(), 2);
    assert_eq!(p.events_for(VIS), ["no_staff_available"]);
    assert_eq!(l.queues.offline().len(), 1);
    // Contact details: checked, stored, shown to staff.
    for bad in [
        json!({}),
        json!({"email": "nope"}),
        json!({"name": ""}),
        json!({"email": 5}),
    ] {
        let r = Request::parse(
            "visitor_update",
            Some(&RawValue::from_string(bad.to_string()).unwrap()),
            1 << 14,
        );
        assert!(r.is_err(), "{bad} accepted");
    }
    let upd = req(
        "visitor_update",
        json!({"name": "Ada", "email": "ada@example.com"}),
    );
    let p = l.request(VIS, upd, 3);
    assert_eq!(p.reply, Some(Ok(())));
    assert!(p.ops.iter().any(
        |o| matches!(o, DbOp::UpdateVisitor { email: Some(e), .. } if e == "ada@example.com")
    ));
    // A staff member who comes later sees it in the offline list.
    let p = l.connect(AGENT, &staff("a", Role::Agent), false, 4);
    let init = p.find("staff_init").unwrap();
    let off = init.payload.json("offline_unclaimed_chats").unwrap();
    assert_eq!(off[0]["email"], "ada@example.com");
    assert_eq!(off[0]["name"], "Ada");
    assert_eq!(off[0]["is_anonymous"], false);
    // Now someone is there.
    let p = l.connect(ConnId(11), &visitor("w"), false, 5);
    assert_eq!(
        p.find("visitor_init").unwrap().payload.json("available"),
        Some(json!(true))
    );
}

#[test]
fn when_the_last_available_agent_leaves_waiting_visitors_are_told() {
    let mut l = room_with_queued_chat(0);
    let away = || req("set_availability", json!({"status": "away"}));
    for c in [AGENT, AGENT2] {
        let p = l.request(c, away(), 2);
        assert!(p.events_for(VIS).is_empty(), "someone is still available");
    }
    let p = l.request(SUP, away(), 3);
    assert_eq!(p.events_for(VIS), ["no_staff_available"]);
    assert!(p.events_for(AGENT).contains(&"unclaimed_chat_to_offline"));
    assert_eq!(l.queues.offline(), ["v".into()] as [VisitorId; 1]);
    // A reloading console (within its grace) still counts as there.
    let mut l = room_with_queued_chat(60);
    for c in [AGENT, AGENT2] {
        l.request(c, away(), 2);
    }
    l.disconnect(SUP, 3);
    assert_eq!(l.availability(4), (true, None));
}

#[test]
fn closing_time_tells_waiting_visitors_when_the_business_opens_again() {
    let mut l = room_with_queued_chat(0);
    // 1970-01-01 was a Thursday: open 00:00-01:00 UTC on Thursdays.
    let hours = json!({"business_hours": {"time_zone": "UTC",
        "weekly": [{"day": "thu", "open": "00:00", "close": "01:00"}]}});
    let s = crate::settings::Settings::default()
        .patched(hours.as_object().unwrap())
        .unwrap();
    l.set_settings(s, 10);
    assert!(
        l.tick(10).events_for(VIS).is_empty(),
        "open: nothing to say"
    );
    assert_eq!(l.availability(10), (true, None));
    let week = 7 * 86_400_000;
    let p = l.tick(3_600_000);
    assert_eq!(p.events_for(VIS), ["no_staff_available"]);
    assert_eq!(
        p.find("no_staff_available")
            .unwrap()
            .payload
            .json("opens_at"),
        Some(json!(week))
    );
    assert_eq!(l.availability(3_600_000), (false, Some(week)));
    // A visitor who connects now hears it in visitor_init.
    let p = l.connect(ConnId(11), &visitor("w"), false, 3_600_001);
    let init = p.find("visitor_init").unwrap();
    assert_eq!(init.payload.json("available"), Some(json!(false)));
    assert_eq!(init.payload.json("opens_at"), Some(json!(week)));
}

#[test]
fn an_unanswered_offer_still_runs_out_after_a_restart_and_leaving_it_declines() {
    use crate::store::ops::Offer;
    let mut l = routed("round_robin", 30, 3);
    let Principal::Staff(a) = staff("a", Role::Agent) else {
        unreachable!()
    };
    let Principal::Visitor(v) = visitor("v") else {
        unreachable!()
    };
    let offer = |answered| Offer {
        staff_id: "a".into(),
        at: 10_000,
        answered,
    };
    let restored = |offers: Vec<Offer>| RestoredChat {
        chat_id: "c-v".into(),
        visitor: v.clone(),
        status: ChatStatus::Claimed,
        severity_level: 0,
        flagged_at: None,
        queued_at: 0,
        tags: vec![],
        staff: vec![a.clone()],
        offers,
    };
    // Answered before the restart: nothing to time.
    let p = l.restore(vec![restored(vec![offer(true)])], 20_000);
    assert!(!p
        .timers
        .iter()
        .any(|(_, t)| matches!(t, Timer::AssignTimeout { .. })));
    // Not answered: it runs out 30 s after it was made, 20 s after this restart.
    let mut l = routed("round_robin", 30, 3);
    let p = l.restore(vec![restored(vec![offer(false)])], 20_000);
    assert!(p.timers.iter().any(|(d, t)| *d == Duration::from_secs(20)
        && *t
            == Timer::AssignTimeout {
                visitor_id: "v".into(),
                staff_id: "a".into(),
                attempt: 1
            }));
    // The agent is back and leaves it without a word: declined, so it waits for the next
    // agent instead of ending.
    l.connect(AGENT, &staff("a", Role::Agent), false, 21_000);
    l.connect(VIS, &visitor("v"), false, 21_000);
    let p = l.request(
        AGENT,
        req("staff_leave_room", json!({"visitor": "v"})),
        22_000,
    );
    assert_eq!(p.reply, Some(Ok(())));
    assert_eq!(
        p.events_for(AGENT),
        ["chat_unassigned", "append_unclaimed_chats"]
    );
    assert_eq!(system_contents(&p)[0]["content"], "assign_declined");
    assert!(l.rooms.get("v").is_some(), "the chat is not over");
    assert_eq!(l.queues.unclaimed(), ["v".into()] as [VisitorId; 1]);
}

#[test]
fn right_after_a_restart_nobody_available_waits_for_the_consoles() {
    let mut l = live(0);
    l.restarted(1_000);
    let p = l.connect(VIS, &visitor("v"), false, 2_000);
    assert_eq!(
        p.find("visitor_init").unwrap().payload.json("available"),
        Some(json!(true))
    );
    let p = l.request(VIS, visitor_msg(), 3_000);
    assert_eq!(
        p.events_for(VIS),
        ["queue_position"],
        "it waits in the queue"
    );
    assert!(l.tick(30_000).events_for(VIS).is_empty());
    // The grace is over and no console came back.
    let p = l.tick(61_000);
    assert_eq!(p.events_for(VIS), ["no_staff_available"]);
    assert_eq!(l.queues.offline(), ["v".into()] as [VisitorId; 1]);
}
