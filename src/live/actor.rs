//! The one owner of the live state: a task that takes commands from both transports in order,
//! asks `LiveState` for a plan, and hands the plan to the database writer as one job. Right
//! after each COMMIT the writer hands the result to the delivery task, which answers the sender
//! and delivers the events: in command order, and only once durable.

use super::deliver::{deliver, Committed, Delivery, ResolvedSend};
use super::events::Request;
use super::outbox::{self, Outbox, OutboxRx, Outgoing, OUTBOX_BYTES_STAFF, OUTBOX_BYTES_VISITOR};
use super::plan::{ConnId, Plan, Reply, Timer};
use super::refusal::say;
use super::state::{Counts, LiveConfig, LiveState};
use crate::auth::{Credential, Principal};
use crate::model::now_ms;
use crate::model::Role;
use crate::store::chats;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

mod forget;
mod sweep;

const QUEUE_TICK: Duration = Duration::from_millis(500);
/// How often live connections are checked against their tokens: expiry from memory, and staff
/// tokens against the database (a CLI in another process may have disabled the account or
/// changed its password; nothing tells this process but the file). Half a second keeps the
/// promise "cut within a second" with one small query per tick, and only for staff
/// connections (a few dozen); the thousands of visitor connections cost no query.
const REVALIDATE_EVERY: Duration = Duration::from_millis(500);

/// Answers a client event: the transport decides how (Socket.IO ack or `/ws` frame).
pub type Replier = Box<dyn FnOnce(Reply) + Send>;

enum Command {
    Connect {
        conn: ConnId,
        who: Principal,
        cred: Credential,
        force: bool,
        outbox: Outbox,
    },
    /// These connections lose their right to be here: cut them as if their sockets dropped.
    Revoke(Revoke),
    /// Cut expired connections; answer with the staff connections to check in the database.
    Sweep(oneshot::Sender<Vec<StaffCheck>>),
    Disconnect {
        conn: ConnId,
    },
    Request {
        conn: ConnId,
        req: Request,
        reply: Option<Replier>,
    },
    Timer(Timer),
    Tick,
    /// The admin changed the settings.
    /// Boxed: the largest command by far, and rare.
    Settings(Box<crate::settings::Settings>),
    /// An admin changed a staff account (its capacity).
    StaffChanged(crate::model::Staff),
    /// What a widget asks before creating a visitor (`GET /api/v1/availability`).
    Welcome(oneshot::Sender<crate::live::state::Welcome>),
    /// A party of a chat sent a file (already on disk): its `type_id` 2 message.
    Post {
        by: crate::live::events::By,
        chat_id: crate::model::ChatId,
        posted: crate::live::events::Posted,
        reply: oneshot::Sender<Reply>,
    },
    /// The canned replies changed (an admin edited them).
    Canned(Vec<crate::store::canned::Canned>),
    /// An admin deletes a visitor and everything of theirs (`actor/forget.rs`).
    Forget(Box<forget::Forget>, oneshot::Sender<forget::Forgot>),
    Shutdown(oneshot::Sender<()>),
}

/// Whose live connections to cut.
#[derive(Debug, Clone)]
pub enum Revoke {
    /// The connections opened with this token (by its hash): a logout.
    Token(Vec<u8>),
    /// Every connection of this staff member: disabled, password changed, role changed.
    Staff(crate::model::StaffId),
    /// These connections (the sweeper found their tokens no longer good).
    Conns(Vec<ConnId>),
}

/// A staff connection as the sweeper checks it: its token hash and the role it connected with.
type StaffCheck = (ConnId, Vec<u8>, Role);

/// What the owner task keeps of each connection's right to be connected.
struct Held {
    cred: Credential,
    /// The staff id and role it connected with; `None` for a visitor.
    staff: Option<(crate::model::StaffId, Role)>,
}

/// A handle to the live state, cheap to clone, shared by every transport.
#[derive(Clone)]
pub struct Live {
    tx: mpsc::Sender<Command>,
    next_conn: Arc<AtomicU64>,
    counts: Arc<Mutex<Counts>>,
    pub events_delivered: Arc<AtomicU64>,
    pub commands: Arc<AtomicU64>,
    pub messages_stored: Arc<AtomicU64>,
    /// The email outbox, told of a plan's notices after its commit (`None`: no email).
    pub mailer: Option<crate::email::Mailer>,
    /// The Web Push sender, told of a plan's pushes after its commit (`None`: no push).
    pub pusher: Option<crate::push::Pusher>,
    /// The webhook sender, told of a plan's webhook events after its commit (`None`: none).
    pub webhooks: Option<crate::webhooks::Webhooks>,
}

