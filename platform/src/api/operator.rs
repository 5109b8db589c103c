//! Operator endpoints under `/api/operator`: mounted only when a token is configured, and each
//! request must carry it as `Authorization: Bearer <token>`.

use std::sync::Arc;

use axum::{
    Json, Router,
    extract::{Path, Request, State},
    http::{StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse as _, Response},
    routing::{get, post},
};
use crypto::{
    extension::ExpiryExtension,
    trust::BrandScope,
    voucher::{BrandId, VoucherId},
};
use rusqlite::params;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::registry::merchant_id;
use crate::{
    coupons::{self, int, uint},
    error::ApiError,
    http::AppState,
    registry::{self, MerchantView},
    wire::{self, ApiJson, b64},
};

pub(super) fn routes(token: Arc<str>) -> Router<AppState> {
    Router::new()
        .route("/api/operator/merchants/{id}/approve", post(approve))
        .route("/api/operator/vouchers/{id}/revoke", post(revoke))
        .route("/api/operator/expiry-extensions", post(extend))
        .route("/api/operator/fraud-cases", get(fraud_cases))
        .route_layer(middleware::from_fn(move |request: Request, next: Next| {
            let token = Arc::clone(&token);
            async move { require_token(&token, request, next).await }
        }))
}

async fn require_token(token: &str, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(presented) if same_secret(presented, token) => next.run(request).await,
        _ => ApiError::Unauthorized("operator token missing or wrong".into()).into_response(),
    }
}

/// Compares digests in constant time, so neither the content nor the length of the token leaks.
fn same_secret(presented: &str, token: &str) -> bool {
    let (a, b) = (Sha256::digest(presented.as_bytes()), Sha256::digest(token.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |difference, (x, y)| difference | (x ^ y)) == 0
}

async fn approve(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<MerchantView>, ApiError> {
    let id = merchant_id(&id)?;
    let now = wire::now();
    Ok(Json(state.run(move |connection, _| registry::approve_merchant(connection, id, now)).await?))
}

#[derive(Serialize)]
struct Revoked {
    voucher_id: String,
    brand: u32,
}

async fn revoke(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Revoked>, ApiError> {
    let id = VoucherId(wire::array::<16>("voucher id", &id)?);
    let now = wire::now();
    let brand = state.run(move |connection, _| coupons::revoke(connection, &id, now)).await?;
    Ok(Json(Revoked { voucher_id: b64(&id.0), brand }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtensionRequest {
    /// `null` for every brand.
    brands: Option<Vec<u32>>,
    expiring_from: u64,
    expiring_to: u64,
    extra_secs: u64,
}

#[derive(Serialize)]
struct Extension {
    extension: String,
    issued_at: u64,
}

/// Signs and publishes an expiry extension ("brands B, expiring in [T1, T2], +N seconds").
async fn extend(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<ExtensionRequest>,
) -> Result<(StatusCode, Json<Extension>), ApiError> {
    let brands = match request.brands {
        None => BrandScope::Any,
        Some(mut brands) => {
            brands.sort_unstable();
            brands.dedup();
            BrandScope::Only(brands.into_iter().map(BrandId).collect())
        }
    };
    let now = wire::now();
    let extension = ExpiryExtension {
        issued_at: now,
        brands,
        expiring_from: request.expiring_from,
        expiring_to: request.expiring_to,
        extra_secs: request.extra_secs,
    };
    let bytes = state
        .run(move |connection, signing| {
            let bytes = extension
                .sign(&signing.keys.platform)
                .map_err(|error| ApiError::bad(format!("expiry extension: {error}")))?;
            connection.execute(
                "INSERT INTO expiry_extensions (issued_at, bytes) VALUES (?1, ?2)",
                params![int(now), bytes],
            )?;
            Ok(bytes)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(Extension { extension: b64(&bytes), issued_at: now })))
}

#[derive(Serialize)]
struct FraudCase {
    id: i64,
    voucher_id: String,
    kind: String,
    opened_at: u64,
    /// Both receipts, each carrying the holder-signed presentation it redeemed.
    receipts: [String; 2],
}

#[derive(Serialize)]
struct FraudCases {
    cases: Vec<FraudCase>,
}

async fn fraud_cases(State(state): State<AppState>) -> Result<Json<FraudCases>, ApiError> {
    let cases = state
        .run(|connection, _| {
            let mut statement = connection.prepare(
                "SELECT c.id, c.voucher_id, c.kind, c.opened_at, a.bytes, b.bytes
                 FROM fraud_cases c
                 JOIN receipts a ON a.receipt_id = c.first_receipt
                 JOIN receipts b ON b.receipt_id = c.second_receipt
                 ORDER BY c.id",
            )?;
            let cases = statement
                .query_map([], |row| {
                    Ok(FraudCase {
                        id: row.get(0)?,
                        voucher_id: b64(&row.get::<_, Vec<u8>>(1)?),
                        kind: row.get(2)?,
                        opened_at: uint(row.get(3)?),
                        receipts: [b64(&row.get::<_, Vec<u8>>(4)?), b64(&row.get::<_, Vec<u8>>(5)?)],
                    })
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(cases)
        })
        .await?;
    Ok(Json(FraudCases { cases }))
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn secrets_compare_by_content() {
        assert!(same_secret("s3cret-token-value", "s3cret-token-value"));
        assert!(!same_secret("s3cret-token-valuf", "s3cret-token-value"));
        assert!(!same_secret("", "s3cret-token-value"));
    }
}
