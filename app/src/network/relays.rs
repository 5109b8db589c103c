//! Which relays this device can use: the platform lists them at `GET /api/relay` (its own relay,
//! then relays that may outlive it).

use libp2p::multiaddr::{Multiaddr, Protocol};
use libp2p::PeerId;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use crate::platform_client::{self, PlatformError, js_message};

/// The platform's relay directory, on the origin that served the app.
pub const RELAY_PATH: &str = "/api/relay";
/// A directory that takes longer than this counts as unreachable.
const RELAY_TIMEOUT_MS: u32 = 5_000;
/// Most addresses read from the directory; the rest are ignored.
pub const MAX_RELAY_ADDRESSES: usize = 32;

/// A relay this swarm can reach, by one address ending in `/p2p/<relay>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    /// The relay's peer id.
    pub peer: PeerId,
    /// Where to reach it.
    pub address: Multiaddr,
}

/// Why no relay list was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// The platform did not answer.
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// The answer was not the JSON document `GET /api/relay` describes.
    #[error("malformed relay directory: {0}")]
    Malformed(String),
}

/// Reads the platform's relay directory: its own relay's addresses, then the other relays'.
pub async fn fetch_relays() -> Result<Vec<Relay>, DirectoryError> {
    let response = platform_client::get(RELAY_PATH, RELAY_TIMEOUT_MS).await?;
    let body = response.json().map_err(|e| DirectoryError::Malformed(js_message(&e)))?;
    let body = JsFuture::from(body).await.map_err(|e| DirectoryError::Malformed(js_message(&e)))?;
    let mut addresses = Vec::new();
    for field in ["addresses", "other_relays"] {
        let list = js_sys::Reflect::get(&body, &JsValue::from_str(field))
            .map_err(|e| DirectoryError::Malformed(js_message(&e)))?;
        if !js_sys::Array::is_array(&list) {
            return Err(DirectoryError::Malformed(format!("`{field}` is not a list")));
        }
        let list = js_sys::Array::from(&list);
        addresses.extend(list.iter().take(MAX_RELAY_ADDRESSES).filter_map(|value| value.as_string()));
    }
    addresses.truncate(MAX_RELAY_ADDRESSES);
    Ok(usable_relays(addresses.iter().map(String::as_str)))
}

/// One address per relay, the first this swarm can dial (WebSocket, ending in `/p2p/<relay>`),
/// in the order given; unparsable and other addresses are skipped.
pub fn usable_relays<'a>(addresses: impl IntoIterator<Item = &'a str>) -> Vec<Relay> {
    let mut relays: Vec<Relay> = Vec::new();
    for address in addresses {
        let Ok(address) = address.parse::<Multiaddr>() else { continue };
        let websocket = address.iter().any(|p| matches!(p, Protocol::Ws(_) | Protocol::Wss(_)));
        let circuit = address.iter().any(|p| p == Protocol::P2pCircuit);
        let Some(Protocol::P2p(peer)) = address.iter().last() else { continue };
        if websocket && !circuit && relays.iter().all(|r| r.peer != peer) {
            relays.push(Relay { peer, address });
        }
    }
    relays
}
