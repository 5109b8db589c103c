//! The IndexedDB backends in headless Chromium: every trait's shared contract suite, then what
//! only this backend has (schema upgrades, one transaction for writes that belong together).
#![cfg(target_family = "wasm")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chat::contract::fixtures::{conversation, key, message, stored};
use chat::{
    Clock, Contact, ContactStore, ConversationStore, MessageState, MessageStore, OutboxEntry,
    OutboxStore, StoreError, StoredMessage, log,
};
use crypto::ledger::{Ledger, RecordOutcome};
use crypto::testing::{Fixture, TestRng};
use store_indexeddb::{DB_VERSION, IdbStore};
use wallet::{IdentityStore, VoucherStore, load_or_create_identity};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[path = "support/v2_layout.rs"]
mod v2_layout;
#[path = "support/raw_segments.rs"]
mod raw_segments;

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
/// this code that v1 had and with messages in the layout v1 wrote, opens at the current version
/// with every record intact, and the stores v2 added work on it.
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
    let raw = indexed_db_futures::database::Database::open(&name).await.unwrap();
    let messages = [stored(&delivered, MessageState::Delivered), stored(&pending, MessageState::Pending)];
    v2_layout::add_messages(&raw, &messages).await;
    raw.close();
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
    use js_sys::{Array, Object, Reflect, Uint8Array};
    use wasm_bindgen::JsValue;

    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let m = message(&key(1), 1, 10, &[], "x");
    let raw = Database::open(&name).await.unwrap();
    let tx = raw
        .transaction(["message_segments", "identity"])
        .with_mode(TransactionMode::Readwrite)
        .build()
        .unwrap();
    // A segment indexed under the message's id whose bytes are not a segment.
    let bad = Object::new();
    let id: JsValue = Uint8Array::from(&m.id().0[..]).into();
    Reflect::set(&bad, &"ids".into(), &Array::of1(&id)).unwrap();
    Reflect::set(&bad, &"r".into(), &Uint8Array::from(&[1u8, 9, 9][..])).unwrap();
    let segment_key: JsValue = Uint8Array::from(&[1u8; 56][..]).into();
    let segments = tx.object_store("message_segments").unwrap();
    segments
        .put(JsValue::from(bad))
        .with_key(segment_key)
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

/// Messages in the layout schema v2 wrote (one record each), in two conversations, delivered
/// and pending, more than several segments' worth, move into segments on opening at v3: every
/// message is found by id with its state, the pages go newest first across segment bounds, the
/// keys are all there in order, and the old store is gone.
#[wasm_bindgen_test]
async fn upgrade_from_v2_moves_messages_into_segments() {
    upgrade_from_v2(None).await;
}

/// The same upgrade read in chunks of 7 old records: 25 chunks, bounds inside runs of a
/// conversation and between conversations.
#[wasm_bindgen_test]
async fn upgrade_from_v2_in_many_chunks_moves_every_message() {
    upgrade_from_v2(Some(7)).await;
}

