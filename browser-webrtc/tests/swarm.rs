//! In headless Chromium (inside the test network namespace): two libp2p swarms in one page with
//! the `/webrtc` transport, joined by the out-of-band path (signed blobs passed as text, no relay,
//! no external process), run a libp2p-stream echo protocol over the direct link; and a peer that
//! writes malformed frames gets only those streams closed.
#![cfg(target_family = "wasm")]

mod common;

use std::future::{Future as _, poll_fn};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use browser_webrtc::web::{self, SignalingConfig};
use common::{Command, Event, MESSAGE_LEN, Node, join, link, now, round_trips, sleep};
use crypto::keys::DeviceKey;
use futures::{AsyncReadExt as _, AsyncWriteExt as _};
use libp2p_core::multiaddr::{Multiaddr, Protocol};
use libp2p_core::muxing::StreamMuxer as _;
use libp2p_identity::Keypair;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{RtcDataChannel, RtcDataChannelState};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn swarms_linked_out_of_band_exchange_a_thousand_messages_each_way() {
    let (mut a, mut b) = (Node::new(1), Node::new(2));
    join(&mut a, &mut b).await;
    let (a_peer, b_peer) = (a.peer, b.peer);

    let (from_a, from_b) = futures::join!(
        round_trips(&mut a, b_peer, 0xa, 1000),
        round_trips(&mut b, a_peer, 0xb, 1000)
    );
    assert_eq!((from_a.len(), from_b.len()), (1000, 1000));

    // Each new stream's first write comes from its opener; the echo side answers at once after
    // reading. Many fresh channels make Chromium's early-open race likely (see channel.rs).
    for round in 0..50 {
        assert_eq!(round_trips(&mut a, b_peer, round, 1).await.len(), 1);
        assert_eq!(round_trips(&mut b, a_peer, round, 1).await.len(), 1);
    }
    assert_eq!(a.drain_events(), [], "a's connection stayed up");
    assert_eq!(b.drain_events(), [], "b's connection stayed up");
}

/// Raw channels on `b`'s peer connection, outside its muxer, each sending one kind of garbage.
fn garbage_channels(b: &browser_webrtc::web::Connection) -> Vec<(RtcDataChannel, Vec<u8>)> {
    let garbage: [Vec<u8>; 4] = [
        // A length prefix over the 16 KiB frame limit.
        vec![0xff, 0xff, 0xff, 0x7f],
        // A frame whose body is not a protobuf message (field 15, wire type 7).
        vec![0x03, 0x7f, 0x7f, 0x7f],
        // `message` (field 2) sent as a varint.
        vec![0x02, 0x10, 0x01],
        // A well-formed data frame that is not multistream-select.
        vec![0x08, 0x12, 0x06, b'h', b'e', b'l', b'l', b'o', b'\n'],
    ];
    garbage
        .into_iter()
        .map(|bytes| (b.peer_connection().create_data_channel(""), bytes))
        .collect()
}

async fn wait_state(channel: &RtcDataChannel, state: RtcDataChannelState) {
    let started = now();
    while channel.ready_state() != state {
        assert!(
            now() - started < Duration::from_secs(10),
            "channel not {state:?}"
        );
        sleep(5).await;
    }
}

#[wasm_bindgen_test]
async fn malformed_frames_close_only_their_stream() {
    let (mut a, mut b) = (Node::new(3), Node::new(4));
    let ((to_b, a_side), (to_a, b_side)) = link(&a.key, &b.key).await;
    let attacks = garbage_channels(&b_side);
    a.adopt(to_b, a_side).await;
    b.adopt(to_a, b_side).await;

    for (channel, bytes) in &attacks {
        wait_state(channel, RtcDataChannelState::Open).await;
        channel.send_with_u8_array(bytes).unwrap();
    }
    // `a` resets and closes each attacked stream; the channel closes on `b`'s side too.
    for (channel, _) in &attacks {
        wait_state(channel, RtcDataChannelState::Closed).await;
    }

    let (a_peer, b_peer) = (a.peer, b.peer);
    assert_eq!(round_trips(&mut b, a_peer, 0xb, 100).await.len(), 100);
    assert_eq!(round_trips(&mut a, b_peer, 0xa, 100).await.len(), 100);
    assert_eq!(a.drain_events(), [], "a kept the connection");
    assert_eq!(b.drain_events(), [], "b kept the connection");
}

#[wasm_bindgen_test]
async fn a_stream_of_many_frames_arrives_whole() {
    let (mut a, mut b) = (Node::new(5), Node::new(6));
    join(&mut a, &mut b).await;
    // 2,000 messages written without waiting: many frames queued in the channel at once.
    let stream = a.control.open_stream(b.peer, common::ECHO).await.unwrap();
    let sent: Vec<u8> = (0..2000).flat_map(|i| common::message(7, i)).collect();
    let (mut reader, mut writer) = stream.split();
    let mut echoed = vec![0u8; sent.len()];
    let (written, read) = futures::join!(
        async {
            writer.write_all(&sent).await?;
            writer.close().await
        },
        reader.read_exact(&mut echoed)
    );
    written.unwrap();
    read.unwrap();
    assert_eq!(echoed.len(), 2000 * MESSAGE_LEN);
    assert!(echoed == sent, "echo differs");
    assert_eq!(a.drain_events(), [], "connection stayed up");
}

