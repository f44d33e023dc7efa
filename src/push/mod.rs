//! Web Push for staff (issue 15, product.md §8.10): a staff member whose console is closed is
//! told of a new waiting chat and of a visitor's message in a chat they serve, on every device
//! where they switched notifications on.
//!
//! The same shape as email (`src/email/`): the live state's rules put a `Push` in their plan
//! (only for staff in `Subscribed`, the in-memory set of staff with subscriptions, and only when
//! they have no console connection), the delivery task hands it over after the commit
//! (`Pusher::notify`, never waits), and the task here encrypts (RFC 8291, `web-push-native`),
//! signs (VAPID, `vapid.rs`) and posts (`send.rs`) with bounded retries. A push service that
//! answers 404 or 410 has dropped the subscription: it is deleted.

pub mod send;
pub mod vapid;

use crate::model::{now_ms, ChatId, StaffId};
use crate::settings::Settings;
use crate::store::push::{self as db, Subscription};
use crate::store::{accounts, Store};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use serde_json::value::RawValue;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};

/// Subscriptions kept per staff member; the oldest go beyond it.
pub const MAX_PER_STAFF: usize = 10;
/// The longest endpoint URL accepted.
pub const MAX_ENDPOINT: usize = 1000;
/// How long a push service keeps trying to reach a device that is off: an alert about a chat
/// is stale after that (the email covers longer absences).
const TTL: Duration = Duration::from_secs(60 * 60);
/// Tries per subscription and the wait before the second (each next wait is 4× longer).
const ATTEMPTS: u32 = 3;
const RETRY_FIRST: Duration = Duration::from_secs(2);
const QUEUE: usize = 1024;
const PARALLEL: usize = 8;
/// The longest message text in a notification.
const BODY_CHARS: usize = 180;

/// What a push is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A new chat started waiting.
    NewChat,
    /// The visitor wrote in a chat the staff member serves.
    Message,
}

/// A push the live state decided on: these staff members hear of this chat.
#[derive(Debug, Clone)]
pub struct Push {
    pub kind: Kind,
    pub staff: Vec<StaffId>,
    pub chat_id: ChatId,
    pub visitor: String,
    pub content: Arc<RawValue>,
}

/// The staff members who have at least one subscription; shared by the live state (which
/// reads it when someone it would tell has no console open) and the REST handlers.
#[derive(Clone, Default)]
pub struct Subscribed {
    any: Arc<AtomicBool>,
    set: Arc<RwLock<HashSet<StaffId>>>,
}

impl Subscribed {
    /// Nobody has subscribed: the rules' one branch on the chat path.
    pub fn is_empty(&self) -> bool {
        !self.any.load(Ordering::Relaxed)
    }

    pub fn contains(&self, sid: &str) -> bool {
        !self.is_empty() && self.set.read().is_ok_and(|s| s.contains(sid))
    }

    /// The subscribed staff for whom `away` holds.
    pub fn those(&self, away: impl Fn(&StaffId) -> bool) -> Vec<StaffId> {
        if self.is_empty() {
            return vec![];
        }
        self.set
            .read()
            .map(|s| s.iter().filter(|sid| away(sid)).cloned().collect())
            .unwrap_or_default()
    }

    pub fn set(&self, sid: &StaffId, subscribed: bool) {
        if let Ok(mut s) = self.set.write() {
            if subscribed {
                s.insert(sid.clone());
            } else {
                s.remove(sid.as_str());
            }
            self.any.store(!s.is_empty(), Ordering::Relaxed);
        }
    }
}

/// Checks an endpoint: an `https://` URL, or `http://` to a loopback address (tests), at
/// most `MAX_ENDPOINT` characters. The reason in words otherwise.
pub fn check_endpoint(endpoint: &str) -> Result<url::Url, &'static str> {
    if endpoint.len() > MAX_ENDPOINT {
        return Err("longer than 1000 characters");
    }
    let url = url::Url::parse(endpoint).map_err(|_| "not a URL")?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err("not an https:// URL"),
    }
}

/// A base64url key of `len` bytes (padding and standard base64 tolerated), or why not.
pub fn decode_key(text: &str, len: usize) -> Result<Vec<u8>, String> {
    let clean: String = text
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    let bytes = B64.decode(clean).map_err(|_| "not base64url".to_string())?;
    if bytes.len() != len {
        return Err(format!("{} bytes, not {len}", bytes.len()));
    }
    Ok(bytes)
}

