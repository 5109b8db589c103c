//! Direct links set up with no server at all: this device's invitation (a signed offer) and the
//! other device's answer travel as text the users pass by hand; the link is then handed to the
//! swarm like any other (browser-webrtc's out-of-band path).

use std::cell::RefCell;
use std::rc::Rc;

use browser_webrtc::oob::Blob;
use browser_webrtc::web::{Handle, LinkConfig, PendingOffer, answer_offer, create_offer};
use crypto::keys::{DeviceKey, PublicKey};
use futures::channel::{mpsc, oneshot};
use libp2p::PeerId;

/// Why an out-of-band step failed, as text for the UI.
pub(super) type Outcome<T> = Result<T, String>;

/// The out-of-band side of the node: the device key that signs the texts, the handle that gives
/// the swarm each link, and this device's open invitation.
pub(super) struct OfflineLinks {
    key: DeviceKey,
    handover: Handle,
    /// The invitation waiting for its answer; a new one replaces it.
    invitation: Rc<RefCell<Option<PendingOffer>>>,
    /// Where links that failed after their answer was shown are reported.
    failures: mpsc::Sender<(PeerId, String)>,
}

impl OfflineLinks {
    pub(super) fn new(key: DeviceKey, handover: Handle, failures: mpsc::Sender<(PeerId, String)>) -> Self {
        Self { key, handover, invitation: Rc::default(), failures }
    }

    /// Makes an invitation; replies with its text.
    pub(super) fn invite(&self, reply: oneshot::Sender<Outcome<String>>) {
        let (key, invitation, config) = (self.key.clone(), self.invitation.clone(), self.config());
        leptos::task::spawn_local(async move {
            let made = async {
                let (pending, blob) = create_offer(&key, &config, nonce()?, unix_now())
                    .await
                    .map_err(|e| e.to_string())?;
                *invitation.borrow_mut() = Some(pending);
                Ok(blob.to_text())
            };
            let _ = reply.send(made.await);
        });
    }

    /// Answers the invitation `text` of `from`; replies with the answer's text, then hands the link
    /// to the swarm once it is up.
    pub(super) fn answer(&self, text: String, from: PeerId, reply: oneshot::Sender<Outcome<String>>) {
        let (key, mut handover, mut failures) = (self.key.clone(), self.handover.clone(), self.failures.clone());
        let config = self.config();
        leptos::task::spawn_local(async move {
            let answered = async {
                let offer = Blob::from_text(text.trim()).map_err(|e| e.to_string())?;
                let offerer = device_key(&from)?;
                answer_offer(&key, &config, &offer, &offerer, nonce()?, unix_now())
                    .await
                    .map_err(|e| e.to_string())
            };
            let pending = match answered.await {
                Ok((pending, blob)) => {
                    let _ = reply.send(Ok(blob.to_text()));
                    pending
                }
                Err(error) => {
                    let _ = reply.send(Err(error));
                    return;
                }
            };
            let linked = match pending.connected().await {
                Ok((peer, connection)) => handover.hand_over(peer, connection).map_err(|e| e.to_string()),
                Err(error) => Err(error.to_string()),
            };
            if let Err(error) = linked {
                let _ = failures.try_send((from, error));
            }
        });
    }

    /// The set-up's settings, with the ICE servers the transport uses now.
    fn config(&self) -> LinkConfig {
        LinkConfig { ice_servers: self.handover.ice_servers(), ..LinkConfig::default() }
    }

    /// Completes this device's invitation with the answer `text` of `from`; replies once the link
    /// is handed to the swarm.
    pub(super) fn accept(&self, text: String, from: PeerId, reply: oneshot::Sender<Outcome<()>>) {
        let (mut handover, invitation) = (self.handover.clone(), self.invitation.take());
        leptos::task::spawn_local(async move {
            let linked = async {
                let invitation = invitation.ok_or_else(|| "no invitation was made on this device".to_owned())?;
                let answer = Blob::from_text(text.trim()).map_err(|e| e.to_string())?;
                let answerer = device_key(&from)?;
                let (peer, connection) =
                    invitation.accept(&answer, &answerer, unix_now()).await.map_err(|e| e.to_string())?;
                handover.hand_over(peer, connection).map_err(|e| e.to_string())
            };
            let _ = reply.send(linked.await);
        });
    }
}

/// The device key behind a `PeerId`: an Ed25519 `PeerId` is the identity multihash of the
/// protobuf-encoded public key (the device key is the libp2p identity).
fn device_key(peer: &PeerId) -> Outcome<PublicKey> {
    const IDENTITY: u64 = 0;
    let not_a_device = || format!("{peer} is not a device id");
    let multihash = peer.as_ref();
    if multihash.code() != IDENTITY {
        return Err(not_a_device());
    }
    let key = libp2p::identity::PublicKey::try_decode_protobuf(multihash.digest()).map_err(|_| not_a_device())?;
    let key = key.try_into_ed25519().map_err(|_| not_a_device())?;
    PublicKey::from_bytes(&key.to_bytes()).map_err(|e| e.to_string())
}

/// A fresh nonce for a signed text, from the browser's random source.
fn nonce() -> Outcome<[u8; 16]> {
    let mut nonce = [0u8; 16];
    getrandom::getrandom(&mut nonce).map_err(|e| e.to_string())?;
    Ok(nonce)
}

fn unix_now() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}
