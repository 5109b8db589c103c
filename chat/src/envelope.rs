//! The signed message envelope.
//!
//! ```text
//! envelope = signed || signature (64 bytes)
//! signed   = version (1 byte = 0x01) || postcard(Content)
//! Content  = author (32) conversation (16) time (varint u64) parents (varint n, n × 32, sorted,
//!            distinct, n ≤ 16) body
//! body     = varint(0) text (varint len, UTF-8, ≤ 4096 bytes)
//!          | varint(1) voucher (varint len, opaque GV1 bytes, ≤ 1024)
//!          | varint(2) receipt kind (varint: 0 delivered, 1 read) target (32)
//!          | varint(3) reaction target (32) text (varint len, UTF-8, ≤ 64 bytes)
//! signature = Ed25519(author, "OM/chat-message/1\0" || signed)   (crypto::keys::Context::CHAT_MESSAGE)
//! id        = SHA-256(envelope)
//! ```
//! The encoding is canonical: decoding re-encodes and compares, the signature is checked with
//! `verify_strict`, and the author key must not be weak. So an id names exactly one message,
//! whichever path (direct, relay, mailbox) brought it.

use core::fmt;

use crypto::keys::{Context, DeviceKey, PublicKey, SIGNATURE_LENGTH, Signature};
use crypto::seal::SealError;
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::hlc::Timestamp;

/// Version byte of the envelope.
pub const ENVELOPE_VERSION: u8 = 1;
/// Largest envelope, in bytes (equal to the sync protocol's per-envelope limit).
pub const MAX_ENVELOPE_LEN: usize = chat_sync::protocol::MAX_ENVELOPE_LEN;
/// Most parents a message may name.
pub const MAX_PARENTS: usize = 16;
/// Longest text body, in bytes.
pub const MAX_TEXT_LEN: usize = 4096;
/// Longest voucher body, in bytes.
pub const MAX_VOUCHER_LEN: usize = 1024;
/// Longest reaction, in bytes.
pub const MAX_REACTION_LEN: usize = 64;

/// A message id: SHA-256 of the whole envelope.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MessageId(pub [u8; 32]);

/// A conversation id (16 random bytes chosen by its creator).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ConversationId(pub [u8; 16]);

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", hex(&self.0[..6]))
    }
}

impl fmt::Debug for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConversationId({})", hex(&self.0[..6]))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The position of a message in the ordered view: time, then id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrderKey {
    /// Hybrid logical clock time.
    pub time: Timestamp,
    /// Message id.
    pub id: MessageId,
}

impl From<OrderKey> for chat_sync::Item {
    fn from(key: OrderKey) -> Self {
        chat_sync::Item {
            time: key.time.0,
            id: key.id.0,
        }
    }
}

/// Kind of receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReceiptKind {
    /// The target reached the recipient's device.
    Delivered,
    /// The recipient read up to the target.
    Read,
}

/// What a message says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Body {
    /// Text, UTF-8.
    Text(String),
    /// A GV1 gift voucher, as its opaque bytes (checked by `crypto` where it is shown).
    Voucher(Vec<u8>),
    /// A delivery or read receipt for an earlier message.
    Receipt {
        /// Delivered or read.
        kind: ReceiptKind,
        /// The message receipted.
        target: MessageId,
    },
    /// A reaction to an earlier message.
    Reaction {
        /// The message reacted to.
        target: MessageId,
        /// The reaction (an emoji), UTF-8.
        reaction: String,
    },
}

/// The signed fields of a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// The author's device key.
    pub author: PublicKey,
    /// The conversation.
    pub conversation: ConversationId,
    /// Hybrid logical clock time: above every parent's time.
    pub time: Timestamp,
    /// The heads the author had seen, sorted and distinct.
    pub parents: Vec<MessageId>,
    /// What it says.
    pub body: Body,
}

