//! SQLite storage. All SQL of the program lives under this module.
//!
//! - `writer`: the one writer thread with group commit; `Store::write` answers after the commit.
//! - reads use their own connections (`Store::read`), so they never wait behind a commit.
//! - `migrate`: the schema (`schema.sql`) applied by numbered migrations.
//! - `accounts`: staff, visitors, access tokens, settings.

pub mod accounts;
pub mod attachments;
pub mod audit;
pub mod backup;
pub mod canned;
pub mod chats;
pub mod email;
pub mod history;
pub mod migrate;
pub mod ops;
pub mod privacy;
pub mod push;
pub mod reports;
pub mod search;
#[cfg(target_env = "musl")]
pub mod sqlite_alloc;
pub mod webhooks;
pub mod writer;

use crate::error::StoreError;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use writer::{FnJob, WriterHandle};

pub const DB_FILE: &str = "frontdesk.db";

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: WriterHandle,
    readers: Mutex<Vec<Connection>>,
    /// At most `READERS` reads at once: a burst of reads queues for a pooled connection instead
    /// of opening (and caching pages for) hundreds of connections on hundreds of threads.
    read_slots: tokio::sync::Semaphore,
}

/// Read connections kept open.
const READERS: usize = 4;

/// How hard SQLite syncs: `full` survives power loss; `normal` survives a crash of the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    #[default]
    Full,
    Normal,
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // A plan that does not depend on bound values. Without it, SQLite (built with STAT4) marks
    // a statement like `... WHERE chat_id = ?` for re-preparing whenever that parameter is
    // rebound, so every cached statement on the messages index was parsed and planned again on
    // each use: 45% of the writer's time under load. We keep no statistics for it to use anyway.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // Every statement the writer runs stays prepared.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// How often the checkpointer copies the WAL back into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// A WAL longer than this (pages, 40 MB) is finished by the writer (see
/// `start_checkpointer`). Each finish stalls the writer for a few milliseconds (the pages
/// committed since the last pass, then a sync of the database): at 2,000 messages/s over
/// 10,000 chats (a page each) a limit of 2,000 pages meant two or three stalls a second and
/// an ack p99 of 7-14 ms; this one, one stall every few seconds and 4 ms.
const WAL_FINISH_PAGES: i64 = 10000;
/// What the WAL file is cut back to when it starts over.
const WAL_FILE_LIMIT_BYTES: i64 = 64 << 20;
/// SQLite's own checkpoint in the writer, only past this: a safety net.
const WRITER_AUTOCHECKPOINT_PAGES: i64 = 40000;

/// Keeps the WAL short without stalling the writer. Every `CHECKPOINT_EVERY` a PASSIVE
/// checkpoint copies what is committed, alongside the writer. With a writer that never pauses
/// such a checkpoint never quite finishes, and the WAL only starts over once one does; so when
/// the WAL passes `WAL_FINISH_PAGES` the writer is asked to finish it between two batches, after
/// answering the first: only the pages committed since this pass are left to copy. (Left to
/// SQLite, the writer itself copied 4,000 pages and synced the database in the middle of a
/// commit, delaying every ack queued behind it.) Ends when the database can no longer be opened
/// (the data dir went away).
fn start_checkpointer(path: &Path, finish: Arc<AtomicBool>) -> Result<(), StoreError> {
    let conn = Connection::open(path)?;
    configure(&conn)?;
    std::thread::Builder::new()
        .name("frontdesk-checkpoint".into())
        .spawn(move || loop {
            std::thread::sleep(CHECKPOINT_EVERY);
            match conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1)) {
                Ok(wal_pages) => {
                    if wal_pages > WAL_FINISH_PAGES {
                        finish.store(true, Ordering::Relaxed);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                    if !conn
                        .path()
                        .is_some_and(|p| std::path::Path::new(p).exists())
                    {
                        return;
                    }
                }
            }
        })?;
    Ok(())
}

