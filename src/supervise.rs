//! What a panic does. No input a client controls should reach a panic (content is checked at
//! the door, nothing stored is rendered through a panicking path); this is the defence in depth
//! behind that.
//!
//! Release builds unwind (`panic = "unwind"` in Cargo.toml) instead of aborting: a panic in one
//! connection's task or one HTTP request ends that task alone, and hyper and socketioxide drop
//! just that connection; everyone else carries on. The few parts everything depends on — the live
//! state's owner and delivery tasks, the database writer and checkpointer threads — end the
//! process instead (abort): a server that lost one of them would look alive and do nothing, while
//! a restarted one (systemd `Restart=`) takes its open chats back from SQLite within milliseconds
//! and loses no acked message.

use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;

/// Threads whose panic stops the process.
const CRITICAL_THREADS: [&str; 2] = ["frontdesk-writer", "frontdesk-checkpoint"];

/// Logs every panic through tracing (with where it happened), and aborts on a critical thread.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("?");
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(thread = name, %location, "panic: {info}");
        default(info);
        if CRITICAL_THREADS.contains(&name) {
            std::process::abort();
        }
    }));
}

/// Spawns a task the whole server depends on: if it panics, the process aborts.
pub fn spawn_critical<F>(name: &'static str, task: F) -> tokio::task::JoinHandle<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        if AssertUnwindSafe(task).catch_unwind().await.is_err() {
            tracing::error!(
                task = name,
                "a critical task panicked; stopping the process"
            );
            std::process::abort();
        }
    })
}
