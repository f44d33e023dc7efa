//! The network edge: what one TCP connection, one peer address and one tokenless Engine.IO
//! handshake may cost before anyone has shown a token.
//!
//! - `Edge::admit` counts every accepted connection against its TCP peer address (never a
//!   proxy header: those are only as honest as the client) and against a global cap kept below
//!   the file-descriptor limit. The returned `ConnGuard` travels into the connection's task and
//!   uncounts it when the connection ends, however it ends.
//! - A connection is *pending* from accept until its first complete request head; pending
//!   connections have their own, smaller, per-address cap (slowloris) and a deadline.
//! - `Edge::anonymous_handshake` bounds Engine.IO sessions opened without a token: each lives
//!   at most the Socket.IO connect timeout unless it authenticates, so counting handshakes in a
//!   sliding window of that length bounds how many can be alive at once.

use crate::config::Config;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

/// File descriptors kept back from the connection cap: the database and its WAL, the listener,
/// log files, and the accept that must still succeed to answer 503.
const FD_RESERVE: u64 = 256;

/// Why a connection is turned away at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The whole server is at `max_connections`.
    Full,
    /// This address has `max_connections_per_ip` open.
    PerIp,
    /// This address has `max_pending_per_ip` connections that have not sent a request yet.
    PendingPerIp,
}

impl Refusal {
    /// A complete, tiny HTTP/1.1 answer, written without waiting (see server.rs).
    pub fn response(self) -> &'static [u8] {
        match self {
            Refusal::Full => {
                b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: text/plain\r\n\
Content-Length: 27\r\nConnection: close\r\n\r\nThe server is at capacity.\n"
            }
            Refusal::PerIp | Refusal::PendingPerIp => {
                b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Type: text/plain\r\n\
Content-Length: 40\r\nConnection: close\r\n\r\nToo many connections from this address.\n"
            }
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Full => "server full",
            Refusal::PerIp => "per-address cap",
            Refusal::PendingPerIp => "per-address pending cap",
        }
    }
}

#[derive(Default)]
struct PerIp {
    open: usize,
    pending: usize,
}

/// Connection and handshake accounting, shared by the accept loop and every connection.
pub struct Edge {
    max_total: usize,
    /// `None`: per-address caps are off (behind a trusted proxy every peer is the proxy).
    per_ip_open: Option<usize>,
    per_ip_pending: usize,
    total: AtomicUsize,
    by_ip: Mutex<HashMap<IpAddr, PerIp>>,
    anonymous: Mutex<Anonymous>,
    anon_window: Duration,
    anon_per_ip: usize,
    anon_total: usize,
}

impl Edge {
    pub fn new(config: &Config, max_total: usize) -> Arc<Edge> {
        Arc::new(Edge {
            max_total,
            per_ip_open: (!config.trust_proxy_headers).then_some(config.max_connections_per_ip),
            per_ip_pending: config.max_pending_per_ip,
            total: AtomicUsize::new(0),
            by_ip: Mutex::new(HashMap::new()),
            anonymous: Mutex::new(Anonymous::default()),
            // The connect-timeout task starts a moment after our check; a second of margin
            // keeps the bound honest.
            anon_window: config.socketio_connect_timeout + Duration::from_secs(1),
            anon_per_ip: config.socketio_anonymous_per_ip,
            anon_total: config.socketio_anonymous_total,
        })
    }

