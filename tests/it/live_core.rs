//! The live core's shape as clients see it (issue 11): every refusal on `/ws` carries a stable
//! code beside its sentence while Socket.IO acks keep the seed's two arguments, and the
//! example event added by the recipe, `set_availability` (product.md §8.3), on both transports.

use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};

/// The entry of `online_users` for staff `id`.
fn online_entry(init: &Value, id: &str) -> Value {
    init["online_users"]
        .as_array()
        .expect("online_users")
        .iter()
        .find(|u| u["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not in online_users: {init}"))
}

#[tokio::test]
async fn ws_refusals_carry_a_stable_code_and_socketio_keeps_two_arguments() {
    let s = Server::start();
    let agent = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    let agent2 = staff(&s, Transport::SocketIo, "b@shop.test", "agent").await;
    let v = visitor(&s, Transport::Ws, "Vera").await;
    let code = |f: &Value| f["code"].as_str().unwrap_or("").to_string();

    let f = agent
        .c
        .emit_frame("user_typing_send", json!({"visitor": v.id}))
        .await;
    assert_eq!(f["result"], false);
    assert_eq!(code(&f), "chat_closed", "{f}");
    // Success: no code at all.
    let f = v.c.emit_frame("visitor_msg", text("hello")).await;
    assert_eq!(f["result"], true);
    assert!(f.get("code").is_none(), "a success carries no code: {f}");
    assert!(f["error_message"].is_null());
    agent.c.next("append_unclaimed_chats").await;

    // Each kind of refusal, with its code and its sentence.
    let cases = [
        (
            "staff_join",
            Value::Null,
            "invalid_field",
            "Missing/Invalid field: visitor",
        ),
        (
            "staff_join",
            json!({"visitor": "nobody"}),
            "chat_closed",
            "The chat room is either closed or doesn't exist.",
        ),
        (
            "no_such_event",
            json!({}),
            "unknown_event",
            "Unknown event: no_such_event",
        ),
        (
            "staff_msg",
            json!({"visitor": v.id, "content": {"content": "x"}}),
            "not_in_chat",
            "You are not serving this chat.",
        ),
        (
            "visitor_msg",
            text("x"),
            "not_allowed",
            "Only visitors can send this event.",
        ),
        (
            "take_over_chat",
            json!({"visitor": v.id}),
            "not_allowed",
            "Only supervisors and admins can take over chats.",
        ),
    ];
    for (event, data, want_code, sentence) in cases {
        let f = agent.c.emit_frame(event, data.clone()).await;
        assert_eq!(code(&f), want_code, "{event} {data}: {f}");
        assert_eq!(f["error_message"], sentence, "{event}: {f}");
        // The same refusal over Socket.IO: exactly the seed's (false, sentence).
        assert_eq!(agent2.c.emit(event, data).await, fails(sentence), "{event}");
    }
    let big = json!({"content": "x".repeat(20 * 1024)});
    assert_eq!(code(&v.c.emit_frame("visitor_msg", big).await), "too_large");
    assert_eq!(
        code(&v.c.emit_frame("staff_join", json!({"visitor": v.id})).await),
        "not_allowed"
    );

    // A claim race: the loser is told `already_claimed`.
    assert_eq!(
        agent2.c.emit("staff_join", json!({"visitor": v.id})).await,
        ok()
    );
    let f = agent
        .c
        .emit_frame("staff_join", json!({"visitor": v.id}))
        .await;
    assert_eq!(code(&f), "already_claimed", "{f}");
    let f = agent2.c.emit("staff_join", json!({"visitor": v.id})).await;
    assert_eq!(f, fails("You are already serving this chat."));

    // A frame that never became an event: `invalid_frame`, and the connection stays.
    let before = agent.c.ack_frames().len();
    agent.c.send_raw("{not json");
    agent.c.send_raw(r#"{"data": {}, "id": 99}"#);
    let f = agent
        .c
        .emit_frame("user_typing_send", json!({"visitor": v.id}))
        .await;
    assert_eq!(
        code(&f),
        "not_in_chat",
        "the connection is still there: {f}"
    );
    let frames = agent.c.ack_frames();
    assert_eq!(frames.len(), before + 3, "{frames:?}");
    assert_eq!(code(&frames[before]), "invalid_frame", "{frames:?}");
    assert!(frames[before]["ack"].is_null());
    assert_eq!(code(&frames[before + 1]), "invalid_field", "{frames:?}");
    assert_eq!(frames[before + 1]["ack"], 99);
}

#[tokio::test]
async fn set_availability_reaches_every_console_on_both_transports() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let other = match t {
            Transport::SocketIo => Transport::Ws,
            Transport::Ws => Transport::SocketIo,
        };
        let s = Server::start();
        let agent = staff(&s, t, "a@shop.test", "agent").await;
        let sup = staff(&s, other, "s@shop.test", "supervisor").await;
        let v = visitor(&s, other, "Vera").await;

        // Everyone starts available, with their load.
        let (_, tok) = s.staff("watch@shop.test", "agent").await;
        let watcher = Client::connect(&s, other, &tok).await.named("watcher");
        let init = watcher.next("staff_init").await;
        let a = online_entry(&init, &agent.id);
        assert_eq!(
            (
                a["status"].clone(),
                a["active_chats"].clone(),
                a["max_chats"].clone()
            ),
            (json!("available"), json!(0), json!(3)),
            "{a}"
        );
        assert_eq!(a["email"], "a@shop.test", "still the staff object: {a}");

        // Away: every console hears it, the sender's too.
        assert_eq!(
            agent
                .c
                .emit("set_availability", json!({"status": "away"}))
                .await,
            ok()
        );
        for c in [&agent.c, &sup.c, &watcher] {
            let e = c.next("staff_availability_changed").await;
            assert_eq!(
                (e["staff"]["id"].as_str(), e["status"].as_str()),
                (Some(agent.id.as_str()), Some("away")),
                "{t:?}: {e}"
            );
        }
        v.c.none("staff_availability_changed").await;

        // Refused, changing nothing: a bad status, no data, a visitor.
        for bad in [json!({"status": "busy"}), json!({"status": 1}), Value::Null] {
            assert_eq!(
                agent.c.emit("set_availability", bad.clone()).await,
                fails("Missing/Invalid field: status"),
                "{bad}"
            );
        }
        assert_eq!(
            v.c.emit("set_availability", json!({"status": "away"}))
                .await,
            fails("Only staff can send this event.")
        );
        sup.c.none("staff_availability_changed").await;

        // The status and the load show in a console that connects now.
        assert_eq!(v.c.emit("visitor_msg", text("hi")).await, ok());
        assert_eq!(
            agent.c.emit("staff_join", json!({"visitor": v.id})).await,
            ok()
        );
        let (_, tok) = s.staff("late@shop.test", "agent").await;
        let late = Client::connect(&s, t, &tok).await.named("late");
        let a = online_entry(&late.next("staff_init").await, &agent.id);
        assert_eq!(
            (a["status"].clone(), a["active_chats"].clone()),
            (json!("away"), json!(1)),
            "{a}"
        );

        // A reload (the new tab replaces the old one) keeps it.
        let back = Client::connect_force(&s, t, &agent.token)
            .await
            .named("back");
        let me = online_entry(&back.next("staff_init").await, &agent.id);
        assert_eq!(me["status"], "away", "{t:?}: {me}");
        assert_eq!(
            back.emit("set_availability", json!({"status": "available"}))
                .await,
            ok()
        );
        let e = sup.c.next("staff_availability_changed").await;
        assert_eq!(e["status"], "available");
        // Over /ws the refusal has its code.
        if t == Transport::Ws {
            let f = back
                .emit_frame("set_availability", json!({"status": "gone"}))
                .await;
            assert_eq!(f["code"], "invalid_field", "{f}");
        }
    }
}
