//! Socket.IO v5 (Engine.IO v4, polling and WebSocket with upgrade) at `/socket.io/`, with
//! socketioxide in front of the warp routes. Events and payloads are the seed's; acks carry two
//! arguments `(result, error_message)`.
//!
//! Bad packets. A well-formed event with bad data, or an unknown event, is answered with an
//! error ack (when it has an ack id) and the connection stays (product.md §6). A packet that is
//! not a Socket.IO event at all (`42{"a":1}`, `42[5]`, `42["visitor_msg",{`) never reaches us:
//! socketioxide 0.18 reads the event name before any handler (`Socket::recv_event` ->
//! `read_event`, which also walks the rest of the array), turns a failure into
//! `Error::InvalidEventName`, and `Client::on_message` maps that to
//! `DisconnectReason::PacketParsingError` and closes that Engine.IO session. There is no hook
//! (no fallback for undecodable packets, no error callback that can veto the close), and on
//! the WebSocket transport the frames go straight from the upgraded stream into engineioxide,
//! so keeping the connection would mean forking the crate. The reference JS server does the
//! same for what its parser rejects (socket.io-parser's `isPayloadValid` -> `Client.onerror`
//! -> `conn.close()`), though it accepts a number as an event name, so `42[5]` is the one case
//! where it keeps a connection we close. The close only ever ends the offending connection:
//! the live state sees an ordinary disconnect (tests/it/security_net.rs).

use super::handle_event;
use crate::app::App;
use crate::auth::{self, Principal};
use crate::error::ApiError;
use crate::http::PeerAddr;
use crate::live::{Live, OutboxRx, Outgoing, Replier};
use crate::net::Edge;
use http::StatusCode;
use serde::Deserialize;
use serde_json::value::RawValue;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, SocketRef, State, TryData};
use socketioxide::handler::{ConnectHandler, FromMessageParts, Value as PacketValue};
use socketioxide::socket::Socket;
use socketioxide::{SendError, SocketError, SocketIo};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

#[derive(Clone)]
pub struct Ctx {
    pub app: App,
}

/// Who a socket is, decided before it joins the namespace.
#[derive(Clone)]
struct Session {
    who: Principal,
    /// The token it came with, so the live state can cut it when that token stops being good.
    cred: auth::Credential,
    force: bool,
}

#[derive(Deserialize, Default)]
struct AuthPayload {
    token: Option<String>,
    #[serde(default)]
    force: bool,
}

#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Engine.IO settings: a dead peer is found within `PING_INTERVAL + PING_TIMEOUT` (< 30 s).
pub const PING_INTERVAL: Duration = Duration::from_secs(10);
pub const PING_TIMEOUT: Duration = Duration::from_secs(15);
/// socketioxide's own per-socket packet buffer. Small on purpose: what a slow reader has not
/// taken yet waits in our byte-bounded outbox instead (`forward`), so a stalled client pins at
/// most this many packets plus its outbox, and is dropped when either stays full.
pub const BUFFER: usize = 256;
/// How long a socket's buffer may stay full before the reader counts as stalled and is dropped
/// (as `/ws` drops a peer that takes this long to accept a frame).
const STALL_LIMIT: Duration = Duration::from_secs(5);
/// How often a full buffer is retried.
const RETRY_EVERY: Duration = Duration::from_millis(10);

/// The largest Engine.IO payload (one polling POST, one WebSocket message): a full message
/// with room for JSON escapes and the packet's envelope, never less than 64 KiB. socketioxide
/// buffers a whole POST before parsing it, so this is also what one request can make it hold.
pub fn max_payload(max_content_bytes: usize) -> u64 {
    let bytes = max_content_bytes.saturating_mul(2).saturating_add(4096);
    u64::try_from(bytes.max(64 * 1024)).unwrap_or(u64::MAX)
}

pub fn configure(io: &SocketIo) {
    io.ns("/", on_connect.with(authenticate));
}

