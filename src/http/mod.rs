//! HTTP: the warp routes. One module per area; this file composes them and holds the pieces they
//! share (JSON bodies with size limits, error replies, the caller's address and token).

pub mod accounts;
mod assets;
pub mod attachments;
mod avatars;
pub mod canned;
pub mod chats;
pub mod email;
pub mod history;
mod openapi;
mod ops;
mod privacy;
pub mod push;
mod reports;
pub mod settings;
pub mod setup;
pub mod staff_admin;
pub mod tickets;
mod transcript;
mod visitor_email;
pub mod webhooks;

pub use accounts::check_email;
pub use setup::open_if_needed as open_setup_if_needed;

use crate::app::App;
use crate::auth::{self, Principal};
use crate::error::ApiError;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Buf, Filter, Rejection, Reply};

/// The TCP peer of a request, inserted by the accept loop (server.rs).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub SocketAddr);

/// All routes, with JSON errors for every rejection.
pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    let api = accounts::routes(app.clone())
        .or(setup::routes(app.clone()))
        .unify()
        .or(ops::routes(app.clone()))
        .unify()
        .or(chats::routes(app.clone()))
        .unify()
        .or(history::routes(app.clone()))
        .unify()
        .or(reports::routes(app.clone()))
        .unify()
        .or(transcript::routes(app.clone()))
        .unify()
        .or(openapi::routes(app.clone()))
        .unify()
        .or(staff_admin::routes(app.clone()))
        .unify()
        .or(tickets::routes(app.clone()))
        .unify()
        .or(settings::routes(app.clone()))
        .unify()
        .or(attachments::routes(app.clone()))
        .unify()
        .or(canned::routes(app.clone()))
        .unify()
        .or(avatars::routes(app.clone()))
        .unify()
        .or(email::routes(app.clone()))
        .unify()
        .or(visitor_email::routes(app.clone()))
        .unify()
        .or(push::routes(app.clone()))
        .unify()
        .or(webhooks::routes(app.clone()))
        .unify()
        .or(privacy::routes(app.clone()))
        .unify();
    api.or(assets::routes())
        .unify()
        .recover(handle_rejection)
        .unify()
        .map(|r: Response| with_common_headers(r))
        .boxed()
}

fn with_common_headers(mut r: Response) -> Response {
    common_headers(r.headers_mut());
    r
}

/// The security headers every response carries, whoever built it (warp's routes here,
/// socketioxide's answers and the refusals outside warp in server.rs). Headers a response
/// already has win: the HTML pages set their own Content-Security-Policy (assets.rs).
pub fn common_headers(h: &mut http::HeaderMap) {
    use http::HeaderValue;
    const COMMON: [(&str, &str); 3] = [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        // Nothing but the HTML pages should ever be rendered or framed: for JSON, text and
        // Engine.IO payloads this forbids every load.
        (
            "content-security-policy",
            "default-src 'none'; frame-ancestors 'none'",
        ),
    ];
    for (name, value) in COMMON {
        if !h.contains_key(name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    }
}

/// The body type of every response the server sends (warp's, socketioxide's, our own).
pub type Body =
    http_body_util::combinators::BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

pub fn empty_body() -> Body {
    use http_body_util::BodyExt;
    http_body_util::Empty::new()
        .map_err(|never| match never {})
        .boxed()
}

/// The error body of product.md §3.
fn error_body(e: &ApiError) -> serde_json::Value {
    serde_json::json!({"error": {"code": e.code, "message": e.message}})
}

/// The error reply for the handlers that run outside warp.
pub fn boxed_error(e: &ApiError) -> hyper::Response<Body> {
    use http_body_util::BodyExt;
    let mut resp = hyper::Response::new(
        http_body_util::Full::new(Bytes::from(error_body(e).to_string()))
            .map_err(|never| match never {})
            .boxed(),
    );
    *resp.status_mut() = e.status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    if let Some(secs) = e.retry_after {
        resp.headers_mut()
            .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
    }
    resp
}

/// A JSON reply with a status.
pub fn json_reply<T: Serialize>(status: StatusCode, body: &T) -> Response {
    warp::reply::with_status(warp::reply::json(body), status).into_response()
}

/// The error body of product.md §3.
pub fn error_reply(e: &ApiError) -> Response {
    let mut r = json_reply(e.status, &error_body(e));
    if let Some(secs) = e.retry_after {
        if let Ok(v) = secs.to_string().parse() {
            r.headers_mut().insert("retry-after", v);
        }
    }
    r
}

/// Turns a handler's result into a reply.
pub fn respond<T: Serialize>(status: StatusCode, res: Result<T, ApiError>) -> Response {
    match res {
        Ok(body) => json_reply(status, &body),
        Err(e) => error_reply(&e),
    }
}

async fn handle_rejection(err: Rejection) -> Result<Response, Infallible> {
    let e = if let Some(e) = err.find::<ApiError>() {
        e.clone()
    } else if err.is_not_found() {
        // No route answers this path: its own code, unlike a resource that does not exist
        // (the OpenAPI test tells the two apart).
        ApiError::new(StatusCode::NOT_FOUND, "no_route", "No such resource.")
    } else if err.find::<warp::reject::MethodNotAllowed>().is_some() {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This method is not allowed here.",
        )
    } else if err.find::<warp::reject::InvalidQuery>().is_some() {
        ApiError::bad_request("The query string is invalid.")
    } else if err.find::<warp::reject::InvalidHeader>().is_some()
        || err.find::<warp::reject::MissingHeader>().is_some()
    {
        ApiError::bad_request("A request header is missing or invalid.")
    } else if err.find::<warp::reject::UnsupportedMediaType>().is_some() {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send JSON.",
        )
    } else {
        tracing::warn!(?err, "unhandled rejection");
        ApiError::bad_request("The request could not be understood.")
    };
    Ok(error_reply(&e))
}