impl Live {
    /// Restores the open chats from the store and starts the owner task.
    pub async fn start(
        store: Store,
        cfg: LiveConfig,
        mailer: Option<crate::email::Mailer>,
        pusher: Option<crate::push::Pusher>,
        webhooks: Option<crate::webhooks::Webhooks>,
    ) -> Result<Live, crate::error::StoreError> {
        let settings = store.read(crate::store::accounts::load_settings).await?;
        let settings = crate::settings::Settings::from_rows(&settings);
        // Offers waiting for an answer matter only while routing is automatic.
        let offers = settings.routing != crate::settings::RoutingMode::Manual;
        let restored = store
            .read(move |c| chats::load_open_chats(c, offers))
            .await?;
        let (tx, rx) = mpsc::channel(4096);
        let live = Live {
            tx,
            next_conn: Arc::new(AtomicU64::new(1)),
            counts: Arc::new(Mutex::new(Counts::default())),
            events_delivered: Arc::new(AtomicU64::new(0)),
            commands: Arc::new(AtomicU64::new(0)),
            messages_stored: Arc::new(AtomicU64::new(0)),
            mailer,
            pusher,
            webhooks,
        };
        let mut state = LiveState::new(cfg);
        state.settings = settings;
        state.push_staff = live.pusher.as_ref().map(|p| p.subscribed().clone());
        if let Some(w) = &live.webhooks {
            state.hooks = w.mask().clone();
        }
        state.canned = store
            .read(|c| Ok(crate::store::canned::load_canned(c)?))
            .await?;
        let n = restored.len();
        if store.read(chats::any_chat).await? {
            // A restart, not a first start: give the consoles time to come back before
            // anyone is told nobody is available.
            state.restarted(now_ms());
        }
        let plan = state.restore(restored, now_ms());
        if n > 0 {
            tracing::info!(open_chats = n, "restored open chats from the database");
        }
        let (deliveries, to_deliver) = mpsc::unbounded_channel();
        crate::supervise::spawn_critical("live delivery", deliver(to_deliver, live.clone()));
        let runner = Runner {
            state,
            store: store.clone(),
            outboxes: HashMap::new(),
            held: HashMap::new(),
            next_expiry: i64::MAX,
            live: live.clone(),
            deliveries,
        };
        tokio::spawn(sweep::sweep(live.clone(), store));
        crate::supervise::spawn_critical("live state", runner.run(rx, plan));
        let ticker = live.tx.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(QUEUE_TICK);
            loop {
                every.tick().await;
                if ticker.send(Command::Tick).await.is_err() {
                    return;
                }
            }
        });
        Ok(live)
    }

    /// A new connection id and its outbox.
    pub fn open(&self, staff: bool) -> (ConnId, Outbox, OutboxRx) {
        let limit = if staff {
            OUTBOX_BYTES_STAFF
        } else {
            OUTBOX_BYTES_VISITOR
        };
        let (outbox, rx) = outbox::pair(limit);
        let id = ConnId(self.next_conn.fetch_add(1, Ordering::Relaxed));
        (id, outbox, rx)
    }

    /// Signs `conn` in as `who`, for as long as `cred` (the token it came with) stays good.
    pub async fn connect(
        &self,
        conn: ConnId,
        who: Principal,
        cred: Credential,
        force: bool,
        outbox: Outbox,
    ) {
        let _ = self
            .tx
            .send(Command::Connect {
                conn,
                who,
                cred,
                force,
                outbox,
            })
            .await;
    }

    /// Cuts live connections that lost their right to be here (see `Revoke`): each one leaves
    /// the live state at once, exactly as a dropped socket does (the reconnect grace included),
    /// and its transport closes after the frames queued before.
    pub async fn revoke(&self, which: Revoke) {
        let _ = self.tx.send(Command::Revoke(which)).await;
    }

    pub async fn disconnect(&self, conn: ConnId) {
        let _ = self.tx.send(Command::Disconnect { conn }).await;
    }

    /// Queues a client event. If the server is stopping, it is answered at once.
    pub async fn request(&self, conn: ConnId, req: Request, reply: Option<Replier>) {
        self.commands.fetch_add(1, Ordering::Relaxed);
        if let Err(mpsc::error::SendError(Command::Request { reply: Some(r), .. })) =
            self.tx.send(Command::Request { conn, req, reply }).await
        {
            r(Err(say::SHUTTING_DOWN));
        }
    }

    /// New settings, applied from now on.
    pub async fn set_settings(&self, settings: crate::settings::Settings) {
        let _ = self.tx.send(Command::Settings(Box::new(settings))).await;
    }

    /// A staff account changed (e.g. an admin set its `max_chats`).
    pub async fn staff_changed(&self, staff: crate::model::Staff) {
        let _ = self.tx.send(Command::StaffChanged(staff)).await;
    }

    /// Whether a visitor who writes now reaches someone, when the business opens, the
    /// pre-chat form and the widget's texts.
    pub async fn welcome(&self) -> crate::live::state::Welcome {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Command::Welcome(tx)).await.is_err() {
            return Default::default();
        }
        rx.await.unwrap_or_default()
    }

    /// A party of a chat sends a message over HTTP: a file that is already on disk (and in
    /// `attachments`, `type_id` 2, `content` = `{"attachment": …}`) or a text (`type_id` 1).
    /// The chat's visitor while it is open, or staff serving it; decided and delivered exactly
    /// as a chat message of that party; `Ok` only after the commit.
    pub async fn post(
        &self,
        by: crate::live::events::By,
        chat_id: crate::model::ChatId,
        posted: crate::live::events::Posted,
    ) -> Reply {
        let (tx, rx) = oneshot::channel();
        let cmd = Command::Post {
            by,
            chat_id,
            posted,
            reply: tx,
        };
        if self.tx.send(cmd).await.is_err() {
            return Err(say::SHUTTING_DOWN);
        }
        rx.await.unwrap_or(Err(say::SHUTTING_DOWN))
    }

    /// The canned replies changed: every console hears the new list.
    pub async fn canned_changed(&self, list: Vec<crate::store::canned::Canned>) {
        let _ = self.tx.send(Command::Canned(list)).await;
    }

    /// Closes every connection (after what is queued for it) and stops taking commands.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Command::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }

    pub fn counts(&self) -> Counts {
        self.counts.lock().map(|c| *c).unwrap_or_default()
    }
}

