//! The relay, against the spawned binary: native libp2p clients reserve a circuit and reach
//! each other through it (over WebSocket and over WebRTC-direct); the PeerId and /certhash
//! survive a restart; `platform relay` runs alone; bad flags and damaged key files are refused;
//! the configured ICE servers are served, checked and bounded.

mod support;

use std::{ffi::OsStr, fs, path::Path, time::Duration};

use libp2p::{
    Multiaddr, PeerId, Swarm, SwarmBuilder,
    futures::StreamExt as _,
    identify, multiaddr::Protocol, noise, ping, relay,
    swarm::{NetworkBehaviour, SwarmEvent},
    yamux,
};
use platform::relay::{CERTIFICATE_FILE, IDENTITY_FILE, limits};
use support::{Platform, RelayProcess, run_to_exit};

/// How long a whole circuit exchange may take.
const DEADLINE: Duration = Duration::from_secs(60);

#[derive(NetworkBehaviour)]
struct Client {
    relay: relay::client::Behaviour,
    ping: ping::Behaviour,
    identify: identify::Behaviour,
}

/// A native client: WebSocket and WebRTC-direct (with a local WebRTC listener, which
/// libp2p-webrtc needs for dialing), and the relay client transport.
async fn client() -> Swarm<Client> {
    let mut swarm = SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_other_transport(|key| {
            let certificate = libp2p_webrtc::tokio::Certificate::generate(&mut rand::rng()).unwrap();
            libp2p_webrtc::tokio::Transport::new(key.clone(), certificate)
        })
        .unwrap()
        .with_dns()
        .unwrap()
        .with_websocket(noise::Config::new, yamux::Config::default)
        .await
        .unwrap()
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .unwrap()
        .with_behaviour(|key, relay| Client {
            relay,
            ping: ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_millis(200))),
            identify: identify::Behaviour::new(identify::Config::new("/om/test/1".into(), key.public())),
        })
        .unwrap()
        .with_swarm_config(|config| config.with_idle_connection_timeout(Duration::from_secs(30)))
        .build();
    swarm.listen_on("/ip4/127.0.0.1/udp/0/webrtc-direct".parse().unwrap()).unwrap();
    swarm
}

fn peer_of(address: &Multiaddr) -> PeerId {
    match address.iter().last() {
        Some(Protocol::P2p(peer)) => peer,
        _ => panic!("{address} does not end in /p2p/"),
    }
}

fn certhash_of(addresses: &[String]) -> String {
    let webrtc = addresses.iter().find(|a| a.contains("/webrtc-direct/")).expect("a webrtc-direct address");
    let address: Multiaddr = webrtc.parse().unwrap();
    address
        .iter()
        .find_map(|protocol| match protocol {
            Protocol::Certhash(hash) => Some(hash),
            _ => None,
        })
        .map(|hash| format!("{hash:?}"))
        .expect("/certhash in the webrtc-direct address")
}

fn address_with(addresses: &[String], transport: &str) -> Multiaddr {
    let found = addresses.iter().find(|a| a.contains(transport));
    found.unwrap_or_else(|| panic!("no {transport} in {addresses:?}")).parse().unwrap()
}

