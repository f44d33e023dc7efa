//! Email over SMTP (issue 15, product.md §8.10): the settings (`settings.rs`), the emails
//! themselves (`compose.rs`), one SMTP exchange (`smtp.rs`) and the outbox task here.
//!
//! Nothing here is on the chat path: the live state's rules put a `Notice` in their plan, the
//! delivery task hands it over (`Mailer::notify`, never waits) once the plan is committed, and
//! the outbox task composes the email from the settings of that moment and sends it, retried
//! with backoff. The last outcome per kind of email is kept for admins
//! (`GET /api/v1/email/status`).

pub mod compose;
pub mod settings;
pub mod smtp;

use crate::model::{ChatId, Visitor};
use crate::settings::Settings;
use crate::store::{accounts, Store};
use serde::Serialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};

/// How many times one email is tried in all.
pub const MAX_ATTEMPTS: u32 = 5;
/// Notices waiting for the outbox task; past it a notice is dropped (with a warning and a
/// status) rather than make anyone wait.
const QUEUE: usize = 1024;
/// Emails being sent (or waiting to retry) at once.
const PARALLEL: usize = 4;

/// Something the live state decided someone should hear by email.
#[derive(Debug, Clone)]
pub enum Notice {
    /// A visitor wrote while nobody was available (once per chat as it starts waiting
    /// offline): the staff notification list hears it.
    OfflineMessage {
        chat_id: ChatId,
        visitor: Visitor,
        content: Arc<RawValue>,
    },
}

impl Notice {
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::OfflineMessage { .. } => "offline_message",
        }
    }
}

/// The last outcome of one kind of email.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Status {
    /// When (ms since the epoch).
    pub at: i64,
    pub ok: bool,
    /// Tries so far for that email.
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The outbox: cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    tx: mpsc::Sender<Notice>,
    status: Arc<Mutex<BTreeMap<&'static str, Status>>>,
    store: Store,
    public_url: Arc<str>,
}

impl Mailer {
    /// Starts the outbox task. `retry_first` is the wait before the second try; each next wait
    /// is four times longer.
    pub fn start(store: Store, public_url: &str, retry_first: Duration) -> Mailer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let mailer = Mailer {
            tx,
            status: Arc::default(),
            store,
            public_url: public_url.trim_end_matches('/').into(),
        };
        tokio::spawn(run(mailer.clone(), rx, retry_first));
        mailer
    }

    /// Hands a notice to the outbox task; never waits.
    pub fn notify(&self, notice: Notice) {
        if let Err(e) = self.tx.try_send(notice) {
            let kind = match &e {
                mpsc::error::TrySendError::Full(n) | mpsc::error::TrySendError::Closed(n) => {
                    n.kind()
                }
            };
            tracing::warn!(
                kind,
                "the email outbox is full or stopped; an email is dropped"
            );
            self.record(kind, 0, Err("Not sent: too many emails waiting.".into()));
        }
    }

    /// The last outcome per kind.
    pub fn status(&self) -> BTreeMap<&'static str, Status> {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn record(&self, kind: &'static str, attempts: u32, outcome: Result<(), String>) {
        let status = Status {
            at: crate::model::now_ms(),
            ok: outcome.is_ok(),
            attempts,
            error: outcome.err(),
        };
        if let Ok(mut s) = self.status.lock() {
            s.insert(kind, status);
        }
    }

    async fn settings(&self) -> Result<Settings, String> {
        self.store
            .read(accounts::load_settings)
            .await
            .map(|rows| Settings::from_rows(&rows))
            .map_err(|e| format!("The settings could not be read: {e}."))
    }

    /// `POST /api/v1/email/test`: one email to `to`, now, tried once; the outcome in a
    /// sentence (also the `test` status).
    pub async fn send_test(&self, to: &str) -> Result<(), String> {
        let outcome = async {
            let settings = self.settings().await?;
            let to = settings::mailbox(to).map_err(|why| format!("to: {why}"))?;
            let (url, message) = compose::test(&settings, &self.public_url, to)?;
            smtp::send(&url, message).await.map_err(|e| e.sentence)
        }
        .await;
        self.record("test", 1, outcome.clone());
        outcome
    }

    /// Composes and sends one notice, retrying transient failures.
    async fn deliver(&self, notice: Notice, retry_first: Duration) {
        let kind = notice.kind();
        let mut wait = retry_first;
        for attempt in 1..=MAX_ATTEMPTS {
            // Composed at each try from the settings of that moment: an admin who fixes the
            // SMTP URL while an email waits to retry gets it sent with the fix.
            let composed = match self.settings().await {
                Ok(s) => compose::notice(&s, &self.public_url, &notice),
                Err(why) => Err(why),
            };
            let (url, message) = match composed {
                Ok(Some(c)) => c,
                // Email off, or nobody to tell: nothing to do, nothing to report.
                Ok(None) => return,
                Err(why) => {
                    tracing::warn!(kind, error = %why, "an email could not be composed");
                    self.record(kind, attempt, Err(why));
                    return;
                }
            };
            match smtp::send(&url, message).await {
                Ok(()) => {
                    tracing::info!(kind, attempt, "email sent");
                    self.record(kind, attempt, Ok(()));
                    return;
                }
                Err(e) => {
                    let last = e.permanent || attempt == MAX_ATTEMPTS;
                    tracing::warn!(kind, attempt, error = %e.sentence, last, "email not sent");
                    self.record(kind, attempt, Err(e.sentence));
                    if last {
                        return;
                    }
                }
            }
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(4);
        }
    }
}

async fn run(mailer: Mailer, mut rx: mpsc::Receiver<Notice>, retry_first: Duration) {
    let slots = Arc::new(Semaphore::new(PARALLEL));
    while let Some(notice) = rx.recv().await {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let m = mailer.clone();
        tokio::spawn(async move {
            m.deliver(notice, retry_first).await;
            drop(slot);
        });
    }
}
