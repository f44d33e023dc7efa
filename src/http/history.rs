//! History over REST (issue 16, product.md §8.1): `GET /api/v1/chats` (filters, full-text
//! search with `q`, keyset pages),
//! `GET /api/v1/visitors/{id}/chats`, `GET /api/v1/chats/{id}/participations` and
//! `/presences`. Who may see which chat is `scope()` here, applied by the store's
//! `history::Scope` (one rule for the list and for a single chat): supervisors and admins see
//! every chat, an agent the chats they serve or served and the queues, a visitor their own;
//! anything else is 404, as if it did not exist.

use super::{bearer, require_principal, require_staff, respond, with_app};
use crate::app::App;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::model::{is_id, Role, Staff};
use crate::store::chats::ChatRecord;
use crate::store::history::{self, ChatFilter, Cursor, Participation, Scope, StatusFilter};
use crate::store::search;
use http::StatusCode;
use serde::Serialize;
use std::collections::HashMap;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

/// The most chats one page holds.
pub const MAX_LIMIT: usize = 100;
const DEFAULT_LIMIT: usize = 25;

type Query = HashMap<String, String>;

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let all = warp::path!("api" / "v1" / "chats")
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(bearer())
        .and(warp::query::<Query>())
        .then(|app: App, token: Option<String>, q: Query| async move {
            respond(StatusCode::OK, list(&app, token, &q, None).await)
        });
    let of_visitor = warp::path!("api" / "v1" / "visitors" / String / "chats")
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(bearer())
        .and(warp::query::<Query>())
        .then(
            |id: String, app: App, token: Option<String>, q: Query| async move {
                respond(StatusCode::OK, list(&app, token, &q, Some(id)).await)
            },
        );
    let participations = warp::path!("api" / "v1" / "chats" / String / "participations")
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(|id: String, app: App, token: Option<String>| async move {
            respond(StatusCode::OK, stints(&app, token, &id, false).await)
        });
    let presences = warp::path!("api" / "v1" / "chats" / String / "presences")
        .and(warp::get())
        .and(with_app(app))
        .and(bearer())
        .then(|id: String, app: App, token: Option<String>| async move {
            respond(StatusCode::OK, stints(&app, token, &id, true).await)
        });
    all.or(of_visitor)
        .unify()
        .or(participations)
        .unify()
        .or(presences)
        .unify()
        .boxed()
}

/// Which chats the caller may see: the one mapping from a principal to its scope.
pub fn scope(who: &Principal) -> Scope {
    match who {
        Principal::Staff(Staff {
            role_id: Role::Admin | Role::Supervisor,
            ..
        }) => Scope::All,
        Principal::Staff(s) => Scope::Agent(s.id.to_string()),
        Principal::Visitor(v) => Scope::Visitor(v.id.to_string()),
    }
}

/// 404 unless the caller may see the chat (also for an id that is not one).
pub async fn require_visible(app: &App, who: &Principal, id: &str) -> Result<(), ApiError> {
    let not_found = || ApiError::not_found("No such chat.");
    if !is_id(id) {
        return Err(not_found());
    }
    let (scope, id) = (scope(who), id.to_string());
    if app
        .store
        .read(move |c| history::can_see(c, &scope, &id))
        .await?
    {
        Ok(())
    } else {
        Err(not_found())
    }
}

#[derive(Serialize)]
struct Page {
    results: Vec<ChatRecord>,
    next: Option<String>,
}

fn bad(key: &str, what: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid query parameter: {key} ({what})."))
}

fn id_param(q: &Query, key: &str) -> Result<Option<String>, ApiError> {
    q.get(key)
        .map(|v| {
            is_id(v)
                .then(|| v.to_ascii_lowercase())
                .ok_or_else(|| bad(key, "an id of 32 hexadecimal digits"))
        })
        .transpose()
}

/// A whole number from `min` to `max`, or 400 naming `key` and saying `what` it should be.
pub(crate) fn int_param(
    q: &Query,
    key: &str,
    min: i64,
    max: i64,
    what: &str,
) -> Result<Option<i64>, ApiError> {
    q.get(key)
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| bad(key, what))
        })
        .transpose()
}

