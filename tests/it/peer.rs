//! A client that does what a good client does on a bad network (issue 12), on both transports:
//! it reconnects by itself (capped backoff, `force` on a reconnect, since its own old session is
//! dead), asks `sync {chat_id, after_sequence_num}` from the last number it saw for every chat
//! it follows, and keeps an ordered outbox of message events with client message ids that it
//! resends (same id) until each is acked — after a reconnect, and when an ack is late.
//!
//! It records everything for the checks: every event received (across connections), and per
//! followed chat the raw stream of message objects received live or in `messages_since`,
//! without removing duplicates (the server must send none).
//!
//! The wire is spoken by hand over tokio-tungstenite: `/ws` frames, and Socket.IO v5 over the
//! Engine.IO v4 websocket transport (`40`, `42[..]`, `43N[..]`, ping `2` / pong `3`), so that a
//! proxy can drop whole ack frames and a test can see every packet.

#![allow(dead_code)]

use crate::rt::Transport;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// An ack not seen after this is asked for again (same id).
pub const RESEND_AFTER: Duration = Duration::from_millis(1500);
/// Unacked message events on the wire at once.
const WINDOW: usize = 32;
/// A connection from which nothing (not even a ping) came for this long is dead. Longer than
/// the tests' 30 s blackholes: there the server's ping timeout is what must notice, and a
/// client giving up first would only add reconnect attempts held in the hole.
const SILENT_DEAD: Duration = Duration::from_secs(45);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_millis(1000);
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// What the reader hands up.
#[derive(Debug)]
pub enum In {
    Event(String, Value),
    Ack {
        id: u64,
        ok: bool,
        err: Option<String>,
        code: Option<String>,
    },
}

/// One live connection: frames out through a channel, `In`s out of `rx`; `rx` ends when the
/// connection does.
pub struct Conn {
    out: mpsc::UnboundedSender<Message>,
    t: Transport,
}

impl Conn {
    pub async fn open(
        addr: SocketAddr,
        t: Transport,
        token: &str,
        force: bool,
    ) -> Result<(Conn, mpsc::UnboundedReceiver<In>), String> {
        tokio::time::timeout(OPEN_TIMEOUT, Conn::open_inner(addr, t, token, force))
            .await
            .map_err(|_| "open timed out".to_string())?
    }

    async fn open_inner(
        addr: SocketAddr,
        t: Transport,
        token: &str,
        force: bool,
    ) -> Result<(Conn, mpsc::UnboundedReceiver<In>), String> {
        let url = match (t, force) {
            (Transport::Ws, false) => format!("ws://{addr}/ws"),
            (Transport::Ws, true) => format!("ws://{addr}/ws?force=1"),
            (Transport::SocketIo, _) => {
                format!("ws://{addr}/socket.io/?EIO=4&transport=websocket")
            }
        };
        let mut req = url.into_client_request().map_err(|e| e.to_string())?;
        req.headers_mut().insert(
            "Authorization",
            token.parse().map_err(|_| "token is not a header value")?,
        );
        let (socket, _) = tokio_tungstenite::connect_async(req)
            .await
            .map_err(|e| e.to_string())?;
        let (mut sink, mut stream) = socket.split();
        if t == Transport::SocketIo {
            // Engine.IO open packet, then the Socket.IO CONNECT and its answer.
            match stream.next().await {
                Some(Ok(Message::Text(open))) if open.starts_with('0') => {}
                other => return Err(format!("no Engine.IO open packet: {other:?}")),
            }
            let connect = if force { r#"40{"force":true}"# } else { "40" };
            sink.send(Message::text(connect))
                .await
                .map_err(|e| e.to_string())?;
            loop {
                match stream.next().await {
                    Some(Ok(Message::Text(p))) if p.starts_with("40") => break,
                    Some(Ok(Message::Text(p))) if p.as_str() == "2" => {
                        sink.send(Message::text("3"))
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                    other => return Err(format!("CONNECT not answered: {other:?}")),
                }
            }
        }
        let (out, mut out_rx) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(msg) = out_rx.recv().await {
                let close = msg.is_close();
                if sink.send(msg).await.is_err() || close {
                    break;
                }
            }
            let _ = sink.close().await;
        });
        let (in_tx, in_rx) = mpsc::unbounded_channel();
        let pong = out.clone();
        tokio::spawn(async move {
            loop {
                let msg = match tokio::time::timeout(SILENT_DEAD, stream.next()).await {
                    Ok(Some(Ok(m))) => m,
                    _ => break,
                };
                let text = match msg {
                    Message::Text(t) => t,
                    Message::Close(_) => break,
                    _ => {
                        // A ping or pong still says the link is alive.
                        continue;
                    }
                };
                let parsed = match t {
                    Transport::Ws => decode_ws(&text),
                    Transport::SocketIo => {
                        if text.as_str() == "2" {
                            let _ = pong.send(Message::text("3"));
                            continue;
                        }
                        if text.as_str() == "1" || text.starts_with("41") {
                            break;
                        }
                        decode_sio(&text)
                    }
                };
                if let Some(i) = parsed {
                    if in_tx.send(i).is_err() {
                        break;
                    }
                }
            }
            // Dropping `pong` (and the Conn's `out`) ends the writer.
        });
        Ok((Conn { out, t }, in_rx))
    }

