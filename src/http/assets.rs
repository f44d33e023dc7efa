//! The embedded web files (`web/`): the staff console, the visitor chat page, `widget.js` and the
//! setup page. Served with their content type, an `ETag` (revalidated with `If-None-Match`) and
//! security headers.

use http::{header, HeaderValue, StatusCode};
use rust_embed::RustEmbed;
use warp::filters::BoxedFilter;
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Reply};

#[derive(RustEmbed)]
#[folder = "web/"]
struct Web;

/// Pages that may be shown inside another site's frame (the widget's iframe).
const EMBEDDABLE_PREFIX: &str = "chat/";

pub fn routes() -> BoxedFilter<(Response,)> {
    warp::get()
        .or(warp::head())
        .unify()
        .and(warp::path::full())
        .and(warp::header::optional::<String>("if-none-match"))
        .and_then(|path: FullPath, inm: Option<String>| async move {
            serve(path.as_str(), inm.as_deref()).ok_or_else(warp::reject::not_found)
        })
        .boxed()
}

fn redirect(to: &str) -> Response {
    let mut r = warp::reply::with_status(warp::reply(), StatusCode::FOUND).into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// The embedded file for a URL path: `/x/` is `x/index.html`, `/setup` is the setup page.
fn asset_for(path: &str) -> Option<String> {
    let rel = path.trim_start_matches('/');
    if rel
        .split('/')
        .any(|seg| seg == ".." || seg.starts_with('.'))
    {
        return None;
    }
    let candidate = match rel {
        "setup" => "setup/index.html".to_string(),
        r if r.is_empty() || r.ends_with('/') => format!("{r}index.html"),
        r => r.to_string(),
    };
    Web::get(&candidate).map(|_| candidate)
}

fn serve(path: &str, if_none_match: Option<&str>) -> Option<Response> {
    match path {
        "/" => return Some(redirect("/console/")),
        "/console" | "/chat" => return Some(redirect(&format!("{path}/"))),
        _ => {}
    }
    let name = asset_for(path)?;
    let file = Web::get(&name)?;
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..12]));
    let mut resp = if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
        warp::reply::with_status(warp::reply(), StatusCode::NOT_MODIFIED).into_response()
    } else {
        Response::new(file.data.into_owned().into())
    };
    let h = resp.headers_mut();
    let mime = file.metadata.mimetype();
    let mime = if mime.starts_with("text/") || mime.contains("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    if let Ok(v) = HeaderValue::from_str(&mime) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    let embeddable = name.starts_with(EMBEDDABLE_PREFIX);
    let frame_ancestors = if embeddable { "*" } else { "'none'" };
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
         media-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if !embeddable {
        h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    }
    if name == "widget.js" {
        // Loaded by other sites' pages.
        h.insert(
            "cross-origin-resource-policy",
            HeaderValue::from_static("cross-origin"),
        );
    }
    Some(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_embedded_files_and_never_escape() {
        assert_eq!(
            asset_for("/console/").as_deref(),
            Some("console/index.html")
        );
        assert_eq!(asset_for("/chat/").as_deref(), Some("chat/index.html"));
        assert_eq!(asset_for("/setup").as_deref(), Some("setup/index.html"));
        assert_eq!(asset_for("/widget.js").as_deref(), Some("widget.js"));
        assert_eq!(asset_for("/../Cargo.toml"), None);
        assert_eq!(asset_for("/console/../../schema.sql"), None);
        assert_eq!(asset_for("/nope.html"), None);
    }
}
