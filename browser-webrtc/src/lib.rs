//! The browser side of libp2p's WebRTC private-to-private transport (`/webrtc`), with
//! out-of-band signaling.
//!
//! The modules below are sans-IO: no browser API, clock or random source; time and randomness
//! are arguments. They build natively (where they are tested) and for `wasm32-unknown-unknown`.
//! - [`signaling`]: `/webrtc-signaling/0.0.1` messages and the dialer/listener sequences.
//! - [`framing`]: the data-channel stream frame and the per-stream half-close state machine.
//! - [`oob`]: signed, compact offer/answer blobs for QR codes or copy-paste.
//! - [`addr`]: splitting `/p2p-circuit/webrtc` addresses.
//!
//! - `web` (wasm only): the web-sys glue that drives them: the `RTCPeerConnection` wrapper, a
//!   data-channel stream, `Connection` (a libp2p `StreamMuxer`, one data channel per
//!   substream, no Noise: the PeerId comes from the authenticated signaling path), the
//!   out-of-band set-up, and `Transport` (a libp2p `Transport` into which connections set up
//!   beside the swarm are handed; its module documents why).
//!
//! Implementation notes and citations: `WEBRTC.md` in the shared docs.
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod addr;
pub mod framing;
pub mod oob;

mod proto;
pub mod signaling;
#[cfg(target_family = "wasm")]
pub mod web;

pub use proto::{PrefixError, ProtoError};
