//! Expiry extension decoder and platform-signature check: never panics.
#![no_main]

use crypto::extension::VerifiedExpiryExtension;
use crypto::testing::Fixture;
use libfuzzer_sys::fuzz_target;

static FIXTURE: std::sync::LazyLock<Fixture> = std::sync::LazyLock::new(Fixture::new);

fuzz_target!(|data: &[u8]| {
    if let Ok(extension) = VerifiedExpiryExtension::from_bytes(data, &FIXTURE.trust) {
        assert_eq!(extension.to_bytes(), data);
    }
});
