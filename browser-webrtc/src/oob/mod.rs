//! Out-of-band signaling (`WEBRTC.md` §6): one signed offer blob and one signed answer blob,
//! passed by QR code or copy-paste, replace the signaling stream. Not part of the libp2p spec:
//! only this project's peers understand it.
//!
//! The offerer gathers candidates for a few seconds, then makes an [`offer`] from its
//! `localDescription.sdp`; the answerer [`verify`]s it, passes [`Verified::sdp`] to
//! `setRemoteDescription`, and returns an [`answer`] bound to that offer; the offerer verifies
//! it with [`Expect::AnswerTo`]. The DTLS fingerprint in each rebuilt SDP is the signed one, so
//! the browser's DTLS check ties the link to the signer's device key. Use a fresh
//! `RTCPeerConnection` (fresh certificate) per blob, a short lifetime, and refuse a nonce seen
//! before ([`Verified::nonce`]): the caller keeps that set.
//!
//! # Wire format, version 1 (all integers big-endian)
//! ```text
//! blob    = payload || signature                    at most MAX_BLOB_LEN bytes
//! payload = 0x01                                    version
//!           kind          u8                        0 = offer, 1 = answer
//!           signer        32 bytes                  Ed25519 public key (the PeerId's key)
//!           nonce         16 bytes                  random, from the caller
//!           expires_at    u32                       Unix seconds
//!           [offer_hash   16 bytes]                 answer only: SHA-256(offer blob)[..16]
//!           ufrag         u8 n, then ceil(6n/8) B   n ICE chars, 6 bits each (A-Z a-z 0-9 + /
//!                                                   = 0..63), first char in the high bits,
//!                                                   unused low bits of the last byte zero
//!           pwd           same
//!           fp_alg        u8                        0 = sha-256, 1 = sha-384, 2 = sha-512
//!           fingerprint   32 / 48 / 64 bytes
//!           setup         u8                        0 = actpass, 1 = active, 2 = passive
//!           mid           u8 n, then n bytes        token [A-Za-z0-9-_.], 1..=32
//!           sctp_port     u16
//!           max_msg_size  u32                       0 = absent
//!           count         u8                        candidates, at most 16
//!           candidate*    header u8:  bits 0-1 type (0 host, 1 srflx, 2 prflx, 3 relay)
//!                                     bit  2   TCP
//!                                     bits 3-4 tcptype (0 none, 1 active, 2 passive, 3 so)
//!                                     bits 5-6 address kind
//!                                     bit  7   related address follows
//!                         priority u32, address, port u16,
//!                         [related: kind u8 (0..=3), address, port u16]
//! address = kind 0: 4 bytes IPv4 | 1: 16 bytes IPv6 | 2: 16 bytes UUID of `<uuid>.local`
//!           | 3: u8 n, then n bytes host name [A-Za-z0-9.-]
//! signature = Ed25519(device key, "OM/signaling-blob/1\0" || payload), 64 bytes
//! ```
//! The encoding is canonical: decoding re-encodes and must give back the same bytes, so one
//! session has one blob. Text form for QR codes and pasting: [`TEXT_PREFIX`] + Base45 (RFC 9285,
//! QR alphanumeric mode). Base45 gives smaller QR codes than base64url at level M (measured in
//! the tests: alphanumeric mode spends 5.5 bits per character, byte mode 8).

pub mod sdp;

use crypto::keys::{Context, DeviceKey, PUBLIC_KEY_LENGTH, PublicKey, SIGNATURE_LENGTH, Signature};
use sha2::{Digest as _, Sha256};

pub use sdp::{
    Address, Candidate, CandidateType, HashAlgorithm, SdpError, SessionParams, Setup, TcpType,
};

/// Blob format version.
pub const VERSION: u8 = 1;
/// Largest blob accepted or made.
pub const MAX_BLOB_LEN: usize = 1200;
/// Prefix of the text form (QR alphanumeric characters only).
pub const TEXT_PREFIX: &str = "WRTC1:";
/// Length of the nonce.
pub const NONCE_LEN: usize = 16;
/// Length of the offer hash in an answer.
pub const OFFER_HASH_LEN: usize = 16;
/// Longest lifetime a verifier accepts (`expires_at - now`), in seconds.
pub const MAX_LIFETIME_SECS: u64 = 15 * 60;

