//! The frame that carries one libp2p stream on one `RTCDataChannel`, and its close protocol.
//!
//! # Wire format (libp2p specs `webrtc/README.md`, "Multiplexing")
//! A channel carries a byte stream of frames `uvarint(len) || body`, `body` being a protobuf
//! (proto2) `Message`:
//!
//! ```text
//! syntax = "proto2";
//! message Message {
//!   enum Flag { FIN = 0; STOP_SENDING = 1; RESET_STREAM = 2; FIN_ACK = 3; }
//!   optional Flag flag = 1;      // key byte 0x08, then a varint
//!   optional bytes message = 2;  // key byte 0x12, then uvarint(length), then the bytes
//! }
//! ```
//!
//! A frame including its prefix is at most [`MAX_FRAME_LEN`] = 16384 bytes, so a body is at
//! most [`MAX_BODY_LEN`] = 16382 (its prefix then takes 2 bytes) and a payload at most
//! [`MAX_PAYLOAD_LEN`] = 16377 (16384 − 2 prefix − 2 flag − 1 key − 2 length).
//! [`encode`] writes `flag` (if any) first, then `message` (if any); `FIN` is value 0 and is
//! still written (`08 00`): presence is explicit. Examples: FIN alone is `02 08 00`; FIN_ACK
//! `02 08 03`; the payload `hi` is `04 12 02 68 69`.
//!
//! Decoding ([`decode_body`], [`Decoder`]) follows proto2: unknown fields are skipped, the last
//! value of a repeated field wins, and a `flag` value outside 0..=3 is an unknown enum value,
//! which proto2 treats as an unknown field: the frame decodes with no flag. Bytes may arrive in
//! any chunking (js-libp2p sends prefix and body in two `send()` calls); the decoder buffers at
//! most one frame. A frame with both `message` and `flag` delivers the message first.

pub mod state;

use crate::proto::{
    Body, Fields, LengthPrefixedDecoder, PrefixError, ProtoError, Value, put_varint, varint_len,
};

pub use state::{ReadHalf, StreamError, StreamState, WriteHalf};

/// Largest frame, length prefix included.
pub const MAX_FRAME_LEN: usize = 16384;
/// Largest frame body.
pub const MAX_BODY_LEN: usize = MAX_FRAME_LEN - 2;
/// Largest payload in one frame (with a flag).
pub const MAX_PAYLOAD_LEN: usize = 16377;

/// The `flag` of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    /// The sender will write no more.
    Fin,
    /// The sender will read no more.
    StopSending,
    /// The sender abandons the stream.
    ResetStream,
    /// Acknowledges the peer's `FIN`.
    FinAck,
}

impl Flag {
    /// Every flag.
    pub const ALL: [Flag; 4] = [
        Flag::Fin,
        Flag::StopSending,
        Flag::ResetStream,
        Flag::FinAck,
    ];

    /// The protobuf enum value.
    pub fn to_wire(self) -> u64 {
        match self {
            Self::Fin => 0,
            Self::StopSending => 1,
            Self::ResetStream => 2,
            Self::FinAck => 3,
        }
    }

    /// The flag with this enum value.
    pub fn from_wire(value: u64) -> Option<Self> {
        match value {
            0 => Some(Self::Fin),
            1 => Some(Self::StopSending),
            2 => Some(Self::ResetStream),
            3 => Some(Self::FinAck),
            _ => None,
        }
    }
}

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    /// The flag, if present.
    pub flag: Option<Flag>,
    /// The payload, if present (present and empty is allowed).
    pub message: Option<Vec<u8>>,
}

impl Frame {
    /// A frame with only a flag.
    pub fn flag(flag: Flag) -> Self {
        Self {
            flag: Some(flag),
            message: None,
        }
    }

    /// A frame with only data.
    pub fn data(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            flag: None,
            message: Some(bytes.into()),
        }
    }
}

/// Why a frame cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("frame of {len} bytes is over the limit of {MAX_FRAME_LEN}")]
pub struct FrameTooLarge {
    /// Length the frame would have.
    pub len: usize,
}

