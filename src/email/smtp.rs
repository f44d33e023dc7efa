//! One SMTP exchange with lettre: connect as `smtp_url` says (STARTTLS, implicit TLS or plain),
//! log in if it names a user, send, quit. The outcome is a sentence for admins that never
//! contains the password.

use super::settings::{Security, SmtpUrl};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Each network step of an exchange (connect, each command) must finish within this.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);
/// The whole exchange.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(60);

/// Why an email was not sent.
#[derive(Debug, Clone)]
pub struct Failure {
    pub sentence: String,
    /// The server said no for good (5xx): trying again will not help.
    pub permanent: bool,
}

pub async fn send(url: &SmtpUrl, message: Message) -> Result<(), Failure> {
    let tls = |host: &str| {
        TlsParameters::new(host.to_string()).map_err(|e| Failure {
            sentence: format!("TLS could not be set up for {host}: {e}."),
            permanent: true,
        })
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(url.host.as_str())
        .port(url.port)
        .timeout(Some(STEP_TIMEOUT));
    b = match url.security {
        Security::Implicit => b.tls(Tls::Wrapper(tls(&url.host)?)),
        Security::StartTls => b.tls(Tls::Required(tls(&url.host)?)),
        Security::Opportunistic => b.tls(Tls::Opportunistic(tls(&url.host)?)),
        Security::None => b.tls(Tls::None),
    };
    if let Some(user) = &url.user {
        b = b.credentials(Credentials::new(
            user.clone(),
            url.password.clone().unwrap_or_default(),
        ));
    }
    let transport = b.build();
    let where_ = format!("{}:{}", url.host, url.port);
    match tokio::time::timeout(TOTAL_TIMEOUT, transport.send(message)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(Failure {
            sentence: describe(&e, &where_),
            permanent: e.is_permanent(),
        }),
        Err(_) => Err(Failure {
            sentence: format!(
                "The SMTP server at {where_} did not finish within {} seconds.",
                TOTAL_TIMEOUT.as_secs()
            ),
            permanent: false,
        }),
    }
}

/// lettre's error as a sentence (it names the server's reply or the network/TLS problem, never
/// the credentials).
fn describe(e: &lettre::transport::smtp::Error, at: &str) -> String {
    let what = if e.is_permanent() {
        "refused the email"
    } else if e.is_transient() {
        "asked to try again later"
    } else if e.is_tls() {
        "could not be reached over TLS"
    } else if e.is_timeout() {
        "did not answer in time"
    } else {
        "could not be used"
    };
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    format!("The SMTP server at {at} {what} ({detail}).")
}
