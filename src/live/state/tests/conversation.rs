//! Unit tests of the conversation's rules (issue 14): receipts, notes, watching, tags,
//! ratings, page views, inactivity and the pre-chat form. Plans in, events and writes out.

use super::*;
use crate::model::MESSAGE_NOTE;

fn settings(patch: Value) -> crate::settings::Settings {
    crate::settings::Settings::default()
        .patched(patch.as_object().unwrap())
        .unwrap()
}

/// `room_with_queued_chat`, claimed by agent "a" at 2.
fn claimed() -> LiveState {
    let mut l = room_with_queued_chat(0);
    assert_eq!(l.request(AGENT, join("v"), 2).reply, Some(Ok(())));
    l
}

fn refused(p: &Plan) -> &'static str {
    match &p.reply {
        Some(Err(r)) => {
            assert!(
                p.ops.is_empty() && p.sends.is_empty(),
                "a refusal changed something"
            );
            r.code.as_str()
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn reads_move_one_pointer_per_side_and_tell_the_other_side() {
    let mut l = claimed();
    // The chat has the visitor's message (1) and the claim's system line (2).
    let p = l.request(
        AGENT,
        req("message_read", json!({"visitor": "v", "sequence_num": 1})),
        3,
    );
    assert_eq!(p.reply, Some(Ok(())));
    assert_eq!(p.events_for(VIS), ["message_seen"]);
    let seen = p.find("message_seen").unwrap();
    assert_eq!(seen.payload.json("reader").unwrap()["id"], "a");
    assert_eq!(seen.payload.json("sequence_num"), Some(json!(1)));
    assert!(matches!(
        p.ops.as_slice(),
        [DbOp::SetRead {
            by_visitor: false,
            seq: 1,
            ..
        }]
    ));
    assert_eq!(l.rooms.get("v").unwrap().read.staff, 1);
    // Not above the pointer: acked, nothing sent or stored.
    let p = l.request(
        AGENT,
        req("message_read", json!({"visitor": "v", "sequence_num": 1})),
        4,
    );
    assert_eq!(p.reply, Some(Ok(())));
    assert!(p.ops.is_empty() && p.sends.is_empty());
    // The visitor's read reaches the staff in the room, with a null reader.
    let p = l.request(VIS, req("message_read", json!({"sequence_num": 2})), 5);
    assert_eq!(p.events_for(AGENT), ["message_seen"]);
    assert!(p.events_for(VIS).is_empty());
    assert_eq!(
        p.find("message_seen").unwrap().payload.json("reader"),
        Some(Value::Null)
    );
    // The room object carries both pointers (a reloaded console counts unread from it).
    let room: Value =
        serde_json::from_str(&serde_json::to_string(&l.room_view("v").unwrap()).unwrap()).unwrap();
    assert_eq!(room["read"], json!({"visitor": 2, "staff": 1}));
    // The room in each message's event leaves them out (message_seen keeps them current).
    let p = l.request(VIS, visitor_msg(), 5);
    let sent = p
        .find("visitor_send")
        .unwrap()
        .payload
        .json("visitor")
        .unwrap();
    assert_eq!(sent["visitor_id"], "v");
    assert!(sent.get("read").is_none(), "{sent}");

    // Refusals change nothing.
    let beyond = req("message_read", json!({"visitor": "v", "sequence_num": 99}));
    assert_eq!(refused(&l.request(AGENT, beyond, 6)), "invalid_field");
    let other = req("message_read", json!({"visitor": "v", "sequence_num": 1}));
    assert_eq!(refused(&l.request(AGENT2, other, 6)), "not_allowed");
    assert!(Request::parse(
        "message_read",
        Some(
            &RawValue::from_string(json!({"visitor": "v", "sequence_num": 0}).to_string()).unwrap()
        ),
        100
    )
    .is_err());
}

#[test]
fn a_note_reaches_staff_in_the_room_and_supervisors_never_the_visitor() {
    let mut l = claimed();
    let add = req("add_staff_to_chat", json!({"visitor": "v", "staff": "b"}));
    assert_eq!(l.request(SUP, add, 3).reply, Some(Ok(())));
    let note = req(
        "staff_note",
        json!({"visitor": "v", "content": {"content": "VIP"}}),
    );
    let p = l.request(AGENT, note, 4);
    assert_eq!(p.reply, Some(Ok(())));
    assert_eq!(p.events_for(AGENT2), ["staff_note_send"]);
    assert_eq!(p.events_for(SUP), ["staff_note_send"]);
    assert!(p.events_for(VIS).is_empty(), "the visitor hears nothing");
    assert!(
        p.events_for(AGENT).is_empty(),
        "the sender only gets the ack"
    );
    assert!(p.ops.iter().any(
        |o| matches!(o, DbOp::InsertMessage { message, .. } if message.type_id == MESSAGE_NOTE)
    ));
    // A visitor's own reads of the chat leave notes out; staff reads keep them.
    let init = l.connect(ConnId(11), &visitor("v"), true, 7);
    assert!(init.find("visitor_init").is_some());
    assert!(init
        .ops
        .iter()
        .any(|o| matches!(o, DbOp::LoadMessages { .. })));
    assert!(init
        .ops
        .iter()
        .all(|o| !matches!(o, DbOp::LoadMessages { notes: true, .. })));
    let sync = req(
        "sync",
        json!({"chat_id": l.chat_id("v").unwrap().0, "after_sequence_num": 0}),
    );
    let p = l.request(ConnId(11), sync.clone(), 8);
    assert!(matches!(
        p.ops.as_slice(),
        [DbOp::LoadMessages { notes: false, .. }]
    ));
    let p = l.request(AGENT, sync, 8);
    assert!(matches!(
        p.ops.as_slice(),
        [DbOp::LoadMessages { notes: true, .. }]
    ));
}

#[test]
fn a_watcher_hears_the_room_unseen_until_unwatching() {
    let mut l = claimed();
    let watch = req("watch_chat", json!({"visitor": "v"}));
    assert_eq!(refused(&l.request(AGENT2, watch.clone(), 3)), "not_allowed");
    let p = l.request(SUP, watch.clone(), 3);
    assert_eq!(p.reply, Some(Ok(())));
    assert_eq!(p.events_for(SUP), ["chat_watched"]);
    assert!(p.events_for(VIS).is_empty() && p.events_for(AGENT).is_empty());
    assert_eq!(refused(&l.request(SUP, watch, 3)), "already_in_chat");
    let room: Value =
        serde_json::from_str(&serde_json::to_string(&l.room_view("v").unwrap()).unwrap()).unwrap();
    assert_eq!(
        room["staff"]["id"], "a",
        "a watcher is not the serving staff"
    );

    let p = l.request(VIS, visitor_msg(), 4);
    assert!(p.events_for(SUP).contains(&"visitor_send"));
    let p = l.request(
        AGENT,
        req(
            "staff_msg",
            json!({"visitor": "v", "content": {"content": "hello"}}),
        ),
        5,
    );
    assert!(p.events_for(SUP).contains(&"staff_send"));

    // Taking it over, the watcher serves it and hears each event once.
    let mut l2 = claimed();
    l2.request(SUP, req("watch_chat", json!({"visitor": "v"})), 3);
    assert_eq!(l2.request(SUP, take_over("v"), 4).reply, Some(Ok(())));
    let p = l2.request(VIS, visitor_msg(), 5);
    assert_eq!(
        p.events_for(SUP),
        ["visitor_send", "new_visitor_msg_for_supervisor"]
    );

    let unwatch = req("unwatch_chat", json!({"visitor": "v"}));
    assert_eq!(l.request(SUP, unwatch.clone(), 6).reply, Some(Ok(())));
    assert_eq!(refused(&l.request(SUP, unwatch, 6)), "not_in_chat");
    let p = l.request(VIS, visitor_msg(), 7);
    assert!(!p.events_for(SUP).contains(&"visitor_send"));
}

#[test]
fn tags_are_replaced_and_every_console_hears_but_not_the_visitor() {
    let mut l = claimed();
    let p = l.request(
        AGENT2,
        req(
            "tag_chat",
            json!({"visitor": "v", "tags": [" refund ", "VIP", "vip"]}),
        ),
        3,
    );
    assert_eq!(p.reply, Some(Ok(())));
    assert_eq!(p.events_for(AGENT), ["chat_tags_changed"]);
    assert!(p.events_for(VIS).is_empty());
    assert_eq!(l.rooms.get("v").unwrap().tags, ["refund", "VIP"]);
    let bad = [
        json!({"visitor": "v", "tags": "vip"}),
        json!({"visitor": "v", "tags": [""]}),
        json!({"visitor": "v", "tags": ["x".repeat(33)]}),
        json!({"visitor": "v", "tags": (0..11).map(|i| i.to_string()).collect::<Vec<_>>()}),
    ];
    for data in bad {
        let raw = RawValue::from_string(data.to_string()).unwrap();
        assert!(
            Request::parse("tag_chat", Some(&raw), 100).is_err(),
            "{data}"
        );
    }
}

#[test]
fn a_chat_is_rated_once_after_it_ended_by_its_own_visitor() {
    let mut l = claimed();
    let rate = req("rate_chat", json!({"rating": "good", "comment": "Thanks!"}));
    assert_eq!(
        refused(&l.request(VIS, rate.clone(), 3)),
        "not_allowed",
        "still open"
    );
    assert_eq!(
        l.request(AGENT, req("staff_leave_room", json!({"visitor": "v"})), 4)
            .reply,
        Some(Ok(()))
    );
    assert!(l.rooms.get("v").is_none(), "ended");
    let p = l.request(VIS, rate.clone(), 5);
    assert_eq!(p.reply, Some(Ok(())));
    assert_eq!(p.events_for(AGENT), ["chat_rated"]);
    assert!(matches!(
        p.ops.as_slice(),
        [DbOp::RateChat { rating: "good", .. }]
    ));
    let again = l.request(VIS, rate, 6);
    assert_eq!(refused(&again), "not_allowed", "once");
    assert_eq!(
        again.reply,
        Some(Err(crate::live::events::rating::ALREADY_RATED))
    );
    // Another visitor has nothing of theirs to rate.
    l.connect(ConnId(12), &visitor("w"), false, 7);
    let other = req("rate_chat", json!({"rating": "bad"}));
    assert_eq!(refused(&l.request(ConnId(12), other, 8)), "not_allowed");
}

#[test]
fn page_views_reach_every_console_and_the_next_staff_init() {
    let mut l = claimed();
    let page = |n: usize| {
        req(
            "visitor_page",
            json!({"url": format!("https://shop.test/p{n}"), "title": format!("P{n}"),
            "language": "de-DE", "time_zone": "Europe/Berlin"}),
        )
    };
    for n in 0..12 {
        assert_eq!(l.request(VIS, page(n), 3 + n as i64).reply, Some(Ok(())));
    }
    let p = l.request(VIS, page(12), 20);
    assert_eq!(p.events_for(AGENT2), ["visitor_page_viewed"]);
    let pages = p
        .find("visitor_page_viewed")
        .unwrap()
        .payload
        .json("pages")
        .unwrap();
    assert_eq!(pages.as_array().unwrap().len(), 10);
    assert_eq!(pages[9]["url"], "https://shop.test/p12");
    let init = l.connect(ConnId(20), &staff("c", Role::Agent), false, 21);
    let v = init
        .find("staff_init")
        .unwrap()
        .payload
        .json("visitor_pages")
        .unwrap();
    assert_eq!(v["v"]["context"]["time_zone"], "Europe/Berlin");
    assert_eq!(
        v["v"]["pages"].as_array().unwrap().len(),
        10,
        "an open chat: its last pages"
    );
    // A visitor without an open chat: only the current page.
    l.connect(ConnId(13), &visitor("w"), false, 22);
    l.request(ConnId(13), page(1), 23);
    let init = l.connect(ConnId(21), &staff("d", Role::Agent), false, 24);
    let v = init
        .find("staff_init")
        .unwrap()
        .payload
        .json("visitor_pages")
        .unwrap();
    assert_eq!(
        v["w"]["pages"],
        json!([{"url": "https://shop.test/p1", "title": "P1", "referrer": "", "at": 23}])
    );
    for bad in [
        json!({"url": "javascript:alert(1)"}),
        json!({"title": "x"}),
        json!({"url": "https://a.test", "referrer": "ftp://x"}),
    ] {
        let raw = RawValue::from_string(bad.to_string()).unwrap();
        assert!(
            Request::parse("visitor_page", Some(&raw), 100).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn an_idle_chat_is_warned_then_closed_and_a_message_postpones_it() {
    let mut l = claimed();
    l.set_settings(
        settings(json!({"inactivity_warning_secs": 60, "inactivity_close_secs": 120})),
        2,
    );
    // The visitor wrote at 1; the claim at 2 starts the count.
    assert!(l.tick(50_000).sends.is_empty());
    let p = l.tick(61_000);
    assert_eq!(p.events_for(VIS), ["chat_timeout_warning"]);
    assert_eq!(p.events_for(AGENT), ["chat_timeout_warning"]);
    let w = p.find("chat_timeout_warning").unwrap();
    assert_eq!(w.payload.json("seconds_left"), Some(json!(60)));
    assert!(l.tick(62_000).sends.is_empty(), "warned once");
    // A message starts the count again.
    l.request(VIS, visitor_msg(), 100_000);
    assert!(l.tick(130_000).sends.is_empty());
    let p = l.tick(221_000);
    assert!(p.events_for(VIS).contains(&"chat_closed_inactive"));
    assert!(p.events_for(AGENT).contains(&"chat_closed_inactive"));
    assert!(p.events_for(AGENT2).contains(&"visitor_leave_queue"));
    assert!(l.rooms.get("v").is_none(), "closed");
    // Then the visitor may rate it.
    let rate = req("rate_chat", json!({"rating": "bad"}));
    assert_eq!(l.request(VIS, rate, 222_000).reply, Some(Ok(())));
}

#[test]
fn a_long_wait_in_the_queue_is_not_idle_time() {
    let mut l = room_with_queued_chat(0);
    l.set_settings(settings(json!({"inactivity_close_secs": 60})), 2);
    assert_eq!(l.request(AGENT, join("v"), 600_000).reply, Some(Ok(())));
    assert!(
        l.tick(600_500).sends.is_empty(),
        "claimed after ten minutes: not closed at once"
    );
    assert!(l
        .tick(661_000)
        .events_for(VIS)
        .contains(&"chat_closed_inactive"));
}

#[test]
fn the_prechat_form_holds_the_first_message_until_the_required_detail() {
    let mut l = live(0);
    l.set_settings(
        settings(json!({"prechat": {"enabled": true, "name": "optional", "email": "required"}})),
        0,
    );
    l.connect(AGENT, &staff("a", Role::Agent), false, 0);
    l.connect(VIS, &visitor("v"), false, 0);
    let p = l.request(VIS, visitor_msg(), 1);
    assert_eq!(refused(&p), "prechat_required");
    let Some(Err(r)) = &p.reply else {
        unreachable!()
    };
    assert!(r.sentence.ends_with("email."), "{}", r.sentence);
    let upd = req("visitor_update", json!({"email": "ann@example.com"}));
    assert_eq!(l.request(VIS, upd, 2).reply, Some(Ok(())));
    assert_eq!(l.request(VIS, visitor_msg(), 3).reply, Some(Ok(())));
}
