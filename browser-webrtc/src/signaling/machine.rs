//! The dialer and listener signaling sequences as one sans-IO state machine, [`Signaling`].
//!
//! The glue (web-sys) owns the `RTCPeerConnection` and the signaling stream. It feeds in what
//! happened (`handle_*` methods: bytes read, stream end, browser callbacks, timer expiry) with
//! the current monotonic time, and drains [`Output`]s with [`Signaling::poll_output`]:
//! bytes to write, [`Action`]s to run on the peer connection, and at most one final
//! [`Output::Connected`] or [`Output::Failed`]. It arms one timer at
//! [`Signaling::poll_timeout`]. Nothing here reads a clock or touches the browser.
//!
//! # Dialer (B), `WEBRTC.md` §1
//! `start` → [`Action::CreateOffer`] → `handle_offer_created` → send `SDP_OFFER`, then
//! [`Action::SetLocalDescription`] → read one message, which must be `SDP_ANSWER` →
//! [`Action::SetRemoteDescription`] → `handle_remote_description_set` → add each received
//! candidate in order until the connection is `connected` → once the `init` channel is open,
//! [`Action::CloseInitChannel`] → `handle_init_channel_closed` →
//! [`Action::CloseSignalingStream`], [`Output::Connected`]. If the peer closes `init` first
//! (js-libp2p listeners do, on arrival), its `close` event ends the wait the same way, and a
//! pending [`Action::CloseInitChannel`] on an already closed channel is a no-op for the glue.
//!
//! # Listener (A)
//! `start` → read one message, which must be `SDP_OFFER` → [`Action::SetRemoteDescription`] →
//! `handle_remote_description_set` → [`Action::CreateAnswer`] → `handle_answer_created` → send
//! `SDP_ANSWER`, then [`Action::SetLocalDescription`] → add candidates until `connected` →
//! [`Action::CloseSignalingStream`], [`Output::Connected`].
//!
//! # Both
//! Local candidates are sent as `ICE_CANDIDATE` only after the local SDP was sent (earlier ones
//! are queued), never once connected; the end-of-gathering event sends nothing. Remote
//! candidates received before the remote description is set are queued (at most
//! [`MAX_QUEUED_CANDIDATES`]) and added in order afterwards; a malformed one is reported as
//! [`Output::IgnoredCandidate`] and skipped, as js-libp2p does. The end of the signaling stream
//! after the SDP exchange is not an error: ICE may still succeed. Only `failed` and `closed`
//! connection states abort (`disconnected` is not terminal). On any failure the machine emits
//! [`Action::ResetSignalingStream`] and [`Action::ClosePeerConnection`], then
//! [`Output::Failed`], and ignores all later input. Every wait has a deadline named by its
//! [`Step`], inside an overall deadline ([`Timeouts`]).

use std::collections::VecDeque;
use std::time::Duration;

use super::candidate::{CandidateError, IceCandidate, RemoteCandidate};
use super::{DecodeError, Decoder, Message, MessageType, encode};

/// Most remote or local candidates held while waiting for a description.
pub const MAX_QUEUED_CANDIDATES: usize = 64;

/// Which side of the signaling exchange this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Sends the offer (B, who dials).
    Dialer,
    /// Answers (A, who listens).
    Listener,
}

/// `RTCPeerConnection.connectionState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// `new`.
    New,
    /// `connecting`.
    Connecting,
    /// `connected`.
    Connected,
    /// `disconnected` (not terminal).
    Disconnected,
    /// `failed`.
    Failed,
    /// `closed`.
    Closed,
}

/// `RTCSdpType` of a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdpKind {
    /// `offer`.
    Offer,
    /// `answer`.
    Answer,
}

/// Each wait in the sequences; names the step of an error or timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Dialer: `createOffer`.
    CreateOffer,
    /// Listener: `createAnswer`.
    CreateAnswer,
    /// `setLocalDescription`.
    SetLocalDescription,
    /// `setRemoteDescription`.
    SetRemoteDescription,
    /// Dialer: reading `SDP_ANSWER`.
    ReadAnswer,
    /// Listener: reading `SDP_OFFER`.
    ReadOffer,
    /// ICE and DTLS until `connectionState` is `connected`.
    Connect,
    /// Dialer: waiting for `init` to open, then to close.
    CloseInitChannel,
    /// Writing to or reading from the signaling stream.
    Stream,
}

