//! The load driver: starts the real `frontdesk` binary, creates staff and visitors, drives real
//! WebSocket clients (`/ws`, or Socket.IO v5 spoken over its WebSocket transport), measures
//! ack and delivery latency, and checks every acked message is in the database exactly once.
//! Shared by `cargo bench --bench load` and the ordinary test `tests/it/load_check.rs`.

#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

pub const PASSWORD: &str = "load-test-password";

/// A client's writing half as a queue: everything queued goes out with one flush.
fn spawn_sender<S>(mut sink: S) -> mpsc::UnboundedSender<Message>
where
    S: futures_util::Sink<Message> + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            let mut next = Some(m);
            while let Some(m) = next {
                if sink.feed(m).await.is_err() {
                    return;
                }
                next = rx.try_recv().ok();
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    tx
}

/// The clients' WebSocket settings. tungstenite zero-fills its whole read buffer on every read,
/// so its 128 KiB default made the load generator spend a fifth of its time in memset, on the
/// cores the server under test needs.
pub fn client_config() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default().read_buffer_size(8 * 1024)
}

/// One clock for the whole run: send times travel inside message content as micros since it.
fn epoch() -> Instant {
    static E: OnceLock<Instant> = OnceLock::new();
    *E.get_or_init(Instant::now)
}
fn micros() -> u64 {
    epoch().elapsed().as_micros() as u64
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Ws,
    SocketIo,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Ws => "ws",
            Transport::SocketIo => "socketio",
        }
    }
}

// ----- the server process ------------------------------------------------------------------

pub struct ServerProc {
    child: Child,
    pub addr: SocketAddr,
    pub data: PathBuf,
    pub ready_after: Duration,
    _tmp: Option<tempfile::TempDir>,
}

