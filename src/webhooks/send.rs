//! One webhook POST: the JSON body with `Frontdesk-Event`, `Frontdesk-Delivery` and
//! `Frontdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (the
//! timestamp is signed, so a receiver can refuse a replay older than a few minutes). It goes
//! out on the same hyper + rustls exchange as Web Push (`push/send.rs`).

use hmac::{Hmac, Mac};
use http::{header, Request, StatusCode};
use sha2::Sha256;
use std::time::Duration;

/// The whole exchange (connect, TLS, request, answer head) within this.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// `t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a hook's URL: `http://` or `https://` with a host, at most `super::MAX_URL`
/// characters. The reason in words otherwise.
pub fn check_url(url: &str) -> Result<url::Url, &'static str> {
    if url.len() > super::MAX_URL {
        return Err("is longer than 2000 characters");
    }
    let parsed = url::Url::parse(url).map_err(|_| "is not a URL")?;
    match parsed.scheme() {
        "http" | "https" if parsed.host().is_some() => Ok(parsed),
        _ => Err("must be an http:// or https:// URL"),
    }
}

/// Posts `body` to `url`; the receiver's status, or a sentence saying why there is none.
pub async fn post(
    url: &str,
    secret: &str,
    event: &str,
    delivery: &str,
    body: &str,
) -> Result<StatusCode, String> {
    let endpoint = check_url(url).map_err(|why| format!("The URL {why}."))?;
    let t = crate::model::now_ms() / 1000;
    let req = Request::post(endpoint.as_str())
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "Frontdesk-Webhooks")
        .header("frontdesk-event", event)
        .header("frontdesk-delivery", delivery)
        .header("frontdesk-signature", signature(secret, t, body))
        .body(body.as_bytes().to_vec())
        .map_err(|e| format!("The request could not be made: {e}."))?;
    crate::push::send::post_with(&endpoint, req, TIMEOUT, "the receiver").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_stripes_scheme() {
        // HMAC-SHA256("key", "1.{}"), worked out with Python's hmac module.
        assert_eq!(
            signature("key", 1, "{}"),
            "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }

    #[test]
    fn urls_are_http_or_https() {
        assert!(check_url("https://hooks.example.com/x").is_ok());
        assert!(check_url("http://10.0.0.1:8080/x").is_ok());
        assert!(check_url("ftp://example.com/").is_err());
        assert!(check_url("nope").is_err());
        assert!(check_url(&format!("https://a.example/{}", "x".repeat(2000))).is_err());
    }
}
