//! Schema step 3: messages move from one record each (`messages`, v1 and v2) into segments
//! (`message_segments`, [`crate::segment`]) inside the upgrade transaction, and `messages` is
//! removed.
//!
//! The upgrade callback is synchronous (the library runs it inside the `upgradeneeded` event,
//! and the transaction commits once no request is pending), so request events drive the move,
//! a chunk of records per request:
//!
//! - The messages are read in (conversation, time, id) order from the `by_key` index, with their
//!   primary keys. Each is checked as the v3 reader will check it (its key `k` is its own
//!   conversation, time and id, and it decodes); one that fails is moved, raw, into
//!   [`crate::quarantine`], the others are written as segments and counted.
//! - A record whose `k` is missing or not a valid key is in no index. So when the store holds
//!   more records than the index, a first pass by primary key, which meets every record,
//!   quarantines the unreadable ones before the index is read. A sound database skips it: it
//!   would read every record once more.
//! - The old store is deleted only when it holds as many records as were moved; otherwise the
//!   upgrade aborts, and the database keeps its old version and every record.

use chat::{ConversationId, StoreError};
use indexed_db_futures::KeyPath;
use indexed_db_futures::database::Database;
use indexed_db_futures::error::Error;
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::prelude::*;
use js_sys::{Array, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, IdbDatabase, IdbIndex, IdbKeyRange, IdbObjectStore, IdbRequest, IdbTransaction};

use crate::db::{MESSAGES, SEGMENTS, array_of, bytes_of, js_error};
use crate::quarantine::{self, QUARANTINE};
use crate::segment::{self, BY_ID, Entry, conversation_of, order_bytes, order_key};

/// Old records read per request. Memory holds at most a chunk of records at a time, each at
/// most a record's limit (`chat::store::MAX_RECORD_LEN`, 64 KiB): 64 MiB at worst, about
/// 0.3 MiB for chat-sized messages; 100,000 messages take 200 requests.
pub(crate) const CHUNK: u32 = 1_000;

/// Creates the stores of v3 and starts moving the old messages, `chunk` records per request
/// (at least 2: a chunk read from the last key on may start with the message moved last).
pub(crate) fn step_3(db: &Database, chunk: u32) -> Result<(), Error> {
    let chunk = chunk.max(2);
    let segments = db.create_object_store(SEGMENTS).build()?;
    // Unique: a message in two segments would be read twice; a write that would make it so
    // fails, and its transaction with it. Writers write a split segment's first part (under the
    // old key, without the ids that move) before the parts after it.
    segments.create_index(BY_ID, KeyPath::One("ids")).with_multi_entry(true).with_unique(true).build()?;
    let quarantine = db.create_object_store(QUARANTINE).with_auto_increment(true).build()?.as_sys().clone();
    let segments = segments.as_sys().clone();
    let tx = segments.transaction();
    let messages = tx.object_store(MESSAGES)?;
    let by_key = messages.index("by_key")?;
    let records = messages.count()?;
    let indexed = by_key.count()?;
    let db = db.as_sys().clone().into();
    let migration = Migration { db, tx, messages, by_key, segments, quarantine, chunk, moved: 0, last_moved: None };
    migration.on_success(&indexed.clone(), move |migration| {
        if count(&records)? == count(&indexed)? {
            migration.copy_from(None).map_err(js_error)
        } else {
            migration.check_after(None).map_err(js_error)
        }
    });
    Ok(())
}

/// The upgrade in progress: the stores it reads and writes, all inside the upgrade
/// transaction, how many messages it has moved into segments and the key of the last.
struct Migration {
    db: IdbDatabase,
    tx: IdbTransaction,
    messages: IdbObjectStore,
    by_key: IdbIndex,
    segments: IdbObjectStore,
    quarantine: IdbObjectStore,
    chunk: u32,
    moved: u32,
    last_moved: Option<Vec<u8>>,
}

impl Migration {
    /// The first pass: requests the next chunk of old records by primary key, after `last`.
    fn check_after(self, last: Option<&JsValue>) -> Result<(), JsValue> {
        let range = match last {
            Some(last) => IdbKeyRange::lower_bound_with_open(last, true)?.into(),
            None => JsValue::UNDEFINED,
        };
        let keys = self.messages.get_all_keys_with_key_and_limit(&range, self.chunk)?;
        // Requests complete in order: when the values are read, so are the keys.
        let values = self.messages.get_all_with_key_and_limit(&range, self.chunk)?;
        let read = values.clone();
        self.on_success(&values, move |migration| migration.check_chunk(&keys, &read));
        Ok(())
    }

    /// Moves the unreadable records of a chunk into quarantine, then goes on.
    fn check_chunk(self, keys: &IdbRequest, values: &IdbRequest) -> Result<(), StoreError> {
        let (keys, values) = (list(keys)?, list(values)?);
        for (key, value) in keys.iter().zip(values.iter()) {
            if old_message(&key, &value).is_err() {
                quarantine::set_aside(&self.messages, &self.quarantine, &key, &value)?;
            }
        }
        if keys.length() == self.chunk {
            self.check_after(Some(&keys.get(keys.length() - 1))).map_err(js_error)
        } else {
            self.copy_from(None).map_err(js_error)
        }
    }

