//! Redemption receipt decoder: never panics; whatever decodes re-encodes to the input.
#![no_main]

use crypto::receipt::RedemptionReceipt;
use crypto::testing::Fixture;
use libfuzzer_sys::fuzz_target;

static FIXTURE: std::sync::LazyLock<Fixture> = std::sync::LazyLock::new(Fixture::new);

fuzz_target!(|data: &[u8]| {
    if let Ok(receipt) = RedemptionReceipt::from_bytes(data) {
        assert_eq!(receipt.to_bytes(), data);
        let _ = receipt.verify(&FIXTURE.trust);
    }
});
