//! The seed protocol (product.md §6) through real clients: who receives what, and who does not.

use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};

fn assert_room(room: &Value, visitor_id: &str) {
    assert_eq!(room["id"], visitor_id, "{room}");
    assert_eq!(room["visitor_id"], visitor_id, "{room}");
    for key in [
        "name",
        "email",
        "is_anonymous",
        "disabled",
        "created_at",
        "updated_at",
        "chat_id",
        "severity_level",
        "tags",
        "staff",
    ] {
        assert!(room.get(key).is_some(), "room lacks {key}: {room}");
    }
}

fn assert_message(m: &Value, seq: i64, type_id: i64) {
    for key in [
        "id",
        "chat_id",
        "sequence_num",
        "type_id",
        "sender",
        "content",
        "created_at",
    ] {
        assert!(m.get(key).is_some(), "message lacks {key}: {m}");
    }
    assert_eq!(m["sequence_num"], seq, "{m}");
    assert_eq!(m["type_id"], type_id, "{m}");
}

/// The whole core journey, on either transport.
async fn core_journey(t: Transport) {
    let s = Server::start();
    let agent = staff(&s, t, "agent@shop.test", "agent").await;
    let sup = staff(&s, t, "sup@shop.test", "supervisor").await;
    let admin = staff(&s, t, "admin@shop.test", "admin").await;
    agent.c.next("staff_goes_online").await; // sup
    agent.c.next("staff_goes_online").await; // admin

    let v = visitor(&s, t, "Sarah Wood").await;
    let online = agent.c.next("visitor_goes_online").await;
    assert_room(&online["visitor"], &v.id);
    assert_eq!(online["visitor"]["chat_id"], Value::Null);
    sup.c.next("visitor_goes_online").await;

    // First message: queued, every staff sees it with its contents.
    assert_eq!(v.c.emit("visitor_first_msg", text("Hello")).await, ok());
    let appended = agent.c.next("append_unclaimed_chats").await;
    assert_room(&appended["visitor"], &v.id);
    let chat_id = appended["visitor"]["chat_id"].as_str().unwrap().to_string();
    assert_eq!(appended["contents"].as_array().unwrap().len(), 1);
    assert_message(&appended["contents"][0], 1, 1);
    assert_eq!(appended["contents"][0]["content"]["content"], "Hello");
    assert_eq!(appended["contents"][0]["sender"], Value::Null);
    sup.c.next("append_unclaimed_chats").await;
    let pos = v.c.next("queue_position").await;
    assert_eq!(pos["position"], 1);

    assert_eq!(
        v.c.emit("visitor_msg_unclaimed", text("Anyone?")).await,
        ok()
    );
    let m = agent.c.next("visitor_unclaimed_msg").await;
    assert_message(&m["content"], 2, 1);
    assert_room(&m["visitor"], &v.id);
    admin.c.next("visitor_unclaimed_msg").await;

    // The claim.
    assert_eq!(
        agent.c.emit("staff_join", json!({"visitor": v.id})).await,
        ok()
    );
    let claimed = sup.c.next("staff_claim_chat").await;
    assert_eq!(claimed["staff"]["id"], agent.id.as_str());
    assert_eq!(claimed["visitor"]["staff"]["id"], agent.id.as_str());
    assert_eq!(claimed["next_offline_unclaimed_visitor"], Value::Null);
    let joined = v.c.next("staff_join_room").await;
    assert_eq!(joined["staff"]["id"], agent.id.as_str());
    let anc = sup.c.next("agent_new_chat").await;
    assert_eq!(anc["staff"]["id"], agent.id.as_str());
    let contents = anc["contents"].as_array().unwrap();
    assert_eq!(
        contents.len(),
        3,
        "two visitor messages and the join: {contents:?}"
    );
    assert_message(&contents[2], 3, 0);
    assert_eq!(contents[2]["content"]["content"], "join room");
    admin.c.next("agent_new_chat").await;
    agent.c.none("staff_claim_chat").await;
    agent.c.none("agent_new_chat").await;
    v.c.none("staff_claim_chat").await;

    // Messages both ways.
    assert_eq!(v.c.emit("visitor_msg", text("I need help")).await, ok());
    let got = agent.c.next("visitor_send").await;
    assert_message(&got["content"], 4, 1);
    assert_eq!(got["content"]["content"]["content"], "I need help");
    assert_room(&got["visitor"], &v.id);
    let sv = sup.c.next("new_visitor_msg_for_supervisor").await;
    assert_eq!(sv["content"]["sequence_num"], 4);
    admin.c.next("new_visitor_msg_for_supervisor").await;
    sup.c.none("visitor_send").await;

    assert_eq!(
        agent
            .c
            .emit(
                "staff_msg",
                json!({"visitor": v.id, "content": text("Sure!")})
            )
            .await,
        ok()
    );
    let got = v.c.next("staff_send").await;
    assert_eq!(got["staff"]["id"], agent.id.as_str());
    assert_message(&got["content"], 5, 1);
    assert_eq!(got["content"]["sender"], agent.id.as_str());
    let ss = sup.c.next("new_staff_msg_for_supervisor").await;
    assert_eq!(ss["visitor"]["id"], v.id.as_str());
    agent.c.none("staff_send").await;

    // Typing both ways, never stored.
    assert_eq!(
        v.c.emit("user_typing_send", json!({"visitor": v.id})).await,
        ok()
    );
    let ty = agent.c.next("user_typing_receive").await;
    assert_eq!(ty["visitor"]["id"], v.id.as_str());
    assert_eq!(ty["staff"], Value::Null);
    assert_eq!(
        agent
            .c
            .emit("user_typing_send", json!({"visitor": v.id}))
            .await,
        ok()
    );
    let ty = v.c.next("user_typing_receive").await;
    assert_eq!(ty["staff"]["id"], agent.id.as_str());
    assert_eq!(
        agent
            .c
            .emit("user_stop_typing_send", json!({"visitor": v.id}))
            .await,
        ok()
    );
    v.c.next("user_stop_typing_receive").await;
    sup.c.none("user_typing_receive").await;

    // Take over: the supervisor outranks the agent.
    assert_eq!(
        sup.c.emit("take_over_chat", json!({"visitor": v.id})).await,
        ok()
    );
    let tk = agent.c.next("staff_being_taken_over_chat").await;
    assert_eq!(tk["staff"]["id"], sup.id.as_str());
    assert_eq!(tk["visitor"]["staff"]["id"], sup.id.as_str());
    v.c.next("staff_being_taken_over_chat").await;
    let sto = admin.c.next("staff_take_over_chat").await;
    assert_eq!(sto["staff"]["id"], sup.id.as_str());
    sup.c.none("staff_take_over_chat").await;
    assert_eq!(
        agent
            .c
            .emit(
                "staff_msg",
                json!({"visitor": v.id, "content": text("still here?")})
            )
            .await,
        fails("You are not serving this chat.")
    );
    assert_eq!(
        sup.c
            .emit(
                "staff_msg",
                json!({"visitor": v.id, "content": text("I'll take it from here")})
            )
            .await,
        ok()
    );
    assert_eq!(v.c.next("staff_send").await["staff"]["id"], sup.id.as_str());

    // The last staff leaves: the chat ends.
    assert_eq!(
        sup.c
            .emit("staff_leave_room", json!({"visitor": v.id}))
            .await,
        ok()
    );
    assert_eq!(
        v.c.next("staff_leave").await["staff"]["id"],
        sup.id.as_str()
    );
    let lf = admin.c.next("staff_leave_chat_for_supervisor").await;
    assert_eq!(lf["staff"]["id"], sup.id.as_str());
    assert_eq!(
        sup.c
            .emit("staff_msg", json!({"visitor": v.id, "content": text("x")}))
            .await,
        fails("The chat room is either closed or doesn't exist.")
    );

    // Writing again opens a new chat.
    assert_eq!(v.c.emit("visitor_msg", text("One more thing")).await, ok());
    let again = agent.c.next("append_unclaimed_chats").await;
    let chat2 = again["visitor"]["chat_id"].as_str().unwrap();
    assert_ne!(chat2, chat_id);
    assert_message(&again["contents"][0], 1, 1);

    // The visitor ends it.
    assert_eq!(v.c.emit("visitor_leave_room", Value::Null).await, ok());
    let lq = agent.c.next("visitor_leave_queue").await;
    assert_eq!(lq["user"]["id"], v.id.as_str());
    sup.c.next("visitor_leave_chat_for_supervisor").await;
    agent.c.none("visitor_leave_chat_for_supervisor").await;

    // Everything is in the database, gap-free.
    let db = rusqlite::Connection::open(s.data.join("frontdesk.db")).unwrap();
    let seqs: Vec<i64> = db
        .prepare("SELECT sequence_num FROM messages WHERE chat_id = ?1 ORDER BY sequence_num")
        .unwrap()
        .query_map([&chat_id], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    let status: String = db
        .query_row("SELECT status FROM chats WHERE id = ?1", [&chat_id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(status, "ended");
}

#[tokio::test]
async fn core_journey_over_socketio() {
    core_journey(Transport::SocketIo).await;
}

#[tokio::test]
async fn core_journey_over_ws() {
    core_journey(Transport::Ws).await;
}

#[tokio::test]
async fn claim_race_has_exactly_one_winner() {
    let s = Server::start_with(Options {
        config: Some("max_events_per_sec = 10000\n".into()),
        ..Default::default()
    });
    let t = Transport::SocketIo;
    let a = staff(&s, t, "a@shop.test", "agent").await;
    let b = staff(&s, t, "b@shop.test", "agent").await;
    let v = visitor(&s, Transport::Ws, "Racer").await;
    let (mut wins_a, mut wins_b) = (0, 0);
    for round in 0..200 {
        assert_eq!(
            v.c.emit("visitor_msg", text(&format!("round {round}")))
                .await,
            ok()
        );
        let (ra, rb) = tokio::join!(
            a.c.emit("staff_join", json!({"visitor": v.id})),
            b.c.emit("staff_join", json!({"visitor": v.id}))
        );
        let winner = match (&ra, &rb) {
            (x, y) if *x == ok() && *y == fails("This chat has already been claimed.") => {
                wins_a += 1;
                &a
            }
            (x, y) if *y == ok() && *x == fails("This chat has already been claimed.") => {
                wins_b += 1;
                &b
            }
            other => panic!("round {round}: {other:?}"),
        };
        assert_eq!(
            winner
                .c
                .emit("staff_leave_room", json!({"visitor": v.id}))
                .await,
            ok()
        );
    }
    assert_eq!(wins_a + wins_b, 200);
    // One chat per round, each claimed by exactly one staff.
    let db = rusqlite::Connection::open(s.data.join("frontdesk.db")).unwrap();
    let joins: i64 = db
        .query_row("SELECT count(*) FROM chat_staff", [], |r| r.get(0))
        .unwrap();
    assert_eq!(joins, 200);
}

#[tokio::test]
async fn bad_input_is_refused_with_a_sentence_and_changes_nothing() {
    let s = Server::start_with(Options {
        config: Some("max_content_bytes = 1024\nmax_events_per_sec = 1000\n".into()),
        ..Default::default()
    });
    for t in [Transport::SocketIo, Transport::Ws] {
        let agent = staff(&s, t, &format!("agent-{t:?}@shop.test"), "agent").await;
        let v = visitor(&s, t, "Bad Input").await;
        let big = json!({"content": "x".repeat(2000)});
        let visitor_cases: Vec<(&str, Value, &str)> = vec![
            (
                "visitor_first_msg",
                Value::Null,
                "Missing/Invalid field: content",
            ),
            (
                "visitor_msg",
                json!("just text"),
                "Missing/Invalid field: content",
            ),
            (
                "visitor_msg",
                json!([1, 2]),
                "Missing/Invalid field: content",
            ),
            (
                "visitor_msg",
                big.clone(),
                "The message content is larger than the limit of 1024 bytes.",
            ),
            (
                "staff_join",
                json!({"visitor": v.id}),
                "Only staff can send this event.",
            ),
            (
                "take_over_chat",
                json!({"visitor": v.id}),
                "Only staff can send this event.",
            ),
            ("visitor_leave_room", Value::Null, "You have no open chat."),
            ("no_such_event", json!({}), "Unknown event: no_such_event"),
        ];
        for (event, data, want) in visitor_cases {
            assert_eq!(
                v.c.emit(event, data.clone()).await,
                fails(want),
                "{t:?} {event} {data}"
            );
        }
        assert_eq!(v.c.emit("visitor_msg", text("fine")).await, ok());
        agent.c.next("append_unclaimed_chats").await;
        let staff_cases: Vec<(&str, Value, &str)> = vec![
            ("staff_join", Value::Null, "Missing/Invalid field: visitor"),
            ("staff_join", json!({}), "Missing/Invalid field: visitor"),
            (
                "staff_join",
                json!({"visitor": 42}),
                "Missing/Invalid field: visitor",
            ),
            (
                "staff_join",
                json!({"visitor": "0".repeat(32)}),
                "The chat room is either closed or doesn't exist.",
            ),
            (
                "staff_msg",
                json!({"visitor": v.id}),
                "Missing/Invalid field: content",
            ),
            (
                "staff_msg",
                json!({"visitor": v.id, "content": "text"}),
                "Missing/Invalid field: content",
            ),
            (
                "staff_msg",
                json!({"visitor": v.id, "content": big}),
                "The message content is larger than the limit of 1024 bytes.",
            ),
            (
                "staff_msg",
                json!({"visitor": v.id, "content": text("hi")}),
                "You are not serving this chat.",
            ),
            (
                "staff_leave_room",
                json!({"visitor": v.id}),
                "You are not serving this chat.",
            ),
            (
                "take_over_chat",
                json!({"visitor": v.id}),
                "Only supervisors and admins can take over chats.",
            ),
            (
                "add_staff_to_chat",
                json!({"visitor": v.id, "staff": agent.id}),
                "Only supervisors and admins can add staff to chats.",
            ),
            (
                "add_staff_to_chat",
                json!({"visitor": v.id}),
                "Missing/Invalid field: staff",
            ),
            (
                "remove_staff_from_chat",
                json!({"visitor": v.id, "staff": agent.id}),
                "Only supervisors and admins can remove staff from chats.",
            ),
            (
                "change_chat_priority",
                json!({"visitor": v.id, "severity_level": "high"}),
                "Missing/Invalid field: severity_level",
            ),
            (
                "change_chat_priority",
                json!({"visitor": v.id, "severity_level": -2}),
                "Missing/Invalid field: severity_level",
            ),
            (
                "user_typing_send",
                json!({}),
                "Missing/Invalid field: visitor",
            ),
            (
                "visitor_msg",
                text("hi"),
                "Only visitors can send this event.",
            ),
            (
                "visitor_leave_room",
                Value::Null,
                "Only visitors can send this event.",
            ),
        ];
        for (event, data, want) in staff_cases {
            assert_eq!(
                agent.c.emit(event, data.clone()).await,
                fails(want),
                "{t:?} {event} {data}"
            );
        }
        // Nothing changed: the chat is still unclaimed and the connection still works.
        assert_eq!(
            agent.c.emit("staff_join", json!({"visitor": v.id})).await,
            ok()
        );
        assert_eq!(
            agent
                .c
                .emit(
                    "staff_msg",
                    json!({"visitor": v.id, "content": text("hello")})
                )
                .await,
            ok()
        );
        let got = v.c.next("staff_send").await;
        assert_eq!(
            got["content"]["sequence_num"], 3,
            "only the good message and the join were stored"
        );
    }
    // Raw /ws frames that are not events.
    let (_, token) = s.visitor(None).await;
    let c = Client::connect(&s, Transport::Ws, &token).await;
    c.next("visitor_init").await;
    for frame in ["not json", "{\"data\": {}}", "[1,2,3]", "{\"event\": 5}"] {
        c.send_raw(frame);
        let ack = c.next("__ack__").await;
        assert_eq!(ack["result"], false, "{frame}: {ack}");
        assert!(
            ack["error_message"].as_str().is_some_and(|m| !m.is_empty()),
            "{ack}"
        );
    }
    c.send_raw("{\"event\": \"visitor_msg\", \"data\": {\"content\": \"ok\"}, \"id\": 99}");
    let ack = c.next("__ack__").await;
    assert_eq!(
        ack,
        json!({"ack": 99, "result": true, "error_message": null})
            .to_string()
            .parse::<Value>()
            .unwrap()
    );
    assert!(!s.log().contains("panicked"), "{}", s.log());
}

#[tokio::test]
async fn content_is_stored_and_delivered_byte_for_byte() {
    let s = Server::start();
    let agent = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    let (_, token) = s.visitor(None).await;
    let v = Client::connect(&s, Transport::Ws, &token).await;
    v.next("visitor_init").await;
    let content = r#"{"content": "héllo <b>",  "z": 1.50, "a": [1, {"k": null}]}"#;
    v.send_raw(&format!(
        r#"{{"event": "visitor_first_msg", "data": {content}, "id": 1}}"#
    ));
    assert_eq!(v.next("__ack__").await["result"], true);
    agent.c.next("append_unclaimed_chats").await;
    let db = rusqlite::Connection::open(s.data.join("frontdesk.db")).unwrap();
    let stored: String = db
        .query_row("SELECT content FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, content);
}

#[tokio::test]
async fn the_event_rate_is_limited_per_connection_and_the_connection_survives() {
    let s = Server::start(); // 20 events/s sustained, bursts of 40
    let v = visitor(&s, Transport::Ws, "Flooder").await;
    let mut refused = 0;
    for i in 0..60 {
        match v.c.emit("user_typing_send", serde_json::Value::Null).await {
            (false, Some(m)) if m.contains("slow down") => refused += 1,
            other => assert!(other.0 || other.1.is_some(), "{i}: {other:?}"),
        }
    }
    assert!(refused > 0, "60 events at once must hit the limit");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(v.c.emit("visitor_msg", text("still here")).await, ok());
}