async fn upgrade_from_v2(chunk: Option<u32>) {
    let name = fresh_name();
    let (alice, bob) = (key(1), key(2));
    let (first, second) = (conversation(1, &[&alice, &bob]), conversation(2, &[&alice]));
    let mut messages = vec![];
    for n in 0..150u64 {
        let state = if n % 7 == 3 { MessageState::Pending } else { MessageState::Delivered };
        messages.push(stored(&message(&alice, 1, 1_000 + n, &[], &format!("first {n}")), state));
    }
    for n in 0..20u64 {
        messages.push(stored(&message(&bob, 2, 500 + n, &[], &format!("second {n}")), MessageState::Delivered));
    }
    let raw = v2_layout::open_v2(&name).await;
    v2_layout::add_messages(&raw, &messages).await;
    raw.close();

    let current = match chunk {
        Some(chunk) => IdbStore::open_upgrading_in_chunks(&name, DB_VERSION, chunk).await.unwrap(),
        None => IdbStore::open(&name).await.unwrap(),
    };
    assert_eq!(current.version(), f64::from(DB_VERSION));
    assert_eq!(current.quarantined().await, Ok(0));
    for m in &messages {
        assert_eq!(current.message(&m.envelope.id()).await, Ok(Some(m.clone())));
    }
    for (conv, in_it) in [(&first, &messages[..150]), (&second, &messages[150..])] {
        let mut keys: Vec<_> = in_it.iter().map(|m| m.envelope.key()).collect();
        keys.sort();
        assert_eq!(current.message_keys(&conv.id).await, Ok(keys));
        let mut delivered: Vec<_> = in_it.iter().filter(|m| m.state == MessageState::Delivered).cloned().collect();
        delivered.sort_by_key(|m| std::cmp::Reverse(m.envelope.key()));
        let mut paged = vec![];
        let mut before = None;
        loop {
            let page = current.page(&conv.id, before, 50).await.unwrap();
            let Some(last) = page.last() else { break };
            before = Some(last.envelope.key());
            paged.extend(page);
        }
        assert_eq!(paged, delivered);
    }
    let names: Vec<String> = indexed_db_futures::database::Database::open(&name)
        .await
        .map(|db| {
            let names = db.object_store_names().collect();
            db.close();
            names
        })
        .unwrap();
    assert!(!names.iter().any(|n| n == "messages"), "{names:?}");
    // Runs of 64 (150 = 64 + 64 + 22, and 20), or, in chunks of 7, a run ends at each chunk
    // bound too. Each chunk after the first starts with the message moved last (read again, so
    // that a record sharing its key is not missed): 7, then 6 new ones a chunk; the first
    // conversation's 150 end 5 into the 25th chunk, the second's 20 are 1 + 6 + 6 + 6 + 1.
    let segments = if chunk.is_some() { 25 + 5 } else { 3 + 1 };
    assert_eq!(raw_segments::count(&name, "message_segments").await, segments);
}

/// Old message records that cannot be read (no key `k`, a `k` that is not the message's, a
/// record that does not decode), among readable ones and with chunks of two records, do not stop
/// the upgrade and are not dropped: each is set aside, raw, in the quarantine and counted, and
/// every readable message is moved.
#[wasm_bindgen_test]
async fn unreadable_v2_messages_are_set_aside_and_the_upgrade_completes() {
    upgrade_with_unreadable_records(true, 2).await;
}

/// The same with every unreadable record in the `by_key` index (so the upgrade reads the index
/// only), in chunks of the fewest records and of three: a record sharing its `k` with a message
/// is met on either side of a chunk bound.
#[wasm_bindgen_test]
async fn unreadable_v2_messages_in_the_index_are_set_aside() {
    upgrade_with_unreadable_records(false, 1).await;
    upgrade_with_unreadable_records(false, 2).await;
    upgrade_with_unreadable_records(false, 3).await;
}

async fn upgrade_with_unreadable_records(with_unkeyed: bool, chunk: u32) {
    use indexed_db_futures::prelude::*;
    use indexed_db_futures::transaction::TransactionMode;
    use js_sys::{Object, Reflect, Uint8Array};
    use wasm_bindgen::JsValue;

    let name = fresh_name();
    let conv = conversation(1, &[&key(1)]);
    let kept = |n: u64| stored(&message(&key(1), 1, 10 + n, &[], &format!("kept {n}")), MessageState::Delivered);
    let good: Vec<_> = (0..5u64).map(kept).collect();
    let unkeyed = stored(&message(&key(1), 1, 100, &[], "no k"), MessageState::Delivered);
    let raw = v2_layout::open_v2(&name).await;
    v2_layout::add_messages(&raw, &good).await;
    let tx = raw.transaction("messages").with_mode(TransactionMode::Readwrite).build().unwrap();
    let store = tx.object_store("messages").unwrap();
    let bin = |bytes: &[u8]| JsValue::from(Uint8Array::from(bytes));
    let bad = |k: Option<JsValue>, r: &[u8]| {
        let value = Object::new();
        if let Some(k) = k {
            Reflect::set(&value, &"k".into(), &k).unwrap();
        }
        Reflect::set(&value, &"r".into(), &bin(r)).unwrap();
        JsValue::from(value)
    };
    // A readable message without its `k`: in no index, so a walk of `by_key` never meets it.
    let put = |id: [u8; 32], value: JsValue| store.put(value).with_key(bin(&id)).without_key_type();
    if with_unkeyed {
        put(unkeyed.envelope.id().0, bad(None, &unkeyed.to_bytes())).await.unwrap();
    }
    put([9; 32], bad(Some(bin(&[3; 10])), &[1])).await.unwrap();
    let mut k = [conv.id.0.as_slice(), &50u64.to_be_bytes(), &[8; 32]].concat();
    put([8; 32], bad(Some(bin(&k)), &[1, 2, 3])).await.unwrap();
    // `k` is a message's, but not this record's.
    k.splice(24.., good[0].envelope.id().0);
    put([7; 32], bad(Some(bin(&k)), &good[0].to_bytes())).await.unwrap();
    drop(store);
    tx.commit().await.unwrap();
    raw.close();

    let current = IdbStore::open_upgrading_in_chunks(&name, DB_VERSION, chunk).await.unwrap();
    assert_eq!(current.version(), f64::from(DB_VERSION));
    let unreadable = if with_unkeyed { 4 } else { 3 };
    assert_eq!(current.quarantined().await, Ok(unreadable));
    let keys: Vec<_> = good.iter().map(|m| m.envelope.key()).collect();
    assert_eq!(current.message_keys(&conv.id).await, Ok(keys));
    for m in &good {
        assert_eq!(current.message(&m.envelope.id()).await, Ok(Some(m.clone())));
    }
    current.close();
    assert_eq!(raw_segments::count(&name, "quarantine").await, unreadable);
}

