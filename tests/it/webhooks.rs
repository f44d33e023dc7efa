//! Webhooks (issue 16, product.md §8.12): a receiver on loopback, started here (`Receiver`,
//! hyper), records what the real binary posts and can answer 500 to the first requests. Each
//! POST is checked as a receiver would: the headers, the signature (HMAC-SHA256 with the secret
//! the API gave, over "<t>.<body>", worked out here with the `hmac` crate) and its timestamp,
//! and the body of each event of a real chat made over the socket protocol (started, claimed,
//! message, ended, rated; never a note). A receiver failing twice gets the delivery on the 3rd
//! attempt and the deliveries list says so; a delivery not yet made survives a restart; a
//! disabled hook or an unsubscribed event gets nothing; bad bodies are refused naming the field;
//! only admins manage hooks.

use crate::conv::{admin, claimed, delete};
use crate::harness::*;
use crate::rt::*;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};

/// One POST the receiver got.
struct Received {
    path: String,
    headers: http::HeaderMap,
    body: String,
}

impl Received {
    fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_string()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }

    /// Checks the headers and the signature with `secret`; the body as JSON.
    fn verified(&self, secret: &str) -> Value {
        assert_eq!(self.header("content-type"), "application/json");
        assert_eq!(self.header("user-agent"), "Frontdesk-Webhooks");
        let sig = self.header("frontdesk-signature");
        let (t, v1) = sig
            .strip_prefix("t=")
            .and_then(|r| r.split_once(",v1="))
            .unwrap_or_else(|| panic!("t=…,v1=…: {sig}"));
        let t: i64 = t.parse().expect("t is a number");
        let now = now_ms() / 1000;
        assert!((now - t).abs() <= 300, "t={t} is not now ({now})");
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.{}", self.body).as_bytes());
        let want = hex::encode(mac.finalize().into_bytes());
        assert_eq!(v1, want, "the signature verifies with the hook's secret");
        let body = self.json();
        assert_eq!(self.header("frontdesk-event"), body["event"], "{body}");
        assert_eq!(self.header("frontdesk-delivery"), body["id"], "{body}");
        assert!(body["created_at"].as_i64().is_some_and(|c| c > 0), "{body}");
        body
    }
}

