//! Known-answer vectors: every structure made from the fixed-seed fixture must match the files
//! committed under `tests/vectors/` byte for byte, and every committed file must decode and
//! verify on its own.
//!
//! To regenerate after an intended format change (native only):
//! `UPDATE_VECTORS=1 cargo test -p crypto --test vectors`, then review the diff.

use crypto::extension::{ExpiryExtension, VerifiedExpiryExtension};
use crypto::keys::{Context, PublicKey};
use crypto::ledger::MemoryLedger;
use crypto::presentation::Presentation;
use crypto::receipt::RedemptionReceipt;
use crypto::request::{DeviceRegistration, MerchantRegistration, Order, SignedRequest};
use crypto::revocation::VerifiedRevocationList;
use crypto::testing::{BRAND, DAY, Fixture, NOW, TestRng, block_on, key, must};
use crypto::trust::{BrandScope, VerifiedTrustList};
use crypto::verify_offline;
use crypto::voucher::Voucher;

#[cfg(target_family = "wasm")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

/// One vector: its file, what it is, who signed it under which context, and its encoding.
struct Vector {
    name: &'static str,
    committed: &'static str,
    about: &'static str,
    context: Context,
    signer: PublicKey,
    bytes: Vec<u8>,
    qr: Option<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| must(u8::from_str_radix(&text[i..i + 2], 16)))
        .collect()
}

impl Vector {
    fn render(&self) -> String {
        let context = String::from_utf8_lossy(self.context.as_bytes()).replace('\0', "\\0");
        let mut text = format!(
            "# {}\n# Made by crypto/tests/vectors.rs from crypto::testing::Fixture (seed of key k: [k; 32]; \
             root 1, issuer 2, platform 3, merchant 4, holder 5).\nlength = {}\ncontext = {context}\nsigner = {}\nbytes = {}\nsignature = {}\n",
            self.about,
            self.bytes.len(),
            hex(&self.signer.to_bytes()),
            hex(&self.bytes),
            hex(&self.bytes[self.bytes.len() - 64..]),
        );
        if let Some(qr) = &self.qr {
            text.push_str(&format!("qr = {qr}\nqr_length = {}\n", qr.len()));
        }
        text
    }

    /// A field of the committed file.
    fn field(&self, key: &str) -> &'static str {
        let prefix = format!("{key} = ");
        match self.committed.lines().find_map(|line| line.strip_prefix(prefix.as_str())) {
            Some(value) => value,
            None => panic!("{}: no `{key}` line", self.name),
        }
    }
}

/// The signed requests of the vectors: a device registration by the holder, a merchant
/// registration by the merchant, and an order by device key 6 of a voucher for the holder.
fn requests(fixture: &Fixture) -> (DeviceRegistration, MerchantRegistration, Order) {
    (
        DeviceRegistration { public_key: fixture.holder.public(), display_name: "김민지".into() },
        MerchantRegistration { brand: BRAND, public_key: fixture.merchant.public(), name: "별다방 커피 강남점".into() },
        Order { order_id: [0x0d; 16], sku: 1001, buyer: key(6).public(), recipient: fixture.holder.public() },
    )
}

/// A request's vector bytes: what its signature covers after the context, then the signature. On
/// the wire the fields travel as JSON and the signature beside them.
fn signed_request(request: &impl SignedRequest, signer: &crypto::keys::DeviceKey) -> Vec<u8> {
    let mut bytes = request.signed_bytes();
    bytes.extend_from_slice(&request.sign(signer).0);
    bytes
}

