//! Unsigned varints and the little of protobuf that the two wire messages need.
//!
//! - uvarint (multiformats/unsigned-varint, the same as protobuf's base-128 varint): 7 bits per
//!   byte, least significant group first, high bit set on every byte but the last. This decoder
//!   takes at most [`VARINT_MAX`] bytes and rejects over-long (non-minimal) forms such as
//!   `80 00`, as the multiformats spec requires.
//! - protobuf fields: a key varint `(field_number << 3) | wire_type`, then for wire type 0 a
//!   varint value, for wire type 2 a varint length and that many bytes, for wire type 1 eight
//!   bytes, for wire type 5 four bytes. Unknown fields are skipped; groups (wire types 3, 4)
//!   and wire types 6, 7 are errors. A repeated scalar field keeps its last value (protobuf).

/// Most bytes a `u64` varint takes.
pub(crate) const VARINT_MAX: usize = 10;

/// Why a varint or protobuf field could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    /// The input ends inside a varint or a field.
    #[error("truncated")]
    Truncated,
    /// A varint is longer than 10 bytes, overflows 64 bits, or is not minimal.
    #[error("malformed varint")]
    BadVarint,
    /// A wire type this decoder does not accept (groups, 6, 7).
    #[error("unsupported wire type {0}")]
    WireType(u8),
    /// Field number 0, which protobuf forbids.
    #[error("field number 0")]
    FieldZero,
}

/// Appends the varint encoding of `value`.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Number of bytes the varint encoding of `value` takes.
pub(crate) fn varint_len(value: u64) -> usize {
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Reads a minimal varint from the start of `input`: `Ok(Some((value, bytes used)))`,
/// `Ok(None)` if `input` ends before the varint does (and could still become valid).
pub(crate) fn get_varint(input: &[u8]) -> Result<Option<(u64, usize)>, ProtoError> {
    let mut value = 0u64;
    for (index, &byte) in input.iter().enumerate().take(VARINT_MAX) {
        let group = u64::from(byte & 0x7f);
        if index == VARINT_MAX - 1 && group > 1 {
            return Err(ProtoError::BadVarint);
        }
        value |= group << (7 * index);
        if byte & 0x80 == 0 {
            if byte == 0 && index > 0 {
                return Err(ProtoError::BadVarint);
            }
            return Ok(Some((value, index + 1)));
        }
    }
    if input.len() >= VARINT_MAX {
        Err(ProtoError::BadVarint)
    } else {
        Ok(None)
    }
}

/// One protobuf field value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    /// Fixed 32/64-bit values are skipped by every caller here.
    Fixed,
}

/// Iterates over the fields of one complete protobuf message.
pub(crate) struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    pub(crate) fn new(body: &'a [u8]) -> Self {
        Self { rest: body }
    }

    fn varint(&mut self) -> Result<u64, ProtoError> {
        let (value, used) = get_varint(self.rest)?.ok_or(ProtoError::Truncated)?;
        self.rest = &self.rest[used..];
        Ok(value)
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], ProtoError> {
        let len = usize::try_from(len).map_err(|_| ProtoError::Truncated)?;
        if len > self.rest.len() {
            return Err(ProtoError::Truncated);
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }

    /// The next `(field number, value)`, or `None` at the end.
    pub(crate) fn next_field(&mut self) -> Result<Option<(u64, Value<'a>)>, ProtoError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = key >> 3;
        if number == 0 {
            return Err(ProtoError::FieldZero);
        }
        let value = match (key & 7) as u8 {
            0 => Value::Varint(self.varint()?),
            1 => {
                self.take(8)?;
                Value::Fixed
            }
            2 => {
                let len = self.varint()?;
                Value::Bytes(self.take(len)?)
            }
            5 => {
                self.take(4)?;
                Value::Fixed
            }
            other => return Err(ProtoError::WireType(other)),
        };
        Ok(Some((number, value)))
    }
}

/// Why a length-prefixed stream could not be split into messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// The length prefix is not a minimal varint of at most 10 bytes.
    #[error("malformed length prefix")]
    BadPrefix,
    /// The announced length is over the limit; nothing of the message was buffered.
    #[error("message of {len} bytes is over the limit of {max}")]
    TooLarge {
        /// The announced length.
        len: u64,
        /// The limit.
        max: usize,
    },
}

