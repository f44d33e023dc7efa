//! Web Push for staff (issue 15): a push service on loopback, started here (`PushSink`, hyper),
//! receives what the real binary posts. Each push is checked as a browser's push service and
//! the browser would: the headers (`aes128gcm`, `TTL`, a VAPID `Authorization` whose ES256
//! token verifies against the server's public key and names the endpoint's origin), and the
//! body decrypted here with the subscription's own private key and auth secret (RFC 8291,
//! written out below with the RustCrypto primitives, not with the server's crate) into the
//! notification's JSON. A new waiting chat reaches subscribed staff with no console open; no
//! push while their console is connected; a message in their chat after the console drops
//! does; 404/410 deletes the subscription; bad subscriptions are refused naming the field;
//! a visitor cannot subscribe; the VAPID key survives a restart.

use crate::conv::{claimed, db, grace};
use crate::harness::*;
use crate::rt::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};

/// One POST the push service received.
struct Received {
    path: String,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

/// A push service on loopback: answers 201; 410 for paths ending in `/gone`, 400 for `/bad`,
/// and 503 to the first request for `/flaky`.
struct PushSink {
    port: u16,
    rx: Mutex<mpsc::UnboundedReceiver<Received>>,
}

impl PushSink {
    async fn start() -> PushSink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::unbounded_channel();
        let flaky_seen = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                let flaky_seen = flaky_seen.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: http::Request<_>| {
                        let tx = tx.clone();
                        let flaky_seen = flaky_seen.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let body: hyper::body::Incoming = body;
                            let body = body.collect().await?.to_bytes().to_vec();
                            let path = parts.uri.path().to_string();
                            let status = if path.ends_with("/gone") {
                                410
                            } else if path.ends_with("/bad") {
                                400
                            } else if path.ends_with("/flaky")
                                && !flaky_seen.swap(true, std::sync::atomic::Ordering::SeqCst)
                            {
                                503
                            } else {
                                201
                            };
                            let _ = tx.send(Received {
                                path,
                                headers: parts.headers,
                                body,
                            });
                            let mut resp = http::Response::new(Full::new(Bytes::new()));
                            *resp.status_mut() = http::StatusCode::from_u16(status).unwrap();
                            Ok::<_, hyper::Error>(resp)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        PushSink {
            port,
            rx: Mutex::new(rx),
        }
    }

    fn endpoint(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/push/{name}", self.port)
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn next(&self) -> Received {
        tokio::time::timeout(Duration::from_secs(10), self.rx.lock().await.recv())
            .await
            .expect("a push within 10 s")
            .expect("the sink runs")
    }

    /// Nothing arrives for `ms`.
    async fn none(&self, ms: u64) {
        let got =
            tokio::time::timeout(Duration::from_millis(ms), self.rx.lock().await.recv()).await;
        if let Ok(Some(r)) = got {
            panic!("an unexpected push to {}", r.path);
        }
    }
}

/// A browser's push subscription: its P-256 key pair and auth secret.
struct Device {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Device {
    fn new() -> Device {
        let secret = loop {
            let bytes: [u8; 32] = rand::random();
            if let Ok(k) = p256::SecretKey::from_slice(&bytes) {
                break k;
            }
        };
        Device {
            secret,
            auth: rand::random(),
        }
    }

    fn public(&self) -> Vec<u8> {
        self.secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }

    /// `PushSubscription.toJSON()` as a browser sends it.
    fn json(&self, endpoint: &str) -> Value {
        json!({"endpoint": endpoint, "expirationTime": null,
               "keys": {"p256dh": B64.encode(self.public()), "auth": B64.encode(self.auth)}})
    }