/// A Socket.IO handshake (a `/socket.io/` request without `sid`) that carries a token in the
/// `Authorization` header or `?token=` is checked before Engine.IO opens anything: a bad token
/// gets HTTP 401 (the seed's rule), a good one rides along as a request extension. Without
/// either, the token may come in the CONNECT packet, checked by `authenticate` below; such
/// handshakes are capped per client address and in total (`Edge::anonymous_handshake`), 429 or
/// 503 past the cap, since each is a session held until the connect timeout.
pub async fn check_handshake(
    app: &App,
    edge: &Edge,
    req: &mut hyper::Request<hyper::body::Incoming>,
) -> Option<hyper::Response<crate::http::Body>> {
    if !req.uri().path().starts_with("/socket.io") {
        return None;
    }
    let query = req.uri().query().unwrap_or("");
    if super::query_param(query, "sid").is_some() {
        return None;
    }
    let Some(token) = super::handshake_token(req.headers(), query) else {
        let ip = crate::http::client_ip_of(
            app,
            req.extensions().get::<PeerAddr>().copied(),
            req.headers()
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok()),
        );
        return match edge.anonymous_handshake(ip) {
            Ok(()) => None,
            Err((retry_after, all)) => {
                let mut e = if all {
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "busy",
                        "Too many connections are being set up; try again shortly.",
                    )
                } else {
                    ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "rate_limited",
                        "Too many connections without a token from this address; \
                         try again shortly.",
                    )
                };
                e.retry_after = Some(retry_after);
                Some(crate::http::boxed_error(&e))
            }
        };
    };
    match auth::authenticate_session(&app.store, &token).await {
        Ok((p, cred)) => {
            req.extensions_mut().insert::<Principal>(p);
            req.extensions_mut().insert::<auth::Credential>(cred);
            None
        }
        Err(e) => Some(crate::http::boxed_error(&e)),
    }
}

/// CONNECT: the principal from the handshake (header or `?token=`, already checked by the
/// server, which answered 401 if it was bad) or from the auth payload `{token, force}`.
async fn authenticate(
    s: SocketRef,
    TryData(auth): TryData<AuthPayload>,
    State(ctx): State<Ctx>,
) -> Result<(), Refused> {
    let auth = auth.unwrap_or_default();
    let force = auth.force || super::wants_force(s.req_parts().uri.query().unwrap_or(""));
    let parts = s.req_parts();
    let handshake = parts.extensions.get::<Principal>().cloned();
    let (who, cred) = match handshake.zip(parts.extensions.get::<auth::Credential>().cloned()) {
        Some(p) => p,
        None => {
            let token = auth
                .token
                .as_deref()
                .and_then(auth::parse_authorization)
                .ok_or_else(|| Refused("An access token is required.".into()))?;
            auth::authenticate_session(&ctx.app.store, token)
                .await
                .map_err(|e| Refused(e.message))?
        }
    };
    prepare(&s, &ctx, Session { who, cred, force });
    Ok(())
}

/// What `prepare` hands to `on_connect`, once (behind a lock: socket extensions must be
/// `Clone`).
type Handoff = Arc<std::sync::Mutex<Option<Prepared>>>;

struct Prepared {
    session: Session,
    conn: crate::live::ConnId,
    outbox: crate::live::Outbox,
    rx: OutboxRx,
    counted: crate::app::ConnectionGuard,
    /// Lets the socket's event queue start, once the live state knows the connection.
    ready: tokio::sync::oneshot::Sender<()>,
}

/// Registers the socket's event handlers while the CONNECT is still being decided.
/// socketioxide sends the CONNECT packet and then *spawns* the connect handler, and it reads
/// the client's next packets meanwhile: handlers registered in `on_connect` could miss an event
/// sent right after connecting (seen under load as an event never acked). Registered here,
/// every event finds its handler; it waits in the socket's queue until `on_connect` has told
/// the live state about the connection, so it is never refused as "not signed in".
fn prepare(s: &SocketRef, ctx: &Ctx, session: Session) {
    let live: Live = ctx.app.live.clone();
    let super::Session {
        conn,
        outbox,
        rx,
        limits,
        counted,
    } = super::open_session(&ctx.app, 0, &session.who);

    // socketioxide runs each handler's future as its own task, so two events of one socket
    // could reach the live state in either order. It calls the handler itself in packet order,
    // though: the handler queues the event right then (returning a finished future), and one
    // task per socket hands the queue on in that order.
    let (events, mut queue) = mpsc::channel::<Queued>(EVENT_QUEUE);
    for name in crate::live::events::EVENTS.iter().map(|e| e.name) {
        let events = events.clone();
        s.on(name, move |RawArgs(args): RawArgs, ack: AckSender| {
            enqueue(&events, name.to_string(), args, ack);
            std::future::ready(())
        });
    }
    s.on_fallback(move |Event(name): Event, ack: AckSender| {
        enqueue(&events, name, Args::default(), ack);
        std::future::ready(())
    });
    let (ready, connected) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        // The socket never connected (its handlers, and so the sender, are gone): nothing to do.
        if connected.await.is_err() {
            return;
        }
        while let Some((name, args, ack)) = queue.recv().await {
            handle_event(
                &live,
                conn,
                &limits,
                &name,
                args.data.as_deref(),
                args.client_msg_id.as_deref(),
                Some(replier(ack)),
            )
            .await;
        }
    });
    let handoff: Handoff = Arc::new(std::sync::Mutex::new(Some(Prepared {
        session,
        conn,
        outbox,
        rx,
        counted,
        ready,
    })));
    s.extensions.insert(handoff);
}