    /// Sends an event asking for ack `id`; `cmid` as the transport carries it.
    pub fn emit(&self, id: u64, event: &str, data: &Value, cmid: Option<&str>) -> bool {
        let frame = match self.t {
            Transport::Ws => {
                let mut f = json!({"event": event, "data": data, "id": id});
                if let Some(c) = cmid {
                    f["client_msg_id"] = json!(c);
                }
                f.to_string()
            }
            Transport::SocketIo => {
                let mut args = vec![json!(event)];
                if !data.is_null() || cmid.is_some() {
                    args.push(data.clone());
                }
                if let Some(c) = cmid {
                    args.push(json!({ "client_msg_id": c }));
                }
                format!("42{id}{}", Value::Array(args))
            }
        };
        self.out.send(Message::text(frame)).is_ok()
    }

    pub fn close(&self) {
        let _ = self.out.send(Message::Close(None));
    }
}

fn decode_ws(text: &str) -> Option<In> {
    let v: Value = serde_json::from_str(text).ok()?;
    if let Some(id) = v.get("ack").and_then(Value::as_u64) {
        return Some(In::Ack {
            id,
            ok: v["result"].as_bool().unwrap_or(false),
            err: v["error_message"].as_str().map(str::to_string),
            code: v["code"].as_str().map(str::to_string),
        });
    }
    let name = v["event"].as_str()?.to_string();
    Some(In::Event(name, v["data"].clone()))
}

fn decode_sio(text: &str) -> Option<In> {
    if let Some(rest) = text.strip_prefix("42") {
        let v: Value = serde_json::from_str(rest).ok()?;
        let name = v.get(0)?.as_str()?.to_string();
        return Some(In::Event(name, v.get(1).cloned().unwrap_or(Value::Null)));
    }
    let rest = text.strip_prefix("43")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = rest[..digits].parse().ok()?;
    let v: Value = serde_json::from_str(&rest[digits..]).ok()?;
    Some(In::Ack {
        id,
        ok: v.get(0).and_then(Value::as_bool).unwrap_or(false),
        err: v.get(1).and_then(Value::as_str).map(str::to_string),
        code: None,
    })
}

/// An ack as the tests read it: `(result, error_message, code)` (code on `/ws` only).
pub type Answer = (bool, Option<String>, Option<String>);

struct Pending {
    cmid: String,
    event: String,
    data: Value,
    /// When it went out on the current connection (None: not yet on this one).
    sent_at: Option<Instant>,
}