/// The request body, at most `limit` bytes (with or without a Content-Length).
pub fn body(limit: usize) -> impl Filter<Extract = (Bytes,), Error = Rejection> + Clone {
    warp::header::optional::<u64>("content-length")
        .and(warp::body::stream())
        .and_then(move |len: Option<u64>, stream| collect_body(len, stream, limit))
}

async fn collect_body<S, B>(len: Option<u64>, stream: S, limit: usize) -> Result<Bytes, Rejection>
where
    S: futures_util::Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    if len.is_some_and(|l| l > limit as u64) {
        return Err(warp::reject::custom(ApiError::too_large(limit)));
    }
    let mut stream = std::pin::pin!(stream);
    let mut buf = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk.map_err(|_| {
            warp::reject::custom(ApiError::bad_request("The request body was cut off."))
        })?;
        if buf.len() + chunk.remaining() > limit {
            return Err(warp::reject::custom(ApiError::too_large(limit)));
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            let n = part.len();
            buf.extend_from_slice(part);
            chunk.advance(n);
        }
    }
    Ok(buf.freeze())
}

/// Parses a JSON body into `T`, with an error sentence that names the offending field.
/// `text` cut to at most `max` characters, with an ellipsis when cut.
fn shorten(text: String, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::bad_request(
            "The request body must be a JSON object.",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad_request(format!("The request body is not valid JSON: {inner}."));
        }
        // serde quotes the offending value (a 64 KiB string, each control byte escaped to six):
        // the answer names the problem, it does not echo the body.
        let path = shorten(e.path().to_string(), 100);
        let msg = shorten(inner.to_string(), 200);
        // serde says "missing field `x`" at the parent's path; name the field itself.
        let field = match msg.strip_prefix("missing field `") {
            Some(rest) => rest.split('`').next().unwrap_or("").to_string(),
            None => path,
        };
        if field.is_empty() || field == "." {
            ApiError::bad_request(format!("The request body must be a JSON object ({msg})."))
        } else {
            ApiError::bad_request(format!("Missing/Invalid field: {field} ({msg})."))
        }
    })
}

/// The client's IP: the TCP peer, or, behind a trusted proxy, the last `X-Forwarded-For` hop
/// (the one that proxy added; earlier hops are whatever the client claimed).
pub fn client_ip(app: App) -> impl Filter<Extract = (IpAddr,), Error = Rejection> + Clone {
    warp::ext::optional::<PeerAddr>()
        .and(warp::header::optional::<String>("x-forwarded-for"))
        .map(move |peer: Option<PeerAddr>, fwd: Option<String>| {
            client_ip_of(&app, peer, fwd.as_deref())
        })
}

/// `client_ip`'s rule for the handlers outside warp (server.rs, the Socket.IO handshake).
pub fn client_ip_of(app: &App, peer: Option<PeerAddr>, forwarded_for: Option<&str>) -> IpAddr {
    let forwarded = forwarded_for
        .filter(|_| app.config.trust_proxy_headers)
        .and_then(|f| f.rsplit(',').next().and_then(|s| s.trim().parse().ok()));
    forwarded
        .or(peer.map(|p| p.0.ip()))
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// The raw `Authorization` token, if any.
pub fn bearer() -> impl Filter<Extract = (Option<String>,), Error = Infallible> + Clone {
    warp::header::optional::<String>("authorization")
        .or(warp::any().map(|| None))
        .unify()
        .map(|h: Option<String>| {
            h.as_deref()
                .and_then(auth::parse_authorization)
                .map(str::to_string)
        })
}

/// The principal behind the request's token, or 401.
pub async fn require_principal(app: &App, token: Option<String>) -> Result<Principal, ApiError> {
    let token = token.ok_or_else(|| {
        ApiError::unauthorized("An access token is required in the Authorization header.")
    })?;
    auth::authenticate(&app.store, &token).await
}

/// The staff member behind the request's token; a visitor gets 403.
pub async fn require_staff(
    app: &App,
    token: Option<String>,
) -> Result<crate::model::Staff, ApiError> {
    match require_principal(app, token).await? {
        Principal::Staff(s) => Ok(s),
        Principal::Visitor(_) => Err(ApiError::forbidden("Only staff can do this.")),
    }
}

/// The admin behind the request's token; anyone else gets 403 with `why` ("Only admins can
/// …"). The one check of every admin-only endpoint.
pub async fn require_admin(
    app: &App,
    token: Option<String>,
    why: &'static str,
) -> Result<crate::model::Staff, ApiError> {
    match require_principal(app, token).await? {
        Principal::Staff(s) if s.role_id == crate::model::Role::Admin => Ok(s),
        _ => Err(ApiError::forbidden(why)),
    }
}

pub fn with_app(app: App) -> impl Filter<Extract = (App,), Error = Infallible> + Clone {
    warp::any().map(move || app.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Login {
        email: String,
        password: String,
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<Login>(br#"{"email": 5, "password": "x"}"#).unwrap_err();
        assert!(e.message.contains("field: email"), "{}", e.message);
        let e = parse_json::<Login>(br#"{"email": "a@b"}"#).unwrap_err();
        assert!(e.message.contains("field: password"), "{}", e.message);
        let e = parse_json::<Login>(b"{nope").unwrap_err();
        assert!(e.message.contains("not valid JSON"), "{}", e.message);
        let e = parse_json::<Login>(b"[1,2]").unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        let e = parse_json::<Login>(b"").unwrap_err();
        assert!(e.message.contains("JSON object"), "{}", e.message);
    }
}