/// Splits a byte stream of `uvarint(len) || body` messages, whatever the chunk boundaries.
///
/// Buffers at most one prefix and one body of at most `max_body` bytes: [`Self::decode`] consumes
/// input only up to the end of the current message. After an error the decoder stays failed
/// (the stream cannot be resynchronised) and returns the same error again.
#[derive(Debug, Clone)]
pub(crate) struct PrefixDecoder {
    max_body: usize,
    prefix: Vec<u8>,
    body: Vec<u8>,
    expected: Option<usize>,
    failed: Option<PrefixError>,
}

impl PrefixDecoder {
    pub(crate) fn new(max_body: usize) -> Self {
        Self {
            max_body,
            prefix: Vec::new(),
            body: Vec::new(),
            expected: None,
            failed: None,
        }
    }

    /// Bytes buffered towards the current message.
    pub(crate) fn buffered(&self) -> usize {
        self.prefix.len() + self.body.len()
    }

    /// Consumes bytes from the front of `input` until one message is complete (returned) or
    /// `input` is empty (`Ok(None)`).
    pub(crate) fn decode(&mut self, input: &mut &[u8]) -> Result<Option<Vec<u8>>, PrefixError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        loop {
            let Some(expected) = self.expected else {
                let Some((&byte, rest)) = input.split_first() else {
                    return Ok(None);
                };
                *input = rest;
                self.prefix.push(byte);
                match get_varint(&self.prefix) {
                    Ok(None) => continue,
                    Ok(Some((len, _))) => {
                        self.prefix.clear();
                        match usize::try_from(len) {
                            Ok(len) if len <= self.max_body => {
                                self.expected = Some(len);
                                self.body.reserve_exact(len);
                            }
                            _ => {
                                return Err(self.fail(PrefixError::TooLarge {
                                    len,
                                    max: self.max_body,
                                }));
                            }
                        }
                    }
                    Err(_) => return Err(self.fail(PrefixError::BadPrefix)),
                }
                continue;
            };
            let wanted = expected - self.body.len();
            let (now, rest) = input.split_at(wanted.min(input.len()));
            self.body.extend_from_slice(now);
            *input = rest;
            if self.body.len() < expected {
                return Ok(None);
            }
            self.expected = None;
            return Ok(Some(core::mem::take(&mut self.body)));
        }
    }

    fn fail(&mut self, error: PrefixError) -> PrefixError {
        self.failed = Some(error);
        self.prefix = Vec::new();
        self.body = Vec::new();
        error
    }
}

/// A message type carried as `uvarint(len) || body`.
pub trait Body: Sized {
    /// Largest body accepted.
    const MAX_LEN: usize;
    /// Why a body or the stream is not acceptable.
    type Error: From<PrefixError>;
    /// Decodes one complete body.
    fn decode_body(body: &[u8]) -> Result<Self, Self::Error>;
}

/// Splits a byte stream into messages of type `M`, across arbitrary chunk boundaries, holding
/// at most one prefix and one body of at most `M::MAX_LEN` bytes.
pub struct LengthPrefixedDecoder<M> {
    inner: PrefixDecoder,
    message: core::marker::PhantomData<fn() -> M>,
}

impl<M: Body> Default for LengthPrefixedDecoder<M> {
    fn default() -> Self {
        Self {
            inner: PrefixDecoder::new(M::MAX_LEN),
            message: core::marker::PhantomData,
        }
    }
}

impl<M> core::fmt::Debug for LengthPrefixedDecoder<M> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LengthPrefixedDecoder")
            .field("buffered", &self.inner.buffered())
            .finish()
    }
}

impl<M: Body> LengthPrefixedDecoder<M> {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Consumes bytes from the front of `input` until one message is complete or `input` is
    /// empty. After an error the stream is unusable: reset it.
    pub fn decode(&mut self, input: &mut &[u8]) -> Result<Option<M>, M::Error> {
        match self.inner.decode(input)? {
            Some(body) => M::decode_body(&body).map(Some),
            None => Ok(None),
        }
    }

