//! Email over SMTP (issue 15): a real SMTP server on loopback, started here (`Sink`), receives
//! what the real binary sends; the emails are parsed (headers, both MIME parts, decoded as
//! lettre encodes them) and checked exactly: recipients, subject, both parts, the console link;
//! retries when the server refuses then accepts, with the status admins read; nothing sent
//! when email is off; STARTTLS and implicit TLS really insist on TLS; the settings refuse bad
//! values naming the key and never show the password.

use crate::conv::db;
use crate::harness::*;
use crate::rt::*;
use crate::smtp_sink::{parse, Sink};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn fast_retries() -> Options {
    Options {
        config: Some("email_retry_first_ms = 100\n".into()),
        ..Default::default()
    }
}

async fn admin(s: &Server) -> String {
    s.staff("admin@shop.test", "admin").await.1
}

/// A visitor with a name and an email address, connected over `/ws`: (chat's visitor id,
/// client).
async fn visitor_with_email(s: &Server) -> (String, Client) {
    let (st, v) = post(
        s,
        "/api/v1/visitors",
        json!({"name": "Eve", "email": "eve@example.test"}),
        None,
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let id = v["visitor"]["id"].as_str().unwrap().to_string();
    let c = Client::connect(s, Transport::Ws, v["access_token"].as_str().unwrap()).await;
    c.next("visitor_init").await;
    (id, c)
}

fn chat_id_of(s: &Server, visitor: &str) -> String {
    db(s)
        .query_row(
            "SELECT id FROM chats WHERE visitor_id = ?1",
            [visitor],
            |r| r.get(0),
        )
        .expect("the visitor's chat")
}

async fn status(s: &Server, admin: &str) -> Value {
    let (st, v) = get(s, "/api/v1/email/status", Some(admin)).await;
    assert_eq!(st, 200, "{v}");
    v
}

#[tokio::test]
async fn a_message_left_while_nobody_is_there_emails_the_staff_list_once_per_chat() {
    let sink = Sink::start(0).await;
    let s = Server::start_with(fast_retries());
    let admin = admin(&s).await;
    let url = format!(
        "smtp://fd%40shop.test:s3cr%3At@127.0.0.1:{}?tls=none",
        sink.port
    );
    let shown = set_settings(
        &s,
        &admin,
        json!({"smtp_url": url, "email_from": "Shop Support <support@shop.test>",
               "notify_emails": ["owner@shop.test", "Bob <bob@shop.test>"]}),
    )
    .await;
    // Sent back as shown (masked), the password stays the stored one: the login below uses it.
    set_settings(&s, &admin, json!({"smtp_url": shown["smtp_url"]})).await;

    let (vid, v) = visitor_with_email(&s).await;
    assert_eq!(
        v.emit("visitor_msg", text("Hello <b>there</b> & bye\nline two"))
            .await,
        ok()
    );
    v.next("no_staff_available").await;
    assert_eq!(v.emit("visitor_msg", text("anyone?")).await, ok());
    let mails = sink.wait_for(1).await;
    // Once per chat, not per message.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.mails().len(), 1, "{:?}", sink.mails());
    let m = &mails[0];
    assert_eq!(m.from, "support@shop.test");
    assert_eq!(m.rcpt, ["owner@shop.test", "bob@shop.test"]);
    assert_eq!(
        m.auth,
        Some(("fd@shop.test".to_string(), "s3cr:t".to_string()))
    );
    let p = parse(m);
    assert_eq!(p.headers["subject"], "New message from Eve (Frontdesk)");
    assert_eq!(
        p.headers["from"], "\"Shop Support\" <support@shop.test>",
        "{:?}",
        p.headers
    );
    assert!(
        p.headers["to"].contains("owner@shop.test") && p.headers["to"].contains("<bob@shop.test>")
    );
    let link = s.url(&format!("/console/#chat={}", chat_id_of(&s, &vid)));
    let want_text = format!(
        "Eve left a message\n\n\
         Eve <eve@example.test> wrote while nobody was available. The chat waits in the offline \
         queue of the console.\n\n\
         > Hello <b>there</b> & bye\n> line two\n\n\
         Open the chat: {link}\n\n-- \n\
         You get this email because your address is on Frontdesk's list of staff told about \
         messages left while nobody is available (Settings, Email).\n"
    );
    assert_eq!(format!("{}\n", p.text.trim_end()), want_text);
    assert!(
        p.html
            .contains("Hello &lt;b&gt;there&lt;/b&gt; &amp; bye\nline two</blockquote>"),
        "{}",
        p.html
    );
    assert!(!p.html.contains("<b>there"), "{}", p.html);
    assert!(
        p.html.contains(&format!("<a href=\"{link}\"")),
        "{}",
        p.html
    );
    assert!(
        p.html.contains("Eve &lt;eve@example.test&gt; wrote"),
        "{}",
        p.html
    );
    let st = status(&s, &admin).await;
    assert_eq!(st["offline_message"]["ok"], true, "{st}");
    assert_eq!(st["offline_message"]["attempts"], 1, "{st}");
    assert!(st["offline_message"].get("error").is_none(), "{st}");
    assert!(!s.log().contains("s3cr"), "the password in the log");
}

#[tokio::test]
async fn refused_emails_are_retried_and_the_outcome_is_shown_to_admins() {
    // Three refusals: the test email (tried once) takes one, the offline email two, and its
    // third try goes through.
    let sink = Sink::start(3).await;
    let s = Server::start_with(fast_retries());
    let admin = admin(&s).await;
    set_settings(
        &s,
        &admin,
        json!({"smtp_url": sink.url(), "email_from": "support@shop.test",
               "notify_emails": ["owner@shop.test"]}),
    )
    .await;
    let (st, v) = post(
        &s,
        "/api/v1/email/test",
        json!({"to": "me@shop.test"}),
        Some(&admin),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["ok"], false, "{v}");
    let why = v["error"].as_str().unwrap_or("");
    assert!(
        why.contains("try again later") && why.contains("451"),
        "{v}"
    );
    let st = status(&s, &admin).await;
    assert_eq!(st["test"]["ok"], false, "{st}");
    assert_eq!(st["test"]["attempts"], 1, "{st}");

    let (_, vis) = visitor_with_email(&s).await;
    assert_eq!(vis.emit("visitor_msg", text("hi")).await, ok());
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].rcpt, ["owner@shop.test"]);
    // The status is recorded right after the server's answer.
    let end = Instant::now() + Duration::from_secs(5);
    let st = loop {
        let st = status(&s, &admin).await;
        if st["offline_message"]["ok"] == true || Instant::now() > end {
            break st;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(st["offline_message"]["ok"], true, "{st}");
    assert_eq!(st["offline_message"]["attempts"], 3, "{st}");

    // Now the server accepts: the test email goes through, with both parts.
    let (_, v) = post(
        &s,
        "/api/v1/email/test",
        json!({"to": "Me <me@shop.test>"}),
        Some(&admin),
    )
    .await;
    assert_eq!(v, json!({"ok": true}));
    let mails = sink.wait_for(2).await;
    assert_eq!(mails[1].rcpt, ["me@shop.test"]);
    let p = parse(&mails[1]);
    assert_eq!(p.headers["subject"], "Test email from Frontdesk");
    assert!(p.text.contains("the SMTP settings are right"), "{}", p.text);
    assert!(p.html.contains("the SMTP settings are right"), "{}", p.html);
    assert_eq!(status(&s, &admin).await["test"]["ok"], true);
}

#[tokio::test]
async fn nothing_is_sent_when_email_is_off_or_nobody_is_on_the_list() {
    let sink = Sink::start(0).await;
    let s = Server::start_with(fast_retries());
    let admin = admin(&s).await;
    // No SMTP URL: off.
    set_settings(
        &s,
        &admin,
        json!({"email_from": "support@shop.test", "notify_emails": ["owner@shop.test"]}),
    )
    .await;
    let (_, v) = post(
        &s,
        "/api/v1/email/test",
        json!({"to": "me@shop.test"}),
        Some(&admin),
    )
    .await;
    assert_eq!(
        v,
        json!({"ok": false, "error": "Email is off: set smtp_url first."})
    );
    let (_, a) = visitor_with_email(&s).await;
    assert_eq!(a.emit("visitor_msg", text("hi")).await, ok());
    a.next("no_staff_available").await;
    // An SMTP URL but nobody on the list.
    set_settings(
        &s,
        &admin,
        json!({"smtp_url": sink.url(), "notify_emails": []}),
    )
    .await;
    let (_, b) = visitor_with_email(&s).await;
    assert_eq!(b.emit("visitor_msg", text("hello")).await, ok());
    b.next("no_staff_available").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.connections.load(Ordering::SeqCst), 0);
    assert!(status(&s, &admin).await.get("offline_message").is_none());
}

