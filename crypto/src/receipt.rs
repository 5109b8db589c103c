//! Redemption receipts: the merchant's signature over what was redeemed (the voucher, or the
//! holder's presentation of it), the merchant id and key, the time and a random receipt id.
//!
//! Layout: `version (1) || scanned (tag 0: voucher, 1: presentation; then its full encoding) ||
//! merchant || merchant_key (32) || redeemed_at || receipt_id (16) || signature (64)`, signed by
//! `merchant_key` under [`Context::RECEIPT`].
//!
//! Receipts are only made by [`crate::verify::AcceptedRedemption::record`], after the ledger has
//! recorded them. At reconciliation, two valid receipts for one voucher id are a double
//! redemption ([`double_redemption`]), proven by the presentations the holder signed.
//!
//! # Invariants of a [`RedemptionReceipt`]
//! - Canonical bytes; the merchant key is valid and not weak; the embedded voucher or
//!   presentation satisfies its own invariants.
//! - No signature is known to be valid until [`RedemptionReceipt::verify`].

use serde::{Deserialize, Serialize};

use crate::codec::{self, DecodeError, VARINT_U32_MAX, VARINT_U64_MAX, Wire};
use crate::keys::{
    Context, DeviceKey, KeyError, KnownKeys, PUBLIC_KEY_LENGTH, PublicKey, SIGNATURE_LENGTH, Signature, SignedMessage,
};
use crate::presentation::{MAX_PRESENTATION_LEN, Presentation, PresentationError, PresentationWire, Scanned};
use crate::trust::VerifiedTrustList;
use crate::voucher::{BrandId, VoucherId, VoucherWire};

/// Version byte of a redemption receipt.
pub const RECEIPT_VERSION: u8 = 1;
/// Largest encoding of a receipt, in bytes.
pub const MAX_RECEIPT_LEN: usize = 1
    + 1
    + MAX_PRESENTATION_LEN
    + VARINT_U32_MAX
    + PUBLIC_KEY_LENGTH
    + VARINT_U64_MAX
    + 16
    + SIGNATURE_LENGTH;

/// A merchant's id, assigned by the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MerchantId(pub u32);

/// A receipt's random 16-byte id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReceiptId(pub [u8; 16]);

/// A merchant's identity at the counter: its id, the brand it redeems for, and its device key.
#[derive(Debug, Clone)]
pub struct Merchant {
    /// The merchant's id.
    pub id: MerchantId,
    /// The brand whose vouchers it redeems.
    pub brand: BrandId,
    key: DeviceKey,
}

impl Merchant {
    /// A merchant signing receipts with `key`.
    pub fn new(id: MerchantId, brand: BrandId, key: DeviceKey) -> Self {
        Self { id, brand, key }
    }

    /// The public key its receipts are signed with.
    pub fn public(&self) -> PublicKey {
        self.key.public()
    }
}

/// Why a receipt does not check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// The merchant signature does not verify under the receipt's merchant key.
    #[error("merchant signature does not verify")]
    BadMerchantSignature,
    /// No issuer key of the trust list with the voucher's key id verifies the voucher.
    #[error("voucher issuer signature does not verify under any trusted key")]
    BadIssuerSignature,
    /// The holder's presentation does not check out.
    #[error("presentation: {0}")]
    Presentation(#[from] PresentationError),
    /// A holder-bound voucher was redeemed without a presentation.
    #[error("holder-bound voucher without a presentation")]
    PresentationMissing,
}

/// A merchant-signed record of one redemption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedemptionReceipt {
    scanned: Scanned,
    merchant: MerchantId,
    merchant_key: PublicKey,
    redeemed_at: u64,
    receipt_id: ReceiptId,
    bytes: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
enum ScannedWire {
    Voucher(VoucherWire),
    Presentation(PresentationWire),
}

#[derive(Serialize, Deserialize)]
struct ReceiptWire {
    version: u8,
    scanned: ScannedWire,
    merchant: u32,
    merchant_key: [u8; PUBLIC_KEY_LENGTH],
    redeemed_at: u64,
    receipt_id: [u8; 16],
    signature: Signature,
}

impl Wire for ReceiptWire {
    const VERSION: u8 = RECEIPT_VERSION;
    const MAX_LEN: usize = MAX_RECEIPT_LEN;
}

