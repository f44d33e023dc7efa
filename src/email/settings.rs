//! The email settings (product.md §8.9): `smtp_url`, `email_from`, `notify_emails`,
//! `email_reply_after_secs`. Kept in
//! `Settings` (src/settings.rs delegates each key here). The SMTP password is stored as given
//! and never shown: `GET /api/v1/settings` and `Debug` print the URL with `********` in its
//! place, and a PATCH that sends that masked URL back keeps the stored password.

use crate::settings::Invalid;
use lettre::message::Mailbox;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::Value;

/// What stands for the password wherever the URL is shown.
pub const MASK: &str = "********";
pub const MAX_NOTIFY_EMAILS: usize = 20;
const MAX_URL_CHARS: usize = 1000;

/// The keys handled here.
pub const KEYS: &[&str] = &[
    "smtp_url",
    "email_from",
    "notify_emails",
    "email_reply_after_secs",
];
/// `email_reply_after_secs`: 0 is off.
pub const REPLY_AFTER_SECS: std::ops::RangeInclusive<u64> = 0..=86_400;
pub const DEFAULT_REPLY_AFTER_SECS: u64 = 300;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtps://`: TLS from the first byte (port 465 by default).
    Implicit,
    /// `smtp://` (the default): STARTTLS, required (port 587 by default).
    StartTls,
    /// `smtp://…?tls=opportunistic`: STARTTLS when the server offers it.
    Opportunistic,
    /// `smtp://…?tls=none`: plain text (a relay on loopback).
    None,
}

/// `smtp_url`, parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpUrl {
    /// As given (with the password): what is stored.
    raw: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: Option<String>,
    pub password: Option<String>,
}

impl SmtpUrl {
    /// Parses `smtp[s]://[user[:password]@]host[:port][?tls=required|opportunistic|none]`.
    /// User and password are percent-decoded.
    pub fn parse(raw: &str) -> Result<SmtpUrl, String> {
        if raw.chars().count() > MAX_URL_CHARS {
            return Err(format!("at most {MAX_URL_CHARS} characters."));
        }
        let url = url::Url::parse(raw).map_err(|_| {
            "expected a URL such as smtp://user:password@mail.example.com:587 (STARTTLS), \
             smtps://user:password@mail.example.com:465 (TLS) or smtp://127.0.0.1:25?tls=none."
                .to_string()
        })?;
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.to_string());
        let security = match (url.scheme(), tls.as_deref()) {
            ("smtps", None) => Security::Implicit,
            ("smtp", None | Some("required")) => Security::StartTls,
            ("smtp", Some("opportunistic")) => Security::Opportunistic,
            ("smtp", Some("none")) => Security::None,
            ("smtp" | "smtps", Some(other)) => {
                return Err(format!(
                    "tls={other:?} is not one of required, opportunistic or none (smtp:// only)."
                ))
            }
            (scheme, _) => {
                return Err(format!(
                    "the scheme must be smtp:// (STARTTLS) or smtps:// (TLS), not {scheme}://."
                ))
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("the URL names no host.")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = url.port().unwrap_or(match security {
            Security::Implicit => 465,
            Security::StartTls | Security::Opportunistic => 587,
            Security::None => 25,
        });
        let decode = |s: &str| {
            percent_decode(s).ok_or("the user name or password is not valid UTF-8.".to_string())
        };
        let user = match url.username() {
            "" => None,
            u => Some(decode(u)?),
        };
        let password = url.password().map(decode).transpose()?;
        if password.is_some() && user.is_none() {
            return Err("a password needs a user name (smtp://user:password@host).".into());
        }
        Ok(SmtpUrl {
            raw: raw.to_string(),
            host,
            port,
            security,
            user,
            password,
        })
    }

    /// The URL as shown: the password replaced with `********`.
    pub fn masked(&self) -> String {
        match url::Url::parse(&self.raw) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some(MASK));
                u.to_string()
            }
            Ok(u) => u.to_string(),
            Err(_) => String::new(),
        }
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpUrl({})", self.masked())
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The email part of the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailSettings {
    /// `None`: email is off.
    pub smtp_url: Option<SmtpUrl>,
    /// The sender, e.g. `Shop Support <support@shop.example>`.
    pub email_from: Option<Mailbox>,
    /// Who hears of a message left while nobody was available.
    pub notify_emails: Vec<Mailbox>,
    /// A staff reply the visitor has not read for this long, while they are not connected,
    /// is emailed to them (if they gave an address); 0: never.
    pub email_reply_after_secs: u64,
}

