//! Issue 14, canned replies (prompts/issue14-spec.md, "Canned replies"): the REST round trip,
//! each refusal (400 naming its field, 409, 404, 403, 401) changing nothing, and every console
//! hearing each change.

use crate::conv::*;
use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};

const PATH: &str = "/api/v1/canned-replies";

async fn list(s: &Server, token: &str) -> Vec<Value> {
    let (status, v) = get(s, PATH, Some(token)).await;
    assert_eq!(status, 200, "{v}");
    v["results"].as_array().cloned().expect("results")
}

fn shortcuts(list: &[Value]) -> Vec<&str> {
    list.iter().filter_map(|c| c["shortcut"].as_str()).collect()
}

async fn create(s: &Server, admin: &str, shortcut: &str, text: &str) -> Value {
    let (status, v) = post(
        s,
        PATH,
        json!({"shortcut": shortcut, "text": text}),
        Some(admin),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    v
}

#[tokio::test]
async fn canned_replies_round_trip_and_every_refusal_changes_nothing() {
    let s = Server::start();
    let admin = admin(&s).await;
    let (_, sup) = s.staff("sup@shop.test", "supervisor").await;
    let (_, agent) = s.staff("agent@shop.test", "agent").await;
    let (_, visitor) = s.visitor(Some("Vic")).await;

    assert_eq!(list(&s, &agent).await, Vec::<Value>::new());
    let ship = create(&s, &admin, "Shipping", "We ship in <b>2</b> days.\nThanks!").await;
    assert_eq!(ship["shortcut"], "shipping", "lower-cased on save: {ship}");
    assert_eq!(ship["text"], "We ship in <b>2</b> days.\nThanks!", "{ship}");
    let id = ship["id"].as_str().expect("id").to_string();
    assert_eq!(id.len(), 32, "{ship}");
    assert!(ship["created_at"].as_i64().is_some_and(|t| t > 0), "{ship}");
    assert!(ship.get("updated_at").is_some(), "{ship}");
    let refund = create(&s, &admin, "refund_2-x", "Refunds take 5 days.").await;
    let all = list(&s, &agent).await;
    assert_eq!(
        shortcuts(&all),
        ["refund_2-x", "shipping"],
        "by shortcut: {all:?}"
    );
    assert_eq!(all[1], ship, "GET shows what POST answered");
    assert_eq!(list(&s, &sup).await, all, "any staff lists them");

    // 409: the shortcut exists (whatever its case).
    let (status, v) = post(
        &s,
        PATH,
        json!({"shortcut": "SHIPPING", "text": "x"}),
        Some(&admin),
    )
    .await;
    assert_error(status, &v, 409);

    // 400s, each naming its field.
    let long_text = "x".repeat(2001);
    let bad: Vec<(Value, &str)> = vec![
        (json!({"text": "x"}), "shortcut"),
        (json!({"shortcut": "", "text": "x"}), "shortcut"),
        (json!({"shortcut": "a b", "text": "x"}), "shortcut"),
        (json!({"shortcut": "/ship", "text": "x"}), "shortcut"),
        (json!({"shortcut": "é", "text": "x"}), "shortcut"),
        (json!({"shortcut": "a".repeat(33), "text": "x"}), "shortcut"),
        (json!({"shortcut": 5, "text": "x"}), "shortcut"),
        (json!({"shortcut": "new"}), "text"),
        (json!({"shortcut": "new", "text": ""}), "text"),
        (json!({"shortcut": "new", "text": long_text}), "text"),
        (json!({"shortcut": "new", "text": ["x"]}), "text"),
    ];
    for (body, field) in &bad {
        let (status, v) = post(&s, PATH, body.clone(), Some(&admin)).await;
        assert_error(status, &v, 400);
        let msg = v["error"]["message"].as_str().unwrap_or("");
        assert!(msg.contains(field), "{body}: names {field}: {v}");
    }
    // The limits themselves are fine.
    let edge = create(&s, &admin, &"a".repeat(32), &"é".repeat(2000)).await;

    // PATCH: either field; 409 on a taken shortcut; 400 naming the field; 404 unknown id.
    let (status, changed) = patch(
        &s,
        &format!("{PATH}/{id}"),
        json!({"text": "Two days."}),
        Some(&admin),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (&changed["id"], &changed["shortcut"], &changed["text"]),
        (&json!(id), &json!("shipping"), &json!("Two days.")),
        "{changed}"
    );
    assert!(changed["updated_at"].as_i64().is_some(), "{changed}");
    let (status, v) = patch(
        &s,
        &format!("{PATH}/{id}"),
        json!({"shortcut": "Ship"}),
        Some(&admin),
    )
    .await;
    assert_eq!((status, &v["shortcut"]), (200, &json!("ship")), "{v}");
    let (status, v) = patch(
        &s,
        &format!("{PATH}/{id}"),
        json!({"shortcut": "refund_2-x"}),
        Some(&admin),
    )
    .await;
    assert_error(status, &v, 409);
    for (body, field) in [
        (json!({"shortcut": "no way"}), "shortcut"),
        (json!({"text": ""}), "text"),
        (json!({"text": "x".repeat(2001)}), "text"),
    ] {
        let (status, v) = patch(&s, &format!("{PATH}/{id}"), body.clone(), Some(&admin)).await;
        assert_error(status, &v, 400);
        assert!(
            v["error"]["message"].as_str().unwrap_or("").contains(field),
            "{body}: {v}"
        );
    }
    let unknown = format!("{PATH}/{}", "0".repeat(32));
    let (status, v) = patch(&s, &unknown, json!({"text": "x"}), Some(&admin)).await;
    assert_error(status, &v, 404);
    let (status, v) = delete(&s, &unknown, Some(&admin)).await;
    assert_error(status, &v, 404);
    let (status, v) = delete(&s, &format!("{PATH}/nope"), Some(&admin)).await;
    assert_error(status, &v, 404);

    // 403: only admins write; visitors do not even read. 401 without a token.
    let rid = refund["id"].as_str().expect("id");
    for token in [&agent, &sup] {
        let (status, v) = post(
            &s,
            PATH,
            json!({"shortcut": "mine", "text": "x"}),
            Some(token),
        )
        .await;
        assert_error(status, &v, 403);
        let (status, v) = patch(
            &s,
            &format!("{PATH}/{rid}"),
            json!({"text": "x"}),
            Some(token),
        )
        .await;
        assert_error(status, &v, 403);
        let (status, v) = delete(&s, &format!("{PATH}/{rid}"), Some(token)).await;
        assert_error(status, &v, 403);
    }
    let (status, v) = get(&s, PATH, Some(&visitor)).await;
    assert_error(status, &v, 403);
    let (status, v) = post(
        &s,
        PATH,
        json!({"shortcut": "mine", "text": "x"}),
        Some(&visitor),
    )
    .await;
    assert_error(status, &v, 403);
    let (status, v) = get(&s, PATH, None).await;
    assert_error(status, &v, 401);
    let (status, v) = post(&s, PATH, json!({"shortcut": "mine", "text": "x"}), None).await;
    assert_error(status, &v, 401);
    let (status, v) = delete(&s, &format!("{PATH}/{rid}"), None).await;
    assert_error(status, &v, 401);

    // DELETE: 204, then gone.
    let (status, v) = delete(&s, &format!("{PATH}/{rid}"), Some(&admin)).await;
    assert_eq!(status, 204, "{v}");
    let left = list(&s, &agent).await;
    assert_eq!(
        shortcuts(&left),
        [edge["shortcut"].as_str().unwrap_or(""), "ship"],
        "{left:?}"
    );
    assert_eq!(
        left[1]["text"], "Two days.",
        "no refused write changed anything: {left:?}"
    );
}

/// The id and shortcut of each entry of a `canned_replies` list.
fn pairs(list: &Value) -> Vec<(String, String, String)> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or("").to_string(),
                c["shortcut"].as_str().unwrap_or("").to_string(),
                c["text"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_console_hears_each_canned_change_and_a_new_console_gets_the_list() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let s = Server::start();
        let admin = admin(&s).await;
        let a = staff(&s, t, "a@shop.test", "agent").await;
        let sup = staff(&s, other(t), "s@shop.test", "supervisor").await;
        let v = visitor(&s, t, "Vic").await;

        let ship = create(&s, &admin, "shipping", "Two days.").await;
        let sid = ship["id"].as_str().expect("id").to_string();
        for p in [&a, &sup] {
            let got = p.c.next("canned_replies_changed").await;
            assert_eq!(
                pairs(&got["canned_replies"]),
                [(sid.clone(), "shipping".into(), "Two days.".into())],
                "{t:?}: {got}"
            );
        }
        let refund = create(&s, &admin, "refund", "Five days.").await;
        let rid = refund["id"].as_str().expect("id").to_string();
        let got = a.c.next("canned_replies_changed").await;
        assert_eq!(
            pairs(&got["canned_replies"]),
            [
                (rid.clone(), "refund".into(), "Five days.".into()),
                (sid.clone(), "shipping".into(), "Two days.".into())
            ],
            "the whole list, by shortcut: {got}"
        );
        let (status, _) = patch(
            &s,
            &format!("{PATH}/{sid}"),
            json!({"text": "Three days."}),
            Some(&admin),
        )
        .await;
        assert_eq!(status, 200);
        let got = sup
            .c
            .next_where("canned_replies_changed", |g| {
                g["canned_replies"].to_string().contains("Three days.")
            })
            .await;
        assert_eq!(pairs(&got["canned_replies"]).len(), 2, "{got}");

        // A new console starts with the list.
        let b = staff(&s, other(t), "b@shop.test", "agent").await;
        let init = b.c.all("staff_init").pop().expect("staff_init");
        assert_eq!(
            pairs(&init["canned_replies"]),
            [
                (rid.clone(), "refund".into(), "Five days.".into()),
                (sid.clone(), "shipping".into(), "Three days.".into())
            ],
            "{t:?}: {init}"
        );

        let (status, _) = delete(&s, &format!("{PATH}/{rid}"), Some(&admin)).await;
        assert_eq!(status, 204);
        for p in [&a, &b] {
            let got =
                p.c.next_where("canned_replies_changed", |g| {
                    g["canned_replies"].as_array().is_some_and(|l| l.len() == 1)
                })
                .await;
            assert_eq!(pairs(&got["canned_replies"])[0].0, sid, "{got}");
        }
        // A refused change tells nobody; the visitor never hears of canned replies.
        let (status, _) = post(
            &s,
            PATH,
            json!({"shortcut": "shipping", "text": "x"}),
            Some(&admin),
        )
        .await;
        assert_eq!(status, 409);
        a.c.none("canned_replies_changed").await;
        v.c.none("canned_replies_changed").await;
        assert!(!everything(&v.c).contains("Three days."), "{t:?}");

        // Eight admins' saves at once: each is told, and the last list a console hears is
        // the stored one (an older list told last would leave the console wrong).
        let before = a.c.count("canned_replies_changed");
        let saves = (0..8).map(|i| {
            let (s, admin) = (&s, &admin);
            async move {
                let body = json!({"shortcut": format!("burst{i}"), "text": format!("text {i}")});
                post(s, PATH, body, Some(admin)).await.0
            }
        });
        let codes = futures_util::future::join_all(saves).await;
        assert_eq!(codes, [201; 8], "{t:?}");
        let deadline = std::time::Instant::now() + WAIT;
        while a.c.count("canned_replies_changed") < before + 8 {
            assert!(
                std::time::Instant::now() < deadline,
                "{t:?}: {:?}",
                a.c.names()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let told = a.c.all("canned_replies_changed").pop().expect("told");
        let stored: Vec<Value> = list(&s, &admin)
            .await
            .into_iter()
            .map(|c| json!({"id": c["id"], "shortcut": c["shortcut"], "text": c["text"]}))
            .collect();
        assert_eq!(stored.len(), 9, "{stored:?}");
        assert_eq!(
            pairs(&told["canned_replies"]),
            pairs(&json!(stored)),
            "{t:?}: the last list told is the stored one"
        );
    }
}
