//! Out-of-band link set-up (`WEBRTC.md` §6): the offerer's [`create_offer`] and the answerer's
//! [`answer_offer`] each yield one signed blob ([`crate::oob`]) for a QR code or copy-paste, and
//! both end with the same [`Connection`] as the relay path, with the remote `PeerId` taken from
//! the verified signer's key.
//!
//! The caller supplies the randomness (blob nonces) and the Unix time, and must refuse a nonce
//! it has seen before ([`crate::oob::Verified::nonce`]). Each set-up uses a fresh
//! `RTCPeerConnection`, so a fresh DTLS certificate.

use std::time::Duration;

use crypto::keys::{DeviceKey, PublicKey};
use libp2p_identity::PeerId;
use web_sys::RtcDataChannel;

use super::{Connection, ConnectionError, INIT_LABEL, JsError, PeerConnection};
use crate::ice::IceServer;
use crate::oob::{self, Blob, Expect, NONCE_LEN, OobError, Verified};
use crate::signaling::SdpKind;

/// Settings for an out-of-band set-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    /// ICE servers (STUN, TURN); none on a local network.
    pub ice_servers: Vec<IceServer>,
    /// Longest wait for candidates before the blob is made with those found so far
    /// (a stalled interface can hold gathering for 30-40 s).
    pub gather: Duration,
    /// Longest wait from the answer to `connected`.
    pub connect: Duration,
    /// Blob lifetime in seconds (at most [`oob::MAX_LIFETIME_SECS`]).
    pub lifetime_secs: u32,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            ice_servers: Vec::new(),
            gather: Duration::from_secs(3),
            connect: Duration::from_secs(10),
            lifetime_secs: 120,
        }
    }
}

/// Why an out-of-band set-up failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// A blob was malformed, stale, for another session or signed by someone else.
    #[error("blob: {0}")]
    Blob(#[from] OobError),
    /// The browser refused a step.
    #[error(transparent)]
    Browser(#[from] JsError),
    /// The connection failed or a wait timed out.
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    /// The browser has no local description after `setLocalDescription`.
    #[error("no local description")]
    NoLocalDescription,
    /// The signer's key is not a valid libp2p Ed25519 key.
    #[error("signer key is not a libp2p key")]
    SignerKey,
}

/// The offerer between its offer and the peer's answer.
#[derive(Debug)]
pub struct PendingOffer {
    connection: Connection,
    init: RtcDataChannel,
    offer: Verified,
    config: LinkConfig,
}

/// The answerer after sending its answer, until the link is up.
#[derive(Debug)]
pub struct PendingAnswer {
    connection: Connection,
    peer: PeerId,
    config: LinkConfig,
}

/// Offerer, step 1: a new peer connection with the `init` channel, its offer gathered and
/// signed with `key`. Show the blob to the peer, then call [`PendingOffer::accept`].
pub async fn create_offer(
    key: &DeviceKey,
    config: &LinkConfig,
    nonce: [u8; NONCE_LEN],
    unix_now: u64,
) -> Result<(PendingOffer, Blob), LinkError> {
    let pc = PeerConnection::new(&config.ice_servers)?;
    let init = pc.create_data_channel(INIT_LABEL);
    let sdp = pc.create_offer().await?;
    pc.set_local_description(SdpKind::Offer, &sdp).await?;
    let mut connection = Connection::new(pc);
    let sdp = gathered_sdp(&mut connection, config).await?;
    let blob = oob::offer(key, &sdp, nonce, expiry(unix_now, config))?;
    // Re-read from the blob: the answer must be bound to exactly what the peer will see.
    let offer = oob::verify(&blob, &key.public(), Expect::Offer, unix_now)?;
    let pending = PendingOffer {
        connection,
        init,
        offer,
        config: config.clone(),
    };
    Ok((pending, blob))
}

impl PendingOffer {
    /// Offerer, step 2: checks that `answer` is `answerer`'s answer to this offer, applies it and
    /// waits for the link. Returns the answerer's `PeerId` and the connection.
    pub async fn accept(
        mut self,
        answer: &Blob,
        answerer: &PublicKey,
        unix_now: u64,
    ) -> Result<(PeerId, Connection), LinkError> {
        let answer = oob::verify(answer, answerer, Expect::AnswerTo(&self.offer), unix_now)?;
        let peer = peer_id(&answer.signer())?;
        let pc = self.connection.peer_connection();
        pc.set_remote_description(SdpKind::Answer, &answer.sdp())
            .await?;
        self.connection.connected(self.config.connect).await?;
        self.init.close();
        Ok((peer, self.connection))
    }
}

/// Answerer: checks that `offer` is a fresh offer signed by `offerer`, answers it in a new peer
/// connection and signs the answer with `key`. Show the blob to the peer, then call
/// [`PendingAnswer::connected`].
pub async fn answer_offer(
    key: &DeviceKey,
    config: &LinkConfig,
    offer: &Blob,
    offerer: &PublicKey,
    nonce: [u8; NONCE_LEN],
    unix_now: u64,
) -> Result<(PendingAnswer, Blob), LinkError> {
    let offer = oob::verify(offer, offerer, Expect::Offer, unix_now)?;
    let peer = peer_id(&offer.signer())?;
    let mut connection = Connection::new(PeerConnection::new(&config.ice_servers)?);
    let pc = connection.peer_connection();
    pc.set_remote_description(SdpKind::Offer, &offer.sdp())
        .await?;
    let sdp = pc.create_answer().await?;
    pc.set_local_description(SdpKind::Answer, &sdp).await?;
    let sdp = gathered_sdp(&mut connection, config).await?;
    let blob = oob::answer(key, &sdp, &offer, nonce, expiry(unix_now, config))?;
    let pending = PendingAnswer {
        connection,
        peer,
        config: config.clone(),
    };
    Ok((pending, blob))
}

impl PendingAnswer {
    /// Waits for the offerer to apply the answer and the link to come up. Returns the
    /// offerer's `PeerId` and the connection.
    pub async fn connected(mut self) -> Result<(PeerId, Connection), LinkError> {
        self.connection.connected(self.config.connect).await?;
        Ok((self.peer, self.connection))
    }
}

async fn gathered_sdp(
    connection: &mut Connection,
    config: &LinkConfig,
) -> Result<String, LinkError> {
    connection.gathered(config.gather).await?;
    connection
        .peer_connection()
        .local_sdp()
        .ok_or(LinkError::NoLocalDescription)
}

fn expiry(unix_now: u64, config: &LinkConfig) -> u32 {
    let lifetime = u64::from(config.lifetime_secs).min(oob::MAX_LIFETIME_SECS);
    u32::try_from(unix_now.saturating_add(lifetime)).unwrap_or(u32::MAX)
}

/// The libp2p `PeerId` of a device key (the device key is the libp2p identity, DESIGN.md).
fn peer_id(key: &PublicKey) -> Result<PeerId, LinkError> {
    let key = libp2p_identity::ed25519::PublicKey::try_from_bytes(&key.to_bytes())
        .map_err(|_| LinkError::SignerKey)?;
    Ok(libp2p_identity::PublicKey::from(key).to_peer_id())
}
