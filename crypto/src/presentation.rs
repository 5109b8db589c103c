//! Presentations: a holder-bound voucher is shown as a rotating QR in which the holder's device
//! key signs `(voucher hash, 30-second time step, counter)`. A screenshot goes stale within a
//! minute, and the counter lets a merchant refuse a replay.
//!
//! Layout: `version (1) || voucher (its full encoding) || time_step || counter || signature (64)`.
//! The signature is `Ed25519(holder, "OM/presentation/1\0" || statement)` where
//! `statement = version (1) || SHA-256(voucher encoding) (32) || time_step || counter`
//! (varints), so the holder signs a fixed-size digest of the voucher, not the voucher again.
//!
//! # Invariants of a [`Presentation`]
//! - Canonical bytes; the embedded voucher satisfies every [`Voucher`] invariant.
//! - Neither the holder signature nor the voucher's issuer signature is known to be valid:
//!   [`Presentation::verify_holder`] and [`crate::verify::verify_offline`] check them.

use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError, VARINT_U32_MAX, VARINT_U64_MAX, Wire};
use crate::keys::{Context, DeviceKey, SIGNATURE_LENGTH, Signature, SignedMessage};
use crate::voucher::{MAX_VOUCHER_LEN, Voucher, VoucherWire};

/// Version byte of a presentation.
pub const PRESENTATION_VERSION: u8 = 1;
/// Length of one time step.
pub const TIME_STEP_SECS: u64 = 30;
/// Largest encoding of a presentation, in bytes.
pub const MAX_PRESENTATION_LEN: usize =
    1 + MAX_VOUCHER_LEN + VARINT_U64_MAX + VARINT_U32_MAX + SIGNATURE_LENGTH;
/// Prefix of a presentation's QR text.
pub const PRESENTATION_QR_PREFIX: &str = "GP1:";

/// The time step that contains unix second `now`.
pub fn time_step(now: u64) -> u64 {
    now / TIME_STEP_SECS
}

/// Why a presentation could not be made or does not check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PresentationError {
    /// The voucher is a bearer voucher: there is no holder to sign.
    #[error("voucher is not holder-bound")]
    NotHolderBound,
    /// The key presenting is not the voucher's holder.
    #[error("key is not the voucher's holder")]
    WrongHolder,
    /// The holder signature does not verify.
    #[error("holder signature does not verify")]
    BadSignature,
}

/// A holder-signed presentation of a holder-bound voucher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presentation {
    voucher: Voucher,
    time_step: u64,
    counter: u32,
    signature: Signature,
    bytes: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct PresentationWire {
    version: u8,
    voucher: VoucherWire,
    time_step: u64,
    counter: u32,
    signature: Signature,
}

impl Wire for PresentationWire {
    const VERSION: u8 = PRESENTATION_VERSION;
    const MAX_LEN: usize = MAX_PRESENTATION_LEN;
}

#[derive(Serialize)]
struct Statement {
    version: u8,
    voucher_hash: [u8; 32],
    time_step: u64,
    counter: u32,
}

impl Presentation {
    /// The holder presents `voucher` at unix second `now` with `counter` (which the wallet
    /// increments for every presentation it shows of this voucher).
    pub fn present(holder: &DeviceKey, voucher: &Voucher, now: u64, counter: u32) -> Result<Self, PresentationError> {
        let bound_to = voucher.terms().holder.ok_or(PresentationError::NotHolderBound)?;
        if bound_to != holder.public() {
            return Err(PresentationError::WrongHolder);
        }
        let time_step = time_step(now);
        let signature = holder.sign(Context::PRESENTATION, &statement(voucher, time_step, counter));
        let wire = PresentationWire {
            version: PRESENTATION_VERSION,
            voucher: voucher.to_wire(),
            time_step,
            counter,
            signature,
        };
        let bytes = codec::encode(&wire);
        Ok(Self { voucher: voucher.clone(), time_step, counter, signature, bytes })
    }

