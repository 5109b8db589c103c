//! `ICE_CANDIDATE` JSON from a peer: never panics; a parsed candidate re-serialises to JSON that
//! parses to the same candidate.
#![no_main]

use browser_webrtc::signaling::RemoteCandidate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(RemoteCandidate::Candidate(candidate)) = RemoteCandidate::parse(text) {
        assert_eq!(RemoteCandidate::parse(&candidate.to_json()), Ok(RemoteCandidate::Candidate(candidate)));
    }
});
