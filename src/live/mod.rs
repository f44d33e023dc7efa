//! The live chat: all in-process room state and the rules of product.md §6 and §8.
//!
//! The flow of one event: a transport (`realtime/`) reads a frame → `events::Request::parse`
//! (the table in `events/mod.rs`) → `Live::request` queues it for the owner task (`actor`) →
//! `LiveState::request` checks who may send it and hands it to its family (`events/*.rs`),
//! which decides and returns a `Plan` → the actor hands the plan's writes to the one database
//! writer → after the COMMIT the delivery task answers the sender and pushes each event into
//! its audience's outboxes → the transports write the frames.
//!
//! - `events`: client events, one file per family, and their table.
//! - `outgoing`: the table of server events and their audiences.
//! - `state`: the live state (roster, rooms, queues) and the rules shared by events.
//! - `plan`: what a decision holds; `refusal`: every refusal with its code.
//! - `actor`: the task that owns the state and carries plans out; `render`: payloads as JSON
//!   after the commit; `outbox`: each connection's byte-bounded queue of frames.

pub mod actor;
mod deliver;
pub mod events;
pub mod outbox;
pub mod outgoing;
pub mod plan;
#[cfg(test)]
mod proptests;
pub mod refusal;
pub mod render;
pub mod state;

pub use actor::{Live, Replier};
pub use events::{By, Request};
pub use outbox::{Outbox, OutboxRx, Outgoing};
pub use plan::ConnId;
pub use refusal::{Code, Refusal};
pub use state::LiveConfig;
