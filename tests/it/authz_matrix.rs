//! The authorisation matrix (issue 10, "Proof at scale"): every client event of product.md §6
//! (over `/ws`, with a Socket.IO spot check) and every REST endpoint of the README's table, by
//! {no token, visitor, other visitor, agent, other agent, supervisor, admin}, against a table of
//! expected outcomes. A refused event must change nothing: the chat it names (as the REST API
//! serves it, with its messages) is compared before and after, and the connection must still
//! answer.
//!
//! The scene of every event row: visitor V has an open chat served by agent A; OV is another
//! visitor (no chat); A2 is an agent who does not serve it; S a supervisor; AD an admin.
//!
//! Rows marked `RANK` follow the rank rule of issue 10 finding 6 (a supervisor may not add to
//! or remove from a chat an admin serves; `LiveState::rank_refusal`).

use crate::harness::{get, http, into_json, post, Options, Server, PASSWORD};
use crate::rt::{Client, Refused, Transport};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    V,
    OV,
    A,
    A2,
    S,
    AD,
}
use Who::*;

const ROLES: [Who; 6] = [V, OV, A, A2, S, AD];

#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Acked `(true, null)`; `changes`: whether V's chat (or the target chat) changes.
    Ok {
        changes: bool,
    },
    Refused(&'static str),
    /// Refused with a sentence containing this (a rule whose wording is not settled yet).
    RefusedLike(&'static str),
}
use Expect::*;

const OK: Expect = Ok { changes: true };
const OK_QUIET: Expect = Ok { changes: false };
const STAFF_ONLY: Expect = Refused("Only staff can send this event.");
const VISITOR_ONLY: Expect = Refused("Only visitors can send this event.");
const NOT_IN_ROOM: Expect = Refused("You are not serving this chat.");

/// A row of the rank rule: nobody supervises their own rank or above.
const RANK: Expect = RefusedLike("A supervisor cannot");

#[derive(Clone, Copy, Debug)]
enum Data {
    Nothing,
    Content,
    Visitor,
    VisitorContent,
    /// `{visitor, staff}` naming this staff member.
    VisitorStaff(Who),
    VisitorLevel,
}

/// Which chat a row acts on.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scene {
    /// V's chat, claimed by A.
    ServedByAgent,
    /// V's chat, claimed by AD.
    ServedByAdmin,
    /// V's chat, unclaimed.
    Unclaimed,
}

struct Row {
    event: &'static str,
    data: Data,
    scene: Scene,
    /// Expected outcome for V, OV, A, A2, S, AD (in `ROLES` order).
    expect: [Expect; 6],
}

