//! Canonical, versioned, size-limited encoding shared by every structure, and strict Base45.
//!
//! # Invariants
//! - Every structure is `postcard(wire struct)`, whose first field is a version byte and whose
//!   last field, for signed structures, is the 64-byte signature. The signed bytes are therefore
//!   the encoding minus its last 64 bytes.
//! - Decoding checks, in this order: the input is not empty and not longer than the structure's
//!   limit, the version byte, the postcard decode (no trailing bytes), and canonicity: the
//!   decoded value must re-encode to exactly the input. Postcard accepts over-long varints
//!   (`0x80 0x00` for 0); the re-encoding check turns those away, so one value has one encoding.
//!   The re-encoding is compared byte by byte as it is produced, never stored: it runs on every
//!   scan, next to two signature checks it must stay small against.
//! - Base45 decoding ([RFC 9285]) is strict: every group must be in range, so one byte string has
//!   exactly one Base45 text.
//!
//! [RFC 9285]: https://www.rfc-editor.org/rfc/rfc9285

use serde::{Serialize, de::DeserializeOwned};

use crate::keys::{BadSignature, Context, DeviceKey, KeyError, PublicKey, SIGNATURE_LENGTH, Signature, SignedMessage};

/// Why bytes or QR text could not be decoded. Every decoder of untrusted input returns this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input is longer than the structure's size limit; it was not parsed.
    #[error("input is {len} bytes, over the limit of {max}")]
    TooLong {
        /// Length of the input.
        len: usize,
        /// The structure's limit.
        max: usize,
    },
    /// The version byte is not one this code reads.
    #[error("unsupported version {found} (expected {expected})")]
    WrongVersion {
        /// The version byte found.
        found: u8,
        /// The version this decoder reads.
        expected: u8,
    },
    /// The input ends before the structure does (this includes empty input).
    #[error("input is truncated")]
    Truncated,
    /// Bytes remain after the end of the structure.
    #[error("{0} bytes after the end of the structure")]
    TrailingBytes(usize),
    /// A field is malformed: an out-of-range enum tag, varint or option tag.
    #[error("malformed field")]
    Malformed,
    /// The bytes decode, but are not the canonical encoding of what they decode to.
    #[error("encoding is not canonical")]
    NonCanonical,
    /// An embedded public key is invalid or weak.
    #[error("embedded public key: {0}")]
    Key(#[from] KeyError),
    /// Flag bits that this version does not define are set.
    #[error("unknown flag bits {0:#04x}")]
    UnknownFlags(u8),
    /// A time window ends before it starts.
    #[error("time window ends before it starts")]
    InvertedWindow,
    /// A list that must be strictly increasing (a set) is not.
    #[error("list is not strictly increasing")]
    Unsorted,
    /// A list has more entries than its limit.
    #[error("list has {len} entries, over the limit of {max}")]
    TooMany {
        /// Number of entries.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A stored-value denomination has value 0.
    #[error("stored-value voucher without a value")]
    StoredValueWithoutValue,
    /// An expiry extension adds more time than the format allows.
    #[error("extension of {secs} s is over the limit of {max} s")]
    ExtensionTooLong {
        /// Seconds requested.
        secs: u64,
        /// The limit.
        max: u64,
    },
    /// The QR text does not start with a known prefix (`GV1:` or `GP1:`).
    #[error("QR text has no known prefix")]
    UnknownPrefix,
    /// The text has a character outside the Base45 alphabet.
    #[error("character {position} is not in the Base45 alphabet")]
    Base45Character {
        /// Byte offset of the character in the Base45 part.
        position: usize,
    },
    /// A Base45 group encodes a value out of range (over 65535, or over 255 for a final pair).
    #[error("Base45 group at {position} is out of range")]
    Base45Range {
        /// Byte offset of the group in the Base45 part.
        position: usize,
    },
    /// The Base45 text has a length of the form 3n + 1, which no input encodes to.
    #[error("Base45 text has a dangling character")]
    Base45Length,
}

/// A wire struct: a postcard-encoded, versioned structure with a size limit.
pub(crate) trait Wire: Serialize + DeserializeOwned {
    /// The version byte this code writes and reads.
    const VERSION: u8;
    /// The largest valid encoding, in bytes.
    const MAX_LEN: usize;
}

/// Encodes a value with postcard.
///
/// Postcard fails only for values it cannot represent (sequences of unknown length, ...), and
/// none of the wire structs are such (the round-trip tests cover each). Should it ever fail, the
/// empty result never equals a decoded input and never verifies, so nothing is accepted.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Every structure but the lists fits this, so encoding seldom reallocates.
    postcard::to_extend(value, Vec::with_capacity(ENCODE_CAPACITY)).unwrap_or_default()
}

