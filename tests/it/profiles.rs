//! Staff profiles (issue 15): admins edit a member's name, email and title; consoles and the
//! visitor in their chats see the change at once; bad values are refused naming the field and
//! change nothing.

use crate::conv::claimed;
use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};

async fn listed(s: &Server, admin: &str, id: &str) -> Value {
    let (_, list) = get(s, "/api/v1/staff", Some(admin)).await;
    list["results"]
        .as_array()
        .and_then(|l| l.iter().find(|x| x["id"] == id).cloned())
        .unwrap_or_else(|| panic!("{id} not listed: {list}"))
}

#[tokio::test]
async fn admins_edit_name_email_and_title_everyone_sees_it_and_refusals_change_nothing() {
    let s = Server::start();
    let (_, admin) = s.staff("boss@shop.test", "admin").await;
    let a = staff(&s, Transport::Ws, "a@shop.test", "agent").await;
    let sup = staff(&s, Transport::SocketIo, "sup@shop.test", "supervisor").await;
    let v = visitor(&s, Transport::SocketIo, "Vic").await;
    claimed(&a, &v, "hello").await;
    let path = format!("/api/v1/staff/{}", a.id);

    // Refused, naming the field, changing nothing (and nobody hears a thing).
    let before = listed(&s, &admin, &a.id).await;
    assert!(before.get("title").is_none(), "no title yet: {before}");
    let long = "x".repeat(101);
    for (body, field, status) in [
        (json!({"email": "not an address"}), "email", 400),
        (json!({"title": long}), "title", 400),
        (json!({"title": 7}), "title", 400),
        (json!({"full_name": ""}), "full_name", 400),
        (json!({"email": "BOSS@shop.test"}), "boss@shop.test", 409),
    ] {
        let (st, err) = patch(&s, &path, body.clone(), Some(&admin)).await;
        assert_error(st, &err, status);
        let msg = err["error"]["message"].as_str().unwrap_or("").to_lowercase();
        assert!(msg.contains(field), "{body}: names {field}: {err}");
        assert_eq!(listed(&s, &admin, &a.id).await, before, "{body}");
    }
    let (st, err) = patch(&s, &path, json!({"title": "Boss"}), Some(&a.token)).await;
    assert_error(st, &err, 403);
    sup.c.none("staff_availability_changed").await;
    assert_eq!(listed(&s, &admin, &a.id).await, before);

    // One change of name, email and title.
    let (st, after) = patch(
        &s,
        &path,
        json!({"full_name": "Ann Agent", "email": "ann@shop.test", "title": "Support lead"}),
        Some(&admin),
    )
    .await;
    assert_eq!(st, 200, "{after}");
    assert_eq!(
        (&after["full_name"], &after["email"], &after["title"]),
        (&json!("Ann Agent"), &json!("ann@shop.test"), &json!("Support lead"))
    );
    assert_eq!(listed(&s, &admin, &a.id).await, after);
    // The consoles hear it (the agent stays signed in: nothing was revoked).
    let heard = sup.c.next("staff_availability_changed").await;
    assert_eq!(heard["staff"]["title"], "Support lead", "{heard}");
    assert_eq!(heard["staff"]["full_name"], "Ann Agent", "{heard}");
    assert!(!a.c.closed().await, "an edit does not sign the agent out");
    // The visitor sees the title with the agent's next message.
    assert_eq!(
        a.c.emit("staff_msg", json!({"visitor": v.id, "content": text("hi")}))
            .await,
        ok()
    );
    let got = v.c.next("staff_send").await;
    assert_eq!(got["staff"]["title"], "Support lead", "{got}");
    // The new email signs in; the old one no longer does.
    assert_eq!(try_login(&s, "ann@shop.test", PASSWORD).await.0, 200);
    assert_eq!(try_login(&s, "a@shop.test", PASSWORD).await.0, 401);

    // null clears the title; it is then left out of the staff object.
    let (st, cleared) = patch(&s, &path, json!({"title": null}), Some(&admin)).await;
    assert_eq!(st, 200, "{cleared}");
    assert!(cleared.get("title").is_none(), "{cleared}");
    assert_eq!(cleared["email"], "ann@shop.test");

    // A new account may have a title from the start.
    let (st, made) = post(
        &s,
        "/api/v1/staff",
        json!({"email": "new@shop.test", "full_name": "Nia", "title": "Sales",
               "role_id": 3, "password": PASSWORD}),
        Some(&admin),
    )
    .await;
    assert_eq!(st, 201, "{made}");
    assert_eq!(made["title"], "Sales");
}
