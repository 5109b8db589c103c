//! The one offline verification entry point, [`verify_offline`], and the only way to turn its
//! verdict into a receipt, [`AcceptedRedemption::record`].
//!
//! # Checks, in order (`DESIGN.md`, "Offline verification, in order")
//! 1. Parse the scanned text (`GV1:` voucher or `GP1:` presentation): [`Rejection::BadEncoding`].
//! 2. Find the issuer keys with the voucher's key id in the verified trust list:
//!    [`Rejection::UnknownIssuer`].
//! 3. Verify the issuer signature with `verify_strict`, trying each key with that id:
//!    [`Rejection::BadIssuerSignature`].
//! 4. The key's window covers `[issued_at, expires_at]` and its scope covers the voucher's brand:
//!    [`Rejection::KeyNotValid`], [`Rejection::BrandOutsideKeyScope`].
//! 5. The voucher's brand is the merchant's: [`Rejection::WrongBrand`].
//! 6. By the merchant's clock `now`, with `clock_tolerance_secs` either way: issued
//!    ([`Rejection::NotYetValid`]) and not expired after the largest applicable expiry extension
//!    ([`Rejection::Expired`]); a voucher is valid through `expires_at + tolerance` inclusive.
//! 7. The cached revocation list covers the brand and does not list the id:
//!    [`Rejection::RevocationListMissingBrand`], [`Rejection::Revoked`].
//! 8. A holder-bound voucher comes as a presentation ([`Rejection::PresentationRequired`]), a
//!    bearer voucher does not ([`Rejection::NotHolderBound`]); the holder signature verifies
//!    ([`Rejection::BadHolderSignature`]); its time step is fresh
//!    ([`Rejection::StalePresentation`]); its counter is above any this ledger has recorded
//!    for the voucher ([`Rejection::ReplayedCounter`]).
//! 9. This device's ledger has not redeemed it: [`Rejection::AlreadyRedeemed`].
//! 10. Offline caps ([`OfflinePolicy`]): [`Rejection::OverOfflineCap`].
//!
//! A ledger read failure rejects with [`Rejection::LedgerUnavailable`]: no verdict without it.
//!
//! # Making the wrong use hard
//! Success is an [`AcceptedRedemption`], which has no public constructor, is not `Clone`, and
//! converts into a [`RedemptionReceipt`] only through [`AcceptedRedemption::record`], which
//! signs the receipt and hands it to [`Ledger::record`] (atomic check-and-insert, queued for
//! sync). The receipt is returned only when the ledger reports it recorded; if another scan of
//! the same voucher won the race, `record` fails with [`RecordError::AlreadyRedeemed`].

use rand_core::CryptoRngCore;

use crate::codec::DecodeError;
use crate::extension::{VerifiedExpiryExtension, effective_expiry};
use crate::keys::PublicKey;
use crate::ledger::{Ledger, RecordOutcome};
use crate::presentation::{PresentationError, Scanned};
use crate::receipt::{Merchant, MerchantId, ReceiptId, RedemptionReceipt};
use crate::revocation::{RevocationStatus, VerifiedRevocationList};
use crate::trust::{IssuerKey, VerifiedTrustList};
use crate::voucher::{BrandId, Flags, Voucher, VoucherTerms};

/// The merchant's offline limits. Online redemption goes through the platform instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfflinePolicy {
    /// How far the merchant's clock may be off, either way, in seconds.
    pub clock_tolerance_secs: u64,
    /// Largest value of one voucher redeemed offline, in KRW.
    pub max_voucher_value: u32,
    /// Largest total value of unsynced offline redemptions, this one included, in KRW.
    pub max_unsynced_value: u64,
    /// Largest number of unsynced offline redemptions, this one included.
    pub max_unsynced_count: u32,
    /// Oldest revocation list (seconds since issue) to redeem against: the outage window.
    pub max_revocation_list_age_secs: u64,
}

impl Default for OfflinePolicy {
    /// 30 s tolerance, 50,000 KRW per voucher, 500,000 KRW and 200 redemptions unsynced, and a
    /// revocation list at most 72 hours old.
    fn default() -> Self {
        Self {
            clock_tolerance_secs: 30,
            max_voucher_value: 50_000,
            max_unsynced_value: 500_000,
            max_unsynced_count: 200,
            max_revocation_list_age_secs: 72 * 3600,
        }
    }
}