impl Store {
    /// Opens (creating if needed) `<data_dir>/frontdesk.db`, applies pending migrations and
    /// starts the writer.
    pub fn open(data_dir: &Path, sync: Synchronous) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(DB_FILE);
        let mut conn = Connection::open(&path)?;
        configure(&conn)?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Invalid(format!(
                "could not put {} in WAL mode (got {mode})",
                path.display()
            )));
        }
        let sync_name = match sync {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync_name)?;
        // The writer touches the hot pages of every open chat; keep them cached (4 MiB).
        conn.pragma_update(None, "cache_size", -4096)?;
        migrate::migrate(&mut conn, &path)?;
        accounts::ensure_organisation(&conn)?;
        // Checkpoints run on their own thread (`start_checkpointer`), off the writer's path.
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)?;
        // When the WAL starts over, its file is cut back to this.
        conn.pragma_update(None, "journal_size_limit", WAL_FILE_LIMIT_BYTES)?;
        let finish_checkpoint = Arc::new(AtomicBool::new(false));
        start_checkpointer(&path, finish_checkpoint.clone())?;
        let writer = WriterHandle::start(conn, finish_checkpoint);
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                writer,
                readers: Mutex::new(Vec::new()),
                read_slots: tokio::sync::Semaphore::new(READERS),
            }),
        })
    }

    pub fn writer_stats(&self) -> &writer::WriterStats {
        &self.inner.writer.stats
    }

    /// Runs `work` in the writer and answers once its batch is committed.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.write_then(work, move |res| {
            let _ = tx.send(res);
        })
        .await?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Queues `work`; `done` runs on the writer thread right after the commit, in commit order.
    /// This is how the live chat delivers a message only once it is durable, without waiting.
    pub async fn write_then<T, F, C>(&self, work: F, done: C) -> Result<(), StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        C: FnOnce(Result<T, StoreError>) + Send + 'static,
    {
        self.inner
            .writer
            .submit(Box::new(FnJob::new(work, done)))
            .await
    }

    /// `write` for synchronous callers outside the runtime (the CLI).
    pub fn write_blocking<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        let job = FnJob::new(work, move |res| {
            let _ = tx.send(res);
        });
        self.inner.writer.submit_blocking(Box::new(job))?;
        rx.recv().map_err(|_| StoreError::WriterGone)?
    }

    /// Runs `work` on a read connection, off the async threads.
    pub async fn read<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let _slot = self
            .inner
            .read_slots
            .acquire()
            .await
            .map_err(|_| StoreError::WriterGone)?;
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.read_blocking(work))
            .await
            .map_err(|_| StoreError::WriterGone)?
    }

    /// `read` for synchronous callers.
    pub fn read_blocking<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError>,
    {
        let pooled = self.inner.readers.lock().ok().and_then(|mut p| p.pop());
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.inner.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                configure(&c)?;
                // Readers share the OS page cache; a small private cache each is plenty.
                c.pragma_update(None, "cache_size", -1024)?;
                c
            }
        };
        let out = work(&conn);
        if let Ok(mut pool) = self.inner.readers.lock() {
            if pool.len() < READERS {
                pool.push(conn);
            }
        }
        out
    }

    /// Commits what is queued and stops the writer (graceful shutdown).
    pub async fn close(&self) {
        self.inner.writer.stop().await;
        if let Ok(mut pool) = self.inner.readers.lock() {
            pool.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_job_does_not_spoil_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Synchronous::Normal).unwrap();
        let mut waits = vec![];
        for i in 0..200 {
            let s = store.clone();
            waits.push(tokio::spawn(async move {
                s.write(move |c| {
                    if i % 10 == 0 {
                        c.execute("INSERT INTO no_such_table VALUES (1)", [])?;
                    }
                    c.execute(
                        "INSERT INTO settings (key, value) VALUES (?1, '1')",
                        [format!("k{i}")],
                    )?;
                    Ok(())
                })
                .await
            }));
        }
        let mut ok = 0;
        for w in waits {
            if w.await.unwrap().is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 180);
        let n: i64 = store
            .read(|c| Ok(c.query_row("SELECT count(*) FROM settings", [], |r| r.get(0))?))
            .await
            .unwrap();
        assert_eq!(n, 180);
        assert!(
            store
                .writer_stats()
                .commits
                .load(std::sync::atomic::Ordering::Relaxed)
                <= 200
        );
        store.close().await;
        assert!(matches!(
            store.write(|_| Ok(())).await,
            Err(StoreError::WriterGone)
        ));
    }
}
