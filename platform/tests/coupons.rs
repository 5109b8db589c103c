//! The coupon life cycle over real HTTP against the spawned platform with a fresh SQLite.

mod support;

use crypto::{
    extension::VerifiedExpiryExtension,
    ledger::MemoryLedger,
    presentation::{Presentation, Scanned},
    receipt::RedemptionReceipt,
    revocation::RevocationStatus,
    voucher::{BrandId, Flags},
};
use rand_core::OsRng;
use serde_json::{Value, json};
use support::{
    b64, now, unb64,
    world::{AMERICANO, COFFEE_BRAND, GIFT_CARD, World, voucher_of},
};

#[tokio::test]
async fn catalogue_lists_the_korean_examples() {
    let world = World::start().await;
    let (status, body) = world.platform.get("/api/catalogue").await;
    assert_eq!(status, 200);
    let products: Vec<&Value> =
        body["brands"].as_array().unwrap().iter().flat_map(|brand| brand["products"].as_array().unwrap()).collect();
    let named = |name: &str| *products.iter().find(|p| p["name"] == name).unwrap_or_else(|| panic!("{name} missing: {body}"));
    assert_eq!(named("아메리카노 Tall")["price_krw"], 4500);
    assert_eq!(named("조각 케이크")["stored_value"], false);
    assert_eq!(named("아이스크림 파인트")["value_krw"], 0);
    let card = named("금액권 10,000원");
    assert_eq!((card["stored_value"].as_bool(), card["value_krw"].as_u64()), (Some(true), Some(10_000)));
}

#[tokio::test]
async fn a_gift_is_issued_delivered_redeemed_online_once_and_retries_are_idempotent() {
    let world = World::start().await;
    let (alice, bob) = (world.device("김민지").await, world.device("이준호").await);
    let merchant = world.merchant("별다방 강남점").await;

    let mut order_id = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut OsRng, &mut order_id);
    let (status, issued) = world.gift_order(&order_id, AMERICANO, &bob, &alice).await;
    assert_eq!(status, 201, "{issued}");
    let voucher = voucher_of(&issued);
    assert_eq!(voucher.terms().holder, Some(alice.public()));
    assert_eq!((voucher.terms().sku, voucher.terms().brand), (AMERICANO, BrandId(COFFEE_BRAND)));
    assert_eq!(issued["qr_text"].as_str(), Some(voucher.to_qr_text().as_str()));
    assert!(world.trust.issuers_with_kid(voucher.kid()).any(|issuer| voucher.verify_issuer(&issuer.key).is_ok()));

    // A retry of the order returns the same voucher and delivers nothing new.
    let (status, again) = world.gift_order(&order_id, AMERICANO, &bob, &alice).await;
    assert_eq!((status, &again["voucher"]), (200, &issued["voucher"]));
    let (status, conflict) = world.gift_order(&order_id, GIFT_CARD, &bob, &alice).await;
    assert_eq!((status, conflict["error"].as_str()), (409, Some("conflict")));

    // Alice's mailbox holds the voucher, sealed to her key; acknowledged, it is gone.
    let (status, fetched) = world.mailbox(&alice, "fetch", json!({})).await;
    assert_eq!(status, 200, "{fetched}");
    let envelopes = fetched["envelopes"].as_array().unwrap();
    assert_eq!(envelopes.len(), 1, "{fetched}");
    let opened = crypto::seal::open(&alice, &unb64(&envelopes[0]["envelope"])).unwrap();
    assert_eq!(opened, voucher.to_bytes());
    let (status, acked) = world.mailbox(&alice, "ack", json!({"ids": [envelopes[0]["id"]]})).await;
    assert_eq!((status, acked["deleted"].as_u64()), (200, Some(1)));
    let (_, fetched) = world.mailbox(&alice, "fetch", json!({})).await;
    assert_eq!(fetched["envelopes"], json!([]));

    // The merchant verifies offline, then redeems online: spent once, the retry says the same.
    let mut ledger = MemoryLedger::new();
    let presentation = Presentation::present(&alice, &voucher, now(), 1).unwrap();
    let receipt = world.redeem_offline(&merchant, &mut ledger, &presentation).await;
    let body = json!({"receipt": b64(receipt.to_bytes())});
    let (status, redeemed) = world.platform.post("/api/redemptions", &body).await;
    assert_eq!((status, redeemed["outcome"].as_str()), (200, Some("accepted")), "{redeemed}");
    let (status, retried) = world.platform.post("/api/redemptions", &body).await;
    assert_eq!((status, retried), (200, redeemed));

    // Another counter of the same chain tries the same voucher online: refused, nothing stored.
    let other = world.merchant("별다방 역삼점").await;
    let second = Presentation::present(&alice, &voucher, now(), 2).unwrap();
    let receipt_2 = world.redeem_offline(&other, &mut MemoryLedger::new(), &second).await;
    let (status, refused) = world.platform.post("/api/redemptions", &json!({"receipt": b64(receipt_2.to_bytes())})).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["message"].as_str(), Some("voucher already redeemed"));

    // Uploading the online receipt at reconciliation changes nothing.
    let outcomes = world.reconcile(&[&receipt]).await;
    assert_eq!(outcomes[0]["outcome"], "accepted");
    let (_, cases) = world.platform.operator_get("/api/operator/fraud-cases").await;
    assert_eq!(cases["cases"], json!([]));

    // A stored-value denomination: 금액권 10,000원.
    let (status, card) = world.gift(GIFT_CARD, &bob, &bob).await;
    assert_eq!(status, 201, "{card}");
    let card = voucher_of(&card);
    assert!(card.terms().flags.contains(Flags::STORED_VALUE));
    assert_eq!(card.terms().value, 10_000);
}