/// A reserves a slot on the relay at `reserve_via`; B dials A through the relay at `dial_via`;
/// B pings A over the relayed connection. Checks the limits the relay announces on the way.
async fn circuit(reserve_via: Multiaddr, dial_via: Multiaddr) {
    let relay_peer = peer_of(&reserve_via);
    let (mut a, mut b) = (client().await, client().await);
    let a_peer = *a.local_peer_id();
    a.listen_on(reserve_via.clone().with(Protocol::P2pCircuit)).unwrap();

    let reserved = tokio::time::timeout(DEADLINE, async {
        loop {
            match a.select_next_some().await {
                SwarmEvent::Behaviour(ClientEvent::Relay(relay::client::Event::ReservationReqAccepted {
                    relay_peer_id,
                    limit,
                    ..
                })) => return (relay_peer_id, limit),
                SwarmEvent::ListenerClosed { reason, .. } => panic!("reservation failed: {reason:?}"),
                _ => {}
            }
        }
    })
    .await
    .expect("A's reservation is accepted in time");
    assert_eq!(reserved.0, relay_peer);
    let limit = reserved.1.expect("the relay announces its limits");
    assert_eq!(limit.duration(), Some(limits::MAX_CIRCUIT_DURATION));
    assert_eq!(limit.data_in_bytes(), Some(limits::MAX_CIRCUIT_BYTES));

    let through_relay = dial_via.with(Protocol::P2pCircuit).with(Protocol::P2p(a_peer));
    b.dial(through_relay.clone()).unwrap();
    let b_peer = *b.local_peer_id();
    let (rtt, circuit_limit) = tokio::time::timeout(DEADLINE, async {
        let (mut relayed, mut a_saw_b, mut circuit_limit) = (None, false, None);
        loop {
            tokio::select! {
                event = a.select_next_some() => {
                    if let SwarmEvent::ConnectionEstablished { peer_id, endpoint, .. } = event
                        && peer_id == b_peer
                    {
                        assert!(endpoint.is_relayed(), "A's connection from B is relayed");
                        a_saw_b = true;
                    }
                }
                event = b.select_next_some() => match event {
                    SwarmEvent::ConnectionEstablished { peer_id, connection_id, endpoint, .. } if peer_id == a_peer => {
                        assert!(endpoint.is_relayed(), "{:?}", endpoint);
                        relayed = Some(connection_id);
                    }
                    SwarmEvent::Behaviour(ClientEvent::Relay(
                        relay::client::Event::OutboundCircuitEstablished { limit, .. },
                    )) => circuit_limit = limit,
                    SwarmEvent::Behaviour(ClientEvent::Ping(ping::Event { peer, connection, result: Ok(rtt) }))
                        if peer == a_peer && Some(connection) == relayed && a_saw_b => return (rtt, circuit_limit),
                    SwarmEvent::OutgoingConnectionError { peer_id: Some(peer), error, .. } if peer == a_peer => {
                        panic!("B cannot reach A through {through_relay}: {error}")
                    }
                    _ => {}
                },
            }
        }
    })
    .await
    .expect("B pings A through the relay in time");
    assert!(rtt < DEADLINE);
    let circuit_limit = circuit_limit.expect("the circuit carries the relay's limits");
    assert_eq!(circuit_limit.duration(), Some(limits::MAX_CIRCUIT_DURATION));
    assert_eq!(circuit_limit.data_in_bytes(), Some(limits::MAX_CIRCUIT_BYTES));
}

fn dirs() -> (tempfile::TempDir, tempfile::TempDir) {
    (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap())
}

#[tokio::test]
async fn a_circuit_over_websocket_carries_pings() {
    let (dist, data) = dirs();
    let platform = Platform::spawn(dist.path(), data.path());
    let ws = address_with(&platform.relay, "/ws/");
    circuit(ws.clone(), ws).await;
}

#[tokio::test]
async fn a_circuit_over_webrtc_direct_carries_pings() {
    let (dist, data) = dirs();
    let platform = Platform::spawn(dist.path(), data.path());
    let webrtc = address_with(&platform.relay, "/webrtc-direct/");
    // A holds its reservation over WebRTC-direct; B reaches the relay by either transport.
    circuit(webrtc.clone(), webrtc.clone()).await;
    circuit(webrtc, address_with(&platform.relay, "/ws/")).await;
}

#[tokio::test]
async fn the_api_serves_the_printed_addresses() {
    let (dist, data) = dirs();
    let other = "/ip4/192.0.2.7/tcp/4002/ws/p2p/12D3KooWD4g5vR4gqCn4nYeqbWNtMZbz71PhfgT2ZanRYXN3CjxG";
    let platform = Platform::spawn_with_args(dist.path(), data.path(), &["--other-relay", other]);
    let (status, body) = platform.get("/api/relay").await;
    assert_eq!(status, 200, "{body}");
    let served: Vec<String> =
        body["addresses"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_owned()).collect();
    let mut printed = platform.relay.clone();
    printed.sort();
    let mut sorted = served.clone();
    sorted.sort();
    assert_eq!(sorted, printed);
    assert!(served[0].contains("/ws/"), "WebSocket first: {served:?}");
    let peer = body["peer_id"].as_str().unwrap();
    for address in &served {
        assert!(address.ends_with(&format!("/p2p/{peer}")), "{address}");
    }
    assert_eq!(body["other_relays"], serde_json::json!([other]));
    assert_eq!(body["ice_servers"], serde_json::json!([]), "none by default");
}

