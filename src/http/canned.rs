//! `/api/v1/canned-replies` (issue 14): any staff member lists them; admins create, change and
//! delete them. Each change is one job of the store's writer, which also reads the new list, and
//! every console is then sent that list (`canned_replies_changed`).

use super::{bearer, body, parse_json, respond, with_app};
use crate::app::App;
use crate::error::ApiError;
use crate::model::is_id;
use crate::store::audit::{self, Actor};
use crate::store::canned::{self, Canned};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{json, Value};
use warp::filters::BoxedFilter;
use warp::reply::{Reply, Response};
use warp::Filter;

pub const MAX_SHORTCUT_CHARS: usize = 32;
pub const MAX_TEXT_CHARS: usize = 2000;

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let limit = app.config.max_body_bytes;
    let list = warp::path!("api" / "v1" / "canned-replies")
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(|app: App, token: Option<String>| async move {
            respond(StatusCode::OK, list(&app, token).await)
        });
    let create = warp::path!("api" / "v1" / "canned-replies")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(bearer())
        .and(body(limit))
        .then(|app: App, token: Option<String>, body: Bytes| async move {
            respond(StatusCode::CREATED, create(&app, token, &body).await)
        });
    let update = warp::path!("api" / "v1" / "canned-replies" / String)
        .and(warp::patch())
        .and(with_app(app.clone()))
        .and(bearer())
        .and(body(limit))
        .then(
            |id: String, app: App, token: Option<String>, body: Bytes| async move {
                respond(StatusCode::OK, update(&app, token, id, &body).await)
            },
        );
    let delete = warp::path!("api" / "v1" / "canned-replies" / String)
        .and(warp::delete())
        .and(with_app(app))
        .and(bearer())
        .then(|id: String, app: App, token: Option<String>| async move {
            match delete(&app, token, id).await {
                Ok(()) => StatusCode::NO_CONTENT.into_response(),
                Err(e) => super::error_reply(&e),
            }
        });
    list.or(create)
        .unify()
        .or(update)
        .unify()
        .or(delete)
        .unify()
        .boxed()
}

async fn list(app: &App, token: Option<String>) -> Result<Value, ApiError> {
    super::require_staff(app, token).await?;
    let all = app.store.read(|c| Ok(canned::load_canned(c)?)).await?;
    Ok(json!({ "results": all }))
}

async fn admin_only(app: &App, token: Option<String>) -> Result<Actor, ApiError> {
    super::require_admin(app, token, "Only admins can manage canned replies.")
        .await
        .map(|s| Actor::staff(&s))
}

fn invalid(field: &str, why: &str) -> ApiError {
    ApiError::bad_request(format!("Missing/Invalid field: {field} ({why})."))
}

/// 1–32 of `[a-z0-9_-]` once lower-cased (surrounding spaces dropped).
pub fn check_shortcut(raw: &str) -> Result<String, ApiError> {
    let s = raw.trim().to_lowercase();
    let n = s.chars().count();
    if n == 0 || n > MAX_SHORTCUT_CHARS {
        return Err(invalid(
            "shortcut",
            &format!("1 to {MAX_SHORTCUT_CHARS} characters"),
        ));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return Err(invalid("shortcut", "only letters a-z, digits, '_' and '-'"));
    }
    Ok(s)
}

/// 1–2000 characters, not only spaces; line breaks and tabs are kept, other control characters
/// refused (the text becomes a chat message).
pub fn check_text(text: &str) -> Result<(), ApiError> {
    if text.trim().is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(
            "text",
            &format!("1 to {MAX_TEXT_CHARS} characters"),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(invalid("text", "control characters are not allowed"));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCanned {
    shortcut: String,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CannedChange {
    shortcut: Option<String>,
    text: Option<String>,
}

/// One change at a time from write to telling the consoles: two admins saving at once cannot
/// have the older list told last.
static CHANGING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs one change in the writer together with the read of the list it leaves, then tells
/// every console.
async fn change<T, F>(app: &App, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&rusqlite::Connection) -> Result<T, crate::error::StoreError> + Send + 'static,
{
    let _one = CHANGING.lock().await;
    let (out, list): (T, Vec<Canned>) = app
        .store
        .write(move |c| {
            let out = work(c)?;
            Ok((out, canned::load_canned(c)?))
        })
        .await?;
    app.live.canned_changed(list).await;
    Ok(out)
}

async fn create(app: &App, token: Option<String>, body: &[u8]) -> Result<Canned, ApiError> {
    let by = admin_only(app, token).await?;
    let req: NewCanned = parse_json(body)?;
    let shortcut = check_shortcut(&req.shortcut)?;
    check_text(&req.text)?;
    change(app, move |c| {
        let made = canned::create_canned(c, &shortcut, &req.text)?;
        audit::canned(c, &by, "canned.created", &made.id, Some(&made.shortcut))?;
        Ok(made)
    })
    .await
}

async fn update(
    app: &App,
    token: Option<String>,
    id: String,
    body: &[u8],
) -> Result<Canned, ApiError> {
    let by = admin_only(app, token).await?;
    if !is_id(&id) {
        return Err(ApiError::not_found("No such canned reply."));
    }
    let req: CannedChange = parse_json(body)?;
    if req.shortcut.is_none() && req.text.is_none() {
        return Err(ApiError::bad_request(
            "Missing/Invalid field: shortcut or text (send at least one).",
        ));
    }
    let shortcut = req.shortcut.as_deref().map(check_shortcut).transpose()?;
    if let Some(t) = &req.text {
        check_text(t)?;
    }
    change(app, move |c| {
        let now = canned::update_canned(c, &id, shortcut.as_deref(), req.text.as_deref())?;
        audit::canned(c, &by, "canned.changed", &now.id, Some(&now.shortcut))?;
        Ok(now)
    })
    .await
}

async fn delete(app: &App, token: Option<String>, id: String) -> Result<(), ApiError> {
    let by = admin_only(app, token).await?;
    if !is_id(&id) {
        return Err(ApiError::not_found("No such canned reply."));
    }
    change(app, move |c| {
        canned::delete_canned(c, &id)?;
        audit::canned(c, &by, "canned.deleted", &id, None)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_are_lower_cased_and_checked() {
        assert_eq!(check_shortcut(" Ship_2-go ").unwrap(), "ship_2-go");
        for bad in ["", "  ", "/ship", "a b", "é", &"a".repeat(33)] {
            let e = check_shortcut(bad).unwrap_err();
            assert!(e.message.contains("field: shortcut"), "{bad:?}: {e}");
        }
        assert!(check_shortcut(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn texts_are_checked() {
        assert!(check_text("line one\nline two\ttab").is_ok());
        assert!(check_text(&"é".repeat(2000)).is_ok());
        for bad in ["", " \n ", "bell\u{7}", &"x".repeat(2001)] {
            let e = check_text(bad).unwrap_err();
            assert!(e.message.contains("field: text"), "{bad:?}: {e}");
        }
    }
}
