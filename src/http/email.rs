//! Email for admins (issue 15): `POST /api/v1/email/test {to}` sends one email now and answers
//! with the SMTP outcome in a sentence (`200 {ok, error?}`, whatever the SMTP server did), and
//! `GET /api/v1/email/status` gives the last outcome per kind of email
//! (`{kind: {at, ok, attempts, error?}}`).

use super::{bearer, body, parse_json, require_admin, respond, with_app};
use crate::app::App;
use crate::error::ApiError;
use bytes::Bytes;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

const ADMINS: &str = "Only admins can do this.";

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let limit = app.config.max_body_bytes;
    let test = warp::path!("api" / "v1" / "email" / "test")
        .and(warp::post())
        .and(with_app(app.clone()))
        .and(bearer())
        .and(body(limit))
        .then(|app: App, token: Option<String>, body: Bytes| async move {
            respond(StatusCode::OK, send_test(&app, token, &body).await)
        });
    let status = warp::path!("api" / "v1" / "email" / "status")
        .and(warp::get())
        .and(with_app(app))
        .and(bearer())
        .then(|app: App, token: Option<String>| async move {
            let res = async {
                require_admin(&app, token, ADMINS).await?;
                Ok::<_, ApiError>(mailer(&app)?.status())
            }
            .await;
            respond(StatusCode::OK, res)
        });
    test.or(status).unify().boxed()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestRequest {
    to: String,
}

#[derive(Serialize)]
struct TestOutcome {
    ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn mailer(app: &App) -> Result<&crate::email::Mailer, ApiError> {
    app.live
        .mailer
        .as_ref()
        .ok_or_else(|| ApiError::not_found("Email is not available in this server."))
}

async fn send_test(app: &App, token: Option<String>, body: &[u8]) -> Result<TestOutcome, ApiError> {
    require_admin(app, token, ADMINS).await?;
    let req: TestRequest = parse_json(body)?;
    let outcome = mailer(app)?.send_test(&req.to).await;
    Ok(TestOutcome {
        ok: outcome.is_ok(),
        error: outcome.err(),
    })
}