#[tokio::test]
async fn the_api_serves_the_configured_ice_servers_with_the_turn_credentials() {
    let (dist, data) = dirs();
    let args = [
        "--ice-server", "stun:stun.example.org:3478",
        "--ice-server", "turn:turn.example.org:3478?transport=udp",
        "--ice-server", "turns:[2001:db8::7]:5349",
        "--turn-username", "app", "--turn-credential", "public-secret",
    ];
    let platform = Platform::spawn_with_args(dist.path(), data.path(), &args);
    let (status, body) = platform.get("/api/relay").await;
    assert_eq!(status, 200, "{body}");
    let turn = |url: &str| serde_json::json!({"urls": url, "username": "app", "credential": "public-secret"});
    let expected = serde_json::json!([
        {"urls": "stun:stun.example.org:3478"},
        turn("turn:turn.example.org:3478?transport=udp"),
        turn("turns:[2001:db8::7]:5349"),
    ]);
    assert_eq!(body["ice_servers"], expected);
}

#[test]
fn malformed_or_incomplete_ice_servers_stop_the_start_saying_why() {
    let dist = tempfile::tempdir().unwrap();
    let dist = dist.path().to_str().unwrap();
    // Refused by the flag parser: the URL alone is wrong.
    for (url, reason) in [
        ("http://stun.example.org", "is not a stun:, stuns:, turn: or turns: URL"),
        ("stun:stun.example.org:70000", "the port"),
        ("stun:stun.example.org?transport=udp", "only turn: and turns: URLs take a query"),
    ] {
        let exited = run_to_exit(&[OsStr::new("--dist"), OsStr::new(dist), OsStr::new("--ice-server"), OsStr::new(url)]);
        assert_eq!(exited.status.code(), Some(2), "{url}: {}", exited.stderr);
        assert!(exited.stderr.contains("--ice-server") && exited.stderr.contains(reason), "{url}: {}", exited.stderr);
    }
    let exited = run_to_exit(&[OsStr::new("--turn-username"), OsStr::new("app")]);
    assert_eq!(exited.status.code(), Some(2), "a username needs a credential: {}", exited.stderr);
    // Refused at start, before the listening line: the list as a whole is wrong.
    let too_many: Vec<String> = (0..=browser_webrtc::ice::MAX_ICE_SERVERS).map(|i| format!("stun:s{i}.example.org")).collect();
    let too_many = too_many.join(",");
    let cases: [(Vec<&str>, &str); 2] = [
        (vec!["--ice-server", "turn:turn.example.org"], "a TURN server needs a username and a credential"),
        (vec!["--ice-server", &too_many], "at most 8 ICE servers"),
    ];
    for (flags, reason) in cases {
        let data = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--listen", "127.0.0.1:0", "--dist", dist, "--data-dir", data.path().to_str().unwrap(),
            "--relay-ws-listen", "127.0.0.1:0", "--relay-webrtc-listen", "127.0.0.1:0",
        ];
        args.extend(flags);
        let exited = run_to_exit(&args.iter().map(OsStr::new).collect::<Vec<_>>());
        assert!(!exited.status.success(), "{args:?} started");
        assert!(exited.stderr.contains(reason), "{args:?}: {}", exited.stderr);
        assert!(!exited.stdout.contains("platform listening"), "{}", exited.stdout);
    }
}