struct Runner {
    state: LiveState,
    store: Store,
    outboxes: HashMap<ConnId, Outbox>,
    /// The token behind each signed-in connection.
    held: HashMap<ConnId, Held>,
    /// The earliest `expires_at` in `held` (or earlier): no scan for expiry before it.
    next_expiry: i64,
    live: Live,
    deliveries: mpsc::UnboundedSender<Delivery>,
}

impl Runner {
    async fn run(mut self, mut rx: mpsc::Receiver<Command>, restore: Plan) {
        self.carry_out(restore, None).await;
        while let Some(cmd) = rx.recv().await {
            let now = now_ms();
            match cmd {
                Command::Connect {
                    conn,
                    who,
                    cred,
                    force,
                    outbox,
                } => {
                    if self.forgotten(&who, &outbox) {
                        continue;
                    }
                    self.outboxes.insert(conn, outbox);
                    self.next_expiry = self.next_expiry.min(cred.expires_at);
                    let staff = match &who {
                        Principal::Staff(s) => Some((s.id.clone(), s.role_id)),
                        Principal::Visitor(_) => None,
                    };
                    self.held.insert(conn, Held { cred, staff });
                    let plan = self.state.connect(conn, &who, force, now);
                    self.carry_out(plan, None).await;
                }
                Command::Disconnect { conn } => {
                    let plan = self.state.disconnect(conn, now);
                    self.outboxes.remove(&conn);
                    self.held.remove(&conn);
                    self.carry_out(plan, None).await;
                }
                Command::Revoke(which) => {
                    let conns = self.revoked(&which);
                    self.cut(conns, now).await;
                }
                Command::Sweep(answer) => {
                    if now >= self.next_expiry {
                        let expired: Vec<ConnId> = self
                            .held
                            .iter()
                            .filter(|(_, h)| h.cred.expires_at <= now)
                            .map(|(c, _)| *c)
                            .collect();
                        self.cut(expired, now).await;
                        self.next_expiry = self
                            .held
                            .values()
                            .map(|h| h.cred.expires_at)
                            .min()
                            .unwrap_or(i64::MAX);
                    }
                    let staff = self
                        .held
                        .iter()
                        .filter_map(|(c, h)| {
                            h.staff
                                .as_ref()
                                .map(|(_, role)| (*c, h.cred.hash.clone(), *role))
                        })
                        .collect();
                    let _ = answer.send(staff);
                }
                Command::Request { conn, req, reply } => {
                    let plan = self.state.request(conn, req, now);
                    self.carry_out(plan, reply).await;
                }
                Command::Timer(t) => {
                    let plan = self.state.timer(t, now);
                    self.carry_out(plan, None).await;
                }
                Command::Settings(settings) => {
                    let plan = self.state.set_settings(*settings, now);
                    self.carry_out(plan, None).await;
                }
                Command::StaffChanged(staff) => {
                    let plan = self.state.staff_changed(&staff, now);
                    self.carry_out(plan, None).await;
                }
                Command::Welcome(answer) => {
                    let _ = answer.send(self.state.welcome(now));
                }
                Command::Post {
                    by,
                    chat_id,
                    posted,
                    reply,
                } => {
                    let plan = self.state.post(&by, &chat_id, posted, now);
                    let answer: Replier = Box::new(move |r| {
                        let _ = reply.send(r);
                    });
                    self.carry_out(plan, Some(answer)).await;
                }
                Command::Canned(list) => {
                    let plan = self.state.set_canned(list);
                    self.carry_out(plan, None).await;
                }
                Command::Forget(f, done) => self.forget(f, done, now).await,
                Command::Tick => {
                    let plan = self.state.tick(now);
                    self.carry_out(plan, None).await;
                    if let Ok(mut c) = self.live.counts.lock() {
                        *c = self.state.counts();
                    }
                }
                Command::Shutdown(done) => {
                    rx.close();
                    // Whatever is still queued is answered, not dropped.
                    while let Ok(cmd) = rx.try_recv() {
                        if let Command::Request { reply: Some(r), .. } = cmd {
                            r(Err(say::SHUTTING_DOWN));
                        }
                    }
                    // Everything queued commits and is delivered, then every connection closes.
                    let _ = self.store.write(|_| Ok(())).await;
                    let (closed, wait) = oneshot::channel();
                    let all = self.outboxes.values().cloned().collect();
                    if self
                        .deliveries
                        .send(Delivery::CloseAll(all, closed))
                        .is_ok()
                    {
                        let _ = wait.await;
                    }
                    let _ = done.send(());
                    return;
                }
            }
        }
    }

