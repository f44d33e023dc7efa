//! The live core's shape as clients see it (issue 11): every refusal on `/ws` carries a stable
//! code beside its sentence while Socket.IO acks keep the seed's two arguments.

use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};

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
