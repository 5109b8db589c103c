//! The browser side of libp2p's WebRTC private-to-private transport (`/webrtc`), with
//! out-of-band signaling.
//!
//! The modules below are sans-IO: no browser API, clock or random source; time and randomness
//! are arguments. They build natively (where they are tested) and for `wasm32-unknown-unknown`.
//! - [`signaling`]: `/webrtc-signaling/0.0.1` messages and the dialer/listener sequences.
//! - [`framing`]: the data-channel stream frame and the per-stream half-close state machine.
//! - [`oob`]: signed, compact offer/answer blobs for QR codes or copy-paste.
//! - [`addr`]: splitting `/p2p-circuit/webrtc` addresses.
//! - [`ice`]: checked ICE server settings (STUN, TURN).
//!
//! - `web` (wasm only): the web-sys glue that drives them: the `RTCPeerConnection` wrapper, a
//!   data-channel stream, `Connection` (a libp2p `StreamMuxer`, one data channel per
//!   substream), the relay-path signaling driver, the out-of-band set-up, and `Transport`.
//!
//! # Authentication
//! No Noise handshake runs on a `/webrtc` connection (specs `webrtc/webrtc.md`, FAQ; js-libp2p
//! upgrades with `skipEncryption`): the SDPs carry the DTLS fingerprints, which the browser
//! enforces, and they travel over an authenticated channel: the relayed libp2p connection
//! (its own Noise, end to end through the relay) or, out of band, blobs signed by the device
//! keys. The remote `PeerId` is that channel's peer. The id-0 negotiated channel with a Noise
//! prologue over both fingerprints belongs to WebRTC Direct, where the fingerprint arrives
//! over an untrusted channel.
//!
//! # In a swarm (wasm)
//! Put `libp2p_stream::Behaviour` in the behaviour and build the transport with
//! `web::Transport::with_signaling(behaviour.new_control(), config)`, ahead of the relay
//! client's transport (`web_transport.or_transport(relay_transport)`, not
//! `SwarmBuilder::with_relay_client`, which puts the relay first and would dial `/webrtc`
//! addresses as plain circuits), mapped to `StreamMuxerBox`. Then:
//! - listen on `/webrtc` (out-of-band connections, handed over through `web::Handle`) and on
//!   `<relay>/p2p/<R>/p2p-circuit/webrtc` next to the relay reservation `…/p2p-circuit`;
//! - dial `<relay>/p2p/<R>/p2p-circuit/webrtc/p2p/<X>` once a relayed connection to `X` is up.
//!
//! A direct connection's remote address is `/webrtc/p2p/<X>`; a relayed one contains
//! `/p2p-circuit`: that is how the app tells "direct" from "relayed". Enable `futures-timer`'s
//! `wasm-bindgen` feature in the app, or libp2p-swarm's timers panic in the browser.
//!
//! Implementation notes and citations: `WEBRTC.md` in the shared docs.
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod addr;
pub mod framing;
pub mod ice;
pub mod oob;

mod proto;
pub mod signaling;
#[cfg(target_family = "wasm")]
pub mod web;

pub use proto::{PrefixError, ProtoError};
