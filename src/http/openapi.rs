//! `GET /api/v1/openapi.json` (issue 16, product.md §8.1): the OpenAPI 3.1 document of the REST
//! API, public and cacheable. It is assembled from one fragment per area,
//! `src/http/openapi/<area>.json`, each `{"paths": {...}, "components": {...}}`: every file of
//! that folder is merged (embedded with rust-embed, so a new area adds a file and nothing else).
//! A fragment that does not parse, or a path or component defined twice differently, is an
//! error of `assemble` (a unit test and `tests/it/openapi.rs` catch it; the route answers 500
//! rather than panicking).

use super::{error_reply, with_app};
use crate::app::App;
use crate::error::ApiError;
use rust_embed::RustEmbed;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

#[derive(RustEmbed)]
#[folder = "src/http/openapi/"]
struct Fragments;

const DESCRIPTION: &str = "The REST API of Frontdesk, a live customer-support chat server. \
Errors are `{\"error\": {\"code\", \"message\"}}` with the right status. Every timestamp is \
milliseconds since the Unix epoch, UTC; ids are 32 lowercase hexadecimal digits. The real-time \
events (Socket.IO at `/socket.io/`, JSON frames at `/ws`) are described in the product contract, \
not here.";

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "v1" / "openapi.json")
        .and(warp::get())
        .and(with_app(app))
        .map(|_app: App| serve())
        .boxed()
}

fn serve() -> Response {
    static DOC: OnceLock<Result<String, String>> = OnceLock::new();
    match DOC.get_or_init(|| assemble().map(|d| d.to_string())) {
        Ok(text) => {
            let mut r =
                warp::reply::with_status(text.clone(), http::StatusCode::OK).into_response();
            let h = r.headers_mut();
            h.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            h.insert(
                http::header::CACHE_CONTROL,
                http::HeaderValue::from_static("public, max-age=3600"),
            );
            r
        }
        Err(why) => {
            tracing::error!(%why, "the OpenAPI document could not be assembled");
            error_reply(&ApiError::internal())
        }
    }
}

/// Every fragment, by file name, in name order.
pub fn fragments() -> Vec<(String, String)> {
    let mut names: Vec<String> = Fragments::iter()
        .map(|n| n.to_string())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|n| {
            let file = Fragments::get(&n)?;
            Some((n, String::from_utf8_lossy(&file.data).into_owned()))
        })
        .collect()
}

/// Merges `from` into `into` (both maps), refusing a key defined twice differently.
fn merge(
    into: &mut Map<String, Value>,
    from: &Map<String, Value>,
    what: &str,
) -> Result<(), String> {
    for (k, v) in from {
        match into.get(k) {
            Some(old) if old != v => return Err(format!("{what} `{k}` is defined twice")),
            _ => {
                into.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(())
}

/// The whole document from the fragments.
pub fn assemble() -> Result<Value, String> {
    assemble_from(&fragments())
}

pub fn assemble_from(fragments: &[(String, String)]) -> Result<Value, String> {
    let mut paths = Map::new();
    let mut components: Map<String, Value> = Map::new();
    for (name, text) in fragments {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        let obj = v
            .as_object()
            .ok_or_else(|| format!("{name}: not a JSON object"))?;
        if let Some(k) = obj.keys().find(|k| *k != "paths" && *k != "components") {
            return Err(format!("{name}: unknown key `{k}` (paths, components)"));
        }
        if let Some(p) = obj.get("paths") {
            let p = p
                .as_object()
                .ok_or_else(|| format!("{name}: paths is not an object"))?;
            for k in p.keys() {
                if paths.contains_key(k) {
                    return Err(format!("{name}: the path `{k}` is in another fragment too"));
                }
            }
            merge(&mut paths, p, "path")?;
        }
        if let Some(c) = obj.get("components") {
            let c = c
                .as_object()
                .ok_or_else(|| format!("{name}: components is not an object"))?;
            for (kind, entries) in c {
                let entries = entries
                    .as_object()
                    .ok_or_else(|| format!("{name}: components.{kind} is not an object"))?;
                let slot = components
                    .entry(kind.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(slot) = slot.as_object_mut() {
                    merge(slot, entries, &format!("{name}: components.{kind}"))?;
                }
            }
        }
    }
    Ok(json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Frontdesk REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": DESCRIPTION,
        },
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": components,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fragments_assemble() {
        let doc = assemble().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(doc["openapi"], "3.1.0");
        assert!(doc["paths"]["/api/v1/chats"].is_object());
        assert!(doc["components"]["schemas"]["Error"].is_object());
    }

    #[test]
    fn a_broken_or_clashing_fragment_is_an_error() {
        let a = (
            "a.json".to_string(),
            r#"{"paths": {"/x": {"get": {}}}}"#.to_string(),
        );
        let b = (
            "b.json".to_string(),
            r#"{"paths": {"/x": {"post": {}}}}"#.to_string(),
        );
        let bad = ("c.json".to_string(), "{nope".to_string());
        assert!(assemble_from(std::slice::from_ref(&a)).is_ok());
        assert!(assemble_from(&[a.clone(), b]).is_err());
        assert!(assemble_from(&[a.clone(), bad]).is_err());
        let s1 = r#"{"components": {"schemas": {"E": {"type": "string"}}}}"#;
        let s2 = r#"{"components": {"schemas": {"E": {"type": "integer"}}}}"#;
        let same = [
            ("1".to_string(), s1.to_string()),
            ("2".to_string(), s1.to_string()),
        ];
        assert!(assemble_from(&same).is_ok());
        let clash = [
            ("1".to_string(), s1.to_string()),
            ("2".to_string(), s2.to_string()),
        ];
        assert!(assemble_from(&clash).is_err());
    }
}
