//! The page that `cargo xtask bench storage` loads and reloads in Chromium to time
//! open-to-first-page after a real reload (`bench/reload.mjs` drives it, `bench/reload.html`
//! calls these): the first load seeds a 100,000-message conversation; every reload after it
//! starts a new document, instantiates this wasm afresh, opens the database and reads the newest
//! page, and the page notes `performance.now()` (milliseconds since the reload's navigation
//! started) at each step.
#![cfg(target_family = "wasm")]

use chat::contract::fixtures::{key, message, stored};
use chat::{ConversationId, MessageState, MessageStore};
use store_indexeddb::IdbStore;
use wasm_bindgen::prelude::*;

/// The one conversation the harness fills.
const CONVERSATION: u8 = 4;
const PAGE: usize = 50;

fn error(what: impl std::fmt::Display) -> JsValue {
    JsValue::from_str(&what.to_string())
}

/// Fills database `name` with `count` messages of one conversation, 10,000 per transaction.
#[wasm_bindgen]
pub async fn seed(name: String, count: u32) -> Result<(), JsValue> {
    let store = IdbStore::open(&name).await.map_err(error)?;
    let author = key(1);
    let count = u64::from(count);
    for from in (0..count).step_by(10_000) {
        let batch: Vec<_> = (from..count.min(from + 10_000))
            .map(|n| stored(&message(&author, CONVERSATION, 1_000 + n, &[], &format!("message {n}")), MessageState::Delivered))
            .collect();
        store.insert_messages(&batch).await.map_err(error)?;
    }
    store.close();
    Ok(())
}

/// Opens database `name` and reads the newest page of the seeded conversation; returns the
/// time of its newest message, for the driver to check that the page is the right one.
#[wasm_bindgen]
pub async fn newest_page(name: String) -> Result<f64, JsValue> {
    let store = IdbStore::open(&name).await.map_err(error)?;
    let page = store.page(&ConversationId([CONVERSATION; 16]), None, PAGE).await.map_err(error)?;
    if page.len() != PAGE {
        return Err(error(format!("a page of {} messages", page.len())));
    }
    Ok(page[0].envelope.content().time.0 as f64)
}
