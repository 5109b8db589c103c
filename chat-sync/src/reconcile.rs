//! One reconciliation step: turn the peer's ranges into ours, given our set.
//!
//! Both roles use [`process`]; the responder is stateless, the initiator accumulates the ids
//! it resolves (see `engine`).

use std::collections::HashSet;

use crate::items::{Bound, Id, Item, ItemSet};
use crate::protocol::{MAX_IDS, Mode, Range};

/// A range holding more items than this is split into [`SPLIT`] fingerprinted ranges; a smaller
/// one is sent as an id list.
pub const ID_LIST_THRESHOLD: usize = 32;
/// Number of sub-ranges a mismatching range is split into.
pub const SPLIT: usize = 16;
/// Largest encoding that answering one incoming range can add to a frame (an `IdDiff` of
/// `ID_LIST_THRESHOLD + MAX_IDS` ids), plus the deferral range and the frame header.
pub(crate) const WORST_STEP: usize =
    (ID_LIST_THRESHOLD + MAX_IDS) * 32 + 3 * RANGE_OVERHEAD + FRAME_HEADER;
/// Encoded size of a frame without its ranges: version, tag, request (≤ 10), topic (16), range
/// count (≤ 3), rounded up.
const FRAME_HEADER: usize = 32;
/// Encoded size of a range carrying a fingerprint.
const COMPACT_RANGE: usize = RANGE_OVERHEAD + crate::items::FINGERPRINT_LENGTH;
/// Encoded size of a range without its ids: bound (varint time ≤ 10, prefix ≤ 1 + 32), mode tag
/// and list lengths (≤ 3 each).
const RANGE_OVERHEAD: usize = 10 + 33 + 1 + 3 + 3;

/// Which side of the exchange is processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Initiator,
    Responder,
}

/// The peer broke the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProtocolViolation;

/// What the initiator learned in one step.
#[derive(Debug, Default)]
pub(crate) struct Resolved {
    /// Ids we have and the peer lacks.
    pub(crate) have: Vec<Id>,
    /// Ids the peer has and we lack.
    pub(crate) need: Vec<Id>,
}

/// Ranges being built, with a running size estimate and adjacent `Skip`s merged.
struct Output {
    ranges: Vec<Range>,
    size: usize,
}

impl Output {
    fn push(&mut self, upper: Bound, mode: Mode) {
        if let (
            Mode::Skip,
            Some(Range {
                upper: last,
                mode: Mode::Skip,
            }),
        ) = (&mode, self.ranges.last_mut())
        {
            *last = upper;
            return;
        }
        self.size += RANGE_OVERHEAD
            + match &mode {
                Mode::Skip => 0,
                Mode::Fingerprint(fp) => fp.len(),
                Mode::IdList(ids) => ids.len() * 32,
                Mode::IdDiff { you_lack, i_lack } => (you_lack.len() + i_lack.len()) * 32,
            };
        self.ranges.push(Range { upper, mode });
    }
}

/// True if every range is `Skip`: nothing left to say.
pub(crate) fn all_skip(ranges: &[Range]) -> bool {
    ranges.iter().all(|r| r.mode == Mode::Skip)
}

/// The initiator's first message: its whole set, described.
pub(crate) fn initiate<S: ItemSet + ?Sized>(set: &S) -> Vec<Range> {
    let mut out = Output {
        ranges: Vec::new(),
        size: 0,
    };
    describe(set, Bound::MIN, Bound::INFINITY, &mut out);
    out.ranges
}