impl ServerProc {
    /// Starts `bin` on a free loopback port with `config` (TOML) and a fresh or given data dir.
    pub fn start(bin: &Path, config: &str, data: Option<PathBuf>) -> ServerProc {
        let (tmp, data) = match data {
            Some(d) => (None, d),
            None => {
                let t = tempfile::tempdir().expect("tempdir");
                let d = t.path().join("data");
                (Some(t), d)
            }
        };
        let cfg = data.with_extension("toml");
        std::fs::create_dir_all(data.parent().unwrap()).ok();
        std::fs::write(&cfg, config).expect("config");
        let started = Instant::now();
        let mut child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(&data)
            .arg("--config")
            .arg(&cfg)
            .env("RUST_LOG", "frontdesk=warn,frontdesk::server=info")
            .env_remove("FRONTDESK_LISTEN")
            .env_remove("FRONTDESK_DATA")
            .env_remove("FRONTDESK_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start frontdesk");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    if let (Some(t), Ok(a)) = (tx.take(), rest.trim().parse::<SocketAddr>()) {
                        let _ = t.send(a);
                    }
                }
                if line.contains("ERROR") || line.contains("panicked") {
                    eprintln!("server: {line}");
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("server start");
        // Ready = answers /healthz.
        loop {
            if let Ok(mut s) = std::net::TcpStream::connect(addr) {
                use std::io::{Read, Write};
                let _ = write!(
                    s,
                    "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                );
                let mut r = String::new();
                let _ = s.read_to_string(&mut r);
                if r.starts_with("HTTP/1.1 200") {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let ready_after = started.elapsed();
        ServerProc {
            child,
            addr,
            data,
            ready_after,
            _tmp: tmp,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time the server has used so far (user + system, all threads), in seconds; from
    /// `/proc/PID/stat` (fields 14 and 15, in clock ticks).
    pub fn cpu_secs(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.pid())).unwrap_or_default();
        // The command name (field 2) may hold spaces: count from the closing parenthesis.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<u64> = rest
            .split_whitespace()
            .skip(11)
            .take(2)
            .filter_map(|x| x.parse().ok())
            .collect();
        // SAFETY: sysconf only reads a constant of the running system.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        let hz = if hz > 0 { hz as f64 } else { 100.0 };
        f.iter().sum::<u64>() as f64 / hz
    }

    /// Resident memory of the server, in MB.
    pub fn rss_mb(&self) -> f64 {
        self.status_mb("VmRSS:")
    }

    /// The anonymous part of the RSS (heap, stacks): the process's own memory, without the
    /// binary's code and read-only data mapped from the page cache (`RssFile`), which grows with
    /// the binary's size, is shared with the page cache and can be dropped under pressure.
    pub fn rss_anon_mb(&self) -> f64 {
        self.status_mb("RssAnon:")
    }

    fn status_mb(&self, key: &str) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn server_config(extra: &str) -> String {
    format!(
        "max_events_per_sec = 1000000\nvisitor_creations_per_minute = 10000000\nlogin_max_failures = 100000\n\
         max_connections_per_ip = 1000000\nmax_pending_per_ip = 1000000\n{extra}"
    )
}

/// Creates `n` agents with the CLI (before the server starts); returns their emails.
pub fn add_agents(bin: &Path, data: &Path, n: usize) -> Vec<String> {
    let emails: Vec<String> = (0..n).map(|i| format!("agent{i}@load.test")).collect();
    for e in &emails {
        let out = Command::new(bin)
            .args([
                "user",
                "add",
                "--email",
                e,
                "--name",
                e,
                "--role",
                "agent",
                "--password",
                PASSWORD,
                "--data",
            ])
            .arg(data)
            .output()
            .expect("user add");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    emails
}

/// A minimal HTTP/1.1 POST of JSON over a fresh connection (keeps the bench free of an HTTP client).
async fn post_json(addr: SocketAddr, path: &str, body: &str) -> serde_json::Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    // Chunked or not, the JSON object is the part between the first '{' and the last '}'.
    let (a, b) = (
        body.find('{').unwrap_or(0),
        body.rfind('}').map(|i| i + 1).unwrap_or(0),
    );
    serde_json::from_str(&body[a..b.max(a)]).unwrap_or(serde_json::Value::Null)
}

pub async fn login(addr: SocketAddr, email: &str) -> String {
    let v = post_json(
        addr,
        "/api/v1/auth/login",
        &json!({"email": email, "password": PASSWORD}).to_string(),
    )
    .await;
    v["access_token"].as_str().expect("login").to_string()
}

/// Creates `n` visitors over HTTP, `concurrency` at a time; returns (id, token).
pub async fn create_visitors(
    addr: SocketAddr,
    n: usize,
    concurrency: usize,
) -> Vec<(String, String)> {
    let sem = Arc::new(Semaphore::new(concurrency));
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire().await.unwrap();
            let v = post_json(
                addr,
                "/api/v1/visitors",
                &json!({"name": format!("Load {i}")}).to_string(),
            )
            .await;
            (
                v["visitor"]["id"].as_str().expect("visitor").to_string(),
                v["access_token"].as_str().unwrap().to_string(),
            )
        }));
    }
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

// ----- clients -----------------------------------------------------------------------------

/// What every connection records.
#[derive(Default)]
pub struct Stats {
    pub ack_us: Mutex<Vec<u32>>,
    pub deliver_us: Mutex<Vec<u32>>,
    pub acked: AtomicU64,
    pub failed: AtomicU64,
    pub delivered: AtomicU64,
    pub duplicated: AtomicU64,
    pub out_of_order: AtomicU64,
    /// Keys of acked messages, for the database check.
    pub acked_keys: Mutex<Vec<String>>,
    pub record_latency: AtomicBool,
}

/// One connection: write frames through `tx`, acks free a window slot.
pub struct Conn {
    tx: mpsc::UnboundedSender<Message>,
    transport: Transport,
    next_id: AtomicU64,
    pending: Arc<Mutex<HashMap<u64, Pending>>>,
    pub window: Arc<Semaphore>,
    pub events: Arc<AtomicU64>,
    pub init: Arc<tokio::sync::Notify>,
    pub got_init: Arc<AtomicBool>,
}

#[derive(Deserialize)]
struct WsFrame<'a> {
    #[serde(borrow)]
    event: Option<&'a str>,
    ack: Option<u64>,
    result: Option<bool>,
    #[serde(borrow)]
    data: Option<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct Delivered {
    content: Option<StoredMsg>,
}
#[derive(Deserialize)]
struct StoredMsg {
    content: Option<Probe>,
}
#[derive(Deserialize)]
struct Probe {
    /// "<stream>:<n>"
    k: Option<String>,
    /// send time, micros since the run's epoch
    t: Option<u64>,
}

/// Per receiving connection: the last `n` seen on each stream, and every key seen.
#[derive(Default)]
struct Order {
    last: HashMap<String, u64>,
}

pub const WINDOW: usize = 32;

/// A message waiting for its ack: send time, probe key, whether it holds a window permit.
struct Pending {
    sent: u64,
    key: Option<String>,
    windowed: bool,
}

impl Conn {
    pub async fn open(
        addr: SocketAddr,
        t: Transport,
        token: &str,
        stats: Arc<Stats>,
    ) -> Result<Conn, String> {
        let url = match t {
            Transport::Ws => format!("ws://{addr}/ws"),
            Transport::SocketIo => format!("ws://{addr}/socket.io/?EIO=4&transport=websocket"),
        };
        let mut req = url.into_client_request().map_err(|e| e.to_string())?;
        req.headers_mut()
            .insert("Authorization", token.parse().unwrap());
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(req, Some(client_config()), true)
                .await
                .map_err(|e| e.to_string())?;
        let (mut sink, mut stream) = socket.split();
        if t == Transport::SocketIo {
            // Engine.IO open packet, then the Socket.IO CONNECT.
            match stream.next().await {
                Some(Ok(m)) if m.to_text().is_ok_and(|s| s.starts_with('0')) => {}
                other => return Err(format!("no open packet: {other:?}")),
            }
            sink.send(Message::text("40"))
                .await
                .map_err(|e| e.to_string())?;
            loop {
                match stream.next().await {
                    Some(Ok(m)) if m.to_text().is_ok_and(|s| s.starts_with("40")) => break,
                    // A ping can come first on a slow machine: answer it and keep waiting.
                    Some(Ok(m)) if m.to_text().is_ok_and(|s| s == "2") => {
                        sink.send(Message::text("3"))
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                    other => return Err(format!("no CONNECT answer: {other:?}")),
                }
            }
        }
        let tx = spawn_sender(sink);
        let pending: Arc<Mutex<HashMap<u64, Pending>>> = Arc::default();
        let window = Arc::new(Semaphore::new(WINDOW));
        let events = Arc::new(AtomicU64::new(0));
        let init = Arc::new(tokio::sync::Notify::new());
        let got_init = Arc::new(AtomicBool::new(false));
        let (p, w, ev, ini, gi, tx2) = (
            pending.clone(),
            window.clone(),
            events.clone(),
            init.clone(),
            got_init.clone(),
            tx.clone(),
        );
        tokio::spawn(async move {
            let mut order = Order::default();
            while let Some(Ok(msg)) = stream.next().await {
                let Ok(text) = msg.to_text() else { continue };
                match t {
                    Transport::Ws => {
                        let Ok(f) = serde_json::from_str::<WsFrame>(text) else {
                            continue;
                        };
                        if let Some(id) = f.ack {
                            on_ack(&p, &w, &stats, id, f.result.unwrap_or(false));
                        } else if let Some(name) = f.event {
                            on_event(
                                name,
                                f.data.map(|d| d.get()),
                                &stats,
                                &mut order,
                                &ev,
                                &ini,
                                &gi,
                            );
                        }
                    }
                    Transport::SocketIo => {
                        if text == "2" {
                            let _ = tx2.send(Message::text("3"));
                        } else if let Some(rest) = text.strip_prefix("43") {
                            // 43<id>[result, error]
                            let digits: String =
                                rest.chars().take_while(char::is_ascii_digit).collect();
                            let ok = rest[digits.len()..].starts_with("[true");
                            if let Ok(id) = digits.parse() {
                                on_ack(&p, &w, &stats, id, ok);
                            }
                        } else if let Some(rest) = text.strip_prefix("42") {
                            // 42["name",{data}]
                            if let Ok(args) =
                                serde_json::from_str::<Vec<&serde_json::value::RawValue>>(rest)
                            {
                                let name: String = args
                                    .first()
                                    .and_then(|n| serde_json::from_str(n.get()).ok())
                                    .unwrap_or_default();
                                on_event(
                                    &name,
                                    args.get(1).map(|d| d.get()),
                                    &stats,
                                    &mut order,
                                    &ev,
                                    &ini,
                                    &gi,
                                );
                            }
                        }
                    }
                }
            }
        });
        Ok(Conn {
            tx,
            transport: t,
            next_id: AtomicU64::new(1),
            pending,
            window,
            events,
            init,
            got_init,
        })
    }

    /// Sends `event` with `data` (JSON text) asking for an ack; `key` marks a chat message.
    pub fn emit(&self, event: &str, data: &str, key: Option<String>) {
        self.emit_as(event, data, key, false);
    }

    /// `windowed`: the caller took a window permit, which the ack gives back.
    pub fn emit_as(&self, event: &str, data: &str, key: Option<String>, windowed: bool) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.pending.lock().unwrap().insert(
            id,
            Pending {
                sent: micros(),
                key,
                windowed,
            },
        );
        let frame = match self.transport {
            Transport::Ws => format!("{{\"event\":\"{event}\",\"data\":{data},\"id\":{id}}}"),
            Transport::SocketIo => format!("42{id}[\"{event}\",{data}]"),
        };
        let _ = self.tx.send(Message::text(frame));
    }

    /// A chat message with a probe: stream key, number, send time.
    pub fn emit_probe(
        &self,
        event: &str,
        visitor: Option<&str>,
        stream: &str,
        n: u64,
        pad: &str,
        windowed: bool,
    ) {
        let key = format!("{stream}:{n}");
        let content = format!(
            "{{\"content\":\"{pad}\",\"k\":\"{key}\",\"t\":{}}}",
            micros()
        );
        let data = match visitor {
            Some(v) => format!("{{\"visitor\":\"{v}\",\"content\":{content}}}"),
            None => content,
        };
        self.emit_as(event, &data, Some(key), windowed);
    }

    pub fn in_flight(&self) -> usize {
        self.pending.lock().unwrap().len()
    }

    pub async fn wait_init(&self) {
        while !self.got_init.load(Ordering::Acquire) {
            let n = self.init.notified();
            if self.got_init.load(Ordering::Acquire) {
                break;
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), n).await;
        }
    }

    pub fn close(&self) {
        let _ = self.tx.send(Message::Close(None));
    }
}

fn on_ack(
    pending: &Mutex<HashMap<u64, Pending>>,
    window: &Semaphore,
    stats: &Stats,
    id: u64,
    ok: bool,
) {
    let Some(Pending {
        sent,
        key,
        windowed,
    }) = pending.lock().unwrap().remove(&id)
    else {
        return;
    };
    if windowed {
        window.add_permits(1);
    }
    if ok {
        stats.acked.fetch_add(1, Ordering::Relaxed);
        if let Some(k) = key {
            if stats.record_latency.load(Ordering::Relaxed) {
                stats.ack_us.lock().unwrap().push((micros() - sent) as u32);
            }
            stats.acked_keys.lock().unwrap().push(k);
        }
    } else {
        stats.failed.fetch_add(1, Ordering::Relaxed);
    }
}

fn on_event(
    name: &str,
    data: Option<&str>,
    stats: &Stats,
    order: &mut Order,
    events: &AtomicU64,
    init: &tokio::sync::Notify,
    got_init: &AtomicBool,
) {
    events.fetch_add(1, Ordering::Relaxed);
    match name {
        "visitor_send" | "staff_send" => {
            let Some(d) = data.and_then(|d| serde_json::from_str::<Delivered>(d).ok()) else {
                return;
            };
            let Some(Probe {
                k: Some(k),
                t: Some(t),
            }) = d.content.and_then(|c| c.content)
            else {
                return;
            };
            let now = micros();
            if stats.record_latency.load(Ordering::Relaxed) {
                stats
                    .deliver_us
                    .lock()
                    .unwrap()
                    .push(now.saturating_sub(t) as u32);
            }
            stats.delivered.fetch_add(1, Ordering::Relaxed);
            let (stream, n) = k.rsplit_once(':').unwrap_or((&k, "0"));
            let n: u64 = n.parse().unwrap_or(0);
            match order.last.get(stream) {
                Some(&last) if n == last => {
                    stats.duplicated.fetch_add(1, Ordering::Relaxed);
                }
                Some(&last) if n < last => {
                    stats.out_of_order.fetch_add(1, Ordering::Relaxed);
                }
                _ => {
                    order.last.insert(stream.to_string(), n);
                }
            }
        }
        "staff_init" | "visitor_init" => {
            got_init.store(true, Ordering::Release);
            init.notify_waiters();
        }
        _ => {}
    }
}

// ----- the echo baseline -------------------------------------------------------------------

/// A plain tokio-tungstenite echo server: the ceiling of this machine for these clients.
pub async fn start_echo() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                let Ok(ws) = tokio_tungstenite::accept_async(s).await else {
                    return;
                };
                let (mut sink, mut stream) = ws.split();
                while let Some(Ok(m)) = stream.next().await {
                    if m.is_text() {
                        // The same shape of answer as our ack.
                        let id = m
                            .to_text()
                            .ok()
                            .and_then(|t| t.rsplit("\"id\":").next())
                            .and_then(|r| r.trim_end_matches('}').parse::<u64>().ok())
                            .unwrap_or(0);
                        if sink
                            .send(Message::text(format!(
                                "{{\"ack\":{id},\"result\":true,\"error_message\":null}}"
                            )))
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            });
        }
    });
    addr
}

