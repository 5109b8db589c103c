//! Keys and signed structures for the offline messenger and gift-coupon wallet.
//!
//! Pure Rust: no I/O, no clock, no random source except one passed in by the caller.
//! Builds for native and `wasm32-unknown-unknown`.
//!
//! Every signature covers a [`keys::Context`] (a domain-separation string) followed by the
//! exact bytes that travel, and every verification uses `verify_strict` against a public key
//! that was checked not to be weak when it was constructed.
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]

pub mod keys;
pub mod seal;
