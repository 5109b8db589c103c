//! The storage contract: one async function per behaviour that every backend must show.
//!
//! A backend runs the whole suite with one macro call in its test module:
//! ```text
//! chat::chat_store_contract_tests!(MyStore::new());               // native, #[test] each
//! chat::chat_store_contract_tests!(async #[wasm_bindgen_test], open_fresh_db().await);
//! ```
//! The expression is evaluated once per test, so each test gets a fresh store (for IndexedDB:
//! a fresh database name).

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};

use crypto::keys::DeviceKey;

use crate::envelope::{Body, Content, ConversationId, Envelope, MessageId, OrderKey};
use crate::hlc::{Clock, Timestamp};
use crate::log;
use crate::store::{ChatStore, Contact, Conversation, MessageState, OutboxEntry, StoredMessage};

/// Runs a future to completion on this thread (the in-memory store never waits).
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::yield_now();
    }
}

/// Builders for test data.
pub mod fixtures {
    use super::*;

    /// A device key from a one-byte seed.
    pub fn key(seed: u8) -> DeviceKey {
        DeviceKey::from_seed(&[seed; 32])
    }

    /// A conversation with these members and no messages.
    pub fn conversation(id: u8, members: &[&DeviceKey]) -> Conversation {
        Conversation {
            id: ConversationId([id; 16]),
            members: members.iter().map(|k| k.public()).collect(),
            title: format!("conversation {id}"),
            heads: vec![],
            read_marker: None,
        }
    }

    /// A signed text message.
    pub fn message(
        author: &DeviceKey,
        conversation: u8,
        time: u64,
        parents: &[MessageId],
        text: &str,
    ) -> Envelope {
        let content = Content {
            author: author.public(),
            conversation: ConversationId([conversation; 16]),
            time: Timestamp(time),
            parents: parents.to_vec(),
            body: Body::Text(text.into()),
        };
        match Envelope::sign(author, content) {
            Ok(envelope) => envelope,
            Err(e) => panic!("fixture message does not sign: {e}"),
        }
    }

    /// A stored record of `envelope` in `state`.
    pub fn stored(envelope: &Envelope, state: MessageState) -> StoredMessage {
        StoredMessage {
            envelope: envelope.clone(),
            state,
            late: false,
        }
    }
}

use fixtures::{conversation, key, message, stored};

fn ids(messages: &[StoredMessage]) -> Vec<MessageId> {
    messages.iter().map(|m| m.envelope.id()).collect()
}

/// Inserting the same id twice keeps the first record and reports `false`.
pub async fn message_insert_is_idempotent_by_id<S: ChatStore>(store: S) {
    let alice = key(1);
    let m = message(&alice, 1, 10, &[], "hi");
    assert_eq!(
        store
            .insert_message(stored(&m, MessageState::Pending))
            .await,
        Ok(true)
    );
    assert_eq!(
        store
            .insert_message(stored(&m, MessageState::Delivered))
            .await,
        Ok(false)
    );
    let got = store.message(&m.id()).await.ok().flatten().map(|s| s.state);
    assert_eq!(got, Some(MessageState::Pending));
    assert_eq!(store.message(&MessageId([7; 32])).await, Ok(None));
    assert_eq!(
        store
            .message_keys(&ConversationId([1; 16]))
            .await
            .map(|k| k.len()),
        Ok(1)
    );
}

/// Only delivered messages are in pages; a state change moves a message in or out.
pub async fn state_changes_move_messages_in_and_out_of_pages<S: ChatStore>(store: S) {
    let alice = key(1);
    let m = message(&alice, 1, 10, &[], "hi");
    let conv = ConversationId([1; 16]);
    assert_eq!(
        store
            .insert_message(stored(&m, MessageState::Pending))
            .await,
        Ok(true)
    );
    assert_eq!(store.page(&conv, None, 10).await.map(|p| p.len()), Ok(0));
    assert_eq!(
        store
            .set_message_state(&m.id(), MessageState::Delivered, true)
            .await,
        Ok(())
    );
    let page = store.page(&conv, None, 10).await.unwrap_or_default();
    assert_eq!(ids(&page), vec![m.id()]);
    assert!(page[0].late);
    assert_eq!(
        store
            .set_message_state(&m.id(), MessageState::Rejected, false)
            .await,
        Ok(())
    );
    assert_eq!(store.page(&conv, None, 10).await.map(|p| p.len()), Ok(0));
    // Rejected messages stay in the sync set.
    assert_eq!(store.message_keys(&conv).await.map(|k| k.len()), Ok(1));
    // Unknown ids are ignored.
    assert_eq!(
        store
            .set_message_state(&MessageId([3; 32]), MessageState::Delivered, false)
            .await,
        Ok(())
    );
}

