//! The IndexedDB backends in headless Chromium: every trait's shared contract suite, then what
//! only this backend has (schema upgrades, one transaction for writes that belong together).
#![cfg(target_family = "wasm")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chat::contract::fixtures::{conversation, key, message, stored};
use chat::{
    Clock, Contact, ContactStore, ConversationStore, MessageState, MessageStore, OutboxEntry,
    OutboxStore, StoreError, log,
};
use crypto::ledger::{Ledger, RecordOutcome};
use crypto::testing::{Fixture, TestRng};
use store_indexeddb::{DB_VERSION, IdbStore};
use wallet::{IdentityStore, VoucherStore, load_or_create_identity};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn fresh_name() -> String {
    format!("test-{}", js_sys::Math::random())
}

async fn fresh() -> IdbStore {
    IdbStore::open(&fresh_name()).await.expect("open")
}

mod chat_contract {
    use wasm_bindgen_test::wasm_bindgen_test;
    chat::chat_store_contract_tests!(async #[wasm_bindgen_test], super::fresh().await);
}

mod ledger_contract {
    crypto::ledger_contract_tests!(async, super::fresh);
}

mod wallet_contract {
    use wasm_bindgen_test::wasm_bindgen_test;
    wallet::wallet_store_contract_tests!(async #[wasm_bindgen_test], super::fresh().await);
}

/// A database left by schema v1 (chat stores and identity only), filled through the parts of
/// this code that v1 had, opens at the current version with every record intact, and the
/// stores v2 added work on it.
#[wasm_bindgen_test]
async fn upgrade_from_v1_keeps_every_record() {
    let name = fresh_name();
    let (alice, bob) = (key(1), key(2));
    let conv = conversation(1, &[&alice, &bob]);
    let delivered = message(&alice, 1, 10, &[], "delivered");
    let pending = message(&bob, 1, 20, &[delivered.id()], "pending");
    let contact = Contact {
        key: bob.public(),
        name: "Bob".into(),
        addresses: vec!["/dns4/relay/tcp/443/wss".into()],
    };
    let entry = OutboxEntry {
        message: delivered.id(),
        conversation: conv.id,
        recipient: bob.public(),
        envelope: delivered.as_bytes().to_vec(),
        attempts: 2,
        next_attempt_ms: 500,
    };
    let v1 = IdbStore::open_at(&name, 1).await.unwrap();
    assert_eq!(v1.version(), 1.0);
    let identity = load_or_create_identity(&v1, &mut TestRng::new(7))
        .await
        .unwrap();
    v1.put_contact(contact.clone()).await.unwrap();
    v1.put_conversation(conv.clone()).await.unwrap();
    v1.insert_message(stored(&delivered, MessageState::Delivered))
        .await
        .unwrap();
    v1.insert_message(stored(&pending, MessageState::Pending))
        .await
        .unwrap();
    v1.add_waiting(&conv.id, &delivered.id(), &pending.id())
        .await
        .unwrap();
    v1.add_outbox(entry.clone()).await.unwrap();
    assert!(
        Ledger::entry(&v1, Fixture::new().bearer(1).id())
            .await
            .is_err()
    );
    v1.close();

    let mut current = IdbStore::open(&name).await.unwrap();
    assert_eq!(current.version(), f64::from(DB_VERSION));
    let kept = current.device_key().await.unwrap().map(|k| k.to_seed());
    assert_eq!(kept, Some(identity.to_seed()));
    assert_eq!(current.contacts().await, Ok(vec![contact]));
    assert_eq!(current.conversations().await, Ok(vec![conv.clone()]));
    let page = current.page(&conv.id, None, 10).await.unwrap();
    assert_eq!(page, vec![stored(&delivered, MessageState::Delivered)]);
    assert_eq!(
        current.message(&pending.id()).await,
        Ok(Some(stored(&pending, MessageState::Pending)))
    );
    assert_eq!(current.message_keys(&conv.id).await.map(|k| k.len()), Ok(2));
    assert_eq!(
        current.take_waiting(&delivered.id()).await,
        Ok(vec![pending.id()])
    );
    assert_eq!(current.due_outbox(500, 10).await, Ok(vec![entry]));

    let fixture = Fixture::new();
    let receipt = fixture.receipt_for_bearer(1);
    assert_eq!(current.record(&receipt).await, Ok(RecordOutcome::Recorded));
    assert_eq!(current.put_voucher(&fixture.bearer(2)).await, Ok(true));
}

/// A received message is one transaction: message, conversation heads and the owed ack.
/// Aborted after the first two writes, nothing is left; committed, all three are there.
#[wasm_bindgen_test]
async fn received_message_is_all_or_nothing() {
    let store_name = fresh_name();
    let store = IdbStore::open(&store_name).await.unwrap();
    let (alice, bob) = (key(1), key(2));
    let conv = conversation(1, &[&alice, &bob]);
    store.put_conversation(conv.clone()).await.unwrap();
    let m = message(&bob, 1, 100, &[], "hello");
    let mut clock = Clock::new();

    let tx = store.chat_tx().unwrap();
    let inserted = log::insert(&tx, &mut clock, 0, m.clone()).await.unwrap();
    assert_eq!(inserted.delivered, vec![m.id()]);
    assert_eq!(tx.page(&conv.id, None, 10).await.map(|p| p.len()), Ok(1));
    tx.abort().await.unwrap();
    assert_eq!(store.message(&m.id()).await, Ok(None));
    assert_eq!(store.conversation(&conv.id).await, Ok(Some(conv.clone())));
    assert_eq!(owed_acks(&store_name).await, Vec::<Vec<u8>>::new());

    let tx = store.chat_tx().unwrap();
    log::insert(&tx, &mut clock, 0, m.clone()).await.unwrap();
    tx.owe_ack(&bob.public(), &m.id()).await.unwrap();
    tx.commit().await.unwrap();
    let page = store.page(&conv.id, None, 10).await.unwrap();
    assert_eq!(page, vec![stored(&m, MessageState::Delivered)]);
    let heads = store.conversation(&conv.id).await.unwrap().map(|c| c.heads);
    assert_eq!(heads, Some(vec![m.id()]));
    let owed = [bob.public().to_bytes().as_slice(), &m.id().0].concat();
    assert_eq!(owed_acks(&store_name).await, vec![owed]);
}

/// The keys (peer ‖ message) of the `acks` store, read past the crate's API: nothing in the app
/// sends acks yet, so only this test reads them.
async fn owed_acks(name: &str) -> Vec<Vec<u8>> {
    use indexed_db_futures::database::Database;
    use indexed_db_futures::prelude::*;
    use js_sys::{ArrayBuffer, Uint8Array};
    use wasm_bindgen::JsCast;

    let raw = Database::open(name).await.unwrap();
    let tx = raw.transaction("acks").build().unwrap();
    let keys: Vec<Vec<u8>> = tx
        .object_store("acks")
        .unwrap()
        .get_all_keys::<wasm_bindgen::JsValue>()
        .primitive()
        .unwrap()
        .await
        .unwrap()
        .map(|key| Uint8Array::new(&key.unwrap().dyn_into::<ArrayBuffer>().unwrap()).to_vec())
        .collect();
    drop(tx);
    raw.close();
    keys
}

/// The batch insert keeps `insert_message`'s rules: a message already stored is neither
/// replaced nor counted, a repeat inside the batch is stored once; and the batch is one
/// transaction: aborted, none of it is left.
#[wasm_bindgen_test]
async fn batch_insert_stores_each_new_message_once() {
    let store = fresh().await;
    let alice = key(1);
    let conv = conversation(1, &[&alice]);
    let old = message(&alice, 1, 10, &[], "old");
    let (a, b) = (message(&alice, 1, 20, &[], "a"), message(&alice, 1, 30, &[], "b"));
    store.insert_message(stored(&old, MessageState::Delivered)).await.unwrap();

    let tx = store.chat_tx().unwrap();
    let batch = [stored(&a, MessageState::Delivered)];
    assert_eq!(tx.insert_messages(&batch).await, Ok(vec![true]));
    tx.abort().await.unwrap();
    assert_eq!(store.message(&a.id()).await, Ok(None));

    let batch = [
        stored(&old, MessageState::Rejected),
        stored(&a, MessageState::Delivered),
        stored(&a, MessageState::Pending),
        stored(&b, MessageState::Pending),
    ];
    assert_eq!(store.insert_messages(&batch).await, Ok(vec![false, true, false, true]));
    assert_eq!(store.message(&old.id()).await, Ok(Some(stored(&old, MessageState::Delivered))));
    assert_eq!(store.message(&b.id()).await, Ok(Some(stored(&b, MessageState::Pending))));
    let page = store.page(&conv.id, None, 10).await.unwrap();
    let expected = [stored(&a, MessageState::Delivered), stored(&old, MessageState::Delivered)];
    assert_eq!(page, expected);
    assert_eq!(store.insert_messages(&[]).await, Ok(vec![]));
}

/// A transaction dropped before commit (an error path returning early) rolls back too.
#[wasm_bindgen_test]
async fn dropped_transaction_leaves_nothing() {
    let store = fresh().await;
    let m = message(&key(1), 1, 10, &[], "dropped");
    {
        let tx = store.chat_tx().unwrap();
        tx.insert_message(stored(&m, MessageState::Delivered))
            .await
            .unwrap();
        tx.put_conversation(conversation(1, &[&key(1)]))
            .await
            .unwrap();
    }
    assert_eq!(store.message(&m.id()).await, Ok(None));
    assert_eq!(store.conversations().await, Ok(vec![]));
}

/// Garbage where a record should be (another version's layout, a damaged profile) is a typed
/// error, never a panic.
#[wasm_bindgen_test]
async fn corrupt_records_are_errors() {
    use indexed_db_futures::database::Database;
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;
    use js_sys::{Object, Reflect, Uint8Array};
    use wasm_bindgen::JsValue;

    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let m = message(&key(1), 1, 10, &[], "x");
    let raw = Database::open(&name).await.unwrap();
    let tx = raw
        .transaction(["messages", "identity"])
        .with_mode(TransactionMode::Readwrite)
        .build()
        .unwrap();
    let bad = Object::new();
    Reflect::set(&bad, &"r".into(), &Uint8Array::from(&[1u8, 9, 9][..])).unwrap();
    let id: JsValue = Uint8Array::from(&m.id().0[..]).into();
    let messages = tx.object_store("messages").unwrap();
    messages
        .put(JsValue::from(bad))
        .with_key(id)
        .without_key_type()
        .await
        .unwrap();
    let device: JsValue = Uint8Array::from(&b"device"[..]).into();
    let short: JsValue = Uint8Array::from(&[7u8; 5][..]).into();
    let identity = tx.object_store("identity").unwrap();
    identity
        .put(short)
        .with_key(device)
        .without_key_type()
        .await
        .unwrap();
    tx.commit().await.unwrap();
    raw.close();

    assert!(matches!(
        store.message(&m.id()).await,
        Err(StoreError::Corrupt(_))
    ));
    assert!(matches!(
        store.device_key().await,
        Err(StoreError::Corrupt(_))
    ));
}
