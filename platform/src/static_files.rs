//! Serving the built PWA: correct types, caching by whether a name carries a content hash,
//! and `index.html` for the app's client-side routes.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, Uri, header},
    response::{IntoResponse, Response},
};
use tower::ServiceExt as _;
use tower_http::services::ServeDir;

use crate::http::AppState;

/// Files whose name changes with their content never change: cache them for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else (index.html, the service worker, the manifest, icons) is revalidated on
/// every use, so a new deployment is seen at once.
const REVALIDATE: &str = "no-cache";

pub(crate) async fn serve(State(state): State<AppState>, mut request: Request) -> Response {
    let file_name = request.uri().path().rsplit('/').next().unwrap_or_default().to_owned();
    // A path without an extension is one of the app's routes (/chats, /wallet/123): the app
    // itself decides what to show.
    if !file_name.contains('.') {
        *request.uri_mut() = Uri::from_static("/index.html");
    }
    let mut response = match ServeDir::new(&state.dist).oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(infallible) => match infallible {},
    };
    let cache_control = if is_content_hashed(&file_name) { IMMUTABLE } else { REVALIDATE };
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    response
}

/// True for names like `app-0123456789abcdef.js` or `app-0123456789abcdef_bg.wasm`: a stem
/// ending in `-` and 16 hex digits (Trunk's content hash; `cargo xtask` uses the same form).
fn is_content_hashed(file_name: &str) -> bool {
    let stem = file_name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    match stem.rsplit_once('-') {
        Some((_, hash)) => hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_content_hashed;

    #[test]
    fn recognises_trunk_hashed_names() {
        assert!(is_content_hashed("app-0123456789abcdef.js"));
        assert!(is_content_hashed("app-0123456789abcdef_bg.wasm"));
        assert!(is_content_hashed("style-fedcba9876543210.css"));
        assert!(!is_content_hashed("index.html"));
        assert!(!is_content_hashed("sw.js"));
        assert!(!is_content_hashed("icon-192.png"));
        assert!(!is_content_hashed("app-0123456789abcdeg.js"));
    }
}