enum Purpose {
    Msg(String),
    Sync(String),
    Call(oneshot::Sender<Answer>),
}

/// One message object as received.
#[derive(Clone, Debug)]
pub struct Got {
    /// The connection it came on (1, 2, …).
    pub conn: u64,
    /// `Some(n)`: inside the n-th `messages_since` of this peer; `None`: a live event.
    pub since: Option<usize>,
    pub msg: Value,
}

#[derive(Default)]
pub struct ChatView {
    pub last_seq: i64,
    /// Every message object of this chat received, in arrival order, duplicates kept.
    pub stream: Vec<Got>,
}

#[derive(Default)]
struct State {
    conn: Option<Arc<Conn>>,
    /// Bumped per connection.
    generation: u64,
    connects: usize,
    events: Vec<(String, Value, bool)>,
    chats: HashMap<String, ChatView>,
    outbox: VecDeque<Pending>,
    purposes: HashMap<u64, Purpose>,
    /// Acks received per client message id (≥ 1 once acked; more when a resend was acked).
    acked: HashMap<String, usize>,
    refused: Vec<(String, Answer)>,
    sync_answers: Vec<(String, Answer)>,
    resends: usize,
    /// `messages_since` events received.
    sinces: usize,
    /// Connection attempts that failed, and the last one's reason.
    failed_opens: usize,
    last_error: Option<String>,
}

struct Shared {
    name: String,
    t: Transport,
    addr: SocketAddr,
    token: String,
    st: Mutex<State>,
    notify: Notify,
    next_id: AtomicU64,
    stop: AtomicBool,
    stop_now: Notify,
}

pub struct Peer {
    sh: Arc<Shared>,
    driver: tokio::task::JoinHandle<()>,
    pub t: Transport,
}

/// Events whose payload carries message objects the peer follows.
fn messages_in(name: &str, data: &Value) -> Vec<Value> {
    match name {
        "staff_send" | "visitor_send" | "visitor_unclaimed_msg" => vec![data["content"].clone()],
        "messages_since" => data["messages"].as_array().cloned().unwrap_or_default(),
        _ => vec![],
    }
}

impl Peer {
    /// Connects (through `addr`, e.g. a proxy) and waits for the first `*_init`.
    pub async fn start(name: &str, t: Transport, addr: SocketAddr, token: &str) -> Peer {
        let sh = Arc::new(Shared {
            name: name.to_string(),
            t,
            addr,
            token: token.to_string(),
            st: Mutex::new(State::default()),
            notify: Notify::new(),
            next_id: AtomicU64::new(1),
            stop: AtomicBool::new(false),
            stop_now: Notify::new(),
        });
        let driver = tokio::spawn(drive(sh.clone()));
        let p = Peer { sh, driver, t };
        p.wait_until(Duration::from_secs(10), "first connection", |s| {
            s.events
                .iter()
                .any(|e| e.0 == "visitor_init" || e.0 == "staff_init")
        })
        .await;
        p
    }

    pub fn name(&self) -> &str {
        &self.sh.name
    }

    /// Follows a chat from sequence number `after` on: its messages are recorded, and every
    /// reconnect asks `sync` from the last one seen.
    pub fn follow(&self, chat_id: &str, after: i64) {
        let mut st = self.sh.st.lock().unwrap();
        let v = st.chats.entry(chat_id.to_string()).or_default();
        v.last_seq = v.last_seq.max(after);
    }

    /// Queues a message event with a new client message id; returns the id.
    pub fn send(&self, event: &str, data: Value) -> String {
        let cmid = format!(
            "{}-{}",
            self.sh.name,
            self.sh.next_id.fetch_add(1, Ordering::SeqCst)
        );
        self.send_with_id(event, data, &cmid);
        cmid
    }