    /// Requests the next chunk of old messages in `by_key` order, from the key `last` on: the
    /// records under it not read yet are read (an unreadable record may share a key with a
    /// message), and the one moved already is skipped.
    fn copy_from(self, last: Option<&JsValue>) -> Result<(), JsValue> {
        let range = match last {
            Some(last) => IdbKeyRange::lower_bound(last)?.into(),
            None => JsValue::UNDEFINED,
        };
        let keys = self.by_key.get_all_keys_with_key_and_limit(&range, self.chunk)?;
        let values = self.by_key.get_all_with_key_and_limit(&range, self.chunk)?;
        let read = values.clone();
        self.on_success(&values, move |migration| migration.copy_chunk(&keys, &read));
        Ok(())
    }

    /// Writes a chunk of old messages as segments, quarantining those that cannot be read, then
    /// reads on or, after the last chunk, counts what is left to compare.
    fn copy_chunk(mut self, keys: &IdbRequest, values: &IdbRequest) -> Result<(), StoreError> {
        let (keys, values) = (list(keys)?, list(values)?);
        // Consecutive messages of one conversation; a chunk boundary also ends a run, which
        // only leaves a segment shorter than it could be.
        let mut run: Vec<Entry> = vec![];
        let mut run_conversation = None;
        for (id, value) in keys.iter().zip(values.iter()) {
            let Ok((conversation, entry)) = old_message(&id, &value) else {
                quarantine::set_aside(&self.messages, &self.quarantine, &id, &value)?;
                continue;
            };
            let key = order_bytes(&conversation, &entry.key);
            if self.last_moved.as_ref() == Some(&key) {
                continue;
            }
            if let Some(previous) = run_conversation.filter(|previous| *previous != conversation) {
                self.write(&previous, std::mem::take(&mut run))?;
            }
            run_conversation = Some(conversation);
            run.push(entry);
            self.last_moved = Some(key);
        }
        if let Some(conversation) = run_conversation {
            self.write(&conversation, run)?;
        }
        if values.length() == self.chunk {
            // The index key of the last record read, readable or not.
            let last = Reflect::get(&values.get(values.length() - 1), &JsValue::from_str("k")).map_err(js_error)?;
            self.copy_from(Some(&last)).map_err(js_error)
        } else {
            let count = self.messages.count().map_err(js_error)?;
            let read = count.clone();
            self.on_success(&count, move |migration| migration.finish(&read));
            Ok(())
        }
    }

    /// Removes the old store if every message in it was moved.
    fn finish(self, records: &IdbRequest) -> Result<(), StoreError> {
        let records = count(records)?;
        if records != self.moved {
            return Err(StoreError::Corrupt(format!(
                "old messages: {records} records, {} of them moved into segments",
                self.moved
            )));
        }
        self.db.delete_object_store(MESSAGES).map_err(js_error)
    }

    fn write(&mut self, conversation: &ConversationId, entries: Vec<Entry>) -> Result<(), StoreError> {
        // At most a chunk of records, far below u32::MAX.
        self.moved += entries.len() as u32;
        for part in segment::split(entries) {
            segment::put(&self.segments, conversation, &part)?;
        }
        Ok(())
    }

    /// Runs `next` when `request` succeeds; if it fails, the whole upgrade is rolled back: the
    /// old version and its records stay.
    fn on_success(self, request: &IdbRequest, next: impl FnOnce(Self) -> Result<(), StoreError> + 'static) {
        let on_success = Closure::once_into_js(move |_: Event| {
            let tx = self.tx.clone();
            if next(self).is_err() {
                let _ = tx.abort();
            }
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
    }
}

/// The result of a `count` request.
fn count(request: &IdbRequest) -> Result<u32, StoreError> {
    let count = request.result().map_err(js_error)?.as_f64();
    // IndexedDB counts are whole numbers; a store of more than u32::MAX records is not a phone's.
    count.map(|count| count as u32).ok_or_else(|| StoreError::Corrupt("old messages: count is not a number".into()))
}

fn list(request: &IdbRequest) -> Result<Array, StoreError> {
    request.result().map_err(js_error)?.dyn_into().map_err(|_| StoreError::Corrupt("old messages: not a list".into()))
}

/// The old record `value` under the message id `id`, checked as the v3 reader checks a stored
/// message: its key `k` is that message's conversation, time and id, and it decodes.
fn old_message(id: &JsValue, value: &JsValue) -> Result<(ConversationId, Entry), StoreError> {
    let key = array_of::<56>(value, "k")?;
    let entry = Entry { key: order_key(&key), record: bytes_of(value, "r")? };
    let message = entry.message()?;
    let id = array_of::<32>(id, "")?;
    if message.envelope.id().0 != id || message.envelope.content().conversation != conversation_of(&key) {
        return Err(StoreError::Corrupt("old message: stored under another key".into()));
    }
    Ok((conversation_of(&key), entry))
}
