//! Storage traits for messages, conversations, contacts and the outbox, and the records they
//! hold.
//!
//! The traits use native `async fn` without a `Send` bound, so that the IndexedDB backend
//! (whose futures are not `Send`) can implement them; the in-memory backend is
//! [`crate::memory::MemoryStore`], and `chat::contract` (feature `testing`) is the behaviour
//! every backend must show. Every method is atomic on its own; the log and outbox are written so that a crash
//! between two calls loses nothing that a later call cannot repair.
//!
//! Records have a version byte and a canonical postcard encoding ([`encode_record`],
//! [`decode_record`], [`StoredMessage::to_bytes`]) for backends that store bytes.
#![allow(async_fn_in_trait)]

use crypto::keys::PublicKey;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::envelope::{ConversationId, Envelope, MessageId, OrderKey};

/// Version byte of every stored record.
pub const RECORD_VERSION: u8 = 1;
/// Largest record (an envelope and its metadata).
pub const MAX_RECORD_LEN: usize = 64 * 1024;

/// A storage failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The backend failed (for IndexedDB: a `DomException`, copied into owned strings).
    #[error("storage backend: {name}: {message}")]
    Backend {
        /// Error name (e.g. `QuotaExceededError`).
        name: String,
        /// Error message.
        message: String,
    },
    /// A stored record does not decode.
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

/// Where a message stands in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageState {
    /// Stored, waiting for parents that are missing or pending; not shown.
    Pending,
    /// All ancestors present and valid: part of the ordered view.
    Delivered,
    /// Breaks a rule against a parent (time not above it, other conversation), or descends
    /// from such a message. Kept so that sync does not fetch it again; never shown.
    Rejected,
}

/// A message in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The verified envelope.
    pub envelope: Envelope,
    /// Pending, delivered or rejected.
    pub state: MessageState,
    /// Delivered below the read marker: shown flagged as a late arrival.
    pub late: bool,
}

impl StoredMessage {
    /// `RECORD_VERSION || state (0 pending, 1 delivered, 2 rejected) || late (0/1) || envelope`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let state = match self.state {
            MessageState::Pending => 0,
            MessageState::Delivered => 1,
            MessageState::Rejected => 2,
        };
        let mut bytes = vec![RECORD_VERSION, state, u8::from(self.late)];
        bytes.extend_from_slice(self.envelope.as_bytes());
        bytes
    }

    /// Decodes [`StoredMessage::to_bytes`]; the envelope's signature is not checked again.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("message record: {what}"));
        match bytes {
            [RECORD_VERSION, state, late, envelope @ ..] => {
                let state = match state {
                    0 => MessageState::Pending,
                    1 => MessageState::Delivered,
                    2 => MessageState::Rejected,
                    _ => return Err(corrupt("state")),
                };
                let late = match late {
                    0 => false,
                    1 => true,
                    _ => return Err(corrupt("late flag")),
                };
                let envelope =
                    Envelope::decode_stored(envelope).map_err(|e| corrupt(&e.to_string()))?;
                Ok(Self {
                    envelope,
                    state,
                    late,
                })
            }
            _ => Err(corrupt("header")),
        }
    }
}

/// A conversation and this device's view of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// Its id.
    pub id: ConversationId,
    /// Device keys allowed to write (the author of a message must be one).
    pub members: Vec<PublicKey>,
    /// Display title.
    pub title: String,
    /// Delivered messages with no delivered child: the next message's parents.
    pub heads: Vec<MessageId>,
    /// Everything at or below this key has been shown to the user.
    pub read_marker: Option<OrderKey>,
}

/// A contact card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Device key (also the libp2p PeerId).
    pub key: PublicKey,
    /// Display name.
    pub name: String,
    /// Known multiaddresses (relays, circuits), as text.
    pub addresses: Vec<String>,
}

/// One message waiting to reach one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The message.
    pub message: MessageId,
    /// Its conversation.
    pub conversation: ConversationId,
    /// Who must acknowledge it.
    pub recipient: PublicKey,
    /// The envelope bytes, sent unchanged on every path and retry.
    pub envelope: Vec<u8>,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not to be sent again before this time (ms).
    pub next_attempt_ms: u64,
}

