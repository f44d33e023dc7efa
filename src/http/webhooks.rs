//! `/api/v1/webhooks` (issue 16, product.md §8.12), admins only: list, create (the server makes
//! the secret), change (`url`, `events`, `enabled`, `rotate_secret`), delete, the last
//! deliveries of a hook, and "send test" (a `ping`). Every change reloads the sender's hooks and
//! the live state's mask of wanted events (`Webhooks::reload`).

use super::{bearer, body, parse_json, require_admin, respond, with_app};
use crate::app::App;
use crate::error::ApiError;
use crate::model::{is_id, new_id, now_ms};
use crate::store::audit::{self, Actor};
use crate::store::webhooks::{self as db, Hook};
use crate::webhooks::{send::check_url, Event, Webhooks, MAX_HOOKS};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
use warp::filters::BoxedFilter;
use warp::reply::{Reply, Response};
use warp::Filter;

const ADMINS: &str = "Only admins can manage webhooks.";
/// Deliveries listed per hook.
const LISTED: i64 = 50;

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let limit = app.config.max_body_bytes;
    let list = warp::path!("api" / "v1" / "webhooks")
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(|app: App, token: Option<String>| async move {
            respond(StatusCode::OK, list(&app, token).await)
        });
    let create = warp::path!("api" / "v1" / "webhooks")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(bearer())
        .and(body(limit))
        .then(|app: App, token: Option<String>, body: Bytes| async move {
            respond(StatusCode::CREATED, create(&app, token, &body).await)
        });
    let update = warp::path!("api" / "v1" / "webhooks" / String)
        .and(warp::patch())
        .and(with_app(app.clone()))
        .and(bearer())
        .and(body(limit))
        .then(
            |id: String, app: App, token: Option<String>, body: Bytes| async move {
                respond(StatusCode::OK, update(&app, token, &id, &body).await)
            },
        );
    let delete = warp::path!("api" / "v1" / "webhooks" / String)
        .and(warp::delete())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(|id: String, app: App, token: Option<String>| async move {
            match delete(&app, token, &id).await {
                Ok(()) => StatusCode::NO_CONTENT.into_response(),
                Err(e) => super::error_reply(&e),
            }
        });
    let deliveries = warp::path!("api" / "v1" / "webhooks" / String / "deliveries")
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(|id: String, app: App, token: Option<String>| async move {
            respond(StatusCode::OK, deliveries(&app, token, &id).await)
        });
    let test = warp::path!("api" / "v1" / "webhooks" / String / "test")
        .and(warp::post())
        .and(with_app(app))
        .and(bearer())
        .then(|id: String, app: App, token: Option<String>| async move {
            respond(StatusCode::ACCEPTED, test(&app, token, &id).await)
        });
    list.or(create)
        .unify()
        .or(update)
        .unify()
        .or(delete)
        .unify()
        .or(deliveries)
        .unify()
        .or(test)
        .unify()
        .boxed()
}

fn sender(app: &App) -> Result<&Webhooks, ApiError> {
    app.live
        .webhooks
        .as_ref()
        .ok_or_else(|| ApiError::not_found("Webhooks are not available in this server."))
}

fn invalid(field: &str, why: &str) -> ApiError {
    ApiError::bad_request(format!("Missing/Invalid field: {field} ({why})."))
}

fn not_found() -> ApiError {
    ApiError::not_found("No such webhook.")
}

/// A new secret: `whsec_` and 48 hex digits (24 random bytes).
fn new_secret() -> String {
    format!("whsec_{}", hex::encode(rand::random::<[u8; 24]>()))
}

fn check_events(events: &[String]) -> Result<Vec<String>, ApiError> {
    if events.is_empty() {
        return Err(invalid("events", "at least one event"));
    }
    let mut out: Vec<String> = vec![];
    for e in events {
        let Some(ev) = Event::from_name(e) else {
            let known: Vec<&str> = Event::SUBSCRIBABLE.iter().map(|e| e.name()).collect();
            return Err(invalid("events", &format!("one of {}", known.join(", "))));
        };
        if !out.iter().any(|o| o == ev.name()) {
            out.push(ev.name().to_string());
        }
    }
    Ok(out)
}

fn checked_url(url: &str) -> Result<String, ApiError> {
    let url = url.trim();
    check_url(url).map_err(|why| invalid("url", why))?;
    Ok(url.to_string())
}

/// Loads the hook, 404 if there is none (or the id cannot be one).
async fn load(app: &App, id: &str) -> Result<Hook, ApiError> {
    if !is_id(id) {
        return Err(not_found());
    }
    let id = id.to_string();
    app.store
        .read(move |c| db::get(c, &id))
        .await?
        .ok_or_else(not_found)
}

