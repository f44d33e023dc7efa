//! `/api/v1/staff/{id}/avatar`: staff photos. A staff member sets or removes their own (admins
//! anyone's) by sending the picture as the request body; `crate::avatar` makes the small square
//! PNG that is stored. Anyone may fetch it (the widget shows it to visitors) at the address in
//! the staff object, which changes with the photo.

use super::{bearer, body, error_reply, json_reply, require_principal, with_app};
use crate::app::App;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::model::{Role, Staff};
use crate::store::accounts;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

/// The largest upload taken (the stored photo is a few KiB whatever comes in).
const MAX_UPLOAD: usize = 10 * 1024 * 1024;

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let limit = MAX_UPLOAD.min(app.config.max_attachment_bytes.max(1024 * 1024));
    let put = warp::path!("api" / "v1" / "staff" / String / "avatar")
        .and(warp::put())
        .and(with_app(app.clone()))
        .and(bearer())
        .and(body(limit))
        .then(
            |id: String, app: App, token: Option<String>, bytes: Bytes| async move {
                reply(set(&app, token, &id, Some(bytes)).await)
            },
        );
    let delete = warp::path!("api" / "v1" / "staff" / String / "avatar")
        .and(warp::delete())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(|id: String, app: App, token: Option<String>| async move {
            reply(set(&app, token, &id, None).await)
        });
    let get = warp::path!("api" / "v1" / "staff" / String / "avatar")
        .and(warp::get())
        .and(with_app(app))
        .then(|id: String, app: App| async move {
            match fetch(&app, &id).await {
                Ok(r) => r,
                Err(e) => error_reply(&e),
            }
        });
    put.or(delete).unify().or(get).unify().boxed()
}

fn reply(res: Result<Staff, ApiError>) -> Response {
    match res {
        Ok(s) => json_reply(StatusCode::OK, &s),
        Err(e) => error_reply(&e),
    }
}

/// Who may change `id`'s photo: they themselves, and admins.
async fn allowed(app: &App, token: Option<String>, id: &str) -> Result<(), ApiError> {
    match require_principal(app, token).await? {
        Principal::Staff(s) if s.id.as_str() == id || s.role_id == Role::Admin => Ok(()),
        Principal::Staff(_) => Err(ApiError::forbidden(
            "Only admins can change another staff member's photo.",
        )),
        Principal::Visitor(_) => Err(ApiError::forbidden("Only staff can do this.")),
    }
}

async fn set(
    app: &App,
    token: Option<String>,
    id: &str,
    upload: Option<Bytes>,
) -> Result<Staff, ApiError> {
    allowed(app, token, id).await?;
    let png = match upload {
        Some(bytes) => Some(
            tokio::task::spawn_blocking(move || crate::avatar::make(&bytes))
                .await
                .map_err(|_| ApiError::internal())?
                .map_err(ApiError::bad_request)?,
        ),
        None => None,
    };
    let target = id.to_string();
    let after = app
        .store
        .write(move |c| accounts::set_avatar(c, &target, png.as_deref()))
        .await?;
    // Consoles and the visitors in their chats see the new photo.
    app.live.staff_changed(after.clone()).await;
    Ok(after)
}

async fn fetch(app: &App, id: &str) -> Result<Response, ApiError> {
    let target = id.to_string();
    let png = app
        .store
        .read(move |c| accounts::avatar(c, &target))
        .await?
        .ok_or_else(|| ApiError::not_found("This staff member has no photo."))?;
    let mut r = Response::new(png.into());
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("image/png"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    // The address changes with the photo (`?v=`): a day in any cache is safe.
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Ok(r)
}