/// Messages per second the echo server answers with `conns` clients keeping WINDOW in flight.
pub async fn echo_rate(conns: usize, secs: f64) -> f64 {
    let addr = start_echo().await;
    let stats = Arc::new(Stats::default());
    let mut clients = vec![];
    for _ in 0..conns {
        let url = format!("ws://{addr}/");
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(url, Some(client_config()), true)
                .await
                .unwrap();
        let (sink, mut stream) = socket.split();
        let window = Arc::new(Semaphore::new(WINDOW));
        let (w, st) = (window.clone(), stats.clone());
        tokio::spawn(async move {
            while let Some(Ok(_)) = stream.next().await {
                w.add_permits(1);
                st.acked.fetch_add(1, Ordering::Relaxed);
            }
        });
        let tx = spawn_sender(sink);
        clients.push((tx, window));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = vec![];
    for (tx, window) in clients {
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let Ok(p) = window.acquire().await else { break };
                p.forget();
                n += 1;
                let frame = format!("{{\"event\":\"visitor_msg\",\"data\":{{\"content\":\"x\",\"k\":\"e:{n}\",\"t\":{}}},\"id\":{n}}}", micros());
                if tx.send(Message::text(frame)).is_err() {
                    break;
                }
            }
        }));
    }
    let start_count = stats.acked.load(Ordering::Relaxed);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    let done = stats.acked.load(Ordering::Relaxed) - start_count;
    let rate = done as f64 / t0.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.abort();
    }
    rate
}