fn rows() -> Vec<Row> {
    let r = |event, data, scene, expect| Row {
        event,
        data,
        scene,
        expect,
    };
    let msg = [
        OK,
        OK_QUIET,
        VISITOR_ONLY,
        VISITOR_ONLY,
        VISITOR_ONLY,
        VISITOR_ONLY,
    ];
    let typing = [
        OK_QUIET,
        Refused("The chat room is either closed or doesn't exist."),
        OK_QUIET,
        NOT_IN_ROOM,
        NOT_IN_ROOM,
        NOT_IN_ROOM,
    ];
    let claimed = Refused("This chat has already been claimed.");
    let take_role = Refused("Only supervisors and admins can take over chats.");
    let add_role = Refused("Only supervisors and admins can add staff to chats.");
    let remove_role = Refused("Only supervisors and admins can remove staff from chats.");
    let s = Scene::ServedByAgent;
    vec![
        r("visitor_first_msg", Data::Content, s, msg),
        r("visitor_msg_unclaimed", Data::Content, s, msg),
        r("visitor_msg", Data::Content, s, msg),
        r(
            "visitor_leave_room",
            Data::Nothing,
            s,
            [
                OK,
                Refused("You have no open chat."),
                VISITOR_ONLY,
                VISITOR_ONLY,
                VISITOR_ONLY,
                VISITOR_ONLY,
            ],
        ),
        r(
            "staff_join",
            Data::Visitor,
            s,
            [
                STAFF_ONLY,
                STAFF_ONLY,
                Refused("You are already serving this chat."),
                claimed,
                claimed,
                claimed,
            ],
        ),
        r(
            "staff_join",
            Data::Visitor,
            Scene::Unclaimed,
            [STAFF_ONLY, STAFF_ONLY, OK, OK, OK, OK],
        ),
        r(
            "staff_msg",
            Data::VisitorContent,
            s,
            [
                STAFF_ONLY,
                STAFF_ONLY,
                OK,
                NOT_IN_ROOM,
                NOT_IN_ROOM,
                NOT_IN_ROOM,
            ],
        ),
        r(
            "staff_leave_room",
            Data::Visitor,
            s,
            [
                STAFF_ONLY,
                STAFF_ONLY,
                OK,
                NOT_IN_ROOM,
                NOT_IN_ROOM,
                NOT_IN_ROOM,
            ],
        ),
        r(
            "take_over_chat",
            Data::Visitor,
            s,
            [STAFF_ONLY, STAFF_ONLY, take_role, take_role, OK, OK],
        ),
        r(
            "take_over_chat",
            Data::Visitor,
            Scene::ServedByAdmin,
            [
                STAFF_ONLY,
                STAFF_ONLY,
                take_role,
                take_role,
                Refused("A supervisor cannot take over a chat from an admin."),
                Refused("You are already serving this chat."),
            ],
        ),
        r(
            "add_staff_to_chat",
            Data::VisitorStaff(A2),
            s,
            [STAFF_ONLY, STAFF_ONLY, add_role, add_role, OK, OK],
        ),
        r(
            "add_staff_to_chat",
            Data::VisitorStaff(A2),
            Scene::ServedByAdmin,
            [STAFF_ONLY, STAFF_ONLY, add_role, add_role, RANK, OK],
        ),
        r(
            "remove_staff_from_chat",
            Data::VisitorStaff(A),
            s,
            [STAFF_ONLY, STAFF_ONLY, remove_role, remove_role, OK, OK],
        ),
        r(
            "remove_staff_from_chat",
            Data::VisitorStaff(AD),
            Scene::ServedByAdmin,
            [STAFF_ONLY, STAFF_ONLY, remove_role, remove_role, RANK, OK],
        ),
        r(
            "change_chat_priority",
            Data::VisitorLevel,
            s,
            [STAFF_ONLY, STAFF_ONLY, OK, OK, OK, OK],
        ),
        r("user_typing_send", Data::Visitor, s, typing),
        r("user_stop_typing_send", Data::Visitor, s, typing),
    ]
}

struct Cast {
    s: Server,
    /// Staff: (id, token, live /ws connection), for A, A2, S, AD.
    staff: Vec<(Who, String, String, Client)>,
    admin_token: String,
}

impl Cast {
    async fn new() -> Cast {
        let s = Server::start_with(Options {
            // Grace 0: a visitor who leaves ends the chat at once, so every row starts clean.
            // `synchronous = normal`: no fsync per commit (durability is crash_kill.rs's job),
            // or the ~800 commits of the matrix take minutes on a slow disk.
            config: Some(
                "max_events_per_sec = 1000\nvisitor_creations_per_minute = 100000\n\
                 login_max_failures = 1000\nsynchronous = \"normal\"\n"
                    .into(),
            ),
            args: vec!["--reconnect-grace".into(), "0".into()],
        });
        let mut staff = vec![];
        for (who, email, role) in [
            (A, "a@authz.test", "agent"),
            (A2, "a2@authz.test", "agent"),
            (S, "s@authz.test", "supervisor"),
            (AD, "ad@authz.test", "admin"),
        ] {
            let (id, token) = s.staff(email, role).await;
            let c = Client::connect(&s, Transport::Ws, &token)
                .await
                .named(email);
            c.next("staff_init").await;
            staff.push((who, id, token, c));
        }
        let admin_token = staff[3].2.clone();
        Cast {
            s,
            staff,
            admin_token,
        }
    }

    fn staff(&self, who: Who) -> &(Who, String, String, Client) {
        self.staff
            .iter()
            .find(|s| s.0 == who)
            .expect("a staff role")
    }

    /// The chat as the REST API serves it, with all its messages.
    async fn snapshot(&self, chat_id: &str) -> Value {
        let t = Some(self.admin_token.as_str());
        let (st, chat) = get(&self.s, &format!("/api/v1/chats/{chat_id}"), t).await;
        assert_eq!(st, 200, "{chat}");
        let (st, msgs) = get(
            &self.s,
            &format!("/api/v1/chats/{chat_id}/messages?limit=500"),
            t,
        )
        .await;
        assert_eq!(st, 200, "{msgs}");
        json!({"chat": chat, "messages": msgs})
    }

