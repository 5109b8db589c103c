//! Ed25519 keys with domain separation.
//!
//! One [`DeviceKey`] per device: it is the libp2p PeerId, the chat author key and the coupon
//! holder key. Issuer, root, platform and merchant keys are the same type used in another role.
//!
//! # Invariants
//! - A [`PublicKey`] is always a valid, canonical, non-weak (not small-order) Ed25519 point:
//!   [`PublicKey::from_bytes`] is the only way to make one from bytes and it checks this.
//! - A signature made by [`DeviceKey::sign`] covers `context || message`; [`PublicKey::verify`]
//!   checks the same concatenation with `verify_strict`, so a signature made for one context
//!   never verifies under another.
//! - The secret key zeroizes on drop and never appears in `Debug` output.

use core::fmt;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Length of a public key in bytes.
pub const PUBLIC_KEY_LENGTH: usize = 32;
/// Length of a secret seed in bytes.
pub const SECRET_KEY_LENGTH: usize = 32;
/// Length of a signature in bytes.
pub const SIGNATURE_LENGTH: usize = 64;

/// A domain-separation string, prepended to every signed message.
///
/// No context is a prefix of another (checked by a test over [`Context::ALL`]), so the
/// concatenation `context || message` is unambiguous.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Context(&'static [u8]);

impl Context {
    /// GV1 voucher body, signed by an issuer key (`DESIGN.md`: `sig = Ed25519(issuer, "GV1" || body)`).
    pub const VOUCHER: Context = Context(b"GV1");
    /// Trust list of issuer keys, signed by the offline root key.
    pub const TRUST_LIST: Context = Context(b"OM/trust-list/1\0");
    /// Revocation list, signed by the platform.
    pub const REVOCATION_LIST: Context = Context(b"OM/revocation-list/1\0");
    /// Holder presentation of a voucher, signed by the holder's device key.
    pub const PRESENTATION: Context = Context(b"OM/presentation/1\0");
    /// Redemption receipt, signed by the merchant's key.
    pub const RECEIPT: Context = Context(b"OM/receipt/1\0");
    /// Expiry extension after an outage, signed by the platform.
    pub const EXPIRY_EXTENSION: Context = Context(b"OM/expiry-extension/1\0");
    /// Chat message envelope, signed by its author's device key.
    pub const CHAT_MESSAGE: Context = Context(b"OM/chat-message/1\0");
    /// Platform mailbox access challenge, signed by the recipient's device key.
    pub const MAILBOX_CHALLENGE: Context = Context(b"OM/mailbox-challenge/1\0");
    /// Out-of-band WebRTC signaling blob, signed by the device key.
    pub const SIGNALING_BLOB: Context = Context(b"OM/signaling-blob/1\0");
    /// Device registration at the platform, signed by the device key (`request::DeviceRegistration`).
    pub const DEVICE_REGISTRATION: Context = Context(b"OM/device-registration/1\0");
    /// Merchant registration at the platform, signed by the merchant key (`request::MerchantRegistration`).
    pub const MERCHANT_REGISTRATION: Context = Context(b"OM/merchant-registration/1\0");
    /// Buy or gift order at the platform, signed by the buyer's device key (`request::Order`).
    pub const ORDER: Context = Context(b"OM/order/1\0");

    /// Every context defined here; a new one must be added to this list.
    pub const ALL: [Context; 12] = [
        Self::VOUCHER,
        Self::TRUST_LIST,
        Self::REVOCATION_LIST,
        Self::PRESENTATION,
        Self::RECEIPT,
        Self::EXPIRY_EXTENSION,
        Self::CHAT_MESSAGE,
        Self::MAILBOX_CHALLENGE,
        Self::SIGNALING_BLOB,
        Self::DEVICE_REGISTRATION,
        Self::MERCHANT_REGISTRATION,
        Self::ORDER,
    ];

    /// The bytes of the context string.
    pub fn as_bytes(&self) -> &'static [u8] {
        self.0
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Context({})", String::from_utf8_lossy(self.0).trim_end_matches('\0'))
    }
}

/// Why bytes are not an acceptable public key or signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The bytes do not decode to a curve point.
    #[error("public key is not a valid Ed25519 point")]
    InvalidPoint,
    /// The point has small order: any signature could verify under it.
    #[error("public key is weak (small order)")]
    WeakKey,
}

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("signature does not verify")]
pub struct BadSignature;

/// An Ed25519 secret key. Zeroized on drop; `Debug` never shows the secret.
#[derive(Clone)]
pub struct DeviceKey(SigningKey);