/// Why bytes are not an envelope, or content cannot be signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Longer than [`MAX_ENVELOPE_LEN`].
    #[error("envelope too long: {0} bytes")]
    TooLong(usize),
    /// Too short to hold a version and a signature.
    #[error("envelope too short: {0} bytes")]
    TooShort(usize),
    /// Version byte is not [`ENVELOPE_VERSION`].
    #[error("unknown envelope version {0}")]
    UnknownVersion(u8),
    /// Not a postcard encoding of the content (or a weak/invalid author key).
    #[error("malformed content")]
    Malformed,
    /// Decodes, but not canonically (overlong varints, trailing bytes).
    #[error("non-canonical encoding")]
    NonCanonical,
    /// More than [`MAX_PARENTS`] parents, or parents not sorted and distinct.
    #[error("bad parent list")]
    BadParents,
    /// A body field exceeds its limit.
    #[error("body too long")]
    BodyTooLong,
    /// The time is `u64::MAX`, which is reserved.
    #[error("reserved time")]
    ReservedTime,
    /// The signature does not verify under the author key.
    #[error("bad signature")]
    BadSignature,
}

/// A verified, canonical, signed message.
#[derive(Clone, PartialEq, Eq)]
pub struct Envelope {
    bytes: Vec<u8>,
    content: Content,
    id: MessageId,
}

impl fmt::Debug for Envelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Envelope")
            .field("id", &self.id)
            .field("time", &self.content.time)
            .field("author", &self.content.author)
            .finish_non_exhaustive()
    }
}

impl Envelope {
    /// Signs `content` with `key`. Parents are sorted and deduplicated first.
    ///
    /// # Returns
    /// An error if the content breaks a limit or `key` is not `content.author`'s key
    /// ([`EnvelopeError::BadSignature`]).
    pub fn sign(key: &DeviceKey, mut content: Content) -> Result<Self, EnvelopeError> {
        content.parents.sort_unstable();
        content.parents.dedup();
        check_content(&content)?;
        if key.public() != content.author {
            return Err(EnvelopeError::BadSignature);
        }
        let mut bytes = vec![ENVELOPE_VERSION];
        bytes.extend_from_slice(
            &postcard::to_allocvec(&content).map_err(|_| EnvelopeError::Malformed)?,
        );
        let signature = key.sign(Context::CHAT_MESSAGE, &bytes);
        bytes.extend_from_slice(&signature.to_bytes());
        if bytes.len() > MAX_ENVELOPE_LEN {
            return Err(EnvelopeError::TooLong(bytes.len()));
        }
        let id = Self::id_of(&bytes);
        Ok(Self { bytes, content, id })
    }

    /// Decodes untrusted bytes: checks length, version, canonical encoding, limits and the
    /// author's signature (`verify_strict`). Never panics.
    pub fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let envelope = Self::decode_unverified(bytes)?;
        let (signed, signature) = envelope.split();
        envelope
            .content
            .author
            .verify(Context::CHAT_MESSAGE, signed, &signature)
            .map_err(|_| EnvelopeError::BadSignature)?;
        Ok(envelope)
    }

    /// Decodes bytes this device stored after [`Envelope::decode`] checked them: every check
    /// but the signature. Not for bytes from the network.
    pub fn decode_stored(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        Self::decode_unverified(bytes)
    }

    /// The id the bytes would have as an envelope: SHA-256 of them. Cheap; checks nothing.
    pub fn id_of(bytes: &[u8]) -> MessageId {
        MessageId(Sha256::digest(bytes).into())
    }

    fn decode_unverified(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() > MAX_ENVELOPE_LEN {
            return Err(EnvelopeError::TooLong(bytes.len()));
        }
        if bytes.len() < 1 + SIGNATURE_LENGTH {
            return Err(EnvelopeError::TooShort(bytes.len()));
        }
        let (signed, _) = bytes.split_at(bytes.len() - SIGNATURE_LENGTH);
        let (&version, body) = signed
            .split_first()
            .ok_or(EnvelopeError::TooShort(bytes.len()))?;
        if version != ENVELOPE_VERSION {
            return Err(EnvelopeError::UnknownVersion(version));
        }
        let (content, rest): (Content, _) =
            postcard::take_from_bytes(body).map_err(|_| EnvelopeError::Malformed)?;
        if !rest.is_empty() {
            return Err(EnvelopeError::NonCanonical);
        }
        check_content(&content)?;
        if postcard::to_allocvec(&content).map_err(|_| EnvelopeError::Malformed)? != body {
            return Err(EnvelopeError::NonCanonical);
        }
        Ok(Self {
            bytes: bytes.to_vec(),
            content,
            id: Self::id_of(bytes),
        })
    }

    fn split(&self) -> (&[u8], Signature) {
        let (signed, signature) = self.bytes.split_at(self.bytes.len() - SIGNATURE_LENGTH);
        let mut sig = [0u8; SIGNATURE_LENGTH];
        sig.copy_from_slice(signature);
        (signed, Signature(sig))
    }

    /// The id: SHA-256 of [`Envelope::as_bytes`].
    pub fn id(&self) -> MessageId {
        self.id
    }

    /// The signed fields.
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// Its place in the ordered view.
    pub fn key(&self) -> OrderKey {
        OrderKey {
            time: self.content.time,
            id: self.id,
        }
    }

    /// The exact bytes that travel and are stored.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The envelope sealed to `recipient` for the platform mailbox or a relay
    /// ([`crypto::seal`]): they see only these bytes. The recipient gets the same envelope,
    /// so the same id, as on any other path.
    pub fn seal_for(
        &self,
        recipient: &PublicKey,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Vec<u8>, SealError> {
        crypto::seal::seal(recipient, &self.bytes, rng)
    }

    /// Opens bytes made by [`Envelope::seal_for`] with this device's key, then decodes and
    /// verifies the envelope inside.
    pub fn open_sealed(key: &DeviceKey, sealed: &[u8]) -> Result<Self, OpenError> {
        let bytes = crypto::seal::open(key, sealed)?;
        Ok(Self::decode(&bytes)?)
    }
}

