//! Device-side storage contracts beside the chat store and the merchant ledger, sans-IO: the
//! device identity, the vouchers this device holds, and the signed lists a merchant caches
//! (trust list, revocation list, expiry extensions) with the time each was fetched.
//!
//! Each trait has an in-memory implementation in [`memory`] and a contract suite in `contract`
//! (feature `testing`) that every backend runs through [`wallet_store_contract_tests!`]. The
//! traits use native `async fn` without `Send`, so that IndexedDB (whose futures are not
//! `Send`) can implement them. Lists are cached as the signed bytes that were fetched: they
//! become `Verified…` values only when the caller checks them again on load.
//!
//! Also the texts people handle for their device key: the passphrase-encrypted backup
//! ([`backup`]), the contact key others add them by ([`contact_key_text`]) and its
//! [`fingerprint`].
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]
#![allow(async_fn_in_trait)]

pub mod backup;
pub mod memory;

#[cfg(any(test, feature = "testing"))]
#[allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
pub mod contract;

use core::fmt::Display;

use crypto::keys::DeviceKey;
use crypto::voucher::{Voucher, VoucherId};
use rand_core::CryptoRngCore;

pub use memory::MemoryWallet;

/// The one device key (libp2p PeerId, chat author key, coupon holder key), kept on the device.
pub trait IdentityStore {
    /// A storage failure.
    type Error: Display;
    /// The stored key, if one was created.
    async fn device_key(&self) -> Result<Option<DeviceKey>, Self::Error>;
    /// Stores `key` unless a key is stored already, atomically; returns the stored key, so two
    /// first starts racing agree on one identity.
    async fn create_device_key(&self, key: DeviceKey) -> Result<DeviceKey, Self::Error>;
    /// Stores `key` in place of any stored key (a backup imported on this device), atomically.
    async fn replace_device_key(&self, key: DeviceKey) -> Result<(), Self::Error>;
}

/// The stored device key, or a new one from `rng`, stored before it is returned.
pub async fn load_or_create_identity<S: IdentityStore>(
    store: &S,
    rng: &mut impl CryptoRngCore,
) -> Result<DeviceKey, S::Error> {
    match store.device_key().await? {
        Some(key) => Ok(key),
        None => store.create_device_key(DeviceKey::generate(rng)).await,
    }
}

/// Vouchers this device holds, by id.
pub trait VoucherStore {
    /// A storage failure.
    type Error: Display;
    /// Stores the voucher unless its id is present; returns whether it was added.
    async fn put_voucher(&self, voucher: &Voucher) -> Result<bool, Self::Error>;
    /// The voucher with this id.
    async fn voucher(&self, id: VoucherId) -> Result<Option<Voucher>, Self::Error>;
    /// All vouchers, ascending by id.
    async fn vouchers(&self) -> Result<Vec<Voucher>, Self::Error>;
    /// Removes a voucher (spent, refunded); returns whether it existed.
    async fn remove_voucher(&self, id: VoucherId) -> Result<bool, Self::Error>;
}

/// Which signed list a cache slot holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ListKind {
    /// The issuer trust list (signed by the root key).
    Trust,
    /// The revocation list (signed by the platform).
    Revocation,
    /// The expiry extensions published after an outage, as one signed list each, in fetch order.
    Extensions,
}

/// Signed bytes as fetched, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedList {
    /// The signed bytes (for extensions: every extension, each length-prefixed by the caller).
    pub bytes: Vec<u8>,
    /// When they were fetched (ms since the epoch), to show the cache's age.
    pub fetched_at_ms: u64,
}

/// The merchant's cache of signed lists.
pub trait ListCache {
    /// A storage failure.
    type Error: Display;
    /// Stores `list` in the `kind` slot unless the slot holds a later fetch, atomically;
    /// returns whether it was stored. A stale response arriving late never replaces a newer one.
    async fn put_list(&self, kind: ListKind, list: CachedList) -> Result<bool, Self::Error>;
    /// The list in the `kind` slot.
    async fn list(&self, kind: ListKind) -> Result<Option<CachedList>, Self::Error>;
}

