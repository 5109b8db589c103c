//! The `/webrtc-signaling/0.0.1` protocol: message codec and the dialer/listener sequences.
//!
//! # Wire format (libp2p specs `webrtc/webrtc.md`, "Signaling Protocol")
//! Each message on the signaling stream is `uvarint(len) || body`, `len` being the byte length
//! of `body` (at most [`MAX_MESSAGE_LEN`] here), and `body` a protobuf `Message`:
//!
//! ```text
//! syntax = "proto3";
//! message Message {
//!   enum Type { SDP_OFFER = 0; SDP_ANSWER = 1; ICE_CANDIDATE = 2; }
//!   optional Type type = 1;    // key byte 0x08, then a varint
//!   optional string data = 2;  // key byte 0x12, then uvarint(byte length), then UTF-8
//! }
//! ```
//!
//! [`encode`] always writes both fields, `type` first, even when `type` is `SDP_OFFER` (0): a
//! peer (js-libp2p) rejects a message whose `type` is absent. An offer with SDP `v=0\r\n` is
//! thus `09 08 00 12 05 76 3d 30 0d 0a` (prefix `09` = 9 body bytes; `08 00` = type 0;
//! `12 05` = data, 5 bytes). `data` holds the SDP text for `SDP_OFFER`/`SDP_ANSWER`, and for
//! `ICE_CANDIDATE` the JSON of `RTCIceCandidate.toJSON()` (see [`candidate`]).
//!
//! Decoding ([`decode_body`], [`Decoder`]) follows protobuf: unknown fields are skipped, a
//! repeated field keeps its last value; it requires `type` to be present and known and `data`
//! to be UTF-8 (absent `data` reads as empty). It never panics and never buffers more than one
//! message of at most [`MAX_MESSAGE_LEN`] bytes.

pub mod candidate;
pub mod machine;

use crate::proto::{
    Body, Fields, LengthPrefixedDecoder, PrefixError, ProtoError, Value, put_varint,
};

pub use candidate::{CandidateError, IceCandidate, RemoteCandidate};
pub use machine::{
    Action, ConnectionState, Output, Role, SdpKind, Signaling, SignalingError, Step, Timeouts,
};

/// The protocol name negotiated for the signaling stream.
pub const PROTOCOL_NAME: &str = "/webrtc-signaling/0.0.1";

/// Largest message body accepted or sent, in bytes. A Chrome data-channel offer is under 1 KiB
/// before candidates and a candidate JSON under 300 bytes.
pub const MAX_MESSAGE_LEN: usize = 64 * 1024;

/// What a message's `data` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// `SDP_OFFER` = 0.
    SdpOffer,
    /// `SDP_ANSWER` = 1.
    SdpAnswer,
    /// `ICE_CANDIDATE` = 2.
    IceCandidate,
}

impl MessageType {
    /// The protobuf enum value.
    pub fn to_wire(self) -> u64 {
        match self {
            Self::SdpOffer => 0,
            Self::SdpAnswer => 1,
            Self::IceCandidate => 2,
        }
    }

    /// The type with this protobuf enum value.
    pub fn from_wire(value: u64) -> Option<Self> {
        match value {
            0 => Some(Self::SdpOffer),
            1 => Some(Self::SdpAnswer),
            2 => Some(Self::IceCandidate),
            _ => None,
        }
    }
}

/// One signaling message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The `type` field, always present on the wire.
    pub kind: MessageType,
    /// The `data` field; an absent field decodes as empty.
    pub data: String,
}

impl Message {
    /// A message of this type.
    pub fn new(kind: MessageType, data: impl Into<String>) -> Self {
        Self {
            kind,
            data: data.into(),
        }
    }
}

