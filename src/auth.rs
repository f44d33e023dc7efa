//! Passwords, access tokens, login throttling, and who is behind a token.

use crate::error::{ApiError, StoreError};
use crate::model::{now_ms, Staff, Visitor};
use crate::store::accounts::{self, Subject, TokenKind};
use crate::store::Store;
use argon2::password_hash::{phc::PasswordHash, PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The shortest password we accept.
pub const MIN_PASSWORD_LEN: usize = 8;

/// argon2id with the crate's default parameters (19 MiB, 2 passes), PHC string out.
pub fn hash_password(password: &str) -> Result<String, StoreError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Invalid(format!("could not hash the password: {e}")))
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash of a password nobody has, verified against when the email is unknown so that a
/// wrong email costs the same time as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("frontdesk-no-such-account").unwrap_or_default())
}

pub fn check_new_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ApiError::bad_request(format!(
            "Invalid field: password (at least {MIN_PASSWORD_LEN} characters)."
        )));
    }
    if password.len() > 1024 {
        return Err(ApiError::bad_request(
            "Invalid field: password (at most 1024 bytes).",
        ));
    }
    Ok(())
}

/// A new opaque token: 32 random bytes as 64 hex digits.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Takes the token out of an `Authorization` value: `Bearer ` is optional.
pub fn parse_authorization(value: &str) -> Option<&str> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let v = match v.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("bearer ") => v[7..].trim(),
        _ => v,
    };
    (!v.is_empty()).then_some(v)
}

/// Who is behind a token.
#[derive(Debug, Clone)]
pub enum Principal {
    Staff(Staff),
    Visitor(Visitor),
}

/// A new token with its hash and its expiry (ms) `ttl` from now.
pub fn mint(ttl: Duration) -> (String, Vec<u8>, i64) {
    let token = new_token();
    let hash = token_hash(&token);
    (token, hash, now_ms() + ttl.as_millis() as i64)
}

/// Issues a token for a subject, valid for `ttl`. Returns the token and its expiry (ms).
pub async fn issue_token(
    store: &Store,
    kind: TokenKind,
    subject: &str,
    ttl: Duration,
) -> Result<(String, i64), StoreError> {
    let (token, hash, expires_at) = mint(ttl);
    let subject = subject.to_string();
    store
        .write(move |c| accounts::insert_token(c, &hash, kind, &subject, expires_at))
        .await?;
    Ok((token, expires_at))
}

/// Resolves a raw token (already stripped of `Bearer `) to its principal.
pub async fn authenticate(store: &Store, token: &str) -> Result<Principal, ApiError> {
    authenticate_session(store, token).await.map(|(p, _)| p)
}

/// What a live connection keeps of the token that opened it: the live state cuts the
/// connection when that token is revoked (logout, disable, password change) or expires.
#[derive(Debug, Clone)]
pub struct Credential {
    pub hash: Vec<u8>,
    /// ms since the epoch.
    pub expires_at: i64,
}

/// `authenticate`, also returning the token's credential for a live connection.
pub async fn authenticate_session(
    store: &Store,
    token: &str,
) -> Result<(Principal, Credential), ApiError> {
    // Our tokens are 64 hex digits; anything else cannot match and needs no database trip.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::unauthorized("The access token is invalid."));
    }
    let hash = token_hash(token);
    let lookup = hash.clone();
    let subject = store
        .read(move |c| accounts::token_subject_until(c, &lookup))
        .await?;
    let (who, expires_at) = match subject {
        Some((Subject::Staff(s), at)) => (Principal::Staff(s), at),
        Some((Subject::Visitor(v), at)) => (Principal::Visitor(v), at),
        None => {
            return Err(ApiError::unauthorized(
                "The access token is invalid, expired or revoked.",
            ))
        }
    };
    Ok((who, Credential { hash, expires_at }))
}

