//! The real-time transports: thin adapters that turn frames into live-state commands and the
//! live state's events into frames. `socketio` is the seed protocol over Socket.IO v5;
//! `ws` is the same events as plain JSON over `/ws`.

pub mod socketio;
pub mod ws;

use crate::app::{App, ConnectionGuard};
use crate::auth::{self, Principal};
use crate::live::refusal::say;
use crate::live::{ConnId, Live, Outbox, OutboxRx, Refusal, Replier, Request};
use serde_json::value::RawValue;
use std::sync::Mutex;
use std::time::Instant;

/// A query-string parameter's raw value.
pub fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then_some(v)
    })
}

/// `?force=1`: this session replaces an older one of the same staff or visitor.
pub fn wants_force(query: &str) -> bool {
    query_param(query, "force").is_some_and(|f| f == "1" || f == "true")
}

/// The token of a handshake: the `Authorization` header (`Bearer ` optional) or `?token=`.
pub fn handshake_token(headers: &http::HeaderMap, query: &str) -> Option<String> {
    headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(auth::parse_authorization)
        .or_else(|| query_param(query, "token"))
        .map(str::to_string)
}

/// What a transport holds for one live connection.
pub struct Session {
    pub conn: ConnId,
    pub outbox: Outbox,
    pub rx: OutboxRx,
    pub limits: Limits,
    /// Counts the connection in `/metrics` until dropped.
    pub counted: ConnectionGuard,
}

/// Opens a connection in the live state's books (`transport`: index into `app::TRANSPORTS`).
pub fn open_session(app: &App, transport: usize, who: &Principal) -> Session {
    let staff = matches!(who, Principal::Staff(_));
    let (conn, outbox, rx) = app.live.open(staff);
    Session {
        conn,
        outbox,
        rx,
        limits: Limits::new(app.config.max_events_per_sec, app.config.max_content_bytes),
        counted: app.connections.open(transport, staff),
    }
}

/// A token bucket: `rate` events per second sustained, bursts of twice that.
pub struct RateLimit {
    rate: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    pub fn new(rate: u32) -> RateLimit {
        let rate = f64::from(rate.max(1));
        RateLimit {
            rate,
            capacity: rate * 2.0,
            tokens: rate * 2.0,
            last: Instant::now(),
        }
    }

    pub fn allow(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.capacity);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Per-connection limits: all events, and typing indicators on their own tighter budget.
pub struct Limits {
    events: Mutex<RateLimit>,
    typing: Mutex<RateLimit>,
    max_content: usize,
}

impl Limits {
    pub fn new(events_per_sec: u32, max_content: usize) -> Limits {
        Limits {
            events: Mutex::new(RateLimit::new(events_per_sec)),
            typing: Mutex::new(RateLimit::new(events_per_sec.clamp(1, 5))),
            max_content,
        }
    }
}

/// One client event from either transport: rate limit, parse, then to the live state.
/// Anything wrong is answered `(false, sentence)` and changes nothing.
pub async fn handle_event(
    live: &Live,
    conn: ConnId,
    limits: &Limits,
    name: &str,
    data: Option<&RawValue>,
    client_msg_id: Option<&RawValue>,
    reply: Option<Replier>,
) {
    let fail = |reply: Option<Replier>, why: Refusal| {
        if let Some(r) = reply {
            r(Err(why));
        }
    };
    if !limits.events.lock().map(|mut l| l.allow()).unwrap_or(true) {
        return fail(reply, say::SLOW_DOWN);
    }
    let args = crate::live::events::Args {
        name,
        data,
        max_content: limits.max_content,
        client_msg_id,
    };
    let req = match Request::parse_args(&args) {
        Ok(r) => r,
        Err(why) => return fail(reply, why),
    };
    if req.is_typing() && !limits.typing.lock().map(|mut l| l.allow()).unwrap_or(true) {
        return fail(reply, say::SLOW_DOWN_TYPING);
    }
    live.request(conn, req, reply).await;
}
