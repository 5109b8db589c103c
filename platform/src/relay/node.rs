//! The relay node: bound to its listeners, then serving until told to stop.

use std::{collections::HashMap, path::Path, time::Duration};

use libp2p::{
    Multiaddr, Swarm,
    core::transport::{ListenerId, TransportError},
    futures::StreamExt as _,
    multiaddr::Protocol,
    relay,
    swarm::SwarmEvent,
};
use tokio::sync::watch;

use super::{
    RelayError,
    addresses::RelayAddresses,
    announce,
    behaviour::{Behaviour, BehaviourEvent},
    certificate, identity,
    listen::{Listen, ensure_tcp_port_free},
    transport,
};

/// The identity key's file, under the data directory.
pub const IDENTITY_FILE: &str = "keys/relay.key";
/// The WebRTC certificate's file, under the data directory.
pub const CERTIFICATE_FILE: &str = "keys/relay-webrtc.pem";
/// How long [`Relay::bind`] waits for every listener to report its address.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// A relay bound to its listeners, not yet serving.
pub struct Relay {
    swarm: Swarm<Behaviour>,
    addresses: watch::Sender<Vec<Multiaddr>>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay").field("peer_id", self.swarm.local_peer_id()).finish_non_exhaustive()
    }
}

impl Relay {
    /// Loads (or on first start creates) the identity and certificate under `data_dir`, opens the
    /// listeners and waits until each has its address. Prints nothing: [`Relay::serve`] does.
    pub async fn bind(data_dir: &Path, listen: &Listen) -> Result<Self, RelayError> {
        let keypair = identity::load_or_generate(&data_dir.join(IDENTITY_FILE))?;
        let certificate = certificate::load_or_generate(&data_dir.join(CERTIFICATE_FILE))?;
        let mut relay = Self { swarm: transport::build(keypair, certificate)?, addresses: watch::Sender::new(Vec::new()) };
        let mut pending = HashMap::new();
        let [websocket, webrtc_direct] = listen.multiaddrs();
        ensure_tcp_port_free(listen.websocket)
            .map_err(|error| RelayError::Listen { address: websocket.clone(), reason: error.to_string() })?;
        for address in [websocket, webrtc_direct] {
            let listener = relay.swarm.listen_on(address.clone()).map_err(|error| RelayError::Listen {
                address: address.clone(),
                reason: match error {
                    TransportError::MultiaddrNotSupported(_) => "no transport for this address".to_owned(),
                    TransportError::Other(error) => chain(&error),
                },
            })?;
            pending.insert(listener, address);
        }
        let waited = tokio::time::timeout(LISTEN_TIMEOUT, async {
            while !pending.is_empty() {
                let event = relay.swarm.select_next_some().await;
                match relay.handle(event) {
                    Handled::Listening { listener, .. } => {
                        pending.remove(&listener);
                    }
                    Handled::Closed { listener, reason } => {
                        if let Some(address) = pending.remove(&listener) {
                            return Err(RelayError::Listen { address, reason });
                        }
                    }
                    Handled::Other => {}
                }
            }
            Ok(())
        })
        .await;
        match waited {
            Ok(result) => result?,
            Err(_) => {
                let address = pending.into_values().next().unwrap_or_else(Multiaddr::empty);
                return Err(RelayError::Listen { address, reason: format!("no address after {LISTEN_TIMEOUT:?}") });
            }
        }
        Ok(relay)
    }

    /// The relay's PeerId and addresses, for the HTTP API.
    pub fn addresses(&self) -> RelayAddresses {
        RelayAddresses::new(*self.swarm.local_peer_id(), self.addresses.subscribe())
    }

