//! The relay's swarm: WebSocket (over TCP, Noise, Yamux) and WebRTC-direct transports.
//!
//! No DNS and no plain TCP: the relay only accepts connections (a circuit's destination is
//! already connected to it), and browsers reach it over WebSocket or WebRTC-direct.

use libp2p::{
    Swarm, Transport as _,
    core::upgrade::Version,
    identity::Keypair,
    noise, tcp, websocket, yamux,
};
use libp2p_webrtc::tokio::Certificate;

use super::{RelayError, behaviour::Behaviour};

/// Builds the swarm with this identity and WebRTC certificate.
pub(super) fn build(keypair: Keypair, certificate: Certificate) -> Result<Swarm<Behaviour>, RelayError> {
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_other_transport(|key| libp2p_webrtc::tokio::Transport::new(key.clone(), certificate))
        .map_err(|error| RelayError::Transport(error.to_string()))?
        .with_other_transport(|key| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
            let tcp = tcp::tokio::Transport::new(tcp::Config::default());
            Ok(websocket::Config::new(tcp)
                .upgrade(Version::V1Lazy)
                .authenticate(noise::Config::new(key)?)
                .multiplex(yamux::Config::default()))
        })
        .map_err(|error| RelayError::Transport(error.to_string()))?
        .with_behaviour(|key| Behaviour::new(key.public()))
        .map_err(|error| RelayError::Transport(error.to_string()))?
        .build();
    Ok(swarm)
}
