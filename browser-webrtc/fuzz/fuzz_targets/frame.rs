//! Data-channel bytes from a peer: the frame decoder at every chunking and the stream state
//! machine never panic; buffering stays within one frame; decoded frames re-encode losslessly.
#![no_main]

use std::time::Duration;

use browser_webrtc::framing::{Decoder, MAX_FRAME_LEN, StreamState, decode_body, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, bytes)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let mut decoder = Decoder::new();
    let mut state = StreamState::new(Duration::from_secs(10));
    if chunk % 2 == 0 {
        state.close_write(Duration::ZERO);
    }
    'outer: for mut piece in bytes.chunks(chunk) {
        loop {
            match decoder.decode(&mut piece) {
                Ok(Some(frame)) => {
                    let again = encode(&frame).expect("a decoded frame fits");
                    assert!(again.len() <= MAX_FRAME_LEN);
                    let body_start = again.len() - decode_len(&again);
                    assert_eq!(decode_body(&again[body_start..]).ok(), Some(frame.clone()));
                    if state.handle_frame(frame).is_err() {
                        state.reset();
                    }
                    while state.poll_transmit().is_some() {}
                }
                Ok(None) => break,
                Err(_) => break 'outer,
            }
            assert!(decoder.buffered() <= MAX_FRAME_LEN);
        }
    }
    state.handle_timeout(Duration::from_secs(11));
    let _ = state.should_close_channel();
});

/// Length of the body after a 1- or 2-byte prefix.
fn decode_len(frame: &[u8]) -> usize {
    if frame[0] & 0x80 == 0 { usize::from(frame[0]) } else { usize::from(frame[0] & 0x7f) | usize::from(frame[1]) << 7 }
}
