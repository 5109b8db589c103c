//! Sealing bytes (a chat envelope) to a recipient's device key, for the platform mailbox and
//! relays: they see the sealed bytes and nothing else.
//!
//! A libsodium sealed box (`crypto_box_seal`: ephemeral X25519, XSalsa20-Poly1305, nonce =
//! BLAKE2b(ephemeral key || recipient key)), from RustCrypto's `crypto_box`. The recipient's
//! Ed25519 device key is converted to X25519: the public point by the birational map to
//! Montgomery form, the secret as the RFC 8032 scalar (the first half of `SHA-512(seed)`, which
//! X25519 clamps exactly as Ed25519 does). One key per device stays true.
//!
//! Format: `SEAL_VERSION (1) || ephemeral X25519 key (32) || ciphertext (plaintext + 16-byte tag)`.
//! The nonce binds the box to the recipient's key.
//!
//! The sender is not authenticated here (anyone can seal to anyone): the sealed payload is a
//! signed envelope, which carries its author's signature.

use ed25519_dalek::SigningKey;
use rand_core::CryptoRngCore;
use zeroize::Zeroize as _;

use crate::keys::{DeviceKey, PublicKey};

/// Version byte of the sealed format.
pub const SEAL_VERSION: u8 = 1;
/// Length of the ephemeral X25519 key.
pub const EPHEMERAL_KEY_LENGTH: usize = 32;
/// Length of the authentication tag.
pub const TAG_LENGTH: usize = 16;
/// Bytes added by sealing: version, ephemeral key, tag.
pub const SEAL_OVERHEAD: usize = 1 + EPHEMERAL_KEY_LENGTH + TAG_LENGTH;
/// Largest plaintext accepted by [`seal`] (64 KiB).
pub const MAX_PLAINTEXT_LENGTH: usize = 64 * 1024;
/// Largest sealed input accepted by [`open`].
pub const MAX_SEALED_LENGTH: usize = MAX_PLAINTEXT_LENGTH + SEAL_OVERHEAD;

/// Why sealing or opening failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The plaintext or sealed bytes exceed the size limit.
    #[error("too long: {0} bytes")]
    TooLong(usize),
    /// The sealed bytes are shorter than the fixed overhead.
    #[error("too short: {0} bytes")]
    TooShort(usize),
    /// The version byte is not [`SEAL_VERSION`].
    #[error("unknown seal version {0}")]
    UnknownVersion(u8),
    /// Encryption failed (never expected for inputs within the limits).
    #[error("cannot seal")]
    Unsealable,
    /// Decryption failed: wrong recipient, or the bytes were altered.
    #[error("cannot open: wrong recipient or altered bytes")]
    Undecryptable,
}

/// Seals `plaintext` to `recipient`, with fresh randomness from `rng`.
///
/// # Returns
/// The sealed bytes (`plaintext.len() + SEAL_OVERHEAD` long), or [`SealError::TooLong`].
pub fn seal(recipient: &PublicKey, plaintext: &[u8], rng: &mut impl CryptoRngCore) -> Result<Vec<u8>, SealError> {
    if plaintext.len() > MAX_PLAINTEXT_LENGTH {
        return Err(SealError::TooLong(plaintext.len()));
    }
    let recipient_x = crypto_box::PublicKey::from_bytes(recipient.as_dalek().to_montgomery().to_bytes());
    let sealed_box = recipient_x.seal(rng, plaintext).map_err(|_| SealError::Unsealable)?;
    let mut sealed = Vec::with_capacity(1 + sealed_box.len());
    sealed.push(SEAL_VERSION);
    sealed.extend_from_slice(&sealed_box);
    Ok(sealed)
}

/// Opens bytes made by [`seal`] for this device's key.
///
/// Checks, in order: length bounds, version, then the tag (which also fails if the bytes were
/// sealed to another key).
pub fn open(recipient: &DeviceKey, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
    if sealed.len() > MAX_SEALED_LENGTH {
        return Err(SealError::TooLong(sealed.len()));
    }
    if sealed.len() < SEAL_OVERHEAD {
        return Err(SealError::TooShort(sealed.len()));
    }
    let (version, sealed_box) = sealed.split_at(1);
    if version[0] != SEAL_VERSION {
        return Err(SealError::UnknownVersion(version[0]));
    }
    x25519_secret(recipient).unseal(sealed_box).map_err(|_| SealError::Undecryptable)
}

fn x25519_secret(key: &DeviceKey) -> crypto_box::SecretKey {
    let mut seed = key.to_seed();
    let mut scalar = SigningKey::from_bytes(&seed).to_scalar_bytes();
    seed.zeroize();
    let secret = crypto_box::SecretKey::from_bytes(scalar);
    scalar.zeroize();
    secret
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::keys::SECRET_KEY_LENGTH;

    fn key(seed: u8) -> DeviceKey {
        DeviceKey::from_seed(&[seed; SECRET_KEY_LENGTH])
    }

    #[test]
    fn sealed_bytes_open_only_for_the_recipient() {
        let (alice, bob) = (key(1), key(2));
        let sealed = seal(&alice.public(), b"envelope bytes", &mut rand_core::OsRng).unwrap();
        assert_eq!(sealed.len(), b"envelope bytes".len() + SEAL_OVERHEAD);
        assert_eq!(sealed[0], SEAL_VERSION);
        assert_eq!(open(&alice, &sealed).unwrap(), b"envelope bytes");
        assert_eq!(open(&bob, &sealed), Err(SealError::Undecryptable));
    }

    #[test]
    fn two_seals_of_the_same_bytes_differ() {
        let alice = key(1);
        let a = seal(&alice.public(), b"same", &mut rand_core::OsRng).unwrap();
        let b = seal(&alice.public(), b"same", &mut rand_core::OsRng).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn altered_truncated_and_oversized_input_is_rejected() {
        let alice = key(1);
        let sealed = seal(&alice.public(), b"hello", &mut rand_core::OsRng).unwrap();
        for i in 1..sealed.len() {
            let mut altered = sealed.clone();
            altered[i] ^= 0x01;
            assert!(open(&alice, &altered).is_err(), "flip at byte {i} accepted");
        }
        let mut wrong_version = sealed.clone();
        wrong_version[0] = 2;
        assert_eq!(open(&alice, &wrong_version), Err(SealError::UnknownVersion(2)));
        assert_eq!(open(&alice, &sealed[..SEAL_OVERHEAD - 1]), Err(SealError::TooShort(SEAL_OVERHEAD - 1)));
        assert_eq!(open(&alice, &[]), Err(SealError::TooShort(0)));
        let huge = vec![0u8; MAX_PLAINTEXT_LENGTH + 1];
        assert_eq!(seal(&alice.public(), &huge, &mut rand_core::OsRng), Err(SealError::TooLong(huge.len())));
        let huge_sealed = vec![SEAL_VERSION; MAX_SEALED_LENGTH + 1];
        assert_eq!(open(&alice, &huge_sealed), Err(SealError::TooLong(huge_sealed.len())));
    }

    #[test]
    fn converted_secret_matches_converted_public_key() {
        for seed in [1u8, 2, 77, 255] {
            let device = key(seed);
            let from_secret = x25519_secret(&device).public_key().to_bytes();
            assert_eq!(from_secret, device.public().as_dalek().to_montgomery().to_bytes());
        }
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let alice = key(5);
        let sealed = seal(&alice.public(), b"", &mut rand_core::OsRng).unwrap();
        assert_eq!(open(&alice, &sealed).unwrap(), b"");
    }
}
