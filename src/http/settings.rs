//! `/api/v1/settings` (product.md §8.9): any staff member reads them, admins change them
//! (`PATCH`, any subset of keys; an unknown key or a bad value is a 400 naming the key, and
//! nothing changes). Applied live: the live state gets the new settings right after the write.
//! And `/api/v1/availability`: whether a visitor who writes now reaches someone (no token: the
//! widget asks before it creates a visitor, e.g. to hide its launcher when nobody is there).

use super::{bearer, body, parse_json, respond, with_app};
use crate::app::App;
use crate::error::{ApiError, StoreError};
use crate::settings::{Invalid, Settings};
use crate::store::accounts;
use crate::store::audit::Actor;
use bytes::Bytes;
use http::StatusCode;
use serde_json::{Map, Value};
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let limit = app.config.max_body_bytes;
    let get = warp::path!("api" / "v1" / "settings")
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(|app: App, token: Option<String>| async move {
            respond(StatusCode::OK, read(&app, token).await)
        });
    let patch = warp::path!("api" / "v1" / "settings")
        .and(warp::patch())
        .and(with_app(app.clone()))
        .and(bearer())
        .and(body(limit))
        .then(|app: App, token: Option<String>, body: Bytes| async move {
            respond(StatusCode::OK, change(&app, token, &body).await)
        });
    let availability = warp::path!("api" / "v1" / "availability")
        .and(warp::get())
        .and(with_app(app))
        .then(|app: App| async move {
            let mut reply = respond(StatusCode::OK, Ok::<_, ApiError>(app.live.welcome().await));
            // widget.js reads it from the shop's page, another origin (public, no credentials).
            reply.headers_mut().insert(
                http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
                http::HeaderValue::from_static("*"),
            );
            reply
        });
    get.or(patch).unify().or(availability).unify().boxed()
}

async fn read(app: &App, token: Option<String>) -> Result<Settings, ApiError> {
    super::require_staff(app, token).await?;
    let rows = app.store.read(accounts::load_settings).await?;
    Ok(Settings::from_rows(&rows))
}

async fn change(app: &App, token: Option<String>, body: &[u8]) -> Result<Settings, ApiError> {
    let me = super::require_admin(app, token, "Only admins can change settings.").await?;
    let patch: Map<String, Value> = parse_json(body)?;
    // Read, change and store in one job of the one writer: two admins saving at once both
    // count, in some order.
    let next = app
        .store
        .write(move |c| {
            let now = Settings::from_rows(&accounts::load_settings(c)?);
            let next = now
                .patched(&patch)
                .map_err(|Invalid(why)| StoreError::Invalid(why))?;
            accounts::save_settings(c, &next.to_rows())?;
            let keys = patch.keys().cloned().collect();
            crate::store::audit::settings_changed(c, &Actor::staff(&me), &now, &next, keys)?;
            Ok(next)
        })
        .await?;
    app.live.set_settings(next.clone()).await;
    Ok(next)
}