/// Batches of every size, in shuffled order, with repeats and with messages landing before,
/// inside and after full segments: every message is stored once, by id, and pages and keys
/// come out in (time, id) order across the segments' bounds.
#[wasm_bindgen_test]
async fn segments_keep_order_across_splits() {
    let store = fresh().await;
    let alice = key(1);
    let conv = conversation(1, &[&alice]);
    let all: Vec<_> = (0..300u64)
        .map(|n| stored(&message(&alice, 1, 10_000 + n * 3, &[], &format!("m{n}")), MessageState::Delivered))
        .collect();
    // Every third message first (spread over the range), then the rest in growing batches from
    // the end, each batch repeating a message already stored.
    let spread: Vec<_> = all.iter().step_by(3).cloned().collect();
    let stored_now = store.insert_messages(&spread).await.unwrap();
    assert!(stored_now.iter().all(|&new| new));
    let mut rest: Vec<_> = all.iter().enumerate().filter(|(n, _)| n % 3 != 0).map(|(_, m)| m.clone()).collect();
    let mut size = 1;
    while !rest.is_empty() {
        let mut batch: Vec<_> = rest.split_off(rest.len().saturating_sub(size));
        // Ids are hashes: ordering by id shuffles.
        batch.sort_by_key(|m| m.envelope.id());
        batch.push(spread[batch.len() % spread.len()].clone());
        let outcome = store.insert_messages(&batch).await.unwrap();
        assert_eq!(outcome.iter().filter(|&&new| new).count(), batch.len() - 1);
        assert_eq!(outcome.last(), Some(&false));
        size *= 2;
    }
    let keys: Vec<_> = all.iter().map(|m| m.envelope.key()).collect();
    assert_eq!(store.message_keys(&conv.id).await, Ok(keys));
    let middle = all[150].envelope.key();
    let page = store.page(&conv.id, Some(middle), 70).await.unwrap();
    let expected: Vec<_> = all[80..150].iter().rev().cloned().collect();
    assert_eq!(page, expected);
    for m in &all {
        assert_eq!(store.message(&m.envelope.id()).await, Ok(Some(m.clone())));
    }
    // Messages stored one at a time after the end, as received live, then one already stored.
    let live: Vec<_> = (0..40u64)
        .map(|n| stored(&message(&alice, 1, 20_000 + n, &[], &format!("live {n}")), MessageState::Delivered))
        .collect();
    for m in &live {
        assert_eq!(store.insert_message(m.clone()).await, Ok(true));
    }
    assert_eq!(store.insert_message(live[20].clone()).await, Ok(false));
    let newest = store.page(&conv.id, None, 50).await.unwrap();
    let expected: Vec<_> = live.iter().rev().chain(all.iter().rev()).take(50).cloned().collect();
    assert_eq!(newest, expected);
    let keys: Vec<_> = all.iter().chain(&live).map(|m| m.envelope.key()).collect();
    assert_eq!(store.message_keys(&conv.id).await, Ok(keys));
    // A state change inside a segment keeps the rest of it.
    store.set_message_state(&all[100].envelope.id(), MessageState::Rejected, false).await.unwrap();
    let page = store.page(&conv.id, Some(all[102].envelope.key()), 3).await.unwrap();
    assert_eq!(page, vec![all[101].clone(), all[99].clone(), all[98].clone()]);
}

