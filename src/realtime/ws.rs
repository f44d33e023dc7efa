//! `/ws`: the events of product.md §6 as one JSON object per text frame.
//! client → server `{"event", "data", "id"?}`; ack `{"ack": id, "result", "error_message"}`;
//! server → client `{"event", "data"}`.

use super::handle_event;
use super::Limits;
use crate::app::App;
use crate::auth::{self, Principal};
use crate::error::ApiError;
use crate::http::Body;
use crate::live::refusal::Code;
use crate::live::{ConnId, Live, Outbox, OutboxRx, Outgoing, Refusal};
use futures_util::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
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
    // The web UIs come with a single-use ticket (http/tickets.rs), other clients with a token.
    let token = match super::query_param(query, "ticket") {
        Some(ticket) => app.ws_tickets.redeem(ticket).ok_or_else(|| {
            ApiError::unauthorized("The ticket is invalid, expired or already used.")
        }),
        None => super::handshake_token(h, query).ok_or_else(|| {
            ApiError::unauthorized(
                "An access token is required (Authorization header, ?token= or ?ticket=).",
            )
        }),
    };
    let force = super::wants_force(query);
    let who = match token {
        Err(e) => Err(e),
        Ok(t) => auth::authenticate_session(&app.store, &t).await,
    };
    let who = match who {
        Ok(w) => w,
        Err(e) => return crate::http::boxed_error(&e),
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(session(on_upgrade, app.clone(), who, force));
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
    #[serde(borrow)]
    event: Option<Cow<'a, str>>,
    #[serde(borrow)]
    data: Option<&'a RawValue>,
    id: Option<u64>,
    /// Idempotent sends (product.md §8.11): checked with the event, not here, so a bad one is
    /// an `invalid_field` answer to that event.
    #[serde(borrow)]
    client_msg_id: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct JustId {
    id: Option<u64>,
}

/// `{"ack", "result", "error_message"}`, plus `"code"` when it refuses (product.md §8),
/// written directly: one per client event, a hot path.
fn ack_frame(id: Option<u64>, refused: Option<(Code, &str)>) -> String {
    let mut out = String::with_capacity(64);
    out.push_str("{\"ack\":");
    match id {
        Some(i) => out.push_str(&i.to_string()),
        None => out.push_str("null"),
    }
    match refused {
        None => out.push_str(",\"result\":true,\"error_message\":null}"),
        Some((code, sentence)) => {
            out.push_str(",\"result\":false,\"error_message\":");
            out.push_str(&serde_json::Value::from(sentence).to_string());
            out.push_str(",\"code\":\"");
            out.push_str(code.as_str());
            out.push_str("\"}");
        }
    }
    out
}

fn refusal_ack(id: Option<u64>, r: &Refusal) -> String {
    ack_frame(id, Some((r.code, &r.sentence)))
}

/// `{"event", "data"}`.
fn event_frame(name: &str, data: &RawValue) -> String {
    let data = data.get();
    let mut out = String::with_capacity(name.len() + data.len() + 22);
    out.push_str("{\"event\":\"");
    out.push_str(name);
    out.push_str("\",\"data\":");
    out.push_str(data);
    out.push('}');
    out
}

/// What one turn of a session's loop woke up for.
enum Wake {
    Frame(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
    Out(Option<Outgoing>),
    Ping,
    Kill,
}

/// One `/ws` connection, from the upgrade to the end. Ten thousand of these sit idle at once,
/// so everything rare or large (connecting, handling an event, writing a burst) runs in its
/// own boxed future: the task itself stays small.
async fn session(
    on_upgrade: hyper::upgrade::OnUpgrade,
    app: App,
    (who, cred): (Principal, auth::Credential),
    force: bool,
) {
    let upgraded = match on_upgrade.await {
        Ok(u) => u,
        Err(e) => {
            tracing::debug!(error = %e, "websocket upgrade failed");
            return;
        }
    };
    let mut ws =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config()))
            .await;
    let live: Live = app.live.clone();
    let super::Session {
        conn,
        outbox,
        rx,
        limits,
        counted: _counted,
    } = super::open_session(&app, 1, &who);
    Box::pin(live.connect(conn, who, cred, force, outbox.clone())).await;
    let start = tokio::time::Instant::now() + PING_EVERY;
    let mut ping = tokio::time::interval_at(start, PING_EVERY);
    let mut last_heard = Instant::now();
    loop {
        let wake = tokio::select! {
            frame = ws.next() => Wake::Frame(frame),
            out = rx.recv() => Wake::Out(out),
            _ = ping.tick() => Wake::Ping,
            () = rx.killed() => Wake::Kill,
        };
        match wake {
            Wake::Frame(frame) => {
                let Some(Ok(msg)) = frame else { break };
                last_heard = Instant::now();
                match msg {
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) => {}
                    Message::Text(text) => {
                        Box::pin(on_text(&live, conn, &limits, &outbox, &text)).await;
                    }
                    _ => outbox.push_raw(ack_frame(
                        None,
                        Some((Code::InvalidFrame, "Send JSON text frames.")),
                    )),
                }
            }
            Wake::Out(out) => {
                if !Box::pin(write_queued(&mut ws, out, &rx)).await {
                    break;
                }
            }
            Wake::Ping => {
                if last_heard.elapsed() > DEAD_AFTER {
                    break;
                }
                let sent = ws.send(Message::Ping(Default::default()));
                if !matches!(
                    Box::pin(tokio::time::timeout(SEND_TIMEOUT, sent)).await,
                    Ok(Ok(()))
                ) {
                    break;
                }
            }
            Wake::Kill => {
                let bye = ws.send(close(CloseCode::Policy, "too far behind"));
                let _ = Box::pin(tokio::time::timeout(Duration::from_millis(100), bye)).await;
                break;
            }
        }
    }
    Box::pin(live.disconnect(conn)).await;
}

