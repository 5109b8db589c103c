//! The storage contract: one async function per behaviour that every backend must show, each
//! given a fresh, empty store. Run them all with [`wallet_store_contract_tests!`].

use core::fmt::Display;

use crypto::testing::{Fixture, TestRng, key};
use crypto::voucher::VoucherId;

use crate::{
    CachedList, IdentityStore, ListCache, ListKind, VoucherStore, load_or_create_identity,
};

fn ok<T, E: Display>(result: Result<T, E>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("store error: {error}"),
    }
}

/// The first key created stays the identity: later creations and loads return it.
pub async fn identity_is_created_once<S: IdentityStore>(store: S) {
    assert!(ok(store.device_key().await).is_none());
    let first = ok(load_or_create_identity(&store, &mut TestRng::new(1)).await);
    let again = ok(load_or_create_identity(&store, &mut TestRng::new(2)).await);
    assert_eq!(again.to_seed(), first.to_seed());
    let raced = ok(store.create_device_key(key(9)).await);
    assert_eq!(raced.to_seed(), first.to_seed());
    let loaded = ok(store.device_key().await).map(|k| k.to_seed());
    assert_eq!(loaded, Some(first.to_seed()));
}

/// A replaced identity (an imported backup) is what every later load returns.
pub async fn identity_can_be_replaced<S: IdentityStore>(store: S) {
    ok(store.replace_device_key(key(4)).await);
    assert_eq!(ok(store.device_key().await).map(|k| k.to_seed()), Some(key(4).to_seed()));
    ok(store.replace_device_key(key(5)).await);
    let loaded = ok(load_or_create_identity(&store, &mut TestRng::new(1)).await);
    assert_eq!(loaded.to_seed(), key(5).to_seed());
}

/// Vouchers are added once by id, listed by id, and removed once.
pub async fn vouchers_put_get_list_remove<S: VoucherStore>(store: S) {
    let fixture = Fixture::new();
    let (a, b) = (fixture.holder_bound(2), fixture.bearer(1));
    assert!(ok(store.put_voucher(&a).await));
    assert!(ok(store.put_voucher(&b).await));
    assert!(!ok(store.put_voucher(&a).await));
    assert_eq!(ok(store.voucher(a.id()).await), Some(a.clone()));
    assert_eq!(ok(store.voucher(VoucherId([0xab; 16])).await), None);
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort_by_key(|v| v.id());
    assert_eq!(ok(store.vouchers().await), expected);
    assert!(ok(store.remove_voucher(a.id()).await));
    assert!(!ok(store.remove_voucher(a.id()).await));
    assert_eq!(ok(store.vouchers().await), vec![b]);
}

/// Each kind has its own slot; a later fetch replaces, an earlier one never does.
pub async fn lists_keep_the_latest_fetch_per_kind<S: ListCache>(store: S) {
    let list = |byte: u8, at: u64| CachedList {
        bytes: vec![byte; 3],
        fetched_at_ms: at,
    };
    assert_eq!(ok(store.list(ListKind::Trust).await), None);
    assert!(ok(store.put_list(ListKind::Trust, list(1, 100)).await));
    assert!(ok(store.put_list(ListKind::Revocation, list(2, 50)).await));
    assert!(ok(store.put_list(ListKind::Extensions, list(3, 70)).await));
    assert!(!ok(store.put_list(ListKind::Trust, list(4, 99)).await));
    assert_eq!(ok(store.list(ListKind::Trust).await), Some(list(1, 100)));
    assert!(ok(store.put_list(ListKind::Trust, list(5, 200)).await));
    assert_eq!(ok(store.list(ListKind::Trust).await), Some(list(5, 200)));
    assert_eq!(
        ok(store.list(ListKind::Revocation).await),
        Some(list(2, 50))
    );
    assert_eq!(
        ok(store.list(ListKind::Extensions).await),
        Some(list(3, 70))
    );
}

/// Expands to one test per contract function, each on a fresh store from `$make_store`.
///
/// `wallet_store_contract_tests!(expr)` makes `#[test]` functions run with
/// `crypto::testing::block_on`; `wallet_store_contract_tests!(async #[attr], expr)` makes
/// `async fn`s with that attribute (e.g. `#[wasm_bindgen_test]`), where `expr` may `.await`.
#[macro_export]
macro_rules! wallet_store_contract_tests {
    (@each (async #[$attr:meta], $make_store:expr) $($name:ident),*) => {
        $( #[$attr] async fn $name() { $crate::contract::$name($make_store).await; } )*
    };
    (@each (sync, $make_store:expr) $($name:ident),*) => {
        $( #[test] fn $name() { crypto::testing::block_on($crate::contract::$name($make_store)); } )*
    };
    (@list $mode:tt) => {
        $crate::wallet_store_contract_tests!(@each $mode
            identity_is_created_once,
            identity_can_be_replaced,
            vouchers_put_get_list_remove,
            lists_keep_the_latest_fetch_per_kind);
    };
    (async #[$attr:meta], $make_store:expr) => {
        $crate::wallet_store_contract_tests!(@list (async #[$attr], $make_store));
    };
    ($make_store:expr) => {
        $crate::wallet_store_contract_tests!(@list (sync, $make_store));
    };
}