const KNOWN: &[&str] = &[
    "status",
    "visitor",
    "staff",
    "tag",
    "severity",
    "min_message_count",
    "since",
    "until",
    "limit",
    "cursor",
    "q",
    "rating",
];

/// The query, checked: every parameter known and well-formed, or 400 naming it.
fn parse(q: &Query) -> Result<(ChatFilter, Option<Cursor>, usize), ApiError> {
    if let Some(k) = q.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "Unknown query parameter: {k} (known: {}).",
            KNOWN.join(", ")
        )));
    }
    let status = match q.get("status").map(String::as_str) {
        None => None,
        Some("open") => Some(StatusFilter::Open),
        Some("ended") => Some(StatusFilter::Ended),
        Some(_) => return Err(bad("status", "open or ended")),
    };
    let tag = match q.get("tag") {
        None => None,
        Some(t) if !t.trim().is_empty() && t.chars().count() <= 32 => Some(t.trim().to_string()),
        Some(_) => return Err(bad("tag", "a tag of 1 to 32 characters")),
    };
    let search = match q.get("q") {
        None => None,
        Some(text) => Some(
            (text.chars().count() <= 200)
                .then(|| search::match_expr(text))
                .flatten()
                .ok_or_else(|| bad("q", "1 to 10 words, at most 200 characters"))?,
        ),
    };
    const MS: &str = "milliseconds since the epoch, ≥ 0";
    let filter = ChatFilter {
        status,
        visitor: id_param(q, "visitor")?,
        staff: id_param(q, "staff")?,
        tag,
        severity: int_param(q, "severity", 0, 100, "a whole number from 0 to 100")?,
        min_message_count: int_param(q, "min_message_count", 0, i64::MAX, "a whole number ≥ 0")?,
        since: int_param(q, "since", 0, i64::MAX, MS)?,
        until: int_param(q, "until", 0, i64::MAX, MS)?,
        search,
        rating: match q.get("rating").map(String::as_str) {
            None => None,
            Some(r @ ("good" | "bad")) => Some(r.to_string()),
            Some(_) => return Err(bad("rating", "good or bad")),
        },
    };
    let cursor = q
        .get("cursor")
        .map(|c| Cursor::decode(c).ok_or_else(|| bad("cursor", "the `next` of an earlier page")))
        .transpose()?;
    let limit = int_param(
        q,
        "limit",
        1,
        MAX_LIMIT as i64,
        "a whole number from 1 to 100",
    )?
    .map(|n| n as usize)
    .unwrap_or(DEFAULT_LIMIT);
    Ok((filter, cursor, limit))
}

async fn list(
    app: &App,
    token: Option<String>,
    q: &Query,
    visitor: Option<String>,
) -> Result<Page, ApiError> {
    let who = require_principal(app, token).await?;
    let (mut filter, cursor, limit) = parse(q)?;
    if let Some(v) = visitor {
        // A visitor asking for someone else's chats sees an empty list's twin: 404.
        let own = matches!(&who, Principal::Visitor(me) if me.id.as_str() == v);
        if !is_id(&v) || matches!(who, Principal::Visitor(_)) && !own {
            return Err(ApiError::not_found("No such visitor."));
        }
        filter.visitor = Some(v.to_ascii_lowercase());
    }
    if filter.search.is_some() {
        // Every message written so far is found.
        search::catch_up(&app.store).await?;
    }
    let scope = scope(&who);
    let (results, next) = app
        .store
        .read(move |c| history::list_chats(c, &scope, &filter, cursor.as_ref(), limit))
        .await?;
    Ok(Page {
        results,
        next: next.map(|c| c.encode()),
    })
}

#[derive(Serialize)]
struct Stints {
    results: Vec<Participation>,
}

/// Every stint of staff in the chat, or (`now`) only those still in it.
async fn stints(app: &App, token: Option<String>, id: &str, now: bool) -> Result<Stints, ApiError> {
    // Staff objects carry emails: not for visitors.
    let who = Principal::Staff(require_staff(app, token).await?);
    require_visible(app, &who, id).await?;
    let id = id.to_string();
    let mut results = app
        .store
        .read(move |c| history::participations(c, &id))
        .await?;
    if now {
        results.retain(|p| p.left_at.is_none());
    }
    Ok(Stints { results })
}
