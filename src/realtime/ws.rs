//! `/ws`: the events of product.md §6 as one JSON object per text frame.
//! client → server `{"event", "data", "id"?}`; ack `{"ack": id, "result", "error_message"}`;
//! server → client `{"event", "data"}`.

use super::handle_event;
use crate::app::App;
use crate::auth::{self, Principal};
use crate::error::ApiError;
use crate::http::Body;
use crate::live::{Live, Outgoing};
use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// The server pings this often; a peer silent for `DEAD_AFTER` is dropped.
const PING_EVERY: Duration = Duration::from_secs(10);
const DEAD_AFTER: Duration = Duration::from_secs(25);
/// A peer that takes longer than this to accept one frame is too slow to keep.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Frames written before one flush.
const WRITE_BATCH: usize = 256;
/// Frames above this are a protocol error (content itself is limited far lower).
const MAX_FRAME: usize = 1 << 20;

/// Small buffers: tungstenite zero-fills its whole read buffer, so its 128 KiB default would
/// keep 128 KiB resident per connection. Chat frames are small; bigger ones still get through.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(8 * 1024)
        // Past this, writes wait for the peer: the outbox fills and a stalled reader is dropped
        // (tungstenite's default is unbounded).
        .max_write_buffer_size(256 * 1024)
        .max_message_size(Some(MAX_FRAME))
        .max_frame_size(Some(MAX_FRAME))
}

pub fn is_ws(req: &Request<Incoming>) -> bool {
    req.uri().path() == "/ws"
}

/// `GET /ws`: checks the token (401 before any upgrade), then upgrades.
pub async fn handle(app: &App, mut req: Request<Incoming>) -> Response<Body> {
    let h = req.headers();
    let upgrade = h
        .get(hyper::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = h
        .get("sec-websocket-key")
        .map(|k| derive_accept_key(k.as_bytes()));
    let (Some(accept), true, true) = (key, upgrade, req.method() == hyper::Method::GET) else {
        return crate::http::boxed_error(&ApiError::bad_request(
            "/ws is a WebSocket endpoint: send a GET with Upgrade: websocket.",
        ));
    };
    let query = req.uri().query().unwrap_or("");
    let token = super::handshake_token(h, query);
    let force = super::wants_force(query);
    let who = match token {
        None => Err(ApiError::unauthorized(
            "An access token is required (Authorization header or ?token=).",
        )),
        Some(t) => auth::authenticate(&app.store, &t).await,
    };
    let who = match who {
        Ok(w) => w,
        Err(e) => return crate::http::boxed_error(&e),
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    let app = app.clone();
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config()),
                )
                .await;
                session(ws, app, who, force).await;
            }
            Err(e) => tracing::debug!(error = %e, "websocket upgrade failed"),
        }
    });
    let mut resp = Response::new(crate::http::empty_body());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(
        hyper::header::UPGRADE,
        hyper::header::HeaderValue::from_static("websocket"),
    );
    h.insert(
        hyper::header::CONNECTION,
        hyper::header::HeaderValue::from_static("Upgrade"),
    );
    if let Ok(v) = accept.parse() {
        h.insert("sec-websocket-accept", v);
    }
    resp
}

fn close(code: CloseCode, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

#[derive(Deserialize)]
struct Frame<'a> {
    event: Option<String>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    id: Option<u64>,
}

#[derive(Deserialize)]
struct JustId {
    id: Option<u64>,
}

/// `{"ack", "result", "error_message"}`, written directly: one per client event, a hot path.
fn ack_frame(id: Option<u64>, result: bool, error: Option<&str>) -> String {
    let id = id.map_or_else(|| "null".to_string(), |i| i.to_string());
    let error = error.map_or_else(
        || "null".to_string(),
        |e| serde_json::Value::from(e).to_string(),
    );
    format!("{{\"ack\":{id},\"result\":{result},\"error_message\":{error}}}")
}

async fn session<S>(socket: WebSocketStream<S>, app: App, who: Principal, force: bool)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let live: Live = app.live.clone();
    let super::Session {
        conn,
        outbox,
        mut rx,
        limits,
        counted: _counted,
    } = super::open_session(&app, 1, &who);
    live.connect(conn, who, force, outbox.clone()).await;
    let (mut sink, mut stream) = socket.split();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_heard = Instant::now();
    let kill = outbox.kill.clone();

    'session: loop {
        tokio::select! {
            frame = stream.next() => {
                let Some(Ok(msg)) = frame else { break };
                last_heard = Instant::now();
                if msg.is_close() {
                    break;
                }
                if msg.is_ping() || msg.is_pong() {
                    continue;
                }
                let Message::Text(text) = msg else {
                    outbox.push_raw(ack_frame(None, false, Some("Send JSON text frames.")));
                    continue;
                };
                match serde_json::from_str::<Frame>(&text) {
                    Ok(Frame { event: Some(event), data, id }) => {
                        let reply = id.map(|id| {
                            let ob = outbox.clone();
                            Box::new(move |r: Result<(), String>| {
                                ob.push(Outgoing::Ack { id, result: r.is_ok(), error: r.err() });
                            }) as crate::live::Replier
                        });
                        handle_event(&live, conn, &limits, &event, data, reply).await;
                    }
                    Ok(Frame { event: None, id, .. }) => {
                        outbox.push_raw(ack_frame(id, false, Some("Missing/Invalid field: event")));
                    }
                    Err(e) => {
                        let id = serde_json::from_str::<JustId>(&text).ok().and_then(|j| j.id);
                        outbox.push_raw(ack_frame(id, false, Some(&format!("The frame is not a valid JSON event: {e}"))));
                    }
                }
            }
            out = rx.recv() => {
                // Write everything already queued, then flush once: one syscall for a burst.
                let mut next = out;
                let mut closing = false;
                let mut batch = 0;
                loop {
                    let text = match next {
                        Some(Outgoing::Event { name, data }) => {
                            format!("{{\"event\":\"{name}\",\"data\":{}}}", data.get())
                        }
                        Some(Outgoing::Ack { id, result, error }) => ack_frame(Some(id), result, error.as_deref()),
                        Some(Outgoing::Raw(text)) => text,
                        Some(Outgoing::Close) | None => {
                            closing = true;
                            break;
                        }
                    };
                    // A reader that stops reading must not hold this loop (and its outbox) forever.
                    if !matches!(tokio::time::timeout(SEND_TIMEOUT, sink.feed(Message::text(text))).await, Ok(Ok(()))) {
                        break 'session;
                    }
                    batch += 1;
                    if batch == WRITE_BATCH {
                        break;
                    }
                    match rx.try_recv() {
                        Some(o) => next = Some(o),
                        None => break,
                    }
                }
                if !matches!(tokio::time::timeout(SEND_TIMEOUT, sink.flush()).await, Ok(Ok(()))) {
                    break;
                }
                if closing {
                    let bye = sink.send(close(CloseCode::Normal, "closed by the server"));
                    let _ = tokio::time::timeout(SEND_TIMEOUT, bye).await;
                    break;
                }
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > DEAD_AFTER {
                    break;
                }
                match tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Ping(Default::default()))).await {
                    Ok(Ok(())) => {}
                    _ => break,
                }
            }
            _ = kill.notified() => {
                let bye = sink.send(close(CloseCode::Policy, "too far behind"));
                let _ = tokio::time::timeout(Duration::from_millis(100), bye).await;
                break;
            }
        }
    }
    live.disconnect(conn).await;
}
