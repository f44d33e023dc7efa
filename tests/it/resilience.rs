//! Issue 12 with real network faults: a loopback TCP proxy (`proxy.rs`) between the real
//! server and clients that behave as a good client does (`peer.rs`: reconnect, `sync` from the
//! last sequence number, resend unacked messages with the same `client_msg_id`).
//!
//! Every scenario runs on its own server and on both transports; the long ones run at once
//! (each as its own task) to keep the wall time small.

use crate::harness::{get, Options, Server};
use crate::peer::{text_of, Answer, Got, Peer};
use crate::proxy::Proxy;
use crate::rt::{self, Client, Transport};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const BOTH: [Transport; 2] = [Transport::Ws, Transport::SocketIo];
const S: fn(u64) -> Duration = Duration::from_secs;

fn txt(s: &str) -> Value {
    json!({ "content": s, "timestamp": 1_700_000_000_000i64 })
}

fn grace(secs: u64) -> Options {
    Options {
        args: vec!["--reconnect-grace".into(), secs.to_string()],
        ..Default::default()
    }
}

/// Starts a server without holding up the runtime's other tasks (the harness waits for the
/// server's first log line with a blocking call).
fn start(opts: Options) -> Logged {
    Logged(tokio::task::block_in_place(|| Server::start_with(opts)))
}

/// A staff account (the harness's CLI call blocks: kept off the other tasks) and its token.
async fn account(s: &Server, email: &str, role: &str) -> (String, String) {
    let id = tokio::task::block_in_place(|| s.add_staff(email, role));
    (id, s.login(email).await)
}

async fn staff_party(s: &Server, t: Transport, email: &str, role: &str) -> rt::Party {
    let (id, token) = account(s, email, role).await;
    let c = Client::connect(s, t, &token).await.named(email);
    c.next("staff_init").await;
    rt::Party { id, token, c }
}

/// Runs scenarios each as its own task, so that one's blocking step (a CLI call, a server
/// start) never starves another's connections; the first failure is raised again.
async fn each<T, F>(scenarios: Vec<F>) -> Vec<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = scenarios.into_iter().map(tokio::spawn).collect();
    let mut out = vec![];
    for task in tasks {
        match task.await {
            Ok(v) => out.push(v),
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }
    out
}

/// The whole history of a chat over REST, page by page.
async fn history(s: &Server, chat_id: &str, token: &str) -> Vec<Value> {
    let mut all = vec![];
    let mut cursor = String::new();
    for _ in 0..100 {
        let (st, page) = get(
            s,
            &format!("/api/v1/chats/{chat_id}/messages?limit=500{cursor}"),
            Some(token),
        )
        .await;
        assert_eq!(st, 200, "{page}");
        all.extend(page["results"].as_array().cloned().unwrap_or_default());
        match page["next"].as_str() {
            Some(n) => cursor = format!("&cursor={n}"),
            None => return all,
        }
    }
    panic!("history never ended");
}

async fn chat_status(s: &Server, chat_id: &str, token: &str) -> String {
    let (st, chat) = get(s, &format!("/api/v1/chats/{chat_id}"), Some(token)).await;
    assert_eq!(st, 200, "{chat}");
    chat["status"].as_str().unwrap_or_default().to_string()
}

fn seqs(msgs: &[Value]) -> Vec<i64> {
    msgs.iter()
        .map(|m| m["sequence_num"].as_i64().unwrap_or(-1))
        .collect()
}

fn texts_by(msgs: &[Value], sender: &Value) -> Vec<String> {
    msgs.iter()
        .filter(|m| m["type_id"] == 1 && &m["sender"] == sender)
        .filter_map(|m| text_of(m).map(str::to_string))
        .collect()
}

/// `got == want`, with a failure that says what differs instead of printing 500 items.
fn assert_same_list(got: &[String], want: &[String], what: &str) {
    if got == want {
        return;
    }
    let count = |xs: &[String], x: &String| xs.iter().filter(|y| *y == x).count();
    let twice: Vec<&String> = want.iter().filter(|x| count(got, x) > 1).collect();
    let missing: Vec<&String> = want.iter().filter(|x| count(got, x) == 0).collect();
    let first = got.iter().zip(want).position(|(g, w)| g != w);
    panic!(
        "{what}: {} received, {} wanted; {} more than once {:?}; {} missing {:?}; first \
         difference at {first:?}: {:?} instead of {:?}",
        got.len(),
        want.len(),
        twice.len(),
        twice.iter().take(5).collect::<Vec<_>>(),
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>(),
        first.and_then(|i| got.get(i)),
        first.and_then(|i| want.get(i)),
    );
}