    /// RFC 8291 (with RFC 8188's aes128gcm framing), as the browser decrypts.
    fn decrypt(&self, body: &[u8]) -> Vec<u8> {
        use aes_gcm::aead::{Aead, KeyInit};
        use hkdf::Hkdf;
        use sha2::Sha256;
        let salt = &body[..16];
        let rs = u32::from_be_bytes(body[16..20].try_into().unwrap()) as usize;
        let idlen = body[20] as usize;
        assert_eq!(idlen, 65, "the key id is the server's ephemeral public key");
        let as_public = &body[21..21 + idlen];
        let ciphertext = &body[21 + idlen..];
        assert!(ciphertext.len() <= rs, "one record");
        let as_key = p256::PublicKey::from_sec1_bytes(as_public).unwrap();
        let shared =
            p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), as_key.as_affine());
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(&self.public());
        info.extend_from_slice(as_public);
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes().as_slice())
            .expand(&info, &mut ikm)
            .unwrap();
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let mut cek = [0u8; 16];
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
            .unwrap();
        let mut nonce = [0u8; 12];
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce)
            .unwrap();
        let plain = aes_gcm::Aes128Gcm::new_from_slice(&cek)
            .unwrap()
            .decrypt(aes_gcm::Nonce::from_slice(&nonce), ciphertext)
            .expect("the body decrypts with the subscription's keys");
        // The last record: the data, a 2 delimiter, then zero padding.
        let end = plain.iter().rposition(|b| *b != 0).expect("a delimiter");
        assert_eq!(plain[end], 2, "the last record's delimiter");
        plain[..end].to_vec()
    }
}

async fn key(s: &Server, token: &str) -> String {
    let (st, v) = get(s, "/api/v1/push/key", Some(token)).await;
    assert_eq!(st, 200, "{v}");
    v["public_key"].as_str().expect("public_key").to_string()
}

async fn subscribe(s: &Server, token: &str, body: Value) -> (u16, Value) {
    post(s, "/api/v1/push/subscriptions", body, Some(token)).await
}

async fn unsubscribe(s: &Server, token: &str, endpoint: &str) -> (u16, Value) {
    let r = http()
        .delete(s.url("/api/v1/push/subscriptions"))
        .header("Authorization", token)
        .json(&json!({ "endpoint": endpoint }))
        .send()
        .await
        .expect("request");
    into_json(r).await
}

