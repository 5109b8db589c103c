//! The chat traits over one IndexedDB transaction ([`ChatTx`]), and over the database
//! ([`IdbStore`]: each call its own transaction).
//!
//! A received message is one [`ChatTx`]: `chat::log::insert` on it (the message, its
//! state, the conversation's heads), then [`ChatTx::owe_ack`], then [`ChatTx::commit`]. If
//! anything fails, nothing of it is stored, so the peer's retry finds the message missing
//! rather than stored without its ack.

use chat::store::{decode_record, encode_record};
use chat::{
    Contact, ContactStore, Conversation, ConversationId, ConversationStore, MessageId,
    MessageState, MessageStore, OrderKey, OutboxEntry, OutboxStore, StoreError, StoredMessage,
    Timestamp,
};
use crypto::keys::PublicKey;
use indexed_db_futures::KeyRange;
use indexed_db_futures::cursor::CursorDirection;
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, IdbRequest};

use crate::db::{
    ACKS, CONTACTS, CONVERSATIONS, IdbStore, MESSAGES, OUTBOX, Tx, WAITING, all_records, array_of,
    backend, bin, bytes_of, collect, delete, dom_error, get, get_record, index_values, object, prefix_range,
    js_error, put, put_record, take_keys,
};

/// What the chat traits touch (schema v1 already had all of them).
const CHAT_STORES: [&str; 5] = [CONTACTS, CONVERSATIONS, MESSAGES, WAITING, OUTBOX];
/// A received message also notes the ack it owes.
const RECEIVE_STORES: [&str; 6] = [CONTACTS, CONVERSATIONS, MESSAGES, WAITING, OUTBOX, ACKS];

/// The chat stores inside one transaction: everything written through it commits together
/// with [`ChatTx::commit`], or not at all (dropped, aborted, or failed).
#[derive(Debug)]
pub struct ChatTx<'a>(Tx<'a>);

impl IdbStore {
    /// A read-write transaction over the chat stores and the owed acks, for writes that
    /// belong together (a received message).
    pub fn chat_tx(&self) -> Result<ChatTx<'_>, StoreError> {
        Ok(ChatTx(self.transaction(
            &RECEIVE_STORES,
            TransactionMode::Readwrite,
        )?))
    }

    /// [`ChatTx::insert_messages`] in a transaction of its own: all of them or none.
    pub async fn insert_messages(&self, messages: &[StoredMessage]) -> Result<Vec<bool>, StoreError> {
        self.in_chat_tx(TransactionMode::Readwrite, async |tx| tx.insert_messages(messages).await)
            .await
    }

    async fn in_chat_tx<T>(
        &self,
        mode: TransactionMode,
        body: impl AsyncFnOnce(&ChatTx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = ChatTx(self.transaction(&CHAT_STORES, mode)?);
        let out = body(&tx).await?;
        tx.commit().await?;
        Ok(out)
    }
}

