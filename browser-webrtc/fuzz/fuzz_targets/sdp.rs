//! SDP reduction: never panics, and whatever it accepts rebuilds to an SDP that reduces to the
//! same parameters.
#![no_main]

use browser_webrtc::oob::SessionParams;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(session) = SessionParams::from_sdp(text) {
        assert_eq!(SessionParams::from_sdp(&session.to_sdp(1)).as_ref(), Ok(&session));
    }
});