/// A webhook receiver on loopback: answers 500 to the first `fail_first` requests, then 200.
struct Receiver {
    port: u16,
    fail_first: Arc<AtomicUsize>,
    rx: Mutex<mpsc::UnboundedReceiver<Received>>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::unbounded_channel();
        let fail = Arc::new(AtomicUsize::new(fail_first));
        let failing = fail.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (tx, failing) = (tx.clone(), failing.clone());
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: http::Request<_>| {
                        let (tx, failing) = (tx.clone(), failing.clone());
                        async move {
                            let (parts, body) = req.into_parts();
                            let body: hyper::body::Incoming = body;
                            let body = body.collect().await?.to_bytes().to_vec();
                            let fails = failing
                                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                                    n.checked_sub(1)
                                })
                                .is_ok();
                            let _ = tx.send(Received {
                                path: parts.uri.path().to_string(),
                                headers: parts.headers,
                                body: String::from_utf8(body).expect("UTF-8"),
                            });
                            let mut resp = http::Response::new(Full::new(Bytes::new()));
                            *resp.status_mut() = if fails {
                                http::StatusCode::INTERNAL_SERVER_ERROR
                            } else {
                                http::StatusCode::OK
                            };
                            Ok::<_, hyper::Error>(resp)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Receiver {
            port,
            fail_first: fail,
            rx: Mutex::new(rx),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn next(&self) -> Received {
        tokio::time::timeout(Duration::from_secs(10), self.rx.lock().await.recv())
            .await
            .expect("a webhook within 10 s")
            .expect("the receiver runs")
    }

    /// Nothing arrives for `ms`.
    async fn none(&self, ms: u64) {
        let got =
            tokio::time::timeout(Duration::from_millis(ms), self.rx.lock().await.recv()).await;
        if let Ok(Some(r)) = got {
            panic!("an unexpected webhook to {}: {}", r.path, r.body);
        }
    }
}

/// A server whose failed deliveries are retried after 100 ms, 400 ms, 2 s, ...
fn quick_retries() -> Options {
    Options {
        config: Some("webhook_retry_first_ms = 100\n".into()),
        ..Default::default()
    }
}

const ALL: [&str; 5] = [
    "chat.started",
    "chat.claimed",
    "message.created",
    "chat.ended",
    "chat.rated",
];

async fn create(s: &Server, token: &str, body: Value) -> Value {
    let (st, v) = post(s, "/api/v1/webhooks", body, Some(token)).await;
    assert_eq!(st, 201, "{v}");
    v
}

/// The hook's deliveries as the API lists them.
async fn deliveries(s: &Server, token: &str, hook: &str) -> Vec<Value> {
    let (st, v) = get(
        s,
        &format!("/api/v1/webhooks/{hook}/deliveries"),
        Some(token),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    v["results"].as_array().expect("results").clone()
}

#[tokio::test]
async fn each_event_of_a_real_chat_reaches_the_hook_signed_and_notes_never_do() {
    let s = Server::start_with(quick_retries());
    let rx = Receiver::start(0).await;
    let ad = admin(&s).await;
    let hook = create(&s, &ad, json!({"url": rx.url("/in"), "events": ALL})).await;
    let secret = hook["secret"].as_str().expect("the secret").to_string();
    assert!(secret.len() >= 32, "{secret}");

    let a = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    let v = visitor(&s, Transport::SocketIo, "Vic").await;
    let chat_id = claimed(&a, &v, "where is my order").await;
    let mut got: Vec<Value> = vec![];
    for _ in 0..3 {
        got.push(rx.next().await.verified(&secret));
    }
    assert_eq!(
        a.c.emit(
            "staff_note",
            json!({"visitor": v.id, "content": text("secret note")})
        )
        .await,
        ok()
    );
    assert_eq!(
        a.c.emit(
            "staff_msg",
            json!({"visitor": v.id, "content": text("on its way")})
        )
        .await,
        ok()
    );
    got.push(rx.next().await.verified(&secret));
    assert_eq!(v.c.emit("visitor_leave_room", Value::Null).await, ok());
    got.push(rx.next().await.verified(&secret));
    assert_eq!(
        v.c.emit("rate_chat", json!({"rating": "good", "comment": "quick"}))
            .await,
        ok()
    );
    got.push(rx.next().await.verified(&secret));
    rx.none(800).await;
    assert!(
        !got.iter().any(|b| b.to_string().contains("secret note")),
        "a note was sent: {got:?}"
    );

    let of = |event: &str| -> Vec<&Value> { got.iter().filter(|b| b["event"] == event).collect() };
    for b in &got {
        assert_eq!(b["data"]["chat"]["id"], chat_id, "{b}");
        assert_eq!(b["data"]["chat"]["visitor_id"], v.id, "{b}");
    }
    let started = of("chat.started");
    assert_eq!(started.len(), 1, "{got:?}");
    assert_eq!(started[0]["data"]["chat"]["status"], "unclaimed");
    assert_eq!(started[0]["data"]["chat"]["visitor"]["name"], "Vic");
    let claimed = of("chat.claimed");
    assert_eq!(claimed.len(), 1, "{got:?}");
    assert_eq!(claimed[0]["data"]["chat"]["status"], "claimed");
    assert_eq!(claimed[0]["data"]["staff"]["id"], a.id);
    assert!(claimed[0]["data"]["staff"]["name"].is_string());
    let messages = of("message.created");
    assert_eq!(messages.len(), 2, "{got:?}");
    let texts: Vec<String> = messages
        .iter()
        .map(|b| b["data"]["message"]["content"]["content"].to_string())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("where is my order")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains("on its way")), "{texts:?}");
    for m in &messages {
        let msg = &m["data"]["message"];
        assert_eq!(msg["chat_id"], chat_id, "{m}");
        assert!(msg["sequence_num"].as_i64().is_some_and(|n| n > 0), "{m}");
        assert_eq!(msg["type_id"], 1, "{m}");
    }
    let staff_msg = messages
        .iter()
        .find(|b| b["data"]["message"]["sender"] == a.id)
        .expect("the staff message");
    assert_eq!(staff_msg["data"]["staff"]["id"], a.id);
    let ended = of("chat.ended");
    assert_eq!(ended.len(), 1, "{got:?}");
    assert_eq!(ended[0]["data"]["chat"]["status"], "ended");
    let rated = of("chat.rated");
    assert_eq!(rated.len(), 1, "{got:?}");
    assert_eq!(
        rated[0]["data"]["rating"],
        json!({"rating": "good", "comment": "quick"})
    );

