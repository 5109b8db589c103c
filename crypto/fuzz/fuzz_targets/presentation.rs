//! Presentation decoder: never panics; whatever decodes is canonical and re-encodes to the input.
#![no_main]

use crypto::presentation::Presentation;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(presentation) = Presentation::from_bytes(data) {
        assert_eq!(presentation.to_bytes(), data);
        assert_eq!(Presentation::from_qr_text(&presentation.to_qr_text()).as_ref(), Ok(&presentation));
        let _ = presentation.verify_holder();
    }
});