/// Logins: who may try, and how many argon2 computations run at once.
///
/// Issue 10 found two faults. Failures were counted after verifying, so N concurrent guesses
/// from one IP all ran argon2 (19 MiB each, unbounded: 60 at once peaked at 322 MB) and all
/// got 401; and a per-account failure limit let anyone lock an admin out with 10 requests per
/// window. The design:
///
/// - **Counted before verifying.** `begin` reserves the attempt atomically (one lock for every
///   key it touches) before any argon2 runs: a pending attempt counts as a failure until it
///   ends. N concurrent guesses from one IP verify at most `login_max_failures`; the rest get
///   429 with `Retry-After` at once and cost nothing. A correct password gives its reservation
///   back (`succeeded`), so signing in never uses up the budget; a server-side failure gives it
///   back too (`abandoned`): the client is not to blame.
/// - **Per IP**: `login_max_failures` failures per window from one address (an IPv6 /64
///   counts as one), whatever the accounts. This is what stops a guesser.
/// - **Per account, no lock-out**: a much higher ceiling, `login_account_max_failures`, of
///   failures per window against one account from all addresses, which bounds a distributed
///   guess. The ceiling only stops addresses that have themselves already failed on this
///   account in the window: an address with a clean record for the account (the owner at their
///   desk) always gets its password checked. Guesses per account per window are then at most
///   the ceiling plus one per attacker address, instead of `login_max_failures` per attacker
///   address, and the owner is never refused for what others did. (The price: an owner who
///   mistypes once while the account is under a distributed attack waits for the window.)
/// - **Bounded verifications**: at most `available_parallelism()` argon2 computations at once
///   (a semaphore), so memory stays under cores × 19 MiB whatever arrives. More would not be
///   faster anyway: argon2 is CPU- and memory-bound. The permit moves into the blocking task,
///   so a client that hangs up does not free a slot while its hash still runs.
/// - **A bounded, short queue**: logins waiting for a permit are few in normal use (an office
///   signing in at nine). Past `MAX_WAITING_PER_SLOT` waiters per permit, or after
///   `LOGIN_QUEUE_WAIT` in the queue, the answer is 503 with `Retry-After`: a clear "busy, try
///   again" rather than requests piling up (each holds a connection and a body) or hanging
///   until the client gives up. 503, not 429: the server is busy, the client did nothing wrong,
///   and its reservation is given back.
pub struct LoginGuard {
    max_per_ip: usize,
    max_per_account: usize,
    window: Duration,
    /// Attempt times (pending or failed) per key: `ip:…`, `account:…`, `pair:…|…`.
    attempts: Mutex<HashMap<String, Vec<Instant>>>,
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// How long a login waits for an argon2 slot before it is answered 503.
pub const LOGIN_QUEUE_WAIT: Duration = Duration::from_secs(10);
/// Logins that may wait per slot; beyond that, 503 at once.
pub const MAX_WAITING_PER_SLOT: usize = 32;
/// When the server is too busy hashing: try again after this many seconds.
const BUSY_RETRY_SECS: u64 = 2;

/// The source an address counts as: itself for IPv4, its /64 for IPv6 (one subscriber or
/// one host usually holds a whole /64, so per-address limits on single IPv6 addresses would
/// let a guesser rotate through billions of them).
fn source(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// A reserved login attempt: end it with `succeeded` or `abandoned`; dropping it means it
/// failed (its reservation stays as a failure).
pub struct Attempt {
    ip: String,
    account: String,
    pair: String,
    at: Instant,
}

impl LoginGuard {
    pub fn new(max_per_ip: usize, max_per_account: usize, window: Duration) -> LoginGuard {
        let slots = std::thread::available_parallelism().map_or(1, |n| n.get());
        LoginGuard::with_slots(max_per_ip, max_per_account, window, slots)
    }

    pub fn with_slots(
        max_per_ip: usize,
        max_per_account: usize,
        window: Duration,
        slots: usize,
    ) -> LoginGuard {
        let slots = slots.max(1);
        LoginGuard {
            max_per_ip: max_per_ip.max(1),
            max_per_account: max_per_account.max(1),
            window,
            attempts: Mutex::new(HashMap::new()),
            slots: Arc::new(Semaphore::new(slots)),
            waiting: AtomicUsize::new(0),
            max_waiting: slots * MAX_WAITING_PER_SLOT,
        }
    }

    /// Reserves an attempt from `ip` on `email` (normalised by the caller), or says how many
    /// seconds to wait (429).
    pub fn begin(&self, ip: IpAddr, email: &str) -> Result<Attempt, u64> {
        let now = Instant::now();
        let ip = source(ip);
        let window = self.window;
        let attempt = Attempt {
            ip: format!("ip:{ip}"),
            account: format!("account:{email}"),
            pair: format!("pair:{email}|{ip}"),
            at: now,
        };
        let Ok(mut map) = self.attempts.lock() else {
            return Err(1);
        };
        // Bound what an attacker can make us hold: drop stale keys when the map grows.
        if map.len() > 10_000 {
            map.retain(|_, l| l.last().is_some_and(|t| now.duration_since(*t) < window));
        }
        let mut live = |key: &str| -> (usize, Option<Instant>) {
            match map.get_mut(key) {
                Some(list) => {
                    list.retain(|t| now.duration_since(*t) < window);
                    (list.len(), list.first().copied())
                }
                None => (0, None),
            }
        };
        let wait = |oldest: Option<Instant>| {
            oldest.map_or(1, |o| {
                window.saturating_sub(now.duration_since(o)).as_secs() + 1
            })
        };
        let (by_ip, ip_oldest) = live(&attempt.ip);
        if by_ip >= self.max_per_ip {
            return Err(wait(ip_oldest));
        }
        let (by_pair, _) = live(&attempt.pair);
        let (by_account, account_oldest) = live(&attempt.account);
        if by_pair > 0 && by_account >= self.max_per_account {
            return Err(wait(account_oldest));
        }
        for (key, cap) in [
            (&attempt.ip, self.max_per_ip),
            (&attempt.account, self.max_per_account),
            (&attempt.pair, self.max_per_ip),
        ] {
            let list = map.entry(key.clone()).or_default();
            list.push(now);
            // Only the newest `cap` matter; keep the list from growing without bound.
            if list.len() > cap * 2 {
                list.remove(0);
            }
        }
        Ok(attempt)
    }

    fn remove(&self, a: &Attempt, keys: &[&str]) {
        if let Ok(mut map) = self.attempts.lock() {
            for key in keys {
                if let Some(list) = map.get_mut(*key) {
                    if let Some(i) = list.iter().position(|t| *t == a.at) {
                        list.remove(i);
                    }
                    if list.is_empty() {
                        map.remove(*key);
                    }
                }
            }
        }
    }

    /// The right password: the reservation is given back, and this address's failures on
    /// this account are forgotten.
    pub fn succeeded(&self, a: Attempt) {
        self.remove(&a, &[&a.ip, &a.account]);
        if let Ok(mut map) = self.attempts.lock() {
            map.remove(&a.pair);
        }
    }

    /// Not the client's doing (the server was busy or failed): the reservation is given back.
    pub fn abandoned(&self, a: Attempt) {
        self.remove(&a, &[&a.ip, &a.account, &a.pair]);
    }

    /// Waits (briefly, in a bounded queue) for the right to run one argon2 computation.
    pub async fn slot(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(p) = self.slots.clone().try_acquire_owned() {
            return Ok(p);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(busy());
        }
        let got = tokio::time::timeout(LOGIN_QUEUE_WAIT, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        match got {
            Ok(Ok(p)) => Ok(p),
            _ => Err(busy()),
        }
    }

    /// Runs `f` (an argon2 hash or verification) on a blocking thread while holding a slot.
    pub async fn hashing<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let permit = self.slot().await?;
        tokio::task::spawn_blocking(move || {
            // Held until the computation ends, even if the request is dropped meanwhile.
            let _permit = permit;
            f()
        })
        .await
        .map_err(|_| ApiError::internal())
    }
}

fn busy() -> ApiError {
    ApiError {
        retry_after: Some(BUSY_RETRY_SECS),
        ..ApiError::unavailable("The server is busy checking passwords; try again in a moment.")
    }
}

/// Counts events per key (visitor creations per IP) in a sliding window.
pub struct Throttle {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl Throttle {
    pub fn new(max_failures: usize, window: Duration) -> Throttle {
        Throttle {
            max_failures,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(seconds to wait)` if `key` has used up its failures in the window.
    pub fn blocked(&self, key: &str) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().ok()?;
        let list = map.get_mut(key)?;
        list.retain(|t| now.duration_since(*t) < self.window);
        if list.len() >= self.max_failures {
            let oldest = list.first().copied()?;
            let wait = self.window.saturating_sub(now.duration_since(oldest));
            return Some(wait.as_secs() + 1);
        }
        None
    }

    pub fn fail(&self, key: &str) {
        let now = Instant::now();
        if let Ok(mut map) = self.failures.lock() {
            // Bound the memory an attacker can make us hold: drop stale keys when it grows.
            if map.len() > 10_000 {
                let window = self.window;
                map.retain(|_, l| l.last().is_some_and(|t| now.duration_since(*t) < window));
            }
            let list = map.entry(key.to_string()).or_default();
            list.push(now);
            if list.len() > self.max_failures * 2 {
                list.remove(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_to_argon2id_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn bearer_prefix_is_optional() {
        assert_eq!(parse_authorization("Bearer abc"), Some("abc"));
        assert_eq!(parse_authorization("bearer  abc "), Some("abc"));
        assert_eq!(parse_authorization("abc"), Some("abc"));
        assert_eq!(parse_authorization("Bearer "), None);
        assert_eq!(parse_authorization(""), None);
    }

    #[test]
    fn tokens_are_256_bits_and_distinct() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_token());
        assert_eq!(token_hash(&a).len(), 32);
    }

    fn ip(n: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, n])
    }

    #[test]
    fn login_attempts_are_reserved_before_verifying() {
        let g = LoginGuard::with_slots(3, 100, Duration::from_secs(60), 1);
        // Three pending attempts use up the address; the fourth is refused before any hash.
        let held: Vec<Attempt> = (0..3)
            .map(|_| g.begin(ip(1), "a@x.test").unwrap())
            .collect();
        let wait = g.begin(ip(1), "a@x.test").err().unwrap();
        assert!((1..=61).contains(&wait), "{wait}");
        assert!(
            g.begin(ip(1), "b@x.test").is_err(),
            "per address, any account"
        );
        assert!(
            g.begin(ip(2), "a@x.test").is_ok(),
            "other addresses are not affected"
        );
        // A success gives its reservation back; a failure keeps it.
        let mut held = held.into_iter();
        g.succeeded(held.next().unwrap());
        let again = g.begin(ip(1), "a@x.test").unwrap();
        drop(again);
        assert!(g.begin(ip(1), "a@x.test").is_err());
        // So does a server-side failure.
        g.abandoned(held.next().unwrap());
        assert!(g.begin(ip(1), "a@x.test").is_ok());
    }

    #[test]
    fn the_account_ceiling_never_stops_a_clean_address() {
        let g = LoginGuard::with_slots(10, 3, Duration::from_secs(60), 1);
        for n in 1..=5 {
            // Clean addresses all get checked, even past the account's ceiling...
            drop(g.begin(ip(n), "owner@x.test").unwrap());
        }
        // ...but one that already failed on this account is stopped by it,
        assert!(g.begin(ip(1), "owner@x.test").is_err());
        // not on other accounts,
        assert!(g.begin(ip(1), "other@x.test").is_ok());
        // and the owner from a fresh address still gets in.
        let owner = g.begin(ip(9), "owner@x.test").unwrap();
        g.succeeded(owner);
        assert!(g.begin(ip(9), "owner@x.test").is_ok());
    }

    #[test]
    fn an_ipv6_64_is_one_source() {
        let g = LoginGuard::with_slots(2, 100, Duration::from_secs(60), 1);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        drop(g.begin(a, "x@x.test").unwrap());
        drop(g.begin(b, "y@x.test").unwrap());
        assert!(g.begin(a, "z@x.test").is_err(), "the /64 used its budget");
        assert!(g.begin(other, "x@x.test").is_ok());
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(source(mapped), "127.0.0.1");
    }

    #[tokio::test]
    async fn hashing_runs_at_most_the_slots_at_once() {
        let g = Arc::new(LoginGuard::with_slots(10, 10, Duration::from_secs(60), 2));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (g, running, peak) = (g.clone(), running.clone(), peak.clone());
                tokio::spawn(async move {
                    g.hashing(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(30));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= 2, "{peak:?}");
    }

    #[test]
    fn throttle_blocks_after_max_failures_per_key() {
        let t = Throttle::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(t.blocked("ip:1"), None);
            t.fail("ip:1");
        }
        let wait = t.blocked("ip:1").unwrap();
        assert!((1..=61).contains(&wait), "{wait}");
        assert_eq!(t.blocked("ip:2"), None);
    }
}
