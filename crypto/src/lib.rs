//! Keys and signed structures for the offline messenger and gift-coupon wallet.
//!
//! Pure Rust: no I/O, no clock, no random source except one passed in by the caller.
//! Builds for native and `wasm32-unknown-unknown`.
//!
//! Every signature covers a [`keys::Context`] (a domain-separation string) followed by the
//! exact bytes that travel, and every verification uses `verify_strict` against a public key
//! that was checked not to be weak when it was constructed.
//!
//! # Gift coupons (GV1)
//! Byte layouts are in `FORMAT.md`. Modules:
//! - [`voucher`]: the GV1 voucher, its key id and QR text (`GV1:` + Base45).
//! - [`trust`], [`revocation`], [`extension`]: the signed lists a merchant caches, each usable
//!   only as a `Verified…` value that checked its signature.
//! - [`presentation`]: the holder's rotating, signed presentation (`GP1:` QR text).
//! - [`verify`]: [`verify_offline`], the one offline entry point, and [`AcceptedRedemption`].
//! - [`ledger`]: the merchant's redemption ledger trait, its memory implementation and contract.
//! - [`receipt`]: merchant-signed redemption receipts, made only by recording in a ledger.
//! - [`stored_value`]: stored-value cards as whole-spend denominations.
//! - [`request`]: registration and order requests to the platform, signed by the key they name.
//! - [`codec`]: canonical, versioned, size-limited decoding and strict Base45.
//!
//! ```
//! # use crypto::{ledger::MemoryLedger, testing::{Fixture, NOW, TestRng, block_on}};
//! let fixture = Fixture::new(); // keys, a verified trust list and revocation list, a merchant
//! let mut ledger = MemoryLedger::new();
//! let text = fixture.present(&fixture.holder_bound(1), NOW, 1).to_qr_text();
//! let accepted = block_on(crypto::verify_offline(&text, &fixture.context(&[]), &ledger, NOW)).unwrap();
//! // The only way to a receipt: the ledger records it atomically.
//! let receipt = block_on(accepted.record(&mut ledger, &fixture.merchant, &mut TestRng::new(1))).unwrap();
//! assert_eq!(receipt.verify(&fixture.trust), Ok(()));
//! ```
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
#![forbid(unsafe_code)]

pub mod codec;
pub mod extension;
pub mod keys;
pub mod ledger;
pub mod presentation;
pub mod receipt;
pub mod request;
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
