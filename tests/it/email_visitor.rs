//! Email to visitors (issue 15, product.md §8.10), against a real SMTP server on loopback
//! (`Sink`): the replies a visitor missed while away (once per batch, never while connected or
//! once read, never without an address), with a resume link that is followed here — exchanged
//! for a visitor token and used over `/ws`, where `visitor_init` has the chat and the reply —
//! and refused when tampered with or expired; the transcript asked for at the end of a chat
//! (every message the visitor could see, never notes; once per chat; refusals with a
//! sentence). Every email: exact recipients and subject, both parts, the business's name and
//! colour (from the widget setting), user content escaped in the HTML part.

use crate::conv::{claimed, db};
use crate::harness::*;
use crate::rt::*;
use crate::smtp_sink::{parse, Parsed, Sink};
use serde_json::{json, Value};
use std::time::Duration;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
const BOUNDARY: &str = "----frontdesk-email-test";

/// A server whose email goes to `sink`, replies emailed after 1 s, the business "Blue & Co"
/// in #123abc; and an admin token.
async fn server(sink: &Sink) -> (Server, String) {
    let s = Server::start_with(Options {
        config: Some("email_retry_first_ms = 100\n".into()),
        ..Default::default()
    });
    let admin = s.staff("admin@shop.test", "admin").await.1;
    set_settings(
        &s,
        &admin,
        json!({"smtp_url": sink.url(), "email_from": "Blue Support <support@shop.test>",
               "email_reply_after_secs": 1,
               "widget": {"title": "Blue & Co", "color": "#123ABC"}}),
    )
    .await;
    (s, admin)
}

/// A visitor who gave a name and (maybe) an address, connected over `/ws`.
async fn visitor_with(s: &Server, email: Option<&str>) -> Party {
    let mut body = json!({"name": "Eve"});
    if let Some(e) = email {
        body["email"] = json!(e);
    }
    let (st, v) = post(s, "/api/v1/visitors", body, None).await;
    assert_eq!(st, 201, "{v}");
    let token = v["access_token"].as_str().unwrap().to_string();
    let c = Client::connect(s, Transport::Ws, &token).await.named("Eve");
    c.next("visitor_init").await;
    Party {
        id: v["visitor"]["id"].as_str().unwrap().to_string(),
        token,
        c,
    }
}

async fn reply(agent: &Party, vid: &str, words: &str) {
    let ack = agent
        .c
        .emit("staff_msg", json!({"visitor": vid, "content": text(words)}))
        .await;
    assert_eq!(ack, ok(), "{words}");
}

/// The brand in both parts: the name, and the colour heading the HTML.
fn assert_branded(p: &Parsed) {
    assert!(p.text.contains("Blue & Co"), "{}", p.text);
    assert!(p.html.contains("Blue &amp; Co"), "{}", p.html);
    assert!(p.html.contains("background:#123abc"), "{}", p.html);
    assert!(!p.html.contains("Frontdesk"), "{}", p.html);
}