/// The receiving side of a new stream may not write before the opener has written (see
/// "First write" in channel.rs): its write waits, then goes through once a frame arrived.
#[wasm_bindgen_test]
async fn an_inbound_stream_writes_only_after_the_opener_has() {
    let ((_, mut opener), (_, mut receiver)) = link(
        &DeviceKey::from_seed(&[7; 32]),
        &DeviceKey::from_seed(&[8; 32]),
    )
    .await;
    let mut outbound = poll_fn(|cx| Pin::new(&mut opener).poll_outbound(cx))
        .await
        .unwrap();
    let mut inbound = poll_fn(|cx| Pin::new(&mut receiver).poll_inbound(cx))
        .await
        .unwrap();
    let mut reply = Box::pin(async {
        inbound.write_all(b"reply").await.unwrap();
        inbound
    });
    let started = now();
    while now() - started < Duration::from_millis(300) {
        let pending = poll_fn(|cx| Poll::Ready(reply.as_mut().poll(cx).is_pending())).await;
        assert!(
            pending,
            "the inbound side wrote before hearing from the opener"
        );
        sleep(10).await;
    }
    outbound.write_all(b"first").await.unwrap();
    let mut inbound = reply.await;
    let (mut first, mut echoed) = ([0u8; 5], [0u8; 5]);
    inbound.read_exact(&mut first).await.unwrap();
    outbound.read_exact(&mut echoed).await.unwrap();
    assert_eq!((&first, &echoed), (b"first", b"reply"));
}

/// The relay path's signaling, run over a substream of a first link (standing in for the
/// relayed connection), sets up a second link that keeps working once the first is gone.
#[wasm_bindgen_test]
async fn signaling_over_a_stream_sets_up_a_link_that_outlives_the_first() {
    let (a_key, b_key) = (
        DeviceKey::from_seed(&[9; 32]),
        DeviceKey::from_seed(&[10; 32]),
    );
    let ((to_b, mut first_a), (to_a, mut first_b)) = link(&a_key, &b_key).await;
    let outbound = poll_fn(|cx| Pin::new(&mut first_a).poll_outbound(cx))
        .await
        .unwrap();
    let inbound = poll_fn(|cx| Pin::new(&mut first_b).poll_inbound(cx))
        .await
        .unwrap();
    let config = SignalingConfig::default();
    let (a_side, b_side) = futures::join!(
        web::dial_on(outbound, &config),
        web::answer_on(inbound, &config)
    );
    drop((first_a, first_b));

    let (mut a, mut b) = (Node::new(9), Node::new(10));
    a.adopt(to_b, a_side.unwrap()).await;
    b.adopt(to_a, b_side.unwrap()).await;
    let (a_peer, b_peer) = (a.peer, b.peer);
    let (from_a, from_b) = futures::join!(
        round_trips(&mut a, b_peer, 0xa, 1000),
        round_trips(&mut b, a_peer, 0xb, 1000)
    );
    assert_eq!((from_a.len(), from_b.len()), (1000, 1000));
}

/// Two swarms joined out of band (standing in for the relayed connection), the second
/// listening on a `<circuit>/webrtc` address whose relay part is never contacted.
async fn listening_pair(seed: u8) -> (Node, Node, Multiaddr) {
    let (mut a, mut b) = (Node::new(seed), Node::new(seed + 1));
    join(&mut a, &mut b).await;
    let relay = Keypair::ed25519_from_bytes([seed.wrapping_add(100); 32])
        .unwrap()
        .public()
        .to_peer_id();
    let listen: Multiaddr =
        format!("/dns4/relay.invalid/tcp/443/wss/p2p/{relay}/p2p-circuit/webrtc")
            .parse()
            .unwrap();
    b.command(Command::Listen(listen.clone()));
    assert_eq!(b.next_event().await, Event::Listening(listen.clone()));
    (a, b, listen)
}

/// The transport listens on `<circuit>/webrtc` and dials `<circuit>/webrtc/p2p/<peer>`,
/// signaling over the connection the swarms already have (standing in for the relayed one; the
/// relay part of the address is not contacted); the direct connection joins both swarms.
#[wasm_bindgen_test]
async fn the_transport_dials_and_listens_on_circuit_webrtc_addresses() {
    let (mut a, mut b, listen) = listening_pair(13).await;
    a.command(Command::Dial(listen.with(Protocol::P2p(b.peer))));
    assert_eq!(a.next_event().await, Event::Up(b.peer));
    assert_eq!(b.next_event().await, Event::Up(a.peer));
    let (a_peer, b_peer) = (a.peer, b.peer);
    assert_eq!(round_trips(&mut a, b_peer, 0xa, 100).await.len(), 100);
    assert_eq!(round_trips(&mut b, a_peer, 0xb, 100).await.len(), 100);
}

/// A peer that opens more signaling streams than [`web::MAX_ANSWERING`] and sends nothing gets
/// the extra ones reset at once, while the first ones are still being answered.
#[wasm_bindgen_test]
async fn signaling_attempts_beyond_the_bound_are_reset() {
    let (mut a, mut b, _) = listening_pair(15).await;
    let mut held = Vec::new();
    for _ in 0..web::MAX_ANSWERING {
        let mut stream = a
            .control
            .open_stream(b.peer, web::SIGNALING_PROTOCOL)
            .await
            .unwrap();
        // The multistream-select answer arrives with the first write.
        stream.write_all(&[]).await.unwrap();
        stream.flush().await.unwrap();
        held.push(stream);
    }
    let started = now();
    let mut extra = a
        .control
        .open_stream(b.peer, web::SIGNALING_PROTOCOL)
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let ended = matches!(extra.read(&mut byte).await, Ok(0) | Err(_));
    assert!(ended, "the extra signaling stream was not reset");
    assert!(now() - started < Duration::from_secs(5), "reset came late");
    assert_eq!(b.drain_events(), [], "b kept its connection");
}
