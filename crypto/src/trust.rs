//! The trust list: the offline root key signs the issuer keys (with validity windows and brand
//! scope) and the platform keys (which sign revocation lists and expiry extensions).
//!
//! Layout: `version (1) || issued_at || issuers || platform || signature (64)`, signed by the root
//! key under [`Context::TRUST_LIST`]. An issuer's key id is derived from its key
//! ([`KeyId::of`]), not stored, so it cannot disagree with the key.
//!
//! # Invariants of a [`VerifiedTrustList`]
//! - Its bytes are canonical and carry a valid root signature (`verify_strict`), checked against
//!   the root key the caller pinned.
//! - Every key in it is valid and not weak; every window has `from <= to`; every brand scope is a
//!   strictly increasing list of at most [`MAX_SCOPE_BRANDS`] brands; counts are within limits.

use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError, VARINT_U32_MAX, VARINT_U64_MAX, Wire};
use crate::keys::{Context, DeviceKey, PUBLIC_KEY_LENGTH, PublicKey, SIGNATURE_LENGTH, Signature};
use crate::voucher::{BrandId, KeyId};

/// Version byte of a trust list.
pub const TRUST_LIST_VERSION: u8 = 1;
/// Most issuer keys in one trust list.
pub const MAX_ISSUERS: usize = 256;
/// Most platform keys in one trust list.
pub const MAX_PLATFORM_KEYS: usize = 16;
/// Most brands in one brand scope.
pub const MAX_SCOPE_BRANDS: usize = 64;
/// Largest encoding of a brand scope.
pub(crate) const MAX_SCOPE_LEN: usize = 1 + 1 + MAX_SCOPE_BRANDS * VARINT_U32_MAX;
const MAX_ISSUER_LEN: usize = PUBLIC_KEY_LENGTH + 2 * VARINT_U64_MAX + MAX_SCOPE_LEN;
const MAX_PLATFORM_KEY_LEN: usize = PUBLIC_KEY_LENGTH + 2 * VARINT_U64_MAX;
/// Largest encoding of a trust list, in bytes.
pub const MAX_TRUST_LIST_LEN: usize = 1
    + VARINT_U64_MAX
    + 2
    + MAX_ISSUERS * MAX_ISSUER_LEN
    + 1
    + MAX_PLATFORM_KEYS * MAX_PLATFORM_KEY_LEN
    + SIGNATURE_LENGTH;

/// Which brands a key may act for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BrandScope {
    /// Every brand.
    Any,
    /// Only these brands, strictly increasing, at most [`MAX_SCOPE_BRANDS`].
    Only(Vec<BrandId>),
}

impl BrandScope {
    /// Whether `brand` is in scope.
    pub fn allows(&self, brand: BrandId) -> bool {
        match self {
            BrandScope::Any => true,
            BrandScope::Only(brands) => brands.binary_search(&brand).is_ok(),
        }
    }

    pub(crate) fn check(&self) -> Result<(), DecodeError> {
        if let BrandScope::Only(brands) = self {
            codec::check_len(brands.len(), MAX_SCOPE_BRANDS)?;
            codec::check_strictly_increasing(brands)?;
        }
        Ok(())
    }
}

/// A key that may issue vouchers for the brands in its scope, expiring within its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuerKey {
    /// The issuer's public key.
    pub key: PublicKey,
    /// First unix second of validity: vouchers issued before it are refused.
    pub valid_from: u64,
    /// Last unix second of validity: vouchers expiring after it are refused.
    pub valid_to: u64,
    /// Brands it may issue for.
    pub brands: BrandScope,
}

impl IssuerKey {
    /// Whether the key's window covers a voucher issued at `issued_at` that expires at `expires_at`.
    pub fn covers(&self, issued_at: u64, expires_at: u64) -> bool {
        self.valid_from <= issued_at && expires_at <= self.valid_to
    }
}

/// A platform key: signs revocation lists and expiry extensions issued within its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformKey {
    /// The platform's public key.
    pub key: PublicKey,
    /// First unix second of validity.
    pub valid_from: u64,
    /// Last unix second of validity.
    pub valid_to: u64,
}

/// The content of a trust list, before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustList {
    /// Unix seconds; a merchant keeps the newest list it has verified.
    pub issued_at: u64,
    /// Issuer keys, at most [`MAX_ISSUERS`].
    pub issuers: Vec<IssuerKey>,
    /// Platform keys, at most [`MAX_PLATFORM_KEYS`].
    pub platform: Vec<PlatformKey>,
}

#[derive(Serialize, Deserialize)]
struct IssuerKeyWire {
    key: [u8; PUBLIC_KEY_LENGTH],
    valid_from: u64,
    valid_to: u64,
    brands: BrandScope,
}

#[derive(Serialize, Deserialize)]
struct PlatformKeyWire {
    key: [u8; PUBLIC_KEY_LENGTH],
    valid_from: u64,
    valid_to: u64,
}

#[derive(Serialize, Deserialize)]
struct TrustListWire {
    version: u8,
    issued_at: u64,
    issuers: Vec<IssuerKeyWire>,
    platform: Vec<PlatformKeyWire>,
    signature: Signature,
}

impl Wire for TrustListWire {
    const VERSION: u8 = TRUST_LIST_VERSION;
    const MAX_LEN: usize = MAX_TRUST_LIST_LEN;
}

