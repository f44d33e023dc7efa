//! Issue 14, read receipts (prompts/issue14-spec.md, `message_read` / `message_seen`) on both
//! transports: each side's read reaches the other side (and the other staff of the room), a
//! read that is not above the pointer tells nobody, refusals change nothing, and the pointers
//! come back in `visitor_init.read` and in `staff_init`'s rooms after a reload.

use crate::conv::*;
use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};

fn seq(message: &Value) -> i64 {
    message["sequence_num"]
        .as_i64()
        .unwrap_or_else(|| panic!("no sequence_num in {message}"))
}

#[tokio::test]
async fn reads_reach_the_other_side_refusals_change_nothing_and_pointers_survive_a_reload() {
    for t in [Transport::SocketIo, Transport::Ws] {
        // A grace, so the reloads below resume the chat instead of ending it.
        let s = Server::start_with(grace(30));
        let a = staff(&s, t, "a@shop.test", "agent").await;
        let b = staff(&s, other(t), "b@shop.test", "agent").await;
        let c = staff(&s, other(t), "c@shop.test", "agent").await;
        let sup = staff(&s, t, "s@shop.test", "supervisor").await;
        let v = visitor(&s, t, "Vic").await;
        let w = visitor(&s, other(t), "Wes").await;
        let chat_id = claimed(&a, &v, "hello").await;
        assert_eq!(
            sup.c
                .emit("add_staff_to_chat", json!({"visitor": v.id, "staff": b.id}))
                .await,
            ok()
        );
        b.c.next("staff_being_added_to_chat").await;

        assert_eq!(
            a.c.emit(
                "staff_msg",
                json!({"visitor": v.id, "content": text("hi, a here")})
            )
            .await,
            ok()
        );
        let from_a = seq(&v.c.next("staff_send").await["content"]);

        // The visitor reads a's message (no `visitor` field needed): both staff see it.
        assert_eq!(
            v.c.emit("message_read", json!({"sequence_num": from_a}))
                .await,
            ok(),
            "{t:?}"
        );
        for p in [&a, &b] {
            let got = p.c.next("message_seen").await;
            assert_eq!(
                (&got["visitor"], &got["reader"], &got["sequence_num"]),
                (&json!(v.id), &Value::Null, &json!(from_a)),
                "{t:?} {}: {got}",
                p.c.name
            );
        }
        v.c.none("message_seen").await;
        c.c.none("message_seen").await;

        // a reads the visitor's next message: the visitor and b see it, with a as the reader.
        assert_eq!(v.c.emit("visitor_msg", text("my order")).await, ok());
        let from_v = seq(&a.c.next("visitor_send").await["content"]);
        assert_eq!(
            a.c.emit(
                "message_read",
                json!({"visitor": v.id, "sequence_num": from_v})
            )
            .await,
            ok(),
            "{t:?}"
        );
        for p in [&v, &b] {
            let got = p.c.next("message_seen").await;
            assert_eq!(
                (&got["visitor"], &got["reader"]["id"], &got["sequence_num"]),
                (&json!(v.id), &json!(a.id), &json!(from_v)),
                "{t:?} {}: {got}",
                p.c.name
            );
        }
        a.c.none("message_seen").await;

        // Not above the side's pointer: acked, nobody told (b's read counts for staff too).
        assert_eq!(
            b.c.emit(
                "message_read",
                json!({"visitor": v.id, "sequence_num": from_v - 1})
            )
            .await,
            ok()
        );
        assert_eq!(
            v.c.emit("message_read", json!({"sequence_num": from_a}))
                .await,
            ok()
        );

        // Refusals.
        let read = |n: Value| json!({"visitor": v.id, "sequence_num": n});
        for bad in [json!("3"), json!(-1), json!(1.5), Value::Null] {
            invalid(&a, t, "message_read", read(bad), "sequence_num").await;
        }
        invalid(
            &a,
            t,
            "message_read",
            json!({"visitor": v.id}),
            "sequence_num",
        )
        .await;
        invalid(&v, t, "message_read", json!({}), "sequence_num").await;
        // Beyond the chat's last message.
        invalid(
            &a,
            t,
            "message_read",
            read(json!(from_v + 1)),
            "sequence_num",
        )
        .await;
        invalid(
            &v,
            t,
            "message_read",
            json!({"sequence_num": from_v + 50}),
            "sequence_num",
        )
        .await;
        // Staff not in the room.
        refused(
            &c,
            other(t),
            "message_read",
            read(json!(from_v)),
            "not_allowed",
            None,
        )
        .await;
        // A visitor without an open chat.
        let (ok_, why) = w.c.emit("message_read", json!({"sequence_num": 1})).await;
        assert!(!ok_ && why.is_some(), "{t:?}: {why:?}");
        for p in [&a, &b, &v, &c, &sup] {
            p.c.none("message_seen").await;
        }

        // The pointers survive reloads: the visitor's page and a's console.
        let v2 = Client::connect_force(&s, t, &v.token).await.named("Vic2");
        let init = v2.next("visitor_init").await;
        assert_eq!(
            init["read"],
            json!({"visitor": from_a, "staff": from_v}),
            "{t:?}: {init}"
        );
        let a2 = Client::connect_force(&s, other(t), &a.token)
            .await
            .named("a2");
        let init = a2.next("staff_init").await;
        let room = room_in(&init["serving_chats"], &v.id);
        assert_eq!(
            room["read"],
            json!({"visitor": from_a, "staff": from_v}),
            "{t:?}: {room}"
        );
        assert_eq!(room["chat_id"], chat_id.as_str(), "{room}");
        // And in the supervisor's list of claimed chats.
        let s2 = Client::connect_force(&s, other(t), &sup.token)
            .await
            .named("s2");
        let init = s2.next("staff_init").await;
        let room = room_in(&init["claimed_chats"], &v.id);
        assert_eq!(
            room["read"],
            json!({"visitor": from_a, "staff": from_v}),
            "{room}"
        );
        // Stored on the chat.
        let stored: (i64, i64) = db(&s)
            .query_row(
                "SELECT visitor_read_seq, staff_read_seq FROM chats WHERE id = ?1",
                [&chat_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("chat row");
        assert_eq!(stored, (from_a, from_v), "{t:?}");

        // After the reload the visitor's read still travels (from the new connection).
        assert_eq!(
            b.c.emit(
                "staff_msg",
                json!({"visitor": v.id, "content": text("b too")})
            )
            .await,
            ok()
        );
        let from_b = seq(&v2.next("staff_send").await["content"]);
        assert_eq!(
            v2.emit("message_read", json!({"sequence_num": from_b}))
                .await,
            ok()
        );
        let got = a2.next("message_seen").await;
        assert_eq!(
            (&got["reader"], &got["sequence_num"]),
            (&Value::Null, &json!(from_b)),
            "{got}"
        );
    }
}
