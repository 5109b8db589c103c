//! Schema step 3: messages move from one record each (`messages`, v1 and v2) into segments
//! (`message_segments`, [`crate::segment`]) inside the upgrade transaction, and `messages` is
//! removed.
//!
//! The upgrade callback is synchronous (the library runs it inside the `upgradeneeded` event,
//! and the transaction commits once no request is pending), so request events drive the move,
//! in two passes of at most a chunk of records each:
//!
//! 1. By primary key, which visits every record whatever its fields: a record that cannot be
//!    read (no key `k`, a `k` that is not this message's, a record that does not decode) is
//!    moved, raw, into [`crate::quarantine`]. Every record left is in the `by_key` index under
//!    a key of its own.
//! 2. By the `by_key` index, in (conversation, time, id) order: the records are written as
//!    segments and counted. The old store is deleted only when that count is the store's
//!    count; otherwise the upgrade aborts, and the database keeps its old version and every
//!    record.

use chat::{ConversationId, StoreError, StoredMessage};
use indexed_db_futures::KeyPath;
use indexed_db_futures::database::Database;
use indexed_db_futures::error::Error;
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::prelude::*;
use js_sys::Array;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, IdbDatabase, IdbIndex, IdbKeyRange, IdbObjectStore, IdbRequest, IdbTransaction};

use crate::db::{MESSAGES, SEGMENTS, array_of, bin, bytes_of, js_error};
use crate::quarantine::{self, QUARANTINE};
use crate::segment::{self, BY_ID, Entry, conversation_of, order_key};

/// Old records read per request. Memory holds at most a chunk of records at a time, each at
/// most a record's limit (`chat::store::MAX_RECORD_LEN`, 64 KiB): 64 MiB at worst, about
/// 0.3 MiB for chat-sized messages; 100,000 messages take 200 requests.
pub(crate) const CHUNK: u32 = 1_000;

/// Creates the stores of v3 and starts moving the old messages, `chunk` records per request.
pub(crate) fn step_3(db: &Database, chunk: u32) -> Result<(), Error> {
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
    let migration =
        Migration { db: db.as_sys().clone().into(), tx, messages, by_key, segments, quarantine, chunk, moved: 0 };
    migration.check_after(None)?;
    Ok(())
}

/// The upgrade in progress: the stores it reads and writes, all inside the upgrade
/// transaction, and how many messages it has moved into segments.
struct Migration {
    db: IdbDatabase,
    tx: IdbTransaction,
    messages: IdbObjectStore,
    by_key: IdbIndex,
    segments: IdbObjectStore,
    quarantine: IdbObjectStore,
    chunk: u32,
    moved: u32,
}

impl Migration {
    /// Pass 1: requests the next chunk of old records by primary key, after `last` if any.
    fn check_after(self, last: Option<&JsValue>) -> Result<(), JsValue> {
        let range = after(last)?;
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
            self.copy_after(None).map_err(js_error)
        }
    }

    /// Pass 2: requests the next chunk of old messages in `by_key` order, after the key `last`.
    fn copy_after(self, last: Option<&JsValue>) -> Result<(), JsValue> {
        let values = self.by_key.get_all_with_key_and_limit(&after(last)?, self.chunk)?;
        let read = values.clone();
        self.on_success(&values, move |migration| migration.copy_chunk(&read));
        Ok(())
    }

    /// Writes a chunk of old messages as segments, then reads on or, after the last chunk,
    /// counts what is left to compare.
    fn copy_chunk(mut self, values: &IdbRequest) -> Result<(), StoreError> {
        let values = list(values)?;
        // Consecutive messages of one conversation; a chunk boundary also ends a run, which
        // only leaves a segment shorter than it could be.
        let mut run: Vec<Entry> = vec![];
        let mut run_conversation = None;
        let mut last = None;
        for value in values.iter() {
            let key = array_of::<56>(&value, "k")?;
            let conversation = conversation_of(&key);
            if let Some(previous) = run_conversation.filter(|previous| *previous != conversation) {
                self.write(&previous, std::mem::take(&mut run))?;
            }
            run_conversation = Some(conversation);
            run.push(Entry { key: order_key(&key), record: bytes_of(&value, "r")? });
            last = Some(key);
        }
        if let Some(conversation) = run_conversation {
            self.write(&conversation, run)?;
        }
        self.moved += values.length();
        match last {
            Some(last) if values.length() == self.chunk => self.copy_after(Some(&bin(&last))).map_err(js_error),
            _ => {
                let count = self.messages.count().map_err(js_error)?;
                let read = count.clone();
                self.on_success(&count, move |migration| migration.finish(&read));
                Ok(())
            }
        }
    }

    /// Removes the old store if every message in it was moved.
    fn finish(self, count: &IdbRequest) -> Result<(), StoreError> {
        let count = count.result().map_err(js_error)?.as_f64();
        if count != Some(f64::from(self.moved)) {
            return Err(StoreError::Corrupt(format!(
                "old messages: {count:?} records, {} of them moved into segments",
                self.moved
            )));
        }
        self.db.delete_object_store(MESSAGES).map_err(js_error)
    }

    fn write(&self, conversation: &ConversationId, entries: Vec<Entry>) -> Result<(), StoreError> {
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

/// The keys after `last`, or all.
fn after(last: Option<&JsValue>) -> Result<JsValue, JsValue> {
    Ok(match last {
        Some(last) => IdbKeyRange::lower_bound_with_open(last, true)?.into(),
        None => JsValue::UNDEFINED,
    })
}

fn list(request: &IdbRequest) -> Result<Array, StoreError> {
    request.result().map_err(js_error)?.dyn_into().map_err(|_| StoreError::Corrupt("old messages: not a list".into()))
}

/// The old record `value` under the message id `id`, checked as the v3 reader checks a stored
/// message: its key `k` is that message's conversation, time and id, and it decodes.
fn old_message(id: &JsValue, value: &JsValue) -> Result<StoredMessage, StoreError> {
    let key = array_of::<56>(value, "k")?;
    let message = Entry { key: order_key(&key), record: bytes_of(value, "r")? }.message()?;
    let id = array_of::<32>(id, "")?;
    if message.envelope.id().0 != id || message.envelope.content().conversation != conversation_of(&key) {
        return Err(StoreError::Corrupt("old message: stored under another key".into()));
    }
    Ok(message)
}
