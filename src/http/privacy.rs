//! Data protection (issue 16, product.md §8.12), admins only:
//! - `DELETE /api/v1/visitors/{id}`: the visitor and everything of theirs, live state included
//!   (`Live::forget_visitor`); their attachment files go after the commit. 204, or 404.
//! - `GET /api/v1/visitors/{id}/export`: one JSON document of everything stored about them
//!   (`store::privacy::export`), as a download.
//! - `GET /api/v1/audit?before=&limit=`: the audit log, newest first, keyset pages by id.
//!
//! Deleting and exporting are recorded in the audit log in the same transaction.

use super::{bearer, error_reply, require_admin, respond, with_app};
use crate::app::App;
use crate::error::ApiError;
use crate::model::is_id;
use crate::store::audit::{self, Actor};
use crate::store::{attachments, privacy};
use http::StatusCode;
use serde::Serialize;
use std::collections::HashMap;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

const ONLY_ADMINS: &str = "Only admins can delete or export a visitor's data.";
/// Audit entries per page: default and most.
const AUDIT_PAGE: i64 = 50;
const AUDIT_PAGE_MAX: i64 = 200;

type Query = HashMap<String, String>;

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let delete = warp::path!("api" / "v1" / "visitors" / String)
        .and(warp::delete())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(|id: String, app: App, token: Option<String>| async move {
            match delete_visitor(&app, token, id).await {
                Ok(()) => {
                    warp::reply::with_status(warp::reply(), StatusCode::NO_CONTENT).into_response()
                }
                Err(e) => error_reply(&e),
            }
        });
    let export = warp::path!("api" / "v1" / "visitors" / String / "export")
        .and(warp::get())
        .and(with_app(app.clone()))
        .and(bearer())
        .then(|id: String, app: App, token: Option<String>| async move {
            match export(&app, token, id.clone()).await {
                Ok(doc) => {
                    let mut r = super::json_reply(StatusCode::OK, &doc);
                    let disposition = format!("attachment; filename=\"visitor-{id}.json\"");
                    if let Ok(v) = http::HeaderValue::from_str(&disposition) {
                        r.headers_mut().insert(http::header::CONTENT_DISPOSITION, v);
                    }
                    r.headers_mut().insert(
                        http::header::CACHE_CONTROL,
                        http::HeaderValue::from_static("no-store"),
                    );
                    r
                }
                Err(e) => error_reply(&e),
            }
        });
    let audit = warp::path!("api" / "v1" / "audit")
        .and(warp::get())
        .and(with_app(app))
        .and(bearer())
        .and(warp::query::<Query>())
        .then(|app: App, token: Option<String>, q: Query| async move {
            respond(StatusCode::OK, audit_page(&app, token, &q).await)
        });
    delete.or(export).unify().or(audit).unify().boxed()
}

fn no_such_visitor() -> ApiError {
    ApiError::not_found("No such visitor.")
}

async fn delete_visitor(app: &App, token: Option<String>, id: String) -> Result<(), ApiError> {
    let me = require_admin(app, token, ONLY_ADMINS).await?;
    if !is_id(&id) {
        return Err(no_such_visitor());
    }
    let files = app
        .live
        .forget_visitor(id.into(), Actor::staff(&me))
        .await?
        .ok_or_else(no_such_visitor)?;
    let dir = attachments::dir(&app.config.data_dir);
    let _ = tokio::task::spawn_blocking(move || attachments::remove_files(&dir, &files)).await;
    Ok(())
}

async fn export(
    app: &App,
    token: Option<String>,
    id: String,
) -> Result<serde_json::Value, ApiError> {
    let me = require_admin(app, token, ONLY_ADMINS).await?;
    if !is_id(&id) {
        return Err(no_such_visitor());
    }
    // In the writer, so the export and its audit entry are one transaction.
    app.store
        .write(move |c| {
            let Some(doc) = privacy::export(c, &id)? else {
                return Ok(None);
            };
            let chats = doc["chats"].as_array().map_or(0, Vec::len);
            let detail = serde_json::json!({ "chats": chats });
            audit::record(
                c,
                &Actor::staff(&me),
                "visitor.exported",
                Some(("visitor", &id)),
                detail,
            )?;
            Ok(Some(doc))
        })
        .await?
        .ok_or_else(no_such_visitor)
}

#[derive(Serialize)]
struct AuditPage {
    results: Vec<audit::Entry>,
    /// The `before` of the next (older) page; `null` on the last one.
    next: Option<i64>,
}

async fn audit_page(app: &App, token: Option<String>, q: &Query) -> Result<AuditPage, ApiError> {
    require_admin(app, token, "Only admins can read the audit log.").await?;
    const KNOWN: &[&str] = &["before", "limit"];
    if let Some(k) = q.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "Unknown query parameter: {k} (known: before, limit)."
        )));
    }
    let int = super::history::int_param;
    let before = int(q, "before", 1, i64::MAX, "an entry's id, from `next`")?;
    let limit = int(q, "limit", 1, AUDIT_PAGE_MAX, "1 to 200")?.unwrap_or(AUDIT_PAGE);
    let mut results = app
        .store
        .read(move |c| audit::list(c, before, limit + 1))
        .await?;
    let more = results.len() as i64 > limit;
    results.truncate(limit as usize);
    let next = if more {
        results.last().map(|e| e.id)
    } else {
        None
    };
    Ok(AuditPage { results, next })
}