/// Why sealed bytes did not yield an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Not sealed to this key, or altered.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// The plaintext is not a valid envelope.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
}

fn check_content(content: &Content) -> Result<(), EnvelopeError> {
    if content.parents.len() > MAX_PARENTS || content.parents.windows(2).any(|w| w[0] >= w[1]) {
        return Err(EnvelopeError::BadParents);
    }
    if content.time.0 == u64::MAX {
        return Err(EnvelopeError::ReservedTime);
    }
    let too_long = match &content.body {
        Body::Text(text) => text.len() > MAX_TEXT_LEN,
        Body::Voucher(bytes) => bytes.len() > MAX_VOUCHER_LEN,
        Body::Receipt { .. } => false,
        Body::Reaction { reaction, .. } => reaction.len() > MAX_REACTION_LEN,
    };
    if too_long {
        Err(EnvelopeError::BodyTooLong)
    } else {
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn key(seed: u8) -> DeviceKey {
        DeviceKey::from_seed(&[seed; 32])
    }

    fn content(author: &DeviceKey, body: Body) -> Content {
        Content {
            author: author.public(),
            conversation: ConversationId([9; 16]),
            time: Timestamp::new(1_700_000_000_000, 3),
            parents: vec![MessageId([2; 32]), MessageId([1; 32])],
            body,
        }
    }

    #[test]
    fn every_body_round_trips_with_a_stable_id() {
        let alice = key(1);
        let bodies = [
            Body::Text("안녕하세요".into()),
            Body::Voucher(vec![0x47, 0x56, 0x31]),
            Body::Receipt {
                kind: ReceiptKind::Read,
                target: MessageId([5; 32]),
            },
            Body::Reaction {
                target: MessageId([6; 32]),
                reaction: "👍".into(),
            },
        ];
        for body in bodies {
            let envelope = Envelope::sign(&alice, content(&alice, body)).unwrap();
            assert_eq!(
                envelope.content().parents,
                vec![MessageId([1; 32]), MessageId([2; 32])]
            );
            let decoded = Envelope::decode(envelope.as_bytes()).unwrap();
            assert_eq!(decoded, envelope);
            assert_eq!(
                decoded.id(),
                MessageId(Sha256::digest(envelope.as_bytes()).into())
            );
        }
    }

    #[test]
    fn layout_is_version_author_conversation_then_signature() {
        let alice = key(1);
        let envelope = Envelope::sign(&alice, content(&alice, Body::Text("hi".into()))).unwrap();
        let bytes = envelope.as_bytes();
        assert_eq!(bytes[0], ENVELOPE_VERSION);
        assert_eq!(&bytes[1..33], &alice.public().to_bytes());
        assert_eq!(&bytes[33..49], &[9; 16]);
        // time varint (9 bytes: 1.7e12 << 16 needs 57 bits), parents: 2 × 32, body: tag 0, len 2, "hi".
        assert_eq!(bytes.len(), 1 + 32 + 16 + 9 + 1 + 64 + 1 + 1 + 2 + 64);
    }

    #[test]
    fn tampering_and_wrong_keys_are_caught() {
        let (alice, bob) = (key(1), key(2));
        let envelope = Envelope::sign(&alice, content(&alice, Body::Text("hi".into()))).unwrap();
        assert_eq!(
            Envelope::sign(&bob, content(&alice, Body::Text("hi".into()))),
            Err(EnvelopeError::BadSignature)
        );
        let bytes = envelope.as_bytes();
        for i in 0..bytes.len() {
            let mut altered = bytes.to_vec();
            altered[i] ^= 0x40;
            assert!(Envelope::decode(&altered).is_err(), "flip at {i} accepted");
        }
        assert_eq!(
            Envelope::decode(&bytes[..64]),
            Err(EnvelopeError::TooShort(64))
        );
        let mut trailing = bytes.to_vec();
        trailing.insert(bytes.len() - 64, 0);
        assert!(Envelope::decode(&trailing).is_err());
        assert_eq!(
            Envelope::decode(&vec![1; MAX_ENVELOPE_LEN + 1]),
            Err(EnvelopeError::TooLong(MAX_ENVELOPE_LEN + 1))
        );
    }

    #[test]
    fn limits_are_enforced_when_signing() {
        let alice = key(1);
        let long = content(&alice, Body::Text("x".repeat(MAX_TEXT_LEN + 1)));
        assert_eq!(
            Envelope::sign(&alice, long),
            Err(EnvelopeError::BodyTooLong)
        );
        let mut many = content(&alice, Body::Text(String::new()));
        many.parents = (0..=MAX_PARENTS as u8)
            .map(|i| MessageId([i; 32]))
            .collect();
        assert_eq!(Envelope::sign(&alice, many), Err(EnvelopeError::BadParents));
        let mut reserved = content(&alice, Body::Text(String::new()));
        reserved.time = Timestamp(u64::MAX);
        assert_eq!(
            Envelope::sign(&alice, reserved),
            Err(EnvelopeError::ReservedTime)
        );
    }

    /// A deterministic stand-in for the caller's random source.
    struct CountingRng(u64);

    impl rand_core::RngCore for CountingRng {
        fn next_u32(&mut self) -> u32 {
            self.next_u64() as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            self.0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            rand_core::impls::fill_bytes_via_next(self, dest)
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    impl rand_core::CryptoRng for CountingRng {}

    #[test]
    fn sealed_envelopes_open_to_the_same_message_for_the_recipient_only() {
        let (alice, bob, carol) = (key(1), key(2), key(3));
        let envelope =
            Envelope::sign(&alice, content(&alice, Body::Text("via mailbox".into()))).unwrap();
        let sealed = envelope
            .seal_for(&bob.public(), &mut CountingRng(7))
            .unwrap();
        assert!(
            !sealed.windows(11).any(|w| w == b"via mailbox"),
            "plaintext visible to the relay"
        );
        let opened = Envelope::open_sealed(&bob, &sealed).unwrap();
        assert_eq!(opened.id(), envelope.id());
        assert_eq!(
            Envelope::open_sealed(&carol, &sealed),
            Err(OpenError::Seal(SealError::Undecryptable))
        );
        let not_an_envelope =
            crypto::seal::seal(&bob.public(), b"junk", &mut CountingRng(8)).unwrap();
        assert!(matches!(
            Envelope::open_sealed(&bob, &not_an_envelope),
            Err(OpenError::Envelope(_))
        ));
    }

    #[test]
    fn unsorted_parents_in_received_bytes_are_refused() {
        let alice = key(1);
        let mut c = content(&alice, Body::Text("hi".into()));
        c.parents = vec![MessageId([2; 32]), MessageId([1; 32])];
        let mut signed = vec![ENVELOPE_VERSION];
        signed.extend_from_slice(&postcard::to_allocvec(&c).unwrap());
        let signature = alice.sign(Context::CHAT_MESSAGE, &signed);
        signed.extend_from_slice(&signature.to_bytes());
        assert_eq!(Envelope::decode(&signed), Err(EnvelopeError::BadParents));
    }
}