fn seq(m: &Value) -> i64 {
    m["sequence_num"].as_i64().unwrap_or(-1)
}

/// A peer's stream checked against what the protocol promises, and what a client that shows
/// messages by `sequence_num` shows. Live events on one connection come in sequence order, and
/// after a `messages_since` only newer ones; a message comes twice only when it came live on a
/// connection before that connection's `messages_since` that also holds it (the `sync` was
/// asked before the message was stored: a client keys messages by `sequence_num`). Returns the
/// messages shown and how many such overlaps there were.
fn check_stream(name: &str, got: &[Got]) -> (Vec<Value>, usize) {
    let mut first: HashMap<i64, &Got> = HashMap::new();
    let mut live_max: HashMap<u64, i64> = HashMap::new();
    let mut since_max: HashMap<u64, i64> = HashMap::new();
    let mut overlaps = 0;
    let mut prev: Option<&Got> = None;
    for g in got {
        let n = seq(&g.msg);
        match g.since {
            None => {
                let after = live_max.get(&g.conn).copied().unwrap_or(0);
                assert!(n > after, "{name}: live {n} after live {after}: {got:?}");
                let since = since_max.get(&g.conn).copied().unwrap_or(0);
                assert!(
                    n > since,
                    "{name}: live {n} after messages_since had it: {got:?}"
                );
                live_max.insert(g.conn, n);
            }
            Some(k) => {
                if let Some(p) = prev.filter(|p| p.since == Some(k)) {
                    assert!(
                        n > seq(&p.msg),
                        "{name}: messages_since out of order: {got:?}"
                    );
                }
                let m = since_max.entry(g.conn).or_default();
                *m = (*m).max(n);
            }
        }
        match first.get(&n) {
            None => {
                first.insert(n, g);
            }
            Some(f) => {
                assert!(
                    g.since.is_some() && f.since.is_none() && f.conn == g.conn,
                    "{name}: sequence_num {n} twice: {f:?} then {g:?}"
                );
                assert_eq!(f.msg, g.msg, "{name}: two versions of {n}");
                overlaps += 1;
            }
        }
        prev = Some(g);
    }
    let mut shown: Vec<Value> = first.values().map(|g| g.msg.clone()).collect();
    shown.sort_by_key(seq);
    (shown, overlaps)
}

/// A server that prints the end of its log when a failing test drops it.
struct Logged(Server);

impl std::ops::Deref for Logged {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.0
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.0.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(60)..].join("\n");
            eprintln!("--- server {} log (end) ---\n{tail}\n---", self.0.addr);
        }
    }
}

/// A served chat: the visitor and the agent each behind their own proxy.
struct Chat {
    t: Transport,
    s: Logged,
    pv: Proxy,
    pa: Proxy,
    v: Peer,
    a: Peer,
    vid: String,
    aid: String,
    atoken: String,
    chat_id: String,
    /// Messages stored before the peers followed the chat.
    base: i64,
}

impl Chat {
    /// `label` names the scenario in the peers' messages.
    async fn open(t: Transport, opts: Options, label: &str) -> Chat {
        let s = start(opts);
        let (pv, pa) = (Proxy::start(s.addr).await, Proxy::start(s.addr).await);
        let (aid, atoken) = account(&s, "agent@shop.test", "agent").await;
        let (vid, vtoken) = s.visitor(Some("Vera")).await;
        let tag = match t {
            Transport::Ws => "ws",
            Transport::SocketIo => "sio",
        };
        let a = Peer::start(&format!("agent-{tag} {label}"), t, pa.addr, &atoken).await;
        let v = Peer::start(&format!("visitor-{tag} {label}"), t, pv.addr, &vtoken).await;
        v.send("visitor_msg", txt("hello"));
        v.all_acked(S(10)).await;
        let room = a.next("append_unclaimed_chats", S(10)).await;
        let chat_id = room["visitor"]["chat_id"]
            .as_str()
            .expect("room.chat_id")
            .to_string();
        assert_eq!(
            a.call("staff_join", json!({ "visitor": vid })).await,
            (true, None, None)
        );
        v.next("staff_join_room", S(10)).await;
        let base = history(&s, &chat_id, &atoken).await.len() as i64;
        v.follow(&chat_id, base);
        a.follow(&chat_id, base);
        Chat {
            t,
            s,
            pv,
            pa,
            v,
            a,
            vid,
            aid,
            atoken,
            chat_id,
            base,
        }
    }

