//! Reconciliation throughput: receipts per second for a merchant's upload of offline receipts,
//! each carrying two signatures (the merchant's over the receipt, the holder's over the
//! presentation), batch-verified. Target on the 2-core build machine: at least 20,000/s.
//!
//! - `reconciliation/batch_verify`: `signatures::verify_receipts` alone on one upload.
//! - `reconciliation/dalek_batch_verify`: the reference: the same signatures through
//!   `ed25519_dalek::verify_batch`, one batch per core, as `verify_receipts` splits them.
//! - `reconciliation/upload_fresh`: `coupons::reconcile` as the API runs it: decoding, chunk by
//!   chunk, overlapping with the SQLite transaction that spends every voucher and stores every
//!   receipt, and one signature batch per core confirming the upload before the commit; on a fresh
//!   copy of a database holding the issued vouchers (a real file with the server's pragmas,
//!   `db::connect`).
//! - `reconciliation/upload_retry`: the same upload again (idempotent: outcomes read back).
//!
//! Non-timing figures (batch size, signatures per receipt, receipt and upload sizes) are printed
//! and written as JSON to `$CARGO_TARGET_DIR/bench-figures/platform.json` (default `target/`).

use std::{hint::black_box, path::Path};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use crypto::{
    OfflineContext, OfflinePolicy,
    keys::{DeviceKey, SignedMessage},
    ledger::MemoryLedger,
    presentation::{Presentation, Scanned},
    receipt::{Merchant, MerchantId, RedemptionReceipt},
    request::Order,
    revocation::VerifiedRevocationList,
    testing::block_on,
    verify_offline,
    voucher::BrandId,
};
use platform::{
    coupons::{self, ReceiptContext},
    db,
    keys::{KeyPaths, PlatformKeys},
    registry, signatures, trust,
};
use rand_core::OsRng;

const NOW: u64 = 1_767_225_600;
const BATCH: usize = 1000;
const AMERICANO: u32 = 1001;
const BRAND: u32 = 1;

struct Setup {
    _dir: tempfile::TempDir,
    template: std::path::PathBuf,
    receipts: Vec<Vec<u8>>,
}

/// A database with `BATCH` issued vouchers, each to its own holder, and an approved merchant, and
/// that merchant's offline receipts for all of them: one upload comes from one merchant, its
/// receipts from many customers.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("template.sqlite3");
    let mut connection = db::connect(&template).unwrap();
    let keys = PlatformKeys::load_or_generate(dir.path(), &KeyPaths::default()).unwrap();
    let source = trust::TrustSource::Development { root_key: dir.path().join("root.key") };
    let trust = trust::load(&source, &keys, &mut connection, NOW).unwrap().list;
    let (buyer, merchant_key) = (DeviceKey::generate(&mut OsRng), DeviceKey::generate(&mut OsRng));
    registry::register_device(&mut connection, &buyer.public(), "buyer", NOW).unwrap();
    let (view, _) = registry::register_merchant(&mut connection, BRAND, &merchant_key.public(), "shop", NOW).unwrap();
    registry::approve_merchant(&mut connection, view.id, NOW).unwrap();
    let merchant = Merchant::new(MerchantId(view.id), BrandId(BRAND), merchant_key);
    let (_, list) = coupons::revocation_list(&mut connection, &keys.platform, BRAND, NOW).unwrap();
    let revocations = VerifiedRevocationList::from_bytes(&list, &trust).unwrap();
    let policy = OfflinePolicy { max_unsynced_count: u32::MAX, max_unsynced_value: u64::MAX, ..OfflinePolicy::default() };
    let context = OfflineContext { merchant: &merchant, trust: &trust, revocations: &revocations, extensions: &[], policy };
    let mut ledger = MemoryLedger::new();
    let mut receipts = Vec::with_capacity(BATCH);
    for index in 0..BATCH {
        let holder = DeviceKey::generate(&mut OsRng);
        registry::register_device(&mut connection, &holder.public(), "holder", NOW).unwrap();
        let mut order_id = [0u8; 16];
        order_id[..8].copy_from_slice(&(index as u64).to_le_bytes());
        let order = Order { order_id, sku: AMERICANO, buyer: buyer.public(), recipient: holder.public() };
        let issued = coupons::issue(&mut connection, &keys.issuer, trust.list(), &order, NOW, &mut OsRng).unwrap();
        let presentation = Presentation::present(&holder, &issued.voucher, NOW, 1).unwrap();
        let accepted = block_on(verify_offline(&presentation.to_qr_text(), &context, &ledger, NOW)).unwrap();
        let receipt = block_on(accepted.record(&mut ledger, &merchant, &mut OsRng)).unwrap();
        receipts.push(receipt.to_bytes().to_vec());
    }
    connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    drop(connection);
    Setup { _dir: dir, template, receipts }
}

