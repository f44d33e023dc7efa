//! Deleting a visitor while they may be live (issue 16, data protection): the owner task asks
//! the rule (`state/forget.rs`) to forget them — their connection closes, their chat leaves the
//! rooms and queues, the consoles hear it end — carries that plan out, and queues the deletion
//! of every row of theirs (`store::privacy::delete_visitor`) with its audit entry as the very
//! next writer job. Commands are taken in order and the writer commits in order, so whatever
//! was decided for the visitor before is deleted with the rest, and nothing is decided for
//! them after: the state no longer knows them, and a connection with a token checked just
//! before the deletion is closed at once.

use super::{Command, Live, Runner};
use crate::auth::Principal;
use crate::error::StoreError;
use crate::live::outbox::{Outbox, Outgoing};
use crate::model::VisitorId;
use crate::store::audit::{self, Actor};
use tokio::sync::oneshot;

/// How a deletion went: `None` for no such visitor, else the stored names of their attachment
/// files, to remove now that the deletion is committed.
pub type Forgot = Result<Option<Vec<String>>, StoreError>;

/// A deletion asked of the owner task: whom, and who asked (for the audit log).
pub struct Forget {
    pub visitor: VisitorId,
    pub by: Actor,
}

impl Live {
    /// Deletes a visitor and everything of theirs, live state included; answers after the
    /// commit.
    pub async fn forget_visitor(&self, visitor: VisitorId, by: Actor) -> Forgot {
        let (tx, rx) = oneshot::channel();
        let cmd = Command::Forget(Box::new(Forget { visitor, by }), tx);
        if self.tx.send(cmd).await.is_err() {
            return Err(StoreError::WriterGone);
        }
        rx.await.unwrap_or(Err(StoreError::WriterGone))
    }
}

impl Runner {
    /// A visitor connection whose visitor was deleted is closed instead of signed in.
    pub(super) fn forgotten(&self, who: &Principal, outbox: &Outbox) -> bool {
        match who {
            Principal::Visitor(v) if self.state.is_forgotten(&v.id) => {
                outbox.push(Outgoing::Close);
                true
            }
            _ => false,
        }
    }

    pub(super) async fn forget(&mut self, f: Box<Forget>, done: oneshot::Sender<Forgot>, now: i64) {
        let Forget { visitor, by } = *f;
        let plan = self.state.forget_visitor(&visitor, now);
        let cut = plan.closes.clone();
        self.carry_out(plan, None).await;
        for conn in cut {
            self.held.remove(&conn);
            self.outboxes.remove(&conn);
        }
        let res = self
            .store
            .write_then(
                move |c| {
                    let Some((chats, files)) = crate::store::privacy::delete_visitor(c, &visitor)?
                    else {
                        return Ok(None);
                    };
                    let detail = serde_json::json!({"chats": chats, "files": files.len()});
                    audit::record(
                        c,
                        &by,
                        "visitor.deleted",
                        Some(("visitor", &visitor)),
                        detail,
                    )?;
                    Ok(Some(files))
                },
                move |r| {
                    let _ = done.send(r);
                },
            )
            .await;
        if res.is_err() {
            tracing::warn!("the database writer has stopped; a visitor was not deleted");
        }
    }
}
