//! Bad input over real HTTP: every refusal is a 4xx with a JSON error, and nothing is stored.

mod support;

use crypto::{
    keys::{Context, DeviceKey},
    request::{DeviceRegistration, Order},
};
use rand_core::OsRng;
use serde_json::json;
use support::{
    Platform, b64, device_body, order_body, unb64,
    world::{AMERICANO, World},
};

#[tokio::test]
async fn the_mailbox_opens_only_for_the_recipient_key() {
    let world = World::start().await;
    let (alice, mallory) = (world.device("김민지").await, world.device("누군가").await);
    let alice_key = b64(&alice.public().to_bytes());
    let sealed = crypto::seal::seal(&alice.public(), b"sealed chat envelope", &mut OsRng).unwrap();
    let (status, deposited) =
        world.platform.post(&format!("/api/mailbox/{alice_key}/envelopes"), &json!({"envelope": b64(&sealed)})).await;
    assert_eq!(status, 201, "{deposited}");

    // Mallory asks for a challenge to Alice's mailbox and signs it with her own key.
    let (_, challenge) = world.platform.post(&format!("/api/mailbox/{alice_key}/challenge"), &json!({})).await;
    let challenge = unb64(&challenge["challenge"]);
    let mut message = challenge.clone();
    message.extend_from_slice(&alice.public().to_bytes());
    let forged = mallory.sign(Context::MAILBOX_CHALLENGE, &message);
    let request = json!({"challenge": b64(&challenge), "signature": b64(&forged.to_bytes())});
    let (status, refused) = world.platform.post(&format!("/api/mailbox/{alice_key}/fetch"), &request).await;
    assert_eq!((status, refused["error"].as_str()), (401, Some("unauthorized")), "{refused}");
    assert!(refused.get("envelopes").is_none());

    // Nor does a challenge answered for Mallory's own mailbox open Alice's, or acknowledge in it.
    let (status, _) = world.mailbox(&mallory, "fetch", json!({})).await;
    assert_eq!(status, 200);
    let mallory_key = b64(&mallory.public().to_bytes());
    let (_, own) = world.platform.post(&format!("/api/mailbox/{mallory_key}/challenge"), &json!({})).await;
    let own = unb64(&own["challenge"]);
    let mut message = own.clone();
    message.extend_from_slice(&mallory.public().to_bytes());
    let signature = mallory.sign(Context::MAILBOX_CHALLENGE, &message);
    let request = json!({"challenge": b64(&own), "signature": b64(&signature.to_bytes()), "ids": [deposited["id"]]});
    let (status, _) = world.platform.post(&format!("/api/mailbox/{alice_key}/ack"), &request).await;
    assert_eq!(status, 401);

    // A used challenge does not work twice, even for Alice.
    let mut message = challenge.clone();
    message.extend_from_slice(&alice.public().to_bytes());
    let genuine = alice.sign(Context::MAILBOX_CHALLENGE, &message);
    let replay = json!({"challenge": b64(&challenge), "signature": b64(&genuine.to_bytes())});
    let (status, _) = world.platform.post(&format!("/api/mailbox/{alice_key}/fetch"), &replay).await;
    assert_eq!(status, 401);

    // Alice, with a fresh challenge, still finds her envelope.
    let (status, fetched) = world.mailbox(&alice, "fetch", json!({})).await;
    assert_eq!(status, 200, "{fetched}");
    assert_eq!(fetched["envelopes"].as_array().map(Vec::len), Some(1));
    assert_eq!(unb64(&fetched["envelopes"][0]["envelope"]), sealed);
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused_and_nothing_is_stored() {
    let world = World::start().await;
    let platform = &world.platform;
    let key = DeviceKey::generate(&mut OsRng);
    let key_text = b64(&key.public().to_bytes());
    // Signed by the device's own key, so each refusal below is for the field it names.
    let signed = |name: &str| device_body(&DeviceRegistration { public_key: key.public(), display_name: name.into() }, &key);
    let device = signed("김민지");

    let (status, error) = platform.post_raw("/api/devices", Some("application/json"), b"{not json".to_vec()).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("bad_request")), "{error}");
    let (status, error) = platform.post_raw("/api/devices", None, device.to_string().into_bytes()).await;
    assert_eq!((status, error["error"].as_str()), (415, Some("unsupported_media_type")), "{error}");
    let mut extra = signed("x");
    extra["admin"] = json!(true);
    let (status, _) = platform.post("/api/devices", &extra).await;
    assert_eq!(status, 400);
    let (status, _) = platform.post("/api/devices", &json!({"public_key": key_text, "signature": device["signature"]})).await;
    assert_eq!(status, 400);
    let mut weak = [0u8; 32];
    weak[0] = 1;
    let mut weak_key = signed("x");
    weak_key["public_key"] = json!(b64(&weak));
    let (status, error) = platform.post("/api/devices", &weak_key).await;
    assert_eq!(status, 400);
    assert!(error["message"].as_str().unwrap().contains("weak"), "{error}");
    let (status, _) = platform.post("/api/devices", &signed(&"가".repeat(65))).await;
    assert_eq!(status, 400);
    let (status, _) = platform.post("/api/devices", &signed("\u{0}")).await;
    assert_eq!(status, 400);
    let (status, error) = platform.post("/api/devices", &signed(&"가".repeat(10_000))).await;
    assert_eq!((status, error["error"].as_str()), (413, Some("too_large")), "{error}");
    let (status, _) = platform.get(&format!("/api/devices/{key_text}")).await;
    assert_eq!(status, 404, "a refused registration stores nothing");

    // Mailbox: an envelope over the limit, or not a sealed box, is refused and not stored.
    let alice = world.device("김민지").await;
    let alice_key = b64(&alice.public().to_bytes());
    let oversized = json!({"envelope": b64(&vec![1u8; 80 * 1024])});
    let (status, _) = platform.post(&format!("/api/mailbox/{alice_key}/envelopes"), &oversized).await;
    assert_eq!(status, 413);
    let (status, _) = platform.post(&format!("/api/mailbox/{alice_key}/envelopes"), &json!({"envelope": b64(&[9u8; 60])})).await;
    assert_eq!(status, 400);
    let (status, _) = platform.post(&format!("/api/mailbox/{key_text}/envelopes"), &json!({"envelope": b64(&[1u8; 60])})).await;
    assert_eq!(status, 404, "no mailbox for an unregistered key");
    let (_, fetched) = world.mailbox(&alice, "fetch", json!({})).await;
    assert_eq!(fetched["envelopes"], json!([]));

    // Gifts: unknown product, malformed order id, unregistered recipient; nothing delivered.
    let bob = world.device("이준호").await;
    let (status, _) = world.gift(9999, &bob, &alice).await;
    assert_eq!(status, 404);
    let (status, _) = world.gift(AMERICANO, &bob, &key).await;
    assert_eq!(status, 404);
    let mut bad_order = order_body(&Order { order_id: [7; 16], sku: AMERICANO, buyer: bob.public(), recipient: alice.public() }, &bob);
    bad_order["order_id"] = json!("short");
    let (status, _) = platform.post("/api/gifts", &bad_order).await;
    assert_eq!(status, 400);
    let (_, fetched) = world.mailbox(&alice, "fetch", json!({})).await;
    assert_eq!(fetched["envelopes"], json!([]));

    // Receipts: garbage online is a 400; too many in one upload is a 413.
    let (status, _) = platform.post("/api/redemptions", &json!({"receipt": b64(b"not a receipt")})).await;
    assert_eq!(status, 400);
    let (status, _) = platform.post("/api/reconciliation", &json!({"receipts": vec!["AA"; 2001]})).await;
    assert_eq!(status, 413);
    let (status, _) = platform.post("/api/merchants/abc", &json!({})).await;
    assert_eq!(status, 405);
    let (status, _) = platform.get("/api/merchants/abc").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn operator_endpoints_need_the_token_and_do_not_exist_without_one() {
    let world = World::start().await;
    let approve = "/api/operator/merchants/1/approve";
    let (status, _) = world.platform.post(approve, &json!({})).await;
    assert_eq!(status, 401, "no token");
    let response = reqwest::Client::new()
        .get(format!("{}/api/operator/fraud-cases", world.platform.url))
        .bearer_auth("wrong-token-but-long-enough")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let (dist, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let unoperated = Platform::spawn(dist.path(), data.path());
    let (status, error) = unoperated.operator_post(approve, &json!({})).await;
    assert_eq!((status, error["error"].as_str()), (404, Some("not_found")), "{error}");
    let (status, _) = unoperated.operator_get("/api/operator/fraud-cases").await;
    assert_eq!(status, 404);
}

#[test]
fn a_short_operator_token_is_refused_at_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_platform"))
        .args(["--operator-token", "short", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("at least 16 characters"));
}