impl Default for EmailSettings {
    fn default() -> EmailSettings {
        EmailSettings {
            smtp_url: None,
            email_from: None,
            notify_emails: vec![],
            email_reply_after_secs: DEFAULT_REPLY_AFTER_SECS,
        }
    }
}

impl EmailSettings {
    /// Whether email can be sent at all.
    pub fn is_on(&self) -> bool {
        self.smtp_url.is_some() && self.email_from.is_some()
    }

    /// Applies one key (one of `KEYS`); a bad value is a sentence naming the key.
    pub fn patch(&mut self, key: &str, value: &Value) -> Result<(), Invalid> {
        let bad = |why: String| Invalid(format!("{key}: {why}"));
        match key {
            "smtp_url" => {
                let text = match value {
                    Value::Null => None,
                    Value::String(s) if s.trim().is_empty() => None,
                    Value::String(s) => Some(s.trim()),
                    _ => return Err(bad("expected a text (or null to turn email off).".into())),
                };
                self.smtp_url = match text {
                    None => None,
                    Some(t) => Some(self.keep_password(SmtpUrl::parse(t).map_err(bad)?)),
                };
            }
            "email_from" => {
                self.email_from = match value {
                    Value::Null => None,
                    Value::String(s) if s.trim().is_empty() => None,
                    Value::String(s) => Some(mailbox(s).map_err(bad)?),
                    _ => {
                        return Err(bad(
                            "expected a text such as \"Shop <support@shop.example>\".".into(),
                        ))
                    }
                };
            }
            "notify_emails" => {
                let list = match value {
                    Value::Null => vec![],
                    Value::Array(items) => items.clone(),
                    _ => return Err(bad("expected a list of email addresses.".into())),
                };
                if list.len() > MAX_NOTIFY_EMAILS {
                    return Err(bad(format!("at most {MAX_NOTIFY_EMAILS} addresses.")));
                }
                let mut out: Vec<Mailbox> = Vec::with_capacity(list.len());
                for item in &list {
                    let s = item
                        .as_str()
                        .ok_or_else(|| bad("expected a list of email addresses.".into()))?;
                    let m = mailbox(s).map_err(bad)?;
                    if !out.iter().any(|o| o.email == m.email) {
                        out.push(m);
                    }
                }
                self.notify_emails = out;
            }
            "email_reply_after_secs" => {
                self.email_reply_after_secs = value
                    .as_u64()
                    .filter(|n| REPLY_AFTER_SECS.contains(n))
                    .ok_or_else(|| {
                        bad(format!(
                            "must be a whole number of seconds from {} (off) to {}.",
                            REPLY_AFTER_SECS.start(),
                            REPLY_AFTER_SECS.end()
                        ))
                    })?;
            }
            other => return Err(Invalid(format!("{other}: there is no such setting."))),
        }
        Ok(())
    }

    /// A URL sent back with the masked password (as GET showed it) keeps the stored one.
    fn keep_password(&self, mut next: SmtpUrl) -> SmtpUrl {
        if next.password.as_deref() != Some(MASK) {
            return next;
        }
        let stored = self.smtp_url.as_ref().and_then(|s| s.password.clone());
        if let Ok(mut u) = url::Url::parse(&next.raw) {
            let set = match &stored {
                Some(p) => u.set_password(Some(&encode_userinfo(p))),
                None => u.set_password(None),
            };
            if set.is_ok() {
                next.raw = u.to_string();
            }
        }
        next.password = stored;
        next
    }

    /// The stored form: `(key, JSON)` per key, the password included.
    pub fn rows(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "smtp_url",
                Value::from(self.smtp_url.as_ref().map(|u| u.raw().to_string())).to_string(),
            ),
            (
                "email_from",
                Value::from(self.email_from.as_ref().map(|m| m.to_string())).to_string(),
            ),
            (
                "notify_emails",
                Value::from(
                    self.notify_emails
                        .iter()
                        .map(|m| m.to_string())
                        .collect::<Vec<_>>(),
                )
                .to_string(),
            ),
            (
                "email_reply_after_secs",
                Value::from(self.email_reply_after_secs).to_string(),
            ),
        ]
    }
}