impl ChatTx<'_> {
    /// Notes that `peer` is owed an acknowledgement of `message`.
    pub async fn owe_ack(&self, peer: &PublicKey, message: &MessageId) -> Result<(), StoreError> {
        let key = [peer.to_bytes().as_slice(), &message.0].concat();
        put(&self.0, ACKS, &bin(&key), &JsValue::NULL).await
    }

    /// Many [`MessageStore::insert_message`]s at once, for whatever brings in many messages
    /// (a sync catching up, a history import): each message not stored yet, and not earlier in
    /// `messages`, is stored; nothing is replaced. Returns, for each message, whether it was
    /// stored.
    ///
    /// Awaiting each request in turn costs a trip through the event loop per request, and
    /// looking each id up before writing doubles the requests. Instead every message is
    /// `add`ed at once: IndexedDB refuses an `add` under a key already present (one stored
    /// before, or added earlier in the batch) with a `ConstraintError`, which
    /// [`keep_transaction_on_duplicate`] stops from aborting the transaction. Requests of a
    /// transaction complete in the order they were made, so once one more request made after
    /// them has completed, each `add`'s outcome is read without waiting. Any other failure
    /// aborts the transaction as usual.
    pub async fn insert_messages(&self, messages: &[StoredMessage]) -> Result<Vec<bool>, StoreError> {
        let store = self.0.store(MESSAGES)?;
        let mut adds = Vec::with_capacity(messages.len());
        for message in messages {
            let request = store
                .add(message_value(message)?)
                .with_key(bin(&message.envelope.id().0))
                .without_key_type()
                .primitive()
                .map_err(backend)?
                .into_sys();
            KEEP_ON_DUPLICATE.with(|handler| request.set_onerror(Some(handler.as_ref().unchecked_ref())));
            adds.push(request);
        }
        // No message has the empty key: this lookup only marks the end of the adds.
        store.get_key::<JsValue, _>(bin(&[])).primitive().map_err(backend)?.await.map_err(backend)?;
        adds.iter()
            .map(|request| match request.error() {
                Ok(None) => Ok(true),
                Ok(Some(error)) if error.name() == DUPLICATE => Ok(false),
                Ok(Some(error)) => Err(dom_error(&error)),
                Err(error) => Err(js_error(error)),
            })
            .collect()
    }

    /// Commits everything written through this transaction.
    pub async fn commit(self) -> Result<(), StoreError> {
        self.0.commit().await
    }

    /// Rolls back everything written through this transaction.
    pub async fn abort(self) -> Result<(), StoreError> {
        self.0.abort().await
    }

    async fn get(&self, store: &str, key: &[u8]) -> Result<Option<JsValue>, StoreError> {
        get(&self.0, store, key).await
    }
}

/// What IndexedDB calls an `add` under a key already present.
const DUPLICATE: &str = "ConstraintError";

thread_local! {
    /// One error handler shared by every batch `add` ([`ChatTx::insert_messages`]), alive as
    /// long as the page, so no request can outlive it.
    static KEEP_ON_DUPLICATE: Closure<dyn Fn(Event)> = Closure::new(keep_transaction_on_duplicate);
}

/// A refused `add` under a key already present is an answer, not a failure: keeps it from
/// aborting the transaction. Every other error goes on to abort it.
fn keep_transaction_on_duplicate(event: Event) {
    let duplicate = event
        .target()
        .and_then(|target| target.dyn_into::<IdbRequest>().ok())
        .and_then(|request| request.error().ok().flatten())
        .is_some_and(|error| error.name() == DUPLICATE);
    if duplicate {
        event.prevent_default();
        event.stop_propagation();
    }
}

/// The id in the second half of a `first ‖ second` key of two 32-byte halves.
fn second_id(key: &JsValue) -> Result<MessageId, StoreError> {
    array_of::<64>(key, "").map(|k| MessageId(part(&k, 32)))
}

/// `M` bytes of `key` from `at`; the callers' keys are fixed-size arrays that hold them.
fn part<const N: usize, const M: usize>(key: &[u8; N], at: usize) -> [u8; M] {
    let mut out = [0; M];
    out.copy_from_slice(&key[at..at + M]);
    out
}

/// `conversation ‖ time (big-endian) ‖ id`: bytewise order is (conversation, time, id) order.
fn order_bytes(conversation: &ConversationId, key: &OrderKey) -> Vec<u8> {
    [
        conversation.0.as_slice(),
        &key.time.0.to_be_bytes(),
        &key.id.0,
    ]
    .concat()
}

fn order_key(bytes: &[u8; 56]) -> OrderKey {
    OrderKey {
        time: Timestamp(u64::from_be_bytes(part(bytes, 16))),
        id: MessageId(part(bytes, 24)),
    }
}

fn message_value(message: &StoredMessage) -> Result<JsValue, StoreError> {
    let order = bin(&order_bytes(
        &message.envelope.content().conversation,
        &message.envelope.key(),
    ));
    let record = bin(&message.to_bytes());
    if message.state == MessageState::Delivered {
        object(&[("k", &order), ("p", &order), ("r", &record)])
    } else {
        object(&[("k", &order), ("r", &record)])
    }
}

fn decode_message(value: &JsValue) -> Result<StoredMessage, StoreError> {
    StoredMessage::from_bytes(&bytes_of(value, "r")?)
}

