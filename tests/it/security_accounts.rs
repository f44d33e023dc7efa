//! Issue 10, findings 2, 5 and 7: revoked principals lose their live sockets within a second on
//! both transports, and logins are throttled before argon2 runs, with a bounded number of
//! verifications at once, without letting a guesser lock the owner out.

use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const BOTH: [Transport; 2] = [Transport::SocketIo, Transport::Ws];
/// The promise: a revoked principal's sockets are gone within this.
const CUT_WITHIN: Duration = Duration::from_millis(1000);

fn tag(t: Transport) -> &'static str {
    match t {
        Transport::SocketIo => "sio",
        Transport::Ws => "ws",
    }
}

async fn patch(s: &Server, path: &str, body: Value, token: &str) -> (u16, Value) {
    let r = http()
        .patch(s.url(path))
        .header("Authorization", token)
        .json(&body)
        .send()
        .await
        .expect("request");
    into_json(r).await
}

/// Asserts the server closed `c` within `CUT_WITHIN` of `since`.
async fn assert_cut(c: &Client, since: Instant, what: &str) {
    let closed = tokio::time::timeout_at((since + CUT_WITHIN).into(), c.closed()).await;
    assert!(
        matches!(closed, Ok(true)),
        "{what}: {} still connected {:?} after the change",
        c.name,
        since.elapsed()
    );
}

/// A new visitor's first message reaches `control` (still signed in) but not `cut`.
async fn new_chat_not_delivered(s: &Server, t: Transport, control: &Client, cut: &Client) {
    let before = cut.count("append_unclaimed_chats");
    let v = visitor(s, t, &format!("late-{}", tag(t))).await;
    assert_eq!(v.c.emit("visitor_first_msg", text("anyone?")).await, ok());
    control.next("append_unclaimed_chats").await;
    cut.none("append_unclaimed_chats").await;
    assert_eq!(cut.count("append_unclaimed_chats"), before, "{}", cut.name);
}

/// The token no longer opens a live connection.
async fn refused(s: &Server, t: Transport, token: &str) {
    let again = Client::open(s, t, Some(token), false, true).await;
    assert!(again.is_err(), "a revoked token connected again on {t:?}");
}

#[tokio::test]
async fn disabled_over_http_is_cut_off_within_a_second() {
    let s = Server::start();
    let (_, admin) = s.staff("admin@shop.test", "admin").await;
    for t in BOTH {
        let control = staff(&s, t, &format!("ctl-{}@shop.test", tag(t)), "agent").await;
        let agent = staff(&s, t, &format!("dis-{}@shop.test", tag(t)), "agent").await;
        let since = Instant::now();
        let (st, body) = patch(
            &s,
            &format!("/api/v1/staff/{}", agent.id),
            json!({"disabled": true}),
            &admin,
        )
        .await;
        assert_eq!(st, 200, "{body}");
        assert_cut(&agent.c, since, "disabled over HTTP").await;
        new_chat_not_delivered(&s, t, &control.c, &agent.c).await;
        refused(&s, t, &agent.token).await;
    }
}

#[tokio::test]
async fn password_changed_over_http_is_cut_off_within_a_second() {
    let s = Server::start();
    let (_, admin) = s.staff("admin@shop.test", "admin").await;
    for t in BOTH {
        let agent = staff(&s, t, &format!("pw-{}@shop.test", tag(t)), "agent").await;
        let since = Instant::now();
        let (st, body) = patch(
            &s,
            &format!("/api/v1/staff/{}", agent.id),
            json!({"password": "a-brand-new-password"}),
            &admin,
        )
        .await;
        assert_eq!(st, 200, "{body}");
        assert_cut(&agent.c, since, "password changed over HTTP").await;
        refused(&s, t, &agent.token).await;
    }
}

#[tokio::test]
async fn disabled_by_the_cli_is_cut_off_within_a_second() {
    let s = Server::start();
    for t in BOTH {
        let control = staff(&s, t, &format!("ctl-{}@shop.test", tag(t)), "agent").await;
        let email = format!("cli-{}@shop.test", tag(t));
        let agent = staff(&s, t, &email, "agent").await;
        // Another process, the same database file: only the sweeper can notice.
        let out = s.cli(&["user", "disable", &email]);
        assert!(out.status.success(), "{out:?}");
        let since = Instant::now();
        assert_cut(&agent.c, since, "disabled by the CLI").await;
        new_chat_not_delivered(&s, t, &control.c, &agent.c).await;
        refused(&s, t, &agent.token).await;
    }
}

