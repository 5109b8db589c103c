//! The HTTP surface: the API under `/api`, the PWA everywhere else, security headers on all.

use std::{path::PathBuf, sync::Arc};

use axum::{
    Json, Router,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Serialize;

use crate::{api, db::Db, error::ApiError, static_files};

/// What every handler can reach.
#[derive(Clone, Debug)]
pub(crate) struct AppState {
    pub(crate) db: Db,
    pub(crate) dist: PathBuf,
    pub(crate) signing: Arc<api::Signing>,
    pub(crate) operator_token: Option<Arc<str>>,
}

/// The app may run wasm and talk to relays over WebSocket; nothing inline, nothing from elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' ws: wss:; \
     worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/health", get(health))
        .merge(api::routes(&state))
        .route("/api/{*rest}", axum::routing::any(api_not_found))
        .fallback(static_files::serve)
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
}

/// Ok when the database answers; the app's connection banner polls this.
async fn health(State(state): State<AppState>) -> Response {
    let database = state.db.with(|connection| Ok(connection.query_row("SELECT 1", [], |row| row.get::<_, i64>(0))?)).await;
    let (status, body) = match database {
        Ok(_) => (StatusCode::OK, Health { status: "ok" }),
        Err(error) => {
            tracing::error!(%error, "health check: database unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, Health { status: "database unavailable" })
        }
    };
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn api_not_found() -> ApiError {
    ApiError::NotFound("no such API endpoint".into())
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}
