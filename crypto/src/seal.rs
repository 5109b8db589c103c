//! Sealing bytes (a chat envelope) to a recipient's device key, for the platform mailbox and
//! relays: they see the sealed bytes and nothing else.
//!
//! HPKE (RFC 9180) base mode with `DHKEM(X25519, HKDF-SHA256)`, `HKDF-SHA256` and
//! `ChaCha20Poly1305`. The recipient's Ed25519 device key is converted to X25519: the public
//! point by the birational map to Montgomery form, the secret by the RFC 8032 scalar (the
//! first half of `SHA-512(seed)`, clamped by X25519). One key per device stays true.
//!
//! Format: `SEAL_VERSION (1) || enc (32: the ephemeral X25519 key) || ciphertext (plaintext + 16)`.
//! The HPKE `info` is [`SEAL_INFO`] and the associated data is the version byte followed by the
//! recipient's Ed25519 key, so sealed bytes cannot be re-labelled for another recipient.
//!
//! The sender is not authenticated here: the sealed payload is a signed envelope, which
//! carries its author's signature.

use ed25519_dalek::SigningKey;
use hpke::{Deserializable as _, Serializable as _};
use rand_core::CryptoRngCore;
use zeroize::Zeroize as _;

use crate::keys::{DeviceKey, PUBLIC_KEY_LENGTH, PublicKey};

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::ChaCha20Poly1305;
type KemPublic = <Kem as hpke::Kem>::PublicKey;
type KemPrivate = <Kem as hpke::Kem>::PrivateKey;
type KemEncapped = <Kem as hpke::Kem>::EncappedKey;

/// Version byte of the sealed format.
pub const SEAL_VERSION: u8 = 1;
/// HPKE `info` string: binds the derived keys to this use.
pub const SEAL_INFO: &[u8] = b"OM/chat-seal/1";
/// Length of the encapsulated ephemeral key.
pub const ENCAPPED_KEY_LENGTH: usize = 32;
/// Length of the AEAD tag.
pub const TAG_LENGTH: usize = 16;
/// Bytes added by sealing: version, encapsulated key, tag.
pub const SEAL_OVERHEAD: usize = 1 + ENCAPPED_KEY_LENGTH + TAG_LENGTH;
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
    /// The encapsulated key is not a usable X25519 point.
    #[error("invalid encapsulated key")]
    InvalidKey,
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
    let recipient_x = x25519_public(recipient)?;
    let aad = associated_data(recipient);
    let (encapped, ciphertext) = hpke::single_shot_seal::<Aead, Kdf, Kem, _>(
        &hpke::OpModeS::Base,
        &recipient_x,
        SEAL_INFO,
        plaintext,
        &aad,
        &mut RngAdapter(rng),
    )
    .map_err(|_| SealError::InvalidKey)?;
    let mut sealed = Vec::with_capacity(1 + ENCAPPED_KEY_LENGTH + ciphertext.len());
    sealed.push(SEAL_VERSION);
    sealed.extend_from_slice(&encapped.to_bytes());
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

/// Opens bytes made by [`seal`] for this device's key.
///
/// Checks, in order: length bounds, version, the encapsulated key, then the AEAD tag (which
/// also fails if the bytes were sealed to another key).
pub fn open(recipient: &DeviceKey, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
    if sealed.len() > MAX_SEALED_LENGTH {
        return Err(SealError::TooLong(sealed.len()));
    }
    if sealed.len() < SEAL_OVERHEAD {
        return Err(SealError::TooShort(sealed.len()));
    }
    let (version, rest) = sealed.split_at(1);
    if version[0] != SEAL_VERSION {
        return Err(SealError::UnknownVersion(version[0]));
    }
    let (encapped, ciphertext) = rest.split_at(ENCAPPED_KEY_LENGTH);
    let encapped = KemEncapped::from_bytes(encapped).map_err(|_| SealError::InvalidKey)?;
    let secret = x25519_secret(recipient)?;
    let aad = associated_data(&recipient.public());
    hpke::single_shot_open::<Aead, Kdf, Kem>(&hpke::OpModeR::Base, &secret, &encapped, SEAL_INFO, ciphertext, &aad)
        .map_err(|_| SealError::Undecryptable)
}

fn associated_data(recipient: &PublicKey) -> [u8; 1 + PUBLIC_KEY_LENGTH] {
    let mut aad = [0u8; 1 + PUBLIC_KEY_LENGTH];
    aad[0] = SEAL_VERSION;
    aad[1..].copy_from_slice(&recipient.to_bytes());
    aad
}

fn x25519_public(key: &PublicKey) -> Result<KemPublic, SealError> {
    KemPublic::from_bytes(&key.as_dalek().to_montgomery().to_bytes()).map_err(|_| SealError::InvalidKey)
}

fn x25519_secret(key: &DeviceKey) -> Result<KemPrivate, SealError> {
    let mut seed = key.to_seed();
    let mut scalar = SigningKey::from_bytes(&seed).to_scalar_bytes();
    seed.zeroize();
    let secret = KemPrivate::from_bytes(&scalar).map_err(|_| SealError::InvalidKey);
    scalar.zeroize();
    secret
}

/// `hpke` asks for `RngCore + CryptoRng`; callers hold a `CryptoRngCore` trait object or generic.
struct RngAdapter<'a, R: CryptoRngCore>(&'a mut R);

impl<R: CryptoRngCore> rand_core::RngCore for RngAdapter<'_, R> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.0.try_fill_bytes(dest)
    }
}

impl<R: CryptoRngCore> rand_core::CryptoRng for RngAdapter<'_, R> {}

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
    fn empty_plaintext_round_trips() {
        let alice = key(5);
        let sealed = seal(&alice.public(), b"", &mut rand_core::OsRng).unwrap();
        assert_eq!(open(&alice, &sealed).unwrap(), b"");
    }
}
