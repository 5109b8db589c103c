//! The reconciled set: items ordered by `(time, id)`, bounds between them, and fingerprints of
//! ranges.

use sha2::{Digest as _, Sha256};

/// Length of an item id (a message id: SHA-256 of the signed envelope).
pub const ID_LENGTH: usize = 32;
/// Length of a range fingerprint.
pub const FINGERPRINT_LENGTH: usize = 16;

/// An item id.
pub type Id = [u8; ID_LENGTH];

/// One element of the set, ordered by time, then id.
///
/// `time` must be below `u64::MAX`, which is reserved for [`Bound::INFINITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Item {
    /// Hybrid logical clock time of the message (as a `u64`).
    pub time: u64,
    /// Message id.
    pub id: Id,
}

/// A point between items: `(time, id)` where `id` is a prefix padded with zeros.
///
/// A range `[lower, upper)` holds the items `i` with `lower <= i < upper`, comparing `(time, id)`
/// lexicographically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bound {
    /// Time part.
    pub time: u64,
    /// Id part, zero-padded after the significant prefix.
    pub id: Id,
}

impl Bound {
    /// Below every item.
    pub const MIN: Bound = Bound {
        time: 0,
        id: [0; ID_LENGTH],
    };
    /// Above every item (items have `time < u64::MAX`).
    pub const INFINITY: Bound = Bound {
        time: u64::MAX,
        id: [0xff; ID_LENGTH],
    };

    /// True for [`Bound::INFINITY`].
    pub fn is_infinity(&self) -> bool {
        *self == Self::INFINITY
    }

    /// The bound that sits exactly at `item`.
    pub fn at(item: &Item) -> Bound {
        Bound {
            time: item.time,
            id: item.id,
        }
    }

    /// The shortest bound `b` with `previous < b <= next`, and the length of its id prefix.
    pub(crate) fn between(previous: &Item, next: &Item) -> (Bound, usize) {
        if previous.time < next.time {
            return (
                Bound {
                    time: next.time,
                    id: [0; ID_LENGTH],
                },
                0,
            );
        }
        let shared = previous
            .id
            .iter()
            .zip(next.id.iter())
            .take_while(|(a, b)| a == b)
            .count();
        let len = (shared + 1).min(ID_LENGTH);
        let mut id = [0; ID_LENGTH];
        id[..len].copy_from_slice(&next.id[..len]);
        (
            Bound {
                time: next.time,
                id,
            },
            len,
        )
    }

    /// Number of significant id bytes (the id without trailing zeros).
    pub(crate) fn prefix_len(&self) -> usize {
        ID_LENGTH - self.id.iter().rev().take_while(|b| **b == 0).count()
    }

    fn key(&self) -> Item {
        Item {
            time: self.time,
            id: self.id,
        }
    }
}

/// An ordered set of items that the reconciliation reads. Indexes run over the sorted order.
///
/// Sync is synchronous: an adapter keeps a conversation's `(time, id)` index in memory
/// (40 bytes per message) while it syncs, for example as [`SortedItems`].
pub trait ItemSet {
    /// Number of items.
    fn len(&self) -> usize;
    /// True if there are no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Index of the first item `>= bound` (or `len()`).
    fn lower_bound(&self, bound: &Bound) -> usize;
    /// The item at `index` (`index < len()`), or `None`.
    fn get(&self, index: usize) -> Option<Item>;
    /// Fingerprint of the items in `start..end`.
    fn fingerprint(&self, start: usize, end: usize) -> Fingerprint {
        let mut acc = Accumulator::default();
        for index in start..end {
            if let Some(item) = self.get(index) {
                acc.add(&item.id);
            }
        }
        acc.finish()
    }
}

/// A sorted, deduplicated vector of items.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SortedItems {
    items: Vec<Item>,
}

impl SortedItems {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sorts and deduplicates `items`; drops items whose time is `u64::MAX`.
    pub fn from_unsorted(mut items: Vec<Item>) -> Self {
        items.retain(|item| item.time != u64::MAX);
        items.sort_unstable();
        items.dedup();
        Self { items }
    }

    /// Adds an item; returns false if it was present (or its time is `u64::MAX`).
    pub fn insert(&mut self, item: Item) -> bool {
        if item.time == u64::MAX {
            return false;
        }
        match self.items.binary_search(&item) {
            Ok(_) => false,
            Err(at) => {
                self.items.insert(at, item);
                true
            }
        }
    }

    /// True if the item is present.
    pub fn contains(&self, item: &Item) -> bool {
        self.items.binary_search(item).is_ok()
    }

    /// The items in order.
    pub fn as_slice(&self) -> &[Item] {
        &self.items
    }
}

