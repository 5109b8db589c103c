//! Wire format of `/om/chat-sync/1`: every frame, byte for byte, and its codec.
//!
//! # Transport
//! One frame per request-response message (libp2p `request-response` with this crate's codec,
//! or a mailbox/relay datagram). The transport delimits frames; a frame is at most
//! [`MAX_FRAME_LEN`] bytes and longer input is refused before decoding.
//!
//! # Frame
//! ```text
//! frame    = version(1 byte = 0x01) body
//! body     = varint(tag) fields          ; postcard encoding of the enum below
//! ```
//! Integers are LEB128 varints (postcard), minimal length; `id` is 32 raw bytes, `topic` 16
//! raw bytes, `fingerprint` 16 raw bytes, `bytes` is `varint(len) || len bytes`, `list<T>` is
//! `varint(n) || n × T`. Decoding re-encodes and compares, so every value has exactly one
//! encoding and trailing bytes are refused.
//!
//! | tag | frame | fields | reply |
//! |---|---|---|---|
//! | 0 | `Reconcile` | `request: varint, topic, ranges: list<range>` | `Ranges` or `Refused` |
//! | 1 | `Ranges`    | `request: varint, ranges: list<range>` | next `Reconcile` or nothing |
//! | 2 | `Fetch`     | `request: varint, topic, ids: list<id>` (≤ 256) | `Fetched` |
//! | 3 | `Fetched`   | `request: varint, envelopes: list<bytes>` (as many as fit) | — |
//! | 4 | `Push`      | `request: varint, topic, envelopes: list<bytes>` (≤ 256) | `Ack` |
//! | 5 | `Ack`       | `request: varint, ids: list<id>` (≤ 256: the ids now stored) | — |
//! | 6 | `Refused`   | `request: varint, reason: varint` (0 unknown topic, 1 protocol error, 2 busy) | — |
//!
//! `request` is chosen by the sender of a request and echoed by the reply. Envelopes are opaque
//! here (signed chat envelopes, at most [`MAX_ENVELOPE_LEN`] bytes each).
//!
//! # Ranges
//! A `Reconcile` or `Ranges` frame partitions the whole key space `(time, id)` into
//! consecutive ranges: the first starts at `(0, 0…0)`, each next one starts where the previous
//! ended, the last ends at infinity. Each range is
//! ```text
//! range = upper mode
//! upper = varint(t) bytes(prefix)   ; t = 0: infinity (prefix empty)
//!                                   ; else time = previous upper time + t - 1
//!                                   ; id = prefix (≤ 32 bytes) padded with zeros
//! mode  = varint(0)                                   ; Skip: nothing to do here
//!       | varint(1) fingerprint                       ; Fingerprint of the sender's items
//!       | varint(2) list<id>                          ; IdList: all the sender's ids (≤ 256)
//!       | varint(3) list<id> list<id>                 ; IdDiff (responder only):
//!                                                     ;   ids the initiator lacks, ids the
//!                                                     ;   responder lacks (each ≤ 256)
//! ```
//! Uppers strictly increase. The fingerprint of a range is `SHA-256(sum || count)[..16]`, with
//! `sum` the ids added as little-endian 256-bit integers mod 2^256 (32 bytes little-endian)
//! and `count` as 8 bytes little-endian (see [`crate::items::Accumulator`]).
//!
//! # Exchange
//! The initiator sends `Reconcile` with its whole set split into 16 fingerprinted ranges (or
//! one `IdList` if small). The responder (stateless) answers each range: `Skip` stays `Skip`;
//! an equal fingerprint becomes `Skip`; a different one is split into 16 fingerprinted ranges,
//! or an `IdList` when it holds at most 32 items; an `IdList` is answered with an `IdDiff`
//! (or split, if the responder holds more than 32 items there). The initiator does the same
//! with the reply and resolves `IdList`/`IdDiff` ranges into ids it needs and ids it has that
//! the responder lacks. It stops when its next message would be all `Skip`. When a full answer
//! would exceed the frame limit, the sender answers each remaining range with just its own
//! fingerprint of it (so the next round resumes at the same depth) while those fit, and then
//! covers the rest, up to infinity, with one fingerprint.

