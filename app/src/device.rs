//! This device's storage and identity: opens the IndexedDB database, asks the browser to keep
//! it, and loads the device key (creating it on first start). The open database is then
//! [`DeviceStore`], for the services that read and write the device's data.

use chat::StoreError;
use leptos::prelude::*;
use rand_core::OsRng;
use store_indexeddb::{IdbStore, is_storage_full, request_persistence};

/// The database every store of this device lives in.
pub const DATABASE: &str = "om-device";

/// Why the device's storage cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageProblem {
    /// The disk or the origin's quota is full; nothing was half-written.
    Full,
    /// IndexedDB failed or is missing (a private window may block it).
    Unavailable(String),
}

impl From<StoreError> for StorageProblem {
    fn from(error: StoreError) -> Self {
        if is_storage_full(&error) {
            StorageProblem::Full
        } else {
            StorageProblem::Unavailable(error.to_string())
        }
    }
}

/// What the app knows about this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceStatus {
    /// The database is opening.
    Opening,
    /// Storage works and the identity is loaded.
    Ready {
        /// Short fingerprint of the device's public key.
        fingerprint: String,
        /// The public key as others add it ([`wallet::contact_key_text`]).
        contact_key: String,
        /// Whether the browser promised not to evict the data under storage pressure.
        persistent: bool,
    },
    /// Storage cannot be used.
    Failed(StorageProblem),
}

/// The device's open database, once [`start`] has opened it (`None` before, or if it failed).
/// IndexedDB handles are not `Send`, so it is kept in local storage of the reactive system.
#[derive(Debug, Clone, Copy)]
pub struct DeviceStore(StoredValue<Option<IdbStore>, LocalStorage>);

impl DeviceStore {
    /// The open database.
    pub fn get(self) -> Option<IdbStore> {
        self.0.get_value()
    }
}

/// Opens the device's storage and identity in the background; returns the status signal, and
/// provides the [`DeviceStore`] as context.
pub fn start() -> ReadSignal<DeviceStatus> {
    let (status, set_status) = signal(DeviceStatus::Opening);
    let store = StoredValue::new_local(None);
    provide_context(DeviceStore(store));
    leptos::task::spawn_local(async move {
        let persistent = request_persistence().await;
        set_status.set(match open_identity().await {
            Ok((opened, fingerprint, contact_key)) => {
                store.set_value(Some(opened));
                DeviceStatus::Ready {
                    fingerprint,
                    contact_key,
                    persistent,
                }
            }
            Err(error) => DeviceStatus::Failed(error.into()),
        });
    });
    status
}

/// The open database, and the device key's fingerprint and contact key text.
async fn open_identity() -> Result<(IdbStore, String, String), StoreError> {
    let store = IdbStore::open(DATABASE).await?;
    let key = wallet::load_or_create_identity(&store, &mut OsRng).await?.public();
    Ok((store, wallet::fingerprint(&key), wallet::contact_key_text(&key)))
}
