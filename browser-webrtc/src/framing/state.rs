//! Per-stream half-close state machine with `FIN_ACK` (libp2p specs `webrtc/README.md`, "Closing").
//!
//! Sans-IO: the glue feeds received frames ([`StreamState::handle_frame`]), local commands
//! ([`StreamState::close_write`], [`StreamState::stop_reading`], [`StreamState::reset`]),
//! timer expiry ([`StreamState::handle_timeout`]) and the channel's `close` event
//! ([`StreamState::handle_channel_closed`]); it sends the control frames from
//! [`StreamState::poll_transmit`], arms a timer at [`StreamState::poll_timeout`], and closes
//! the `RTCDataChannel` once [`StreamState::should_close_channel`] is true.
//!
//! | event | write half | read half | sends |
//! |---|---|---|---|
//! | `close_write` while `Open` | `FinSent` (timer) | – | `FIN` |
//! | `FIN_ACK` while `FinSent` | `Closed` | – | – |
//! | timer while `FinSent` | `FinAckTimedOut` | – | – |
//! | `FIN` while `Open`/`Stopped` | – | `Finished` | `FIN_ACK` (again for a repeated `FIN`) |
//! | `STOP_SENDING` while `Open`/`FinSent` | `StoppedByPeer` | – | nothing (never `RESET`) |
//! | `stop_reading` while `Open` | – | `Stopped` | `STOP_SENDING` |
//! | `RESET_STREAM` received | `Reset` | `Reset` | – |
//! | `reset` | `Reset` | `Reset` | `RESET_STREAM` (unless already reset) |
//! | channel `close` event | `Reset` unless closed | `Closed` unless finished | – |
//!
//! Data is delivered only while the read half is `Open`; data after our `STOP_SENDING` or after
//! a reset is dropped; data after the peer's `FIN` is a protocol violation
//! ([`StreamError::DataAfterFin`]). The channel may close once both halves are done.

use std::collections::VecDeque;
use std::time::Duration;

use super::{Flag, Frame};

/// Default wait for `FIN_ACK` (js-libp2p's `DEFAULT_FIN_ACK_TIMEOUT`).
pub const DEFAULT_FIN_ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// The sending half.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteHalf {
    /// Writes allowed.
    Open,
    /// `FIN` sent, waiting for `FIN_ACK` until the deadline.
    FinSent {
        /// When to give up waiting.
        deadline: Duration,
    },
    /// `FIN_ACK` received: the peer has everything.
    Closed,
    /// No `FIN_ACK` in time; closed anyway.
    FinAckTimedOut,
    /// The peer sent `STOP_SENDING`.
    StoppedByPeer,
    /// Reset by either side, or the channel closed first.
    Reset,
}

/// The receiving half.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadHalf {
    /// Data is delivered.
    Open,
    /// We sent `STOP_SENDING`; data is dropped, flags still acted on.
    Stopped,
    /// The peer sent `FIN`: end of data.
    Finished,
    /// Reset by either side.
    Reset,
    /// The channel closed before a `FIN`.
    Closed,
}

/// Why a write was refused or a frame broke the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The write half is no longer open (its state is given).
    #[error("write half is closed ({0:?})")]
    WriteClosed(WriteHalf),
    /// The peer sent data after its `FIN`.
    #[error("data after FIN")]
    DataAfterFin,
}

/// The close state of one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamState {
    read: ReadHalf,
    write: WriteHalf,
    fin_ack_timeout: Duration,
    transmit: VecDeque<Flag>,
}

impl Default for StreamState {
    fn default() -> Self {
        Self::new(DEFAULT_FIN_ACK_TIMEOUT)
    }
}

impl StreamState {
    /// An open stream that waits `fin_ack_timeout` for `FIN_ACK`.
    pub fn new(fin_ack_timeout: Duration) -> Self {
        Self {
            read: ReadHalf::Open,
            write: WriteHalf::Open,
            fin_ack_timeout,
            transmit: VecDeque::new(),
        }
    }

    /// The read half.
    pub fn read_half(&self) -> ReadHalf {
        self.read
    }

    /// The write half.
    pub fn write_half(&self) -> WriteHalf {
        self.write
    }

