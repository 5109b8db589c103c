//! This device's storage and identity: opens the IndexedDB database, asks the browser to keep
//! it, and loads the device key (creating it on first start).

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
        /// Whether the browser promised not to evict the data under storage pressure.
        persistent: bool,
    },
    /// Storage cannot be used.
    Failed(StorageProblem),
}

/// Opens the device's storage and identity in the background; returns the status signal.
pub fn start() -> ReadSignal<DeviceStatus> {
    let (status, set_status) = signal(DeviceStatus::Opening);
    leptos::task::spawn_local(async move {
        let persistent = request_persistence().await;
        set_status.set(match open_identity().await {
            Ok(fingerprint) => DeviceStatus::Ready {
                fingerprint,
                persistent,
            },
            Err(error) => DeviceStatus::Failed(error.into()),
        });
    });
    status
}

async fn open_identity() -> Result<String, StoreError> {
    let store = IdbStore::open(DATABASE).await?;
    let key = wallet::load_or_create_identity(&store, &mut OsRng).await?;
    Ok(wallet::fingerprint(&key.public()))
}
