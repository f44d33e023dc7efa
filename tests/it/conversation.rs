//! Issue 14 (prompts/issue14-spec.md) on both transports: tags, the rating at the end, the
//! inactivity warning and close. (Receipts: receipts.rs; notes and watching: notes.rs; canned
//! replies: canned.rs; pre-chat, pages and availability: context.rs.)

use crate::conv::*;
use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn tags_of(room: &Value) -> Vec<String> {
    room["tags"]
        .as_array()
        .unwrap_or_else(|| panic!("no tags in {room}"))
        .iter()
        .map(|t| t.as_str().unwrap_or("").to_string())
        .collect()
}

fn lower_sorted(tags: &[String]) -> Vec<String> {
    let mut l: Vec<String> = tags.iter().map(|t| t.to_lowercase()).collect();
    l.sort();
    l
}

fn stored_tags(s: &Server, chat_id: &str) -> Vec<String> {
    let db = db(s);
    let mut st = db
        .prepare(
            "SELECT t.name FROM chat_tags ct JOIN tags t ON t.id = ct.tag_id \
             WHERE ct.chat_id = ?1",
        )
        .expect("prepare");
    let rows = st
        .query_map([chat_id], |r| r.get::<_, String>(0))
        .expect("query");
    rows.map(|r| r.expect("row")).collect()
}

#[tokio::test]
async fn tags_are_cleaned_stored_and_told_to_consoles_only() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let s = Server::start_with(grace(30));
        let a = staff(&s, t, "a@shop.test", "agent").await;
        let b = staff(&s, other(t), "b@shop.test", "agent").await;
        let sup = staff(&s, t, "s@shop.test", "supervisor").await;
        let v = visitor(&s, t, "Vic").await;
        let chat_id = claimed(&a, &v, "hello").await;
        let v_before = received(&v.c);

        let tags = json!({"visitor": v.id, "tags": [" billing ", "VIP", "vip", "Refund <b>"]});
        assert_eq!(a.c.emit("tag_chat", tags).await, ok(), "{t:?}");
        let want = ["billing", "refund <b>", "vip"];
        // Any staff may tag: b (not serving) also hears it.
        for p in [&a, &b, &sup] {
            let got = p.c.next("chat_tags_changed").await;
            assert_eq!(got["staff"]["id"], a.id.as_str(), "{got}");
            assert_eq!(got["visitor"]["id"], v.id.as_str(), "{got}");
            let tags = tags_of(&got["visitor"]);
            assert_eq!(lower_sorted(&tags), want, "{t:?}: trimmed, merged: {got}");
            assert!(tags.contains(&"billing".to_string()), "{got}");
        }
        assert_eq!(
            lower_sorted(&stored_tags(&s, &chat_id)),
            want,
            "{t:?}: stored"
        );

        // Bad tags: refused, nothing changes, nobody is told.
        let tag = |tags: Value| json!({"visitor": v.id, "tags": tags});
        let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        for bad in [
            json!("billing"),
            json!([5]),
            json!([""]),
            json!(["   "]),
            json!(["x".repeat(33)]),
            json!(["bell\u{7}"]),
            json!(eleven),
            Value::Null,
        ] {
            invalid(&b, other(t), "tag_chat", tag(bad), "tags").await;
        }
        refused(
            &v,
            t,
            "tag_chat",
            tag(json!(["x"])),
            "not_allowed",
            Some("Only staff can send this event."),
        )
        .await;
        for p in [&a, &b, &sup] {
            p.c.none("chat_tags_changed").await;
        }
        assert_eq!(lower_sorted(&stored_tags(&s, &chat_id)), want, "{t:?}");
        // Ten, of up to 32 characters, are fine; b replaces a's.
        let ten: Vec<String> = (0..10).map(|i| format!("{i}{}", "y".repeat(31))).collect();
        assert_eq!(b.c.emit("tag_chat", tag(json!(ten))).await, ok());
        for p in [&a, &b] {
            let got = p.c.next("chat_tags_changed").await;
            assert_eq!(tags_of(&got["visitor"]).len(), 10, "{got}");
        }
        // A reloaded console sees the tags in its room.
        let a2 = Client::connect_force(&s, other(t), &a.token)
            .await
            .named("a2");
        let init = a2.next("staff_init").await;
        let room = room_in(&init["serving_chats"], &v.id);
        assert_eq!(lower_sorted(&tags_of(&room)), lower_sorted(&ten), "{room}");
        // Clearing.
        assert_eq!(b.c.emit("tag_chat", tag(json!([]))).await, ok());
        let got = a2.next("chat_tags_changed").await;
        assert_eq!(tags_of(&got["visitor"]), Vec::<String>::new(), "{got}");
        assert_eq!(stored_tags(&s, &chat_id), Vec::<String>::new());

        // The visitor heard nothing of it.
        tokio::time::sleep(SETTLE).await;
        assert_eq!(since(&v.c, v_before), Vec::<String>::new(), "{t:?}");
        assert!(!everything(&v.c).contains("billing"), "{t:?}");

        // A closed chat cannot be tagged.
        assert_eq!(v.c.emit("visitor_leave_room", Value::Null).await, ok());
        refused(
            &b,
            other(t),
            "tag_chat",
            tag(json!(["late"])),
            "chat_closed",
            Some("The chat room is either closed or doesn't exist."),
        )
        .await;
    }
}