/// Messages of all conversations.
pub trait MessageStore {
    /// Stores a message unless its id is present; returns whether it was added. Never replaces.
    async fn insert_message(&self, message: StoredMessage) -> Result<bool, StoreError>;
    /// The message with this id.
    async fn message(&self, id: &MessageId) -> Result<Option<StoredMessage>, StoreError>;
    /// Changes the state and late flag of a stored message (no-op if absent).
    async fn set_message_state(
        &self,
        id: &MessageId,
        state: MessageState,
        late: bool,
    ) -> Result<(), StoreError>;
    /// Keys of every stored message of the conversation (any state), ascending: the sync set.
    async fn message_keys(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<OrderKey>, StoreError>;
    /// Delivered messages with key below `before` (all if `None`), newest first, at most `limit`.
    async fn page(
        &self,
        conversation: &ConversationId,
        before: Option<OrderKey>,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError>;
    /// Records that `child` waits for `parent` (set semantics).
    async fn add_waiting(
        &self,
        conversation: &ConversationId,
        parent: &MessageId,
        child: &MessageId,
    ) -> Result<(), StoreError>;
    /// Removes and returns the children waiting for `parent`, ascending by id.
    async fn take_waiting(&self, parent: &MessageId) -> Result<Vec<MessageId>, StoreError>;
    /// Parents waited for in the conversation that are not stored, ascending.
    async fn missing_parents(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<MessageId>, StoreError>;
}

/// Conversations.
pub trait ConversationStore {
    /// Adds or replaces a conversation.
    async fn put_conversation(&self, conversation: Conversation) -> Result<(), StoreError>;
    /// The conversation with this id.
    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError>;
    /// All conversations, by id.
    async fn conversations(&self) -> Result<Vec<Conversation>, StoreError>;
}

/// Contacts.
pub trait ContactStore {
    /// Adds or replaces a contact.
    async fn put_contact(&self, contact: Contact) -> Result<(), StoreError>;
    /// The contact with this key.
    async fn contact(&self, key: &PublicKey) -> Result<Option<Contact>, StoreError>;
    /// All contacts, by key bytes.
    async fn contacts(&self) -> Result<Vec<Contact>, StoreError>;
    /// Removes a contact; returns whether it existed.
    async fn remove_contact(&self, key: &PublicKey) -> Result<bool, StoreError>;
}

/// The outbox queue, keyed by `(message, recipient)`.
pub trait OutboxStore {
    /// Adds the entry unless one with its key exists; returns whether it was added.
    async fn add_outbox(&self, entry: OutboxEntry) -> Result<bool, StoreError>;
    /// Replaces an existing entry (no-op if absent: it was acknowledged meanwhile).
    async fn update_outbox(&self, entry: OutboxEntry) -> Result<(), StoreError>;
    /// Removes an entry; returns whether it existed.
    async fn remove_outbox(
        &self,
        message: &MessageId,
        recipient: &PublicKey,
    ) -> Result<bool, StoreError>;
    /// Entries with `next_attempt_ms <= now_ms`, by time then key, at most `limit`.
    async fn due_outbox(&self, now_ms: u64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError>;
    /// The earliest `next_attempt_ms`, if any entry is queued.
    async fn next_outbox_attempt(&self) -> Result<Option<u64>, StoreError>;
    /// Number of queued entries.
    async fn outbox_len(&self) -> Result<usize, StoreError>;
}

/// Everything a chat device stores.
pub trait ChatStore: MessageStore + ConversationStore + ContactStore + OutboxStore {}
impl<T: MessageStore + ConversationStore + ContactStore + OutboxStore> ChatStore for T {}

/// `RECORD_VERSION || postcard(value)`.
pub fn encode_record<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut bytes = vec![RECORD_VERSION];
    bytes.extend_from_slice(
        &postcard::to_allocvec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?,
    );
    Ok(bytes)
}

/// Decodes [`encode_record`] bytes, refusing other versions, oversize input, trailing bytes
/// and non-canonical encodings (such as overlong varints).
pub fn decode_record<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    if bytes.len() > MAX_RECORD_LEN {
        return Err(StoreError::Corrupt(format!(
            "record of {} bytes",
            bytes.len()
        )));
    }
    match bytes.split_first() {
        Some((&RECORD_VERSION, body)) => match postcard::take_from_bytes::<T>(body) {
            Ok((value, []))
                if postcard::to_allocvec(&value).is_ok_and(|canonical| canonical == body) =>
            {
                Ok(value)
            }
            Ok((_, [])) => Err(StoreError::Corrupt("non-canonical encoding".into())),
            Ok(_) => Err(StoreError::Corrupt("trailing bytes".into())),
            Err(e) => Err(StoreError::Corrupt(e.to_string())),
        },
        Some((version, _)) => Err(StoreError::Corrupt(format!("record version {version}"))),
        None => Err(StoreError::Corrupt("empty record".into())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::contract::fixtures::key;

    #[test]
    fn records_refuse_overlong_varints_trailing_bytes_and_other_versions() {
        let contact = Contact {
            key: key(1).public(),
            name: "Ann".into(),
            addresses: vec![],
        };
        let bytes = encode_record(&contact).unwrap();
        assert_eq!(decode_record::<Contact>(&bytes), Ok(contact));
        // The name length 3 (0x03) written as an overlong varint 0x83 0x00.
        let name_at = 1 + 32;
        assert_eq!(bytes[name_at], 3);
        let mut overlong = bytes[..name_at].to_vec();
        overlong.extend_from_slice(&[0x83, 0x00]);
        overlong.extend_from_slice(&bytes[name_at + 1..]);
        assert!(matches!(
            decode_record::<Contact>(&overlong),
            Err(StoreError::Corrupt(_))
        ));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(decode_record::<Contact>(&trailing).is_err());
        let mut other_version = bytes;
        other_version[0] = 2;
        assert!(decode_record::<Contact>(&other_version).is_err());
        assert!(decode_record::<Contact>(&[]).is_err());
    }
}
