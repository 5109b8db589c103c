//! The device's libp2p swarm, put together: which transports, in which order, and which
//! protocols.

use std::time::Duration;

use browser_webrtc::web::{Handle, SignalingConfig, Transport as WebRtcTransport};
use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::Transport as _;
use libp2p::core::upgrade::Version;
use libp2p::identity::Keypair;
use libp2p::swarm::{NetworkBehaviour, Swarm};
use libp2p::{noise, ping, relay, websocket_websys, yamux};

/// A connection without open streams stays up this long: a direct link must survive the quiet
/// moments of a conversation (ping does not keep connections open).
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(3_600);

/// The protocols this device speaks.
#[derive(NetworkBehaviour)]
pub(super) struct Behaviour {
    pub(super) relay: relay::client::Behaviour,
    pub(super) stream: libp2p_stream::Behaviour,
    pub(super) ping: ping::Behaviour,
}

/// A swarm with this device's identity. Transports, first match wins:
/// 1. `/webrtc` (browser-webrtc): `…/p2p-circuit/webrtc` addresses; signaling runs over
///    libp2p-stream on the relayed connection. It must come before the relay client, which takes
///    any `/p2p-circuit` address and would dial a plain relayed connection instead.
/// 2. the relay client: `…/p2p-circuit` addresses, Noise and yamux end to end through the relay.
/// 3. WebSocket, to reach relays; Noise and yamux.
///
/// The handle gives the swarm links set up out of band (listen on `/webrtc` to take them).
pub(super) fn build(keypair: &Keypair, signaling: SignalingConfig) -> Result<(Swarm<Behaviour>, Handle), noise::Error> {
    let peer = keypair.public().to_peer_id();
    let (relay_transport, relay) = relay::client::new(peer);
    let stream = libp2p_stream::Behaviour::new();
    let (webrtc, handover) = WebRtcTransport::with_signaling(stream.new_control(), signaling);
    let authenticated = relay_transport
        .or_transport(websocket_websys::Transport::default())
        .upgrade(Version::V1Lazy)
        .authenticate(noise::Config::new(keypair)?)
        .multiplex(yamux::Config::default())
        .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)));
    let transport = webrtc
        .map(|(peer, connection), _| (peer, StreamMuxerBox::new(connection)))
        .or_transport(authenticated)
        .map(|either, _| either.into_inner())
        .boxed();
    let behaviour = Behaviour {
        relay,
        stream,
        ping: ping::Behaviour::default(),
    };
    let config = libp2p::swarm::Config::with_wasm_executor().with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT);
    Ok((Swarm::new(transport, behaviour, peer, config), handover))
}
