//! Issue 13, nobody available and business hours (product.md §8.5, §8.9,
//! prompts/issue13-spec.md), end to end on both transports: the widget learns it at
//! `visitor_init`, a message lands in the offline queue with `no_staff_available`, the visitor's
//! contact details reach a console that signs in later (and after a restart); settings and
//! capacity refuse bad values naming the key and keep what they had.

use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

fn no_grace() -> Options {
    Options {
        args: vec!["--reconnect-grace".into(), "0".into()],
        ..Default::default()
    }
}

/// Checks a refusal: the sentence (if given) on both transports, the code on `/ws`.
async fn refused(
    c: &Client,
    t: Transport,
    event: &str,
    data: Value,
    sentence: Option<&str>,
    code: &str,
) {
    match t {
        Transport::Ws => {
            let f = c.emit_frame(event, data.clone()).await;
            assert_eq!(f["result"], false, "{event} {data}: {f}");
            assert_eq!(f["code"], code, "{event} {data}: {f}");
            let msg = f["error_message"].as_str().unwrap_or("");
            assert!(!msg.is_empty(), "{f}");
            if let Some(s) = sentence {
                assert_eq!(msg, s, "{event} {data}: {f}");
            }
        }
        Transport::SocketIo => {
            let (ok, msg) = c.emit(event, data.clone()).await;
            assert!(!ok, "{event} {data} was accepted");
            let msg = msg.unwrap_or_default();
            assert!(!msg.is_empty(), "{event} {data}: no sentence");
            if let Some(s) = sentence {
                assert_eq!(msg, s, "{event} {data}");
            }
        }
    }
}

/// The room for visitor `id` in a list of rooms.
fn find_room(list: &Value, id: &str) -> Value {
    list.as_array()
        .expect("a list of rooms")
        .iter()
        .find(|r| r["id"] == id || r["visitor"]["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not in {list}"))
}

