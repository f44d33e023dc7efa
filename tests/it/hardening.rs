//! Issue 10's findings 1, 6 and part of 9, through real clients against the real binary: content
//! that used to crash the server, the supervision rank bypass, bidi controls in names, and the
//! web UIs' single-use `/ws` tickets.

use crate::harness::*;
use crate::rt::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Raw =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A raw WebSocket to `path` (exact frames both ways: no JSON library on our side that could
/// refuse what the server sends).
async fn raw_ws(s: &Server, path: &str) -> Raw {
    let url = format!("ws://{}{}", s.addr, path);
    tokio_tungstenite::connect_async(url)
        .await
        .unwrap_or_else(|e| panic!("connect {path}: {e}"))
        .0
}

/// The next text frame that starts with `prefix` (answering Engine.IO pings on the way).
async fn frame_starting(ws: &mut Raw, prefix: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no frame starting with {prefix}"))
            .expect("connection open")
            .expect("frame");
        let Message::Text(text) = msg else { continue };
        if text.as_str() == "2" {
            ws.send(Message::text("3")).await.expect("pong");
            continue;
        }
        if text.starts_with(prefix) {
            return text.to_string();
        }
    }
}

/// Content nested `levels` deep (the object itself is level 1).
fn nested(levels: usize) -> String {
    format!(
        r#"{{"c":{}1{}}}"#,
        "[".repeat(levels - 1),
        "]".repeat(levels - 1)
    )
}

/// The inputs of finding 1 (a lone surrogate, deep nesting), as content JSON text.
fn crash_inputs() -> Vec<String> {
    vec![
        r#"{"c":"\ud800"}"#.to_string(),
        r#"{"content":"x\udfff"}"#.to_string(),
        nested(100),
    ]
}

