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
};
use crypto::keys::PublicKey;
use indexed_db_futures::KeyRange;
use indexed_db_futures::cursor::{Cursor, CursorDirection};
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use wasm_bindgen::JsValue;

use crate::db::{
    ACKS, CONTACTS, CONVERSATIONS, IdbStore, OUTBOX, SEGMENTS, Tx, WAITING, all_records, array_of,
    backend, bin, bytes_of, collect, delete, get, get_record, index_values, js_error, object, prefix_end,
    prefix_range, put, put_record, take_keys,
};
use crate::quarantine::{self, QUARANTINE};
use crate::segment::{self, BY_ID, Entry, MAX_MESSAGES, order_bytes, slice};

/// Storing messages may set aside a segment that no longer decodes ([`quarantine`]).
const INSERT_STORES: &[&str] = &[SEGMENTS, QUARANTINE];
/// A received message also notes the ack it owes.
const RECEIVE_STORES: [&str; 7] = [CONTACTS, CONVERSATIONS, SEGMENTS, QUARANTINE, WAITING, OUTBOX, ACKS];

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
        self.in_chat_tx(INSERT_STORES, TransactionMode::Readwrite, async |tx| tx.insert_messages(messages).await)
            .await
    }

    /// `body` in a transaction over the `stores` it touches: transactions over other stores
    /// run beside it.
    async fn in_chat_tx<T>(
        &self,
        stores: &[&str],
        mode: TransactionMode,
        body: impl AsyncFnOnce(&ChatTx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = ChatTx(self.transaction(stores, mode)?);
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
    /// Per conversation, the segments the messages fall into (see the `message_segments` store in
    /// [`crate::db`]) are read once, the messages merged into them in memory, and each changed
    /// segment written back once: a batch costs a request per segment, not per message. A
    /// message's key (time, id) decides its segment, and its id decides its key, so a message
    /// already stored is found in the segment it would go to.
    ///
    /// A segment that a message falls into but that cannot be decoded is set aside, raw, in the
    /// `quarantine` store, and the message is stored as if the segment were not there: one
    /// damaged record must not stop every later message of its range.
    pub async fn insert_messages(&self, messages: &[StoredMessage]) -> Result<Vec<bool>, StoreError> {
        let conversation = |n: usize| messages[n].envelope.content().conversation;
        // Stable: of repeats inside the batch, the first one is stored.
        let mut order: Vec<usize> = (0..messages.len()).collect();
        order.sort_by_key(|&n| (conversation(n), messages[n].envelope.key()));
        let mut added = vec![false; messages.len()];
        for group in order.chunk_by(|&a, &b| conversation(a) == conversation(b)) {
            let new = group.iter().map(|&n| Entry::new(&messages[n])).collect();
            let outcomes = self.insert_into(&conversation(group[0]), new).await?;
            for (&n, outcome) in group.iter().zip(outcomes) {
                added[n] = outcome;
            }
        }
        Ok(added)
    }

    /// Merges `new` (ascending) into the conversation's segments; whether each was added.
    async fn insert_into(&self, conversation: &ConversationId, new: Vec<Entry>) -> Result<Vec<bool>, StoreError> {
        let (Some(first), Some(last)) = (new.first(), new.last()) else {
            return Ok(vec![]);
        };
        let (first, last) = (order_bytes(conversation, &first.key), order_bytes(conversation, &last.key));
        let store = self.0.store(SEGMENTS)?;
        // The keys of the segments that may receive a message: the one holding the first
        // position, and those starting after it up to the last.
        let mut starts: Vec<[u8; 56]> = vec![];
        let mut stored: Vec<Option<JsValue>> = vec![];
        if let Some((key, value)) = self.segment_at(conversation, &first).await? {
            starts.push(key);
            stored.push(Some(value));
        }
        if first != last {
            let range = KeyRange::Bound(bin(&first), true, bin(&last), false);
            for key in collect(store.get_all_keys().with_query::<JsValue, _>(range).primitive()).await? {
                starts.push(array_of::<56>(&key, "")?);
                stored.push(None);
            }
        }
        if starts.is_empty() {
            return self.insert_before_next(conversation, &last, new).await;
        }
        // Each message goes to the segment with the greatest key at or below its own; those
        // below every segment start segments of their own.
        let mut groups: Vec<(usize, Vec<Entry>)> = vec![];
        for entry in new {
            let key = order_bytes(conversation, &entry.key);
            let at = starts.partition_point(|start| start.as_slice() <= key.as_slice());
            match groups.last_mut() {
                Some((group, entries)) if *group == at => entries.push(entry),
                _ => groups.push((at, vec![entry])),
            }
        }
        // Every segment read is requested before the first is awaited.
        let mut reads = vec![];
        for (at, _) in &groups {
            if let Some(n) = at.checked_sub(1).filter(|&n| stored[n].is_none()) {
                reads.push((n, store.get::<JsValue, _, _>(bin(&starts[n])).primitive().map_err(backend)?));
            }
        }
        for (n, read) in reads {
            stored[n] = read.await.map_err(backend)?.filter(|value: &JsValue| !value.is_undefined());
        }
        let mut added = vec![];
        for (at, entries) in groups {
            let present = match at.checked_sub(1) {
                Some(n) => {
                    let (key, value) = (&starts[n], stored[n].as_ref().ok_or_else(|| missing_segment(&starts[n]))?);
                    segment::entries(key, value).or_else(|_| {
                        let quarantine = self.0.store(QUARANTINE)?;
                        quarantine::set_aside(store.as_sys(), quarantine.as_sys(), &bin(key), value).map(|()| vec![])
                    })?
                }
                None => vec![],
            };
            let (segments, outcomes) = segment::place(present, entries);
            for part in segments {
                segment::put(store.as_sys(), conversation, &part)?;
            }
            added.extend(outcomes);
        }
        Ok(added)
    }

    /// Stores `new` (ascending), which lies below every segment of the conversation it meets:
    /// into the next segment while that has room, else as segments of their own. History
    /// fetched backwards (a missing parent, then its parent, ...) thus fills segments instead
    /// of making one per message.
    async fn insert_before_next(
        &self,
        conversation: &ConversationId,
        last: &[u8],
        new: Vec<Entry>,
    ) -> Result<Vec<bool>, StoreError> {
        let next = self.segment_after(conversation, last).await?;
        // A next segment that does not decode is left as it is: the new messages are not in it.
        let next = next.and_then(|(key, value)| segment::entries(&key, &value).ok().map(|entries| (key, entries)));
        let (next_key, stored) = match next {
            Some((key, entries)) if entries.len() + new.len() <= MAX_MESSAGES => (Some(key), entries),
            _ => (None, vec![]),
        };
        let (segments, added) = segment::place(stored, new);
        let store = self.0.store(SEGMENTS)?;
        // The segment now starts at the first new message: its old key goes first.
        if let Some(key) = next_key.filter(|_| !segments.is_empty()) {
            store.as_sys().delete(&bin(&key)).map_err(js_error)?;
        }
        for part in segments {
            segment::put(store.as_sys(), conversation, &part)?;
        }
        Ok(added)
    }

    /// The key and value of the conversation's segment with the greatest key at or below `key`.
    async fn segment_at(
        &self,
        conversation: &ConversationId,
        key: &[u8],
    ) -> Result<Option<([u8; 56], JsValue)>, StoreError> {
        let range = KeyRange::Bound(bin(&conversation.0), false, bin(key), false);
        self.first_segment(range, CursorDirection::Prev).await
    }

    /// The key and value of the conversation's segment with the least key above `key`.
    async fn segment_after(
        &self,
        conversation: &ConversationId,
        key: &[u8],
    ) -> Result<Option<([u8; 56], JsValue)>, StoreError> {
        let range = KeyRange::Bound(bin(key), true, bin(&prefix_end(&conversation.0)), false);
        self.first_segment(range, CursorDirection::Next).await
    }

    /// The key and value of the first segment in `range` going in `direction`.
    async fn first_segment(
        &self,
        range: KeyRange<JsValue>,
        direction: CursorDirection,
    ) -> Result<Option<([u8; 56], JsValue)>, StoreError> {
        let store = self.0.store(SEGMENTS)?;
        let cursor = segments_cursor(&store, range, direction).await?;
        let Some(mut cursor) = cursor else {
            return Ok(None);
        };
        let Some(key) = cursor.key::<JsValue>().map_err(backend)? else {
            return Ok(None);
        };
        let key = array_of::<56>(&key, "")?;
        let value = cursor.next_record::<JsValue>().await.map_err(backend)?;
        Ok(value.map(|value| (key, value)))
    }

    /// The primary key of the segment holding `id`.
    async fn segment_key_of(&self, id: &MessageId) -> Result<Option<JsValue>, StoreError> {
        let store = self.0.store(SEGMENTS)?;
        let index = store.index(BY_ID).map_err(backend)?;
        let key: Option<JsValue> =
            index.get_key(bin(&id.0)).primitive().map_err(backend)?.await.map_err(backend)?;
        Ok(key.filter(|key| !key.is_undefined()))
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

/// A cursor over the segments in `range`, in `direction`.
async fn segments_cursor<'a, 'tx>(
    store: &'a ObjectStore<'tx>,
    range: KeyRange<JsValue>,
    direction: CursorDirection,
) -> Result<Option<Cursor<'a, ObjectStore<'tx>>>, StoreError> {
    store
        .open_cursor()
        .with_query::<JsValue, _>(range)
        .with_direction(direction)
        .primitive()
        .map_err(backend)?
        .await
        .map_err(backend)
}

/// A segment whose key was just read (from the store or its `by_id` index) in this
/// transaction is not there: the store is damaged.
fn missing_segment(key: &[u8]) -> StoreError {
    let key: String = key.iter().map(|b| format!("{b:02x}")).collect();
    StoreError::Corrupt(format!("message segment {key} listed but not found"))
}

/// The id in the second half of a `first ‖ second` key of two 32-byte halves.
fn second_id(key: &JsValue) -> Result<MessageId, StoreError> {
    array_of::<64>(key, "").map(|k| MessageId(slice(&k, 32)))
}

/// The message `id` out of the segment holding it: the index said it is there.
fn in_segment<'e>(entries: &'e mut [Entry], id: &MessageId) -> Result<&'e mut Entry, StoreError> {
    let entry = entries.iter_mut().find(|entry| entry.key.id == *id);
    entry.ok_or_else(|| StoreError::Corrupt("message segment: indexed id not in it".into()))
}

impl MessageStore for ChatTx<'_> {
    async fn insert_message(&self, message: StoredMessage) -> Result<bool, StoreError> {
        let stored = self.insert_messages(std::slice::from_ref(&message)).await?;
        Ok(stored.first() == Some(&true))
    }

    async fn message(&self, id: &MessageId) -> Result<Option<StoredMessage>, StoreError> {
        let store = self.0.store(SEGMENTS)?;
        let index = store.index(BY_ID).map_err(backend)?;
        // Both requested before either is awaited: one round trip.
        let key = index.get_key(bin(&id.0)).primitive().map_err(backend)?;
        let value = index.get(bin(&id.0)).primitive().map_err(backend)?;
        let key: Option<JsValue> = key.await.map_err(backend)?;
        let value: Option<JsValue> = value.await.map_err(backend)?;
        let (Some(key), Some(value)) = (key.filter(|key| !key.is_undefined()), value.filter(|v| !v.is_undefined()))
        else {
            return Ok(None);
        };
        let mut entries = segment::entries(&array_of::<56>(&key, "")?, &value)?;
        in_segment(&mut entries, id)?.message().map(Some)
    }

    async fn set_message_state(
        &self,
        id: &MessageId,
        state: MessageState,
        late: bool,
    ) -> Result<(), StoreError> {
        let Some(key) = self.segment_key_of(id).await? else {
            return Ok(());
        };
        let key = array_of::<56>(&key, "")?;
        let Some(value) = self.get(SEGMENTS, &key).await? else {
            return Err(missing_segment(&key));
        };
        let mut entries = segment::entries(&key, &value)?;
        let entry = in_segment(&mut entries, id)?;
        let mut message = entry.message()?;
        message.state = state;
        message.late = late;
        entry.record = message.to_bytes();
        put(&self.0, SEGMENTS, &bin(&key), &segment::value(&entries)?).await
    }

    async fn message_keys(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<OrderKey>, StoreError> {
        let store = self.0.store(SEGMENTS)?;
        let range = prefix_range(&conversation.0);
        // Both requested before either is awaited; they list the same records in key order.
        let segment_keys = collect(store.get_all_keys().with_query::<JsValue, _>(range.clone()).primitive());
        let values = collect(store.get_all().with_query::<JsValue, _>(range).primitive());
        let (segment_keys, values) = (segment_keys.await?, values.await?);
        let mut keys = vec![];
        for (key, value) in segment_keys.iter().zip(&values) {
            keys.extend(segment::entries(&array_of::<56>(key, "")?, value)?.iter().map(|entry| entry.key));
        }
        Ok(keys)
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
        // A segment starting below `before` may run past it: its later messages are skipped.
        let range = match before {
            Some(key) => KeyRange::Bound(bin(&conversation.0), false, bin(&order_bytes(conversation, &key)), true),
            None => prefix_range(&conversation.0),
        };
        let store = self.0.store(SEGMENTS)?;
        let cursor = segments_cursor(&store, range, CursorDirection::Prev).await?;
        let Some(mut cursor) = cursor else {
            return Ok(page);
        };
        while let Some(value) = cursor.next_record::<JsValue>().await.map_err(backend)? {
            let key = cursor.key::<JsValue>().map_err(backend)?.ok_or_else(|| missing_segment(&[]))?;
            for entry in segment::entries(&array_of::<56>(&key, "")?, &value)?.iter().rev() {
                if before.is_some_and(|before| entry.key >= before) {
                    continue;
                }
                let message = entry.message()?;
                if message.state == MessageState::Delivered {
                    page.push(message);
                    if page.len() == limit {
                        return Ok(page);
                    }
                }
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
            let parent = MessageId(slice(&key, 16));
            if missing.last() != Some(&parent) && self.segment_key_of(&parent).await?.is_none() {
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
    const MESSAGE_STORES: &[&str] = &[SEGMENTS];
    const WAITING_MESSAGES: &[&str] = &[WAITING, SEGMENTS];

    impl MessageStore for IdbStore {
        async fn insert_message(&self, message: StoredMessage) -> Result<bool, StoreError> {
            self.in_chat_tx(INSERT_STORES, WRITE, async |tx| tx.insert_message(message).await)
                .await
        }
        async fn message(&self, id: &MessageId) -> Result<Option<StoredMessage>, StoreError> {
            self.in_chat_tx(MESSAGE_STORES, READ, async |tx| tx.message(id).await).await
        }
        async fn set_message_state(
            &self,
            id: &MessageId,
            state: MessageState,
            late: bool,
        ) -> Result<(), StoreError> {
            self.in_chat_tx(MESSAGE_STORES, WRITE, async |tx| {
                tx.set_message_state(id, state, late).await
            })
            .await
        }
        async fn message_keys(
            &self,
            conversation: &ConversationId,
        ) -> Result<Vec<OrderKey>, StoreError> {
            self.in_chat_tx(MESSAGE_STORES, READ, async |tx| tx.message_keys(conversation).await)
                .await
        }
        async fn page(
            &self,
            conversation: &ConversationId,
            before: Option<OrderKey>,
            limit: usize,
        ) -> Result<Vec<StoredMessage>, StoreError> {
            self.in_chat_tx(MESSAGE_STORES, READ, async |tx| tx.page(conversation, before, limit).await)
                .await
        }
        async fn add_waiting(
            &self,
            conversation: &ConversationId,
            parent: &MessageId,
            child: &MessageId,
        ) -> Result<(), StoreError> {
            self.in_chat_tx(&[WAITING], WRITE, async |tx| {
                tx.add_waiting(conversation, parent, child).await
            })
            .await
        }
        async fn take_waiting(&self, parent: &MessageId) -> Result<Vec<MessageId>, StoreError> {
            self.in_chat_tx(&[WAITING], WRITE, async |tx| tx.take_waiting(parent).await)
                .await
        }
        async fn missing_parents(
            &self,
            conversation: &ConversationId,
        ) -> Result<Vec<MessageId>, StoreError> {
            self.in_chat_tx(WAITING_MESSAGES, READ, async |tx| tx.missing_parents(conversation).await)
                .await
        }
    }

    impl ConversationStore for IdbStore {
        async fn put_conversation(&self, conversation: Conversation) -> Result<(), StoreError> {
            self.in_chat_tx(&[CONVERSATIONS], WRITE, async |tx| tx.put_conversation(conversation).await)
                .await
        }
        async fn conversation(
            &self,
            id: &ConversationId,
        ) -> Result<Option<Conversation>, StoreError> {
            self.in_chat_tx(&[CONVERSATIONS], READ, async |tx| tx.conversation(id).await)
                .await
        }
        async fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
            self.in_chat_tx(&[CONVERSATIONS], READ, async |tx| tx.conversations().await)
                .await
        }
    }

    impl ContactStore for IdbStore {
        async fn put_contact(&self, contact: Contact) -> Result<(), StoreError> {
            self.in_chat_tx(&[CONTACTS], WRITE, async |tx| tx.put_contact(contact).await)
                .await
        }
        async fn contact(&self, key: &PublicKey) -> Result<Option<Contact>, StoreError> {
            self.in_chat_tx(&[CONTACTS], READ, async |tx| tx.contact(key).await)
                .await
        }
        async fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
            self.in_chat_tx(&[CONTACTS], READ, async |tx| tx.contacts().await).await
        }
        async fn remove_contact(&self, key: &PublicKey) -> Result<bool, StoreError> {
            self.in_chat_tx(&[CONTACTS], WRITE, async |tx| tx.remove_contact(key).await)
                .await
        }
    }

    impl OutboxStore for IdbStore {
        async fn add_outbox(&self, entry: OutboxEntry) -> Result<bool, StoreError> {
            self.in_chat_tx(&[OUTBOX], WRITE, async |tx| tx.add_outbox(entry).await)
                .await
        }
        async fn update_outbox(&self, entry: OutboxEntry) -> Result<(), StoreError> {
            self.in_chat_tx(&[OUTBOX], WRITE, async |tx| tx.update_outbox(entry).await)
                .await
        }
        async fn remove_outbox(
            &self,
            message: &MessageId,
            recipient: &PublicKey,
        ) -> Result<bool, StoreError> {
            self.in_chat_tx(&[OUTBOX], WRITE, async |tx| tx.remove_outbox(message, recipient).await)
                .await
        }
        async fn due_outbox(
            &self,
            now_ms: u64,
            limit: usize,
        ) -> Result<Vec<OutboxEntry>, StoreError> {
            self.in_chat_tx(&[OUTBOX], READ, async |tx| tx.due_outbox(now_ms, limit).await)
                .await
        }
        async fn next_outbox_attempt(&self) -> Result<Option<u64>, StoreError> {
            self.in_chat_tx(&[OUTBOX], READ, async |tx| tx.next_outbox_attempt().await)
                .await
        }
        async fn outbox_len(&self) -> Result<usize, StoreError> {
            self.in_chat_tx(&[OUTBOX], READ, async |tx| tx.outbox_len().await)
                .await
        }
    }
}
