//! The relay's limits, raised from libp2p's defaults (2 minutes and 128 KiB per circuit, 16
//! circuits, 4 per peer) to fit chat.
//!
//! A circuit carries a conversation between two browsers until they have a direct WebRTC link,
//! and all of it when they cannot get one (symmetric NATs): it must last through a long chat and
//! a full history sync, not two minutes. When a circuit reaches a limit the relay closes it and
//! the app dials again; the chat outbox resends what was not acknowledged, so a limit costs a
//! reconnect, never a message. Everything stays bounded: the product of the limits below is the
//! worst case the relay commits to.

use std::{num::NonZeroU32, time::Duration};

use libp2p::relay;

/// How long a circuit may last: 12 hours, a working day of an open conversation. Sent to both
/// ends in the circuit's `Limit` (the spec's field is u32 seconds).
pub const MAX_CIRCUIT_DURATION: Duration = Duration::from_secs(12 * 3600);
/// Bytes a circuit may carry, both directions together: 64 MiB. Chat envelopes are about 1 KiB,
/// so that is tens of thousands of messages, or a fresh device's full history sync.
pub const MAX_CIRCUIT_BYTES: u64 = 64 * 1024 * 1024;
/// Circuits open at once, over all peers.
pub const MAX_CIRCUITS: usize = 1024;
/// Circuits at once that one peer is an end of: one per open conversation it has not yet
/// moved to a direct link.
pub const MAX_CIRCUITS_PER_PEER: usize = 32;
/// Reservations held at once, over all peers.
pub const MAX_RESERVATIONS: usize = 4096;
/// Reservations one peer may hold (libp2p's default is 4): one per relay listener it reaches
/// (WebSocket and WebRTC-direct), for two tabs of one device (the device key is the PeerId, so
/// its tabs share it), twice over while a reconnect overlaps the connection it replaces.
pub const MAX_RESERVATIONS_PER_PEER: usize = 8;
/// How long a reservation lasts before the client must renew it (libp2p clients renew on their
/// own, ahead of expiry).
pub const RESERVATION_DURATION: Duration = Duration::from_secs(3600);

/// Reservations a peer may make in a burst, then one more per [`RESERVATION_REFILL_PER_PEER`].
pub const RESERVATION_BURST_PER_PEER: u32 = 30;
/// See [`RESERVATION_BURST_PER_PEER`]: a flaky mobile link reconnects every minute at worst.
pub const RESERVATION_REFILL_PER_PEER: Duration = Duration::from_secs(60);
/// Reservations from one IP address in a burst, then one more per [`RESERVATION_REFILL_PER_IP`].
/// High because carrier-grade NAT puts many phones behind one address.
pub const RESERVATION_BURST_PER_IP: u32 = 600;
/// See [`RESERVATION_BURST_PER_IP`].
pub const RESERVATION_REFILL_PER_IP: Duration = Duration::from_secs(1);
/// Circuits a peer may open in a burst (every conversation at once after coming back online),
/// then one more per [`CIRCUIT_REFILL_PER_PEER`].
pub const CIRCUIT_BURST_PER_PEER: u32 = 60;
/// See [`CIRCUIT_BURST_PER_PEER`].
pub const CIRCUIT_REFILL_PER_PEER: Duration = Duration::from_secs(10);
/// Circuits opened from one IP address in a burst, then one more per [`CIRCUIT_REFILL_PER_IP`].
pub const CIRCUIT_BURST_PER_IP: u32 = 1200;
/// See [`CIRCUIT_BURST_PER_IP`].
pub const CIRCUIT_REFILL_PER_IP: Duration = Duration::from_millis(500);

/// The relay server's configuration with the limits above (and no others: libp2p's default
/// rate limiters are replaced, not added to).
pub(super) fn relay_config() -> relay::Config {
    let burst = |limit: u32| NonZeroU32::new(limit).unwrap_or(NonZeroU32::MIN);
    relay::Config {
        max_reservations: MAX_RESERVATIONS,
        max_reservations_per_peer: MAX_RESERVATIONS_PER_PEER,
        reservation_duration: RESERVATION_DURATION,
        reservation_rate_limiters: Vec::new(),
        max_circuits: MAX_CIRCUITS,
        max_circuits_per_peer: MAX_CIRCUITS_PER_PEER,
        max_circuit_duration: MAX_CIRCUIT_DURATION,
        max_circuit_bytes: MAX_CIRCUIT_BYTES,
        circuit_src_rate_limiters: Vec::new(),
    }
    .reservation_rate_per_peer(burst(RESERVATION_BURST_PER_PEER), RESERVATION_REFILL_PER_PEER)
    .reservation_rate_per_ip(burst(RESERVATION_BURST_PER_IP), RESERVATION_REFILL_PER_IP)
    .circuit_src_per_peer(burst(CIRCUIT_BURST_PER_PEER), CIRCUIT_REFILL_PER_PEER)
    .circuit_src_per_ip(burst(CIRCUIT_BURST_PER_IP), CIRCUIT_REFILL_PER_IP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_raised_and_bounded() {
        let config = relay_config();
        let default = relay::Config::default();
        assert!(config.max_circuit_duration > default.max_circuit_duration);
        assert!(config.max_circuit_bytes > default.max_circuit_bytes);
        assert!(config.max_circuits > default.max_circuits);
        assert!(config.max_circuits_per_peer > default.max_circuits_per_peer);
        assert!(config.max_reservations_per_peer > default.max_reservations_per_peer);
        // The circuit limit travels as u32 seconds.
        assert!(u32::try_from(config.max_circuit_duration.as_secs()).is_ok());
        assert_eq!(config.reservation_rate_limiters.len(), 2);
        assert_eq!(config.circuit_src_rate_limiters.len(), 2);
    }
}
