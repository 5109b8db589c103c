//! IndexedDB backends for the device's stores, browser only: the chat store
//! ([`chat::ChatStore`]), the merchant ledger ([`crypto::ledger::Ledger`]) and the wallet's
//! identity, vouchers and list caches ([`wallet`]). One database holds them all, so that
//! writes which belong together (a redemption: ledger entry, receipt and sync queue; a
//! received message: message, conversation summary and the ack owed) commit in one
//! transaction or not at all.
//!
//! Each trait runs the contract suite of the crate that defines it, in headless Chromium
//! (`tests/`). Natively this crate is empty.
//!
//! | module | what |
//! |---|---|
//! | [`db`] | opening, the schema and its stepwise upgrades, error mapping, key layout |
//! | [`chat_tx`] | the chat traits over one transaction, and the received-message write |
//! | `segment` | messages stored as segments of consecutive messages, and why |
//! | `migrate_v3` | schema step 3: one record per message becomes segments |
//! | `quarantine` | unreadable records set aside instead of dropped |
//! | [`ledger`] | the merchant ledger |
//! | [`wallet_store`] | identity, vouchers, list caches |
//! | [`persist`] | asking the browser to keep the data under storage pressure |
#![cfg(target_family = "wasm")]
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]

pub mod chat_tx;
pub mod db;
pub mod ledger;
mod migrate_v3;
pub mod persist;
mod quarantine;
mod segment;
pub mod wallet_store;

pub use chat_tx::ChatTx;
pub use db::{DB_VERSION, IdbStore, is_storage_full};
pub use persist::request_persistence;