use serde::{Deserialize, Serialize};

use crate::items::{Bound, Fingerprint, ID_LENGTH, Id};

/// Protocol name, versioned.
pub const PROTOCOL_NAME: &str = "/om/chat-sync/1";
/// First byte of every frame.
pub const FRAME_VERSION: u8 = 1;
/// Largest frame accepted or produced.
pub const MAX_FRAME_LEN: usize = 64 * 1024;
/// Largest id list in any frame.
pub const MAX_IDS: usize = 256;
/// Largest number of ranges in one frame.
pub const MAX_RANGES: usize = 4096;
/// Largest number of envelopes in one frame.
pub const MAX_ENVELOPES: usize = 256;
/// Largest envelope carried.
pub const MAX_ENVELOPE_LEN: usize = 16 * 1024;
/// Length of a topic (a conversation id).
pub const TOPIC_LENGTH: usize = 16;

/// What is being reconciled: a conversation id.
pub type Topic = [u8; TOPIC_LENGTH];
/// Correlates a reply with its request; chosen by the requester.
pub type RequestId = u64;

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A reconciliation round, initiator to responder.
    Reconcile {
        /// Echoed by the reply.
        request: RequestId,
        /// The conversation.
        topic: Topic,
        /// The ranges, covering the whole key space.
        ranges: Vec<Range>,
    },
    /// The responder's answer to `Reconcile`.
    Ranges {
        /// The request answered.
        request: RequestId,
        /// The ranges, covering the whole key space.
        ranges: Vec<Range>,
    },
    /// Asks for envelopes by id.
    Fetch {
        /// Echoed by the reply.
        request: RequestId,
        /// The conversation.
        topic: Topic,
        /// Message ids.
        ids: Vec<Id>,
    },
    /// Envelopes answering a `Fetch` (those that were found and fit).
    Fetched {
        /// The request answered.
        request: RequestId,
        /// Envelope bytes.
        envelopes: Vec<Vec<u8>>,
    },
    /// Delivers envelopes unasked (outbox, or ids the peer lacked); answered by `Ack`.
    Push {
        /// Echoed by the reply.
        request: RequestId,
        /// The conversation.
        topic: Topic,
        /// Envelope bytes.
        envelopes: Vec<Vec<u8>>,
    },
    /// The ids of pushed envelopes that the receiver has stored (new or already present).
    Ack {
        /// The request answered.
        request: RequestId,
        /// Message ids.
        ids: Vec<Id>,
    },
    /// A request was not served.
    Refused {
        /// The request answered.
        request: RequestId,
        /// Why.
        reason: RefuseReason,
    },
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefuseReason {
    /// The responder does not hold this conversation.
    UnknownTopic,
    /// The request broke the protocol (e.g. an `IdDiff` sent to a responder).
    ProtocolError,
    /// Too many requests in flight.
    Busy,
}

/// A range `[previous upper, upper)` and what the sender says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    /// Exclusive upper bound.
    pub upper: Bound,
    /// What the sender says.
    pub mode: Mode,
}

/// What a range carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Nothing to reconcile here.
    Skip,
    /// Fingerprint of the sender's items in the range.
    Fingerprint(Fingerprint),
    /// All of the sender's ids in the range.
    IdList(Vec<Id>),
    /// Responder only: the difference against the initiator's `IdList`.
    IdDiff {
        /// Ids the responder has and the initiator lacks.
        you_lack: Vec<Id>,
        /// Ids of the initiator's list that the responder lacks.
        i_lack: Vec<Id>,
    },
}