/// Percent-encodes a password for the userinfo part of a URL.
fn encode_userinfo(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An address with an optional display name: `a@b.example` or `Name <a@b.example>`.
pub fn mailbox(s: &str) -> Result<Mailbox, String> {
    let s = s.trim();
    if s.chars().count() > 320 {
        return Err("an address of at most 320 characters.".into());
    }
    s.parse::<Mailbox>().map_err(|_| {
        format!(
            "{s:?} is not an email address (name@domain.example, or Name <name@domain.example>)."
        )
    })
}

/// Shown by `GET /api/v1/settings`: the four keys, the password masked.
impl Serialize for EmailSettings {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut m = ser.serialize_map(Some(4))?;
        m.serialize_entry("smtp_url", &self.smtp_url.as_ref().map(SmtpUrl::masked))?;
        m.serialize_entry(
            "email_from",
            &self.email_from.as_ref().map(|e| e.to_string()),
        )?;
        let list: Vec<String> = self.notify_emails.iter().map(|e| e.to_string()).collect();
        m.serialize_entry("notify_emails", &list)?;
        m.serialize_entry("email_reply_after_secs", &self.email_reply_after_secs)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn urls_follow_the_documented_forms() {
        let u = SmtpUrl::parse("smtp://me%40x:p%3Ass@mail.example:2525").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.security),
            ("mail.example", 2525, Security::StartTls)
        );
        assert_eq!(u.user.as_deref(), Some("me@x"));
        assert_eq!(u.password.as_deref(), Some("p:ss"));
        assert_eq!(u.masked(), "smtp://me%40x:********@mail.example:2525");
        assert!(!format!("{u:?}").contains("p%3Ass"));
        let u = SmtpUrl::parse("smtps://mail.example").unwrap();
        assert_eq!((u.port, u.security), (465, Security::Implicit));
        let u = SmtpUrl::parse("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!(u.security, Security::None);
        let u = SmtpUrl::parse("smtp://mail.example?tls=opportunistic").unwrap();
        assert_eq!((u.port, u.security), (587, Security::Opportunistic));
        for bad in [
            "http://x",
            "smtp://",
            "smtp://h?tls=maybe",
            "smtps://h?tls=none",
            "nope",
        ] {
            assert!(SmtpUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_masked_url_keeps_the_stored_password_and_bad_values_name_the_key() {
        let mut e = EmailSettings::default();
        e.patch("smtp_url", &json!("smtp://u:secret@h:587"))
            .unwrap();
        let shown = serde_json::to_value(&e).unwrap();
        assert_eq!(shown["smtp_url"], "smtp://u:********@h:587");
        e.patch("smtp_url", &shown["smtp_url"]).unwrap();
        assert_eq!(
            e.smtp_url.as_ref().unwrap().password.as_deref(),
            Some("secret")
        );
        assert!(e.rows()[0].1.contains("secret"));
        e.patch("smtp_url", &json!("smtp://u:other@h:587")).unwrap();
        assert_eq!(
            e.smtp_url.as_ref().unwrap().password.as_deref(),
            Some("other")
        );
        e.patch("smtp_url", &json!(null)).unwrap();
        assert!(e.smtp_url.is_none());
        for (key, v) in [
            ("smtp_url", json!(5)),
            ("smtp_url", json!("ftp://h")),
            ("email_from", json!("not an address")),
            ("notify_emails", json!("a@b.example")),
            ("notify_emails", json!(["a@b.example", "nope"])),
            ("notify_emails", json!(vec!["a@b.example"; 21])),
            ("email_reply_after_secs", json!(-1)),
            ("email_reply_after_secs", json!(86_401)),
            ("email_reply_after_secs", json!("300")),
        ] {
            let Err(Invalid(why)) = e.patch(key, &v) else {
                panic!("{key} {v} accepted")
            };
            assert!(why.starts_with(key), "{why}");
        }
    }
}