impl MessageStore for ChatTx<'_> {
    async fn insert_message(&self, message: StoredMessage) -> Result<bool, StoreError> {
        let stored = self.insert_messages(std::slice::from_ref(&message)).await?;
        Ok(stored.first() == Some(&true))
    }

    async fn message(&self, id: &MessageId) -> Result<Option<StoredMessage>, StoreError> {
        self.get(MESSAGES, &id.0)
            .await?
            .map(|v| decode_message(&v))
            .transpose()
    }

    async fn set_message_state(
        &self,
        id: &MessageId,
        state: MessageState,
        late: bool,
    ) -> Result<(), StoreError> {
        let Some(mut message) = self.message(id).await? else {
            return Ok(());
        };
        message.state = state;
        message.late = late;
        put(&self.0, MESSAGES, &bin(&id.0), &message_value(&message)?).await
    }

    async fn message_keys(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<OrderKey>, StoreError> {
        index_values(&self.0, MESSAGES, "by_key", prefix_range(&conversation.0))
            .await?
            .iter()
            .map(|v| array_of::<56>(v, "k").map(|k| order_key(&k)))
            .collect()
    }

    async fn page(
        &self,
        conversation: &ConversationId,
        before: Option<OrderKey>,
        limit: usize,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let mut page = vec![];
        if limit == 0 {
            return Ok(page);
        }
        let lower = bin(&conversation.0);
        let range = match before {
            Some(key) => KeyRange::Bound(lower, false, bin(&order_bytes(conversation, &key)), true),
            None => prefix_range(&conversation.0),
        };
        let messages = self.0.store(MESSAGES)?;
        let index = messages.index("page").map_err(backend)?;
        let cursor = index
            .open_cursor()
            .with_query::<JsValue, _>(range)
            .with_direction(CursorDirection::Prev)
            .primitive()
            .map_err(backend)?
            .await
            .map_err(backend)?;
        let Some(mut cursor) = cursor else {
            return Ok(page);
        };
        while let Some(value) = cursor.next_record::<JsValue>().await.map_err(backend)? {
            page.push(decode_message(&value)?);
            if page.len() == limit {
                break;
            }
        }
        Ok(page)
    }

    async fn add_waiting(
        &self,
        conversation: &ConversationId,
        parent: &MessageId,
        child: &MessageId,
    ) -> Result<(), StoreError> {
        let key = [parent.0.as_slice(), &child.0].concat();
        let by_conversation = bin(&[conversation.0.as_slice(), &key].concat());
        let value = object(&[("c", &by_conversation)])?;
        put(&self.0, WAITING, &bin(&key), &value).await
    }

    async fn take_waiting(&self, parent: &MessageId) -> Result<Vec<MessageId>, StoreError> {
        let keys = take_keys(&self.0, WAITING, prefix_range(&parent.0)).await?;
        keys.iter().map(second_id).collect()
    }

    async fn missing_parents(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<MessageId>, StoreError> {
        let range = prefix_range(&conversation.0);
        let values = index_values(&self.0, WAITING, "by_conversation", range).await?;
        let mut missing: Vec<MessageId> = vec![];
        for value in &values {
            let key = array_of::<80>(value, "c")?;
            let parent = MessageId(part(&key, 16));
            if missing.last() != Some(&parent) && self.get(MESSAGES, &parent.0).await?.is_none() {
                missing.push(parent);
            }
        }
        Ok(missing)
    }
}

impl ConversationStore for ChatTx<'_> {
    async fn put_conversation(&self, conversation: Conversation) -> Result<(), StoreError> {
        put_record(&self.0, CONVERSATIONS, &conversation.id.0, &conversation).await
    }

    async fn conversation(&self, id: &ConversationId) -> Result<Option<Conversation>, StoreError> {
        get_record(&self.0, CONVERSATIONS, &id.0).await
    }

    async fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        all_records(&self.0, CONVERSATIONS).await
    }
}

impl ContactStore for ChatTx<'_> {
    async fn put_contact(&self, contact: Contact) -> Result<(), StoreError> {
        put_record(&self.0, CONTACTS, &contact.key.to_bytes(), &contact).await
    }

    async fn contact(&self, key: &PublicKey) -> Result<Option<Contact>, StoreError> {
        get_record(&self.0, CONTACTS, &key.to_bytes()).await
    }

    async fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        all_records(&self.0, CONTACTS).await
    }

    async fn remove_contact(&self, key: &PublicKey) -> Result<bool, StoreError> {
        let existed = self.get(CONTACTS, &key.to_bytes()).await?.is_some();
        delete(&self.0, CONTACTS, &key.to_bytes()).await?;
        Ok(existed)
    }
}