/// A client text frame, decoded (the pure part of `on_text`, public for the fuzz targets).
pub enum Decoded<'a> {
    /// An event to hand to the live state; `id` present means an ack is wanted.
    Event {
        event: Cow<'a, str>,
        data: Option<&'a RawValue>,
        id: Option<u64>,
        client_msg_id: Option<&'a RawValue>,
    },
    /// Malformed: answered with this ack frame, the connection stays open.
    Refused(String),
}

/// Decodes one client text frame.
pub fn decode_frame(text: &str) -> Decoded<'_> {
    match serde_json::from_str::<Frame>(text) {
        Ok(Frame {
            event: Some(event),
            data,
            id,
            client_msg_id,
        }) => Decoded::Event {
            event,
            data,
            id,
            client_msg_id,
        },
        Ok(Frame {
            event: None, id, ..
        }) => Decoded::Refused(refusal_ack(id, &Refusal::invalid("event"))),
        Err(e) => {
            let id = serde_json::from_str::<JustId>(text).ok().and_then(|j| j.id);
            let why = format!("The frame is not a valid JSON event: {e}");
            Decoded::Refused(ack_frame(id, Some((Code::InvalidFrame, &why))))
        }
    }
}

/// One client frame: parsed, then handed to the live state (anything malformed is answered).
async fn on_text(live: &Live, conn: ConnId, limits: &Limits, outbox: &Outbox, text: &str) {
    match decode_frame(text) {
        Decoded::Event {
            event,
            data,
            id,
            client_msg_id,
        } => {
            let reply = id.map(|id| {
                let ob = outbox.clone();
                Box::new(move |reply| ob.push(Outgoing::Ack { id, reply })) as crate::live::Replier
            });
            handle_event(live, conn, limits, &event, data, client_msg_id, reply).await;
        }
        Decoded::Refused(ack) => outbox.push_raw(ack),
    }
}

/// Writes `first` and whatever is already queued behind it, then flushes once: one syscall for
/// a burst. `false`: the connection is done (closed by the server, or the peer is gone or too
/// slow — a reader that stops reading must not hold its outbox forever).
async fn write_queued<S>(
    ws: &mut WebSocketStream<S>,
    first: Option<Outgoing>,
    rx: &OutboxRx,
) -> bool
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut next = first;
    let mut closing = false;
    let mut batch = 0;
    loop {
        let text = match next {
            Some(Outgoing::Event { name, data }) => event_frame(name, &data),
            Some(Outgoing::Ack { id, reply }) => match reply {
                Ok(()) => ack_frame(Some(id), None),
                Err(r) => refusal_ack(Some(id), &r),
            },
            Some(Outgoing::Raw(text)) => text,
            Some(Outgoing::Close) | None => {
                closing = true;
                break;
            }
        };
        let fed = tokio::time::timeout(SEND_TIMEOUT, ws.feed(Message::text(text))).await;
        if !matches!(fed, Ok(Ok(()))) {
            return false;
        }
        batch += 1;
        if batch == WRITE_BATCH {
            break;
        }
        next = match rx.try_recv() {
            Some(o) => Some(o),
            None => break,
        };
    }
    if !matches!(
        tokio::time::timeout(SEND_TIMEOUT, ws.flush()).await,
        Ok(Ok(()))
    ) {
        return false;
    }
    if closing {
        let bye = ws.send(close(CloseCode::Normal, "closed by the server"));
        let _ = tokio::time::timeout(SEND_TIMEOUT, bye).await;
        return false;
    }
    true
}
