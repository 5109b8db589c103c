//! The relay path (`WEBRTC.md` §1): runs the sans-IO [`Signaling`] machine over a
//! `/webrtc-signaling/0.0.1` stream and a new `RTCPeerConnection`, yielding a [`Connection`].
//!
//! [`dial_on`] / [`answer_on`] take any byte stream: the relayed libp2p stream in the app, or a
//! substream of an existing WebRTC connection in the tests. [`dial`] opens the stream through
//! libp2p-stream's `Control` on an existing connection to the peer (the relayed one on the relay
//! path); [`super::Transport`] accepts inbound ones the same way. The remote `PeerId`
//! is the peer of the connection that carried the stream (authenticated by that connection's
//! Noise, end to end through the relay), never anything read from the stream.

use std::future::poll_fn;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::{Either, select};
use futures::{AsyncRead, AsyncWrite, AsyncWriteExt as _};
use libp2p_identity::PeerId;
use libp2p_swarm::StreamProtocol;
use web_sys::{RtcDataChannel, RtcDataChannelState};

use super::{Connection, INIT_LABEL, JsError, PeerConnection};
use super::{now, sleep, wake_after};
use crate::ice::IceServer;
use crate::signaling::{
    Action, ConnectionState, Output, PROTOCOL_NAME, Role, Signaling, SignalingError, Step, Timeouts,
};

/// The signaling protocol, for libp2p-stream.
pub const SIGNALING_PROTOCOL: StreamProtocol = StreamProtocol::new(PROTOCOL_NAME);

/// How often the dialer looks at the `init` channel while waiting for it to open and close.
const INIT_POLL: Duration = Duration::from_millis(20);

/// Settings for signaled connections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignalingConfig {
    /// ICE servers (STUN, TURN); none on a local network.
    pub ice_servers: Vec<IceServer>,
    /// Limits of each step.
    pub timeouts: Timeouts,
}

/// Why a signaled connection did not come up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    /// The sequence failed (a timeout, the peer, the stream or the browser; see the step).
    #[error(transparent)]
    Signaling(#[from] SignalingError),
    /// The peer connection could not be created.
    #[error(transparent)]
    Browser(#[from] JsError),
    /// The signaling stream could not be opened.
    #[error("opening the signaling stream: {0}")]
    Open(String),
    /// No connection to the peer carried the signaling stream in time.
    #[error("no signaling stream to the peer within {0:?}")]
    OpenTimeout(Duration),
}

/// Dialer (B) over `stream`: offer, answer, candidates, `init` closed.
pub async fn dial_on<S>(stream: S, config: &SignalingConfig) -> Result<Connection, SignalError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    Driver::new(Role::Dialer, stream, config)?.run().await
}

/// Listener (A) over an inbound `stream`.
pub async fn answer_on<S>(stream: S, config: &SignalingConfig) -> Result<Connection, SignalError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    Driver::new(Role::Listener, stream, config)?.run().await
}

/// Dialer: opens the signaling stream to `peer` on an existing (the relayed) connection,
/// waiting at most [`Timeouts::read_sdp`] for it, and returns the direct connection.
pub async fn dial(
    control: &mut libp2p_stream::Control,
    peer: PeerId,
    config: &SignalingConfig,
) -> Result<Connection, SignalError> {
    let limit = config.timeouts.read_sdp;
    let open = pin!(control.open_stream(peer, SIGNALING_PROTOCOL));
    let stream = match select(open, pin!(sleep(limit))).await {
        Either::Left((opened, _)) => {
            opened.map_err(|error| SignalError::Open(error.to_string()))?
        }
        Either::Right(((), _)) => return Err(SignalError::OpenTimeout(limit)),
    };
    dial_on(stream, config).await
}

/// One signaling attempt: the machine, the peer connection and the stream.
struct Driver<S> {
    machine: Signaling,
    connection: Connection,
    init: Option<RtcDataChannel>,
    init_open: bool,
    state: ConnectionState,
    stream: S,
    stream_ended: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    fn new(role: Role, stream: S, config: &SignalingConfig) -> Result<Self, JsError> {
        let pc = PeerConnection::new(&config.ice_servers)?;
        let init = (role == Role::Dialer).then(|| pc.create_data_channel(INIT_LABEL));
        let mut connection = Connection::new(pc);
        connection.collect_candidates();
        Ok(Self {
            machine: Signaling::new(role, now(), config.timeouts),
            connection,
            init,
            init_open: false,
            state: ConnectionState::New,
            stream,
            stream_ended: false,
        })
    }

