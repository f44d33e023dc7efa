//! HTTP of product.md §3 against the real server.

use crate::harness::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn login_succeeds_and_bad_credentials_get_one_answer() {
    let s = Server::start();
    let id = s.add_staff("Agent.One@Shop.test", "agent");

    // Email is case-insensitive.
    let (st, body) = try_login(&s, "agent.one@shop.test", PASSWORD).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["access_token"].as_str().unwrap().len(), 64);
    assert!(
        body["expires_at"].as_i64().unwrap() > 1_700_000_000_000,
        "ms timestamps"
    );
    let staff = &body["staff"];
    assert_eq!(staff["id"], id.as_str());
    assert_eq!(staff["role_id"], 3);
    for key in [
        "id",
        "email",
        "full_name",
        "display_name",
        "organisation_id",
        "role_id",
        "disabled",
        "created_at",
        "updated_at",
    ] {
        assert!(staff.get(key).is_some(), "staff lacks {key}: {staff}");
    }
    let text = body.to_string();
    assert!(
        !text.contains("argon2") && !text.contains("password"),
        "{text}"
    );

    let (st1, wrong_pw) = try_login(&s, "agent.one@shop.test", "nope-nope").await;
    let (st2, unknown) = try_login(&s, "ghost@shop.test", "nope-nope").await;
    assert_error(st1, &wrong_pw, 401);
    assert_error(st2, &unknown, 401);
    assert_eq!(
        wrong_pw, unknown,
        "the same answer whether the email exists or not"
    );
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after() {
    let s = Server::start_with(Options {
        config: Some("login_max_failures = 3\nlogin_window_secs = 600\n".into()),
        ..Default::default()
    });
    s.add_staff("a@shop.test", "agent");
    for _ in 0..3 {
        let (st, _) = try_login(&s, "a@shop.test", "wrong-wrong").await;
        assert_eq!(st, 401);
    }
    let r = http()
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"email": "a@shop.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        429,
        "even the right password waits out the window"
    );
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=601).contains(&retry), "{retry}");
    let (st, body) = into_json(r).await;
    assert_error(st, &body, 429);
    assert_eq!(body["error"]["code"], "rate_limited");
}

