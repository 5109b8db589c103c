//! Trust list decoder and root-signature check: never panics.
#![no_main]

use crypto::testing::Fixture;
use crypto::trust::VerifiedTrustList;
use libfuzzer_sys::fuzz_target;

static FIXTURE: std::sync::LazyLock<Fixture> = std::sync::LazyLock::new(Fixture::new);

fuzz_target!(|data: &[u8]| {
    if let Ok(list) = VerifiedTrustList::from_bytes(data, &FIXTURE.root.public()) {
        assert_eq!(list.to_bytes(), data);
    }
});
