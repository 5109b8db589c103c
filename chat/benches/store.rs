//! The in-memory store through the log: insert throughput (10,000 messages, each taken in
//! with causal delivery), the same from the network's bytes with signature checks (1,000),
//! and pages of 50 from a 100,000-message conversation.

use std::time::Duration;

use chat::contract::block_on;
use chat::contract::fixtures::{conversation, key};
use chat::{
    Body, Clock, Content, ConversationId, ConversationStore as _, Envelope, MemoryStore, MessageId,
    MessageStore as _, Timestamp, log,
};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const CONVERSATION: ConversationId = ConversationId([1; 16]);

/// A chain of `count` signed messages (each the parent of the next), from two authors.
fn chain(count: usize) -> Vec<Envelope> {
    let authors = [key(1), key(2)];
    let mut made: Vec<Envelope> = Vec::with_capacity(count);
    for i in 0..count {
        let author = &authors[i % 2];
        let parents: Vec<MessageId> = made.last().map(|m| m.id()).into_iter().collect();
        let content = Content {
            author: author.public(),
            conversation: CONVERSATION,
            time: Timestamp::new(1_700_000_000_000 + i as u64 * 1_000, 0),
            parents,
            body: Body::Text(format!("message number {i}")),
        };
        match Envelope::sign(author, content) {
            Ok(envelope) => made.push(envelope),
            Err(e) => panic!("bench message does not sign: {e}"),
        }
    }
    made
}

fn fresh_store() -> MemoryStore {
    let store = MemoryStore::new();
    let stored = block_on(store.put_conversation(conversation(1, &[&key(1), &key(2)])));
    assert!(stored.is_ok());
    store
}

fn fill(store: &MemoryStore, messages: &[Envelope]) {
    let mut clock = Clock::new();
    for m in messages {
        let inserted = block_on(log::insert(store, &mut clock, 1_800_000_000_000, m.clone()));
        assert!(inserted.is_ok());
    }
}

fn bench(c: &mut Criterion) {
    let ten_thousand = chain(10_000);
    let mut group = c.benchmark_group("memory_store");
    group.throughput(Throughput::Elements(10_000));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("insert_10k", |b| {
        b.iter_batched(
            fresh_store,
            |store| fill(&store, &ten_thousand),
            BatchSize::PerIteration,
        )
    });
    group.finish();

    // The network path: bytes in, hash, signature check (`verify_strict`), then the log.
    let wire: Vec<Vec<u8>> = ten_thousand[..1_000]
        .iter()
        .map(|m| m.as_bytes().to_vec())
        .collect();
    let mut group = c.benchmark_group("memory_store");
    group.throughput(Throughput::Elements(1_000));
    group.sample_size(10);
    group.bench_function("receive_verified_1k", |b| {
        b.iter_batched(
            fresh_store,
            |store| {
                let mut clock = Clock::new();
                for bytes in &wire {
                    let received =
                        block_on(log::receive(&store, &mut clock, 1_800_000_000_000, bytes));
                    assert!(received.is_ok());
                }
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();

    let hundred_thousand = chain(100_000);
    let store = fresh_store();
    fill(&store, &hundred_thousand);
    let mut group = c.benchmark_group("memory_store");
    group.throughput(Throughput::Elements(50));
    group.bench_function("newest_50_of_100k", |b| {
        b.iter(|| {
            let page = block_on(store.page(&CONVERSATION, None, 50));
            assert_eq!(page.map(|p| p.len()).ok(), Some(50));
        })
    });
    let middle = hundred_thousand[50_000].key();
    group.bench_function("page_50_before_middle_of_100k", |b| {
        b.iter(|| {
            let page = block_on(store.page(&CONVERSATION, Some(middle), 50));
            assert_eq!(page.map(|p| p.len()).ok(), Some(50));
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
