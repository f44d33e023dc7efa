//! A connection's outbox: the frames waiting to be written to one socket, filled by the live
//! state's delivery task and drained by the connection's transport, bounded in bytes (a reader
//! that falls too far behind is killed, never waited for).

use serde_json::value::RawValue;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Bytes of events waiting for one connection; a reader that falls this far behind is
/// disconnected. Bounded in bytes, not events, so a stalled reader never pins more than this.
/// Staff consoles hear about every visitor (a burst of new chats is one event each per staff),
/// so theirs is larger.
pub const OUTBOX_BYTES_VISITOR: usize = 1 << 20;
pub const OUTBOX_BYTES_STAFF: usize = 16 << 20;

/// What a transport writes to its socket.
#[derive(Debug, Clone)]
pub enum Outgoing {
    Event {
        name: &'static str,
        data: Arc<RawValue>,
    },
    /// `/ws` only: the answer to a client event that carried an `id`.
    Ack { id: u64, reply: super::plan::Reply },
    /// `/ws` only: a frame written as is (answers to frames that never became a command).
    Raw(String),
    /// Close the connection after what was queued before.
    Close,
}

impl Outgoing {
    /// Roughly what it costs to keep queued.
    fn size(&self) -> usize {
        match self {
            Outgoing::Event { name, data } => 64 + name.len() + data.get().len(),
            Outgoing::Ack { reply, .. } => {
                64 + reply.as_ref().err().map_or(0, |r| r.sentence.len())
            }
            Outgoing::Raw(text) => 64 + text.len(),
            Outgoing::Close => 0,
        }
    }
}

/// A connection's queue of frames to write: filled by the delivery task, drained by the
/// connection's transport. One small allocation per connection (an idle socket costs little),
/// bounded in bytes.
struct Queue {
    items: Mutex<VecDeque<Outgoing>>,
    /// Bytes queued (`Outgoing::size`).
    queued: AtomicUsize,
    limit: usize,
    /// `Outbox` handles alive; at zero (and empty) the receiver sees the end.
    senders: AtomicUsize,
    /// Set when the receiver is gone: pushes are dropped.
    closed: AtomicBool,
    /// Something was queued (or the last sender left).
    ready: Notify,
    /// The connection must go at once (too slow, or replaced).
    kill: Notify,
}

/// After a burst, a drained queue bigger than this gives its memory back.
const KEEP_CAPACITY: usize = 64;

/// The sending half of a connection's outbox.
pub struct Outbox(Arc<Queue>);

/// The receiving half, read by the connection's transport.
pub struct OutboxRx(Arc<Queue>);

impl Clone for Outbox {
    fn clone(&self) -> Outbox {
        self.0.senders.fetch_add(1, Ordering::Relaxed);
        Outbox(self.0.clone())
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        if self.0.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.ready.notify_one();
        }
    }
}

impl Drop for OutboxRx {
    fn drop(&mut self) {
        self.0.closed.store(true, Ordering::Release);
        if let Ok(mut q) = self.0.items.lock() {
            *q = VecDeque::new();
        }
    }
}

impl OutboxRx {
    /// The next frame; `None` once every `Outbox` is gone and the queue is drained.
    pub async fn recv(&self) -> Option<Outgoing> {
        loop {
            if let Some(out) = self.try_recv() {
                return Some(out);
            }
            if self.0.senders.load(Ordering::Acquire) == 0 {
                return self.try_recv();
            }
            // A push between the check above and here left a permit: this returns at once.
            self.0.ready.notified().await;
        }
    }

    pub fn try_recv(&self) -> Option<Outgoing> {
        let mut q = self.0.items.lock().ok()?;
        let out = q.pop_front()?;
        if q.is_empty() && q.capacity() > KEEP_CAPACITY {
            *q = VecDeque::new();
        }
        drop(q);
        self.0.queued.fetch_sub(out.size(), Ordering::Relaxed);
        Some(out)
    }

    /// Completes when the connection must go at once.
    pub async fn killed(&self) {
        self.0.kill.notified().await;
    }
}

impl Outbox {
    /// Queues without waiting; an outbox over its byte limit means a reader too slow to keep:
    /// it is dropped.
    pub fn push(&self, out: Outgoing) {
        let q = &self.0;
        if q.closed.load(Ordering::Acquire) {
            return;
        }
        let n = out.size();
        if q.queued.fetch_add(n, Ordering::Relaxed) + n > q.limit {
            q.queued.fetch_sub(n, Ordering::Relaxed);
            q.kill.notify_one();
            return;
        }
        match q.items.lock() {
            Ok(mut items) => items.push_back(out),
            Err(_) => return,
        }
        q.ready.notify_one();
    }

    pub fn push_raw(&self, text: String) {
        self.push(Outgoing::Raw(text));
    }
}

/// A new outbox holding at most `limit` bytes: the sending and the receiving half.
pub fn pair(limit: usize) -> (Outbox, OutboxRx) {
    let queue = Arc::new(Queue {
        items: Mutex::new(VecDeque::new()),
        queued: AtomicUsize::new(0),
        limit,
        senders: AtomicUsize::new(1),
        closed: AtomicBool::new(false),
        ready: Notify::new(),
        kill: Notify::new(),
    });
    (Outbox(queue.clone()), OutboxRx(queue))
}