/// Why bytes are not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Longer than [`MAX_FRAME_LEN`].
    #[error("frame too long: {0} bytes")]
    TooLong(usize),
    /// No bytes.
    #[error("empty frame")]
    Empty,
    /// First byte is not [`FRAME_VERSION`].
    #[error("unknown frame version {0}")]
    UnknownVersion(u8),
    /// Not a postcard encoding of a frame.
    #[error("malformed frame")]
    Malformed,
    /// Decodes, but is not the canonical encoding (overlong varint, trailing bytes).
    #[error("non-canonical encoding")]
    NonCanonical,
    /// A list exceeds its limit.
    #[error("list too long: {0}")]
    TooMany(usize),
    /// An envelope exceeds [`MAX_ENVELOPE_LEN`].
    #[error("envelope too long: {0} bytes")]
    EnvelopeTooLong(usize),
    /// Range uppers are not strictly increasing, or the last is not infinity.
    #[error("ranges do not partition the key space")]
    BadRanges,
}

/// Why a frame could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The encoding exceeds [`MAX_FRAME_LEN`] or a list limit.
    #[error("frame over the limit: {0} bytes")]
    TooLarge(usize),
    /// The ranges do not end at infinity or do not increase.
    #[error("ranges do not partition the key space")]
    BadRanges,
}

// ---- Wire types: the postcard shape of the frame. ----

#[derive(Serialize, Deserialize)]
enum WireFrame {
    Reconcile {
        request: u64,
        topic: Topic,
        ranges: Vec<WireRange>,
    },
    Ranges {
        request: u64,
        ranges: Vec<WireRange>,
    },
    Fetch {
        request: u64,
        topic: Topic,
        ids: Vec<Id>,
    },
    Fetched {
        request: u64,
        envelopes: Vec<Vec<u8>>,
    },
    Push {
        request: u64,
        topic: Topic,
        envelopes: Vec<Vec<u8>>,
    },
    Ack {
        request: u64,
        ids: Vec<Id>,
    },
    Refused {
        request: u64,
        reason: RefuseReason,
    },
}

#[derive(Serialize, Deserialize)]
struct WireRange {
    time: u64,
    prefix: Vec<u8>,
    mode: WireMode,
}

#[derive(Serialize, Deserialize)]
enum WireMode {
    Skip,
    Fingerprint(Fingerprint),
    IdList(Vec<Id>),
    IdDiff(Vec<Id>, Vec<Id>),
}

