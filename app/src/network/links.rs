//! How this device reaches each peer: over a direct WebRTC link, through a relay, or not at all,
//! from the swarm's connections.

use libp2p::core::ConnectedPoint;
use libp2p::multiaddr::{Multiaddr, Protocol};
use libp2p::swarm::ConnectionId;
use libp2p::PeerId;

/// Most peers remembered; beyond, the oldest unreachable one is forgotten.
pub const MAX_KNOWN_PEERS: usize = 64;

/// How a peer is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// A direct WebRTC connection: works without any relay or server.
    Direct,
    /// Only through a relay.
    Relayed,
    /// No connection.
    None,
}

impl LinkKind {
    /// A stable name for markup and tests.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Direct => "direct",
            LinkKind::Relayed => "relayed",
            LinkKind::None => "none",
        }
    }

    /// The path a connection takes. A `/webrtc` connection is direct: its remote address is the
    /// dialed `…/p2p-circuit/webrtc/p2p/<peer>` on the dialing side, and its local address
    /// `/webrtc` on the answering side, so `/webrtc` decides before `/p2p-circuit`. An inbound
    /// relayed connection shows its circuit only in its local address.
    pub fn of_endpoint(endpoint: &ConnectedPoint) -> LinkKind {
        let webrtc = |address: &Multiaddr| address.iter().any(|p| p == Protocol::WebRTC);
        let direct = match endpoint {
            ConnectedPoint::Dialer { address, .. } => webrtc(address),
            ConnectedPoint::Listener { local_addr, send_back_addr } => webrtc(local_addr) || webrtc(send_back_addr),
        };
        if direct || !endpoint.is_relayed() { LinkKind::Direct } else { LinkKind::Relayed }
    }
}

/// A peer as the UI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerLink {
    /// The peer.
    pub peer: PeerId,
    /// The best path to it right now.
    pub kind: LinkKind,
    /// Why the last attempt to reach it failed, if it did and no connection came since.
    pub problem: Option<String>,
}

/// The swarm's connections to peers (relays excluded by the caller), and peers asked for.
#[derive(Debug, Default)]
pub struct Links {
    connections: Vec<(ConnectionId, PeerId, LinkKind)>,
    /// Peers in the order first seen, with the last failure.
    known: Vec<(PeerId, Option<String>)>,
}

impl Links {
    /// Remembers `peer`, forgetting its last problem: a connection is being attempted or came up.
    pub fn remember(&mut self, peer: PeerId) {
        if let Some((_, problem)) = self.known.iter_mut().find(|(p, _)| *p == peer) {
            *problem = None;
            return;
        }
        if self.known.len() >= MAX_KNOWN_PEERS
            && let Some(index) = self.known.iter().position(|(p, _)| self.kind(p) == LinkKind::None)
        {
            self.known.remove(index);
        }
        self.known.push((peer, None));
    }

    /// A connection came up; returns its path.
    pub fn established(&mut self, id: ConnectionId, peer: PeerId, endpoint: &ConnectedPoint) -> LinkKind {
        self.remember(peer);
        let kind = LinkKind::of_endpoint(endpoint);
        self.connections.push((id, peer, kind));
        kind
    }

    /// A connection closed.
    pub fn closed(&mut self, id: ConnectionId) {
        self.connections.retain(|(c, _, _)| *c != id);
    }

    /// An attempt to reach `peer` failed.
    pub fn failed(&mut self, peer: PeerId, problem: String) {
        self.remember(peer);
        if let Some((_, slot)) = self.known.iter_mut().find(|(p, _)| *p == peer) {
            *slot = Some(problem);
        }
    }

    /// The best path to `peer`.
    pub fn kind(&self, peer: &PeerId) -> LinkKind {
        let paths = self.connections.iter().filter(|(_, p, _)| p == peer).map(|(_, _, k)| *k);
        paths.fold(LinkKind::None, |best, kind| match (best, kind) {
            (LinkKind::Direct, _) | (_, LinkKind::Direct) => LinkKind::Direct,
            _ => LinkKind::Relayed,
        })
    }

    /// The relayed connections to `peer`.
    pub fn relayed(&self, peer: &PeerId) -> Vec<ConnectionId> {
        let relayed = self.connections.iter().filter(|(_, p, k)| p == peer && *k == LinkKind::Relayed);
        relayed.map(|(c, _, _)| *c).collect()
    }

    /// Every known peer with its path, in the order first seen.
    pub fn summary(&self) -> Vec<PeerLink> {
        let links = self.known.iter().map(|(peer, problem)| PeerLink {
            peer: *peer,
            kind: self.kind(peer),
            problem: problem.clone(),
        });
        links.collect()
    }
}
