//! Reconciliation of two 100,000-message logs differing by 10 and by 1,000 messages: time
//! (criterion), and round trips and bytes each way, written as JSON to
//! `target/bench-figures/chat.json` (the lead's `cargo xtask bench chat` collects it).

use std::collections::BTreeMap;
use std::path::PathBuf;

use chat_sync::{Config, Event, Item, SortedItems, Stats, SyncEngine, Topic};
use criterion::{Criterion, criterion_group, criterion_main};

const TOPIC: Topic = [1; 16];
const LOG_SIZE: u64 = 100_000;

/// Message-like items: about one message a second, ids spread like hashes.
fn item(n: u64) -> Item {
    let mut id = [0u8; 32];
    let mut x = n.wrapping_add(1);
    for chunk in id.chunks_exact_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    Item {
        time: (1_700_000_000_000 + n * 997) << 16,
        id,
    }
}

/// Two logs of `LOG_SIZE` messages; each lacks `differences / 2` of the other's, spread evenly.
fn logs(differences: u64) -> (SortedItems, SortedItems) {
    let half = differences / 2;
    let stride = LOG_SIZE / differences.max(1);
    let mut a = vec![];
    let mut b = vec![];
    for n in 0..LOG_SIZE + half {
        let k = n / stride;
        let on_stride = n % stride == stride / 2 && k < differences;
        match (on_stride, k % 2) {
            (true, 0) => a.push(item(n)),
            (true, _) => b.push(item(n)),
            (false, _) => {
                a.push(item(n));
                b.push(item(n));
            }
        }
    }
    (SortedItems::from_unsorted(a), SortedItems::from_unsorted(b))
}

/// One full reconciliation, initiator 0 against responder 1; returns the initiator's figures
/// and the number of ids found.
fn reconcile(a: &SortedItems, b: &SortedItems) -> (Stats, usize) {
    let sets = [
        BTreeMap::from([(TOPIC, a.clone())]),
        BTreeMap::from([(TOPIC, b.clone())]),
    ];
    let mut engines: [SyncEngine<usize>; 2] = [
        SyncEngine::new(Config::default()),
        SyncEngine::new(Config::default()),
    ];
    let started = engines[0].start_sync(0, 1, TOPIC, a);
    assert!(started.is_ok());
    loop {
        let mut moved = false;
        for from in 0..2 {
            while let Some(t) = engines[from].poll_transmit() {
                moved = true;
                let handled = engines[1 - from].handle_frame(0, from, &t.frame, &sets[1 - from]);
                assert!(handled.is_ok());
            }
        }
        if !moved {
            break;
        }
    }
    while let Some(event) = engines[0].poll_event() {
        if let Event::Reconciled {
            need, have, stats, ..
        } = event
        {
            return (stats, need.len() + have.len());
        }
    }
    panic!("reconciliation did not complete");
}

fn figures_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join("target")
        });
    target.join("bench-figures").join("chat.json")
}

fn bench(c: &mut Criterion) {
    let mut entries = vec![];
    for differences in [10u64, 1_000] {
        let (a, b) = logs(differences);
        let (stats, found) = reconcile(&a, &b);
        assert_eq!(
            found as u64, differences,
            "the bench logs must differ by exactly {differences}"
        );
        println!(
            "sync {LOG_SIZE} vs {LOG_SIZE} messages, {differences} differences: {} round trips, {} bytes initiator→responder, {} bytes responder→initiator",
            stats.round_trips, stats.bytes_sent, stats.bytes_received
        );
        entries.push(format!(
            "    \"sync_100k_diff_{differences}\": {{ \"messages_each\": {LOG_SIZE}, \"differences\": {differences}, \"round_trips\": {}, \"bytes_initiator_to_responder\": {}, \"bytes_responder_to_initiator\": {}, \"bytes_total\": {} }}",
            stats.round_trips,
            stats.bytes_sent,
            stats.bytes_received,
            stats.bytes_sent + stats.bytes_received
        ));
        c.bench_function(&format!("sync_100k_diff_{differences}"), |bench| {
            bench.iter(|| reconcile(&a, &b))
        });
    }
    let json = format!("{{\n{}\n}}\n", entries.join(",\n"));
    let path = figures_path();
    let written = path
        .parent()
        .map(std::fs::create_dir_all)
        .transpose()
        .and_then(|_| std::fs::write(&path, &json));
    match written {
        Ok(()) => println!("figures written to {}", path.display()),
        Err(e) => eprintln!("could not write {}: {e}", path.display()),
    }
    print!("{json}");
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
