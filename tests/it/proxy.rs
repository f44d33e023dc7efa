//! A loopback TCP proxy for network faults in the integration tests: clients connect to
//! `proxy.addr`, every connection is forwarded to the server.
//!
//! - `cut()` drops every open connection (both sockets closed) and refuses new ones (accepted,
//!   then closed at once) until `restore()`: a NAT reset, a Wi-Fi that dies and comes back.
//! - `blackhole()` stops forwarding in both directions without closing anything: bytes wait in
//!   the kernel buffers as on a dead link, and only a ping timeout notices. `restore()` forwards
//!   them again (a side that closed meanwhile is then seen closing).
//! - `drop_acks(p, seed)` drops whole server→client WebSocket text frames that are acks (`/ws`
//!   `{"ack":N,…}`, Socket.IO `43N[…]`), each with probability `p`, from a seeded generator.
//!   Server frames are unmasked, so a small frame parser suffices; everything else passes
//!   byte for byte.

#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Open,
    Blackhole,
    Cut,
}

#[derive(Clone, Copy, Debug)]
struct State {
    mode: Mode,
    /// Bumped by every `cut()`: a connection from an older generation ends, even when a
    /// `restore()` follows before it looked.
    cuts: u64,
}

#[derive(Default)]
pub struct Counts {
    pub accepted: AtomicUsize,
    pub refused: AtomicUsize,
    pub dropped_acks: AtomicUsize,
    pub passed_acks: AtomicUsize,
}

struct Shared {
    target: SocketAddr,
    state: watch::Sender<State>,
    drop_acks: Mutex<Option<(StdRng, f64)>>,
    counts: Counts,
}

pub struct Proxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on 127.0.0.1:0 and forwards to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (state, _) = watch::channel(State {
            mode: Mode::Open,
            cuts: 0,
        });
        let shared = Arc::new(Shared {
            target,
            state,
            drop_acks: Mutex::new(None),
            counts: Counts::default(),
        });
        let sh = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if sh.state.borrow().mode == Mode::Cut {
                    sh.counts.refused.fetch_add(1, Ordering::SeqCst);
                    drop(client);
                    continue;
                }
                sh.counts.accepted.fetch_add(1, Ordering::SeqCst);
                let sh = sh.clone();
                tokio::spawn(async move { pipe(sh, client).await });
            }
        });
        Proxy {
            addr,
            shared,
            accept,
        }
    }

    /// Drops every open connection and refuses new ones until `restore()`.
    pub fn cut(&self) {
        self.shared.state.send_modify(|s| {
            s.mode = Mode::Cut;
            s.cuts += 1;
        });
    }

    /// Holds every byte, both ways, without closing anything, until `restore()`.
    pub fn blackhole(&self) {
        self.shared.state.send_modify(|s| s.mode = Mode::Blackhole);
    }

    pub fn restore(&self) {
        self.shared.state.send_modify(|s| s.mode = Mode::Open);
    }

    pub fn mode(&self) -> Mode {
        self.shared.state.borrow().mode
    }

    /// From now on, drops each server→client ack frame with probability `p`.
    pub fn drop_acks(&self, p: f64, seed: u64) {
        *self.shared.drop_acks.lock().unwrap() = Some((StdRng::seed_from_u64(seed), p));
    }

    pub fn stop_dropping(&self) {
        *self.shared.drop_acks.lock().unwrap() = None;
    }

    pub fn counts(&self) -> &Counts {
        &self.shared.counts
    }

    pub fn dropped_acks(&self) -> usize {
        self.shared.counts.dropped_acks.load(Ordering::SeqCst)
    }

    pub fn accepted(&self) -> usize {
        self.shared.counts.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        // Every connection ends with the proxy.
        self.cut();
    }
}

