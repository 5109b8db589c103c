//! The task that owns the swarm: reserves a slot on the relays, listens for direct links there,
//! reaches peers on request, and publishes what it knows to the UI's signals.

use std::collections::HashMap;

use browser_webrtc::addr::listen_addr_for_circuit;
use browser_webrtc::web::{Handle, SignalingConfig};
use crypto::keys::DeviceKey;
use futures::channel::{mpsc, oneshot};
use futures::future::{Fuse, FusedFuture as _, LocalBoxFuture};
use futures::{FutureExt as _, StreamExt as _};
use leptos::prelude::*;
use libp2p::core::transport::ListenerId;
use libp2p::identity::Keypair;
use libp2p::multiaddr::{Multiaddr, Protocol};
use libp2p::swarm::{Swarm, SwarmEvent};
use libp2p::PeerId;
use rand_core::OsRng;
use store_indexeddb::IdbStore;

use super::links::{LinkKind, Links, MAX_KNOWN_PEERS};
use super::offline::{OfflineLinks, Outcome};
use super::swarm::{self, Behaviour};
use super::{NetworkStatus, check, relay_cache, relays};
use crate::device::DATABASE;

/// What the UI asks of the swarm.
#[derive(Debug)]
pub(super) enum Command {
    /// Reach `peer`: dial `circuit` (through `relay`), then `address` (`…/webrtc/p2p/<peer>`).
    Connect { address: Multiaddr, circuit: Multiaddr, relay: PeerId, peer: PeerId },
    /// Run a connection check with `peer`.
    Check { peer: PeerId, count: u32, reply: oneshot::Sender<check::CheckReport> },
    /// Make an out-of-band invitation.
    Invite { reply: oneshot::Sender<Outcome<String>> },
    /// Answer the out-of-band invitation `text` of `from`.
    Answer { text: String, from: PeerId, reply: oneshot::Sender<Outcome<String>> },
    /// Complete this device's invitation with the answer `text` of `from`.
    Accept { text: String, from: PeerId, reply: oneshot::Sender<Outcome<()>> },
}

/// Most out-of-band failures waiting to be shown.
const MAX_FAILURES: usize = 16;
/// Time between looks for a relay while none is reserved.
const RELAY_RETRY_MS: u32 = 5_000;

/// Where a look for relays found them.
enum Found {
    /// The platform's directory, now also the cached one.
    Platform(relays::Directory),
    /// The platform did not answer (why): the directory cached when it last did.
    Cache(relays::Directory, String),
    /// No directory (why).
    Nothing(String),
}

/// The relays the platform lists, after `delay_ms`; those it listed last if it does not answer.
fn find_relays(delay_ms: u32) -> Fuse<LocalBoxFuture<'static, Found>> {
    let found = async move {
        if delay_ms > 0 {
            gloo::timers::future::TimeoutFuture::new(delay_ms).await;
        }
        match relays::fetch_directory().await {
            Ok(directory) => {
                // Not kept only without storage: then a reload while the platform is down finds
                // no relay, as before caching.
                let _ = relay_cache::save(&directory);
                Found::Platform(directory)
            }
            Err(error) => match relay_cache::load() {
                Ok(Some(directory)) => Found::Cache(directory, error.to_string()),
                Ok(None) => Found::Nothing(error.to_string()),
                Err(cache) => Found::Nothing(format!("{error}; {cache}")),
            },
        }
    };
    found.boxed_local().fuse()
}

/// Loads the device key, builds the swarm and runs it until the app stops.
pub(super) async fn run(
    requests: mpsc::Receiver<Command>,
    set_status: WriteSignal<NetworkStatus>,
    set_links: WriteSignal<Vec<super::PeerLink>>,
    set_me: WriteSignal<Option<PeerId>>,
) -> Result<(), String> {
    let (key, keypair) = device_identity().await?;
    let (mut swarm, handover) = swarm::build(&keypair, SignalingConfig::default()).map_err(|e| e.to_string())?;
    set_me.set(Some(*swarm.local_peer_id()));
    // Out-of-band links reach the swarm through the handle, as connections to this listener.
    swarm.listen_on(Multiaddr::empty().with(Protocol::WebRTC)).map_err(|e| e.to_string())?;
    let (failed, failures) = mpsc::channel(MAX_FAILURES);
    let control = swarm.behaviour().stream.new_control();
    check::serve(control.clone().accept(check::PROTOCOL).map_err(|e| e.to_string())?);
    let mut node = Node {
        swarm,
        transport: handover.clone(),
        offline: OfflineLinks::new(key, handover, failed),
        control,
        relays: Vec::new(),
        unreachable: Vec::new(),
        their_relays: Vec::new(),
        webrtc_listeners: Vec::new(),
        links: Links::default(),
        pending: HashMap::new(),
        no_relay: String::new(),
        set_status,
        set_links,
    };
    node.drive(requests, failures).await;
    Ok(())
}