/// A short, readable fingerprint of a device's public key: its first 8 bytes in hex, in groups
/// of four digits (`1a2b 3c4d 5e6f 7a8b`), for people to compare and tests to find.
pub fn fingerprint(key: &crypto::keys::PublicKey) -> String {
    let hex: Vec<String> = key.to_bytes()[..8]
        .chunks(2)
        .map(|pair| pair.iter().map(|b| format!("{b:02x}")).collect())
        .collect();
    hex.join(" ")
}

/// The text a person hands out so that others can add them as a contact: their public key in
/// 64 lowercase hex digits. The [`fingerprint`] is its first 16 digits.
pub fn contact_key_text(key: &crypto::keys::PublicKey) -> String {
    hex::encode(key.to_bytes())
}

/// The longest text [`parse_contact_key`] reads: 64 digits with room for spaces and line breaks.
pub const MAX_CONTACT_KEY_TEXT_LEN: usize = 256;

/// Why a contact key text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContactKeyError {
    /// Not 64 hex digits (once spaces are removed).
    #[error("not a contact key: 64 hex digits expected")]
    NotAKey,
    /// Digits that are no usable key (not a curve point, or a weak one).
    #[error(transparent)]
    Invalid(#[from] crypto::keys::KeyError),
}

/// The public key in a [`contact_key_text`], as typed or pasted: case and whitespace (such as
/// the fingerprint's grouping) do not matter.
pub fn parse_contact_key(text: &str) -> Result<crypto::keys::PublicKey, ContactKeyError> {
    if text.len() > MAX_CONTACT_KEY_TEXT_LEN {
        return Err(ContactKeyError::NotAKey);
    }
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut bytes = [0; 32];
    hex::decode_to_slice(&digits, &mut bytes).map_err(|_| ContactKeyError::NotAKey)?;
    Ok(crypto::keys::PublicKey::from_bytes(&bytes)?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fingerprint_is_four_groups_of_the_key_start() {
        let key = crypto::testing::key(1).public();
        let bytes = key.to_bytes();
        let expected = format!(
            "{:02x}{:02x} {:02x}{:02x} {:02x}{:02x} {:02x}{:02x}",
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7]
        );
        assert_eq!(super::fingerprint(&key), expected);
        assert_ne!(
            super::fingerprint(&crypto::testing::key(2).public()),
            expected
        );
    }

    #[test]
    fn contact_key_text_round_trips_and_starts_with_the_fingerprint() {
        let key = crypto::testing::key(3).public();
        let text = super::contact_key_text(&key);
        assert_eq!(text.len(), 64);
        assert!(text.starts_with(&super::fingerprint(&key).replace(' ', "")));
        assert_eq!(super::parse_contact_key(&text), Ok(key));
        let spaced = format!(" {}\n{} ", &text[..20].to_uppercase(), &text[20..]);
        assert_eq!(super::parse_contact_key(&spaced), Ok(key));
    }

    #[test]
    fn contact_key_text_refuses_what_is_no_key() {
        use super::{ContactKeyError, parse_contact_key};
        use crypto::keys::KeyError;
        let text = super::contact_key_text(&crypto::testing::key(3).public());
        assert_eq!(parse_contact_key(""), Err(ContactKeyError::NotAKey));
        assert_eq!(parse_contact_key(&text[..62]), Err(ContactKeyError::NotAKey));
        assert_eq!(parse_contact_key(&format!("{text}00")), Err(ContactKeyError::NotAKey));
        assert_eq!(parse_contact_key(&text.replace(&text[..1], "g")), Err(ContactKeyError::NotAKey));
        assert_eq!(parse_contact_key(&" ".repeat(300)), Err(ContactKeyError::NotAKey));
        // The identity point: small order.
        let weak = format!("01{}", "00".repeat(31));
        assert_eq!(parse_contact_key(&weak), Err(ContactKeyError::Invalid(KeyError::WeakKey)));
    }
}
