//! The one writer. Every write to the database goes through this thread: it takes all the jobs
//! waiting in its queue, runs each inside its own savepoint of one transaction, commits once
//! (group commit), and only then answers each job. A job that fails rolls back its savepoint
//! alone; the others in the batch still commit.

use crate::error::StoreError;
use rusqlite::Connection;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{mpsc, oneshot};

/// At most this many jobs share one transaction. Under load, a bigger batch spreads each
/// commit's dirty pages (one index leaf per busy chat) over more messages; when traffic is
/// light, batches are small anyway and nobody waits for one.
const MAX_BATCH: usize = 2048;
/// Jobs waiting for the writer; a full queue makes callers wait (backpressure).
pub const QUEUE_DEPTH: usize = 8192;

/// One unit of work for the writer.
pub trait Job: Send {
    /// Runs the job's statements inside a savepoint; `false` (it failed) rolls back this job
    /// only. The job keeps its own result for `finish`.
    fn run(&mut self, conn: &Connection) -> bool;
    /// Called after the batch's commit with the commit's outcome (the job's own error wins).
    fn finish(self: Box<Self>, committed: Result<(), String>);
}

/// A job made of a closure and a completion that receives its result after the commit.
pub struct FnJob<T, F, C>
where
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
    C: FnOnce(Result<T, StoreError>) + Send,
{
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    done: C,
}

impl<T, F, C> FnJob<T, F, C>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
    C: FnOnce(Result<T, StoreError>) + Send,
{
    pub fn new(work: F, done: C) -> Self {
        FnJob {
            work: Some(work),
            result: None,
            done,
        }
    }
}

impl<T, F, C> Job for FnJob<T, F, C>
where
    T: Send,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send,
    C: FnOnce(Result<T, StoreError>) + Send,
{
    fn run(&mut self, conn: &Connection) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let res = work(conn);
        let ok = res.is_ok();
        self.result = Some(res);
        ok
    }

    fn finish(self: Box<Self>, committed: Result<(), String>) {
        let this = *self;
        let out = match (this.result, committed) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(v)), Ok(())) => Ok(v),
            (Some(Ok(_)), Err(e)) => Err(StoreError::Invalid(format!("commit failed: {e}"))),
            (None, _) => Err(StoreError::WriterGone),
        };
        (this.done)(out);
    }
}

enum Msg {
    Job(Box<dyn Job>),
    Stop(oneshot::Sender<()>),
}

/// Counters the writer keeps for `/metrics`.
#[derive(Default)]
pub struct WriterStats {
    pub commits: AtomicU64,
    pub jobs: AtomicU64,
    pub commit_micros_total: AtomicU64,
    /// Commit latency histogram: counts of commits at or under each bound of `COMMIT_BUCKETS_MS`.
    pub commit_buckets: [AtomicU64; COMMIT_BUCKETS_MS.len()],
}
pub const COMMIT_BUCKETS_MS: [f64; 8] = [0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 100.0, 1000.0];

#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Msg>,
    pub stats: Arc<WriterStats>,
}

impl WriterHandle {
    /// Starts the writer thread. `finish_checkpoint`: set by the checkpointer when the WAL
    /// should be finished off between two batches (see `store::start_checkpointer`).
    pub fn start(conn: Connection, finish_checkpoint: Arc<AtomicBool>) -> WriterHandle {
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let stats = Arc::new(WriterStats::default());
        let s = stats.clone();
        std::thread::Builder::new()
            .name("frontdesk-writer".into())
            .spawn(move || run(conn, rx, s, finish_checkpoint))
            .expect("spawn the database writer thread");
        WriterHandle { tx, stats }
    }

    /// Queues a job; waits only while the queue is full.
    pub async fn submit(&self, job: Box<dyn Job>) -> Result<(), StoreError> {
        self.tx
            .send(Msg::Job(job))
            .await
            .map_err(|_| StoreError::WriterGone)
    }

    /// Queues a job from synchronous code (never from inside the async runtime's threads).
    pub fn submit_blocking(&self, job: Box<dyn Job>) -> Result<(), StoreError> {
        self.tx
            .blocking_send(Msg::Job(job))
            .map_err(|_| StoreError::WriterGone)
    }

    /// Finishes every queued job, then stops the writer. Later writes fail with `WriterGone`.
    pub async fn stop(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Stop(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

fn run(
    conn: Connection,
    mut rx: mpsc::Receiver<Msg>,
    stats: Arc<WriterStats>,
    finish_checkpoint: Arc<AtomicBool>,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    let mut stop: Option<oneshot::Sender<()>> = None;
    while stop.is_none() {
        match rx.blocking_recv() {
            Some(Msg::Job(j)) => batch.push(j),
            Some(Msg::Stop(s)) => stop = Some(s),
            None => break,
        }
        while batch.len() < MAX_BATCH && stop.is_none() {
            match rx.try_recv() {
                Ok(Msg::Job(j)) => batch.push(j),
                Ok(Msg::Stop(s)) => stop = Some(s),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            commit_batch(&conn, &mut batch, &stats);
        }
        // The batch is answered; nothing can append while the writer copies what the
        // checkpointer's last pass left, so this checkpoint completes and the WAL starts over.
        if finish_checkpoint.swap(false, Ordering::Relaxed) {
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
        }
    }
    // Whatever raced in after the stop request is refused rather than dropped silently.
    rx.close();
    while let Ok(msg) = rx.try_recv() {
        if let Msg::Job(j) = msg {
            j.finish(Err("the database writer has stopped".into()));
        }
    }
    if let Err(e) = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)") {
        tracing::warn!(error = %e, "final checkpoint failed");
    }
    drop(conn);
    if let Some(s) = stop {
        let _ = s.send(());
    }
}

fn commit_batch(conn: &Connection, batch: &mut Vec<Box<dyn Job>>, stats: &WriterStats) {
    let started = Instant::now();
    let outcome = (|| -> Result<(), rusqlite::Error> {
        conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        for job in batch.iter_mut() {
            conn.prepare_cached("SAVEPOINT job")?.execute([])?;
            if !job.run(conn) {
                conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
            }
            conn.prepare_cached("RELEASE job")?.execute([])?;
        }
        conn.prepare_cached("COMMIT")?.execute([])?;
        Ok(())
    })();
    let committed = match outcome {
        Ok(()) => Ok(()),
        Err(e) => {
            tracing::error!(error = %e, jobs = batch.len(), "database commit failed");
            let _ = conn.execute_batch("ROLLBACK");
            Err(e.to_string())
        }
    };
    let micros = started.elapsed().as_micros() as u64;
    stats.commits.fetch_add(1, Ordering::Relaxed);
    stats.jobs.fetch_add(batch.len() as u64, Ordering::Relaxed);
    stats
        .commit_micros_total
        .fetch_add(micros, Ordering::Relaxed);
    let ms = micros as f64 / 1000.0;
    for (i, bound) in COMMIT_BUCKETS_MS.iter().enumerate() {
        if ms <= *bound {
            stats.commit_buckets[i].fetch_add(1, Ordering::Relaxed);
        }
    }
    for job in batch.drain(..) {
        job.finish(committed.clone());
    }
}