fn vectors() -> Vec<Vector> {
    let fixture = Fixture::new();
    let (device, merchant, order) = requests(&fixture);
    let bearer = fixture.bearer(1);
    let holder_bound = fixture.holder_bound(2);
    let presentation = fixture.present(&holder_bound, NOW, 1);
    let mut ledger = MemoryLedger::new();
    let accepted = must(block_on(verify_offline(&presentation.to_qr_text(), &fixture.context(&[]), &ledger, NOW)));
    let receipt = must(block_on(accepted.record(&mut ledger, &fixture.merchant, &mut TestRng::new(9))));
    let extension = fixture.extension(&ExpiryExtension {
        issued_at: NOW,
        brands: BrandScope::Only(vec![BRAND]),
        expiring_from: NOW - 7 * DAY,
        expiring_to: NOW + DAY,
        extra_secs: 3 * DAY,
    });
    let (issuer, platform) = (fixture.issuer.public(), fixture.platform.public());
    vec![
        Vector {
            name: "voucher_bearer",
            committed: include_str!("vectors/voucher_bearer.txt"),
            about: "GV1 bearer voucher: id [1; 16], sku 1001, brand 7, 4500 KRW, issued NOW - 1 day, expires NOW + 30 days (NOW = 1767225600)",
            context: Context::VOUCHER,
            signer: issuer,
            bytes: bearer.to_bytes().to_vec(),
            qr: Some(bearer.to_qr_text()),
        },
        Vector {
            name: "voucher_holder",
            committed: include_str!("vectors/voucher_holder.txt"),
            about: "GV1 holder-bound voucher: as voucher_bearer, id [2; 16], bound to the holder key",
            context: Context::VOUCHER,
            signer: issuer,
            bytes: holder_bound.to_bytes().to_vec(),
            qr: Some(holder_bound.to_qr_text()),
        },
        Vector {
            name: "presentation",
            committed: include_str!("vectors/presentation.txt"),
            about: "Presentation of voucher_holder at NOW (time step 58907520), counter 1; signs version || SHA-256(voucher) || step || counter",
            context: Context::PRESENTATION,
            signer: fixture.holder.public(),
            bytes: presentation.to_bytes().to_vec(),
            qr: Some(presentation.to_qr_text()),
        },
        Vector {
            name: "receipt",
            committed: include_str!("vectors/receipt.txt"),
            about: "Redemption receipt of the presentation by merchant 42 at NOW, receipt id from TestRng::new(9)",
            context: Context::RECEIPT,
            signer: fixture.merchant.public(),
            bytes: receipt.to_bytes().to_vec(),
            qr: None,
        },
        Vector {
            name: "trust_list",
            committed: include_str!("vectors/trust_list.txt"),
            about: "Trust list issued NOW - 1 day: the issuer key (brands 7 and 8) and the platform key, both valid NOW - 365 days to NOW + 730 days",
            context: Context::TRUST_LIST,
            signer: fixture.root.public(),
            bytes: fixture.trust.to_bytes().to_vec(),
            qr: None,
        },
        Vector {
            name: "revocation_list",
            committed: include_str!("vectors/revocation_list.txt"),
            about: "Revocation list issued NOW - 1 hour: brand 7 revokes id [0xee; 16], brand 8 revokes nothing",
            context: Context::REVOCATION_LIST,
            signer: platform,
            bytes: fixture.revocations.to_bytes().to_vec(),
            qr: None,
        },
        Vector {
            name: "expiry_extension",
            committed: include_str!("vectors/expiry_extension.txt"),
            about: "Expiry extension issued NOW: brand 7, vouchers expiring NOW - 7 days to NOW + 1 day get 3 more days",
            context: Context::EXPIRY_EXTENSION,
            signer: platform,
            bytes: extension.to_bytes().to_vec(),
            qr: None,
        },
        Vector {
            name: "device_registration",
            committed: include_str!("vectors/device_registration.txt"),
            about: "Device registration by the holder key, display name 김민지; bytes = version 01 || postcard(public_key, display_name) || signature",
            context: Context::DEVICE_REGISTRATION,
            signer: fixture.holder.public(),
            bytes: signed_request(&device, &fixture.holder),
            qr: None,
        },
        Vector {
            name: "merchant_registration",
            committed: include_str!("vectors/merchant_registration.txt"),
            about: "Merchant registration by the merchant key for brand 7, name 별다방 커피 강남점; bytes = version 01 || postcard(brand, public_key, name) || signature",
            context: Context::MERCHANT_REGISTRATION,
            signer: fixture.merchant.public(),
            bytes: signed_request(&merchant, &key(4)),
            qr: None,
        },
        Vector {
            name: "order",
            committed: include_str!("vectors/order.txt"),
            about: "Order [0x0d; 16] of sku 1001 by device key 6 for the holder; bytes = version 01 || postcard(order_id, sku, buyer, recipient) || signature",
            context: Context::ORDER,
            signer: key(6).public(),
            bytes: signed_request(&order, &key(6)),
            qr: None,
        },
    ]
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn vectors_match_the_committed_files_byte_for_byte() {
    #[cfg(not(target_family = "wasm"))]
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        for vector in vectors() {
            let path = format!("{}/tests/vectors/{}.txt", env!("CARGO_MANIFEST_DIR"), vector.name);
            must(std::fs::write(path, vector.render()));
        }
        return;
    }
    for vector in vectors() {
        assert_eq!(vector.render(), vector.committed, "{} differs from tests/vectors/{0}.txt", vector.name);
    }
}

