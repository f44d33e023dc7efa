//! Delivery: the task that answers and delivers committed plans, in commit order, right after
//! the writer's COMMIT (nobody is told of a write that could still be lost). The owner task
//! (`live/actor.rs`) resolves each send's connections and hands the plan over here.

use super::actor::{Live, Replier};
use super::outbox::{Outbox, Outgoing};
use super::plan::Reply;
use super::refusal::say;
use super::render::{render, shows_any};
use crate::store::chats::Slot;
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};

/// A send with its recipients' outboxes: (outboxes, event name, payload).
pub(super) type ResolvedSend = (Vec<Outbox>, &'static str, super::plan::Payload);

/// A committed plan, waiting to be answered and delivered.
pub(super) struct Committed {
    pub result: Result<Vec<Slot>, crate::error::StoreError>,
    pub reply: Option<Replier>,
    pub answer: Option<Reply>,
    pub sends: Vec<ResolvedSend>,
    pub closes: Vec<Outbox>,
    /// Emails to hand to the outbox once committed.
    pub notices: Vec<crate::email::Notice>,
    /// Web pushes to hand to the push sender once committed.
    pub pushes: Vec<crate::push::Push>,
    /// Webhook events to hand to the webhook sender once committed.
    pub hooks: Vec<crate::webhooks::Fire>,
}

pub(super) enum Delivery {
    Commit(Committed),
    /// Shutdown: close these after everything before, then say so.
    CloseAll(Vec<Outbox>, oneshot::Sender<()>),
}

/// Answers and delivers committed plans in commit order.
pub(super) async fn deliver(mut rx: mpsc::UnboundedReceiver<Delivery>, live: Live) {
    while let Some(d) = rx.recv().await {
        let c = match d {
            Delivery::Commit(c) => c,
            Delivery::CloseAll(outboxes, done) => {
                for o in outboxes {
                    o.push(Outgoing::Close);
                }
                let _ = done.send(());
                continue;
            }
        };
        match c.result {
            Ok(filled) => {
                let new = filled
                    .iter()
                    .filter(|s| matches!(s, Slot::Message(_)))
                    .count();
                live.messages_stored
                    .fetch_add(new as u64, Ordering::Relaxed);
                if let (Some(r), Some(a)) = (c.reply, c.answer) {
                    r(a);
                }
                let mut n = 0u64;
                // A resent message (same client id) was stored before and told then: what
                // shows it is not delivered again.
                let resent: Vec<usize> = filled
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| matches!(s, Slot::Duplicate(_)))
                    .map(|(i, _)| i)
                    .collect();
                for (to, name, payload) in c.sends {
                    if !resent.is_empty() && shows_any(&payload.0, &resent) {
                        continue;
                    }
                    let data = render(&payload.0, &filled);
                    for outbox in to {
                        outbox.push(Outgoing::Event {
                            name,
                            data: data.clone(),
                        });
                        n += 1;
                    }
                }
                live.events_delivered.fetch_add(n, Ordering::Relaxed);
                if let Some(mailer) = &live.mailer {
                    for notice in c.notices {
                        mailer.notify(notice);
                    }
                }
                if let Some(pusher) = &live.pusher {
                    for push in c.pushes {
                        pusher.notify(push);
                    }
                }
                if let Some(webhooks) = &live.webhooks {
                    for fire in c.hooks {
                        // A resent message was told of when it was stored.
                        if !resent.is_empty() && shows_any(&fire.data, &resent) {
                            continue;
                        }
                        webhooks.notify(crate::webhooks::Fired {
                            event: fire.event,
                            at: fire.at,
                            data: render(&fire.data, &filled),
                        });
                    }
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "a live chat write failed; its events are dropped");
                if let Some(r) = c.reply {
                    r(Err(say::SAVE_FAILED));
                }
            }
        }
        for outbox in c.closes {
            outbox.push(Outgoing::Close);
        }
    }
}