    /// A new visitor on `/ws` (id, token, client).
    async fn visitor(&self, name: &str) -> (String, Client) {
        let (id, token) = self.s.visitor(Some(name)).await;
        let c = Client::connect(&self.s, Transport::Ws, &token)
            .await
            .named(name);
        c.next("visitor_init").await;
        (id, c)
    }

    /// Waits for A's `append_unclaimed_chats` about visitor `vid`; returns the chat id.
    async fn queued_chat_id(&self, vid: &str) -> String {
        let a = &self.staff(A).3;
        for _ in 0..50 {
            let ev = a.next("append_unclaimed_chats").await;
            if ev["visitor"]["visitor_id"] == vid {
                return ev["visitor"]["chat_id"]
                    .as_str()
                    .expect("chat_id")
                    .to_string();
            }
        }
        panic!("no append_unclaimed_chats for {vid}");
    }
}

fn data_for(d: Data, vid: &str, cast: &Cast) -> Value {
    match d {
        Data::Nothing => Value::Null,
        Data::Content => json!({"content": "from the matrix"}),
        Data::Visitor => json!({ "visitor": vid }),
        Data::VisitorContent => json!({"visitor": vid, "content": {"content": "staff says"}}),
        Data::VisitorStaff(w) => json!({"visitor": vid, "staff": cast.staff(w).1}),
        Data::VisitorLevel => json!({"visitor": vid, "severity_level": 2}),
    }
}

#[tokio::test]
async fn every_event_by_every_role_over_ws() {
    let cast = Cast::new().await;
    // OV stays connected throughout, with no chat (closed again after the rows that open one).
    let (_ovid, ov) = cast.visitor("OV").await;
    let mut checked = 0;
    for row in rows() {
        for (i, who) in ROLES.iter().enumerate() {
            let want = row.expect[i];
            // The scene: V with an open chat in the row's state, and OV with none.
            let (vid, v) = cast.visitor("V").await;
            assert_eq!(
                v.emit("visitor_msg", json!({"content": "hello"})).await,
                (true, None)
            );
            let chat_id = cast.queued_chat_id(&vid).await;
            let claimer = match row.scene {
                Scene::ServedByAgent => Some(A),
                Scene::ServedByAdmin => Some(AD),
                Scene::Unclaimed => None,
            };
            if let Some(c) = claimer {
                let ack = cast
                    .staff(c)
                    .3
                    .emit("staff_join", json!({ "visitor": vid }))
                    .await;
                assert_eq!(ack, (true, None), "scene: claim by {c:?}");
            }
            let before = cast.snapshot(&chat_id).await;
            let actor = match who {
                V => &v,
                OV => &ov,
                w => &cast.staff(*w).3,
            };
            let ack = actor.emit(row.event, data_for(row.data, &vid, &cast)).await;
            let after = cast.snapshot(&chat_id).await;
            let ctx = format!("{} {:?} by {who:?}: {ack:?}", row.event, row.scene);
            match want {
                Ok { changes } => {
                    assert_eq!(ack, (true, None), "{ctx}: should be allowed");
                    assert_eq!(
                        before != after,
                        changes,
                        "{ctx}: chat change\n{before}\n{after}"
                    );
                }
                Refused(sentence) => {
                    assert_eq!(ack, (false, Some(sentence.to_string())), "{ctx}");
                    assert_eq!(before, after, "{ctx}: a refused event changed the chat");
                }
                RefusedLike(part) => {
                    assert!(
                        !ack.0 && ack.1.as_deref().is_some_and(|m| m.contains(part)),
                        "{ctx}"
                    );
                    assert_eq!(before, after, "{ctx}: a refused event changed the chat");
                }
            }
            // The connection survived: it still answers.
            let alive = actor
                .emit("change_chat_priority", json!({"visitor": "nobody"}))
                .await;
            assert!(!alive.0, "{ctx}: liveness probe {alive:?}");
            checked += 1;
            v.disconnect().await;
            if *who == OV && matches!(want, Ok { .. }) {
                assert_eq!(
                    ov.emit("visitor_leave_room", Value::Null).await,
                    (true, None)
                );
            }
        }
    }
    assert_eq!(checked, rows().len() * ROLES.len());

    // No token, or a bad one: the handshake is refused (401) on both transports.
    for t in [Transport::Ws, Transport::SocketIo] {
        for token in [None, Some("not-a-token")] {
            match Client::open(&cast.s, t, token, false, true).await {
                Err(Refused::Http(401)) | Err(Refused::Connect(_)) => {}
                Err(other) => panic!("{t:?} {token:?}: {other:?}"),
                std::result::Result::Ok(_) => panic!("{t:?} {token:?}: connected without a token"),
            }
        }
    }

    // Socket.IO spot check: the same refusals, the same sentences, nothing changed.
    let (vid, v) = cast.visitor("V-sio").await;
    assert_eq!(
        v.emit("visitor_msg", json!({"content": "hi"})).await,
        (true, None)
    );
    let chat_id = cast.queued_chat_id(&vid).await;
    let a_sio = {
        let token = crate::harness::try_login(&cast.s, "a2@authz.test", PASSWORD)
            .await
            .1["access_token"]
            .as_str()
            .expect("token")
            .to_string();
        // A2's /ws session is live: a second session must force.
        let c = Client::connect_force(&cast.s, Transport::SocketIo, &token).await;
        c.next("staff_init").await;
        c
    };
    let (_, token) = cast.s.visitor(Some("OV-sio")).await;
    let ov_sio = Client::connect(&cast.s, Transport::SocketIo, &token).await;
    ov_sio.next("visitor_init").await;
    let before = cast.snapshot(&chat_id).await;
    assert_eq!(
        a_sio
            .emit("take_over_chat", json!({ "visitor": vid }))
            .await,
        (
            false,
            Some("Only supervisors and admins can take over chats.".into())
        )
    );
    assert_eq!(
        ov_sio
            .emit(
                "staff_msg",
                json!({"visitor": vid, "content": {"content": "x"}})
            )
            .await,
        (false, Some("Only staff can send this event.".into()))
    );
    assert_eq!(
        a_sio
            .emit(
                "staff_msg",
                json!({"visitor": vid, "content": {"content": "x"}})
            )
            .await,
        (false, Some("You are not serving this chat.".into()))
    );
    assert_eq!(before, cast.snapshot(&chat_id).await);
}

