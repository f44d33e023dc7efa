//! Email over SMTP (issue 15, product.md §8.10): the settings (`settings.rs`), the emails
//! themselves (`compose.rs`), one SMTP exchange (`smtp.rs`) and the outbox task here.
//!
//! Nothing here is on the chat path: the live state's rules put a `Notice` in their plan, the
//! delivery task hands it over (`Mailer::notify`, never waits) once the plan is committed, and
//! the outbox task composes the email from the settings of that moment and sends it, retried
//! with backoff; a notice waits in the `email_outbox` table until it is sent or given up, so a
//! restart resumes it (`outbox.rs`). The last outcome per kind of email is kept for admins
//! (`GET /api/v1/email/status`). The emails to visitors (missed replies with a resume link, the
//! transcript) are in `visitor.rs`.

pub mod compose;
mod outbox;
pub mod settings;
pub mod smtp;
pub mod visitor;

use crate::model::{ChatId, Visitor};
use crate::settings::Settings;
use crate::store::{accounts, email as store_email, Store};
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
    /// Staff replies the visitor has not seen, while they are away (state/unseen.rs): the
    /// visitor hears them, with a link that resumes the chat.
    VisitorReplies {
        chat_id: ChatId,
        visitor: Visitor,
        /// The visitor's read pointer: the replies after it are the unseen ones.
        after_seq: i64,
    },
    /// The transcript of an ended chat, asked for by its visitor (http/visitor_email.rs).
    Transcript {
        chat_id: ChatId,
        visitor: Visitor,
        to: lettre::message::Mailbox,
    },
}

impl Notice {
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::OfflineMessage { .. } => "offline_message",
            Notice::VisitorReplies { .. } => "visitor_replies",
            Notice::Transcript { .. } => "transcript",
        }
    }
}

/// How long a resume link works.
pub const RESUME_LINK_TTL: Duration = Duration::from_secs(7 * 86_400);
/// At most this many messages in one email (a transcript of a longer chat says it is cut).
pub const MAX_EXCERPT: i64 = 2000;

/// What an email needs from the database besides the notice, read once before the first try.
#[derive(Default)]
pub struct Loaded {
    pub excerpt: Option<store_email::ChatExcerpt>,
    /// `{public_url}/chat/?resume=TOKEN`.
    pub resume_url: Option<String>,
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

    /// Hands a notice to the outbox task; never waits. `false`: dropped (the outbox is full).
    pub fn notify(&self, notice: Notice) -> bool {
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
            return false;
        }
        true
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

    /// Reads what the notice's email shows (the chat's messages; for unseen replies, a new
    /// resume link kept hashed). `Ok(None)`: nothing to send (email off, or nothing unseen).
    async fn load(&self, notice: &Notice) -> Result<Option<Loaded>, String> {
        let failed = |e: crate::error::StoreError| format!("The chat could not be read: {e}.");
        match notice {
            Notice::OfflineMessage { .. } => Ok(Some(Loaded::default())),
            Notice::VisitorReplies {
                chat_id,
                visitor,
                after_seq,
            } => {
                if !self.settings().await?.email.is_on() {
                    return Ok(None);
                }
                let (id, after) = (chat_id.0.clone(), *after_seq);
                let excerpt = self
                    .store
                    .read(move |c| store_email::chat_excerpt(c, &id, after, MAX_EXCERPT))
                    .await
                    .map_err(failed)?;
                if !excerpt.messages.iter().any(visitor::is_reply) {
                    return Ok(None);
                }
                let (token, hash, expires_at) = crate::auth::mint(RESUME_LINK_TTL);
                let (vid, cid) = (visitor.id.0.clone(), chat_id.0.clone());
                self.store
                    .write(move |c| {
                        store_email::insert_resume_link(c, &hash, &vid, &cid, expires_at)
                    })
                    .await
                    .map_err(|e| format!("The resume link could not be kept: {e}."))?;
                Ok(Some(Loaded {
                    excerpt: Some(excerpt),
                    resume_url: Some(format!("{}/chat/?resume={token}", self.public_url)),
                }))
            }
            Notice::Transcript { chat_id, .. } => {
                let id = chat_id.0.clone();
                let excerpt = self
                    .store
                    .read(move |c| store_email::chat_excerpt(c, &id, 0, MAX_EXCERPT))
                    .await
                    .map_err(failed)?;
                Ok(Some(Loaded {
                    excerpt: Some(excerpt),
                    resume_url: None,
                }))
            }
        }
    }

    /// Sends one notice (kept in the outbox table as `row` until sent or given up), after
    /// `tried` tries in an earlier run.
    async fn deliver(&self, notice: Notice, row: Option<i64>, tried: u32, retry_first: Duration) {
        self.try_deliver(notice, row, tried, retry_first).await;
        outbox::done(&self.store, row).await;
    }

    /// Composes and sends one notice, retrying transient failures.
    async fn try_deliver(
        &self,
        notice: Notice,
        row: Option<i64>,
        tried: u32,
        retry_first: Duration,
    ) {
        let kind = notice.kind();
        let loaded = match self.load(&notice).await {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(why) => {
                tracing::warn!(kind, error = %why, "an email could not be prepared");
                self.record(kind, 0, Err(why));
                return;
            }
        };
        let mut wait = retry_first.saturating_mul(4u32.saturating_pow(tried.min(8)));
        for attempt in tried.saturating_add(1)..=MAX_ATTEMPTS {
            // Composed at each try from the settings of that moment: an admin who fixes the
            // SMTP URL while an email waits to retry gets it sent with the fix.
            let composed = match self.settings().await {
                Ok(s) => compose::notice(&s, &self.public_url, &notice, &loaded),
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
                    outbox::tried(&self.store, row, attempt).await;
                }
            }
            tokio::time::sleep(wait).await;
            wait = wait.saturating_mul(4);
        }
    }
}

async fn run(mailer: Mailer, mut rx: mpsc::Receiver<Notice>, retry_first: Duration) {
    let slots = Arc::new(Semaphore::new(PARALLEL));
    // What the last run left first, then what comes.
    let mut resumed = outbox::waiting(&mailer.store).await.into_iter();
    loop {
        let (notice, row, tried) = match resumed.next() {
            Some((row, notice, tried)) => (notice, Some(row), tried),
            None => match rx.recv().await {
                Some(notice) => {
                    let row = outbox::keep(&mailer.store, &notice).await;
                    (notice, row, 0)
                }
                None => return,
            },
        };
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let m = mailer.clone();
        tokio::spawn(async move {
            m.deliver(notice, row, tried, retry_first).await;
            drop(slot);
        });
    }
}
