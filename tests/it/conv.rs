//! Helpers shared by issue 14's tests (prompts/issue14-spec.md): refusals on both transports,
//! a claimed chat in one call, everything a client was told as one string.

#![allow(dead_code)]

use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};

pub fn grace(secs: u32) -> Options {
    Options {
        args: vec!["--reconnect-grace".into(), secs.to_string()],
        ..Default::default()
    }
}

/// An admin's REST token (never connected live).
pub async fn admin(s: &Server) -> String {
    s.staff("admin@shop.test", "admin").await.1
}

/// Emits `event` as `p` over `t` and checks it is refused: on `/ws` with `code`, on both with
/// `sentence` when the spec gives one (else any non-empty sentence).
pub async fn refused(
    p: &Party,
    t: Transport,
    event: &str,
    data: Value,
    code: &str,
    sentence: Option<&str>,
) {
    let what = format!("{} {t:?} {event} {data}", p.c.name);
    match t {
        Transport::Ws => {
            let f = p.c.emit_frame(event, data).await;
            assert_eq!(f["result"], false, "{what}: {f}");
            assert_eq!(f["code"], code, "{what}: {f}");
            match sentence {
                Some(s) => assert_eq!(f["error_message"], s, "{what}: {f}"),
                None => assert!(
                    f["error_message"].as_str().is_some_and(|m| !m.is_empty()),
                    "{what}: {f}"
                ),
            }
        }
        Transport::SocketIo => {
            let (ok, msg) = p.c.emit(event, data).await;
            assert!(!ok, "{what}: accepted");
            match sentence {
                Some(s) => assert_eq!(msg.as_deref(), Some(s), "{what}"),
                None => assert!(msg.is_some_and(|m| !m.is_empty()), "{what}"),
            }
        }
    }
}

/// "Missing/Invalid field: <field>" with `invalid_field`.
pub async fn invalid(p: &Party, t: Transport, event: &str, data: Value, field: &str) {
    let sentence = format!("Missing/Invalid field: {field}");
    refused(p, t, event, data, "invalid_field", Some(&sentence)).await;
}

/// `v` writes `first`, `agent` claims the chat; returns the chat id. The visitor has been told
/// `staff_join_room`.
pub async fn claimed(agent: &Party, v: &Party, first: &str) -> String {
    assert_eq!(
        v.c.emit("visitor_msg", text(first)).await,
        ok(),
        "{}",
        v.c.name
    );
    let chat_id = v.c.next("queue_position").await["chat_id"]
        .as_str()
        .expect("chat_id")
        .to_string();
    assert_eq!(
        agent.c.emit("staff_join", json!({"visitor": v.id})).await,
        ok(),
        "{} claims",
        agent.c.name
    );
    v.c.next("staff_join_room").await;
    chat_id
}

/// Everything `c` received so far, as one JSON text (to look for a secret in all of it).
pub fn everything(c: &Client) -> String {
    let mut names = c.names();
    names.sort();
    names.dedup();
    let all: Vec<Value> = names
        .iter()
        .map(|n| json!({"event": n, "data": c.all(n)}))
        .collect();
    serde_json::to_string(&all).expect("json")
}

/// How many events `c` received so far (taken or not).
pub fn received(c: &Client) -> usize {
    c.names().len()
}

/// The events `c` received after the first `from`.
pub fn since(c: &Client, from: usize) -> Vec<String> {
    c.names().split_off(from.min(c.names().len()))
}

/// The texts of the chat messages (type 1) among `messages`.
pub fn chat_texts(messages: &Value) -> Vec<String> {
    messages
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {messages}"))
        .iter()
        .filter(|m| m["type_id"] == 1)
        .map(|m| m["content"]["content"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The room of `vid` in a list of `{visitor: room, ...}` entries (or of rooms).
pub fn room_in(list: &Value, vid: &str) -> Value {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|e| {
            if e["visitor"].is_object() {
                &e["visitor"]
            } else {
                e
            }
        })
        .find(|r| r["id"] == vid)
        .cloned()
        .unwrap_or_else(|| panic!("{vid} not in {list}"))
}

/// The server's database, read only.
pub fn db(s: &Server) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        s.data.join("frontdesk.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the database")
}

/// DELETE with a token; status and body.
pub async fn delete(s: &Server, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = http().delete(s.url(path));
    if let Some(t) = token {
        req = req.header("Authorization", t);
    }
    into_json(req.send().await.expect("request")).await
}