/// What the merchant's device knows offline: who it is, its cached signed lists, its limits.
#[derive(Debug, Clone, Copy)]
pub struct OfflineContext<'a> {
    /// The merchant at this counter.
    pub merchant: &'a Merchant,
    /// The cached, verified trust list.
    pub trust: &'a VerifiedTrustList,
    /// The cached, verified revocation list.
    pub revocations: &'a VerifiedRevocationList,
    /// The cached, verified expiry extensions.
    pub extensions: &'a [VerifiedExpiryExtension],
    /// The offline limits.
    pub policy: OfflinePolicy,
}

/// Which offline cap a redemption would exceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfflineCap {
    /// The issuer flagged the voucher [`Flags::ONLINE_ONLY`].
    OnlineOnly,
    /// The voucher's value is over [`OfflinePolicy::max_voucher_value`].
    VoucherValue {
        /// The voucher's value.
        value: u32,
        /// The cap.
        max: u32,
    },
    /// Unsynced value would exceed [`OfflinePolicy::max_unsynced_value`].
    UnsyncedValue {
        /// Unsynced value including this voucher.
        total: u64,
        /// The cap.
        max: u64,
    },
    /// Unsynced count would exceed [`OfflinePolicy::max_unsynced_count`].
    UnsyncedCount {
        /// The cap.
        max: u32,
    },
    /// The revocation list is older than [`OfflinePolicy::max_revocation_list_age_secs`].
    RevocationListAge {
        /// Its age in seconds.
        age: u64,
        /// The cap.
        max: u64,
    },
}

/// Why a scanned voucher was refused: exactly one reason, the first check that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The text does not decode.
    #[error("bad encoding: {0}")]
    BadEncoding(DecodeError),
    /// No trusted issuer key has the voucher's key id.
    #[error("unknown issuer")]
    UnknownIssuer,
    /// No issuer key with the voucher's key id verifies its signature.
    #[error("issuer signature does not verify")]
    BadIssuerSignature,
    /// The issuer key's validity window does not cover the voucher's issue and expiry times.
    #[error("issuer key not valid for this voucher's lifetime")]
    KeyNotValid,
    /// The issuer key may not issue for the voucher's brand.
    #[error("issuer key may not issue for brand {0:?}")]
    BrandOutsideKeyScope(BrandId),
    /// The voucher is for another brand.
    #[error("voucher is for brand {voucher:?}, this merchant redeems {merchant:?}")]
    WrongBrand {
        /// The voucher's brand.
        voucher: BrandId,
        /// The merchant's brand.
        merchant: BrandId,
    },
    /// The voucher's issue time is ahead of the merchant's clock by more than the tolerance.
    #[error("voucher not valid yet (issued at {issued_at})")]
    NotYetValid {
        /// Its issue time.
        issued_at: u64,
    },
    /// The voucher has expired, after any expiry extension and the tolerance.
    #[error("voucher expired at {expired_at}")]
    Expired {
        /// Its effective expiry.
        expired_at: u64,
    },
    /// The revocation list lists the voucher.
    #[error("voucher revoked")]
    Revoked,
    /// The cached revocation list has no partition for the merchant's brand.
    #[error("revocation list does not cover this brand")]
    RevocationListMissingBrand,
    /// A holder-bound voucher was scanned as a voucher, not as its holder's presentation.
    #[error("holder-bound voucher: the holder's presentation is required")]
    PresentationRequired,
    /// A presentation of a bearer voucher (nobody to sign it).
    #[error("presentation of a bearer voucher")]
    NotHolderBound,
    /// The holder signature does not verify.
    #[error("holder signature does not verify")]
    BadHolderSignature,
    /// The presentation's time step is outside the tolerance around `now`.
    #[error("presentation is stale")]
    StalePresentation,
    /// The presentation's counter is not above the highest this ledger recorded.
    #[error("presentation counter {presented} replayed (seen {seen})")]
    ReplayedCounter {
        /// Highest counter recorded here.
        seen: u32,
        /// The presented counter.
        presented: u32,
    },
    /// This device already redeemed the voucher, with this receipt.
    #[error("already redeemed here")]
    AlreadyRedeemed {
        /// The earlier receipt.
        receipt: ReceiptId,
    },
    /// Redeeming offline would exceed a cap.
    #[error("over the offline cap: {0:?}")]
    OverOfflineCap(OfflineCap),
    /// The ledger could not be read.
    #[error("ledger unavailable: {0}")]
    LedgerUnavailable(String),
}

