//! Serving the built PWA: correct types, caching by whether a name carries a content hash,
//! and `index.html` for the app's client-side routes.

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use sha2::{Digest as _, Sha256};
use tower::ServiceExt as _;
use tower_http::services::ServeDir;

use crate::http::AppState;

/// Files whose name changes with their content never change: cache them for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else (index.html, the service worker, the manifest, icons) is revalidated on
/// every use, so a new deployment is seen at once.
const REVALIDATE: &str = "no-cache";
/// The revalidated files are a few kilobytes; anything larger is not one of them.
const REVALIDATED_MAX_BYTES: usize = 4 << 20;

pub(crate) async fn serve(State(state): State<AppState>, mut request: Request) -> Response {
    let file_name = request.uri().path().rsplit('/').next().unwrap_or_default().to_owned();
    // A path without an extension is one of the app's routes (/chats, /wallet/123): the app
    // itself decides what to show.
    if !file_name.contains('.') {
        *request.uri_mut() = Uri::from_static("/index.html");
    }
    if is_content_hashed(&file_name) {
        let mut response = serve_file(&state, request).await;
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
        return response;
    }
    let if_none_match = request.headers_mut().remove(header::IF_NONE_MATCH);
    request.headers_mut().remove(header::IF_MODIFIED_SINCE);
    let mut response = with_content_tag(serve_file(&state, request).await, if_none_match.as_ref()).await;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    response
}

async fn serve_file(state: &AppState, request: Request) -> Response {
    match ServeDir::new(&state.dist).oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(infallible) => match infallible {},
    }
}

/// Revalidation by a hash of the content, never by modification time: a deployment written
/// within the same second as the last one, or copied with its build's older timestamps, must
/// still be seen as new, or open tabs would never be offered the update.
async fn with_content_tag(response: Response, if_none_match: Option<&HeaderValue>) -> Response {
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, REVALIDATED_MAX_BYTES).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(%error, "a revalidated file could not be read whole");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let tag = content_tag(&bytes);
    parts.headers.remove(header::LAST_MODIFIED);
    let unchanged = if_none_match.is_some_and(|candidates| tag_matches(candidates, &tag));
    parts.headers.insert(header::ETAG, tag);
    if unchanged {
        return not_modified(&parts.headers);
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn content_tag(bytes: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(bytes);
    HeaderValue::from_str(&format!("\"{digest:x}\"")).expect("quoted hex digits are a valid header value")
}

/// `If-None-Match: "a", "b"` or `*`; weak tags (`W/"a"`) compare equal too (RFC 9110 8.8.3.2).
fn tag_matches(candidates: &HeaderValue, tag: &HeaderValue) -> bool {
    let (Ok(candidates), Ok(tag)) = (candidates.to_str(), tag.to_str()) else { return false };
    candidates.split(',').map(str::trim).any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == tag)
}

fn not_modified(headers: &HeaderMap) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    for name in [header::ETAG, header::CONTENT_TYPE] {
        if let Some(value) = headers.get(&name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
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