// ----- checks --------------------------------------------------------------------------------

/// Every acked key must be in the database exactly once. Returns (missing, duplicated).
pub fn verify_in_db(data: &Path, stats: &Stats) -> (u64, u64) {
    let db = rusqlite::Connection::open_with_flags(
        data.join("frontdesk.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open db");
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut stmt = db
        .prepare("SELECT json_extract(content, '$.k') FROM messages WHERE type_id = 1 AND json_extract(content, '$.k') IS NOT NULL")
        .unwrap();
    for k in stmt.query_map([], |r| r.get::<_, String>(0)).unwrap() {
        *counts.entry(k.unwrap()).or_default() += 1;
    }
    let keys = stats.acked_keys.lock().unwrap();
    let mut missing = 0;
    for k in keys.iter() {
        if !counts.contains_key(k) {
            missing += 1;
        }
    }
    let duplicated = counts.values().filter(|c| **c > 1).count() as u64;
    (missing, duplicated)
}

pub fn percentile_ms(v: &mut [u32], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i] as f64 / 1000.0
}

// ----- a whole chat setup --------------------------------------------------------------------

/// Visitors and staff connected, every visitor's chat claimed by staff `i % staff`.
pub struct Floor {
    pub staff: Vec<Conn>,
    pub visitors: Vec<(String, Conn)>,
    pub stats: Arc<Stats>,
    pub connect_per_s: f64,
    /// Server RSS once everyone is connected, before any chat.
    pub rss_connected_mb: f64,
    pub rss_anon_connected_mb: f64,
    /// The last number sent on each stream (chat × direction).
    pub seq: Mutex<Vec<u64>>,
}