#[tokio::test]
async fn starttls_and_implicit_tls_never_fall_back_to_plain_text() {
    let sink = Sink::start(0).await;
    let s = Server::start();
    let admin = admin(&s).await;
    // smtp:// without ?tls= means STARTTLS, required: this server does not offer it.
    set_settings(
        &s,
        &admin,
        json!({"smtp_url": format!("smtp://u:pw@127.0.0.1:{}", sink.port),
               "email_from": "support@shop.test"}),
    )
    .await;
    let (_, v) = post(
        &s,
        "/api/v1/email/test",
        json!({"to": "me@shop.test"}),
        Some(&admin),
    )
    .await;
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains(&format!("127.0.0.1:{}", sink.port)),
        "{v}"
    );
    assert!(!v["error"].as_str().unwrap().contains("pw"), "{v}");
    // smtps://: TLS from the first byte (a ClientHello, record type 22), never SMTP.
    set_settings(
        &s,
        &admin,
        json!({"smtp_url": format!("smtps://127.0.0.1:{}", sink.port)}),
    )
    .await;
    let (_, v) = post(
        &s,
        "/api/v1/email/test",
        json!({"to": "me@shop.test"}),
        Some(&admin),
    )
    .await;
    assert_eq!(v["ok"], false, "{v}");
    assert!(sink.mails().is_empty());
    let first = sink.first_bytes.lock().unwrap().clone();
    assert_eq!(first.len(), 2, "{first:?}");
    assert!(first[0].starts_with(b"EHLO "), "{first:?}");
    assert_eq!(
        first[1].first(),
        Some(&22u8),
        "not a TLS handshake: {:?}",
        first[1]
    );
}

