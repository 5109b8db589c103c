//! Revocation list decoder and platform-signature check: never panics.
#![no_main]

use crypto::revocation::VerifiedRevocationList;
use crypto::testing::Fixture;
use libfuzzer_sys::fuzz_target;

static FIXTURE: std::sync::LazyLock<Fixture> = std::sync::LazyLock::new(Fixture::new);

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = VerifiedRevocationList::from_bytes(data, &FIXTURE.trust) {
        assert_eq!(list.to_bytes(), data);
    }
});
