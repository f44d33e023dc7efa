//! Every setting in one place: its type, its default, where it comes from.
//!
//! Order of precedence: command-line flags, then `FRONTDESK_*` environment variables (both
//! handled by clap), then the TOML file named by `--config` / `FRONTDESK_CONFIG`, then the
//! defaults below. Unknown keys and bad values in the file are errors naming the key.

use crate::cli::{Place, ServeArgs};
use crate::store::Synchronous;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA: &str = "./frontdesk-data";
/// A sleeping phone or a shop tab closed and reopened later must not end a chat: minutes.
pub const DEFAULT_VISITOR_GRACE_SECS: u64 = 900;
/// A Wi-Fi drop or a console tab closed by mistake: the chats wait for the agent.
pub const DEFAULT_STAFF_GRACE_SECS: u64 = 300;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config key `{key}`: {message}")]
    Invalid { key: &'static str, message: String },
}

/// The file's keys. All optional; `deny_unknown_fields` turns a typo into an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data: Option<PathBuf>,
    pub reconnect_grace: Option<u64>,
    pub visitor_reconnect_grace: Option<u64>,
    pub staff_reconnect_grace: Option<u64>,
    pub public_url: Option<String>,
    pub log_level: Option<String>,
    pub log_format: Option<LogFormat>,
    pub synchronous: Option<Synchronous>,
    pub trust_proxy_headers: Option<bool>,
    pub staff_token_ttl_secs: Option<u64>,
    pub visitor_token_ttl_secs: Option<u64>,
    pub login_max_failures: Option<usize>,
    pub login_window_secs: Option<u64>,
    pub login_account_max_failures: Option<usize>,
    pub visitor_creations_per_minute: Option<usize>,
    pub max_body_bytes: Option<usize>,
    pub max_content_bytes: Option<usize>,
    pub max_events_per_sec: Option<u32>,
    pub max_staffs_in_chat: Option<usize>,
    pub max_attachment_bytes: Option<usize>,
    pub max_connections: Option<usize>,
    pub max_connections_per_ip: Option<usize>,
    pub max_pending_per_ip: Option<usize>,
    pub header_read_timeout_secs: Option<u64>,
    pub socketio_connect_timeout_secs: Option<u64>,
    pub socketio_anonymous_per_ip: Option<usize>,
    pub socketio_anonymous_total: Option<usize>,
    pub email_retry_first_ms: Option<u64>,
    pub webhook_retry_first_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Plain,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// How long a visitor whose connections all dropped has to come back before it counts as
    /// gone (a sleeping phone, a closed tab reopened): the chat stays open meanwhile.
    pub visitor_reconnect_grace: Duration,
    /// The same for staff (a Wi-Fi drop, a console tab closed by mistake).
    pub staff_reconnect_grace: Duration,
    /// The URL people reach us at (behind a proxy); defaults to `http://<listen>`.
    pub public_url: String,
    pub log_level: String,
    pub log_format: LogFormat,
    pub synchronous: Synchronous,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_proxy_headers: bool,
    pub staff_token_ttl: Duration,
    pub visitor_token_ttl: Duration,
    pub login_max_failures: usize,
    pub login_window: Duration,
    /// Failed logins per account in the window, from all addresses together, past which an
    /// address that already failed on that account is refused (a clean address never is, so
    /// nobody can lock the owner out; see `auth::LoginGuard`).
    pub login_account_max_failures: usize,
    /// New visitors one IP may create per minute (the widget's only unauthenticated write).
    pub visitor_creations_per_minute: usize,
    pub max_body_bytes: usize,
    pub max_content_bytes: usize,
    pub max_events_per_sec: u32,
    pub max_staffs_in_chat: usize,
    pub max_attachment_bytes: usize,
    /// Open TCP connections in all; `None`: the file-descriptor limit minus a reserve
    /// (server.rs). Past it a connection is answered 503 and closed, never left to EMFILE.
    pub max_connections: Option<usize>,
    /// Open connections from one TCP peer address. 256 fits an office behind one NAT: a browser
    /// holds about 6 connections per site, so ~40 people on the widget or console at once;
    /// an attacker on one address holds at most this many file descriptors.
    pub max_connections_per_ip: usize,
    /// Connections from one TCP peer that have not yet sent a complete first request head.
    /// Legitimate clients send theirs within milliseconds, so even a busy office has few at
    /// once; 64 leaves room for a burst of page loads while slowloris gets little.
    pub max_pending_per_ip: usize,
    /// A request head (the first, and each keep-alive one) must arrive within this; it is also
    /// how long a new connection may stay silent before its first request.
    pub header_read_timeout: Duration,
    /// How long an Engine.IO session may live without a Socket.IO CONNECT (socketioxide's
    /// default is 45 s; a real client sends CONNECT within one round trip).
    pub socketio_connect_timeout: Duration,
    /// Engine.IO handshakes without a token from one client IP per connect-timeout window:
    /// since each such session lives at most that window unauthenticated, this bounds what one
    /// address can make the server hold.
    pub socketio_anonymous_per_ip: usize,
    /// The same, from all addresses together.
    pub socketio_anonymous_total: usize,
    /// An email that failed waits this long before its second try, four times longer before
    /// each next one (src/email/); tests make it short.
    pub email_retry_first: Duration,
    /// A webhook delivery that failed waits this long before its second try, then 4×, 20×,
    /// 120× and 720× as long (src/webhooks/); tests make it short.
    pub webhook_retry_first: Duration,
}

