//! The device key's backup ([`wallet::backup`]) as the user meets it: made from the stored key
//! under a passphrase typed twice; opened on another device, and stored there in place of its
//! own key only once the user has confirmed.

use crypto::keys::DeviceKey;
use gloo::timers::future::TimeoutFuture;
use rand_core::OsRng;
use store_indexeddb::IdbStore;
use wallet::IdentityStore;
use wallet::backup::{BackupError, export_backup, import_backup};

use crate::device::StorageProblem;

/// Why a backup could not be made, opened or restored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupProblem {
    /// The two passphrases typed for a new backup differ.
    Mismatch,
    /// The backup format refused it (wrong passphrase, damaged text, ...).
    Backup(BackupError),
    /// The device's storage failed.
    Storage(StorageProblem),
}

impl From<BackupError> for BackupProblem {
    fn from(error: BackupError) -> Self {
        BackupProblem::Backup(error)
    }
}

impl From<chat::StoreError> for BackupProblem {
    fn from(error: chat::StoreError) -> Self {
        BackupProblem::Storage(error.into())
    }
}

/// The backup text of the stored device key.
pub async fn create(store: &IdbStore, passphrase: &str, repeated: &str) -> Result<String, BackupProblem> {
    if passphrase != repeated {
        return Err(BackupProblem::Mismatch);
    }
    let key = store
        .device_key()
        .await?
        .ok_or_else(|| BackupProblem::Storage(StorageProblem::Unavailable("no device key".into())))?;
    let_the_page_paint().await;
    Ok(export_backup(&key, passphrase, &mut OsRng)?)
}

/// The key in backup `text`; nothing is stored yet.
pub async fn open(text: &str, passphrase: &str) -> Result<DeviceKey, BackupProblem> {
    let_the_page_paint().await;
    Ok(import_backup(text, passphrase)?)
}

/// Stores `key` as this device's key, in place of the current one. The caller reloads the app,
/// so that everything holding the old key (the network identity) starts again with this one.
pub async fn restore(store: &IdbStore, key: DeviceKey) -> Result<(), BackupProblem> {
    Ok(store.replace_device_key(key).await?)
}

/// The key derivation (Argon2id over 19 MiB) holds the page's only thread for a while: yield
/// once first, so the "working" state the caller just set is on screen meanwhile.
async fn let_the_page_paint() {
    TimeoutFuture::new(0).await;
}