/// `message_keys` is ascending by (time, id) and holds only the asked conversation.
pub async fn message_keys_are_ascending_per_conversation<S: ChatStore>(store: S) {
    let alice = key(1);
    let mut expected = vec![];
    for (i, time) in [30u64, 10, 20, 10].into_iter().enumerate() {
        let m = message(&alice, 1, time, &[], &format!("m{i}"));
        expected.push(m.key());
        assert_eq!(
            store
                .insert_message(stored(&m, MessageState::Delivered))
                .await,
            Ok(true)
        );
        let other = message(&alice, 2, time, &[], &format!("other{i}"));
        assert_eq!(
            store
                .insert_message(stored(&other, MessageState::Delivered))
                .await,
            Ok(true)
        );
    }
    // A neighbouring conversation id must not leak in.
    let neighbour = message(&alice, 0, 5, &[], "neighbour");
    assert_eq!(
        store
            .insert_message(stored(&neighbour, MessageState::Delivered))
            .await,
        Ok(true)
    );
    expected.sort();
    assert_eq!(
        store.message_keys(&ConversationId([1; 16])).await,
        Ok(expected)
    );
}

/// Pages are newest first, below the cursor, at most `limit`, and walk the whole view.
pub async fn pages_are_newest_first_below_the_cursor<S: ChatStore>(store: S) {
    let alice = key(1);
    let conv = ConversationId([1; 16]);
    let mut keys: Vec<OrderKey> = vec![];
    for i in 0..25u64 {
        let m = message(&alice, 1, 100 + i / 2, &[], &format!("m{i}"));
        keys.push(m.key());
        assert_eq!(
            store
                .insert_message(stored(&m, MessageState::Delivered))
                .await,
            Ok(true)
        );
    }
    keys.sort();
    keys.reverse();
    let mut walked: Vec<OrderKey> = vec![];
    let mut cursor = None;
    loop {
        let page = store.page(&conv, cursor, 10).await.unwrap_or_default();
        assert!(page.len() <= 10);
        if page.is_empty() {
            break;
        }
        cursor = page.last().map(|m| m.envelope.key());
        walked.extend(page.iter().map(|m| m.envelope.key()));
    }
    assert_eq!(walked, keys);
    assert_eq!(
        store.page(&conv, Some(keys[0]), 1).await.map(|p| ids(&p)),
        Ok(vec![keys[1].id])
    );
    assert_eq!(store.page(&conv, None, 0).await.map(|p| p.len()), Ok(0));
}

/// Waiting children form a set per parent; taking empties it; missing parents are the waited
/// parents not stored, per conversation.
pub async fn waiting_and_missing_parents<S: ChatStore>(store: S) {
    let conv = ConversationId([1; 16]);
    let (parent, stored_parent, child_a, child_b) = (
        MessageId([1; 32]),
        MessageId([2; 32]),
        MessageId([8; 32]),
        MessageId([9; 32]),
    );
    let alice = key(1);
    let present = message(&alice, 1, 1, &[], "present");
    assert_eq!(
        store
            .insert_message(stored(&present, MessageState::Pending))
            .await,
        Ok(true)
    );
    for (p, c) in [
        (parent, child_b),
        (parent, child_a),
        (parent, child_a),
        (stored_parent, child_a),
        (present.id(), child_b),
    ] {
        assert_eq!(store.add_waiting(&conv, &p, &c).await, Ok(()));
    }
    assert_eq!(
        store
            .add_waiting(&ConversationId([2; 16]), &MessageId([5; 32]), &child_a)
            .await,
        Ok(())
    );
    assert_eq!(
        store.missing_parents(&conv).await,
        Ok(vec![parent, stored_parent])
    );
    assert_eq!(
        store.take_waiting(&parent).await,
        Ok(vec![child_a, child_b])
    );
    assert_eq!(store.take_waiting(&parent).await, Ok(vec![]));
    assert_eq!(store.missing_parents(&conv).await, Ok(vec![stored_parent]));
    assert_eq!(store.take_waiting(&present.id()).await, Ok(vec![child_b]));
}

