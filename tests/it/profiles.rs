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
        let msg = err["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_lowercase();
        assert!(msg.contains(field), "{body}: names {field}: {err}");
        assert_eq!(listed(&s, &admin, &a.id).await, before, "{body}");
    }
    // Their own email is the admins' to change.
    let (st, err) = patch(&s, &path, json!({"email": "me@shop.test"}), Some(&a.token)).await;
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
        (
            &json!("Ann Agent"),
            &json!("ann@shop.test"),
            &json!("Support lead")
        )
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

fn picture(w: u32, h: u32, format: image::ImageFormat) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, _| {
        if x < w / 3 {
            image::Rgb([200, 0, 0])
        } else {
            image::Rgb([0, 180, 0])
        }
    });
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), format)
        .unwrap();
    out
}

async fn put_photo(s: &Server, id: &str, token: &str, bytes: Vec<u8>) -> (u16, Value) {
    let r = http()
        .put(s.url(&format!("/api/v1/staff/{id}/avatar")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    into_json(r).await
}

#[tokio::test]
async fn staff_keep_their_own_profile_and_photo_which_visitors_see() {
    let s = Server::start();
    let (_, admin) = s.staff("boss@shop.test", "admin").await;
    // Nobody is there: no faces before a chat.
    let (_, welcome) = get(&s, "/api/v1/availability", None).await;
    assert_eq!(welcome["team"], json!([]), "{welcome}");
    let a = staff(&s, Transport::SocketIo, "a@shop.test", "agent").await;
    let b = staff(&s, Transport::Ws, "b@shop.test", "agent").await;
    let v = visitor(&s, Transport::Ws, "Vic").await;
    claimed(&a, &v, "hello").await;
    let mine = format!("/api/v1/staff/{}", a.id);

    // Their own name and title, yes; anything else, or anyone else, no.
    let (st, me) = patch(
        &s,
        &mine,
        json!({"display_name": "Ann", "title": "Support"}),
        Some(&a.token),
    )
    .await;
    assert_eq!(st, 200, "{me}");
    assert_eq!(
        (&me["display_name"], &me["title"]),
        (&json!("Ann"), &json!("Support"))
    );
    let before = listed(&s, &admin, &a.id).await;
    for field in ["email", "role_id", "disabled", "password", "max_chats"] {
        let value = match field {
            "email" => json!("new@shop.test"),
            "role_id" => json!(1),
            "disabled" => json!(true),
            "password" => json!("another-password-1"),
            _ => json!(9),
        };
        let (st, err) = patch(&s, &mine, json!({ field: value }), Some(&a.token)).await;
        assert_error(st, &err, 403);
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains(field),
            "{err}"
        );
    }
    let theirs = format!("/api/v1/staff/{}", b.id);
    let (st, err) = patch(&s, &theirs, json!({"title": "Boss"}), Some(&a.token)).await;
    assert_error(st, &err, 403);
    assert_eq!(listed(&s, &admin, &a.id).await, before);

    // A photo: refused when it is not a picture, or someone else's; changes nothing then.
    for bad in [
        b"not a picture".to_vec(),
        picture(10, 10, image::ImageFormat::Png),
    ] {
        let (st, err) = put_photo(&s, &a.id, &a.token, bad).await;
        assert_error(st, &err, 400);
    }
    let (st, err) = put_photo(
        &s,
        &b.id,
        &a.token,
        picture(64, 64, image::ImageFormat::Png),
    )
    .await;
    assert_error(st, &err, 403);
    assert_eq!(listed(&s, &admin, &a.id).await, before);
    assert!(before.get("avatar_url").is_none(), "{before}");

    // A wide JPEG becomes a 128 × 128 PNG at an address in the staff object.
    let (st, me) = put_photo(
        &s,
        &a.id,
        &a.token,
        picture(300, 200, image::ImageFormat::Jpeg),
    )
    .await;
    assert_eq!(st, 200, "{me}");
    let url = me["avatar_url"].as_str().expect("avatar_url").to_string();
    assert!(
        url.starts_with(&format!("/api/v1/staff/{}/avatar?v=", a.id)),
        "{url}"
    );
    let r = http().get(s.url(&url)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    let png = r.bytes().await.unwrap();
    let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap();
    assert_eq!((img.width(), img.height()), (128, 128));
    // Other consoles and the visitor in the chat see it.
    let heard =
        b.c.next_where("staff_availability_changed", |d| {
            d["staff"]["avatar_url"] == url.as_str()
        })
        .await;
    assert_eq!(heard["staff"]["id"], a.id.as_str());
    assert_eq!(
        a.c.emit("staff_msg", json!({"visitor": v.id, "content": text("hi")}))
            .await,
        ok()
    );
    let got = v.c.next("staff_send").await;
    assert_eq!(got["staff"]["avatar_url"], url.as_str(), "{got}");
    assert_eq!(got["staff"]["title"], "Support", "{got}");
    // The faces a widget shows before a chat: the available staff, photos first, nothing
    // more than name, title and photo.
    let (_, welcome) = get(&s, "/api/v1/availability", None).await;
    assert_eq!(
        welcome["team"],
        json!([
            {"name": "Ann", "title": "Support", "avatar_url": url},
            {"name": "b@shop.test"}
        ]),
        "{welcome}"
    );

    // A new photo has a new address; removing it leaves none.
    let (_, again) = put_photo(
        &s,
        &a.id,
        &admin,
        picture(100, 100, image::ImageFormat::Png),
    )
    .await;
    assert_ne!(again["avatar_url"], url.as_str(), "{again}");
    let r = http()
        .delete(s.url(&format!("/api/v1/staff/{}/avatar", a.id)))
        .bearer_auth(&a.token)
        .send()
        .await
        .unwrap();
    let (st, gone) = into_json(r).await;
    assert_eq!(st, 200, "{gone}");
    assert!(gone.get("avatar_url").is_none(), "{gone}");
    let r = http().get(s.url(&url)).send().await.unwrap();
    assert_eq!(r.status(), 404);
}
