//! Talking to the central platform over HTTP.

use wasm_bindgen::JsCast as _;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestCache, RequestInit, Response};

/// The platform's health endpoint, on the origin that served the app.
pub const HEALTH_PATH: &str = "/api/health";
/// A health check that takes longer than this counts as unreachable.
pub const HEALTH_TIMEOUT_MS: u32 = 1_500;

/// Why the platform did not answer as healthy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// No answer: network down, server stopped, or timed out.
    #[error("platform unreachable: {0}")]
    Unreachable(String),
    /// An answer, but not a success.
    #[error("platform answered HTTP {0}")]
    Status(u16),
    /// Not running in a browser window.
    #[error("no browser window")]
    NoWindow,
}

/// Asks `path` whether the platform is up, never waiting longer than `timeout_ms`.
pub async fn check_health(path: &str, timeout_ms: u32) -> Result<(), PlatformError> {
    get(path, timeout_ms).await.map(drop)
}

/// GETs `path`, bypassing the HTTP cache, never waiting longer than `timeout_ms`; a non-success
/// status is an error.
pub async fn get(path: &str, timeout_ms: u32) -> Result<Response, PlatformError> {
    let window = web_sys::window().ok_or(PlatformError::NoWindow)?;
    let controller = AbortController::new().map_err(|e| PlatformError::Unreachable(js_message(&e)))?;
    let init = RequestInit::new();
    init.set_signal(Some(&controller.signal()));
    init.set_cache(RequestCache::NoStore);
    let response = window.fetch_with_str_and_init(path, &init);
    let _abort_on_timeout = gloo::timers::callback::Timeout::new(timeout_ms, move || controller.abort());
    let response = JsFuture::from(response).await.map_err(|e| PlatformError::Unreachable(js_message(&e)))?;
    let response: Response = response.dyn_into().map_err(|e| PlatformError::Unreachable(js_message(&e)))?;
    if response.ok() { Ok(response) } else { Err(PlatformError::Status(response.status())) }
}

/// The message of a JS exception, as an owned string.
pub fn js_message(value: &wasm_bindgen::JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|error| String::from(error.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| format!("{value:?}"))
}
