//! Offline verification cost against its floor, and the QR figures.
//!
//! - `verify_strict/two_calls`: the two `verify_strict` calls a presentation needs (issuer over
//!   the voucher body, holder over the statement) on messages prepared in advance
//!   (`SignedMessage`, the exact bytes `verify_offline` verifies): the floor. `verify_strict/one_call` is one of them.
//! - `full_offline_verification/presentation`: `verify_offline` on the presentation's QR text
//!   (Base45, decoding, both signatures, every check, the memory ledger). Target: within 10% of
//!   `two_calls`. `full_offline_verification/bearer` is the one-signature case, and
//!   `full_offline_verification/decode_only` is the presentation's parsing alone (Base45,
//!   postcard, canonicity, and decompressing and checking the holder key).
//!
//! Non-timing figures (QR text length and QR version at level M for a bearer voucher, a
//! holder-bound voucher and a presentation) are printed and written as JSON to
//! `$CARGO_TARGET_DIR/bench-figures/crypto.json` (default `target/` of the workspace). The file
//! also holds `interleaved_timing`: full verification against two `verify_strict` calls timed in
//! alternating batches, each estimated by its fastest batch, so the ratio stays meaningful on a
//! shared machine whose load changes between criterion's (sequential) benchmarks.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use crypto::ledger::MemoryLedger;
use crypto::testing::{Fixture, Interleaved, NOW, VerificationInputs, block_on, interleaved};
use crypto::verify_offline;

fn bench(c: &mut Criterion) {
    let fixture = Fixture::new();
    let VerificationInputs { presentation_text: text, bearer_text, issuer_signed, holder_signed } =
        fixture.verification_inputs();
    assert_eq!(issuer_signed.verify_strict(), Ok(()), "baseline issuer message");
    assert_eq!(holder_signed.verify_strict(), Ok(()), "baseline holder message");
    let context = fixture.context(&[]);
    let ledger = MemoryLedger::new();
    assert!(block_on(verify_offline(&text, &context, &ledger, NOW)).is_ok());
    assert!(block_on(verify_offline(&bearer_text, &context, &ledger, NOW)).is_ok());

    let mut group = c.benchmark_group("verify_strict");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_call", |b| b.iter(|| black_box(&issuer_signed).verify_strict()));
    group.bench_function("two_calls", |b| {
        b.iter(|| (black_box(&issuer_signed).verify_strict(), black_box(&holder_signed).verify_strict()))
    });
    group.finish();

    let mut group = c.benchmark_group("full_offline_verification");
    group.throughput(Throughput::Elements(1));
    group.bench_function("presentation", |b| {
        b.iter(|| block_on(verify_offline(black_box(&text), &context, &ledger, NOW)).map(|accepted| accepted.redeemed_at()))
    });
    group.bench_function("decode_only", |b| b.iter(|| crypto::presentation::Scanned::from_qr_text(black_box(&text))));
    group.bench_function("bearer", |b| {
        b.iter(|| block_on(verify_offline(black_box(&bearer_text), &context, &ledger, NOW)).map(|accepted| accepted.redeemed_at()))
    });
    group.finish();

    let start = std::time::Instant::now();
    let interleaved = interleaved(
        || start.elapsed().as_secs_f64(),
        600,
        8,
        || {
            let _ = black_box((black_box(&issuer_signed).verify_strict(), black_box(&holder_signed).verify_strict()));
        },
        || {
            let _ = black_box(block_on(verify_offline(black_box(&text), &context, &ledger, NOW)).map(|a| a.redeemed_at()));
        },
    );
    write_figures(&fixture, &interleaved);
}

fn qr_version(text: &str) -> i16 {
    match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M).map(|code| code.version()) {
        Ok(qrcode::Version::Normal(version)) => version,
        other => panic!("no normal QR version for {text}: {other:?}"),
    }
}

fn write_figures(fixture: &Fixture, interleaved: &Interleaved) {
    let holder_bound = fixture.holder_bound(1);
    let figures = [
        ("bearer_voucher", fixture.bearer(2).to_bytes().len(), fixture.bearer(2).to_qr_text()),
        ("holder_bound_voucher", holder_bound.to_bytes().len(), holder_bound.to_qr_text()),
        ("presentation", fixture.present(&holder_bound, NOW, 1).to_bytes().len(), fixture.present(&holder_bound, NOW, 1).to_qr_text()),
    ];
    let entries: Vec<String> = figures
        .iter()
        .map(|(name, bytes, text)| {
            format!(
                "    \"{name}\": {{ \"bytes\": {bytes}, \"qr_text_chars\": {}, \"qr_version_level_m\": {} }}",
                text.len(),
                qr_version(text)
            )
        })
        .collect();
    let json = format!(
        "{{\n  \"qr\": {{\n{}\n  }},\n  \"presentation_qr_target_chars\": 320,\n  \"interleaved_timing\": {{ \"rounds\": {}, \
         \"two_verify_strict_calls_per_sec\": {:.0}, \"full_verifications_per_sec\": {:.0}, \"ratio_full_to_two_verify_strict\": {:.4} }}\n}}\n",
        entries.join(",\n"),
        interleaved.rounds,
        interleaved.baseline_per_sec,
        interleaved.subject_per_sec,
        interleaved.ratio,
    );
    println!("crypto bench figures:\n{json}");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("bench-figures");
    std::fs::create_dir_all(&dir).expect("create bench-figures directory");
    std::fs::write(dir.join("crypto.json"), json).expect("write crypto.json");
}

criterion_group!(benches, bench);
criterion_main!(benches);
