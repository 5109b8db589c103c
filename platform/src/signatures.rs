//! Batch verification of the signatures a redemption receipt carries: the merchant's over the
//! receipt and, for a holder-bound voucher, the holder's over its presentation. The voucher's
//! issuer signature needs no check here: the platform compares the voucher with the one it issued,
//! byte for byte.
//!
//! The equation of `ed25519_dalek::verify_batch`, with the terms of a repeated key summed
//! ([`BatchEquation`]). A reconciliation upload is first processed [`provisional`]ly: one equation
//! per worker thread over all the receipts it decoded, the larger multi-scalar multiplication being
//! cheaper per signature. Only if one fails is the upload checked again, one batch per chunk
//! ([`pipelined`]), and each receipt of a failing chunk alone, with `verify_strict`
//! (`crypto::keys::SignedMessage`, the same bytes the batch saw), to name the bad ones.
//!
//! Batch verification is slightly more permissive than `verify_strict` (it does not refuse
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
/// overlapping with it ([`pipelined`]). Inside [`provisional`], the chunks' signature results
/// count only once its verdict is [`Verdict::Confirmed`].
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
        let decoded = decode(uploads);
        let results = check_each(decoded.iter().map(|entry| entry.as_ref().ok()));
        Self::pair(decoded, results)
    }

    /// Each decoded receipt with its result (one per entry; an undecodable one's is not used).
    fn pair(decoded: Vec<Result<RedemptionReceipt, DecodeError>>, results: Vec<Result<(), SignatureError>>) -> Self {
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

/// Decodes each receipt's bytes; the merchant key met in one receipt is not decompressed again.
fn decode(uploads: &[Vec<u8>]) -> Vec<Result<RedemptionReceipt, DecodeError>> {
    let mut merchant_keys = KnownKeys::default();
    uploads.iter().map(|bytes| RedemptionReceipt::from_bytes_with(bytes, &mut merchant_keys)).collect()
}

/// Receipts per chunk of a [`pipelined`] or [`provisional`] upload: small enough that the
/// database waits little for the first chunk and that little of its work is left once the last one
/// is decoded (then only one core is busy), large enough for an efficient batch when a chunk is one
/// (still past the multi-scalar multiplication's switch to Pippenger's method: three points per
/// receipt).
pub const PIPELINE_CHUNK: usize = 128;

/// What a [`provisional`] upload found of its signatures.
#[must_use]
#[derive(Debug)]
pub(crate) enum Verdict<T> {
    /// Every signature verified: `T` was made from the results checking each receipt alone gives.
    Confirmed(T),
    /// Some signature did not verify, or the consumer stopped early: throw `T` away (roll its
    /// transaction back) and check the upload with [`pipelined`], which names the bad receipts.
    Unconfirmed,
}

/// Decodes `uploads` in chunks of [`PIPELINE_CHUNK`] on one worker thread per core, each taking
/// every n-th chunk, while `consume` takes the decoded chunks, in order, on this thread: decoding
/// later chunks overlaps with the database work on the current one. Each decodable receipt's
/// signatures are taken as valid, and each worker adds them to one [`BatchEquation`], checked once
/// it has decoded all its chunks: a larger batch costs less per signature than one per chunk.
/// Failures that need no signature check (a receipt that does not decode, a holder-bound voucher
/// without its presentation) are in the chunks already.
pub(crate) fn provisional<T>(
    uploads: &[Vec<u8>],
    consume: impl FnOnce(&mut dyn Iterator<Item = CheckedReceipts>) -> T,
) -> Verdict<T> {
    match in_workers(uploads, Batching::default, consume) {
        (consumed, true) => Verdict::Confirmed(consumed),
        (_, false) => Verdict::Unconfirmed,
    }
}

/// Decodes and checks `uploads` in chunks of [`PIPELINE_CHUNK`], one batch per chunk, on one
/// worker thread per core, each taking every n-th chunk, while `consume` takes the checked chunks,
/// in order, on this thread. Every receipt gets the result checking it alone would give. If
/// `consume` stops early, the workers stop too.
pub fn pipelined<T>(uploads: &[Vec<u8>], consume: impl FnOnce(&mut dyn Iterator<Item = CheckedReceipts>) -> T) -> T {
    in_workers(uploads, || Checking, consume).0
}

/// A worker thread of [`in_workers`]: what it makes of each chunk it takes, and whether all it
/// made holds once it has taken them all.
trait ChunkWorker: Send {
    fn take(&mut self, chunk: &[Vec<u8>]) -> CheckedReceipts;
    fn holds(self) -> bool;
}

/// [`pipelined`]'s worker: each chunk checked, one batch each.
struct Checking;

impl ChunkWorker for Checking {
    fn take(&mut self, chunk: &[Vec<u8>]) -> CheckedReceipts {
        CheckedReceipts::decode_and_check(chunk)
    }

    fn holds(self) -> bool {
        true
    }
}

/// [`provisional`]'s worker: each chunk decoded, its signatures added to one equation.
#[derive(Default)]
struct Batching {
    equation: BatchEquation,
}

impl ChunkWorker for Batching {
    fn take(&mut self, chunk: &[Vec<u8>]) -> CheckedReceipts {
        let decoded = decode(chunk);
        let ToCheck { results, signed } = signatures_to_check(decoded.iter().map(|entry| entry.as_ref().ok()));
        self.equation.add_all(signed.iter().map(|(_, signature)| signature));
        CheckedReceipts::pair(decoded, results)
    }

    fn holds(self) -> bool {
        self.equation.holds()
    }
}

/// Runs `worker`s over `uploads` in chunks of [`PIPELINE_CHUNK`], one thread per core taking every
/// n-th chunk, one chunk ahead (the database stays busy and memory stays bounded), while `consume`
/// takes what they made of each chunk, in order, on this thread. A chunk whose worker failed is
/// checked here. Returns what `consume` returned and whether `consume` took every chunk and every
/// worker holds; if `consume` stops early, the workers stop too.
fn in_workers<W: ChunkWorker, T>(
    uploads: &[Vec<u8>],
    worker: impl Fn() -> W,
    consume: impl FnOnce(&mut dyn Iterator<Item = CheckedReceipts>) -> T,
) -> (T, bool) {
    let chunks: Vec<&[Vec<u8>]> = uploads.chunks(PIPELINE_CHUNK).collect();
    let workers = cores().min(chunks.len()).max(1);
    std::thread::scope(|scope| {
        let (results, running): (Vec<_>, Vec<_>) = (0..workers)
            .map(|index| {
                let (sender, receiver) = std::sync::mpsc::sync_channel(1);
                let mine: Vec<&[Vec<u8>]> = chunks.iter().skip(index).step_by(workers).copied().collect();
                let mut state = worker();
                let running = scope.spawn(move || {
                    for chunk in mine {
                        if sender.send(state.take(chunk)).is_err() {
                            return false;
                        }
                    }
                    state.holds()
                });
                (receiver, running)
            })
            .unzip();
        let mut taken = 0;
        let consumed = consume(&mut chunks.iter().enumerate().map(|(index, chunk)| {
            taken += 1;
            results[index % workers].recv().unwrap_or_else(|_| CheckedReceipts::decode_and_check(chunk))
        }));
        drop(results);
        // Counted, not left to the workers: one whose last chunk waits unread in its channel holds.
        // Every worker is joined here, so that a failed one (its chunks were checked above) does
        // not fail the scope; it does not hold.
        let mut held = taken == chunks.len();
        for running in running {
            held &= running.join().unwrap_or(false);
        }
        (consumed, held)
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
    let ToCheck { mut results, signed } = signatures_to_check(receipts);
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

/// The signatures of a run of receipts, before any is checked.
struct ToCheck {
    /// One per receipt: `Ok` unless it fails without any signature being checked (a holder-bound
    /// voucher without its presentation); a missing receipt (undecodable) has nothing to check.
    results: Vec<Result<(), SignatureError>>,
    /// Every signature to check, with the index of its receipt.
    signed: Vec<(usize, Signed)>,
}

fn signatures_to_check<'a>(receipts: impl Iterator<Item = Option<&'a RedemptionReceipt>>) -> ToCheck {
    let mut to_check = ToCheck { results: Vec::new(), signed: Vec::new() };
    for (index, receipt) in receipts.enumerate() {
        match receipt.map(signatures_of) {
            None => to_check.results.push(Ok(())),
            Some(Ok(list)) => {
                to_check.results.push(Ok(()));
                to_check.signed.extend(list.into_iter().map(|s| (index, s)));
            }
            Some(Err(error)) => to_check.results.push(Err(error)),
        }
    }
    to_check
}

/// Whether every signature in `signed` verifies, in one [`BatchEquation`].
fn batch_ok(signed: &[(usize, Signed)]) -> bool {
    let mut equation = BatchEquation::default();
    equation.add_all(signed.iter().map(|(_, signature)| signature));
    equation.holds()
}

/// The randomized batch equation of RFC 8032 section 5.1.7, as `ed25519_dalek::verify_batch`
/// checks it: with random 128-bit `z_i`,
/// `[8]([-sum z_i s_i] B + sum [z_i] R_i + sum [z_i h_i] A_i) = 0`, `h_i = SHA-512(R_i || A_i || M_i)`.
/// Unlike dalek's, the terms of one key are summed into one coefficient before the multi-scalar
/// multiplication: an upload comes from one merchant, so its key is one point instead of one per
/// receipt (three points per two-signature receipt instead of four). A non-canonical `s` or an `R`
/// that does not decompress fails the equation, as in dalek.
#[derive(Default)]
struct BatchEquation {
    /// `sum z_i s_i` so far.
    basepoint_coefficient: Scalar,
    /// Each `z_i`, with its `R_i` in `points`.
    scalars: Vec<Scalar>,
    points: Vec<EdwardsPoint>,
    /// Each distinct key's summed coefficient, by its encoding.
    keys: HashMap<[u8; 32], (EdwardsPoint, Scalar)>,
    /// A signature could not be added (or no randomness was to be had): the equation fails.
    failed: bool,
}

impl BatchEquation {
    /// Adds the terms of `signed`, each with a fresh random `z_i`.
    fn add_all<'a>(&mut self, signed: impl ExactSizeIterator<Item = &'a Signed>) {
        let mut randomizers = vec![0u8; 16 * signed.len()];
        if self.failed || rand_core::OsRng.try_fill_bytes(&mut randomizers).is_err() {
            self.failed = true;
            return;
        }
        self.scalars.reserve(signed.len());
        self.points.reserve(signed.len());
        for (signature, z) in signed.zip(randomizers.chunks_exact(16)) {
            if self.add(signature, z).is_none() {
                self.failed = true;
                return;
            }
        }
    }

    /// Adds one signature's terms with `z` (16 random bytes); `None` if they cannot be formed.
    fn add(&mut self, signature: &Signed, z: &[u8]) -> Option<()> {
        let bytes = &signature.message.signature().0;
        let (r_bytes, s_bytes) = bytes.split_at(32);
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes.try_into().ok()?))?;
        let r = CompressedEdwardsY::from_slice(r_bytes).ok()?.decompress()?;
        let key = signature.message.key().as_dalek();
        let digest = Sha512::new().chain_update(r_bytes).chain_update(key.as_bytes()).chain_update(signature.message.message());
        let h = Scalar::from_bytes_mod_order_wide(&digest.finalize().into());
        let mut z_bytes = [0u8; 32];
        z_bytes[..16].copy_from_slice(z);
        let z = Scalar::from_bytes_mod_order(z_bytes);
        self.basepoint_coefficient += z * s;
        self.scalars.push(z);
        self.points.push(r);
        self.keys.entry(key.to_bytes()).or_insert_with(|| (key.to_edwards(), Scalar::ZERO)).1 += z * h;
        Some(())
    }

    /// Whether the equation holds: every signature added verifies.
    fn holds(self) -> bool {
        let Self { basepoint_coefficient, mut scalars, mut points, keys, failed } = self;
        if failed {
            return false;
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
        let mut uploads = uploads(&fixture, 40);
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
        let mut uploads = uploads(&fixture, count);
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

    /// The bytes of `count` receipts of presentations, counters 1, 2, …
    fn uploads(fixture: &Fixture, count: usize) -> Vec<Vec<u8>> {
        (1..=count as u32).map(|counter| fixture.receipt_for_presentation(counter).to_bytes().to_vec()).collect()
    }

    /// Each receipt's bytes (`None`: it did not decode) and its signatures' result.
    type Seen = Vec<Option<(Vec<u8>, Result<(), SignatureError>)>>;

    /// Every chunk's entries, as `consume` saw them, flattened.
    fn seen(checked: &mut dyn Iterator<Item = CheckedReceipts>) -> Seen {
        checked
            .flat_map(|chunk| chunk.entries)
            .map(|entry| entry.ok().map(|(receipt, result)| (receipt.to_bytes().to_vec(), result)))
            .collect()
    }

    #[test]
    fn a_provisional_upload_of_valid_signatures_is_confirmed_with_the_results_of_checking_each_alone() {
        let fixture = Fixture::new();
        let count = 2 * PIPELINE_CHUNK + 37;
        let mut uploads = uploads(&fixture, count);
        // Failures that need no signature check: undecodable, and a holder-bound voucher without
        // its presentation.
        uploads[5] = vec![0xff; 40];
        uploads[PIPELINE_CHUNK + 9] = fixture.receipt_for_holder_bound_voucher(9).to_bytes().to_vec();
        let Verdict::Confirmed(provisional) = provisional(&uploads, seen) else {
            panic!("every signature verifies");
        };
        assert_eq!(provisional, pipelined(&uploads, seen));
        assert_eq!(provisional.len(), count);
        assert!(provisional[5].is_none());
        assert_eq!(provisional[PIPELINE_CHUNK + 9].as_ref().map(|(_, result)| *result), Some(Err(SignatureError::PresentationMissing)));
        assert_eq!(provisional.iter().flatten().filter(|(_, result)| result.is_ok()).count(), count - 2);
    }

    #[test]
    fn one_bad_signature_anywhere_leaves_a_provisional_upload_unconfirmed() {
        let fixture = Fixture::new();
        let uploads = uploads(&fixture, 3 * PIPELINE_CHUNK);
        for bad in [0, PIPELINE_CHUNK + 1, 3 * PIPELINE_CHUNK - 1] {
            let mut uploads = uploads.clone();
            let last = uploads[bad].len() - 1;
            uploads[bad][last] ^= 0x01;
            assert!(matches!(provisional(&uploads, seen), Verdict::Unconfirmed), "bad receipt {bad}");
        }
        assert!(matches!(provisional(&uploads, seen), Verdict::Confirmed(_)));
    }

    #[test]
    fn a_provisional_upload_whose_consumer_stops_early_is_unconfirmed() {
        let fixture = Fixture::new();
        let uploads = uploads(&fixture, 4 * PIPELINE_CHUNK);
        let first = provisional(&uploads, |checked| checked.next().map(|chunk| chunk.len()));
        assert!(matches!(first, Verdict::Unconfirmed));
    }

    /// A worker that makes nothing of its chunks and says when it has sent them all.
    struct SaysWhenDone(std::sync::mpsc::Sender<()>);

    impl ChunkWorker for SaysWhenDone {
        fn take(&mut self, _: &[Vec<u8>]) -> CheckedReceipts {
            CheckedReceipts { entries: Vec::new() }
        }

        fn holds(self) -> bool {
            self.0.send(()).is_ok()
        }
    }

    #[test]
    fn a_chunk_sent_but_never_read_is_not_counted_as_consumed() {
        use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
        let (done, all_sent) = std::sync::mpsc::channel();
        let workers = AtomicUsize::new(0);
        let new_worker = || {
            workers.fetch_add(1, Relaxed);
            SaysWhenDone(done.clone())
        };
        // The consumer reads the first chunk only, and returns once every worker has sent all its
        // chunks: the last one waits unread in its channel, and every worker holds.
        let uploads = vec![Vec::new(); 2 * PIPELINE_CHUNK];
        let ((), held) = in_workers(&uploads, new_worker, |chunks| {
            assert!(chunks.next().is_some());
            for _ in 0..workers.load(Relaxed) {
                all_sent.recv().unwrap();
            }
        });
        assert!(!held);
    }

    #[test]
    fn a_consumer_that_stops_early_stops_the_workers() {
        let fixture = Fixture::new();
        let uploads = uploads(&fixture, 4 * PIPELINE_CHUNK);
        let first = pipelined(&uploads, |checked| checked.next().map(|chunk| chunk.len()));
        assert_eq!(first, Some(PIPELINE_CHUNK));
    }
}