    /// `Ok` if data may be written now.
    pub fn check_write(&self) -> Result<(), StreamError> {
        match self.write {
            WriteHalf::Open => Ok(()),
            other => Err(StreamError::WriteClosed(other)),
        }
    }

    /// Whether the read half has ended (end of file, reset or closed) for the reader.
    pub fn read_ended(&self) -> bool {
        self.read != ReadHalf::Open
    }

    /// Whether both halves are done, so the `RTCDataChannel` should be closed.
    pub fn should_close_channel(&self) -> bool {
        let write_done = !matches!(self.write, WriteHalf::Open | WriteHalf::FinSent { .. });
        write_done && self.read != ReadHalf::Open
    }

    /// The next control frame to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Frame> {
        self.transmit.pop_front().map(Frame::flag)
    }

    /// When to call [`Self::handle_timeout`].
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Duration> {
        match self.write {
            WriteHalf::FinSent { deadline } => Some(deadline),
            _ => None,
        }
    }

    /// Stops writing: sends `FIN` and waits for `FIN_ACK`. Idempotent.
    pub fn close_write(&mut self, now: Duration) {
        if self.write == WriteHalf::Open {
            self.write = WriteHalf::FinSent {
                deadline: now + self.fin_ack_timeout,
            };
            self.transmit.push_back(Flag::Fin);
        }
    }

    /// Stops reading: sends `STOP_SENDING`. Idempotent.
    pub fn stop_reading(&mut self) {
        if self.read == ReadHalf::Open {
            self.read = ReadHalf::Stopped;
            self.transmit.push_back(Flag::StopSending);
        }
    }

    /// Abandons the stream: sends `RESET_STREAM` unless it is already reset or closed.
    pub fn reset(&mut self) {
        if self.write != WriteHalf::Reset
            || !matches!(self.read, ReadHalf::Reset | ReadHalf::Closed)
        {
            self.transmit.push_back(Flag::ResetStream);
        }
        self.write = WriteHalf::Reset;
        self.read = ReadHalf::Reset;
    }

    /// Gives up on `FIN_ACK` once `now` reaches the deadline.
    pub fn handle_timeout(&mut self, now: Duration) {
        if let WriteHalf::FinSent { deadline } = self.write
            && now >= deadline
        {
            self.write = WriteHalf::FinAckTimedOut;
        }
    }

    /// The `RTCDataChannel` fired `close`: both halves end.
    pub fn handle_channel_closed(&mut self) {
        self.transmit.clear();
        if matches!(self.write, WriteHalf::Open | WriteHalf::FinSent { .. }) {
            self.write = WriteHalf::Reset;
        }
        if matches!(self.read, ReadHalf::Open | ReadHalf::Stopped) {
            self.read = ReadHalf::Closed;
        }
    }

    /// A frame arrived. Returns the payload to deliver to the reader, if any.
    pub fn handle_frame(&mut self, frame: Frame) -> Result<Option<Vec<u8>>, StreamError> {
        let delivered = match (frame.message, self.read) {
            (Some(data), ReadHalf::Open) => Some(data).filter(|d| !d.is_empty()),
            (Some(data), ReadHalf::Finished) if !data.is_empty() => {
                return Err(StreamError::DataAfterFin);
            }
            _ => None,
        };
        match frame.flag {
            Some(Flag::Fin) => {
                if matches!(
                    self.read,
                    ReadHalf::Open | ReadHalf::Stopped | ReadHalf::Finished
                ) {
                    self.read = ReadHalf::Finished;
                    self.transmit.push_back(Flag::FinAck);
                }
            }
            Some(Flag::FinAck) => {
                if matches!(self.write, WriteHalf::FinSent { .. }) {
                    self.write = WriteHalf::Closed;
                }
            }
            Some(Flag::StopSending) => {
                if matches!(self.write, WriteHalf::Open | WriteHalf::FinSent { .. }) {
                    self.write = WriteHalf::StoppedByPeer;
                }
            }
            Some(Flag::ResetStream) => {
                self.write = WriteHalf::Reset;
                self.read = ReadHalf::Reset;
            }
            None => {}
        }
        Ok(delivered)
    }
}

#[cfg(test)]
mod tests;
