//! Issue 12 over the wire, on both transports: idempotent sends with a client message id, and
//! `sync` answered with exactly the messages after a number. (Network faults through a proxy:
//! `resilience.rs`.)

use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};

fn seqs(messages: &Value) -> Vec<i64> {
    messages
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["sequence_num"].as_i64().expect("sequence_num"))
        .collect()
}

#[tokio::test]
async fn a_resent_message_is_stored_and_delivered_once_on_both_transports() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let s = Server::start();
        let agent = staff(&s, t, "a@shop.test", "agent").await;
        let v = visitor(&s, t, "Resender").await;
        assert_eq!(
            v.c.emit_with_id("visitor_msg", text("one"), Some("c-1"))
                .await,
            ok()
        );
        let first = agent.c.next("append_unclaimed_chats").await;
        let chat_id = first["contents"][0]["chat_id"]
            .as_str()
            .unwrap()
            .to_string();
        // The ack was "lost": the same message again, and again.
        for _ in 0..2 {
            assert_eq!(
                v.c.emit_with_id("visitor_msg", text("one"), Some("c-1"))
                    .await,
                ok()
            );
        }
        agent.c.none("visitor_unclaimed_msg").await;
        assert_eq!(
            agent.c.emit("staff_join", json!({"visitor": v.id})).await,
            ok()
        );
        let reply = json!({"visitor": v.id, "content": text("hello")});
        for _ in 0..3 {
            assert_eq!(
                agent
                    .c
                    .emit_with_id("staff_msg", reply.clone(), Some("s-1"))
                    .await,
                ok()
            );
        }
        // Inside `data` works too, and counts as the same id.
        let mut inside = reply.clone();
        inside["client_msg_id"] = json!("s-1");
        assert_eq!(agent.c.emit("staff_msg", inside).await, ok());
        v.c.next("staff_send").await;
        v.c.none("staff_send").await;
        // A new id from the visitor is a new message.
        assert_eq!(
            v.c.emit_with_id("visitor_msg", text("two"), Some("c-2"))
                .await,
            ok()
        );
        agent.c.next("visitor_send").await;
        agent.c.none("visitor_send").await;

        let (status, history) = get(
            &s,
            &format!("/api/v1/chats/{chat_id}/messages"),
            Some(&agent.token),
        )
        .await;
        assert_eq!(status, 200, "{history}");
        let texts: Vec<String> = history["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["type_id"] == 1)
            .map(|m| m["content"]["content"].as_str().unwrap_or("").to_string())
            .collect();
        assert_eq!(texts, ["one", "hello", "two"], "{t:?}");
        assert_eq!(
            seqs(&history["results"]),
            [1, 2, 3, 4],
            "gap-free: {history}"
        );

        // A bad id is refused and stores nothing.
        assert_eq!(
            v.c.emit_with_id("visitor_msg", text("x"), Some(&"x".repeat(65)))
                .await,
            fails("Missing/Invalid field: client_msg_id")
        );
        agent.c.none("visitor_send").await;
    }
}

#[tokio::test]
async fn sync_answers_the_asking_connection_with_exactly_what_came_after() {
    for t in [Transport::SocketIo, Transport::Ws] {
        let s = Server::start();
        let agent = staff(&s, t, "a@shop.test", "agent").await;
        let other = staff(&s, t, "b@shop.test", "agent").await;
        let v = visitor(&s, t, "Syncer").await;
        for n in 0..5 {
            assert_eq!(
                v.c.emit("visitor_msg", json!({"content": "m", "n": n}))
                    .await,
                ok()
            );
        }
        let chat_id = agent.c.next("append_unclaimed_chats").await["contents"][0]["chat_id"]
            .as_str()
            .unwrap()
            .to_string();
        let sync = |after: i64| json!({"chat_id": chat_id, "after_sequence_num": after});
        // The visitor learns the chat's id from its first queue position (acks carry none).
        assert_eq!(
            v.c.next("queue_position").await["chat_id"],
            chat_id.as_str()
        );

        // The visitor saw up to 3: it gets 4 and 5, and nobody else hears a thing.
        assert_eq!(v.c.emit("sync", sync(3)).await, ok());
        let got = v.c.next("messages_since").await;
        assert_eq!(got["chat_id"], chat_id.as_str());
        assert_eq!(seqs(&got["messages"]), [4, 5], "{got}");
        agent.c.none("messages_since").await;
        // Staff may read it while it waits; everything from 0.
        assert_eq!(agent.c.emit("sync", sync(0)).await, ok());
        assert_eq!(
            seqs(&agent.c.next("messages_since").await["messages"]),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(agent.c.emit("sync", sync(5)).await, ok());
        assert_eq!(agent.c.next("messages_since").await["messages"], json!([]));

        // Claimed by `agent`: another agent may not, and a later message follows the answer.
        assert_eq!(
            agent.c.emit("staff_join", json!({"visitor": v.id})).await,
            ok()
        );
        assert_eq!(
            other.c.emit("sync", sync(0)).await,
            fails("You may not read this chat.")
        );
        assert_eq!(v.c.emit("sync", sync(6)).await, ok());
        assert_eq!(
            seqs(&v.c.next("messages_since").await["messages"]),
            Vec::<i64>::new()
        );
        for (bad, why) in [
            (
                json!({"chat_id": chat_id}),
                "Missing/Invalid field: after_sequence_num",
            ),
            (
                json!({"after_sequence_num": 1}),
                "Missing/Invalid field: chat_id",
            ),
            (
                json!({"chat_id": "nope", "after_sequence_num": 1}),
                "The chat room is either closed or doesn't exist.",
            ),
        ] {
            assert_eq!(v.c.emit("sync", bad).await, fails(why));
        }
        if t == Transport::Ws {
            let f = other.c.emit_frame("sync", sync(0)).await;
            assert_eq!(f["code"], "not_allowed", "{f}");
        }
    }
}
