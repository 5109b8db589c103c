//! Fixtures for tests, benches, fuzz seeds and the ledger contract suite (feature `testing`).
//!
//! Every key comes from a fixed seed and every id from a fixed pattern, so all outputs are
//! reproducible byte for byte (Ed25519 signing is deterministic): the known-answer vectors under
//! `tests/vectors/` are made from these.

use core::future::Future;
use core::pin::pin;
use core::task::{Context as TaskContext, Poll, Waker};

use rand_core::{CryptoRng, RngCore};
use sha2::{Digest as _, Sha256};

use crate::extension::{ExpiryExtension, VerifiedExpiryExtension};
use crate::keys::{DeviceKey, SignedMessage};
use crate::presentation::{Presentation, Scanned};
use crate::receipt::{Merchant, MerchantId, ReceiptId, RedemptionReceipt};
use crate::revocation::{RevocationList, VerifiedRevocationList};
use crate::trust::{BrandScope, IssuerKey, PlatformKey, TrustList, VerifiedTrustList};
use crate::verify::{OfflineContext, OfflinePolicy};
use crate::voucher::{BrandId, Flags, Voucher, VoucherId, VoucherTerms};

/// The fixtures' "now": 2026-01-01T00:00:00Z.
pub const NOW: u64 = 1_767_225_600;
/// One day in seconds.
pub const DAY: u64 = 86_400;
/// The merchant's brand.
pub const BRAND: BrandId = BrandId(7);
/// A brand the merchant does not redeem, but the issuer may issue for.
pub const OTHER_BRAND: BrandId = BrandId(8);
/// The voucher id the fixture's revocation list revokes.
pub const REVOKED_ID: VoucherId = VoucherId([0xee; 16]);

/// Runs a future that never waits (the memory ledger's). Panics if it would wait.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = TaskContext::from_waker(Waker::noop());
    match future.as_mut().poll(&mut context) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("block_on: the future is waiting on something; use an async test"),
    }
}

/// A deterministic random source (SHA-256 in counter mode over a seed). For tests only.
#[derive(Debug, Clone)]
pub struct TestRng {
    seed: [u8; 32],
    counter: u64,
    buffer: [u8; 32],
    used: usize,
}

impl TestRng {
    /// The stream for `seed`.
    pub fn new(seed: u8) -> Self {
        Self { seed: [seed; 32], counter: 0, buffer: [0; 32], used: 32 }
    }
}

impl RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for byte in dest {
            if self.used == self.buffer.len() {
                self.buffer = Sha256::new().chain_update(self.seed).chain_update(self.counter.to_le_bytes()).finalize().into();
                self.counter += 1;
                self.used = 0;
            }
            *byte = self.buffer[self.used];
            self.used += 1;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for TestRng {}

/// The key with seed `[byte; 32]`.
pub fn key(byte: u8) -> DeviceKey {
    DeviceKey::from_seed(&[byte; 32])
}

/// A complete offline world: root, issuer, platform, merchant and holder keys from fixed seeds,
/// a verified trust list, a revocation list and the merchant.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// Root key (seed `01…`): signs the trust list.
    pub root: DeviceKey,
    /// Issuer key (seed `02…`): signs vouchers for [`BRAND`] and [`OTHER_BRAND`].
    pub issuer: DeviceKey,
    /// Platform key (seed `03…`): signs revocation lists and extensions.
    pub platform: DeviceKey,
    /// Holder's device key (seed `05…`).
    pub holder: DeviceKey,
    /// The merchant (id 42, [`BRAND`], key seed `04…`).
    pub merchant: Merchant,
    /// The trust list's content.
    pub trust_list: TrustList,
    /// The verified trust list.
    pub trust: VerifiedTrustList,
    /// The revocation list's content: issued an hour before [`NOW`], covering both brands,
    /// revoking [`REVOKED_ID`] for [`BRAND`].
    pub revocation_list: RevocationList,
    /// The verified revocation list.
    pub revocations: VerifiedRevocationList,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    /// The world described on the fields.
    pub fn new() -> Self {
        let (root, issuer, platform, holder) = (key(1), key(2), key(3), key(5));
        let trust_list = TrustList {
            issued_at: NOW - DAY,
            issuers: vec![IssuerKey {
                key: issuer.public(),
                valid_from: NOW - 365 * DAY,
                valid_to: NOW + 2 * 365 * DAY,
                brands: BrandScope::Only(vec![BRAND, OTHER_BRAND]),
            }],
            platform: vec![PlatformKey {
                key: platform.public(),
                valid_from: NOW - 365 * DAY,
                valid_to: NOW + 2 * 365 * DAY,
            }],
        };
        let trust = verified_trust(&trust_list, &root);
        let revocation_list = RevocationList::new(NOW - 3600, [BRAND, OTHER_BRAND], [(BRAND, REVOKED_ID)]);
        let revocations = must(
            VerifiedRevocationList::from_bytes(&must(revocation_list.sign(&platform)), &trust),
        );
        let merchant = Merchant::new(MerchantId(42), BRAND, key(4));
        Self { root, issuer, platform, holder, merchant, trust_list, trust, revocation_list, revocations }
    }

