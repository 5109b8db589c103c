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
