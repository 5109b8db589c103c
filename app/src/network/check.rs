//! The connection check: numbered requests sent to a peer, each answered before the next goes,
//! counted and timed, so a user or a support person can see that a link carries messages and
//! how fast.
//!
//! Wire format of [`PROTOCOL`]: the checker opens a stream and writes requests of exactly
//! [`MESSAGE_LEN`] bytes: a 4-byte big-endian sequence number, then a pattern derived from it.
//! The peer writes each request back unchanged as its response. The checker closes the stream
//! when done. A peer answers at most [`MAX_COUNT`] requests per stream and [`MAX_SERVED`]
//! streams at once; further streams are reset. Fixed-size messages: nothing to parse.

use std::cell::Cell;
use std::rc::Rc;

use futures::future::Either;
use futures::{AsyncReadExt as _, AsyncWriteExt as _, StreamExt as _};
use libp2p::{PeerId, StreamProtocol};
use libp2p_stream::{Control, IncomingStreams};

/// The protocol name.
pub const PROTOCOL: StreamProtocol = StreamProtocol::new("/om/connection-check/1");
/// Bytes per request and per response.
pub const MESSAGE_LEN: usize = 32;
/// Most requests in one check.
pub const MAX_COUNT: u32 = 10_000;
/// Most checks answered at once.
pub const MAX_SERVED: usize = 4;
/// A response that takes longer than this ends the check.
const RESPONSE_TIMEOUT_MS: u32 = 10_000;

/// What a check found.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    /// Requests the check was to send.
    pub requested: u32,
    /// Requests answered correctly, in order.
    pub answered: u32,
    /// Median round trip, milliseconds (0 if none was answered).
    pub p50_ms: f64,
    /// 99th-percentile round trip, milliseconds (0 if none was answered).
    pub p99_ms: f64,
    /// Why the check stopped early.
    pub failure: Option<CheckFailure>,
}

/// Why a check stopped before every request was answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckFailure {
    /// No stream to the peer could be opened.
    #[error("could not reach the peer: {0}")]
    Open(String),
    /// The stream failed.
    #[error("the link failed: {0}")]
    Io(String),
    /// A response was not the request it answers.
    #[error("a wrong response to request {0}")]
    WrongResponse(u32),
    /// No response within the time limit.
    #[error("no response within {RESPONSE_TIMEOUT_MS} ms")]
    TimedOut,
}

/// Request `index`: its number, then a pattern that depends on it.
fn request(index: u32) -> [u8; MESSAGE_LEN] {
    let mut message = [0u8; MESSAGE_LEN];
    message[..4].copy_from_slice(&index.to_be_bytes());
    for (k, byte) in message[4..].iter_mut().enumerate() {
        *byte = (index as u8).wrapping_mul(31).wrapping_add(k as u8);
    }
    message
}

/// Sends `count` requests (at most [`MAX_COUNT`]) to `peer` over one new stream.
pub async fn run(control: &mut Control, peer: PeerId, count: u32) -> CheckReport {
    let requested = count.min(MAX_COUNT);
    let mut round_trips = Vec::with_capacity(requested as usize);
    let failure = exchange(control, peer, requested, &mut round_trips).await.err();
    let (p50_ms, p99_ms) = (percentile(&mut round_trips, 50), percentile(&mut round_trips, 99));
    CheckReport { requested, answered: round_trips.len() as u32, p50_ms, p99_ms, failure }
}

async fn exchange(control: &mut Control, peer: PeerId, count: u32, round_trips: &mut Vec<f64>) -> Result<(), CheckFailure> {
    let io = |e: std::io::Error| CheckFailure::Io(e.to_string());
    let mut stream = control.open_stream(peer, PROTOCOL).await.map_err(|e| CheckFailure::Open(e.to_string()))?;
    let mut response = [0u8; MESSAGE_LEN];
    for index in 0..count {
        let sent = request(index);
        let started = now_ms();
        let exchanged = async {
            stream.write_all(&sent).await?;
            stream.flush().await?;
            stream.read_exact(&mut response).await
        };
        let timeout = gloo::timers::future::TimeoutFuture::new(RESPONSE_TIMEOUT_MS);
        match futures::future::select(Box::pin(exchanged), timeout).await {
            Either::Left((result, _)) => result.map_err(io)?,
            Either::Right(_) => return Err(CheckFailure::TimedOut),
        }
        if response != sent {
            return Err(CheckFailure::WrongResponse(index));
        }
        round_trips.push(now_ms() - started);
    }
    stream.close().await.map_err(io)
}

/// The nearest-rank percentile; sorts `values`.
fn percentile(values: &mut [f64], percent: usize) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = (values.len() * percent).div_ceil(100).max(1);
    values[rank - 1]
}

/// Answers checks from peers, in the background.
pub fn serve(mut incoming: IncomingStreams) {
    leptos::task::spawn_local(async move {
        let serving = Rc::new(Cell::new(0usize));
        while let Some((_, stream)) = incoming.next().await {
            if serving.get() >= MAX_SERVED {
                // Dropping the stream resets it.
                continue;
            }
            serving.set(serving.get() + 1);
            let serving = serving.clone();
            leptos::task::spawn_local(async move {
                answer(stream).await;
                serving.set(serving.get() - 1);
            });
        }
    });
}

async fn answer(mut stream: libp2p::Stream) {
    let mut message = [0u8; MESSAGE_LEN];
    for _ in 0..MAX_COUNT {
        if stream.read_exact(&mut message).await.is_err() {
            break;
        }
        if stream.write_all(&message).await.is_err() || stream.flush().await.is_err() {
            return;
        }
    }
    let _ = stream.close().await;
}

/// Milliseconds from the page's high-resolution clock.
fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(js_sys::Date::now, |p| p.now())
}
