//! What the `cargo fuzz` targets (`fuzz/fuzz_targets/`) check, one function per target: feed
//! the bytes to the real parser the way its transport or route does, and assert that nothing
//! panics and that what is accepted has the shape the rest of the server relies on. Kept in
//! the library (not in the fuzz crate) so that every crash input found becomes a plain
//! `#[test]` below, run by `cargo test`, feeding the same bytes through the same function.
//!
//! Not used by the server itself; the linker drops it from the binary.

use crate::config::Config;
use crate::error::ApiError;
use crate::http::{accounts, chats, setup, staff_admin};
use crate::live::events::claim::Claim;
use crate::live::events::messages::Messages;
use crate::live::events::supervision::Supervision;
use crate::live::events::{Family, Request, EVENTS};
use crate::realtime::ws::{decode_frame, Decoded};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The content limit the fuzz targets parse with (the default `max_content_bytes`).
pub const MAX_CONTENT: usize = 16 * 1024;

/// `FRONTDESK_FUZZ_TOLERATE=content` lets the "accepted content loads as a JSON object"
/// property pass the known, reported classes of issue 10 finding 1 (numbers beyond f64, lone
/// surrogates, nesting past serde_json's limit), so a long run can look for anything else
/// instead of stopping at those every few seconds. Off by default: the property holds once
/// content is validated at the door.
fn tolerate_content() -> bool {
    static T: OnceLock<bool> = OnceLock::new();
    *T.get_or_init(|| {
        std::env::var("FRONTDESK_FUZZ_TOLERATE").is_ok_and(|v| v.split(',').any(|p| p == "content"))
    })
}

/// An accepted message content: within the limit and a JSON object that every later reader
/// (the history route, `json!`, a browser's `JSON.parse`) can load.
fn check_content(content: &RawValue, max: usize) {
    let text = content.get();
    assert!(text.len() <= max, "content over the limit was accepted");
    let Err(e) = serde_json::from_str::<Map<String, Value>>(text) else {
        return;
    };
    let why = e.to_string();
    // The known classes of finding 1 (found again by `event_payload` in seconds).
    let known = [
        "number out of range",
        "surrogate",
        "hex escape",
        "recursion limit",
    ];
    if tolerate_content() && known.iter().any(|k| why.contains(k)) {
        return;
    }
    panic!("accepted content does not load as a JSON object: {why}: {text:.200}");
}

fn check_refusal(why: &str) {
    assert!(!why.is_empty(), "an empty refusal sentence");
    // A refusal quotes at most a bounded part of the input (the unknown event name, 64 chars).
    assert!(
        why.len() < 1024,
        "a refusal sentence echoes the input: {why:.200}"
    );
}

/// A parsed request: ids are what the live state can look up, content is checked.
fn check_request(req: &Request, max: usize) {
    let id_ok = |s: &str| !s.is_empty() && s.len() <= 64;
    match &req.body {
        Family::Messages(Messages::Visitor {
            content,
            client_msg_id,
        }) => {
            check_content(content, max);
            assert!(client_msg_id.as_deref().is_none_or(id_ok));
        }
        Family::Messages(Messages::Staff {
            visitor,
            content,
            client_msg_id,
        }) => {
            assert!(id_ok(visitor));
            check_content(content, max);
            assert!(client_msg_id.as_deref().is_none_or(id_ok));
        }
        Family::Messages(Messages::VisitorLeave) => {}
        Family::Claim(Claim::Join { visitor } | Claim::Leave { visitor })
        | Family::Supervision(Supervision::TakeOver { visitor }) => assert!(id_ok(visitor)),
        Family::Supervision(
            Supervision::Add { visitor, staff } | Supervision::Remove { visitor, staff },
        ) => {
            assert!(id_ok(visitor) && id_ok(staff));
        }
        Family::Supervision(Supervision::Priority {
            visitor,
            severity_level,
        }) => assert!(id_ok(visitor) && (0..=1000).contains(severity_level)),
        Family::Presence(_) => {}
        Family::Resume(r) => {
            let crate::live::events::resume::Resume::Sync { chat_id, after } = r;
            assert!(id_ok(chat_id) && *after >= 0);
        }
        Family::Typing(t) => assert!(t.visitor.as_deref().is_none_or(id_ok)),
        Family::Transfer(crate::live::events::transfer::Transfer::Chat { visitor, to, note }) => {
            assert!(id_ok(visitor) && id_ok(to));
            assert!(note.as_deref().is_none_or(|n| n.chars().count() <= 1000));
        }
        Family::Contact(crate::live::events::contact::Contact::Update { name, email }) => {
            assert!(name.is_some() || email.is_some());
        }
        Family::Receipts(crate::live::events::receipts::Receipts::Read {
            visitor,
            sequence_num,
        }) => assert!(visitor.as_deref().is_none_or(id_ok) && *sequence_num >= 1),
        Family::Notes(n) => {
            use crate::live::events::notes::Notes;
            match n {
                Notes::Note {
                    visitor, content, ..
                } => {
                    assert!(id_ok(visitor));
                    check_content(content, max);
                }
                Notes::Watch { visitor } | Notes::Unwatch { visitor } => assert!(id_ok(visitor)),
            }
        }
        Family::Tagging(crate::live::events::tagging::Tagging::Tag { visitor, tags }) => {
            assert!(id_ok(visitor) && tags.len() <= 10);
            assert!(tags
                .iter()
                .all(|t| !t.is_empty() && t.chars().count() <= 32));
        }
        Family::Rating(crate::live::events::rating::Rating::Rate { rating, comment }) => {
            assert!(matches!(*rating, "good" | "bad"));
            assert!(comment.as_deref().is_none_or(|c| c.chars().count() <= 1000));
        }
        Family::Visits(crate::live::events::visits::Visits::Page { url, .. }) => {
            assert!(url.starts_with("http://") || url.starts_with("https://"));
        }
    }
}