    /// Bytes held towards the next message.
    pub fn buffered(&self) -> usize {
        self.inner.buffered()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trips_and_lengths_at_every_boundary() {
        for shift in 0..64 {
            for value in [
                1u64 << shift,
                (1u64 << shift) - 1,
                (1u64 << shift) + 1,
                u64::MAX,
            ] {
                let mut out = Vec::new();
                put_varint(&mut out, value);
                assert_eq!(out.len(), varint_len(value), "{value}");
                assert_eq!(get_varint(&out), Ok(Some((value, out.len()))));
                for cut in 0..out.len() {
                    assert_eq!(get_varint(&out[..cut]), Ok(None), "prefix of {value}");
                }
            }
        }
    }

    #[test]
    fn varint_rejects_overlong_and_overflowing_forms() {
        assert_eq!(get_varint(&[0x80, 0x00]), Err(ProtoError::BadVarint));
        assert_eq!(get_varint(&[0xff, 0x80, 0x00]), Err(ProtoError::BadVarint));
        assert_eq!(get_varint(&[0xff; 10]), Err(ProtoError::BadVarint));
        let mut eleven = vec![0x80; 10];
        eleven.push(0x01);
        assert_eq!(get_varint(&eleven), Err(ProtoError::BadVarint));
        // u64::MAX is the largest value: its tenth byte is 0x01.
        let mut max = vec![0xff; 9];
        max.push(0x01);
        assert_eq!(get_varint(&max), Ok(Some((u64::MAX, 10))));
        max[9] = 0x02;
        assert_eq!(get_varint(&max), Err(ProtoError::BadVarint));
    }

    #[test]
    fn fields_skip_unknown_wire_types_and_reject_groups() {
        let body = [
            0x08, 0x01, 0x19, 1, 2, 3, 4, 5, 6, 7, 8, 0x25, 1, 2, 3, 4, 0x12, 0x01, b'x',
        ];
        let mut fields = Fields::new(&body);
        assert_eq!(fields.next_field(), Ok(Some((1, Value::Varint(1)))));
        assert_eq!(fields.next_field(), Ok(Some((3, Value::Fixed))));
        assert_eq!(fields.next_field(), Ok(Some((4, Value::Fixed))));
        assert_eq!(fields.next_field(), Ok(Some((2, Value::Bytes(b"x")))));
        assert_eq!(fields.next_field(), Ok(None));
        assert_eq!(
            Fields::new(&[0x0b]).next_field(),
            Err(ProtoError::WireType(3))
        );
        assert_eq!(
            Fields::new(&[0x07]).next_field(),
            Err(ProtoError::FieldZero)
        );
        assert_eq!(
            Fields::new(&[0x12, 0x05, 1]).next_field(),
            Err(ProtoError::Truncated)
        );
    }

    #[test]
    fn prefix_decoder_splits_messages_at_any_chunk_size_and_fails_for_good() {
        let mut stream = Vec::new();
        let bodies: Vec<Vec<u8>> = (0..40).map(|n| vec![n as u8; n * 7]).collect();
        for body in &bodies {
            put_varint(&mut stream, body.len() as u64);
            stream.extend_from_slice(body);
        }
        for chunk in 1..stream.len() {
            let mut decoder = PrefixDecoder::new(300);
            let mut out = Vec::new();
            for mut piece in stream.chunks(chunk) {
                while let Some(body) = decoder.decode(&mut piece).unwrap() {
                    out.push(body);
                }
                assert!(decoder.buffered() <= 300 + VARINT_MAX);
            }
            assert_eq!(out, bodies, "chunk size {chunk}");
        }
        let mut decoder = PrefixDecoder::new(10);
        let too_large = [11u8, 0, 0];
        assert_eq!(
            decoder.decode(&mut &too_large[..]),
            Err(PrefixError::TooLarge { len: 11, max: 10 })
        );
        assert_eq!(
            decoder.decode(&mut &[0u8][..]),
            Err(PrefixError::TooLarge { len: 11, max: 10 })
        );
        let mut decoder = PrefixDecoder::new(10);
        assert_eq!(
            decoder.decode(&mut &[0x80, 0x00][..]),
            Err(PrefixError::BadPrefix)
        );
    }
}