#[tokio::test]
async fn double_redemption_offline_is_proven_at_reconciliation() {
    let world = World::start().await;
    let (alice, bob) = (world.device("박서연").await, world.device("최도윤").await);
    let (first_shop, second_shop) = (world.merchant("별다방 홍대점").await, world.merchant("별다방 신촌점").await);
    let (status, issued) = world.gift(AMERICANO, &bob, &alice).await;
    assert_eq!(status, 201);
    let voucher = voucher_of(&issued);

    // Both shops are offline; Alice shows the voucher at each (counters 1 and 2).
    let first = Presentation::present(&alice, &voucher, now(), 1).unwrap();
    let second = Presentation::present(&alice, &voucher, now(), 2).unwrap();
    let receipt_1 = world.redeem_offline(&first_shop, &mut MemoryLedger::new(), &first).await;
    let receipt_2 = world.redeem_offline(&second_shop, &mut MemoryLedger::new(), &second).await;

    let outcomes = world.reconcile(&[&receipt_1]).await;
    assert_eq!(outcomes[0]["outcome"], "accepted", "{outcomes:?}");
    let garbage = json!({"receipts": [b64(receipt_2.to_bytes()), "AAAA", b64(receipt_2.to_bytes())]});
    let (status, answer) = world.platform.post("/api/reconciliation", &garbage).await;
    assert_eq!(status, 200, "{answer}");
    let outcomes = answer["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 3, "every receipt gets an outcome: {answer}");
    assert_eq!(outcomes[0]["outcome"], "double_redemption");
    assert_eq!(outcomes[1]["outcome"], "refused");
    assert!(outcomes[1]["reason"].as_str().unwrap().starts_with("receipt:"), "{answer}");
    assert_eq!(outcomes[2], outcomes[0].clone().as_object().map(|o| {
        let mut o = o.clone();
        o.insert("index".into(), json!(2));
        Value::Object(o)
    }).unwrap());
    let case_id = outcomes[0]["fraud_case"].as_i64().unwrap();

    // Uploading both again: same outcomes, still one case.
    let again = world.reconcile(&[&receipt_1, &receipt_2]).await;
    assert_eq!(again[0]["outcome"], "accepted");
    assert_eq!(again[1]["fraud_case"].as_i64(), Some(case_id));

    let (status, cases) = world.platform.operator_get("/api/operator/fraud-cases").await;
    assert_eq!(status, 200, "{cases}");
    let cases = cases["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(cases[0]["kind"], "holder_presented_twice");
    assert_eq!(unb64(&cases[0]["voucher_id"]), voucher.id().0);
    let mut counters = Vec::new();
    for receipt in cases[0]["receipts"].as_array().unwrap() {
        let receipt = RedemptionReceipt::from_bytes(&unb64(receipt)).unwrap();
        assert_eq!(receipt.verify(&world.trust), Ok(()));
        let Scanned::Presentation(presentation) = receipt.scanned() else { panic!("no presentation in {receipt:?}") };
        assert_eq!(presentation.verify_holder(), Ok(()));
        counters.push(presentation.counter());
    }
    assert_eq!(counters, vec![1, 2]);
}

#[tokio::test]
async fn a_receipt_with_a_bad_signature_is_refused_and_the_rest_of_its_upload_counts() {
    let world = World::start().await;
    let (alice, bob) = (world.device("윤서준").await, world.device("임수아").await);
    let shop = world.merchant("별다방 성수점").await;
    let mut ledger = MemoryLedger::new();
    let mut receipts = Vec::new();
    for _ in 0..3 {
        let voucher = voucher_of(&world.gift(AMERICANO, &bob, &alice).await.1);
        let presentation = Presentation::present(&alice, &voucher, now(), 1).unwrap();
        receipts.push(world.redeem_offline(&shop, &mut ledger, &presentation).await);
    }
    // The merchant's signature ends a receipt: with its last bit flipped, it no longer verifies.
    let mut forged = receipts[1].to_bytes().to_vec();
    *forged.last_mut().unwrap() ^= 0x01;
    let upload = json!({"receipts": [b64(receipts[0].to_bytes()), b64(&forged), b64(receipts[2].to_bytes())]});
    let (status, answer) = world.platform.post("/api/reconciliation", &upload).await;
    assert_eq!(status, 200, "{answer}");
    let outcomes = answer["outcomes"].as_array().unwrap();
    let kinds: Vec<_> = outcomes.iter().map(|outcome| outcome["outcome"].as_str()).collect();
    assert_eq!(kinds, [Some("accepted"), Some("refused"), Some("accepted")], "{answer}");
    assert_eq!(outcomes[1]["reason"], "merchant signature does not verify", "{answer}");

    // Nothing of the forged receipt was kept: the genuine one spends its voucher afterwards, and
    // the others were counted once.
    let again = world.reconcile(&[&receipts[0], &receipts[1], &receipts[2]]).await;
    let kinds: Vec<_> = again.iter().map(|outcome| outcome["outcome"].as_str()).collect();
    assert_eq!(kinds, [Some("accepted"); 3], "{again:?}");
    let (_, cases) = world.platform.operator_get("/api/operator/fraud-cases").await;
    assert_eq!(cases["cases"], json!([]));
}

#[tokio::test]
async fn revocation_and_expiry_extensions_are_signed_and_applied() {
    let world = World::start().await;
    let (alice, bob) = (world.device("정하은").await, world.device("강지후").await);
    let merchant = world.merchant("별다방 판교점").await;
    let (_, issued) = world.gift(AMERICANO, &bob, &alice).await;
    let voucher = voucher_of(&issued);
    assert_eq!(world.revocations().await.status(BrandId(COFFEE_BRAND), &voucher.id()), RevocationStatus::NotRevoked);
    // Dated a minute ahead (inside the online clock tolerance), so the receipt is never older than
    // the revocation, whichever second the revocation lands in.
    let ahead = now() + 60;
    let presentation = Presentation::present(&alice, &voucher, ahead, 1).unwrap();
    let receipt = world.redeem_offline_at(&merchant, &mut MemoryLedger::new(), &presentation, ahead).await;

    let (status, revoked) =
        world.platform.operator_post(&format!("/api/operator/vouchers/{}/revoke", b64(&voucher.id().0)), &json!({})).await;
    assert_eq!((status, revoked["brand"].as_u64()), (200, Some(u64::from(COFFEE_BRAND))), "{revoked}");
    assert_eq!(world.revocations().await.status(BrandId(COFFEE_BRAND), &voucher.id()), RevocationStatus::Revoked);
    let (status, refused) = world.platform.post("/api/redemptions", &json!({"receipt": b64(receipt.to_bytes())})).await;
    assert_eq!((status, refused["message"].as_str()), (409, Some("voucher revoked")), "{refused}");

    let expires = voucher.terms().expires_at;
    let request = json!({"brands": [COFFEE_BRAND], "expiring_from": expires - 10, "expiring_to": expires + 10, "extra_secs": 72 * 3600});
    let (status, created) = world.platform.operator_post("/api/operator/expiry-extensions", &request).await;
    assert_eq!(status, 201, "{created}");
    let (status, listed) = world.platform.get("/api/expiry-extensions").await;
    assert_eq!(status, 200);
    assert_eq!(listed["extensions"], json!([created["extension"]]));
    let extension = VerifiedExpiryExtension::from_bytes(&unb64(&created["extension"]), &world.trust).unwrap();
    assert_eq!(crypto::extension::effective_expiry(voucher.terms(), &[extension]), expires + 72 * 3600);

    let too_long = json!({"brands": null, "expiring_from": 0, "expiring_to": 1, "extra_secs": 32 * 86_400});
    let (status, error) = world.platform.operator_post("/api/operator/expiry-extensions", &too_long).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("bad_request")), "{error}");
}

