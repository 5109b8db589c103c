//! Keys and signed structures for the offline messenger and gift-coupon wallet.
//!
//! Pure Rust: no I/O, no clock, no random source except one passed in by the caller.
//! Builds for native and `wasm32-unknown-unknown`.
//!
//! Every signature covers a [`keys::Context`] (a domain-separation string) followed by the
//! exact bytes that travel, and every verification uses `verify_strict` against a public key
//! that was checked not to be weak when it was constructed.
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![forbid(unsafe_code)]

pub mod codec;
pub mod extension;
pub mod keys;
pub mod ledger;
pub mod presentation;
pub mod receipt;
pub mod revocation;
pub mod seal;
pub mod stored_value;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod trust;
pub mod verify;
pub mod voucher;

pub use codec::DecodeError;
pub use verify::{AcceptedRedemption, OfflineContext, OfflinePolicy, Rejection, verify_offline};

#[cfg(all(test, target_family = "wasm"))]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
