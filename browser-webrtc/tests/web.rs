//! In headless Chromium (inside the test network namespace, `cargo xtask test`): two
//! `PeerConnection`s in one page, driven by the sans-IO dialer and listener machines with the
//! signaling bytes passed in memory, connect; then one framed stream carries data both ways
//! and closes with FIN/FIN_ACK. And the same link set up out of band, from signed blobs only.
#![cfg(target_family = "wasm")]

mod common;

use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use browser_webrtc::oob::{self, Blob, Expect};
use browser_webrtc::signaling::{
    Action, ConnectionState, Output, Role, SdpKind, Signaling, Timeouts,
};
use browser_webrtc::web::{DataChannelStream, PeerConnection, PeerEvent};
use common::{now, sleep};
use crypto::keys::DeviceKey;
use futures_io::{AsyncRead, AsyncWrite};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{RtcDataChannel, RtcDataChannelState};

wasm_bindgen_test_configure!(run_in_browser);

struct Side {
    pc: PeerConnection,
    machine: Signaling,
    init: Option<RtcDataChannel>,
    inbound: Vec<DataChannelStream>,
    outgoing: Vec<u8>,
    result: Option<Result<(), String>>,
}

impl Side {
    fn new(role: Role) -> Self {
        let pc = PeerConnection::new(&[]).unwrap();
        let init = (role == Role::Dialer).then(|| pc.create_data_channel("init"));
        Self {
            pc,
            machine: Signaling::new(role, now(), Timeouts::default()),
            init,
            inbound: Vec::new(),
            outgoing: Vec::new(),
            result: None,
        }
    }

    /// Runs everything that is ready: browser events, machine outputs and their actions.
    async fn step(&mut self) {
        while let Some(event) = poll_fn(|cx| {
            Poll::Ready(match self.pc.poll_event(cx) {
                Poll::Ready(event) => Some(event),
                Poll::Pending => None,
            })
        })
        .await
        {
            match event {
                PeerEvent::LocalCandidate(candidate) => {
                    self.machine.handle_local_candidate(now(), candidate)
                }
                PeerEvent::ConnectionState(state) => {
                    self.machine.handle_connection_state(now(), state)
                }
                PeerEvent::DataChannel(channel) if channel.label() == "init" => {
                    channel.close_unframed()
                }
                PeerEvent::DataChannel(channel) => self.inbound.push(channel),
                PeerEvent::Overflow => panic!("event queue overflow"),
            }
        }
        match self.init.as_ref().map(|c| c.ready_state()) {
            Some(RtcDataChannelState::Open) => self.machine.handle_init_channel_open(now()),
            Some(RtcDataChannelState::Closed) => {
                // The listener closed it (js-libp2p does so on arrival).
                self.init = None;
                self.machine.handle_init_channel_closed(now());
            }
            _ => {}
        }
        while let Some(output) = self.machine.poll_output() {
            match output {
                Output::Send(bytes) => self.outgoing.extend(bytes),
                Output::IgnoredCandidate(error) => panic!("ignored candidate: {error}"),
                Output::Connected => self.result = Some(Ok(())),
                Output::Failed(error) => self.result = Some(Err(error.to_string())),
                Output::Action(action) => match action {
                    Action::CreateOffer => {
                        let sdp = self.pc.create_offer().await.unwrap();
                        self.machine.handle_offer_created(now(), sdp);
                    }
                    Action::CreateAnswer => {
                        let sdp = self.pc.create_answer().await.unwrap();
                        self.machine.handle_answer_created(now(), sdp);
                    }
                    Action::SetLocalDescription { kind, sdp } => {
                        self.pc.set_local_description(kind, &sdp).await.unwrap()
                    }
                    Action::SetRemoteDescription { kind, sdp } => {
                        self.pc.set_remote_description(kind, &sdp).await.unwrap();
                        self.machine.handle_remote_description_set(now());
                    }
                    Action::AddIceCandidate(candidate) => {
                        self.pc.add_ice_candidate(Some(&candidate)).await.unwrap()
                    }
                    Action::AddEndOfCandidates => {}
                    // Already gone if the listener closed it first: then nothing to do.
                    Action::CloseInitChannel => {
                        if let Some(init) = self.init.take() {
                            init.close();
                            while init.ready_state() != RtcDataChannelState::Closed {
                                sleep(5).await;
                            }
                            self.machine.handle_init_channel_closed(now());
                        }
                    }
                    Action::CloseSignalingStream
                    | Action::ResetSignalingStream
                    | Action::ClosePeerConnection => {}
                },
            }
        }
        self.machine.handle_timeout(now());
    }
}