fn fresh_copy(template: &Path, dir: &Path, n: usize) -> rusqlite::Connection {
    let path = dir.join(format!("copy-{n}.sqlite3"));
    std::fs::copy(template, &path).unwrap();
    db::connect(&path).unwrap()
}

/// The upload as `POST /api/reconciliation` runs it, after base64: how many receipts counted.
fn upload(connection: &mut rusqlite::Connection, receipts: &[Vec<u8>]) -> usize {
    let context = ReceiptContext { extensions: &[], now: NOW };
    let processed = coupons::reconcile(connection, receipts, context).unwrap();
    processed.iter().filter(|processed| processed.outcome == coupons::Outcome::Accepted).count()
}

fn bench(c: &mut Criterion) {
    let setup = setup();
    let decoded: Vec<RedemptionReceipt> =
        setup.receipts.iter().map(|bytes| RedemptionReceipt::from_bytes(bytes).unwrap()).collect();
    assert!(signatures::verify_receipts(&decoded).iter().all(Result::is_ok));

    let mut group = c.benchmark_group("reconciliation");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("batch_verify", |b| b.iter(|| black_box(signatures::verify_receipts(black_box(&decoded)))));
    let signed: Vec<SignedMessage> = decoded
        .iter()
        .flat_map(|receipt| {
            let Scanned::Presentation(presentation) = receipt.scanned() else { panic!("receipts of presentations") };
            [receipt.merchant_signed(), presentation.holder_signed().unwrap()]
        })
        .collect();
    group.bench_function("dalek_batch_verify", |b| b.iter(|| assert!(dalek_batch_verify(black_box(&signed)))));

    let scratch = tempfile::tempdir().unwrap();
    let mut copies = 0;
    group.bench_function("upload_fresh", |b| {
        b.iter_batched(
            || {
                copies += 1;
                fresh_copy(&setup.template, scratch.path(), copies)
            },
            // The connection is returned, so criterion closes it after the timing: closing runs a
            // WAL checkpoint, which the server does not do per upload.
            |mut connection| {
                assert_eq!(upload(&mut connection, &setup.receipts), BATCH);
                connection
            },
            BatchSize::PerIteration,
        )
    });
    let mut reconciled = fresh_copy(&setup.template, scratch.path(), 0);
    assert_eq!(upload(&mut reconciled, &setup.receipts), BATCH);
    group.bench_function("upload_retry", |b| b.iter(|| assert_eq!(upload(&mut reconciled, &setup.receipts), BATCH)));
    group.finish();

    write_figures(&setup.receipts);
}

/// `ed25519_dalek::verify_batch` over `signed`, split in one batch per core.
fn dalek_batch_verify(signed: &[SignedMessage]) -> bool {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    std::thread::scope(|scope| {
        let running: Vec<_> = signed
            .chunks(signed.len().div_ceil(cores))
            .map(|part| {
                scope.spawn(move || {
                    let messages: Vec<&[u8]> = part.iter().map(SignedMessage::message).collect();
                    let signatures: Vec<ed25519_dalek::Signature> =
                        part.iter().map(|s| ed25519_dalek::Signature::from_bytes(&s.signature().0)).collect();
                    let keys: Vec<ed25519_dalek::VerifyingKey> = part.iter().map(|s| *s.key().as_dalek()).collect();
                    ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
                })
            })
            .collect();
        running.into_iter().all(|thread| thread.join().unwrap())
    })
}

fn write_figures(receipts: &[Vec<u8>]) {
    let receipt_bytes: usize = receipts.iter().map(Vec::len).sum();
    let upload_bytes = receipts.iter().map(|bytes| bytes.len().div_ceil(3) * 4 + 3).sum::<usize>() + 16;
    let json = format!(
        "{{\n  \"reconciliation\": {{ \"batch_receipts\": {BATCH}, \"signatures_per_receipt\": 2, \
         \"mean_receipt_bytes\": {:.1}, \"upload_json_bytes\": {upload_bytes}, \"target_receipts_per_sec\": 20000 }}\n}}\n",
        receipt_bytes as f64 / receipts.len() as f64,
    );
    println!("platform bench figures:\n{json}");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("bench-figures");
    std::fs::create_dir_all(&dir).expect("create bench-figures directory");
    std::fs::write(dir.join("platform.json"), json).expect("write platform.json");
}

criterion_group!(benches, bench);
criterion_main!(benches);