/// Which blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The offerer's blob.
    Offer,
    /// The answerer's blob.
    Answer,
}

/// Why a blob could not be made or was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OobError {
    /// The SDP lacks something or has something a blob cannot carry.
    #[error("SDP: {0}")]
    Sdp(#[from] SdpError),
    /// The blob would exceed, or exceeds, [`MAX_BLOB_LEN`].
    #[error("blob of {0} bytes is over the limit")]
    TooLong(usize),
    /// The text lacks [`TEXT_PREFIX`] or is not Base45.
    #[error("not blob text")]
    Text,
    /// Unknown version byte.
    #[error("unsupported blob version {0}")]
    Version(u8),
    /// The bytes end early.
    #[error("blob is truncated")]
    Truncated,
    /// A field is out of range, or bytes follow the signature.
    #[error("malformed blob field: {0}")]
    Malformed(&'static str),
    /// The bytes decode but are not the canonical encoding.
    #[error("blob encoding is not canonical")]
    NonCanonical,
    /// The embedded key is not a valid Ed25519 key.
    #[error("invalid signer key")]
    BadKey,
    /// Signed by someone else than expected.
    #[error("blob is signed by an unexpected key")]
    UnexpectedSigner,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// An offer where an answer was expected, or the reverse.
    #[error("expected {expected:?}, got {got:?}")]
    WrongKind {
        /// What the caller expected.
        expected: Kind,
        /// What the blob is.
        got: Kind,
    },
    /// `expires_at` has passed.
    #[error("blob expired")]
    Expired,
    /// `expires_at` lies further ahead than [`MAX_LIFETIME_SECS`].
    #[error("blob expiry is too far ahead")]
    TooFarAhead,
    /// The answer does not answer this offer.
    #[error("answer is for another offer")]
    OfferMismatch,
}

/// A blob's content, before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Payload {
    kind: Kind,
    signer: [u8; PUBLIC_KEY_LENGTH],
    nonce: [u8; NONCE_LEN],
    expires_at: u32,
    offer_hash: Option<[u8; OFFER_HASH_LEN]>,
    session: SessionParams,
}

/// A signed blob as bytes: what is shown as QR or pasted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob(Vec<u8>);

impl Blob {
    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// [`TEXT_PREFIX`] + Base45.
    pub fn to_text(&self) -> String {
        format!("{TEXT_PREFIX}{}", crypto::codec::base45::encode(&self.0))
    }

    /// Reads the text form (surrounding whitespace is ignored). Only the size and alphabet are
    /// checked here; [`verify`] checks everything else.
    pub fn from_text(text: &str) -> Result<Self, OobError> {
        let body = text
            .trim()
            .strip_prefix(TEXT_PREFIX)
            .ok_or(OobError::Text)?;
        if body.len() > crypto::codec::base45::encoded_len(MAX_BLOB_LEN) {
            return Err(OobError::TooLong(body.len() / 3 * 2));
        }
        crypto::codec::base45::decode(body)
            .map(Self)
            .map_err(|_| OobError::Text)
    }

    /// Wraps bytes received some other way.
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    fn hash(&self) -> [u8; OFFER_HASH_LEN] {
        let digest = Sha256::digest(&self.0);
        let mut out = [0; OFFER_HASH_LEN];
        out.copy_from_slice(&digest[..OFFER_HASH_LEN]);
        out
    }
}

/// A blob that passed [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    blob: Blob,
    payload: Payload,
    signer: PublicKey,
}

impl Verified {
    /// Offer or answer.
    pub fn kind(&self) -> Kind {
        self.payload.kind
    }

    /// The signer, whose PeerId the connection belongs to.
    pub fn signer(&self) -> PublicKey {
        self.signer
    }

    /// The nonce; refuse a blob whose nonce was seen before.
    pub fn nonce(&self) -> [u8; NONCE_LEN] {
        self.payload.nonce
    }

    /// Expiry, Unix seconds.
    pub fn expires_at(&self) -> u64 {
        u64::from(self.payload.expires_at)
    }

    /// The signed session parameters.
    pub fn session(&self) -> &SessionParams {
        &self.payload.session
    }

