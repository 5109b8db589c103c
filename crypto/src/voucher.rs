//! GV1 gift vouchers: the platform's (issuer key's) signature over a compact body.
//!
//! Layout (`FORMAT.md` has the byte-level table and a worked example):
//! `version (1) || kid (4) || id (16) || sku || brand || value || issued_at || expires_at ||
//! flags (1) || holder (option of 32) || signature (64)`, integers as postcard varints.
//! The signature is `Ed25519(issuer, "GV1" || everything before it)`.
//!
//! # Invariants of a [`Voucher`]
//! - It was decoded from, or encodes to, exactly one canonical byte string ([`Voucher::to_bytes`]).
//! - `issued_at <= expires_at`; `expires_at` is the last second at which it may be redeemed.
//! - No undefined flag bit is set; a [`Flags::STORED_VALUE`] voucher has a value above 0.
//! - An embedded holder key is valid and not weak.
//! - Its issuer signature is *not* known to be valid: only [`crate::verify::verify_offline`]
//!   (or [`Voucher::verify_issuer`] with a key from a verified trust list) establishes that.

use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::codec::{self, DecodeError, VARINT_U32_MAX, VARINT_U64_MAX, Wire};
use crate::keys::{BadSignature, Context, DeviceKey, PUBLIC_KEY_LENGTH, PublicKey, SIGNATURE_LENGTH, Signature, SignedMessage};

/// Version byte of a GV1 voucher.
pub const VOUCHER_VERSION: u8 = 1;
/// Largest encoding of a voucher, in bytes (every varint at its longest, holder present).
pub const MAX_VOUCHER_LEN: usize =
    1 + 4 + 16 + 3 * VARINT_U32_MAX + 2 * VARINT_U64_MAX + 1 + 1 + PUBLIC_KEY_LENGTH + SIGNATURE_LENGTH;
/// Prefix of a voucher's QR text.
pub const VOUCHER_QR_PREFIX: &str = "GV1:";

/// Key id: the first 4 bytes of SHA-256 of an issuer's public key. Several keys may share one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; 4]);

impl KeyId {
    /// The key id of `key`.
    pub fn of(key: &PublicKey) -> Self {
        let digest = Sha256::digest(key.to_bytes());
        Self([digest[0], digest[1], digest[2], digest[3]])
    }
}

/// A voucher's 16-byte random id. Refunds and re-issues get a new id and revoke the old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VoucherId(pub [u8; 16]);

impl VoucherId {
    /// A fresh id from the caller's random source.
    pub fn random(rng: &mut impl CryptoRngCore) -> Self {
        let mut id = [0; 16];
        rng.fill_bytes(&mut id);
        Self(id)
    }
}

/// Who may redeem: a brand (a chain of shops or a single shop), assigned by the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BrandId(pub u32);

/// SHA-256 of a voucher's encoding: what a holder's presentation signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VoucherHash(pub [u8; 32]);

/// Voucher flags. Bits not defined here are rejected when decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(u8);

impl Flags {
    /// No flag.
    pub const NONE: Flags = Flags(0);
    /// One denomination of a stored-value card, spent whole; `value` is its amount.
    pub const STORED_VALUE: Flags = Flags(0b01);
    /// The issuer forbids offline redemption (high-value vouchers).
    pub const ONLINE_ONLY: Flags = Flags(0b10);
    const DEFINED: u8 = 0b11;

    /// Flags from their byte, rejecting undefined bits.
    pub fn from_bits(bits: u8) -> Result<Self, DecodeError> {
        if bits & !Self::DEFINED == 0 { Ok(Self(bits)) } else { Err(DecodeError::UnknownFlags(bits & !Self::DEFINED)) }
    }

    /// The flag byte.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// These flags and `other`.
    pub fn with(self, other: Flags) -> Self {
        Self(self.0 | other.0)
    }
}

/// What a voucher promises, as the issuer states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoucherTerms {
    /// Product (item coupons) or card product (stored value).
    pub sku: u32,
    /// The brand whose merchants may redeem it.
    pub brand: BrandId,
    /// Value in KRW; 0 for an item coupon.
    pub value: u32,
    /// Unix seconds.
    pub issued_at: u64,
    /// Last unix second at which it may be redeemed (before any [`crate::extension::ExpiryExtension`]).
    pub expires_at: u64,
    /// Flags.
    pub flags: Flags,
    /// The holder's device key; `None` for a bearer voucher.
    pub holder: Option<PublicKey>,
}

impl VoucherTerms {
    fn check(&self) -> Result<(), DecodeError> {
        codec::check_window(self.issued_at, self.expires_at)?;
        if self.flags.contains(Flags::STORED_VALUE) && self.value == 0 {
            return Err(DecodeError::StoredValueWithoutValue);
        }
        Ok(())
    }
}