impl Frame {
    /// Encodes the frame: version byte, then postcard.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let wire = match self {
            Frame::Reconcile {
                request,
                topic,
                ranges,
            } => WireFrame::Reconcile {
                request: *request,
                topic: *topic,
                ranges: encode_ranges(ranges)?,
            },
            Frame::Ranges { request, ranges } => WireFrame::Ranges {
                request: *request,
                ranges: encode_ranges(ranges)?,
            },
            Frame::Fetch {
                request,
                topic,
                ids,
            } => WireFrame::Fetch {
                request: *request,
                topic: *topic,
                ids: ids.clone(),
            },
            Frame::Fetched { request, envelopes } => WireFrame::Fetched {
                request: *request,
                envelopes: envelopes.clone(),
            },
            Frame::Push {
                request,
                topic,
                envelopes,
            } => WireFrame::Push {
                request: *request,
                topic: *topic,
                envelopes: envelopes.clone(),
            },
            Frame::Ack { request, ids } => WireFrame::Ack {
                request: *request,
                ids: ids.clone(),
            },
            Frame::Refused { request, reason } => WireFrame::Refused {
                request: *request,
                reason: *reason,
            },
        };
        check_limits(&wire).map_err(|_| EncodeError::TooLarge(0))?;
        let mut bytes = vec![FRAME_VERSION];
        let body = postcard::to_allocvec(&wire).map_err(|_| EncodeError::TooLarge(0))?;
        bytes.extend_from_slice(&body);
        if bytes.len() > MAX_FRAME_LEN {
            return Err(EncodeError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// Decodes and checks a frame from untrusted bytes. Never panics.
    pub fn decode(bytes: &[u8]) -> Result<Frame, DecodeError> {
        if bytes.len() > MAX_FRAME_LEN {
            return Err(DecodeError::TooLong(bytes.len()));
        }
        let (&version, body) = bytes.split_first().ok_or(DecodeError::Empty)?;
        if version != FRAME_VERSION {
            return Err(DecodeError::UnknownVersion(version));
        }
        let (wire, rest): (WireFrame, _) =
            postcard::take_from_bytes(body).map_err(|_| DecodeError::Malformed)?;
        if !rest.is_empty() {
            return Err(DecodeError::NonCanonical);
        }
        check_limits(&wire)?;
        let canonical = postcard::to_allocvec(&wire).map_err(|_| DecodeError::Malformed)?;
        if canonical != body {
            return Err(DecodeError::NonCanonical);
        }
        Ok(match wire {
            WireFrame::Reconcile {
                request,
                topic,
                ranges,
            } => Frame::Reconcile {
                request,
                topic,
                ranges: decode_ranges(ranges)?,
            },
            WireFrame::Ranges { request, ranges } => Frame::Ranges {
                request,
                ranges: decode_ranges(ranges)?,
            },
            WireFrame::Fetch {
                request,
                topic,
                ids,
            } => Frame::Fetch {
                request,
                topic,
                ids,
            },
            WireFrame::Fetched { request, envelopes } => Frame::Fetched { request, envelopes },
            WireFrame::Push {
                request,
                topic,
                envelopes,
            } => Frame::Push {
                request,
                topic,
                envelopes,
            },
            WireFrame::Ack { request, ids } => Frame::Ack { request, ids },
            WireFrame::Refused { request, reason } => Frame::Refused { request, reason },
        })
    }

    /// The request id this frame carries.
    pub fn request(&self) -> RequestId {
        match self {
            Frame::Reconcile { request, .. }
            | Frame::Ranges { request, .. }
            | Frame::Fetch { request, .. }
            | Frame::Fetched { request, .. }
            | Frame::Push { request, .. }
            | Frame::Ack { request, .. }
            | Frame::Refused { request, .. } => *request,
        }
    }
}

fn check_limits(wire: &WireFrame) -> Result<(), DecodeError> {
    let ids_ok = |n: usize| {
        if n > MAX_IDS {
            Err(DecodeError::TooMany(n))
        } else {
            Ok(())
        }
    };
    let envelopes_ok = |envelopes: &[Vec<u8>]| {
        if envelopes.len() > MAX_ENVELOPES {
            return Err(DecodeError::TooMany(envelopes.len()));
        }
        match envelopes.iter().find(|e| e.len() > MAX_ENVELOPE_LEN) {
            Some(e) => Err(DecodeError::EnvelopeTooLong(e.len())),
            None => Ok(()),
        }
    };
    let ranges_ok = |ranges: &[WireRange]| {
        if ranges.len() > MAX_RANGES {
            return Err(DecodeError::TooMany(ranges.len()));
        }
        for range in ranges {
            if range.prefix.len() > ID_LENGTH {
                return Err(DecodeError::BadRanges);
            }
            match &range.mode {
                WireMode::IdList(ids) => ids_ok(ids.len())?,
                WireMode::IdDiff(a, b) => {
                    ids_ok(a.len())?;
                    ids_ok(b.len())?;
                }
                WireMode::Skip | WireMode::Fingerprint(_) => {}
            }
        }
        Ok(())
    };
    match wire {
        WireFrame::Reconcile { ranges, .. } | WireFrame::Ranges { ranges, .. } => ranges_ok(ranges),
        WireFrame::Fetch { ids, .. } | WireFrame::Ack { ids, .. } => ids_ok(ids.len()),
        WireFrame::Fetched { envelopes, .. } | WireFrame::Push { envelopes, .. } => {
            envelopes_ok(envelopes)
        }
        WireFrame::Refused { .. } => Ok(()),
    }
}

fn encode_ranges(ranges: &[Range]) -> Result<Vec<WireRange>, EncodeError> {
    let mut previous = Bound::MIN;
    let mut out = Vec::with_capacity(ranges.len());
    for (i, range) in ranges.iter().enumerate() {
        let last = i + 1 == ranges.len();
        if range.upper <= previous || (last != range.upper.is_infinity()) {
            return Err(EncodeError::BadRanges);
        }
        let (time, prefix) = if range.upper.is_infinity() {
            (0, Vec::new())
        } else {
            let delta = range.upper.time - previous.time;
            let time = delta.checked_add(1).ok_or(EncodeError::BadRanges)?;
            (time, range.upper.id[..range.upper.prefix_len()].to_vec())
        };
        let mode = match &range.mode {
            Mode::Skip => WireMode::Skip,
            Mode::Fingerprint(fp) => WireMode::Fingerprint(*fp),
            Mode::IdList(ids) => WireMode::IdList(ids.clone()),
            Mode::IdDiff { you_lack, i_lack } => WireMode::IdDiff(you_lack.clone(), i_lack.clone()),
        };
        out.push(WireRange { time, prefix, mode });
        previous = range.upper;
    }
    if out.is_empty() {
        return Err(EncodeError::BadRanges);
    }
    Ok(out)
}

fn decode_ranges(wire: Vec<WireRange>) -> Result<Vec<Range>, DecodeError> {
    let mut previous = Bound::MIN;
    let count = wire.len();
    let mut out = Vec::with_capacity(count);
    for (i, range) in wire.into_iter().enumerate() {
        let upper = if range.time == 0 {
            if !range.prefix.is_empty() {
                return Err(DecodeError::BadRanges);
            }
            Bound::INFINITY
        } else {
            let time = previous
                .time
                .checked_add(range.time - 1)
                .ok_or(DecodeError::BadRanges)?;
            // A trailing zero in the prefix would have a second encoding without it.
            if range.prefix.last() == Some(&0) || time == u64::MAX {
                return Err(DecodeError::BadRanges);
            }
            let mut id = [0u8; ID_LENGTH];
            id[..range.prefix.len()].copy_from_slice(&range.prefix);
            Bound { time, id }
        };
        let last = i + 1 == count;
        if upper <= previous || last != upper.is_infinity() {
            return Err(DecodeError::BadRanges);
        }
        let mode = match range.mode {
            WireMode::Skip => Mode::Skip,
            WireMode::Fingerprint(fp) => Mode::Fingerprint(fp),
            WireMode::IdList(ids) => Mode::IdList(ids),
            WireMode::IdDiff(you_lack, i_lack) => Mode::IdDiff { you_lack, i_lack },
        };
        out.push(Range { upper, mode });
        previous = upper;
    }
    if out.is_empty() {
        return Err(DecodeError::BadRanges);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn id(byte: u8) -> Id {
        [byte; ID_LENGTH]
    }

    fn sample_frames() -> Vec<Frame> {
        let mut prefix_id = [0u8; ID_LENGTH];
        prefix_id[0] = 7;
        vec![
            Frame::Reconcile {
                request: 1,
                topic: [3; TOPIC_LENGTH],
                ranges: vec![
                    Range {
                        upper: Bound {
                            time: 1000,
                            id: prefix_id,
                        },
                        mode: Mode::Fingerprint([9; 16]),
                    },
                    Range {
                        upper: Bound {
                            time: 2000,
                            id: [0; ID_LENGTH],
                        },
                        mode: Mode::IdList(vec![id(1), id(2)]),
                    },
                    Range {
                        upper: Bound::INFINITY,
                        mode: Mode::Skip,
                    },
                ],
            },
            Frame::Ranges {
                request: u64::MAX,
                ranges: vec![Range {
                    upper: Bound::INFINITY,
                    mode: Mode::IdDiff {
                        you_lack: vec![id(4)],
                        i_lack: vec![],
                    },
                }],
            },
            Frame::Fetch {
                request: 0,
                topic: [0; TOPIC_LENGTH],
                ids: vec![id(5)],
            },
            Frame::Fetched {
                request: 2,
                envelopes: vec![vec![1, 2, 3], vec![]],
            },
            Frame::Push {
                request: 3,
                topic: [1; TOPIC_LENGTH],
                envelopes: vec![vec![0; 100]],
            },
            Frame::Ack {
                request: 3,
                ids: vec![id(6), id(7)],
            },
            Frame::Refused {
                request: 9,
                reason: RefuseReason::Busy,
            },
        ]
    }

    #[test]
    fn frames_round_trip() {
        for frame in sample_frames() {
            let bytes = frame.encode().unwrap();
            assert_eq!(bytes[0], FRAME_VERSION);
            assert_eq!(Frame::decode(&bytes).unwrap(), frame);
        }
    }

    #[test]
    fn known_bytes_of_a_small_frame() {
        // Ack { request: 300, ids: [] }: version 1, tag 5, varint 300 = ac 02, empty list 00.
        let bytes = Frame::Ack {
            request: 300,
            ids: vec![],
        }
        .encode()
        .unwrap();
        assert_eq!(bytes, [0x01, 0x05, 0xac, 0x02, 0x00]);
        // A single infinity range with Skip: tag 1 (Ranges), request 0, 1 range, t 0, prefix len 0, Skip 0.
        let bytes = Frame::Ranges {
            request: 0,
            ranges: vec![Range {
                upper: Bound::INFINITY,
                mode: Mode::Skip,
            }],
        }
        .encode()
        .unwrap();
        assert_eq!(bytes, [0x01, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00]);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert_eq!(Frame::decode(&[]), Err(DecodeError::Empty));
        assert_eq!(
            Frame::decode(&[2, 5, 0, 0]),
            Err(DecodeError::UnknownVersion(2))
        );
        assert_eq!(Frame::decode(&[1, 99]), Err(DecodeError::Malformed));
        // Overlong varint for request 0 (0x80 0x00).
        assert_eq!(
            Frame::decode(&[1, 5, 0x80, 0x00, 0x00]),
            Err(DecodeError::NonCanonical)
        );
        // Trailing byte.
        assert_eq!(
            Frame::decode(&[1, 5, 0x00, 0x00, 0x00]),
            Err(DecodeError::NonCanonical)
        );
        assert_eq!(
            Frame::decode(&vec![1; MAX_FRAME_LEN + 1]),
            Err(DecodeError::TooLong(MAX_FRAME_LEN + 1))
        );
        // Ranges that do not end at infinity: one range with t = 1 (time 0), prefix [1], Skip.
        assert_eq!(
            Frame::decode(&[1, 1, 0, 1, 1, 1, 1, 0]),
            Err(DecodeError::BadRanges)
        );
        // Prefix with a trailing zero.
        assert_eq!(
            Frame::decode(&[1, 1, 0, 2, 2, 2, 7, 0, 0, 0, 0, 0]),
            Err(DecodeError::BadRanges)
        );
        // No ranges.
        assert_eq!(Frame::decode(&[1, 1, 0, 0]), Err(DecodeError::BadRanges));
    }

    #[test]
    fn limits_are_enforced_both_ways() {
        let too_many = Frame::Ack {
            request: 0,
            ids: vec![id(1); MAX_IDS + 1],
        };
        assert!(too_many.encode().is_err());
        let mut bytes = vec![1, 5, 0];
        bytes.extend_from_slice(&[0x81, 0x02]); // 257 ids
        bytes.extend(std::iter::repeat_n(0u8, 257 * ID_LENGTH));
        assert_eq!(Frame::decode(&bytes), Err(DecodeError::TooMany(257)));
        let big = Frame::Push {
            request: 0,
            topic: [0; TOPIC_LENGTH],
            envelopes: vec![vec![0; MAX_ENVELOPE_LEN + 1]],
        };
        assert!(big.encode().is_err());
        let unordered = Frame::Ranges {
            request: 0,
            ranges: vec![
                Range {
                    upper: Bound {
                        time: 5,
                        id: [0; ID_LENGTH],
                    },
                    mode: Mode::Skip,
                },
                Range {
                    upper: Bound {
                        time: 4,
                        id: [0; ID_LENGTH],
                    },
                    mode: Mode::Skip,
                },
                Range {
                    upper: Bound::INFINITY,
                    mode: Mode::Skip,
                },
            ],
        };
        assert_eq!(unordered.encode(), Err(EncodeError::BadRanges));
    }
}
