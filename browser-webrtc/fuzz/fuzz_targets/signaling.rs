//! Signaling bytes from a peer: the message decoder at every chunking and both state machines
//! never panic; a decoded message re-encodes to a body that decodes to the same message.
#![no_main]

use std::time::Duration;

use browser_webrtc::signaling::{Decoder, Role, Signaling, Timeouts, decode_body, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, bytes)) = data.split_first() else { return };
    let chunk = usize::from(chunk).max(1);
    let mut decoder = Decoder::new();
    'outer: for mut piece in bytes.chunks(chunk) {
        loop {
            match decoder.decode(&mut piece) {
                Ok(Some(message)) => {
                    let again = encode(&message).expect("a decoded message fits");
                    let mut prefix_and_body = again.as_slice();
                    let mut check = Decoder::new();
                    assert_eq!(check.decode(&mut prefix_and_body).ok().flatten(), Some(message));
                }
                Ok(None) => break,
                Err(_) => break 'outer,
            }
        }
    }
    let _ = decode_body(bytes);
    for role in [Role::Dialer, Role::Listener] {
        let mut machine = Signaling::new(role, Duration::ZERO, Timeouts::default());
        if role == Role::Dialer {
            machine.handle_offer_created(Duration::ZERO, "v=0\r\n".into());
        }
        for piece in bytes.chunks(chunk) {
            machine.handle_bytes(Duration::from_millis(1), piece);
            machine.handle_remote_description_set(Duration::from_millis(2));
            while machine.poll_output().is_some() {}
        }
    }
});