/// Conversations are replaced by id and listed by id.
pub async fn conversations_put_get_replace_list<S: ChatStore>(store: S) {
    let (alice, bob) = (key(1), key(2));
    let mut c2 = conversation(2, &[&alice, &bob]);
    let c1 = conversation(1, &[&alice]);
    assert_eq!(store.put_conversation(c2.clone()).await, Ok(()));
    assert_eq!(store.put_conversation(c1.clone()).await, Ok(()));
    c2.title = "renamed".into();
    c2.read_marker = Some(OrderKey {
        time: Timestamp(5),
        id: MessageId([1; 32]),
    });
    assert_eq!(store.put_conversation(c2.clone()).await, Ok(()));
    assert_eq!(store.conversation(&c2.id).await, Ok(Some(c2.clone())));
    assert_eq!(store.conversation(&ConversationId([9; 16])).await, Ok(None));
    assert_eq!(store.conversations().await, Ok(vec![c1, c2]));
}

/// Contacts are replaced by key, listed, and removed once.
pub async fn contacts_put_get_remove_list<S: ChatStore>(store: S) {
    let (alice, bob) = (key(1), key(2));
    let mut a = Contact {
        key: alice.public(),
        name: "Alice".into(),
        addresses: vec![],
    };
    let b = Contact {
        key: bob.public(),
        name: "Bob".into(),
        addresses: vec!["/dns4/relay/tcp/443/wss".into()],
    };
    assert_eq!(store.put_contact(a.clone()).await, Ok(()));
    assert_eq!(store.put_contact(b.clone()).await, Ok(()));
    a.name = "Alice K.".into();
    assert_eq!(store.put_contact(a.clone()).await, Ok(()));
    assert_eq!(store.contact(&alice.public()).await, Ok(Some(a.clone())));
    let mut listed = store.contacts().await.unwrap_or_default();
    listed.sort_by_key(|c| c.key.to_bytes());
    let mut expected = vec![a, b];
    expected.sort_by_key(|c| c.key.to_bytes());
    assert_eq!(listed, expected);
    assert_eq!(store.remove_contact(&bob.public()).await, Ok(true));
    assert_eq!(store.remove_contact(&bob.public()).await, Ok(false));
    assert_eq!(store.contact(&bob.public()).await, Ok(None));
}

fn entry(message: u8, recipient: &DeviceKey, at: u64) -> OutboxEntry {
    OutboxEntry {
        message: MessageId([message; 32]),
        conversation: ConversationId([1; 16]),
        recipient: recipient.public(),
        envelope: vec![message; 3],
        attempts: 0,
        next_attempt_ms: at,
    }
}

/// Adding is idempotent per (message, recipient); due entries come by time, within the limit.
pub async fn outbox_add_is_idempotent_and_due_in_time_order<S: ChatStore>(store: S) {
    let (bob, carol) = (key(2), key(3));
    assert_eq!(store.add_outbox(entry(1, &bob, 300)).await, Ok(true));
    assert_eq!(store.add_outbox(entry(1, &bob, 0)).await, Ok(false));
    assert_eq!(store.add_outbox(entry(1, &carol, 100)).await, Ok(true));
    assert_eq!(store.add_outbox(entry(2, &bob, 200)).await, Ok(true));
    assert_eq!(store.outbox_len().await, Ok(3));
    assert_eq!(store.next_outbox_attempt().await, Ok(Some(100)));
    let due = store.due_outbox(250, 10).await.unwrap_or_default();
    assert_eq!(due, vec![entry(1, &carol, 100), entry(2, &bob, 200)]);
    assert_eq!(store.due_outbox(1000, 1).await.map(|d| d.len()), Ok(1));
    assert_eq!(store.due_outbox(99, 10).await, Ok(vec![]));
}