fn parse_and_check(name: &str, data: Option<&RawValue>) {
    match Request::parse(name, data, MAX_CONTENT) {
        Ok(req) => check_request(&req, MAX_CONTENT),
        Err(why) => check_refusal(&why.sentence),
    }
}

/// Target `ws_frame`: one `/ws` text frame as `on_text` sees it, decoded, then the event parsed.
/// A refused frame's answer must be a JSON ack `{"ack", "result": false, "error_message"}`.
pub fn ws_frame(bytes: &[u8]) {
    // tungstenite hands over only valid UTF-8 text frames.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    match decode_frame(text) {
        Decoded::Event { event, data, .. } => parse_and_check(&event, data),
        Decoded::Refused(ack) => {
            let v: Value = serde_json::from_str(&ack).expect("the refusal ack is JSON");
            assert_eq!(v["result"], Value::Bool(false));
            assert!(v["error_message"].is_string());
            assert!(v.get("ack").is_some_and(|a| a.is_null() || a.is_u64()));
        }
    }
}

/// Target `event_payload`: the first byte picks an event name (every name of `EVENTS`, or an
/// unknown one), the rest is its data as either transport hands it over (raw JSON), or none.
pub fn event_payload(bytes: &[u8]) {
    let Some((&pick, rest)) = bytes.split_first() else {
        return;
    };
    let name = EVENTS
        .get(pick as usize % (EVENTS.len() + 1))
        .map_or("no_such_event", |e| e.name);
    parse_and_check(name, None);
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if let Ok(raw) = RawValue::from_string(text.to_string()) {
        parse_and_check(name, Some(&raw));
    }
}

fn check_api_error(e: &ApiError) {
    assert_eq!(e.status, http::StatusCode::BAD_REQUEST, "{e:?}");
    check_refusal(&e.message);
}

/// Target `rest_body`: the first byte picks a REST request body type, parsed exactly as its
/// route does (`http::parse_json`); or one of the text-field checks the routes apply after.
/// Anything refused is a 400 with a sentence (product.md §3: wrong types are 400, never 500).
pub fn rest_body(bytes: &[u8]) {
    let Some((&pick, body)) = bytes.split_first() else {
        return;
    };
    let err = match pick % 7 {
        0 => crate::http::parse_json::<accounts::LoginRequest>(body).err(),
        1 => crate::http::parse_json::<accounts::VisitorRequest>(body).err(),
        2 => crate::http::parse_json::<setup::SetupRequest>(body).err(),
        3 => crate::http::parse_json::<staff_admin::NewStaffRequest>(body).err(),
        4 => crate::http::parse_json::<staff_admin::ChangeRequest>(body).err(),
        5 => {
            let s = String::from_utf8_lossy(body).into_owned();
            match accounts::optional_text("name", Some(s), 100) {
                Ok(Some(v)) => {
                    assert!(v.chars().count() <= 100 && !v.chars().any(char::is_control));
                    None
                }
                Ok(None) => None,
                Err(e) => Some(e),
            }
        }
        _ => accounts::check_email("email", &String::from_utf8_lossy(body)).err(),
    };
    if let Some(e) = err {
        check_api_error(&e);
    }
}

/// Target `query_string`: a handshake's query (`?token=`, `?force=`) as both transports read
/// it, and the history route's integer parameters from the query as warp decodes it
/// (`decoded`: the same string through `serde_urlencoded`, done by the fuzz target).
pub fn query_string(query: &str, decoded: Option<&HashMap<String, String>>) {
    for key in ["token", "force", "EIO", "transport", ""] {
        if let Some(v) = crate::realtime::query_param(query, key) {
            assert!(
                query.contains(v),
                "a parameter value that is not in the query"
            );
        }
    }
    let _ = crate::realtime::wants_force(query);
    if let Some(t) = crate::realtime::handshake_token(&http::HeaderMap::new(), query) {
        assert!(query.contains(t.as_str()));
    }
    if let Some(q) = decoded {
        for key in ["after", "cursor", "limit"] {
            match chats::int_param(q, key, 7) {
                Ok(n) => assert!(n >= 0),
                Err(e) => check_api_error(&e),
            }
        }
    }
}