#[tokio::test]
async fn content_that_crashed_the_server_is_refused_at_the_door_on_both_transports() {
    let s = Server::start();
    let (_, staff_token) = s.staff("agent@shop.test", "agent").await;
    // Someone is available, so the visitors' chats wait in the live queue (with nobody
    // available they would wait offline, without their contents in `staff_init`).
    let (_, on_duty) = s.staff("duty@shop.test", "agent").await;
    let _duty = Client::connect(&s, Transport::Ws, &on_duty).await;

    // /ws: each crash input is answered (false, sentence) with its id; nothing is stored.
    let (_, vtoken) = s.visitor(Some("Eve")).await;
    let mut ws = raw_ws(&s, &format!("/ws?token={vtoken}")).await;
    frame_starting(&mut ws, r#"{"event":"visitor_init""#).await;
    for (i, content) in crash_inputs().iter().enumerate() {
        for event in ["visitor_first_msg", "visitor_msg"] {
            let frame = format!(r#"{{"event":"{event}","data":{content},"id":{i}}}"#);
            ws.send(Message::text(frame)).await.unwrap();
            let ack: Value =
                serde_json::from_str(&frame_starting(&mut ws, &format!(r#"{{"ack":{i},"#)).await)
                    .unwrap();
            assert_eq!(ack["result"], false, "{content}: {ack}");
            let why = ack["error_message"].as_str().unwrap();
            assert!(why.contains("content"), "{why}");
        }
    }
    let deep = format!(r#"{{"event":"visitor_msg","data":{},"id":99}}"#, nested(40));
    ws.send(Message::text(deep)).await.unwrap();
    let ack = frame_starting(&mut ws, r#"{"ack":99,"#).await;
    assert!(ack.contains("nested too deeply"), "{ack}");
    // The connection is still good: a plain message goes through.
    ws.send(Message::text(
        r#"{"event":"visitor_msg","data":{"content":"hello"},"id":100}"#,
    ))
    .await
    .unwrap();
    let ack = frame_starting(&mut ws, r#"{"ack":100,"#).await;
    assert!(ack.contains(r#""result":true"#), "{ack}");

    // Socket.IO, by hand (a library would refuse to build these payloads).
    let (_, v2token) = s.visitor(Some("Mallory")).await;
    let mut sio = raw_ws(
        &s,
        &format!("/socket.io/?EIO=4&transport=websocket&token={v2token}"),
    )
    .await;
    frame_starting(&mut sio, "0{").await;
    sio.send(Message::text("40")).await.unwrap();
    frame_starting(&mut sio, "40{").await;
    for (i, content) in crash_inputs().iter().enumerate() {
        let id = 10 + i;
        sio.send(Message::text(format!(r#"42{id}["visitor_msg",{content}]"#)))
            .await
            .unwrap();
        let ack = frame_starting(&mut sio, &format!("43{id}[")).await;
        let args: Value = serde_json::from_str(&ack[format!("43{id}").len()..]).unwrap();
        assert_eq!(args[0], false, "{content}: {ack}");
        assert!(args[1].as_str().unwrap().contains("content"), "{ack}");
    }
    sio.send(Message::text(r#"4220["visitor_msg",{"content":"hi"}]"#))
        .await
        .unwrap();
    assert_eq!(frame_starting(&mut sio, "4320[").await, "4320[true,null]");

    // Only the two plain messages were stored, one per visitor chat.
    let staff = Client::connect(&s, Transport::Ws, &staff_token).await;
    let init = staff.next("staff_init").await;
    let contents: Vec<String> = init["unclaimed_chats"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["contents"].as_array().unwrap().clone())
        .map(|m| m["content"].to_string())
        .collect();
    assert_eq!(contents.len(), 2, "{contents:?}");
    assert!(contents
        .iter()
        .all(|c| c.contains("hello") || c.contains("hi")));
}

#[tokio::test]
async fn stored_content_that_crashed_the_server_is_served_and_the_server_stays_up() {
    let mut s = Server::start();
    let (_, staff_token) = s.staff("agent@shop.test", "agent").await;
    let v = visitor(&s, Transport::Ws, "Eve").await;
    assert_eq!(v.c.emit("visitor_first_msg", text("hello")).await, ok());
    v.c.disconnect().await;

    // What an earlier version let in is in the database: stop, write it there, start again.
    assert!(s.stop().success());
    let db = rusqlite::Connection::open(s.data.join("frontdesk.db")).unwrap();
    let chat_id: String = db
        .query_row("SELECT id FROM chats WHERE visitor_id = ?1", [&v.id], |r| {
            r.get(0)
        })
        .unwrap();
    for (i, content) in crash_inputs().iter().enumerate() {
        db.execute(
            "INSERT INTO messages (id, chat_id, sequence_num, type_id, sender, content, created_at) \
             VALUES (?1, ?2, ?3, 1, NULL, ?4, 1)",
            rusqlite::params![format!("{:032x}", i + 1), chat_id, i as i64 + 2, content],
        )
        .unwrap();
    }
    drop(db);
    s.restart();

    // The history, as the console loads it by itself on sign-in: served whole, byte for byte.
    let body = http()
        .get(s.url(&format!("/api/v1/chats/{chat_id}/messages")))
        .header("Authorization", &staff_token)
        .send()
        .await
        .expect("the server answers")
        .text()
        .await
        .unwrap();
    for content in crash_inputs() {
        assert!(body.contains(&content), "{content} not in {body}");
    }
    // A console signs in (it lists the chat, then loads that history itself); the server is
    // still up.
    let mut ws = raw_ws(&s, &format!("/ws?token={staff_token}")).await;
    let init = frame_starting(&mut ws, r#"{"event":"staff_init""#).await;
    assert!(init.contains(&chat_id), "{init}");
    let (st, _) = get(&s, "/healthz", None).await;
    assert_eq!(st, 200);
    let (st, _) = get(&s, &format!("/api/v1/chats/{chat_id}"), Some(&staff_token)).await;
    assert_eq!(st, 200);
}

/// Finding 6: a supervisor removed an admin from a chat and then claimed it.
async fn rank_bypass_is_refused(t: Transport) {
    let s = Server::start();
    let admin = staff(&s, t, "admin@shop.test", "admin").await;
    let sup = staff(&s, t, "sup@shop.test", "supervisor").await;
    let agent = staff(&s, t, "agent@shop.test", "agent").await;
    let v = visitor(&s, t, "Sarah").await;
    assert_eq!(v.c.emit("visitor_first_msg", text("hi")).await, ok());
    assert_eq!(
        admin.c.emit("staff_join", json!({"visitor": v.id})).await,
        ok()
    );
    v.c.next("staff_join_room").await;
    let remove = |who: &str| json!({"visitor": v.id, "staff": who});
    assert_eq!(
        sup.c
            .emit("remove_staff_from_chat", remove(&admin.id))
            .await,
        fails("A supervisor cannot remove an admin from a chat.")
    );
    assert_eq!(
        sup.c.emit("staff_join", json!({"visitor": v.id})).await,
        fails("This chat has already been claimed.")
    );
    for who in [&sup.id, &agent.id] {
        assert_eq!(
            sup.c.emit("add_staff_to_chat", remove(who)).await,
            fails("A supervisor cannot add staff to a chat served by an admin.")
        );
    }
    assert_eq!(
        sup.c.emit("take_over_chat", json!({"visitor": v.id})).await,
        fails("A supervisor cannot take over a chat from an admin.")
    );
    // Nothing changed: the admin still serves the chat alone, the visitor heard nothing.
    assert_eq!(v.c.emit("visitor_msg", text("still there?")).await, ok());
    admin.c.next("visitor_send").await;
    sup.c.none("visitor_send").await;
    v.c.none("staff_being_removed_from_chat").await;
    v.c.none("staff_being_added_to_chat").await;
    // The admin outranks the supervisor both ways.
    assert_eq!(
        admin.c.emit("add_staff_to_chat", remove(&sup.id)).await,
        ok()
    );
    assert_eq!(
        admin
            .c
            .emit("remove_staff_from_chat", remove(&sup.id))
            .await,
        ok()
    );
}

#[tokio::test]
async fn rank_bypass_is_refused_over_ws() {
    rank_bypass_is_refused(Transport::Ws).await;
}

#[tokio::test]
async fn rank_bypass_is_refused_over_socketio() {
    rank_bypass_is_refused(Transport::SocketIo).await;
}

#[tokio::test]
async fn names_lose_their_bidi_controls() {
    let s = Server::start();
    let (st, body) = post(
        &s,
        "/api/v1/visitors",
        json!({"name": "\u{202E}Eve\u{2066} gnp.exe\u{200F}", "email": "eve@shop.test"}),
        None,
    )
    .await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["visitor"]["name"], "Eve gnp.exe");
    // A name of nothing but controls is no name: the visitor gets a generated one.
    let (st, body) = post(
        &s,
        "/api/v1/visitors",
        json!({"name": "\u{202E}\u{202C}"}),
        None,
    )
    .await;
    assert_eq!(st, 201, "{body}");
    assert!(body["visitor"]["name"]
        .as_str()
        .unwrap()
        .starts_with("Visitor "));
}

#[tokio::test]
async fn the_web_uis_open_ws_with_a_single_use_ticket() {
    let s = Server::start();
    let (_, token) = s.staff("agent@shop.test", "agent").await;
    let (st, body) = post(&s, "/api/v1/ws-ticket", json!({}), None).await;
    assert_error(st, &body, 401);
    let (st, body) = post(&s, "/api/v1/ws-ticket", json!({}), Some(&"0".repeat(64))).await;
    assert_error(st, &body, 401);
    let (st, body) = post(&s, "/api/v1/ws-ticket", json!({}), Some(&token)).await;
    assert_eq!(st, 201, "{body}");
    let ticket = body["ticket"].as_str().unwrap().to_string();
    assert!(ticket.len() >= 32 && ticket != token);

    let mut ws = raw_ws(&s, &format!("/ws?ticket={ticket}")).await;
    frame_starting(&mut ws, r#"{"event":"staff_init""#).await;
    ws.close(None).await.unwrap();
    // Used once: never again.
    let again =
        tokio_tungstenite::connect_async(format!("ws://{}/ws?ticket={ticket}", s.addr)).await;
    match again {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("a used ticket opened a socket: {:?}", other.map(|_| ())),
    }
    let bogus = tokio_tungstenite::connect_async(format!("ws://{}/ws?ticket=abc", s.addr)).await;
    assert!(
        matches!(bogus, Err(tokio_tungstenite::tungstenite::Error::Http(r)) if r.status() == 401)
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
}
