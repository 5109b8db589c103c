//! The conversation log: insert with verification and deduplication, causal delivery with
//! missing-parent tracking, the ordered view, the read marker and late-arrival flags.
//!
//! # Rules
//! - A message is stored once per id ([`MessageStore::insert_message`] never replaces).
//! - It is *delivered* (shown) once every parent is delivered; until then it is *pending* and
//!   its missing parents are reported so the caller can fetch them.
//! - A parent must be in the same conversation and have a smaller time; a message that breaks
//!   this, or descends from one that does, is *rejected* (stored, never shown). These rules
//!   depend only on the messages, so every device that holds the same set shows the same view.
//! - The ordered view is delivered messages by `(time, id)`. Because a child's time exceeds its
//!   parents', this order is causal. Keys never change, so a shown message never moves; a
//!   message delivered with a key below the read marker is flagged `late` instead.

use chat_sync::SortedItems;
use crypto::keys::DeviceKey;

use crate::envelope::{
    Body, Content, ConversationId, Envelope, EnvelopeError, MAX_PARENTS, MessageId, OrderKey,
};
use crate::hlc::{Clock, TooFarAhead};
use crate::store::{
    Conversation, ConversationStore, MessageState, MessageStore, StoreError, StoredMessage,
};

/// Why a message was not taken into the log (it is not stored).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// This device does not hold the conversation.
    #[error("unknown conversation")]
    UnknownConversation,
    /// The author is not a member of the conversation.
    #[error("author is not a member")]
    NotMember,
    /// The message's time is too far ahead of our clock; it may be offered again later.
    #[error(transparent)]
    FromTheFuture(#[from] TooFarAhead),
    /// Composing failed.
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
}

/// What happened to the inserted message itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Already stored, in this state.
    Duplicate(MessageState),
    /// Stored, waiting for parents.
    Pending,
    /// Stored and shown.
    Delivered,
    /// Stored, never shown.
    Rejected,
}

/// The result of [`insert`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inserted {
    /// The message's id.
    pub id: MessageId,
    /// What happened to it.
    pub outcome: Outcome,
    /// Messages delivered by this insert (it, and pending descendants it completed), in order
    /// of delivery.
    pub delivered: Vec<MessageId>,
    /// Those of `delivered` that landed below the read marker.
    pub late: Vec<MessageId>,
    /// Messages rejected by this insert.
    pub rejected: Vec<MessageId>,
    /// Parents that are not stored: fetch them.
    pub missing: Vec<MessageId>,
}

enum Verdict {
    Ready,
    Invalid,
    Waiting {
        blockers: Vec<MessageId>,
        missing: Vec<MessageId>,
    },
}

/// Takes a verified envelope into the log. `now_ms` is the wall clock; `clock` observes the
/// message's time.
pub async fn insert<S: MessageStore + ConversationStore>(
    store: &S,
    clock: &mut Clock,
    now_ms: u64,
    envelope: Envelope,
) -> Result<Inserted, LogError> {
    let id = envelope.id();
    let content = envelope.content();
    let mut conversation = store
        .conversation(&content.conversation)
        .await?
        .ok_or(LogError::UnknownConversation)?;
    if !conversation.members.contains(&content.author) {
        return Err(LogError::NotMember);
    }
    let mut inserted = Inserted {
        id,
        outcome: Outcome::Pending,
        delivered: vec![],
        late: vec![],
        rejected: vec![],
        missing: vec![],
    };
    match store.message(&id).await? {
        // A pending duplicate is evaluated again: this repairs an insert cut short by a crash.
        Some(existing) if existing.state != MessageState::Pending => {
            inserted.outcome = Outcome::Duplicate(existing.state);
            return Ok(inserted);
        }
        Some(_) => inserted.outcome = Outcome::Duplicate(MessageState::Pending),
        None => {
            clock.observe(now_ms, content.time)?;
            store
                .insert_message(StoredMessage {
                    envelope,
                    state: MessageState::Pending,
                    late: false,
                })
                .await?;
        }
    }
    settle(store, &mut conversation, vec![id], &mut inserted).await?;
    if let Outcome::Pending | Outcome::Duplicate(MessageState::Pending) = inserted.outcome {
        inserted.outcome = if inserted.delivered.first() == Some(&id) {
            Outcome::Delivered
        } else if inserted.rejected.first() == Some(&id) {
            Outcome::Rejected
        } else {
            Outcome::Pending
        };
    }
    Ok(inserted)
}

/// Takes envelope bytes from the network into the log: a message already stored (same bytes,
/// so same id) is reported as a duplicate without checking its signature again; anything else
/// is decoded and verified ([`Envelope::decode`]) and then [`insert`]ed.
pub async fn receive<S: MessageStore + ConversationStore>(
    store: &S,
    clock: &mut Clock,
    now_ms: u64,
    bytes: &[u8],
) -> Result<Inserted, LogError> {
    if bytes.len() <= crate::envelope::MAX_ENVELOPE_LEN {
        let id = Envelope::id_of(bytes);
        if let Some(existing) = store.message(&id).await?
            && existing.state != MessageState::Pending
        {
            let outcome = Outcome::Duplicate(existing.state);
            return Ok(Inserted {
                id,
                outcome,
                delivered: vec![],
                late: vec![],
                rejected: vec![],
                missing: vec![],
            });
        }
    }
    insert(store, clock, now_ms, Envelope::decode(bytes)?).await
}