    /// The SDP to pass to `setRemoteDescription` (type `offer` or `answer` per [`Self::kind`]).
    pub fn sdp(&self) -> String {
        let mut id = [0; 8];
        id.copy_from_slice(&self.payload.nonce[..8]);
        self.payload.session.to_sdp(u64::from_be_bytes(id))
    }

    /// The blob itself.
    pub fn blob(&self) -> &Blob {
        &self.blob
    }
}

/// What the verifier expects.
#[derive(Debug, Clone, Copy)]
pub enum Expect<'a> {
    /// An offer.
    Offer,
    /// The answer to this (verified) offer.
    AnswerTo(&'a Verified),
}

/// Makes the offer blob from the offerer's `localDescription.sdp`.
pub fn offer(
    key: &DeviceKey,
    sdp: &str,
    nonce: [u8; NONCE_LEN],
    expires_at: u32,
) -> Result<Blob, OobError> {
    make(key, Kind::Offer, sdp, nonce, expires_at, None)
}

/// Makes the answer blob from the answerer's `localDescription.sdp`, bound to `offer`.
pub fn answer(
    key: &DeviceKey,
    sdp: &str,
    offer: &Verified,
    nonce: [u8; NONCE_LEN],
    expires_at: u32,
) -> Result<Blob, OobError> {
    make(
        key,
        Kind::Answer,
        sdp,
        nonce,
        expires_at,
        Some(offer.blob.hash()),
    )
}

fn make(
    key: &DeviceKey,
    kind: Kind,
    sdp: &str,
    nonce: [u8; NONCE_LEN],
    expires_at: u32,
    offer_hash: Option<[u8; OFFER_HASH_LEN]>,
) -> Result<Blob, OobError> {
    let session = SessionParams::from_sdp(sdp)?;
    let payload = Payload {
        kind,
        signer: key.public().to_bytes(),
        nonce,
        expires_at,
        offer_hash,
        session,
    };
    let mut bytes = encode_payload(&payload)?;
    let signature = key.sign(Context::SIGNALING_BLOB, &bytes);
    bytes.extend_from_slice(&signature.to_bytes());
    if bytes.len() > MAX_BLOB_LEN {
        return Err(OobError::TooLong(bytes.len()));
    }
    Ok(Blob(bytes))
}

/// Checks, in order: size, structure and canonical encoding, that the signer is `expected_signer`,
/// the signature, the kind, freshness (`now` in Unix seconds is before `expires_at`, which is at
/// most [`MAX_LIFETIME_SECS`] ahead), and for an answer that it names the offer's hash.
pub fn verify(
    blob: &Blob,
    expected_signer: &PublicKey,
    expect: Expect<'_>,
    now: u64,
) -> Result<Verified, OobError> {
    let bytes = blob.as_bytes();
    if bytes.len() > MAX_BLOB_LEN {
        return Err(OobError::TooLong(bytes.len()));
    }
    let split = bytes
        .len()
        .checked_sub(SIGNATURE_LENGTH)
        .ok_or(OobError::Truncated)?;
    let (payload_bytes, signature) = bytes.split_at(split);
    let payload = decode_payload(payload_bytes)?;
    if payload.signer != expected_signer.to_bytes() {
        return Err(OobError::UnexpectedSigner);
    }
    let signer = PublicKey::from_bytes(&payload.signer).map_err(|_| OobError::BadKey)?;
    let mut sig = [0; SIGNATURE_LENGTH];
    sig.copy_from_slice(signature);
    signer
        .verify(Context::SIGNALING_BLOB, payload_bytes, &Signature(sig))
        .map_err(|_| OobError::BadSignature)?;
    let expected = match expect {
        Expect::Offer => Kind::Offer,
        Expect::AnswerTo(_) => Kind::Answer,
    };
    if payload.kind != expected {
        return Err(OobError::WrongKind {
            expected,
            got: payload.kind,
        });
    }
    let expires_at = u64::from(payload.expires_at);
    if now >= expires_at {
        return Err(OobError::Expired);
    }
    if expires_at - now > MAX_LIFETIME_SECS {
        return Err(OobError::TooFarAhead);
    }
    if let Expect::AnswerTo(offer) = expect
        && payload.offer_hash != Some(offer.blob.hash())
    {
        return Err(OobError::OfferMismatch);
    }
    Ok(Verified {
        blob: blob.clone(),
        payload,
        signer,
    })
}