    /// The signed-in connections a revocation applies to.
    fn revoked(&self, which: &Revoke) -> Vec<ConnId> {
        match which {
            Revoke::Conns(conns) => conns.clone(),
            Revoke::Token(hash) => self
                .held
                .iter()
                .filter(|(_, h)| &h.cred.hash == hash)
                .map(|(c, _)| *c)
                .collect(),
            Revoke::Staff(id) => self
                .held
                .iter()
                .filter(|(_, h)| h.staff.as_ref().is_some_and(|(s, _)| s == id))
                .map(|(c, _)| *c)
                .collect(),
        }
    }

    /// Takes connections out of the live state now, through the same path as a dropped socket
    /// (the reconnect grace keeps a staff member's chats for a console that comes back with a
    /// still-good token, e.g. after a role change), and closes them. From here on nothing is
    /// resolved to their outboxes, and their events are refused as not signed in; the close
    /// is queued behind what was already queued, so the transport ends the socket at once.
    async fn cut(&mut self, conns: Vec<ConnId>, now: i64) {
        for conn in conns {
            self.held.remove(&conn);
            let Some(outbox) = self.outboxes.remove(&conn) else {
                continue;
            };
            let plan = self.state.disconnect(conn, now);
            outbox.push(Outgoing::Close);
            self.carry_out(plan, None).await;
        }
    }

    /// Sets the plan's timers and hands its writes and deliveries to the writer.
    async fn carry_out(&mut self, plan: Plan, reply: Option<Replier>) {
        for (after, timer) in plan.timers.iter().cloned() {
            let tx = self.live.tx.clone();
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                let _ = tx.send(Command::Timer(timer)).await;
            });
        }
        let answer = plan.reply.clone();
        if plan.ops.is_empty()
            && plan.sends.is_empty()
            && plan.closes.is_empty()
            && plan.notices.is_empty()
            && plan.pushes.is_empty()
            && plan.hooks.is_empty()
        {
            if let (Some(r), Some(a)) = (reply, answer) {
                r(a);
            }
            return;
        }
        let slots = plan.slot_count();
        let Plan {
            ops,
            sends,
            closes,
            notices,
            pushes,
            hooks,
            ..
        } = plan;
        // Resolve connections now: a connection that closes later still gets what was
        // decided while it was open.
        let sends: Vec<ResolvedSend> = sends
            .into_iter()
            .map(|s| {
                let to =
                    s.to.iter()
                        .filter_map(|c| self.outboxes.get(c).cloned())
                        .collect();
                (to, s.event.name(), s.payload)
            })
            .collect();
        let closes: Vec<Outbox> = closes
            .iter()
            .filter_map(|c| self.outboxes.get(c).cloned())
            .collect();
        let deliveries = self.deliveries.clone();
        let res = self
            .store
            .write_then(
                move |conn| chats::apply(conn, &ops, slots),
                // On the writer thread: hand over and return to committing at once; rendering
                // and delivery happen on the delivery task, in the same (commit) order.
                move |result| {
                    let _ = deliveries.send(Delivery::Commit(Committed {
                        result,
                        reply,
                        answer,
                        sends,
                        closes,
                        notices,
                        pushes,
                        hooks,
                    }));
                },
            )
            .await;
        if res.is_err() {
            tracing::warn!(
                "the database writer has stopped; a live chat command was not carried out"
            );
        }
    }
}