#[tokio::test]
async fn password_changed_by_the_cli_is_cut_off_within_a_second() {
    let s = Server::start();
    for t in BOTH {
        let email = format!("clipw-{}@shop.test", tag(t));
        let agent = staff(&s, t, &email, "agent").await;
        let out = s.cli(&["user", "passwd", &email, "--password", "another-password-1"]);
        assert!(out.status.success(), "{out:?}");
        let since = Instant::now();
        assert_cut(&agent.c, since, "password changed by the CLI").await;
    }
}

#[tokio::test]
async fn logged_out_staff_is_cut_off_and_other_sessions_are_not() {
    let s = Server::start();
    for t in BOTH {
        let control = staff(&s, t, &format!("ctl-{}@shop.test", tag(t)), "agent").await;
        let email = format!("out-{}@shop.test", tag(t));
        let agent = staff(&s, t, &email, "agent").await;
        // Signing out another browser's token leaves this connection alone.
        let other = s.login(&email).await;
        let (st, _) = post(&s, "/api/v1/auth/logout", json!({}), Some(&other)).await;
        assert_eq!(st, 204);
        tokio::time::sleep(CUT_WITHIN).await;
        assert_eq!(
            agent
                .c
                .emit("staff_leave_room", json!({"visitor": "nobody"}))
                .await
                .1,
            Some("The chat room is either closed or doesn't exist.".to_string()),
            "the connection of the still-valid token is live and signed in"
        );

        let since = Instant::now();
        let (st, _) = post(&s, "/api/v1/auth/logout", json!({}), Some(&agent.token)).await;
        assert_eq!(st, 204);
        assert_cut(&agent.c, since, "logged out").await;
        new_chat_not_delivered(&s, t, &control.c, &agent.c).await;
        refused(&s, t, &agent.token).await;
    }
}

#[tokio::test]
async fn demoted_supervisor_is_cut_off_and_comes_back_as_an_agent() {
    let s = Server::start();
    let (_, admin) = s.staff("admin@shop.test", "admin").await;
    for t in BOTH {
        let agent = staff(&s, t, &format!("ag-{}@shop.test", tag(t)), "agent").await;
        let sup = staff(&s, t, &format!("sup-{}@shop.test", tag(t)), "supervisor").await;
        let v = visitor(&s, t, &format!("v-{}", tag(t))).await;
        assert_eq!(v.c.emit("visitor_first_msg", text("help")).await, ok());
        agent.c.next("append_unclaimed_chats").await;
        assert_eq!(
            agent.c.emit("staff_join", json!({"visitor": v.id})).await,
            ok()
        );
        let since = Instant::now();
        let (st, body) = patch(
            &s,
            &format!("/api/v1/staff/{}", sup.id),
            json!({"role_id": 3}),
            &admin,
        )
        .await;
        assert_eq!(st, 200, "{body}");
        assert_cut(&sup.c, since, "demoted").await;
        // The token is still good: the console comes back with an agent's feed and rights.
        let back = Client::connect(&s, t, &sup.token).await.named("demoted");
        let init = back.next("staff_init").await;
        assert!(
            init.get("claimed_chats").is_none(),
            "an agent gets no supervisor feed: {init}"
        );
        assert_eq!(
            back.emit("take_over_chat", json!({"visitor": v.id})).await,
            fails("Only supervisors and admins can take over chats.")
        );
    }
}

#[tokio::test]
async fn logged_out_visitor_is_cut_off_within_a_second() {
    let s = Server::start();
    for t in BOTH {
        let v = visitor(&s, t, &format!("bye-{}", tag(t))).await;
        let since = Instant::now();
        let (st, _) = post(&s, "/api/v1/auth/logout", json!({}), Some(&v.token)).await;
        assert_eq!(st, 204);
        assert_cut(&v.c, since, "visitor logged out").await;
        refused(&s, t, &v.token).await;
    }
}

#[tokio::test]
async fn expired_tokens_lose_their_sockets() {
    let s = Server::start_with(Options {
        config: Some("staff_token_ttl_secs = 3\nvisitor_token_ttl_secs = 3\n".into()),
        ..Default::default()
    });
    for t in BOTH {
        let (_, token) = s.staff(&format!("exp-{}@shop.test", tag(t)), "agent").await;
        let issued = Instant::now();
        let a = Client::connect(&s, t, &token).await.named("staff");
        a.next("staff_init").await;
        let (_, vtoken) = s.visitor(Some("expiring")).await;
        let v = Client::connect(&s, t, &vtoken).await.named("visitor");
        v.next("visitor_init").await;
        let expiry = issued + Duration::from_secs(3);
        assert_cut(&a, expiry, "staff token expired").await;
        assert_cut(
            &v,
            expiry + Duration::from_millis(500),
            "visitor token expired",
        )
        .await;
    }
}