    /// Prints one `relay listening on …` line per address, then relays until `shutdown`
    /// resolves; addresses that come later (a new interface under 0.0.0.0) are printed too.
    pub async fn serve(mut self, shutdown: impl Future<Output = ()>) {
        for address in self.addresses.borrow().iter() {
            announce::listening(address);
        }
        tracing::info!(peer_id = %self.swarm.local_peer_id(), "relay serving");
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                event = self.swarm.select_next_some() => match self.handle(event) {
                    Handled::Listening { new: Some(address), .. } => announce::listening(&address),
                    Handled::Closed { reason, .. } => tracing::error!(%reason, "a relay listener closed"),
                    Handled::Listening { new: None, .. } | Handled::Other => {}
                },
            }
        }
        tracing::info!("relay stopped");
    }

    /// Handles one event: keeps the addresses and the relay's external addresses (which it puts
    /// in reservations) current, and logs.
    fn handle(&mut self, event: SwarmEvent<BehaviourEvent>) -> Handled {
        match event {
            SwarmEvent::NewListenAddr { address, listener_id } => {
                self.swarm.add_external_address(address.clone());
                let full = address.with(Protocol::P2p(*self.swarm.local_peer_id()));
                tracing::info!(%full, "relay listening");
                let mut new = None;
                self.addresses.send_if_modified(|addresses| {
                    if addresses.contains(&full) {
                        return false;
                    }
                    addresses.push(full.clone());
                    addresses.sort_by_key(|address| !address.iter().any(|p| matches!(p, Protocol::Ws(_))));
                    new = Some(full);
                    true
                });
                Handled::Listening { listener: listener_id, new }
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.swarm.remove_external_address(&address);
                let full = address.with(Protocol::P2p(*self.swarm.local_peer_id()));
                tracing::info!(%full, "relay address expired");
                self.addresses.send_modify(|addresses| addresses.retain(|known| *known != full));
                Handled::Other
            }
            SwarmEvent::ListenerClosed { listener_id, reason, .. } => {
                let reason = match reason {
                    Ok(()) => "closed".to_owned(),
                    Err(error) => chain(&error),
                };
                Handled::Closed { listener: listener_id, reason }
            }
            SwarmEvent::ListenerError { error, .. } => {
                tracing::warn!(error = %chain(&error), "relay listener error");
                Handled::Other
            }
            SwarmEvent::Behaviour(BehaviourEvent::Relay(event)) => {
                log_relay_event(&event);
                Handled::Other
            }
            SwarmEvent::ConnectionEstablished { peer_id, endpoint, .. } => {
                tracing::debug!(%peer_id, address = %endpoint.get_remote_address(), "relay: connection");
                Handled::Other
            }
            SwarmEvent::IncomingConnectionError { send_back_addr, error, .. } => {
                tracing::debug!(%send_back_addr, error = %chain(&error), "relay: incoming connection failed");
                Handled::Other
            }
            _ => Handled::Other,
        }
    }
}

/// What [`Relay::handle`] saw that its caller acts on.
enum Handled {
    /// A listener has an address; `new` if it was not known yet.
    Listening { listener: ListenerId, new: Option<Multiaddr> },
    /// A listener closed.
    Closed { listener: ListenerId, reason: String },
    /// Anything else (already logged).
    Other,
}

fn log_relay_event(event: &relay::Event) {
    match event {
        relay::Event::ReservationReqAccepted { src_peer_id, renewed } => {
            tracing::debug!(%src_peer_id, renewed, "relay: reservation accepted");
        }
        relay::Event::CircuitReqAccepted { src_peer_id, dst_peer_id } => {
            tracing::debug!(%src_peer_id, %dst_peer_id, "relay: circuit opened");
        }
        relay::Event::CircuitClosed { src_peer_id, dst_peer_id, error } => {
            tracing::debug!(%src_peer_id, %dst_peer_id, error = ?error, "relay: circuit closed");
        }
        relay::Event::ReservationReqDenied { src_peer_id, .. } => {
            tracing::info!(%src_peer_id, "relay: reservation denied (a limit is reached)");
        }
        relay::Event::CircuitReqDenied { src_peer_id, dst_peer_id, .. } => {
            tracing::info!(%src_peer_id, %dst_peer_id, "relay: circuit denied (a limit is reached or no reservation)");
        }
        other => tracing::debug!(event = ?other, "relay"),
    }
}

/// An error and its sources on one line, without the repetitions of wrappers that print
/// their source.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text = if text.is_empty() { cause_text } else { format!("{text}: {cause_text}") };
        }
        source = cause.source();
    }
    text
}
