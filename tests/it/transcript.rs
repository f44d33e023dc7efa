//! Issue 16, transcripts (product.md §8.1): `GET /api/v1/chats/{id}/transcript?format=txt|json`
//! for a chat made over the socket protocol: the text form (header, one line per message,
//! the file with its address, joins in brackets) and the JSON form, internal notes only for
//! staff who ask, and the chat's visibility rule (a visitor their own, an agent who never served
//! it nothing: 404 as if it did not exist).

use crate::conv::*;
use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};

const SECRET: &str = "note: refund approved quietly";
const BOUNDARY: &str = "----frontdesk-transcript-3c1a";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

/// The transcript with its status, Content-Type, Content-Disposition and body text.
async fn fetch(s: &Server, token: &str, chat: &str, query: &str) -> (u16, String, String, String) {
    let r = http()
        .get(s.url(&format!("/api/v1/chats/{chat}/transcript{query}")))
        .header("Authorization", token)
        .send()
        .await
        .expect("transcript");
    let header = |n: &str| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (ct, cd) = (header("content-type"), header("content-disposition"));
    let status = r.status().as_u16();
    (status, ct, cd, r.text().await.unwrap_or_default())
}

async fn upload(s: &Server, token: &str, chat_id: &str) -> Value {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"invoice.pdf\"\
         \r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(PDF);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let r = http()
        .post(s.url(&format!("/api/v1/chats/{chat_id}/attachments")))
        .header("Authorization", token)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body)
        .send()
        .await
        .expect("upload");
    let (status, got) = into_json(r).await;
    assert_eq!(status, 201, "{got}");
    got
}

