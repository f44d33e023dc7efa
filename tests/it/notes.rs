//! Issue 14, internal notes and watching (prompts/issue14-spec.md, `staff_note`, `watch_chat`,
//! `unwatch_chat`) on both transports: a note reaches staff and never a visitor on any path;
//! a watcher hears the room without the visitor being told anything.

use crate::conv::*;
use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};

const SECRET: &str = "VIP: refund approved <b>internal</b>";

#[tokio::test]
async fn a_note_reaches_staff_only_and_no_visitor_path_shows_it() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let s = Server::start_with(grace(30));
        let a = staff(&s, t, "a@shop.test", "agent").await;
        let b = staff(&s, other(t), "b@shop.test", "agent").await;
        let c = staff(&s, t, "c@shop.test", "agent").await;
        let sup = staff(&s, other(t), "s@shop.test", "supervisor").await;
        let v = visitor(&s, t, "Vic").await;
        let chat_id = claimed(&a, &v, "where is my order").await;
        assert_eq!(
            sup.c
                .emit("add_staff_to_chat", json!({"visitor": v.id, "staff": b.id}))
                .await,
            ok()
        );
        b.c.next("staff_being_added_to_chat").await;

        let note = json!({"visitor": v.id, "content": text(SECRET)});
        assert_eq!(
            a.c.emit_with_id("staff_note", note.clone(), Some("note-1"))
                .await,
            ok(),
            "{t:?}"
        );
        for p in [&b, &sup] {
            let got = p.c.next("staff_note_send").await;
            assert_eq!(got["staff"]["id"], a.id.as_str(), "{got}");
            assert_eq!(got["visitor"]["id"], v.id.as_str(), "{got}");
            assert_eq!(got["content"]["type_id"], 3, "{t:?}: {got}");
            assert_eq!(got["content"]["sender"], a.id.as_str(), "{got}");
            assert_eq!(got["content"]["chat_id"], chat_id.as_str(), "{got}");
            assert_eq!(got["content"]["content"]["content"], SECRET, "{got}");
        }
        // A resend with the same client_msg_id is stored once and told once.
        assert_eq!(
            a.c.emit_with_id("staff_note", note.clone(), Some("note-1"))
                .await,
            ok()
        );
        a.c.none("staff_note_send").await;
        b.c.none("staff_note_send").await;
        // An agent outside the room hears nothing of it.
        c.c.none("staff_note_send").await;
        assert!(!everything(&c.c).contains("refund approved"), "{t:?}");

        // The visitor: no event at all carries it, on this connection...
        assert_eq!(v.c.emit("visitor_msg", text("hello?")).await, ok());
        a.c.next("visitor_send").await;
        v.c.none("staff_note_send").await;
        assert!(
            !everything(&v.c).contains("refund approved"),
            "{t:?}: {:?}",
            v.c.names()
        );
        // ...nor after a reload, on either transport...
        let mut reloaded = None;
        for vt in [t, other(t)] {
            let v2 = Client::connect_force(&s, vt, &v.token).await.named("Vic2");
            let init = v2.next("visitor_init").await;
            assert_eq!(
                chat_texts(&init["contents"]),
                ["where is my order", "hello?"],
                "{vt:?}: {init}"
            );
            assert!(
                init["contents"]
                    .as_array()
                    .is_some_and(|l| l.iter().all(|m| m["type_id"] != 3)),
                "{vt:?}: {init}"
            );
            assert!(!init.to_string().contains("refund approved"), "{init}");
            // ...nor in its sync...
            let history = v2.sync_after(&chat_id, 0).await;
            assert!(
                !serde_json::to_string(&history)
                    .unwrap()
                    .contains("refund approved"),
                "{vt:?}: {history:?}"
            );
            assert!(history.iter().all(|m| m["type_id"] != 3), "{history:?}");
            v2.none("staff_note_send").await;
            reloaded = Some(Party {
                id: v.id.clone(),
                token: v.token.clone(),
                c: v2,
            });
        }
        // The page as it is now (on the other transport): each reload closed the one before.
        let (v, vt) = (reloaded.expect("reloaded"), other(t));
        // ...nor over REST with the visitor's token; staff read it there.
        let path = format!("/api/v1/chats/{chat_id}/messages");
        let (status, rest) = get(&s, &path, Some(&v.token)).await;
        assert_eq!(status, 200, "{rest}");
        assert!(!rest.to_string().contains("refund approved"), "{rest}");
        // (An agent who never served the chat does not see it over REST at all: issue 16.)
        let (status, rest) = get(&s, &path, Some(&c.token)).await;
        assert_eq!(status, 404, "{rest}");
        let (status, rest) = get(&s, &path, Some(&sup.token)).await;
        assert_eq!(status, 200, "{rest}");
        assert!(
            rest.to_string().contains("refund approved"),
            "staff see the note over REST: {rest}"
        );
        assert!(rest.to_string().contains("\"type_id\":3"), "{rest}");
        // Stored once, as type 3.
        let n: i64 = db(&s)
            .query_row(
                "SELECT count(*) FROM messages WHERE chat_id = ?1 AND type_id = 3",
                [&chat_id],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(n, 1, "{t:?}");
        // A staff reload shows it, in the served chat's contents.
        let a2 = Client::connect_force(&s, other(t), &a.token)
            .await
            .named("a2");
        let init = a2.next("staff_init").await;
        let served = init["serving_chats"]
            .as_array()
            .and_then(|l| l.iter().find(|e| e["visitor"]["id"] == v.id.as_str()))
            .cloned()
            .expect("served");
        assert!(
            served["contents"].to_string().contains("refund approved"),
            "{served}"
        );

        // Refusals.
        refused(
            &v,
            vt,
            "staff_note",
            note.clone(),
            "not_allowed",
            Some("Only staff can send this event."),
        )
        .await;
        invalid(
            &b,
            other(t),
            "staff_note",
            json!({"visitor": v.id}),
            "content",
        )
        .await;
        invalid(
            &b,
            other(t),
            "staff_note",
            json!({"content": text("x")}),
            "visitor",
        )
        .await;
        let stranger = visitor(&s, other(t), "Wes").await;
        refused(
            &b,
            other(t),
            "staff_note",
            json!({"visitor": stranger.id, "content": text("x")}),
            "chat_closed",
            Some("The chat room is either closed or doesn't exist."),
        )
        .await;
        for p in [&b, &sup] {
            p.c.none("staff_note_send").await;
        }
        a2.none("staff_note_send").await;
    }
}