/// A signed GV1 voucher. See the module documentation for its invariants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voucher {
    kid: KeyId,
    id: VoucherId,
    terms: VoucherTerms,
    signature: Signature,
    bytes: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct VoucherWire {
    version: u8,
    kid: [u8; 4],
    id: [u8; 16],
    sku: u32,
    brand: u32,
    value: u32,
    issued_at: u64,
    expires_at: u64,
    flags: u8,
    holder: Option<[u8; PUBLIC_KEY_LENGTH]>,
    signature: Signature,
}

impl Wire for VoucherWire {
    const VERSION: u8 = VOUCHER_VERSION;
    const MAX_LEN: usize = MAX_VOUCHER_LEN;
}

impl Voucher {
    /// Issues a voucher: fills in `issuer`'s key id and signs.
    ///
    /// # Returns
    /// The same errors decoding would give for these terms: [`DecodeError::InvertedWindow`] if
    /// `expires_at < issued_at`, [`DecodeError::StoredValueWithoutValue`].
    pub fn issue(issuer: &DeviceKey, id: VoucherId, terms: VoucherTerms) -> Result<Self, DecodeError> {
        terms.check()?;
        let wire = VoucherWire {
            version: VOUCHER_VERSION,
            kid: KeyId::of(&issuer.public()).0,
            id: id.0,
            sku: terms.sku,
            brand: terms.brand.0,
            value: terms.value,
            issued_at: terms.issued_at,
            expires_at: terms.expires_at,
            flags: terms.flags.bits(),
            holder: terms.holder.map(|key| key.to_bytes()),
            signature: Signature([0; SIGNATURE_LENGTH]),
        };
        Self::from_bytes(&codec::sign_encoding(codec::encode(&wire), issuer, Context::VOUCHER))
    }

    /// Decodes a voucher (structure only: the signature is not checked here).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::from_wire(codec::decode::<VoucherWire>(bytes)?, bytes.to_vec())
    }

    /// The voucher of a decoded wire struct whose canonical encoding is `bytes`.
    pub(crate) fn from_wire(wire: VoucherWire, bytes: Vec<u8>) -> Result<Self, DecodeError> {
        codec::check_version(wire.version, VOUCHER_VERSION)?;
        let terms = VoucherTerms {
            sku: wire.sku,
            brand: BrandId(wire.brand),
            value: wire.value,
            issued_at: wire.issued_at,
            expires_at: wire.expires_at,
            flags: Flags::from_bits(wire.flags)?,
            holder: wire.holder.as_ref().map(PublicKey::from_bytes).transpose()?,
        };
        terms.check()?;
        Ok(Self { kid: KeyId(wire.kid), id: VoucherId(wire.id), terms, signature: wire.signature, bytes })
    }

    pub(crate) fn to_wire(&self) -> VoucherWire {
        VoucherWire {
            version: VOUCHER_VERSION,
            kid: self.kid.0,
            id: self.id.0,
            sku: self.terms.sku,
            brand: self.terms.brand.0,
            value: self.terms.value,
            issued_at: self.terms.issued_at,
            expires_at: self.terms.expires_at,
            flags: self.terms.flags.bits(),
            holder: self.terms.holder.map(|key| key.to_bytes()),
            signature: self.signature,
        }
    }

    /// The canonical encoding (body then signature).
    pub fn to_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The issuer's key id.
    pub fn kid(&self) -> KeyId {
        self.kid
    }

    /// The voucher id.
    pub fn id(&self) -> VoucherId {
        self.id
    }

    /// The terms.
    pub fn terms(&self) -> &VoucherTerms {
        &self.terms
    }

    /// The issuer's signature (unverified).
    pub fn signature(&self) -> Signature {
        self.signature
    }

    /// SHA-256 of the encoding.
    pub fn hash(&self) -> VoucherHash {
        VoucherHash(Sha256::digest(&self.bytes).into())
    }

    /// Checks the issuer signature against `issuer` with `verify_strict` under [`Context::VOUCHER`].
    ///
    /// This says nothing about whether `issuer` may issue this voucher: the trust list decides
    /// that (key id, validity window, brand scope), in [`crate::verify::verify_offline`].
    pub fn verify_issuer(&self, issuer: &PublicKey) -> Result<(), BadSignature> {
        self.issuer_signed(*issuer).verify_strict()
    }

    /// The issuer signature with the bytes it covers, claimed by `issuer` (for batch checks).
    pub fn issuer_signed(&self, issuer: PublicKey) -> SignedMessage {
        SignedMessage::new(issuer, Context::VOUCHER, codec::signed_part(&self.bytes), self.signature)
    }

    /// The QR text: `GV1:` + Base45(encoding), all in the QR alphanumeric set, no compression.
    pub fn to_qr_text(&self) -> String {
        codec::to_qr_text(VOUCHER_QR_PREFIX, &self.bytes)
    }

    /// Decodes QR text made by [`Voucher::to_qr_text`].
    pub fn from_qr_text(text: &str) -> Result<Self, DecodeError> {
        Self::from_bytes(&codec::from_qr_text(text, VOUCHER_QR_PREFIX, MAX_VOUCHER_LEN)?)
    }
}
