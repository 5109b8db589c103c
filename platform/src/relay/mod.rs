//! The libp2p relay node: a circuit relay v2 server, with identify and ping, listening on
//! WebSocket and WebRTC-direct.
//!
//! Browsers reserve a slot on it and reach each other through `<relay>/p2p-circuit/p2p/<peer>`
//! until they have a direct WebRTC link (or for good, when they cannot get one). It runs inside
//! the platform process, and on its own as `platform relay`, so a second relay can outlive the
//! platform.
//!
//! Its identity (an Ed25519 key: the PeerId) and the WebRTC certificate (its hash is the
//! `/certhash` of the WebRTC-direct address) live under the data directory, in
//! [`IDENTITY_FILE`] and [`CERTIFICATE_FILE`] (mode 0600), so the addresses the app has cached
//! stay valid across restarts. A file that exists but does not load stops the start with a
//! [`RelayError`] naming it; it is never replaced.
//!
//! Stdout contract: [`Relay::serve`] prints one line `relay listening on <multiaddr>` (see
//! [`RELAY_LISTENING`]) per listen address, each ending in `/p2p/<peer id>`.

mod addresses;
mod announce;
mod behaviour;
mod certificate;
mod error;
mod identity;
pub mod limits;
mod listen;
mod node;
mod transport;

pub use announce::RELAY_LISTENING;
pub use behaviour::PROTOCOL_VERSION;
pub use error::RelayError;
pub use addresses::RelayAddresses;
pub use listen::Listen;
pub use node::{CERTIFICATE_FILE, IDENTITY_FILE, Relay};
