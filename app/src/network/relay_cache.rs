//! The last relay directory read from the platform, kept in localStorage, so that after a reload
//! while the platform is down the app still tries the relays it knew (DESIGN.md: known relays
//! are cached). A setting-sized record, not user data: localStorage suffices.

use super::relays::{Directory, DirectoryError, MAX_DIRECTORY_LEN, parse_directory};
use crate::platform_client::js_message;

/// Where the directory is kept; the suffix is the format's version.
pub const STORAGE_KEY: &str = "om.relay-directory.v1";

/// Why the cached directory could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// The browser offers no localStorage (private mode, disabled storage) or refused the write.
    #[error("no storage for the known relays: {0}")]
    Unavailable(String),
    /// The stored text is not a directory (damaged or written by something else).
    #[error("the known relays could not be read: {0}")]
    Damaged(DirectoryError),
}

/// Keeps `directory` as the last one read.
pub fn save(directory: &Directory) -> Result<(), CacheError> {
    let text = directory.to_json();
    if text.len() > MAX_DIRECTORY_LEN {
        return Err(CacheError::Damaged(DirectoryError::TooLarge(text.len())));
    }
    storage()?.set_item(STORAGE_KEY, &text).map_err(|e| CacheError::Unavailable(js_message(&e)))
}

/// The last directory kept, if any.
pub fn load() -> Result<Option<Directory>, CacheError> {
    let stored = storage()?.get_item(STORAGE_KEY).map_err(|e| CacheError::Unavailable(js_message(&e)))?;
    stored.map(|text| parse_directory(&text).map_err(CacheError::Damaged)).transpose()
}

fn storage() -> Result<web_sys::Storage, CacheError> {
    let window = web_sys::window().ok_or_else(|| CacheError::Unavailable("no browser window".to_owned()))?;
    let storage = window.local_storage().map_err(|e| CacheError::Unavailable(js_message(&e)))?;
    storage.ok_or_else(|| CacheError::Unavailable("localStorage is disabled".to_owned()))
}