#[tokio::test]
async fn email_settings_refuse_bad_values_by_name_and_never_show_the_password() {
    let s = Server::start();
    let admin = admin(&s).await;
    for (body, key) in [
        (json!({"smtp_url": "http://mail.shop.test"}), "smtp_url"),
        (json!({"smtp_url": "smtp://h?tls=maybe"}), "smtp_url"),
        (json!({"smtp_url": 25}), "smtp_url"),
        (json!({"email_from": "support"}), "email_from"),
        (json!({"notify_emails": "a@shop.test"}), "notify_emails"),
        (
            json!({"notify_emails": ["a@shop.test", "b"]}),
            "notify_emails",
        ),
        (
            json!({"notify_emails": vec!["a@shop.test"; 21]}),
            "notify_emails",
        ),
    ] {
        let (st, v) = patch(&s, "/api/v1/settings", body.clone(), Some(&admin)).await;
        assert_error(st, &v, 400);
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(key), "{body}: {msg}");
    }
    set_settings(
        &s,
        &admin,
        json!({"smtp_url": "smtps://mailer:hunter2-secret@mail.shop.test",
               "email_from": "Shop <support@shop.test>", "notify_emails": ["a@shop.test"]}),
    )
    .await;
    let (agent_id, agent) = s.staff("agent@shop.test", "agent").await;
    let _ = agent_id;
    for token in [&admin, &agent] {
        let (st, v) = get(&s, "/api/v1/settings", Some(token)).await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(
            v["smtp_url"], "smtps://mailer:********@mail.shop.test",
            "{v}"
        );
        assert_eq!(v["email_from"], "Shop <support@shop.test>", "{v}");
        assert_eq!(v["notify_emails"], json!(["a@shop.test"]), "{v}");
        assert!(!v.to_string().contains("hunter2"), "{v}");
    }
    // Sent back masked: the stored password stays.
    set_settings(
        &s,
        &admin,
        json!({"smtp_url": "smtps://mailer:********@mail.shop.test"}),
    )
    .await;
    let stored: String = db(&s)
        .query_row(
            "SELECT value FROM settings WHERE key = 'smtp_url'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(stored.contains("hunter2-secret"), "{stored}");
    assert!(!s.log().contains("hunter2"));
    // Only admins test or read the status.
    let (st, v) = post(
        &s,
        "/api/v1/email/test",
        json!({"to": "a@shop.test"}),
        Some(&agent),
    )
    .await;
    assert_error(st, &v, 403);
    let (st, v) = get(&s, "/api/v1/email/status", Some(&agent)).await;
    assert_error(st, &v, 403);
    let (st, v) = post(
        &s,
        "/api/v1/email/test",
        json!({"to": "nope"}),
        Some(&admin),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["ok"], false);
    assert!(v["error"].as_str().unwrap().starts_with("to: "), "{v}");
    // Turned off.
    let v = set_settings(&s, &admin, json!({"smtp_url": null})).await;
    assert_eq!(v["smtp_url"], Value::Null);
}