/// Every kind of damage a segment can have is a typed error when read, and none of them stops a
/// message from being stored into its range: the damaged segment is set aside, raw, in the
/// quarantine, and the new message is stored and read back.
#[wasm_bindgen_test]
async fn damaged_segments_are_errors_and_set_aside_on_insert() {
    let conv = conversation(1, &[&key(1)]);
    let at = |time: u64| stored(&message(&key(1), 1, time, &[], &format!("at {time}")), MessageState::Delivered);
    let run: Vec<_> = (0..65u64).map(|n| at(100 + n)).collect();
    let three = &run[..3];
    let whole = raw_segments::bytes(three);
    let mut unknown_version = whole.clone();
    unknown_version[0] = 2;
    let reversed: Vec<_> = three.iter().rev().cloned().collect();
    let earlier = at(50);
    let damages: [(&str, &[u8], &StoredMessage); 7] = [
        ("unknown version", &unknown_version, &three[0]),
        ("more than 64 messages", &raw_segments::bytes(&run), &run[0]),
        ("larger than any segment", &vec![1; 70_000], &three[0]),
        ("out of order", &raw_segments::bytes(&reversed), &reversed[0]),
        ("empty", &[1], &three[0]),
        ("truncated", &whole[..whole.len() - 5], &three[0]),
        ("first message not its key", &whole, &earlier),
    ];
    for (damage, bytes, key_message) in damages {
        let name = fresh_name();
        let store = IdbStore::open(&name).await.unwrap();
        let ids: Vec<[u8; 32]> = three.iter().map(|m| m.envelope.id().0).collect();
        let ids: Vec<&[u8]> = ids.iter().map(|id| id.as_slice()).collect();
        raw_segments::put(&name, &raw_segments::key_of(&conv.id, key_message), &ids, bytes).await;
        assert!(matches!(store.message(&three[1].envelope.id()).await, Err(StoreError::Corrupt(_))), "{damage}");
        assert!(matches!(store.message_keys(&conv.id).await, Err(StoreError::Corrupt(_))), "{damage}");

        let live = at(1_000);
        assert_eq!(store.insert_message(live.clone()).await, Ok(true), "{damage}");
        assert_eq!(store.quarantined().await, Ok(1), "{damage}");
        assert_eq!(store.message(&live.envelope.id()).await, Ok(Some(live.clone())), "{damage}");
        assert_eq!(store.page(&conv.id, None, 50).await, Ok(vec![live.clone()]), "{damage}");
        assert_eq!(store.message(&three[1].envelope.id()).await, Ok(None), "{damage}");
        store.close();
    }
}

/// A segment the `by_id` index lists for a message that is not in it: reading the message and
/// changing its state are both errors (the state change must not rewrite the segment as if all
/// were well).
#[wasm_bindgen_test]
async fn indexed_message_missing_from_its_segment_is_an_error() {
    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let conv = conversation(1, &[&key(1)]);
    let (kept, missing) = (message(&key(1), 1, 10, &[], "kept"), message(&key(1), 1, 20, &[], "missing"));
    let kept = stored(&kept, MessageState::Pending);
    let ids = [kept.envelope.id().0, missing.id().0];
    let bytes = raw_segments::bytes(std::slice::from_ref(&kept));
    raw_segments::put(&name, &raw_segments::key_of(&conv.id, &kept), &[&ids[0], &ids[1]], &bytes).await;

    assert!(matches!(store.message(&missing.id()).await, Err(StoreError::Corrupt(_))));
    let changed = store.set_message_state(&missing.id(), MessageState::Delivered, false).await;
    assert!(matches!(changed, Err(StoreError::Corrupt(_))), "{changed:?}");
    assert_eq!(store.message(&kept.envelope.id()).await, Ok(Some(kept)));
}

