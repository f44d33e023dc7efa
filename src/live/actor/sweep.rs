//! The sweeper: re-checks live connections against the database, since the CLI (another
//! process) can revoke tokens, disable accounts or change roles behind this one's back.

use super::{Command, Live, Revoke, REVALIDATE_EVERY};
use crate::live::plan::ConnId;
use crate::store::Store;
use tokio::sync::oneshot;

/// Every `REVALIDATE_EVERY`: expired connections are cut (from memory, in the owner task), and
/// the staff connections' tokens are checked in one query; those revoked, expired, disabled
/// or of a changed role are cut. Changes made through this process's HTTP API are cut at once
/// by `Live::revoke`; this catches the CLI (another process) and any race with a handshake
/// that was checked just before the change.
pub(super) async fn sweep(live: Live, store: Store) {
    let mut every = tokio::time::interval(REVALIDATE_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let (tx, rx) = oneshot::channel();
        if live.tx.send(Command::Sweep(tx)).await.is_err() {
            return;
        }
        let Ok(staff) = rx.await else { return };
        if staff.is_empty() {
            continue;
        }
        let hashes: Vec<Vec<u8>> = staff.iter().map(|s| s.1.clone()).collect();
        let valid = match store
            .read(move |c| crate::store::accounts::live_staff_tokens(c, &hashes))
            .await
        {
            Ok(v) => v,
            Err(e) => {
                // Never cut everyone because one read failed; the next tick tries again.
                tracing::warn!(error = %e, "could not re-check the staff connections' tokens");
                continue;
            }
        };
        let stale: Vec<ConnId> = staff
            .into_iter()
            .filter(|(_, hash, role)| valid.get(hash) != Some(&role.id()))
            .map(|(conn, _, _)| conn)
            .collect();
        if !stale.is_empty() {
            live.revoke(Revoke::Conns(stale)).await;
        }
    }
}
