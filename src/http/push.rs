//! Web Push for staff (issue 15): `GET /api/v1/push/key` answers `{public_key}` (the VAPID
//! public key, base64url, for `PushManager.subscribe({applicationServerKey})`);
//! `POST /api/v1/push/subscriptions` keeps the caller's `PushSubscription.toJSON()`
//! (`{endpoint, keys: {p256dh, auth}}`; at most `push::MAX_PER_STAFF` per staff member, the
//! oldest replaced) and `DELETE /api/v1/push/subscriptions {endpoint}` forgets it. Staff only.

use super::{bearer, body, parse_json, require_staff, respond, with_app};
use crate::app::App;
use crate::error::ApiError;
use crate::model::now_ms;
use crate::push::{self, Pusher};
use crate::store::push::{self as db, Subscription};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let limit = app.config.max_body_bytes;
    let key = warp::path!("api" / "v1" / "push" / "key")
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(|app: App, token: Option<String>| async move {
            let res = async {
                require_staff(&app, token).await?;
                Ok::<_, ApiError>(json!({"public_key": pusher(&app)?.public_key()}))
            }
            .await;
            respond(StatusCode::OK, res)
        });
    let subscriptions = warp::path!("api" / "v1" / "push" / "subscriptions");
    let add = subscriptions
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(bearer())
        .and(body(limit))
        .then(|app: App, token: Option<String>, body: Bytes| async move {
            respond(StatusCode::CREATED, subscribe(&app, token, &body).await)
        });
    let remove = subscriptions
        .and(warp::delete())
        .and(with_app(app))
        .and(bearer())
        .and(body(limit))
        .then(|app: App, token: Option<String>, body: Bytes| async move {
            respond(StatusCode::OK, unsubscribe(&app, token, &body).await)
        });
    key.or(add).unify().or(remove).unify().boxed()
}

fn pusher(app: &App) -> Result<&Pusher, ApiError> {
    app.live
        .pusher
        .as_ref()
        .ok_or_else(|| ApiError::not_found("Push notifications are not available here."))
}

/// `PushSubscription.toJSON()`; `expirationTime` (and anything a browser adds) is ignored.
#[derive(Deserialize)]
struct NewSubscription {
    endpoint: String,
    keys: Keys,
}

#[derive(Deserialize)]
struct Keys {
    p256dh: String,
    auth: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Endpoint {
    endpoint: String,
}

fn invalid(field: &str, why: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("Invalid field: {field} ({why})."))
}

async fn subscribe(
    app: &App,
    token: Option<String>,
    body: &[u8],
) -> Result<serde_json::Value, ApiError> {
    let staff = require_staff(app, token).await?;
    let pusher = pusher(app)?;
    let req: NewSubscription = parse_json(body)?;
    push::check_endpoint(&req.endpoint).map_err(|why| invalid("endpoint", why))?;
    let point = push::decode_key(&req.keys.p256dh, 65).map_err(|w| invalid("keys.p256dh", w))?;
    p256::PublicKey::from_sec1_bytes(&point)
        .map_err(|_| invalid("keys.p256dh", "not a P-256 public key"))?;
    push::decode_key(&req.keys.auth, 16).map_err(|why| invalid("keys.auth", why))?;
    let sub = Subscription {
        staff_id: staff.id.clone(),
        endpoint: req.endpoint,
        p256dh: req.keys.p256dh,
        auth: req.keys.auth,
    };
    let taken_from = app
        .store
        .write(move |c| db::subscribe(c, &sub, push::MAX_PER_STAFF, now_ms()))
        .await?;
    pusher.subscribed().set(&staff.id, true);
    if let Some(other) = taken_from {
        pusher.subscribed().set(&other, false);
    }
    Ok(json!({"subscribed": true}))
}

async fn unsubscribe(
    app: &App,
    token: Option<String>,
    body: &[u8],
) -> Result<serde_json::Value, ApiError> {
    let staff = require_staff(app, token).await?;
    let pusher = pusher(app)?;
    let req: Endpoint = parse_json(body)?;
    let sid = staff.id.clone();
    let (removed, left) = app
        .store
        .write(move |c| {
            let removed = db::unsubscribe(c, &sid, &req.endpoint)?;
            Ok((removed, db::has_subscriptions(c, &sid)?))
        })
        .await?;
    pusher.subscribed().set(&staff.id, left);
    Ok(json!({"removed": removed}))
}
