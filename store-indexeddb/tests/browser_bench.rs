//! Storage figures in headless Chromium against real IndexedDB (`cargo xtask bench storage`).
//! Each figure is one console line `BENCH {json}`. Envelopes are signed before the clock starts:
//! the figures are storage only.
#![cfg(target_family = "wasm")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chat::contract::fixtures::{key, message, stored};
use chat::{ConversationId, MessageState, MessageStore, StoredMessage};
use store_indexeddb::IdbStore;
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const PAGE: usize = 50;

fn now_ms() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

fn report(name: &str, value: f64, unit: &str, extra: &str) {
    console_log!(r#"BENCH {{"name":"{name}","value":{value:.3},"unit":"{unit}"{extra}}}"#);
}

fn messages(conversation: u8, from: u64, count: u64) -> Vec<StoredMessage> {
    let author = key(1);
    (from..from + count)
        .map(|n| {
            let m = message(&author, conversation, 1_000 + n, &[], &format!("message {n}"));
            stored(&m, MessageState::Delivered)
        })
        .collect()
}

/// Inserts with one batch ([`IdbStore::insert_messages`], one transaction) per `batch`
/// messages; returns the elapsed ms.
async fn insert(store: &IdbStore, messages: &[StoredMessage], batch: usize) -> f64 {
    let start = now_ms();
    for chunk in messages.chunks(batch) {
        let stored = store.insert_messages(chunk).await.unwrap();
        assert!(stored.iter().all(|&new| new));
    }
    now_ms() - start
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

#[wasm_bindgen_test]
async fn insert_10k_messages() {
    // Three rounds, each into a database of its own: the machine is shared, so one round alone
    // says little.
    let messages = messages(1, 0, 10_000);
    let mut samples = vec![];
    for round in 0..3 {
        let store = IdbStore::open(&format!("bench-insert-batched-{round}")).await.unwrap();
        samples.push(insert(&store, &messages, 10_000).await);
    }
    let extra = format!(r#","target_ms":2000,"samples_ms":{samples:.0?}"#);
    report("idb_insert_10k_batch_median", median(samples), "ms", &extra);

    // The same 10,000 in one transaction, each insert awaited before the next is made: the
    // figure to compare with, from the same run (the machine's load changes from run to run).
    let store = IdbStore::open("bench-insert-awaited").await.unwrap();
    let start = now_ms();
    let tx = store.chat_tx().unwrap();
    for message in &messages {
        assert_eq!(tx.insert_message(message.clone()).await, Ok(true));
    }
    tx.commit().await.unwrap();
    report("idb_insert_10k_awaited_one_by_one", now_ms() - start, "ms", "");

    let singles = &messages[..1_000];
    let store = IdbStore::open("bench-insert-single").await.unwrap();
    let ms = insert(&store, singles, 1).await;
    report("idb_insert_1k_one_transaction_each", ms, "ms", "");
}

#[wasm_bindgen_test]
async fn newest_page_of_100k_and_reopen() {
    let name = "bench-page-100k";
    let conversation = ConversationId([2; 16]);
    let store = IdbStore::open(name).await.unwrap();
    for part in 0..10u64 {
        insert(&store, &messages(2, part * 10_000, 10_000), 10_000).await;
    }
    let mut samples = vec![];
    for _ in 0..21 {
        let start = now_ms();
        let page = store.page(&conversation, None, PAGE).await.unwrap();
        samples.push(now_ms() - start);
        assert_eq!(page.len(), PAGE);
        assert_eq!(page[0].envelope.content().time.0, 1_000 + 99_999);
    }
    report(
        "idb_newest_50_of_100k_median",
        median(samples),
        "ms",
        r#","target_ms":50,"samples":21"#,
    );

    // What the app does after a reload, as far as one page can: with every handle dropped and
    // the connection closed, open the database afresh and read the newest page. A real reload
    // also loads and starts the app (the cold-start figure) and starts a new renderer process;
    // the browser's database process and the disk cache stay as warm as here.
    let mut store = store;
    let mut samples = vec![];
    for _ in 0..11 {
        store.close();
        let start = now_ms();
        store = IdbStore::open(name).await.unwrap();
        let page = store.page(&conversation, None, PAGE).await.unwrap();
        samples.push(now_ms() - start);
        assert_eq!(page[0].envelope.content().time.0, 1_000 + 99_999);
    }
    let extra = format!(r#","samples_ms":{samples:.1?}"#);
    report("idb_reopen_to_first_page_100k_median", median(samples), "ms", &extra);
}
