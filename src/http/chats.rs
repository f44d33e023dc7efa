//! `/api/v1/chats/{id}` and `/api/v1/chats/{id}/messages`: a chat and its history
//! (keyset-paginated by `sequence_num`), for whoever may see the chat (`http::history::scope`).

use super::{bearer, require_principal, respond, with_app};
use crate::app::App;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::model::Message;
use crate::store::chats::{self, ChatRecord};
use http::StatusCode;
use serde::Serialize;
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
        .and(with_app(app))
        .and(bearer())
        .and(warp::query::<HashMap<String, String>>())
        .then(
            |id: String, app: App, token: Option<String>, q: HashMap<String, String>| async move {
                respond(StatusCode::OK, history(&app, token, &id, &q).await)
            },
        );
    one.or(messages).unify().boxed()
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
    // `cursor` (from `next`) and `after` are the same thing: the last sequence_num seen.
    let after = match q.get("cursor") {
        Some(_) => int_param(q, "cursor", 0)?,
        None => int_param(q, "after", 0)?,
    };
    let limit = int_param(q, "limit", 100)?.clamp(1, MAX_PAGE);
    let chat_id = chat.id.clone();
    let results = app
        .store
        .read(move |c| chats::messages_after(c, &chat_id, after, limit, notes))
        .await?;
    let next = (results.len() as i64 == limit)
        .then(|| results.last().map(|m| m.sequence_num.to_string()))
        .flatten();
    Ok(Page { results, next })
}
