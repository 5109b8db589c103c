//! Chat core, sans-IO: signed message envelopes with a hybrid logical clock, the causal
//! conversation log, the outbox, and the storage traits with an in-memory backend.
//!
//! Fully deterministic: no clock, socket or random source inside. Time (`now_ms`) and
//! randomness come in as arguments; storage is reached through the async traits in [`store`],
//! which have no `Send` bound so that the browser's IndexedDB backend can implement them.
//! Syncing logs between devices is the `chat-sync` crate; [`log::sync_items`] hands it a
//! conversation's `(time, id)` set.
//!
//! | module | what |
//! |---|---|
//! | [`envelope`] | the signed message, its canonical bytes and id |
//! | [`hlc`] | hybrid logical clock |
//! | [`log`] | insert, causal delivery, ordered view, read marker, late flags |
//! | [`outbox`] | per-recipient queue with ack, retry and backoff |
//! | [`store`] | storage traits and records |
//! | [`memory`] | in-memory backend |
//! | `contract` | the storage contract suite (feature `testing`) |
//!
//! # Driving it (what the libp2p/mailbox glue does)
//! `tests/simulation.rs` is the reference glue. Per device: one [`store::ChatStore`], one
//! [`Clock`] (restored with [`Clock::starting_after`] the newest stored time), one
//! `chat_sync::SyncEngine`, and per conversation a `chat_sync::SortedItems` built by
//! [`log::sync_items`] and kept up to date on every insert. After a restart, run
//! [`log::recover`] once per conversation.
//! - Write: [`log::compose`], then [`Outbox::enqueue`] for every other member.
//! - Timer: [`Outbox::poll_due`] → `SyncEngine::push` per recipient (or, with no link,
//!   [`Envelope::seal_for`] into the mailbox); periodically `SyncEngine::start_sync`.
//! - `Event::Pushed` / `Event::Fetched` / a mailbox item: [`log::receive`] each envelope
//!   (dedup by id before the signature check); ack the stored ids with `SyncEngine::ack`; fetch
//!   any `missing` parents from the same peer.
//! - `Event::Reconciled { need, have }`: `fetch(need)`, `push(have)`.
//! - `Event::FetchRequested`: load the envelopes, `answer_fetch`.
//! - `Event::Acked`: [`Outbox::ack`] each id for that peer.
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]

pub mod envelope;
pub mod hlc;
pub mod log;
pub mod memory;
pub mod outbox;
pub mod store;

#[cfg(any(test, feature = "testing"))]
#[allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
pub mod contract;

pub use envelope::{
    Body, Content, ConversationId, Envelope, EnvelopeError, MessageId, OpenError, OrderKey,
    ReceiptKind,
};
pub use hlc::{Clock, Timestamp};
pub use memory::MemoryStore;
pub use outbox::{Backoff, Outbox};
pub use store::{
    ChatStore, Contact, ContactStore, Conversation, ConversationStore, MessageState, MessageStore,
    OutboxEntry, OutboxStore, StoreError, StoredMessage,
};