/// The device key, and the same key as the libp2p identity: one key per device (DESIGN.md).
async fn device_identity() -> Result<(DeviceKey, Keypair), String> {
    let store = IdbStore::open(DATABASE).await.map_err(|e| e.to_string())?;
    let key = wallet::load_or_create_identity(&store, &mut OsRng).await.map_err(|e| e.to_string())?;
    let keypair = Keypair::ed25519_from_bytes(key.to_seed()).map_err(|e| e.to_string())?;
    Ok((key, keypair))
}

struct Node {
    swarm: Swarm<Behaviour>,
    /// Sets the ICE servers of the `/webrtc` transport (and of out-of-band links, which read them
    /// from it).
    transport: Handle,
    offline: OfflineLinks,
    control: libp2p_stream::Control,
    /// Relay reservations asked for: the circuit listener and the relay.
    relays: Vec<(ListenerId, PeerId)>,
    /// Relays whose reservation failed or ended since the platform's directory was last read:
    /// not tried again from the cache until the platform answers.
    unreachable: Vec<PeerId>,
    /// Relays of the peers asked for, which are not peers to list.
    their_relays: Vec<PeerId>,
    /// `/webrtc` listeners on reserved circuits: their address, and whether it is announced.
    webrtc_listeners: Vec<(ListenerId, Multiaddr, bool)>,
    links: Links,
    /// Direct addresses to dial once the relayed connection to their peer is up.
    pending: HashMap<PeerId, Multiaddr>,
    /// Why no relay can be used, when none can.
    no_relay: String,
    set_status: WriteSignal<NetworkStatus>,
    set_links: WriteSignal<Vec<super::PeerLink>>,
}

impl Node {
    /// Uses what a look for relays found: its ICE servers, and a reservation on each relay not
    /// known to be unreachable.
    fn on_found(&mut self, found: Found) {
        let (directory, cached) = match found {
            Found::Platform(directory) => {
                self.unreachable.clear();
                (directory, None)
            }
            Found::Cache(directory, why) => (directory, Some(why)),
            Found::Nothing(why) => {
                self.no_relay = why;
                return;
            }
        };
        if let Err(error) = self.transport.set_ice_servers(directory.ice_servers) {
            self.no_relay = error.to_string();
        }
        let reserved = |relay: &relays::Relay| self.relays.iter().any(|(_, r)| *r == relay.peer);
        let fresh: Vec<relays::Relay> =
            directory.relays.into_iter().filter(|r| !self.unreachable.contains(&r.peer) && !reserved(r)).collect();
        match cached {
            _ if !fresh.is_empty() => self.reserve(fresh),
            None => self.no_relay = "the platform lists no relay this app can reach".to_owned(),
            Some(why) => self.no_relay = why,
        }
    }

    /// Asks each relay for a reservation (`<relay>/p2p-circuit`).
    fn reserve(&mut self, relays: Vec<relays::Relay>) {
        for relay in relays {
            match self.swarm.listen_on(relay.address.with(Protocol::P2pCircuit)) {
                Ok(listener) => self.relays.push((listener, relay.peer)),
                Err(error) => self.no_relay = error.to_string(),
            }
        }
    }

    /// Runs the swarm and answers requests. While no relay is reserved, looks for relays again
    /// every [`RELAY_RETRY_MS`] (the platform may be back, with relays on new ports).
    async fn drive(&mut self, mut requests: mpsc::Receiver<Command>, mut failures: mpsc::Receiver<(PeerId, String)>) {
        let mut search = find_relays(0);
        loop {
            if search.is_terminated() && self.relays.is_empty() {
                search = find_relays(RELAY_RETRY_MS);
            }
            futures::select! {
                found = search => {
                    self.on_found(found);
                    self.publish_status();
                }
                event = self.swarm.select_next_some() => self.on_event(event),
                (peer, problem) = failures.select_next_some() => {
                    self.links.failed(peer, problem);
                    self.publish_links();
                }
                command = requests.next() => match command {
                    Some(command) => self.on_command(command),
                    None => return,
                },
            }
        }
    }

    fn is_relay(&self, peer: &PeerId) -> bool {
        self.relays.iter().any(|(_, relay)| relay == peer) || self.their_relays.contains(peer)
    }