/// The resume link's token in the text part.
fn resume_token(s: &Server, p: &Parsed) -> String {
    let prefix = s.url("/chat/?resume=");
    let at = p
        .text
        .find(&prefix)
        .unwrap_or_else(|| panic!("no link: {}", p.text));
    let token: String = p.text[at + prefix.len()..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    assert_eq!(token.len(), 64, "{}", p.text);
    assert!(
        p.html.contains(&format!("<a href=\"{prefix}{token}\"")),
        "{}",
        p.html
    );
    token
}

/// Waits `secs` and checks the sink still has `n` emails.
async fn still(sink: &Sink, n: usize, secs: u64, why: &str) {
    tokio::time::sleep(Duration::from_secs(secs)).await;
    assert_eq!(sink.mails().len(), n, "{why}: {:?}", sink.mails());
}

#[tokio::test]
async fn a_reply_the_visitor_missed_is_emailed_once_and_its_link_resumes_the_chat() {
    let sink = Sink::start(0).await;
    let (s, admin) = server(&sink).await;
    let agent = staff(&s, Transport::Ws, "ann@shop.test", "agent").await;
    let v = visitor_with(&s, Some("eve@example.test")).await;
    let chat_id = claimed(&agent, &v, "Where is my order?").await;
    let vid = v.id.clone();
    v.c.disconnect().await;
    reply(&agent, &vid, "It ships <today> & \"soon\"").await;
    let note = json!({"visitor": vid, "content": text("internal: refund?")});
    assert_eq!(agent.c.emit("staff_note", note).await, ok());
    reply(&agent, &vid, "Anything else?").await;

    let mails = sink.wait_for(1).await;
    let m = &mails[0];
    assert_eq!(m.from, "support@shop.test");
    assert_eq!(m.rcpt, ["eve@example.test"]);
    let p = parse(m);
    assert_eq!(
        p.headers["subject"],
        "ann@shop.test replied to you (Blue & Co)"
    );
    assert!(
        p.headers["to"].contains("<eve@example.test>"),
        "{:?}",
        p.headers
    );
    assert_branded(&p);
    let token = resume_token(&s, &p);
    let link = s.url(&format!("/chat/?resume={token}"));
    let want = format!(
        "ann@shop.test replied\n\n\
         While you were away, we answered in your chat with Blue & Co.\n\n\
         > ann@shop.test: It ships <today> & \"soon\"\n\
         > ann@shop.test: Anything else?\n\n\
         Continue the conversation: {link}\n\n-- \n\
         You get this email because you gave this address in a chat with Blue & Co and a \
         reply came while you were away. The link works for 7 days, on any device.\n"
    );
    assert_eq!(format!("{}\n", p.text.trim_end()), want);
    assert!(
        p.html
            .contains("It ships &lt;today&gt; &amp; &quot;soon&quot;"),
        "{}",
        p.html
    );
    assert!(!p.html.contains("<today>"), "{}", p.html);
    for part in [&p.text, &p.html] {
        assert!(
            !part.contains("refund"),
            "a note reached the visitor: {part}"
        );
        assert!(!part.contains("Where is my order"), "not a reply: {part}");
    }
    still(&sink, 1, 3, "the same replies are emailed once").await;
    let (_, st) = get(&s, "/api/v1/email/status", Some(&admin)).await;
    assert_eq!(st["visitor_replies"]["ok"], true, "{st}");
    assert_eq!(st["visitor_replies"]["attempts"], 1, "{st}");

    // The link, followed on another device: a visitor token for the same visitor and chat.
    let (st, r) = post(&s, "/api/v1/visitors/resume", json!({"token": token}), None).await;
    assert_eq!(st, 201, "{r}");
    assert_eq!(r["visitor"]["id"], vid.as_str(), "{r}");
    assert_eq!(r["chat_id"], chat_id.as_str(), "{r}");
    let back = Client::connect(&s, Transport::Ws, r["access_token"].as_str().unwrap()).await;
    let init = back.next("visitor_init").await;
    let texts = crate::conv::chat_texts(&init["contents"]);
    assert_eq!(
        texts,
        [
            "Where is my order?",
            "It ships <today> & \"soon\"",
            "Anything else?"
        ],
        "{init}"
    );
    assert_eq!(init["staff"]["id"], agent.id.as_str(), "{init}");
    // Back and connected: a reply now is seen live, not emailed...
    reply(&agent, &vid, "Here now?").await;
    let seen = back.next("staff_send").await;
    still(&sink, 1, 3, "no email while the visitor is connected").await;
    // ...and once read, leaving sends nothing either.
    let seq = seen["content"]["sequence_num"]
        .as_i64()
        .expect("sequence_num");
    let read = json!({"sequence_num": seq});
    assert_eq!(back.emit("message_read", read).await, ok());
    back.disconnect().await;
    still(&sink, 1, 3, "no email for a reply the visitor read").await;
    // A new reply after the email, unseen: a new email with that reply only.
    reply(&agent, &vid, "We are closing soon.").await;
    let mails = sink.wait_for(2).await;
    let p2 = parse(&mails[1]);
    assert!(
        p2.text.contains("> ann@shop.test: We are closing soon.\n"),
        "{}",
        p2.text
    );
    assert!(!p2.text.contains("It ships"), "{}", p2.text);
    assert!(!p2.text.contains("Here now?"), "read already: {}", p2.text);
    let token2 = resume_token(&s, &p2);
    assert_ne!(token, token2);

    // A tampered link and an expired one are refused with a sentence; neither gives a token.
    let mut bad = token.clone().into_bytes();
    bad[10] = if bad[10] == b'a' { b'b' } else { b'a' };
    let bad = String::from_utf8(bad).unwrap();
    for t in [bad.as_str(), "nope", ""] {
        let (st, r) = post(&s, "/api/v1/visitors/resume", json!({"token": t}), None).await;
        assert_error(st, &r, 401);
        assert!(r.get("access_token").is_none(), "{r}");
    }
    let rw = rusqlite::Connection::open(s.data.join("frontdesk.db")).unwrap();
    rw.busy_timeout(Duration::from_secs(10)).unwrap();
    let n = rw
        .execute("UPDATE resume_links SET expires_at = ?1", [now_ms() - 1])
        .unwrap();
    assert_eq!(n, 2, "each link is kept (hashed)");
    let (st, r) = post(
        &s,
        "/api/v1/visitors/resume",
        json!({"token": token2}),
        None,
    )
    .await;
    assert_error(st, &r, 401);
    assert!(
        r["error"]["message"].as_str().unwrap().contains("7 days"),
        "{r}"
    );
    // Kept as hashes: the token itself is nowhere in the database.
    let stored: Vec<u8> = db(&s)
        .query_row("SELECT token_hash FROM resume_links LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored.len(), 32);
}

#[tokio::test]
async fn no_reply_email_while_connected_without_an_address_or_with_the_setting_off() {
    let sink = Sink::start(0).await;
    let (s, admin) = server(&sink).await;
    let agent = staff(&s, Transport::Ws, "ann@shop.test", "agent").await;
    // Connected the whole time, the reply unread: nothing.
    let a = visitor_with(&s, Some("a@example.test")).await;
    claimed(&agent, &a, "hi").await;
    reply(&agent, &a.id, "hello A").await;
    a.c.next("staff_send").await;
    // No address given: nothing, even away.
    let b = visitor_with(&s, None).await;
    claimed(&agent, &b, "hi").await;
    b.c.disconnect().await;
    reply(&agent, &b.id, "hello B").await;
    still(&sink, 0, 3, "connected, or no address").await;
    // The visitor who stayed connected leaves without reading: now it is emailed, to them only.
    a.c.disconnect().await;
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].rcpt, ["a@example.test"]);
    assert!(parse(&mails[0]).text.contains("hello A"));
    still(&sink, 1, 2, "only A").await;
    // Off (0): nothing, even away with an address.
    set_settings(&s, &admin, json!({"email_reply_after_secs": 0})).await;
    let c = visitor_with(&s, Some("c@example.test")).await;
    claimed(&agent, &c, "hi").await;
    c.c.disconnect().await;
    reply(&agent, &c.id, "hello C").await;
    still(&sink, 1, 3, "email_reply_after_secs 0").await;
    // The setting is checked, naming the key.
    for bad in [json!(-1), json!(86_401), json!("300")] {
        let (st, r) = patch(
            &s,
            "/api/v1/settings",
            json!({"email_reply_after_secs": bad}),
            Some(&admin),
        )
        .await;
        assert_error(st, &r, 400);
        let msg = r["error"]["message"].as_str().unwrap();
        assert!(msg.starts_with("email_reply_after_secs"), "{msg}");
    }
}