/// Why bytes from the signaling stream are not a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The length prefix is malformed or over [`MAX_MESSAGE_LEN`].
    #[error("length prefix: {0}")]
    Prefix(#[from] PrefixError),
    /// The body is not a protobuf message.
    #[error("protobuf: {0}")]
    Proto(#[from] ProtoError),
    /// The `type` field is absent.
    #[error("message has no type")]
    MissingType,
    /// The `type` field has a value this protocol does not define.
    #[error("unknown message type {0}")]
    UnknownType(u64),
    /// A field has the wrong wire type (e.g. `type` as bytes).
    #[error("field {0} has the wrong wire type")]
    WrongWireType(u64),
    /// `data` is not UTF-8.
    #[error("data is not UTF-8")]
    NotUtf8,
}

/// Why a message cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("message body of {len} bytes is over the limit of {MAX_MESSAGE_LEN}")]
pub struct TooLarge {
    /// Length the body would have.
    pub len: usize,
}

/// `uvarint(len) || body` for `message`, or [`TooLarge`] if the body exceeds [`MAX_MESSAGE_LEN`].
pub fn encode(message: &Message) -> Result<Vec<u8>, TooLarge> {
    let mut body = Vec::with_capacity(message.data.len() + 8);
    body.push(0x08);
    put_varint(&mut body, message.kind.to_wire());
    body.push(0x12);
    put_varint(&mut body, message.data.len() as u64);
    body.extend_from_slice(message.data.as_bytes());
    if body.len() > MAX_MESSAGE_LEN {
        return Err(TooLarge { len: body.len() });
    }
    let mut out = Vec::with_capacity(body.len() + 3);
    put_varint(&mut out, body.len() as u64);
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes one message body (without its length prefix).
pub fn decode_body(body: &[u8]) -> Result<Message, DecodeError> {
    let mut kind = None;
    let mut data: &[u8] = &[];
    let mut fields = Fields::new(body);
    while let Some((number, value)) = fields.next_field()? {
        match (number, value) {
            (1, Value::Varint(raw)) => kind = Some(raw),
            (2, Value::Bytes(bytes)) => data = bytes,
            (1 | 2, _) => return Err(DecodeError::WrongWireType(number)),
            _ => {}
        }
    }
    let raw = kind.ok_or(DecodeError::MissingType)?;
    let kind = MessageType::from_wire(raw).ok_or(DecodeError::UnknownType(raw))?;
    let data = core::str::from_utf8(data).map_err(|_| DecodeError::NotUtf8)?;
    Ok(Message {
        kind,
        data: data.to_owned(),
    })
}

/// Splits the signaling stream into messages across arbitrary chunk boundaries.
pub type Decoder = LengthPrefixedDecoder<Message>;

impl Body for Message {
    const MAX_LEN: usize = MAX_MESSAGE_LEN;
    type Error = DecodeError;
    fn decode_body(body: &[u8]) -> Result<Self, DecodeError> {
        decode_body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_writes_its_zero_type_byte_for_byte() {
        let bytes = encode(&Message::new(MessageType::SdpOffer, "v=0\r\n")).unwrap();
        assert_eq!(
            bytes,
            [0x09, 0x08, 0x00, 0x12, 0x05, b'v', b'=', b'0', b'\r', b'\n']
        );
        let answer = encode(&Message::new(MessageType::SdpAnswer, "")).unwrap();
        assert_eq!(answer, [0x04, 0x08, 0x01, 0x12, 0x00]);
        let candidate = encode(&Message::new(MessageType::IceCandidate, "{}")).unwrap();
        assert_eq!(candidate, [0x06, 0x08, 0x02, 0x12, 0x02, b'{', b'}']);
    }

    #[test]
    fn decode_requires_a_known_type_and_utf8_data() {
        assert_eq!(decode_body(&[]), Err(DecodeError::MissingType));
        assert_eq!(
            decode_body(&[0x12, 0x01, b'a']),
            Err(DecodeError::MissingType)
        );
        assert_eq!(decode_body(&[0x08, 0x03]), Err(DecodeError::UnknownType(3)));
        assert_eq!(
            decode_body(&[0x08, 0x00, 0x12, 0x01, 0xff]),
            Err(DecodeError::NotUtf8)
        );
        assert_eq!(
            decode_body(&[0x0a, 0x00]),
            Err(DecodeError::WrongWireType(1))
        );
        assert_eq!(
            decode_body(&[0x10, 0x00]),
            Err(DecodeError::WrongWireType(2))
        );
        // Absent data reads as empty; unknown fields are skipped; the last `type` wins.
        assert_eq!(
            decode_body(&[0x08, 0x02]),
            Ok(Message::new(MessageType::IceCandidate, ""))
        );
        assert_eq!(
            decode_body(&[0x18, 0x07, 0x08, 0x00, 0x08, 0x01, 0x12, 0x01, b'x']),
            Ok(Message::new(MessageType::SdpAnswer, "x"))
        );
    }

    #[test]
    fn oversized_messages_are_refused_both_ways() {
        let big = Message::new(MessageType::SdpOffer, "a".repeat(MAX_MESSAGE_LEN));
        assert_eq!(
            encode(&big),
            Err(TooLarge {
                len: MAX_MESSAGE_LEN + 6
            })
        );
        let mut prefix = Vec::new();
        put_varint(&mut prefix, MAX_MESSAGE_LEN as u64 + 1);
        let mut decoder = Decoder::new();
        let error = decoder.decode(&mut prefix.as_slice()).unwrap_err();
        assert_eq!(
            error,
            DecodeError::Prefix(PrefixError::TooLarge {
                len: MAX_MESSAGE_LEN as u64 + 1,
                max: MAX_MESSAGE_LEN
            })
        );
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn every_truncation_and_bit_flip_of_a_message_is_handled() {
        let message = Message::new(
            MessageType::IceCandidate,
            r#"{"candidate":"candidate:1 1 udp 1 10.0.0.1 9 typ host"}"#,
        );
        let bytes = encode(&message).unwrap();
        for cut in 0..bytes.len() {
            let mut decoder = Decoder::new();
            assert_eq!(decoder.decode(&mut &bytes[..cut]), Ok(None), "cut at {cut}");
        }
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            let mut decoder = Decoder::new();
            let mut input = flipped.as_slice();
            // Whatever the result, it is a value, and a decoded message re-encodes to a prefix-
            // consistent form.
            if let Ok(Some(decoded)) = decoder.decode(&mut input) {
                let again = encode(&decoded).unwrap();
                assert_eq!(decode_body(&again[1..]), Ok(decoded));
            }
        }
    }

    #[cfg(not(target_family = "wasm"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn message() -> impl Strategy<Value = Message> {
            (0u64..3, ".{0,200}")
                .prop_map(|(kind, data)| Message::new(MessageType::from_wire(kind).unwrap(), data))
        }

        proptest! {
            #[test]
            fn stream_of_messages_round_trips_at_any_chunking(messages in proptest::collection::vec(message(), 0..8), chunk in 1usize..64) {
                let stream: Vec<u8> = messages.iter().flat_map(|m| encode(m).unwrap()).collect();
                let mut decoder = Decoder::new();
                let mut out = Vec::new();
                for mut piece in stream.chunks(chunk) {
                    while let Some(m) = decoder.decode(&mut piece).unwrap() {
                        out.push(m);
                    }
                }
                prop_assert_eq!(out, messages);
            }

            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
                let mut decoder = Decoder::new();
                let mut input = bytes.as_slice();
                while let Ok(Some(_)) = decoder.decode(&mut input) {}
                let _ = decode_body(&bytes);
            }
        }
    }
}
