//! `POST /api/v1/ws-ticket`: a short-lived, single-use ticket to open `/ws` with.
//!
//! Browsers cannot set headers on a WebSocket, so the token would otherwise ride in the URL
//! (`/ws?token=…`), where reverse proxies and their logs keep it: a 7-day staff token in a log
//! file. The web UIs instead ask for a ticket with the token in the `Authorization` header and
//! open `/ws?ticket=…`: a ticket works once, within `TICKET_TTL`, and only stands for the token
//! it was issued for (revoking that token still cuts the connection). `?token=` and the header
//! keep working for other clients.

use super::{bearer, require_principal, respond, with_app};
use crate::app::App;
use crate::error::ApiError;
use crate::model::now_ms;
use http::StatusCode;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

/// How long a ticket may wait to be used: a page opens its socket right after asking.
pub const TICKET_TTL: Duration = Duration::from_secs(30);
/// Tickets outstanding at once, server-wide (each is a few hundred bytes).
const MAX_OUTSTANDING: usize = 20_000;
/// Unused tickets one token may hold.
const PER_TOKEN: usize = 4;

/// Tickets not yet used, by the SHA-256 of the ticket: the token each stands for and its expiry.
#[derive(Default)]
pub struct WsTickets {
    open: Mutex<HashMap<Vec<u8>, (String, Instant)>>,
}

impl WsTickets {
    /// A new ticket for `token`; `None` when too many are outstanding.
    pub fn issue(&self, token: &str) -> Option<String> {
        let ticket = crate::auth::new_token();
        let now = Instant::now();
        let mut open = self.open.lock().ok()?;
        // One token asking again and again (a page reconnecting) replaces its unused tickets
        // rather than filling the table for everyone. A scan, but tickets are asked for once
        // per connection and the table is small.
        if open.values().filter(|(t, _)| t == token).count() >= PER_TOKEN {
            open.retain(|_, (t, _)| t != token);
        }
        if open.len() >= MAX_OUTSTANDING {
            open.retain(|_, (_, until)| *until > now);
            if open.len() >= MAX_OUTSTANDING {
                return None;
            }
        }
        open.insert(
            crate::auth::token_hash(&ticket),
            (token.to_string(), now + TICKET_TTL),
        );
        Some(ticket)
    }

    /// The token behind a ticket, once: a used or expired ticket is `None`.
    pub fn redeem(&self, ticket: &str) -> Option<String> {
        let (token, until) = self
            .open
            .lock()
            .ok()?
            .remove(&crate::auth::token_hash(ticket))?;
        (until > Instant::now()).then_some(token)
    }
}

#[derive(Serialize)]
struct Ticket {
    ticket: String,
    expires_at: i64,
}

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "v1" / "ws-ticket")
        .and(warp::post())
        .and(with_app(app))
        .and(bearer())
        .then(|app: App, token: Option<String>| async move {
            respond(StatusCode::CREATED, issue(&app, token).await)
        })
        .boxed()
}

async fn issue(app: &App, token: Option<String>) -> Result<Ticket, ApiError> {
    // Only a token that works gets a ticket.
    require_principal(app, token.clone()).await?;
    let token = token.unwrap_or_default();
    let ticket = app
        .ws_tickets
        .issue(&token)
        .ok_or_else(|| ApiError::rate_limited(TICKET_TTL.as_secs()))?;
    Ok(Ticket {
        ticket,
        expires_at: now_ms() + TICKET_TTL.as_millis() as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_works_once_and_only_for_its_token() {
        let t = WsTickets::default();
        let a = t.issue("token-a").unwrap();
        let b = t.issue("token-b").unwrap();
        assert_ne!(a, b);
        assert_eq!(t.redeem(&b).as_deref(), Some("token-b"));
        assert_eq!(t.redeem(&b), None);
        assert_eq!(t.redeem("not-a-ticket"), None);
        assert_eq!(t.redeem(&a).as_deref(), Some("token-a"));
        // A token asking over and over keeps at most PER_TOKEN unused tickets.
        let many: Vec<String> = (0..10).map(|_| t.issue("token-c").unwrap()).collect();
        assert!(t.open.lock().unwrap().len() <= PER_TOKEN);
        assert_eq!(t.redeem(&many[9]).as_deref(), Some("token-c"));
        assert_eq!(t.redeem(&many[0]), None);
    }
}
