//! `GET /api/relay`: where the app finds the platform's relay (and other relays it should know
//! for when the platform is down), and the ICE servers its WebRTC links use.

use std::sync::Arc;

use axum::{
    Extension, Json, Router,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use browser_webrtc::ice::IceServer;
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
    /// STUN and TURN servers from the configuration (`--ice-server`), checked and bounded.
    pub(crate) ice_servers: Arc<[IceServer]>,
}

#[derive(Serialize)]
struct RelayInfo<'a> {
    peer_id: String,
    addresses: Vec<String>,
    other_relays: Vec<String>,
    ice_servers: Vec<IceServerInfo<'a>>,
}

/// One ICE server, shaped as the browser's `RTCIceServer` dictionary (one URL each).
#[derive(Serialize)]
struct IceServerInfo<'a> {
    urls: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential: Option<&'a str>,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/api/relay", get(relay))
}

async fn relay(Extension(directory): Extension<RelayDirectory>) -> Response {
    let info = RelayInfo {
        peer_id: directory.own.peer_id().to_string(),
        addresses: directory.own.current().iter().map(ToString::to_string).collect(),
        other_relays: directory.others.iter().map(ToString::to_string).collect(),
        ice_servers: directory
            .ice_servers
            .iter()
            .map(|s| IceServerInfo { urls: s.url(), username: s.username(), credential: s.credential() })
            .collect(),
    };
    let mut response = Json(info).into_response();
    // Addresses change only when the platform restarts with other listen options.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
