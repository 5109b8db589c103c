//! `/webrtc` addresses: `<relay-addr>/p2p/<relay-id>/p2p-circuit/webrtc/p2p/<target-id>`.
//!
//! The listener advertises its circuit address plus `/webrtc`; the dialer drops `/webrtc` to
//! get the circuit address to dial (the relayed connection for signaling) and takes the last
//! `/p2p/` as the peer to reach (`WEBRTC.md` §1; js-libp2p `splitAddr`). Multiaddr codes:
//! `p2p-circuit` 290, `webrtc` 281.

use multiaddr::{Multiaddr, PeerId, Protocol};

/// A parsed `/webrtc` dial address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebRtcAddr {
    /// `<relay-addr>/p2p/<relay-id>/p2p-circuit/p2p/<target-id>`: what to dial for signaling.
    pub circuit: Multiaddr,
    /// The relay's peer id.
    pub relay: PeerId,
    /// The peer to reach.
    pub target: PeerId,
}

/// Why an address is not a `/webrtc` dial address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    /// No `/p2p-circuit/webrtc` pair.
    #[error("no /p2p-circuit/webrtc in the address")]
    NotWebRtc,
    /// No `/p2p/<relay-id>` right before `/p2p-circuit`.
    #[error("no relay peer id before /p2p-circuit")]
    MissingRelay,
    /// Not exactly one `/p2p/<target-id>` after `/webrtc`.
    #[error("no single target peer id after /webrtc")]
    MissingTarget,
    /// The address has nothing before `/p2p/<relay-id>`.
    #[error("no relay transport address")]
    MissingRelayAddress,
}

/// Splits a `/webrtc` dial address. The target must be given; it cannot be the relay.
pub fn parse_dial_addr(addr: &Multiaddr) -> Result<WebRtcAddr, AddrError> {
    let parts: Vec<Protocol<'_>> = addr.iter().collect();
    let webrtc = parts
        .windows(2)
        .position(|w| matches!(w, [Protocol::P2pCircuit, Protocol::WebRTC]))
        .ok_or(AddrError::NotWebRtc)?;
    let (before, after) = (&parts[..webrtc], &parts[webrtc + 2..]);
    let relay = match before.last() {
        Some(Protocol::P2p(relay)) => *relay,
        _ => return Err(AddrError::MissingRelay),
    };
    if before.len() < 2 {
        return Err(AddrError::MissingRelayAddress);
    }
    let target = match after {
        [Protocol::P2p(target)] if *target != relay => *target,
        _ => return Err(AddrError::MissingTarget),
    };
    let circuit = before
        .iter()
        .cloned()
        .chain([Protocol::P2pCircuit, Protocol::P2p(target)])
        .collect();
    Ok(WebRtcAddr {
        circuit,
        relay,
        target,
    })
}

/// The address to advertise for a relayed listen address `…/p2p/<relay>/p2p-circuit`: the same
/// with `/webrtc` appended; `None` for any other form (as js-libp2p's listener does).
pub fn listen_addr_for_circuit(circuit: &Multiaddr) -> Option<Multiaddr> {
    let parts: Vec<Protocol<'_>> = circuit.iter().collect();
    match parts.as_slice() {
        [.., _, Protocol::P2p(_), Protocol::P2pCircuit] => {
            Some(circuit.clone().with(Protocol::WebRTC))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELAY: &str = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN";
    const TARGET: &str = "12D3KooWNvSZnPi3RrhrTwEY4LuuBeB6K6facKUCJcyWG1aoDd2p";

    fn addr(text: &str) -> Multiaddr {
        text.parse().unwrap()
    }

    #[test]
    fn splits_circuit_and_target() {
        let parsed = parse_dial_addr(&addr(&format!(
            "/ip4/10.213.0.1/tcp/4001/ws/p2p/{RELAY}/p2p-circuit/webrtc/p2p/{TARGET}"
        )))
        .unwrap();
        assert_eq!(
            parsed.circuit,
            addr(&format!(
                "/ip4/10.213.0.1/tcp/4001/ws/p2p/{RELAY}/p2p-circuit/p2p/{TARGET}"
            ))
        );
        assert_eq!(parsed.relay.to_string(), RELAY);
        assert_eq!(parsed.target.to_string(), TARGET);
    }

    #[test]
    fn rejects_other_forms_with_a_reason() {
        for (text, error) in [
            (
                format!("/ip4/10.0.0.1/tcp/1/p2p/{RELAY}/p2p-circuit/p2p/{TARGET}"),
                AddrError::NotWebRtc,
            ),
            (
                format!("/ip4/10.0.0.1/udp/1/webrtc-direct/p2p/{TARGET}"),
                AddrError::NotWebRtc,
            ),
            (
                format!("/ip4/10.0.0.1/tcp/1/p2p-circuit/webrtc/p2p/{TARGET}"),
                AddrError::MissingRelay,
            ),
            (
                format!("/p2p/{RELAY}/p2p-circuit/webrtc/p2p/{TARGET}"),
                AddrError::MissingRelayAddress,
            ),
            (
                format!("/ip4/10.0.0.1/tcp/1/p2p/{RELAY}/p2p-circuit/webrtc"),
                AddrError::MissingTarget,
            ),
            (
                format!("/ip4/10.0.0.1/tcp/1/p2p/{RELAY}/p2p-circuit/webrtc/p2p/{RELAY}"),
                AddrError::MissingTarget,
            ),
            (
                format!(
                    "/ip4/10.0.0.1/tcp/1/p2p/{RELAY}/p2p-circuit/webrtc/p2p/{TARGET}/p2p/{TARGET}"
                ),
                AddrError::MissingTarget,
            ),
        ] {
            assert_eq!(parse_dial_addr(&addr(&text)), Err(error), "{text}");
        }
    }

    #[test]
    fn listen_addresses_get_webrtc_only_on_exact_circuit_form() {
        let circuit = addr(&format!("/ip4/10.0.0.1/tcp/1/ws/p2p/{RELAY}/p2p-circuit"));
        let listen = listen_addr_for_circuit(&circuit).unwrap();
        assert_eq!(
            listen,
            addr(&format!(
                "/ip4/10.0.0.1/tcp/1/ws/p2p/{RELAY}/p2p-circuit/webrtc"
            ))
        );
        let dial = listen.with(Protocol::P2p(TARGET.parse().unwrap()));
        assert_eq!(
            parse_dial_addr(&dial).unwrap().circuit,
            circuit.with(Protocol::P2p(TARGET.parse().unwrap()))
        );
        assert_eq!(listen_addr_for_circuit(&addr("/ip4/10.0.0.1/tcp/1")), None);
        assert_eq!(
            listen_addr_for_circuit(&addr(&format!("/p2p/{RELAY}/p2p-circuit"))),
            None
        );
    }
}