/// A voucher that passed every offline check: record it to get a receipt. See the module
/// documentation for why it cannot be used any other way.
#[derive(Debug)]
#[must_use = "an accepted redemption counts only once `record` has stored it in the ledger"]
pub struct AcceptedRedemption {
    scanned: Scanned,
    merchant: MerchantId,
    merchant_key: PublicKey,
    redeemed_at: u64,
}

/// Why an accepted redemption could not be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// `record` was given another merchant than the one that verified.
    #[error("recorded by another merchant than the one that verified")]
    WrongMerchant,
    /// Another scan of the same voucher was recorded first.
    #[error("already redeemed here")]
    AlreadyRedeemed(ReceiptId),
    /// The ledger failed; nothing was recorded.
    #[error("ledger: {0}")]
    Ledger(String),
}

impl AcceptedRedemption {
    /// The voucher being redeemed, to show the merchant (product, value) before recording.
    pub fn voucher(&self) -> &Voucher {
        self.scanned.voucher()
    }

    /// The unix second of the verification, which becomes the receipt's time.
    pub fn redeemed_at(&self) -> u64 {
        self.redeemed_at
    }

    /// Signs a receipt with a random id from `rng` and records it in `ledger` atomically. The
    /// receipt is returned only if the ledger recorded it.
    ///
    /// # Returns
    /// [`RecordError::WrongMerchant`] if `merchant` is not the one in the verification context;
    /// [`RecordError::AlreadyRedeemed`] if the ledger already holds a receipt for the voucher;
    /// [`RecordError::Ledger`] if storage failed.
    pub async fn record<L: Ledger + ?Sized>(
        self,
        ledger: &mut L,
        merchant: &Merchant,
        rng: &mut impl CryptoRngCore,
    ) -> Result<RedemptionReceipt, RecordError> {
        if merchant.id != self.merchant || merchant.public() != self.merchant_key {
            return Err(RecordError::WrongMerchant);
        }
        let mut receipt_id = [0; 16];
        rng.fill_bytes(&mut receipt_id);
        let receipt = RedemptionReceipt::sign(self.scanned, merchant, self.redeemed_at, ReceiptId(receipt_id));
        match ledger.record(&receipt).await {
            Ok(RecordOutcome::Recorded) => Ok(receipt),
            Ok(RecordOutcome::AlreadyRedeemed(earlier)) => Err(RecordError::AlreadyRedeemed(earlier)),
            Err(error) => Err(RecordError::Ledger(error.to_string())),
        }
    }
}

/// Verifies scanned QR text offline at unix second `now`. See the module documentation for the
/// checks and their order; the first failing check is the one reason returned.
pub async fn verify_offline<L: Ledger + ?Sized>(
    scanned: &str,
    context: &OfflineContext<'_>,
    ledger: &L,
    now: u64,
) -> Result<AcceptedRedemption, Rejection> {
    let scanned = Scanned::from_qr_text(scanned).map_err(Rejection::BadEncoding)?;
    check_without_ledger(&scanned, context, now)?;
    let voucher = scanned.voucher();
    let entry = ledger.entry(voucher.id()).await.map_err(unavailable)?;
    if let (Scanned::Presentation(presentation), Some(seen)) = (&scanned, entry.highest_counter)
        && presentation.counter() <= seen
    {
        return Err(Rejection::ReplayedCounter { seen, presented: presentation.counter() });
    }
    if let Some(receipt) = entry.redeemed {
        return Err(Rejection::AlreadyRedeemed { receipt });
    }
    let totals = ledger.unsynced_totals().await.map_err(unavailable)?;
    check_caps(voucher.terms(), context, totals, now)?;
    Ok(AcceptedRedemption {
        scanned,
        merchant: context.merchant.id,
        merchant_key: context.merchant.public(),
        redeemed_at: now,
    })
}