    /// Queues a message event with this client message id (a test may reuse one on purpose).
    pub fn send_with_id(&self, event: &str, data: Value, cmid: &str) {
        let cmid = cmid.to_string();
        let mut st = self.sh.st.lock().unwrap();
        st.outbox.push_back(Pending {
            cmid: cmid.clone(),
            event: event.to_string(),
            data,
            sent_at: None,
        });
        pump(&self.sh, &mut st);
    }

    /// Emits a one-off event on the current connection and waits for its ack.
    pub async fn call(&self, event: &str, data: Value) -> Answer {
        self.call_with_id(event, data, None).await
    }

    /// `call` with a client message id, outside the outbox (nothing is resent).
    pub async fn call_with_id(&self, event: &str, data: Value, cmid: Option<&str>) -> Answer {
        let (tx, rx) = oneshot::channel();
        {
            let mut st = self.sh.st.lock().unwrap();
            let conn = st.conn.clone().expect("connected");
            let id = self.sh.next_id.fetch_add(1, Ordering::SeqCst);
            st.purposes.insert(id, Purpose::Call(tx));
            conn.emit(id, event, &data, cmid);
        }
        tokio::time::timeout(Duration::from_secs(10), rx)
            .await
            .unwrap_or_else(|_| panic!("{}: no ack for {event}", self.sh.name))
            .expect("ack")
    }

    async fn wait_until(&self, within: Duration, what: &str, cond: impl Fn(&State) -> bool) {
        let deadline = Instant::now() + within;
        loop {
            let notified = self.sh.notify.notified();
            if cond(&self.sh.st.lock().unwrap()) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let st = self.sh.st.lock().unwrap();
                panic!(
                    "{}: {what} not within {within:?}; events {:?}, outbox {}, connects {}, \
                     {} failed attempts (last: {:?})",
                    self.sh.name,
                    st.events.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
                    st.outbox.len(),
                    st.connects,
                    st.failed_opens,
                    st.last_error
                );
            }
        }
    }

    /// Waits until every queued message event was acked.
    pub async fn all_acked(&self, within: Duration) {
        self.wait_until(within, "all acked", |s| s.outbox.is_empty())
            .await;
    }

    /// Waits for the next not yet taken event `name` (across connections) and takes it.
    pub async fn next(&self, name: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let notified = self.sh.notify.notified();
            {
                let mut st = self.sh.st.lock().unwrap();
                if let Some(e) = st.events.iter_mut().find(|e| e.0 == name && !e.2) {
                    e.2 = true;
                    return e.1.clone();
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "{}: no `{name}` within {within:?}; got {:?}",
                    self.sh.name,
                    self.names()
                );
            }
        }
    }

    pub fn names(&self) -> Vec<String> {
        let st = self.sh.st.lock().unwrap();
        st.events.iter().map(|e| e.0.clone()).collect()
    }

    pub fn count(&self, name: &str) -> usize {
        let st = self.sh.st.lock().unwrap();
        st.events.iter().filter(|e| e.0 == name).count()
    }

    /// Every event `name` received so far, in order.
    pub fn all(&self, name: &str) -> Vec<Value> {
        let st = self.sh.st.lock().unwrap();
        st.events
            .iter()
            .filter(|e| e.0 == name)
            .map(|e| e.1.clone())
            .collect()
    }

    pub fn connects(&self) -> usize {
        self.sh.st.lock().unwrap().connects
    }

    pub async fn wait_connects(&self, n: usize, within: Duration) {
        self.wait_until(within, &format!("{n} connections"), |s| s.connects >= n)
            .await;
    }

    pub fn connected(&self) -> bool {
        self.sh.st.lock().unwrap().conn.is_some()
    }

    /// Message objects of a followed chat, as received (duplicates kept), with where each
    /// came from.
    pub fn stream(&self, chat_id: &str) -> Vec<Got> {
        let st = self.sh.st.lock().unwrap();
        st.chats
            .get(chat_id)
            .map(|c| c.stream.clone())
            .unwrap_or_default()
    }

    /// Waits until the stream of `chat_id` holds a message with each of these texts.
    pub async fn wait_texts(&self, chat_id: &str, texts: &[String], within: Duration) {
        let chat = chat_id.to_string();
        self.wait_until(within, &format!("messages {texts:?}"), |s| {
            let got: Vec<&str> = s
                .chats
                .get(&chat)
                .map(|c| c.stream.iter().filter_map(|g| text_of(&g.msg)).collect())
                .unwrap_or_default();
            texts.iter().all(|t| got.contains(&t.as_str()))
        })
        .await;
    }

    pub fn acked(&self, cmid: &str) -> usize {
        self.sh
            .st
            .lock()
            .unwrap()
            .acked
            .get(cmid)
            .copied()
            .unwrap_or(0)
    }

    /// Message events not yet acked.
    pub fn unacked(&self) -> usize {
        self.sh.st.lock().unwrap().outbox.len()
    }

    /// Waits until `n` of this peer's own `sync`s were answered.
    pub async fn wait_syncs(&self, n: usize, within: Duration) {
        self.wait_until(within, &format!("{n} sync answers"), |s| {
            s.sync_answers.len() >= n
        })
        .await;
    }

    pub fn resends(&self) -> usize {
        self.sh.st.lock().unwrap().resends
    }

    /// Message events the server refused (with the answer): a correct run has none.
    pub fn refused(&self) -> Vec<(String, Answer)> {
        self.sh.st.lock().unwrap().refused.clone()
    }

    /// The answers to this peer's own `sync`s, per chat, in order.
    pub fn sync_answers(&self) -> Vec<(String, Answer)> {
        self.sh.st.lock().unwrap().sync_answers.clone()
    }

    /// Closes the connection; the peer reconnects by itself.
    pub fn drop_connection(&self) {
        if let Some(c) = self.sh.st.lock().unwrap().conn.clone() {
            c.close();
        }
    }

    pub async fn stop(&mut self) {
        self.sh.stop.store(true, Ordering::SeqCst);
        self.sh.stop_now.notify_waiters();
        let conn = self.sh.st.lock().unwrap().conn.take();
        if let Some(c) = conn {
            c.close();
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.driver).await;
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.sh.stop.store(true, Ordering::SeqCst);
        self.driver.abort();
    }
}

