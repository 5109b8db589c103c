//! Batch verification of the signatures a redemption receipt carries: the merchant's over the
//! receipt and, for a holder-bound voucher, the holder's over its presentation. The voucher's
//! issuer signature needs no check here: the platform compares the voucher with the one it issued,
//! byte for byte.
//!
//! One batch per chunk of an upload (the equation of `ed25519_dalek::verify_batch`, with the terms
//! of a repeated key summed: [`batch_ok`]); only if one fails is each of its receipts checked alone,
//! with `verify_strict` (`crypto::keys::SignedMessage`, the same bytes the batch saw), to name the
//! bad ones. Batch verification is slightly more permissive than `verify_strict` (it does not refuse
//! small-order `R`); that cannot forge anything, and a receipt's identity is its receipt id, never
//! its signature bytes, so signature malleability gains nothing.

use std::collections::HashMap;

use crypto::{
    codec::DecodeError,
    keys::{KnownKeys, SignedMessage},
    presentation::Scanned,
    receipt::RedemptionReceipt,
};
use curve25519_dalek::{
    constants::ED25519_BASEPOINT_POINT,
    edwards::{CompressedEdwardsY, EdwardsPoint},
    scalar::Scalar,
    traits::{IsIdentity as _, VartimeMultiscalarMul as _},
};
use rand_core::RngCore as _;
use sha2::{Digest as _, Sha512};

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

/// An uploaded receipt after decoding and signature checking.
pub type Checked = Result<(RedemptionReceipt, Result<(), SignatureError>), DecodeError>;

/// Receipts decoded and with their signatures checked: the only input reconciliation takes, so no
/// receipt can be processed unchecked. Checking is CPU work; do it off the database's thread, or
/// overlapping with it ([`pipelined`]).
#[derive(Debug, Clone)]
pub struct CheckedReceipts {
    entries: Vec<Checked>,
}

impl CheckedReceipts {
    /// Checks the signatures of decoded receipts ([`verify_receipts`]).
    pub fn check(receipts: Vec<RedemptionReceipt>) -> Self {
        let results = verify_receipts(&receipts);
        Self { entries: receipts.into_iter().zip(results).map(Ok).collect() }
    }

    /// Decodes each receipt's bytes and checks the signatures of those that decode, in one batch
    /// on this thread.
    pub fn decode_and_check(uploads: &[Vec<u8>]) -> Self {
        let mut merchant_keys = KnownKeys::default();
        let decoded: Vec<Result<RedemptionReceipt, DecodeError>> =
            uploads.iter().map(|bytes| RedemptionReceipt::from_bytes_with(bytes, &mut merchant_keys)).collect();
        let results = check_each(decoded.iter().map(|entry| entry.as_ref().ok()));
        Self { entries: decoded.into_iter().zip(results).map(|(entry, result)| entry.map(|receipt| (receipt, result))).collect() }
    }

    /// Each receipt, in order: undecodable, or decoded with the result of its signature check.
    pub fn iter(&self) -> impl Iterator<Item = Result<(&RedemptionReceipt, Result<(), SignatureError>), &DecodeError>> {
        self.entries.iter().map(|entry| entry.as_ref().map(|(receipt, result)| (receipt, *result)))
    }

