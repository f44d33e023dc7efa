//! `/api/v1/chats/{id}` and `/api/v1/chats/{id}/messages`: a chat and its history
//! (keyset-paginated by `sequence_num`), for whoever may see the chat (`http::history::scope`).

use super::{bearer, body, require_principal, respond, with_app};
use crate::app::App;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::live::events::args;
use crate::live::{By, Refusal};
use crate::model::ChatId;
use crate::model::Message;
use crate::store::chats::{self, ChatRecord};
use bytes::Bytes;
use http::StatusCode;
use serde::Serialize;
use serde_json::value::RawValue;
use std::collections::HashMap;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

const MAX_PAGE: i64 = 500;

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let one = warp::path!("api" / "v1" / "chats" / String)
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(|id: String, app: App, token: Option<String>| async move {
            respond(StatusCode::OK, visible_chat(&app, token, &id).await)
        });
    let messages = warp::path!("api" / "v1" / "chats" / String / "messages")
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(bearer())
        .and(warp::query::<HashMap<String, String>>())
        .then(
            |id: String, app: App, token: Option<String>, q: HashMap<String, String>| async move {
                respond(StatusCode::OK, history(&app, token, &id, &q).await)
            },
        );
    let limit = app.config.max_body_bytes;
    let post = warp::path!("api" / "v1" / "chats" / String / "messages")
        .and(warp::post())
        .and(with_app(app))
        .and(bearer())
        .and(body(limit))
        .then(
            |id: String, app: App, token: Option<String>, body: Bytes| async move {
                respond(
                    StatusCode::CREATED,
                    post_message(&app, token, &id, &body).await,
                )
            },
        );
    one.or(messages).unify().or(post).unify().boxed()
}

#[derive(Serialize)]
struct Posted {
    chat_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_msg_id: Option<String>,
}

/// `POST /api/v1/chats/{id}/messages {content, client_msg_id?}`: a party of the chat (its
/// visitor, or staff serving it) writes into it over HTTP; delivered exactly as `visitor_msg`
/// or `staff_msg` would be, once the message is stored. A resend with a `client_msg_id`
/// already stored stores nothing and is answered the same.
async fn post_message(
    app: &App,
    token: Option<String>,
    id: &str,
    body: &[u8],
) -> Result<Posted, ApiError> {
    let who = require_principal(app, token).await?;
    super::history::require_visible(app, &who, id).await?;
    let fields: HashMap<String, Box<RawValue>> = super::parse_json(body)?;
    if let Some(k) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "content" | "client_msg_id"))
    {
        return Err(ApiError::bad_request(format!(
            "Unknown field: {k} (a message has content and client_msg_id)."
        )));
    }
    let invalid = |r: Refusal| ApiError::bad_request(r.sentence.to_string());
    let content = args::content(
        fields.get("content").map(|b| &**b),
        app.config.max_content_bytes,
    )
    .map_err(invalid)?;
    let client_msg_id =
        args::client_msg_id(fields.get("client_msg_id").map(|b| &**b)).map_err(invalid)?;
    let (by, staff) = match who {
        Principal::Staff(s) => (By::Staff(s), true),
        Principal::Visitor(v) => (By::Visitor(v.id), false),
    };
    let posted = crate::live::events::Posted {
        type_id: crate::model::MESSAGE_CHAT,
        content,
        client_msg_id: client_msg_id.clone(),
    };
    app.live
        .post(by, ChatId::from(id.to_string()), posted)
        .await
        .map_err(|r| super::attachments::refused(&r, staff))?;
    Ok(Posted {
        chat_id: id.to_string(),
        client_msg_id,
    })
}

/// The chat, if the caller may see it (`history::scope`), else 404.
async fn visible_chat(app: &App, token: Option<String>, id: &str) -> Result<ChatRecord, ApiError> {
    let who = require_principal(app, token).await?;
    super::history::require_visible(app, &who, id).await?;
    let id = id.to_string();
    app.store
        .read(move |c| chats::chat_record(c, &id))
        .await?
        .ok_or_else(|| ApiError::not_found("No such chat."))
}

pub fn int_param(q: &HashMap<String, String>, key: &str, default: i64) -> Result<i64, ApiError> {
    match q.get(key) {
        None => Ok(default),
        Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid query parameter: {key} (a whole number ≥ 0)."
            ))
        }),
    }
}

/// A page of history. Serialised straight to text, never through `serde_json::Value`: stored
/// content is raw JSON text, and a `Value` would re-parse it (with its own limits) on every read.
#[derive(Serialize)]
struct Page {
    results: Vec<Message>,
    next: Option<String>,
}

async fn history(
    app: &App,
    token: Option<String>,
    id: &str,
    q: &HashMap<String, String>,
) -> Result<Page, ApiError> {
    let who = require_principal(app, token.clone()).await?;
    // A visitor never reads internal notes.
    let notes = matches!(who, Principal::Staff(_));
    let chat = visible_chat(app, token, id).await?;
    let limit = int_param(q, "limit", 100)?.clamp(1, MAX_PAGE);
    let chat_id = chat.id.clone();
    // Backwards: `before` (and `next`, the first number of the page, passed back as `before`).
    if q.contains_key("before") {
        if q.contains_key("after") || q.contains_key("cursor") {
            return Err(ApiError::bad_request(
                "Invalid query parameter: before (not together with after or cursor).",
            ));
        }
        let before = int_param(q, "before", 0)?;
        let results = app
            .store
            .read(move |c| chats::messages_before(c, &chat_id, before, limit, notes))
            .await?;
        let next = (results.len() as i64 == limit)
            .then(|| results.first().map(|m| m.sequence_num.to_string()))
            .flatten();
        return Ok(Page { results, next });
    }
    // `cursor` (from `next`) and `after` are the same thing: the last sequence_num seen.
    let after = match q.get("cursor") {
        Some(_) => int_param(q, "cursor", 0)?,
        None => int_param(q, "after", 0)?,
    };
    let results = app
        .store
        .read(move |c| chats::messages_after(c, &chat_id, after, limit, notes))
        .await?;
    let next = (results.len() as i64 == limit)
        .then(|| results.last().map(|m| m.sequence_num.to_string()))
        .flatten();
    Ok(Page { results, next })
}