#[cfg_attr(not(target_family = "wasm"), test)]
#[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
fn committed_vectors_decode_and_verify_on_their_own() {
    let fixture = Fixture::new();
    let root = fixture.root.public();
    let (device, merchant, order) = requests(&fixture);
    for vector in vectors() {
        let bytes = unhex(vector.field("bytes"));
        let signer = must(PublicKey::from_bytes(&must(unhex(vector.field("signer")).try_into())));
        assert_eq!(unhex(vector.field("signature")), bytes[bytes.len() - 64..], "{}", vector.name);
        let signed = &bytes[..bytes.len() - 64];
        let signature = crypto::keys::Signature(must(bytes[bytes.len() - 64..].try_into()));
        match vector.name {
            "voucher_bearer" | "voucher_holder" => {
                let voucher = must(Voucher::from_bytes(&bytes));
                assert_eq!(voucher.verify_issuer(&signer), Ok(()));
                assert_eq!(must(Voucher::from_qr_text(vector.field("qr"))), voucher);
            }
            "presentation" => {
                let presentation = must(Presentation::from_bytes(&bytes));
                assert_eq!(presentation.verify_holder(), Ok(()));
                assert_eq!(presentation.voucher().terms().holder, Some(signer));
                assert_eq!(must(Presentation::from_qr_text(vector.field("qr"))), presentation);
            }
            "receipt" => {
                assert_eq!(must(RedemptionReceipt::from_bytes(&bytes)).verify(&fixture.trust), Ok(()));
                assert_eq!(signer.verify(vector.context, signed, &signature), Ok(()));
            }
            "trust_list" => assert!(VerifiedTrustList::from_bytes(&bytes, &root).is_ok()),
            "revocation_list" => assert!(VerifiedRevocationList::from_bytes(&bytes, &fixture.trust).is_ok()),
            "expiry_extension" => assert!(VerifiedExpiryExtension::from_bytes(&bytes, &fixture.trust).is_ok()),
            // A request has no binary decoder (its fields travel as JSON): the committed signature
            // must verify through the platform's own check, over the bytes the fields sign.
            "device_registration" => {
                assert_eq!(device.signed_bytes(), signed);
                assert_eq!(device.verify(&signature), Ok(()));
            }
            "merchant_registration" => {
                assert_eq!(merchant.signed_bytes(), signed);
                assert_eq!(merchant.verify(&signature), Ok(()));
            }
            "order" => {
                assert_eq!(order.signed_bytes(), signed);
                assert_eq!(order.verify(&signature), Ok(()));
            }
            other => panic!("no check for vector {other}"),
        }
        if vector.name != "presentation" {
            assert_eq!(signer.verify(vector.context, signed, &signature), Ok(()), "{}", vector.name);
        }
    }
}