/// Why bytes from a data channel are not a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The length prefix is malformed or announces more than [`MAX_BODY_LEN`].
    #[error("length prefix: {0}")]
    Prefix(#[from] PrefixError),
    /// The body is not a protobuf message.
    #[error("protobuf: {0}")]
    Proto(#[from] ProtoError),
    /// A field has the wrong wire type.
    #[error("field {0} has the wrong wire type")]
    WrongWireType(u64),
}

/// `uvarint(len) || body` for `frame`.
pub fn encode(frame: &Frame) -> Result<Vec<u8>, FrameTooLarge> {
    let mut body = Vec::with_capacity(frame.message.as_ref().map_or(0, Vec::len) + 6);
    if let Some(flag) = frame.flag {
        body.push(0x08);
        put_varint(&mut body, flag.to_wire());
    }
    if let Some(message) = &frame.message {
        body.push(0x12);
        put_varint(&mut body, message.len() as u64);
        body.extend_from_slice(message);
    }
    let len = varint_len(body.len() as u64) + body.len();
    if len > MAX_FRAME_LEN {
        return Err(FrameTooLarge { len });
    }
    let mut out = Vec::with_capacity(len);
    put_varint(&mut out, body.len() as u64);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes one frame body (without its prefix).
pub fn decode_body(body: &[u8]) -> Result<Frame, DecodeError> {
    let mut frame = Frame::default();
    let mut fields = Fields::new(body);
    while let Some((number, value)) = fields.next_field()? {
        match (number, value) {
            (1, Value::Varint(raw)) => frame.flag = Flag::from_wire(raw),
            (2, Value::Bytes(bytes)) => frame.message = Some(bytes.to_vec()),
            (1 | 2, _) => return Err(DecodeError::WrongWireType(number)),
            _ => {}
        }
    }
    Ok(frame)
}

/// Splits a data channel's byte stream into frames across arbitrary message boundaries; holds at
/// most one frame ([`MAX_FRAME_LEN`] bytes).
pub type Decoder = LengthPrefixedDecoder<Frame>;

impl Body for Frame {
    const MAX_LEN: usize = MAX_BODY_LEN;
    type Error = DecodeError;
    fn decode_body(body: &[u8]) -> Result<Self, DecodeError> {
        decode_body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_encoded_byte_for_byte() {
        assert_eq!(encode(&Frame::flag(Flag::Fin)).unwrap(), [0x02, 0x08, 0x00]);
        assert_eq!(
            encode(&Frame::flag(Flag::StopSending)).unwrap(),
            [0x02, 0x08, 0x01]
        );
        assert_eq!(
            encode(&Frame::flag(Flag::ResetStream)).unwrap(),
            [0x02, 0x08, 0x02]
        );
        assert_eq!(
            encode(&Frame::flag(Flag::FinAck)).unwrap(),
            [0x02, 0x08, 0x03]
        );
        assert_eq!(
            encode(&Frame::data(*b"hi")).unwrap(),
            [0x04, 0x12, 0x02, b'h', b'i']
        );
        assert_eq!(
            encode(&Frame::data(Vec::new())).unwrap(),
            [0x02, 0x12, 0x00]
        );
        assert_eq!(encode(&Frame::default()).unwrap(), [0x00]);
        let both = Frame {
            flag: Some(Flag::Fin),
            message: Some(b"x".to_vec()),
        };
        assert_eq!(encode(&both).unwrap(), [0x05, 0x08, 0x00, 0x12, 0x01, b'x']);
    }

    #[test]
    fn the_size_limit_is_exactly_16384_bytes_with_prefix() {
        let largest = Frame {
            flag: Some(Flag::Fin),
            message: Some(vec![7; MAX_PAYLOAD_LEN]),
        };
        let bytes = encode(&largest).unwrap();
        assert_eq!(bytes.len(), MAX_FRAME_LEN);
        let mut decoder = Decoder::new();
        assert_eq!(decoder.decode(&mut bytes.as_slice()), Ok(Some(largest)));
        let over = Frame {
            flag: Some(Flag::Fin),
            message: Some(vec![7; MAX_PAYLOAD_LEN + 1]),
        };
        assert_eq!(
            encode(&over),
            Err(FrameTooLarge {
                len: MAX_FRAME_LEN + 1
            })
        );
        // Without a flag two more payload bytes fit.
        assert_eq!(
            encode(&Frame::data(vec![0; MAX_PAYLOAD_LEN + 2]))
                .unwrap()
                .len(),
            MAX_FRAME_LEN
        );
        // A prefix announcing 16383 body bytes is refused before any body is buffered.
        let mut decoder = Decoder::new();
        let prefix = [0xff, 0x7f];
        assert_eq!(
            decoder.decode(&mut &prefix[..]),
            Err(DecodeError::Prefix(PrefixError::TooLarge {
                len: 16383,
                max: MAX_BODY_LEN
            }))
        );
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn unknown_flags_and_fields_follow_proto2() {
        assert_eq!(decode_body(&[0x08, 0x04]), Ok(Frame::default()));
        assert_eq!(
            decode_body(&[0x08, 0x00, 0x08, 0x03]),
            Ok(Frame::flag(Flag::FinAck))
        );
        assert_eq!(
            decode_body(&[0x18, 0x01, 0x12, 0x00]),
            Ok(Frame::data(Vec::new()))
        );
        assert_eq!(
            decode_body(&[0x0a, 0x00]),
            Err(DecodeError::WrongWireType(1))
        );
        assert_eq!(
            decode_body(&[0x10, 0x00]),
            Err(DecodeError::WrongWireType(2))
        );
        assert_eq!(
            decode_body(&[0x08]),
            Err(DecodeError::Proto(ProtoError::Truncated))
        );
    }

    #[test]
    fn every_truncation_and_bit_flip_is_handled() {
        let frame = Frame {
            flag: Some(Flag::FinAck),
            message: Some(b"payload".to_vec()),
        };
        let bytes = encode(&frame).unwrap();
        for cut in 0..bytes.len() {
            assert_eq!(Decoder::new().decode(&mut &bytes[..cut]), Ok(None));
        }
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let mut input = flipped.as_slice();
            if let Ok(Some(decoded)) = Decoder::new().decode(&mut input) {
                let again = encode(&decoded).unwrap();
                assert_eq!(decode_body(&again[1..]), Ok(decoded), "bit {bit}");
            }
        }
    }

    #[cfg(not(target_family = "wasm"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn frame() -> impl Strategy<Value = Frame> {
            (
                proptest::option::of(0u64..4),
                proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
            )
                .prop_map(|(flag, message)| Frame {
                    flag: flag.and_then(Flag::from_wire),
                    message,
                })
        }

        proptest! {
            #[test]
            fn frames_round_trip_across_any_chunking(frames in proptest::collection::vec(frame(), 0..10), cuts in proptest::collection::vec(1usize..200, 1..20)) {
                let stream: Vec<u8> = frames.iter().flat_map(|f| encode(f).unwrap()).collect();
                let mut decoder = Decoder::new();
                let mut out = Vec::new();
                let mut rest = stream.as_slice();
                let mut cut = cuts.iter().cycle();
                while !rest.is_empty() {
                    let n = (*cut.next().unwrap()).min(rest.len());
                    let (mut piece, tail) = rest.split_at(n);
                    rest = tail;
                    while let Some(f) = decoder.decode(&mut piece).unwrap() {
                        out.push(f);
                    }
                    prop_assert!(decoder.buffered() <= MAX_FRAME_LEN);
                }
                prop_assert_eq!(out, frames);
            }

            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
                let mut decoder = Decoder::new();
                let mut input = bytes.as_slice();
                while let Ok(Some(_)) = decoder.decode(&mut input) {}
                let _ = decode_body(&bytes);
            }
        }
    }
}