/// A REST call with a token (or none); returns the status.
async fn call(
    s: &Server,
    method: &str,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> u16 {
    let mut req = match method {
        "GET" => http().get(s.url(path)),
        "POST" => http().post(s.url(path)),
        "PATCH" => http().patch(s.url(path)),
        "DELETE" => http().delete(s.url(path)),
        m => panic!("{m}"),
    };
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(t) = token {
        req = req.header("Authorization", t);
    }
    into_json(req.send().await.expect("request")).await.0
}

#[tokio::test]
async fn every_rest_endpoint_by_every_role() {
    let cast = Cast::new().await;
    let s = &cast.s;
    // V has a chat (unclaimed); OV none.
    let (vid, vtoken) = s.visitor(Some("V")).await;
    let (_, ovtoken) = s.visitor(Some("OV")).await;
    let v = Client::connect(s, Transport::Ws, &vtoken).await;
    v.next("visitor_init").await;
    assert_eq!(
        v.emit("visitor_msg", json!({"content": "hello"})).await,
        (true, None)
    );
    let chat_id = cast.queued_chat_id(&vid).await;
    let dummy = s.add_staff("dummy@authz.test", "agent");
    let tokens: Vec<Option<String>> = vec![
        None,
        Some(vtoken.clone()),
        Some(ovtoken.clone()),
        Some(cast.staff(A).2.clone()),
        Some(cast.staff(A2).2.clone()),
        Some(cast.staff(S).2.clone()),
        Some(cast.staff(AD).2.clone()),
    ];
    const WHO: [&str; 7] = ["no token", "V", "OV", "A", "A2", "S", "AD"];
    let missing = "0123456789abcdef0123456789abcdef";
    let chat = format!("/api/v1/chats/{chat_id}");
    let msgs = format!("/api/v1/chats/{chat_id}/messages");
    let patch = format!("/api/v1/staff/{dummy}");
    let login = json!({"email": "a@authz.test", "password": PASSWORD});
    let setup = json!({"token": "x", "email": "x@y.z", "full_name": "X", "password": PASSWORD});
    // (method, path, body, expected status for: none, V, OV, A, A2, S, AD)
    let table: Vec<(&str, String, Option<Value>, [u16; 7])> = vec![
        ("GET", "/healthz".into(), None, [200; 7]),
        ("GET", "/metrics".into(), None, [200; 7]),
        (
            "GET",
            "/api/v1/me".into(),
            None,
            [401, 200, 200, 200, 200, 200, 200],
        ),
        ("POST", "/api/v1/visitors".into(), Some(json!({})), [201; 7]),
        ("POST", "/api/v1/auth/login".into(), Some(login), [200; 7]),
        // Contract (product.md §8.1): an agent sees only chats they serve or served and the
        // queue. This chat is in the queue, so A2's 200 is right here either way.
        (
            "GET",
            chat.clone(),
            None,
            [401, 200, 404, 200, 200, 200, 200],
        ),
        (
            "GET",
            msgs.clone(),
            None,
            [401, 200, 404, 200, 200, 200, 200],
        ),
        (
            "GET",
            format!("/api/v1/chats/{missing}"),
            None,
            [401, 404, 404, 404, 404, 404, 404],
        ),
        (
            "GET",
            "/api/v1/staff".into(),
            None,
            [401, 403, 403, 200, 200, 200, 200],
        ),
        (
            "PATCH",
            patch.clone(),
            Some(json!({"display_name": "changed"})),
            [401, 403, 403, 403, 403, 403, 200],
        ),
        // An admin exists, but was made with the CLI while the server ran: the setup link
        // stays open until used, and a wrong setup token is 403 for everyone.
        ("POST", "/setup".into(), Some(setup), [403; 7]),
        ("GET", "/console/".into(), None, [200; 7]),
        ("GET", "/chat/".into(), None, [200; 7]),
        ("GET", "/widget.js".into(), None, [200; 7]),
        // Webhooks (issue 16): admins only; a hook that does not exist is 404 to an admin.
        (
            "GET",
            "/api/v1/webhooks".into(),
            None,
            [401, 403, 403, 403, 403, 403, 200],
        ),
        (
            "POST",
            "/api/v1/webhooks".into(),
            Some(json!({"url": "http://127.0.0.1:9/h", "events": ["chat.ended"]})),
            [401, 403, 403, 403, 403, 403, 201],
        ),
        (
            "PATCH",
            format!("/api/v1/webhooks/{missing}"),
            Some(json!({"enabled": false})),
            [401, 403, 403, 403, 403, 403, 404],
        ),
        (
            "DELETE",
            format!("/api/v1/webhooks/{missing}"),
            None,
            [401, 403, 403, 403, 403, 403, 404],
        ),
        (
            "GET",
            format!("/api/v1/webhooks/{missing}/deliveries"),
            None,
            [401, 403, 403, 403, 403, 403, 404],
        ),
        (
            "POST",
            format!("/api/v1/webhooks/{missing}/test"),
            None,
            [401, 403, 403, 403, 403, 403, 404],
        ),
        // Issue 16: the OpenAPI document is public; a transcript follows the chat's visibility,
        // and internal notes in it are for staff only.
        ("GET", "/api/v1/openapi.json".into(), None, [200; 7]),
        (
            "GET",
            format!("{chat}/transcript"),
            None,
            [401, 200, 404, 200, 200, 200, 200],
        ),
        (
            "GET",
            format!("{chat}/transcript?format=json&include_notes=true"),
            None,
            [401, 403, 404, 200, 200, 200, 200],
        ),
    ];
    let staff_list = || async { get(s, "/api/v1/staff", Some(&cast.admin_token)).await.1 };
    let mut checked = 0;
    for (method, path, body, want) in &table {
        for (i, token) in tokens.iter().enumerate() {
            let before = (cast.snapshot(&chat_id).await, staff_list().await);
            let got = call(s, method, path, body.clone(), token.as_deref()).await;
            assert_eq!(got, want[i], "{method} {path} as {}", WHO[i]);
            if got >= 400 {
                let after = (cast.snapshot(&chat_id).await, staff_list().await);
                assert_eq!(
                    before, after,
                    "{method} {path} as {}: refused but changed",
                    WHO[i]
                );
            }
            checked += 1;
        }
    }
    // POST /api/v1/staff: admins only; a refusal creates nobody.
    for (i, token) in tokens.iter().enumerate() {
        let n = staff_list().await["results"].as_array().map_or(0, Vec::len);
        let body = json!({"email": format!("new{i}@authz.test"), "full_name": "New",
                          "role_id": 3, "password": PASSWORD});
        let got = call(s, "POST", "/api/v1/staff", Some(body), token.as_deref()).await;
        let want = [401, 403, 403, 403, 403, 403, 201][i];
        assert_eq!(got, want, "POST /api/v1/staff as {}", WHO[i]);
        let m = staff_list().await["results"].as_array().map_or(0, Vec::len);
        assert_eq!(m, n + usize::from(got == 201), "staff count as {}", WHO[i]);
        checked += 1;
    }
    // POST /api/v1/auth/logout: any valid token (a throwaway one, so the table's stay valid).
    let throwaway = |i: usize| async move {
        match i {
            0 => None,
            1 | 2 => Some(s.visitor(None).await.1),
            _ => {
                let email = ["a", "a2", "s", "ad"][i - 3];
                Some(s.login(&format!("{email}@authz.test")).await)
            }
        }
    };
    for (i, who) in WHO.iter().enumerate() {
        let token = throwaway(i).await;
        let got = call(s, "POST", "/api/v1/auth/logout", None, token.as_deref()).await;
        assert_eq!(got, if i == 0 { 401 } else { 204 }, "logout as {who}");
        if let Some(t) = token {
            assert_eq!(get(s, "/api/v1/me", Some(&t)).await.0, 401, "revoked");
        }
        checked += 1;
    }
    assert_eq!(checked, table.len() * 7 + 14);
    // The table's own tokens still work, and so does the visitor's chat.
    assert_eq!(get(s, "/api/v1/me", Some(&vtoken)).await.0, 200);
    let (st, _) = post(s, "/api/v1/visitors", json!({}), None).await;
    assert_eq!(st, 201);
}

/// Data protection (issue 16): the visitor deletion, export and audit log routes, by every role.
/// A refused deletion deletes nothing; the admin's deletion of a missing visitor is 404.
#[tokio::test]
async fn privacy_endpoints_by_every_role() {
    let cast = Cast::new().await;
    let s = &cast.s;
    let (vid, vtoken) = s.visitor(Some("V")).await;
    let (_, ovtoken) = s.visitor(Some("OV")).await;
    let tokens: Vec<Option<String>> = vec![
        None,
        Some(vtoken.clone()),
        Some(ovtoken),
        Some(cast.staff(A).2.clone()),
        Some(cast.staff(A2).2.clone()),
        Some(cast.staff(S).2.clone()),
        Some(cast.staff(AD).2.clone()),
    ];
    const WHO: [&str; 7] = ["no token", "V", "OV", "A", "A2", "S", "AD"];
    let missing = "0123456789abcdef0123456789abcdef";
    let send = |method: &'static str, path: String, token: Option<String>| async move {
        let mut req = match method {
            "GET" => http().get(s.url(&path)),
            _ => http().delete(s.url(&path)),
        };
        if let Some(t) = token {
            req = req.header("Authorization", t);
        }
        into_json(req.send().await.expect("request")).await.0
    };
    // (method, path, expected status for: none, V, OV, A, A2, S, AD)
    let table: Vec<(&'static str, String, [u16; 7])> = vec![
        (
            "GET",
            format!("/api/v1/visitors/{vid}/export"),
            [401, 403, 403, 403, 403, 403, 200],
        ),
        (
            "GET",
            format!("/api/v1/visitors/{missing}/export"),
            [401, 403, 403, 403, 403, 403, 404],
        ),
        (
            "GET",
            "/api/v1/audit".into(),
            [401, 403, 403, 403, 403, 403, 200],
        ),
        (
            "DELETE",
            format!("/api/v1/visitors/{missing}"),
            [401, 403, 403, 403, 403, 403, 404],
        ),
        // Last: the admin's deletion goes through.
        (
            "DELETE",
            format!("/api/v1/visitors/{vid}"),
            [401, 403, 403, 403, 403, 403, 204],
        ),
    ];
    for (method, path, want) in &table {
        for (i, token) in tokens.iter().enumerate() {
            let got = send(method, path.clone(), token.clone()).await;
            assert_eq!(got, want[i], "{method} {path} as {}", WHO[i]);
            if *method == "DELETE" && i < 6 {
                assert_eq!(
                    get(s, "/api/v1/me", Some(&vtoken)).await.0,
                    200,
                    "V survives"
                );
            }
        }
    }
    assert_eq!(
        get(s, "/api/v1/me", Some(&vtoken)).await.0,
        401,
        "V is gone"
    );
}
