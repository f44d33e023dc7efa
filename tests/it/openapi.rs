//! Issue 16, the OpenAPI 3.1 document (product.md §8.1: "an OpenAPI 3.1 document at
//! `/api/v1/openapi.json` that matches the real routes"), checked against the real server and
//! the real source: (a) every documented operation is answered by a route of the running server
//! (never the router's own `no_route` 404 or 405), (b) every `warp::path!` route under `/api/v1`
//! in `src/http/*.rs` with its method filters is documented, and nothing else is, (c) the
//! document holds together: every `$ref` resolves, every path parameter is declared, every
//! operation answers something and has its own operationId. schemathesis
//! (`.ci/suites/openapi.sh`) then checks the answers against the schemas.

use crate::harness::*;
use serde_json::Value;
use std::collections::BTreeSet;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];
const SOME_ID: &str = "0123456789abcdef0123456789abcdef";

async fn document(s: &Server) -> Value {
    let r = http()
        .get(s.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("openapi.json");
    assert_eq!(r.status().as_u16(), 200);
    let cache = r
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(cache.contains("public"), "cacheable: {cache}");
    r.json().await.expect("JSON")
}

/// `(METHOD, /path/with/{}/for/parameters)` of every documented operation.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                out.insert((m.to_uppercase(), template(path)));
            }
        }
    }
    out
}

/// `/a/{id}/b` → `/a/{}/b`.
fn template(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// The routes in the source: every `warp::path!(...)` of `src/http/*.rs` with the method
/// filters that follow it (up to the next `warp::path!`).
fn routes_in_source() -> BTreeSet<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut out = BTreeSet::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("src/http")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        let parts: Vec<&str> = text.split("warp::path!(").skip(1).collect();
        for part in parts {
            let Some(end) = part.find(')') else { continue };
            let path: String = part[..end]
                .split('/')
                .map(|seg| {
                    let seg = seg.trim();
                    match seg.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
                        Some(lit) => lit.to_string(),
                        None => "{}".to_string(),
                    }
                })
                .fold(String::new(), |acc, seg| format!("{acc}/{seg}"));
            for m in METHODS {
                if part.contains(&format!("warp::{m}()")) {
                    out.insert((m.to_uppercase(), path.clone()));
                }
            }
        }
    }
    out.into_iter()
        .filter(|(_, p)| p.starts_with("/api/v1/"))
        .collect()
}

#[tokio::test]
async fn the_document_and_the_real_routes_match_both_ways() {
    let s = Server::start();
    let doc = document(&s).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert!(doc["info"]["title"].is_string() && doc["info"]["description"].is_string());
    let docs = documented(&doc);
    // The router's own answers for what no route serves are told apart from a resource's 404.
    let (status, body) = get(&s, "/api/v1/no-such-thing", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("no_route"))
    );
    let (status, body) = get(&s, &format!("/api/v1/chats/{SOME_ID}"), None).await;
    assert_eq!(status, 401, "{body}");
    let r = http()
        .patch(s.url("/api/v1/no-such-thing"))
        .send()
        .await
        .expect("patch");
    assert_eq!(r.status().as_u16(), 405);

    // Every documented operation reaches a route: requested without a token (so nothing is
    // changed that matters), it never gets the router's answer.
    for (method, path) in &docs {
        let url = s.url(&path.replace("{}", SOME_ID));
        let req = match method.as_str() {
            "GET" => http().get(url),
            "POST" => http().post(url).json(&serde_json::json!({})),
            "PUT" => http().put(url).json(&serde_json::json!({})),
            "PATCH" => http().patch(url).json(&serde_json::json!({})),
            "DELETE" => http().delete(url),
            m => panic!("{m}"),
        };
        let (status, body) = into_json(req.send().await.expect("request")).await;
        let routed = status != 405 && body["error"]["code"] != "no_route";
        assert!(
            routed,
            "{method} {path}: no route answers ({status} {body})"
        );
        assert!(status < 500, "{method} {path}: {status} {body}");
    }
    let source = routes_in_source();
    // The scan itself works: routes every version has are found.
    for known in [("GET", "/api/v1/chats"), ("POST", "/api/v1/auth/login")] {
        let known = (known.0.to_string(), known.1.to_string());
        assert!(
            source.contains(&known),
            "the scan missed {known:?}: {source:?}"
        );
    }
    let undocumented: Vec<_> = source.difference(&docs).collect();
    assert!(
        undocumented.is_empty(),
        "routes not in the document: {undocumented:?}"
    );
    let unreal: Vec<_> = docs.difference(&source).collect();
    assert!(
        unreal.is_empty(),
        "documented but not in the source: {unreal:?}"
    );
}

/// Follows a local `$ref` (`#/a/b`) in the document.
fn resolve<'a>(doc: &'a Value, r: &str) -> Option<&'a Value> {
    let pointer = r.strip_prefix('#')?;
    doc.pointer(pointer)
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_structurally_valid_openapi_3_1() {
    let s = Server::start();
    let doc = document(&s).await;
    let mut all = vec![];
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in &all {
        assert!(resolve(&doc, r).is_some(), "unresolved $ref {r}");
    }
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("securitySchemes");
    for req in doc["security"].as_array().expect("security") {
        for name in req.as_object().expect("requirement").keys() {
            assert!(schemes.contains_key(name), "unknown security scheme {name}");
        }
    }
    let mut op_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        assert!(path.starts_with("/api/v1/"), "{path}");
        let in_template: BTreeSet<String> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
            .map(str::to_string)
            .collect();
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "{m} {path}: no operationId");
            assert!(op_ids.insert(id.to_string()), "operationId {id} twice");
            let responses = op["responses"].as_object().expect("responses");
            assert!(!responses.is_empty(), "{m} {path}: no responses");
            for (code, r) in responses {
                let n: u16 = code
                    .parse()
                    .unwrap_or_else(|_| panic!("{m} {path}: {code}"));
                assert!((100..600).contains(&n), "{m} {path}: {code}");
                assert!(
                    r["description"].is_string(),
                    "{m} {path} {code}: no description"
                );
                if n >= 400 {
                    let schema = &r["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(schema, "#/components/schemas/Error", "{m} {path} {code}");
                }
            }
            let declared: BTreeSet<String> = item["parameters"]
                .as_array()
                .into_iter()
                .chain(op["parameters"].as_array())
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(p["required"], true, "{m} {path}: {p}");
                    p["name"].as_str().unwrap_or_default().to_string()
                })
                .collect();
            assert_eq!(declared, in_template, "{m} {path}: path parameters");
            for p in op["parameters"].as_array().into_iter().flatten() {
                let p = p
                    .get("$ref")
                    .and_then(|r| resolve(&doc, r.as_str()?))
                    .unwrap_or(p);
                assert!(p["schema"].is_object(), "{m} {path}: {p} has no schema");
            }
        }
    }
}
