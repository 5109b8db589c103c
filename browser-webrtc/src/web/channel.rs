//! One libp2p stream on one `RTCDataChannel`: `AsyncRead`/`AsyncWrite` over
//! [`crate::framing`] and [`crate::framing::StreamState`] (FIN/FIN_ACK close).
//!
//! Writes send one whole frame per `send()` (at most [`MAX_PAYLOAD_LEN`] payload bytes) while
//! `bufferedAmount` is under [`HIGH_WATER`], resuming on `bufferedamountlow`. Reads buffer at
//! about [`MAX_RECEIVE_BUFFER`] bytes received but not yet read (twice that at worst: raw
//! chunks plus decoded data) (browsers have no read-side flow
//! control, and a js-libp2p sender may have 2 MiB in flight); more resets the stream. Garbage
//! or oversized frames reset the stream, never the connection.
//!
//! # First write
//! Under load Chromium can hand the receiving side a channel that is already `open` (no `open`
//! event follows), and drop a message that side sends before the creator's channel has fired
//! `open`. So the creator ([`DataChannelStream::outbound`]) writes only once `open` has fired,
//! and the receiver (inbound streams) writes only once a frame from the creator has arrived,
//! which the creator can only have sent after its `open`. libp2p streams lose nothing by this:
//! the creator runs the multistream-select dialer, which speaks first.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures_io::{AsyncRead, AsyncWrite};
use wasm_bindgen::JsCast as _;
use wasm_bindgen::closure::Closure;
use web_sys::{MessageEvent, RtcDataChannel, RtcDataChannelState};

use super::now;
use crate::framing::{Decoder, Frame, MAX_PAYLOAD_LEN, ReadHalf, StreamState, encode};

/// Stop writing while `bufferedAmount` is above this (js-libp2p: 2 MiB).
pub const HIGH_WATER: u32 = 2 * 1024 * 1024;
/// Resume writing when `bufferedAmount` falls to this.
pub const LOW_WATER: u32 = 256 * 1024;
/// Most bytes received and not yet read.
pub const MAX_RECEIVE_BUFFER: usize = 4 * 1024 * 1024;

#[derive(Default)]
struct Shared {
    incoming: VecDeque<Vec<u8>>,
    incoming_bytes: usize,
    overflow: bool,
    open: bool,
    closed: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

impl Shared {
    fn wake(&mut self) {
        if let Some(w) = self.read_waker.take() {
            w.wake();
        }
        if let Some(w) = self.write_waker.take() {
            w.wake();
        }
    }
}

/// A data channel carrying one framed libp2p stream.
pub struct DataChannelStream {
    channel: RtcDataChannel,
    shared: Rc<RefCell<Shared>>,
    decoder: Decoder,
    state: StreamState,
    readable: VecDeque<u8>,
    /// False for an inbound stream until a frame has arrived (see "First write").
    may_write: bool,
    timer_armed: bool,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_event: Closure<dyn FnMut(web_sys::Event)>,
}

impl core::fmt::Debug for DataChannelStream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DataChannelStream")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

fn io_error(kind: io::ErrorKind, text: impl Into<String>) -> io::Error {
    io::Error::new(kind, text.into())
}

impl DataChannelStream {
    /// Wraps a channel this side created (`PeerConnection::create_data_channel`); it writes
    /// once the channel has fired `open`.
    pub fn outbound(channel: RtcDataChannel) -> Self {
        Self::new(channel, true)
    }

    /// Wraps a channel the peer created, as soon as `ondatachannel` hands it over so that no
    /// message is missed; it writes only after the peer's first frame.
    pub(crate) fn inbound(channel: RtcDataChannel) -> Self {
        Self::new(channel, false)
    }

