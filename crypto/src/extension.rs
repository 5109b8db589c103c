//! Expiry extensions: after an outage the platform publishes "vouchers of these brands expiring
//! between T1 and T2 get `extra_secs` more", signed by a platform key, which merchants verify
//! offline like the revocation list.
//!
//! Layout: `version (1) || issued_at || brands (scope) || expiring_from || expiring_to ||
//! extra_secs || signature (64)`, signed under [`Context::EXPIRY_EXTENSION`].
//!
//! # Invariants of a [`VerifiedExpiryExtension`]
//! - Canonical bytes, signed by a platform key of the verified trust list valid at `issued_at`.
//! - `expiring_from <= expiring_to`; `extra_secs <= MAX_EXTRA_SECS`; the brand scope is valid.
//!
//! Extensions do not add up: a voucher gets the largest `extra_secs` of the extensions that
//! apply to it ([`effective_expiry`]), so replaying or chaining them gains nothing.

use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError, VARINT_U64_MAX, Wire};
use crate::keys::{Context, DeviceKey, SIGNATURE_LENGTH, Signature};
use crate::trust::{BrandScope, ListError, MAX_SCOPE_LEN, VerifiedTrustList};
use crate::voucher::VoucherTerms;

/// Version byte of an expiry extension.
pub const EXPIRY_EXTENSION_VERSION: u8 = 1;
/// Longest extension: 31 days.
pub const MAX_EXTRA_SECS: u64 = 31 * 24 * 3600;
/// Largest encoding of an expiry extension, in bytes.
pub const MAX_EXPIRY_EXTENSION_LEN: usize = 1 + 4 * VARINT_U64_MAX + MAX_SCOPE_LEN + SIGNATURE_LENGTH;

/// The content of an expiry extension, before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryExtension {
    /// Unix seconds.
    pub issued_at: u64,
    /// Brands whose vouchers it extends.
    pub brands: BrandScope,
    /// Vouchers whose own `expires_at` lies in `[expiring_from, expiring_to]` are extended.
    pub expiring_from: u64,
    /// See `expiring_from`.
    pub expiring_to: u64,
    /// Seconds added to their expiry, at most [`MAX_EXTRA_SECS`].
    pub extra_secs: u64,
}

#[derive(Serialize, Deserialize)]
struct ExpiryExtensionWire {
    version: u8,
    issued_at: u64,
    brands: BrandScope,
    expiring_from: u64,
    expiring_to: u64,
    extra_secs: u64,
    signature: Signature,
}

impl Wire for ExpiryExtensionWire {
    const VERSION: u8 = EXPIRY_EXTENSION_VERSION;
    const MAX_LEN: usize = MAX_EXPIRY_EXTENSION_LEN;
}

impl ExpiryExtension {
    /// Encodes and signs with a platform key.
    ///
    /// # Returns
    /// The errors decoding would give (inverted window, too long an extension, bad scope).
    pub fn sign(&self, platform: &DeviceKey) -> Result<Vec<u8>, DecodeError> {
        self.check()?;
        let wire = ExpiryExtensionWire {
            version: EXPIRY_EXTENSION_VERSION,
            issued_at: self.issued_at,
            brands: self.brands.clone(),
            expiring_from: self.expiring_from,
            expiring_to: self.expiring_to,
            extra_secs: self.extra_secs,
            signature: Signature([0; SIGNATURE_LENGTH]),
        };
        Ok(codec::sign_encoding(codec::encode(&wire), platform, Context::EXPIRY_EXTENSION))
    }

    fn check(&self) -> Result<(), DecodeError> {
        codec::check_window(self.expiring_from, self.expiring_to)?;
        if self.extra_secs > MAX_EXTRA_SECS {
            return Err(DecodeError::ExtensionTooLong { secs: self.extra_secs, max: MAX_EXTRA_SECS });
        }
        self.brands.check()
    }

    /// Whether it extends a voucher with these terms.
    pub fn applies_to(&self, terms: &VoucherTerms) -> bool {
        self.brands.allows(terms.brand)
            && self.expiring_from <= terms.expires_at
            && terms.expires_at <= self.expiring_to
    }
}

/// An expiry extension whose signature has been checked against the trust list. The only way to
/// make one is [`VerifiedExpiryExtension::from_bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedExpiryExtension {
    extension: ExpiryExtension,
    bytes: Vec<u8>,
}

impl VerifiedExpiryExtension {
    /// Decodes `bytes` and checks that a platform key of `trust`, valid at the extension's issue
    /// time, signed it.
    pub fn from_bytes(bytes: &[u8], trust: &VerifiedTrustList) -> Result<Self, ListError> {
        let wire = codec::decode::<ExpiryExtensionWire>(bytes)?;
        let extension = ExpiryExtension {
            issued_at: wire.issued_at,
            brands: wire.brands,
            expiring_from: wire.expiring_from,
            expiring_to: wire.expiring_to,
            extra_secs: wire.extra_secs,
        };
        extension.check()?;
        trust.verify_platform_signed(bytes, Context::EXPIRY_EXTENSION, extension.issued_at)?;
        Ok(Self { extension, bytes: bytes.to_vec() })
    }

    /// The verified content.
    pub fn extension(&self) -> &ExpiryExtension {
        &self.extension
    }

    /// The signed bytes, to cache.
    pub fn to_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// A voucher's expiry after the largest applicable extension (its own `expires_at` if none applies).
pub fn effective_expiry(terms: &VoucherTerms, extensions: &[VerifiedExpiryExtension]) -> u64 {
    let extra = extensions
        .iter()
        .map(VerifiedExpiryExtension::extension)
        .filter(|extension| extension.applies_to(terms))
        .map(|extension| extension.extra_secs)
        .max()
        .unwrap_or(0);
    terms.expires_at.saturating_add(extra)
}
