//! Real-time clients for tests: a real Socket.IO client (rust_socketio) and a raw `/ws` client
//! (tokio-tungstenite), behind one interface that records every event received.

#![allow(dead_code)]

use crate::harness::Server;
use futures_util::{FutureExt, SinkExt, StreamExt};
use rust_socketio::asynchronous::{Client as SioClient, ClientBuilder};
use rust_socketio::{Event, Payload};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_tungstenite::tungstenite::Message;

pub const WAIT: Duration = Duration::from_secs(10);
/// How long a negative check waits for an event that must not come.
pub const SETTLE: Duration = Duration::from_millis(300);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Transport {
    SocketIo,
    Ws,
}

type Ack = (bool, Option<String>);

#[derive(Default)]
struct Inbox {
    events: Mutex<Vec<(String, Value, bool)>>,
    /// `/ws`: every ack frame as received (with its `code`), in order.
    ack_frames: Mutex<Vec<Value>>,
    notify: Notify,
    closed: AtomicBool,
}

impl Inbox {
    fn push(&self, name: String, data: Value) {
        self.events.lock().unwrap().push((name, data, false));
        self.notify.notify_waiters();
    }
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }
}

enum Inner {
    Sio(SioClient),
    Ws {
        out: mpsc::UnboundedSender<Message>,
        next_id: AtomicU64,
        pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Ack>>>>,
    },
}

pub struct Client {
    inner: Inner,
    inbox: Arc<Inbox>,
    pub name: String,
}

/// Why a connection did not open.
#[derive(Debug)]
pub enum Refused {
    /// HTTP status of the refused handshake.
    Http(u16),
    /// Socket.IO CONNECT_ERROR (or the transport failed) with this text.
    Connect(String),
}

impl Client {
    pub async fn connect(s: &Server, t: Transport, token: &str) -> Client {
        Client::open(s, t, Some(token), false, true)
            .await
            .unwrap_or_else(|e| panic!("connect refused: {e:?}"))
    }

    pub async fn connect_force(s: &Server, t: Transport, token: &str) -> Client {
        Client::open(s, t, Some(token), true, true)
            .await
            .expect("connect")
    }

    /// `header`: token in the Authorization header (else in the CONNECT auth / `?token=`).
    pub async fn open(
        s: &Server,
        t: Transport,
        token: Option<&str>,
        force: bool,
        header: bool,
    ) -> Result<Client, Refused> {
        match t {
            Transport::SocketIo => Client::open_sio(s, token, force, header).await,
            Transport::Ws => Client::open_ws(s, token, force, header).await,
        }
    }

