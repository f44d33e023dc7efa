//! SIGKILL under acked load (issue 10, "Proof at scale"; product.md §7: `kill -9` at any moment
//! loses no acked message). Visitors and staff send over `/ws`, one message in flight each,
//! every content carrying a unique id; the server is SIGKILLed 20 times at random moments and
//! restarted on the same data directory and port; the clients reconnect and keep sending. At
//! the end the SQLite file is read directly: every acked content id is there exactly once, and
//! no content id is there twice.

use crate::harness::{Options, Server};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const KILLS: usize = 20;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/ws` with the token in the header and `force` (the old session may still be known).
async fn open(addr: SocketAddr, token: &str) -> Option<Ws> {
    let mut req = format!("ws://{addr}/ws?force=1")
        .into_client_request()
        .ok()?;
    req.headers_mut()
        .insert("Authorization", token.parse().ok()?);
    let conn = tokio_tungstenite::connect_async(req);
    match tokio::time::timeout(Duration::from_secs(2), conn).await {
        Ok(Ok((ws, _))) => Some(ws),
        _ => None,
    }
}

/// Sends one event and waits for its ack: `Some(result)`, or `None` if the connection died.
async fn emit(ws: &mut Ws, id: u64, event: &str, data: Value) -> Option<bool> {
    let frame = json!({"event": event, "data": data, "id": id}).to_string();
    ws.send(Message::text(frame)).await.ok()?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .ok()??
            .ok()?;
        let Message::Text(text) = msg else {
            if msg.is_close() {
                return None;
            }
            continue;
        };
        let v: Value = serde_json::from_str(&text).ok()?;
        if v["ack"].as_u64() == Some(id) {
            return v["result"].as_bool();
        }
    }
}

struct Totals {
    acked: Mutex<Vec<String>>,
    sent: AtomicU64,
    reconnects: AtomicU64,
}

/// One client: visitor (writes into its chat) or staff (claims its visitors' chats and writes
/// into them). Reconnects whenever the connection dies, until `stop`.
async fn client(
    addr: SocketAddr,
    name: String,
    token: String,
    serves: Vec<String>,
    stop: Arc<AtomicBool>,
    totals: Arc<Totals>,
) {
    let mut n = 0u64;
    let end = Instant::now() + Duration::from_secs(120);
    while !stop.load(Ordering::SeqCst) && Instant::now() < end {
        let Some(mut ws) = open(addr, &token).await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        totals.reconnects.fetch_add(1, Ordering::SeqCst);
        while !stop.load(Ordering::SeqCst) {
            n += 1;
            let cid = format!("{name}-{n}");
            let content = json!({"content": "crash test", "cid": cid});
            let acked = if serves.is_empty() {
                emit(&mut ws, n, "visitor_msg", content).await
            } else {
                let vid = &serves[n as usize % serves.len()];
                // Claim (refused if already ours or someone else's: fine), then write.
                n += 1;
                if emit(&mut ws, n, "staff_join", json!({ "visitor": vid }))
                    .await
                    .is_none()
                {
                    break;
                }
                emit(
                    &mut ws,
                    n + 1_000_000_000,
                    "staff_msg",
                    json!({"visitor": vid, "content": content}),
                )
                .await
            };
            totals.sent.fetch_add(1, Ordering::SeqCst);
            match acked {
                Some(true) => totals.acked.lock().unwrap().push(cid),
                Some(false) => {}
                None => break,
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_twenty_times_under_load_loses_no_acked_message() {
    let started = Instant::now();
    let mut s = Server::start_with(Options {
        config: Some("max_events_per_sec = 100000\n".into()),
        ..Default::default()
    });
    let mut visitors = vec![];
    for i in 0..4 {
        visitors.push(s.visitor(Some(&format!("Crash {i}"))).await);
    }
    let staff = [
        s.staff("crash1@shop.test", "agent").await.1,
        s.staff("crash2@shop.test", "supervisor").await.1,
    ];
    let stop = Arc::new(AtomicBool::new(false));
    let totals = Arc::new(Totals {
        acked: Mutex::new(vec![]),
        sent: AtomicU64::new(0),
        reconnects: AtomicU64::new(0),
    });
    let mut tasks = vec![];
    for (i, (_, token)) in visitors.iter().enumerate() {
        tasks.push(tokio::spawn(client(
            s.addr,
            format!("v{i}"),
            token.clone(),
            vec![],
            stop.clone(),
            totals.clone(),
        )));
    }
    for (i, token) in staff.iter().enumerate() {
        let serves = visitors[i * 2..i * 2 + 2]
            .iter()
            .map(|(id, _)| id.clone())
            .collect();
        tasks.push(tokio::spawn(client(
            s.addr,
            format!("s{i}"),
            token.clone(),
            serves,
            stop.clone(),
            totals.clone(),
        )));
    }
    let mut acked_at_kill = vec![];
    for _ in 0..KILLS {
        // A random moment: somewhere in 0.15-0.6 s of traffic.
        let wait = rand::random_range(150..600);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        s.kill9();
        acked_at_kill.push(totals.acked.lock().unwrap().len());
        tokio::task::block_in_place(|| s.restart());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(15), t)
            .await
            .expect("client stops")
            .expect("client task");
    }
    s.kill9();

    let acked = totals.acked.lock().unwrap().clone();
    let db = rusqlite::Connection::open(s.data.join("frontdesk.db")).expect("open database");
    let mut stmt = db
        .prepare("SELECT content FROM messages WHERE type_id = 1")
        .unwrap();
    let mut stored: HashMap<String, usize> = HashMap::new();
    let rows = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap);
    for content in rows {
        let v: Value = serde_json::from_str(&content).expect("stored content is JSON");
        if let Some(cid) = v["cid"].as_str() {
            *stored.entry(cid.to_string()).or_default() += 1;
        }
    }
    let missing: Vec<&String> = acked.iter().filter(|c| !stored.contains_key(*c)).collect();
    let twice: Vec<(&String, &usize)> = stored.iter().filter(|(_, n)| **n > 1).collect();
    eprintln!(
        "crash_kill: {KILLS} kills, {} sent, {} acked, {} stored, {} connections, {:.1} s; \
         acked at each kill: {acked_at_kill:?}",
        totals.sent.load(Ordering::SeqCst),
        acked.len(),
        stored.len(),
        totals.reconnects.load(Ordering::SeqCst),
        started.elapsed().as_secs_f64()
    );
    assert!(missing.is_empty(), "acked but lost: {missing:?}");
    assert!(twice.is_empty(), "stored twice: {twice:?}");
    // The load was real: messages were acked between the kills, not only before the first.
    assert!(acked.len() > 200, "too little load: {}", acked.len());
    let progressed = acked_at_kill.windows(2).filter(|w| w[1] > w[0]).count();
    assert!(
        progressed >= KILLS / 2,
        "acks between kills: {acked_at_kill:?}"
    );
}