/// How long each step may take. Defaults fit js-libp2p's 10 s dial budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// `createOffer`, `createAnswer`, `setLocalDescription`, `setRemoteDescription` each.
    pub browser_operation: Duration,
    /// Reading the peer's SDP.
    pub read_sdp: Duration,
    /// From the SDP exchange to `connected`.
    pub connect: Duration,
    /// `init` open and closed after `connected`.
    pub close_init: Duration,
    /// The whole sequence.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            browser_operation: Duration::from_secs(5),
            read_sdp: Duration::from_secs(10),
            connect: Duration::from_secs(10),
            close_init: Duration::from_secs(5),
            total: Duration::from_secs(10),
        }
    }
}

/// Why signaling failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalingError {
    /// A step took longer than its timeout.
    #[error("timed out at {0:?}")]
    Timeout(Step),
    /// The whole sequence took longer than [`Timeouts::total`].
    #[error("signaling took longer than its overall timeout (at {0:?})")]
    TotalTimeout(Step),
    /// The peer sent a message that does not fit the step.
    #[error("unexpected {got:?} at {step:?}")]
    UnexpectedMessage {
        /// Where.
        step: Step,
        /// What arrived.
        got: MessageType,
    },
    /// The peer sent bytes that are not a signaling message.
    #[error("undecodable message: {0}")]
    Decode(#[from] DecodeError),
    /// The offer or answer is empty.
    #[error("empty SDP at {0:?}")]
    EmptySdp(Step),
    /// The local SDP does not fit in a message.
    #[error("local SDP of {0} bytes is too large to send")]
    SdpTooLarge(usize),
    /// The stream ended before the SDP exchange was complete.
    #[error("signaling stream ended at {0:?}")]
    StreamEnded(Step),
    /// Reading or writing the stream failed (message from the glue).
    #[error("signaling stream failed: {0}")]
    Stream(String),
    /// A browser operation was rejected (message from the glue).
    #[error("{step:?} failed in the browser: {reason}")]
    Browser {
        /// Which operation.
        step: Step,
        /// The browser's error, as text.
        reason: String,
    },
    /// `connectionState` became `failed` or `closed`.
    #[error("peer connection {0:?}")]
    Connection(ConnectionState),
    /// More candidates than [`MAX_QUEUED_CANDIDATES`] arrived before they could be used.
    #[error("too many queued candidates")]
    TooManyCandidates,
}

/// Something the glue must do to the peer connection or the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Call `createOffer()`; report with [`Signaling::handle_offer_created`].
    CreateOffer,
    /// Call `createAnswer()`; report with [`Signaling::handle_answer_created`].
    CreateAnswer,
    /// Call `setLocalDescription`; report failure with [`Signaling::handle_browser_error`].
    SetLocalDescription {
        /// Offer or answer.
        kind: SdpKind,
        /// The SDP, unchanged.
        sdp: String,
    },
    /// Call `setRemoteDescription`; report with [`Signaling::handle_remote_description_set`].
    SetRemoteDescription {
        /// Offer or answer.
        kind: SdpKind,
        /// The peer's SDP, unchanged.
        sdp: String,
    },
    /// Call `addIceCandidate(candidate)`; a rejection is only worth a log line.
    AddIceCandidate(IceCandidate),
    /// The peer finished gathering; the glue may call `addIceCandidate()` without a candidate.
    AddEndOfCandidates,
    /// Dialer: close the `init` channel; report its `close` event with
    /// [`Signaling::handle_init_channel_closed`].
    CloseInitChannel,
    /// Close the signaling stream gracefully.
    CloseSignalingStream,
    /// Reset the signaling stream.
    ResetSignalingStream,
    /// Close the `RTCPeerConnection`.
    ClosePeerConnection,
}