async fn write_all(stream: &mut DataChannelStream, mut data: &[u8]) {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *stream).poll_write(cx, data))
            .await
            .unwrap();
        data = &data[n..];
    }
}

async fn read_to_end(stream: &mut DataChannelStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = poll_fn(|cx| Pin::new(&mut *stream).poll_read(cx, &mut buf))
            .await
            .unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

async fn close(stream: &mut DataChannelStream) {
    poll_fn(|cx| Pin::new(&mut *stream).poll_close(cx))
        .await
        .unwrap();
}

#[wasm_bindgen_test]
async fn two_peer_connections_signal_connect_and_carry_a_framed_stream() {
    let mut dialer = Side::new(Role::Dialer);
    let mut listener = Side::new(Role::Listener);
    let started = now();
    while dialer.result.is_none() || listener.result.is_none() {
        dialer.step().await;
        let bytes = std::mem::take(&mut dialer.outgoing);
        listener.machine.handle_bytes(now(), &bytes);
        listener.step().await;
        let bytes = std::mem::take(&mut listener.outgoing);
        dialer.machine.handle_bytes(now(), &bytes);
        assert!(
            now() - started < Duration::from_secs(20),
            "signaling did not finish"
        );
        sleep(2).await;
    }
    assert_eq!(dialer.result, Some(Ok(())));
    assert_eq!(listener.result, Some(Ok(())));

    let mut outbound = DataChannelStream::outbound(dialer.pc.create_data_channel(""));
    let message: Vec<u8> = (0..40_000u32).map(|i| (i % 251) as u8).collect();
    write_all(&mut outbound, &message).await;
    let mut inbound = accept(&mut listener).await;
    let (_, received) = futures_join(close(&mut outbound), read_to_end(&mut inbound)).await;
    assert_eq!(received, message);
    write_all(&mut inbound, b"echo").await;
    let (_, echoed) = futures_join(close(&mut inbound), read_to_end(&mut outbound)).await;
    assert_eq!(echoed, b"echo");

    // A peer that sends garbage (a length prefix over 16 KiB) gets that stream reset; the
    // connection and a new stream keep working.
    let raw = dialer.pc.create_data_channel("");
    while raw.ready_state() != RtcDataChannelState::Open {
        sleep(5).await;
    }
    raw.send_with_u8_array(&[0xff, 0xff, 0xff, 0x7f]).unwrap();
    let mut attacked = accept(&mut listener).await;
    let mut buf = [0u8; 16];
    let error = poll_fn(|cx| Pin::new(&mut attacked).poll_read(cx, &mut buf))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    let mut again = DataChannelStream::outbound(dialer.pc.create_data_channel(""));
    write_all(&mut again, b"still here").await;
    let mut accepted = accept(&mut listener).await;
    let (_, received) = futures_join(close(&mut again), read_to_end(&mut accepted)).await;
    assert_eq!(received, b"still here");
    assert_eq!(dialer.pc.connection_state(), ConnectionState::Connected);
}

/// The next inbound stream channel (label `""`) of the listener.
async fn accept(listener: &mut Side) -> DataChannelStream {
    loop {
        listener.step().await;
        if let Some(index) = listener.inbound.iter().position(|c| c.label().is_empty()) {
            return listener.inbound.remove(index);
        }
        sleep(5).await;
    }
}

/// Waits for the end of ICE gathering, then returns `localDescription.sdp` (with candidates).
async fn gathered_sdp(pc: &PeerConnection) -> String {
    let started = now();
    loop {
        let event = poll_fn(|cx| {
            Poll::Ready(match pc.poll_event(cx) {
                Poll::Ready(event) => Some(event),
                Poll::Pending => None,
            })
        })
        .await;
        match event {
            Some(PeerEvent::LocalCandidate(None)) => return pc.local_sdp().unwrap(),
            Some(_) => {}
            None => sleep(5).await,
        }
        assert!(
            now() - started < Duration::from_secs(10),
            "gathering did not finish"
        );
    }
}

async fn wait_connected(pc: &PeerConnection) {
    let started = now();
    while pc.connection_state() != ConnectionState::Connected {
        assert!(now() - started < Duration::from_secs(10), "not connected");
        sleep(5).await;
    }
}

/// Out of band: the offer and answer travel only as signed Base45 text; Chrome accepts the
/// SDPs rebuilt from the compact blobs and connects, and a stream carries data.
#[wasm_bindgen_test]
async fn out_of_band_blobs_connect_two_peer_connections() {
    let (alice, bob) = (
        DeviceKey::from_seed(&[1; 32]),
        DeviceKey::from_seed(&[2; 32]),
    );
    let unix = || (js_sys::Date::now() / 1000.0) as u64;
    let expires = (unix() + 120) as u32;

    let offerer = PeerConnection::new(&[]).unwrap();
    let _init = offerer.create_data_channel("init");
    let offer_sdp = offerer.create_offer().await.unwrap();
    offerer
        .set_local_description(SdpKind::Offer, &offer_sdp)
        .await
        .unwrap();
    let offer_text = oob::offer(&alice, &gathered_sdp(&offerer).await, [7; 16], expires)
        .unwrap()
        .to_text();

    let answerer = PeerConnection::new(&[]).unwrap();
    let offer = oob::verify(
        &Blob::from_text(&offer_text).unwrap(),
        &alice.public(),
        Expect::Offer,
        unix(),
    )
    .unwrap();
    answerer
        .set_remote_description(SdpKind::Offer, &offer.sdp())
        .await
        .unwrap();
    let answer_sdp = answerer.create_answer().await.unwrap();
    answerer
        .set_local_description(SdpKind::Answer, &answer_sdp)
        .await
        .unwrap();
    let answer_text = oob::answer(
        &bob,
        &gathered_sdp(&answerer).await,
        &offer,
        [8; 16],
        expires,
    )
    .unwrap()
    .to_text();

    let answer = oob::verify(
        &Blob::from_text(&answer_text).unwrap(),
        &bob.public(),
        Expect::AnswerTo(&offer),
        unix(),
    )
    .unwrap();
    offerer
        .set_remote_description(SdpKind::Answer, &answer.sdp())
        .await
        .unwrap();
    wait_connected(&offerer).await;
    wait_connected(&answerer).await;

    let mut outbound = DataChannelStream::outbound(offerer.create_data_channel(""));
    write_all(&mut outbound, b"over the QR link").await;
    let channel = loop {
        match poll_fn(|cx| {
            Poll::Ready(match answerer.poll_event(cx) {
                Poll::Ready(event) => Some(event),
                Poll::Pending => None,
            })
        })
        .await
        {
            Some(PeerEvent::DataChannel(channel)) if channel.label().is_empty() => break channel,
            Some(PeerEvent::DataChannel(init)) => init.close_unframed(),
            Some(_) => {}
            None => sleep(5).await,
        }
    };
    let mut inbound = channel;
    let (_, received) = futures_join(close(&mut outbound), read_to_end(&mut inbound)).await;
    assert_eq!(received, b"over the QR link");
}

/// Runs two futures to completion concurrently.
async fn futures_join<A: std::future::Future, B: std::future::Future>(
    a: A,
    b: B,
) -> (A::Output, B::Output) {
    let (mut a, mut b) = (Box::pin(a), Box::pin(b));
    let (mut ra, mut rb) = (None, None);
    poll_fn(|cx| {
        if ra.is_none()
            && let Poll::Ready(v) = a.as_mut().poll(cx)
        {
            ra = Some(v);
        }
        if rb.is_none()
            && let Poll::Ready(v) = b.as_mut().poll(cx)
        {
            rb = Some(v);
        }
        if ra.is_some() && rb.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    (ra.unwrap(), rb.unwrap())
}
