//! The offline verification entry point: one test per rejection reason, the accepted paths, the
//! record step, time boundaries with clock tolerance, expiry extensions and key-id collisions.

use crypto::extension::ExpiryExtension;
use crypto::keys::DeviceKey;
use crypto::ledger::{Ledger, LedgerEntry, MemoryLedger, OfflineTotals, RecordOutcome};
use crypto::presentation::{Presentation, TIME_STEP_SECS};
use crypto::receipt::{Merchant, MerchantId, ReceiptId, RedemptionReceipt, double_redemption};
use crypto::revocation::{RevocationList, VerifiedRevocationList};
use crypto::testing::{BRAND, DAY, Fixture, NOW, OTHER_BRAND, REVOKED_ID, TestRng, block_on, key, must, verified_trust};
use crypto::trust::{BrandScope, IssuerKey, ListError, TrustList, VerifiedTrustList};
use crypto::verify::{OfflineCap, OfflineContext, RecordError};
use crypto::voucher::{BrandId, Flags, KeyId, Voucher, VoucherId};
use crypto::{AcceptedRedemption, DecodeError, Rejection, verify_offline};

#[cfg(target_family = "wasm")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

fn scan(context: &OfflineContext<'_>, text: &str, ledger: &MemoryLedger, now: u64) -> Result<AcceptedRedemption, Rejection> {
    block_on(verify_offline(text, context, ledger, now))
}

fn check(fixture: &Fixture, text: &str, now: u64) -> Result<AcceptedRedemption, Rejection> {
    scan(&fixture.context(&[]), text, &MemoryLedger::new(), now)
}

fn rejection(result: Result<AcceptedRedemption, Rejection>) -> Rejection {
    match result {
        Ok(accepted) => panic!("accepted {:?}", accepted.voucher()),
        Err(rejection) => rejection,
    }
}

fn record(accepted: AcceptedRedemption, ledger: &mut MemoryLedger, merchant: &Merchant) -> Result<RedemptionReceipt, RecordError> {
    block_on(accepted.record(ledger, merchant, &mut TestRng::new(9)))
}