pub async fn open_floor(
    server: &ServerProc,
    t: Transport,
    staff_emails: &[String],
    visitors: &[(String, String)],
    claim: bool,
) -> Floor {
    let addr = server.addr;
    let stats = Arc::new(Stats::default());
    let mut staff = vec![];
    for e in staff_emails {
        let token = login(addr, e).await;
        let c = Conn::open(addr, t, &token, stats.clone())
            .await
            .expect("staff connect");
        c.wait_init().await;
        staff.push(c);
    }
    // Visitors connect 256 at a time.
    let sem = Arc::new(Semaphore::new(256));
    let t0 = Instant::now();
    let mut tasks = vec![];
    for (id, token) in visitors.iter().cloned() {
        let (sem, stats) = (sem.clone(), stats.clone());
        tasks.push(tokio::spawn(async move {
            let _p = sem.acquire_owned().await.unwrap();
            let c = Conn::open(addr, t, &token, stats)
                .await
                .expect("visitor connect");
            c.wait_init().await;
            (id, c)
        }));
    }
    let mut vs = vec![];
    for task in tasks {
        vs.push(task.await.unwrap());
    }
    let connect_per_s = vs.len() as f64 / t0.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_connected_mb = server.rss_mb();
    let rss_anon_connected_mb = server.rss_anon_mb();
    if claim {
        // First messages, then claims, pipelined.
        for (i, (_, c)) in vs.iter().enumerate() {
            c.emit_probe("visitor_msg", None, &format!("open{i}"), 0, "hello", false);
        }
        wait_acks(&vs.iter().map(|v| &v.1).collect::<Vec<_>>()).await;
        for (i, (id, _)) in vs.iter().enumerate() {
            staff[i % staff.len()].emit("staff_join", &format!("{{\"visitor\":\"{id}\"}}"), None);
        }
        wait_acks(&staff.iter().collect::<Vec<_>>()).await;
    }
    let seq = Mutex::new(vec![0; vs.len() * 2]);
    Floor {
        staff,
        visitors: vs,
        stats,
        connect_per_s,
        rss_connected_mb,
        rss_anon_connected_mb,
        seq,
    }
}

