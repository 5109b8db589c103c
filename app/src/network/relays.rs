//! Which relays this device can use: the platform lists them at `GET /api/relay` (its own relay,
//! then relays that may outlive it), with the ICE servers its WebRTC links use.

use browser_webrtc::ice::{self, IceServer, IceServerError};
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
/// Longest directory document read (served or cached), in bytes.
pub const MAX_DIRECTORY_LEN: usize = 16 * 1024;

/// A relay this swarm can reach, by one address ending in `/p2p/<relay>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    /// The relay's peer id.
    pub peer: PeerId,
    /// Where to reach it.
    pub address: Multiaddr,
}

/// What the platform's directory says: the relays to use and the ICE servers for WebRTC links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    /// One address per relay, in the order listed.
    pub relays: Vec<Relay>,
    /// STUN and TURN servers (none on a local network).
    pub ice_servers: Vec<IceServer>,
}

/// Why no relay list was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    /// The platform did not answer.
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// Longer than [`MAX_DIRECTORY_LEN`].
    #[error("relay directory of {0} characters, more than {MAX_DIRECTORY_LEN}")]
    TooLarge(usize),
    /// The answer was not the JSON document `GET /api/relay` describes.
    #[error("malformed relay directory: {0}")]
    Malformed(String),
}

/// Reads the platform's relay directory: its own relay's addresses, then the other relays', and
/// the ICE servers.
pub async fn fetch_directory() -> Result<Directory, DirectoryError> {
    let response = platform_client::get(RELAY_PATH, RELAY_TIMEOUT_MS).await?;
    let text = response.text().map_err(|e| DirectoryError::Malformed(js_message(&e)))?;
    let text = JsFuture::from(text).await.map_err(|e| DirectoryError::Malformed(js_message(&e)))?;
    parse_directory(&text.as_string().unwrap_or_default())
}

/// Reads a directory document (as served at [`RELAY_PATH`], or as [`Directory::to_json`] wrote
/// it): `addresses` and `other_relays`, lists of multiaddr strings, and `ice_servers`, a list of
/// `{"urls", "username"?, "credential"?}`. At most [`MAX_RELAY_ADDRESSES`] addresses are read.
pub fn parse_directory(text: &str) -> Result<Directory, DirectoryError> {
    if text.len() > MAX_DIRECTORY_LEN {
        return Err(DirectoryError::TooLarge(text.len()));
    }
    let malformed = |e: JsValue| DirectoryError::Malformed(js_message(&e));
    let body = js_sys::JSON::parse(text).map_err(malformed)?;
    let mut addresses = Vec::new();
    for field in ["addresses", "other_relays"] {
        let list = list_field(&body, field)?;
        addresses.extend(list.iter().take(MAX_RELAY_ADDRESSES).filter_map(|value| value.as_string()));
    }
    addresses.truncate(MAX_RELAY_ADDRESSES);
    let entries = list_field(&body, "ice_servers")?;
    if entries.length() as usize > ice::MAX_ICE_SERVERS {
        return Err(DirectoryError::Malformed(IceServerError::TooMany.to_string()));
    }
    let ice_servers = entries.iter().map(|entry| ice_server(&entry)).collect::<Result<Vec<_>, _>>()?;
    Ok(Directory { relays: usable_relays(addresses.iter().map(String::as_str)), ice_servers })
}

impl Directory {
    /// The directory as a document [`parse_directory`] reads back.
    pub fn to_json(&self) -> String {
        let servers = self.ice_servers.iter().map(|server| {
            let entry = js_sys::Object::new();
            let fields = [("urls", Some(server.url())), ("username", server.username()), ("credential", server.credential())];
            for (name, value) in fields {
                if let Some(value) = value {
                    let _ = js_sys::Reflect::set(&entry, &JsValue::from_str(name), &JsValue::from_str(value));
                }
            }
            JsValue::from(entry)
        });
        let body = js_sys::Object::new();
        let fields: [(&str, JsValue); 3] = [
            ("addresses", self.relays.iter().map(|r| JsValue::from_str(&r.address.to_string())).collect::<js_sys::Array>().into()),
            ("other_relays", js_sys::Array::new().into()),
            ("ice_servers", servers.collect::<js_sys::Array>().into()),
        ];
        for (name, value) in fields {
            let _ = js_sys::Reflect::set(&body, &JsValue::from_str(name), &value);
        }
        js_sys::JSON::stringify(&body).map(String::from).unwrap_or_default()
    }
}

fn list_field(body: &JsValue, field: &str) -> Result<js_sys::Array, DirectoryError> {
    let malformed = || DirectoryError::Malformed(format!("`{field}` is not a list"));
    if !body.is_object() {
        return Err(DirectoryError::Malformed("not a JSON object".to_owned()));
    }
    let list = js_sys::Reflect::get(body, &JsValue::from_str(field)).map_err(|_| malformed())?;
    if !js_sys::Array::is_array(&list) {
        return Err(malformed());
    }
    Ok(js_sys::Array::from(&list))
}

/// One `ice_servers` entry, checked as the platform checked it.
fn ice_server(entry: &JsValue) -> Result<IceServer, DirectoryError> {
    let text = |name: &str| -> Result<Option<String>, DirectoryError> {
        let value = js_sys::Reflect::get(entry, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED);
        match value.as_string() {
            Some(text) => Ok(Some(text)),
            None if value.is_undefined() => Ok(None),
            None => Err(DirectoryError::Malformed(format!("ICE server `{name}` is not a string"))),
        }
    };
    if !entry.is_object() {
        return Err(DirectoryError::Malformed("an ICE server is not an object".to_owned()));
    }
    let url = text("urls")?.ok_or_else(|| DirectoryError::Malformed("an ICE server has no `urls`".to_owned()))?;
    let (username, credential) = (text("username")?, text("credential")?);
    IceServer::new(&url, username.as_deref(), credential.as_deref())
        .map_err(|e| DirectoryError::Malformed(e.to_string()))
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
