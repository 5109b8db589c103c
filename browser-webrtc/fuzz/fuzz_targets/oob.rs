//! Out-of-band blobs from anyone: bytes and text never panic the verifier, and a blob that
//! verifies is exactly the input, with an SDP that reduces to its signed parameters. (The seed
//! corpus holds a genuine offer signed by the key below, so the accepting path is reached.)
#![no_main]

use browser_webrtc::oob::{Blob, Expect, SessionParams, verify};
use crypto::keys::DeviceKey;
use libfuzzer_sys::fuzz_target;

const NOW: u64 = 1_795_000_000;

fn check(blob: &Blob) {
    let key = DeviceKey::from_seed(&[1; 32]).public();
    if let Ok(verified) = verify(blob, &key, Expect::Offer, NOW) {
        assert_eq!(verified.blob(), blob);
        assert_eq!(verified.signer(), key);
        assert_eq!(SessionParams::from_sdp(&verified.sdp()).as_ref(), Ok(verified.session()));
    }
}

fuzz_target!(|data: &[u8]| {
    check(&Blob::from_bytes(data.to_vec()));
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(blob) = Blob::from_text(text)
    {
        check(&blob);
    }
});
