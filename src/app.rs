//! The shared application state handed to every HTTP handler and transport.

use crate::auth::Throttle;
use crate::config::Config;
use crate::live::Live;
use crate::store::Store;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub store: Store,
    pub live: Live,
    /// Failed logins, keyed `ip:<addr>` and `account:<email>`.
    pub login_throttle: Arc<Throttle>,
    /// Visitor creations per IP (the widget's only unauthenticated write).
    pub visitor_throttle: Arc<Throttle>,
    /// The one-time first-run token, present while no admin account exists.
    pub setup_token: Arc<Mutex<Option<String>>>,
    pub started: Instant,
}

impl App {
    pub fn new(config: Config, store: Store, live: Live) -> App {
        let login_throttle = Throttle::new(config.login_max_failures, config.login_window);
        let visitor_throttle =
            Throttle::new(config.visitor_creations_per_minute, Duration::from_secs(60));
        App {
            config: Arc::new(config),
            store,
            live,
            login_throttle: Arc::new(login_throttle),
            visitor_throttle: Arc::new(visitor_throttle),
            setup_token: Arc::new(Mutex::new(None)),
            started: Instant::now(),
        }
    }
}
