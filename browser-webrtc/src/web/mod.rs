//! Thin web-sys glue (wasm only): an `RTCPeerConnection` whose event handlers are installed at
//! creation and feed one queue, so no early event (a data channel before `connected`, the
//! first candidate) is lost. Drive [`crate::signaling::Signaling`] from [`PeerConnection::poll_event`]
//! and run its actions with the async methods here.
//!
//! Browser values are turned into owned Rust values at this boundary; browser errors become
//! [`JsError`] (their text), never a `JsValue` in the public API.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    RtcConfiguration, RtcDataChannel, RtcDataChannelEvent, RtcIceCandidateInit, RtcIceServer,
    RtcPeerConnection, RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcSdpType,
    RtcSessionDescriptionInit,
};

use crate::ice::IceServer;
use crate::signaling::{ConnectionState, IceCandidate, SdpKind};

mod channel;
mod muxer;
mod oob;
mod signal;
mod transport;

pub use channel::{DataChannelStream, HIGH_WATER, LOW_WATER, MAX_RECEIVE_BUFFER};
pub use muxer::{Connection, ConnectionError, MAX_PENDING_INBOUND, Stream};
pub use oob::{LinkConfig, LinkError, PendingAnswer, PendingOffer, answer_offer, create_offer};
pub use signal::{SIGNALING_PROTOCOL, SignalError, SignalingConfig, answer_on, dial, dial_on};
pub use transport::{
    Handle, HandoverError, MAX_ANSWERING, MAX_PENDING_CONNECTIONS, Transport, Upgrade,
};

/// Label of the dialer's first channel, which only makes the offer carry data-channel media.
pub const INIT_LABEL: &str = "init";
/// Label of every channel that carries a libp2p stream (the spec: MUST be empty).
pub const STREAM_LABEL: &str = "";

/// Most events held before the owner polls; more is a bug in the owner, reported as an event.
pub const MAX_QUEUED_EVENTS: usize = 1024;

/// A browser error, as text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("browser error: {0}")]
pub struct JsError(pub String);

impl From<JsValue> for JsError {
    fn from(value: JsValue) -> Self {
        let text = value
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| value.as_string())
            .unwrap_or_else(|| format!("{value:?}"));
        Self(text)
    }
}

/// What the peer connection reported.
#[derive(Debug)]
pub enum PeerEvent {
    /// `onicecandidate`; `None` at the end of gathering.
    LocalCandidate(Option<IceCandidate>),
    /// `onconnectionstatechange`.
    ConnectionState(ConnectionState),
    /// `ondatachannel`: a channel the peer opened, wrapped at once so that no early message is
    /// lost. Close the dialer's `init` channel with [`DataChannelStream::close_unframed`].
    DataChannel(DataChannelStream),
    /// More than [`MAX_QUEUED_EVENTS`] events were not polled; later ones were dropped.
    Overflow,
}

#[derive(Default)]
struct Shared {
    events: VecDeque<PeerEvent>,
    overflowed: bool,
    waker: Option<Waker>,
}

impl Shared {
    fn push(shared: &Rc<RefCell<Self>>, event: PeerEvent) {
        let mut shared = shared.borrow_mut();
        if shared.events.len() >= MAX_QUEUED_EVENTS {
            if !shared.overflowed {
                shared.overflowed = true;
                shared.events.push_back(PeerEvent::Overflow);
            }
        } else {
            shared.events.push_back(event);
        }
        if let Some(waker) = shared.waker.take() {
            waker.wake();
        }
    }
}

/// An `RTCPeerConnection` with its handlers installed. Closes the connection on drop.
pub struct PeerConnection {
    inner: RtcPeerConnection,
    shared: Rc<RefCell<Shared>>,
    _on_ice_candidate: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    _on_connection_state: Closure<dyn FnMut(web_sys::Event)>,
    _on_data_channel: Closure<dyn FnMut(RtcDataChannelEvent)>,
}

impl core::fmt::Debug for PeerConnection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PeerConnection").finish_non_exhaustive()
    }
}

fn connection_state(state: RtcPeerConnectionState) -> ConnectionState {
    match state {
        RtcPeerConnectionState::Connecting => ConnectionState::Connecting,
        RtcPeerConnectionState::Connected => ConnectionState::Connected,
        RtcPeerConnectionState::Disconnected => ConnectionState::Disconnected,
        RtcPeerConnectionState::Failed => ConnectionState::Failed,
        RtcPeerConnectionState::Closed => ConnectionState::Closed,
        _ => ConnectionState::New,
    }
}

