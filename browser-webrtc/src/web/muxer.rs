//! [`Connection`]: a libp2p [`StreamMuxer`] over an established `RTCPeerConnection`, one
//! substream per data channel ([`DataChannelStream`], label `""`, `negotiated: false`, ids
//! picked by the browser from the DTLS role).
//!
//! No security or muxer negotiation runs on the connection: on the relay path the SDPs carrying
//! the DTLS fingerprints travel over the already authenticated relayed connection (specs
//! `webrtc/webrtc.md`, FAQ "Why is there no additional Noise handshake needed?"; js-libp2p
//! upgrades with `skipEncryption`), and out of band the blobs are signed by the device keys
//! ([`crate::oob`]). Whoever builds a `Connection` names the remote `PeerId` from that
//! authenticated source, never from anything the connection itself carries.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_io::{AsyncRead, AsyncWrite};
use libp2p_core::muxing::{StreamMuxer, StreamMuxerEvent};
use send_wrapper::SendWrapper;

use super::{
    DataChannelStream, INIT_LABEL, JsError, PeerConnection, PeerEvent, STREAM_LABEL, now,
    wake_after,
};
use crate::signaling::machine::MAX_QUEUED_CANDIDATES;
use crate::signaling::{ConnectionState, IceCandidate};

/// Most inbound channels held while the swarm does not take them; later ones are reset.
/// libp2p-swarm negotiates at most 128 inbound streams at once by default.
pub const MAX_PENDING_INBOUND: usize = 256;

/// Why the connection ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectionError {
    /// `connectionState` became `failed` or `closed`.
    #[error("peer connection {0:?}")]
    State(ConnectionState),
    /// The browser fired more events than [`super::MAX_QUEUED_EVENTS`] before they were polled.
    #[error("browser event queue overflowed")]
    Overflow,
    /// A wait during set-up took longer than its limit.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// A browser call failed.
    #[error(transparent)]
    Browser(#[from] JsError),
}

/// The browser side, reached only from the one wasm thread.
struct Inner {
    pc: PeerConnection,
    inbound: VecDeque<DataChannelStream>,
    state: ConnectionState,
    gathered: bool,
    overflowed: bool,
    timer_armed: bool,
    /// While signaling: local candidates not yet taken by the signaling glue.
    candidates: Option<VecDeque<Option<IceCandidate>>>,
}

impl Inner {
    /// Moves every event the browser queued into this connection's state; an error once the
    /// connection is over.
    fn update(&mut self, cx: &mut Context<'_>) -> Result<(), ConnectionError> {
        self.drain(cx);
        self.check()
    }

    fn drain(&mut self, cx: &mut Context<'_>) {
        while let Poll::Ready(event) = self.pc.poll_event(cx) {
            match event {
                PeerEvent::LocalCandidate(candidate) => {
                    self.gathered |= candidate.is_none();
                    // More would overflow the signaling machine's own queue anyway.
                    if let Some(queue) = &mut self.candidates
                        && queue.len() < MAX_QUEUED_CANDIDATES
                    {
                        queue.push_back(candidate);
                    }
                }
                PeerEvent::ConnectionState(state) => self.state = state,
                // The dialer's `init` only carried the offer's data section.
                PeerEvent::DataChannel(init) if init.label() == INIT_LABEL => init.close_unframed(),
                // Dropping a stream resets it: the peer opens faster than the swarm accepts.
                PeerEvent::DataChannel(excess) if self.inbound.len() >= MAX_PENDING_INBOUND => {
                    drop(excess)
                }
                PeerEvent::DataChannel(stream) => self.inbound.push_back(stream),
                PeerEvent::Overflow => self.overflowed = true,
            }
        }
    }

    fn check(&self) -> Result<(), ConnectionError> {
        match self.state {
            ConnectionState::Failed | ConnectionState::Closed => {
                Err(ConnectionError::State(self.state))
            }
            _ if self.overflowed => Err(ConnectionError::Overflow),
            _ => Ok(()),
        }
    }
}

/// An established WebRTC connection as a libp2p muxer. `Send` for libp2p's sake; use it on
/// the wasm thread that made it (it panics elsewhere).
pub struct Connection(SendWrapper<Inner>);

