//! Asking the browser to keep this origin's storage under pressure.

use wasm_bindgen_futures::JsFuture;

/// Requests persistent storage (`navigator.storage.persist()`); returns whether the browser
/// granted it. Without it, the browser may evict the device's data when disk runs low.
pub async fn request_persistence() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let Ok(promise) = window.navigator().storage().persist() else {
        return false;
    };
    JsFuture::from(promise)
        .await
        .ok()
        .and_then(|granted| granted.as_bool())
        .unwrap_or(false)
}
