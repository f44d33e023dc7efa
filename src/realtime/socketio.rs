//! Socket.IO v5 (Engine.IO v4, polling and WebSocket with upgrade) at `/socket.io/`, with
//! socketioxide in front of the warp routes. Events and payloads are the seed's; acks carry two
//! arguments `(result, error_message)`.

use super::handle_event;
use crate::app::App;
use crate::auth::{self, Principal};
use crate::live::{Live, Outgoing, Replier};
use serde::Deserialize;
use serde_json::value::RawValue;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Event, SocketRef, State, TryData};
use socketioxide::handler::{ConnectHandler, FromMessageParts, Value as PacketValue};
use socketioxide::socket::Socket;
use socketioxide::SocketIo;
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
/// socketioxide's own per-socket packet buffer (its default, 128, is too small for a staff
/// console during a burst of new chats).
pub const BUFFER: usize = 65_536;

pub fn configure(io: &SocketIo) {
    io.ns("/", on_connect.with(authenticate));
}

/// A Socket.IO handshake (a `/socket.io/` request without `sid`) that carries a token in the
/// `Authorization` header or `?token=` is checked before Engine.IO opens anything: a bad token
/// gets HTTP 401 (the seed's rule), a good one rides along as a request extension. Without
/// either, the token may come in the CONNECT packet, checked by `authenticate` below.
pub async fn check_handshake(
    app: &App,
    req: &mut hyper::Request<hyper::body::Incoming>,
) -> Option<hyper::Response<crate::http::Body>> {
    if !req.uri().path().starts_with("/socket.io") {
        return None;
    }
    let query = req.uri().query().unwrap_or("");
    if super::query_param(query, "sid").is_some() {
        return None;
    }
    let token = super::handshake_token(req.headers(), query)?;
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
    s.extensions.insert(Session { who, cred, force });
    Ok(())
}

/// The event's first argument as the exact JSON text the client sent (`None` if it sent none).
/// socketioxide's own extractors re-serialize; message content must stay byte-for-byte.
struct RawArg(Option<Box<RawValue>>);

impl<A: Adapter> FromMessageParts<A> for RawArg {
    type Error = Infallible;
    fn from_message_parts(
        _: &Arc<Socket<A>>,
        v: &mut PacketValue,
        _: &Option<i64>,
    ) -> Result<Self, Infallible> {
        // The packet's data is the array `["event", arg, ...]`.
        let first = v
            .as_str()
            .and_then(|text| serde_json::from_str::<Vec<&RawValue>>(text).ok())
            .and_then(|args| args.get(1).map(|a| (*a).to_owned()));
        Ok(RawArg(first))
    }
}

/// Events of one socket waiting to be handed on; a client this far ahead is told to slow down.
const EVENT_QUEUE: usize = 256;

type EventQueue = mpsc::Sender<(String, Option<Box<RawValue>>, AckSender)>;

fn enqueue(events: &EventQueue, name: String, data: Option<Box<RawValue>>, ack: AckSender) {
    if let Err(mpsc::error::TrySendError::Full((_, _, ack))) = events.try_send((name, data, ack)) {
        replier(ack)(Err(super::SLOW_DOWN.into()));
    }
}

fn replier(ack: AckSender) -> Replier {
    Box::new(move |r: Result<(), String>| {
        let (ok, err) = match r {
            Ok(()) => (true, None),
            Err(e) => (false, Some(e)),
        };
        let _ = ack.send(&(ok, err));
    })
}

async fn on_connect(s: SocketRef, State(ctx): State<Ctx>) {
    let Some(session) = s.extensions.get::<Session>() else {
        let _ = s.disconnect();
        return;
    };
    let live: Live = ctx.app.live.clone();
    let super::Session {
        conn,
        outbox,
        rx,
        limits,
        counted,
    } = super::open_session(&ctx.app, 0, &session.who);
    let limits = Arc::new(limits);

    // socketioxide runs each handler's future as its own task, so two events of one socket
    // could reach the live state in either order. It calls the handler itself in packet order,
    // though: the handler queues the event right then (returning a finished future), and one
    // task per socket hands the queue on in that order.
    let (events, mut queue) =
        mpsc::channel::<(String, Option<Box<RawValue>>, AckSender)>(EVENT_QUEUE);
    for name in crate::live::request::EVENTS {
        let events = events.clone();
        s.on(name, move |RawArg(data): RawArg, ack: AckSender| {
            enqueue(&events, name.to_string(), data, ack);
            std::future::ready(())
        });
    }
    s.on_fallback(move |Event(name): Event, ack: AckSender| {
        enqueue(&events, name, None, ack);
        std::future::ready(())
    });
    {
        let live = live.clone();
        tokio::spawn(async move {
            while let Some((name, data, ack)) = queue.recv().await {
                handle_event(
                    &live,
                    conn,
                    &limits,
                    &name,
                    data.as_deref(),
                    Some(replier(ack)),
                )
                .await;
            }
        });
    }
    {
        let live = live.clone();
        s.on_disconnect(move || async move {
            live.disconnect(conn).await;
        });
    }

    let socket = s.clone();
    tokio::spawn(async move {
        let _counted = counted;
        loop {
            tokio::select! {
                out = rx.recv() => match out {
                    Some(Outgoing::Event { name, data }) => {
                        if socket.emit(name, &*data).is_err() {
                            // socketioxide's own buffer is full: too slow a reader.
                            let _ = socket.disconnect();
                            break;
                        }
                    }
                    Some(Outgoing::Close) | None => {
                        let _ = socket.disconnect();
                        break;
                    }
                    Some(Outgoing::Ack { .. } | Outgoing::Raw(_)) => {}
                },
                _ = rx.killed() => {
                    let _ = socket.disconnect();
                    break;
                }
            }
        }
    });
    live.connect(conn, session.who, session.cred, session.force, outbox)
        .await;
}