fn presentation_text(fixture: &Fixture, voucher: &Voucher, at: u64, counter: u32) -> String {
    fixture.present(voucher, at, counter).to_qr_text()
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn bearer_voucher_is_accepted_recorded_and_then_refused() {
    let fixture = Fixture::new();
    let mut ledger = MemoryLedger::new();
    let text = fixture.bearer(1).to_qr_text();
    let accepted = must(scan(&fixture.context(&[]), &text, &ledger, NOW));
    assert_eq!(accepted.voucher(), &fixture.bearer(1));
    let receipt = must(record(accepted, &mut ledger, &fixture.merchant));
    assert_eq!(receipt.verify(&fixture.trust), Ok(()));
    assert_eq!(receipt.redeemed_at(), NOW);
    assert_eq!(RedemptionReceipt::from_bytes(receipt.to_bytes()), Ok(receipt.clone()));
    let again = scan(&fixture.context(&[]), &text, &ledger, NOW + 5);
    assert_eq!(rejection(again), Rejection::AlreadyRedeemed { receipt: receipt.receipt_id() });
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn presentation_is_accepted_and_its_replay_refused() {
    let fixture = Fixture::new();
    let mut ledger = MemoryLedger::new();
    let voucher = fixture.holder_bound(2);
    let text = presentation_text(&fixture, &voucher, NOW, 3);
    let receipt = must(record(must(scan(&fixture.context(&[]), &text, &ledger, NOW)), &mut ledger, &fixture.merchant));
    assert_eq!(receipt.verify(&fixture.trust), Ok(()));
    assert_eq!(block_on(ledger.entry(voucher.id())), Ok(LedgerEntry { redeemed: Some(receipt.receipt_id()), highest_counter: Some(3) }));
    // The same QR again (a screenshot): the counter is not above the one recorded.
    assert_eq!(
        rejection(scan(&fixture.context(&[]), &text, &ledger, NOW + 1)),
        Rejection::ReplayedCounter { seen: 3, presented: 3 }
    );
    // A fresh presentation of a voucher already redeemed here.
    let fresh = presentation_text(&fixture, &voucher, NOW + 1, 4);
    assert_eq!(
        rejection(scan(&fixture.context(&[]), &fresh, &ledger, NOW + 1)),
        Rejection::AlreadyRedeemed { receipt: receipt.receipt_id() }
    );
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn record_refuses_another_merchant_and_a_lost_race() {
    let fixture = Fixture::new();
    let mut ledger = MemoryLedger::new();
    let text = fixture.bearer(1).to_qr_text();
    let first = must(scan(&fixture.context(&[]), &text, &ledger, NOW));
    let second = must(scan(&fixture.context(&[]), &text, &ledger, NOW));
    let impostor = Merchant::new(MerchantId(42), BRAND, key(66));
    assert_eq!(record(first, &mut ledger, &impostor).map(|_| ()), Err(RecordError::WrongMerchant));
    let third = must(scan(&fixture.context(&[]), &text, &ledger, NOW));
    let winner = must(record(third, &mut ledger, &fixture.merchant));
    assert_eq!(record(second, &mut ledger, &fixture.merchant).map(|_| ()), Err(RecordError::AlreadyRedeemed(winner.receipt_id())));
    assert_eq!(block_on(ledger.pending_sync(10)), Ok(vec![winner]));
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn two_merchants_offline_produce_a_provable_double_redemption() {
    let fixture = Fixture::new();
    let other = Merchant::new(MerchantId(43), BRAND, key(44));
    let other_context = OfflineContext { merchant: &other, ..fixture.context(&[]) };
    let voucher = fixture.holder_bound(3);
    let (mut ledger_a, mut ledger_b) = (MemoryLedger::new(), MemoryLedger::new());
    let text_a = presentation_text(&fixture, &voucher, NOW, 1);
    let text_b = presentation_text(&fixture, &voucher, NOW + 40, 2);
    let a = must(record(must(scan(&fixture.context(&[]), &text_a, &ledger_a, NOW)), &mut ledger_a, &fixture.merchant));
    let b = block_on(must(scan(&other_context, &text_b, &ledger_b, NOW + 40)).record(&mut ledger_b, &other, &mut TestRng::new(10)));
    let b = must(b);
    assert_eq!((a.verify(&fixture.trust), b.verify(&fixture.trust)), (Ok(()), Ok(())));
    assert_eq!(double_redemption(&a, &b), Some(voucher.id()));
    assert_eq!(double_redemption(&a, &a), None);
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn every_rejection_is_named() {
    let fixture = Fixture::new();
    let stranger = Fixture { issuer: key(77), ..Fixture::new() };
    let terms = fixture.terms(false);
    let cases: Vec<(&str, String, Rejection)> = vec![
        ("garbage", "GV1:%%%%".into(), Rejection::BadEncoding(DecodeError::Base45Length)),
        ("unknown prefix", "XYZ:00".into(), Rejection::BadEncoding(DecodeError::UnknownPrefix)),
        ("unknown issuer", stranger.bearer(1).to_qr_text(), Rejection::UnknownIssuer),
        (
            "key not valid",
            fixture.voucher(1, crypto::voucher::VoucherTerms { expires_at: NOW + 3 * 365 * DAY, ..terms }).to_qr_text(),
            Rejection::KeyNotValid,
        ),
        (
            "brand outside key scope",
            fixture.voucher(1, crypto::voucher::VoucherTerms { brand: BrandId(9), ..terms }).to_qr_text(),
            Rejection::BrandOutsideKeyScope(BrandId(9)),
        ),
        (
            "wrong brand",
            fixture.voucher(1, crypto::voucher::VoucherTerms { brand: OTHER_BRAND, ..terms }).to_qr_text(),
            Rejection::WrongBrand { voucher: OTHER_BRAND, merchant: BRAND },
        ),
        (
            "not yet valid",
            fixture.voucher(1, crypto::voucher::VoucherTerms { issued_at: NOW + 31, ..terms }).to_qr_text(),
            Rejection::NotYetValid { issued_at: NOW + 31 },
        ),
        (
            "expired",
            fixture.voucher(1, crypto::voucher::VoucherTerms { expires_at: NOW - 31, ..terms }).to_qr_text(),
            Rejection::Expired { expired_at: NOW - 31 },
        ),
        ("revoked", fixture.voucher(0xee, terms).to_qr_text(), Rejection::Revoked),
        ("presentation required", fixture.holder_bound(1).to_qr_text(), Rejection::PresentationRequired),
        ("stale", presentation_text(&fixture, &fixture.holder_bound(1), NOW - 120, 1), Rejection::StalePresentation),
        (
            "online only",
            fixture.voucher(1, crypto::voucher::VoucherTerms { flags: Flags::ONLINE_ONLY, ..terms }).to_qr_text(),
            Rejection::OverOfflineCap(OfflineCap::OnlineOnly),
        ),
        (
            "voucher value",
            fixture.voucher(1, crypto::voucher::VoucherTerms { value: 50_001, ..terms }).to_qr_text(),
            Rejection::OverOfflineCap(OfflineCap::VoucherValue { value: 50_001, max: 50_000 }),
        ),
    ];
    assert_eq!(REVOKED_ID, VoucherId([0xee; 16]));
    for (name, text, expected) in cases {
        assert_eq!(rejection(check(&fixture, &text, NOW)), expected, "{name}");
    }
}

/// Presentation bytes put together by hand, as an attacker would: `version || voucher || step
/// || counter || signature`.
fn forged_presentation(voucher: &Voucher, signature: [u8; 64]) -> String {
    let mut bytes = vec![1];
    bytes.extend_from_slice(voucher.to_bytes());
    let mut step = NOW / TIME_STEP_SECS;
    while step >= 0x80 {
        bytes.push(0x80 | (step & 0x7f) as u8);
        step >>= 7;
    }
    bytes.push(step as u8);
    bytes.push(1);
    bytes.extend_from_slice(&signature);
    format!("GP1:{}", crypto::codec::base45::encode(&bytes))
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn forged_presentations_are_refused() {
    let fixture = Fixture::new();
    assert_eq!(rejection(check(&fixture, &forged_presentation(&fixture.bearer(1), [7; 64]), NOW)), Rejection::NotHolderBound);
    assert_eq!(
        rejection(check(&fixture, &forged_presentation(&fixture.holder_bound(1), [7; 64]), NOW)),
        Rejection::BadHolderSignature
    );
    // The forger's layout is the real one: a genuine signature in it is accepted.
    let genuine = fixture.present(&fixture.holder_bound(1), NOW, 1);
    let signature: [u8; 64] = must(genuine.to_bytes()[genuine.to_bytes().len() - 64..].try_into());
    assert_eq!(forged_presentation(&fixture.holder_bound(1), signature), genuine.to_qr_text());
    // A presentation whose voucher's issuer signature is broken.
    let mut bytes = genuine.to_bytes().to_vec();
    let issuer_signature_byte = 1 + fixture.holder_bound(1).to_bytes().len() - 1;
    bytes[issuer_signature_byte] ^= 1;
    let text = format!("GP1:{}", crypto::codec::base45::encode(&bytes));
    assert_eq!(rejection(check(&fixture, &text, NOW)), Rejection::BadIssuerSignature);
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn revocation_list_must_cover_the_brand_and_be_recent() {
    let fixture = Fixture::new();
    let only_other = RevocationList::new(NOW - 3600, [OTHER_BRAND], []);
    let revocations = must(VerifiedRevocationList::from_bytes(&must(only_other.sign(&fixture.platform)), &fixture.trust));
    let context = OfflineContext { revocations: &revocations, ..fixture.context(&[]) };
    let text = fixture.bearer(1).to_qr_text();
    assert_eq!(rejection(scan(&context, &text, &MemoryLedger::new(), NOW)), Rejection::RevocationListMissingBrand);
    let max = fixture.context(&[]).policy.max_revocation_list_age_secs;
    let age_limit = NOW - 3600 + max;
    assert!(check(&fixture, &text, age_limit).is_ok());
    assert_eq!(
        rejection(check(&fixture, &text, age_limit + 1)),
        Rejection::OverOfflineCap(OfflineCap::RevocationListAge { age: max + 1, max })
    );
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn unsynced_caps_count_this_redemption() {
    let fixture = Fixture::new();
    let mut ledger = MemoryLedger::new();
    let mut context = fixture.context(&[]);
    context.policy.max_unsynced_value = 3 * 4_500;
    context.policy.max_unsynced_count = 2;
    for n in 1..=2 {
        let accepted = must(scan(&context, &fixture.bearer(n).to_qr_text(), &ledger, NOW));
        must(record(accepted, &mut ledger, &fixture.merchant));
    }
    let third = fixture.bearer(3).to_qr_text();
    assert_eq!(rejection(scan(&context, &third, &ledger, NOW)), Rejection::OverOfflineCap(OfflineCap::UnsyncedCount { max: 2 }));
    context.policy.max_unsynced_count = 10;
    context.policy.max_unsynced_value = 3 * 4_500 - 1;
    assert_eq!(
        rejection(scan(&context, &third, &ledger, NOW)),
        Rejection::OverOfflineCap(OfflineCap::UnsyncedValue { total: 3 * 4_500, max: 3 * 4_500 - 1 })
    );
    // Once synced, the totals drop and the cap no longer applies.
    let synced: Vec<ReceiptId> = must(block_on(ledger.pending_sync(10))).iter().map(RedemptionReceipt::receipt_id).collect();
    must(block_on(ledger.mark_synced(&synced)));
    assert_eq!(block_on(ledger.unsynced_totals()), Ok(OfflineTotals::default()));
    assert!(scan(&context, &third, &ledger, NOW).is_ok());
}

struct BrokenLedger;

impl Ledger for BrokenLedger {
    type Error = &'static str;
    async fn entry(&self, _: VoucherId) -> Result<LedgerEntry, &'static str> {
        Err("disk on fire")
    }
    async fn unsynced_totals(&self) -> Result<OfflineTotals, &'static str> {
        Err("disk on fire")
    }
    async fn record(&mut self, _: &RedemptionReceipt) -> Result<RecordOutcome, &'static str> {
        Err("disk on fire")
    }
    async fn pending_sync(&self, _: usize) -> Result<Vec<RedemptionReceipt>, &'static str> {
        Err("disk on fire")
    }
    async fn mark_synced(&mut self, _: &[ReceiptId]) -> Result<(), &'static str> {
        Err("disk on fire")
    }
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn a_failing_ledger_rejects_and_records_nothing() {
    let fixture = Fixture::new();
    let text = fixture.bearer(1).to_qr_text();
    let verdict = block_on(verify_offline(&text, &fixture.context(&[]), &BrokenLedger, NOW));
    assert_eq!(rejection(verdict), Rejection::LedgerUnavailable("disk on fire".into()));
    let accepted = must(check(&fixture, &text, NOW));
    let recorded = block_on(accepted.record(&mut BrokenLedger, &fixture.merchant, &mut TestRng::new(1)));
    assert_eq!(recorded.map(|_| ()), Err(RecordError::Ledger("disk on fire".into())));
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn expiry_and_issue_time_boundaries_with_tolerance() {
    let fixture = Fixture::new();
    let tolerance = fixture.context(&[]).policy.clock_tolerance_secs;
    let terms = crypto::voucher::VoucherTerms { issued_at: NOW, expires_at: NOW + DAY, ..fixture.terms(false) };
    let text = fixture.voucher(1, terms).to_qr_text();
    assert!(check(&fixture, &text, NOW - tolerance).is_ok());
    assert_eq!(rejection(check(&fixture, &text, NOW - tolerance - 1)), Rejection::NotYetValid { issued_at: NOW });
    assert!(check(&fixture, &text, NOW + DAY + tolerance).is_ok());
    assert_eq!(rejection(check(&fixture, &text, NOW + DAY + tolerance + 1)), Rejection::Expired { expired_at: NOW + DAY });
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn presentation_time_step_boundaries_with_tolerance() {
    let fixture = Fixture::new();
    let tolerance = fixture.context(&[]).policy.clock_tolerance_secs;
    let voucher = fixture.holder_bound(1);
    let step_start = NOW / TIME_STEP_SECS * TIME_STEP_SECS + 2 * TIME_STEP_SECS;
    let text = presentation_text(&fixture, &voucher, step_start + 7, 1);
    let step_end = step_start + TIME_STEP_SECS - 1;
    assert!(check(&fixture, &text, step_start - tolerance).is_ok());
    assert_eq!(rejection(check(&fixture, &text, step_start - tolerance - 1)), Rejection::StalePresentation);
    assert!(check(&fixture, &text, step_end + tolerance).is_ok());
    assert_eq!(rejection(check(&fixture, &text, step_end + tolerance + 1)), Rejection::StalePresentation);
    // A screenshot is stale within a minute of the step it was taken in, whatever the offset.
    assert!(step_end + tolerance + 1 - step_start <= 60);
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn expiry_extensions_apply_by_brand_and_window_and_do_not_add_up() {
    let fixture = Fixture::new();
    let expired_at = NOW - 2 * DAY;
    let terms = crypto::voucher::VoucherTerms { expires_at: expired_at, issued_at: NOW - 10 * DAY, ..fixture.terms(false) };
    let text = fixture.voucher(1, terms).to_qr_text();
    let extension = |brands: BrandScope, extra_secs: u64| {
        fixture.extension(&ExpiryExtension {
            issued_at: NOW - DAY,
            brands,
            expiring_from: NOW - 3 * DAY,
            expiring_to: NOW - DAY,
            extra_secs,
        })
    };
    let three_days = extension(BrandScope::Only(vec![BRAND]), 3 * DAY);
    let one_day = extension(BrandScope::Any, DAY);
    let other_brand = extension(BrandScope::Only(vec![OTHER_BRAND]), 20 * DAY);
    let ledger = MemoryLedger::new();
    let with = |extensions: &[crypto::extension::VerifiedExpiryExtension], now| {
        scan(&fixture.context(extensions), &text, &ledger, now)
    };
    assert_eq!(rejection(with(&[], NOW)), Rejection::Expired { expired_at });
    assert_eq!(rejection(with(std::slice::from_ref(&other_brand), NOW)), Rejection::Expired { expired_at });
    assert!(with(std::slice::from_ref(&three_days), NOW).is_ok());
    let both = [one_day.clone(), three_days.clone(), one_day];
    assert!(with(&both, expired_at + 3 * DAY + 30).is_ok());
    assert_eq!(rejection(with(&both, expired_at + 3 * DAY + 31)), Rejection::Expired { expired_at: expired_at + 3 * DAY });
}

/// Seeds `i.to_le_bytes() || [0xa5; 28]` for i = 71225 and 111289 give keys with the same key id
/// `f791545f` (found by a birthday search over i).
fn colliding_keys() -> (DeviceKey, DeviceKey) {
    let seed = |i: u32| {
        let mut seed = [0xa5; 32];
        seed[..4].copy_from_slice(&i.to_le_bytes());
        DeviceKey::from_seed(&seed)
    };
    (seed(71_225), seed(111_289))
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn key_id_collisions_are_resolved_by_trying_each_key() {
    let (first, second) = colliding_keys();
    assert_eq!(KeyId::of(&first.public()), KeyId::of(&second.public()));
    assert_eq!(KeyId::of(&first.public()), KeyId([0xf7, 0x91, 0x54, 0x5f]));
    assert_ne!(first.public(), second.public());
    let fixture = Fixture::new();
    let issuer = |key: &DeviceKey, valid_to| IssuerKey {
        key: key.public(),
        valid_from: NOW - 365 * DAY,
        valid_to,
        brands: BrandScope::Any,
    };
    // The second key's window ends before the vouchers expire: it verifies only its own vouchers,
    // and those then fail the window check.
    let list = TrustList {
        issuers: vec![issuer(&first, NOW + 365 * DAY), issuer(&second, NOW + DAY)],
        ..fixture.trust_list.clone()
    };
    let trust = verified_trust(&list, &fixture.root);
    assert_eq!(trust.issuers_with_kid(KeyId::of(&first.public())).count(), 2);
    let context = OfflineContext { trust: &trust, ..fixture.context(&[]) };
    let ledger = MemoryLedger::new();
    for (n, key, expected) in [(1, &first, Ok(())), (2, &second, Err(Rejection::KeyNotValid))] {
        let voucher = must(Voucher::issue(key, VoucherId([n; 16]), fixture.terms(false)));
        assert_eq!(scan(&context, &voucher.to_qr_text(), &ledger, NOW).map(|_| ()), expected);
    }
    // Listed in the other order, the first key is still found.
    let reversed = TrustList { issuers: list.issuers.iter().rev().cloned().collect(), ..list };
    let trust = verified_trust(&reversed, &fixture.root);
    let context = OfflineContext { trust: &trust, ..fixture.context(&[]) };
    let voucher = must(Voucher::issue(&first, VoucherId([1; 16]), fixture.terms(false)));
    assert!(scan(&context, &voucher.to_qr_text(), &ledger, NOW).is_ok());
    // A colliding key alone does not verify the other's vouchers.
    let only_second = TrustList { issuers: vec![issuer(&second, NOW + 365 * DAY)], ..fixture.trust_list.clone() };
    let trust = verified_trust(&only_second, &fixture.root);
    let context = OfflineContext { trust: &trust, ..fixture.context(&[]) };
    assert_eq!(rejection(scan(&context, &voucher.to_qr_text(), &ledger, NOW)), Rejection::BadIssuerSignature);
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn lists_are_checked_against_the_right_keys() {
    let fixture = Fixture::new();
    let trust_bytes = fixture.trust.to_bytes();
    assert_eq!(VerifiedTrustList::from_bytes(trust_bytes, &key(9).public()), Err(ListError::BadSignature));
    assert_eq!(VerifiedTrustList::from_bytes(trust_bytes, &fixture.root.public()).as_ref(), Ok(&fixture.trust));
    // A revocation list signed by the issuer (not a platform key).
    let by_issuer = must(fixture.revocation_list.sign(&fixture.issuer));
    assert_eq!(VerifiedRevocationList::from_bytes(&by_issuer, &fixture.trust), Err(ListError::BadSignature));
    // Issued when the platform key was not valid.
    let too_early = RevocationList { issued_at: NOW - 400 * DAY, ..fixture.revocation_list.clone() };
    let bytes = must(too_early.sign(&fixture.platform));
    assert_eq!(VerifiedRevocationList::from_bytes(&bytes, &fixture.trust), Err(ListError::SignerNotValid));
    let extension = ExpiryExtension {
        issued_at: NOW,
        brands: BrandScope::Any,
        expiring_from: NOW,
        expiring_to: NOW,
        extra_secs: 32 * DAY,
    };
    assert_eq!(
        extension.sign(&fixture.platform),
        Err(DecodeError::ExtensionTooLong { secs: 32 * DAY, max: crypto::extension::MAX_EXTRA_SECS })
    );
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn presentations_only_by_the_holder_of_a_holder_bound_voucher() {
    use crypto::presentation::PresentationError;
    let fixture = Fixture::new();
    let present = |holder: &DeviceKey, voucher: &Voucher| Presentation::present(holder, voucher, NOW, 1).map(|_| ());
    assert_eq!(present(&fixture.holder, &fixture.bearer(1)), Err(PresentationError::NotHolderBound));
    assert_eq!(present(&key(66), &fixture.holder_bound(1)), Err(PresentationError::WrongHolder));
    assert_eq!(present(&fixture.holder, &fixture.holder_bound(1)), Ok(()));
}
