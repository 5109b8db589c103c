//! Batch verification of the signatures a redemption receipt carries: the merchant's over the
//! receipt and, for a holder-bound voucher, the holder's over its presentation. The voucher's
//! issuer signature needs no check here: the platform compares the voucher with the one it issued,
//! byte for byte.
//!
//! One `ed25519_dalek::verify_batch` call covers a whole upload; only if it fails is each receipt
//! checked alone, with `verify_strict` (`crypto::keys::SignedMessage`, the same bytes the batch saw),
//! to name the bad ones. Batch verification is slightly more permissive than `verify_strict` (it
//! does not refuse small-order `R`); that cannot forge anything, and a receipt's identity is its
//! receipt id, never its signature bytes, so signature malleability gains nothing.

use crypto::{keys::SignedMessage, presentation::Scanned, receipt::RedemptionReceipt};

/// Why a receipt's signatures do not check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The merchant's signature over the receipt does not verify.
    #[error("merchant signature does not verify")]
    Merchant,
    /// The holder's signature over the presentation does not verify.
    #[error("holder signature on the presentation does not verify")]
    Holder,
    /// A holder-bound voucher was redeemed without the holder's presentation.
    #[error("holder-bound voucher redeemed without the holder's presentation")]
    PresentationMissing,
    /// A presentation of a bearer voucher (nobody could have signed it).
    #[error("presentation of a bearer voucher")]
    NotHolderBound,
}

/// One signature to check, and which of the receipt's signatures it is.
struct Signed {
    message: SignedMessage,
    role: SignatureError,
}

impl Signed {
    fn verify_strict(&self) -> Result<(), SignatureError> {
        self.message.verify_strict().map_err(|_| self.role)
    }
}

/// Receipts whose signatures have been checked: the only input reconciliation takes, so no
/// receipt can be processed unchecked. Checking is CPU work; do it off the database's thread.
#[derive(Debug, Clone)]
pub struct CheckedReceipts {
    receipts: Vec<RedemptionReceipt>,
    results: Vec<Result<(), SignatureError>>,
}

impl CheckedReceipts {
    /// Checks the signatures of every receipt ([`verify_receipts`]).
    pub fn check(receipts: Vec<RedemptionReceipt>) -> Self {
        let results = verify_receipts(&receipts);
        Self { receipts, results }
    }

    /// Each receipt with the result of its signature check, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&RedemptionReceipt, Result<(), SignatureError>)> {
        self.receipts.iter().zip(self.results.iter().copied())
    }

    /// How many receipts.
    pub fn len(&self) -> usize {
        self.receipts.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.receipts.is_empty()
    }
}

/// Fewest signatures worth a thread of their own.
const MIN_SIGNATURES_PER_THREAD: usize = 64;

/// Checks the signatures of every receipt: one result per receipt, in order. The signatures are
/// split over the available cores, one batch per core; only a batch that fails is checked
/// signature by signature, with `verify_strict`, to name the bad receipts.
pub fn verify_receipts(receipts: &[RedemptionReceipt]) -> Vec<Result<(), SignatureError>> {
    let mut results = Vec::with_capacity(receipts.len());
    let mut signed: Vec<(usize, Signed)> = Vec::with_capacity(receipts.len() * 2);
    for (index, receipt) in receipts.iter().enumerate() {
        match signatures_of(receipt) {
            Ok(list) => {
                results.push(Ok(()));
                signed.extend(list.into_iter().map(|s| (index, s)));
            }
            Err(error) => results.push(Err(error)),
        }
    }
    for part in failed_batches(&signed) {
        for (index, signature) in part {
            if results[*index].is_ok()
                && let Err(error) = signature.verify_strict()
            {
                results[*index] = Err(error);
            }
        }
    }
    results
}

/// Batch-verifies `signed` in one part per core; returns the parts that failed.
fn failed_batches(signed: &[(usize, Signed)]) -> Vec<&[(usize, Signed)]> {
    if signed.is_empty() {
        return Vec::new();
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let threads = cores.min(signed.len() / MIN_SIGNATURES_PER_THREAD).max(1);
    if threads == 1 {
        return if batch_ok(signed) { Vec::new() } else { vec![signed] };
    }
    std::thread::scope(|scope| {
        let running: Vec<_> = signed
            .chunks(signed.len().div_ceil(threads))
            .map(|part| (part, scope.spawn(move || batch_ok(part))))
            .collect();
        // A part whose thread did not finish counts as failed: its signatures are checked again.
        running.into_iter().filter_map(|(part, thread)| (!thread.join().unwrap_or(false)).then_some(part)).collect()
    })
}

fn batch_ok(signed: &[(usize, Signed)]) -> bool {
    let messages: Vec<&[u8]> = signed.iter().map(|(_, s)| s.message.message()).collect();
    let signatures: Vec<ed25519_dalek::Signature> =
        signed.iter().map(|(_, s)| ed25519_dalek::Signature::from_bytes(&s.message.signature().0)).collect();
    let keys: Vec<ed25519_dalek::VerifyingKey> = signed.iter().map(|(_, s)| *s.message.key().as_dalek()).collect();
    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
}

fn signatures_of(receipt: &RedemptionReceipt) -> Result<Vec<Signed>, SignatureError> {
    let mut list = vec![Signed { message: receipt.merchant_signed(), role: SignatureError::Merchant }];
    match receipt.scanned() {
        Scanned::Presentation(presentation) => {
            let message = presentation.holder_signed().map_err(|_| SignatureError::NotHolderBound)?;
            list.push(Signed { message, role: SignatureError::Holder });
        }
        Scanned::Voucher(voucher) if voucher.terms().holder.is_some() => return Err(SignatureError::PresentationMissing),
        Scanned::Voucher(_) => {}
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto::testing::Fixture;

    #[test]
    fn valid_receipts_pass_the_batch_and_agree_with_strict_verification() {
        let fixture = Fixture::new();
        let receipts: Vec<_> = (1..=5).map(|counter| fixture.receipt_for_presentation(counter)).collect();
        for receipt in &receipts {
            assert_eq!(receipt.verify(&fixture.trust), Ok(()));
        }
        let mut with_bearer = receipts.clone();
        with_bearer.push(fixture.receipt_for_bearer(9));
        assert!(verify_receipts(&with_bearer).iter().all(Result::is_ok));
    }

    #[test]
    fn a_tampered_signature_is_named_and_the_others_pass() {
        let fixture = Fixture::new();
        let good = fixture.receipt_for_presentation(1);
        let mut bytes = fixture.receipt_for_presentation(2).to_bytes().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        // Decoding does not look inside the signature: the flipped bit is found by verifying.
        let bad_merchant = RedemptionReceipt::from_bytes(&bytes).unwrap();
        let results = verify_receipts(&[good, bad_merchant]);
        assert_eq!(results, vec![Ok(()), Err(SignatureError::Merchant)]);
    }

    #[test]
    fn a_bad_receipt_among_many_is_found_whichever_part_it_falls_in() {
        let fixture = Fixture::new();
        let mut receipts: Vec<_> = (1..=200).map(|counter| fixture.receipt_for_presentation(counter)).collect();
        let mut bytes = receipts[137].to_bytes().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        receipts[137] = RedemptionReceipt::from_bytes(&bytes).unwrap();
        let results = verify_receipts(&receipts);
        for (index, result) in results.iter().enumerate() {
            assert_eq!(*result, if index == 137 { Err(SignatureError::Merchant) } else { Ok(()) }, "receipt {index}");
        }
    }
}
