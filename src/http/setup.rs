//! First run: while no admin account exists, the server logs a one-time URL
//! `/setup?token=…`; its page posts here to create the first admin. `GET /api/v1/setup` tells
//! the page whether that is still to do (`{"admin_exists": true}` once it is done), so a setup
//! link opened again says so instead of showing the form.

use super::accounts::{check_email, optional_text, LoginReply};
use super::{body, parse_json, respond, with_app};
use crate::app::App;
use crate::auth;
use crate::error::ApiError;
use crate::model::Role;
use crate::store::accounts::{self, NewStaff, TokenKind};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let status = warp::path!("api" / "v1" / "setup")
        .and(warp::get())
        .and(with_app(app.clone()))
        .then(|app: App| async move {
            let exists = app
                .store
                .read(accounts::admin_exists)
                .await
                .map_err(ApiError::from)
                .map(|exists| serde_json::json!({ "admin_exists": exists }));
            respond(StatusCode::OK, exists)
        });
    let create = warp::path!("setup")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(body(app.config.max_body_bytes))
        .then(|app: App, body: Bytes| async move {
            respond(StatusCode::CREATED, create_first_admin(&app, &body).await)
        });
    status.or(create).unify().boxed()
}

/// The form's fields default to empty so that an empty form is answered with all it lacks at
/// once (the token comes from the link, not the form).
#[derive(Deserialize)]
pub struct SetupRequest {
    token: String,
    #[serde(default)]
    email: String,
    #[serde(alias = "name", default)]
    full_name: String,
    display_name: Option<String>,
    #[serde(default)]
    password: String,
}

/// Generates the setup token if no admin exists yet. Returns it for the start-up log.
pub async fn open_if_needed(app: &App) -> Result<Option<String>, crate::error::StoreError> {
    let exists = app.store.read(accounts::admin_exists).await?;
    let mut slot = app.setup_token.lock().unwrap_or_else(|p| p.into_inner());
    *slot = if exists {
        None
    } else {
        Some(auth::new_token())
    };
    Ok(slot.clone())
}

async fn create_first_admin(app: &App, body: &[u8]) -> Result<LoginReply, ApiError> {
    let req: SetupRequest = parse_json(body)?;
    let expected = app
        .setup_token
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let Some(expected) = expected else {
        return Err(ApiError::conflict(
            "Setup is already done: an admin account exists. Sign in instead.",
        ));
    };
    let ok = expected.len() == req.token.len()
        && expected
            .bytes()
            .zip(req.token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !ok {
        return Err(ApiError::forbidden(
            "The setup link is not valid. Use the one in the server's log.",
        ));
    }
    let missing: Vec<&str> = [
        ("full_name", req.full_name.trim().is_empty()),
        ("email", req.email.trim().is_empty()),
        ("password", req.password.is_empty()),
    ]
    .into_iter()
    .filter_map(|(field, empty)| empty.then_some(field))
    .collect();
    if !missing.is_empty() {
        return Err(ApiError::bad_request(format!(
            "Missing field{}: {}.",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", ")
        )));
    }
    let email = req.email.trim().to_string();
    check_email("email", &email)?;
    let full_name = optional_text("full_name", Some(req.full_name), 100)?
        .ok_or_else(|| ApiError::bad_request("Missing/Invalid field: full_name."))?;
    let display_name = optional_text("display_name", req.display_name, 100)?;
    auth::check_new_password(&req.password)?;
    let password = req.password;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|_| ApiError::internal())??;
    let (access_token, token_hash, expires_at) = auth::mint(app.config.staff_token_ttl);
    let staff = app
        .store
        .write(move |c| {
            // Checked again inside the writer: two racing setup posts make one admin.
            if accounts::admin_exists(c)? {
                return Err(crate::error::StoreError::Conflict(
                    "Setup is already done: an admin account exists. Sign in instead.".into(),
                ));
            }
            let s = accounts::create_staff(
                c,
                NewStaff {
                    email,
                    full_name,
                    display_name,
                    title: None,
                    role: Role::Admin,
                    password_hash: hash,
                },
            )?;
            accounts::insert_token(c, &token_hash, TokenKind::Staff, &s.id, expires_at)?;
            Ok(s)
        })
        .await?;
    *app.setup_token.lock().unwrap_or_else(|p| p.into_inner()) = None;
    tracing::info!(email = %staff.email, "first admin account created; setup is closed");
    Ok(LoginReply {
        access_token,
        expires_at,
        staff,
    })
}