/// An event's arguments as the exact JSON text the client sent.
#[derive(Default)]
struct Args {
    /// The first argument (`None` if it sent none). socketioxide's own extractors
    /// re-serialize; message content must stay byte-for-byte.
    data: Option<Box<RawValue>>,
    /// `client_msg_id` of an optional second argument `{client_msg_id}` (product.md §8.11).
    client_msg_id: Option<Box<RawValue>>,
}

struct RawArgs(Args);

impl<A: Adapter> FromMessageParts<A> for RawArgs {
    type Error = Infallible;
    fn from_message_parts(
        _: &Arc<Socket<A>>,
        v: &mut PacketValue,
        _: &Option<i64>,
    ) -> Result<Self, Infallible> {
        // The packet's data is the array `["event", arg, ...]`.
        let args = v
            .as_str()
            .and_then(|text| serde_json::from_str::<Vec<&RawValue>>(text).ok())
            .unwrap_or_default();
        let client_msg_id = args
            .get(2)
            .and_then(|a| serde_json::from_str::<HashMap<&str, &RawValue>>(a.get()).ok())
            .and_then(|extra| extra.get("client_msg_id").map(|id| (*id).to_owned()));
        Ok(RawArgs(Args {
            data: args.get(1).map(|a| (*a).to_owned()),
            client_msg_id,
        }))
    }
}

/// Events of one socket waiting to be handed on; a client this far ahead is told to slow down.
const EVENT_QUEUE: usize = 256;

type Queued = (String, Args, AckSender);

fn enqueue(events: &mpsc::Sender<Queued>, name: String, args: Args, ack: AckSender) {
    if let Err(mpsc::error::TrySendError::Full((_, _, ack))) = events.try_send((name, args, ack)) {
        replier(ack)(Err(crate::live::refusal::say::SLOW_DOWN));
    }
}

fn replier(ack: AckSender) -> Replier {
    // The seed's two arguments: the sentence only (the code is for `/ws`).
    Box::new(move |r: crate::live::plan::Reply| {
        let (ok, err) = match r {
            Ok(()) => (true, None),
            Err(e) => (false, Some(e.sentence)),
        };
        let _ = ack.send(&(ok, err));
    })
}

async fn on_connect(s: SocketRef, State(ctx): State<Ctx>) {
    let prepared = s
        .extensions
        .get::<Handoff>()
        .and_then(|h| h.lock().ok().and_then(|mut p| p.take()));
    let Some(Prepared {
        session,
        conn,
        outbox,
        rx,
        counted,
        ready,
    }) = prepared
    else {
        let _ = s.disconnect();
        return;
    };
    let live: Live = ctx.app.live.clone();
    {
        let live = live.clone();
        s.on_disconnect(move || async move {
            live.disconnect(conn).await;
        });
    }
    let socket = s.clone();
    let gone = live.clone();
    tokio::spawn(async move {
        let _counted = counted;
        forward(&socket, &rx).await;
        let _ = socket.disconnect();
        // Also when the socket went away before its disconnect handler was set (a second
        // disconnect of the same connection changes nothing).
        gone.disconnect(conn).await;
    });
    live.connect(conn, session.who, session.cred, session.force, outbox)
        .await;
    // The connect is queued before any of this socket's events.
    let _ = ready.send(());
}

/// Hands the outbox to socketioxide in order until the connection must close. When socketioxide's
/// small buffer is full the event waits here (and what follows waits in the outbox, bounded in
/// bytes: past that the live state kills the connection); a buffer that stays full for
/// `STALL_LIMIT` means a reader that stopped reading, and it is dropped.
async fn forward(socket: &SocketRef, rx: &OutboxRx) {
    loop {
        let out = tokio::select! {
            out = rx.recv() => out,
            _ = rx.killed() => return,
        };
        let (name, data) = match out {
            Some(Outgoing::Event { name, data }) => (name, data),
            Some(Outgoing::Close) | None => return,
            Some(Outgoing::Ack { .. } | Outgoing::Raw(_)) => continue,
        };
        let mut stalled_since = None;
        loop {
            match socket.emit(name, &*data) {
                Ok(()) => break,
                Err(SendError::Socket(SocketError::InternalChannelFull)) => {
                    let since = *stalled_since.get_or_insert_with(tokio::time::Instant::now);
                    if since.elapsed() >= STALL_LIMIT {
                        tracing::debug!(sid = %socket.id, "Socket.IO reader stalled; dropping it");
                        return;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(RETRY_EVERY) => {}
                        _ = rx.killed() => return,
                    }
                }
                // Closed, or an event that cannot be encoded (never ours): nothing to keep.
                Err(SendError::Socket(_)) => return,
                Err(SendError::Serialize(e)) => {
                    tracing::error!(error = %e, event = name, "could not encode an event");
                    break;
                }
            }
        }
    }
}
