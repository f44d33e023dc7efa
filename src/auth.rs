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
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// Counts failed logins per key (an IP, an account) in a sliding window.
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

    pub fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
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
        t.clear("ip:1");
        assert_eq!(t.blocked("ip:1"), None);
    }
}
