//! `Frame::decode` on untrusted bytes: never panics, and accepts only canonical encodings.
#![no_main]

use chat_sync::Frame;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = Frame::decode(data) {
        assert_eq!(frame.encode().ok().as_deref(), Some(data));
    }
});
