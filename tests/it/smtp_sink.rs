//! A small SMTP server on loopback for the email tests (tests/it/email.rs), and a parser for
//! what it receives: headers, the parts of a multipart/alternative body, quoted-printable and
//! base64 decoded as lettre encodes them.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One email as the sink received it.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub from: String,
    pub rcpt: Vec<String>,
    /// `AUTH PLAIN` user and password, if the client logged in.
    pub auth: Option<(String, String)>,
    pub data: String,
}

/// A small SMTP server on loopback: EHLO (offering `AUTH PLAIN`, never STARTTLS), AUTH, MAIL,
/// RCPT, DATA, RSET, NOOP, QUIT. It answers 451 to the first `refuse` DATA commands.
pub struct Sink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    pub connections: Arc<AtomicUsize>,
    /// The first bytes each connection sent (to tell TLS from SMTP).
    pub first_bytes: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Sink {
    pub async fn start(refuse: usize) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let connections: Arc<AtomicUsize> = Arc::default();
        let first_bytes: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let refuse = Arc::new(AtomicUsize::new(refuse));
        let (m, c, f) = (mails.clone(), connections.clone(), first_bytes.clone());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                let (m, f, refuse) = (m.clone(), f.clone(), refuse.clone());
                tokio::spawn(async move {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(30), session(sock, m, f, refuse))
                            .await;
                });
            }
        });
        Sink {
            port,
            mails,
            connections,
            first_bytes,
        }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits (at most 15 s) until `n` emails arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let end = Instant::now() + Duration::from_secs(15);
        while Instant::now() < end {
            let got = self.mails();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{n} emails never arrived; got {:?}", self.mails());
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }
}

async fn session(
    sock: tokio::net::TcpStream,
    mails: Arc<Mutex<Vec<Mail>>>,
    first: Arc<Mutex<Vec<Vec<u8>>>>,
    refuse: Arc<AtomicUsize>,
) -> std::io::Result<()> {
    let (r, mut w) = sock.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut mail = Mail::default();
    let mut seen_first = false;
    loop {
        let mut line = String::new();
        let mut raw = Vec::new();
        if r.read_until(b'\n', &mut raw).await? == 0 {
            return Ok(());
        }
        if !seen_first {
            seen_first = true;
            first.lock().unwrap().push(raw.clone());
        }
        line.push_str(&String::from_utf8_lossy(&raw));
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 AUTH PLAIN LOGIN\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") || upper == "RSET" {
            b"250 OK\r\n"
        } else if upper.starts_with("AUTH PLAIN ") {
            let decoded = b64(&cmd[11..]);
            let parts: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
            if parts.len() == 3 {
                mail.auth = Some((
                    String::from_utf8_lossy(parts[1]).into(),
                    String::from_utf8_lossy(parts[2]).into(),
                ));
            }
            b"235 2.7.0 Authentication successful\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            mail.from = angle(&cmd);
            mail.rcpt.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            mail.rcpt.push(angle(&cmd));
            b"250 OK\r\n"
        } else if upper == "DATA" {
            let refused = refuse
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if refused {
                w.write_all(b"451 4.3.0 Try again later\r\n").await?;
                continue;
            }
            w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = Vec::new();
            loop {
                let mut l = Vec::new();
                if r.read_until(b'\n', &mut l).await? == 0 {
                    return Ok(());
                }
                if l == b".\r\n" {
                    break;
                }
                // Dot-stuffing.
                let l = if l.starts_with(b"..") {
                    &l[1..]
                } else {
                    &l[..]
                };
                data.extend_from_slice(l);
            }
            mail.data = String::from_utf8_lossy(&data).into();
            mails.lock().unwrap().push(mail.clone());
            b"250 2.0.0 Queued\r\n"
        } else if upper == "QUIT" {
            w.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 5.5.2 Command not recognized\r\n"
        };
        w.write_all(reply).await?;
    }
}

/// The address between `<` and `>`.
fn angle(cmd: &str) -> String {
    let start = cmd.find('<').map(|i| i + 1).unwrap_or(0);
    let end = cmd[start..]
        .find('>')
        .map(|i| i + start)
        .unwrap_or(cmd.len());
    cmd[start..end].to_string()
}

fn b64(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let Some(v) = A.iter().position(|a| *a == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn quoted_printable(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') {
                i += 3; // soft line break
                continue;
            }
            if b.get(i + 1) == Some(&b'\n') {
                i += 2;
                continue;
            }
            let hex = std::str::from_utf8(&b[i + 1..(i + 3).min(b.len())]).unwrap_or("");
            if let Ok(v) = u8::from_str_radix(hex, 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// A MIME entity: headers (names lower-cased, folded lines joined) and body.
fn entity(raw: &str) -> (BTreeMap<String, String>, String) {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let mut headers = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in head.lines() {
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some(k) = &last {
                let v: &mut String = headers.get_mut(k).unwrap();
                v.push(' ');
                v.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            let k = k.trim().to_ascii_lowercase();
            headers.insert(k.clone(), v.trim().to_string());
            last = Some(k);
        }
    }
    (headers, body.to_string())
}

/// The decoded body of an entity.
fn decoded(headers: &BTreeMap<String, String>, body: &str) -> String {
    let cte = headers
        .get("content-transfer-encoding")
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let bytes = match cte.as_str() {
        "quoted-printable" => quoted_printable(body),
        "base64" => b64(body),
        _ => body.as_bytes().to_vec(),
    };
    String::from_utf8(bytes).expect("UTF-8 body")
}

/// An email's headers and its text and HTML parts, decoded.
pub struct Parsed {
    pub headers: BTreeMap<String, String>,
    pub text: String,
    pub html: String,
}

pub fn parse(mail: &Mail) -> Parsed {
    let (headers, body) = entity(&mail.data);
    let ct = headers.get("content-type").cloned().unwrap_or_default();
    assert!(ct.starts_with("multipart/alternative"), "{ct}");
    let boundary = ct
        .split("boundary=")
        .nth(1)
        .expect("a boundary")
        .trim_matches('"')
        .to_string();
    let (mut text, mut html) = (None, None);
    for part in body.split(&format!("--{boundary}")).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let (h, b) = entity(part.trim_start_matches(['\r', '\n']));
        let pct = h.get("content-type").cloned().unwrap_or_default();
        let content = decoded(&h, b.trim_end_matches('\n'));
        if pct.starts_with("text/plain") {
            text = Some(content);
        } else if pct.starts_with("text/html") {
            html = Some(content);
        }
    }
    Parsed {
        headers,
        text: text.expect("a text/plain part").replace("\r\n", "\n"),
        html: html.expect("a text/html part"),
    }
}
