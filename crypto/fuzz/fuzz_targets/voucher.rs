//! GV1 voucher decoder: never panics; whatever decodes is canonical and re-encodes to the input.
#![no_main]

use crypto::testing::Fixture;
use crypto::voucher::Voucher;
use libfuzzer_sys::fuzz_target;

static FIXTURE: std::sync::LazyLock<Fixture> = std::sync::LazyLock::new(Fixture::new);

fuzz_target!(|data: &[u8]| {
    if let Ok(voucher) = Voucher::from_bytes(data) {
        assert_eq!(voucher.to_bytes(), data);
        assert_eq!(Voucher::from_qr_text(&voucher.to_qr_text()).as_ref(), Ok(&voucher));
        let _ = voucher.verify_issuer(&FIXTURE.issuer.public());
    }
});