#[tokio::test]
async fn a_supervisor_watches_a_chat_unseen_until_unwatch_or_its_end() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let s = Server::start_with(grace(0));
        let a = staff(&s, t, "a@shop.test", "agent").await;
        let c = staff(&s, other(t), "c@shop.test", "agent").await;
        let sup = staff(&s, other(t), "s@shop.test", "supervisor").await;
        let v = visitor(&s, t, "Vic").await;
        let w = visitor(&s, t, "Wes").await;
        claimed(&a, &v, "hi").await;
        assert_eq!(
            a.c.emit(
                "staff_msg",
                json!({"visitor": v.id, "content": text("hello")})
            )
            .await,
            ok()
        );
        v.c.next("staff_send").await;
        assert_eq!(
            a.c.emit(
                "staff_note",
                json!({"visitor": v.id, "content": text("note before")})
            )
            .await,
            ok()
        );
        let watch = json!({"visitor": v.id});
        refused(
            &c,
            other(t),
            "watch_chat",
            watch.clone(),
            "not_allowed",
            Some("Only supervisors and admins can watch chats."),
        )
        .await;
        // Not watching (the spec gives no code).
        let (no, why) = sup.c.emit("unwatch_chat", watch.clone()).await;
        assert!(!no && why.is_some(), "{t:?}: {why:?}");
        refused(
            &sup,
            other(t),
            "watch_chat",
            json!({"visitor": w.id}),
            "chat_closed",
            Some("The chat room is either closed or doesn't exist."),
        )
        .await;

        let v_before = received(&v.c);
        assert_eq!(sup.c.emit("watch_chat", watch.clone()).await, ok(), "{t:?}");
        let got = sup.c.next("chat_watched").await;
        assert_eq!(got["visitor"]["id"], v.id.as_str(), "{got}");
        assert_eq!(
            got["visitor"]["staff"]["id"],
            a.id.as_str(),
            "the watcher is not in room.staff: {got}"
        );
        assert_eq!(chat_texts(&got["contents"]), ["hi", "hello"], "{got}");
        assert!(
            got["contents"].to_string().contains("note before"),
            "notes too: {got}"
        );
        // Watching twice is refused.
        let (again, why) = sup.c.emit("watch_chat", watch.clone()).await;
        assert!(!again && why.is_some(), "{t:?}: {why:?}");

        // The watcher hears the room.
        assert_eq!(v.c.emit("visitor_msg", text("anyone?")).await, ok());
        let m = sup.c.next("visitor_send").await;
        assert_eq!(m["content"]["content"]["content"], "anyone?", "{m}");
        assert_eq!(
            a.c.emit(
                "staff_msg",
                json!({"visitor": v.id, "content": text("yes")})
            )
            .await,
            ok()
        );
        let m = sup.c.next("staff_send").await;
        assert_eq!(m["content"]["content"]["content"], "yes", "{m}");
        assert_eq!(
            v.c.emit("user_typing_send", json!({"visitor": v.id})).await,
            ok()
        );
        sup.c.next("user_typing_receive").await;
        assert_eq!(
            a.c.emit(
                "staff_note",
                json!({"visitor": v.id, "content": text("watch this")})
            )
            .await,
            ok()
        );
        sup.c
            .next_where("staff_note_send", |n| n.to_string().contains("watch this"))
            .await;
        assert_eq!(
            v.c.emit("message_read", json!({"sequence_num": 1})).await,
            ok()
        );
        sup.c.next("message_seen").await;
        // A watcher may mark the chat read (staff side): the serving agent hears it, the
        // visitor must not learn of the watcher from it (issue 14: "a watcher is invisible to
        // the visitor").
        let last =
            a.c.next_where("visitor_send", |m| {
                m["content"]["content"]["content"] == "anyone?"
            })
            .await["content"]["sequence_num"]
                .clone();
        assert_eq!(
            sup.c
                .emit(
                    "message_read",
                    json!({"visitor": v.id, "sequence_num": last})
                )
                .await,
            ok(),
            "{t:?}"
        );
        let seen =
            a.c.next_where("message_seen", |m| m["reader"].is_object())
                .await;
        assert_eq!(seen["reader"]["id"], sup.id.as_str(), "{seen}");
        // The visitor was told nothing about it: only the agent's messages arrived.
        v.c.next_where("staff_send", |m| {
            m["content"]["content"]["content"] == "yes"
        })
        .await;
        tokio::time::sleep(SETTLE).await;
        let told = since(&v.c, v_before);
        assert!(
            told.iter().all(|n| n == "staff_send"),
            "{t:?}: the visitor was told {told:?}"
        );
        assert!(
            !everything(&v.c).contains(&sup.id),
            "{t:?}: the watcher's id reached the visitor"
        );

        // Unwatch stops it.
        assert_eq!(sup.c.emit("unwatch_chat", watch.clone()).await, ok());
        assert_eq!(v.c.emit("visitor_msg", text("after")).await, ok());
        a.c.next_where("visitor_send", |m| {
            m["content"]["content"]["content"] == "after"
        })
        .await;
        sup.c.none("visitor_send").await;
        let (again, why) = sup.c.emit("unwatch_chat", watch.clone()).await;
        assert!(
            !again && why.is_some(),
            "{t:?}: not watching any more: {why:?}"
        );

        // The chat's end ends a watch: the next chat of the visitor is not heard.
        assert_eq!(sup.c.emit("watch_chat", watch.clone()).await, ok());
        sup.c.next("chat_watched").await;
        assert_eq!(v.c.emit("visitor_leave_room", Value::Null).await, ok());
        claimed(&a, &v, "new chat").await;
        assert_eq!(v.c.emit("visitor_msg", text("second chat")).await, ok());
        a.c.next_where("visitor_send", |m| {
            m["content"]["content"]["content"] == "second chat"
        })
        .await;
        sup.c.none("visitor_send").await;
        // And it can be watched afresh.
        assert_eq!(sup.c.emit("watch_chat", watch.clone()).await, ok(), "{t:?}");
        sup.c.next("chat_watched").await;

        // The watcher going away ends it: back again, the console hears nothing of the room.
        let sup_token = sup.token.clone();
        sup.c.disconnect().await;
        tokio::time::sleep(SETTLE).await;
        let s2 = Client::connect(&s, other(t), &sup_token).await.named("s2");
        s2.next("staff_init").await;
        assert_eq!(v.c.emit("visitor_msg", text("gone?")).await, ok());
        a.c.next_where("visitor_send", |m| {
            m["content"]["content"]["content"] == "gone?"
        })
        .await;
        s2.none("visitor_send").await;
        // A supervisor who serves the chat does not watch it too.
        assert_eq!(
            s2.emit("take_over_chat", watch.clone()).await,
            ok(),
            "{t:?}"
        );
        let (no, why) = s2.emit("watch_chat", watch.clone()).await;
        assert!(!no && why.is_some(), "{t:?}: serving already: {why:?}");
        s2.none("chat_watched").await;
        assert!(!everything(&v.c).contains("chat_watched"), "{t:?}");
    }
}