#[tokio::test]
async fn nobody_available_end_to_end_with_contact_details_for_a_later_console() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let mut s = Server::start_with(no_grace());
        // The only staff member online is away.
        let w = staff(&s, other(t), "w@shop.test", "agent").await;
        assert_eq!(
            w.c.emit("set_availability", json!({"status": "away"}))
                .await,
            ok()
        );
        let (st, avail) = get(&s, "/api/v1/availability", None).await;
        assert_eq!(st, 200, "{avail}");
        assert_eq!(avail["available"], json!(false), "{avail}");
        assert_eq!(avail["opens_at"], json!(null), "{avail}");

        // Anonymous, as a widget starts.
        let (vid, vtoken) = s.visitor(None).await;
        let vc = Client::connect(&s, t, &vtoken).await.named("anonymous");
        let v = Party {
            id: vid,
            token: vtoken,
            c: vc,
        };
        let init = v.c.next("visitor_init").await;
        assert_eq!(
            (init["available"].clone(), init["opens_at"].clone()),
            (json!(false), Value::Null),
            "{t:?}: {init}"
        );
        assert_eq!(
            v.c.emit("visitor_msg", text("is anyone there?")).await,
            ok()
        );
        let na = v.c.next("no_staff_available").await;
        assert_eq!(na, json!({"opens_at": null}), "{na}");
        let appended = w.c.next("append_unclaimed_chats").await;
        assert_eq!(appended["visitor"]["id"], v.id.as_str(), "{appended}");
        w.c.next("unclaimed_chat_to_offline").await;
        v.c.none("queue_position").await;
        // Again (with the seed's other message event): still offline, still told.
        assert_eq!(
            v.c.emit("visitor_msg_unclaimed", text("hello?")).await,
            ok()
        );
        v.c.next("no_staff_available").await;
        let m = w.c.next("visitor_unclaimed_msg").await;
        assert_eq!(m["content"]["content"]["content"], "hello?", "{m}");
        w.c.none("append_unclaimed_chats").await;

        // Contact details: bad ones are refused, changing nothing.
        for bad in [
            json!({}),
            json!({"email": "not an email"}),
            json!({"email": "a@"}),
            json!({"email": format!("{}@example.com", "x".repeat(250))}),
            json!({"email": 42}),
            json!({"name": "   "}),
            json!({"name": "n".repeat(101)}),
            Value::Null,
        ] {
            refused(&v.c, t, "visitor_update", bad, None, "invalid_field").await;
        }
        refused(
            &v.c,
            t,
            "visitor_update",
            json!({"email": "nope"}),
            Some("Missing/Invalid field: email"),
            "invalid_field",
        )
        .await;
        w.c.none("visitor_updated").await;
        refused(
            &w.c,
            other(t),
            "visitor_update",
            json!({"email": "w@shop.test"}),
            Some("Only visitors can send this event."),
            "not_allowed",
        )
        .await;

        assert_eq!(
            v.c.emit("visitor_update", json!({"email": "vic@example.com"}))
                .await,
            ok()
        );
        let up = w.c.next("visitor_updated").await;
        assert_eq!(
            (
                up["visitor"]["id"].as_str(),
                up["visitor"]["email"].as_str()
            ),
            (Some(v.id.as_str()), Some("vic@example.com")),
            "{up}"
        );
        assert_eq!(up["visitor"]["is_anonymous"], false, "{up}");
        // A name too, trimmed.
        assert_eq!(
            v.c.emit("visitor_update", json!({"name": "  Vic Smith  "}))
                .await,
            ok()
        );
        let up = w.c.next("visitor_updated").await;
        assert_eq!(
            (
                up["visitor"]["name"].as_str(),
                up["visitor"]["email"].as_str()
            ),
            (Some("Vic Smith"), Some("vic@example.com")),
            "{up}"
        );

        // A console that signs in later sees the message left, with the email.
        let late = staff(&s, t, "late@shop.test", "agent").await;
        let init = &late.c.all("staff_init")[0];
        let room = find_room(&init["offline_unclaimed_chats"], &v.id);
        assert_eq!(
            (
                room["email"].as_str(),
                room["is_anonymous"].as_bool(),
                room["name"].as_str()
            ),
            (Some("vic@example.com"), Some(false), Some("Vic Smith")),
            "{t:?}: {room}"
        );
        // Now someone is available: a new visitor is told so.
        let v2 = visitor(&s, other(t), "Second").await;
        let init2 = &v2.c.all("visitor_init")[0];
        assert_eq!(init2["available"], true, "{init2}");
        assert_eq!(
            get(&s, "/api/v1/availability", None).await.1["available"],
            true
        );
        // The first visitor writes again: back in the live queue, no longer told nobody is in.
        assert_eq!(v.c.emit("visitor_msg", text("still there?")).await, ok());
        assert_eq!(
            late.c.next("remove_visitor_offline_chat").await["visitor"]["id"],
            v.id.as_str()
        );
        let back = late.c.next("append_unclaimed_chats").await;
        assert_eq!(
            back["contents"]
                .as_array()
                .map(|m| m.iter().filter(|m| m["type_id"] == 1).count()),
            Some(3),
            "{back}"
        );
        assert_eq!(v.c.next("queue_position").await["position"], 1);
        v.c.none("no_staff_available").await;
        assert_eq!(v.c.count("no_staff_available"), 2);
        // Back offline for the restart check: the visitor leaves its page.
        v.c.disconnect().await;
        late.c.next("unclaimed_chat_to_offline").await;

        // And after a restart too.
        s.stop();
        s.restart();
        let token = s.login("late@shop.test").await;
        let again = Client::connect(&s, other(t), &token).await.named("again");
        let init = again.next("staff_init").await;
        let room = find_room(&init["offline_unclaimed_chats"], &v.id);
        assert_eq!(
            room["email"], "vic@example.com",
            "{t:?} after restart: {room}"
        );
        assert_eq!(room["is_anonymous"], false, "{room}");
    }
}

/// Monday = 0, for days since 1970-01-01 (a Thursday).
fn weekday(days: i64) -> &'static str {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][(days + 3).rem_euclid(7) as usize]
}

