//! kill -9 in the middle of a reconciliation upload, restart, upload again: no receipt lost and
//! none counted twice.

mod support;

use std::{
    io::Write as _,
    net::TcpStream,
    time::{Duration, Instant},
};

use crypto::{
    OfflineContext, OfflinePolicy, ledger::MemoryLedger, presentation::Presentation, receipt::RedemptionReceipt,
    verify_offline,
};
use rand_core::OsRng;
use rusqlite::Connection;
use serde_json::json;
use support::{
    b64, now,
    world::{AMERICANO, World, voucher_of},
};

const RECEIPTS: usize = 200;

async fn offline_receipts(world: &World) -> Vec<RedemptionReceipt> {
    let (alice, bob) = (world.device("김민지").await, world.device("이준호").await);
    let merchant = world.merchant("별다방 시청점").await;
    let revocations = world.revocations().await;
    let policy = OfflinePolicy { max_unsynced_count: 10_000, max_unsynced_value: u64::MAX, ..OfflinePolicy::default() };
    let context = OfflineContext { merchant: &merchant, trust: &world.trust, revocations: &revocations, extensions: &[], policy };
    let mut ledger = MemoryLedger::new();
    let mut receipts = Vec::with_capacity(RECEIPTS);
    for _ in 0..RECEIPTS {
        let (status, issued) = world.gift(AMERICANO, &bob, &alice).await;
        assert_eq!(status, 201, "{issued}");
        let presentation = Presentation::present(&alice, &voucher_of(&issued), now(), 1).unwrap();
        let accepted = verify_offline(&presentation.to_qr_text(), &context, &ledger, now()).await.unwrap();
        receipts.push(accepted.record(&mut ledger, &merchant, &mut OsRng).await.unwrap());
    }
    receipts
}

fn upload_body(receipts: &[RedemptionReceipt]) -> Vec<u8> {
    json!({"receipts": receipts.iter().map(|r| b64(r.to_bytes())).collect::<Vec<_>>()}).to_string().into_bytes()
}

/// Sends the request line, headers and the first half of the body, then stops.
fn half_an_upload(url: &str, body: &[u8]) -> TcpStream {
    let address = url.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(address).unwrap();
    let head = format!(
        "POST /api/reconciliation HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body[..body.len() / 2]).unwrap();
    stream.flush().unwrap();
    stream
}

async fn send_upload(url: &str, body: Vec<u8>) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let url = format!("{url}/api/reconciliation");
    tokio::spawn(async move {
        reqwest::Client::new().post(url).header("content-type", "application/json").body(body).send().await
    })
}

#[tokio::test]
async fn killed_mid_upload_nothing_is_lost_or_counted_twice() {
    let mut world = World::start().await;
    let receipts = offline_receipts(&world).await;
    let (first, second) = receipts.split_at(RECEIPTS / 2);

    // How long an upload of half the receipts takes here, start to commit.
    let started = Instant::now();
    let outcomes = world.reconcile(&first.iter().collect::<Vec<_>>()).await;
    let duration = started.elapsed();
    assert!(outcomes.iter().all(|outcome| outcome["outcome"] == "accepted"));

    // Killed while the body is still arriving.
    let body = upload_body(second);
    let stream = half_an_upload(&world.platform.url, &body);
    std::thread::sleep(Duration::from_millis(50));
    world.crash_and_restart();
    drop(stream);

    // Killed at points spread over an upload's lifetime: while verifying signatures, while
    // writing, around the commit, after it. Whichever it was, the database stays consistent.
    for percent in [10u32, 50, 85, 95, 100, 105, 120] {
        let request = send_upload(&world.platform.url, body.clone()).await;
        tokio::time::sleep(duration * percent / 100).await;
        world.crash_and_restart();
        // The client sees either the answer (committed before the kill) or a broken connection.
        if let Ok(Ok(response)) = request.await {
            assert!(response.status().is_success(), "{}", response.status());
        }
    }

    // Upload everything again after the last restart: every receipt accepted, once.
    for _ in 0..2 {
        let outcomes = world.reconcile(&receipts.iter().collect::<Vec<_>>()).await;
        assert_eq!(outcomes.len(), RECEIPTS);
        for (index, outcome) in outcomes.iter().enumerate() {
            assert_eq!(outcome["outcome"], "accepted", "receipt {index}: {outcome}");
            assert_eq!(outcome["receipt_id"].as_str(), Some(b64(&receipts[index].receipt_id().0).as_str()));
        }
    }
    let (_, cases) = world.platform.operator_get("/api/operator/fraud-cases").await;
    assert_eq!(cases["cases"], json!([]));

    world.platform.kill9();
    let database = Connection::open(world.dirs.1.path().join("platform.sqlite3")).unwrap();
    let count = |sql: &str| database.query_row(sql, [], |row| row.get::<_, i64>(0)).unwrap();
    assert_eq!(count("SELECT count(*) FROM receipts"), RECEIPTS as i64);
    assert_eq!(count("SELECT count(*) FROM vouchers WHERE spent_by IS NOT NULL"), RECEIPTS as i64);
    assert_eq!(count("SELECT count(*) FROM vouchers v JOIN receipts r ON r.receipt_id = v.spent_by"), RECEIPTS as i64);
    assert_eq!(count("SELECT count(*) FROM fraud_cases"), 0);
}
