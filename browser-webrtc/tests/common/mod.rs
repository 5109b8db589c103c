//! Helpers shared by the browser tests and the browser benchmark: timers, and swarms joined by
//! an out-of-band WebRTC link inside one page.
#![allow(dead_code, unreachable_pub)] // Each test crate uses a different part.

use std::time::Duration;

use browser_webrtc::oob::Blob;
use browser_webrtc::web::{self, Connection, Handle, LinkConfig, SignalingConfig, Transport};
use crypto::keys::DeviceKey;
use futures::channel::mpsc;
use futures::{AsyncReadExt as _, AsyncWriteExt as _, StreamExt as _};
use libp2p_core::Multiaddr;
use libp2p_core::Transport as _;
use libp2p_core::muxing::StreamMuxerBox;
use libp2p_identity::{Keypair, PeerId};
use libp2p_swarm::{StreamProtocol, Swarm, SwarmEvent};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::spawn_local;

/// Wall-clock time as a `Duration` since the epoch.
pub fn now() -> Duration {
    Duration::from_millis(js_sys::Date::now() as u64)
}

/// Milliseconds from the page's high-resolution clock.
pub fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("performance"))
        .ok()
        .and_then(|p| {
            js_sys::Reflect::get(&p, &JsValue::from_str("now"))
                .ok()
                .map(|f| (p, f))
        })
        .and_then(|(p, f)| js_sys::Function::from(f).call0(&p).ok())
        .and_then(|v| v.as_f64())
        .unwrap_or_else(js_sys::Date::now)
}

pub fn unix_now() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let set_timeout: js_sys::Function =
            js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("setTimeout"))
                .unwrap()
                .into();
        set_timeout
            .call2(&JsValue::NULL, &resolve, &JsValue::from(ms))
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// What a node's swarm task reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Up(PeerId),
    Down(PeerId, String),
    Listening(Multiaddr),
}

/// What a test asks of a node's swarm.
#[derive(Debug)]
pub enum Command {
    Dial(Multiaddr),
    Listen(Multiaddr),
}

/// A swarm with the `/webrtc` transport and libp2p-stream, run by a spawned task.
pub struct Node {
    pub key: DeviceKey,
    pub peer: PeerId,
    pub control: libp2p_stream::Control,
    pub handle: Handle,
    pub events: mpsc::UnboundedReceiver<Event>,
    commands: mpsc::UnboundedSender<Command>,
}

pub const ECHO: StreamProtocol = StreamProtocol::new("/om-test/echo/1");
/// Bytes per test message.
pub const MESSAGE_LEN: usize = 64;

impl Node {
    /// The device key from `seed` is also the swarm's identity (one key per device).
    pub fn new(seed: u8) -> Self {
        let key = DeviceKey::from_seed(&[seed; 32]);
        let keypair = Keypair::ed25519_from_bytes([seed; 32]).unwrap();
        let peer = keypair.public().to_peer_id();
        let behaviour = libp2p_stream::Behaviour::new();
        let mut control = behaviour.new_control();
        let (transport, handle) =
            Transport::with_signaling(control.clone(), SignalingConfig::default());
        let transport = transport
            .map(|(peer, connection), _| (peer, StreamMuxerBox::new(connection)))
            .boxed();
        let config = libp2p_swarm::Config::with_wasm_executor()
            .with_idle_connection_timeout(Duration::from_secs(300));
        let mut swarm = Swarm::new(transport, behaviour, peer, config);
        swarm.listen_on("/webrtc".parse().unwrap()).unwrap();
        let (sender, events) = mpsc::unbounded();
        let (commands, mut commanded) = mpsc::unbounded();
        spawn_local(async move {
            loop {
                let event = futures::select! {
                    event = swarm.select_next_some() => event,
                    command = commanded.select_next_some() => {
                        match command {
                            Command::Dial(addr) => swarm.dial(addr).unwrap(),
                            Command::Listen(addr) => drop(swarm.listen_on(addr).unwrap()),
                        }
                        continue;
                    }
                };
                let event = match event {
                    SwarmEvent::ConnectionEstablished { peer_id, .. } => Event::Up(peer_id),
                    SwarmEvent::ConnectionClosed { peer_id, cause, .. } => {
                        Event::Down(peer_id, format!("{cause:?}"))
                    }
                    SwarmEvent::NewListenAddr { address, .. } => Event::Listening(address),
                    _ => continue,
                };
                if sender.unbounded_send(event).is_err() {
                    return;
                }
            }
        });
        serve_echo(control.accept(ECHO).unwrap());
        Self {
            key,
            peer,
            control,
            handle,
            events,
            commands,
        }
    }