    /// How many receipts.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Receipts per chunk of a [`pipelined`] upload: small enough that the database waits little for
/// the first chunk and that little of its work is left once the last one is checked (then only
/// one core is busy), large enough for an efficient batch (still past the multi-scalar
/// multiplication's switch to Pippenger's method: three points per receipt).
pub const PIPELINE_CHUNK: usize = 128;

/// Decodes and checks `uploads` in chunks of [`PIPELINE_CHUNK`], one worker thread per core taking
/// every n-th chunk, while `consume` takes the checked chunks, in order, on this thread: checking
/// later chunks overlaps with the database work on the current one. Every receipt gets the result
/// checking it alone would give; a chunk whose worker failed is checked here. If `consume` stops
/// early, the workers stop too.
pub fn pipelined<T>(uploads: &[Vec<u8>], consume: impl FnOnce(&mut dyn Iterator<Item = CheckedReceipts>) -> T) -> T {
    let chunks: Vec<&[Vec<u8>]> = uploads.chunks(PIPELINE_CHUNK).collect();
    let workers = cores().min(chunks.len()).max(1);
    std::thread::scope(|scope| {
        let (results, workers_running): (Vec<_>, Vec<_>) = (0..workers)
            .map(|worker| {
                // One chunk ahead per worker: the database stays busy and memory stays bounded.
                let (sender, receiver) = std::sync::mpsc::sync_channel(1);
                let mine: Vec<&[Vec<u8>]> = chunks.iter().skip(worker).step_by(workers).copied().collect();
                let running = scope.spawn(move || {
                    for chunk in mine {
                        if sender.send(CheckedReceipts::decode_and_check(chunk)).is_err() {
                            break;
                        }
                    }
                });
                (receiver, running)
            })
            .unzip();
        let mut in_order = chunks.iter().enumerate().map(|(index, chunk)| {
            results[index % workers].recv().unwrap_or_else(|_| CheckedReceipts::decode_and_check(chunk))
        });
        let consumed = consume(&mut in_order);
        drop(results);
        // Joined here, so that a failed worker (its chunks were checked above) does not fail the scope.
        for running in workers_running {
            let _ = running.join();
        }
        consumed
    })
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Fewest receipts worth a thread of their own.
const MIN_RECEIPTS_PER_THREAD: usize = 32;

/// Checks the signatures of every receipt: one result per receipt, in order. The receipts are
/// split over the available cores, one batch per core; only a batch that fails is checked
/// signature by signature, with `verify_strict`, to name the bad receipts.
pub fn verify_receipts(receipts: &[RedemptionReceipt]) -> Vec<Result<(), SignatureError>> {
    let threads = cores().min(receipts.len() / MIN_RECEIPTS_PER_THREAD).max(1);
    if threads == 1 {
        return check_each(receipts.iter().map(Some));
    }
    std::thread::scope(|scope| {
        let running: Vec<_> = receipts
            .chunks(receipts.len().div_ceil(threads))
            .map(|part| (part, scope.spawn(move || check_each(part.iter().map(Some)))))
            .collect();
        // A part whose thread failed is checked again here.
        running
            .into_iter()
            .flat_map(|(part, thread)| thread.join().unwrap_or_else(|_| check_each(part.iter().map(Some))))
            .collect()
    })
}

/// One result per item: one batch over the signatures of the receipts given; if it fails, each
/// signature alone. A missing receipt (undecodable) has nothing to check: `Ok`, never used.
fn check_each<'a>(receipts: impl Iterator<Item = Option<&'a RedemptionReceipt>>) -> Vec<Result<(), SignatureError>> {
    let mut results = Vec::new();
    let mut signed: Vec<(usize, Signed)> = Vec::new();
    for (index, receipt) in receipts.enumerate() {
        match receipt.map(signatures_of) {
            None => results.push(Ok(())),
            Some(Ok(list)) => {
                results.push(Ok(()));
                signed.extend(list.into_iter().map(|s| (index, s)));
            }
            Some(Err(error)) => results.push(Err(error)),
        }
    }
    if !signed.is_empty() && !batch_ok(&signed) {
        for (index, signature) in &signed {
            if results[*index].is_ok()
                && let Err(error) = signature.verify_strict()
            {
                results[*index] = Err(error);
            }
        }
    }
    results
}

/// Whether every signature in `signed` verifies, in one randomized batch (RFC 8032 section 5.1.7,
/// the equation `ed25519_dalek::verify_batch` checks): with random 128-bit `z_i`,
/// `[8]([-sum z_i s_i] B + sum [z_i] R_i + sum [z_i h_i] A_i) = 0`, `h_i = SHA-512(R_i || A_i || M_i)`.
/// Unlike dalek's, the terms of one key are summed into one coefficient before the
/// multi-scalar multiplication: an upload comes from one merchant, so its key is one point
/// instead of one per receipt (three points per two-signature receipt instead of four).
/// A non-canonical `s` or an `R` that does not decompress fails the batch, as in dalek.
fn batch_ok(signed: &[(usize, Signed)]) -> bool {
    let mut randomizers = vec![0u8; 16 * signed.len()];
    if rand_core::OsRng.try_fill_bytes(&mut randomizers).is_err() {
        return false;
    }
    let mut basepoint_coefficient = Scalar::ZERO;
    // At most: every R, the base point and every key.
    let mut scalars = Vec::with_capacity(2 * signed.len() + 1);
    let mut points = Vec::with_capacity(2 * signed.len() + 1);
    // Each distinct key's summed coefficient, by its encoding.
    let mut keys: HashMap<[u8; 32], (EdwardsPoint, Scalar)> = HashMap::new();
    for ((_, signature), z) in signed.iter().zip(randomizers.chunks_exact(16)) {
        let bytes = &signature.message.signature().0;
        let (r_bytes, s_bytes) = bytes.split_at(32);
        let Some(s) = s_bytes.try_into().ok().and_then(|s| Option::<Scalar>::from(Scalar::from_canonical_bytes(s)))
        else {
            return false;
        };
        let Some(r) = CompressedEdwardsY::from_slice(r_bytes).ok().and_then(|r| r.decompress()) else {
            return false;
        };
        let key = signature.message.key().as_dalek();
        let digest = Sha512::new().chain_update(r_bytes).chain_update(key.as_bytes()).chain_update(signature.message.message());
        let h = Scalar::from_bytes_mod_order_wide(&digest.finalize().into());
        let mut z_bytes = [0u8; 32];
        z_bytes[..16].copy_from_slice(z);
        let z = Scalar::from_bytes_mod_order(z_bytes);
        basepoint_coefficient += z * s;
        scalars.push(z);
        points.push(r);
        keys.entry(key.to_bytes()).or_insert_with(|| (key.to_edwards(), Scalar::ZERO)).1 += z * h;
    }
    scalars.push(-basepoint_coefficient);
    points.push(ED25519_BASEPOINT_POINT);
    for (point, coefficient) in keys.into_values() {
        scalars.push(coefficient);
        points.push(point);
    }
    // Cofactored, as dalek's: a residual of small order (a torsion part added to some R) fails
    // or passes every time, never with a chance set by the random z_i.
    EdwardsPoint::vartime_multiscalar_mul(scalars, points).mul_by_cofactor().is_identity()
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
    use crypto::{keys::SIGNATURE_LENGTH, testing::Fixture};

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

    /// Every signature of `receipts`, as [`check_each`] hands them to [`batch_ok`].
    fn signed(receipts: &[RedemptionReceipt]) -> Vec<(usize, Signed)> {
        receipts
            .iter()
            .enumerate()
            .flat_map(|(index, receipt)| signatures_of(receipt).unwrap().into_iter().map(move |signed| (index, signed)))
            .collect()
    }

    #[test]
    fn the_batch_accepts_valid_signatures_of_repeated_keys_as_dalek_does() {
        let fixture = Fixture::new();
        let mut receipts: Vec<_> = (1..=40).map(|counter| fixture.receipt_for_presentation(counter)).collect();
        receipts.push(fixture.receipt_for_bearer(9));
        let signed = signed(&receipts);
        assert_eq!(signed.len(), 2 * 40 + 1);
        assert!(batch_ok(&signed));
        let messages: Vec<&[u8]> = signed.iter().map(|(_, s)| s.message.message()).collect();
        let signatures: Vec<ed25519_dalek::Signature> =
            signed.iter().map(|(_, s)| ed25519_dalek::Signature::from_bytes(&s.message.signature().0)).collect();
        let keys: Vec<ed25519_dalek::VerifyingKey> = signed.iter().map(|(_, s)| *s.message.key().as_dalek()).collect();
        assert!(ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok());
        assert!(batch_ok(&signed[..1]), "a batch of one");
    }

    #[test]
    fn signatures_swapped_between_receipts_of_one_merchant_fail_although_the_key_is_summed() {
        let fixture = Fixture::new();
        let receipts: Vec<_> = (1..=40).map(|counter| fixture.receipt_for_presentation(counter)).collect();
        let mut swapped: Vec<Vec<u8>> = receipts.iter().map(|receipt| receipt.to_bytes().to_vec()).collect();
        let (first, second) = swapped.split_at_mut(21);
        let (a, b) = (&mut first[3], &mut second[0]);
        let (a_signature, b_signature) = (a.len() - SIGNATURE_LENGTH, b.len() - SIGNATURE_LENGTH);
        a[a_signature..].swap_with_slice(&mut b[b_signature..]);
        let decoded: Vec<_> = swapped.iter().map(|bytes| RedemptionReceipt::from_bytes(bytes).unwrap()).collect();
        assert!(!batch_ok(&signed(&decoded)));
        let results = verify_receipts(&decoded);
        for (index, result) in results.iter().enumerate() {
            let swapped = index == 3 || index == 21;
            assert_eq!(*result, if swapped { Err(SignatureError::Merchant) } else { Ok(()) }, "receipt {index}");
        }
    }

    #[test]
    fn a_non_canonical_s_is_refused_as_verify_strict_refuses_it() {
        // The group order l, little-endian: s + l verifies the same equation, but is not canonical.
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let fixture = Fixture::new();
        let mut uploads: Vec<Vec<u8>> =
            (1..=40).map(|counter| fixture.receipt_for_presentation(counter).to_bytes().to_vec()).collect();
        let s_start = uploads[7].len() - 32;
        let mut carry = 0u16;
        for (byte, l) in uploads[7][s_start..].iter_mut().zip(L) {
            let sum = u16::from(*byte) + u16::from(l) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
        assert_eq!(carry, 0, "s + l fits in 32 bytes");
        let decoded: Vec<_> = uploads.iter().map(|bytes| RedemptionReceipt::from_bytes(bytes).unwrap()).collect();
        assert!(decoded[7].merchant_signed().verify_strict().is_err());
        assert!(!batch_ok(&signed(&decoded)));
        let results = verify_receipts(&decoded);
        for (index, result) in results.iter().enumerate() {
            assert_eq!(*result, if index == 7 { Err(SignatureError::Merchant) } else { Ok(()) }, "receipt {index}");
        }
    }

    #[test]
    fn a_pipelined_upload_gets_the_results_of_checking_each_receipt_alone() {
        let fixture = Fixture::new();
        let count = 2 * PIPELINE_CHUNK + 37;
        let mut uploads: Vec<Vec<u8>> =
            (1..=count as u32).map(|counter| fixture.receipt_for_presentation(counter).to_bytes().to_vec()).collect();
        // A bad signature in the second chunk, an undecodable receipt in the first and the last.
        let last = uploads[PIPELINE_CHUNK + 3].len() - 1;
        uploads[PIPELINE_CHUNK + 3][last] ^= 0x01;
        uploads[5] = vec![0xff; 40];
        uploads[count - 1].truncate(100);
        let chunks = pipelined(&uploads, |checked| checked.map(|chunk| chunk.len()).collect::<Vec<_>>());
        assert_eq!(chunks, vec![PIPELINE_CHUNK, PIPELINE_CHUNK, 37], "every chunk, in order");
        let mut seen = 0;
        pipelined(&uploads, |checked| {
            for (index, entry) in checked.flat_map(|chunk| chunk.entries).enumerate() {
                seen += 1;
                match entry {
                    Err(_) => assert!(index == 5 || index == count - 1, "receipt {index} decodes"),
                    Ok((receipt, result)) => {
                        assert_eq!(receipt.to_bytes(), uploads[index], "receipt {index} in its place");
                        let alone = verify_receipts(std::slice::from_ref(&receipt)).remove(0);
                        assert_eq!(result, alone, "receipt {index}");
                        assert_eq!(result.is_err(), index == PIPELINE_CHUNK + 3, "receipt {index}");
                    }
                }
            }
        });
        assert_eq!(seen, count);
    }

    #[test]
    fn a_consumer_that_stops_early_stops_the_workers() {
        let fixture = Fixture::new();
        let uploads: Vec<Vec<u8>> =
            (1..=(4 * PIPELINE_CHUNK) as u32).map(|counter| fixture.receipt_for_presentation(counter).to_bytes().to_vec()).collect();
        let first = pipelined(&uploads, |checked| checked.next().map(|chunk| chunk.len()));
        assert_eq!(first, Some(PIPELINE_CHUNK));
    }
}