/// Answers `incoming` from our `set`, within `limit` bytes. For the initiator, ids resolved from
/// `IdList`/`IdDiff` ranges are added to `resolved`.
pub(crate) fn process<S: ItemSet + ?Sized>(
    set: &S,
    incoming: &[Range],
    role: Role,
    limit: usize,
    resolved: &mut Resolved,
) -> Result<Vec<Range>, ProtocolViolation> {
    let mut out = Output {
        ranges: Vec::new(),
        size: 0,
    };
    let mut lower = Bound::MIN;
    for range in incoming {
        if range.mode != Mode::Skip && out.size + WORST_STEP > limit {
            // Out of room to answer in full: answer each remaining range with our fingerprint
            // of it (so the next round resumes at the same depth), while it, a `Skip` after it
            // and the closing range fit; then one fingerprint covers the rest, up to infinity.
            let (start, end) = (set.lower_bound(&lower), set.lower_bound(&range.upper));
            if out.size + 2 * COMPACT_RANGE + RANGE_OVERHEAD + FRAME_HEADER <= limit {
                out.push(range.upper, Mode::Fingerprint(set.fingerprint(start, end)));
                lower = range.upper;
                continue;
            }
            out.push(
                Bound::INFINITY,
                Mode::Fingerprint(set.fingerprint(start, set.len())),
            );
            return Ok(out.ranges);
        }
        let (start, end) = (set.lower_bound(&lower), set.lower_bound(&range.upper));
        match &range.mode {
            Mode::Skip => out.push(range.upper, Mode::Skip),
            Mode::Fingerprint(theirs) => {
                if set.fingerprint(start, end) == *theirs {
                    out.push(range.upper, Mode::Skip);
                } else {
                    describe(set, lower, range.upper, &mut out);
                }
            }
            Mode::IdList(theirs) => {
                let ours = ids(set, start, end);
                let (you_lack, i_lack) = difference(&ours, theirs);
                match role {
                    Role::Initiator => {
                        // `you_lack` here: ids we have that the responder lacks.
                        resolved.have.extend(you_lack);
                        resolved.need.extend(i_lack);
                        out.push(range.upper, Mode::Skip);
                    }
                    Role::Responder if ours.len() > ID_LIST_THRESHOLD => {
                        describe(set, lower, range.upper, &mut out)
                    }
                    Role::Responder if you_lack.is_empty() && i_lack.is_empty() => {
                        out.push(range.upper, Mode::Skip)
                    }
                    Role::Responder => out.push(range.upper, Mode::IdDiff { you_lack, i_lack }),
                }
            }
            Mode::IdDiff { you_lack, i_lack } => match role {
                Role::Initiator => {
                    resolved.need.extend_from_slice(you_lack);
                    resolved.have.extend_from_slice(i_lack);
                    out.push(range.upper, Mode::Skip);
                }
                Role::Responder => return Err(ProtocolViolation),
            },
        }
        lower = range.upper;
    }
    Ok(out.ranges)
}

/// Describes our items in `[lower, upper)`: an id list if few, else `SPLIT` fingerprints.
fn describe<S: ItemSet + ?Sized>(set: &S, lower: Bound, upper: Bound, out: &mut Output) {
    let (start, end) = (set.lower_bound(&lower), set.lower_bound(&upper));
    let count = end - start;
    if count <= ID_LIST_THRESHOLD {
        out.push(upper, Mode::IdList(ids(set, start, end)));
        return;
    }
    let (per, extra) = (count / SPLIT, count % SPLIT);
    let mut cursor = start;
    for bucket in 0..SPLIT {
        let next = cursor + per + usize::from(bucket < extra);
        let bucket_upper = if bucket + 1 == SPLIT {
            upper
        } else {
            match (set.get(next - 1), set.get(next)) {
                (Some(previous), Some(following)) => Bound::between(&previous, &following).0,
                _ => upper,
            }
        };
        out.push(
            bucket_upper,
            Mode::Fingerprint(set.fingerprint(cursor, next)),
        );
        cursor = next;
        if bucket_upper == upper {
            break;
        }
    }
}

fn ids<S: ItemSet + ?Sized>(set: &S, start: usize, end: usize) -> Vec<Id> {
    (start..end)
        .filter_map(|i| set.get(i))
        .map(|Item { id, .. }| id)
        .collect()
}

