//! The people this device can talk to: added by the contact key they hand out (Settings shows
//! one's own), with a name of the user's choosing, and kept in the device's contacts store.

use chat::{Contact, ContactStore};
use store_indexeddb::IdbStore;
use wallet::{ContactKeyError, parse_contact_key};

use crate::device::StorageProblem;

/// The longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Why a contact was not added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactProblem {
    /// The key text is not a usable contact key.
    Key(ContactKeyError),
    /// The name is empty or longer than [`MAX_NAME_CHARS`].
    Name,
    /// The contact could not be stored.
    Storage(StorageProblem),
}

/// Adds (or renames) the contact with this key text and name.
pub async fn add(store: &IdbStore, key_text: &str, name: &str) -> Result<Contact, ContactProblem> {
    let key = parse_contact_key(key_text).map_err(ContactProblem::Key)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ContactProblem::Name);
    }
    let contact = Contact {
        key,
        name: name.to_owned(),
        addresses: vec![],
    };
    store
        .put_contact(contact.clone())
        .await
        .map_err(|e| ContactProblem::Storage(e.into()))?;
    Ok(contact)
}

/// Every contact, by name.
pub async fn list(store: &IdbStore) -> Result<Vec<Contact>, StorageProblem> {
    let mut contacts = store.contacts().await?;
    contacts.sort_by(|a, b| a.name.cmp(&b.name).then(a.key.to_bytes().cmp(&b.key.to_bytes())));
    Ok(contacts)
}