impl ItemSet for SortedItems {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn lower_bound(&self, bound: &Bound) -> usize {
        let key = bound.key();
        self.items.partition_point(|item| *item < key)
    }

    fn get(&self, index: usize) -> Option<Item> {
        self.items.get(index).copied()
    }

    fn fingerprint(&self, start: usize, end: usize) -> Fingerprint {
        let mut acc = Accumulator::default();
        for item in self.items.get(start..end).unwrap_or(&[]) {
            acc.add(&item.id);
        }
        acc.finish()
    }
}

/// A range fingerprint: `SHA-256(sum || count)[..16]`, where `sum` is the sum of the ids as
/// little-endian 256-bit integers modulo 2^256 and `count` is the item count as 8 bytes
/// little-endian.
pub type Fingerprint = [u8; FINGERPRINT_LENGTH];

/// Incremental fingerprint: add ids in any order, then [`Accumulator::finish`].
#[derive(Debug, Clone, Default)]
pub struct Accumulator {
    sum: [u64; 4],
    count: u64,
}

impl Accumulator {
    /// Adds one id to the sum.
    pub fn add(&mut self, id: &Id) {
        let mut carry = 0u128;
        for (limb, chunk) in self.sum.iter_mut().zip(id.chunks_exact(8)) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let total = u128::from(*limb) + u128::from(u64::from_le_bytes(word)) + carry;
            *limb = total as u64;
            carry = total >> 64;
        }
        self.count += 1;
    }

    /// The fingerprint of the ids added so far.
    pub fn finish(&self) -> Fingerprint {
        let mut hasher = Sha256::new();
        for limb in &self.sum {
            hasher.update(limb.to_le_bytes());
        }
        hasher.update(self.count.to_le_bytes());
        let digest = hasher.finalize();
        let mut fingerprint = [0u8; FINGERPRINT_LENGTH];
        fingerprint.copy_from_slice(&digest[..FINGERPRINT_LENGTH]);
        fingerprint
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn item(time: u64, first: u8, second: u8) -> Item {
        let mut id = [0u8; ID_LENGTH];
        id[0] = first;
        id[1] = second;
        Item { time, id }
    }

    #[test]
    fn between_is_shortest_separating_bound() {
        let (bound, len) = Bound::between(&item(5, 1, 1), &item(9, 0, 0));
        assert_eq!(
            (bound, len),
            (
                Bound {
                    time: 9,
                    id: [0; ID_LENGTH]
                },
                0
            )
        );
        let (a, b) = (item(5, 1, 1), item(5, 1, 7));
        let (bound, len) = Bound::between(&a, &b);
        assert_eq!(len, 2);
        assert!(Bound::at(&a) < bound && bound <= Bound::at(&b));
        assert_eq!(bound.prefix_len(), 2);
    }

    #[test]
    fn fingerprint_ignores_insertion_order_and_counts_items() {
        let items = [item(1, 1, 0), item(2, 2, 0), item(3, 255, 255)];
        let mut forward = Accumulator::default();
        let mut backward = Accumulator::default();
        for i in &items {
            forward.add(&i.id);
        }
        for i in items.iter().rev() {
            backward.add(&i.id);
        }
        assert_eq!(forward.finish(), backward.finish());
        let set = SortedItems::from_unsorted(items.to_vec());
        assert_eq!(set.fingerprint(0, 3), forward.finish());
        assert_ne!(set.fingerprint(0, 2), forward.finish());
        assert_ne!(Accumulator::default().finish(), set.fingerprint(0, 1));
    }

    #[test]
    fn sum_wraps_modulo_two_to_the_256() {
        let mut acc = Accumulator::default();
        acc.add(&[0xff; ID_LENGTH]);
        let mut one = [0u8; ID_LENGTH];
        one[0] = 1;
        acc.add(&one);
        assert_eq!(acc.sum, [0; 4]);
    }

    #[test]
    fn sorted_items_insert_dedup_and_lower_bound() {
        let mut set = SortedItems::new();
        assert!(set.insert(item(3, 0, 0)));
        assert!(set.insert(item(1, 0, 0)));
        assert!(!set.insert(item(3, 0, 0)));
        assert!(!set.insert(Item {
            time: u64::MAX,
            id: [0; ID_LENGTH]
        }));
        assert_eq!(set.len(), 2);
        assert_eq!(
            set.lower_bound(&Bound {
                time: 2,
                id: [0; ID_LENGTH]
            }),
            1
        );
        assert_eq!(set.lower_bound(&Bound::INFINITY), 2);
        assert_eq!(set.lower_bound(&Bound::MIN), 0);
    }
}