impl core::fmt::Debug for Connection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Connection")
            .field("state", &self.0.state)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Takes over a peer connection, from its creation on (its events are queued until then).
    pub fn new(pc: PeerConnection) -> Self {
        Self(SendWrapper::new(Inner {
            pc,
            inbound: VecDeque::new(),
            state: ConnectionState::New,
            gathered: false,
            overflowed: false,
            timer_armed: false,
            candidates: None,
        }))
    }

    /// Signaling glue: from now on, keep local candidates for [`Self::poll_signaling`].
    pub(crate) fn collect_candidates(&mut self) {
        self.0.candidates = Some(VecDeque::new());
    }

    /// Signaling glue: local candidates since the last call, and `connectionState`, whatever
    /// it is (signaling decides what a failure means).
    pub(crate) fn poll_signaling(
        &mut self,
        cx: &mut Context<'_>,
    ) -> (Vec<Option<IceCandidate>>, ConnectionState) {
        let inner = &mut *self.0;
        inner.drain(cx);
        let candidates = inner.candidates.as_mut().map(core::mem::take);
        (candidates.unwrap_or_default().into(), inner.state)
    }

    /// Signaling glue: signaling is over, stop keeping candidates.
    pub(crate) fn stop_collecting(&mut self) {
        self.0.candidates = None;
    }

    /// The browser connection, e.g. for its SDPs or to watch `connectionState`.
    pub fn peer_connection(&self) -> &PeerConnection {
        &self.0.pc
    }

    /// Waits until `connectionState` is `connected`; fails on `failed`/`closed` or after `limit`.
    pub async fn connected(&mut self, limit: Duration) -> Result<(), ConnectionError> {
        self.wait("connected", limit, |inner| {
            inner.state == ConnectionState::Connected
        })
        .await
    }

    /// Waits until ICE gathering has ended or `limit` has passed; either way the local SDP then
    /// holds the candidates gathered so far (a stalled interface must not block a QR code).
    pub(crate) async fn gathered(&mut self, limit: Duration) -> Result<(), ConnectionError> {
        match self.wait("gathering", limit, |inner| inner.gathered).await {
            Err(ConnectionError::Timeout(_)) => Ok(()),
            other => other,
        }
    }

    async fn wait(
        &mut self,
        what: &'static str,
        limit: Duration,
        done: impl Fn(&Inner) -> bool,
    ) -> Result<(), ConnectionError> {
        let deadline = now() + limit;
        self.0.timer_armed = false;
        std::future::poll_fn(|cx| {
            let inner = &mut *self.0;
            inner.update(cx)?;
            if done(inner) {
                return Poll::Ready(Ok(()));
            }
            let left = deadline.saturating_sub(now());
            if left.is_zero() {
                return Poll::Ready(Err(ConnectionError::Timeout(what)));
            }
            if !inner.timer_armed {
                inner.timer_armed = true;
                wake_after(left.as_millis() as u64 + 1, cx.waker().clone())?;
            }
            Poll::Pending
        })
        .await
    }
}

impl StreamMuxer for Connection {
    type Substream = Stream;
    type Error = ConnectionError;

    fn poll_inbound(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        let inner = &mut *self.get_mut().0;
        inner.update(cx)?;
        inner
            .inbound
            .pop_front()
            .map_or(Poll::Pending, |stream| Poll::Ready(Ok(Stream::new(stream))))
    }

    fn poll_outbound(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        let inner = &mut *self.get_mut().0;
        inner.update(cx)?;
        let channel = inner.pc.create_data_channel(STREAM_LABEL);
        Poll::Ready(Ok(Stream::new(DataChannelStream::outbound(channel))))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.pc.close();
        Poll::Ready(Ok(()))
    }

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<StreamMuxerEvent, Self::Error>> {
        self.get_mut().0.update(cx)?;
        Poll::Pending
    }
}

/// One libp2p substream: a [`DataChannelStream`], `Send` for libp2p's sake like [`Connection`].
pub struct Stream(SendWrapper<DataChannelStream>);

impl Stream {
    fn new(stream: DataChannelStream) -> Self {
        Self(SendWrapper::new(stream))
    }
}

impl core::fmt::Debug for Stream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.get_mut().0).poll_close(cx)
    }
}