fn kind_byte(kind: Kind) -> u8 {
    match kind {
        Kind::Offer => 0,
        Kind::Answer => 1,
    }
}

fn index_of<T: PartialEq>(all: &[T], value: &T) -> u8 {
    all.iter().position(|v| v == value).unwrap_or(0) as u8
}

fn encode_payload(p: &Payload) -> Result<Vec<u8>, OobError> {
    let s = &p.session;
    let mut out = Vec::with_capacity(256);
    out.push(VERSION);
    out.push(kind_byte(p.kind));
    out.extend_from_slice(&p.signer);
    out.extend_from_slice(&p.nonce);
    out.extend_from_slice(&p.expires_at.to_be_bytes());
    if let Some(hash) = p.offer_hash {
        out.extend_from_slice(&hash);
    }
    pack_ice(&mut out, &s.ufrag);
    pack_ice(&mut out, &s.pwd);
    out.push(index_of(&HashAlgorithm::ALL, &s.fingerprint_algorithm));
    out.extend_from_slice(&s.fingerprint);
    out.push(index_of(&Setup::ALL, &s.setup));
    out.push(s.mid.len() as u8);
    out.extend_from_slice(s.mid.as_bytes());
    out.extend_from_slice(&s.sctp_port.to_be_bytes());
    out.extend_from_slice(&s.max_message_size.to_be_bytes());
    out.push(s.candidates.len() as u8);
    for c in &s.candidates {
        let tcp = c.tcp.is_some();
        let tcptype = match c.tcp {
            Some(Some(t)) => index_of(&TcpType::ALL, &t) + 1,
            _ => 0,
        };
        let header = index_of(&CandidateType::ALL, &c.kind)
            | u8::from(tcp) << 2
            | tcptype << 3
            | address_kind(&c.address) << 5
            | u8::from(c.related.is_some()) << 7;
        out.push(header);
        out.extend_from_slice(&c.priority.to_be_bytes());
        put_address(&mut out, &c.address);
        out.extend_from_slice(&c.port.to_be_bytes());
        if let Some((address, port)) = &c.related {
            out.push(address_kind(address));
            put_address(&mut out, address);
            out.extend_from_slice(&port.to_be_bytes());
        }
    }
    if out.len() + SIGNATURE_LENGTH > MAX_BLOB_LEN {
        return Err(OobError::TooLong(out.len() + SIGNATURE_LENGTH));
    }
    Ok(out)
}

fn address_kind(address: &Address) -> u8 {
    match address {
        Address::V4(_) => 0,
        Address::V6(_) => 1,
        Address::Mdns(_) => 2,
        Address::Host(_) => 3,
    }
}

fn put_address(out: &mut Vec<u8>, address: &Address) {
    match address {
        Address::V4(ip) => out.extend_from_slice(&ip.octets()),
        Address::V6(ip) => out.extend_from_slice(&ip.octets()),
        Address::Mdns(uuid) => out.extend_from_slice(uuid),
        Address::Host(name) => {
            out.push(name.len() as u8);
            out.extend_from_slice(name.as_bytes());
        }
    }
}

