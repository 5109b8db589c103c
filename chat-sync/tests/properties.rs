//! Property tests: the frame decoder never panics and accepts only canonical bytes, frames
//! round-trip, and reconciliation finds exactly the symmetric difference.

mod common;

use chat_sync::protocol::{Frame, Mode, Range, RefuseReason};
use chat_sync::{Bound, Config, MIN_FRAME_LIMIT, SortedItems};
use common::{Pair, ids, item};
use proptest::prelude::*;

fn arb_id() -> impl Strategy<Value = [u8; 32]> {
    prop::array::uniform32(any::<u8>())
}

fn arb_mode() -> impl Strategy<Value = Mode> {
    prop_oneof![
        Just(Mode::Skip),
        prop::array::uniform16(any::<u8>()).prop_map(Mode::Fingerprint),
        prop::collection::vec(arb_id(), 0..4).prop_map(Mode::IdList),
        (
            prop::collection::vec(arb_id(), 0..3),
            prop::collection::vec(arb_id(), 0..3)
        )
            .prop_map(|(you_lack, i_lack)| Mode::IdDiff { you_lack, i_lack }),
    ]
}

/// Ranges with strictly increasing bounds ending at infinity.
fn arb_ranges() -> impl Strategy<Value = Vec<Range>> {
    prop::collection::vec(
        (
            0u64..1_000,
            prop::collection::vec(any::<u8>(), 0..4),
            arb_mode(),
        ),
        0..6,
    )
    .prop_map(|raw| {
        let mut time = 0;
        let mut ranges: Vec<Range> = vec![];
        for (delta, prefix, mode) in raw {
            time += delta + 1;
            let mut id = [0u8; 32];
            id[..prefix.len()].copy_from_slice(&prefix);
            ranges.push(Range {
                upper: Bound { time, id },
                mode,
            });
        }
        ranges.push(Range {
            upper: Bound::INFINITY,
            mode: Mode::Skip,
        });
        ranges
    })
}

fn arb_frame() -> impl Strategy<Value = Frame> {
    let topic = prop::array::uniform16(any::<u8>());
    let envelopes = prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..4);
    prop_oneof![
        (any::<u64>(), topic, arb_ranges()).prop_map(|(request, topic, ranges)| Frame::Reconcile {
            request,
            topic,
            ranges
        }),
        (any::<u64>(), arb_ranges())
            .prop_map(|(request, ranges)| Frame::Ranges { request, ranges }),
        (any::<u64>(), topic, prop::collection::vec(arb_id(), 0..4)).prop_map(
            |(request, topic, ids)| Frame::Fetch {
                request,
                topic,
                ids
            }
        ),
        (any::<u64>(), envelopes.clone())
            .prop_map(|(request, envelopes)| Frame::Fetched { request, envelopes }),
        (any::<u64>(), topic, envelopes).prop_map(|(request, topic, envelopes)| Frame::Push {
            request,
            topic,
            envelopes
        }),
        (any::<u64>(), prop::collection::vec(arb_id(), 0..4))
            .prop_map(|(request, ids)| Frame::Ack { request, ids }),
        (
            any::<u64>(),
            prop_oneof![
                Just(RefuseReason::UnknownTopic),
                Just(RefuseReason::ProtocolError),
                Just(RefuseReason::Busy)
            ]
        )
            .prop_map(|(request, reason)| Frame::Refused { request, reason }),
    ]
}

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics_and_accepts_only_canonical_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(frame) = Frame::decode(&bytes) {
            prop_assert_eq!(frame.encode().ok(), Some(bytes));
        }
    }

    #[test]
    fn decoding_mutated_frames_never_panics(frame in arb_frame(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let mut bytes = frame.encode().map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(decoded) = Frame::decode(&bytes) {
            prop_assert_eq!(decoded.encode().ok(), Some(bytes));
        }
    }

    #[test]
    fn frames_round_trip(frame in arb_frame()) {
        let bytes = frame.encode().map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(Frame::decode(&bytes), Ok(frame));
    }

    #[test]
    fn reconciliation_finds_exactly_the_difference(
        common in prop::collection::btree_set(0u64..5_000, 0..800),
        only_a in prop::collection::btree_set(5_000u64..10_000, 0..60),
        only_b in prop::collection::btree_set(10_000u64..15_000, 0..60),
        small_frames in any::<bool>(),
    ) {
        let a: Vec<_> = common.iter().chain(&only_a).copied().map(item).collect();
        let b: Vec<_> = common.iter().chain(&only_b).copied().map(item).collect();
        let frame_limit = if small_frames { MIN_FRAME_LIMIT } else { chat_sync::protocol::MAX_FRAME_LEN };
        let config = Config { frame_limit, max_rounds: 100, ..Config::default() };
        let mut pair = Pair::new(SortedItems::from_unsorted(a), SortedItems::from_unsorted(b), config);
        let (need, have, _) = pair.reconcile();
        prop_assert_eq!(need, ids(&only_b.iter().copied().map(item).collect::<Vec<_>>()));
        prop_assert_eq!(have, ids(&only_a.iter().copied().map(item).collect::<Vec<_>>()));
        prop_assert!(pair.largest_frame <= frame_limit);
    }
}
