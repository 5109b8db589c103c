//! Mailbox throughput on a real SQLite file (WAL, `synchronous=FULL`, as the server runs):
//!
//! - `mailbox/put`: one sealed envelope stored for a registered recipient, in its own
//!   transaction, as one `POST /api/mailbox` does.
//! - `mailbox/fetch_and_ack_100`: the recipient's whole collection of 100 envelopes: a
//!   challenge, its signature and a fetch, then a second challenge and the ack that deletes them
//!   (the two client signatures included, about 2 × 20 µs).

use std::{
    cell::RefCell,
    hint::black_box,
    time::{Duration, Instant},
};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use crypto::keys::{Context, DeviceKey};
use platform::{
    db,
    mailbox::{self, Proof},
    registry,
};
use rand_core::{OsRng, RngCore as _};

const NOW: u64 = 1_767_225_600;
/// A sealed chat envelope's typical size.
const ENVELOPE_BYTES: usize = 512;
const COLLECTED: usize = 100;

fn proof(connection: &mut rusqlite::Connection, recipient: &DeviceKey) -> Proof {
    let (challenge, _) = mailbox::challenge(connection, &recipient.public(), NOW, &mut OsRng).unwrap();
    let message = mailbox::challenge_message(&challenge, &recipient.public());
    Proof { challenge, signature: recipient.sign(Context::MAILBOX_CHALLENGE, &message) }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    // Setup and measured routine both use the connection, one after the other.
    let connection = RefCell::new(db::connect(&dir.path().join("mailbox.sqlite3")).unwrap());
    let recipient = DeviceKey::generate(&mut OsRng);
    registry::register_device(&mut connection.borrow_mut(), &recipient.public(), "recipient", NOW).unwrap();
    let mut envelope = vec![0u8; ENVELOPE_BYTES];
    OsRng.fill_bytes(&mut envelope);

    let mut group = c.benchmark_group("mailbox");
    group.throughput(Throughput::Elements(1));
    group.bench_function("put", |b| {
        b.iter_custom(|iterations| {
            let mut measured = Duration::ZERO;
            for _ in 0..iterations {
                let mut connection = connection.borrow_mut();
                // Stay below the per-recipient limit, untimed: empty the mailbox when it is nearly full.
                let held: i64 = connection.query_row("SELECT count(*) FROM mailbox", [], |row| row.get(0)).unwrap();
                if held >= mailbox::MAX_ENVELOPES_PER_RECIPIENT - 1 {
                    connection.execute("DELETE FROM mailbox", []).unwrap();
                }
                let start = Instant::now();
                mailbox::deposit(&mut connection, &recipient.public(), black_box(&envelope), NOW).unwrap();
                measured += start.elapsed();
            }
            measured
        })
    });
    connection.borrow().execute("DELETE FROM mailbox", []).unwrap();

    group.throughput(Throughput::Elements(COLLECTED as u64));
    group.bench_function("fetch_and_ack_100", |b| {
        b.iter_batched(
            || {
                let mut connection = connection.borrow_mut();
                let transaction = connection.transaction().unwrap();
                for _ in 0..COLLECTED {
                    mailbox::put(&transaction, &recipient.public(), &envelope, NOW).unwrap();
                }
                transaction.commit().unwrap();
            },
            |()| {
                let mut connection = connection.borrow_mut();
                let fetch_proof = proof(&mut connection, &recipient);
                let envelopes = mailbox::fetch(&mut connection, &recipient.public(), &fetch_proof, NOW).unwrap();
                assert_eq!(envelopes.len(), COLLECTED);
                let ids: Vec<i64> = envelopes.iter().map(|(id, _)| *id).collect();
                let ack_proof = proof(&mut connection, &recipient);
                assert_eq!(mailbox::ack(&mut connection, &recipient.public(), &ack_proof, &ids, NOW).unwrap(), COLLECTED);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
