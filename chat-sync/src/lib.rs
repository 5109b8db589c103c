//! Range-based set reconciliation of conversation logs over `(time, id)`, sans-IO.
//!
//! This crate is the `/om/chat-sync/1` protocol (see [`protocol`] for every frame, byte for
//! byte): two peers find which messages of a conversation one has and the other lacks, with a
//! cost that follows the size of the difference, not of the history (the Negentropy approach:
//! fingerprints of ranges, split where they differ). It also carries the envelopes themselves
//! (`Fetch`/`Fetched`, `Push`/`Ack`), which it treats as opaque bytes.
//!
//! Fully deterministic: no clock, socket or random source inside. [`SyncEngine`] is a state
//! machine fed with frames and `now`, and polled for frames to send, events and its next
//! deadline. The libp2p glue (a `request-response` codec) and the mailbox path are thin shells
//! around it.
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]

pub mod engine;
pub mod items;
pub mod protocol;
mod reconcile;

pub use engine::{
    Busy, Config, Event, Failure, MIN_FRAME_LIMIT, Stats, SyncEngine, Topics, Transmit,
};
pub use items::{Accumulator, Bound, Fingerprint, Id, Item, ItemSet, SortedItems};
pub use protocol::{
    DecodeError, EncodeError, Frame, Mode, PROTOCOL_NAME, Range, RefuseReason, RequestId, Topic,
};
pub use reconcile::{ID_LIST_THRESHOLD, SPLIT};