#[tokio::test]
async fn a_receipt_refused_online_and_uploaded_later_is_neither_counted_nor_a_fraud_case() {
    let world = World::start().await;
    let (alice, bob) = (world.device("한지민").await, world.device("오세훈").await);
    let (first_shop, second_shop) = (world.merchant("별다방 잠실점").await, world.merchant("별다방 건대점").await);

    // Spent online at the first shop. At the second, the merchant's app records its receipt before
    // sending it (offline-first), the platform refuses it, and no coffee is handed over.
    let voucher = voucher_of(&world.gift(AMERICANO, &bob, &alice).await.1);
    let first = Presentation::present(&alice, &voucher, now(), 1).unwrap();
    let spent = world.redeem_offline(&first_shop, &mut MemoryLedger::new(), &first).await;
    let (status, _) = world.platform.post("/api/redemptions", &json!({"receipt": b64(spent.to_bytes())})).await;
    assert_eq!(status, 200);
    let second = Presentation::present(&alice, &voucher, now(), 2).unwrap();
    let refused_receipt = world.redeem_offline(&second_shop, &mut MemoryLedger::new(), &second).await;
    let body = json!({"receipt": b64(refused_receipt.to_bytes())});
    let (status, refused) = world.platform.post("/api/redemptions", &body).await;
    assert_eq!((status, refused["message"].as_str()), (409, Some("voucher already redeemed")), "{refused}");

    // The second shop's queue uploads that receipt later: refused again, no fraud case.
    let outcomes = world.reconcile(&[&refused_receipt]).await;
    assert_eq!(outcomes[0]["outcome"], "refused", "{outcomes:?}");
    assert_eq!(outcomes[0]["reason"], "refused online: voucher already redeemed", "{outcomes:?}");
    let (_, cases) = world.platform.operator_get("/api/operator/fraud-cases").await;
    assert_eq!(cases["cases"], json!([]), "a refused attempt is no redemption");

    // A receipt refused online for the merchant's clock, uploaded later, does not spend the voucher either.
    let card = voucher_of(&world.gift(GIFT_CARD, &bob, &alice).await.1);
    let mut skewed_ledger = MemoryLedger::new();
    let skewed = Presentation::present(&alice, &card, now() + 600, 1).unwrap();
    let skewed = world.redeem_offline_at(&second_shop, &mut skewed_ledger, &skewed, now() + 600).await;
    let (status, refused) = world.platform.post("/api/redemptions", &json!({"receipt": b64(skewed.to_bytes())})).await;
    assert_eq!(status, 409, "{refused}");
    let outcomes = world.reconcile(&[&skewed]).await;
    assert_eq!(outcomes[0]["outcome"], "refused", "{outcomes:?}");
    let fresh = Presentation::present(&alice, &card, now(), 2).unwrap();
    let receipt = world.redeem_offline(&first_shop, &mut MemoryLedger::new(), &fresh).await;
    let (status, redeemed) = world.platform.post("/api/redemptions", &json!({"receipt": b64(receipt.to_bytes())})).await;
    assert_eq!((status, redeemed["outcome"].as_str()), (200, Some("accepted")), "{redeemed}");
}