fn load_file(path: Option<&Path>) -> Result<FileConfig, ConfigError> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

fn positive<T: PartialOrd + Default + Copy>(
    key: &'static str,
    v: Option<T>,
    default: T,
) -> Result<T, ConfigError> {
    match v {
        Some(x) if x <= T::default() => Err(ConfigError::Invalid {
            key,
            message: "must be greater than 0".into(),
        }),
        Some(x) => Ok(x),
        None => Ok(default),
    }
}

impl Config {
    /// The settings for `serve`.
    pub fn resolve(args: &ServeArgs) -> Result<Config, ConfigError> {
        let file = load_file(args.place.config.as_deref())?;
        let listen = match (args.listen, &file.listen) {
            (Some(a), _) => a,
            (None, Some(s)) => s.parse().map_err(|_| ConfigError::Invalid {
                key: "listen",
                message: format!("`{s}` is not an address such as 127.0.0.1:8080"),
            })?,
            (None, None) => DEFAULT_LISTEN.parse().expect("default listen address"),
        };
        let data_dir = data_dir(&args.place, &file);
        let log_level = file.log_level.clone().unwrap_or_else(|| "info".into());
        if !["error", "warn", "info", "debug", "trace"].contains(&log_level.as_str()) {
            return Err(ConfigError::Invalid {
                key: "log_level",
                message: format!("`{log_level}` is not one of error, warn, info, debug, trace"),
            });
        }
        let public_url = match &file.public_url {
            Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
                u.trim_end_matches('/').to_string()
            }
            Some(u) => {
                return Err(ConfigError::Invalid {
                    key: "public_url",
                    message: format!("`{u}` must start with http:// or https://"),
                })
            }
            None => format!("http://{listen}"),
        };
        let secs = Duration::from_secs;
        Ok(Config {
            listen,
            data_dir,
            // Flags beat the file; the specific key beats the one that sets both.
            visitor_reconnect_grace: secs(
                args.visitor_reconnect_grace
                    .or(args.reconnect_grace)
                    .or(file.visitor_reconnect_grace)
                    .or(file.reconnect_grace)
                    .unwrap_or(DEFAULT_VISITOR_GRACE_SECS),
            ),
            staff_reconnect_grace: secs(
                args.staff_reconnect_grace
                    .or(args.reconnect_grace)
                    .or(file.staff_reconnect_grace)
                    .or(file.reconnect_grace)
                    .unwrap_or(DEFAULT_STAFF_GRACE_SECS),
            ),
            public_url,
            log_level,
            log_format: file.log_format.unwrap_or_default(),
            synchronous: file.synchronous.unwrap_or_default(),
            trust_proxy_headers: file.trust_proxy_headers.unwrap_or(false),
            staff_token_ttl: secs(positive(
                "staff_token_ttl_secs",
                file.staff_token_ttl_secs,
                7 * 86_400,
            )?),
            visitor_token_ttl: secs(positive(
                "visitor_token_ttl_secs",
                file.visitor_token_ttl_secs,
                30 * 86_400,
            )?),
            login_max_failures: positive("login_max_failures", file.login_max_failures, 10)?,
            login_window: secs(positive("login_window_secs", file.login_window_secs, 900)?),
            login_account_max_failures: positive(
                "login_account_max_failures",
                file.login_account_max_failures,
                100,
            )?,
            visitor_creations_per_minute: positive(
                "visitor_creations_per_minute",
                file.visitor_creations_per_minute,
                30,
            )?,
            max_body_bytes: positive("max_body_bytes", file.max_body_bytes, 64 * 1024)?,
            max_content_bytes: positive("max_content_bytes", file.max_content_bytes, 16 * 1024)?,
            max_events_per_sec: positive("max_events_per_sec", file.max_events_per_sec, 20)?,
            max_staffs_in_chat: positive("max_staffs_in_chat", file.max_staffs_in_chat, 5)?,
            max_attachment_bytes: positive(
                "max_attachment_bytes",
                file.max_attachment_bytes,
                10 * 1024 * 1024,
            )?,
            max_connections: match file.max_connections {
                Some(n) => Some(positive("max_connections", Some(n), 1)?),
                None => None,
            },
            max_connections_per_ip: positive(
                "max_connections_per_ip",
                file.max_connections_per_ip,
                256,
            )?,
            max_pending_per_ip: positive("max_pending_per_ip", file.max_pending_per_ip, 64)?,
            header_read_timeout: secs(positive(
                "header_read_timeout_secs",
                file.header_read_timeout_secs,
                10,
            )?),
            socketio_connect_timeout: secs(positive(
                "socketio_connect_timeout_secs",
                file.socketio_connect_timeout_secs,
                5,
            )?),
            socketio_anonymous_per_ip: positive(
                "socketio_anonymous_per_ip",
                file.socketio_anonymous_per_ip,
                64,
            )?,
            socketio_anonymous_total: positive(
                "socketio_anonymous_total",
                file.socketio_anonymous_total,
                2048,
            )?,
            // 30 s, 2 min, 8 min, 32 min: past a greylisting server's first refusal.
            email_retry_first: Duration::from_millis(positive(
                "email_retry_first_ms",
                file.email_retry_first_ms,
                30_000,
            )?),
            // 30 s, 2 min, 10 min, 1 h, 6 h.
            webhook_retry_first: Duration::from_millis(positive(
                "webhook_retry_first_ms",
                file.webhook_retry_first_ms,
                30_000,
            )?),
        })
    }
}