/// How many segment records known sequences make: a batch packs 64 messages a segment; messages
/// stored one at a time after the end (received live) make segments of 16; older messages
/// stored one at a time, newest first (history fetched backwards), fill the segment after
/// them up to 64 instead of making one each. Every message stays readable in order.
#[wasm_bindgen_test]
async fn segment_counts_after_known_sequences() {
    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let at = |conversation: u8, time: u64| {
        let text = format!("{conversation} at {time}");
        stored(&message(&key(1), conversation, time, &[], &text), MessageState::Delivered)
    };
    let batch: Vec<_> = (0..200u64).map(|n| at(1, 1_000 + n)).collect();
    assert!(store.insert_messages(&batch).await.unwrap().iter().all(|&new| new));
    assert_eq!(raw_segments::count(&name, "message_segments").await, 4);

    let live: Vec<_> = (0..40u64).map(|n| at(2, 1_000 + n)).collect();
    for m in &live {
        assert_eq!(store.insert_message(m.clone()).await, Ok(true));
    }
    assert_eq!(raw_segments::count(&name, "message_segments").await, 4 + 3);

    let backwards: Vec<_> = (0..100u64).rev().map(|n| at(3, 1_000 + n)).collect();
    for m in &backwards {
        assert_eq!(store.insert_message(m.clone()).await, Ok(true));
    }
    // 100 = 64, then 36 more in front of them.
    assert_eq!(raw_segments::count(&name, "message_segments").await, 4 + 3 + 2);
    assert_eq!(store.insert_message(backwards[50].clone()).await, Ok(false));

    for (id, messages) in [(1, &batch), (2, &live)] {
        let keys: Vec<_> = messages.iter().map(|m| m.envelope.key()).collect();
        assert_eq!(store.message_keys(&conversation(id, &[]).id).await, Ok(keys));
    }
    let oldest_first: Vec<_> = backwards.iter().rev().cloned().collect();
    let keys: Vec<_> = oldest_first.iter().map(|m| m.envelope.key()).collect();
    let conv = conversation(3, &[]);
    assert_eq!(store.message_keys(&conv.id).await, Ok(keys));
    assert_eq!(store.page(&conv.id, None, 100).await, Ok(backwards.clone()));
    for m in &backwards {
        assert_eq!(store.message(&m.envelope.id()).await, Ok(Some(m.clone())));
    }
}

/// A message is in one segment at most: a segment listing an id that another segment holds is
/// refused by the `by_id` index, while splits (which move ids from one segment to the next)
/// keep working, as `segments_keep_order_across_splits` shows.
#[wasm_bindgen_test]
async fn an_id_in_two_segments_is_refused() {
    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let conv = conversation(1, &[&key(1)]);
    let (first, later) = (message(&key(1), 1, 10, &[], "first"), message(&key(1), 1, 20, &[], "later"));
    let (first, later) = (stored(&first, MessageState::Delivered), stored(&later, MessageState::Delivered));
    assert_eq!(store.insert_message(first.clone()).await, Ok(true));
    let ids = [later.envelope.id().0, first.envelope.id().0];
    let bytes = raw_segments::bytes(std::slice::from_ref(&later));
    let key = raw_segments::key_of(&conv.id, &later);
    let refused = raw_segments::try_put(&name, &key, &[&ids[0], &ids[1]], &bytes).await;
    assert!(refused.as_ref().is_err_and(|error| error.contains("ConstraintError")), "{refused:?}");
    assert_eq!(store.message_keys(&conv.id).await, Ok(vec![first.envelope.key()]));
}

/// A message received live whose parent lies in the conversation's newest segment, damaged: the
/// receive (one transaction: the message, the conversation's heads, the ack) still commits. The
/// damaged segment is set aside, so the parent reads as missing and the message waits for it.
#[wasm_bindgen_test]
async fn received_message_after_a_damaged_newest_segment_is_stored() {
    let name = fresh_name();
    let store = IdbStore::open(&name).await.unwrap();
    let alice = key(1);
    let conv = conversation(1, &[&alice]);
    store.put_conversation(conv.clone()).await.unwrap();
    let parent = stored(&message(&alice, 1, 10, &[], "parent"), MessageState::Delivered);
    let ids = [parent.envelope.id().0];
    raw_segments::put(&name, &raw_segments::key_of(&conv.id, &parent), &[&ids[0]], &[1, 9, 9]).await;

    let child = message(&alice, 1, 20, &[parent.envelope.id()], "child");
    let tx = store.chat_tx().unwrap();
    let inserted = log::insert(&tx, &mut Clock::new(), 0, child.clone()).await.unwrap();
    tx.owe_ack(&alice.public(), &child.id()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(inserted.missing, vec![parent.envelope.id()]);
    assert_eq!(store.message(&child.id()).await, Ok(Some(stored(&child, MessageState::Pending))));
    assert_eq!(store.quarantined().await, Ok(1));
    assert_eq!(store.missing_parents(&conv.id).await, Ok(vec![parent.envelope.id()]));
}
