//! The live chat: all in-process room state (presence, queues, rooms, assignments, flags) and
//! the rules of product.md §6.
//!
//! - `state`: the rules; pure, returns plans. One file per family under `state/`: `presence`
//!   (connects, `staff_init`, what a dropped socket does), `messages` (where a claim is decided),
//!   `supervision` (the rank rule, take over, add/remove), `queues` (positions, restore).
//! - `plan`: what a plan holds.
//! - `request`: client events parsed and checked.
//! - `actor`: the task that owns the state and carries plans out through the database writer.
//! - `outbox`: each connection's byte-bounded queue of frames.

pub mod actor;
pub mod outbox;
pub mod plan;
#[cfg(test)]
mod proptests;
pub mod request;
pub mod state;

pub use actor::{Live, Replier};
pub use outbox::{Outbox, OutboxRx, Outgoing};
pub use request::Request;
pub use state::LiveConfig;
