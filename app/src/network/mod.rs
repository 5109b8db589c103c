//! This device on the peer-to-peer network: a libp2p swarm whose identity is the device key,
//! reachable through a relay at a `…/p2p-circuit/webrtc` address, and reaching the peers it is
//! asked to over direct WebRTC links (relayed until the direct link is up).
//!
//! Components reach it through [`Network`], provided as context: signals to show, and requests.

pub mod check;
pub mod links;
mod node;
mod offline;
pub mod relay_cache;
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

/// Why an out-of-band step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfflineError {
    /// The swarm did not take the request.
    #[error(transparent)]
    Network(#[from] ConnectError),
    /// The text, the id or the link failed.
    #[error("{0}")]
    Failed(String),
}

fn parse_peer(text: &str) -> Result<PeerId, OfflineError> {
    text.trim().parse().map_err(|_| OfflineError::Failed(format!("not a device id: {}", text.trim())))
}

/// The network as components see it. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Network {
    me: ReadSignal<Option<PeerId>>,
    status: ReadSignal<NetworkStatus>,
    links: ReadSignal<Vec<PeerLink>>,
    commands: mpsc::Sender<node::Command>,
}

impl Network {
    /// This device's id on the network, once the identity is loaded.
    pub fn me(&self) -> ReadSignal<Option<PeerId>> {
        self.me
    }

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

    /// Makes an out-of-band invitation: text for the other device to answer. Replaces any
    /// earlier invitation of this device.
    pub async fn invite(&self) -> Result<String, OfflineError> {
        let (reply, text) = oneshot::channel();
        self.send(node::Command::Invite { reply })?;
        text.await.map_err(|_| ConnectError::NotRunning)?.map_err(OfflineError::Failed)
    }

    /// Answers the invitation `text` of the device `from` (its id); returns the answer's text for
    /// that device. The link comes up once that device has it.
    pub async fn answer_invitation(&self, text: &str, from: &str) -> Result<String, OfflineError> {
        let from = parse_peer(from)?;
        let (reply, answer) = oneshot::channel();
        self.send(node::Command::Answer { text: text.to_owned(), from, reply })?;
        answer.await.map_err(|_| ConnectError::NotRunning)?.map_err(OfflineError::Failed)
    }

    /// Completes this device's invitation with the answer `text` of the device `from`; returns
    /// once the link is up.
    pub async fn accept_answer(&self, text: &str, from: &str) -> Result<(), OfflineError> {
        let from = parse_peer(from)?;
        let (reply, done) = oneshot::channel();
        self.send(node::Command::Accept { text: text.to_owned(), from, reply })?;
        done.await.map_err(|_| ConnectError::NotRunning)?.map_err(OfflineError::Failed)
    }

    fn send(&self, command: node::Command) -> Result<(), ConnectError> {
        self.commands.clone().try_send(command).map_err(|_| ConnectError::NotRunning)
    }
}

/// Starts the swarm in the background, once the device key is available.
pub fn start() -> Network {
    let (me, set_me) = signal(None);
    let (status, set_status) = signal(NetworkStatus::Starting);
    let (links, set_links) = signal(Vec::new());
    let (commands, requests) = mpsc::channel(MAX_COMMANDS);
    leptos::task::spawn_local(async move {
        if let Err(problem) = node::run(requests, set_status, set_links, set_me).await {
            set_status.set(NetworkStatus::Failed(problem));
        }
    });
    Network { me, status, links, commands }
}