impl PeerConnection {
    /// Creates the connection with these ICE servers (none on a local network) and installs
    /// `onicecandidate`, `onconnectionstatechange` and `ondatachannel` at once.
    pub fn new(ice_servers: &[IceServer]) -> Result<Self, JsError> {
        let config = RtcConfiguration::new();
        let servers = js_sys::Array::new();
        for ice in ice_servers {
            let server = RtcIceServer::new();
            server.set_urls(&JsValue::from_str(ice.url()));
            if let (Some(username), Some(credential)) = (ice.username(), ice.credential()) {
                server.set_username(username);
                server.set_credential(credential);
            }
            servers.push(&server);
        }
        config.set_ice_servers(&servers);
        let inner = RtcPeerConnection::new_with_configuration(&config)?;
        let shared = Rc::new(RefCell::new(Shared::default()));

        let queue = shared.clone();
        let on_ice_candidate = Closure::<dyn FnMut(RtcPeerConnectionIceEvent)>::new(
            move |event: RtcPeerConnectionIceEvent| {
                let candidate = event.candidate().map(|c| IceCandidate {
                    candidate: c.candidate(),
                    sdp_mid: c.sdp_mid(),
                    sdp_m_line_index: c.sdp_m_line_index(),
                    // Not in this web-sys version's bindings; read the property directly.
                    username_fragment: js_sys::Reflect::get(
                        &c,
                        &JsValue::from_str("usernameFragment"),
                    )
                    .ok()
                    .and_then(|v| v.as_string()),
                });
                Shared::push(&queue, PeerEvent::LocalCandidate(candidate));
            },
        );
        inner.set_onicecandidate(Some(on_ice_candidate.as_ref().unchecked_ref()));

        let queue = shared.clone();
        let pc = inner.clone();
        let on_connection_state =
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_event: web_sys::Event| {
                Shared::push(
                    &queue,
                    PeerEvent::ConnectionState(connection_state(pc.connection_state())),
                );
            });
        inner.set_onconnectionstatechange(Some(on_connection_state.as_ref().unchecked_ref()));

        let queue = shared.clone();
        let on_data_channel =
            Closure::<dyn FnMut(RtcDataChannelEvent)>::new(move |event: RtcDataChannelEvent| {
                let channel = event.channel();
                channel.set_binary_type(web_sys::RtcDataChannelType::Arraybuffer);
                Shared::push(
                    &queue,
                    PeerEvent::DataChannel(DataChannelStream::inbound(channel)),
                );
            });
        inner.set_ondatachannel(Some(on_data_channel.as_ref().unchecked_ref()));

