//! The wasm half of `cargo xtask bench crypto`: the same figures as `benches/verify.rs`, measured
//! in headless Chromium. Built only with the `browser-bench` feature (the normal test run skips
//! it); each figure is one console line `BENCH {json}` that xtask collects.
#![cfg(target_family = "wasm")]

use std::hint::black_box;

use crypto::ledger::MemoryLedger;
use crypto::testing::{Fixture, NOW, VerificationInputs, block_on, interleaved};
use crypto::verify_offline;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    fn console_log(line: &str);
}

fn report(name: &str, value: f64, unit: &str) {
    console_log(&format!(
        "BENCH {{\"name\":\"wasm/{name}\",\"value\":{value:.4},\"unit\":\"{unit}\"}}"
    ));
}

/// Calls of `f` per second over about `seconds`, by the fastest of 10 slices.
fn per_second(seconds: f64, f: impl Fn()) -> f64 {
    let slice = seconds / 10.0;
    let mut best = 0.0_f64;
    for _ in 0..10 {
        let (start, mut calls) = (performance_now(), 0_u32);
        while performance_now() - start < slice * 1000.0 {
            f();
            calls += 1;
        }
        best = best.max(f64::from(calls) / ((performance_now() - start) / 1000.0));
    }
    best
}

#[wasm_bindgen_test]
fn offline_verification_against_two_verify_strict_calls() {
    let fixture = Fixture::new();
    let VerificationInputs { presentation_text: text, bearer_text, issuer_signed, holder_signed } =
        fixture.verification_inputs();
    let context = fixture.context(&[]);
    let ledger = MemoryLedger::new();
    assert!(block_on(verify_offline(&text, &context, &ledger, NOW)).is_ok());

    let two_calls = || {
        let _ = black_box((
            black_box(&issuer_signed).verify_strict(),
            black_box(&holder_signed).verify_strict(),
        ));
    };
    let full = |text: &str| {
        let _ = black_box(
            block_on(verify_offline(black_box(text), &context, &ledger, NOW))
                .map(|a| a.redeemed_at()),
        );
    };
    report(
        "verify_strict_per_second",
        per_second(2.0, || {
            let _ = black_box(black_box(&issuer_signed).verify_strict());
        }),
        "1/s",
    );
    report(
        "full_offline_verification_presentation_per_second",
        per_second(2.0, || full(&text)),
        "1/s",
    );
    report(
        "full_offline_verification_bearer_per_second",
        per_second(2.0, || full(&bearer_text)),
        "1/s",
    );

    let timing = interleaved(
        || performance_now() / 1000.0,
        200,
        32,
        two_calls,
        || full(&text),
    );
    report(
        "interleaved_two_verify_strict_calls_per_second",
        timing.baseline_per_sec,
        "1/s",
    );
    report(
        "interleaved_full_verifications_per_second",
        timing.subject_per_sec,
        "1/s",
    );
    report(
        "interleaved_ratio_full_to_two_verify_strict",
        timing.ratio,
        "ratio",
    );
}