    // Every delivery is listed as delivered, once each.
    let hook_id = hook["id"].as_str().unwrap();
    let listed = deliveries(&s, &ad, hook_id).await;
    assert_eq!(listed.len(), 6, "{listed:?}");
    for d in &listed {
        assert_eq!(d["state"], "delivered", "{d}");
        assert_eq!(
            (d["attempts"].clone(), d["status"].clone()),
            (json!(1), json!(200))
        );
    }
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_delivery_on_the_third_attempt() {
    let s = Server::start_with(quick_retries());
    let rx = Receiver::start(2).await;
    let ad = admin(&s).await;
    let hook = create(
        &s,
        &ad,
        json!({"url": rx.url("/flaky"), "events": ["chat.ended"]}),
    )
    .await;
    let (id, secret) = (
        hook["id"].as_str().unwrap(),
        hook["secret"].as_str().unwrap(),
    );
    let (st, sent) = post(
        &s,
        &format!("/api/v1/webhooks/{id}/test"),
        json!({}),
        Some(&ad),
    )
    .await;
    assert_eq!(st, 202, "{sent}");
    let tries: Vec<Value> = {
        let mut t = vec![];
        for _ in 0..3 {
            t.push(rx.next().await.verified(secret));
        }
        t
    };
    for t in &tries {
        assert_eq!(t["event"], "ping");
        assert_eq!(t["id"], sent["id"], "the same delivery each time");
        assert_eq!(t["data"]["hook_id"], id);
    }
    rx.none(600).await;
    assert_eq!(rx.fail_first.load(Ordering::SeqCst), 0);
    // The outcome is written right after the attempt: poll briefly.
    let mut last = Value::Null;
    for _ in 0..50 {
        last = deliveries(&s, &ad, id).await[0].clone();
        if last["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last["state"], "delivered", "{last}");
    assert_eq!(last["attempts"], 3, "{last}");
    assert_eq!(last["status"], 200, "{last}");
    assert_eq!(last["id"], sent["id"]);
}

#[tokio::test]
async fn a_delivery_not_yet_made_is_resumed_after_a_restart() {
    // The retry waits 3 s: the server is stopped in between.
    let mut s = Server::start_with(Options {
        config: Some("webhook_retry_first_ms = 3000\n".into()),
        ..Default::default()
    });
    let rx = Receiver::start(1).await;
    let ad = admin(&s).await;
    let hook = create(
        &s,
        &ad,
        json!({"url": rx.url("/r"), "events": ["chat.ended"]}),
    )
    .await;
    let id = hook["id"].as_str().unwrap().to_string();
    let (st, sent) = post(
        &s,
        &format!("/api/v1/webhooks/{id}/test"),
        json!({}),
        Some(&ad),
    )
    .await;
    assert_eq!(st, 202, "{sent}");
    rx.next().await; // answered 500
    let mut pending = Value::Null;
    for _ in 0..50 {
        pending = deliveries(&s, &ad, &id).await[0].clone();
        if pending["attempts"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pending["state"], "pending", "{pending}");
    assert_eq!(pending["status"], 500, "{pending}");
    s.stop();
    s.restart();
    let again = rx.next().await.json();
    assert_eq!(
        again["id"], sent["id"],
        "the same delivery, after the restart"
    );
    let ad = s.login("admin@shop.test").await;
    let mut last = Value::Null;
    for _ in 0..50 {
        last = deliveries(&s, &ad, &id).await[0].clone();
        if last["state"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        (last["state"].clone(), last["attempts"].clone()),
        (json!("delivered"), json!(2))
    );
}

#[tokio::test]
async fn a_disabled_hook_or_an_unsubscribed_event_gets_nothing() {
    let s = Server::start_with(quick_retries());
    let rx = Receiver::start(0).await;
    let ad = admin(&s).await;
    // Only chat.ended, enabled; and everything, but disabled.
    create(
        &s,
        &ad,
        json!({"url": rx.url("/ended"), "events": ["chat.ended"]}),
    )
    .await;
    let off = create(
        &s,
        &ad,
        json!({"url": rx.url("/off"), "events": ALL, "enabled": false}),
    )
    .await;
    assert_eq!(off["enabled"], false);
    let off_id = off["id"].as_str().unwrap();
    let a = staff(&s, Transport::SocketIo, "a@shop.test", "agent").await;
    let v = visitor(&s, Transport::Ws, "Vic").await;
    claimed(&a, &v, "hello").await;
    rx.none(800).await;
    assert_eq!(v.c.emit("visitor_leave_room", Value::Null).await, ok());
    let r = rx.next().await;
    assert_eq!(
        (r.path.as_str(), r.json()["event"].clone()),
        ("/ended", json!("chat.ended"))
    );
    rx.none(800).await;
    // A disabled hook is not sent a test either.
    let (st, v409) = post(
        &s,
        &format!("/api/v1/webhooks/{off_id}/test"),
        json!({}),
        Some(&ad),
    )
    .await;
    assert_error(st, &v409, 409);
    assert!(deliveries(&s, &ad, off_id).await.is_empty());
    // Enabled again: it hears the next chat's start.
    let (st, on) = patch(
        &s,
        &format!("/api/v1/webhooks/{off_id}"),
        json!({"enabled": true}),
        Some(&ad),
    )
    .await;
    assert_eq!((st, on["enabled"].clone()), (200, json!(true)), "{on}");
    let w = visitor(&s, Transport::Ws, "Wes").await;
    assert_eq!(w.c.emit("visitor_msg", text("hi")).await, ok());
    let mut events = vec![];
    for _ in 0..2 {
        let r = rx.next().await;
        assert_eq!(r.path, "/off");
        events.push(r.json()["event"].as_str().unwrap().to_string());
    }
    events.sort();
    assert_eq!(events, ["chat.started", "message.created"]);
}

#[tokio::test]
async fn bad_bodies_are_refused_naming_the_field_and_only_admins_manage_hooks() {
    let s = Server::start();
    let ad = admin(&s).await;
    let url = "http://127.0.0.1:9/h";
    let bad = [
        (json!({"events": ["chat.ended"]}), "url"),
        (
            json!({"url": "ftp://x.example/", "events": ["chat.ended"]}),
            "url",
        ),
        (json!({"url": "not a url", "events": ["chat.ended"]}), "url"),
        (
            json!({"url": format!("https://a.example/{}", "x".repeat(2000)), "events": ["chat.ended"]}),
            "url",
        ),
        (json!({"url": url, "events": []}), "events"),
        (json!({"url": url, "events": ["chat.exploded"]}), "events"),
        (json!({"url": url, "events": "chat.ended"}), "events"),
        (
            json!({"url": url, "events": ["chat.ended"], "enabled": "yes"}),
            "enabled",
        ),
        (
            json!({"url": url, "events": ["chat.ended"], "colour": 1}),
            "colour",
        ),
    ];
    for (body, field) in bad {
        let (st, v) = post(&s, "/api/v1/webhooks", body.clone(), Some(&ad)).await;
        assert_error(st, &v, 400);
        let msg = v["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(field), "{body}: {msg}");
    }
    let (_, list) = get(&s, "/api/v1/webhooks", Some(&ad)).await;
    assert_eq!(list["results"], json!([]), "nothing was made");

    let hook = create(
        &s,
        &ad,
        json!({"url": url, "events": ["chat.ended", "chat.ended"]}),
    )
    .await;
    assert_eq!(hook["events"], json!(["chat.ended"]));
    let id = hook["id"].as_str().unwrap();
    let path = format!("/api/v1/webhooks/{id}");
    let (st, v) = patch(&s, &path, json!({"events": []}), Some(&ad)).await;
    assert_error(st, &v, 400);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("events"),
        "{v}"
    );
    let (st, v) = patch(&s, &path, json!({"url": "gopher://x"}), Some(&ad)).await;
    assert_error(st, &v, 400);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("url"),
        "{v}"
    );
    // Rotating the secret makes a new one; GET shows it to admins.
    let (st, rotated) = patch(&s, &path, json!({"rotate_secret": true}), Some(&ad)).await;
    assert_eq!(st, 200, "{rotated}");
    assert_ne!(rotated["secret"], hook["secret"]);
    let (_, list) = get(&s, "/api/v1/webhooks", Some(&ad)).await;
    assert_eq!(list["results"][0]["secret"], rotated["secret"]);
    // Each change is in the audit log, by whom, and never with the secret.
    let (st, log) = get(&s, "/api/v1/audit", Some(&ad)).await;
    assert_eq!(st, 200, "{log}");
    let mine: Vec<&Value> = log["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target_id"] == json!(id))
        .collect();
    let actions: Vec<&str> = mine.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["webhook.changed", "webhook.created"], "{log}");
    assert_eq!(mine[0]["detail"]["secret_rotated"], true);
    assert_eq!(mine[1]["detail"]["url"], url);
    for secret in [&hook["secret"], &rotated["secret"]] {
        let secret = secret.as_str().unwrap();
        assert!(!log.to_string().contains(secret), "a secret in the log");
    }

    // Agents, supervisors and visitors: 403, and nothing changes; no token: 401.
    let (_, agent) = s.staff("ag@shop.test", "agent").await;
    let (_, sup) = s.staff("su@shop.test", "supervisor").await;
    let (_, vis) = s.visitor(Some("V")).await;
    for token in [&agent, &sup, &vis] {
        let (st, v) = get(&s, "/api/v1/webhooks", Some(token)).await;
        assert_error(st, &v, 403);
        let (st, v) = post(
            &s,
            "/api/v1/webhooks",
            json!({"url": url, "events": ["chat.ended"]}),
            Some(token),
        )
        .await;
        assert_error(st, &v, 403);
        let (st, v) = patch(&s, &path, json!({"enabled": false}), Some(token)).await;
        assert_error(st, &v, 403);
        let (st, v) = delete(&s, &path, Some(token)).await;
        assert_error(st, &v, 403);
        let (st, v) = get(&s, &format!("{path}/deliveries"), Some(token)).await;
        assert_error(st, &v, 403);
        let (st, v) = post(&s, &format!("{path}/test"), json!({}), Some(token)).await;
        assert_error(st, &v, 403);
    }
    let (st, v) = get(&s, "/api/v1/webhooks", None).await;
    assert_error(st, &v, 401);
    let (_, list) = get(&s, "/api/v1/webhooks", Some(&ad)).await;
    assert_eq!(list["results"].as_array().unwrap().len(), 1);
    assert_eq!(list["results"][0]["enabled"], true);

    // At most 20.
    for _ in 1..20 {
        create(&s, &ad, json!({"url": url, "events": ["chat.ended"]})).await;
    }
    let (st, v) = post(
        &s,
        "/api/v1/webhooks",
        json!({"url": url, "events": ["chat.ended"]}),
        Some(&ad),
    )
    .await;
    assert_error(st, &v, 409);

    // Deleted: gone, and 404 after.
    let (st, _) = delete(&s, &path, Some(&ad)).await;
    assert_eq!(st, 204);
    let (st, v) = delete(&s, &path, Some(&ad)).await;
    assert_error(st, &v, 404);
    let (st, v) = patch(&s, &path, json!({"enabled": true}), Some(&ad)).await;
    assert_error(st, &v, 404);
    let (st, v) = get(&s, "/api/v1/webhooks/nope/deliveries", Some(&ad)).await;
    assert_error(st, &v, 404);
}

#[tokio::test]
async fn a_file_sent_in_the_chat_is_a_message_created_with_its_attachment() {
    let s = Server::start_with(quick_retries());
    let rx = Receiver::start(0).await;
    let ad = admin(&s).await;
    let hook = create(
        &s,
        &ad,
        json!({"url": rx.url("/m"), "events": ["message.created"]}),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    let a = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    let v = visitor(&s, Transport::Ws, "Vic").await;
    let chat_id = claimed(&a, &v, "here is the invoice").await;
    let first = rx.next().await.verified(&secret);
    assert_eq!(first["data"]["message"]["type_id"], 1, "{first}");
    // The agent sends a PDF over HTTP (multipart), as the console does.
    const BOUNDARY: &str = "webhook-test-boundary";
    let pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
    let mut form = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"invoice.pdf\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    form.extend_from_slice(pdf);
    form.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let r = http()
        .post(s.url(&format!("/api/v1/chats/{chat_id}/attachments")))
        .header("Authorization", a.token.as_str())
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(form)
        .send()
        .await
        .expect("upload");
    let (st, up) = into_json(r).await;
    assert_eq!(st, 201, "{up}");
    let b = rx.next().await.verified(&secret);
    let m = &b["data"]["message"];
    assert_eq!(
        (b["event"].clone(), m["type_id"].clone()),
        (json!("message.created"), json!(2)),
        "{b}"
    );
    assert_eq!(m["sender"], a.id, "{b}");
    assert_eq!(m["content"]["attachment"]["name"], "invoice.pdf", "{b}");
    assert_eq!(b["data"]["staff"]["id"], a.id, "{b}");
    rx.none(500).await;
}
