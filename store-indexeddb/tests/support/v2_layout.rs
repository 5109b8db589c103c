//! The message layout of schema v1 and v2, written directly: one record per message in
//! `messages`, keyed by id, `{k, p?, r}` with `k` = conversation ‖ time ‖ id and `p` the same
//! while delivered. The crate now writes v3; the upgrade tests need what the old code left
//! behind, and the benchmark times it beside v3 in the same run.

use chat::{MessageState, StoredMessage};
use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use js_sys::{Object, Reflect, Uint8Array};
use store_indexeddb::IdbStore;
use wasm_bindgen::JsValue;

/// The database `name` created at schema v2, opened without upgrading it further.
pub(crate) async fn open_v2(name: &str) -> Database {
    IdbStore::open_at(name, 2).await.unwrap().close();
    Database::open(name).await.unwrap()
}

/// Adds `messages` as the v2 code did: one transaction, every `add` made before any completes.
pub(crate) async fn add_messages(db: &Database, messages: &[StoredMessage]) {
    let tx = db.transaction("messages").with_mode(TransactionMode::Readwrite).build().unwrap();
    let store = tx.object_store("messages").unwrap();
    for message in messages {
        let content = message.envelope.content();
        let id = message.envelope.id().0;
        let order = bin(&[content.conversation.0.as_slice(), &content.time.0.to_be_bytes(), &id].concat());
        let value = Object::new();
        Reflect::set(&value, &"k".into(), &order).unwrap();
        if message.state == MessageState::Delivered {
            Reflect::set(&value, &"p".into(), &order).unwrap();
        }
        Reflect::set(&value, &"r".into(), &bin(&message.to_bytes())).unwrap();
        // Made now, completed by the commit (the future is never polled).
        drop(store.add(JsValue::from(value)).with_key(bin(&id)).without_key_type().primitive().unwrap());
    }
    drop(store);
    tx.commit().await.unwrap();
}

fn bin(bytes: &[u8]) -> JsValue {
    Uint8Array::from(bytes).into()
}
