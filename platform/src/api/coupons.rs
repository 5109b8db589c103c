//! Signed lists, buying and gifting, online redemption and reconciliation.

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Path, State},
    http::StatusCode,
    routing::{get, post},
};
use crypto::{
    receipt::{MAX_RECEIPT_LEN, RedemptionReceipt},
    request::Order,
};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};

use super::{MAX_BATCH, MAX_RECONCILIATION_BODY_BYTES};
use crate::{
    coupons::{self, Channel, Outcome, Processed, ReceiptContext},
    error::ApiError,
    http::AppState,
    signatures::CheckedReceipts,
    wire::{self, ApiJson, b64},
};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/trust-list", get(trust_list))
        .route("/api/brands/{brand}/revocations", get(revocations))
        .route("/api/expiry-extensions", get(extensions))
        .route("/api/gifts", post(gift))
        .route("/api/redemptions", post(redeem))
        .route(
            "/api/reconciliation",
            post(reconcile).layer(DefaultBodyLimit::max(MAX_RECONCILIATION_BODY_BYTES)),
        )
}

/// A signed list and how old it is.
#[derive(Serialize)]
struct SignedList {
    list: String,
    issued_at: u64,
    age_secs: u64,
}

#[derive(Serialize)]
struct TrustList {
    #[serde(flatten)]
    signed: SignedList,
    /// The root key the list verifies under; the app pins it rather than trusting this field.
    root_key: String,
}

async fn trust_list(State(state): State<AppState>) -> Json<TrustList> {
    let trust = &state.signing.trust;
    let issued_at = trust.list().issued_at;
    Json(TrustList {
        signed: SignedList { list: b64(trust.to_bytes()), issued_at, age_secs: trust.age(wire::now()) },
        root_key: b64(&state.signing.root.to_bytes()),
    })
}

async fn revocations(State(state): State<AppState>, Path(brand): Path<String>) -> Result<Json<SignedList>, ApiError> {
    let brand: u32 = brand.parse().map_err(|_| ApiError::bad(format!("brand: {brand:?} is not a number")))?;
    let now = wire::now();
    let (issued_at, bytes) = state
        .run(move |connection, signing| coupons::revocation_list(connection, &signing.keys.platform, brand, now))
        .await?;
    Ok(Json(SignedList { list: b64(&bytes), issued_at, age_secs: now.saturating_sub(issued_at) }))
}

#[derive(Serialize)]
struct Extensions {
    extensions: Vec<String>,
}