#[tokio::test]
async fn business_hours_closed_now_say_when_they_open_and_bad_schedules_are_refused() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let s = Server::start_with(no_grace());
        let (_, admin) = s.staff("admin@shop.test", "admin").await;
        let agent = staff(&s, other(t), "a@shop.test", "agent").await;

        // Tokyo (UTC+9, no DST): open only 09:00-10:00 on the weekday two days from today's
        // Tokyo date, so closed now; it opens at that date's 09:00 JST = 00:00 UTC.
        let tokyo_day = (now_ms() + 9 * HOUR_MS).div_euclid(DAY_MS);
        let open_day = tokyo_day + 2;
        let opens_at = open_day * DAY_MS;
        let hours = json!({"time_zone": "Asia/Tokyo",
            "weekly": [{"day": weekday(open_day), "open": "09:00", "close": "10:00"}]});
        let got = set_settings(&s, &admin, json!({ "business_hours": hours })).await;
        assert_eq!(got["business_hours"], hours, "{got}");
        let (_, avail) = get(&s, "/api/v1/availability", None).await;
        assert_eq!(
            (&avail["available"], &avail["opens_at"]),
            (&json!(false), &json!(opens_at)),
            "{t:?}: an available agent, but closed"
        );
        let v = visitor(&s, t, "Early Bird").await;
        let init = &v.c.all("visitor_init")[0];
        assert_eq!(
            (init["available"].clone(), init["opens_at"].clone()),
            (json!(false), json!(opens_at)),
            "{init}"
        );
        assert_eq!(v.c.emit("visitor_msg", text("are you open?")).await, ok());
        assert_eq!(
            v.c.next("no_staff_available").await,
            json!({ "opens_at": opens_at })
        );
        agent.c.next("append_unclaimed_chats").await;
        agent.c.next("unclaimed_chat_to_offline").await;

        // Bad schedules: 400 naming the key; the schedule stays.
        for bad in [
            json!({"time_zone": "Mars/Olympus_Mons", "weekly": []}),
            json!({"time_zone": "Asia/Tokyo", "weekly": [{"day": "funday", "open": "09:00", "close": "10:00"}]}),
            json!({"time_zone": "Asia/Tokyo", "weekly": [{"day": "mon", "open": "10:00", "close": "09:00"}]}),
            json!({"time_zone": "Asia/Tokyo", "weekly": [{"day": "mon", "open": "9am", "close": "10:00"}]}),
            json!({"time_zone": "Asia/Tokyo", "weekly": [{"day": "mon", "open": "09:00", "close": "24:30"}]}),
            json!({"weekly": []}),
            json!("always"),
        ] {
            let (st, body) = patch(
                &s,
                "/api/v1/settings",
                json!({ "business_hours": bad }),
                Some(&admin),
            )
            .await;
            assert_error(st, &body, 400);
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("business_hours"),
                "{bad}: {body}"
            );
        }
        let (_, now) = get(&s, "/api/v1/settings", Some(&admin)).await;
        assert_eq!(now["business_hours"], hours, "{now}");

        // Open all week ("24:00" closes at midnight): available, no opening time.
        let all_week: Vec<Value> = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .iter()
            .map(|d| json!({"day": d, "open": "00:00", "close": "24:00"}))
            .collect();
        set_settings(
            &s,
            &admin,
            json!({"business_hours": {"time_zone": "Europe/Berlin", "weekly": all_week}}),
        )
        .await;
        let (_, avail) = get(&s, "/api/v1/availability", None).await;
        assert_eq!(
            (&avail["available"], &avail["opens_at"]),
            (&json!(true), &json!(null)),
            "{avail}"
        );
        let v2 = visitor(&s, t, "Open").await;
        let init = &v2.c.all("visitor_init")[0];
        assert_eq!(
            (init["available"].clone(), init["opens_at"].clone()),
            (json!(true), Value::Null),
            "{init}"
        );
        assert_eq!(v2.c.emit("visitor_msg", text("hi")).await, ok());
        assert_eq!(v2.c.next("queue_position").await["position"], 1);
        v2.c.none("no_staff_available").await;
        // Closing time (here: the schedule changes to one closed now) while v2 waits: told
        // when the business opens, and the chat waits offline (main 8700aad).
        agent.c.skip("unclaimed_chat_to_offline");
        set_settings(&s, &admin, json!({ "business_hours": hours })).await;
        assert_eq!(
            v2.c.next("no_staff_available").await,
            json!({ "opens_at": opens_at })
        );
        assert_eq!(
            agent.c.next("unclaimed_chat_to_offline").await["visitor"]["id"],
            v2.id.as_str()
        );
        // null: always open again.
        let got = set_settings(&s, &admin, json!({ "business_hours": null })).await;
        assert_eq!(got["business_hours"], Value::Null, "{got}");
    }
}