const ENCODE_CAPACITY: usize = 384;

/// Whether `value` encodes to exactly `expected`.
pub(crate) fn encodes_to<T: Serialize>(value: &T, expected: &[u8]) -> bool {
    postcard::serialize_with_flavor(value, Matching { expected }).unwrap_or(false)
}

/// The length of `value`'s encoding.
pub(crate) fn encoded_len<T: Serialize>(value: &T) -> usize {
    postcard::serialize_with_flavor(value, postcard::ser_flavors::Size::default()).unwrap_or_default()
}

/// A postcard output that compares with `expected` instead of storing: serialization stops at the
/// first byte that differs (postcard reports it as a full buffer), and the result says whether
/// every byte matched and none was left over.
struct Matching<'a> {
    expected: &'a [u8],
}

impl postcard::ser_flavors::Flavor for Matching<'_> {
    type Output = bool;

    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        match self.expected.split_at_checked(data.len()) {
            Some((head, rest)) if head == data => {
                self.expected = rest;
                Ok(())
            }
            _ => Err(postcard::Error::SerializeBufferFull),
        }
    }

    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        self.try_extend(&[data])
    }

    fn finalize(self) -> postcard::Result<bool> {
        Ok(self.expected.is_empty())
    }
}

/// Decodes a wire struct: size limit, version byte, postcard, no trailing bytes, canonicity.
pub(crate) fn decode<W: Wire>(bytes: &[u8]) -> Result<W, DecodeError> {
    if bytes.len() > W::MAX_LEN {
        return Err(DecodeError::TooLong { len: bytes.len(), max: W::MAX_LEN });
    }
    let Some(&version) = bytes.first() else {
        return Err(DecodeError::Truncated);
    };
    if version != W::VERSION {
        return Err(DecodeError::WrongVersion { found: version, expected: W::VERSION });
    }
    let (value, rest) = postcard::take_from_bytes::<W>(bytes).map_err(map_postcard)?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes(rest.len()));
    }
    if !encodes_to(&value, bytes) {
        return Err(DecodeError::NonCanonical);
    }
    Ok(value)
}

/// The part of a signed structure's encoding that its signature covers: all but the last 64 bytes.
pub(crate) fn signed_part(encoding: &[u8]) -> &[u8] {
    &encoding[..encoding.len().saturating_sub(SIGNATURE_LENGTH)]
}

/// Signs an encoding whose last 64 bytes are a placeholder signature: signs all bytes before
/// them under `context` and puts the signature in their place.
pub(crate) fn sign_encoding(mut encoding: Vec<u8>, key: &DeviceKey, context: Context) -> Vec<u8> {
    let split = encoding.len().saturating_sub(SIGNATURE_LENGTH);
    let signature = key.sign(context, &encoding[..split]);
    encoding.truncate(split);
    encoding.extend_from_slice(&signature.to_bytes());
    encoding
}

/// The signature in the last 64 bytes of `encoding` over the bytes before them, claimed by `key`.
/// Every decoded or signed structure is longer than a signature; were `encoding` shorter, the
/// signature would be all zeros, which no check accepts (its `R` has small order).
pub(crate) fn signed_encoding(encoding: &[u8], key: PublicKey, context: Context) -> SignedMessage {
    let split = encoding.len().saturating_sub(SIGNATURE_LENGTH);
    let signature = <[u8; SIGNATURE_LENGTH]>::try_from(&encoding[split..]).unwrap_or([0; SIGNATURE_LENGTH]);
    SignedMessage::new(key, context, &encoding[..split], Signature(signature))
}