/// Why a signed list (trust list, revocation list, expiry extension) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ListError {
    /// The bytes do not decode.
    #[error("cannot decode: {0}")]
    Decode(#[from] DecodeError),
    /// No trusted key's signature verifies.
    #[error("signature does not verify under any trusted key")]
    BadSignature,
    /// A platform key signed it, but the key was not valid at the document's issue time.
    #[error("signing key was not valid at the issue time")]
    SignerNotValid,
}

impl TrustList {
    /// Encodes and signs with the root key.
    ///
    /// # Returns
    /// The errors decoding would give for this content (too many entries, inverted window,
    /// unsorted or oversized brand scope).
    pub fn sign(&self, root: &DeviceKey) -> Result<Vec<u8>, DecodeError> {
        self.check()?;
        let wire = TrustListWire {
            version: TRUST_LIST_VERSION,
            issued_at: self.issued_at,
            issuers: self
                .issuers
                .iter()
                .map(|issuer| IssuerKeyWire {
                    key: issuer.key.to_bytes(),
                    valid_from: issuer.valid_from,
                    valid_to: issuer.valid_to,
                    brands: issuer.brands.clone(),
                })
                .collect(),
            platform: self
                .platform
                .iter()
                .map(|platform| PlatformKeyWire {
                    key: platform.key.to_bytes(),
                    valid_from: platform.valid_from,
                    valid_to: platform.valid_to,
                })
                .collect(),
            signature: Signature([0; SIGNATURE_LENGTH]),
        };
        Ok(codec::sign_encoding(codec::encode(&wire), root, Context::TRUST_LIST))
    }

    fn check(&self) -> Result<(), DecodeError> {
        codec::check_len(self.issuers.len(), MAX_ISSUERS)?;
        codec::check_len(self.platform.len(), MAX_PLATFORM_KEYS)?;
        for issuer in &self.issuers {
            codec::check_window(issuer.valid_from, issuer.valid_to)?;
            issuer.brands.check()?;
        }
        for platform in &self.platform {
            codec::check_window(platform.valid_from, platform.valid_to)?;
        }
        Ok(())
    }

    fn from_wire(wire: TrustListWire) -> Result<Self, DecodeError> {
        let issuers = wire
            .issuers
            .into_iter()
            .map(|issuer| {
                Ok(IssuerKey {
                    key: PublicKey::from_bytes(&issuer.key)?,
                    valid_from: issuer.valid_from,
                    valid_to: issuer.valid_to,
                    brands: issuer.brands,
                })
            })
            .collect::<Result<Vec<_>, DecodeError>>()?;
        let platform = wire
            .platform
            .into_iter()
            .map(|platform| {
                Ok(PlatformKey {
                    key: PublicKey::from_bytes(&platform.key)?,
                    valid_from: platform.valid_from,
                    valid_to: platform.valid_to,
                })
            })
            .collect::<Result<Vec<_>, DecodeError>>()?;
        let list = TrustList { issued_at: wire.issued_at, issuers, platform };
        list.check()?;
        Ok(list)
    }
}

/// A trust list whose root signature has been checked. The only way to make one is
/// [`VerifiedTrustList::from_bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedTrustList {
    list: TrustList,
    kids: Vec<(KeyId, usize)>,
    bytes: Vec<u8>,
}

impl VerifiedTrustList {
    /// Decodes `bytes` and checks the root signature against the pinned `root` key.
    pub fn from_bytes(bytes: &[u8], root: &PublicKey) -> Result<Self, ListError> {
        let list = TrustList::from_wire(codec::decode::<TrustListWire>(bytes)?)?;
        codec::verify_encoding(bytes, root, Context::TRUST_LIST).map_err(|_| ListError::BadSignature)?;
        let mut kids: Vec<(KeyId, usize)> =
            list.issuers.iter().enumerate().map(|(index, issuer)| (KeyId::of(&issuer.key), index)).collect();
        kids.sort_unstable();
        Ok(Self { list, kids, bytes: bytes.to_vec() })
    }

    /// The verified content.
    pub fn list(&self) -> &TrustList {
        &self.list
    }

    /// The signed bytes, to cache.
    pub fn to_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Seconds since the list was issued (0 if `now` is before that), to show the merchant.
    pub fn age(&self, now: u64) -> u64 {
        now.saturating_sub(self.list.issued_at)
    }

    /// Every issuer key whose key id is `kid`, in list order. Several keys may share a kid: the
    /// caller tries each.
    pub fn issuers_with_kid(&self, kid: KeyId) -> impl Iterator<Item = &IssuerKey> {
        let start = self.kids.partition_point(|(k, _)| *k < kid);
        self.kids[start..]
            .iter()
            .take_while(move |(k, _)| *k == kid)
            .filter_map(|(_, index)| self.list.issuers.get(*index))
    }

    /// Checks a platform-signed encoding: some platform key must verify it (`verify_strict`
    /// under `context`) and be valid at `issued_at`.
    pub(crate) fn verify_platform_signed(
        &self,
        encoding: &[u8],
        context: Context,
        issued_at: u64,
    ) -> Result<(), ListError> {
        let mut signer_found = false;
        for platform in &self.list.platform {
            if codec::verify_encoding(encoding, &platform.key, context).is_ok() {
                if platform.valid_from <= issued_at && issued_at <= platform.valid_to {
                    return Ok(());
                }
                signer_found = true;
            }
        }
        Err(if signer_found { ListError::SignerNotValid } else { ListError::BadSignature })
    }
}
