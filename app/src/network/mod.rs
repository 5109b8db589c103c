//! This device on the peer-to-peer network: a libp2p swarm whose identity is the device key,
//! reachable through a relay at a `…/p2p-circuit/webrtc` address, and reaching the peers it is
//! asked to over direct WebRTC links (relayed until the direct link is up).
//!
//! Components reach it through [`Network`], provided as context: signals to show, and requests.

pub mod check;
pub mod links;
mod node;
pub mod relays;
mod swarm;

use futures::channel::{mpsc, oneshot};
use leptos::prelude::*;
use libp2p::{Multiaddr, PeerId};

pub use check::CheckReport;
pub use links::{LinkKind, PeerLink};

/// Most requests waiting for the swarm; the UI sends them one click at a time.
const MAX_COMMANDS: usize = 16;

/// Whether other devices can reach this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkStatus {
    /// Loading the identity and building the swarm.
    Starting,
    /// Reaching a relay and reserving a slot on it.
    Reserving,
    /// Reachable at this address (text to share with another device).
    Reachable(String),
    /// No relay: other devices cannot reach this one; direct links already up keep working.
    NoRelay(String),
    /// The swarm could not start.
    Failed(String),
}

impl NetworkStatus {
    /// A stable name for markup and tests.
    pub fn as_str(&self) -> &'static str {
        match self {
            NetworkStatus::Starting => "starting",
            NetworkStatus::Reserving => "reserving",
            NetworkStatus::Reachable(_) => "reachable",
            NetworkStatus::NoRelay(_) => "no-relay",
            NetworkStatus::Failed(_) => "failed",
        }
    }
}

/// Why a connection request was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The text is not an address of another device (`…/p2p-circuit/webrtc/p2p/<peer>`).
    #[error("not a device address: {0}")]
    NotAnAddress(String),
    /// The swarm is not running or is busy.
    #[error("the network is not running")]
    NotRunning,
}

/// The network as components see it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Network {
    status: ReadSignal<NetworkStatus>,
    links: ReadSignal<Vec<PeerLink>>,
    commands: mpsc::Sender<node::Command>,
}

impl Network {
    /// Whether other devices can reach this one.
    pub fn status(&self) -> ReadSignal<NetworkStatus> {
        self.status
    }

    /// The peers this device knows, and how each is reached.
    pub fn links(&self) -> ReadSignal<Vec<PeerLink>> {
        self.links
    }

    /// Connects to the device at `address` (as another device shows it): through its relay
    /// first, then directly.
    pub fn connect(&self, address: &str) -> Result<(), ConnectError> {
        let address: Multiaddr =
            address.trim().parse().map_err(|e: libp2p::multiaddr::Error| ConnectError::NotAnAddress(e.to_string()))?;
        let parsed = browser_webrtc::addr::parse_dial_addr(&address)
            .map_err(|e| ConnectError::NotAnAddress(e.to_string()))?;
        self.send(node::Command::Connect { address, circuit: parsed.circuit, relay: parsed.relay, peer: parsed.target })
    }

    /// Runs a connection check of `count` requests with `peer`.
    pub async fn check(&self, peer: PeerId, count: u32) -> Result<CheckReport, ConnectError> {
        let (reply, report) = oneshot::channel();
        self.send(node::Command::Check { peer, count, reply })?;
        report.await.map_err(|_| ConnectError::NotRunning)
    }

    fn send(&self, command: node::Command) -> Result<(), ConnectError> {
        self.commands.clone().try_send(command).map_err(|_| ConnectError::NotRunning)
    }
}

/// Starts the swarm in the background, once the device key is available.
pub fn start() -> Network {
    let (status, set_status) = signal(NetworkStatus::Starting);
    let (links, set_links) = signal(Vec::new());
    let (commands, requests) = mpsc::channel(MAX_COMMANDS);
    leptos::task::spawn_local(async move {
        if let Err(problem) = node::run(requests, set_status, set_links).await {
            set_status.set(NetworkStatus::Failed(problem));
        }
    });
    Network { status, links, commands }
}
