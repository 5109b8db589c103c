//! Segment records written past the crate's API, as damage or an older writer could leave
//! them: `{ids, r}` under a 56-byte key, `r` = version 1 ‖ (time u64 BE ‖ id ‖ length u32 BE ‖
//! record)* (`src/segment.rs`).

use chat::{ConversationId, StoredMessage};
use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::JsValue;

/// The key a segment starting with `first` has.
pub(crate) fn key_of(conversation: &ConversationId, first: &StoredMessage) -> Vec<u8> {
    let key = first.envelope.key();
    [conversation.0.as_slice(), &key.time.0.to_be_bytes(), &key.id.0].concat()
}

/// The bytes of a segment holding `messages`, in the order given.
pub(crate) fn bytes(messages: &[StoredMessage]) -> Vec<u8> {
    let mut bytes = vec![1];
    for message in messages {
        let key = message.envelope.key();
        let record = message.to_bytes();
        bytes.extend_from_slice(&key.time.0.to_be_bytes());
        bytes.extend_from_slice(&key.id.0);
        bytes.extend_from_slice(&(record.len() as u32).to_be_bytes());
        bytes.extend_from_slice(&record);
    }
    bytes
}

/// Puts a segment record of `r` bytes indexed under `ids` at `key` in the database `name`.
pub(crate) async fn put(name: &str, key: &[u8], ids: &[&[u8]], r: &[u8]) {
    try_put(name, key, ids, r).await.unwrap();
}

/// [`put`], or the name of the error that refused it.
pub(crate) async fn try_put(name: &str, key: &[u8], ids: &[&[u8]], r: &[u8]) -> Result<(), String> {
    let raw = Database::open(name).await.unwrap();
    let tx = raw.transaction("message_segments").with_mode(TransactionMode::Readwrite).build().unwrap();
    let value = Object::new();
    let ids: Array = ids.iter().map(|id| JsValue::from(Uint8Array::from(*id))).collect();
    Reflect::set(&value, &"ids".into(), &ids).unwrap();
    Reflect::set(&value, &"r".into(), &Uint8Array::from(r)).unwrap();
    let key: JsValue = Uint8Array::from(key).into();
    let store = tx.object_store("message_segments").unwrap();
    let put = store.put(JsValue::from(value)).with_key(key).without_key_type().await;
    drop(store);
    let outcome = match put {
        Ok(()) => tx.commit().await.map_err(|error| error.to_string()),
        Err(error) => {
            drop(tx);
            Err(error.to_string())
        }
    };
    raw.close();
    outcome
}

/// How many records `store` of the database `name` holds.
pub(crate) async fn count(name: &str, store: &str) -> u32 {
    let raw = Database::open(name).await.unwrap();
    let tx = raw.transaction(store).build().unwrap();
    let count = tx.object_store(store).unwrap().count().await.unwrap();
    drop(tx);
    raw.close();
    count
}