/// The push sender: cheap to clone.
#[derive(Clone)]
pub struct Pusher {
    tx: mpsc::Sender<Push>,
    store: Store,
    vapid: Arc<vapid::Vapid>,
    subscribed: Subscribed,
    public_url: Arc<str>,
}

impl Pusher {
    /// Loads (or, on first start, makes and keeps) the VAPID key and who has subscriptions,
    /// and starts the sending task.
    pub async fn start(store: Store, public_url: &str) -> Result<Pusher, String> {
        let key = store
            .write(|c| db::vapid_key(c, vapid::Vapid::generate, now_ms()))
            .await
            .map_err(|e| format!("the VAPID key could not be read or kept: {e}"))?;
        let vapid = vapid::Vapid::from_private(&key)?;
        let subscribed = Subscribed::default();
        let staff = store
            .read(db::subscribed_staff)
            .await
            .map_err(|e| format!("the push subscriptions could not be read: {e}"))?;
        for sid in &staff {
            subscribed.set(sid, true);
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let pusher = Pusher {
            tx,
            store,
            vapid: Arc::new(vapid),
            subscribed,
            public_url: public_url.trim_end_matches('/').into(),
        };
        tokio::spawn(run(pusher.clone(), rx));
        Ok(pusher)
    }

    pub fn public_key(&self) -> &str {
        self.vapid.public_key()
    }

    pub fn subscribed(&self) -> &Subscribed {
        &self.subscribed
    }

    /// Hands a push to the sending task; never waits.
    pub fn notify(&self, push: Push) {
        if self.tx.try_send(push).is_err() {
            tracing::warn!("the push queue is full or stopped; a push is dropped");
        }
    }

    /// The notification's JSON: `{title, body, chat_id, url}`.
    fn payload(&self, push: &Push) -> String {
        let title = match push.kind {
            Kind::NewChat => format!("New chat from {}", push.visitor),
            Kind::Message => format!("New message from {}", push.visitor),
        };
        let text = crate::email::compose::message_text(&push.content);
        let body = match text.char_indices().nth(BODY_CHARS) {
            Some((end, _)) => format!("{}…", &text[..end]),
            None => text,
        };
        serde_json::json!({
            "title": title,
            "body": body,
            "chat_id": push.chat_id,
            "url": format!("{}/console/#chat={}", self.public_url, push.chat_id),
        })
        .to_string()
    }

    /// The VAPID contact: `mailto:` the `email_from` setting, else the public URL.
    async fn subject(&self) -> String {
        let rows = self
            .store
            .read(accounts::load_settings)
            .await
            .unwrap_or_default();
        match Settings::from_rows(&rows).email.email_from {
            Some(from) => format!("mailto:{}", from.email),
            None => self.public_url.to_string(),
        }
    }

    /// One push to one subscription, retried on network errors, 429 and 5xx.
    async fn deliver(&self, sub: Subscription, payload: Arc<str>, subject: Arc<str>) {
        let outcome = self.try_deliver(&sub, &payload, &subject).await;
        let store = &self.store;
        let endpoint = sub.endpoint.clone();
        match outcome {
            Delivered::Ok => {
                let _ = store
                    .write(move |c| db::set_outcome(c, &endpoint, None))
                    .await;
            }
            Delivered::Gone => {
                tracing::info!(staff = %sub.staff_id, "a push subscription is gone; deleted");
                let sid = sub.staff_id.clone();
                let left = store
                    .write(move |c| {
                        db::forget_endpoint(c, &endpoint)?;
                        db::has_subscriptions(c, &sid)
                    })
                    .await;
                if let Ok(false) = left {
                    self.subscribed.set(&sub.staff_id, false);
                }
            }
            Delivered::Failed(why) => {
                tracing::warn!(staff = %sub.staff_id, error = %why, "a push was not delivered");
                let _ = store
                    .write(move |c| db::set_outcome(c, &endpoint, Some(&why)))
                    .await;
            }
        }
    }

    async fn try_deliver(&self, sub: &Subscription, payload: &str, subject: &str) -> Delivered {
        let Ok(url) = check_endpoint(&sub.endpoint) else {
            return Delivered::Gone;
        };
        let keys = decode_key(&sub.p256dh, 65).and_then(|k| {
            p256::PublicKey::from_sec1_bytes(&k).map_err(|_| "not a P-256 point".into())
        });
        let (Ok(ua_public), Ok(auth)) = (keys, decode_key(&sub.auth, 16)) else {
            return Delivered::Gone;
        };
        let Ok(uri) = sub.endpoint.parse::<http::Uri>() else {
            return Delivered::Gone;
        };
        let origin = url.origin().ascii_serialization();
        let builder = web_push_native::WebPushBuilder::new(
            uri,
            ua_public,
            web_push_native::Auth::clone_from_slice(&auth),
        )
        .with_valid_duration(TTL);
        let mut wait = RETRY_FIRST;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            let mut req = match builder.build(payload.as_bytes()) {
                Ok(r) => r,
                Err(e) => return Delivered::Failed(format!("Encryption failed: {e}.")),
            };
            let now = (now_ms() / 1000).max(0) as u64;
            let auth = self.vapid.authorization(&origin, subject, now);
            match auth.parse() {
                Ok(v) => req.headers_mut().insert(http::header::AUTHORIZATION, v),
                Err(_) => return Delivered::Failed("The VAPID header is not valid.".into()),
            };
            match send::post(&url, req).await {
                Ok(s) if s.is_success() => return Delivered::Ok,
                Ok(s) if s == http::StatusCode::NOT_FOUND || s == http::StatusCode::GONE => {
                    return Delivered::Gone
                }
                Ok(s) if s == http::StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => {
                    last = format!("The push service answered {s}.");
                }
                Ok(s) => return Delivered::Failed(format!("The push service answered {s}.")),
                Err(why) => last = why,
            }
            if attempt < ATTEMPTS {
                tracing::debug!(attempt, error = %last, "push not delivered; trying again");
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(4);
            }
        }
        Delivered::Failed(last)
    }
}