/// Checks the signature in the last 64 bytes of `encoding` over the bytes before them.
pub(crate) fn verify_encoding(encoding: &[u8], key: &PublicKey, context: Context) -> Result<(), BadSignature> {
    if encoding.len() < SIGNATURE_LENGTH {
        return Err(BadSignature);
    }
    signed_encoding(encoding, *key, context).verify_strict()
}

/// Checks that a version byte nested inside another structure is the expected one.
pub(crate) fn check_version(found: u8, expected: u8) -> Result<(), DecodeError> {
    if found == expected { Ok(()) } else { Err(DecodeError::WrongVersion { found, expected }) }
}

/// Checks a list length against its limit.
pub(crate) fn check_len(len: usize, max: usize) -> Result<(), DecodeError> {
    if len <= max { Ok(()) } else { Err(DecodeError::TooMany { len, max }) }
}

/// Checks that a list is strictly increasing (so it is a set, in canonical order).
pub(crate) fn check_strictly_increasing<T: Ord>(items: &[T]) -> Result<(), DecodeError> {
    if items.windows(2).all(|pair| pair[0] < pair[1]) { Ok(()) } else { Err(DecodeError::Unsorted) }
}

/// Checks that a window `[from, to]` is not inverted.
pub(crate) fn check_window(from: u64, to: u64) -> Result<(), DecodeError> {
    if from <= to { Ok(()) } else { Err(DecodeError::InvertedWindow) }
}

/// QR text: `prefix` + Base45(`bytes`).
pub(crate) fn to_qr_text(prefix: &str, bytes: &[u8]) -> String {
    let mut text = String::with_capacity(prefix.len() + base45::encoded_len(bytes.len()));
    text.push_str(prefix);
    text.push_str(&base45::encode(bytes));
    text
}

/// The bytes of QR text with `prefix`, whose decoding may be at most `max_len` bytes long. The
/// text length is checked before any decoding.
pub(crate) fn from_qr_text(text: &str, prefix: &str, max_len: usize) -> Result<Vec<u8>, DecodeError> {
    let body = text.strip_prefix(prefix).ok_or(DecodeError::UnknownPrefix)?;
    let max = base45::encoded_len(max_len);
    if body.len() > max {
        return Err(DecodeError::TooLong { len: body.len(), max });
    }
    base45::decode(body)
}

fn map_postcard(error: postcard::Error) -> DecodeError {
    match error {
        postcard::Error::DeserializeUnexpectedEnd => DecodeError::Truncated,
        _ => DecodeError::Malformed,
    }
}

/// Number of bytes a varint-encoded `u32`/`u64` takes at most.
pub(crate) const VARINT_U32_MAX: usize = 5;
/// Number of bytes a varint-encoded `u64` takes at most.
pub(crate) const VARINT_U64_MAX: usize = 10;

/// Strict Base45 ([RFC 9285]), the QR alphanumeric alphabet.
///
/// [RFC 9285]: https://www.rfc-editor.org/rfc/rfc9285
pub mod base45 {
    use super::DecodeError;

    /// The 45 characters, in value order. All are in the QR alphanumeric set.
    pub const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

    /// Length of the Base45 text for `len` bytes.
    pub const fn encoded_len(len: usize) -> usize {
        len / 2 * 3 + (len % 2) * 2
    }