/// REST settings and capacity: admins only; every bad key or value is a 400 naming it; nothing
/// changes.
#[tokio::test]
async fn bad_settings_and_capacity_are_refused_naming_the_key_and_change_nothing() {
    let s = Server::start_with(no_grace());
    let (_, admin) = s.staff("admin@shop.test", "admin").await;
    let agent = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    let defaults = json!({"routing": "manual", "assign_timeout_secs": 30,
        "assign_max_attempts": 3, "business_hours": null,
        "inactivity_warning_secs": 0, "inactivity_close_secs": 0,
        "prechat": {"enabled": false, "name": "optional", "email": "optional"},
        "widget_texts": {},
        "widget": {"color": "#2f6fed", "title": "", "greeting": "", "position": "right",
                   "language": "auto", "launcher_text": ""},
        "retention_days": null,
        "smtp_url": null, "email_from": null, "notify_emails": [],
        "email_reply_after_secs": 300});
    let (st, got) = get(&s, "/api/v1/settings", Some(&agent.token)).await;
    assert_eq!(st, 200, "{got}");
    assert_eq!(got, defaults, "any staff may read the settings");
    let (_, vtoken) = s.visitor(Some("Nosy")).await;
    let (st, _) = get(&s, "/api/v1/settings", Some(&vtoken)).await;
    assert!(st == 401 || st == 403, "a visitor reads no settings: {st}");

    let (st, body) = patch(
        &s,
        "/api/v1/settings",
        json!({"routing": "round_robin"}),
        Some(&agent.token),
    )
    .await;
    assert_error(st, &body, 403);
    for (bad, key) in [
        (json!({"colour": "red"}), "colour"),
        (json!({"routing": "random"}), "routing"),
        (json!({"routing": 1}), "routing"),
        (json!({"assign_timeout_secs": 4}), "assign_timeout_secs"),
        (json!({"assign_timeout_secs": 3601}), "assign_timeout_secs"),
        (json!({"assign_timeout_secs": "30"}), "assign_timeout_secs"),
        (json!({"assign_timeout_secs": 7.5}), "assign_timeout_secs"),
        (json!({"assign_max_attempts": 0}), "assign_max_attempts"),
        (json!({"assign_max_attempts": 21}), "assign_max_attempts"),
        (json!({"assign_max_attempts": null}), "assign_max_attempts"),
        // A good key does not carry a bad one through.
        (
            json!({"routing": "least_busy", "assign_max_attempts": -1}),
            "assign_max_attempts",
        ),
    ] {
        let (st, body) = patch(&s, "/api/v1/settings", bad.clone(), Some(&admin)).await;
        assert_error(st, &body, 400);
        let msg = body["error"]["message"].as_str().unwrap_or("");
        assert!(msg.contains(key), "{bad}: the message names {key}: {body}");
    }
    assert_eq!(get(&s, "/api/v1/settings", Some(&admin)).await.1, defaults);

    let path = format!("/api/v1/staff/{}", agent.id);
    for bad in [json!(-1), json!(51), json!("3"), json!(2.5), json!(true)] {
        let (st, body) = patch(&s, &path, json!({ "max_chats": bad }), Some(&admin)).await;
        assert_error(st, &body, 400);
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("max_chats"),
            "{bad}: {body}"
        );
    }
    let (st, body) = patch(&s, &path, json!({"max_chats": 7}), Some(&agent.token)).await;
    assert_error(st, &body, 403);
    agent.c.none("staff_availability_changed").await;
    let (_, list) = get(&s, "/api/v1/staff", Some(&admin)).await;
    let me = list
        .as_array()
        .or(list["results"].as_array())
        .and_then(|l| l.iter().find(|x| x["id"] == agent.id.as_str()).cloned())
        .unwrap_or_else(|| panic!("agent not listed: {list}"));
    assert_eq!(me["max_chats"], 3, "{me}");
    let watcher = staff(&s, Transport::SocketIo, "w@shop.test", "agent").await;
    let init = &watcher.c.all("staff_init")[0];
    assert_eq!(online_entry(init, &agent.id)["max_chats"], 3, "{init}");

    // An unknown status (the agent is on /ws): refused with its code, nobody hears a thing.
    for bad in [
        json!({"status": "busy"}),
        json!({"status": null}),
        json!({}),
    ] {
        refused(
            &agent.c,
            Transport::Ws,
            "set_availability",
            bad,
            Some("Missing/Invalid field: status"),
            "invalid_field",
        )
        .await;
    }
    watcher.c.none("staff_availability_changed").await;
    let (_, tok) = s.staff("x@shop.test", "agent").await;
    let x = Client::connect(&s, Transport::Ws, &tok).await.named("x");
    let init = x.next("staff_init").await;
    assert_eq!(
        online_entry(&init, &agent.id)["status"],
        "available",
        "{init}"
    );

    // The edges are accepted: 0 and 50, and the console hears each.
    for n in [0, 50] {
        let (st, body) = patch(&s, &path, json!({ "max_chats": n }), Some(&admin)).await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["max_chats"], n, "{body}");
        let e = watcher
            .c
            .next_where("staff_availability_changed", |e| {
                e["staff"]["id"] == agent.id.as_str() && e["max_chats"] == n
            })
            .await;
        assert_eq!(e["active_chats"], 0, "{e}");
    }
}
