//! Issue 14 (prompts/issue14-spec.md) on both transports: the pre-chat form as a server
//! setting, the visitor's pages and context for consoles, and `GET /api/v1/availability`
//! carrying the form and the widget's texts.

use crate::conv::*;
use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};

const FORM_FIRST: &str = "Please fill in the form first: email.";

#[tokio::test]
async fn availability_carries_the_prechat_form_and_the_widget_texts() {
    let s = Server::start();
    let admin = admin(&s).await;
    let (status, got) = get(&s, "/api/v1/availability", None).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(
        got["prechat"],
        json!({"enabled": false, "name": "optional", "email": "optional"}),
        "defaults: {got}"
    );
    assert_eq!(got["texts"], json!({}), "{got}");
    assert!(got["available"].is_boolean(), "{got}");

    for (bad, key) in [
        (
            json!({"prechat": {"enabled": true, "name": "maybe", "email": "off"}}),
            "prechat",
        ),
        (
            json!({"prechat": {"enabled": "yes", "name": "off", "email": "off"}}),
            "prechat",
        ),
        (json!({"widget_texts": {"Bad-Key": "x"}}), "widget_texts"),
        (
            json!({"widget_texts": {"title": "x".repeat(501)}}),
            "widget_texts",
        ),
        (json!({"widget_texts": {"title": 5}}), "widget_texts"),
        (
            json!({"widget_texts": {"k".repeat(65): "x"}}),
            "widget_texts",
        ),
    ] {
        let (status, body) = patch(&s, "/api/v1/settings", bad.clone(), Some(&admin)).await;
        assert_error(status, &body, 400);
        assert!(body.to_string().contains(key), "{bad}: {body}");
    }
    let many: serde_json::Map<String, Value> =
        (0..201).map(|i| (format!("k{i}"), json!("x"))).collect();
    let (status, body) = patch(
        &s,
        "/api/v1/settings",
        json!({"widget_texts": many}),
        Some(&admin),
    )
    .await;
    assert_error(status, &body, 400);

    let form = json!({"enabled": true, "name": "off", "email": "required"});
    let texts = json!({"title": "Hallo <b>!", "send_button": "Senden"});
    set_settings(&s, &admin, json!({"prechat": form, "widget_texts": texts})).await;
    let (status, got) = get(&s, "/api/v1/availability", None).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!((&got["prechat"], &got["texts"]), (&form, &texts), "{got}");
    let (_, settings) = get(&s, "/api/v1/settings", Some(&admin)).await;
    assert_eq!(
        (&settings["prechat"], &settings["widget_texts"]),
        (&form, &texts),
        "{settings}"
    );
}

