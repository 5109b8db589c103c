//! Messages are stored in segments (schema v3): a run of consecutive messages of one
//! conversation, in (time, id) order, as one IndexedDB record keyed by its first message's
//! `conversation ‖ time ‖ id`, with the ids of its messages in a multi-entry index.
//!
//! Why not one record per message: IndexedDB's cost is per record, not per byte. Each `add` or
//! `put` is a request to the browser's database process; 10,000 of them took 1.2–5.4 s on the
//! 2-core build machine under load, whatever the layout (two indexes, one, none, the order key
//! as primary key with an id index: all within about 20 % of each other in one run), while the
//! same 10,000 messages as 157 segments took 0.16–0.5 s in the same runs
//! (`cargo xtask bench storage`: `idb_insert_10k_batch_median` beside
//! `idb_insert_10k_v2_layout_median`). The price is paid by a message stored alone: its segment
//! is read and rewritten (about 2.4 ms against 1.1 ms for a lone `add`).
//!
//! Invariants, per conversation: a segment's key is its first message's key; every message of a
//! segment lies below the next segment's key; a segment holds at most [`MAX_MESSAGES`]
//! messages and, unless it holds a single message, at most [`TARGET_BYTES`] of records. A
//! message's place is thus the segment with the greatest key at or below its own key, or a new
//! segment: below every segment, or past the end of one that is big enough ([`APPEND_LIMIT`]).
//!
//! Bytes: `SEGMENT_VERSION ‖ (time u64 BE ‖ id (32) ‖ record length u32 BE ‖ record)*`, each
//! record a `chat::StoredMessage::to_bytes`.

use chat::store::MAX_RECORD_LEN;
use chat::{ConversationId, MessageId, OrderKey, StoreError, StoredMessage, Timestamp};
use js_sys::Array;
use wasm_bindgen::JsValue;
use web_sys::IdbObjectStore;

use crate::db::{bin, bytes_of_at_most, js_error, object};

/// Messages per segment at most: big enough that a batch costs few records, small enough that
/// appending one message rewrites little (a few kilobytes for chat-sized messages).
pub(crate) const MAX_MESSAGES: usize = 64;
/// A message past the last one of a segment joins it only while the segment holds fewer than
/// this many; otherwise it starts a segment of its own. Rewriting a segment rewrites an index
/// entry per message in it, so a message stored alone (one received live) stays cheap: such
/// messages make segments of this size, batches make full ones.
pub(crate) const APPEND_LIMIT: usize = 16;
/// Record bytes per segment before a new one starts (a segment of one message may exceed it).
pub(crate) const TARGET_BYTES: usize = 32 * 1024;
const SEGMENT_VERSION: u8 = 1;
const ENTRY_HEADER: usize = 8 + 32 + 4;
/// The largest segment [`split`] makes: one message of the largest record, or up to
/// [`MAX_MESSAGES`] whose records add up to [`TARGET_BYTES`]. Anything longer is damage.
pub(crate) const MAX_SEGMENT_LEN: usize = {
    let alone = ENTRY_HEADER + MAX_RECORD_LEN;
    let several = MAX_MESSAGES * ENTRY_HEADER + TARGET_BYTES;
    1 + if alone > several { alone } else { several }
};

/// The multi-entry index on the ids of a segment's messages.
pub(crate) const BY_ID: &str = "by_id";

/// One stored message: its place and its record, decoded only when it is read.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) key: OrderKey,
    pub(crate) record: Vec<u8>,
}

impl Entry {
    pub(crate) fn new(message: &StoredMessage) -> Self {
        Self { key: message.envelope.key(), record: message.to_bytes() }
    }

    /// The message, checked against the id it is stored under.
    pub(crate) fn message(&self) -> Result<StoredMessage, StoreError> {
        let message = StoredMessage::from_bytes(&self.record)?;
        if message.envelope.key() != self.key {
            return Err(StoreError::Corrupt("message segment: a record is stored under another key".into()));
        }
        Ok(message)
    }
}

/// `conversation ‖ time (big-endian) ‖ id`: bytewise order is (conversation, time, id) order.
pub(crate) fn order_bytes(conversation: &ConversationId, key: &OrderKey) -> Vec<u8> {
    [conversation.0.as_slice(), &key.time.0.to_be_bytes(), &key.id.0].concat()
}

/// The (time, id) of an [`order_bytes`] key.
pub(crate) fn order_key(bytes: &[u8; 56]) -> OrderKey {
    OrderKey { time: Timestamp(u64::from_be_bytes(slice(bytes, 16))), id: MessageId(slice(bytes, 24)) }
}

/// The conversation of an [`order_bytes`] key.
pub(crate) fn conversation_of(bytes: &[u8; 56]) -> ConversationId {
    ConversationId(slice(bytes, 0))
}

