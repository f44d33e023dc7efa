//! Issue 10, findings 2, 5 and 7: revoked principals lose their live sockets within a second on
//! both transports, and logins are throttled before argon2 runs, with a bounded number of
//! verifications at once, without letting a guesser lock the owner out.

use crate::harness::*;
use crate::rt::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const BOTH: [Transport; 2] = [Transport::Ws, Transport::SocketIo];
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
    eprintln!("{what}: {} cut after {:?}", c.name, since.elapsed());
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
async fn role_changes_cut_the_socket_and_the_console_returns_with_its_new_feed() {
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

        // A promotion too: the serving agent comes back (within the grace, its chat kept)
        // with the supervisor feed.
        let since = Instant::now();
        let (st, body) = patch(
            &s,
            &format!("/api/v1/staff/{}", agent.id),
            json!({"role_id": 2}),
            &admin,
        )
        .await;
        assert_eq!(st, 200, "{body}");
        assert_cut(&agent.c, since, "promoted").await;
        let up = Client::connect(&s, t, &agent.token).await.named("promoted");
        let init = up.next("staff_init").await;
        let claimed = init["claimed_chats"].as_array().expect("supervisor feed");
        assert!(
            claimed.iter().any(|r| r["id"] == v.id.as_str()),
            "the promoted agent sees the claimed chat: {init}"
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

// ----- logins --------------------------------------------------------------------------------

/// `X-Forwarded-For` is honoured only with this, and stands in for other client addresses
/// (tests only ever use loopback ones).
fn behind_proxy(extra: &str) -> Options {
    Options {
        config: Some(format!("trust_proxy_headers = true\n{extra}")),
        ..Default::default()
    }
}

/// A login from `ip`: its status and `Retry-After`.
async fn login_from(
    c: &reqwest::Client,
    s: &Server,
    ip: &str,
    email: &str,
    password: &str,
) -> (u16, Option<u64>) {
    let r = c
        .post(s.url("/api/v1/auth/login"))
        .header("X-Forwarded-For", ip)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login request");
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (r.status().as_u16(), retry)
}

/// The server's peak resident memory (kB), from /proc.
fn peak_rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[tokio::test]
async fn concurrent_wrong_logins_verify_at_most_the_limit_in_bounded_memory() {
    let s = Server::start_with(behind_proxy(""));
    s.add_staff("owner@shop.test", "admin");
    let c = http();
    // Warm up (the server's first login also hashes the dummy password once).
    assert_eq!(
        login_from(&c, &s, "127.0.0.9", "owner@shop.test", PASSWORD)
            .await
            .0,
        200
    );
    let before = peak_rss_kb(s.pid());
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let (c, url) = (c.clone(), s.url("/api/v1/auth/login"));
            tokio::spawn(async move {
                let sent = c
                    .post(url)
                    .header("X-Forwarded-For", "127.0.0.2")
                    .json(&json!({"email": "owner@shop.test", "password": format!("guess-{i}")}))
                    .send()
                    .await;
                // A transport error (e.g. the client's 20 s timeout) counts as its own kind.
                sent.map_or((0, false), |r| {
                    (
                        r.status().as_u16(),
                        r.headers().get("retry-after").is_some(),
                    )
                })
            })
        })
        .collect();
    let (mut unauthorized, mut limited, mut other) = (0, 0, vec![]);
    for t in tasks {
        match t.await.unwrap() {
            (401, _) => unauthorized += 1,
            (429, true) => limited += 1,
            answer => other.push(answer),
        }
    }
    let peak = peak_rss_kb(s.pid());
    eprintln!(
        "200 concurrent wrong logins: {unauthorized} verified (401), {limited} refused (429), \
         {} other; server peak RSS {} MB (before {} MB)",
        other.len(),
        peak / 1024,
        before / 1024
    );
    assert!(
        unauthorized <= 10,
        "{unauthorized} guesses were verified; the limit is 10"
    );
    assert!(other.is_empty(), "unexpected answers: {other:?}");
    assert_eq!(unauthorized + limited, 200);
    assert!(peak < 100 * 1024, "peak RSS {} MB", peak / 1024);
    // The guessing address is stopped, the owner elsewhere is not.
    let (st, retry) = login_from(&c, &s, "127.0.0.2", "owner@shop.test", PASSWORD).await;
    assert_eq!(st, 429);
    assert!(retry.is_some_and(|r| r >= 1));
    assert_eq!(
        login_from(&c, &s, "127.0.0.3", "owner@shop.test", PASSWORD)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn wrong_passwords_from_ten_ips_do_not_lock_the_owner_out() {
    let s = Server::start_with(behind_proxy(""));
    s.add_staff("owner@shop.test", "admin");
    let c = http();
    for n in 10..20 {
        let ip = format!("127.0.0.{n}");
        let (st, _) = login_from(&c, &s, &ip, "owner@shop.test", "not-the-password").await;
        assert_eq!(st, 401, "from {ip}");
    }
    assert_eq!(
        login_from(&c, &s, "127.0.0.30", "owner@shop.test", PASSWORD)
            .await
            .0,
        200,
        "the owner signs in from an eleventh address"
    );
}

#[tokio::test]
async fn the_account_ceiling_stops_repeat_guessers_but_never_the_owner() {
    let s = Server::start_with(behind_proxy("login_account_max_failures = 5\n"));
    s.add_staff("owner@shop.test", "admin");
    let c = http();
    // Ten addresses, one guess each: past the ceiling of 5, clean addresses are still checked.
    for n in 10..20 {
        let ip = format!("127.0.0.{n}");
        let (st, _) = login_from(&c, &s, &ip, "owner@shop.test", "not-the-password").await;
        assert_eq!(st, 401, "from {ip}");
    }
    // An address that already failed on the account is stopped by the ceiling...
    let (st, retry) = login_from(&c, &s, "127.0.0.10", "owner@shop.test", "guess-2").await;
    assert_eq!(st, 429);
    assert!(retry.is_some());
    // ...even with the right password (it could be the guesser's lucky one),
    let (st, _) = login_from(&c, &s, "127.0.0.11", "owner@shop.test", PASSWORD).await;
    assert_eq!(st, 429);
    // while the owner from a clean address signs in, twice.
    for _ in 0..2 {
        let (st, _) = login_from(&c, &s, "127.0.0.40", "owner@shop.test", PASSWORD).await;
        assert_eq!(st, 200);
    }
}