/// Updates reschedule existing entries only; removal is reported once.
pub async fn outbox_update_and_remove<S: ChatStore>(store: S) {
    let bob = key(2);
    assert_eq!(store.add_outbox(entry(1, &bob, 100)).await, Ok(true));
    let mut later = entry(1, &bob, 5000);
    later.attempts = 3;
    assert_eq!(store.update_outbox(later.clone()).await, Ok(()));
    assert_eq!(store.due_outbox(4999, 10).await, Ok(vec![]));
    assert_eq!(store.due_outbox(5000, 10).await, Ok(vec![later]));
    assert_eq!(
        store
            .remove_outbox(&MessageId([1; 32]), &bob.public())
            .await,
        Ok(true)
    );
    assert_eq!(
        store
            .remove_outbox(&MessageId([1; 32]), &bob.public())
            .await,
        Ok(false)
    );
    // Updating a removed (acknowledged) entry must not bring it back.
    assert_eq!(store.update_outbox(entry(1, &bob, 0)).await, Ok(()));
    assert_eq!(store.outbox_len().await, Ok(0));
    assert_eq!(store.next_outbox_attempt().await, Ok(None));
}

/// The log over this backend: out-of-order arrival waits for parents, then delivers in
/// causal order; a late arrival below the read marker is flagged.
pub async fn log_delivers_causally_and_flags_late_arrivals<S: ChatStore>(store: S) {
    let (alice, bob) = (key(1), key(2));
    let conv = conversation(1, &[&alice, &bob]);
    assert_eq!(store.put_conversation(conv.clone()).await, Ok(()));
    let mut clock = Clock::new();
    let a = message(&alice, 1, 100, &[], "a");
    let b = message(&bob, 1, 200, &[a.id()], "b");
    let side = message(&bob, 1, 50, &[], "early but late");
    let inserted = log::insert(&store, &mut clock, 0, b.clone()).await;
    assert_eq!(
        inserted.as_ref().map(|i| (i.outcome, i.missing.clone())),
        Ok((log::Outcome::Pending, vec![a.id()]))
    );
    assert_eq!(store.page(&conv.id, None, 10).await.map(|p| p.len()), Ok(0));
    let inserted = log::insert(&store, &mut clock, 0, a.clone()).await;
    assert_eq!(
        inserted.map(|i| (i.outcome, i.delivered)),
        Ok((log::Outcome::Delivered, vec![a.id(), b.id()]))
    );
    assert_eq!(
        log::mark_read(&store, &conv.id, b.key()).await,
        Ok(Some(b.key()))
    );
    let inserted = log::insert(&store, &mut clock, 0, side.clone()).await;
    assert_eq!(inserted.map(|i| i.late), Ok(vec![side.id()]));
    let page = store.page(&conv.id, None, 10).await.unwrap_or_default();
    assert_eq!(ids(&page), vec![b.id(), a.id(), side.id()]);
    assert_eq!(
        page.iter().map(|m| m.late).collect::<Vec<_>>(),
        vec![false, false, true]
    );
    let again = log::insert(&store, &mut clock, 0, a).await;
    assert_eq!(
        again.map(|i| i.outcome),
        Ok(log::Outcome::Duplicate(MessageState::Delivered))
    );
}

/// Expands to one test per contract function, each on a fresh store from `$make_store`.
///
/// `chat_store_contract_tests!(expr)` makes `#[test]` functions run with [`block_on`];
/// `chat_store_contract_tests!(async #[attr], expr)` makes `async fn`s with that attribute
/// (e.g. `#[wasm_bindgen_test]`), where `expr` may `.await`.
#[macro_export]
macro_rules! chat_store_contract_tests {
    (@each (async #[$attr:meta], $make_store:expr) $($name:ident),*) => {
        $( #[$attr] async fn $name() { $crate::contract::$name($make_store).await; } )*
    };
    (@each (sync, $make_store:expr) $($name:ident),*) => {
        $( #[test] fn $name() { $crate::contract::block_on($crate::contract::$name($make_store)); } )*
    };
    (@list $mode:tt) => {
        $crate::chat_store_contract_tests!(@each $mode
            message_insert_is_idempotent_by_id,
            state_changes_move_messages_in_and_out_of_pages,
            message_keys_are_ascending_per_conversation,
            pages_are_newest_first_below_the_cursor,
            waiting_and_missing_parents,
            conversations_put_get_replace_list,
            contacts_put_get_remove_list,
            outbox_add_is_idempotent_and_due_in_time_order,
            outbox_update_and_remove,
            log_delivers_causally_and_flags_late_arrivals);
    };
    (async #[$attr:meta], $make_store:expr) => {
        $crate::chat_store_contract_tests!(@list (async #[$attr], $make_store));
    };
    ($make_store:expr) => {
        $crate::chat_store_contract_tests!(@list (sync, $make_store));
    };
}