#[tokio::test]
async fn a_required_email_refuses_the_first_message_until_the_visitor_gives_it() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let s = Server::start_with(grace(0));
        let admin = admin(&s).await;
        let a = staff(&s, t, "a@shop.test", "agent").await;
        let form = json!({"enabled": true, "name": "optional", "email": "required"});
        set_settings(&s, &admin, json!({"prechat": form})).await;

        let (vid, token) = s.visitor(Some("Vic")).await;
        let c = Client::connect(&s, t, &token).await.named("Vic");
        let init = c.next("visitor_init").await;
        assert_eq!(init["prechat"], form, "{t:?}: {init}");
        let v = Party { id: vid, token, c };
        for event in ["visitor_msg", "visitor_first_msg"] {
            refused(
                &v,
                t,
                event,
                text("hi"),
                "prechat_required",
                Some(FORM_FIRST),
            )
            .await;
        }
        a.c.none("append_unclaimed_chats").await;
        let chats: i64 = db(&s)
            .query_row(
                "SELECT count(*) FROM chats WHERE visitor_id = ?1",
                [&v.id],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(chats, 0, "{t:?}: a refused first message opens no chat");
        // A bad email does not count.
        invalid(
            &v,
            t,
            "visitor_update",
            json!({"email": "not an email"}),
            "email",
        )
        .await;
        refused(
            &v,
            t,
            "visitor_msg",
            text("hi"),
            "prechat_required",
            Some(FORM_FIRST),
        )
        .await;

        assert_eq!(
            v.c.emit("visitor_update", json!({"email": "vic@example.com"}))
                .await,
            ok()
        );
        assert_eq!(v.c.emit("visitor_msg", text("hi")).await, ok(), "{t:?}");
        let got = a.c.next("append_unclaimed_chats").await;
        assert_eq!(got["visitor"]["email"], "vic@example.com", "{got}");

        // A visitor created with an email writes at once; so does anyone once it is off.
        let (status, made) = post(
            &s,
            "/api/v1/visitors",
            json!({"name": "Ann", "email": "ann@example.com"}),
            None,
        )
        .await;
        assert_eq!(status, 201, "{made}");
        let ann =
            Client::connect(&s, other(t), made["access_token"].as_str().expect("token")).await;
        ann.next("visitor_init").await;
        assert_eq!(ann.emit("visitor_msg", text("hello")).await, ok());
        let w = visitor(&s, t, "Wes").await;
        refused(
            &w,
            t,
            "visitor_msg",
            text("hi"),
            "prechat_required",
            Some(FORM_FIRST),
        )
        .await;
        set_settings(
            &s,
            &admin,
            json!({"prechat": {"enabled": false, "name": "optional", "email": "required"}}),
        )
        .await;
        assert_eq!(
            w.c.emit("visitor_msg", text("hi")).await,
            ok(),
            "{t:?}: the form is off"
        );
    }
}

fn page(n: usize) -> Value {
    json!({
        "url": format!("https://shop.test/p/{n}?q=<x>"),
        "title": format!("Page {n} <b>"),
        "referrer": "https://search.test/?q=shoes",
        "language": "de-DE",
        "time_zone": "Europe/Berlin",
        "user_agent": "Mozilla/5.0 (test)",
    })
}

