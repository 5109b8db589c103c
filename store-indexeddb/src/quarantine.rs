//! Records that cannot be read, kept raw instead of dropped: an unreadable old message met by
//! the v3 upgrade, a segment that no longer decodes when a message must go into its range. The
//! database stays usable (the upgrade completes, new messages are stored) and the bytes stay on
//! the device for a later repair or report ([`IdbStore::quarantined`]).
//!
//! `quarantine` (since v3) is keyed by an increasing number; each value is `{s, k, v}`: the
//! store the record was in, its key there, and its value as it was.

use chat::StoreError;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use wasm_bindgen::JsValue;
use web_sys::IdbObjectStore;

use crate::db::{IdbStore, backend, js_error, object};

pub(crate) const QUARANTINE: &str = "quarantine";

/// Moves the record `value` under `key` out of `from` into `quarantine`. Both requests are
/// made, not awaited: they complete in order within the caller's transaction, and a failed
/// one aborts it.
pub(crate) fn set_aside(
    from: &IdbObjectStore,
    quarantine: &IdbObjectStore,
    key: &JsValue,
    value: &JsValue,
) -> Result<(), StoreError> {
    let kept = object(&[("s", &JsValue::from_str(&from.name())), ("k", key), ("v", value)])?;
    quarantine.add(&kept).map_err(js_error)?;
    from.delete(key).map_err(js_error)?;
    Ok(())
}

impl IdbStore {
    /// How many unreadable records were set aside, so that the app can tell the user.
    pub async fn quarantined(&self) -> Result<u32, StoreError> {
        let tx = self.transaction(&[QUARANTINE], TransactionMode::Readonly)?;
        let count = tx.store(QUARANTINE)?.count().primitive().map_err(backend)?.await.map_err(backend)?;
        Ok(count)
    }
}