/// `M` bytes of `key` from `at`; every caller's fixed-size key holds them.
pub(crate) fn slice<const N: usize, const M: usize>(key: &[u8; N], at: usize) -> [u8; M] {
    let mut out = [0; M];
    out.copy_from_slice(&key[at..at + M]);
    out
}

/// Writes `part` (ascending, not empty) as a segment of `conversation` under its first
/// message's key. The request is made, not awaited: requests complete in order within the
/// transaction, and a failed one aborts it.
pub(crate) fn put(store: &IdbObjectStore, conversation: &ConversationId, part: &[Entry]) -> Result<(), StoreError> {
    let first = part.first().ok_or_else(|| StoreError::Corrupt("message segment: empty".into()))?;
    store.put_with_key(&value(part)?, &bin(&order_bytes(conversation, &first.key))).map_err(js_error)?;
    Ok(())
}
/// The record value of a segment: `{ids, r}`, the ids for the `by_id` index, `r` its bytes.
pub(crate) fn value(entries: &[Entry]) -> Result<JsValue, StoreError> {
    let ids: Array = entries.iter().map(|entry| bin(&entry.key.id.0)).collect();
    object(&[("ids", &ids.into()), ("r", &bin(&encode(entries)))])
}

/// The entries of the segment record `value` stored under `key`, ascending.
pub(crate) fn entries(key: &[u8; 56], value: &JsValue) -> Result<Vec<Entry>, StoreError> {
    decode(&order_key(key), &bytes_of_at_most(value, "r", MAX_SEGMENT_LEN)?)
}

fn encode(entries: &[Entry]) -> Vec<u8> {
    let len = entries.iter().map(|entry| ENTRY_HEADER + entry.record.len()).sum::<usize>();
    let mut bytes = Vec::with_capacity(1 + len);
    bytes.push(SEGMENT_VERSION);
    for entry in entries {
        bytes.extend_from_slice(&entry.key.time.0.to_be_bytes());
        bytes.extend_from_slice(&entry.key.id.0);
        // Records are at most MAX_RECORD_LEN (chat::store), far below u32::MAX.
        bytes.extend_from_slice(&(entry.record.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&entry.record);
    }
    bytes
}

/// The entries of segment bytes stored under the key of `first`, which must be their first.
fn decode(first: &OrderKey, bytes: &[u8]) -> Result<Vec<Entry>, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("message segment: {what}"));
    let Some((&SEGMENT_VERSION, mut rest)) = bytes.split_first() else {
        return Err(corrupt("unknown version"));
    };
    let mut entries: Vec<Entry> = vec![];
    while !rest.is_empty() {
        if entries.len() == MAX_MESSAGES {
            return Err(corrupt("too many messages"));
        }
        let (header, tail) = rest.split_at_checked(ENTRY_HEADER).ok_or_else(|| corrupt("truncated entry"))?;
        let (time, header) = header.split_at(8);
        let (id, len) = header.split_at(32);
        let key = OrderKey {
            time: Timestamp(u64::from_be_bytes(time.try_into().map_err(|_| corrupt("time"))?)),
            id: MessageId(id.try_into().map_err(|_| corrupt("id"))?),
        };
        let len = u32::from_be_bytes(len.try_into().map_err(|_| corrupt("length"))?) as usize;
        if len > MAX_RECORD_LEN {
            return Err(corrupt("record too long"));
        }
        let (record, tail) = tail.split_at_checked(len).ok_or_else(|| corrupt("truncated record"))?;
        if entries.last().is_some_and(|last| last.key >= key) {
            return Err(corrupt("entries out of order"));
        }
        entries.push(Entry { key, record: record.to_vec() });
        rest = tail;
    }
    match entries.first() {
        None => Err(corrupt("empty")),
        // Otherwise its messages could lie below its key, where another segment holds them too.
        Some(entry) if entry.key != *first => Err(corrupt("first message not the one it is stored under")),
        Some(_) => Ok(entries),
    }
}

/// `entries` (ascending) cut into segments that keep the size limits, in order.
pub(crate) fn split(entries: Vec<Entry>) -> Vec<Vec<Entry>> {
    let mut segments: Vec<Vec<Entry>> = vec![];
    let mut bytes = 0;
    for entry in entries {
        match segments.last_mut() {
            Some(last) if last.len() < MAX_MESSAGES && bytes + entry.record.len() <= TARGET_BYTES => {
                bytes += entry.record.len();
                last.push(entry);
            }
            _ => {
                bytes = entry.record.len();
                segments.push(vec![entry]);
            }
        }
    }
    segments
}

