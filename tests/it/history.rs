//! History over REST (issue 16): `GET /api/v1/chats` with its filters and keyset pages, who
//! may see which chat (one rule for the list and a single chat), a visitor's chats,
//! participations and presences. The chats are made through the socket protocol.

use crate::conv::*;
use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};
use std::collections::HashSet;

fn ids(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results: {page}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

fn set(v: &[&String]) -> HashSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

async fn list(s: &Server, query: &str, token: &str) -> HashSet<String> {
    let (status, page) = get(s, &format!("/api/v1/chats{query}"), Some(token)).await;
    assert_eq!(status, 200, "{query}: {page}");
    ids(&page).into_iter().collect()
}

#[tokio::test]
async fn the_list_filters_and_each_role_sees_what_it_may() {
    let s = Server::start();
    let admin = admin(&s).await;
    let sup = s.staff("sup@shop.test", "supervisor").await.1;
    let a = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    let b = staff(&s, Transport::SocketIo, "b@shop.test", "agent").await;

    // 1: served by a, tagged, the visitor waits for a reply. 2: waiting in the queue.
    // 3: served by b, answered.
    let v1 = visitor(&s, Transport::Ws, "Vera").await;
    let c1 = claimed(&a, &v1, "Where is my parcel?").await;
    let reply = json!({"visitor": v1.id, "content": {"content": "Let me look."}});
    assert_eq!(a.c.emit("staff_msg", reply).await, ok());
    assert_eq!(v1.c.emit("visitor_msg", text("Thanks!")).await, ok());
    let tags = json!({"visitor": v1.id, "tags": ["vip"]});
    assert_eq!(a.c.emit("tag_chat", tags).await, ok());
    let v2 = visitor(&s, Transport::SocketIo, "Walt").await;
    assert_eq!(v2.c.emit("visitor_msg", text("Hello?")).await, ok());
    let c2 = v2.c.next("queue_position").await["chat_id"]
        .as_str()
        .unwrap()
        .to_string();
    let v3 = visitor(&s, Transport::Ws, "Xena").await;
    let c3 = claimed(&b, &v3, "Do you ship abroad?").await;
    let reply = json!({"visitor": v3.id, "content": {"content": "We do."}});
    assert_eq!(b.c.emit("staff_msg", reply).await, ok());
    // ...and ended, rated good.
    assert_eq!(v3.c.emit("visitor_leave_room", Value::Null).await, ok());
    let rating = json!({"rating": "good"});
    assert_eq!(v3.c.emit("rate_chat", rating).await, ok());

    // Who sees what: supervisors and admins everything, agents theirs and the queue, a
    // visitor their own; a chat one may not see is 404, as if it did not exist.
    for t in [&admin, &sup] {
        assert_eq!(list(&s, "", t).await, set(&[&c1, &c2, &c3]));
    }
    assert_eq!(list(&s, "", &a.token).await, set(&[&c1, &c2]));
    assert_eq!(list(&s, "", &b.token).await, set(&[&c2, &c3]));
    assert_eq!(list(&s, "", &v1.token).await, set(&[&c1]));
    for (token, chat) in [(&a.token, &c3), (&b.token, &c1), (&v1.token, &c2)] {
        for path in ["", "/messages", "/participations", "/presences"] {
            let (status, body) = get(&s, &format!("/api/v1/chats/{chat}{path}"), Some(token)).await;
            // Staff objects are not for visitors at all.
            let staff_only = path == "/participations" || path == "/presences";
            let want = if staff_only && token == &v1.token {
                403
            } else {
                404
            };
            assert_eq!(status, want, "{path}: {body}");
        }
    }
    let (status, _) = get(&s, &format!("/api/v1/chats/{c1}"), Some(&a.token)).await;
    assert_eq!(status, 200, "a serves chat 1");
    let (status, _) = get(&s, &format!("/api/v1/chats/{c2}"), Some(&b.token)).await;
    assert_eq!(status, 200, "the queue is for every agent");

    // The figures of a chat.
    let (_, one) = get(&s, &format!("/api/v1/chats/{c1}"), Some(&admin)).await;
    assert_eq!(one["visitor_message_count"], 2, "{one}");
    assert_eq!(one["staff_message_count"], 1, "{one}");
    assert_eq!(one["message_count"], 3, "{one}");
    assert_eq!(one["waiting_for_reply"], true, "{one}");
    assert!(
        one["first_response_ms"].as_i64().is_some_and(|ms| ms >= 0),
        "{one}"
    );
    assert_eq!(one["tags"], json!(["vip"]));
    assert_eq!(one["participants"], json!([a.id]));
    assert_eq!(one["staff"], json!([a.id]));
    let (_, three) = get(&s, &format!("/api/v1/chats/{c3}"), Some(&admin)).await;
    assert_eq!(three["waiting_for_reply"], false, "{three}");
    let (_, two) = get(&s, &format!("/api/v1/chats/{c2}"), Some(&admin)).await;
    assert_eq!(two["first_response_ms"], Value::Null, "{two}");
    assert_eq!(two["waiting_for_reply"], true, "{two}");

    // Every filter.
    let later = now_ms() + 3_600_000;
    for (query, want) in [
        ("?status=open".to_string(), set(&[&c1, &c2])),
        ("?status=ended".to_string(), set(&[&c3])),
        ("?rating=good".to_string(), set(&[&c3])),
        ("?rating=bad".to_string(), set(&[])),
        ("?tag=vip".to_string(), set(&[&c1])),
        ("?tag=VIP".to_string(), set(&[&c1])),
        ("?tag=none".to_string(), set(&[])),
        (format!("?staff={}", a.id), set(&[&c1])),
        (format!("?staff={}", b.id), set(&[&c3])),
        (format!("?visitor={}", v2.id), set(&[&c2])),
        ("?min_message_count=3".to_string(), set(&[&c1])),
        ("?min_message_count=2".to_string(), set(&[&c1, &c3])),
        ("?severity=0".to_string(), set(&[&c1, &c2, &c3])),
        ("?severity=2".to_string(), set(&[])),
        (format!("?since={later}"), set(&[])),
        (format!("?until={later}"), set(&[&c1, &c2, &c3])),
        ("?until=1".to_string(), set(&[])),
        (format!("?tag=vip&staff={}", b.id), set(&[])),
    ] {
        assert_eq!(list(&s, &query, &admin).await, want, "{query}");
    }
    // An agent's filter never widens what they may see.
    assert_eq!(
        list(&s, &format!("?staff={}", b.id), &a.token).await,
        set(&[])
    );

    // A visitor's chats: their own, or 404.
    let (status, page) = get(
        &s,
        &format!("/api/v1/visitors/{}/chats", v1.id),
        Some(&v1.token),
    )
    .await;
    assert_eq!((status, ids(&page)), (200, vec![c1.clone()]));
    let (status, _) = get(
        &s,
        &format!("/api/v1/visitors/{}/chats", v2.id),
        Some(&v1.token),
    )
    .await;
    assert_eq!(status, 404);
    let (status, page) = get(&s, &format!("/api/v1/visitors/{}/chats", v3.id), Some(&sup)).await;
    assert_eq!((status, ids(&page)), (200, vec![c3.clone()]));

    // Participations and presences.
    let (status, p) = get(
        &s,
        &format!("/api/v1/chats/{c1}/participations"),
        Some(&sup),
    )
    .await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["results"][0]["staff"]["id"], json!(a.id), "{p}");
    assert!(p["results"][0]["joined_at"].is_i64(), "{p}");
    let (_, p) = get(&s, &format!("/api/v1/chats/{c2}/presences"), Some(&sup)).await;
    assert_eq!(
        p["results"],
        json!([]),
        "nobody serves the waiting chat: {p}"
    );

    // Bad parameters: 400 naming the parameter, nothing else.
    for (query, name) in [
        ("status=closed", "status"),
        ("rating=meh", "rating"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("cursor=zzz", "cursor"),
        ("visitor=nobody", "visitor"),
        ("staff=1", "staff"),
        ("severity=-1", "severity"),
        ("min_message_count=x", "min_message_count"),
        ("since=yesterday", "since"),
        ("until=-5", "until"),
        ("sort=asc", "sort"),
    ] {
        let (status, body) = get(&s, &format!("/api/v1/chats?{query}"), Some(&admin)).await;
        assert_eq!(status, 400, "{query}: {body}");
        let msg = body["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(name), "{query}: {msg}");
    }
    let (status, _) = get(&s, "/api/v1/chats", None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn paging_through_250_chats_has_no_gap_or_repeat_while_new_chats_arrive() {
    let s = Server::start_with(Options {
        config: Some("visitor_creations_per_minute = 100000\n".into()),
        ..Default::default()
    });
    let admin = admin(&s).await;
    // Someone available, so each chat waits in the queue (and the visitor hears its id).
    let _agent = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    async fn chat(s: &Server, n: usize) -> String {
        let v = visitor(s, Transport::Ws, &format!("Visitor {n}")).await;
        assert_eq!(v.c.emit("visitor_msg", text("hello")).await, ok());
        let id = v.c.next("queue_position").await["chat_id"]
            .as_str()
            .unwrap()
            .to_string();
        v.c.disconnect().await;
        id
    }
    let mut made = HashSet::new();
    for n in 0..250 {
        made.insert(chat(&s, n).await);
    }
    let mut seen: Vec<String> = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = match &cursor {
            Some(c) => format!("/api/v1/chats?limit=100&cursor={c}"),
            None => "/api/v1/chats?limit=100".to_string(),
        };
        let (status, page) = get(&s, &q, Some(&admin)).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(ids(&page));
        pages += 1;
        // New chats arrive between pages: they are newer than every cursor, so later pages
        // neither repeat nor skip anything.
        for n in 0..3 {
            chat(&s, 1000 + pages * 10 + n).await;
        }
        match page["next"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 10, "the pages never end");
    }
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "a chat was listed twice");
    assert_eq!(unique, made, "the pages are not exactly the 250 chats");
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn search_finds_words_for_whoever_may_see_them_and_never_a_note_for_a_visitor() {
    let s = Server::start();
    let admin = admin(&s).await;
    let a = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    let b = staff(&s, Transport::SocketIo, "b@shop.test", "agent").await;
    let v1 = visitor(&s, Transport::Ws, "Vera").await;
    let c1 = claimed(&a, &v1, "My parcel went to the Café next door").await;
    let note = json!({"visitor": v1.id, "content": text("refund approved by finance")});
    assert_eq!(a.c.emit("staff_note", note).await, ok());
    let v2 = visitor(&s, Transport::SocketIo, "Walt").await;
    let c2 = claimed(&b, &v2, "Which parcel sizes do you ship?").await;

    async fn found(s: &Server, q: &str, token: &str) -> Vec<(String, Value)> {
        let (status, page) = get(s, &format!("/api/v1/chats?q={q}"), Some(token)).await;
        assert_eq!(status, 200, "{q}: {page}");
        page["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].as_str().unwrap().to_string(), c["hit"].clone()))
            .collect()
    }
    let ids = |hits: Vec<(String, Value)>| hits.into_iter().map(|h| h.0).collect::<HashSet<_>>();
    // Found at once (the index catches up before a search), any case, without accents.
    assert_eq!(ids(found(&s, "PARCEL", &admin).await), set(&[&c1, &c2]));
    let hits = found(&s, "cafe", &admin).await;
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].0, c1);
    assert_eq!(hits[0].1["text"], "My parcel went to the Café next door");
    assert_eq!(
        ids(found(&s, "parcel%20sizes", &admin).await),
        set(&[&c2]),
        "all words"
    );
    assert_eq!(ids(found(&s, "parcel%20zebra", &admin).await), set(&[]));
    // Within what one may see: b does not find a's chat.
    assert_eq!(ids(found(&s, "parcel", &b.token).await), set(&[&c2]));
    // Notes: staff find them; the visitor never does, not even in their own chat.
    assert_eq!(ids(found(&s, "refund", &admin).await), set(&[&c1]));
    assert_eq!(ids(found(&s, "refund", &a.token).await), set(&[&c1]));
    assert_eq!(ids(found(&s, "refund", &v1.token).await), set(&[]));
    assert_eq!(ids(found(&s, "parcel", &v1.token).await), set(&[&c1]));
    // Query syntax is just words; a search with none is refused naming `q`.
    assert_eq!(
        ids(found(&s, "parcel%20OR%20zebra", &admin).await),
        set(&[])
    );
    assert_eq!(
        ids(found(&s, "%22parcel%22*", &admin).await),
        set(&[&c1, &c2])
    );
    for bad in ["", "%20%2A", &"word%20".repeat(11)] {
        let (status, body) = get(&s, &format!("/api/v1/chats?q={bad}"), Some(&admin)).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(": q ("),
            "{body}"
        );
    }
}

#[tokio::test]
async fn search_finds_a_word_in_the_50000th_message() {
    let s = Server::start_with(Options {
        config: Some("max_events_per_sec = 1000000\n".into()),
        ..Default::default()
    });
    let admin = admin(&s).await;
    let _agent = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    let v = visitor(&s, Transport::Ws, "Vera").await;
    assert_eq!(v.c.emit("visitor_msg", text("message 1")).await, ok());
    let chat = v.c.next("queue_position").await["chat_id"]
        .as_str()
        .unwrap()
        .to_string();
    // 49,998 more, pipelined 500 at a time, then the one with the word.
    for start in (2..50_000).step_by(500) {
        let sends = (start..(start + 500).min(50_000))
            .map(|n| v.c.emit("visitor_msg", text(&format!("message {n}"))));
        for ack in futures_util::future::join_all(sends).await {
            assert_eq!(ack, ok());
        }
    }
    assert_eq!(
        v.c.emit("visitor_msg", text("the zanzibar shipment")).await,
        ok()
    );
    let (status, page) = get(&s, "/api/v1/chats?q=zanzibar", Some(&admin)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(ids(&page), vec![chat.clone()]);
    let hit = &page["results"][0]["hit"];
    assert_eq!(hit["text"], "the zanzibar shipment", "{hit}");
    let (_, last) = get(
        &s,
        &format!("/api/v1/chats/{chat}/messages?after=49999&limit=5"),
        Some(&admin),
    )
    .await;
    assert_eq!(
        hit["sequence_num"], last["results"][0]["sequence_num"],
        "{last}"
    );
    assert_eq!(page["results"][0]["visitor_message_count"], 50_000);
}

#[tokio::test]
async fn a_message_posted_over_rest_is_delivered_like_one_sent_live_and_stored_once() {
    let s = Server::start();
    let a = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    let b = staff(&s, Transport::Ws, "b@shop.test", "agent").await;
    let sup = s.staff("sup@shop.test", "supervisor").await.1;
    let v = visitor(&s, Transport::SocketIo, "Vera").await;
    let chat = claimed(&a, &v, "Hello").await;
    let path = format!("/api/v1/chats/{chat}/messages");
    let msg = json!({"content": {"content": "From the shop's system"}, "client_msg_id": "api-1"});
    let (status, body) = post(&s, &path, msg.clone(), Some(&a.token)).await;
    assert_eq!(status, 201, "{body}");
    let got = v.c.next("staff_send").await;
    assert_eq!(
        got["content"]["content"]["content"], "From the shop's system",
        "{got}"
    );
    assert_eq!(got["staff"]["id"], json!(a.id));
    // The same client id again: answered the same, stored and delivered once.
    let (status, _) = post(&s, &path, msg, Some(&a.token)).await;
    assert_eq!(status, 201);
    v.c.none("staff_send").await;
    let n: i64 = db(&s)
        .query_row(
            "SELECT count(*) FROM messages WHERE chat_id = ?1 AND client_msg_id = 'api-1'",
            [&chat],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    // The visitor writes over REST too; the agent hears it as a visitor message.
    let (status, body) = post(
        &s,
        &path,
        json!({"content": {"content": "Thanks"}}),
        Some(&v.token),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let got = a.c.next("visitor_send").await;
    assert_eq!(got["content"]["content"]["content"], "Thanks", "{got}");
    // History both ways: forwards from 0, backwards from the end.
    let (_, fwd) = get(&s, &format!("{path}?after=0&limit=2"), Some(&sup)).await;
    let (_, back) = get(&s, &format!("{path}?before=1000&limit=2"), Some(&sup)).await;
    let texts = |p: &Value| chat_texts(&p["results"]);
    assert_eq!(texts(&fwd), ["Hello"], "{fwd}");
    assert_eq!(texts(&back), ["From the shop's system", "Thanks"], "{back}");
    let before = back["next"].as_str().unwrap();
    let (_, older) = get(&s, &format!("{path}?before={before}&limit=2"), Some(&sup)).await;
    assert!(
        chat_texts(&older["results"]).contains(&"Hello".to_string()),
        "{older}"
    );
    // Refused: someone who cannot see the chat (404), staff who see it but do not serve it
    // (403), bad bodies (400, nothing stored).
    let ok_body = json!({"content": {"content": "x"}});
    let (status, _) = post(&s, &path, ok_body.clone(), Some(&b.token)).await;
    assert_eq!(status, 404);
    let (status, body) = post(&s, &path, ok_body, Some(&sup)).await;
    assert_eq!(status, 403, "{body}");
    for (bad, word) in [
        (json!({"content": "plain text"}), "content"),
        (json!({}), "content"),
        (
            json!({"content": {"content": "x"}, "client_msg_id": ""}),
            "client_msg_id",
        ),
        (json!({"content": {"content": "x"}, "to": "all"}), "to"),
    ] {
        let (status, body) = post(&s, &path, bad.clone(), Some(&a.token)).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(word),
            "{body}"
        );
    }
    v.c.none("staff_send").await;
    // Once the chat has ended: 409.
    assert_eq!(v.c.emit("visitor_leave_room", Value::Null).await, ok());
    let (status, body) = post(
        &s,
        &path,
        json!({"content": {"content": "late"}}),
        Some(&a.token),
    )
    .await;
    assert_eq!(status, 409, "{body}");
}