    async fn open_sio(
        s: &Server,
        token: Option<&str>,
        force: bool,
        header: bool,
    ) -> Result<Client, Refused> {
        let inbox = Arc::new(Inbox::default());
        let (conn_tx, conn_rx) = oneshot::channel::<Result<(), String>>();
        let conn_tx = Arc::new(Mutex::new(Some(conn_tx)));
        let ib = inbox.clone();
        let (c1, c2) = (conn_tx.clone(), conn_tx.clone());
        let ib_close = inbox.clone();
        let mut b = ClientBuilder::new(s.url("/"))
            .reconnect(false)
            .on_any(move |ev: Event, payload: Payload, _c: SioClient| {
                let ib = ib.clone();
                async move {
                    let first = match payload {
                        Payload::Text(mut v) if !v.is_empty() => v.remove(0),
                        _ => Value::Null,
                    };
                    match ev {
                        Event::Custom(name) => ib.push(name, first),
                        other => ib.push(other.as_str().to_string(), first),
                    }
                }
                .boxed()
            })
            .on(Event::Connect, move |_p: Payload, _c: SioClient| {
                let c1 = c1.clone();
                async move {
                    if let Some(tx) = c1.lock().unwrap().take() {
                        let _ = tx.send(Ok(()));
                    }
                }
                .boxed()
            })
            .on(Event::Error, move |p: Payload, _c: SioClient| {
                let c2 = c2.clone();
                async move {
                    if let Some(tx) = c2.lock().unwrap().take() {
                        let _ = tx.send(Err(format!("{p:?}")));
                    }
                }
                .boxed()
            })
            .on(Event::Close, move |_p: Payload, _c: SioClient| {
                let ib = ib_close.clone();
                async move { ib.close() }.boxed()
            });
        if let Some(t) = token {
            if header {
                b = b.opening_header("Authorization", t.to_string());
                if force {
                    b = b.auth(json!({ "force": true }));
                }
            } else {
                b = b.auth(json!({ "token": t, "force": force }));
            }
        }
        let client = match b.connect().await {
            Ok(c) => c,
            Err(e) => {
                let text = format!("{e:?}");
                if text.contains("401") {
                    return Err(Refused::Http(401));
                }
                return Err(Refused::Connect(text));
            }
        };
        match tokio::time::timeout(WAIT, conn_rx).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => return Err(Refused::Connect(e)),
            _ => return Err(Refused::Connect("no CONNECT answer".into())),
        }
        Ok(Client {
            inner: Inner::Sio(client),
            inbox,
            name: String::new(),
        })
    }

    async fn open_ws(
        s: &Server,
        token: Option<&str>,
        force: bool,
        header: bool,
    ) -> Result<Client, Refused> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut url = format!("ws://{}/ws", s.addr);
        let mut params = vec![];
        if let (Some(t), false) = (token, header) {
            params.push(format!("token={t}"));
        }
        if force {
            params.push("force=1".into());
        }
        if !params.is_empty() {
            url = format!("{url}?{}", params.join("&"));
        }
        let mut req = url.into_client_request().unwrap();
        if let (Some(t), true) = (token, header) {
            req.headers_mut()
                .insert("Authorization", t.parse().unwrap());
        }
        let (socket, _) = match tokio_tungstenite::connect_async(req).await {
            Ok(x) => x,
            Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
                return Err(Refused::Http(r.status().as_u16()))
            }
            Err(e) => return Err(Refused::Connect(e.to_string())),
        };
        let (mut sink, mut stream) = socket.split();
        let inbox = Arc::new(Inbox::default());
        let pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Ack>>>> = Arc::default();
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
        let (ib, p) = (inbox.clone(), pending.clone());
        tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                let Ok(text) = msg.to_text() else { continue };
                let Ok(v) = serde_json::from_str::<Value>(text) else {
                    continue;
                };
                if v.get("ack").is_some() {
                    ib.ack_frames.lock().unwrap().push(v.clone());
                    let ack = (
                        v["result"].as_bool().unwrap_or(false),
                        v["error_message"].as_str().map(str::to_string),
                    );
                    match v["ack"]
                        .as_u64()
                        .and_then(|id| p.lock().unwrap().remove(&id))
                    {
                        Some(tx) => {
                            let _ = tx.send(ack);
                        }
                        None => ib.push("__ack__".into(), v.clone()),
                    }
                } else if let Some(name) = v["event"].as_str() {
                    ib.push(name.to_string(), v["data"].clone());
                }
            }
            ib.close();
        });
        Ok(Client {
            inner: Inner::Ws {
                out,
                next_id: AtomicU64::new(1),
                pending,
            },
            inbox,
            name: String::new(),
        })
    }

    /// Emits an event and waits for its ack `(result, error_message)`.
    pub async fn emit(&self, event: &str, data: Value) -> Ack {
        self.emit_with_id(event, data, None).await
    }

    /// Emits a message event with a client message id (product.md §8.11): on `/ws` the
    /// frame's `client_msg_id`, on Socket.IO a second argument `{client_msg_id}`.
    pub async fn emit_with_id(&self, event: &str, data: Value, client_msg_id: Option<&str>) -> Ack {
        match &self.inner {
            Inner::Sio(c) => {
                let (tx, rx) = oneshot::channel::<Ack>();
                let tx = Arc::new(Mutex::new(Some(tx)));
                let payload = match (data.is_null(), client_msg_id) {
                    (true, None) => Payload::Text(vec![]),
                    (false, None) => Payload::Text(vec![data]),
                    (_, Some(id)) => Payload::Text(vec![data, json!({ "client_msg_id": id })]),
                };
                c.emit_with_ack(event, payload, WAIT, move |p: Payload, _c: SioClient| {
                    let tx = tx.clone();
                    async move {
                        // A two-argument ack arrives as one array: [result, error].
                        let v = match p {
                            Payload::Text(v) => v,
                            _ => vec![],
                        };
                        let arr = match v.as_slice() {
                            [Value::Array(a)] => a.clone(),
                            other => other.to_vec(),
                        };
                        let ack = (
                            arr.first().and_then(Value::as_bool).unwrap_or(false),
                            arr.get(1).and_then(Value::as_str).map(str::to_string),
                        );
                        if let Some(tx) = tx.lock().unwrap().take() {
                            let _ = tx.send(ack);
                        }
                    }
                    .boxed()
                })
                .await
                .expect("emit");
                tokio::time::timeout(WAIT, rx)
                    .await
                    .expect("ack in time")
                    .expect("ack")
            }
            Inner::Ws {
                out,
                next_id,
                pending,
            } => {
                let id = next_id.fetch_add(1, Ordering::SeqCst);
                let (tx, rx) = oneshot::channel();
                pending.lock().unwrap().insert(id, tx);
                let mut frame = json!({"event": event, "data": data, "id": id});
                if let Some(cid) = client_msg_id {
                    frame["client_msg_id"] = json!(cid);
                }
                let frame = frame.to_string();
                out.send(Message::text(frame)).expect("send");
                tokio::time::timeout(WAIT, rx)
                    .await
                    .expect("ack in time")
                    .expect("ack")
            }
        }
    }

    /// `/ws` only: emits an event and returns its whole ack frame
    /// (`{ack, result, error_message, code?}`).
    pub async fn emit_frame(&self, event: &str, data: Value) -> Value {
        assert!(
            matches!(self.inner, Inner::Ws { .. }),
            "emit_frame is for /ws"
        );
        let (ok, _) = self.emit(event, data).await;
        let frame = self
            .inbox
            .ack_frames
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("an ack frame");
        assert_eq!(frame["result"], ok);
        frame
    }

    /// `/ws` only: the ack frames received so far.
    pub fn ack_frames(&self) -> Vec<Value> {
        self.inbox.ack_frames.lock().unwrap().clone()
    }

    /// `/ws` only: sends a text frame as is.
    pub fn send_raw(&self, text: &str) {
        match &self.inner {
            Inner::Ws { out, .. } => out.send(Message::text(text.to_string())).expect("send"),
            Inner::Sio(_) => panic!("send_raw is for /ws"),
        }
    }

    /// Waits for the next not yet taken event `name` and takes it.
    pub async fn next(&self, name: &str) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.inbox.notify.notified();
            {
                let mut evs = self.inbox.events.lock().unwrap();
                if let Some(e) = evs.iter_mut().find(|e| e.0 == name && !e.2) {
                    e.2 = true;
                    return e.1.clone();
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "{}: no `{name}` within {WAIT:?}; got {:?}",
                    self.name,
                    self.names()
                );
            }
        }
    }

    /// Asserts no (untaken) `name` arrives within SETTLE.
    pub async fn none(&self, name: &str) {
        tokio::time::sleep(SETTLE).await;
        let evs = self.inbox.events.lock().unwrap();
        if let Some(e) = evs.iter().find(|e| e.0 == name && !e.2) {
            panic!("{}: unexpected `{name}`: {}", self.name, e.1);
        }
    }

    /// Names of all events received so far (taken or not).
    pub fn names(&self) -> Vec<String> {
        self.inbox
            .events
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.0.clone())
            .collect()
    }

    pub fn count(&self, name: &str) -> usize {
        self.inbox
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.0 == name)
            .count()
    }

    /// Waits until the server closed the connection.
    pub async fn closed(&self) -> bool {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.inbox.notify.notified();
            if self.inbox.closed.load(Ordering::SeqCst) {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.inbox.closed.load(Ordering::SeqCst);
            }
        }
    }

    pub async fn disconnect(self) {
        match self.inner {
            Inner::Sio(c) => {
                let _ = c.disconnect().await;
            }
            Inner::Ws { out, .. } => {
                let _ = out.send(Message::Close(None));
                // Wait for the server's close to finish the handshake.
                let deadline = tokio::time::Instant::now() + WAIT;
                while !self.inbox.closed.load(Ordering::SeqCst)
                    && tokio::time::Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }

    /// Every `name` event received so far (taken or not), in order.
    pub fn all(&self, name: &str) -> Vec<Value> {
        self.inbox
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.0 == name)
            .map(|e| e.1.clone())
            .collect()
    }

    /// Waits for a `name` event for which `pred` holds and takes it, with every untaken `name`
    /// before it ("eventually told this"). Panics after WAIT with what did arrive.
    pub async fn next_where(&self, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.inbox.notify.notified();
            {
                let mut evs = self.inbox.events.lock().unwrap();
                if let Some(i) = evs.iter().position(|e| e.0 == name && !e.2 && pred(&e.1)) {
                    for e in evs[..=i].iter_mut().filter(|e| e.0 == name) {
                        e.2 = true;
                    }
                    return evs[i].1.clone();
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "{}: no matching `{name}` within {WAIT:?}; got {:?}",
                    self.name,
                    self.all(name)
                );
            }
        }
    }

    /// Marks every `name` event received so far as taken: later waits see only newer ones.
    pub fn skip(&self, name: &str) {
        for e in self.inbox.events.lock().unwrap().iter_mut() {
            if e.0 == name {
                e.2 = true;
            }
        }
    }

    /// `sync` from `after`: the chat's messages after that number, as `messages_since` gives them.
    pub async fn sync_after(&self, chat_id: &str, after: i64) -> Vec<Value> {
        let ack = self
            .emit(
                "sync",
                json!({"chat_id": chat_id, "after_sequence_num": after}),
            )
            .await;
        assert_eq!(ack, (true, None), "{}: sync {chat_id}", self.name);
        let got = self
            .next_where("messages_since", |m| m["chat_id"] == chat_id)
            .await;
        got["messages"].as_array().cloned().expect("messages")
    }

    pub fn named(mut self, name: &str) -> Client {
        self.name = name.to_string();
        self
    }
}