#[tokio::test]
async fn me_accepts_only_live_tokens() {
    let s = Server::start_with(Options {
        config: Some("staff_token_ttl_secs = 8\n".into()),
        ..Default::default()
    });
    let (id, token) = s.staff("sup@shop.test", "supervisor").await;
    // A lifetime with room for the logins below on a busy machine (each is an argon2 hash).
    let expires = std::time::Instant::now() + Duration::from_secs(8);

    let (st, me) = get(&s, "/api/v1/me", Some(&token)).await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(me["kind"], "staff");
    assert_eq!(me["staff"]["id"], id.as_str());
    let (st, _) = get(&s, "/api/v1/me", Some(&format!("Bearer {token}"))).await;
    assert_eq!(st, 200, "Bearer prefix is optional");

    // Missing and malformed.
    let (st, body) = get(&s, "/api/v1/me", None).await;
    assert_error(st, &body, 401);
    for bad in [
        "abc",
        "Bearer",
        &"z".repeat(64),
        &format!("{token}0"),
        "\u{7f}",
    ] {
        let r = http()
            .get(s.url("/api/v1/me"))
            .header("Authorization", bad)
            .send()
            .await;
        if let Ok(r) = r {
            let (st, body) = into_json(r).await;
            assert_error(st, &body, 401);
        }
    }

    // Revoked by logout.
    let other = s.login("sup@shop.test").await;
    let r = http()
        .post(s.url("/api/v1/auth/logout"))
        .header("Authorization", &other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (st, body) = get(&s, "/api/v1/me", Some(&other)).await;
    assert_error(st, &body, 401);
    let (st, _) = get(&s, "/api/v1/me", Some(&token)).await;
    assert_eq!(st, 200, "logout revokes only the presented token");

    // Expired.
    tokio::time::sleep_until((expires + Duration::from_millis(300)).into()).await;
    let (st, body) = get(&s, "/api/v1/me", Some(&token)).await;
    assert_error(st, &body, 401);
}

#[tokio::test]
async fn visitors_are_created_without_auth() {
    let s = Server::start();
    let (st, anon) = post(&s, "/api/v1/visitors", json!({}), None).await;
    assert_eq!(st, 201, "{anon}");
    let v = &anon["visitor"];
    assert_eq!(v["is_anonymous"], true);
    assert!(v["name"].as_str().unwrap().starts_with("Visitor "), "{v}");
    assert_eq!(v["id"].as_str().unwrap().len(), 32);

    let (st, named) = post(
        &s,
        "/api/v1/visitors",
        json!({"name": " Sarah Wood ", "email": "sarah@example.com"}),
        None,
    )
    .await;
    assert_eq!(st, 201);
    assert_eq!(named["visitor"]["name"], "Sarah Wood");
    assert_eq!(named["visitor"]["email"], "sarah@example.com");
    assert_eq!(named["visitor"]["is_anonymous"], false);

    let token = named["access_token"].as_str().unwrap();
    let (st, me) = get(&s, "/api/v1/me", Some(token)).await;
    assert_eq!(st, 200);
    assert_eq!(me["kind"], "visitor");
    assert_eq!(me["visitor"], named["visitor"]);

    // A visitor token is not a staff token.
    let (st, body) = post(
        &s,
        "/api/v1/visitors",
        json!({"email": "not-an-email"}),
        None,
    )
    .await;
    assert_error(st, &body, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("email"));
}

#[tokio::test]
async fn healthz_answers_ok() {
    let s = Server::start();
    let r = http().get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_never_a_500() {
    let s = Server::start();
    s.add_staff("a@shop.test", "agent");
    let big = format!(
        "{{\"email\": \"{}\", \"password\": \"x\"}}",
        "a".repeat(1 << 20)
    );
    // (path, body, expected status, a word the message must contain)
    let cases: Vec<(&str, String, u16, &str)> = vec![
        ("/api/v1/auth/login", "not json".into(), 400, "JSON"),
        ("/api/v1/auth/login", "".into(), 400, "JSON"),
        ("/api/v1/auth/login", "[1,2,3]".into(), 400, ""),
        (
            "/api/v1/auth/login",
            "{\"email\": 5, \"password\": \"x\"}".into(),
            400,
            "email",
        ),
        (
            "/api/v1/auth/login",
            "{\"email\": \"a@shop.test\", \"password\": null}".into(),
            400,
            "password",
        ),
        (
            "/api/v1/auth/login",
            "{\"email\": \"a@shop.test\"}".into(),
            400,
            "password",
        ),
        (
            "/api/v1/auth/login",
            "{\"password\": \"x\"}".into(),
            400,
            "email",
        ),
        ("/api/v1/auth/login", big.clone(), 413, "limit"),
        ("/api/v1/visitors", "{\"name\": 42}".into(), 400, "name"),
        (
            "/api/v1/visitors",
            "{\"name\": {\"a\": 1}}".into(),
            400,
            "name",
        ),
        (
            "/api/v1/visitors",
            format!("{{\"name\": \"{}\"}}", "n".repeat(101)),
            400,
            "name",
        ),
        ("/api/v1/visitors", "{\"email\": []}".into(), 400, "email"),
        ("/api/v1/visitors", big.clone(), 413, "limit"),
        ("/setup", "{}".into(), 400, "token"),
        ("/setup", "{\"token\": 1}".into(), 400, "token"),
        ("/setup", big, 413, "limit"),
    ];
    for (path, body, want, word) in cases {
        let r = http()
            .post(s.url(path))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let (st, v) = into_json(r).await;
        assert_error(st, &v, want);
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains(word),
            "{path} {}: {msg}",
            &body[..body.len().min(60)]
        );
    }
    // Chunked upload without Content-Length is limited too.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..2).map(|_| Ok(vec![b' '; 50_000])).collect();
    let r = http()
        .post(s.url("/api/v1/visitors"))
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    let (st, v) = into_json(r).await;
    assert_error(st, &v, 413);

    let (st, v) = get(&s, "/api/v1/nothing-here", None).await;
    assert_error(st, &v, 404);
    let r = http()
        .delete(s.url("/api/v1/auth/login"))
        .send()
        .await
        .unwrap();
    let (st, v) = into_json(r).await;
    assert!(st == 404 || st == 405, "{st}");
    assert_error(st, &v, st);

    // The server is still fine.
    let (st, _) = try_login(&s, "a@shop.test", PASSWORD).await;
    assert_eq!(st, 200);
    assert!(!s.log().contains("panicked"), "{}", s.log());
}

#[tokio::test]
async fn first_run_setup_creates_one_admin() {
    let mut s = Server::start();
    s.wait_log("/setup?token=", 10);
    let log = s.log();
    let token = log
        .split("/setup?token=")
        .nth(1)
        .unwrap()
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect::<String>();
    assert_eq!(token.len(), 64);

    // The page is served.
    let page = http()
        .get(s.url(&format!("/setup?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));

    let form = |t: &str| json!({"token": t, "email": "owner@shop.test", "full_name": "Owner", "password": "long-enough-pw"});
    let (st, body) = post(&s, "/setup", form(&"0".repeat(64)), None).await;
    assert_error(st, &body, 403);
    let (st, body) = post(&s, "/setup", json!({"token": token, "email": "owner@shop.test", "full_name": "Owner", "password": "short"}), None).await;
    assert_error(st, &body, 400);
    let (st, body) = post(&s, "/setup", form(&token), None).await;
    assert_eq!(st, 201, "{body}");
    assert_eq!(body["staff"]["role_id"], 1);
    let admin_token = body["access_token"].as_str().unwrap().to_string();
    let (st, body) = post(&s, "/setup", form(&token), None).await;
    assert_error(st, &body, 409);

    let (st, me) = get(&s, "/api/v1/me", Some(&admin_token)).await;
    assert_eq!(st, 200);
    assert_eq!(me["staff"]["email"], "owner@shop.test");
    let (st, _) = try_login(&s, "owner@shop.test", "long-enough-pw").await;
    assert_eq!(st, 200);

    s.stop();
    s.restart();
    assert!(
        !s.log().contains("/setup?token="),
        "setup closes once an admin exists"
    );
}

#[tokio::test]
async fn web_files_have_types_etags_and_security_headers() {
    let s = Server::start();
    let r = http().get(s.url("/")).send().await.unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "/console/");

    for (path, ctype, framable) in [
        ("/console/", "text/html", false),
        ("/chat/", "text/html", true),
        ("/widget.js", "javascript", false),
    ] {
        let r = http().get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers().clone();
        assert!(
            h["content-type"].to_str().unwrap().contains(ctype),
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h.contains_key("referrer-policy"));
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert_eq!(
            csp.contains("frame-ancestors 'none'"),
            !framable,
            "{path}: {csp}"
        );
        if path == "/widget.js" {
            assert_eq!(
                h["cross-origin-resource-policy"], "cross-origin",
                "other sites load it"
            );
        }
        let etag = h["etag"].to_str().unwrap().to_string();
        let again = http()
            .get(s.url(path))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{path}");
    }
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let s = Server::start();
    let r = http().get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = r.text().await.unwrap();
    assert!(
        text.contains("# TYPE frontdesk_store_commit_seconds histogram"),
        "{text}"
    );
}