    /// Encodes bytes: each pair `(a, b)` as the three digits of `256a + b` in base 45, least
    /// significant first; a final single byte as two digits.
    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(encoded_len(bytes.len()));
        let mut push = |value: u32, digits: usize| {
            let mut value = value;
            for _ in 0..digits {
                out.push(char::from(ALPHABET[(value % 45) as usize]));
                value /= 45;
            }
        };
        for chunk in bytes.chunks(2) {
            match *chunk {
                [a, b] => push(u32::from(a) << 8 | u32::from(b), 3),
                [a] => push(u32::from(a), 2),
                _ => {}
            }
        }
        out
    }

    /// Decodes Base45 text, rejecting characters outside the alphabet, groups out of range and a
    /// dangling character. `encode(decode(t)?) == t` for every accepted `t`.
    pub fn decode(text: &str) -> Result<Vec<u8>, DecodeError> {
        let text = text.as_bytes();
        if text.len() % 3 == 1 {
            return Err(DecodeError::Base45Length);
        }
        let mut out = Vec::with_capacity(text.len() / 3 * 2 + 1);
        let groups = text.chunks_exact(3);
        let last = groups.remainder();
        for (index, group) in groups.enumerate() {
            let position = index * 3;
            let pair = u16::try_from(group_value(group, position)?).map_err(|_| DecodeError::Base45Range { position })?;
            out.extend_from_slice(&pair.to_be_bytes());
        }
        if !last.is_empty() {
            let position = text.len() - last.len();
            out.push(u8::try_from(group_value(last, position)?).map_err(|_| DecodeError::Base45Range { position })?);
        }
        Ok(out)
    }

    /// The value of one group of two or three digits, least significant first.
    fn group_value(group: &[u8], position: usize) -> Result<u32, DecodeError> {
        group.iter().enumerate().rev().try_fold(0, |value, (offset, &c)| match DIGITS[usize::from(c)] {
            NOT_A_DIGIT => Err(DecodeError::Base45Character { position: position + offset }),
            digit => Ok(value * 45 + u32::from(digit)),
        })
    }

    /// Digit value of each byte, or `NOT_A_DIGIT`.
    const DIGITS: [u8; 256] = {
        let mut table = [NOT_A_DIGIT; 256];
        let mut value = 0;
        while value < ALPHABET.len() {
            table[ALPHABET[value] as usize] = value as u8;
            value += 1;
        }
        table
    };
    const NOT_A_DIGIT: u8 = 0xff;

    #[cfg(test)]
    mod tests {
        use super::*;

        #[cfg_attr(not(target_family = "wasm"), test)]
        #[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
        fn rfc9285_examples() {
            for (bytes, text) in [
                (&b"AB"[..], "BB8"),
                (b"Hello!!", "%69 VD92EX0"),
                (b"base-45", "UJCLQE7W581"),
                (b"ietf!", "QED8WEX0"),
                (b"", ""),
            ] {
                assert_eq!(encode(bytes), text);
                assert_eq!(decode(text).as_deref(), Ok(bytes));
            }
        }

        #[cfg_attr(not(target_family = "wasm"), test)]
        #[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
        fn rejects_out_of_range_groups_and_bad_characters() {
            // ":::" = 44 + 44*45 + 44*2025 = 91124 > 65535.
            assert_eq!(decode(":::"), Err(DecodeError::Base45Range { position: 0 }));
            // "GGW" = 16 + 16*45 + 32*2025 = 65536, one past the largest pair.
            assert_eq!(decode("GGW"), Err(DecodeError::Base45Range { position: 0 }));
            assert_eq!(decode("FGW"), Ok(vec![0xff, 0xff]));
            // A final pair over 255: "::" = 2024.
            assert_eq!(decode("BB8::"), Err(DecodeError::Base45Range { position: 3 }));
            assert_eq!(decode("BB8a"), Err(DecodeError::Base45Length));
            assert_eq!(decode("BBa"), Err(DecodeError::Base45Character { position: 2 }));
            assert_eq!(decode("BB8Aa"), Err(DecodeError::Base45Character { position: 4 }));
        }

        #[cfg_attr(not(target_family = "wasm"), test)]
        #[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
        fn every_byte_pair_round_trips() {
            for a in 0..=255u8 {
                for b in (0..=255u8).step_by(7) {
                    let text = encode(&[a, b]);
                    assert_eq!(decode(&text), Ok(vec![a, b]));
                }
                assert_eq!(decode(&encode(&[a])), Ok(vec![a]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{encode, encoded_len, encodes_to};

    #[cfg_attr(not(target_family = "wasm"), test)]
    #[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
    fn a_value_matches_exactly_its_own_encoding() {
        let value = (1u8, 300u32, [7u8; 3]);
        let bytes = encode(&value);
        assert_eq!(bytes, [1, 0xac, 0x02, 7, 7, 7]);
        assert_eq!(encoded_len(&value), bytes.len());
        assert!(encodes_to(&value, &bytes));
        assert!(!encodes_to(&value, &bytes[..5]), "shorter");
        assert!(!encodes_to(&value, &[&bytes[..], &[0]].concat()), "longer");
        assert!(!encodes_to(&value, &[1, 0xac, 0x82, 0x00, 7, 7, 7]), "over-long varint");
        assert!(!encodes_to(&value, &[]), "empty");
    }
}
