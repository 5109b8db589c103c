//! The network service's pure parts, in the browser: which relays are usable, and how each peer
//! is reached given the swarm's connections.

#![cfg(target_family = "wasm")]

use app::network::links::{LinkKind, Links, MAX_KNOWN_PEERS};
use app::network::relay_cache::{self, CacheError, STORAGE_KEY};
use app::network::relays::{DirectoryError, MAX_DIRECTORY_LEN, parse_directory, usable_relays};
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

fn directory_text(ice_servers: &str) -> String {
    let (r1, r2) = (peer(1), peer(2));
    format!(
        r#"{{"peer_id":"{r1}","addresses":["/ip4/127.0.0.1/tcp/4001/ws/p2p/{r1}"],"other_relays":["/ip4/127.0.0.1/tcp/4002/ws/p2p/{r2}"],"ice_servers":{ice_servers}}}"#
    )
}

#[wasm_bindgen_test]
fn the_directory_gives_relays_and_checked_ice_servers() {
    let text = directory_text(
        r#"[{"urls":"stun:10.213.0.1:3478"},{"urls":"turn:10.213.0.1:3478","username":"u","credential":"c"}]"#,
    );
    let directory = parse_directory(&text).unwrap();
    assert_eq!(directory.relays.iter().map(|r| r.peer).collect::<Vec<_>>(), [peer(1), peer(2)]);
    let servers: Vec<_> = directory.ice_servers.iter().map(|s| (s.url(), s.username(), s.credential())).collect();
    assert_eq!(servers, [("stun:10.213.0.1:3478", None, None), ("turn:10.213.0.1:3478", Some("u"), Some("c"))]);
    // Written and read back unchanged: the cache's format.
    assert_eq!(parse_directory(&directory.to_json()), Ok(directory));

    let malformed = |ice: &str| parse_directory(&directory_text(ice));
    for bad in [
        r#"[{"urls":"http://x.example"}]"#,
        r#"[{"urls":"turn:x.example"}]"#,
        r#"[{"urls":["stun:x.example"]}]"#,
        r#"[{"url":"stun:x.example"}]"#,
        r#"[7]"#,
        r#""stun:x.example""#,
        &format!("[{}]", [r#"{"urls":"stun:x.example"}"#; 9].join(",")),
    ] {
        assert!(matches!(malformed(bad), Err(DirectoryError::Malformed(_))), "{bad}");
    }
    assert!(matches!(parse_directory("{"), Err(DirectoryError::Malformed(_))));
    assert!(matches!(parse_directory("null"), Err(DirectoryError::Malformed(_))));
    let huge = directory_text(&format!("[], \"pad\": \"{}\"", "x".repeat(MAX_DIRECTORY_LEN)));
    assert!(matches!(parse_directory(&huge), Err(DirectoryError::TooLarge(_))));
}

fn local_storage() -> web_sys::Storage {
    web_sys::window().unwrap().local_storage().unwrap().unwrap()
}

#[wasm_bindgen_test]
fn the_last_directory_is_kept_and_a_damaged_one_is_refused_by_name() {
    local_storage().remove_item(STORAGE_KEY).unwrap();
    assert_eq!(relay_cache::load(), Ok(None));
    let directory = parse_directory(&directory_text(r#"[{"urls":"stun:10.213.0.1"}]"#)).unwrap();
    relay_cache::save(&directory).unwrap();
    assert_eq!(relay_cache::load(), Ok(Some(directory)));
    for damaged in ["not json".to_owned(), r#"{"addresses":7}"#.to_owned(), "x".repeat(MAX_DIRECTORY_LEN + 1)] {
        local_storage().set_item(STORAGE_KEY, &damaged).unwrap();
        assert!(matches!(relay_cache::load(), Err(CacheError::Damaged(_))), "{}", &damaged[..damaged.len().min(40)]);
    }
    local_storage().remove_item(STORAGE_KEY).unwrap();
}