/// The text of a message whose content is `{"content": text, …}`.
pub fn text_of(m: &Value) -> Option<&str> {
    m["content"]["content"].as_str()
}

/// Puts unsent outbox entries on the wire, in order, up to the window.
fn pump(sh: &Shared, st: &mut State) {
    let Some(conn) = st.conn.clone() else { return };
    let inflight = st.outbox.iter().filter(|p| p.sent_at.is_some()).count();
    let mut room = WINDOW.saturating_sub(inflight);
    let now = Instant::now();
    let mut sent = vec![];
    for p in st.outbox.iter_mut() {
        if room == 0 {
            break;
        }
        if p.sent_at.is_none() {
            let id = sh.next_id.fetch_add(1, Ordering::SeqCst);
            conn.emit(id, &p.event, &p.data, Some(&p.cmid));
            p.sent_at = Some(now);
            sent.push((id, p.cmid.clone()));
            room -= 1;
        }
    }
    for (id, cmid) in sent {
        st.purposes.insert(id, Purpose::Msg(cmid));
    }
}

/// Resends (same id) whatever waited too long for its ack on this connection.
fn resend_late(sh: &Shared, st: &mut State) {
    let Some(conn) = st.conn.clone() else { return };
    let now = Instant::now();
    let mut sent = vec![];
    for p in st.outbox.iter_mut() {
        if p.sent_at
            .is_some_and(|at| now.duration_since(at) >= RESEND_AFTER)
        {
            let id = sh.next_id.fetch_add(1, Ordering::SeqCst);
            conn.emit(id, &p.event, &p.data, Some(&p.cmid));
            p.sent_at = Some(now);
            sent.push((id, p.cmid.clone()));
        }
    }
    st.resends += sent.len();
    for (id, cmid) in sent {
        st.purposes.insert(id, Purpose::Msg(cmid));
    }
}

