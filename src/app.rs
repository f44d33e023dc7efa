//! The shared application state handed to every HTTP handler and transport.

use crate::auth::{LoginGuard, Throttle};
use crate::config::Config;
use crate::live::Live;
use crate::store::Store;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Live connections by transport and role, for `/metrics`.
#[derive(Default)]
pub struct Connections {
    /// [transport: 0 = socket.io, 1 = ws][role: 0 = staff, 1 = visitor]
    counts: [[std::sync::atomic::AtomicI64; 2]; 2],
}

pub const TRANSPORTS: [&str; 2] = ["socketio", "ws"];
pub const ROLES: [&str; 2] = ["staff", "visitor"];

impl Connections {
    /// Counts a connection until the guard drops.
    pub fn open(self: &Arc<Self>, transport: usize, staff: bool) -> ConnectionGuard {
        let role = usize::from(!staff);
        self.counts[transport][role].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        ConnectionGuard {
            of: self.clone(),
            transport,
            role,
        }
    }

    pub fn get(&self, transport: usize, role: usize) -> i64 {
        self.counts[transport][role].load(std::sync::atomic::Ordering::Relaxed)
    }
}

pub struct ConnectionGuard {
    of: Arc<Connections>,
    transport: usize,
    role: usize,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.of.counts[self.transport][self.role]
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    pub live: Live,
    /// Login attempts (reserved before verifying) and the argon2 slots.
    pub login: Arc<LoginGuard>,
    /// Visitor creations per IP (the widget's only unauthenticated write).
    pub visitor_throttle: Arc<Throttle>,
    /// The one-time first-run token, present while no admin account exists.
    pub setup_token: Arc<Mutex<Option<String>>>,
    pub started: Instant,
    pub connections: Arc<Connections>,
    /// Single-use tickets for opening `/ws` without a token in the URL (http/tickets.rs).
    pub ws_tickets: Arc<crate::http::tickets::WsTickets>,
}

impl App {
    pub fn new(config: Config, store: Store, live: Live) -> App {
        let login = LoginGuard::new(
            config.login_max_failures,
            config.login_account_max_failures,
            config.login_window,
        );
        let visitor_throttle =
            Throttle::new(config.visitor_creations_per_minute, Duration::from_secs(60));
        App {
            config: Arc::new(config),
            store,
            live,
            login: Arc::new(login),
            visitor_throttle: Arc::new(visitor_throttle),
            setup_token: Arc::new(Mutex::new(None)),
            started: Instant::now(),
            connections: Arc::default(),
            ws_tickets: Arc::default(),
        }
    }
}