/// One proxied connection: forwards both ways until both sides closed, or a cut.
async fn pipe(sh: Arc<Shared>, client: TcpStream) {
    let mut rx = sh.state.subscribe();
    let born = rx.borrow_and_update().cuts;
    let Ok(server) = TcpStream::connect(sh.target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let mut up = vec![0u8; 16 * 1024];
    let mut down = vec![0u8; 16 * 1024];
    let mut frames = FrameFilter::default();
    let (mut up_open, mut down_open) = (true, true);
    while up_open || down_open {
        let st = *rx.borrow_and_update();
        if st.cuts != born || st.mode == Mode::Cut {
            return;
        }
        if st.mode == Mode::Blackhole {
            if rx.changed().await.is_err() {
                return;
            }
            continue;
        }
        tokio::select! {
            r = cr.read(&mut up), if up_open => match r {
                Ok(0) | Err(_) => {
                    up_open = false;
                    let _ = sw.shutdown().await;
                }
                Ok(n) => {
                    if sw.write_all(&up[..n]).await.is_err() {
                        return;
                    }
                }
            },
            r = sr.read(&mut down), if down_open => match r {
                Ok(0) | Err(_) => {
                    down_open = false;
                    let _ = cw.write_all(&frames.flush()).await;
                    let _ = cw.shutdown().await;
                }
                Ok(n) => {
                    let out = frames.feed(&down[..n], &sh);
                    if !out.is_empty() && cw.write_all(&out).await.is_err() {
                        return;
                    }
                }
            },
            c = rx.changed() => {
                if c.is_err() {
                    return;
                }
            }
        }
    }
}

/// Server→client bytes: the HTTP response head, then WebSocket frames, each passed whole or
/// (an ack, when dropping) not at all. A stream that does not upgrade passes untouched.
#[derive(Default)]
struct FrameFilter {
    buf: Vec<u8>,
    upgraded: bool,
    passthrough: bool,
}

impl FrameFilter {
    fn feed(&mut self, bytes: &[u8], sh: &Shared) -> Vec<u8> {
        if self.passthrough {
            return bytes.to_vec();
        }
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::with_capacity(self.buf.len());
        if !self.upgraded {
            let Some(end) = find(&self.buf, b"\r\n\r\n") else {
                if self.buf.len() > 64 * 1024 {
                    self.passthrough = true;
                    return std::mem::take(&mut self.buf);
                }
                return out;
            };
            let head = self.buf.drain(..end + 4).collect::<Vec<u8>>();
            if !head.starts_with(b"HTTP/1.1 101") {
                self.passthrough = true;
                out.extend_from_slice(&head);
                out.append(&mut self.buf);
                return out;
            }
            out.extend_from_slice(&head);
            self.upgraded = true;
        }
        while let Some(len) = frame_len(&self.buf) {
            let frame: Vec<u8> = self.buf.drain(..len).collect();
            if is_ack_frame(&frame) {
                let mut d = sh.drop_acks.lock().unwrap();
                if let Some((rng, p)) = d.as_mut() {
                    if rng.random_bool(*p) {
                        sh.counts.dropped_acks.fetch_add(1, Ordering::SeqCst);
                        continue;
                    }
                }
                sh.counts.passed_acks.fetch_add(1, Ordering::SeqCst);
            }
            out.extend_from_slice(&frame);
        }
        out
    }

    fn flush(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The whole length of the first frame in `b`, once all of it is there.
fn frame_len(b: &[u8]) -> Option<usize> {
    if b.len() < 2 {
        return None;
    }
    let masked = b[1] & 0x80 != 0;
    let (len, head) = match b[1] & 0x7f {
        126 => {
            if b.len() < 4 {
                return None;
            }
            (u16::from_be_bytes([b[2], b[3]]) as usize, 4)
        }
        127 => {
            if b.len() < 10 {
                return None;
            }
            let mut n = [0u8; 8];
            n.copy_from_slice(&b[2..10]);
            (usize::try_from(u64::from_be_bytes(n)).ok()?, 10)
        }
        n => (n as usize, 2),
    };
    let total = head + if masked { 4 } else { 0 } + len;
    (b.len() >= total).then_some(total)
}

/// A final, unmasked text frame whose payload is an ack with an id.
fn is_ack_frame(frame: &[u8]) -> bool {
    let (fin, opcode, masked) = (frame[0] & 0x80 != 0, frame[0] & 0x0f, frame[1] & 0x80 != 0);
    if !fin || opcode != 1 || masked {
        return false;
    }
    let head = match frame[1] & 0x7f {
        126 => 4,
        127 => 10,
        _ => 2,
    };
    let payload = &frame[head..];
    let digit_after = |prefix: &[u8]| {
        payload.starts_with(prefix) && payload.get(prefix.len()).is_some_and(u8::is_ascii_digit)
    };
    digit_after(b"{\"ack\":") || digit_after(b"43")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_measured_and_acks_recognised() {
        let text = |p: &[u8]| {
            let mut f = vec![0x81, p.len() as u8];
            f.extend_from_slice(p);
            f
        };
        let ack = text(br#"{"ack":7,"result":true,"error_message":null}"#);
        assert_eq!(frame_len(&ack), Some(ack.len()));
        assert_eq!(frame_len(&ack[..ack.len() - 1]), None);
        assert!(is_ack_frame(&ack));
        assert!(is_ack_frame(&text(b"431[true,null]")));
        assert!(!is_ack_frame(&text(br#"{"ack":null,"result":false}"#)));
        assert!(!is_ack_frame(&text(br#"42["staff_send",{}]"#)));
        assert!(!is_ack_frame(&text(br#"{"event":"x","data":{"ack":1}}"#)));
        let mut long = vec![0x81, 126, 0x01, 0x00];
        long.extend(std::iter::repeat_n(b'x', 256));
        assert_eq!(frame_len(&long), Some(260));
    }
}