/// What the machine wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Write these bytes (one encoded message) to the signaling stream.
    Send(Vec<u8>),
    /// Run this on the peer connection or stream.
    Action(Action),
    /// A received candidate was malformed, or a local one too large to send; it was skipped.
    IgnoredCandidate(CandidateError),
    /// Signaling succeeded: hand the peer connection over as a libp2p connection.
    Connected,
    /// Signaling failed; the connection and stream are being torn down.
    Failed(SignalingError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Dialer before `createOffer` resolved, listener before the offer arrived.
    Start,
    /// Remote description requested, not yet set.
    SettingRemote,
    /// Listener: `createAnswer` requested.
    CreatingAnswer,
    /// Dialer: offer sent, waiting for the answer.
    AwaitingAnswer,
    /// SDP exchanged; waiting for `connected`.
    Connecting,
    /// Dialer: connected, closing `init`.
    ClosingInit,
    /// Connected or failed.
    Done,
}

/// The signaling sequence of one role. See the module documentation for the call order.
#[derive(Debug)]
pub struct Signaling {
    role: Role,
    timeouts: Timeouts,
    phase: Phase,
    /// What the current wait is, and until when.
    step: Step,
    step_deadline: Duration,
    total_deadline: Duration,
    decoder: Decoder,
    outputs: VecDeque<Output>,
    local_sdp_sent: bool,
    remote_sdp_set: bool,
    connected: bool,
    init_open: bool,
    init_close_requested: bool,
    init_closed: bool,
    local_queue: Vec<IceCandidate>,
    remote_queue: Vec<RemoteCandidate>,
}

impl Signaling {
    /// Starts signaling as `role` at `now`.
    pub fn new(role: Role, now: Duration, timeouts: Timeouts) -> Self {
        let (step, wait) = match role {
            Role::Dialer => (Step::CreateOffer, timeouts.browser_operation),
            Role::Listener => (Step::ReadOffer, timeouts.read_sdp),
        };
        let mut machine = Self {
            role,
            timeouts,
            phase: Phase::Start,
            step,
            step_deadline: now + wait,
            total_deadline: now + timeouts.total,
            decoder: Decoder::new(),
            outputs: VecDeque::new(),
            local_sdp_sent: false,
            remote_sdp_set: false,
            connected: false,
            init_open: false,
            init_close_requested: false,
            init_closed: false,
            local_queue: Vec::new(),
            remote_queue: Vec::new(),
        };
        if role == Role::Dialer {
            machine.act(Action::CreateOffer);
        }
        machine
    }

    /// This machine's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The step now waited for.
    pub fn step(&self) -> Step {
        self.step
    }