/// The segments to write for `new` (ascending, possibly with repeats) falling in the segment
/// holding `stored` (ascending, empty for messages below every segment), and for each of `new`
/// whether it was added (a key already stored, or earlier in `new`, is not). Empty when nothing
/// was added. The first segment keeps the stored one's key unless the new messages go after it.
pub(crate) fn place(stored: Vec<Entry>, new: Vec<Entry>) -> (Vec<Vec<Entry>>, Vec<bool>) {
    let past_the_end = match (stored.last(), new.first()) {
        (Some(last), Some(first)) => last.key < first.key,
        _ => false,
    };
    let (entries, added) = if past_the_end && stored.len() >= APPEND_LIMIT {
        merge(vec![], new)
    } else {
        merge(stored, new)
    };
    let segments = if added.contains(&true) { split(entries) } else { vec![] };
    (segments, added)
}

/// Merges `new` (ascending, possibly with repeats) into `stored` (ascending): returns the merged
/// entries and, for each of `new`, whether it was added (a key already stored, or earlier in
/// `new`, is not).
fn merge(stored: Vec<Entry>, new: Vec<Entry>) -> (Vec<Entry>, Vec<bool>) {
    let mut merged: Vec<Entry> = Vec::with_capacity(stored.len() + new.len());
    let mut added = Vec::with_capacity(new.len());
    let mut stored = stored.into_iter().peekable();
    for entry in new {
        while let Some(next) = stored.next_if(|next| next.key < entry.key) {
            merged.push(next);
        }
        let present = stored.peek().is_some_and(|next| next.key == entry.key)
            || merged.last().is_some_and(|last| last.key == entry.key);
        added.push(!present);
        if !present {
            merged.push(entry);
        }
    }
    merged.extend(stored);
    (merged, added)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// `n` entries from time 1 on, each with a record of `len` bytes.
    fn entries_of(n: u64, len: usize) -> Vec<Entry> {
        let key = |time| OrderKey { time: Timestamp(time), id: MessageId([0; 32]) };
        (1..=n).map(|time| Entry { key: key(time), record: vec![7; len] }).collect()
    }

    fn keys(segments: &[Vec<Entry>]) -> Vec<Vec<u64>> {
        segments.iter().map(|segment| segment.iter().map(|entry| entry.key.time.0).collect()).collect()
    }

    /// The largest segments `split` makes decode: [`MAX_SEGMENT_LEN`] is no tighter than the
    /// writer, and one byte more is refused by the reader's bound.
    #[wasm_bindgen_test]
    fn the_largest_segments_split_makes_decode() {
        let several = split(entries_of(64, TARGET_BYTES / 64));
        assert_eq!(several.len(), 1);
        let alone = split(entries_of(1, MAX_RECORD_LEN));
        for segment in [&several[0], &alone[0]] {
            let bytes = encode(segment);
            assert!(bytes.len() <= MAX_SEGMENT_LEN, "{}", bytes.len());
            assert_eq!(decode(&segment[0].key, &bytes).map(|decoded| decoded.len()), Ok(segment.len()));
        }
        assert_eq!(encode(&alone[0]).len(), MAX_SEGMENT_LEN);
    }

    /// `split` keeps both limits: at most 64 messages, at most [`TARGET_BYTES`] of records unless
    /// one message alone exceeds it.
    #[wasm_bindgen_test]
    fn split_keeps_the_limits() {
        assert_eq!(split(entries_of(130, 10)).iter().map(Vec::len).collect::<Vec<_>>(), [64, 64, 2]);
        assert_eq!(keys(&split(entries_of(3, TARGET_BYTES / 2))), [vec![1, 2], vec![3]]);
        assert_eq!(keys(&split(entries_of(2, TARGET_BYTES + 1))), [vec![1], vec![2]]);
    }

    /// A message past the end of a segment of [`APPEND_LIMIT`] starts a segment; below that it
    /// joins; one already stored is not added.
    #[wasm_bindgen_test]
    fn place_appends_to_small_segments_only() {
        let stored = entries_of(APPEND_LIMIT as u64 + 1, 10);
        let (small, big) = (stored[..APPEND_LIMIT - 1].to_vec(), stored[..APPEND_LIMIT].to_vec());
        let next = || stored[APPEND_LIMIT..].to_vec();
        let (segments, added) = place(small, next());
        assert_eq!((segments.len(), segments[0].len(), added), (1, APPEND_LIMIT, vec![true]));
        let (segments, added) = place(big.clone(), next());
        assert_eq!((keys(&segments), added), (vec![vec![APPEND_LIMIT as u64 + 1]], vec![true]));
        let (segments, added) = place(big, stored[3..4].to_vec());
        assert_eq!((segments.len(), added), (0, vec![false]));
    }
}
