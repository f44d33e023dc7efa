//! Webhooks (issue 16, product.md §8.12): admins give URLs that are told of chat events
//! (`chat.started`, `chat.claimed`, `message.created`, `chat.ended`, `chat.rated`), each POST
//! signed with the hook's secret (`send.rs`).
//!
//! The same shape as email and Web Push: the live state's rules put a `Fire` in their plan —
//! only when `Mask` (the in-memory set of events some enabled hook wants, kept by the REST
//! handlers through `Webhooks::reload`) says so, so with no hook the chat path pays one branch —
//! and the delivery task hands it over after the commit (`Webhooks::notify`, never waits). The
//! task here writes one delivery per subscribed hook (`webhook_deliveries`, the durable outbox:
//! unfinished deliveries resume after a restart) and posts them, retried with backoff, every
//! attempt recorded.

pub mod send;

use crate::live::plan::Part;
use crate::model::{new_id, now_ms};
use crate::store::webhooks::{self as db, Due, Hook, Outcome};
use crate::store::Store;
use serde_json::value::RawValue;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, Notify, Semaphore};

/// Tries per delivery in all.
pub const MAX_ATTEMPTS: i64 = 6;
/// The waits after each failed try, in units of the first wait (30 s by default: 30 s, 2 min,
/// 10 min, 1 h, 6 h).
const BACKOFF: [u32; 5] = [1, 4, 20, 120, 720];
/// Events waiting for the task; past it an event is dropped with a warning.
const QUEUE: usize = 4096;
/// Posts under way at once.
const PARALLEL: usize = 8;
/// Due deliveries taken per round.
const BATCH: usize = 64;
/// At most this many hooks.
pub const MAX_HOOKS: usize = 20;
/// The longest URL accepted.
pub const MAX_URL: usize = 2000;

/// What a hook can be told of. `Ping` is only sent by "Send test".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    ChatStarted,
    ChatClaimed,
    MessageCreated,
    ChatEnded,
    ChatRated,
    Ping,
}