fn unavailable(error: impl core::fmt::Display) -> Rejection {
    Rejection::LedgerUnavailable(error.to_string())
}

/// Steps 2 to 8, except the counter (which needs the ledger).
fn check_without_ledger(scanned: &Scanned, context: &OfflineContext<'_>, now: u64) -> Result<(), Rejection> {
    let voucher = scanned.voucher();
    let terms = voucher.terms();
    let issuer = find_issuer(voucher, context.trust)?;
    if !issuer.covers(terms.issued_at, terms.expires_at) {
        return Err(Rejection::KeyNotValid);
    }
    if !issuer.brands.allows(terms.brand) {
        return Err(Rejection::BrandOutsideKeyScope(terms.brand));
    }
    if terms.brand != context.merchant.brand {
        return Err(Rejection::WrongBrand { voucher: terms.brand, merchant: context.merchant.brand });
    }
    let tolerance = context.policy.clock_tolerance_secs;
    if terms.issued_at > now.saturating_add(tolerance) {
        return Err(Rejection::NotYetValid { issued_at: terms.issued_at });
    }
    let expires = effective_expiry(terms, context.extensions);
    if now > expires.saturating_add(tolerance) {
        return Err(Rejection::Expired { expired_at: expires });
    }
    match context.revocations.status(terms.brand, &voucher.id()) {
        RevocationStatus::NotRevoked => {}
        RevocationStatus::Revoked => return Err(Rejection::Revoked),
        RevocationStatus::BrandNotCovered => return Err(Rejection::RevocationListMissingBrand),
    }
    match (scanned, terms.holder) {
        (Scanned::Voucher(_), None) => Ok(()),
        (Scanned::Voucher(_), Some(_)) => Err(Rejection::PresentationRequired),
        (Scanned::Presentation(_), None) => Err(Rejection::NotHolderBound),
        (Scanned::Presentation(presentation), Some(_)) => {
            presentation.verify_holder().map_err(|error| match error {
                PresentationError::NotHolderBound => Rejection::NotHolderBound,
                PresentationError::WrongHolder | PresentationError::BadSignature => Rejection::BadHolderSignature,
            })?;
            if presentation.is_fresh(now, tolerance) { Ok(()) } else { Err(Rejection::StalePresentation) }
        }
    }
}

/// Steps 2 and 3: the first issuer key with the voucher's key id whose signature verifies.
fn find_issuer<'t>(voucher: &Voucher, trust: &'t VerifiedTrustList) -> Result<&'t IssuerKey, Rejection> {
    let mut candidates = trust.issuers_with_kid(voucher.kid()).peekable();
    if candidates.peek().is_none() {
        return Err(Rejection::UnknownIssuer);
    }
    candidates.find(|issuer| voucher.verify_issuer(&issuer.key).is_ok()).ok_or(Rejection::BadIssuerSignature)
}

/// Step 10.
fn check_caps(
    terms: &VoucherTerms,
    context: &OfflineContext<'_>,
    totals: crate::ledger::OfflineTotals,
    now: u64,
) -> Result<(), Rejection> {
    let policy = &context.policy;
    let cap = |cap| Err(Rejection::OverOfflineCap(cap));
    if terms.flags.contains(Flags::ONLINE_ONLY) {
        return cap(OfflineCap::OnlineOnly);
    }
    if terms.value > policy.max_voucher_value {
        return cap(OfflineCap::VoucherValue { value: terms.value, max: policy.max_voucher_value });
    }
    let total = totals.value.saturating_add(u64::from(terms.value));
    if total > policy.max_unsynced_value {
        return cap(OfflineCap::UnsyncedValue { total, max: policy.max_unsynced_value });
    }
    if totals.count >= policy.max_unsynced_count {
        return cap(OfflineCap::UnsyncedCount { max: policy.max_unsynced_count });
    }
    let age = context.revocations.age(now);
    if age > policy.max_revocation_list_age_secs {
        return cap(OfflineCap::RevocationListAge { age, max: policy.max_revocation_list_age_secs });
    }
    Ok(())
}