    /// Counts a new connection from `ip`, or says why not.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Arc<ConnGuard>, Refusal> {
        if self.total.fetch_add(1, Ordering::AcqRel) >= self.max_total {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::Full);
        }
        let tracked = match self.per_ip_open {
            None => None,
            Some(cap) => {
                let mut map = self.by_ip.lock().unwrap_or_else(|e| e.into_inner());
                let e = map.entry(ip).or_default();
                let refusal = if e.open >= cap {
                    Some(Refusal::PerIp)
                } else if e.pending >= self.per_ip_pending {
                    Some(Refusal::PendingPerIp)
                } else {
                    None
                };
                if let Some(r) = refusal {
                    if e.open == 0 {
                        map.remove(&ip);
                    }
                    drop(map);
                    self.total.fetch_sub(1, Ordering::AcqRel);
                    return Err(r);
                }
                e.open += 1;
                e.pending += 1;
                Some(ip)
            }
        };
        Ok(Arc::new(ConnGuard {
            edge: self.clone(),
            ip: tracked,
            pending: AtomicBool::new(true),
            first_request: Notify::new(),
        }))
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    fn release(&self, ip: Option<IpAddr>, was_pending: bool) {
        if let Some(ip) = ip {
            let mut map = self.by_ip.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(e) = map.get_mut(&ip) {
                e.open = e.open.saturating_sub(1);
                if was_pending {
                    e.pending = e.pending.saturating_sub(1);
                }
                if e.open == 0 {
                    map.remove(&ip);
                }
            }
        }
        self.total.fetch_sub(1, Ordering::AcqRel);
    }

    fn not_pending(&self, ip: Option<IpAddr>) {
        if let Some(ip) = ip {
            let mut map = self.by_ip.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(e) = map.get_mut(&ip) {
                e.pending = e.pending.saturating_sub(1);
            }
        }
    }

    /// A Socket.IO handshake without a token from `ip`: `Ok` if it may open a session, else the
    /// seconds to wait and whether the whole server (rather than this address) is at its cap.
    pub fn anonymous_handshake(&self, ip: IpAddr) -> Result<(), (u64, bool)> {
        let now = Instant::now();
        let window = self.anon_window;
        let mut a = self.anonymous.lock().unwrap_or_else(|e| e.into_inner());
        let expired = |t: &Instant| now.duration_since(*t) >= window;
        while a.all.front().is_some_and(expired) {
            a.all.pop_front();
        }
        let retry = |oldest: Option<&Instant>| {
            oldest.map_or(1, |t| {
                window
                    .saturating_sub(now.duration_since(*t))
                    .as_secs()
                    .max(1)
            })
        };
        if a.all.len() >= self.anon_total {
            return Err((retry(a.all.front()), true));
        }
        // Addresses whose handshakes have all expired are forgotten now and then, so the map
        // never holds more than about `anon_total` live entries.
        if a.by_ip.len() > self.anon_total {
            a.by_ip.retain(|_, q| q.back().is_some_and(|t| !expired(t)));
        }
        let q = a.by_ip.entry(ip).or_default();
        while q.front().is_some_and(expired) {
            q.pop_front();
        }
        if q.len() >= self.anon_per_ip {
            return Err((retry(q.front()), false));
        }
        q.push_back(now);
        a.all.push_back(now);
        Ok(())
    }
}

#[derive(Default)]
struct Anonymous {
    /// Admitted handshakes, oldest first, over all addresses.
    all: VecDeque<Instant>,
    by_ip: HashMap<IpAddr, VecDeque<Instant>>,
}

/// One accepted connection's place in the counts: released when the last clone drops (the
/// stream's, see `Counted`, and the connection task's).
pub struct ConnGuard {
    edge: Arc<Edge>,
    ip: Option<IpAddr>,
    pending: AtomicBool,
    first_request: Notify,
}

impl ConnGuard {
    /// The connection sent a complete request head: it no longer counts as pending.
    pub fn request_seen(&self) {
        if self.pending.swap(false, Ordering::AcqRel) {
            self.edge.not_pending(self.ip);
            self.first_request.notify_one();
        }
    }

    /// Waits up to `limit` for the first request head; true if it came.
    pub async fn first_request_within(&self, limit: Duration) -> bool {
        if !self.pending.load(Ordering::Acquire) {
            return true;
        }
        let _ = tokio::time::timeout(limit, self.first_request.notified()).await;
        !self.pending.load(Ordering::Acquire)
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let was_pending = self.pending.load(Ordering::Acquire);
        self.edge.release(self.ip, was_pending);
    }
}

