//! Integration tests: one test binary (one link) that starts the real `frontdesk` binary on a free
//! loopback port with a temporary data directory and drives it through real clients.

mod conv;
mod harness;
mod peer;
mod proxy;
mod rt;
mod smtp_sink;

mod attachments;
mod authz_matrix;
mod canned;
mod cli_ops;
mod context;
mod conversation;
mod crash_kill;
mod email;
mod email_visitor;
mod hardening;
mod history;
mod http_api;
mod live_core;
mod load_check;
mod notes;
mod offline;
mod openapi;
mod presence;
mod privacy;
mod profiles;
mod protocol;
mod push;
mod receipts;
mod reports;
mod resilience;
mod resume;
mod routing;
mod security_accounts;
mod security_net;
mod transcript;
mod transfer;
mod webhooks;
mod widget_look;