pub async fn wait_acks(conns: &[&Conn]) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while conns.iter().any(|c| c.in_flight() > 0) {
        assert!(Instant::now() < deadline, "acks did not arrive");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sends chat traffic both ways for `secs`: at `rate` messages/s in total, or (rate 0) as fast as
/// the window allows. Returns messages acked per second.
pub async fn traffic(floor: &Floor, rate: u64, secs: f64, pad: &str) -> f64 {
    let stats = &floor.stats;
    stats.record_latency.store(true, Ordering::Relaxed);
    let acked0 = stats.acked.load(Ordering::Relaxed);
    let t0 = Instant::now();
    let n_chats = floor.visitors.len();
    let n_staff = floor.staff.len();
    // Numbers go on across calls: a stream's numbers only ever grow.
    let mut seq = floor.seq.lock().unwrap().clone();
    if rate > 0 {
        // A fixed schedule: message k at k / rate seconds, alternating direction per chat.
        let total = (rate as f64 * secs) as u64;
        let mut k = 0u64;
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        while k < total {
            tick.tick().await;
            let due = ((t0.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
            while k < due {
                let chat = (k as usize) % n_chats;
                let to_staff = (k / n_chats as u64).is_multiple_of(2);
                send_one(floor, chat, to_staff, &mut seq, pad, false);
                k += 1;
            }
        }
    } else {
        // Each connection keeps WINDOW messages in flight.
        let stop = Instant::now() + Duration::from_secs_f64(secs);
        let mut chat = 0usize;
        let mut dir = 0u64;
        while Instant::now() < stop {
            let mut sent_any = false;
            for _ in 0..n_chats.max(n_staff) {
                let to_staff = dir.is_multiple_of(2);
                let conn = if to_staff {
                    &floor.visitors[chat].1
                } else {
                    &floor.staff[chat % n_staff]
                };
                if let Ok(p) = conn.window.try_acquire() {
                    p.forget();
                    send_one(floor, chat, to_staff, &mut seq, pad, true);
                    sent_any = true;
                }
                chat = (chat + 1) % n_chats;
                if chat == 0 {
                    dir += 1;
                }
            }
            if !sent_any {
                tokio::task::yield_now().await;
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        }
    }
    *floor.seq.lock().unwrap() = seq;
    let all: Vec<&Conn> = floor
        .visitors
        .iter()
        .map(|v| &v.1)
        .chain(floor.staff.iter())
        .collect();
    wait_acks(&all).await;
    let elapsed = t0.elapsed().as_secs_f64();
    stats.record_latency.store(false, Ordering::Relaxed);
    (stats.acked.load(Ordering::Relaxed) - acked0) as f64 / elapsed
}

fn send_one(
    floor: &Floor,
    chat: usize,
    to_staff: bool,
    seq: &mut [u64],
    pad: &str,
    windowed: bool,
) {
    let (vid, vconn) = &floor.visitors[chat];
    let stream = chat * 2 + usize::from(!to_staff);
    seq[stream] += 1;
    let n = seq[stream];
    if to_staff {
        vconn.emit_probe("visitor_msg", None, &format!("v{chat}"), n, pad, windowed);
    } else {
        floor.staff[chat % floor.staff.len()].emit_probe(
            "staff_msg",
            Some(vid),
            &format!("s{chat}"),
            n,
            pad,
            windowed,
        );
    }
}

/// Waits until every acked probe was delivered (or `secs` pass); returns how many never were.
pub async fn drain(floor: &Floor, expected: u64, secs: f64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    loop {
        let got = floor.stats.delivered.load(Ordering::Relaxed);
        if got >= expected || Instant::now() > deadline {
            return expected.saturating_sub(got);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