    fn on_event(&mut self, event: SwarmEvent<super::swarm::BehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { listener_id, address } => self.on_listening(listener_id, address),
            SwarmEvent::ListenerClosed { listener_id, reason, .. } => {
                let reason = match reason {
                    Ok(()) => "the relay closed the reservation".to_owned(),
                    Err(error) => error.to_string(),
                };
                self.on_listener_closed(listener_id, reason);
            }
            SwarmEvent::ConnectionEstablished { peer_id, connection_id, endpoint, .. } if !self.is_relay(&peer_id) => {
                match self.links.established(connection_id, peer_id, &endpoint) {
                    // The relay is no longer needed for this peer: free its circuit.
                    LinkKind::Direct => {
                        for relayed in self.links.relayed(&peer_id) {
                            self.swarm.close_connection(relayed);
                        }
                    }
                    LinkKind::Relayed => {
                        if let Some(direct) = self.pending.remove(&peer_id) {
                            self.dial(peer_id, direct);
                        }
                    }
                    LinkKind::None => {}
                }
                self.publish_links();
            }
            SwarmEvent::ConnectionClosed { connection_id, .. } => {
                self.links.closed(connection_id);
                self.publish_links();
            }
            SwarmEvent::OutgoingConnectionError { peer_id: Some(peer), error, .. } if !self.is_relay(&peer) => {
                self.pending.remove(&peer);
                self.links.failed(peer, error.to_string());
                self.publish_links();
            }
            _ => {}
        }
    }

    fn on_listening(&mut self, listener_id: ListenerId, address: Multiaddr) {
        if self.relays.iter().any(|(id, _)| *id == listener_id) {
            // The reservation is accepted (or renewed): listen for direct links on that circuit.
            // The relay client reports it as `<relay>/p2p-circuit/p2p/<this device>`.
            let mut circuit = address;
            if circuit.iter().last() == Some(Protocol::P2p(*self.swarm.local_peer_id())) {
                circuit.pop();
            }
            let webrtc = listen_addr_for_circuit(&circuit);
            if let Some(webrtc) = webrtc.filter(|w| self.webrtc_listeners.iter().all(|(_, a, _)| a != w)) {
                match self.swarm.listen_on(webrtc.clone()) {
                    Ok(id) => self.webrtc_listeners.push((id, webrtc, false)),
                    Err(error) => self.no_relay = error.to_string(),
                }
            }
        } else if let Some((_, _, announced)) = self.webrtc_listeners.iter_mut().find(|(id, _, _)| *id == listener_id) {
            *announced = true;
        }
        self.publish_status();
    }

    fn on_listener_closed(&mut self, listener_id: ListenerId, reason: String) {
        if let Some(index) = self.relays.iter().position(|(id, _)| *id == listener_id) {
            let (_, relay) = self.relays.remove(index);
            self.no_relay = reason;
            if !self.unreachable.contains(&relay) && self.unreachable.len() < relays::MAX_RELAY_ADDRESSES {
                self.unreachable.push(relay);
            }
            // The `/webrtc` address on that relay's circuit can no longer be reached.
            let on_relay = |address: &Multiaddr| address.iter().any(|p| p == Protocol::P2p(relay));
            let stale: Vec<ListenerId> =
                self.webrtc_listeners.iter().filter(|(_, address, _)| on_relay(address)).map(|(id, _, _)| *id).collect();
            for id in stale {
                self.swarm.remove_listener(id);
            }
        }
        self.webrtc_listeners.retain(|(id, _, _)| *id != listener_id);
        self.publish_status();
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Connect { address, circuit, relay, peer } => {
                if peer == *self.swarm.local_peer_id() {
                    self.links.failed(peer, "this is this device's own address".to_owned());
                } else if self.pending.len() >= MAX_KNOWN_PEERS {
                    self.links.failed(peer, "too many connections being set up".to_owned());
                } else {
                    if !self.is_relay(&relay) && self.their_relays.len() < MAX_KNOWN_PEERS {
                        self.their_relays.push(relay);
                    }
                    self.links.remember(peer);
                    match self.links.kind(&peer) {
                        LinkKind::Direct => {}
                        LinkKind::Relayed => self.dial(peer, address),
                        LinkKind::None => {
                            self.pending.insert(peer, address);
                            self.dial(peer, circuit);
                        }
                    }
                }
                self.publish_links();
            }
            Command::Check { peer, count, reply } => {
                let mut control = self.control.clone();
                leptos::task::spawn_local(async move {
                    let _ = reply.send(check::run(&mut control, peer, count).await);
                });
            }
            Command::Invite { reply } => self.offline.invite(reply),
            Command::Answer { text, from, reply } => self.offline.answer(text, from, reply),
            Command::Accept { text, from, reply } => self.offline.accept(text, from, reply),
        }
    }

    fn dial(&mut self, peer: PeerId, address: Multiaddr) {
        if let Err(error) = self.swarm.dial(address) {
            self.pending.remove(&peer);
            self.links.failed(peer, error.to_string());
        }
    }

    fn publish_status(&self) {
        let me = *self.swarm.local_peer_id();
        // Any announced address works for a peer that has a relay in common; one whose relay
        // part is WebSocket works for every browser.
        let announced = || self.webrtc_listeners.iter().filter(|(_, _, announced)| *announced).map(|(_, a, _)| a);
        let websocket = |a: &&Multiaddr| a.iter().any(|p| matches!(p, Protocol::Ws(_) | Protocol::Wss(_)));
        let status = match announced().find(websocket).or_else(|| announced().next()) {
            Some(address) => NetworkStatus::Reachable(address.clone().with(Protocol::P2p(me)).to_string()),
            None if !self.relays.is_empty() => NetworkStatus::Reserving,
            None => NetworkStatus::NoRelay(self.no_relay.clone()),
        };
        self.set_status.set(status);
    }

    fn publish_links(&self) {
        self.set_links.set(self.links.summary());
    }
}