    /// Terms: SKU 1001, [`BRAND`], 4,500 KRW, issued a day before [`NOW`], expiring 30 days
    /// after, no flags, bound to `holder`.
    pub fn terms(&self, holder: bool) -> VoucherTerms {
        VoucherTerms {
            sku: 1001,
            brand: BRAND,
            value: 4_500,
            issued_at: NOW - DAY,
            expires_at: NOW + 30 * DAY,
            flags: Flags::NONE,
            holder: holder.then(|| self.holder.public()),
        }
    }

    /// A voucher from the fixture issuer with these terms and id `[n; 16]`.
    pub fn voucher(&self, n: u8, terms: VoucherTerms) -> Voucher {
        must(Voucher::issue(&self.issuer, VoucherId([n; 16]), terms))
    }

    /// A bearer voucher with the default terms and id `[n; 16]`.
    pub fn bearer(&self, n: u8) -> Voucher {
        self.voucher(n, self.terms(false))
    }

    /// A holder-bound voucher with the default terms and id `[n; 16]`.
    pub fn holder_bound(&self, n: u8) -> Voucher {
        self.voucher(n, self.terms(true))
    }

    /// The holder's presentation of `voucher` at `now` with `counter`.
    pub fn present(&self, voucher: &Voucher, now: u64, counter: u32) -> Presentation {
        must(Presentation::present(&self.holder, voucher, now, counter))
    }

    /// The merchant's offline context with the default policy and these extensions.
    pub fn context<'a>(&'a self, extensions: &'a [VerifiedExpiryExtension]) -> OfflineContext<'a> {
        OfflineContext {
            merchant: &self.merchant,
            trust: &self.trust,
            revocations: &self.revocations,
            extensions,
            policy: OfflinePolicy::default(),
        }
    }

    /// An extension signed by the fixture platform, verified against the trust list.
    pub fn extension(&self, extension: &ExpiryExtension) -> VerifiedExpiryExtension {
        must(VerifiedExpiryExtension::from_bytes(&must(extension.sign(&self.platform)), &self.trust))
    }

    /// A receipt (receipt id `[0xb0, n, …]`) for the bearer voucher with id `[n; 16]`, at [`NOW`].
    pub fn receipt_for_bearer(&self, n: u8) -> RedemptionReceipt {
        let mut id = [n; 16];
        id[0] = 0xb0;
        RedemptionReceipt::sign(Scanned::Voucher(self.bearer(n)), &self.merchant, NOW, ReceiptId(id))
    }

    /// A receipt (receipt id `[0xd0, n, …]`) for the holder-bound voucher with id `[n; 16]` scanned
    /// without its presentation, at [`NOW`]: the merchant signed it, but nothing proves the holder.
    pub fn receipt_for_holder_bound_voucher(&self, n: u8) -> RedemptionReceipt {
        let mut id = [n; 16];
        id[0] = 0xd0;
        RedemptionReceipt::sign(Scanned::Voucher(self.holder_bound(n)), &self.merchant, NOW, ReceiptId(id))
    }

