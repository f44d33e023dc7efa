//! The real-time transports: thin adapters that turn frames into live-state commands and the
//! live state's events into frames. `socketio` is the seed protocol over Socket.IO v5;
//! `ws` is the same events as plain JSON over `/ws`.

pub mod socketio;
pub mod ws;

use crate::live::{Live, Replier, Request};
use serde_json::value::RawValue;
use std::sync::Mutex;
use std::time::Instant;

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
    conn: u64,
    limits: &Limits,
    name: &str,
    data: Option<&RawValue>,
    reply: Option<Replier>,
) {
    let fail = |reply: Option<Replier>, why: String| {
        if let Some(r) = reply {
            r(Err(why));
        }
    };
    if !limits.events.lock().map(|mut l| l.allow()).unwrap_or(true) {
        return fail(reply, "Too many events; slow down.".into());
    }
    let req = match Request::parse(name, data, limits.max_content) {
        Ok(r) => r,
        Err(why) => return fail(reply, why),
    };
    if req.is_typing() && !limits.typing.lock().map(|mut l| l.allow()).unwrap_or(true) {
        return fail(reply, "Too many typing events; slow down.".into());
    }
    live.request(conn, req, reply).await;
}