fn outbox_key(message: &MessageId, recipient: &PublicKey) -> Vec<u8> {
    [message.0.as_slice(), &recipient.to_bytes()].concat()
}

fn outbox_value(entry: &OutboxEntry) -> Result<JsValue, StoreError> {
    let key = outbox_key(&entry.message, &entry.recipient);
    let due = bin(&[entry.next_attempt_ms.to_be_bytes().as_slice(), &key].concat());
    object(&[("d", &due), ("r", &bin(&encode_record(entry)?))])
}

impl ChatTx<'_> {
    async fn due_index(
        &self,
        range: Option<KeyRange<JsValue>>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let outbox = self.0.store(OUTBOX)?;
        let index = outbox.index("due").map_err(backend)?;
        let values = match range {
            Some(range) => {
                collect(
                    index
                        .get_all()
                        .with_query::<JsValue, _>(range)
                        .with_limit(limit)
                        .primitive(),
                )
                .await?
            }
            None => collect(index.get_all().with_limit(limit).primitive()).await?,
        };
        values
            .iter()
            .map(|v| decode_record(&bytes_of(v, "r")?))
            .collect()
    }
}

impl OutboxStore for ChatTx<'_> {
    async fn add_outbox(&self, entry: OutboxEntry) -> Result<bool, StoreError> {
        let key = outbox_key(&entry.message, &entry.recipient);
        if self.get(OUTBOX, &key).await?.is_some() {
            return Ok(false);
        }
        put(&self.0, OUTBOX, &bin(&key), &outbox_value(&entry)?).await?;
        Ok(true)
    }

    async fn update_outbox(&self, entry: OutboxEntry) -> Result<(), StoreError> {
        let key = outbox_key(&entry.message, &entry.recipient);
        if self.get(OUTBOX, &key).await?.is_none() {
            return Ok(());
        }
        put(&self.0, OUTBOX, &bin(&key), &outbox_value(&entry)?).await
    }

    async fn remove_outbox(
        &self,
        message: &MessageId,
        recipient: &PublicKey,
    ) -> Result<bool, StoreError> {
        let key = outbox_key(message, recipient);
        let existed = self.get(OUTBOX, &key).await?.is_some();
        delete(&self.0, OUTBOX, &key).await?;
        Ok(existed)
    }

    async fn due_outbox(&self, now_ms: u64, limit: usize) -> Result<Vec<OutboxEntry>, StoreError> {
        if limit == 0 {
            return Ok(vec![]);
        }
        let upper = [now_ms.to_be_bytes().as_slice(), &[0xff; 64]].concat();
        let range = KeyRange::UpperBound(bin(&upper), false);
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        self.due_index(Some(range), limit).await
    }

    async fn next_outbox_attempt(&self) -> Result<Option<u64>, StoreError> {
        Ok(self
            .due_index(None, 1)
            .await?
            .first()
            .map(|entry| entry.next_attempt_ms))
    }

    async fn outbox_len(&self) -> Result<usize, StoreError> {
        let count = self
            .0
            .store(OUTBOX)?
            .count()
            .primitive()
            .map_err(backend)?
            .await
            .map_err(backend)?;
        Ok(count as usize)
    }
}

/// Every chat trait on the database: one transaction per call, read-only where nothing is
/// written.
mod on_database {
    use super::*;

    const READ: TransactionMode = TransactionMode::Readonly;
    const WRITE: TransactionMode = TransactionMode::Readwrite;