#[tokio::test]
async fn transcripts_in_both_formats_with_notes_only_for_staff_who_ask() {
    let s = Server::start();
    let a = staff(&s, Transport::Ws, "ann@shop.test", "agent").await;
    let b = staff(&s, Transport::SocketIo, "bob@shop.test", "agent").await;
    let v = visitor(&s, Transport::SocketIo, "Vera").await;
    let chat = claimed(&a, &v, "Where is my parcel?\nOrder 42").await;
    let reply = json!({"visitor": v.id, "content": text("It ships today.")});
    assert_eq!(a.c.emit("staff_msg", reply).await, ok());
    let note = json!({"visitor": v.id, "content": text(SECRET)});
    assert_eq!(a.c.emit("staff_note", note).await, ok());
    let file = upload(&s, &v.token, &chat).await;
    let url = file["attachment"]["url"].as_str().expect("url").to_string();
    assert_eq!(v.c.emit("visitor_msg", text("Thanks, Ann!")).await, ok());
    // Every message is stored once the sender's ack came; the file once the upload answered.
    let me = get(&s, "/api/v1/me", Some(&a.token)).await.1;
    let me = &me["staff"];
    let ann = me["display_name"]
        .as_str()
        .or(me["full_name"].as_str())
        .expect("a name");

    // The text form, for the visitor (the default format).
    let (status, ct, cd, body) = fetch(&s, &v.token, &chat, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ct, "text/plain; charset=utf-8");
    assert_eq!(cd, format!("attachment; filename=\"chat-{chat}.txt\""));
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[0].starts_with("Chat transcript, "), "{body}");
    assert!(lines.contains(&format!("Chat: {chat}").as_str()), "{body}");
    assert!(lines.contains(&"Visitor: Vera"), "{body}");
    assert!(lines.contains(&"Ended: (still open)"), "{body}");
    let started = lines
        .iter()
        .find_map(|l| l.strip_prefix("Started: "))
        .unwrap_or_else(|| panic!("no start: {body}"));
    // UTC ISO 8601 to the second, e.g. 2026-12-01T01:43:30Z.
    assert!(
        started.len() == 20 && started.ends_with('Z') && &started[10..11] == "T",
        "{started}"
    );
    let said: Vec<&str> = lines
        .iter()
        .filter(|l| l.starts_with('['))
        .map(|l| l.split_once("] ").expect("[time] line").1)
        .collect();
    assert_eq!(
        said,
        [
            "Vera: Where is my parcel?",
            &format!("({ann} joined the chat)"),
            &format!("{ann}: It ships today."),
            &format!("Vera: invoice.pdf ({url})"),
            "Vera: Thanks, Ann!",
        ],
        "{body}"
    );
    // A message's second line is indented under it.
    assert!(body.contains("Where is my parcel?\n  Order 42\n"), "{body}");
    assert!(
        !body.contains(SECRET),
        "a visitor never reads a note: {body}"
    );

    // Staff without include_notes: no note either; with it, the note in its place.
    let (_, _, _, plain) = fetch(&s, &a.token, &chat, "?format=txt").await;
    assert!(!plain.contains(SECRET), "{plain}");
    let (status, _, _, with) = fetch(&s, &a.token, &chat, "?include_notes=true").await;
    assert_eq!(status, 200, "{with}");
    assert!(
        with.contains(&format!("] {ann} (internal note): {SECRET}\n")),
        "{with}"
    );
    // A visitor may not ask for notes at all.
    let (status, _, _, body) = fetch(&s, &v.token, &chat, "?include_notes=true").await;
    assert_error(
        status,
        &serde_json::from_str(&body).unwrap_or_default(),
        403,
    );

    // The JSON form: {chat, messages} with the §5 objects, notes on the same rule.
    for (token, query, want_note) in [
        (&v.token, "?format=json", false),
        (&a.token, "?format=json", false),
        (&a.token, "?format=json&include_notes=true", true),
    ] {
        let (status, ct, _, body) = fetch(&s, token, &chat, query).await;
        assert_eq!(status, 200, "{body}");
        assert!(ct.starts_with("application/json"), "{ct}");
        let got: Value = serde_json::from_str(&body).expect("json");
        assert_eq!(got["chat"]["id"], chat.as_str());
        assert_eq!(got["chat"]["visitor"]["name"], "Vera");
        let messages = got["messages"].as_array().expect("messages");
        let seqs: Vec<i64> = messages
            .iter()
            .filter_map(|m| m["sequence_num"].as_i64())
            .collect();
        let mut sorted = seqs.clone();
        sorted.sort();
        assert_eq!(seqs, sorted, "in order");
        for m in messages {
            for key in [
                "id",
                "chat_id",
                "sequence_num",
                "type_id",
                "sender",
                "content",
                "created_at",
            ] {
                assert!(m.get(key).is_some(), "{key} missing in {m}");
            }
        }
        let notes = messages.iter().filter(|m| m["type_id"] == 3).count();
        assert_eq!(notes, usize::from(want_note), "{query}: {body}");
        assert!(
            chat_texts(&got["messages"]).contains(&"Thanks, Ann!".to_string()),
            "{body}"
        );
    }

    // Who may not: another visitor, an agent who never served it (404, as for the chat),
    // nobody without a token (401).
    let (_, other) = s.visitor(Some("Otto")).await;
    for token in [&other, &b.token] {
        let (status, _, _, body) = fetch(&s, token, &chat, "").await;
        assert_error(
            status,
            &serde_json::from_str(&body).unwrap_or_default(),
            404,
        );
        assert_eq!(
            get(&s, &format!("/api/v1/chats/{chat}"), Some(token))
                .await
                .0,
            404
        );
    }
    let (status, _) = get(&s, &format!("/api/v1/chats/{chat}/transcript"), None).await;
    assert_eq!(status, 401);
    let missing = "0123456789abcdef0123456789abcdef";
    let (status, _, _, _) = fetch(&s, &a.token, missing, "").await;
    assert_eq!(status, 404);

    // A bad format or flag is 400, naming the parameter.
    for (query, names) in [
        ("?format=pdf", "format"),
        ("?include_notes=yes", "include_notes"),
        ("?colour=red", "colour"),
    ] {
        let (status, _, _, body) = fetch(&s, &a.token, &chat, query).await;
        let got: Value = serde_json::from_str(&body).unwrap_or_default();
        assert_error(status, &got, 400);
        let msg = got["error"]["message"].as_str().unwrap_or("");
        assert!(msg.contains(names), "{query}: {msg}");
    }

    // Once ended, the header says when.
    assert_eq!(v.c.emit("visitor_leave_room", Value::Null).await, ok());
    let (_, _, _, body) = fetch(&s, &v.token, &chat, "").await;
    let ended = body
        .lines()
        .find_map(|l| l.strip_prefix("Ended: "))
        .unwrap_or("");
    assert!(ended.len() == 20 && ended.ends_with('Z'), "{body}");
    assert!(body.contains("(Vera left the chat)"), "{body}");
}
