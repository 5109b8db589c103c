//! [`Transport`]: the libp2p `Transport` for `/webrtc` connections.
//!
//! # Design
//! Signaling needs a libp2p stream on the relayed connection, which a `Transport` cannot open
//! by itself: it sees addresses, not connections or behaviours (rust-libp2p #4389;
//! `WEBRTC.md` §4). This one reaches streams through a libp2p-stream [`Control`] (its
//! `Behaviour` must be in the swarm) and otherwise keeps to the `Transport` contract:
//! - `dial(<relay>/p2p/<R>/p2p-circuit/webrtc/p2p/<X>)` opens `/webrtc-signaling/0.0.1` to `X`
//!   on a connection the swarm already has to `X`, the relayed one, and signals as the dialer
//!   ([`super::dial`]). Dial the circuit address `<relay>/p2p/<R>/p2p-circuit/p2p/<X>` first:
//!   while this dial is pending, libp2p-stream does not dial `X` itself, and opening the stream
//!   fails after [`crate::signaling::Timeouts::read_sdp`].
//! - `listen_on(<relay>/p2p/<R>/p2p-circuit/webrtc)` announces that address and answers every
//!   inbound signaling stream as an incoming connection ([`super::answer_on`]), remote `PeerId`
//!   = the peer of the connection that carried the stream. The relay reservation itself is the
//!   relay client's: listen on `<relay>/p2p/<R>/p2p-circuit` too.
//! - `listen_on(/webrtc)` reports connections set up beside the swarm (out of band, after
//!   [`super::create_offer`] / [`super::answer_offer`]) and passed to a [`Handle`]; both sides
//!   see such a connection as inbound. The handover queue is bounded
//!   ([`MAX_PENDING_CONNECTIONS`]); while no such listener exists, connections wait in it.
//!
//! The ICE servers of signaled connections can change while the swarm runs (the app learns them
//! from the platform after it starts): [`Handle::set_ice_servers`] applies to the next ones.
//!
//! No security or muxer is negotiated on these connections (see [`super::Connection`]).
//! Put this transport ahead of the relay client's in an `OrTransport` chain: the relay client
//! takes any `/p2p-circuit` address and would dial a plain relayed connection instead.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use futures::StreamExt as _;
use futures::channel::mpsc;
use libp2p_core::multiaddr::{Multiaddr, Protocol};
use libp2p_core::transport::{DialOpts, ListenerId, TransportError, TransportEvent};
use libp2p_identity::PeerId;
use libp2p_stream::{Control, IncomingStreams};
use send_wrapper::SendWrapper;

use super::{Connection, SIGNALING_PROTOCOL, SignalError, SignalingConfig, answer_on, dial};
use crate::addr::{listen_addr_for_circuit, parse_dial_addr};
use crate::ice::{self, IceServer, IceServerError};

/// Most connections handed over and not yet taken by the swarm.
pub const MAX_PENDING_CONNECTIONS: usize = 8;

/// Most inbound signaling attempts answered at once; streams beyond are reset.
pub const MAX_ANSWERING: usize = 8;

/// Hands established connections to the [`Transport`] and sets its ICE servers. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct Handle {
    sender: mpsc::Sender<(PeerId, Connection)>,
    ice_servers: SharedIceServers,
}

/// The ICE servers for the next connections, shared by the transport and its handles.
type SharedIceServers = Arc<Mutex<Vec<IceServer>>>;

/// Why a connection was not handed over; it is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HandoverError {
    /// [`MAX_PENDING_CONNECTIONS`] are already waiting for the swarm.
    #[error("too many connections waiting for the swarm")]
    Full,
    /// The transport is gone.
    #[error("the transport was dropped")]
    Closed,
}

impl Handle {
    /// Gives the swarm `connection` to `peer` (authenticated by whoever set it up).
    pub fn hand_over(&mut self, peer: PeerId, connection: Connection) -> Result<(), HandoverError> {
        self.sender.try_send((peer, connection)).map_err(|error| {
            if error.is_full() {
                HandoverError::Full
            } else {
                HandoverError::Closed
            }
        })
    }

