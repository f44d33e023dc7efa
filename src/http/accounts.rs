//! `/api/v1/auth/login`, `/api/v1/auth/logout`, `/api/v1/me`, `/api/v1/visitors`.

use super::{bearer, body, client_ip, parse_json, require_principal, respond, with_app};
use crate::app::App;
use crate::auth::{self, Principal};
use crate::error::ApiError;
use crate::live::actor::Revoke;
use crate::model::Staff;
use crate::store::accounts::{self, TokenKind};
use bytes::Bytes;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::net::IpAddr;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let limit = app.config.max_body_bytes;
    let login = warp::path!("api" / "v1" / "auth" / "login")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(client_ip(app.clone()))
        .and(body(limit))
        .then(login);
    let logout = warp::path!("api" / "v1" / "auth" / "logout")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(logout);
    let me = warp::path!("api" / "v1" / "me")
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(me);
    let visitors = warp::path!("api" / "v1" / "visitors")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(client_ip(app))
        .and(body(limit))
        .then(create_visitor);
    login
        .or(logout)
        .unify()
        .or(me)
        .unify()
        .or(visitors)
        .unify()
        .boxed()
}

#[derive(Deserialize)]
pub struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Serialize)]
pub struct LoginReply {
    pub access_token: String,
    pub expires_at: i64,
    pub staff: Staff,
}

const BAD_CREDENTIALS: &str = "The email or password is incorrect.";

async fn login(app: App, ip: IpAddr, body: Bytes) -> Response {
    respond(StatusCode::OK, do_login(&app, ip, &body).await)
}

async fn do_login(app: &App, ip: IpAddr, body: &[u8]) -> Result<LoginReply, ApiError> {
    let req: LoginRequest = parse_json(body)?;
    let email = req.email.trim().to_string();
    // Reserved before anything is verified (see `auth::LoginGuard`): concurrent guesses cannot
    // walk past the limit, and refused ones cost no argon2.
    let guard = &app.login;
    let attempt = guard
        .begin(ip, &email.to_lowercase())
        .map_err(ApiError::rate_limited)?;
    let checked = async {
        let found = app
            .store
            .read(move |c| accounts::staff_login_by_email(c, &email))
            .await?;
        let password = req.password;
        guard
            .hashing(move || match found {
                Some((staff, hash)) => {
                    let ok = auth::verify_password(&password, &hash);
                    ok.then_some(staff)
                }
                None => {
                    auth::verify_password(&password, auth::dummy_hash());
                    None
                }
            })
            .await
    }
    .await;
    let staff = match checked {
        Ok(Some(s)) => {
            guard.succeeded(attempt);
            s
        }
        // The reservation stays: it is this address's failure.
        Ok(None) => return Err(ApiError::unauthorized(BAD_CREDENTIALS)),
        Err(e) => {
            guard.abandoned(attempt);
            return Err(e);
        }
    };
    if staff.disabled {
        return Err(ApiError::forbidden("This account is disabled."));
    }
    let (access_token, expires_at) = auth::issue_token(
        &app.store,
        TokenKind::Staff,
        &staff.id,
        app.config.staff_token_ttl,
    )
    .await?;
    Ok(LoginReply {
        access_token,
        expires_at,
        staff,
    })
}

async fn logout(app: App, token: Option<String>) -> Response {
    let res = async {
        require_principal(&app, token.clone()).await?;
        let hash = auth::token_hash(token.as_deref().unwrap_or_default());
        let revoked = hash.clone();
        app.store
            .write(move |c| accounts::revoke_token(c, &revoked))
            .await?;
        // The sockets opened with this token go now, not at their next reconnect.
        app.live.revoke(Revoke::Token(hash)).await;
        Ok::<_, ApiError>(())
    }
    .await;
    match res {
        Ok(()) => warp::reply::with_status(warp::reply(), StatusCode::NO_CONTENT).into_response(),
        Err(e) => super::error_reply(&e),
    }
}

async fn me(app: App, token: Option<String>) -> Response {
    let res = require_principal(&app, token).await.map(|p| match p {
        Principal::Staff(s) => json!({"kind": "staff", "staff": s}),
        Principal::Visitor(v) => json!({"kind": "visitor", "visitor": v}),
    });
    respond(StatusCode::OK, res)
}

#[derive(Deserialize)]
pub struct VisitorRequest {
    name: Option<String>,
    email: Option<String>,
}

/// Unicode's bidirectional formatting characters. In a name they can reorder what staff read
/// next to it ("Visitor \u{202E}gnp.exe" shows as "Visitor exe.png"): they are dropped.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Trims an optional text field (after dropping bidi controls); empty counts as absent. Errors
/// name the field.
pub fn optional_text(
    field: &str,
    value: Option<String>,
    max_chars: usize,
) -> Result<Option<String>, ApiError> {
    let Some(v) = value
        .map(|v| {
            v.chars()
                .filter(|c| !is_bidi_control(*c))
                .collect::<String>()
        })
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    if v.chars().count() > max_chars {
        return Err(ApiError::bad_request(format!(
            "Invalid field: {field} (at most {max_chars} characters)."
        )));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(ApiError::bad_request(format!(
            "Invalid field: {field} (control characters are not allowed)."
        )));
    }
    Ok(Some(v))
}

/// A plausible email address: one `@`, something on both sides, no spaces.
pub fn check_email(field: &str, email: &str) -> Result<(), ApiError> {
    let mut parts = email.split('@');
    let ok = matches!((parts.next(), parts.next(), parts.next()),
        (Some(a), Some(b), None) if !a.is_empty() && b.contains('.') && !b.starts_with('.') && !b.ends_with('.'))
        && !email.chars().any(char::is_whitespace);
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "Invalid field: {field} (not an email address)."
        )))
    }
}

async fn create_visitor(app: App, ip: IpAddr, body: Bytes) -> Response {
    let res = async {
        let key = format!("ip:{ip}");
        if let Some(wait) = app.visitor_throttle.blocked(&key) {
            return Err(ApiError::rate_limited(wait));
        }
        let req: VisitorRequest = if body.is_empty() {
            VisitorRequest {
                name: None,
                email: None,
            }
        } else {
            parse_json(&body)?
        };
        let name = optional_text("name", req.name, 100)?;
        let email = optional_text("email", req.email, 254)?;
        if let Some(e) = &email {
            check_email("email", e)?;
        }
        app.visitor_throttle.fail(&key);
        let anonymous = name.is_none() && email.is_none();
        let name =
            name.unwrap_or_else(|| format!("Visitor {}", 1000 + rand::random::<u16>() % 9000));
        let (access_token, hash, expires_at) = auth::mint(app.config.visitor_token_ttl);
        let visitor = app
            .store
            .write(move |c| {
                let v = accounts::create_visitor(c, &name, email.as_deref(), anonymous)?;
                accounts::insert_token(c, &hash, TokenKind::Visitor, &v.id, expires_at)?;
                Ok(v)
            })
            .await?;
        Ok(json!({"access_token": access_token, "expires_at": expires_at, "visitor": visitor}))
    }
    .await;
    respond(StatusCode::CREATED, res)
}