const ICE_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `u8 n` then the n characters at 6 bits each, big-endian bit order.
fn pack_ice(out: &mut Vec<u8>, text: &str) {
    out.push(text.len() as u8);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let value = ICE_ALPHABET.iter().position(|&a| a == c).unwrap_or(0) as u32;
        acc = acc << 6 | value;
        bits += 6;
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    if bits > 0 {
        out.push((acc << (8 - bits)) as u8);
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], OobError> {
        if n > self.rest.len() {
            return Err(OobError::Truncated);
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], OobError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, OobError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, OobError> {
        self.array().map(u16::from_be_bytes)
    }

    fn u32(&mut self) -> Result<u32, OobError> {
        self.array().map(u32::from_be_bytes)
    }

    fn ice(&mut self, min: usize, field: &'static str) -> Result<String, OobError> {
        let n = usize::from(self.u8()?);
        if n < min {
            return Err(OobError::Malformed(field));
        }
        let packed = self.take((n * 6).div_ceil(8))?;
        let (mut acc, mut bits, mut text) = (0u32, 0, String::with_capacity(n));
        for &byte in packed {
            acc = (acc << 8 | u32::from(byte)) & 0xffff;
            bits += 8;
            while bits >= 6 && text.len() < n {
                bits -= 6;
                text.push(char::from(ICE_ALPHABET[((acc >> bits) & 63) as usize]));
            }
        }
        // Non-zero padding bits are caught by the canonical re-encoding check.
        Ok(text)
    }

    fn address(&mut self, kind: u8) -> Result<Address, OobError> {
        Ok(match kind {
            0 => Address::V4(self.array::<4>()?.into()),
            1 => Address::V6(self.array::<16>()?.into()),
            2 => Address::Mdns(self.array()?),
            _ => {
                let n = usize::from(self.u8()?);
                let name = core::str::from_utf8(self.take(n)?)
                    .map_err(|_| OobError::Malformed("host name"))?;
                if !sdp::is_host_name(name) {
                    return Err(OobError::Malformed("host name"));
                }
                Address::Host(name.to_owned())
            }
        })
    }
}

fn pick<T: Copy>(all: &[T], index: u8, field: &'static str) -> Result<T, OobError> {
    all.get(usize::from(index))
        .copied()
        .ok_or(OobError::Malformed(field))
}

fn decode_payload(bytes: &[u8]) -> Result<Payload, OobError> {
    let mut r = Reader { rest: bytes };
    let version = r.u8()?;
    if version != VERSION {
        return Err(OobError::Version(version));
    }
    let kind = match r.u8()? {
        0 => Kind::Offer,
        1 => Kind::Answer,
        _ => return Err(OobError::Malformed("kind")),
    };
    let signer = r.array()?;
    let nonce = r.array()?;
    let expires_at = r.u32()?;
    let offer_hash = if kind == Kind::Answer {
        Some(r.array()?)
    } else {
        None
    };
    let ufrag = r.ice(4, "ice-ufrag")?;
    let pwd = r.ice(22, "ice-pwd")?;
    let fingerprint_algorithm = pick(&HashAlgorithm::ALL, r.u8()?, "fingerprint algorithm")?;
    let fingerprint = r.take(fingerprint_algorithm.digest_len())?.to_vec();
    let setup = pick(&Setup::ALL, r.u8()?, "setup")?;
    let mid_len = usize::from(r.u8()?);
    let mid = core::str::from_utf8(r.take(mid_len)?)
        .map_err(|_| OobError::Malformed("mid"))?
        .to_owned();
    if !sdp::is_mid(&mid) {
        return Err(OobError::Malformed("mid"));
    }
    let sctp_port = r.u16()?;
    let max_message_size = r.u32()?;
    let count = usize::from(r.u8()?);
    if count > sdp::MAX_CANDIDATES {
        return Err(OobError::Malformed("candidate count"));
    }
    let mut candidates = Vec::with_capacity(count);
    for _ in 0..count {
        let header = r.u8()?;
        let kind = pick(&CandidateType::ALL, header & 3, "candidate type")?;
        let tcptype = (header >> 3) & 3;
        let tcp = match (header >> 2) & 1 {
            0 if tcptype == 0 => None,
            0 => return Err(OobError::Malformed("tcptype on UDP")),
            _ => Some(
                tcptype
                    .checked_sub(1)
                    .map(|t| pick(&TcpType::ALL, t, "tcptype"))
                    .transpose()?,
            ),
        };
        let priority = r.u32()?;
        let address = r.address((header >> 5) & 3)?;
        let port = r.u16()?;
        let related = if header >> 7 == 1 {
            let kind = r.u8()?;
            if kind > 3 {
                return Err(OobError::Malformed("related address kind"));
            }
            Some((r.address(kind)?, r.u16()?))
        } else {
            None
        };
        candidates.push(Candidate {
            kind,
            tcp,
            priority,
            address,
            port,
            related,
        });
    }
    if !r.rest.is_empty() {
        return Err(OobError::Malformed("trailing bytes"));
    }
    let payload = Payload {
        kind,
        signer,
        nonce,
        expires_at,
        offer_hash,
        session: SessionParams {
            ufrag,
            pwd,
            fingerprint_algorithm,
            fingerprint,
            setup,
            mid,
            sctp_port,
            max_message_size,
            candidates,
        },
    };
    if encode_payload(&payload)? != bytes {
        return Err(OobError::NonCanonical);
    }
    Ok(payload)
}

#[cfg(test)]
mod tests;