    /// A receipt (receipt id `[0xc0, counter…]`) for a presentation with `counter` of the
    /// holder-bound voucher with id `[100; 16]`, at [`NOW`].
    pub fn receipt_for_presentation(&self, counter: u32) -> RedemptionReceipt {
        let mut id = [0; 16];
        id[0] = 0xc0;
        id[1..5].copy_from_slice(&counter.to_le_bytes());
        let presentation = self.present(&self.holder_bound(100), NOW, counter);
        RedemptionReceipt::sign(Scanned::Presentation(presentation), &self.merchant, NOW, ReceiptId(id))
    }
}

/// Signs `list` with `root` and verifies it against `root`'s public key.
pub fn verified_trust(list: &TrustList, root: &DeviceKey) -> VerifiedTrustList {
    must(VerifiedTrustList::from_bytes(&must(list.sign(root)), &root.public()))
}

/// Unwraps a fixture result, panicking with the error: fixtures are built from valid data.
pub fn must<T, E: core::fmt::Debug>(result: Result<T, E>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("fixture: {error:?}"),
    }
}

/// What the verification benches measure: a presentation and a bearer voucher as scanned text,
/// and the presentation's two signatures as prepared messages (the `verify_strict` floor).
#[derive(Debug, Clone)]
pub struct VerificationInputs {
    /// A holder-bound voucher's presentation, as QR text.
    pub presentation_text: String,
    /// A bearer voucher, as QR text.
    pub bearer_text: String,
    /// The issuer's signature over the presented voucher.
    pub issuer_signed: SignedMessage,
    /// The holder's signature over the presentation.
    pub holder_signed: SignedMessage,
}

impl Fixture {
    /// The benches' inputs, all valid at [`NOW`] in [`Fixture::context`].
    pub fn verification_inputs(&self) -> VerificationInputs {
        let voucher = self.holder_bound(1);
        let presentation = self.present(&voucher, NOW, 1);
        VerificationInputs {
            presentation_text: presentation.to_qr_text(),
            bearer_text: self.bearer(2).to_qr_text(),
            issuer_signed: voucher.issuer_signed(self.issuer.public()),
            holder_signed: must(presentation.holder_signed()),
        }
    }
}

/// `baseline` and `subject` timed against each other for the benches (native and wasm).
#[derive(Debug, Clone, Copy)]
pub struct Interleaved {
    /// Rounds run (each times one batch of each).
    pub rounds: usize,
    /// Calls of `baseline` per second, by its fastest batch.
    pub baseline_per_sec: f64,
    /// Calls of `subject` per second, by its fastest batch.
    pub subject_per_sec: f64,
    /// Time per `subject` call over time per `baseline` call: the median over rounds of the
    /// ratio within each round, whose two batches ran back to back under the same load.
    pub ratio: f64,
}

/// Times `baseline` and `subject` in alternating batches (ABBA order) with `clock` (seconds,
/// monotonic). Other processes on a shared machine only ever add time, so each rate is estimated
/// by its fastest batch, the least disturbed one; the ratio pairs the two batches of each round,
/// which ran under the same load, and takes the median, which one disturbed batch cannot move.
pub fn interleaved(clock: impl Fn() -> f64, rounds: usize, batch: u32, baseline: impl Fn(), subject: impl Fn()) -> Interleaved {
    let time = |f: &dyn Fn()| {
        let start = clock();
        for _ in 0..batch {
            f();
        }
        (clock() - start) / f64::from(batch)
    };
    let (mut fastest_baseline, mut fastest_subject) = (f64::INFINITY, f64::INFINITY);
    let mut ratios = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let (b, s) = if round % 2 == 0 {
            let b = time(&baseline);
            (b, time(&subject))
        } else {
            let s = time(&subject);
            (time(&baseline), s)
        };
        fastest_baseline = fastest_baseline.min(b);
        fastest_subject = fastest_subject.min(s);
        ratios.push(s / b);
    }
    ratios.sort_by(f64::total_cmp);
    Interleaved {
        rounds,
        baseline_per_sec: 1.0 / fastest_baseline,
        subject_per_sec: 1.0 / fastest_subject,
        ratio: ratios.get(rounds / 2).copied().unwrap_or(f64::NAN),
    }
}