fn form(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut b = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    b.extend_from_slice(bytes);
    b.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    b
}

async fn transcript(s: &Server, token: &str, body: Value) -> (u16, Value) {
    post(s, "/api/v1/visitors/transcript", body, Some(token)).await
}

#[tokio::test]
async fn the_transcript_asked_for_at_the_end_has_what_the_visitor_saw_once() {
    let sink = Sink::start(0).await;
    let (s, admin) = server(&sink).await;
    let agent = staff(&s, Transport::Ws, "ann@shop.test", "agent").await;
    let v = visitor_with(&s, Some("eve@example.test")).await;
    let chat_id = claimed(&agent, &v, "Do you ship <abroad>?").await;
    reply(&agent, &v.id, "Yes & fast").await;
    let note = json!({"visitor": v.id, "content": text("internal: VIP customer")});
    assert_eq!(agent.c.emit("staff_note", note).await, ok());
    let r = http()
        .post(s.url(&format!("/api/v1/chats/{chat_id}/attachments")))
        .header("Authorization", format!("Bearer {}", agent.token))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form("Prices.pdf", PDF))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{:?}", r.text().await);

    // Still open: there is no ended chat to send.
    let (st, r) = transcript(&s, &v.token, json!({})).await;
    assert_error(st, &r, 409);
    assert_eq!(r["error"]["message"], "There is no ended chat to send.");
    assert_eq!(r["error"]["code"], "no_ended_chat");
    assert_eq!(v.c.emit("visitor_leave_room", Value::Null).await, ok());
    // A bad address, or a staff token: refused, nothing sent, still once to go.
    let (st, r) = transcript(&s, &v.token, json!({"email": "not-an-address"})).await;
    assert_error(st, &r, 400);
    assert!(
        r["error"]["message"].as_str().unwrap().contains("email"),
        "{r}"
    );
    let (st, r) = transcript(&s, &agent.token, json!({})).await;
    assert_error(st, &r, 403);
    // Email off: refused with a sentence.
    set_settings(&s, &admin, json!({"smtp_url": null})).await;
    let (st, r) = transcript(&s, &v.token, json!({})).await;
    assert_error(st, &r, 409);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not send emails"),
        "{r}"
    );
    set_settings(&s, &admin, json!({"smtp_url": sink.url()})).await;

    // To another address than the one given at the start.
    let (st, r) = transcript(&s, &v.token, json!({"email": "eve@work.example"})).await;
    assert_eq!(st, 202, "{r}");
    assert_eq!(r, json!({"to": "eve@work.example"}));
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].rcpt, ["eve@work.example"]);
    let p = parse(&mails[0]);
    assert_eq!(p.headers["subject"], "Your chat transcript (Blue & Co)");
    assert_branded(&p);
    let lines: Vec<&str> = p.text.lines().filter(|l| l.starts_with("> ")).collect();
    assert_eq!(
        lines,
        [
            "> You: Do you ship <abroad>?",
            "> (ann@shop.test joined the chat)",
            "> ann@shop.test: Yes & fast",
            "> ann@shop.test: (a file: Prices.pdf, 69 bytes)",
        ],
        "{}",
        p.text
    );
    assert!(
        p.text.contains("because you asked for the transcript"),
        "{}",
        p.text
    );
    assert!(p.html.contains("Do you ship &lt;abroad&gt;?"), "{}", p.html);
    assert!(p.html.contains("Yes &amp; fast"), "{}", p.html);
    for part in [&p.text, &p.html] {
        assert!(!part.contains("VIP"), "a note in the transcript: {part}");
    }
    // Once per chat.
    let (st, r) = transcript(&s, &v.token, json!({})).await;
    assert_error(st, &r, 409);
    assert_eq!(
        r["error"]["message"],
        "The transcript of this chat was already sent (once per chat)."
    );
    assert_eq!(r["error"]["code"], "transcript_sent");
    still(&sink, 1, 2, "once per chat").await;
    let (_, st) = get(&s, "/api/v1/email/status", Some(&admin)).await;
    assert_eq!(st["transcript"]["ok"], true, "{st}");
}
