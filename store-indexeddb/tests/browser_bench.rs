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

#[path = "support/v2_layout.rs"]
mod v2_layout;

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
    // Five rounds, each into databases of their own, the layout schema v2 wrote (one record per
    // message, two indexes, every add made before any completes) and v3's segments
    // (`IdbStore::insert_messages`) one after the other in each round: the machine is shared,
    // so only figures taken side by side compare.
    let messages = messages(1, 0, 10_000);
    let (mut v2, mut v3) = (vec![], vec![]);
    for round in 0..5 {
        let db = v2_layout::open_v2(&format!("bench-insert-v2-{round}")).await;
        let start = now_ms();
        v2_layout::add_messages(&db, &messages).await;
        v2.push(now_ms() - start);
        db.close();
        let store = IdbStore::open(&format!("bench-insert-v3-{round}")).await.unwrap();
        v3.push(insert(&store, &messages, 10_000).await);
    }
    let extra = format!(r#","target_ms":2000,"samples_ms":{v3:.0?}"#);
    report("idb_insert_10k_batch_median", median(v3), "ms", &extra);
    let extra = format!(r#","samples_ms":{v2:.0?}"#);
    report("idb_insert_10k_v2_layout_median", median(v2), "ms", &extra);

    // One message per transaction, as a message received live is stored: a segment read and
    // rewritten each time in v3, one `add` in v2.
    let singles = &messages[..1_000];
    let store = IdbStore::open("bench-insert-single").await.unwrap();
    let ms = insert(&store, singles, 1).await;
    report("idb_insert_1k_one_transaction_each", ms, "ms", "");
    let db = v2_layout::open_v2("bench-insert-single-v2").await;
    let start = now_ms();
    for message in singles {
        v2_layout::add_messages(&db, std::slice::from_ref(message)).await;
    }
    report("idb_insert_1k_one_transaction_each_v2_layout", now_ms() - start, "ms", "");
    db.close();
}

#[wasm_bindgen_test]
async fn upgrade_100k_from_v2() {
    // What a device with a long history pays once, on the first start of this version.
    let name = "bench-upgrade-100k";
    let db = v2_layout::open_v2(name).await;
    for part in 0..10u64 {
        v2_layout::add_messages(&db, &messages(3, part * 10_000, 10_000)).await;
    }
    db.close();
    let start = now_ms();
    let store = IdbStore::open(name).await.unwrap();
    let ms = now_ms() - start;
    let page = store.page(&ConversationId([3; 16]), None, PAGE).await.unwrap();
    assert_eq!(page[0].envelope.content().time.0, 1_000 + 99_999);
    report("idb_upgrade_v2_to_v3_100k", ms, "ms", "");
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
