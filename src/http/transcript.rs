//! `GET /api/v1/chats/{id}/transcript?format=txt|json[&include_notes=true]` (issue 16,
//! product.md §8.1): a whole chat to keep or hand on. Who may: whoever may see the chat
//! (`history::require_visible`, 404 otherwise). The text form uses the visitor emails'
//! formatter (`email::visitor::message_line`); internal notes never reach a visitor, and reach
//! staff only when asked for.

use super::{bearer, error_reply, json_reply, require_principal, with_app};
use crate::app::App;
use crate::auth::Principal;
use crate::email::{compose, visitor::message_line};
use crate::error::ApiError;
use crate::model::{Message, MESSAGE_ATTACHMENT, MESSAGE_SYSTEM};
use crate::settings::Settings;
use crate::store::accounts;
use crate::store::chats::{self, ChatRecord};
use http::StatusCode;
use serde::Serialize;
use std::collections::HashMap;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

/// Messages read per store call, and the most calls one transcript makes (a bounded loop: a
/// transcript holds at most `PAGE * MAX_PAGES` messages, far beyond any real chat).
const PAGE: i64 = 1000;
const MAX_PAGES: usize = 200;

type Query = HashMap<String, String>;

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "v1" / "chats" / String / "transcript")
        .and(warp::get())
        .and(with_app(app))
        .and(bearer())
        .and(warp::query::<Query>())
        .then(
            |id: String, app: App, token: Option<String>, q: Query| async move {
                match transcript(&app, token, &id, &q).await {
                    Ok(r) => r,
                    Err(e) => error_reply(&e),
                }
            },
        )
        .boxed()
}

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Txt,
    Json,
}

fn bad(key: &str, what: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid query parameter: {key} ({what})."))
}

/// The query, checked: `(format, include_notes)`, or 400 naming the parameter.
fn parse(q: &Query) -> Result<(Format, bool), ApiError> {
    if let Some(k) = q
        .keys()
        .find(|k| !matches!(k.as_str(), "format" | "include_notes"))
    {
        return Err(ApiError::bad_request(format!(
            "Unknown query parameter: {k} (known: format, include_notes)."
        )));
    }
    let format = match q.get("format").map(String::as_str) {
        None | Some("txt") => Format::Txt,
        Some("json") => Format::Json,
        Some(_) => return Err(bad("format", "txt or json")),
    };
    let notes = match q.get("include_notes").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(bad("include_notes", "true or false")),
    };
    Ok((format, notes))
}

#[derive(Serialize)]
struct Transcript {
    chat: ChatRecord,
    messages: Vec<Message>,
}

async fn transcript(
    app: &App,
    token: Option<String>,
    id: &str,
    q: &Query,
) -> Result<Response, ApiError> {
    let who = require_principal(app, token).await?;
    super::history::require_visible(app, &who, id).await?;
    let (format, notes) = parse(q)?;
    if notes && matches!(who, Principal::Visitor(_)) {
        return Err(ApiError::forbidden("Only staff can read internal notes."));
    }
    let chat_id = id.to_ascii_lowercase();
    let (chat, messages, names, settings) = app
        .store
        .read(move |c| {
            let Some(chat) = chats::chat_record(c, &chat_id)? else {
                return Ok(None);
            };
            let mut messages: Vec<Message> = vec![];
            for _ in 0..MAX_PAGES {
                let after = messages.last().map_or(0, |m| m.sequence_num);
                let page = chats::messages_after(c, &chat_id, after, PAGE, notes)?;
                let short = (page.len() as i64) < PAGE;
                messages.extend(page);
                if short {
                    break;
                }
            }
            let mut names: HashMap<String, String> = HashMap::new();
            for sid in messages.iter().filter_map(|m| m.sender.as_deref()) {
                if !names.contains_key(sid) {
                    if let Some(s) = accounts::staff_by_id(c, sid)? {
                        let shown = s.display_name.clone().unwrap_or(s.full_name.clone());
                        names.insert(sid.to_string(), shown);
                    }
                }
            }
            let settings = Settings::from_rows(&accounts::load_settings(c)?);
            Ok(Some((chat, messages, names, settings)))
        })
        .await?
        .ok_or_else(|| ApiError::not_found("No such chat."))?;
    if format == Format::Json {
        return Ok(json_reply(StatusCode::OK, &Transcript { chat, messages }));
    }
    let text = as_text(&compose::brand(&settings).name, &chat, &messages, &names);
    let disposition = format!("attachment; filename=\"chat-{}.txt\"", chat.id);
    let mut r = warp::reply::with_status(text, StatusCode::OK).into_response();
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Ok(v) = http::HeaderValue::from_str(&disposition) {
        h.insert(http::header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// A time in UTC, ISO 8601 to the second.
fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| ms.to_string())
}

/// A file message's download address.
fn file_url(m: &Message) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(m.content.get()).ok()?;
    Some(v.get("attachment")?.get("url")?.as_str()?.to_string())
}

/// The system messages the emails leave out, in words (brackets, like the others).
fn system_words(m: &Message, name: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(m.content.get()).ok()?;
    let what = match v.get("content").and_then(|c| c.as_str())? {
        "leave room" => format!("{name} left the chat"),
        "take over room" => format!("{name} took over the chat"),
        "closed inactive" => "The chat was closed after a time without messages".to_string(),
        "transfer" => format!("{name} transferred the chat"),
        "assigned" => "The chat was assigned".to_string(),
        _ => return None,
    };
    Some(format!("({what})"))
}

/// The text transcript: a header, then one line per message `[time] Name: text`.
fn as_text(
    business: &str,
    chat: &ChatRecord,
    messages: &[Message],
    names: &HashMap<String, String>,
) -> String {
    let visitor = match chat.visitor.email.as_deref().filter(|e| !e.is_empty()) {
        Some(email) => format!("{} <{email}>", chat.visitor.name),
        None => chat.visitor.name.clone(),
    };
    let mut out = format!(
        "Chat transcript, {business}\nChat: {}\nVisitor: {visitor}\nStarted: {}\nEnded: {}\n\n",
        chat.id,
        iso(chat.created_at),
        chat.ended_at
            .map_or_else(|| "(still open)".to_string(), iso),
    );
    for m in messages {
        let name = match &m.sender {
            Some(id) => names.get(id).map_or("Support", String::as_str),
            None => chat.visitor.name.as_str(),
        };
        let line = message_line(m, name, |file, _| match m.type_id {
            MESSAGE_ATTACHMENT => match file_url(m) {
                Some(url) => format!("{file} ({url})"),
                None => file.to_string(),
            },
            _ => file.to_string(),
        })
        .or_else(|| (m.type_id == MESSAGE_SYSTEM).then(|| system_words(m, name))?);
        if let Some(line) = line {
            out.push_str(&format!("[{}] {line}\n", iso(m.created_at)));
        }
    }
    if messages.is_empty() {
        out.push_str("(No messages.)\n");
    }
    out
}
