//! A running platform with a merchant's and a holder's view of it, for the integration tests.

use crypto::{
    OfflineContext, OfflinePolicy,
    extension::VerifiedExpiryExtension,
    keys::{Context, DeviceKey, PublicKey},
    ledger::MemoryLedger,
    presentation::Presentation,
    receipt::{Merchant, MerchantId, RedemptionReceipt},
    request::{DeviceRegistration, MerchantRegistration, Order},
    revocation::VerifiedRevocationList,
    trust::VerifiedTrustList,
    verify_offline,
    voucher::{BrandId, Voucher},
};
use rand_core::OsRng;
use serde_json::{Value, json};

use super::{Platform, b64, device_body, merchant_body, now, order_body, unb64};

pub(crate) const AMERICANO: u32 = 1001;
pub(crate) const GIFT_CARD: u32 = 1901;
pub(crate) const COFFEE_BRAND: u32 = 1;

pub(crate) struct World {
    pub(crate) platform: Platform,
    pub(crate) dirs: (tempfile::TempDir, tempfile::TempDir),
    pub(crate) trust: VerifiedTrustList,
}

impl World {
    pub(crate) async fn start() -> Self {
        let (dist, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let platform = Platform::spawn_operated(dist.path(), data.path());
        let (status, body) = platform.get("/api/trust-list").await;
        assert_eq!(status, 200, "{body}");
        let root = PublicKey::from_bytes(&unb64(&body["root_key"]).try_into().unwrap()).unwrap();
        let trust = VerifiedTrustList::from_bytes(&unb64(&body["list"]), &root).unwrap();
        assert_eq!(body["issued_at"].as_u64(), Some(trust.list().issued_at));
        assert!(body["age_secs"].as_u64().unwrap() <= 5, "{body}");
        Self { platform, dirs: (dist, data), trust }
    }

    /// Kills the platform with SIGKILL and starts it again on the same data directory.
    pub(crate) fn crash_and_restart(&mut self) {
        self.platform.kill9();
        self.platform = Platform::spawn_operated(self.dirs.0.path(), self.dirs.1.path());
    }

    pub(crate) async fn device(&self, name: &str) -> DeviceKey {
        let key = DeviceKey::generate(&mut OsRng);
        let body = device_body(&DeviceRegistration { public_key: key.public(), display_name: name.into() }, &key);
        let (status, answer) = self.platform.post("/api/devices", &body).await;
        assert_eq!(status, 201, "{answer}");
        key
    }

    pub(crate) async fn merchant(&self, name: &str) -> Merchant {
        let key = DeviceKey::generate(&mut OsRng);
        let registration = MerchantRegistration { brand: BrandId(COFFEE_BRAND), public_key: key.public(), name: name.into() };
        let body = merchant_body(&registration, &key);
        let (status, answer) = self.platform.post("/api/merchants", &body).await;
        assert_eq!((status, answer["status"].as_str()), (201, Some("pending")), "{answer}");
        let id = answer["id"].as_u64().unwrap();
        let (status, answer) = self.platform.operator_post(&format!("/api/operator/merchants/{id}/approve"), &json!({})).await;
        assert_eq!((status, answer["status"].as_str()), (200, Some("approved")), "{answer}");
        Merchant::new(MerchantId(id as u32), BrandId(COFFEE_BRAND), key)
    }

    pub(crate) async fn gift(&self, sku: u32, buyer: &DeviceKey, recipient: &DeviceKey) -> (u16, Value) {
        let mut order_id = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut OsRng, &mut order_id);
        self.gift_order(&order_id, sku, buyer, recipient).await
    }

    pub(crate) async fn gift_order(&self, order_id: &[u8; 16], sku: u32, buyer: &DeviceKey, recipient: &DeviceKey) -> (u16, Value) {
        let order = Order { order_id: *order_id, sku, buyer: buyer.public(), recipient: recipient.public() };
        self.platform.post("/api/gifts", &order_body(&order, buyer)).await
    }

    pub(crate) async fn revocations(&self) -> VerifiedRevocationList {
        let (status, body) = self.platform.get(&format!("/api/brands/{COFFEE_BRAND}/revocations")).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["age_secs"].as_u64().unwrap() <= 5, "{body}");
        VerifiedRevocationList::from_bytes(&unb64(&body["list"]), &self.trust).unwrap()
    }

    /// The merchant's device verifies the holder's presentation offline and records a receipt.
    pub(crate) async fn redeem_offline(&self, merchant: &Merchant, ledger: &mut MemoryLedger, presentation: &Presentation) -> RedemptionReceipt {
        self.redeem_offline_at(merchant, ledger, presentation, now()).await
    }

    /// As [`World::redeem_offline`], by a merchant's clock that reads `clock`.
    pub(crate) async fn redeem_offline_at(
        &self,
        merchant: &Merchant,
        ledger: &mut MemoryLedger,
        presentation: &Presentation,
        clock: u64,
    ) -> RedemptionReceipt {
        let revocations = self.revocations().await;
        let extensions: Vec<VerifiedExpiryExtension> = Vec::new();
        let context = OfflineContext {
            merchant,
            trust: &self.trust,
            revocations: &revocations,
            extensions: &extensions,
            policy: OfflinePolicy::default(),
        };
        let accepted = verify_offline(&presentation.to_qr_text(), &context, &*ledger, clock).await.unwrap();
        accepted.record(ledger, merchant, &mut OsRng).await.unwrap()
    }

    pub(crate) async fn mailbox(&self, recipient: &DeviceKey, action: &str, extra: Value) -> (u16, Value) {
        let key = b64(&recipient.public().to_bytes());
        let (status, body) = self.platform.post(&format!("/api/mailbox/{key}/challenge"), &json!({})).await;
        assert_eq!(status, 200, "{body}");
        let challenge = unb64(&body["challenge"]);
        let mut message = challenge.clone();
        message.extend_from_slice(&recipient.public().to_bytes());
        let signature = recipient.sign(Context::MAILBOX_CHALLENGE, &message);
        let mut request = json!({"challenge": b64(&challenge), "signature": b64(&signature.to_bytes())});
        if let (Some(request), Some(extra)) = (request.as_object_mut(), extra.as_object()) {
            request.extend(extra.clone());
        }
        self.platform.post(&format!("/api/mailbox/{key}/{action}"), &request).await
    }

    pub(crate) async fn reconcile(&self, receipts: &[&RedemptionReceipt]) -> Vec<Value> {
        let body = json!({"receipts": receipts.iter().map(|r| b64(r.to_bytes())).collect::<Vec<_>>()});
        let (status, answer) = self.platform.post("/api/reconciliation", &body).await;
        assert_eq!(status, 200, "{answer}");
        answer["outcomes"].as_array().unwrap().clone()
    }
}

pub(crate) fn voucher_of(answer: &Value) -> Voucher {
    Voucher::from_bytes(&unb64(&answer["voucher"])).unwrap()
}

