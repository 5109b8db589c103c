//! The browser side of libp2p's WebRTC private-to-private transport (`/webrtc`), with out-of-band signaling.
