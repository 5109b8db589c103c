//! The in-memory backend of every storage trait, for tests, simulations and benchmarks.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use crypto::keys::{PUBLIC_KEY_LENGTH, PublicKey};

use crate::envelope::{ConversationId, MessageId, OrderKey};
use crate::store::{
    Contact, ContactStore, Conversation, ConversationStore, MessageState, MessageStore,
    OutboxEntry, OutboxStore, StoreError, StoredMessage,
};

type OutboxKey = (MessageId, [u8; PUBLIC_KEY_LENGTH]);
type ViewBound = std::ops::Bound<(ConversationId, OrderKey)>;

#[derive(Debug, Default)]
struct Inner {
    messages: HashMap<MessageId, StoredMessage>,
    /// Every stored message, by conversation and key.
    all: BTreeSet<(ConversationId, OrderKey)>,
    /// Delivered messages only, by conversation and key: the ordered view.
    delivered: BTreeSet<(ConversationId, OrderKey)>,
    /// parent -> (conversation, children waiting for it).
    waiting: BTreeMap<MessageId, (ConversationId, BTreeSet<MessageId>)>,
    conversations: BTreeMap<ConversationId, Conversation>,
    contacts: BTreeMap<[u8; PUBLIC_KEY_LENGTH], Contact>,
    outbox: BTreeMap<OutboxKey, OutboxEntry>,
    /// (next_attempt_ms, key): the due order.
    outbox_due: BTreeSet<(u64, OutboxKey)>,
}

/// All stores in memory. Cheap to create; cloning shares nothing.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave a half-applied change: every method
        // validates before it mutates. Recover the data rather than propagate the poison.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl MessageStore for MemoryStore {
    async fn insert_message(&self, message: StoredMessage) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let id = message.envelope.id();
        if inner.messages.contains_key(&id) {
            return Ok(false);
        }
        let entry = (
            message.envelope.content().conversation,
            message.envelope.key(),
        );
        inner.all.insert(entry);
        if message.state == MessageState::Delivered {
            inner.delivered.insert(entry);
        }
        inner.messages.insert(id, message);
        Ok(true)
    }

    async fn message(&self, id: &MessageId) -> Result<Option<StoredMessage>, StoreError> {
        Ok(self.lock().messages.get(id).cloned())
    }

    async fn set_message_state(
        &self,
        id: &MessageId,
        state: MessageState,
        late: bool,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let Some(message) = inner.messages.get_mut(id) else {
            return Ok(());
        };
        message.state = state;
        message.late = late;
        let entry = (
            message.envelope.content().conversation,
            message.envelope.key(),
        );
        if state == MessageState::Delivered {
            inner.delivered.insert(entry);
        } else {
            inner.delivered.remove(&entry);
        }
        Ok(())
    }

    async fn message_keys(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<OrderKey>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .all
            .range(conversation_range(conversation, None))
            .map(|(_, key)| *key)
            .collect())
    }

    async fn page(
        &self,
        conversation: &ConversationId,
        before: Option<OrderKey>,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .delivered
            .range(conversation_range(conversation, before))
            .rev()
            .take(limit)
            .filter_map(|(_, key)| inner.messages.get(&key.id).cloned())
            .collect())
    }

    async fn add_waiting(
        &self,
        conversation: &ConversationId,
        parent: &MessageId,
        child: &MessageId,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner
            .waiting
            .entry(*parent)
            .or_insert_with(|| (*conversation, BTreeSet::new()))
            .1
            .insert(*child);
        Ok(())
    }

    async fn take_waiting(&self, parent: &MessageId) -> Result<Vec<MessageId>, StoreError> {
        Ok(self
            .lock()
            .waiting
            .remove(parent)
            .map(|(_, children)| children.into_iter().collect())
            .unwrap_or_default())
    }

    async fn missing_parents(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<MessageId>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .waiting
            .iter()
            .filter(|(parent, (c, _))| c == conversation && !inner.messages.contains_key(parent))
            .map(|(parent, _)| *parent)
            .collect())
    }
}

/// Keys of `conversation` below `before` (or all of them).
fn conversation_range(
    conversation: &ConversationId,
    before: Option<OrderKey>,
) -> (ViewBound, ViewBound) {
    use std::ops::Bound::{Excluded, Included, Unbounded};
    let lowest = OrderKey {
        time: crate::hlc::Timestamp(0),
        id: MessageId([0; 32]),
    };
    let upper = match before {
        Some(key) => Excluded((*conversation, key)),
        None => match next_conversation(conversation) {
            Some(next) => Excluded((next, lowest)),
            None => Unbounded,
        },
    };
    (Included((*conversation, lowest)), upper)
}