    /// Sets the ICE servers of the connections signaled from now on (at most
    /// [`ice::MAX_ICE_SERVERS`]).
    pub fn set_ice_servers(&self, servers: Vec<IceServer>) -> Result<(), IceServerError> {
        ice::check_count(&servers)?;
        *self.ice_servers.lock().unwrap_or_else(PoisonError::into_inner) = servers;
        Ok(())
    }

    /// The ICE servers connections are made with now; for out-of-band set-ups, which do not go
    /// through the transport.
    pub fn ice_servers(&self) -> Vec<IceServer> {
        self.ice_servers.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// A connection being set up: browser futures, `Send` for libp2p on the one wasm thread.
pub type Upgrade = Pin<Box<dyn Future<Output = Result<(PeerId, Connection), SignalError>> + Send>>;

fn upgrade(
    future: impl Future<Output = Result<(PeerId, Connection), SignalError>> + 'static,
) -> Upgrade {
    Box::pin(SendWrapper::new(future))
}

/// The relay path's part: the stream control and the accepted signaling streams.
struct Signaling {
    control: Control,
    config: SignalingConfig,
    incoming: Option<IncomingStreams>,
    /// One clone per inbound signaling attempt in progress, each with its own browser
    /// connection: a peer opening streams must not make this tab create unbounded many.
    answering: Arc<()>,
}

/// The `/webrtc` transport; see the module documentation.
pub struct Transport {
    receiver: mpsc::Receiver<(PeerId, Connection)>,
    ice_servers: SharedIceServers,
    signaling: Option<Signaling>,
    /// `/webrtc` (handover) and `<circuit>/webrtc` listeners, in order of creation.
    listeners: Vec<(ListenerId, Multiaddr)>,
    events: VecDeque<TransportEvent<Upgrade, SignalError>>,
}

impl core::fmt::Debug for Transport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Transport")
            .field("listeners", &self.listeners)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// A transport for out-of-band connections only, and the handle that feeds it.
    pub fn new() -> (Self, Handle) {
        // The channel holds `buffer + senders`: one slot is the first handle's own.
        let (sender, receiver) = mpsc::channel(MAX_PENDING_CONNECTIONS - 1);
        let ice_servers = SharedIceServers::default();
        let transport = Self {
            receiver,
            ice_servers: ice_servers.clone(),
            signaling: None,
            listeners: Vec::new(),
            events: VecDeque::new(),
        };
        (transport, Handle { sender, ice_servers })
    }

    /// A transport that also dials and listens on `/p2p-circuit/webrtc` addresses, signaling
    /// over streams opened or accepted through `control`. `config`'s ICE servers hold until
    /// [`Handle::set_ice_servers`] replaces them.
    pub fn with_signaling(control: Control, config: SignalingConfig) -> (Self, Handle) {
        let (mut transport, handle) = Self::new();
        *transport.ice_servers.lock().unwrap_or_else(PoisonError::into_inner) = config.ice_servers.clone();
        transport.signaling = Some(Signaling {
            control,
            config,
            incoming: None,
            answering: Arc::new(()),
        });
        (transport, handle)
    }

    fn listen_on_circuit(&mut self, id: ListenerId, addr: Multiaddr) -> Result<(), Multiaddr> {
        let Some(signaling) = &mut self.signaling else {
            return Err(addr);
        };
        let circuit: Multiaddr = addr.iter().take_while(|p| *p != Protocol::WebRTC).collect();
        if listen_addr_for_circuit(&circuit).as_ref() != Some(&addr) {
            return Err(addr);
        }
        if signaling.incoming.is_none() {
            // Fails only if something else already accepts the protocol.
            let incoming = signaling.control.accept(SIGNALING_PROTOCOL);
            signaling.incoming = Some(incoming.map_err(|_| addr.clone())?);
        }
        self.events.push_back(TransportEvent::NewAddress {
            listener_id: id,
            listen_addr: addr.clone(),
        });
        self.listeners.push((id, addr));
        Ok(())
    }

    fn poll_handover(&mut self, cx: &mut Context<'_>, listener_id: ListenerId) -> Option<Incoming> {
        if !self
            .listeners
            .iter()
            .any(|(_, addr)| is_handover_addr(addr))
        {
            return None;
        }
        let Poll::Ready(Some((peer, connection))) = self.receiver.poll_next_unpin(cx) else {
            return None;
        };
        Some(Incoming {
            listener_id,
            peer,
            upgrade: upgrade(async move { Ok((peer, connection)) }),
        })
    }

    fn poll_signaling(
        &mut self,
        cx: &mut Context<'_>,
        listener_id: ListenerId,
    ) -> Option<Incoming> {
        let signaling = self.signaling.as_mut()?;
        let incoming = signaling.incoming.as_mut()?;
        let (peer, stream) = loop {
            let Poll::Ready(Some((peer, stream))) = incoming.poll_next_unpin(cx) else {
                return None;
            };
            if Arc::strong_count(&signaling.answering) <= MAX_ANSWERING {
                break (peer, stream);
            }
            // Dropping the stream resets it; the peer's dial fails at once.
            drop(stream);
        };
        let config = current(&signaling.config, &self.ice_servers);
        let token = signaling.answering.clone();
        Some(Incoming {
            listener_id,
            peer,
            upgrade: upgrade(async move {
                let connection = answer_on(stream, &config).await;
                drop(token);
                Ok((peer, connection?))
            }),
        })
    }
}

struct Incoming {
    listener_id: ListenerId,
    peer: PeerId,
    upgrade: Upgrade,
}

/// `config` with the ICE servers set now.
fn current(config: &SignalingConfig, ice_servers: &SharedIceServers) -> SignalingConfig {
    let ice_servers = ice_servers.lock().unwrap_or_else(PoisonError::into_inner).clone();
    SignalingConfig {
        ice_servers,
        ..config.clone()
    }
}

fn is_handover_addr(addr: &Multiaddr) -> bool {
    let mut parts = addr.iter();
    matches!((parts.next(), parts.next()), (Some(Protocol::WebRTC), None))
}

impl libp2p_core::Transport for Transport {
    type Output = (PeerId, Connection);
    type Error = SignalError;
    type ListenerUpgrade = Upgrade;
    type Dial = Upgrade;

    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<Self::Error>> {
        if !is_handover_addr(&addr) {
            return self
                .listen_on_circuit(id, addr)
                .map_err(TransportError::MultiaddrNotSupported);
        }
        if self.listeners.iter().any(|(_, a)| *a == addr) {
            return Err(TransportError::MultiaddrNotSupported(addr));
        }
        self.listeners.push((id, addr));
        Ok(())
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        let Some(index) = self.listeners.iter().position(|(l, _)| *l == id) else {
            return false;
        };
        self.listeners.remove(index);
        self.events.push_back(TransportEvent::ListenerClosed {
            listener_id: id,
            reason: Ok(()),
        });
        true
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        _opts: DialOpts,
    ) -> Result<Self::Dial, TransportError<Self::Error>> {
        let (Some(signaling), Ok(parsed)) = (&self.signaling, parse_dial_addr(&addr)) else {
            return Err(TransportError::MultiaddrNotSupported(addr));
        };
        let mut control = signaling.control.clone();
        let config = current(&signaling.config, &self.ice_servers);
        let target = parsed.target;
        Ok(upgrade(async move {
            Ok((target, dial(&mut control, target, &config).await?))
        }))
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
        if let Some(event) = self.events.pop_front() {
            return Poll::Ready(event);
        }
        // Both kinds of connection are reported on the first listener: the swarm only needs
        // a live listener id, and addresses say which path a connection took.
        let Some(listener_id) = self.listeners.first().map(|(id, _)| *id) else {
            return Poll::Pending;
        };
        let this = &mut *self;
        let incoming = this
            .poll_handover(cx, listener_id)
            .or_else(|| this.poll_signaling(cx, listener_id));
        match incoming {
            Some(Incoming {
                listener_id,
                peer,
                upgrade,
            }) => Poll::Ready(TransportEvent::Incoming {
                listener_id,
                upgrade,
                local_addr: Multiaddr::empty().with(Protocol::WebRTC),
                send_back_addr: Multiaddr::empty()
                    .with(Protocol::WebRTC)
                    .with(Protocol::P2p(peer)),
            }),
            None => Poll::Pending,
        }
    }
}