async fn list(app: &App, token: Option<String>) -> Result<Value, ApiError> {
    require_admin(app, token, ADMINS).await?;
    sender(app)?;
    let hooks = app.store.read(db::list).await?;
    Ok(json!({ "results": hooks }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    url: String,
    events: Vec<String>,
    enabled: Option<bool>,
}

async fn create(app: &App, token: Option<String>, body: &[u8]) -> Result<Hook, ApiError> {
    let admin = require_admin(app, token, ADMINS).await?;
    let hooks = sender(app)?;
    let req: CreateRequest = parse_json(body)?;
    let hook = Hook {
        id: new_id(),
        url: checked_url(&req.url)?,
        secret: new_secret(),
        events: check_events(&req.events)?,
        enabled: req.enabled.unwrap_or(true),
        created_at: now_ms(),
        created_by: Some(admin.id.to_string()),
    };
    let saved = hook.clone();
    let by = Actor::staff(&admin);
    let full = app
        .store
        .write(move |c| {
            if db::count(c)? >= MAX_HOOKS {
                return Ok(false);
            }
            db::save(c, &saved)?;
            let detail =
                json!({ "url": saved.url, "events": saved.events, "enabled": saved.enabled });
            audit::webhook(c, &by, "webhook.created", &saved.id, detail)?;
            Ok(true)
        })
        .await?;
    if !full {
        return Err(ApiError::conflict(format!(
            "There are already {MAX_HOOKS} webhooks; delete one first."
        )));
    }
    hooks.reload().await?;
    Ok(hook)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateRequest {
    url: Option<String>,
    events: Option<Vec<String>>,
    enabled: Option<bool>,
    rotate_secret: Option<bool>,
}

async fn update(app: &App, token: Option<String>, id: &str, body: &[u8]) -> Result<Hook, ApiError> {
    let by = Actor::staff(&require_admin(app, token, ADMINS).await?);
    let hooks = sender(app)?;
    let req: UpdateRequest = parse_json(body)?;
    let mut hook = load(app, id).await?;
    if let Some(url) = &req.url {
        hook.url = checked_url(url)?;
    }
    if let Some(events) = &req.events {
        hook.events = check_events(events)?;
    }
    if let Some(enabled) = req.enabled {
        hook.enabled = enabled;
    }
    if req.rotate_secret == Some(true) {
        hook.secret = new_secret();
    }
    let saved = hook.clone();
    // What changed, for the audit log (the secret only as "rotated").
    let detail = json!({
        "url": req.url.as_ref().map(|_| &hook.url),
        "events": req.events.as_ref().map(|_| &hook.events),
        "enabled": req.enabled,
        "secret_rotated": req.rotate_secret == Some(true),
    });
    // Only if it still exists (a delete may have come in between).
    let kept = app
        .store
        .write(move |c| {
            if db::get(c, &saved.id)?.is_none() {
                return Ok(false);
            }
            db::save(c, &saved)?;
            audit::webhook(c, &by, "webhook.changed", &saved.id, detail)?;
            Ok(true)
        })
        .await?;
    if !kept {
        return Err(not_found());
    }
    hooks.reload().await?;
    Ok(hook)
}

async fn delete(app: &App, token: Option<String>, id: &str) -> Result<(), ApiError> {
    let by = Actor::staff(&require_admin(app, token, ADMINS).await?);
    let hooks = sender(app)?;
    if !is_id(id) {
        return Err(not_found());
    }
    let id = id.to_string();
    let deleted = app.store.write(move |c| {
        let gone = db::delete(c, &id)?;
        if gone {
            audit::webhook(c, &by, "webhook.deleted", &id, json!({}))?;
        }
        Ok(gone)
    });
    if !deleted.await? {
        return Err(not_found());
    }
    hooks.reload().await?;
    Ok(())
}

async fn deliveries(app: &App, token: Option<String>, id: &str) -> Result<Value, ApiError> {
    require_admin(app, token, ADMINS).await?;
    sender(app)?;
    let hook = load(app, id).await?;
    let list = app
        .store
        .read(move |c| db::deliveries(c, &hook.id, LISTED))
        .await?;
    Ok(json!({ "results": list }))
}

async fn test(app: &App, token: Option<String>, id: &str) -> Result<Value, ApiError> {
    require_admin(app, token, ADMINS).await?;
    let hooks = sender(app)?;
    let hook = load(app, id).await?;
    if !hook.enabled {
        return Err(ApiError::conflict(
            "The webhook is disabled; enable it to send a test.",
        ));
    }
    let delivery = hooks.ping(&hook.id).await?;
    Ok(json!({ "id": delivery, "event": Event::Ping.name() }))
}