        Ok(Self {
            inner,
            shared,
            _on_ice_candidate: on_ice_candidate,
            _on_connection_state: on_connection_state,
            _on_data_channel: on_data_channel,
        })
    }

    /// The next event, in the order the browser fired them.
    pub fn poll_event(&self, cx: &mut Context<'_>) -> Poll<PeerEvent> {
        let mut shared = self.shared.borrow_mut();
        match shared.events.pop_front() {
            Some(event) => Poll::Ready(event),
            None => {
                shared.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// A data channel (`negotiated: false`, ordered), binary type `arraybuffer`. The dialer's
    /// `init` channel and every outbound stream (label `""`) are made here.
    pub fn create_data_channel(&self, label: &str) -> RtcDataChannel {
        let channel = self.inner.create_data_channel(label);
        channel.set_binary_type(web_sys::RtcDataChannelType::Arraybuffer);
        channel
    }

    /// `createOffer()`, returning the SDP.
    pub async fn create_offer(&self) -> Result<String, JsError> {
        sdp_of(JsFuture::from(self.inner.create_offer()).await?)
    }

    /// `createAnswer()`, returning the SDP.
    pub async fn create_answer(&self) -> Result<String, JsError> {
        sdp_of(JsFuture::from(self.inner.create_answer()).await?)
    }

    /// `setLocalDescription`.
    pub async fn set_local_description(&self, kind: SdpKind, sdp: &str) -> Result<(), JsError> {
        JsFuture::from(self.inner.set_local_description(&description(kind, sdp))).await?;
        Ok(())
    }

    /// `setRemoteDescription`.
    pub async fn set_remote_description(&self, kind: SdpKind, sdp: &str) -> Result<(), JsError> {
        JsFuture::from(self.inner.set_remote_description(&description(kind, sdp))).await?;
        Ok(())
    }

    /// `addIceCandidate`; `None` signals the end of the peer's candidates.
    pub async fn add_ice_candidate(&self, candidate: Option<&IceCandidate>) -> Result<(), JsError> {
        let init = candidate.map(|c| {
            let init = RtcIceCandidateInit::new(&c.candidate);
            init.set_sdp_mid(c.sdp_mid.as_deref());
            init.set_sdp_m_line_index(c.sdp_m_line_index);
            if let Some(ufrag) = &c.username_fragment {
                // Best effort: a failed set leaves the browser to match by sdpMid.
                let _ = js_sys::Reflect::set(
                    &init,
                    &JsValue::from_str("usernameFragment"),
                    &JsValue::from_str(ufrag),
                );
            }
            init
        });
        JsFuture::from(
            self.inner
                .add_ice_candidate_with_opt_rtc_ice_candidate_init(init.as_ref()),
        )
        .await?;
        Ok(())
    }

    /// `localDescription.sdp` (for out-of-band blobs, after gathering).
    pub fn local_sdp(&self) -> Option<String> {
        self.inner.local_description().map(|d| d.sdp())
    }

    /// `connectionState`.
    pub fn connection_state(&self) -> ConnectionState {
        connection_state(self.inner.connection_state())
    }

    /// `close()`: ends every channel and the connection; the peer sees `closed`.
    pub fn close(&self) {
        self.inner.close();
    }
}

impl Drop for PeerConnection {
    fn drop(&mut self) {
        self.inner.set_onicecandidate(None);
        self.inner.set_onconnectionstatechange(None);
        self.inner.set_ondatachannel(None);
        self.inner.close();
    }
}

fn description(kind: SdpKind, sdp: &str) -> RtcSessionDescriptionInit {
    let init = RtcSessionDescriptionInit::new(match kind {
        SdpKind::Offer => RtcSdpType::Offer,
        SdpKind::Answer => RtcSdpType::Answer,
    });
    init.set_sdp(sdp);
    init
}

/// Wall-clock milliseconds as a `Duration`: the sans-IO machines only compare and subtract.
fn now() -> Duration {
    Duration::from_millis(js_sys::Date::now() as u64)
}

/// Resolves after `limit` (at once if the browser refuses the timer).
async fn sleep(limit: Duration) {
    let deadline = now() + limit;
    let mut armed = false;
    std::future::poll_fn(|cx| {
        let left = deadline.saturating_sub(now());
        if left.is_zero()
            || (!armed && wake_after(left.as_millis() as u64 + 1, cx.waker().clone()).is_err())
        {
            return Poll::Ready(());
        }
        armed = true;
        Poll::Pending
    })
    .await
}

/// Wakes `waker` after `ms` milliseconds (global `setTimeout`, in windows and workers).
fn wake_after(ms: u64, waker: Waker) -> Result<(), JsError> {
    let set_timeout: js_sys::Function =
        js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("setTimeout"))?.dyn_into()?;
    let callback = Closure::once_into_js(move || waker.wake());
    set_timeout.call2(&JsValue::NULL, &callback, &JsValue::from_f64(ms as f64))?;
    Ok(())
}

fn sdp_of(value: JsValue) -> Result<String, JsError> {
    js_sys::Reflect::get(&value, &JsValue::from_str("sdp"))?
        .as_string()
        .ok_or_else(|| JsError("description without sdp".into()))
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    use super::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// A text field; Chrome reports an absent username or credential as "".
    fn field(value: &JsValue, name: &str) -> Option<String> {
        let text = js_sys::Reflect::get(value, &JsValue::from_str(name)).ok()?.as_string()?;
        (!text.is_empty()).then_some(text)
    }

    /// What the browser holds, read back through `getConfiguration()`.
    #[wasm_bindgen_test]
    fn the_ice_servers_reach_the_browser_connection() {
        let servers = [
            IceServer::new("stun:10.213.0.1:3478", None, None).unwrap(),
            IceServer::new("turn:10.213.0.1:3478?transport=udp", Some("user"), Some("secret")).unwrap(),
        ];
        let pc = PeerConnection::new(&servers).unwrap();
        let configured = js_sys::Array::from(&pc.inner.get_configuration().get_ice_servers().unwrap());
        let configured: Vec<_> = configured
            .iter()
            .map(|s| {
                let urls = js_sys::Reflect::get(&s, &JsValue::from_str("urls")).unwrap();
                // Browsers normalise `urls` to a list.
                let urls = js_sys::Array::from(&urls).iter().filter_map(|u| u.as_string()).collect::<Vec<_>>();
                (urls, field(&s, "username"), field(&s, "credential"))
            })
            .collect();
        let expected: Vec<_> = servers
            .iter()
            .map(|s| (vec![s.url().to_owned()], s.username().map(str::to_owned), s.credential().map(str::to_owned)))
            .collect();
        assert_eq!(configured, expected);
        // None by default: a local network needs none.
        let pc = PeerConnection::new(&[]).unwrap();
        assert_eq!(js_sys::Array::from(&pc.inner.get_configuration().get_ice_servers().unwrap()).length(), 0);
    }
}