/// The data directory for the commands that only need the database.
pub fn resolve_data_dir(place: &Place) -> Result<PathBuf, ConfigError> {
    let file = load_file(place.config.as_deref())?;
    Ok(data_dir(place, &file))
}

/// The listen address for `healthcheck`.
pub fn resolve_listen(place: &Place, flag: Option<SocketAddr>) -> Result<SocketAddr, ConfigError> {
    Config::resolve(&ServeArgs {
        listen: flag,
        place: place.clone(),
        ..Default::default()
    })
    .map(|c| c.listen)
}

fn data_dir(place: &Place, file: &FileConfig) -> PathBuf {
    place
        .data
        .clone()
        .or_else(|| file.data.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_file(text: &str) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        std::fs::write(&path, text).unwrap();
        Config::resolve(&ServeArgs {
            place: Place {
                config: Some(path),
                data: None,
            },
            ..Default::default()
        })
    }

    #[test]
    fn defaults_apply_without_a_file() {
        let c = Config::resolve(&ServeArgs::default()).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.data_dir, PathBuf::from(DEFAULT_DATA));
        assert_eq!(c.visitor_reconnect_grace, Duration::from_secs(900));
        assert_eq!(c.staff_reconnect_grace, Duration::from_secs(300));
        assert_eq!(c.max_staffs_in_chat, 5);
        assert_eq!(c.max_connections, None);
        assert_eq!(c.max_connections_per_ip, 256);
        assert_eq!(c.max_pending_per_ip, 64);
        assert_eq!(c.header_read_timeout, Duration::from_secs(10));
        assert_eq!(c.socketio_connect_timeout, Duration::from_secs(5));
    }

    #[test]
    fn flags_beat_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:9000\"\nreconnect_grace = 3\n").unwrap();
        let c = Config::resolve(&ServeArgs {
            listen: Some("127.0.0.1:9100".parse().unwrap()),
            place: Place {
                config: Some(path),
                data: None,
            },
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.listen.port(), 9100);
        assert_eq!(c.visitor_reconnect_grace, Duration::from_secs(3));
        assert_eq!(c.staff_reconnect_grace, Duration::from_secs(3));
    }

    #[test]
    fn the_specific_grace_beats_the_one_for_both_and_flags_beat_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.toml");
        std::fs::write(
            &path,
            "reconnect_grace = 3
staff_reconnect_grace = 7
visitor_reconnect_grace = 8
",
        )
        .unwrap();
        let place = Place {
            config: Some(path),
            data: None,
        };
        let c = Config::resolve(&ServeArgs {
            place: place.clone(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.visitor_reconnect_grace, Duration::from_secs(8));
        assert_eq!(c.staff_reconnect_grace, Duration::from_secs(7));
        // `--reconnect-grace 0` (the seed's behaviour) beats both keys of the file...
        let c = Config::resolve(&ServeArgs {
            place: place.clone(),
            reconnect_grace: Some(0),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.visitor_reconnect_grace, Duration::ZERO);
        assert_eq!(c.staff_reconnect_grace, Duration::ZERO);
        // ...and a specific flag beats the flag for both.
        let c = Config::resolve(&ServeArgs {
            place,
            reconnect_grace: Some(0),
            staff_reconnect_grace: Some(20),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(c.visitor_reconnect_grace, Duration::ZERO);
        assert_eq!(c.staff_reconnect_grace, Duration::from_secs(20));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let e = with_file("lisen = \"x\"\n").unwrap_err().to_string();
        assert!(e.contains("lisen"), "{e}");
        let e = with_file("reconnect_grace = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("reconnect_grace"), "{e}");
        let e = with_file("listen = \"nowhere\"\n").unwrap_err().to_string();
        assert!(e.contains("`listen`"), "{e}");
        let e = with_file("max_staffs_in_chat = 0\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_staffs_in_chat"), "{e}");
        let e = with_file("log_format = \"xml\"\n").unwrap_err().to_string();
        assert!(e.contains("log_format"), "{e}");
    }
}
