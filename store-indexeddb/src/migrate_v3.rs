//! Schema step 3: messages move from one record each (`messages`, v1 and v2) into segments
//! (`message_segments`, [`crate::segment`]) inside the upgrade transaction, and `messages` is
//! removed.
//!
//! The upgrade callback cannot await, so request events drive the copy: the old messages are
//! read in (conversation, time, id) order from their `by_key` index, [`CHUNK`] at a time, and
//! written as segments; after the last chunk the old store is deleted. A record that cannot be
//! read aborts the upgrade: the database keeps its old version and every record, and the open
//! fails (`AbortError`) instead of dropping a message.

use chat::{ConversationId, StoreError};
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
use crate::segment::{self, BY_ID, Entry, order_bytes, order_key};

/// Old messages read per request: few requests, and a bounded amount in memory at a time.
const CHUNK: u32 = 10_000;

pub(crate) fn step_3(db: &Database) -> Result<(), Error> {
    let segments = db.create_object_store(SEGMENTS).build()?;
    segments.create_index(BY_ID, KeyPath::One("ids")).with_multi_entry(true).build()?;
    let segments = segments.as_sys().clone();
    let tx = segments.transaction();
    let by_key = tx.object_store(MESSAGES)?.index("by_key")?;
    let migration = Migration { db: db.as_sys().clone().into(), tx, by_key, segments };
    migration.read_after(None)?;
    Ok(())
}

/// What the copy works on: all inside the upgrade transaction.
struct Migration {
    db: IdbDatabase,
    tx: IdbTransaction,
    by_key: IdbIndex,
    segments: IdbObjectStore,
}

impl Migration {
    /// Requests the next chunk of old messages, after the `by_key` key `last` if any.
    fn read_after(self, last: Option<&JsValue>) -> Result<(), JsValue> {
        let range = match last {
            Some(last) => IdbKeyRange::lower_bound_with_open(last, true)?.into(),
            None => JsValue::UNDEFINED,
        };
        let request = self.by_key.get_all_with_key_and_limit(&range, CHUNK)?;
        let read = request.clone();
        let on_success = Closure::once_into_js(move |_: Event| {
            let tx = self.tx.clone();
            if self.write_chunk(&read).is_err() {
                // Nothing of the upgrade stays: the old version and its records do.
                let _ = tx.abort();
            }
        });
        request.set_onsuccess(Some(on_success.unchecked_ref()));
        Ok(())
    }

    /// Writes a chunk of old messages as segments, then reads on or, after the last chunk,
    /// removes the old store.
    fn write_chunk(self, read: &IdbRequest) -> Result<(), StoreError> {
        let values: Array = read
            .result()
            .map_err(js_error)?
            .dyn_into()
            .map_err(|_| StoreError::Corrupt("old messages: not a list".into()))?;
        // Consecutive messages of one conversation; a chunk boundary also ends a run, which
        // only leaves a segment shorter than it could be.
        let mut run: Vec<Entry> = vec![];
        let mut run_conversation = None;
        let mut last = None;
        for value in values.iter() {
            let key = array_of::<56>(&value, "k")?;
            let mut conversation = [0; 16];
            conversation.copy_from_slice(&key[..16]);
            let conversation = ConversationId(conversation);
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
        match last {
            Some(last) if values.length() == CHUNK => self.read_after(Some(&bin(&last))).map_err(js_error),
            _ => self.db.delete_object_store(MESSAGES).map_err(js_error),
        }
    }

    fn write(&self, conversation: &ConversationId, entries: Vec<Entry>) -> Result<(), StoreError> {
        for part in segment::split(entries) {
            let key = bin(&order_bytes(conversation, &part[0].key));
            self.segments.put_with_key(&segment::value(&part)?, &key).map_err(js_error)?;
        }
        Ok(())
    }
}
