//! The revocation list: truncated hashes of revoked voucher ids, partitioned by brand, signed by
//! a platform key from the trust list.
//!
//! Layout: `version (1) || issued_at || partitions || signature (64)`; each partition is
//! `brand || count || count × 8-byte hash`; signed under [`Context::REVOCATION_LIST`].
//!
//! A partition present with no hashes means "nothing revoked for this brand as of `issued_at`";
//! a brand without a partition is not covered, and a merchant of that brand cannot rely on the
//! list (verification rejects with [`crate::verify::Rejection::RevocationListMissingBrand`]).
//!
//! # Invariants of a [`VerifiedRevocationList`]
//! - Canonical bytes, signed by a platform key of the verified trust list that was valid at
//!   `issued_at`.
//! - Partitions strictly increasing by brand; hashes strictly increasing within each (so lookup
//!   is a binary search); at most [`MAX_PARTITIONS`] partitions and [`MAX_REVOKED`] hashes.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::codec::{self, DecodeError, VARINT_U32_MAX, VARINT_U64_MAX, Wire};
use crate::keys::{Context, DeviceKey, SIGNATURE_LENGTH, Signature};
use crate::trust::{ListError, VerifiedTrustList};
use crate::voucher::{BrandId, VoucherId};

/// Version byte of a revocation list.
pub const REVOCATION_LIST_VERSION: u8 = 1;
/// Bytes kept of SHA-256(voucher id).
pub const REVOKED_HASH_LEN: usize = 8;
/// Most brand partitions in one list.
pub const MAX_PARTITIONS: usize = 1024;
/// Most revoked hashes in one list, over all partitions.
pub const MAX_REVOKED: usize = 131_072;
/// Largest encoding of a revocation list, in bytes.
pub const MAX_REVOCATION_LIST_LEN: usize = 1
    + VARINT_U64_MAX
    + VARINT_U32_MAX
    + MAX_PARTITIONS * (2 * VARINT_U32_MAX)
    + MAX_REVOKED * REVOKED_HASH_LEN
    + SIGNATURE_LENGTH;

/// The first 8 bytes of SHA-256 of a voucher id. A false match needs about 2^64 tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RevokedHash(pub [u8; REVOKED_HASH_LEN]);

impl RevokedHash {
    /// The truncated hash of `id`.
    pub fn of(id: &VoucherId) -> Self {
        let digest = Sha256::digest(id.0);
        let mut hash = [0; REVOKED_HASH_LEN];
        hash.copy_from_slice(&digest[..REVOKED_HASH_LEN]);
        Self(hash)
    }
}

/// The revoked ids of one brand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevocationPartition {
    /// The brand.
    pub brand: BrandId,
    /// Truncated hashes, strictly increasing.
    pub revoked: Vec<RevokedHash>,
}

/// The content of a revocation list, before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationList {
    /// Unix seconds; its age is shown to the merchant and capped by the offline policy.
    pub issued_at: u64,
    /// Partitions, strictly increasing by brand.
    pub partitions: Vec<RevocationPartition>,
}

#[derive(Serialize, Deserialize)]
struct RevocationListWire {
    version: u8,
    issued_at: u64,
    partitions: Vec<RevocationPartition>,
    signature: Signature,
}

impl Wire for RevocationListWire {
    const VERSION: u8 = REVOCATION_LIST_VERSION;
    const MAX_LEN: usize = MAX_REVOCATION_LIST_LEN;
}

/// What the cached list says about a voucher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationStatus {
    /// The voucher's id is listed under its brand.
    Revoked,
    /// The brand is covered and the id is not listed.
    NotRevoked,
    /// The list has no partition for the brand.
    BrandNotCovered,
}

impl RevocationList {
    /// A list covering `brands` (each gets a partition, even if empty) with the `revoked` ids.
    /// Brands of revoked ids are covered too. Sorting and deduplication are done here.
    pub fn new(
        issued_at: u64,
        brands: impl IntoIterator<Item = BrandId>,
        revoked: impl IntoIterator<Item = (BrandId, VoucherId)>,
    ) -> Self {
        let mut by_brand = std::collections::BTreeMap::<BrandId, Vec<RevokedHash>>::new();
        for brand in brands {
            by_brand.entry(brand).or_default();
        }
        for (brand, id) in revoked {
            by_brand.entry(brand).or_default().push(RevokedHash::of(&id));
        }
        let partitions = by_brand
            .into_iter()
            .map(|(brand, mut revoked)| {
                revoked.sort_unstable();
                revoked.dedup();
                RevocationPartition { brand, revoked }
            })
            .collect();
        Self { issued_at, partitions }
    }

    /// Encodes and signs with a platform key.
    ///
    /// # Returns
    /// The errors decoding would give (too many partitions or hashes, unsorted).
    pub fn sign(&self, platform: &DeviceKey) -> Result<Vec<u8>, DecodeError> {
        self.check()?;
        let wire = RevocationListWire {
            version: REVOCATION_LIST_VERSION,
            issued_at: self.issued_at,
            partitions: self.partitions.clone(),
            signature: Signature([0; SIGNATURE_LENGTH]),
        };
        Ok(codec::sign_encoding(codec::encode(&wire), platform, Context::REVOCATION_LIST))
    }

    fn check(&self) -> Result<(), DecodeError> {
        codec::check_len(self.partitions.len(), MAX_PARTITIONS)?;
        let total = self.partitions.iter().map(|p| p.revoked.len()).sum();
        codec::check_len(total, MAX_REVOKED)?;
        let brands: Vec<BrandId> = self.partitions.iter().map(|p| p.brand).collect();
        codec::check_strictly_increasing(&brands)?;
        self.partitions.iter().try_for_each(|p| codec::check_strictly_increasing(&p.revoked))
    }
}

/// A revocation list whose signature has been checked against the trust list. The only way to
/// make one is [`VerifiedRevocationList::from_bytes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRevocationList {
    list: RevocationList,
    bytes: Vec<u8>,
}

impl VerifiedRevocationList {
    /// Decodes `bytes` and checks that a platform key of `trust`, valid at the list's issue
    /// time, signed it.
    pub fn from_bytes(bytes: &[u8], trust: &VerifiedTrustList) -> Result<Self, ListError> {
        let wire = codec::decode::<RevocationListWire>(bytes)?;
        let list = RevocationList { issued_at: wire.issued_at, partitions: wire.partitions };
        list.check()?;
        trust.verify_platform_signed(bytes, Context::REVOCATION_LIST, list.issued_at)?;
        Ok(Self { list, bytes: bytes.to_vec() })
    }

    /// The verified content.
    pub fn list(&self) -> &RevocationList {
        &self.list
    }

    /// The signed bytes, to cache.
    pub fn to_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Seconds since the list was issued (0 if `now` is before that).
    pub fn age(&self, now: u64) -> u64 {
        now.saturating_sub(self.list.issued_at)
    }

    /// Whether voucher `id` of `brand` is revoked, not revoked, or not covered.
    pub fn status(&self, brand: BrandId, id: &VoucherId) -> RevocationStatus {
        let partitions = &self.list.partitions;
        match partitions.binary_search_by_key(&brand, |p| p.brand) {
            Err(_) => RevocationStatus::BrandNotCovered,
            Ok(index) => match partitions[index].revoked.binary_search(&RevokedHash::of(id)) {
                Ok(_) => RevocationStatus::Revoked,
                Err(_) => RevocationStatus::NotRevoked,
            },
        }
    }
}