    fn new(channel: RtcDataChannel, may_write: bool) -> Self {
        let shared = Rc::new(RefCell::new(Shared {
            open: channel.ready_state() == RtcDataChannelState::Open,
            ..Shared::default()
        }));
        let queue = shared.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let mut shared = queue.borrow_mut();
            if let Ok(buffer) = event.data().dyn_into::<js_sys::ArrayBuffer>() {
                let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                if shared.incoming_bytes + bytes.len() > MAX_RECEIVE_BUFFER {
                    shared.overflow = true;
                } else {
                    shared.incoming_bytes += bytes.len();
                    shared.incoming.push_back(bytes);
                }
            }
            shared.wake();
        });
        let queue = shared.clone();
        let watched = channel.clone();
        let on_event = Closure::<dyn FnMut(web_sys::Event)>::new(move |_event: web_sys::Event| {
            let mut shared = queue.borrow_mut();
            match watched.ready_state() {
                RtcDataChannelState::Open => shared.open = true,
                RtcDataChannelState::Closed => shared.closed = true,
                _ => {}
            }
            shared.wake();
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        channel.set_onopen(Some(on_event.as_ref().unchecked_ref()));
        channel.set_onclose(Some(on_event.as_ref().unchecked_ref()));
        channel.set_onbufferedamountlow(Some(on_event.as_ref().unchecked_ref()));
        channel.set_buffered_amount_low_threshold(LOW_WATER);
        Self {
            channel,
            shared,
            decoder: Decoder::new(),
            state: StreamState::default(),
            readable: VecDeque::new(),
            may_write,
            timer_armed: false,
            _on_message: on_message,
            _on_event: on_event,
        }
    }

    /// The channel's label (`""` for libp2p streams, `init` for the dialer's first channel).
    pub fn label(&self) -> String {
        self.channel.label()
    }

    /// Closes a channel that carries no libp2p stream (the `init` channel) without sending any
    /// frame.
    pub fn close_unframed(mut self) {
        self.state.handle_channel_closed();
    }

    /// Feeds received bytes through the decoder and the close state machine, sends the control
    /// frames that result, and closes the channel once both halves are done.
    fn process(&mut self) -> io::Result<()> {
        let (chunks, overflow, closed) = {
            let mut shared = self.shared.borrow_mut();
            shared.incoming_bytes = 0;
            (
                core::mem::take(&mut shared.incoming),
                shared.overflow,
                shared.closed,
            )
        };
        if overflow {
            return Err(self.fail(io::ErrorKind::OutOfMemory, "receive buffer overflow"));
        }
        for chunk in chunks {
            let mut input = chunk.as_slice();
            loop {
                match self.decoder.decode(&mut input) {
                    Ok(Some(frame)) => match self.handle_frame(frame) {
                        Ok(Some(data)) => self.readable.extend(data),
                        Ok(None) => {}
                        Err(error) => {
                            return Err(self.fail(io::ErrorKind::InvalidData, error.to_string()));
                        }
                    },
                    Ok(None) => break,
                    Err(error) => {
                        return Err(self.fail(io::ErrorKind::InvalidData, error.to_string()));
                    }
                }
            }
        }
        if self.readable.len() > MAX_RECEIVE_BUFFER {
            return Err(self.fail(io::ErrorKind::OutOfMemory, "receive buffer overflow"));
        }
        if closed {
            self.state.handle_channel_closed();
        }
        self.state.handle_timeout(now());
        self.flush_control()?;
        if self.state.should_close_channel() && !closed {
            self.channel.close();
        }
        Ok(())
    }

    fn handle_frame(
        &mut self,
        frame: Frame,
    ) -> Result<Option<Vec<u8>>, crate::framing::StreamError> {
        self.may_write = true;
        self.state.handle_frame(frame)
    }

    fn flush_control(&mut self) -> io::Result<()> {
        while let Some(frame) = self.state.poll_transmit() {
            self.send(&frame)?;
        }
        Ok(())
    }

    fn send(&self, frame: &Frame) -> io::Result<()> {
        let bytes =
            encode(frame).map_err(|e| io_error(io::ErrorKind::InvalidInput, e.to_string()))?;
        self.channel
            .send_with_u8_array(&bytes)
            .map_err(|e| io_error(io::ErrorKind::BrokenPipe, super::JsError::from(e).0))
    }

    /// Resets the stream (sends `RESET_STREAM`, closes the channel) and returns the error.
    fn fail(&mut self, kind: io::ErrorKind, text: impl Into<String>) -> io::Error {
        self.state.reset();
        let _ = self.flush_control();
        self.channel.close();
        io_error(kind, text)
    }

    /// Ready once this side may write (see "First write"); an error once the channel closed.
    fn wait_writable(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.may_write {
            self.process()?;
        }
        let mut shared = self.shared.borrow_mut();
        if shared.closed {
            return Poll::Ready(Err(io_error(
                io::ErrorKind::NotConnected,
                "data channel closed",
            )));
        }
        if shared.open && self.may_write {
            return Poll::Ready(Ok(()));
        }
        shared.write_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl AsyncRead for DataChannelStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.process()?;
        if !this.readable.is_empty() {
            let n = buf.len().min(this.readable.len());
            for (slot, byte) in buf.iter_mut().zip(this.readable.drain(..n)) {
                *slot = byte;
            }
            return Poll::Ready(Ok(n));
        }
        match this.state.read_half() {
            ReadHalf::Finished | ReadHalf::Stopped => Poll::Ready(Ok(0)),
            ReadHalf::Reset => Poll::Ready(Err(io_error(
                io::ErrorKind::ConnectionReset,
                "stream reset",
            ))),
            ReadHalf::Closed => Poll::Ready(Err(io_error(
                io::ErrorKind::ConnectionAborted,
                "data channel closed",
            ))),
            ReadHalf::Open => {
                this.shared.borrow_mut().read_waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for DataChannelStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match this.wait_writable(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        }
        this.process()?;
        this.state
            .check_write()
            .map_err(|e| io_error(io::ErrorKind::BrokenPipe, e.to_string()))?;
        if this.channel.buffered_amount() > HIGH_WATER {
            this.shared.borrow_mut().write_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(MAX_PAYLOAD_LEN);
        this.send(&Frame::data(&buf[..n]))?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Sends `FIN` and waits for `FIN_ACK` (or its timeout) before reporting the write half
    /// closed.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match this.wait_writable(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
            Poll::Pending => return Poll::Pending,
        }
        this.state.close_write(now());
        this.process()?;
        match this.state.poll_timeout() {
            None => Poll::Ready(Ok(())),
            Some(deadline) => {
                this.shared.borrow_mut().write_waker = Some(cx.waker().clone());
                if !this.timer_armed {
                    this.timer_armed = true;
                    let wait = deadline.saturating_sub(now()).as_millis() as u64 + 1;
                    super::wake_after(wait, cx.waker().clone())
                        .map_err(|e| io_error(io::ErrorKind::Other, e.0))?;
                }
                Poll::Pending
            }
        }
    }
}

impl Drop for DataChannelStream {
    fn drop(&mut self) {
        if !self.state.should_close_channel() && !self.shared.borrow().closed {
            self.state.reset();
            let _ = self.flush_control();
        }
        self.channel.set_onmessage(None);
        self.channel.set_onopen(None);
        self.channel.set_onclose(None);
        self.channel.set_onbufferedamountlow(None);
        self.channel.close();
    }
}
