//! Property tests: decoders of untrusted or stored bytes never panic and accept only what
//! they produce; the log's view does not depend on arrival order.

use chat::contract::block_on;
use chat::contract::fixtures::{conversation, key};
use chat::log;
use chat::store::{StoredMessage, decode_record};
use chat::{
    Body, Clock, Contact, Content, Conversation, ConversationId, ConversationStore as _, Envelope,
    MemoryStore, MessageId, MessageStore as _, OutboxEntry, ReceiptKind, Timestamp,
};
use proptest::prelude::*;

fn arb_body() -> impl Strategy<Value = Body> {
    prop_oneof![
        ".{0,40}".prop_map(Body::Text),
        prop::collection::vec(any::<u8>(), 0..120).prop_map(Body::Voucher),
        (any::<bool>(), prop::array::uniform32(any::<u8>())).prop_map(|(read, target)| {
            Body::Receipt {
                kind: if read {
                    ReceiptKind::Read
                } else {
                    ReceiptKind::Delivered
                },
                target: MessageId(target),
            }
        }),
        (prop::array::uniform32(any::<u8>()), ".{0,8}").prop_map(|(target, reaction)| {
            Body::Reaction {
                target: MessageId(target),
                reaction,
            }
        }),
    ]
}

fn arb_envelope() -> impl Strategy<Value = Envelope> {
    (
        any::<u8>(),
        0u64..u64::MAX - 1,
        prop::collection::btree_set(prop::array::uniform32(any::<u8>()), 0..4),
        arb_body(),
    )
        .prop_filter_map("signs", |(seed, time, parents, body)| {
            let author = key(seed);
            let content = Content {
                author: author.public(),
                conversation: ConversationId([seed; 16]),
                time: Timestamp(time),
                parents: parents.into_iter().map(MessageId).collect(),
                body,
            };
            Envelope::sign(&author, content).ok()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn envelopes_round_trip(envelope in arb_envelope()) {
        prop_assert_eq!(Envelope::decode(envelope.as_bytes()), Ok(envelope.clone()));
        let record = StoredMessage { envelope: envelope.clone(), state: chat::MessageState::Delivered, late: true };
        prop_assert_eq!(StoredMessage::from_bytes(&record.to_bytes()), Ok(record));
    }

    #[test]
    fn mutated_envelopes_never_decode_as_something_else(envelope in arb_envelope(), at in any::<prop::sample::Index>(), value in any::<u8>()) {
        let mut bytes = envelope.as_bytes().to_vec();
        let i = at.index(bytes.len());
        bytes[i] = value;
        match Envelope::decode(&bytes) {
            Ok(decoded) => prop_assert_eq!(decoded.as_bytes(), envelope.as_bytes()),
            Err(_) => prop_assert_ne!(&bytes[..], envelope.as_bytes()),
        }
    }
}

proptest! {
    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        if let Ok(envelope) = Envelope::decode(&bytes) {
            prop_assert_eq!(envelope.as_bytes(), &bytes[..]);
        }
        if let Ok(record) = StoredMessage::from_bytes(&bytes) {
            prop_assert_eq!(record.to_bytes(), bytes.clone());
        }
        let _ = decode_record::<Conversation>(&bytes);
        let _ = decode_record::<Contact>(&bytes);
        let _ = decode_record::<OutboxEntry>(&bytes);
    }

    #[test]
    fn records_round_trip(title in ".{0,30}", marker_time in any::<u64>(), heads in prop::collection::vec(prop::array::uniform32(any::<u8>()), 0..3)) {
        let mut c = conversation(3, &[&key(1), &key(2)]);
        c.title = title;
        c.heads = heads.into_iter().map(MessageId).collect();
        c.read_marker = Some(chat::OrderKey { time: Timestamp(marker_time), id: MessageId([4; 32]) });
        let bytes = chat::store::encode_record(&c).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(bytes[0], chat::store::RECORD_VERSION);
        prop_assert_eq!(decode_record::<Conversation>(&bytes), Ok(c));
    }
}

/// A random causal history: message `i` has parents among the earlier ones.
fn history(shape: &[(u8, Vec<prop::sample::Index>)]) -> Vec<Envelope> {
    let authors = [key(1), key(2), key(3)];
    let mut made: Vec<Envelope> = vec![];
    for (i, (author, parent_picks)) in shape.iter().enumerate() {
        let mut parents: Vec<MessageId> = if made.is_empty() {
            vec![]
        } else {
            parent_picks
                .iter()
                .map(|p| made[p.index(made.len())].id())
                .collect()
        };
        parents.sort_unstable();
        parents.dedup();
        let newest_parent = parents
            .iter()
            .filter_map(|p| made.iter().find(|m| m.id() == *p))
            .map(|m| m.content().time.0)
            .max();
        let time = newest_parent.map_or(100 + i as u64, |t| t + 1 + (i as u64 % 3));
        let author = &authors[usize::from(*author) % authors.len()];
        let content = Content {
            author: author.public(),
            conversation: ConversationId([1; 16]),
            time: Timestamp(time),
            parents,
            body: Body::Text(format!("m{i}")),
        };
        made.push(Envelope::sign(author, content).expect("signs"));
    }
    made
}

fn view_after(order: &[Envelope]) -> Vec<MessageId> {
    let store = MemoryStore::new();
    block_on(store.put_conversation(conversation(1, &[&key(1), &key(2), &key(3)])))
        .expect("stored");
    let mut clock = Clock::new();
    for envelope in order {
        block_on(log::insert(&store, &mut clock, 0, envelope.clone())).expect("inserted");
    }
    let page = block_on(store.page(&ConversationId([1; 16]), None, usize::MAX)).expect("page");
    page.iter().rev().map(|m| m.envelope.id()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn the_view_does_not_depend_on_arrival_order(
        shape in prop::collection::vec((any::<u8>(), prop::collection::vec(any::<prop::sample::Index>(), 0..3)), 1..12),
        shuffle in Just(()).prop_perturb(|_, mut rng| rng.next_u64()),
    ) {
        let made = history(&shape);
        let in_order = view_after(&made);
        prop_assert_eq!(in_order.len(), made.len());
        let mut shuffled = made.clone();
        let mut state = shuffle;
        for i in (1..shuffled.len()).rev() {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(view_after(&shuffled), in_order.clone());
        // Causal: parents come first.
        for (position, id) in in_order.iter().enumerate() {
            let message = made.iter().find(|m| m.id() == *id).expect("made");
            for parent in &message.content().parents {
                prop_assert!(in_order[..position].contains(parent));
            }
        }
    }
}