    /// Whether the machine has finished (connected or failed).
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// The next output, if any.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When to call [`Self::handle_timeout`] next; `None` once done.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Duration> {
        (self.phase != Phase::Done).then(|| self.step_deadline.min(self.total_deadline))
    }

    /// Fails the sequence if `now` is past a deadline.
    pub fn handle_timeout(&mut self, now: Duration) {
        if self.phase == Phase::Done {
            return;
        }
        if now >= self.total_deadline {
            self.fail(SignalingError::TotalTimeout(self.step));
        } else if now >= self.step_deadline {
            self.fail(SignalingError::Timeout(self.step));
        }
    }

    /// Bytes read from the signaling stream, in order, in any chunking.
    pub fn handle_bytes(&mut self, now: Duration, mut bytes: &[u8]) {
        while self.phase != Phase::Done {
            match self.decoder.decode(&mut bytes) {
                Ok(Some(message)) => self.handle_message(now, message),
                Ok(None) => return,
                Err(error) => {
                    self.fail(error.into());
                    return;
                }
            }
        }
    }

    /// The peer closed its side of the signaling stream.
    pub fn handle_stream_end(&mut self, _now: Duration) {
        match self.phase {
            Phase::Start | Phase::AwaitingAnswer => {
                self.fail(SignalingError::StreamEnded(self.step))
            }
            // After the SDP exchange, ICE may still succeed without more candidates.
            _ => {}
        }
    }

    /// Reading or writing the signaling stream failed.
    pub fn handle_stream_error(&mut self, _now: Duration, reason: String) {
        if self.phase != Phase::Done && !self.connected {
            self.fail(SignalingError::Stream(reason));
        }
    }

    /// A browser operation requested by an [`Action`] was rejected.
    pub fn handle_browser_error(&mut self, _now: Duration, step: Step, reason: String) {
        if self.phase != Phase::Done {
            self.fail(SignalingError::Browser { step, reason });
        }
    }

    /// Dialer: `createOffer()` resolved with this SDP.
    pub fn handle_offer_created(&mut self, now: Duration, sdp: String) {
        if self.role == Role::Dialer
            && self.phase == Phase::Start
            && self.send_local_sdp(MessageType::SdpOffer, SdpKind::Offer, sdp)
        {
            self.phase = Phase::AwaitingAnswer;
            self.wait(now, Step::ReadAnswer, self.timeouts.read_sdp);
        }
    }

    /// Listener: `createAnswer()` resolved with this SDP.
    pub fn handle_answer_created(&mut self, now: Duration, sdp: String) {
        if self.role == Role::Listener
            && self.phase == Phase::CreatingAnswer
            && self.send_local_sdp(MessageType::SdpAnswer, SdpKind::Answer, sdp)
        {
            self.phase = Phase::Connecting;
            self.wait(now, Step::Connect, self.timeouts.connect);
        }
    }

    /// `setRemoteDescription` resolved.
    pub fn handle_remote_description_set(&mut self, now: Duration) {
        if self.phase != Phase::SettingRemote {
            return;
        }
        self.remote_sdp_set = true;
        match self.role {
            Role::Dialer => {
                self.phase = Phase::Connecting;
                self.wait(now, Step::Connect, self.timeouts.connect);
            }
            Role::Listener => {
                self.phase = Phase::CreatingAnswer;
                self.wait(now, Step::CreateAnswer, self.timeouts.browser_operation);
                self.act(Action::CreateAnswer);
            }
        }
        for candidate in core::mem::take(&mut self.remote_queue) {
            self.add_remote(candidate);
        }
        self.maybe_finish(now);
    }

    /// `onicecandidate` fired; `None` (or an empty candidate) is the end of gathering.
    pub fn handle_local_candidate(&mut self, _now: Duration, candidate: Option<IceCandidate>) {
        let Some(candidate) = candidate.filter(|c| !c.candidate.is_empty()) else {
            return;
        };
        if self.phase == Phase::Done || self.connected {
            return;
        }
        if !self.local_sdp_sent {
            if self.local_queue.len() >= MAX_QUEUED_CANDIDATES {
                self.fail(SignalingError::TooManyCandidates);
            } else {
                self.local_queue.push(candidate);
            }
            return;
        }
        self.send(&Message::new(
            MessageType::IceCandidate,
            candidate.to_json(),
        ));
    }

    /// `onconnectionstatechange` fired with this state.
    pub fn handle_connection_state(&mut self, now: Duration, state: ConnectionState) {
        if self.phase == Phase::Done {
            return;
        }
        match state {
            ConnectionState::Failed | ConnectionState::Closed => {
                self.fail(SignalingError::Connection(state))
            }
            ConnectionState::Connected => {
                self.connected = true;
                self.maybe_finish(now);
            }
            ConnectionState::New | ConnectionState::Connecting | ConnectionState::Disconnected => {}
        }
    }

    /// Dialer: the `init` data channel fired `open`.
    pub fn handle_init_channel_open(&mut self, now: Duration) {
        self.init_open = true;
        self.maybe_finish(now);
    }

    /// Dialer: the `init` data channel fired `close`.
    ///
    /// Whoever closed it (js-libp2p listeners close an inbound `init` on arrival, possibly
    /// before this side saw it open), its id is free once `close` fired: once connected, the
    /// sequence is done.
    pub fn handle_init_channel_closed(&mut self, now: Duration) {
        self.init_closed = true;
        self.maybe_finish(now);
    }

    fn handle_message(&mut self, now: Duration, message: Message) {
        match (self.phase, message.kind) {
            (Phase::Start, MessageType::SdpOffer) if self.role == Role::Listener => {
                self.receive_remote_sdp(now, SdpKind::Offer, message.data);
            }
            (Phase::AwaitingAnswer, MessageType::SdpAnswer) => {
                self.receive_remote_sdp(now, SdpKind::Answer, message.data);
            }
            (
                Phase::SettingRemote
                | Phase::CreatingAnswer
                | Phase::Connecting
                | Phase::ClosingInit,
                MessageType::IceCandidate,
            ) => match RemoteCandidate::parse(&message.data) {
                Ok(candidate) if self.remote_sdp_set => self.add_remote(candidate),
                Ok(candidate) if self.remote_queue.len() < MAX_QUEUED_CANDIDATES => {
                    self.remote_queue.push(candidate)
                }
                Ok(_) => self.fail(SignalingError::TooManyCandidates),
                Err(error) => self.outputs.push_back(Output::IgnoredCandidate(error)),
            },
            (Phase::Done, _) => {}
            (_, got) => self.fail(SignalingError::UnexpectedMessage {
                step: self.step,
                got,
            }),
        }
    }

    fn receive_remote_sdp(&mut self, now: Duration, kind: SdpKind, sdp: String) {
        if sdp.is_empty() {
            return self.fail(SignalingError::EmptySdp(self.step));
        }
        self.phase = Phase::SettingRemote;
        self.wait(
            now,
            Step::SetRemoteDescription,
            self.timeouts.browser_operation,
        );
        self.act(Action::SetRemoteDescription { kind, sdp });
    }

    fn add_remote(&mut self, candidate: RemoteCandidate) {
        if self.connected {
            return;
        }
        self.act(match candidate {
            RemoteCandidate::Candidate(candidate) => Action::AddIceCandidate(candidate),
            RemoteCandidate::EndOfCandidates => Action::AddEndOfCandidates,
        });
    }

    /// Sends the local SDP, then asks for `setLocalDescription`, then flushes queued candidates.
    fn send_local_sdp(&mut self, kind: MessageType, sdp_kind: SdpKind, sdp: String) -> bool {
        let step = if sdp_kind == SdpKind::Offer {
            Step::CreateOffer
        } else {
            Step::CreateAnswer
        };
        if sdp.is_empty() {
            self.fail(SignalingError::EmptySdp(step));
            return false;
        }
        match encode(&Message::new(kind, sdp.as_str())) {
            Ok(bytes) => self.outputs.push_back(Output::Send(bytes)),
            Err(error) => {
                self.fail(SignalingError::SdpTooLarge(error.len));
                return false;
            }
        }
        self.act(Action::SetLocalDescription {
            kind: sdp_kind,
            sdp,
        });
        self.local_sdp_sent = true;
        for candidate in core::mem::take(&mut self.local_queue) {
            self.send(&Message::new(
                MessageType::IceCandidate,
                candidate.to_json(),
            ));
        }
        true
    }

    fn maybe_finish(&mut self, now: Duration) {
        if !self.connected || !matches!(self.phase, Phase::Connecting | Phase::ClosingInit) {
            return;
        }
        match self.role {
            Role::Listener => self.succeed(),
            Role::Dialer => {
                if self.phase == Phase::Connecting {
                    self.phase = Phase::ClosingInit;
                    self.wait(now, Step::CloseInitChannel, self.timeouts.close_init);
                }
                if self.init_closed {
                    self.succeed();
                } else if self.init_open && !self.init_close_requested {
                    self.init_close_requested = true;
                    self.act(Action::CloseInitChannel);
                }
            }
        }
    }

    fn succeed(&mut self) {
        self.act(Action::CloseSignalingStream);
        self.outputs.push_back(Output::Connected);
        self.finish();
    }

    fn fail(&mut self, error: SignalingError) {
        if self.phase == Phase::Done {
            return;
        }
        self.act(Action::ResetSignalingStream);
        self.act(Action::ClosePeerConnection);
        self.outputs.push_back(Output::Failed(error));
        self.finish();
    }

    fn finish(&mut self) {
        self.phase = Phase::Done;
        self.local_queue = Vec::new();
        self.remote_queue = Vec::new();
        self.decoder = Decoder::new();
    }

    fn send(&mut self, message: &Message) {
        match encode(message) {
            Ok(bytes) => self.outputs.push_back(Output::Send(bytes)),
            // A candidate line is never near the limit; a huge one is not worth sending.
            Err(_) => self
                .outputs
                .push_back(Output::IgnoredCandidate(CandidateError::TooLarge)),
        }
    }

    fn act(&mut self, action: Action) {
        self.outputs.push_back(Output::Action(action));
    }

    fn wait(&mut self, now: Duration, step: Step, timeout: Duration) {
        self.step = step;
        self.step_deadline = now + timeout;
    }
}

#[cfg(test)]
mod tests;
