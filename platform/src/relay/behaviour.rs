//! What the relay node speaks: circuit relay v2 (server side), identify and ping.

use libp2p::{identify, identity::PublicKey, ping, relay, swarm::NetworkBehaviour};

use super::limits;

/// The identify protocol version the relay announces.
pub const PROTOCOL_VERSION: &str = "/om/relay/1";

/// The relay node's protocols.
#[derive(NetworkBehaviour)]
pub(super) struct Behaviour {
    /// Reservations and circuits, with [`limits`].
    pub(super) relay: relay::Behaviour,
    /// Tells a client its observed address and the relay's protocols.
    pub(super) identify: identify::Behaviour,
    /// Answers pings (clients measure round trips and notice dead links).
    pub(super) ping: ping::Behaviour,
}

impl Behaviour {
    pub(super) fn new(public: PublicKey) -> Self {
        let peer_id = public.to_peer_id();
        Self {
            relay: relay::Behaviour::new(peer_id, limits::relay_config()),
            identify: identify::Behaviour::new(
                identify::Config::new(PROTOCOL_VERSION.to_owned(), public)
                    .with_agent_version(format!("om-platform/{}", env!("CARGO_PKG_VERSION"))),
            ),
            ping: ping::Behaviour::default(),
        }
    }
}