impl DeviceKey {
    /// A new key from the caller's random source.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        // A seed from the caller's source keeps `rand_core` 0.6 in this API: ed25519-dalek 3 takes a
        // rand_core 0.10 RNG, which nothing else here uses.
        let mut seed = Zeroizing::new([0u8; SECRET_KEY_LENGTH]);
        rng.fill_bytes(seed.as_mut());
        Self::from_seed(&seed)
    }

    /// The key with this 32-byte seed (RFC 8032 secret key).
    pub fn from_seed(seed: &[u8; SECRET_KEY_LENGTH]) -> Self {
        Self(SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed, for storage on this device or an encrypted backup only.
    pub fn to_seed(&self) -> [u8; SECRET_KEY_LENGTH] {
        self.0.to_bytes()
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `context || message`.
    pub fn sign(&self, context: Context, message: &[u8]) -> Signature {
        Signature(self.0.sign(&domain_separated(context, message)).to_bytes())
    }
}

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKey").field("public", &self.public()).finish_non_exhaustive()
    }
}

/// A checked Ed25519 public key: valid and not weak.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "[u8; PUBLIC_KEY_LENGTH]", into = "[u8; PUBLIC_KEY_LENGTH]")]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Parses and checks a public key.
    ///
    /// # Returns
    /// [`KeyError::InvalidPoint`] if the bytes are not a point, [`KeyError::WeakKey`] if the
    /// point has small order.
    pub fn from_bytes(bytes: &[u8; PUBLIC_KEY_LENGTH]) -> Result<Self, KeyError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::InvalidPoint)?;
        if key.is_weak() {
            return Err(KeyError::WeakKey);
        }
        Ok(Self(key))
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LENGTH] {
        self.0.to_bytes()
    }

    /// Checks `signature` over `context || message` with `verify_strict`, which rejects
    /// non-canonical `R`/`s` and small-order components (signature malleability).
    pub fn verify(&self, context: Context, message: &[u8], signature: &Signature) -> Result<(), BadSignature> {
        SignedMessage::new(*self, context, message, *signature).verify_strict()
    }

    /// The dalek key, for batch verification and the libp2p identity.
    pub fn as_dalek(&self) -> &VerifyingKey {
        &self.0
    }
}

impl TryFrom<[u8; PUBLIC_KEY_LENGTH]> for PublicKey {
    type Error = KeyError;
    fn try_from(bytes: [u8; PUBLIC_KEY_LENGTH]) -> Result<Self, KeyError> {
        Self::from_bytes(&bytes)
    }
}

impl From<PublicKey> for [u8; PUBLIC_KEY_LENGTH] {
    fn from(key: PublicKey) -> Self {
        key.to_bytes()
    }
}

/// Public keys already parsed, found again by their encoding: decoding a batch of records signed
/// by one key (an upload of one merchant's receipts) decompresses and checks that key once, which
/// otherwise costs about a tenth of a signature check per record. Keeps the first
/// [`KnownKeys::CAPACITY`] keys it parses, so a batch of many signers costs one comparison more
/// per key, no more memory.
#[derive(Debug, Default, Clone)]
pub struct KnownKeys(Vec<PublicKey>);

impl KnownKeys {
    /// Most keys kept.
    pub const CAPACITY: usize = 8;

    /// The key with this encoding: the same key, error included, as [`PublicKey::from_bytes`].
    pub fn parse(&mut self, bytes: &[u8; PUBLIC_KEY_LENGTH]) -> Result<PublicKey, KeyError> {
        if let Some(known) = self.0.iter().find(|key| key.0.as_bytes() == bytes) {
            return Ok(*known);
        }
        let key = PublicKey::from_bytes(bytes)?;
        if self.0.len() < Self::CAPACITY {
            self.0.push(key);
        }
        Ok(key)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PublicKey(")?;
        for byte in &self.to_bytes()[..8] {
            write!(f, "{byte:02x}")?;
        }
        f.write_str("…)")
    }
}

/// A 64-byte Ed25519 signature. Its validity is only known after [`PublicKey::verify`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; SIGNATURE_LENGTH]);

impl Signature {
    /// The 64 bytes.
    pub fn to_bytes(&self) -> [u8; SIGNATURE_LENGTH] {
        self.0
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signature(")?;
        for byte in &self.0[..8] {
            write!(f, "{byte:02x}")?;
        }
        f.write_str("…)")
    }
}

/// One signature with exactly the bytes it covers (`context || message`) and the key it claims:
/// what batch verification takes, and what a benchmark of the raw signature checks measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedMessage {
    key: PublicKey,
    message: Vec<u8>,
    signature: Signature,
}

impl SignedMessage {
    pub(crate) fn new(key: PublicKey, context: Context, message: &[u8], signature: Signature) -> Self {
        Self { key, message: domain_separated(context, message), signature }
    }