    pub fn command(&self, command: Command) {
        self.commands.unbounded_send(command).unwrap();
    }

    /// Waits for the next event.
    pub async fn next_event(&mut self) -> Event {
        self.events.next().await.unwrap()
    }

    /// Every event reported so far.
    pub fn drain_events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.events.try_recv().ok()).collect()
    }

    /// Hands `connection` to this node's swarm and waits until it is established.
    pub async fn adopt(&mut self, peer: PeerId, connection: Connection) {
        self.handle.hand_over(peer, connection).unwrap();
        assert_eq!(self.next_event().await, Event::Up(peer));
    }
}

/// The out-of-band set-up of `WEBRTC.md` §6 between `offerer` and `answerer`, the blobs passed
/// as text. Returns each side's view: (peer, connection) for the offerer, then the answerer.
pub async fn link(
    offerer: &DeviceKey,
    answerer: &DeviceKey,
) -> ((PeerId, Connection), (PeerId, Connection)) {
    let config = LinkConfig::default();
    let (pending_offer, offer) = web::create_offer(offerer, &config, [1; 16], unix_now())
        .await
        .unwrap();
    let offer = Blob::from_text(&offer.to_text()).unwrap();
    let (pending_answer, answer) = web::answer_offer(
        answerer,
        &config,
        &offer,
        &offerer.public(),
        [2; 16],
        unix_now(),
    )
    .await
    .unwrap();
    let answer = Blob::from_text(&answer.to_text()).unwrap();
    let answerer_key = answerer.public();
    let (offerer_side, answerer_side) = futures::join!(
        pending_offer.accept(&answer, &answerer_key, unix_now()),
        pending_answer.connected()
    );
    (offerer_side.unwrap(), answerer_side.unwrap())
}

/// Links `a` and `b` out of band and hands each its connection.
pub async fn join(a: &mut Node, b: &mut Node) {
    let ((to_b, a_side), (to_a, b_side)) = link(&a.key, &b.key).await;
    assert_eq!(
        (to_b, to_a),
        (b.peer, a.peer),
        "PeerIds from the signed blobs"
    );
    a.adopt(to_b, a_side).await;
    b.adopt(to_a, b_side).await;
}

/// Echoes every [`MESSAGE_LEN`]-byte message on each inbound stream until it ends.
fn serve_echo(mut incoming: libp2p_stream::IncomingStreams) {
    spawn_local(async move {
        while let Some((_, mut stream)) = incoming.next().await {
            spawn_local(async move {
                let mut message = [0u8; MESSAGE_LEN];
                while stream.read_exact(&mut message).await.is_ok() {
                    if stream.write_all(&message).await.is_err() {
                        return;
                    }
                }
                let _ = stream.close().await;
            });
        }
    });
}

/// Message `i` of a sender: its index, then a pattern that depends on it.
pub fn message(sender: u8, i: u32) -> [u8; MESSAGE_LEN] {
    let mut message = [sender; MESSAGE_LEN];
    message[..4].copy_from_slice(&i.to_be_bytes());
    for (k, byte) in message[4..].iter_mut().enumerate() {
        *byte ^= (i as u8).wrapping_mul(k as u8);
    }
    message
}

/// Sends `count` messages on one new stream to `peer`, each after the echo of the last, checks
/// every echo, and returns the round-trip times in milliseconds.
pub async fn round_trips(node: &mut Node, peer: PeerId, sender: u8, count: u32) -> Vec<f64> {
    let mut stream = node.control.open_stream(peer, ECHO).await.unwrap();
    let mut times = Vec::with_capacity(count as usize);
    let mut echo = [0u8; MESSAGE_LEN];
    for i in 0..count {
        let sent = message(sender, i);
        let started = now_ms();
        stream.write_all(&sent).await.unwrap();
        stream.read_exact(&mut echo).await.unwrap();
        times.push(now_ms() - started);
        assert_eq!(echo, sent, "echo of message {i}");
    }
    stream.close().await.unwrap();
    times
}