const NOTHING_TO_RATE: &str = "There is no ended chat to rate.";
const ALREADY_RATED: &str = "This chat has already been rated.";

#[tokio::test]
async fn a_rating_is_accepted_once_after_the_end_from_the_chats_own_visitor() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let s = Server::start_with(grace(0));
        let a = staff(&s, t, "a@shop.test", "agent").await;
        let b = staff(&s, other(t), "b@shop.test", "supervisor").await;
        let v = visitor(&s, t, "Vic").await;
        let w = visitor(&s, other(t), "Wes").await;
        let good = json!({"rating": "good"});

        refused(
            &v,
            t,
            "rate_chat",
            good.clone(),
            "not_allowed",
            Some(NOTHING_TO_RATE),
        )
        .await;
        let chat_id = claimed(&a, &v, "hello").await;
        // Still open.
        refused(
            &v,
            t,
            "rate_chat",
            good.clone(),
            "not_allowed",
            Some(NOTHING_TO_RATE),
        )
        .await;
        assert_eq!(v.c.emit("visitor_leave_room", Value::Null).await, ok());

        // Bad ratings.
        for bad in [
            json!({"rating": "meh"}),
            json!({"rating": "GOOD"}),
            json!({"rating": 1}),
            json!({}),
        ] {
            invalid(&v, t, "rate_chat", bad, "rating").await;
        }
        invalid(
            &v,
            t,
            "rate_chat",
            json!({"rating": "bad", "comment": "x".repeat(1001)}),
            "comment",
        )
        .await;
        // Another visitor has nothing ended to rate; staff cannot rate.
        refused(
            &w,
            other(t),
            "rate_chat",
            good.clone(),
            "not_allowed",
            Some(NOTHING_TO_RATE),
        )
        .await;
        refused(
            &a,
            t,
            "rate_chat",
            good.clone(),
            "not_allowed",
            Some("Only visitors can send this event."),
        )
        .await;
        for p in [&a, &b] {
            p.c.none("chat_rated").await;
        }

        let comment = format!("slow <script>x</script> {}", "é".repeat(900));
        assert_eq!(
            v.c.emit("rate_chat", json!({"rating": "bad", "comment": comment}))
                .await,
            ok(),
            "{t:?}"
        );
        for p in [&a, &b] {
            let got = p.c.next("chat_rated").await;
            assert_eq!(
                (
                    &got["visitor"],
                    &got["chat_id"],
                    &got["rating"],
                    &got["comment"]
                ),
                (
                    &json!(v.id),
                    &json!(chat_id),
                    &json!("bad"),
                    &json!(comment)
                ),
                "{t:?}: {got}"
            );
        }
        let stored: (Option<String>, Option<String>) = db(&s)
            .query_row(
                "SELECT rating, rating_comment FROM chats WHERE id = ?1",
                [&chat_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("chat");
        assert_eq!(stored, (Some("bad".into()), Some(comment.clone())), "{t:?}");
        // Once.
        refused(
            &v,
            t,
            "rate_chat",
            good.clone(),
            "not_allowed",
            Some(ALREADY_RATED),
        )
        .await;
        refused(
            &w,
            other(t),
            "rate_chat",
            good.clone(),
            "not_allowed",
            Some(NOTHING_TO_RATE),
        )
        .await;
        for p in [&a, &b] {
            p.c.none("chat_rated").await;
        }
        let after: Option<String> = db(&s)
            .query_row("SELECT rating FROM chats WHERE id = ?1", [&chat_id], |r| {
                r.get(0)
            })
            .expect("chat");
        assert_eq!(after.as_deref(), Some("bad"));
        // A rating without a comment, for the next chat.
        claimed(&a, &v, "again").await;
        assert_eq!(v.c.emit("visitor_leave_room", Value::Null).await, ok());
        assert_eq!(v.c.emit("rate_chat", good.clone()).await, ok());
        let got = b.c.next("chat_rated").await;
        assert_eq!(got["rating"], "good", "{got}");
        assert_ne!(got["chat_id"], chat_id.as_str(), "{got}");
    }
}