impl Event {
    /// The events a hook can subscribe to.
    pub const SUBSCRIBABLE: [Event; 5] = [
        Event::ChatStarted,
        Event::ChatClaimed,
        Event::MessageCreated,
        Event::ChatEnded,
        Event::ChatRated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Event::ChatStarted => "chat.started",
            Event::ChatClaimed => "chat.claimed",
            Event::MessageCreated => "message.created",
            Event::ChatEnded => "chat.ended",
            Event::ChatRated => "chat.rated",
            Event::Ping => "ping",
        }
    }

    pub fn from_name(name: &str) -> Option<Event> {
        Event::SUBSCRIBABLE.into_iter().find(|e| e.name() == name)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// The events at least one enabled hook wants; read by the rules (one atomic load), written
/// when hooks change.
#[derive(Clone, Default, Debug)]
pub struct Mask(Arc<AtomicU32>);

impl Mask {
    pub fn wants(&self, e: Event) -> bool {
        self.0.load(Ordering::Relaxed) & e.bit() != 0
    }

    fn set(&self, hooks: &[Hook]) {
        let bits = hooks
            .iter()
            .filter(|h| h.enabled)
            .flat_map(|h| h.events.iter())
            .filter_map(|e| Event::from_name(e))
            .fold(0, |b, e| b | e.bit());
        self.0.store(bits, Ordering::Relaxed);
    }
}

/// A webhook event the live state decided on; `data` may show messages by slot, rendered
/// after the commit.
#[derive(Debug, Clone)]
pub struct Fire {
    pub event: Event,
    pub at: i64,
    pub data: Vec<(&'static str, Part)>,
}

/// A committed event, its `data` rendered.
#[derive(Debug, Clone)]
pub struct Fired {
    pub event: Event,
    pub at: i64,
    pub data: Arc<RawValue>,
}

/// The webhook sender: cheap to clone.
#[derive(Clone)]
pub struct Webhooks {
    tx: mpsc::Sender<Fired>,
    store: Store,
    mask: Mask,
    /// The hooks as last loaded (the task reads which hooks want an event from here).
    hooks: Arc<RwLock<Vec<Hook>>>,
    /// Something was queued in the table: look for due deliveries now.
    wake: Arc<Notify>,
}

impl Webhooks {
    /// Loads the hooks and starts the task, which first resumes unfinished deliveries.
    /// `retry_first` is the wait after the first failed try (`BACKOFF` scales it).
    pub async fn start(store: Store, retry_first: Duration) -> Result<Webhooks, String> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let hooks = Webhooks {
            tx,
            store,
            mask: Mask::default(),
            hooks: Arc::default(),
            wake: Arc::default(),
        };
        hooks
            .reload()
            .await
            .map_err(|e| format!("the webhooks could not be read: {e}"))?;
        tokio::spawn(run(hooks.clone(), rx, retry_first));
        Ok(hooks)
    }

    pub fn mask(&self) -> &Mask {
        &self.mask
    }

    /// Reads the hooks again (after an admin changed them) and updates the mask.
    pub async fn reload(&self) -> Result<(), crate::error::StoreError> {
        let hooks = self.store.read(db::list).await?;
        self.mask.set(&hooks);
        if let Ok(mut h) = self.hooks.write() {
            *h = hooks;
        }
        Ok(())
    }

    /// Hands a committed event to the task; never waits.
    pub fn notify(&self, fired: Fired) {
        if self.tx.try_send(fired).is_err() {
            tracing::warn!("the webhook queue is full or stopped; an event is dropped");
        }
    }

    /// Queues a `ping` to one hook now; its delivery id.
    pub async fn ping(&self, hook_id: &str) -> Result<String, crate::error::StoreError> {
        let id = new_id();
        let now = now_ms();
        let data = serde_json::json!({ "hook_id": hook_id }).to_string();
        let body = body(&id, Event::Ping, now, &data);
        let row = (id.clone(), hook_id.to_string(), Event::Ping.name(), body);
        self.store
            .write(move |c| db::enqueue(c, &[row], now))
            .await?;
        self.wake.notify_one();
        Ok(id)
    }

    /// The deliveries to make for these events: one per enabled hook that wants each.
    fn rows(&self, fired: &[Fired]) -> Vec<(String, String, &'static str, String)> {
        let Ok(hooks) = self.hooks.read() else {
            return vec![];
        };
        let mut rows = vec![];
        for f in fired {
            let name = f.event.name();
            for h in hooks
                .iter()
                .filter(|h| h.enabled && h.events.iter().any(|e| e == name))
            {
                let id = new_id();
                let body = body(&id, f.event, f.at, f.data.get());
                rows.push((id, h.id.clone(), name, body));
            }
        }
        rows
    }
}

/// The posted JSON: `{id, event, created_at, data}`.
fn body(id: &str, event: Event, at: i64, data: &str) -> String {
    format!(
        r#"{{"id":{},"event":"{}","created_at":{at},"data":{data}}}"#,
        serde_json::Value::from(id),
        event.name()
    )
}

/// When a delivery that failed its `tried`-th attempt is tried again (`None`: given up).
pub fn retry_after(retry_first: Duration, tried: i64) -> Option<Duration> {
    if tried >= MAX_ATTEMPTS {
        return None;
    }
    let i = (tried.max(1) - 1) as usize;
    BACKOFF.get(i).map(|k| retry_first.saturating_mul(*k))
}

async fn run(hooks: Webhooks, mut rx: mpsc::Receiver<Fired>, retry_first: Duration) {
    let slots = Arc::new(Semaphore::new(PARALLEL));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Outcome>();
    let mut inflight: HashSet<String> = HashSet::new();
    loop {
        // Start what is due (and not already under way).
        let now = now_ms();
        let next = match hooks.store.read(move |c| db::due(c, now, BATCH)).await {
            Ok((due, next)) => {
                for d in due {
                    if !inflight.insert(d.id.clone()) {
                        continue;
                    }
                    let Ok(slot) = slots.clone().acquire_owned().await else {
                        return;
                    };
                    let tx = done_tx.clone();
                    tokio::spawn(async move {
                        let _ = tx.send(attempt(d, retry_first).await);
                        drop(slot);
                    });
                }
                next
            }
            Err(e) => {
                tracing::warn!(error = %e, "webhook deliveries could not be read");
                Some(now + 5_000)
            }
        };
        let sleep = match next {
            Some(at) => Duration::from_millis((at - now_ms()).clamp(0, 60_000) as u64),
            None => Duration::from_secs(60),
        };
        tokio::select! {
            f = rx.recv() => {
                let Some(f) = f else { return };
                let mut fired = vec![f];
                while fired.len() < 256 {
                    match rx.try_recv() {
                        Ok(f) => fired.push(f),
                        Err(_) => break,
                    }
                }
                let rows = hooks.rows(&fired);
                if !rows.is_empty() {
                    let now = now_ms();
                    if let Err(e) = hooks.store.write(move |c| db::enqueue(c, &rows, now)).await {
                        tracing::warn!(error = %e, "webhook deliveries could not be queued");
                    }
                }
            }
            o = done_rx.recv() => {
                let Some(o) = o else { return };
                let mut outcomes = vec![o];
                while let Ok(o) = done_rx.try_recv() {
                    outcomes.push(o);
                }
                let ids: Vec<String> = outcomes.iter().map(|o| o.id.clone()).collect();
                if let Err(e) = hooks.store.write(move |c| db::record(c, &outcomes)).await {
                    tracing::warn!(error = %e, "webhook delivery outcomes could not be kept");
                }
                for id in ids {
                    inflight.remove(&id);
                }
            }
            _ = hooks.wake.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

/// One try of one delivery.
async fn attempt(d: Due, retry_first: Duration) -> Outcome {
    let res = send::post(&d.url, &d.secret, &d.event, &d.id, &d.body).await;
    let tried = d.attempts + 1;
    let at = now_ms();
    let (status, error, delivered) = match res {
        Ok(s) if s.is_success() => (Some(s.as_u16() as i64), None, true),
        Ok(s) => (
            Some(s.as_u16() as i64),
            Some(format!("The receiver answered {s}.")),
            false,
        ),
        Err(why) => (None, Some(why), false),
    };
    let next_at = if delivered {
        None
    } else {
        retry_after(retry_first, tried).map(|w| at + w.as_millis() as i64)
    };
    if !delivered {
        tracing::debug!(delivery = %d.id, tried, error = ?error, "webhook not delivered");
    }
    Outcome {
        id: d.id,
        status,
        error,
        next_at,
        delivered,
        at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_is_30s_2m_10m_1h_6h_then_given_up() {
        let f = Duration::from_secs(30);
        let waits: Vec<_> = (1..=6).map(|t| retry_after(f, t)).collect();
        let s = Duration::from_secs;
        assert_eq!(
            waits,
            vec![
                Some(s(30)),
                Some(s(120)),
                Some(s(600)),
                Some(s(3600)),
                Some(s(21600)),
                None
            ]
        );
    }

    #[test]
    fn the_mask_has_the_enabled_hooks_events() {
        let m = Mask::default();
        let hook = |events: &[&str], enabled| Hook {
            id: "h".into(),
            url: "http://x".into(),
            secret: "s".into(),
            events: events.iter().map(|e| e.to_string()).collect(),
            enabled,
            created_at: 0,
            created_by: None,
        };
        assert!(!m.wants(Event::ChatStarted));
        m.set(&[hook(&["chat.started"], true), hook(&["chat.rated"], false)]);
        assert!(m.wants(Event::ChatStarted));
        assert!(!m.wants(Event::ChatRated) && !m.wants(Event::MessageCreated));
        m.set(&[]);
        assert!(!m.wants(Event::ChatStarted));
    }

    #[test]
    fn the_body_is_json_with_the_delivery_id() {
        let b = body("d\"1", Event::ChatEnded, 5, r#"{"chat":{"id":"c"}}"#);
        let v: serde_json::Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["id"], "d\"1");
        assert_eq!(v["event"], "chat.ended");
        assert_eq!(v["created_at"], 5);
        assert_eq!(v["data"]["chat"]["id"], "c");
    }
}