/// A staff member or visitor with a live connection.
pub struct Party {
    pub id: String,
    pub token: String,
    pub c: Client,
}

pub async fn staff(s: &Server, t: Transport, email: &str, role: &str) -> Party {
    let (id, token) = s.staff(email, role).await;
    let c = Client::connect(s, t, &token).await.named(email);
    c.next("staff_init").await;
    Party { id, token, c }
}

pub async fn visitor(s: &Server, t: Transport, name: &str) -> Party {
    let (id, token) = s.visitor(Some(name)).await;
    let c = Client::connect(s, t, &token).await.named(name);
    c.next("visitor_init").await;
    Party { id, token, c }
}

pub fn ok() -> Ack {
    (true, None)
}

pub fn fails(sentence: &str) -> Ack {
    (false, Some(sentence.to_string()))
}

pub fn text(t: &str) -> Value {
    json!({ "content": t, "timestamp": 1_700_000_000_000i64 })
}

/// The entry of `staff_init.online_users` for staff `id`.
pub fn online_entry(init: &Value, id: &str) -> Value {
    init["online_users"]
        .as_array()
        .expect("online_users")
        .iter()
        .find(|u| u["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not in online_users: {init}"))
}

/// The contents of the system messages (`type_id` 0) among `messages`, in order.
pub fn system_contents(messages: &[Value]) -> Vec<Value> {
    messages
        .iter()
        .filter(|m| m["type_id"] == 0)
        .map(|m| m["content"].clone())
        .collect()
}

/// The other transport.
pub fn other(t: Transport) -> Transport {
    match t {
        Transport::SocketIo => Transport::Ws,
        Transport::Ws => Transport::SocketIo,
    }
}