#[tokio::test]
async fn identity_and_certhash_survive_a_restart() {
    let (dist, data) = dirs();
    let first = Platform::spawn(dist.path(), data.path());
    let before = first.relay.clone();
    assert!(first.terminate().success());
    let mut again = Platform::spawn(dist.path(), data.path());
    let after = again.relay.clone();
    let peer = |addresses: &[String]| peer_of(&addresses[0].parse().unwrap());
    assert_eq!(peer(&before), peer(&after));
    assert_eq!(certhash_of(&before), certhash_of(&after));
    // Also after kill -9; and the API agrees with what was printed.
    again.kill9();
    let third = Platform::spawn(dist.path(), data.path());
    assert_eq!(certhash_of(&third.relay), certhash_of(&before));
    let (_, body) = third.get("/api/relay").await;
    assert_eq!(body["peer_id"].as_str(), Some(peer(&before).to_string().as_str()));
    for name in [IDENTITY_FILE, CERTIFICATE_FILE] {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(data.path().join(name)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
    }
}

#[tokio::test]
async fn relay_mode_runs_alone_and_keeps_its_identity() {
    let data = tempfile::tempdir().unwrap();
    let relay = RelayProcess::spawn(data.path());
    assert!(relay.addresses.iter().any(|a| a.contains("/ws/")), "{:?}", relay.addresses);
    let ws = address_with(&relay.addresses, "/ws/");
    circuit(ws.clone(), ws).await;
    assert!(!data.path().join("platform.sqlite3").exists(), "relay mode opens no database");
    let before = relay.addresses.clone();
    assert!(relay.terminate().success());
    let again = RelayProcess::spawn(data.path());
    assert_eq!(peer_of(&before[0].parse().unwrap()), peer_of(&again.addresses[0].parse().unwrap()));
    assert_eq!(certhash_of(&before), certhash_of(&again.addresses));
}

#[test]
fn relay_mode_refuses_a_platform_data_directory() {
    let data = tempfile::tempdir().unwrap();
    fs::write(data.path().join("platform.sqlite3"), b"").unwrap();
    let exited = run_to_exit(&[OsStr::new("relay"), OsStr::new("--data-dir"), data.path().as_os_str()]);
    assert!(!exited.status.success());
    assert!(exited.stderr.contains("platform's data directory"), "{}", exited.stderr);
    assert!(!data.path().join(IDENTITY_FILE).exists());
}

#[test]
fn malformed_flags_are_refused_clearly() {
    let cases: [(&[&str], &str); 6] = [
        (&["--listen", "127.0.0.1:0", "relay"], "relay"),
        (&["relay", "--ws-listen", "not-an-address"], "--ws-listen"),
        (&["relay", "--webrtc-listen", "127.0.0.1"], "--webrtc-listen"),
        (&["relay", "--listen", "127.0.0.1:0"], "--listen"),
        (&["--relay-ws-listen", "127.0.0.1:99999"], "--relay-ws-listen"),
        (&["--other-relay", "/ip4/127.0.0.1/tcp/4002/ws"], "/p2p/"),
    ];
    for (args, named) in cases {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        let exited = run_to_exit(&args);
        assert_eq!(exited.status.code(), Some(2), "{args:?}: {}", exited.stderr);
        assert!(exited.stderr.contains(named), "{args:?}: {}", exited.stderr);
        assert!(exited.stdout.is_empty(), "{args:?}: {}", exited.stdout);
    }
}

#[test]
fn help_documents_the_relay_options_and_the_stdout_contract() {
    let help = run_to_exit(&[OsStr::new("--help")]);
    assert!(help.status.success());
    for needle in [
        "--relay-ws-listen",
        "--relay-webrtc-listen",
        "--other-relay",
        "PLATFORM_RELAY_WS_LISTEN",
        "PLATFORM_RELAY_WEBRTC_LISTEN",
        "PLATFORM_OTHER_RELAYS",
        "--ice-server",
        "PLATFORM_ICE_SERVERS",
        "--turn-username",
        "PLATFORM_TURN_USERNAME",
        "--turn-credential",
        "PLATFORM_TURN_CREDENTIAL",
        "127.0.0.1:4001",
        "platform listening on",
        "relay listening on",
        "relay",
    ] {
        assert!(help.stdout.contains(needle), "--help lacks {needle}:\n{}", help.stdout);
    }
    let help = run_to_exit(&[OsStr::new("relay"), OsStr::new("--help")]);
    assert!(help.status.success());
    for needle in [
        "--data-dir",
        "--ws-listen",
        "--webrtc-listen",
        "RELAY_DATA_DIR",
        "RELAY_WS_LISTEN",
        "RELAY_WEBRTC_LISTEN",
        "127.0.0.1:4002",
        "relay listening on",
    ] {
        assert!(help.stdout.contains(needle), "relay --help lacks {needle}:\n{}", help.stdout);
    }
}

/// Starts `platform relay` on `data` and expects it to stop with an error naming `file`.
fn refused_naming(data: &Path, file: &str) -> String {
    let exited = run_to_exit(&[
        OsStr::new("relay"),
        OsStr::new("--data-dir"),
        data.as_os_str(),
        OsStr::new("--ws-listen"),
        OsStr::new("127.0.0.1:0"),
        OsStr::new("--webrtc-listen"),
        OsStr::new("127.0.0.1:0"),
    ]);
    assert_eq!(exited.status.code(), Some(1), "{}", exited.stderr);
    assert!(!exited.stderr.contains("panicked"), "{}", exited.stderr);
    assert!(exited.stdout.is_empty(), "nothing announced: {}", exited.stdout);
    let path = data.join(file);
    assert!(exited.stderr.contains(&path.display().to_string()), "{file} not named: {}", exited.stderr);
    exited.stderr
}

#[test]
fn damaged_key_files_stop_the_start_and_are_kept() {
    let data = tempfile::tempdir().unwrap();
    drop(RelayProcess::spawn(data.path()));
    let (key, certificate) = (data.path().join(IDENTITY_FILE), data.path().join(CERTIFICATE_FILE));
    let (good_key, good_certificate) = (fs::read(&key).unwrap(), fs::read(&certificate).unwrap());

    let mut flipped = good_key.clone();
    flipped[40] ^= 0x04;
    for bad in [flipped, good_key[..good_key.len() - 3].to_vec(), Vec::new()] {
        fs::write(&key, &bad).unwrap();
        let stderr = refused_naming(data.path(), IDENTITY_FILE);
        assert!(stderr.contains("identity key"), "{stderr}");
        assert_eq!(fs::read(&key).unwrap(), bad, "the identity was replaced");
    }
    fs::write(&key, &good_key).unwrap();

    let text = String::from_utf8(good_certificate.clone()).unwrap();
    let truncated = good_certificate[..good_certificate.len() / 2].to_vec();
    // One base64 character of the certificate changed: still PEM, another certificate.
    let end = text.rfind("-----END CERTIFICATE-----").unwrap();
    let mut tampered = text.clone().into_bytes();
    let position = (0..end).rev().skip(40).find(|&i| tampered[i].is_ascii_alphanumeric()).unwrap();
    tampered[position] = if tampered[position] == b'A' { b'B' } else { b'A' };
    let short_expiry = text.replacen(
        text.lines().nth(1).unwrap(),
        "AQID", // 3 bytes where libp2p-webrtc would slice 8 out without a check
        1,
    );
    for bad in [truncated, tampered, short_expiry.into_bytes(), b"\xff\xfe garbage".to_vec()] {
        fs::write(&certificate, &bad).unwrap();
        let stderr = refused_naming(data.path(), CERTIFICATE_FILE);
        assert!(stderr.contains("WebRTC certificate"), "{stderr}");
        assert_eq!(fs::read(&certificate).unwrap(), bad, "the certificate was replaced");
    }

    // Restored, the relay starts again with its old identity.
    fs::write(&certificate, &good_certificate).unwrap();
    drop(RelayProcess::spawn(data.path()));
}

#[test]
fn a_busy_relay_port_stops_the_start_before_any_line() {
    let data = tempfile::tempdir().unwrap();
    let first = RelayProcess::spawn(data.path());
    let ws = address_with(&first.addresses, "/ws/");
    let port = ws
        .iter()
        .find_map(|protocol| match protocol {
            Protocol::Tcp(port) => Some(port.to_string()),
            _ => None,
        })
        .unwrap();
    let taken = format!("127.0.0.1:{port}");
    // libp2p listens with SO_REUSEPORT: without a check the second would share the first's port.
    let other = tempfile::tempdir().unwrap();
    let relay = run_to_exit(&[
        OsStr::new("relay"),
        OsStr::new("--data-dir"),
        other.path().as_os_str(),
        OsStr::new("--ws-listen"),
        OsStr::new(&taken),
        OsStr::new("--webrtc-listen"),
        OsStr::new("127.0.0.1:0"),
    ]);
    let (dist, data) = dirs();
    let platform = run_to_exit(&[
        OsStr::new("--listen"),
        OsStr::new("127.0.0.1:0"),
        OsStr::new("--dist"),
        dist.path().as_os_str(),
        OsStr::new("--data-dir"),
        data.path().as_os_str(),
        OsStr::new("--relay-ws-listen"),
        OsStr::new(&taken),
        OsStr::new("--relay-webrtc-listen"),
        OsStr::new("127.0.0.1:0"),
    ]);
    for exited in [relay, platform] {
        assert_eq!(exited.status.code(), Some(1), "{}", exited.stderr);
        assert!(exited.stderr.contains(&format!("/tcp/{port}/ws")), "{}", exited.stderr);
        assert!(exited.stderr.contains("in use"), "{}", exited.stderr);
        assert!(exited.stdout.is_empty(), "{}", exited.stdout);
    }
    drop(first);
}