#[tokio::test]
async fn an_idle_chat_is_warned_then_closed_a_message_postpones_it_and_zero_disables() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let s = Server::start_with(grace(0));
        let admin = admin(&s).await;
        for bad in [
            json!({"inactivity_warning_secs": 5, "inactivity_close_secs": 5}),
            json!({"inactivity_warning_secs": 6, "inactivity_close_secs": 5}),
            json!({"inactivity_warning_secs": -1}),
            json!({"inactivity_close_secs": 86401}),
            json!({"inactivity_close_secs": "2"}),
        ] {
            let (status, body) = patch(&s, "/api/v1/settings", bad.clone(), Some(&admin)).await;
            assert_error(status, &body, 400);
            assert!(body.to_string().contains("inactivity_"), "{bad}: {body}");
        }
        let set = set_settings(
            &s,
            &admin,
            json!({"inactivity_warning_secs": 2, "inactivity_close_secs": 3}),
        )
        .await;
        assert_eq!(
            (
                &set["inactivity_warning_secs"],
                &set["inactivity_close_secs"]
            ),
            (&json!(2), &json!(3)),
            "{set}"
        );
        let a = staff(&s, t, "a@shop.test", "agent").await;
        let b = staff(&s, other(t), "b@shop.test", "agent").await;
        let v = visitor(&s, t, "Vic").await;
        let chat_id = claimed(&a, &v, "hello").await;

        // Messages every 0.5 s from either side keep it alive past the close time (the idle
        // time counts from the last chat message, the visitor's first one included).
        // `last`: when the last one was sent; the server counts from when it got it, later.
        let mut last = Instant::now();
        for i in 0..7 {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            last = Instant::now();
            if i % 2 == 0 {
                assert_eq!(
                    v.c.emit("visitor_msg", text("still here")).await,
                    ok(),
                    "{t:?}"
                );
            } else {
                let m = json!({"visitor": v.id, "content": text("me too")});
                assert_eq!(a.c.emit("staff_msg", m).await, ok(), "{t:?}");
            }
        }
        for p in [&v, &a] {
            assert_eq!(
                p.c.count("chat_timeout_warning"),
                0,
                "{t:?}: {:?}",
                p.c.names()
            );
            assert_eq!(p.c.count("chat_closed_inactive"), 0, "{t:?}");
        }

        // Then idle: warned after 2 s, closed after 3 s.
        let warned = v.c.next("chat_timeout_warning").await;
        let warned_after = last.elapsed();
        assert_eq!(warned["visitor"], v.id.as_str(), "{warned}");
        assert!(
            warned["seconds_left"]
                .as_i64()
                .is_some_and(|n| (0..=1).contains(&n)),
            "{t:?}: {warned}"
        );
        assert!(
            warned_after >= Duration::from_millis(1900),
            "{t:?}: warned after {warned_after:?}"
        );
        let got = a.c.next("chat_timeout_warning").await;
        assert_eq!(got["visitor"], v.id.as_str(), "{got}");
        let closed = v.c.next("chat_closed_inactive").await;
        let closed_after = last.elapsed();
        assert_eq!(closed, json!({"visitor": v.id}), "{t:?}");
        assert!(
            closed_after >= Duration::from_millis(2900),
            "{t:?}: closed after {closed_after:?}"
        );
        a.c.next("chat_closed_inactive").await;
        b.c.none("chat_timeout_warning").await;
        b.c.none("chat_closed_inactive").await;
        let names = v.c.names();
        let pos = |n: &str| names.iter().position(|x| x == n);
        assert!(
            pos("chat_timeout_warning") < pos("chat_closed_inactive"),
            "{names:?}"
        );
        eprintln!("{t:?}: warned after {warned_after:?}, closed after {closed_after:?}");

        // Ended like a visitor's leave: the agent is told, a system message is stored, the
        // visitor may rate it.
        b.c.next_where("visitor_leave_queue", |e| e["user"]["id"] == v.id.as_str())
            .await;
        let status: String = db(&s)
            .query_row("SELECT status FROM chats WHERE id = ?1", [&chat_id], |r| {
                r.get(0)
            })
            .expect("chat");
        assert_eq!(status, "ended", "{t:?}");
        let (code, history) = get(
            &s,
            &format!("/api/v1/chats/{chat_id}/messages"),
            Some(&a.token),
        )
        .await;
        assert_eq!(code, 200, "{history}");
        let history = history["results"].as_array().cloned().expect("results");
        assert!(
            system_contents(&history)
                .iter()
                .any(|c| c["content"] == "closed inactive"),
            "{t:?}: {history:?}"
        );
        assert_eq!(
            v.c.emit("rate_chat", json!({"rating": "good"})).await,
            ok(),
            "{t:?}"
        );

        // 0 disables.
        set_settings(
            &s,
            &admin,
            json!({"inactivity_warning_secs": 0, "inactivity_close_secs": 0}),
        )
        .await;
        claimed(&a, &v, "new one").await;
        tokio::time::sleep(Duration::from_millis(3000)).await;
        assert_eq!(v.c.count("chat_timeout_warning"), 1, "{t:?}");
        assert_eq!(v.c.count("chat_closed_inactive"), 1, "{t:?}");
        assert_eq!(v.c.emit("visitor_msg", text("still open")).await, ok());
        a.c.next_where("visitor_send", |m| {
            m["content"]["content"]["content"] == "still open"
        })
        .await;
    }
}

/// "Ended during this server run": a chat that ended before a restart is not rated after it.
#[tokio::test]
async fn a_chat_ended_before_a_restart_cannot_be_rated_after_it() {
    let t = Transport::Ws;
    let mut s = Server::start_with(grace(0));
    let (vid, token) = {
        let a = staff(&s, t, "a@shop.test", "agent").await;
        let v = visitor(&s, t, "Vic").await;
        claimed(&a, &v, "hello").await;
        assert_eq!(v.c.emit("visitor_leave_room", Value::Null).await, ok());
        (v.id.clone(), v.token.clone())
    };
    s.stop();
    s.restart();
    let c = Client::connect(&s, t, &token).await.named("Vic");
    c.next("visitor_init").await;
    let v = Party { id: vid, token, c };
    refused(
        &v,
        t,
        "rate_chat",
        json!({"rating": "good"}),
        "not_allowed",
        Some(NOTHING_TO_RATE),
    )
    .await;
}
