//! Unit tests of routing, transfers and nobody-available (issue 13): plans in, events out.

use super::*;

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
        visitor_read_seq: 0,
        staff_read_seq: 0,
        last_seq: 0,
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
