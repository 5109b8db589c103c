//! Property tests (native only: proptest). The exhaustive bit-flip and boundary tests that also
//! run in wasm are in `tamper.rs` and `verify.rs`.
#![cfg(not(target_family = "wasm"))]

use std::collections::BTreeSet;

use crypto::codec::base45;
use crypto::ledger::MemoryLedger;
use crypto::presentation::{Presentation, Scanned, TIME_STEP_SECS};
use crypto::receipt::RedemptionReceipt;
use crypto::revocation::{RevocationList, RevocationStatus, VerifiedRevocationList};
use crypto::stored_value::{KRW_DENOMINATIONS, choose_payment, split};
use crypto::testing::{BRAND, DAY, Fixture, NOW, block_on, key, must};
use crypto::trust::VerifiedTrustList;
use crypto::voucher::{Flags, Voucher, VoucherId, VoucherTerms};
use crypto::{Rejection, verify_offline};
use proptest::prelude::*;

/// Built once: making a fixture signs and verifies two lists.
static FIXTURE: std::sync::LazyLock<Fixture> = std::sync::LazyLock::new(Fixture::new);

fn terms() -> impl Strategy<Value = VoucherTerms> {
    (any::<u32>(), any::<u32>(), any::<u32>(), any::<u64>(), any::<u64>(), 0u8..4, proptest::option::of(1u8..=255))
        .prop_map(|(sku, brand, value, a, b, flags, holder)| VoucherTerms {
            sku,
            brand: crypto::voucher::BrandId(brand),
            value: if flags & 1 == 1 { value.max(1) } else { value },
            issued_at: a.min(b),
            expires_at: a.max(b),
            flags: must(Flags::from_bits(flags)),
            holder: holder.map(|seed| key(seed).public()),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn vouchers_round_trip_through_bytes_and_qr_text(terms in terms(), id in any::<[u8; 16]>()) {
        let fixture = &*FIXTURE;
        let voucher = must(Voucher::issue(&fixture.issuer, VoucherId(id), terms));
        prop_assert_eq!(Voucher::from_bytes(voucher.to_bytes()), Ok(voucher.clone()));
        let text = voucher.to_qr_text();
        prop_assert!(text.len() <= 4 + base45::encoded_len(crypto::voucher::MAX_VOUCHER_LEN));
        prop_assert!(text.bytes().all(|c| base45::ALPHABET.contains(&c)));
        prop_assert_eq!(Voucher::from_qr_text(&text), Ok(voucher.clone()));
        prop_assert_eq!(voucher.verify_issuer(&fixture.issuer.public()), Ok(()));
        if let Some(holder) = terms.holder {
            let seed = (1..=255u8).find(|&s| key(s).public() == holder);
            let presentation = must(Presentation::present(&key(must(seed.ok_or("seed"))), &voucher, terms.issued_at, 1));
            prop_assert_eq!(Presentation::from_bytes(presentation.to_bytes()), Ok(presentation.clone()));
            prop_assert_eq!(presentation.verify_holder(), Ok(()));
        }
    }

    #[test]
    fn decoders_never_panic_and_accept_only_canonical_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let fixture = &*FIXTURE;
        if let Ok(voucher) = Voucher::from_bytes(&bytes) {
            prop_assert_eq!(voucher.to_bytes(), &bytes[..]);
        }
        if let Ok(presentation) = Presentation::from_bytes(&bytes) {
            prop_assert_eq!(presentation.to_bytes(), &bytes[..]);
        }
        if let Ok(receipt) = RedemptionReceipt::from_bytes(&bytes) {
            prop_assert_eq!(receipt.to_bytes(), &bytes[..]);
        }
        prop_assert!(VerifiedTrustList::from_bytes(&bytes, &fixture.root.public()).is_err());
        prop_assert!(VerifiedRevocationList::from_bytes(&bytes, &fixture.trust).is_err());
    }

    #[test]
    fn mutated_vouchers_never_verify(n in 0u8..=255, edits in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4)) {
        let fixture = &*FIXTURE;
        let original = fixture.holder_bound(n);
        let mut bytes = original.to_bytes().to_vec();
        for (index, mask) in edits {
            bytes[index.index(original.to_bytes().len())] ^= mask;
        }
        let accepted = Voucher::from_bytes(&bytes).is_ok_and(|v| v.verify_issuer(&fixture.issuer.public()).is_ok());
        prop_assert_eq!(accepted, bytes == original.to_bytes());
    }

    #[test]
    fn base45_is_a_bijection(bytes in proptest::collection::vec(any::<u8>(), 0..64), text in "[0-9A-Z $%*+./:-]{0,30}") {
        prop_assert_eq!(base45::decode(&base45::encode(&bytes)), Ok(bytes));
        if let Ok(decoded) = base45::decode(&text) {
            prop_assert_eq!(base45::encode(&decoded), text);
        }
    }

    #[test]
    fn presentations_are_fresh_exactly_within_tolerance(offset in 0u64..4 * TIME_STEP_SECS, delta in -200i64..200, tolerance in 0u64..120) {
        let fixture = &*FIXTURE;
        let made_at = NOW + offset;
        let presentation = fixture.present(&fixture.holder_bound(1), made_at, 1);
        let now = made_at.saturating_add_signed(delta);
        let start = made_at / TIME_STEP_SECS * TIME_STEP_SECS;
        let expected = start <= now + tolerance && now <= start + TIME_STEP_SECS - 1 + tolerance;
        prop_assert_eq!(presentation.is_fresh(now, tolerance), expected);
    }

    #[test]
    fn expiry_holds_through_the_tolerance_and_no_further(expires_in in 0u64..10 * DAY, delta in -100i64..100) {
        let fixture = &*FIXTURE;
        let mut context = fixture.context(&[]);
        // Keep the revocation list's age out of the way: this is about expiry only.
        context.policy.max_revocation_list_age_secs = 30 * DAY;
        let tolerance = context.policy.clock_tolerance_secs;
        let terms = VoucherTerms { issued_at: NOW - DAY, expires_at: NOW + expires_in, ..fixture.terms(false) };
        let text = fixture.voucher(1, terms).to_qr_text();
        let now = (NOW + expires_in + tolerance).saturating_add_signed(delta);
        let verdict = block_on(verify_offline(&text, &context, &MemoryLedger::new(), now));
        if delta > 0 {
            prop_assert_eq!(verdict.map(|_| ()), Err(Rejection::Expired { expired_at: NOW + expires_in }));
        } else {
            prop_assert!(verdict.is_ok());
        }
    }

    #[test]
    fn revocation_lookup_finds_exactly_the_revoked(ids in proptest::collection::btree_set(any::<[u8; 16]>(), 0..40), probe in any::<[u8; 16]>()) {
        let fixture = &*FIXTURE;
        let list = RevocationList::new(NOW, [BRAND], ids.iter().map(|id| (BRAND, VoucherId(*id))));
        let verified = must(VerifiedRevocationList::from_bytes(&must(list.sign(&fixture.platform)), &fixture.trust));
        for id in ids.iter().chain([&probe]) {
            let expected = if ids.contains(id) { RevocationStatus::Revoked } else { RevocationStatus::NotRevoked };
            prop_assert_eq!(verified.status(BRAND, &VoucherId(*id)), expected);
        }
        prop_assert_eq!(verified.status(crypto::voucher::BrandId(99), &VoucherId(probe)), RevocationStatus::BrandNotCovered);
    }

    #[test]
    fn stored_value_splits_exactly_into_denominations(amount in (0u64..2_000).prop_map(|n| n * 100)) {
        let pieces = must(split(amount, &KRW_DENOMINATIONS));
        prop_assert_eq!(pieces.iter().map(|&p| u64::from(p)).sum::<u64>(), amount);
        prop_assert!(pieces.windows(2).all(|w| w[0] >= w[1]));
        // No run of smaller pieces could be one larger piece: the split uses the fewest pieces.
        for pair in KRW_DENOMINATIONS.windows(2) {
            let smaller = pieces.iter().filter(|&&p| p == pair[1]).count() as u64;
            prop_assert!(smaller * u64::from(pair[1]) < u64::from(pair[0]));
        }
    }

    #[test]
    fn payments_are_exact_whenever_some_subset_is(held in proptest::collection::vec(prop::sample::select(KRW_DENOMINATIONS.to_vec()), 0..10), price in 0u64..120_000) {
        let sums: BTreeSet<u64> = (0u32..1 << held.len())
            .map(|mask| held.iter().enumerate().filter(|(i, _)| mask >> i & 1 == 1).map(|(_, &v)| u64::from(v)).sum())
            .collect();
        match choose_payment(&held, price) {
            None => prop_assert!(held.iter().map(|&v| u64::from(v)).sum::<u64>() < price),
            Some(payment) => {
                let unique: BTreeSet<usize> = payment.pieces.iter().copied().collect();
                prop_assert_eq!(unique.len(), payment.pieces.len());
                prop_assert_eq!(payment.pieces.iter().map(|&i| u64::from(held[i])).sum::<u64>(), payment.total);
                prop_assert!(payment.total >= price);
                if sums.contains(&price) {
                    prop_assert_eq!(payment.total, price);
                }
            }
        }
    }
}

#[test]
fn scanned_text_round_trips_for_both_kinds() {
    let fixture = &*FIXTURE;
    let presentation = fixture.present(&fixture.holder_bound(1), NOW, 1);
    assert_eq!(Scanned::from_qr_text(&presentation.to_qr_text()), Ok(Scanned::Presentation(presentation)));
    assert_eq!(Scanned::from_qr_text(&fixture.bearer(1).to_qr_text()), Ok(Scanned::Voucher(fixture.bearer(1))));
}
