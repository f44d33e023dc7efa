//! Issue 15: the widget's appearance as the `widget` setting (product.md §8.9) — every field
//! round-trips through `PATCH`/`GET /api/v1/settings` and reaches widgets through
//! `GET /api/v1/availability` without a restart; a partial object merges over the current value;
//! each bad value is refused with a sentence naming its field, and nothing changes. And the setup
//! page's status and its answer to an empty form.

use crate::conv::admin;
use crate::harness::*;
use serde_json::{json, Value};

async fn look(s: &Server, admin: &str) -> (Value, Value) {
    let (st, settings) = get(s, "/api/v1/settings", Some(admin)).await;
    assert_eq!(st, 200, "{settings}");
    let (st, welcome) = get(s, "/api/v1/availability", None).await;
    assert_eq!(st, 200, "{welcome}");
    (settings["widget"].clone(), welcome["widget"].clone())
}

#[tokio::test]
async fn every_widget_field_round_trips_and_reaches_the_widget() {
    let s = Server::start();
    let admin = admin(&s).await;
    let defaults = json!({"color": "#2f6fed", "title": "", "greeting": "", "position": "right",
        "language": "auto", "launcher_text": ""});
    assert_eq!(look(&s, &admin).await, (defaults.clone(), defaults));

    let all = json!({"color": "#0F766E", "title": "Acme <b>support</b>",
        "greeting": "Hallo! Wie können wir helfen?", "position": "left", "language": "de",
        "launcher_text": "Fragen?"});
    let saved = set_settings(&s, &admin, json!({"widget": all})).await;
    // Colours are kept in lower case; texts as written (escaped by the clients).
    let want = json!({"color": "#0f766e", "title": "Acme <b>support</b>",
        "greeting": "Hallo! Wie können wir helfen?", "position": "left", "language": "de",
        "launcher_text": "Fragen?"});
    assert_eq!(saved["widget"], want);
    assert_eq!(look(&s, &admin).await, (want.clone(), want.clone()));

    // One field at a time: each merges over the rest.
    for (field, value) in [
        ("color", json!("#abc")),
        ("title", json!("Help")),
        ("greeting", json!("")),
        ("position", json!("right")),
        ("language", json!("fr")),
        ("language", json!("auto")),
        ("launcher_text", json!("")),
    ] {
        let mut expected = look(&s, &admin).await.0;
        expected[field] = value.clone();
        set_settings(&s, &admin, json!({"widget": {field: value}})).await;
        assert_eq!(
            look(&s, &admin).await,
            (expected.clone(), expected),
            "{field}"
        );
    }

    // widget.js reads it from the shop's page: another origin.
    let r = http()
        .get(s.url("/api/v1/availability"))
        .header("Origin", "https://shop.example")
        .send()
        .await
        .expect("availability");
    assert_eq!(
        r.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("*")
    );

    // It survives a restart (stored, not only live).
    let before = look(&s, &admin).await;
    let mut s = s;
    s.stop();
    s.restart();
    assert_eq!(look(&s, &admin).await, before);
}

#[tokio::test]
async fn each_bad_widget_value_is_refused_naming_its_field_and_changes_nothing() {
    let s = Server::start();
    let admin = admin(&s).await;
    set_settings(
        &s,
        &admin,
        json!({"widget": {"color": "#112233", "title": "Shop", "launcher_text": "Chat"}}),
    )
    .await;
    let before = look(&s, &admin).await;
    for (bad, field) in [
        (json!({"color": "red"}), "widget.color"),
        (json!({"color": "#12345"}), "widget.color"),
        (json!({"color": "#ggg"}), "widget.color"),
        (json!({"color": "javascript:alert(1)"}), "widget.color"),
        (json!({"color": 3}), "widget.color"),
        (json!({"title": "t".repeat(81)}), "widget.title"),
        (json!({"title": "two\nlines"}), "widget.title"),
        (json!({"title": null}), "widget.title"),
        (json!({"greeting": "g".repeat(501)}), "widget.greeting"),
        (json!({"greeting": ["hi"]}), "widget.greeting"),
        (json!({"position": "top"}), "widget.position"),
        (json!({"language": "it"}), "widget.language"),
        (json!({"language": "EN"}), "widget.language"),
        (
            json!({"launcher_text": "l".repeat(41)}),
            "widget.launcher_text",
        ),
        (json!({"font": "Comic Sans"}), "widget.font"),
        // A good field next to a bad one is not applied either.
        (
            json!({"title": "New", "position": "middle"}),
            "widget.position",
        ),
    ] {
        let (st, body) = patch(
            &s,
            "/api/v1/settings",
            json!({"widget": bad.clone()}),
            Some(&admin),
        )
        .await;
        assert_error(st, &body, 400);
        let msg = body["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.starts_with(&format!("{field}:")), "{bad}: {msg}");
        assert_eq!(look(&s, &admin).await, before, "{bad} changed something");
    }
    // Several bad fields: one sentence for each, each naming its field.
    let (st, body) = patch(
        &s,
        "/api/v1/settings",
        json!({"widget": {"color": "blue", "position": "up", "title": "ok"}}),
        Some(&admin),
    )
    .await;
    assert_error(st, &body, 400);
    let msg = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("widget.color: expected a colour like #2f6fed.")
            && msg.contains("widget.position:"),
        "{msg}"
    );
    // Not an object at all.
    let (st, body) = patch(
        &s,
        "/api/v1/settings",
        json!({"widget": "blue"}),
        Some(&admin),
    )
    .await;
    assert_error(st, &body, 400);
    assert!(body.to_string().contains("widget"), "{body}");
    // Only admins change it.
    let (_, agent) = s.staff("agent@shop.test", "agent").await;
    let (st, body) = patch(
        &s,
        "/api/v1/settings",
        json!({"widget": {"color": "#000000"}}),
        Some(&agent),
    )
    .await;
    assert_error(st, &body, 403);
    assert_eq!(look(&s, &admin).await, before);
}

#[tokio::test]
async fn the_setup_page_knows_when_the_admin_exists_and_names_every_missing_field() {
    let s = Server::start();
    s.wait_log("/setup?token=", 10);
    let token = s
        .log()
        .split("/setup?token=")
        .nth(1)
        .unwrap_or_default()
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect::<String>();
    let (st, status) = get(&s, "/api/v1/setup", None).await;
    assert_eq!((st, &status), (200, &json!({"admin_exists": false})));

    let empty = json!({"token": token, "full_name": "", "email": " ", "password": ""});
    let (st, body) = post(&s, "/setup", empty, None).await;
    assert_error(st, &body, 400);
    assert_eq!(
        body["error"]["message"], "Missing fields: full_name, email, password.",
        "{body}"
    );
    let (st, body) = post(&s, "/setup", json!({"token": token}), None).await;
    assert_error(st, &body, 400);
    assert_eq!(
        body["error"]["message"], "Missing fields: full_name, email, password.",
        "{body}"
    );

    let form = json!({"token": token, "email": "owner@shop.test", "full_name": "Owner",
        "password": "long-enough-pw"});
    let (st, body) = post(&s, "/setup", form, None).await;
    assert_eq!(st, 201, "{body}");
    let (st, status) = get(&s, "/api/v1/setup", None).await;
    assert_eq!((st, &status), (200, &json!({"admin_exists": true})));
}
