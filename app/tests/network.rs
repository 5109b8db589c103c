//! The network service's pure parts, in the browser: which relays are usable, and how each peer
//! is reached given the swarm's connections.

#![cfg(target_family = "wasm")]

use app::network::links::{LinkKind, Links, MAX_KNOWN_PEERS};
use app::network::relays::usable_relays;
use libp2p::core::transport::PortUse;
use libp2p::core::{ConnectedPoint, Endpoint};
use libp2p::identity::Keypair;
use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn peer(seed: u8) -> PeerId {
    Keypair::ed25519_from_bytes([seed; 32]).unwrap().public().to_peer_id()
}

fn addr(text: &str) -> Multiaddr {
    text.parse().unwrap()
}

#[wasm_bindgen_test]
fn usable_relays_are_websocket_addresses_one_per_relay_in_order() {
    let (r1, r2) = (peer(1), peer(2));
    let listed = [
        format!("/ip4/10.0.0.1/udp/4001/webrtc-direct/p2p/{r1}"),
        "not a multiaddr".to_owned(),
        format!("/ip4/127.0.0.1/tcp/4001/ws/p2p/{r1}"),
        format!("/ip4/10.0.0.1/tcp/4001/ws/p2p/{r1}"),
        "/ip4/127.0.0.1/tcp/4002/ws".to_owned(),
        format!("/ip4/127.0.0.1/tcp/4001/ws/p2p/{r1}/p2p-circuit/p2p/{r2}"),
        format!("/dns4/relay.example/tcp/443/wss/p2p/{r2}"),
    ];
    let relays = usable_relays(listed.iter().map(String::as_str));
    let found: Vec<(PeerId, String)> = relays.into_iter().map(|r| (r.peer, r.address.to_string())).collect();
    assert_eq!(
        found,
        [(r1, listed[2].clone()), (r2, listed[6].clone())],
        "WebRTC-direct, garbage, bare and circuit addresses skipped; the first WebSocket address per relay kept"
    );
}

fn dialed(address: &str) -> ConnectedPoint {
    ConnectedPoint::Dialer { address: addr(address), role_override: Endpoint::Dialer, port_use: PortUse::Reuse }
}

fn accepted(local: &str, remote: &str) -> ConnectedPoint {
    ConnectedPoint::Listener { local_addr: addr(local), send_back_addr: addr(remote) }
}

#[wasm_bindgen_test]
fn a_connection_is_direct_by_its_webrtc_component_and_relayed_by_its_circuit() {
    let (relay, target) = (peer(1), peer(2));
    let circuit = format!("/ip4/127.0.0.1/tcp/4001/ws/p2p/{relay}/p2p-circuit");
    assert_eq!(LinkKind::of_endpoint(&dialed(&format!("{circuit}/p2p/{target}"))), LinkKind::Relayed);
    // The relay client reports an inbound circuit with the circuit in the local address only.
    assert_eq!(LinkKind::of_endpoint(&accepted(&circuit, &format!("/p2p/{target}"))), LinkKind::Relayed);
    // The dialer's address of a direct link is the dialed `…/p2p-circuit/webrtc/p2p/<peer>`.
    assert_eq!(LinkKind::of_endpoint(&dialed(&format!("{circuit}/webrtc/p2p/{target}"))), LinkKind::Direct);
    // The answering side of a direct link.
    assert_eq!(LinkKind::of_endpoint(&accepted("/webrtc", &format!("/webrtc/p2p/{target}"))), LinkKind::Direct);
}

#[wasm_bindgen_test]
fn a_peer_is_direct_while_any_direct_connection_lasts_then_relayed_then_none() {
    let (relay, b) = (peer(1), peer(2));
    let relayed = dialed(&format!("/ip4/127.0.0.1/tcp/4001/ws/p2p/{relay}/p2p-circuit/p2p/{b}"));
    let direct = accepted("/webrtc", &format!("/webrtc/p2p/{b}"));
    let mut links = Links::default();
    links.remember(b);
    assert_eq!(links.kind(&b), LinkKind::None);
    assert_eq!(links.established(ConnectionId::new_unchecked(1), b, &relayed), LinkKind::Relayed);
    assert_eq!(links.kind(&b), LinkKind::Relayed);
    assert_eq!(links.established(ConnectionId::new_unchecked(2), b, &direct), LinkKind::Direct);
    assert_eq!(links.kind(&b), LinkKind::Direct);
    assert_eq!(links.relayed(&b), [ConnectionId::new_unchecked(1)]);
    links.closed(ConnectionId::new_unchecked(2));
    assert_eq!(links.kind(&b), LinkKind::Relayed);
    links.closed(ConnectionId::new_unchecked(1));
    assert_eq!(links.kind(&b), LinkKind::None);
    let summary = links.summary();
    assert_eq!(summary.len(), 1, "a peer without connections is still listed");
    assert_eq!((summary[0].peer, summary[0].kind), (b, LinkKind::None));
}

#[wasm_bindgen_test]
fn a_failure_is_shown_until_the_next_attempt_and_known_peers_are_bounded() {
    let mut links = Links::default();
    links.failed(peer(2), "dial failed".to_owned());
    assert_eq!(links.summary()[0].problem.as_deref(), Some("dial failed"));
    links.remember(peer(2));
    assert_eq!(links.summary()[0].problem, None);

    for seed in 0..=u8::try_from(MAX_KNOWN_PEERS).unwrap() {
        links.remember(peer(seed.wrapping_add(10)));
    }
    assert_eq!(links.summary().len(), MAX_KNOWN_PEERS);
    assert!(links.summary().iter().all(|l| l.peer != peer(2)), "the oldest unreachable peer was forgotten");
}
