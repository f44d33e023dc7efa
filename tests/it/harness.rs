//! Starts and stops the real server, and the small clients every test uses.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_frontdesk");
pub const PASSWORD: &str = "correct-horse-9";

/// A running server. Killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub data: PathBuf,
    config: Option<PathBuf>,
    extra: Vec<String>,
    log: Arc<Mutex<String>>,
    _tmp: Option<Arc<tempfile::TempDir>>,
}

#[derive(Default, Clone)]
pub struct Options {
    /// TOML text for a config file.
    pub config: Option<String>,
    /// Extra `serve` flags.
    pub args: Vec<String>,
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(Options::default())
    }

    pub fn start_with(opts: Options) -> Server {
        let tmp = Arc::new(tempfile::tempdir().expect("tempdir"));
        let data = tmp.path().join("data");
        let config = opts.config.map(|text| {
            let p = tmp.path().join("frontdesk.toml");
            std::fs::write(&p, text).expect("write config");
            p
        });
        let mut s = Server {
            child: None,
            addr: "127.0.0.1:0".parse().unwrap(),
            data,
            config,
            extra: opts.args,
            log: Arc::new(Mutex::new(String::new())),
            _tmp: Some(tmp),
        };
        s.spawn("127.0.0.1:0".parse().unwrap());
        s
    }

    fn spawn(&mut self, listen: SocketAddr) {
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .arg("--listen")
            .arg(listen.to_string())
            .arg("--data")
            .arg(&self.data)
            .args(&self.extra)
            .env_remove("FRONTDESK_LISTEN")
            .env_remove("FRONTDESK_DATA")
            .env_remove("FRONTDESK_CONFIG")
            .env("RUST_LOG", "frontdesk=debug,warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(c) = &self.config {
            cmd.arg("--config").arg(c);
        }
        let mut child = cmd.spawn().expect("start frontdesk");
        let stderr = child.stderr.take().expect("stderr");
        let log = self.log.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    if let (Some(t), Ok(a)) = (tx.take(), rest.trim().parse::<SocketAddr>()) {
                        let _ = t.send(a);
                    }
                }
                let mut l = log.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        self.addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server did not start; log:\n{}", self.log())
            }
        };
        self.child = Some(child);
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the log contains `needle` (panics after `secs`).
    pub fn wait_log(&self, needle: &str, secs: u64) {
        let end = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < end {
            if self.log().contains(needle) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("log never showed {needle:?}:\n{}", self.log());
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// SIGTERM, then waits for the exit status.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(st) = child.try_wait().expect("wait") {
                return st;
            }
            if Instant::now() > end {
                let _ = child.kill();
                panic!("server ignored SIGTERM; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts again on the same data directory and port.
    pub fn restart(&mut self) {
        let addr = self.addr;
        self.log.lock().unwrap().clear();
        self.spawn(addr);
    }

    /// Runs a CLI command against this server's data directory.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        cli(&self.data, args)
    }

    /// Creates a staff account with the CLI; returns its id.
    pub fn add_staff(&self, email: &str, role: &str) -> String {
        let out = self.cli(&[
            "user",
            "add",
            "--email",
            email,
            "--name",
            email,
            "--role",
            role,
            "--password",
            PASSWORD,
        ]);
        assert!(
            out.status.success(),
            "user add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// A staff account and a token for it.
    pub async fn staff(&self, email: &str, role: &str) -> (String, String) {
        let id = self.add_staff(email, role);
        let token = self.login(email).await;
        (id, token)
    }

    pub async fn login(&self, email: &str) -> String {
        let (status, body) = try_login(self, email, PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    /// A new visitor: (id, token).
    pub async fn visitor(&self, name: Option<&str>) -> (String, String) {
        let body = match name {
            Some(n) => json!({"name": n}),
            None => json!({}),
        };
        let (status, v) = post(self, "/api/v1/visitors", body, None).await;
        assert_eq!(status, 201, "{v}");
        (
            v["visitor"]["id"].as_str().unwrap().to_string(),
            v["access_token"].as_str().unwrap().to_string(),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn cli(data: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("FRONTDESK_DATA")
        .env_remove("FRONTDESK_CONFIG")
        .output()
        .expect("run frontdesk")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Tries to log in; returns the status and body.
pub async fn try_login(s: &Server, email: &str, password: &str) -> (u16, Value) {
    post(
        s,
        "/api/v1/auth/login",
        json!({"email": email, "password": password}),
        None,
    )
    .await
}

/// POST JSON; returns status and parsed body (Null if empty).
pub async fn post(s: &Server, path: &str, body: Value, token: Option<&str>) -> (u16, Value) {
    let mut req = http().post(s.url(path)).json(&body);
    if let Some(t) = token {
        req = req.header("Authorization", t);
    }
    into_json(req.send().await.expect("request")).await
}

pub async fn get(s: &Server, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut req = http().get(s.url(path));
    if let Some(t) = token {
        req = req.header("Authorization", t);
    }
    into_json(req.send().await.expect("request")).await
}

pub async fn into_json(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    let v = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, v)
}

/// Asserts the error body of product.md §3.
pub fn assert_error(status: u16, body: &Value, want_status: u16) {
    assert_eq!(status, want_status, "{body}");
    assert!(body["error"]["code"].is_string(), "no error.code in {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "no error.message in {body}"
    );
}

/// PATCH JSON; returns status and parsed body.
pub async fn patch(s: &Server, path: &str, body: Value, token: Option<&str>) -> (u16, Value) {
    let mut req = http().patch(s.url(path)).json(&body);
    if let Some(t) = token {
        req = req.header("Authorization", t);
    }
    into_json(req.send().await.expect("request")).await
}

/// `PATCH /api/v1/settings` as `admin`; panics unless it is accepted. Returns the settings.
pub async fn set_settings(s: &Server, admin: &str, body: Value) -> Value {
    let (status, v) = patch(s, "/api/v1/settings", body.clone(), Some(admin)).await;
    assert_eq!(status, 200, "PATCH settings {body}: {v}");
    v
}

/// `PATCH /api/v1/staff/{id}` `{"max_chats": n}` as `admin`; panics unless it is accepted.
pub async fn set_max_chats(s: &Server, admin: &str, id: &str, n: i64) {
    let (status, v) = patch(
        s,
        &format!("/api/v1/staff/{id}"),
        json!({ "max_chats": n }),
        Some(admin),
    )
    .await;
    assert_eq!(status, 200, "PATCH max_chats {n}: {v}");
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}