    async fn run(mut self) -> Result<Connection, SignalError> {
        loop {
            while let Some(output) = self.machine.poll_output() {
                match output {
                    Output::Send(bytes) => self.send(&bytes).await,
                    Output::Action(action) => self.act(action).await,
                    // js-libp2p only logs a bad candidate too; ICE goes on without it.
                    Output::IgnoredCandidate(_) => {}
                    Output::Connected => {
                        self.connection.stop_collecting();
                        return Ok(self.connection);
                    }
                    Output::Failed(error) => return Err(error.into()),
                }
            }
            self.wait().await;
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        let written = match self.stream.write_all(bytes).await {
            Ok(()) => self.stream.flush().await,
            Err(error) => Err(error),
        };
        if let Err(error) = written {
            self.machine.handle_stream_error(now(), error.to_string());
        }
    }

    async fn act(&mut self, action: Action) {
        let pc = self.connection.peer_connection();
        let result = match action {
            Action::CreateOffer => pc
                .create_offer()
                .await
                .map(|sdp| self.machine.handle_offer_created(now(), sdp))
                .map_err(|error| (Step::CreateOffer, error)),
            Action::CreateAnswer => pc
                .create_answer()
                .await
                .map(|sdp| self.machine.handle_answer_created(now(), sdp))
                .map_err(|error| (Step::CreateAnswer, error)),
            Action::SetLocalDescription { kind, sdp } => pc
                .set_local_description(kind, &sdp)
                .await
                .map_err(|error| (Step::SetLocalDescription, error)),
            Action::SetRemoteDescription { kind, sdp } => pc
                .set_remote_description(kind, &sdp)
                .await
                .map(|()| self.machine.handle_remote_description_set(now()))
                .map_err(|error| (Step::SetRemoteDescription, error)),
            // A candidate the browser rejects is only skipped, as js-libp2p does.
            Action::AddIceCandidate(candidate) => {
                let _ = pc.add_ice_candidate(Some(&candidate)).await;
                Ok(())
            }
            // Trickle ICE keeps checking the pairs it has; Chrome needs no end marker.
            Action::AddEndOfCandidates => Ok(()),
            Action::CloseInitChannel => {
                if let Some(init) = &self.init {
                    init.close();
                }
                Ok(())
            }
            Action::CloseSignalingStream => {
                let _ = self.stream.close().await;
                Ok(())
            }
            // Dropping the stream when `run` returns resets it.
            Action::ResetSignalingStream => Ok(()),
            Action::ClosePeerConnection => {
                pc.close();
                Ok(())
            }
        };
        if let Err((step, error)) = result {
            self.machine.handle_browser_error(now(), step, error.0);
        }
    }

    /// Waits for any input (browser event, stream bytes, `init` change, deadline) and feeds it
    /// to the machine.
    async fn wait(&mut self) {
        let started = now();
        let mut timer_armed = false;
        let mut buf = [0u8; 4096];
        poll_fn(|cx| {
            let browser = self.poll_browser(cx);
            let init = self.poll_init();
            let stream = self.poll_stream(cx, &mut buf);
            let mut wake_at = self.machine.poll_timeout().unwrap_or_default();
            if self.init.is_some() {
                wake_at = wake_at.min(started + INIT_POLL);
            }
            if browser || init || stream || now() >= wake_at {
                self.machine.handle_timeout(now());
                return Poll::Ready(());
            }
            if !timer_armed {
                timer_armed = true;
                let wait = wake_at.saturating_sub(now()).as_millis() as u64 + 1;
                // Without a timer a deadline is noticed at the next event; still bounded.
                let _ = wake_after(wait, cx.waker().clone());
            }
            Poll::Pending
        })
        .await
    }

    /// Feeds local candidates and connection state changes; whether there were any.
    fn poll_browser(&mut self, cx: &mut Context<'_>) -> bool {
        let (candidates, state) = self.connection.poll_signaling(cx);
        let progressed = !candidates.is_empty() || state != self.state;
        for candidate in candidates {
            self.machine.handle_local_candidate(now(), candidate);
        }
        if state != self.state {
            self.state = state;
            self.machine.handle_connection_state(now(), state);
        }
        progressed
    }

    /// Feeds the `init` channel's `open` and `close`; whether either happened.
    fn poll_init(&mut self) -> bool {
        let Some(state) = self.init.as_ref().map(RtcDataChannel::ready_state) else {
            return false;
        };
        match state {
            RtcDataChannelState::Open if !self.init_open => {
                self.init_open = true;
                self.machine.handle_init_channel_open(now());
                true
            }
            // Closed by us or by the peer (js-libp2p listeners close it on arrival).
            RtcDataChannelState::Closed => {
                self.init = None;
                self.machine.handle_init_channel_closed(now());
                true
            }
            _ => false,
        }
    }

    /// Feeds what the peer wrote, or the end of the stream; whether anything came.
    fn poll_stream(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> bool {
        if self.stream_ended {
            return false;
        }
        match Pin::new(&mut self.stream).poll_read(cx, buf) {
            Poll::Ready(Ok(0)) => {
                self.stream_ended = true;
                self.machine.handle_stream_end(now());
            }
            Poll::Ready(Ok(n)) => self.machine.handle_bytes(now(), &buf[..n]),
            Poll::Ready(Err(error)) => {
                self.stream_ended = true;
                self.machine.handle_stream_error(now(), error.to_string());
            }
            Poll::Pending => return false,
        }
        true
    }
}
