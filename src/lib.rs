//! The `frontdesk` library: every module of the server. The binary (`src/main.rs`) is a thin
//! entry point over it; the library exists so that `cargo fuzz` targets (`fuzz/`) can link the
//! pure parsers and the live core directly.
//!
//! A new module is declared HERE (`pub mod x;`), not in `main.rs`.

pub mod app;
pub mod auth;
pub mod avatar;
pub mod cli;
pub mod commands;
pub mod config;
pub mod email;
pub mod error;
pub mod hours;
pub mod http;
pub mod live;
pub mod model;
pub mod net;
pub mod notify;
pub mod push;
pub mod realtime;
pub mod server;
pub mod settings;
pub mod sniff;
pub mod store;
pub mod supervise;
pub mod webhooks;

/// What the `cargo fuzz` targets assert, and the crash inputs they found as unit tests.
#[doc(hidden)]
pub mod fuzzing;