impl RedemptionReceipt {
    /// Signs a receipt. Crate-private: receipts come out of the ledger's `record` only.
    pub(crate) fn sign(scanned: Scanned, merchant: &Merchant, redeemed_at: u64, receipt_id: ReceiptId) -> Self {
        let wire = ReceiptWire {
            version: RECEIPT_VERSION,
            scanned: match &scanned {
                Scanned::Voucher(voucher) => ScannedWire::Voucher(voucher.to_wire()),
                Scanned::Presentation(presentation) => ScannedWire::Presentation(presentation.to_wire()),
            },
            merchant: merchant.id.0,
            merchant_key: merchant.public().to_bytes(),
            redeemed_at,
            receipt_id: receipt_id.0,
            signature: Signature([0; SIGNATURE_LENGTH]),
        };
        let bytes = codec::sign_encoding(codec::encode(&wire), &merchant.key, Context::RECEIPT);
        Self { scanned, merchant: merchant.id, merchant_key: merchant.public(), redeemed_at, receipt_id, bytes }
    }

    /// Decodes a receipt (structure only: [`RedemptionReceipt::verify`] checks the signatures).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode(bytes, PublicKey::from_bytes)
    }

    /// [`Self::from_bytes`] for a batch of receipts: the merchant key is parsed through
    /// `merchant_keys`, so one merchant's receipts parse its key once.
    pub fn from_bytes_with(bytes: &[u8], merchant_keys: &mut KnownKeys) -> Result<Self, DecodeError> {
        Self::decode(bytes, |key| merchant_keys.parse(key))
    }

    fn decode(
        bytes: &[u8],
        merchant_key: impl FnOnce(&[u8; PUBLIC_KEY_LENGTH]) -> Result<PublicKey, KeyError>,
    ) -> Result<Self, DecodeError> {
        let wire = codec::decode::<ReceiptWire>(bytes)?;
        let scanned = match wire.scanned {
            ScannedWire::Voucher(voucher) => {
                let bytes = codec::encode(&voucher);
                Scanned::Voucher(crate::voucher::Voucher::from_wire(voucher, bytes)?)
            }
            ScannedWire::Presentation(presentation) => {
                let bytes = codec::encode(&presentation);
                Scanned::Presentation(Presentation::from_wire(presentation, bytes)?)
            }
        };
        Ok(Self {
            scanned,
            merchant: MerchantId(wire.merchant),
            merchant_key: merchant_key(&wire.merchant_key)?,
            redeemed_at: wire.redeemed_at,
            receipt_id: ReceiptId(wire.receipt_id),
            bytes: bytes.to_vec(),
        })
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The voucher or presentation redeemed.
    pub fn scanned(&self) -> &Scanned {
        &self.scanned
    }

    /// The redeemed voucher's id.
    pub fn voucher_id(&self) -> VoucherId {
        self.scanned.voucher().id()
    }

    /// The merchant.
    pub fn merchant(&self) -> MerchantId {
        self.merchant
    }

    /// The key the merchant signed with; the platform checks that it belongs to `merchant()`.
    pub fn merchant_key(&self) -> PublicKey {
        self.merchant_key
    }

    /// Unix seconds, by the merchant's clock.
    pub fn redeemed_at(&self) -> u64 {
        self.redeemed_at
    }

    /// The receipt id.
    pub fn receipt_id(&self) -> ReceiptId {
        self.receipt_id
    }

    /// The merchant signature with the bytes it covers, claimed by [`Self::merchant_key`] (for
    /// batch checks).
    pub fn merchant_signed(&self) -> SignedMessage {
        codec::signed_encoding(&self.bytes, self.merchant_key, Context::RECEIPT)
    }

    /// Checks every signature in the receipt, each with `verify_strict`: the merchant's, the
    /// voucher issuer's (trying each key of `trust` with the voucher's key id), and the holder's
    /// presentation for a holder-bound voucher. It does not re-check time, brand or revocation:
    /// those were the merchant's offline decision, which reconciliation reviews.
    pub fn verify(&self, trust: &VerifiedTrustList) -> Result<(), ReceiptError> {
        self.merchant_signed().verify_strict().map_err(|_| ReceiptError::BadMerchantSignature)?;
        let voucher = self.scanned.voucher();
        if !trust.issuers_with_kid(voucher.kid()).any(|issuer| voucher.verify_issuer(&issuer.key).is_ok()) {
            return Err(ReceiptError::BadIssuerSignature);
        }
        match &self.scanned {
            Scanned::Presentation(presentation) => Ok(presentation.verify_holder()?),
            Scanned::Voucher(voucher) if voucher.terms().holder.is_some() => Err(ReceiptError::PresentationMissing),
            Scanned::Voucher(_) => Ok(()),
        }
    }
}

/// Two receipts for one voucher with different receipt ids: a double redemption. Returns the
/// voucher id if so. Call it with receipts that passed [`RedemptionReceipt::verify`]; each then
/// carries the holder's own signed presentation (for holder-bound vouchers) as evidence.
pub fn double_redemption(first: &RedemptionReceipt, second: &RedemptionReceipt) -> Option<VoucherId> {
    (first.voucher_id() == second.voucher_id() && first.receipt_id != second.receipt_id).then(|| first.voucher_id())
}
