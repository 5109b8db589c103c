//! Offline verification cost against its floor, and the QR figures.
//!
//! - `verify_strict/two_calls`: the two raw `ed25519_dalek::VerifyingKey::verify_strict` calls a
//!   presentation needs (issuer over the voucher body, holder over the statement), on the exact
//!   messages `verify_offline` verifies: the floor. `verify_strict/one_call` is one of them.
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
use crypto::keys::Context;
use crypto::ledger::MemoryLedger;
use crypto::testing::{Fixture, NOW, block_on};
use crypto::verify_offline;
use sha2::{Digest as _, Sha256};

fn varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push(0x80 | (value & 0x7f) as u8);
        value >>= 7;
    }
    out.push(value as u8);
}

/// `context || message`, the bytes a signature covers.
fn signed_message(context: Context, message: &[u8]) -> Vec<u8> {
    [context.as_bytes(), message].concat()
}

fn signature(encoding: &[u8]) -> ed25519_dalek::Signature {
    let bytes: [u8; 64] = encoding[encoding.len() - 64..].try_into().expect("64 bytes");
    ed25519_dalek::Signature::from_bytes(&bytes)
}

fn bench(c: &mut Criterion) {
    let fixture = Fixture::new();
    let voucher = fixture.holder_bound(1);
    let presentation = fixture.present(&voucher, NOW, 1);
    let text = presentation.to_qr_text();
    let bearer_text = fixture.bearer(2).to_qr_text();

    let issuer = *fixture.issuer.public().as_dalek();
    let holder = *fixture.holder.public().as_dalek();
    let body = signed_message(Context::VOUCHER, &voucher.to_bytes()[..voucher.to_bytes().len() - 64]);
    let issuer_signature = signature(voucher.to_bytes());
    let mut statement = vec![1];
    statement.extend_from_slice(&Sha256::digest(voucher.to_bytes()));
    varint(presentation.time_step(), &mut statement);
    varint(u64::from(presentation.counter()), &mut statement);
    let statement = signed_message(Context::PRESENTATION, &statement);
    let holder_signature = signature(presentation.to_bytes());
    assert!(issuer.verify_strict(&body, &issuer_signature).is_ok(), "baseline issuer message");
    assert!(holder.verify_strict(&statement, &holder_signature).is_ok(), "baseline holder message");

    let context = fixture.context(&[]);
    let ledger = MemoryLedger::new();
    assert!(block_on(verify_offline(&text, &context, &ledger, NOW)).is_ok());
    assert!(block_on(verify_offline(&bearer_text, &context, &ledger, NOW)).is_ok());

    let mut group = c.benchmark_group("verify_strict");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_call", |b| b.iter(|| issuer.verify_strict(black_box(&body), &issuer_signature)));
    group.bench_function("two_calls", |b| {
        b.iter(|| {
            (
                issuer.verify_strict(black_box(&body), &issuer_signature),
                holder.verify_strict(black_box(&statement), &holder_signature),
            )
        })
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

    let interleaved = interleaved(
        || {
            let _ = black_box((
                issuer.verify_strict(black_box(&body), &issuer_signature),
                holder.verify_strict(black_box(&statement), &holder_signature),
            ));
        },
        || {
            let _ = black_box(block_on(verify_offline(black_box(&text), &context, &ledger, NOW)).map(|a| a.redeemed_at()));
        },
    );
    write_figures(&fixture, &interleaved);
}

/// Time per call of `baseline` and `subject`, measured in alternating small batches (ABBA).
/// Other processes on a shared machine only ever add time, so each is estimated by its fastest
/// batch, which is the least disturbed one.
struct Interleaved {
    rounds: usize,
    baseline_per_sec: f64,
    subject_per_sec: f64,
    ratio: f64,
}

fn interleaved(baseline: impl Fn(), subject: impl Fn()) -> Interleaved {
    const ROUNDS: usize = 600;
    const BATCH: u32 = 8;
    let time = |f: &dyn Fn()| {
        let start = std::time::Instant::now();
        for _ in 0..BATCH {
            f();
        }
        start.elapsed().as_secs_f64() / f64::from(BATCH)
    };
    let (mut fastest_baseline, mut fastest_subject) = (f64::INFINITY, f64::INFINITY);
    for round in 0..ROUNDS {
        let (b, s) = if round % 2 == 0 {
            let b = time(&baseline);
            (b, time(&subject))
        } else {
            let s = time(&subject);
            (time(&baseline), s)
        };
        fastest_baseline = fastest_baseline.min(b);
        fastest_subject = fastest_subject.min(s);
    }
    Interleaved {
        rounds: ROUNDS,
        baseline_per_sec: 1.0 / fastest_baseline,
        subject_per_sec: 1.0 / fastest_subject,
        ratio: fastest_subject / fastest_baseline,
    }
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