/// Target `config_toml`: a config file, through the same `Config::resolve` as `serve` (it
/// reads the file, so the text goes through a scratch file). An error must name what is wrong.
pub fn config_toml(text: &str) {
    static PATH: OnceLock<std::path::PathBuf> = OnceLock::new();
    let path = PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("frontdesk-fuzz-{}.toml", std::process::id()))
    });
    if std::fs::write(path, text).is_err() {
        return;
    }
    let args = crate::cli::ServeArgs {
        place: crate::cli::Place {
            config: Some(path.clone()),
            data: None,
        },
        ..Default::default()
    };
    match Config::resolve(&args) {
        Ok(c) => {
            assert!(c.max_content_bytes > 0 && c.max_events_per_sec > 0);
            assert!(c.public_url.starts_with("http://") || c.public_url.starts_with("https://"));
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

#[cfg(test)]
mod tests {
    //! Inputs the fuzzers found, fed through the same functions (and a smoke run of each).
    use super::*;

    #[test]
    fn every_target_accepts_plain_inputs() {
        ws_frame(br#"{"event":"visitor_msg","data":{"content":"hi"},"id":1}"#);
        ws_frame(b"{nope");
        event_payload(b"\x05{\"visitor\":\"abc\",\"content\":{\"a\":1}}");
        rest_body(b"\x00{\"email\":\"a@b.c\",\"password\":\"x\"}");
        rest_body(b"\x04{\"display_name\":null}");
        let q: HashMap<String, String> = [("after".to_string(), "-1".to_string())].into();
        query_string("token=abc&force=1&after=-1", Some(&q));
        config_toml("listen = \"127.0.0.1:1\"\n");
        config_toml("max_content_bytes = 0\n");
    }

    // Issue 10 finding 1, as the fuzzers see it: content that `RawValue` accepts (so it is
    // acked and stored) but that does not load as a JSON value, which the history route then
    // panics on. Ignored until content is validated at the door (another branch of issue 10);
    // run with `cargo test --lib fuzzing -- --ignored`.

    /// Found by `event_payload` in its first seconds: a number beyond f64's range.
    #[test]
    fn fuzz_event_payload_number_out_of_range() {
        let input = b"*{\"r\":\"\\rc\",\"elv3.\":1e+2556892497}";
        event_payload(input);
    }

    /// The issue's own input, through the `/ws` decoder: a lone surrogate.
    #[test]
    fn fuzz_ws_frame_lone_surrogate() {
        ws_frame(br#"{"event":"visitor_msg","data":{"c":"\ud800"},"id":1}"#);
    }

    /// The issue's own input, through the `/ws` decoder: nesting past serde_json's 128 levels.
    #[test]
    fn fuzz_ws_frame_deep_nesting() {
        let deep = format!(
            r#"{{"event":"visitor_msg","data":{{"c":{}{}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        ws_frame(deep.as_bytes());
    }

    /// Found by `ws_frame` (strict) in its first two minutes: the same class, through a
    /// `staff_msg` frame (fuzz/artifacts/ws_frame/crash-3334ce85…).
    #[test]
    fn fuzz_ws_frame_staff_msg_number_out_of_range() {
        let input: &[u8] = b"{\"event\":\"staff_msg\",\"data\":{\"visitor\":\"abc\",\"content\":{\"a\":[\"\",0,-2.2E2222222,{\"\":\"sta(f_msg\",\"lata\":{\"tiveFerieverivre$sultistisitor\"\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d\x0d:\"c\",\"sitor\":\"abc\",\"visitor\":{\"a\":[\"\",0,-2.22222222,{\"Ab\":null}]}},\"i]b\":null}]}},\"i]\":7}";
        ws_frame(input);
    }

    /// Found by `rest_body` after 4.5 million runs: a body that is a JSON string where an
    /// object is expected. `http::parse_json` answers 400 with serde's message, which quotes
    /// the whole string, each control character as `\u{7f}` (six bytes for one): a 64 KiB
    /// body of them gets a ~400 KiB error reply that echoes it. Ignored until the sentence is bounded
    /// (http/mod.rs, another branch: e.g. cut the quoted value to ~100 characters).
    #[test]
    fn fuzz_rest_body_error_echoes_the_body() {
        let input: &[u8] = b"{\"tttttttttmqKmaa$nananas{eee\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7faaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaattttttttttttteeeeeeeeeeeeeeeeeeeeeeeeeeeeeeettmqKmaa$nananas{aaeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7f\x7feeeeeeeeeeeeeeaaaaaaaaaaaaaaaaaa\",";
        rest_body(input);
    }
}
