//! Email for visitors (issue 15):
//!
//! - `POST /api/v1/visitors/resume {token}`: the link in the email of replies a visitor missed
//!   (`/chat/?resume=TOKEN`) is exchanged here for a visitor access token (`201
//!   {access_token, expires_at, visitor, chat_id}`), so the chat page continues as that visitor
//!   on any device. The token is random, kept only as its SHA-256 with an expiry (7 days), like
//!   access tokens: a leaked database gives no working link, and a link can be dropped by
//!   deleting its row. It works until it expires (a visitor may open it on two devices). A bad
//!   or expired one is 401, and failures per address are limited like visitor creations.
//! - `POST /api/v1/visitors/transcript {email?}` with the visitor's token: the transcript of
//!   their chat that just ended (their latest chat, which must be ended, as `rate_chat`), to
//!   `email` or the address they gave. Once per chat (409 `transcript_sent` after that); 409
//!   `email_off`, 409 `no_ended_chat`, 400 for a bad address; `202 {to}` when it is handed to
//!   the outbox.

use super::{bearer, body, client_ip, parse_json, require_principal, respond, with_app};
use crate::app::App;
use crate::auth::{self, Principal};
use crate::email::Notice;
use crate::error::ApiError;
use crate::model::ChatId;
use crate::store::{accounts, email as store_email};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::IpAddr;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let limit = app.config.max_body_bytes;
    let resume = warp::path!("api" / "v1" / "visitors" / "resume")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(client_ip(app.clone()))
        .and(body(limit))
        .then(|app: App, ip: IpAddr, body: Bytes| async move {
            respond(StatusCode::CREATED, resume(&app, ip, &body).await)
        });
    let transcript = warp::path!("api" / "v1" / "visitors" / "transcript")
        .and(warp::post())
        .and(with_app(app))
        .and(bearer())
        .and(body(limit))
        .then(|app: App, token: Option<String>, body: Bytes| async move {
            respond(StatusCode::ACCEPTED, transcript(&app, token, &body).await)
        });
    resume.or(transcript).unify().boxed()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResumeRequest {
    token: String,
}

const BAD_LINK: &str =
    "This link does not work any more (it is wrong or older than 7 days). Start a new chat.";

async fn resume(app: &App, ip: IpAddr, body: &[u8]) -> Result<Value, ApiError> {
    let key = format!("resume:{ip}");
    if let Some(wait) = app.visitor_throttle.blocked(&key) {
        return Err(ApiError::rate_limited(wait));
    }
    let req: ResumeRequest = parse_json(body)?;
    let token = req.token.trim();
    // Our tokens are 64 hex digits; anything else cannot match.
    let found = if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        let hash = auth::token_hash(token);
        app.store
            .read(move |c| {
                let Some((vid, chat)) = store_email::resume_link(c, &hash)? else {
                    return Ok(None);
                };
                Ok(accounts::visitor_by_id(c, &vid)?
                    .filter(|v| !v.disabled)
                    .map(|v| (v, chat)))
            })
            .await?
    } else {
        None
    };
    let Some((visitor, chat_id)) = found else {
        app.visitor_throttle.fail(&key);
        return Err(ApiError::unauthorized(BAD_LINK));
    };
    let (access_token, expires_at) = auth::issue_token(
        &app.store,
        accounts::TokenKind::Visitor,
        &visitor.id,
        app.config.visitor_token_ttl,
    )
    .await?;
    Ok(
        json!({"access_token": access_token, "expires_at": expires_at,
              "visitor": visitor, "chat_id": chat_id}),
    )
}

/// The refusals, each with its own code (`error.code`) so the chat page can say it in the
/// visitor's language.
const EMAIL_OFF: &str =
    "Sorry, this business does not send emails, so the transcript cannot be sent.";
const NO_ENDED_CHAT: &str = "There is no ended chat to send.";
const ALREADY_SENT: &str = "The transcript of this chat was already sent (once per chat).";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TranscriptRequest {
    #[serde(default)]
    email: Option<String>,
}

async fn transcript(app: &App, token: Option<String>, body: &[u8]) -> Result<Value, ApiError> {
    let visitor = match require_principal(app, token).await? {
        Principal::Visitor(v) => v,
        Principal::Staff(_) => {
            return Err(ApiError::forbidden(
                "Only a visitor asks for their transcript.",
            ))
        }
    };
    let req: TranscriptRequest = if body.iter().all(u8::is_ascii_whitespace) {
        TranscriptRequest { email: None }
    } else {
        parse_json(body)?
    };
    let mailer = app
        .live
        .mailer
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "email_off", EMAIL_OFF))?;
    let settings = app
        .store
        .read(accounts::load_settings)
        .await
        .map(|rows| crate::settings::Settings::from_rows(&rows))?;
    if !settings.email.is_on() {
        return Err(ApiError::new(StatusCode::CONFLICT, "email_off", EMAIL_OFF));
    }
    let given = req
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .or(visitor.email.clone())
        .ok_or_else(|| ApiError::bad_request("Missing/Invalid field: email (give an address)."))?;
    super::check_email("email", &given)?;
    let to = crate::email::settings::mailbox(&given)
        .map_err(|_| ApiError::bad_request("Invalid field: email (not an email address)."))?;
    let vid = visitor.id.0.clone();
    let chat = app
        .store
        .write(move |c| {
            let Some(latest) = store_email::latest_chat(c, &vid)?.filter(|l| l.ended) else {
                return Ok(Err(("no_ended_chat", NO_ENDED_CHAT)));
            };
            if latest.transcript_sent || !store_email::mark_transcript_sent(c, &latest.chat_id)? {
                return Ok(Err(("transcript_sent", ALREADY_SENT)));
            }
            Ok(Ok(latest.chat_id))
        })
        .await?
        .map_err(|(code, why)| ApiError::new(StatusCode::CONFLICT, code, why))?;
    let handed = mailer.notify(Notice::Transcript {
        chat_id: ChatId(chat.clone()),
        visitor,
        to: to.clone(),
    });
    if !handed {
        app.store
            .write(move |c| store_email::unmark_transcript_sent(c, &chat))
            .await?;
        return Err(ApiError::unavailable(
            "Too many emails are waiting; try again in a minute.",
        ));
    }
    Ok(json!({"to": to.email.to_string()}))
}