    /// The key the signature claims.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// The signed bytes, context string included.
    pub fn message(&self) -> &[u8] {
        &self.message
    }

    /// The signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Checks the signature with `verify_strict` (see [`PublicKey::verify`]).
    pub fn verify_strict(&self) -> Result<(), BadSignature> {
        let signature = ed25519_dalek::Signature::from_bytes(&self.signature.0);
        self.key.0.verify_strict(&self.message, &signature).map_err(|_| BadSignature)
    }
}

// serde has no impl for [u8; 64]: encode as a fixed-length tuple so postcard writes exactly 64 bytes.
impl Serialize for Signature {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple as _;
        let mut tuple = serializer.serialize_tuple(SIGNATURE_LENGTH)?;
        for byte in &self.0 {
            tuple.serialize_element(byte)?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Signature {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Signature;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{SIGNATURE_LENGTH} signature bytes")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Signature, A::Error> {
                let mut bytes = [0u8; SIGNATURE_LENGTH];
                for (i, byte) in bytes.iter_mut().enumerate() {
                    *byte = seq.next_element()?.ok_or_else(|| serde::de::Error::invalid_length(i, &self))?;
                }
                Ok(Signature(bytes))
            }
        }
        deserializer.deserialize_tuple(SIGNATURE_LENGTH, Visitor)
    }
}

fn domain_separated(context: Context, message: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(context.0.len() + message.len());
    bytes.extend_from_slice(context.0);
    bytes.extend_from_slice(message);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> DeviceKey {
        DeviceKey::from_seed(&[seed; SECRET_KEY_LENGTH])
    }

    #[test]
    fn no_context_is_a_prefix_of_another() {
        for (i, a) in Context::ALL.iter().enumerate() {
            for (j, b) in Context::ALL.iter().enumerate() {
                if i != j {
                    assert!(!b.as_bytes().starts_with(a.as_bytes()), "{a:?} is a prefix of {b:?}");
                }
            }
        }
    }

    #[test]
    fn signature_verifies_only_under_its_context() {
        let key = key(7);
        let signature = key.sign(Context::CHAT_MESSAGE, b"hello");
        assert_eq!(key.public().verify(Context::CHAT_MESSAGE, b"hello", &signature), Ok(()));
        assert_eq!(key.public().verify(Context::RECEIPT, b"hello", &signature), Err(BadSignature));
        assert_eq!(key.public().verify(Context::CHAT_MESSAGE, b"hellp", &signature), Err(BadSignature));
    }

    #[test]
    fn weak_and_invalid_keys_are_rejected() {
        // The identity point (small order) encodes as 1 followed by zeros.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::from_bytes(&identity), Err(KeyError::WeakKey));
        // y = 2 is not on the curve.
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        assert_eq!(PublicKey::from_bytes(&not_a_point), Err(KeyError::InvalidPoint));
    }

    #[test]
    fn known_keys_parse_as_from_bytes_does_and_keep_a_bounded_few() {
        let mut known = KnownKeys::default();
        let keys: Vec<[u8; 32]> = (0..12).map(|i| key(i).public().to_bytes()).collect();
        for round in 0..2 {
            for bytes in &keys {
                assert_eq!(known.parse(bytes), PublicKey::from_bytes(bytes), "round {round}");
            }
        }
        assert_eq!(known.0.len(), KnownKeys::CAPACITY);
        assert!(known.0.iter().zip(&keys).all(|(kept, bytes)| kept.to_bytes() == *bytes), "the first ones parsed");
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let mut not_a_point = [0u8; 32];
        not_a_point[0] = 2;
        let mut known = KnownKeys::default();
        for _ in 0..2 {
            assert_eq!(known.parse(&identity), Err(KeyError::WeakKey));
            assert_eq!(known.parse(&not_a_point), Err(KeyError::InvalidPoint));
        }
        assert!(known.0.is_empty(), "a refused key is never kept");
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let key = key(9);
        let shown = format!("{key:?}");
        let seed_hex: String = key.to_seed().iter().map(|b| format!("{b:02x}")).collect();
        assert!(!shown.contains(&seed_hex[..16]));
    }

    #[test]
    fn public_key_and_signature_round_trip_through_postcard() {
        let key = key(3);
        let signature = key.sign(Context::VOUCHER, b"body");
        let bytes = postcard::to_allocvec(&(key.public(), signature)).unwrap();
        assert_eq!(bytes.len(), PUBLIC_KEY_LENGTH + SIGNATURE_LENGTH);
        let (public, decoded): (PublicKey, Signature) = postcard::from_bytes(&bytes).unwrap();
        assert_eq!((public, decoded), (key.public(), signature));
    }
}