async fn extensions(State(state): State<AppState>) -> Result<Json<Extensions>, ApiError> {
    let extensions = state.run(|connection, signing| coupons::extensions(connection, &signing.trust)).await?;
    Ok(Json(Extensions { extensions: extensions.iter().map(|extension| b64(extension.to_bytes())).collect() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GiftRequest {
    order_id: String,
    sku: u32,
    buyer: String,
    recipient: String,
    signature: String,
}

#[derive(Serialize)]
struct GiftResponse {
    voucher_id: String,
    voucher: String,
    qr_text: String,
    expires_at: u64,
    mailbox_id: i64,
}

/// Buys a voucher for `recipient` (the buyer's own key for a purchase for oneself): issued
/// holder-bound and sealed into the recipient's mailbox, if the buyer's key signed the order.
/// Payment is not part of this API yet.
async fn gift(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<GiftRequest>,
) -> Result<(StatusCode, Json<GiftResponse>), ApiError> {
    let order = Order {
        order_id: wire::array::<16>("order_id", &request.order_id)?,
        sku: request.sku,
        buyer: wire::public_key("buyer", &request.buyer)?,
        recipient: wire::public_key("recipient", &request.recipient)?,
    };
    wire::signed_by_named_key(&order, "buyer", &request.signature)?;
    let now = wire::now();
    let issued = state
        .run(move |connection, signing| {
            coupons::issue(connection, &signing.keys.issuer, signing.trust.list(), &order, now, &mut OsRng)
        })
        .await?;
    let voucher = &issued.voucher;
    let response = GiftResponse {
        voucher_id: b64(&voucher.id().0),
        voucher: b64(voucher.to_bytes()),
        qr_text: voucher.to_qr_text(),
        expires_at: voucher.terms().expires_at,
        mailbox_id: issued.mailbox_id,
    };
    Ok((if issued.created { StatusCode::CREATED } else { StatusCode::OK }, Json(response)))
}

/// Checks the receipts' signatures on a blocking thread, before the database is touched.
async fn check(receipts: Vec<RedemptionReceipt>) -> Result<CheckedReceipts, ApiError> {
    tokio::task::spawn_blocking(move || CheckedReceipts::check(receipts))
        .await
        .map_err(|_| ApiError::Internal(crate::db::DbError::Cancelled))
}

fn receipt(field: &str, text: &str) -> Result<RedemptionReceipt, ApiError> {
    let bytes = wire::bytes(field, text, MAX_RECEIPT_LEN)?;
    RedemptionReceipt::from_bytes(&bytes).map_err(|error| ApiError::bad(format!("{field}: {error}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedeemRequest {
    receipt: String,
}

#[derive(Serialize)]
struct Redeemed {
    receipt_id: String,
    voucher_id: String,
    #[serde(flatten)]
    outcome: Outcome,
}

/// Online redemption: the merchant signs a receipt for the holder's fresh presentation and the
/// platform spends the voucher atomically. 200 when it counts (also on a retry of the same
/// receipt), 409 with the reason when it does not.
async fn redeem(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RedeemRequest>,
) -> Result<Json<Redeemed>, ApiError> {
    let receipt = receipt("receipt", &request.receipt)?;
    let now = wire::now();
    let (receipt_id, voucher_id) = (b64(&receipt.receipt_id().0), b64(&receipt.voucher_id().0));
    let checked = check(vec![receipt]).await?;
    let mut outcomes = state
        .run(move |connection, signing| {
            let extensions = coupons::extensions(connection, &signing.trust)?;
            let context = ReceiptContext { extensions: &extensions, now };
            coupons::process_receipts(connection, [checked], Channel::Online, context)
        })
        .await?;
    match outcomes.pop().map(|processed| processed.outcome) {
        Some(Outcome::Refused { reason }) => Err(ApiError::Conflict(reason)),
        Some(outcome) => Ok(Json(Redeemed { receipt_id, voucher_id, outcome })),
        None => Err(ApiError::bad("no outcome")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReconcileRequest {
    receipts: Vec<String>,
}

#[derive(Serialize)]
struct ReceiptOutcome {
    index: usize,
    receipt_id: Option<String>,
    #[serde(flatten)]
    outcome: Outcome,
}

#[derive(Serialize)]
struct Reconciled {
    outcomes: Vec<ReceiptOutcome>,
}

/// A merchant's offline receipts, in one transaction: every receipt gets an outcome, in order;
/// uploading again returns the same outcomes and changes nothing.
async fn reconcile(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ReconcileRequest>,
) -> Result<Json<Reconciled>, ApiError> {
    if request.receipts.len() > MAX_BATCH {
        return Err(ApiError::TooLarge(format!("{} receipts, at most {MAX_BATCH} per upload", request.receipts.len())));
    }
    // Base64 here; decoding the receipts and checking their signatures overlaps with the
    // database work (`coupons::reconcile`).
    let mut outcomes: Vec<Option<ReceiptOutcome>> = Vec::with_capacity(request.receipts.len());
    let mut uploads = Vec::new();
    let mut positions = Vec::new();
    for (index, text) in request.receipts.iter().enumerate() {
        match wire::bytes("receipt", text, MAX_RECEIPT_LEN) {
            Ok(bytes) => {
                outcomes.push(None);
                positions.push(index);
                uploads.push(bytes);
            }
            Err(error) => outcomes.push(Some(ReceiptOutcome {
                index,
                receipt_id: None,
                outcome: Outcome::Refused { reason: error.to_string() },
            })),
        }
    }
    let now = wire::now();
    let processed = state
        .run(move |connection, signing| {
            let extensions = coupons::extensions(connection, &signing.trust)?;
            let context = ReceiptContext { extensions: &extensions, now };
            coupons::reconcile(connection, &uploads, context)
        })
        .await?;
    for (index, Processed { receipt_id, outcome }) in positions.into_iter().zip(processed) {
        let receipt_id = receipt_id.map(|id| b64(&id.0));
        outcomes[index] = Some(ReceiptOutcome { index, receipt_id, outcome });
    }
    Ok(Json(Reconciled { outcomes: outcomes.into_iter().flatten().collect() }))
}
