//! The relay's addresses as the HTTP API reads them.

use libp2p::{Multiaddr, PeerId};
use tokio::sync::watch;

/// The relay's PeerId and its current addresses (each ending in `/p2p/<peer id>`), kept up to
/// date while the relay serves. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RelayAddresses {
    peer_id: PeerId,
    current: watch::Receiver<Vec<Multiaddr>>,
}

impl RelayAddresses {
    pub(super) fn new(peer_id: PeerId, current: watch::Receiver<Vec<Multiaddr>>) -> Self {
        Self { peer_id, current }
    }

    /// The relay's PeerId.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Every address the relay listens on now, WebSocket ones first.
    pub fn current(&self) -> Vec<Multiaddr> {
        self.current.borrow().clone()
    }
}