/// Evaluates pending messages (and what they unblock) until nothing changes.
async fn settle<S: MessageStore + ConversationStore>(
    store: &S,
    conversation: &mut Conversation,
    mut work: Vec<MessageId>,
    result: &mut Inserted,
) -> Result<(), LogError> {
    let mut heads_changed = false;
    while let Some(id) = work.pop() {
        let Some(message) = store.message(&id).await? else {
            continue;
        };
        if message.state != MessageState::Pending {
            continue;
        }
        match evaluate(store, &message).await? {
            Verdict::Ready => {
                let key = message.envelope.key();
                let late = conversation.read_marker.is_some_and(|marker| key < marker);
                store
                    .set_message_state(&id, MessageState::Delivered, late)
                    .await?;
                let parents = &message.envelope.content().parents;
                conversation.heads.retain(|head| !parents.contains(head));
                conversation.heads.push(id);
                heads_changed = true;
                result.delivered.push(id);
                if late {
                    result.late.push(id);
                }
                work.extend(store.take_waiting(&id).await?);
            }
            Verdict::Invalid => {
                store
                    .set_message_state(&id, MessageState::Rejected, false)
                    .await?;
                result.rejected.push(id);
                work.extend(store.take_waiting(&id).await?);
            }
            Verdict::Waiting { blockers, missing } => {
                for parent in &blockers {
                    store.add_waiting(&conversation.id, parent, &id).await?;
                }
                for parent in missing {
                    if !result.missing.contains(&parent) {
                        result.missing.push(parent);
                    }
                }
            }
        }
    }
    if heads_changed {
        conversation.heads.sort_unstable();
        store.put_conversation(conversation.clone()).await?;
    }
    result
        .missing
        .retain(|id| !result.delivered.contains(id) && !result.rejected.contains(id));
    Ok(())
}

async fn evaluate<S: MessageStore>(
    store: &S,
    message: &StoredMessage,
) -> Result<Verdict, StoreError> {
    let content = message.envelope.content();
    let (mut blockers, mut missing) = (vec![], vec![]);
    for parent_id in &content.parents {
        match store.message(parent_id).await? {
            None => {
                blockers.push(*parent_id);
                missing.push(*parent_id);
            }
            Some(parent) => {
                let p = parent.envelope.content();
                if p.conversation != content.conversation
                    || p.time >= content.time
                    || parent.state == MessageState::Rejected
                {
                    return Ok(Verdict::Invalid);
                }
                if parent.state == MessageState::Pending {
                    blockers.push(*parent_id);
                }
            }
        }
    }
    Ok(if blockers.is_empty() {
        Verdict::Ready
    } else {
        Verdict::Waiting { blockers, missing }
    })
}

/// Re-evaluates every pending message of a conversation: run once after a restart, so that an
/// insert cut short by a crash completes.
pub async fn recover<S: MessageStore + ConversationStore>(
    store: &S,
    conversation: &ConversationId,
) -> Result<Inserted, LogError> {
    let mut state = store
        .conversation(conversation)
        .await?
        .ok_or(LogError::UnknownConversation)?;
    let mut result = Inserted {
        id: MessageId([0; 32]),
        outcome: Outcome::Pending,
        delivered: vec![],
        late: vec![],
        rejected: vec![],
        missing: vec![],
    };
    let mut pending = vec![];
    for key in store.message_keys(conversation).await? {
        if let Some(message) = store.message(&key.id).await?
            && message.state == MessageState::Pending
        {
            pending.push(key.id);
        }
    }
    pending.reverse();
    settle(store, &mut state, pending, &mut result).await?;
    result.missing = store.missing_parents(conversation).await?;
    Ok(result)
}

/// Writes a new message: parents are the conversation's heads (the newest [`MAX_PARENTS`]),
/// the time is above theirs, and it is inserted (delivered) before it is returned.
pub async fn compose<S: MessageStore + ConversationStore>(
    store: &S,
    clock: &mut Clock,
    key: &DeviceKey,
    now_ms: u64,
    conversation: &ConversationId,
    body: Body,
) -> Result<Envelope, LogError> {
    let state = store
        .conversation(conversation)
        .await?
        .ok_or(LogError::UnknownConversation)?;
    let mut heads: Vec<OrderKey> = Vec::with_capacity(state.heads.len());
    for head in &state.heads {
        if let Some(message) = store.message(head).await? {
            heads.push(message.envelope.key());
        }
    }
    heads.sort_unstable();
    let parents: Vec<MessageId> = heads.iter().rev().take(MAX_PARENTS).map(|k| k.id).collect();
    if let Some(newest) = heads.last() {
        clock.advance_to(newest.time);
    }
    let content = Content {
        author: key.public(),
        conversation: *conversation,
        time: clock.tick(now_ms),
        parents,
        body,
    };
    let envelope = Envelope::sign(key, content)?;
    insert(store, clock, now_ms, envelope.clone()).await?;
    Ok(envelope)
}

/// Moves the read marker forward to `key` (never back); returns the marker now in force.
pub async fn mark_read<S: ConversationStore>(
    store: &S,
    conversation: &ConversationId,
    key: OrderKey,
) -> Result<Option<OrderKey>, LogError> {
    let mut state = store
        .conversation(conversation)
        .await?
        .ok_or(LogError::UnknownConversation)?;
    if state.read_marker.is_none_or(|marker| marker < key) {
        state.read_marker = Some(key);
        store.put_conversation(state.clone()).await?;
    }
    Ok(state.read_marker)
}

/// The conversation's sync set, for [`chat_sync::SyncEngine`].
pub async fn sync_items<S: MessageStore>(
    store: &S,
    conversation: &ConversationId,
) -> Result<SortedItems, StoreError> {
    let keys = store.message_keys(conversation).await?;
    Ok(SortedItems::from_unsorted(
        keys.into_iter().map(Into::into).collect(),
    ))
}
