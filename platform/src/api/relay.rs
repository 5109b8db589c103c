//! `GET /api/relay`: where the app finds the platform's relay (and other relays it should know
//! for when the platform is down).

use std::sync::Arc;

use axum::{
    Extension, Json, Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use libp2p::Multiaddr;
use serde::Serialize;

use crate::{http::AppState, relay::RelayAddresses};

/// The relays the platform tells the app about; added to the router as an extension by
/// [`crate::run`].
#[derive(Debug, Clone)]
pub(crate) struct RelayDirectory {
    /// The platform's own relay.
    pub(crate) own: RelayAddresses,
    /// Other relays from the configuration (`--other-relay`).
    pub(crate) others: Arc<[Multiaddr]>,
}

#[derive(Serialize)]
struct RelayInfo {
    peer_id: String,
    addresses: Vec<String>,
    other_relays: Vec<String>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/api/relay", get(relay))
}

async fn relay(Extension(directory): Extension<RelayDirectory>) -> Response {
    let info = RelayInfo {
        peer_id: directory.own.peer_id().to_string(),
        addresses: directory.own.current().iter().map(ToString::to_string).collect(),
        other_relays: directory.others.iter().map(ToString::to_string).collect(),
    };
    let mut response = Json(info).into_response();
    // Addresses change only when the platform restarts with other listen options.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