/// `(ours \ theirs, theirs \ ours)`.
fn difference(ours: &[Id], theirs: &[Id]) -> (Vec<Id>, Vec<Id>) {
    let our_set: HashSet<&Id> = ours.iter().collect();
    let their_set: HashSet<&Id> = theirs.iter().collect();
    let mut only_ours: Vec<Id> = ours
        .iter()
        .filter(|id| !their_set.contains(id))
        .copied()
        .collect();
    let mut only_theirs: Vec<Id> = theirs
        .iter()
        .filter(|id| !our_set.contains(id))
        .copied()
        .collect();
    only_ours.dedup();
    only_theirs.sort_unstable();
    only_theirs.dedup();
    (only_ours, only_theirs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::items::SortedItems;
    use crate::protocol::MAX_FRAME_LEN;

    fn set(range: std::ops::Range<u32>) -> SortedItems {
        SortedItems::from_unsorted(range.map(item).collect())
    }

    fn item(n: u32) -> Item {
        let mut id = [0u8; 32];
        id[..4].copy_from_slice(&n.to_be_bytes());
        id[31] = 1;
        Item {
            time: u64::from(n / 3),
            id,
        }
    }

    /// Runs the exchange to the end; returns (have, need, rounds).
    fn run(a: &SortedItems, b: &SortedItems) -> (Vec<Id>, Vec<Id>, usize) {
        let mut resolved = Resolved::default();
        let mut message = initiate(a);
        let mut rounds = 0;
        loop {
            rounds += 1;
            let reply = process(
                b,
                &message,
                Role::Responder,
                MAX_FRAME_LEN,
                &mut Resolved::default(),
            )
            .unwrap();
            message = process(a, &reply, Role::Initiator, MAX_FRAME_LEN, &mut resolved).unwrap();
            if all_skip(&message) {
                break;
            }
            assert!(rounds < 20);
        }
        resolved.have.sort_unstable();
        resolved.need.sort_unstable();
        (resolved.have, resolved.need, rounds)
    }

    #[test]
    fn identical_sets_finish_in_one_round() {
        let a = set(0..5000);
        assert_eq!(run(&a, &a.clone()), (vec![], vec![], 1));
    }

    #[test]
    fn differences_are_found_both_ways() {
        let mut a = set(0..3000);
        let mut b = a.clone();
        let only_a: Vec<Item> = [10, 1500, 2999].map(|n| item(n + 10_000)).to_vec();
        let only_b: Vec<Item> = [0, 700].map(|n| item(n + 20_000)).to_vec();
        for i in &only_a {
            a.insert(*i);
        }
        for i in &only_b {
            b.insert(*i);
        }
        let (have, need, _) = run(&a, &b);
        let mut want_have: Vec<Id> = only_a.iter().map(|i| i.id).collect();
        let mut want_need: Vec<Id> = only_b.iter().map(|i| i.id).collect();
        want_have.sort_unstable();
        want_need.sort_unstable();
        assert_eq!((have, need), (want_have, want_need));
    }

    #[test]
    fn empty_against_full_and_back() {
        let full = set(0..200);
        let empty = SortedItems::new();
        let all: Vec<Id> = full.as_slice().iter().map(|i| i.id).collect();
        assert_eq!(run(&empty, &full).1, all);
        assert_eq!(run(&full, &empty).0, all);
    }

    #[test]
    fn responder_refuses_an_id_diff() {
        let ranges = vec![Range {
            upper: Bound::INFINITY,
            mode: Mode::IdDiff {
                you_lack: vec![],
                i_lack: vec![],
            },
        }];
        let result = process(
            &set(0..3),
            &ranges,
            Role::Responder,
            MAX_FRAME_LEN,
            &mut Resolved::default(),
        );
        assert_eq!(result, Err(ProtocolViolation));
    }
}