fn next_conversation(conversation: &ConversationId) -> Option<ConversationId> {
    let value = u128::from_be_bytes(conversation.0).checked_add(1)?;
    Some(ConversationId(value.to_be_bytes()))
}

impl ConversationStore for MemoryStore {
    async fn put_conversation(&self, conversation: Conversation) -> Result<(), StoreError> {
        self.lock()
            .conversations
            .insert(conversation.id, conversation);
        Ok(())
    }

    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        Ok(self.lock().conversations.get(id).cloned())
    }

    async fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        Ok(self.lock().conversations.values().cloned().collect())
    }
}

impl ContactStore for MemoryStore {
    async fn put_contact(&self, contact: Contact) -> Result<(), StoreError> {
        self.lock().contacts.insert(contact.key.to_bytes(), contact);
        Ok(())
    }

    async fn contact(&self, key: &PublicKey) -> Result<Option<Contact>, StoreError> {
        Ok(self.lock().contacts.get(&key.to_bytes()).cloned())
    }

    async fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        Ok(self.lock().contacts.values().cloned().collect())
    }

    async fn remove_contact(&self, key: &PublicKey) -> Result<bool, StoreError> {
        Ok(self.lock().contacts.remove(&key.to_bytes()).is_some())
    }
}

impl OutboxStore for MemoryStore {
    async fn add_outbox(&self, entry: OutboxEntry) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let key = (entry.message, entry.recipient.to_bytes());
        if inner.outbox.contains_key(&key) {
            return Ok(false);
        }
        inner.outbox_due.insert((entry.next_attempt_ms, key));
        inner.outbox.insert(key, entry);
        Ok(true)
    }

    async fn update_outbox(&self, entry: OutboxEntry) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let key = (entry.message, entry.recipient.to_bytes());
        let Some(old) = inner.outbox.get(&key).map(|old| old.next_attempt_ms) else {
            return Ok(());
        };
        inner.outbox_due.remove(&(old, key));
        inner.outbox_due.insert((entry.next_attempt_ms, key));
        inner.outbox.insert(key, entry);
        Ok(())
    }

    async fn remove_outbox(
        &self,
        message: &MessageId,
        recipient: &PublicKey,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let key = (*message, recipient.to_bytes());
        match inner.outbox.remove(&key) {
            Some(old) => {
                inner.outbox_due.remove(&(old.next_attempt_ms, key));
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn due_outbox(&self, now_ms: u64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .outbox_due
            .iter()
            .take_while(|(at, _)| *at <= now_ms)
            .take(limit)
            .filter_map(|(_, key)| inner.outbox.get(key).cloned())
            .collect())
    }

    async fn next_outbox_attempt(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.lock().outbox_due.first().map(|(at, _)| *at))
    }

    async fn outbox_len(&self) -> Result<usize, StoreError> {
        Ok(self.lock().outbox.len())
    }
}

#[cfg(test)]
mod tests {
    crate::chat_store_contract_tests!(super::MemoryStore::new());

    /// The `async` arm of the macro, as the IndexedDB tests use it (there with
    /// `#[wasm_bindgen_test]` and an awaited constructor); here driven by `block_on`.
    mod async_arm {
        async fn open() -> super::super::MemoryStore {
            super::super::MemoryStore::new()
        }

        crate::chat_store_contract_tests!(async #[allow(dead_code)], open().await);

        #[test]
        fn the_async_arm_runs_the_same_suite() {
            use crate::contract::block_on;
            block_on(message_insert_is_idempotent_by_id());
            block_on(state_changes_move_messages_in_and_out_of_pages());
            block_on(message_keys_are_ascending_per_conversation());
            block_on(pages_are_newest_first_below_the_cursor());
            block_on(waiting_and_missing_parents());
            block_on(conversations_put_get_replace_list());
            block_on(contacts_put_get_remove_list());
            block_on(outbox_add_is_idempotent_and_due_in_time_order());
            block_on(outbox_update_and_remove());
            block_on(log_delivers_causally_and_flags_late_arrivals());
        }
    }
}