#[tokio::test]
async fn visitor_pages_reach_every_console_and_a_new_console_starts_with_them() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let s = Server::start_with(grace(30));
        let a = staff(&s, t, "a@shop.test", "agent").await;
        let sup = staff(&s, other(t), "s@shop.test", "supervisor").await;
        let v = visitor(&s, t, "Vic").await;
        let w = visitor(&s, other(t), "Wes").await;

        assert_eq!(v.c.emit("visitor_page", page(1)).await, ok(), "{t:?}");
        for p in [&a, &sup] {
            let got = p.c.next("visitor_page_viewed").await;
            assert_eq!(got["visitor"], v.id.as_str(), "{got}");
            assert_eq!(got["page"]["url"], "https://shop.test/p/1?q=<x>", "{got}");
            assert_eq!(got["page"]["title"], "Page 1 <b>", "{got}");
            assert_eq!(
                got["page"]["referrer"], "https://search.test/?q=shoes",
                "{got}"
            );
            assert!(got["page"]["at"].as_i64().is_some_and(|at| at > 0), "{got}");
            assert_eq!(got["pages"].as_array().map(Vec::len), Some(1), "{got}");
            assert_eq!(
                got["context"],
                json!({"language": "de-DE", "time_zone": "Europe/Berlin", "user_agent": "Mozilla/5.0 (test)"}),
                "{got}"
            );
        }
        // Only the last 10, oldest first. Title may be empty; referrer optional.
        for n in 2..=12 {
            let mut p = page(n);
            if n == 12 {
                p = json!({"url": "http://shop.test/last", "title": "", "language": "de-DE",
                    "time_zone": "Europe/Berlin", "user_agent": "Mozilla/5.0 (test)"});
            }
            assert_eq!(v.c.emit("visitor_page", p).await, ok(), "{t:?} page {n}");
        }
        let got =
            a.c.next_where("visitor_page_viewed", |g| {
                g["page"]["url"] == "http://shop.test/last"
            })
            .await;
        let urls: Vec<&str> = got["pages"]
            .as_array()
            .expect("pages")
            .iter()
            .filter_map(|p| p["url"].as_str())
            .collect();
        assert_eq!(urls.len(), 10, "{got}");
        assert_eq!(urls[0], "https://shop.test/p/3?q=<x>", "{got}");
        assert_eq!(urls[9], "http://shop.test/last", "{got}");

        // Refusals.
        let with = |key: &str, value: Value| {
            let mut p = page(99);
            p[key] = value;
            p
        };
        for (key, value) in [
            ("url", json!("javascript:alert(1)")),
            ("url", json!("ftp://shop.test/")),
            ("url", json!("/relative")),
            (
                "url",
                json!(format!("https://shop.test/{}", "a".repeat(2031))),
            ),
            ("url", Value::Null),
            ("title", json!("t".repeat(301))),
            ("title", json!(5)),
            ("referrer", json!("javascript:x")),
            (
                "referrer",
                json!(format!("https://r.test/{}", "a".repeat(2040))),
            ),
            ("language", json!("l".repeat(36))),
            ("time_zone", json!("z".repeat(65))),
            ("user_agent", json!("u".repeat(513))),
        ] {
            invalid(&v, t, "visitor_page", with(key, value), key).await;
        }
        refused(
            &a,
            t,
            "visitor_page",
            page(1),
            "not_allowed",
            Some("Only visitors can send this event."),
        )
        .await;
        a.c.none("visitor_page_viewed").await;
        // Limits themselves are fine.
        let edge = json!({
            "url": format!("https://e.test/{}", "a".repeat(2048 - 15)),
            "title": "t".repeat(300),
            "referrer": "",
            "user_agent": "u".repeat(512),
            "language": "l".repeat(35),
        });
        assert_eq!(edge["url"].as_str().map(str::len), Some(2048));
        assert_eq!(w.c.emit("visitor_page", edge).await, ok(), "{t:?}");
        sup.c
            .next_where("visitor_page_viewed", |g| g["visitor"] == w.id.as_str())
            .await;

        // A new console starts with every connected visitor's current page and context (all
        // recent pages only for visitors with an open chat: this one has none).
        let b = staff(&s, other(t), "b@shop.test", "agent").await;
        let init = b.c.all("staff_init").pop().expect("staff_init");
        let mine = &init["visitor_pages"][v.id.as_str()];
        let current = got["pages"].as_array().and_then(|p| p.last()).cloned();
        assert_eq!(mine["pages"], json!([current]), "{t:?}: {init}");
        assert_eq!(mine["context"]["time_zone"], "Europe/Berlin", "{mine}");
        assert_eq!(
            init["visitor_pages"][w.id.as_str()]["pages"]
                .as_array()
                .map(Vec::len),
            Some(1),
            "{init}"
        );
        // The visitor hears nothing of its own pages.
        v.c.none("visitor_page_viewed").await;
    }
}

/// `staff_init.visitor_pages` holds visitors connected or in grace: one who has gone is not
/// in a new console's list.
#[tokio::test]
async fn a_visitor_who_has_gone_is_not_in_a_new_consoles_pages() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let s = Server::start_with(grace(0));
        let a = staff(&s, t, "a@shop.test", "agent").await;
        let v = visitor(&s, t, "Vic").await;
        let w = visitor(&s, other(t), "Wes").await;
        assert_eq!(v.c.emit("visitor_page", page(1)).await, ok());
        assert_eq!(w.c.emit("visitor_page", page(2)).await, ok());
        a.c.next_where("visitor_page_viewed", |g| g["visitor"] == w.id.as_str())
            .await;
        let (vid, wid) = (v.id.clone(), w.id.clone());
        v.c.disconnect().await;
        a.c.next_where("visitor_goes_offline", |g| {
            g["visitor"]["id"] == vid.as_str()
        })
        .await;
        let b = staff(&s, other(t), "b@shop.test", "agent").await;
        let init = b.c.all("staff_init").pop().expect("staff_init");
        let pages = init["visitor_pages"].as_object().expect("visitor_pages");
        assert!(!pages.contains_key(&vid), "{t:?}: {init}");
        assert!(pages.contains_key(&wid), "{t:?}: {init}");
    }
}