#[tokio::test]
async fn an_email_waiting_for_its_retry_is_sent_after_a_crash_and_a_restart() {
    let sink = Sink::start(1).await;
    // The second try would come in ten minutes: only the restart can send it in time.
    let mut s = Server::start_with(Options {
        config: Some("email_retry_first_ms = 600000\n".into()),
        ..Default::default()
    });
    let admin = admin(&s).await;
    set_settings(
        &s,
        &admin,
        json!({"smtp_url": sink.url(), "email_from": "support@shop.test",
               "notify_emails": ["owner@shop.test"]}),
    )
    .await;
    let (_, v) = visitor_with_email(&s).await;
    assert_eq!(
        v.emit("visitor_msg", text("left before the crash")).await,
        ok()
    );
    let end = Instant::now() + Duration::from_secs(10);
    let st = loop {
        let st = status(&s, &admin).await;
        if st["offline_message"]["attempts"] == 1 || Instant::now() > end {
            break st;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(st["offline_message"]["ok"], false, "{st}");
    let waiting: i64 = db(&s)
        .query_row("SELECT attempts FROM email_outbox", [], |r| r.get(0))
        .expect("the email waits in the outbox table");
    assert_eq!(waiting, 1);
    assert!(sink.mails().is_empty());
    drop(v);
    s.kill9();
    s.restart();
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].rcpt, ["owner@shop.test"]);
    let p = parse(&mails[0]);
    assert_eq!(p.headers["subject"], "New message from Eve (Frontdesk)");
    assert!(p.text.contains("> left before the crash\n"), "{}", p.text);
    let admin = s.login("admin@shop.test").await;
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let st = status(&s, &admin).await;
        let left: i64 = db(&s)
            .query_row("SELECT COUNT(*) FROM email_outbox", [], |r| r.get(0))
            .unwrap();
        if (st["offline_message"]["ok"] == true && left == 0) || Instant::now() > end {
            assert_eq!(st["offline_message"]["attempts"], 2, "{st}");
            assert_eq!(left, 0, "a sent email leaves the outbox table");
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.mails().len(), 1, "sent once");
}