/// A connection's byte stream carrying its `ConnGuard`: after an upgrade hyper hands the stream
/// itself to the WebSocket (ours or socketioxide's), so the count must live in the stream to
/// last exactly as long as the socket.
pub struct Counted<T> {
    io: T,
    _guard: Arc<ConnGuard>,
}

impl<T> Counted<T> {
    pub fn new(io: T, guard: Arc<ConnGuard>) -> Counted<T> {
        Counted { io, _guard: guard }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Counted<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Counted<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Raises the soft open-files limit to the hard limit and returns the connection cap that
/// leaves `FD_RESERVE` descriptors for everything else.
pub fn connection_cap(configured: Option<usize>) -> usize {
    let nofile = raise_nofile();
    let auto = nofile.saturating_sub(FD_RESERVE).max(16);
    let auto = usize::try_from(auto).unwrap_or(usize::MAX);
    match configured {
        // A configured cap above what the descriptors allow would end in EMFILE again.
        Some(n) => n.min(auto),
        None => auto,
    }
}

#[cfg(unix)]
fn raise_nofile() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
        // RLIM_INFINITY and absurd values: a cap of a million is as good as none.
        #[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not on every unix
        let cur = lim.rlim_cur as u64;
        cur.min(1 << 20)
    }
}

#[cfg(not(unix))]
fn raise_nofile() -> u64 {
    1024
}

/// At most one log line per `every`: counts what it did not log.
pub struct Every {
    every: Duration,
    last: Mutex<Option<Instant>>,
    pub skipped: AtomicU64,
}

impl Every {
    pub fn new(every: Duration) -> Every {
        Every {
            every,
            last: Mutex::new(None),
            skipped: AtomicU64::new(0),
        }
    }

    /// `Some(n)` when a line may be written now, `n` being how many were held back since.
    pub fn ready(&self) -> Option<u64> {
        let now = Instant::now();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| now.duration_since(t) < self.every) {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *last = Some(now);
        Some(self.skipped.swap(0, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(per_ip: usize, pending: usize) -> Config {
        let mut c = Config::resolve(&Default::default()).unwrap();
        c.max_connections_per_ip = per_ip;
        c.max_pending_per_ip = pending;
        c.socketio_anonymous_per_ip = 2;
        c.socketio_anonymous_total = 3;
        c
    }

    #[test]
    fn caps_per_address_and_in_total() {
        let edge = Edge::new(&config(3, 2), 5);
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let g1 = edge.admit(a).unwrap();
        let g2 = edge.admit(a).unwrap();
        assert_eq!(edge.admit(a).err(), Some(Refusal::PendingPerIp));
        g1.request_seen();
        g2.request_seen();
        let _g3 = edge.admit(a).unwrap();
        assert_eq!(edge.admit(a).err(), Some(Refusal::PerIp));
        let _g4 = edge.admit(b).unwrap();
        let _g5 = edge.admit(b).unwrap();
        assert_eq!(edge.admit(b).err(), Some(Refusal::Full));
        drop(g1);
        assert_eq!(edge.open(), 4);
        edge.admit(a).unwrap();
        assert_eq!(edge.open(), 4, "the guard was dropped at once");
        assert!(edge.by_ip.lock().unwrap().len() <= 2);
    }

    #[test]
    fn refusals_are_complete_http_answers() {
        for r in [Refusal::Full, Refusal::PerIp] {
            let text = std::str::from_utf8(r.response()).unwrap();
            let (head, body) = text.split_once("\r\n\r\n").unwrap();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(len, body.len(), "{text}");
            assert!(head.contains("Retry-After: "), "{text}");
        }
    }

    #[test]
    fn anonymous_handshakes_per_address_and_in_total() {
        let edge = Edge::new(&config(3, 2), 5);
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        assert!(edge.anonymous_handshake(a).is_ok());
        assert!(edge.anonymous_handshake(a).is_ok());
        assert_eq!(edge.anonymous_handshake(a).map_err(|e| e.1), Err(false));
        assert!(edge.anonymous_handshake(b).is_ok());
        assert_eq!(edge.anonymous_handshake(b).map_err(|e| e.1), Err(true));
    }
}