    /// Decodes a presentation (structure only: no signature is checked here).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_wire(codec::decode::<PresentationWire>(bytes)?, bytes.to_vec())
    }

    /// The presentation of a decoded wire struct whose canonical encoding is `bytes`.
    pub(crate) fn from_wire(wire: PresentationWire, bytes: Vec<u8>) -> Result<Self, DecodeError> {
        codec::check_version(wire.version, PRESENTATION_VERSION)?;
        // The voucher's encoding follows the version byte: cut it out rather than encode it again.
        let voucher_bytes = bytes.get(1..1 + codec::encoded_len(&wire.voucher)).ok_or(DecodeError::Truncated)?.to_vec();
        Ok(Self {
            voucher: Voucher::from_wire(wire.voucher, voucher_bytes)?,
            time_step: wire.time_step,
            counter: wire.counter,
            signature: wire.signature,
            bytes,
        })
    }

    pub(crate) fn to_wire(&self) -> PresentationWire {
        PresentationWire {
            version: PRESENTATION_VERSION,
            voucher: self.voucher.to_wire(),
            time_step: self.time_step,
            counter: self.counter,
            signature: self.signature,
        }
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The voucher presented.
    pub fn voucher(&self) -> &Voucher {
        &self.voucher
    }

    /// The 30-second time step it was made in.
    pub fn time_step(&self) -> u64 {
        self.time_step
    }

    /// The wallet's counter for this voucher.
    pub fn counter(&self) -> u32 {
        self.counter
    }

    /// Checks the holder signature against the voucher's holder key (`verify_strict` under
    /// [`Context::PRESENTATION`]). It does not check the voucher's issuer signature.
    pub fn verify_holder(&self) -> Result<(), PresentationError> {
        self.holder_signed()?.verify_strict().map_err(|_| PresentationError::BadSignature)
    }

    /// The holder signature with the statement it covers, claimed by the voucher's holder key
    /// (for batch checks); [`PresentationError::NotHolderBound`] for a bearer voucher.
    pub fn holder_signed(&self) -> Result<SignedMessage, PresentationError> {
        let holder = self.voucher.terms().holder.ok_or(PresentationError::NotHolderBound)?;
        let statement = statement(&self.voucher, self.time_step, self.counter);
        Ok(SignedMessage::new(holder, Context::PRESENTATION, &statement, self.signature))
    }

    /// Whether its time step overlaps `[now - tolerance, now + tolerance]`: a step covers
    /// `[30 s, 30 s + 29]`. With a 30-second tolerance a screenshot is stale within 60 seconds.
    pub fn is_fresh(&self, now: u64, tolerance_secs: u64) -> bool {
        let Some(start) = self.time_step.checked_mul(TIME_STEP_SECS) else {
            return false;
        };
        let end = start.saturating_add(TIME_STEP_SECS - 1);
        start <= now.saturating_add(tolerance_secs) && now.saturating_sub(tolerance_secs) <= end
    }

    /// The QR text: `GP1:` + Base45(encoding).
    pub fn to_qr_text(&self) -> String {
        codec::to_qr_text(PRESENTATION_QR_PREFIX, &self.bytes)
    }

    /// Decodes QR text made by [`Presentation::to_qr_text`].
    pub fn from_qr_text(text: &str) -> Result<Self, DecodeError> {
        Self::from_bytes(&codec::from_qr_text(text, PRESENTATION_QR_PREFIX, MAX_PRESENTATION_LEN)?)
    }
}

fn statement(voucher: &Voucher, time_step: u64, counter: u32) -> Vec<u8> {
    codec::encode(&Statement { version: PRESENTATION_VERSION, voucher_hash: voucher.hash().0, time_step, counter })
}

/// What a merchant's scanner read: a voucher (bearer) or a presentation (holder-bound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scanned {
    /// `GV1:` text.
    Voucher(Voucher),
    /// `GP1:` text.
    Presentation(Presentation),
}

impl Scanned {
    /// Decodes scanned QR text by its prefix.
    pub fn from_qr_text(text: &str) -> Result<Self, DecodeError> {
        if text.starts_with(PRESENTATION_QR_PREFIX) {
            Presentation::from_qr_text(text).map(Scanned::Presentation)
        } else {
            Voucher::from_qr_text(text).map(Scanned::Voucher)
        }
    }

    /// The voucher, presented or not.
    pub fn voucher(&self) -> &Voucher {
        match self {
            Scanned::Voucher(voucher) => voucher,
            Scanned::Presentation(presentation) => presentation.voucher(),
        }
    }
}
