//! [`Transport`]: the libp2p `Transport` that brings WebRTC connections established outside the
//! swarm into it.
//!
//! # Design
//! Signaling needs libp2p streams (relay path) or the user (out of band), neither of which a
//! `Transport` can reach from inside: a transport sees addresses, not connections or
//! behaviours (rust-libp2p #4389; `WEBRTC.md` §4). So the set-up runs beside the swarm and the
//! transport only hands its result over: whoever completes a set-up passes `(PeerId,
//! Connection)` to a [`Handle`], and the transport's listener (`listen_on("/webrtc")`) reports
//! it as an incoming connection, upgraded at once (no security or muxer negotiation, see
//! [`super::Connection`]). Out of band that is the app, after [`super::create_offer`] /
//! [`super::answer_offer`]. Both sides see such a connection as inbound: neither dialed it
//! through the swarm. Dials are refused (`MultiaddrNotSupported`), so the transport can sit
//! anywhere in an `OrTransport` chain.
//!
//! The handover queue is bounded ([`MAX_PENDING_CONNECTIONS`]); while no listener exists,
//! connections wait in it.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::StreamExt as _;
use futures::channel::mpsc;
use futures::future::{Ready, ready};
use libp2p_core::multiaddr::{Multiaddr, Protocol};
use libp2p_core::transport::{DialOpts, ListenerId, TransportError, TransportEvent};
use libp2p_identity::PeerId;

use super::{Connection, ConnectionError};

/// Most connections handed over and not yet taken by the swarm.
pub const MAX_PENDING_CONNECTIONS: usize = 8;

/// Hands established connections to the [`Transport`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Handle {
    sender: mpsc::Sender<(PeerId, Connection)>,
}

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
}

/// The `/webrtc` transport; see the module documentation.
#[derive(Debug)]
pub struct Transport {
    receiver: mpsc::Receiver<(PeerId, Connection)>,
    listener: Option<ListenerId>,
    closed: Option<ListenerId>,
}

impl Transport {
    /// A transport and the handle that feeds it.
    pub fn new() -> (Self, Handle) {
        // The channel holds `buffer + senders`: one slot is the first handle's own.
        let (sender, receiver) = mpsc::channel(MAX_PENDING_CONNECTIONS - 1);
        let transport = Self {
            receiver,
            listener: None,
            closed: None,
        };
        (transport, Handle { sender })
    }
}

fn is_webrtc_listen_addr(addr: &Multiaddr) -> bool {
    let mut parts = addr.iter();
    matches!((parts.next(), parts.next()), (Some(Protocol::WebRTC), None))
}

impl libp2p_core::Transport for Transport {
    type Output = (PeerId, Connection);
    type Error = ConnectionError;
    type ListenerUpgrade = Ready<Result<Self::Output, Self::Error>>;
    type Dial = Ready<Result<Self::Output, Self::Error>>;

    /// Listens on `/webrtc` only; one listener at a time.
    fn listen_on(
        &mut self,
        id: ListenerId,
        addr: Multiaddr,
    ) -> Result<(), TransportError<Self::Error>> {
        if !is_webrtc_listen_addr(&addr) || self.listener.is_some() {
            return Err(TransportError::MultiaddrNotSupported(addr));
        }
        self.listener = Some(id);
        Ok(())
    }

    fn remove_listener(&mut self, id: ListenerId) -> bool {
        if self.listener != Some(id) {
            return false;
        }
        self.listener = None;
        self.closed = Some(id);
        true
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        _opts: DialOpts,
    ) -> Result<Self::Dial, TransportError<Self::Error>> {
        Err(TransportError::MultiaddrNotSupported(addr))
    }

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<TransportEvent<Self::ListenerUpgrade, Self::Error>> {
        if let Some(listener_id) = self.closed.take() {
            return Poll::Ready(TransportEvent::ListenerClosed {
                listener_id,
                reason: Ok(()),
            });
        }
        let Some(listener_id) = self.listener else {
            return Poll::Pending;
        };
        match self.receiver.poll_next_unpin(cx) {
            Poll::Ready(Some((peer, connection))) => Poll::Ready(TransportEvent::Incoming {
                listener_id,
                upgrade: ready(Ok((peer, connection))),
                local_addr: Multiaddr::empty().with(Protocol::WebRTC),
                send_back_addr: Multiaddr::empty()
                    .with(Protocol::WebRTC)
                    .with(Protocol::P2p(peer)),
            }),
            // All handles dropped: nothing more will come.
            Poll::Ready(None) | Poll::Pending => Poll::Pending,
        }
    }
}