    impl MessageStore for IdbStore {
        async fn insert_message(&self, message: StoredMessage) -> Result<bool, StoreError> {
            self.in_chat_tx(WRITE, async |tx| tx.insert_message(message).await)
                .await
        }
        async fn message(&self, id: &MessageId) -> Result<Option<StoredMessage>, StoreError> {
            self.in_chat_tx(READ, async |tx| tx.message(id).await).await
        }
        async fn set_message_state(
            &self,
            id: &MessageId,
            state: MessageState,
            late: bool,
        ) -> Result<(), StoreError> {
            self.in_chat_tx(WRITE, async |tx| {
                tx.set_message_state(id, state, late).await
            })
            .await
        }
        async fn message_keys(
            &self,
            conversation: &ConversationId,
        ) -> Result<Vec<OrderKey>, StoreError> {
            self.in_chat_tx(READ, async |tx| tx.message_keys(conversation).await)
                .await
        }
        async fn page(
            &self,
            conversation: &ConversationId,
            before: Option<OrderKey>,
            limit: usize,
        ) -> Result<Vec<StoredMessage>, StoreError> {
            self.in_chat_tx(READ, async |tx| tx.page(conversation, before, limit).await)
                .await
        }
        async fn add_waiting(
            &self,
            conversation: &ConversationId,
            parent: &MessageId,
            child: &MessageId,
        ) -> Result<(), StoreError> {
            self.in_chat_tx(WRITE, async |tx| {
                tx.add_waiting(conversation, parent, child).await
            })
            .await
        }
        async fn take_waiting(&self, parent: &MessageId) -> Result<Vec<MessageId>, StoreError> {
            self.in_chat_tx(WRITE, async |tx| tx.take_waiting(parent).await)
                .await
        }
        async fn missing_parents(
            &self,
            conversation: &ConversationId,
        ) -> Result<Vec<MessageId>, StoreError> {
            self.in_chat_tx(READ, async |tx| tx.missing_parents(conversation).await)
                .await
        }
    }

    impl ConversationStore for IdbStore {
        async fn put_conversation(&self, conversation: Conversation) -> Result<(), StoreError> {
            self.in_chat_tx(WRITE, async |tx| tx.put_conversation(conversation).await)
                .await
        }
        async fn conversation(
            &self,
            id: &ConversationId,
        ) -> Result<Option<Conversation>, StoreError> {
            self.in_chat_tx(READ, async |tx| tx.conversation(id).await)
                .await
        }
        async fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
            self.in_chat_tx(READ, async |tx| tx.conversations().await)
                .await
        }
    }

    impl ContactStore for IdbStore {
        async fn put_contact(&self, contact: Contact) -> Result<(), StoreError> {
            self.in_chat_tx(WRITE, async |tx| tx.put_contact(contact).await)
                .await
        }
        async fn contact(&self, key: &PublicKey) -> Result<Option<Contact>, StoreError> {
            self.in_chat_tx(READ, async |tx| tx.contact(key).await)
                .await
        }
        async fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
            self.in_chat_tx(READ, async |tx| tx.contacts().await).await
        }
        async fn remove_contact(&self, key: &PublicKey) -> Result<bool, StoreError> {
            self.in_chat_tx(WRITE, async |tx| tx.remove_contact(key).await)
                .await
        }
    }

    impl OutboxStore for IdbStore {
        async fn add_outbox(&self, entry: OutboxEntry) -> Result<bool, StoreError> {
            self.in_chat_tx(WRITE, async |tx| tx.add_outbox(entry).await)
                .await
        }
        async fn update_outbox(&self, entry: OutboxEntry) -> Result<(), StoreError> {
            self.in_chat_tx(WRITE, async |tx| tx.update_outbox(entry).await)
                .await
        }
        async fn remove_outbox(
            &self,
            message: &MessageId,
            recipient: &PublicKey,
        ) -> Result<bool, StoreError> {
            self.in_chat_tx(WRITE, async |tx| tx.remove_outbox(message, recipient).await)
                .await
        }
        async fn due_outbox(
            &self,
            now_ms: u64,
            limit: usize,
        ) -> Result<Vec<OutboxEntry>, StoreError> {
            self.in_chat_tx(READ, async |tx| tx.due_outbox(now_ms, limit).await)
                .await
        }
        async fn next_outbox_attempt(&self) -> Result<Option<u64>, StoreError> {
            self.in_chat_tx(READ, async |tx| tx.next_outbox_attempt().await)
                .await
        }
        async fn outbox_len(&self) -> Result<usize, StoreError> {
            self.in_chat_tx(READ, async |tx| tx.outbox_len().await)
                .await
        }
    }
}