/// Checks a push as a push service and a browser would; returns the notification's JSON.
fn open(r: &Received, sink: &PushSink, public_key: &str, device: &Device) -> Value {
    use p256::ecdsa::signature::Verifier as _;
    let h = |n: &str| {
        r.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {n} header"))
            .to_string()
    };
    assert_eq!(h("content-encoding"), "aes128gcm");
    let ttl: u64 = h("ttl").parse().expect("a number TTL");
    assert!(ttl > 0, "TTL {ttl}");
    let auth = h("authorization");
    let rest = auth
        .strip_prefix("vapid t=")
        .expect("a vapid authorization");
    let (token, k) = rest.split_once(", k=").expect("t=…, k=…");
    assert_eq!(k, public_key, "k= is the key the browser subscribed with");
    let (signed, sig) = token.rsplit_once('.').expect("a JWT");
    let verifying = p256::ecdsa::VerifyingKey::from_sec1_bytes(&B64.decode(k).unwrap()).unwrap();
    let sig = p256::ecdsa::Signature::from_slice(&B64.decode(sig).unwrap()).unwrap();
    verifying
        .verify(signed.as_bytes(), &sig)
        .expect("the VAPID token's signature verifies against the server's public key");
    let mut parts = signed.split('.');
    let header: Value =
        serde_json::from_slice(&B64.decode(parts.next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    let claims: Value =
        serde_json::from_slice(&B64.decode(parts.next().unwrap()).unwrap()).unwrap();
    assert_eq!(claims["aud"], sink.origin());
    let exp = claims["exp"].as_i64().expect("exp");
    let now = now_ms() / 1000;
    assert!(exp > now && exp <= now + 24 * 3600, "exp {exp}, now {now}");
    assert!(claims["sub"].is_string(), "{claims}");
    serde_json::from_slice(&device.decrypt(&r.body)).expect("JSON inside")
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

#[tokio::test]
async fn a_new_waiting_chat_is_pushed_to_subscribed_staff_with_no_console_open() {
    let sink = PushSink::start().await;
    let s = Server::start();
    let admin = s.staff("admin@shop.test", "admin").await.1;
    set_settings(
        &s,
        &admin,
        json!({"email_from": "Shop <support@shop.test>"}),
    )
    .await;
    let (_, agent) = s.staff("agent@shop.test", "agent").await;
    let public_key = key(&s, &agent).await;
    assert_eq!(B64.decode(&public_key).unwrap().len(), 65);
    let device = Device::new();
    let (st, v) = subscribe(&s, &agent, device.json(&sink.endpoint("agent"))).await;
    assert_eq!(st, 201, "{v}");

    let v = visitor(&s, Transport::Ws, "Eve").await;
    assert_eq!(
        v.c.emit("visitor_msg", text("Hello, is the <shop> open?"))
            .await,
        ok()
    );
    let r = sink.next().await;
    assert_eq!(r.path, "/push/agent");
    let note = open(&r, &sink, &public_key, &device);
    let chat_id = chat_id_of(&s, &v.id);
    assert_eq!(
        note,
        json!({"title": "New chat from Eve", "body": "Hello, is the <shop> open?",
               "chat_id": chat_id, "url": s.url(&format!("/console/#chat={chat_id}"))})
    );
    let claims = r.headers["authorization"].to_str().unwrap().to_string();
    let jwt = claims
        .split("t=")
        .nth(1)
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    let claims: Value = serde_json::from_slice(&B64.decode(jwt).unwrap()).unwrap();
    assert_eq!(claims["sub"], "mailto:support@shop.test");
    // One more line of the same waiting chat is not a new chat; the admin never subscribed.
    assert_eq!(v.c.emit("visitor_msg", text("hello?")).await, ok());
    sink.none(1200).await;

    // Switched off on that device: no push for the next new chat.
    let (st, v2) = unsubscribe(&s, &agent, &sink.endpoint("agent")).await;
    assert_eq!((st, &v2), (200, &json!({"removed": true})));
    let w = visitor(&s, Transport::Ws, "Walt").await;
    assert_eq!(w.c.emit("visitor_msg", text("hi")).await, ok());
    sink.none(1500).await;
}

#[tokio::test]
async fn no_push_while_the_console_is_connected_then_one_for_a_message_after_it_drops() {
    let sink = PushSink::start().await;
    let s = Server::start_with(grace(60));
    let agent = staff(&s, Transport::Ws, "agent@shop.test", "agent").await;
    let public_key = key(&s, &agent.token).await;
    let device = Device::new();
    let (st, v) = subscribe(&s, &agent.token, device.json(&sink.endpoint("a"))).await;
    assert_eq!(st, 201, "{v}");

    let v = visitor(&s, Transport::Ws, "Eve").await;
    let chat_id = claimed(&agent, &v, "first").await;
    assert_eq!(v.c.emit("visitor_msg", text("second")).await, ok());
    agent.c.next("visitor_send").await;
    sink.none(1500).await;

    // The console drops; within the grace the agent still serves the chat.
    agent.c.disconnect().await;
    // The server has seen the close before the visitor writes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(v.c.emit("visitor_msg", text("are you there?")).await, ok());
    let r = sink.next().await;
    let note = open(&r, &sink, &public_key, &device);
    assert_eq!(
        note,
        json!({"title": "New message from Eve", "body": "are you there?",
               "chat_id": chat_id, "url": s.url(&format!("/console/#chat={chat_id}"))})
    );
    // The console is back: quiet again.
    let back = Client::connect(&s, Transport::Ws, &agent.token).await;
    back.next("staff_init").await;
    assert_eq!(v.c.emit("visitor_msg", text("ok")).await, ok());
    back.next("visitor_send").await;
    sink.none(1500).await;
}

#[tokio::test]
async fn a_subscription_the_push_service_says_is_gone_is_deleted() {
    let sink = PushSink::start().await;
    let s = Server::start();
    let (agent_id, agent) = s.staff("agent@shop.test", "agent").await;
    let (st, v) = subscribe(&s, &agent, Device::new().json(&sink.endpoint("gone"))).await;
    assert_eq!(st, 201, "{v}");
    let keep = Device::new();
    let (st, v) = subscribe(&s, &agent, keep.json(&sink.endpoint("kept"))).await;
    assert_eq!(st, 201, "{v}");
    let count = |s: &Server, path: &str| -> i64 {
        db(s)
            .query_row(
                "SELECT COUNT(*) FROM push_subscriptions WHERE staff_id = ?1 AND endpoint LIKE ?2",
                [agent_id.as_str(), &format!("%{path}")],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(count(&s, "/gone"), 1);

    let v = visitor(&s, Transport::Ws, "Eve").await;
    assert_eq!(v.c.emit("visitor_msg", text("hi")).await, ok());
    let mut paths = vec![sink.next().await.path, sink.next().await.path];
    paths.sort();
    assert_eq!(paths, ["/push/gone", "/push/kept"]);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while count(&s, "/gone") != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the 410 subscription is still there"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(&s, "/kept"),
        1,
        "the other device keeps its subscription"
    );
    // The next new chat goes to the device that is left only.
    let w = visitor(&s, Transport::Ws, "Walt").await;
    assert_eq!(w.c.emit("visitor_msg", text("hi")).await, ok());
    assert_eq!(sink.next().await.path, "/push/kept");
    sink.none(1000).await;
}

#[tokio::test]
async fn bad_subscriptions_are_refused_naming_the_field_and_visitors_cannot_subscribe() {
    let s = Server::start();
    let (agent_id, agent) = s.staff("agent@shop.test", "agent").await;
    let d = Device::new();
    let good = d.json("https://push.example.net/send/abc");
    let cases = [
        (
            json!({"endpoint": "http://push.example.net/x", "keys": good["keys"]}),
            "endpoint",
        ),
        (
            json!({"endpoint": "ftp://127.0.0.1/x", "keys": good["keys"]}),
            "endpoint",
        ),
        (
            json!({"endpoint": format!("https://p.example/{}", "x".repeat(1000)), "keys": good["keys"]}),
            "endpoint",
        ),
        (json!({"keys": good["keys"]}), "endpoint"),
        (json!({"endpoint": good["endpoint"]}), "keys"),
        (
            json!({"endpoint": good["endpoint"], "keys": {"p256dh": B64.encode([4u8; 64]), "auth": good["keys"]["auth"]}}),
            "keys.p256dh",
        ),
        (
            // 65 bytes, but not a point on the curve.
            json!({"endpoint": good["endpoint"], "keys": {"p256dh": B64.encode([4u8; 65]), "auth": good["keys"]["auth"]}}),
            "keys.p256dh",
        ),
        (
            json!({"endpoint": good["endpoint"], "keys": {"p256dh": good["keys"]["p256dh"], "auth": B64.encode([1u8; 8])}}),
            "keys.auth",
        ),
        (
            json!({"endpoint": good["endpoint"], "keys": {"p256dh": good["keys"]["p256dh"], "auth": "!!"}}),
            "keys.auth",
        ),
    ];
    for (body, field) in cases {
        let (st, v) = subscribe(&s, &agent, body.clone()).await;
        assert_error(st, &v, 400);
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(field), "{body} → {msg} (want {field})");
    }
    assert_eq!(subscribe(&s, &agent, good.clone()).await.0, 201);

    // At most ten per staff member: the oldest goes.
    for i in 0..10 {
        let (st, v) = subscribe(
            &s,
            &agent,
            d.json(&format!("https://push.example.net/d/{i}")),
        )
        .await;
        assert_eq!(st, 201, "{v}");
    }
    let endpoints: Vec<String> = db(&s)
        .prepare("SELECT endpoint FROM push_subscriptions WHERE staff_id = ?1")
        .unwrap()
        .query_map([&agent_id], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(endpoints.len(), 10, "{endpoints:?}");
    assert!(!endpoints.contains(&"https://push.example.net/send/abc".to_string()));

    // One browser profile, another account: the endpoint moves to whoever subscribed last.
    let (other_id, other) = s.staff("other@shop.test", "agent").await;
    let moved = d.json("https://push.example.net/d/9");
    assert_eq!(subscribe(&s, &other, moved).await.0, 201);
    let owner: String = db(&s)
        .query_row(
            "SELECT staff_id FROM push_subscriptions WHERE endpoint = ?1",
            ["https://push.example.net/d/9"],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(owner, other_id);

    let (_, visitor) = s.visitor(Some("Eve")).await;
    let (st, v) = subscribe(&s, &visitor, good.clone()).await;
    assert_error(st, &v, 403);
    let (st, v) = get(&s, "/api/v1/push/key", Some(&visitor)).await;
    assert_error(st, &v, 403);
    let (st, v) = unsubscribe(&s, &visitor, "https://push.example.net/d/1").await;
    assert_error(st, &v, 403);
    let (st, v) = post(&s, "/api/v1/push/subscriptions", good, None).await;
    assert_error(st, &v, 401);
    let (st, v) = get(&s, "/api/v1/push/key", None).await;
    assert_error(st, &v, 401);
}

#[tokio::test]
async fn the_vapid_key_is_made_once_and_survives_a_restart() {
    let mut s = Server::start();
    let (_, agent) = s.staff("agent@shop.test", "agent").await;
    let first = key(&s, &agent).await;
    let point = B64.decode(&first).unwrap();
    assert_eq!(
        (point.len(), point[0]),
        (65, 4),
        "an uncompressed P-256 point"
    );
    assert!(p256::PublicKey::from_sec1_bytes(&point).is_ok());
    s.kill9();
    s.restart();
    assert_eq!(key(&s, &agent).await, first);
    let rows: i64 = db(&s)
        .query_row("SELECT COUNT(*) FROM push_vapid", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn a_503_is_tried_again_and_a_400_is_noted_on_the_subscription() {
    let sink = PushSink::start().await;
    let s = Server::start();
    let (_, agent) = s.staff("agent@shop.test", "agent").await;
    let public_key = key(&s, &agent).await;
    let flaky = Device::new();
    assert_eq!(
        subscribe(&s, &agent, flaky.json(&sink.endpoint("flaky")))
            .await
            .0,
        201
    );
    assert_eq!(
        subscribe(&s, &agent, Device::new().json(&sink.endpoint("bad")))
            .await
            .0,
        201
    );
    let v = visitor(&s, Transport::Ws, "Eve").await;
    assert_eq!(v.c.emit("visitor_msg", text("hi")).await, ok());
    let mut first = vec![sink.next().await.path, sink.next().await.path];
    first.sort();
    assert_eq!(first, ["/push/bad", "/push/flaky"]);
    // The 503 is tried again after a pause; the 400 is not.
    let again = sink.next().await;
    assert_eq!(again.path, "/push/flaky");
    let note = open(&again, &sink, &public_key, &flaky);
    assert_eq!(note["title"], "New chat from Eve");
    let last_error = |path: &str| -> Option<String> {
        db(&s)
            .query_row(
                "SELECT last_error FROM push_subscriptions WHERE endpoint LIKE ?1",
                [format!("%{path}")],
                |r| r.get(0),
            )
            .unwrap()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while last_error("/bad").is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "no error noted for /bad"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        last_error("/bad").unwrap().contains("400"),
        "{:?}",
        last_error("/bad")
    );
    assert_eq!(last_error("/flaky"), None);
    sink.none(1000).await;
}
