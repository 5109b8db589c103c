//! Registrations and orders carry the signature of the key they name (`crypto::request`): a missing,
//! malformed, misplaced or foreign signature, or a field changed after signing, is refused with a
//! 4xx JSON error and stores nothing; a replayed request changes nothing.

mod support;

use crypto::{
    keys::{Context, DeviceKey},
    request::{DeviceRegistration, MerchantRegistration, Order, SignedRequest as _},
    voucher::BrandId,
};
use rand_core::OsRng;
use serde_json::{Value, json};
use support::{
    b64, device_body, merchant_body, order_body,
    world::{AMERICANO, COFFEE_BRAND, GIFT_CARD, World},
};

/// Asserts a 401 `unauthorized` JSON error naming the signature.
fn assert_unauthorized(status: u16, error: &Value) {
    assert_eq!((status, error["error"].as_str()), (401, Some("unauthorized")), "{error}");
    assert!(error["message"].as_str().is_some_and(|message| message.starts_with("signature:")), "{error}");
}

#[tokio::test]
async fn a_device_registers_only_with_its_own_signature() {
    let world = World::start().await;
    let platform = &world.platform;
    let (device, mallory) = (DeviceKey::generate(&mut OsRng), DeviceKey::generate(&mut OsRng));
    let registration = DeviceRegistration { public_key: device.public(), display_name: "김민지".into() };
    let lookup = format!("/api/devices/{}", b64(&device.public().to_bytes()));

    let (status, error) = platform.post("/api/devices", &device_body(&registration, &mallory)).await;
    assert_unauthorized(status, &error);
    let mut renamed = device_body(&registration, &device);
    renamed["display_name"] = json!("누군가");
    let (status, error) = platform.post("/api/devices", &renamed).await;
    assert_unauthorized(status, &error);
    // The right key over the right bytes, but under another request's context.
    let mut misplaced = device_body(&registration, &device);
    misplaced["signature"] = json!(b64(&device.sign(Context::ORDER, &registration.signed_bytes()).to_bytes()));
    let (status, error) = platform.post("/api/devices", &misplaced).await;
    assert_unauthorized(status, &error);
    let mut unsigned = device_body(&registration, &device);
    unsigned.as_object_mut().expect("a JSON object").remove("signature");
    let (status, error) = platform.post("/api/devices", &unsigned).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("bad_request")), "{error}");
    assert!(error["message"].as_str().unwrap().contains("signature"), "{error}");
    let mut short = device_body(&registration, &device);
    short["signature"] = json!(b64(&[1; 63]));
    let (status, error) = platform.post("/api/devices", &short).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("bad_request")), "{error}");
    let (status, _) = platform.get(&lookup).await;
    assert_eq!(status, 404, "a refused registration stores nothing");

    // Signed by the device: registered; the same request replayed changes nothing.
    let body = device_body(&registration, &device);
    let (status, registered) = platform.post("/api/devices", &body).await;
    assert_eq!(status, 201, "{registered}");
    let (status, replayed) = platform.post("/api/devices", &body).await;
    assert_eq!((status, replayed), (200, registered));
    let (status, shown) = platform.get(&lookup).await;
    assert_eq!((status, shown["display_name"].as_str()), (200, Some("김민지")));
}

#[tokio::test]
async fn a_merchant_registers_only_with_the_merchant_keys_signature() {
    let world = World::start().await;
    let platform = &world.platform;
    let (shop, mallory) = (DeviceKey::generate(&mut OsRng), DeviceKey::generate(&mut OsRng));
    let registration = MerchantRegistration { brand: BrandId(COFFEE_BRAND), public_key: shop.public(), name: "별다방 강남점".into() };

    let (status, error) = platform.post("/api/merchants", &merchant_body(&registration, &mallory)).await;
    assert_unauthorized(status, &error);
    let mut other_brand = merchant_body(&registration, &shop);
    other_brand["brand"] = json!(COFFEE_BRAND + 1);
    let (status, error) = platform.post("/api/merchants", &other_brand).await;
    assert_unauthorized(status, &error);
    // A device registration's signature by the same key does not register a merchant.
    let as_device = DeviceRegistration { public_key: shop.public(), display_name: registration.name.clone() };
    let mut misplaced = merchant_body(&registration, &shop);
    misplaced["signature"] = json!(b64(&as_device.sign(&shop).to_bytes()));
    let (status, error) = platform.post("/api/merchants", &misplaced).await;
    assert_unauthorized(status, &error);

    // Nothing was stored: the genuine registration is new (201), and its replay is the same (200).
    let body = merchant_body(&registration, &shop);
    let (status, registered) = platform.post("/api/merchants", &body).await;
    assert_eq!((status, registered["status"].as_str()), (201, Some("pending")), "{registered}");
    let (status, replayed) = platform.post("/api/merchants", &body).await;
    assert_eq!((status, replayed), (200, registered));
}

#[tokio::test]
async fn an_order_is_issued_only_with_the_buyers_signature() {
    let world = World::start().await;
    let (alice, bob) = (world.device("김민지").await, world.device("이준호").await);
    let order = Order { order_id: [42; 16], sku: AMERICANO, buyer: bob.public(), recipient: alice.public() };

    // Alice, the recipient, cannot place Bob's order; nor can anyone change it after Bob signed.
    let (status, error) = world.platform.post("/api/gifts", &order_body(&order, &alice)).await;
    assert_unauthorized(status, &error);
    for (field, value) in [("sku", json!(GIFT_CARD)), ("recipient", json!(b64(&bob.public().to_bytes()))), ("order_id", json!(b64(&[43; 16])))] {
        let mut tampered = order_body(&order, &bob);
        tampered[field] = value;
        let (status, error) = world.platform.post("/api/gifts", &tampered).await;
        assert_unauthorized(status, &error);
    }
    let mut unsigned = order_body(&order, &bob);
    unsigned.as_object_mut().expect("a JSON object").remove("signature");
    let (status, error) = world.platform.post("/api/gifts", &unsigned).await;
    assert_eq!((status, error["error"].as_str()), (400, Some("bad_request")), "{error}");
    for key in [&alice, &bob] {
        let (status, fetched) = world.mailbox(key, "fetch", json!({})).await;
        assert_eq!((status, &fetched["envelopes"]), (200, &json!([])), "no voucher issued or delivered");
    }

    // Signed by Bob: issued once; the same request replayed returns the same voucher and delivers nothing new.
    let body = order_body(&order, &bob);
    let (status, issued) = world.platform.post("/api/gifts", &body).await;
    assert_eq!(status, 201, "{issued}");
    let (status, replayed) = world.platform.post("/api/gifts", &body).await;
    assert_eq!((status, &replayed["voucher"]), (200, &issued["voucher"]), "{replayed}");
    let (_, fetched) = world.mailbox(&alice, "fetch", json!({})).await;
    assert_eq!(fetched["envelopes"].as_array().map(Vec::len), Some(1), "{fetched}");
}
