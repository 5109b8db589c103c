//! The whole offline entry point on scanned text (prefix, Base45, both decoders, every check,
//! the memory ledger): never panics, and whatever it accepts is canonical QR text.
#![no_main]

use crypto::ledger::MemoryLedger;
use crypto::presentation::Scanned;
use crypto::testing::{Fixture, NOW, block_on};
use libfuzzer_sys::fuzz_target;

static FIXTURE: std::sync::LazyLock<Fixture> = std::sync::LazyLock::new(Fixture::new);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(scanned) = Scanned::from_qr_text(text) {
        let again = match &scanned {
            Scanned::Voucher(voucher) => voucher.to_qr_text(),
            Scanned::Presentation(presentation) => presentation.to_qr_text(),
        };
        assert_eq!(again, text);
    }
    let _ = block_on(crypto::verify_offline(text, &FIXTURE.context(&[]), &MemoryLedger::new(), NOW));
});