    fn visitor_says(&self, s: &str) -> String {
        self.v.send("visitor_msg", txt(s));
        s.to_string()
    }

    fn agent_says(&self, s: &str) -> String {
        self.a.send(
            "staff_msg",
            json!({ "visitor": self.vid, "content": txt(s) }),
        );
        s.to_string()
    }

    /// Every message sent by either side is stored once, in order, gap-free; each side received
    /// each of the other's exactly once, in order, and nothing twice.
    /// Returns how many messages came both live and in `messages_since` (see `check_stream`).
    async fn check_delivery(&self, from_v: &[String], from_a: &[String]) -> usize {
        self.v.all_acked(S(30)).await;
        self.a.all_acked(S(30)).await;
        self.a.wait_texts(&self.chat_id, from_v, S(20)).await;
        self.v.wait_texts(&self.chat_id, from_a, S(20)).await;
        // Late duplicates would show up here.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let who = format!("{:?}", self.t);
        let hist = history(&self.s, &self.chat_id, &self.atoken).await;
        assert_eq!(
            seqs(&hist),
            (1..=hist.len() as i64).collect::<Vec<_>>(),
            "{who}: history gap-free and in order"
        );
        let mut want_v = vec!["hello".to_string()];
        want_v.extend_from_slice(from_v);
        assert_same_list(
            &texts_by(&hist, &Value::Null),
            &want_v,
            &format!("{who}: the visitor's messages stored once each, in order"),
        );
        assert_same_list(
            &texts_by(&hist, &json!(self.aid)),
            from_a,
            &format!("{who}: the agent's messages stored once each, in order"),
        );
        let mut overlaps = 0;
        for (p, sender, want) in [
            (&self.v, json!(self.aid), from_a),
            (&self.a, Value::Null, from_v),
        ] {
            let (shown, n) = check_stream(p.name(), &p.stream(&self.chat_id));
            overlaps += n;
            assert_same_list(
                &texts_by(&shown, &sender),
                want,
                &format!("{}: the other side's messages received", p.name()),
            );
            for m in &shown {
                assert!(seq(m) > self.base, "{}: {m}", p.name());
                assert_eq!(
                    Some(m),
                    hist.get((seq(m) - 1) as usize),
                    "{}: as stored",
                    p.name()
                );
            }
            assert_eq!(p.refused(), vec![], "{}: nothing refused", p.name());
            for (chat, ans) in p.sync_answers() {
                assert_eq!(ans, (true, None, None), "{}: sync {chat}", p.name());
            }
        }
        overlaps
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    Visitor,
    Agent,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// Connections dropped, new ones refused.
    Cut,
    /// Bytes held both ways; only the server's ping timeout notices.
    Blackhole,
}

/// One outage of `secs` for one side, with the server's default graces: the chat survives,
/// the other side is told away then back, and every message sent before, during and after is
/// delivered exactly once, in order. Returns a line for the log.
async fn outage(t: Transport, side: Side, fault: Fault, secs: u64) -> String {
    let c = Chat::open(
        t,
        Options::default(),
        &format!("{side:?} {fault:?} {secs}s"),
    )
    .await;
    let (mut from_v, mut from_a) = (vec![], vec![]);
    from_v.push(c.visitor_says("v before 1"));
    from_a.push(c.agent_says("a before 1"));
    from_v.push(c.visitor_says("v before 2"));
    from_a.push(c.agent_says("a before 2"));
    c.v.all_acked(S(10)).await;
    c.a.all_acked(S(10)).await;

    let (victim, other, proxy, away, back) = match side {
        Side::Visitor => (&c.v, &c.a, &c.pv, "visitor_away", "visitor_back"),
        Side::Agent => (&c.a, &c.v, &c.pa, "staff_away", "staff_back"),
    };
    let victim_id = match side {
        Side::Visitor => c.vid.clone(),
        Side::Agent => c.aid.clone(),
    };
    let key = match side {
        Side::Visitor => "visitor",
        Side::Agent => "staff",
    };
    let start = Instant::now();
    match fault {
        Fault::Cut => proxy.cut(),
        Fault::Blackhole => proxy.blackhole(),
    }
    // Typed while the link is down: queued (cut) or lost in the hole (blackhole), resent after.
    let (mine, theirs) = match side {
        Side::Visitor => (&mut from_v, &mut from_a),
        Side::Agent => (&mut from_a, &mut from_v),
    };
    for i in 1..=2 {
        let s = format!("{key} during {i}");
        match side {
            Side::Visitor => c.v.send("visitor_msg", txt(&s)),
            Side::Agent => {
                c.a.send("staff_msg", json!({ "visitor": c.vid, "content": txt(&s) }))
            }
        };
        mine.push(s);
    }
    let told = other
        .next(away, if fault == Fault::Cut { S(5) } else { S(40) })
        .await;
    let away_after = start.elapsed();
    assert_eq!(told[key]["id"], victim_id.as_str(), "{away}: {told}");
    // The other side goes on talking; the victim gets it by `sync` after.
    for i in 1..=2 {
        let s = format!("to the away {key} {i}");
        match side {
            Side::Visitor => {
                c.a.send("staff_msg", json!({ "visitor": c.vid, "content": txt(&s) }))
            }
            Side::Agent => c.v.send("visitor_msg", txt(&s)),
        };
        theirs.push(s);
    }
    other.all_acked(S(10)).await;
    if let Some(rest) = S(secs).checked_sub(start.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    let outage_len = start.elapsed();
    proxy.restore();
    victim.wait_connects(2, S(15)).await;
    let told = other.next(back, S(15)).await;
    let back_after = start.elapsed();
    assert_eq!(told[key]["id"], victim_id.as_str(), "{back}: {told}");
    from_v.push(c.visitor_says("v after 1"));
    from_a.push(c.agent_says("a after 1"));
    let overlaps = c.check_delivery(&from_v, &from_a).await;

    let who = format!("{t:?} {side:?} {fault:?} {secs}s");
    assert_eq!(victim.connects(), 2, "{who}: one reconnect");
    assert_eq!(other.count(away), 1, "{who}");
    assert_eq!(other.count(back), 1, "{who}");
    assert_eq!(victim.sync_answers().len(), 1, "{who}: one sync");
    for ended in [
        "visitor_goes_offline",
        "visitor_leave_queue",
        "staff_leave",
        "staff_goes_offline",
        "staff_being_removed_from_chat",
    ] {
        assert_eq!(c.v.count(ended), 0, "{who}: visitor got {ended}");
        assert_eq!(c.a.count(ended), 0, "{who}: agent got {ended}");
    }
    // Back in the same chat, still served.
    match side {
        Side::Visitor => {
            let init = c.v.all("visitor_init").pop().unwrap_or_default();
            assert_eq!(init["staff"]["id"], c.aid.as_str(), "{who}: {init}");
        }
        Side::Agent => {
            let init = c.a.all("staff_init").pop().unwrap_or_default();
            assert_eq!(
                init["serving_chats"][0]["visitor"]["id"],
                c.vid.as_str(),
                "{who}: {init}"
            );
        }
    }
    assert_ne!(chat_status(&c.s, &c.chat_id, &c.atoken).await, "ended");
    format!(
        "{who}: away told at {:.1}s, link back at {:.1}s, back told at {:.1}s, {} resends, \
         {overlaps} live before messages_since",
        away_after.as_secs_f64(),
        outage_len.as_secs_f64(),
        back_after.as_secs_f64(),
        victim.resends()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_cuts_keep_the_chat_and_every_message_once_in_order() {
    let mut runs = vec![];
    for t in BOTH {
        for side in [Side::Visitor, Side::Agent] {
            for secs in [1, 5] {
                runs.push(outage(t, side, Fault::Cut, secs));
            }
        }
    }
    for line in each(runs).await {
        eprintln!("{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_of_30s_cut_or_blackholed_keep_the_chat() {
    let mut runs = vec![];
    for t in BOTH {
        for side in [Side::Visitor, Side::Agent] {
            for fault in [Fault::Cut, Fault::Blackhole] {
                runs.push(outage(t, side, fault, 30));
            }
        }
    }
    for line in each(runs).await {
        eprintln!("{line}");
    }
}

/// `sync` answers on `/ws` carry the refusal's code; Socket.IO keeps the seed's sentence.
fn assert_refused(t: Transport, ans: &Answer, code: &str, what: &str) {
    assert!(!ans.0, "{what}: {ans:?}");
    assert!(
        ans.1.as_deref().is_some_and(|s| !s.is_empty()),
        "{what}: a sentence: {ans:?}"
    );
    if t == Transport::Ws {
        assert_eq!(ans.2.as_deref(), Some(code), "{what}: {ans:?}");
    }
}

/// A cut longer than the grace: the chat ends, and each side is told what §6 says — while the
/// grace runs the others hear `*_away`, after it the seed's disconnect effects; the one who
/// comes back finds no open chat (`*_init`) and its `sync` refused with `chat_closed`.
async fn past_the_grace(t: Transport, side: Side) {
    // Only the party who is cut has a short grace: each grace applies to its own party.
    let (short, long) = match side {
        Side::Visitor => ("--visitor-reconnect-grace", "--staff-reconnect-grace"),
        Side::Agent => ("--staff-reconnect-grace", "--visitor-reconnect-grace"),
    };
    let opts = Options {
        args: [short, "2", long, "600"].map(String::from).to_vec(),
        ..Default::default()
    };
    let c = Chat::open(t, opts, "past the grace").await;
    let (_, stoken) = account(&c.s, "sup@shop.test", "supervisor").await;
    let sup = Peer::start("supervisor", t, c.s.addr, &stoken).await;
    c.visitor_says("v before");
    c.agent_says("a before");
    c.v.all_acked(S(10)).await;
    c.a.all_acked(S(10)).await;
    let who = format!("{t:?} {side:?} past the grace");
    let start = Instant::now();
    match side {
        Side::Visitor => {
            c.pv.cut();
            let away = c.a.next("visitor_away", S(5)).await;
            assert_eq!(away["visitor"]["id"], c.vid.as_str(), "{who}");
            let off = c.a.next("visitor_goes_offline", S(8)).await;
            assert!(
                start.elapsed() >= Duration::from_millis(1500),
                "{who}: grace kept"
            );
            assert_eq!(off["visitor"]["id"], c.vid.as_str(), "{who}");
            let left = c.a.next("visitor_leave_queue", S(5)).await;
            assert_eq!(left["user"]["id"], c.vid.as_str(), "{who}");
            sup.next("visitor_away", S(5)).await;
            sup.next("visitor_leave_chat_for_supervisor", S(5)).await;
        }
        Side::Agent => {
            c.pa.cut();
            let away = c.v.next("staff_away", S(5)).await;
            assert_eq!(away["staff"]["id"], c.aid.as_str(), "{who}");
            assert_eq!(
                sup.next("staff_away", S(5)).await["staff"]["id"],
                c.aid.as_str(),
                "{who}"
            );
            let left = c.v.next("staff_leave", S(8)).await;
            assert!(
                start.elapsed() >= Duration::from_millis(1500),
                "{who}: grace kept"
            );
            assert_eq!(left["staff"]["id"], c.aid.as_str(), "{who}");
            sup.next("staff_leave_chat_for_supervisor", S(5)).await;
            assert_eq!(
                sup.next("staff_goes_offline", S(5)).await["staff"]["id"],
                c.aid.as_str(),
                "{who}"
            );
        }
    }
    assert_eq!(
        chat_status(&c.s, &c.chat_id, &c.atoken).await,
        "ended",
        "{who}"
    );
    if let Some(rest) = S(5).checked_sub(start.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    let (proxy, victim) = match side {
        Side::Visitor => (&c.pv, &c.v),
        Side::Agent => (&c.pa, &c.a),
    };
    proxy.restore();
    victim.wait_connects(2, S(15)).await;
    victim.wait_syncs(1, S(10)).await;
    let (chat, ans) = victim.sync_answers().remove(0);
    assert_eq!(chat, c.chat_id);
    assert_refused(
        t,
        &ans,
        "chat_closed",
        &format!("{who}: sync of the ended chat"),
    );
    match side {
        Side::Visitor => {
            c.v.next("visitor_init", S(1)).await;
            let init = c.v.next("visitor_init", S(5)).await;
            assert!(init["staff"].is_null(), "{who}: {init}");
            assert_eq!(init["contents"], json!([]), "{who}: {init}");
            c.a.next("visitor_goes_online", S(5)).await;
            assert_eq!(c.a.count("visitor_back"), 0, "{who}");
        }
        Side::Agent => {
            c.a.next("staff_init", S(1)).await;
            let init = c.a.next("staff_init", S(5)).await;
            assert_eq!(init["serving_chats"], json!([]), "{who}: {init}");
            sup.next("staff_goes_online", S(5)).await;
            assert_eq!(c.v.count("staff_back"), 0, "{who}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_longer_than_the_grace_ends_the_chat_and_says_so() {
    each(vec![
        past_the_grace(Transport::Ws, Side::Visitor),
        past_the_grace(Transport::Ws, Side::Agent),
        past_the_grace(Transport::SocketIo, Side::Visitor),
        past_the_grace(Transport::SocketIo, Side::Agent),
    ])
    .await;
}

/// The visitor sends 500 messages with ids while the agent sends 200; each side's proxy drops
/// a third of its acks, and the visitor's link is cut twice at random moments; both clients
/// resend whatever is unacked (same id) until acked.
async fn storm(t: Transport, seed: u64) -> String {
    use rand::{Rng, SeedableRng};
    const N: usize = 500;
    const N_AGENT: usize = 200;
    let c = Chat::open(
        t,
        Options {
            config: Some("max_events_per_sec = 100000\n".into()),
            ..Default::default()
        },
        "storm",
    )
    .await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut cuts: Vec<usize> = (0..2).map(|_| rng.random_range(50..N - 50)).collect();
    cuts.sort();
    c.pv.drop_acks(0.3, seed);
    c.pa.drop_acks(0.3, seed + 1);
    let start = Instant::now();
    let from_v: Vec<String> = (0..N)
        .map(|i| c.visitor_says(&format!("storm {i}")))
        .collect();
    let from_a: Vec<String> = (0..N_AGENT)
        .map(|i| c.agent_says(&format!("agent storm {i}")))
        .collect();
    // Cut when that many were acked: at random moments of the storm.
    for at in &cuts {
        let deadline = Instant::now() + S(60);
        while c.v.unacked() > N - at && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        c.pv.cut();
        tokio::time::sleep(Duration::from_millis(150)).await;
        c.pv.restore();
    }
    c.v.all_acked(S(90)).await;
    c.a.all_acked(S(90)).await;
    let took = start.elapsed();
    c.pv.stop_dropping();
    c.pa.stop_dropping();
    let overlaps = c.check_delivery(&from_v, &from_a).await;
    let who = format!("{t:?} storm");
    let dropped = c.pv.dropped_acks() + c.pa.dropped_acks();
    let resends = c.v.resends() + c.a.resends();
    assert!(dropped > 50, "{who}: acks were dropped");
    assert!(resends > 50, "{who}: resends happened");
    assert!(c.v.connects() >= 3, "{who}: the cuts happened");
    assert_eq!(
        c.a.all("visitor_send").len(),
        N,
        "{who}: the agent got each exactly once"
    );
    // The visitor's cuts: what it missed came by `sync`, the rest live, none twice (above).
    let live = c.v.all("staff_send").len();
    assert!(live <= N_AGENT, "{who}: {live} staff_send");
    format!(
        "{who}: {N} + {N_AGENT} messages in {:.1}s, {dropped} acks dropped, {resends} resends, \
         {} visitor connections, {live} agent messages live and {} by sync, {overlaps} live \
         before messages_since",
        took.as_secs_f64(),
        c.v.connects(),
        N_AGENT - live,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resend_storm_with_lost_acks_stores_each_message_once_in_order() {
    for line in each(vec![
        storm(Transport::Ws, 12),
        storm(Transport::SocketIo, 1212),
    ])
    .await
    {
        eprintln!("{line}");
    }
}

/// Resume: a client that saw up to N gets N+1… and nothing before, then live events; `sync`
/// refusals with their codes.
async fn resume(t: Transport) {
    let s = start(Options::default());
    let a = staff_party(&s, t, "a@shop.test", "agent").await;
    let b = staff_party(&s, t, "b@shop.test", "agent").await;
    let sup = staff_party(&s, t, "s@shop.test", "supervisor").await;
    let v = rt::visitor(&s, t, "Vera").await;
    let w = rt::visitor(&s, t, "Walt").await;
    let sync = |chat: &str, after: i64| json!({"chat_id": chat, "after_sequence_num": after});
    let got = |m: &Value| -> Vec<(i64, String)> {
        m["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|m| {
                (
                    m["sequence_num"].as_i64().unwrap_or(-1),
                    text_of(m).unwrap_or("(system)").to_string(),
                )
            })
            .collect()
    };
    for i in 1..=3 {
        assert_eq!(
            v.c.emit("visitor_msg", txt(&format!("v{i}"))).await,
            rt::ok()
        );
    }
    let room = a.c.next("append_unclaimed_chats").await;
    let chat = room["visitor"]["chat_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Waiting in the queue: any staff member may resume it.
    assert_eq!(b.c.emit("sync", sync(&chat, 1)).await, rt::ok());
    let since = b.c.next("messages_since").await;
    assert_eq!(since["chat_id"], chat.as_str());
    assert_eq!(got(&since), vec![(2, "v2".into()), (3, "v3".into())]);

    assert_eq!(
        a.c.emit("staff_join", json!({"visitor": v.id})).await,
        rt::ok()
    );
    for m in ["a1", "a2"] {
        assert_eq!(
            a.c.emit("staff_msg", json!({"visitor": v.id, "content": txt(m)}))
                .await,
            rt::ok()
        );
    }
    assert_eq!(v.c.emit("visitor_msg", txt("v4")).await, rt::ok());
    // 4 is the join; the visitor saw up to 5 (a1).
    assert_eq!(v.c.emit("sync", sync(&chat, 5)).await, rt::ok());
    let since = v.c.next("messages_since").await;
    assert_eq!(got(&since), vec![(6, "a2".into()), (7, "v4".into())]);
    // Live events come after it on the same connection.
    assert_eq!(
        a.c.emit("staff_msg", json!({"visitor": v.id, "content": txt("a3")}))
            .await,
        rt::ok()
    );
    let names = v.c.names();
    let last_since = names.iter().rposition(|n| n == "messages_since");
    let sends: Vec<Value> = {
        let mut all = vec![];
        for _ in 0..3 {
            all.push(v.c.next("staff_send").await);
        }
        all
    };
    assert_eq!(sends[2]["content"]["sequence_num"], 8);
    let names = v.c.names();
    let last_send = names.iter().rposition(|n| n == "staff_send");
    assert!(
        last_since < last_send,
        "live after messages_since: {names:?}"
    );
    // Everything, nothing, past the end.
    assert_eq!(v.c.emit("sync", sync(&chat, 0)).await, rt::ok());
    let all = got(&v.c.next("messages_since").await);
    assert_eq!(
        all.iter().map(|m| m.0).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<_>>()
    );
    for after in [8, 100] {
        assert_eq!(v.c.emit("sync", sync(&chat, after)).await, rt::ok());
        assert_eq!(got(&v.c.next("messages_since").await), vec![]);
    }
    // Who may: the serving agent and a supervisor.
    for p in [&a, &sup] {
        assert_eq!(p.c.emit("sync", sync(&chat, 7)).await, rt::ok());
        assert_eq!(
            got(&p.c.next("messages_since").await),
            vec![(8, "a3".into())]
        );
    }

    let frame_of = |ans: (bool, Option<String>), c: &Client| -> Answer {
        let code = (t == Transport::Ws)
            .then(|| {
                c.ack_frames()
                    .last()
                    .and_then(|f| f["code"].as_str().map(str::to_string))
            })
            .flatten();
        (ans.0, ans.1, code)
    };
    // Bad fields.
    for bad in [
        json!({}),
        json!({"chat_id": chat}),
        json!({"after_sequence_num": 0}),
        json!({"chat_id": chat, "after_sequence_num": -1}),
        json!({"chat_id": chat, "after_sequence_num": "3"}),
        json!({"chat_id": chat, "after_sequence_num": 1.5}),
        json!({"chat_id": 7, "after_sequence_num": 0}),
        json!("chat"),
    ] {
        let ans = v.c.emit("sync", bad.clone()).await;
        assert_refused(
            t,
            &frame_of(ans, &v.c),
            "invalid_field",
            &format!("{t:?} {bad}"),
        );
    }
    // Not theirs: an agent who does not serve the claimed chat; another visitor is not even
    // told that the chat exists.
    let ans = b.c.emit("sync", sync(&chat, 0)).await;
    assert_refused(
        t,
        &frame_of(ans, &b.c),
        "not_allowed",
        &format!("{t:?} agent not serving"),
    );
    let ans = w.c.emit("sync", sync(&chat, 0)).await;
    assert_refused(
        t,
        &frame_of(ans, &w.c),
        "chat_closed",
        &format!("{t:?} another visitor"),
    );
    // Not open: a chat that does not exist, a chat that ended.
    let ans = a.c.emit("sync", sync(&"0".repeat(32), 0)).await;
    assert_refused(
        t,
        &frame_of(ans, &a.c),
        "chat_closed",
        &format!("{t:?} no such chat"),
    );
    assert_eq!(v.c.emit("visitor_leave_room", Value::Null).await, rt::ok());
    for (c, who) in [
        (&v.c, "its visitor"),
        (&a.c, "its agent"),
        (&sup.c, "a supervisor"),
    ] {
        let ans = c.emit("sync", sync(&chat, 0)).await;
        assert_refused(
            t,
            &frame_of(ans, c),
            "chat_closed",
            &format!("{t:?} ended, {who}"),
        );
    }
    // No refusal sent anything.
    for c in [&v.c, &w.c, &a.c, &b.c, &sup.c] {
        c.none("messages_since").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_gives_what_came_after_the_last_number_seen_and_refuses_with_codes() {
    each(vec![resume(Transport::Ws), resume(Transport::SocketIo)]).await;
}

/// `--reconnect-grace 0`: a cut has the seed's disconnect effects at once, with no away.
async fn no_grace(t: Transport, side: Side) {
    let c = Chat::open(t, grace(0), "grace 0").await;
    let who = format!("{t:?} {side:?} grace 0");
    match side {
        Side::Visitor => {
            c.pv.cut();
            let off = c.a.next("visitor_goes_offline", S(3)).await;
            assert_eq!(off["visitor"]["id"], c.vid.as_str(), "{who}");
            c.a.next("visitor_leave_queue", S(3)).await;
            assert_eq!(c.a.count("visitor_away"), 0, "{who}");
        }
        Side::Agent => {
            c.pa.cut();
            let left = c.v.next("staff_leave", S(3)).await;
            assert_eq!(left["staff"]["id"], c.aid.as_str(), "{who}");
            assert_eq!(c.v.count("staff_away"), 0, "{who}");
        }
    }
    assert_eq!(
        chat_status(&c.s, &c.chat_id, &c.atoken).await,
        "ended",
        "{who}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_grace_a_cut_ends_the_chat_at_once_as_in_the_seed() {
    each(vec![
        no_grace(Transport::Ws, Side::Visitor),
        no_grace(Transport::Ws, Side::Agent),
        no_grace(Transport::SocketIo, Side::Visitor),
        no_grace(Transport::SocketIo, Side::Agent),
    ])
    .await;
}

/// A client message id is one message per sender and chat: a resend stores and delivers
/// nothing and is acked again; the same id from the other side is its own message; an id
/// outside 1–64 characters is refused.
async fn ids_per_sender(t: Transport) {
    let c = Chat::open(t, Options::default(), "ids").await;
    let who = format!("{t:?}");
    let ok = (true, None, None);
    let said = |s: &str| json!({ "visitor": c.vid, "content": txt(s) });
    for _ in 0..2 {
        let ans =
            c.v.call_with_id("visitor_msg", txt("once"), Some("same-id"))
                .await;
        assert_eq!(ans, ok, "{who}");
        let ans =
            c.a.call_with_id("staff_msg", said("agent once"), Some("same-id"))
                .await;
        assert_eq!(ans, ok, "{who}");
    }
    if t == Transport::SocketIo {
        // Socket.IO also takes it inside `data` for staff_msg.
        for _ in 0..2 {
            let mut data = said("agent in data");
            data["client_msg_id"] = json!("in-data");
            assert_eq!(c.a.call("staff_msg", data).await, ok, "{who}");
        }
    }
    for bad in [String::new(), "x".repeat(65)] {
        let ans =
            c.v.call_with_id("visitor_msg", txt("bad id"), Some(&bad))
                .await;
        assert_refused(
            t,
            &ans,
            "invalid_field",
            &format!("{who}: id of {}", bad.len()),
        );
    }
    assert_eq!(
        c.v.call_with_id("visitor_msg", txt("64"), Some(&"y".repeat(64)))
            .await,
        ok,
        "{who}"
    );
    let mut from_a = vec!["agent once".to_string()];
    if t == Transport::SocketIo {
        from_a.push("agent in data".into());
    }
    c.check_delivery(&["once".into(), "64".into()], &from_a)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_msg_id_is_one_message_per_sender() {
    each(vec![
        ids_per_sender(Transport::Ws),
        ids_per_sender(Transport::SocketIo),
    ])
    .await;
}
