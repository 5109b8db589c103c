//! Requests a client signs to the platform, proving it holds the key the request names: device
//! registration (signed by the device key), merchant registration (by the merchant key) and buy
//! and gift orders (by the buyer's device key).
//!
//! The signed bytes are built here and nowhere else: the app and tests sign with
//! [`SignedRequest::sign`], the platform checks with [`SignedRequest::verify`]. The request's JSON
//! fields travel as they are; the signature covers `context || postcard(version (01), fields…)`,
//! fields in the order of the struct, text exactly as sent (the platform trims a name after checking).
//!
//! # Replay
//! A signed request carries no timestamp or nonce: every one is idempotent on the platform, so a
//! replayed copy changes nothing. An order is identified by its `order_id` (a retry returns the same
//! voucher; the id under other fields is refused); a registration again with the same fields is a
//! no-op, and the platform has no endpoint that renames or deletes a device or merchant, which
//! replaying an old registration could undo. Such an endpoint would need a fresher proof.

use serde::Serialize;

use crate::codec;
use crate::keys::{BadSignature, Context, DeviceKey, PublicKey, Signature};
use crate::voucher::BrandId;

/// Version byte at the start of every request's signed bytes.
pub const REQUEST_VERSION: u8 = 1;

/// A request signed by the key it names.
pub trait SignedRequest: Serialize {
    /// The context its signature is made under; one per kind of request.
    const CONTEXT: Context;

    /// The key that must have signed it.
    fn signer(&self) -> PublicKey;

    /// The bytes the signature covers after the context: `version (01) || postcard(self)`.
    fn signed_bytes(&self) -> Vec<u8> {
        codec::encode(&(REQUEST_VERSION, self))
    }

    /// Signs the request; the platform accepts it only if `key` is [`SignedRequest::signer`].
    fn sign(&self, key: &DeviceKey) -> Signature {
        key.sign(Self::CONTEXT, &self.signed_bytes())
    }

    /// Checks `signature` under the named key with `verify_strict`.
    fn verify(&self, signature: &Signature) -> Result<(), BadSignature> {
        self.signer().verify(Self::CONTEXT, &self.signed_bytes(), signature)
    }
}

/// `POST /api/devices`: a device key and the name it is shown under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceRegistration {
    /// The device key; it signs.
    pub public_key: PublicKey,
    /// The display name, as sent.
    pub display_name: String,
}

impl SignedRequest for DeviceRegistration {
    const CONTEXT: Context = Context::DEVICE_REGISTRATION;
    fn signer(&self) -> PublicKey {
        self.public_key
    }
}

/// `POST /api/merchants`: a merchant key for a brand, pending the operator's approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MerchantRegistration {
    /// The brand it will redeem.
    pub brand: BrandId,
    /// The merchant key that will sign receipts; it signs.
    pub public_key: PublicKey,
    /// The shop's name, as sent.
    pub name: String,
}

impl SignedRequest for MerchantRegistration {
    const CONTEXT: Context = Context::MERCHANT_REGISTRATION;
    fn signer(&self) -> PublicKey {
        self.public_key
    }
}

/// `POST /api/gifts`: buy a voucher bound to `recipient` (the buyer itself for a purchase for oneself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Order {
    /// The client's idempotency key: a retry with the same id returns the same voucher.
    pub order_id: [u8; 16],
    /// What is bought.
    pub sku: u32,
    /// The paying device; it signs.
    pub buyer: PublicKey,
    /// The device the voucher is bound to.
    pub recipient: PublicKey,
}

impl SignedRequest for Order {
    const CONTEXT: Context = Context::ORDER;
    fn signer(&self) -> PublicKey {
        self.buyer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> DeviceKey {
        DeviceKey::from_seed(&[seed; 32])
    }

    fn order() -> Order {
        Order { order_id: [5; 16], sku: 1001, buyer: key(1).public(), recipient: key(2).public() }
    }

    #[test]
    fn signed_bytes_are_the_version_then_the_fields_in_order() {
        let device = DeviceRegistration { public_key: key(1).public(), display_name: "김민지".into() };
        let mut expected = vec![REQUEST_VERSION];
        expected.extend_from_slice(&key(1).public().to_bytes());
        expected.push(9);
        expected.extend_from_slice("김민지".as_bytes());
        assert_eq!(device.signed_bytes(), expected);

        let merchant = MerchantRegistration { brand: BrandId(300), public_key: key(3).public(), name: "별다방".into() };
        let mut expected = vec![REQUEST_VERSION, 0xac, 0x02];
        expected.extend_from_slice(&key(3).public().to_bytes());
        expected.push(9);
        expected.extend_from_slice("별다방".as_bytes());
        assert_eq!(merchant.signed_bytes(), expected);

        let mut expected = vec![REQUEST_VERSION];
        expected.extend_from_slice(&[5; 16]);
        expected.extend_from_slice(&[0xe9, 0x07]);
        expected.extend_from_slice(&key(1).public().to_bytes());
        expected.extend_from_slice(&key(2).public().to_bytes());
        assert_eq!(order().signed_bytes(), expected);
    }

    #[test]
    fn only_the_named_key_over_the_same_fields_verifies() {
        let order = order();
        let signature = order.sign(&key(1));
        assert_eq!(order.verify(&signature), Ok(()));
        assert_eq!(order.verify(&order.sign(&key(2))), Err(BadSignature), "signed by the recipient, not the buyer");
        let tampered = Order { sku: 1002, ..order.clone() };
        assert_eq!(tampered.verify(&signature), Err(BadSignature));
        let redirected = Order { recipient: key(3).public(), ..order.clone() };
        assert_eq!(redirected.verify(&signature), Err(BadSignature));

        let device = DeviceRegistration { public_key: key(1).public(), display_name: "김민지".into() };
        let signature = device.sign(&key(1));
        assert_eq!(device.verify(&signature), Ok(()));
        let renamed = DeviceRegistration { display_name: "김민지 ".into(), ..device.clone() };
        assert_eq!(renamed.verify(&signature), Err(BadSignature));
    }

    #[test]
    fn a_signature_for_one_kind_of_request_does_not_verify_as_another() {
        let device = DeviceRegistration { public_key: key(1).public(), display_name: "별다방".into() };
        let merchant = MerchantRegistration { brand: BrandId(1), public_key: key(1).public(), name: "별다방".into() };
        // The same bytes signed under the order context, and a merchant's signature, are refused.
        let under_order = key(1).sign(Context::ORDER, &device.signed_bytes());
        assert_eq!(device.verify(&under_order), Err(BadSignature));
        assert_eq!(device.verify(&merchant.sign(&key(1))), Err(BadSignature));
        assert_eq!(merchant.verify(&device.sign(&key(1))), Err(BadSignature));
    }
}