fn on_in(sh: &Shared, st: &mut State, i: In) {
    match i {
        In::Event(name, data) => {
            let since = (name == "messages_since").then(|| {
                st.sinces += 1;
                st.sinces
            });
            let conn = st.generation;
            for m in messages_in(&name, &data) {
                let Some(chat) = m["chat_id"].as_str() else {
                    continue;
                };
                if let Some(v) = st.chats.get_mut(chat) {
                    v.last_seq = v.last_seq.max(m["sequence_num"].as_i64().unwrap_or(0));
                    v.stream.push(Got {
                        conn,
                        since,
                        msg: m.clone(),
                    });
                }
            }
            st.events.push((name, data, false));
        }
        In::Ack { id, ok, err, code } => match st.purposes.remove(&id) {
            Some(Purpose::Msg(cmid)) => {
                let pos = st.outbox.iter().position(|p| p.cmid == cmid);
                *st.acked.entry(cmid.clone()).or_default() += 1;
                if ok {
                    if let Some(i) = pos {
                        st.outbox.remove(i);
                    }
                } else if let Some(i) = pos {
                    // A refusal is final: recorded for the test, not retried.
                    st.outbox.remove(i);
                    st.refused.push((cmid, (ok, err, code)));
                }
                pump(sh, st);
            }
            Some(Purpose::Sync(chat)) => st.sync_answers.push((chat, (ok, err, code))),
            Some(Purpose::Call(tx)) => {
                let _ = tx.send((ok, err, code));
            }
            None => {}
        },
    }
}

async fn drive(sh: Arc<Shared>) {
    let mut backoff = BACKOFF_MIN;
    while !sh.stop.load(Ordering::SeqCst) {
        let force = sh.st.lock().unwrap().connects > 0;
        let (conn, mut rx) = match Conn::open(sh.addr, sh.t, &sh.token, force).await {
            Ok(x) => x,
            Err(e) => {
                {
                    let mut st = sh.st.lock().unwrap();
                    st.failed_opens += 1;
                    st.last_error = Some(e);
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        backoff = BACKOFF_MIN;
        {
            let mut st = sh.st.lock().unwrap();
            let conn = Arc::new(conn);
            st.conn = Some(conn.clone());
            st.generation += 1;
            st.connects += 1;
            st.purposes.retain(|_, p| matches!(p, Purpose::Call(_)));
            // Resume: every followed chat from the last number seen, then the outbox in order.
            let mut chats: Vec<(String, i64)> = st
                .chats
                .iter()
                .map(|(id, v)| (id.clone(), v.last_seq))
                .collect();
            chats.sort();
            if st.connects > 1 {
                for (chat, after) in chats {
                    let id = sh.next_id.fetch_add(1, Ordering::SeqCst);
                    conn.emit(
                        id,
                        "sync",
                        &json!({"chat_id": chat, "after_sequence_num": after}),
                        None,
                    );
                    st.purposes.insert(id, Purpose::Sync(chat));
                }
            }
            for p in st.outbox.iter_mut() {
                p.sent_at = None;
            }
            pump(&sh, &mut st);
        }
        sh.notify.notify_waiters();
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                i = rx.recv() => match i {
                    Some(i) => {
                        on_in(&sh, &mut sh.st.lock().unwrap(), i);
                        sh.notify.notify_waiters();
                    }
                    None => break,
                },
                _ = tick.tick() => resend_late(&sh, &mut sh.st.lock().unwrap()),
                () = sh.stop_now.notified() => break,
            }
        }
        {
            let mut st = sh.st.lock().unwrap();
            if let Some(c) = st.conn.take() {
                c.close();
            }
        }
        sh.notify.notify_waiters();
    }
}