enum Delivered {
    Ok,
    Gone,
    Failed(String),
}

async fn run(pusher: Pusher, mut rx: mpsc::Receiver<Push>) {
    let slots = Arc::new(Semaphore::new(PARALLEL));
    while let Some(push) = rx.recv().await {
        let staff = push.staff.clone();
        let subs = match pusher
            .store
            .read(move |c| db::subscriptions_of(c, &staff))
            .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "push subscriptions could not be read");
                continue;
            }
        };
        if subs.is_empty() {
            continue;
        }
        let payload: Arc<str> = pusher.payload(&push).into();
        let subject: Arc<str> = pusher.subject().await.into();
        for sub in subs {
            let Ok(slot) = slots.clone().acquire_owned().await else {
                return;
            };
            let p = pusher.clone();
            let (payload, subject) = (payload.clone(), subject.clone());
            tokio::spawn(async move {
                p.deliver(sub, payload, subject).await;
                drop(slot);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_or_loopback_http() {
        assert!(check_endpoint("https://fcm.googleapis.com/fcm/send/abc").is_ok());
        assert!(check_endpoint("http://127.0.0.1:9/p").is_ok());
        assert!(check_endpoint("http://[::1]:9/p").is_ok());
        assert!(check_endpoint("http://localhost:9/p").is_ok());
        assert!(check_endpoint("http://push.example.net/p").is_err());
        assert!(check_endpoint("ftp://127.0.0.1/p").is_err());
        assert!(check_endpoint("not a url").is_err());
        let long = format!("https://a.example/{}", "x".repeat(1000));
        assert!(check_endpoint(&long).is_err());
    }

    #[test]
    fn keys_must_have_their_length() {
        assert_eq!(decode_key(&B64.encode([1u8; 16]), 16).unwrap(), [1u8; 16]);
        assert!(decode_key(&B64.encode([1u8; 15]), 16).is_err());
        assert!(decode_key("***", 16).is_err());
    }

    #[test]
    fn the_set_answers_who_is_subscribed() {
        let s = Subscribed::default();
        assert!(s.is_empty());
        let a = StaffId::from("a");
        s.set(&a, true);
        assert!(s.contains("a") && !s.contains("b"));
        assert_eq!(s.those(|_| true), vec![a.clone()]);
        assert!(s.those(|_| false).is_empty());
        s.set(&a, false);
        assert!(s.is_empty());
    }
}
