//! Mailbox: deposit sealed envelopes; the recipient fetches and acknowledges with signed challenges.

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Path, State},
    http::StatusCode,
    routing::post,
};
use crypto::{
    keys::PublicKey,
    seal::{MAX_SEALED_LENGTH, SEAL_OVERHEAD, SEAL_VERSION},
};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};

use super::MAX_MAILBOX_BODY_BYTES;
use crate::{
    error::ApiError,
    http::AppState,
    mailbox::{self, Proof},
    wire::{self, ApiJson, b64},
};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/mailbox/{recipient}/envelopes",
            post(deposit).layer(DefaultBodyLimit::max(MAX_MAILBOX_BODY_BYTES)),
        )
        .route("/api/mailbox/{recipient}/challenge", post(challenge))
        .route("/api/mailbox/{recipient}/fetch", post(fetch))
        .route("/api/mailbox/{recipient}/ack", post(ack))
}

fn recipient(text: &str) -> Result<PublicKey, ApiError> {
    wire::public_key("recipient", text)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DepositRequest {
    envelope: String,
}

#[derive(Serialize)]
struct Deposited {
    id: i64,
}

async fn deposit(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiJson(request): ApiJson<DepositRequest>,
) -> Result<(StatusCode, Json<Deposited>), ApiError> {
    let recipient = recipient(&key)?;
    let sealed = wire::bytes("envelope", &request.envelope, MAX_SEALED_LENGTH)?;
    if sealed.len() < SEAL_OVERHEAD || sealed[0] != SEAL_VERSION {
        return Err(ApiError::bad(format!(
            "envelope: not a sealed box (version {SEAL_VERSION}, at least {SEAL_OVERHEAD} bytes)"
        )));
    }
    let now = wire::now();
    let id = state.run(move |connection, _| mailbox::deposit(connection, &recipient, &sealed, now)).await?;
    Ok((StatusCode::CREATED, Json(Deposited { id })))
}

#[derive(Serialize)]
struct Challenge {
    challenge: String,
    expires_at: u64,
}

async fn challenge(State(state): State<AppState>, Path(key): Path<String>) -> Result<Json<Challenge>, ApiError> {
    let recipient = recipient(&key)?;
    let now = wire::now();
    let (challenge, expires_at) =
        state.run(move |connection, _| mailbox::challenge(connection, &recipient, now, &mut OsRng)).await?;
    Ok(Json(Challenge { challenge: b64(&challenge), expires_at }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FetchRequest {
    challenge: String,
    signature: String,
}

fn proof(challenge: &str, signature: &str) -> Result<Proof, ApiError> {
    Ok(Proof { challenge: wire::array::<32>("challenge", challenge)?, signature: wire::signature("signature", signature)? })
}

#[derive(Serialize)]
struct Envelope {
    id: i64,
    envelope: String,
}

#[derive(Serialize)]
struct Envelopes {
    envelopes: Vec<Envelope>,
}

async fn fetch(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiJson(request): ApiJson<FetchRequest>,
) -> Result<Json<Envelopes>, ApiError> {
    let recipient = recipient(&key)?;
    let proof = proof(&request.challenge, &request.signature)?;
    let now = wire::now();
    let envelopes = state.run(move |connection, _| mailbox::fetch(connection, &recipient, &proof, now)).await?;
    Ok(Json(Envelopes {
        envelopes: envelopes.into_iter().map(|(id, sealed)| Envelope { id, envelope: b64(&sealed) }).collect(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckRequest {
    challenge: String,
    signature: String,
    ids: Vec<i64>,
}

#[derive(Serialize)]
struct Acked {
    deleted: usize,
}

async fn ack(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ApiJson(request): ApiJson<AckRequest>,
) -> Result<Json<Acked>, ApiError> {
    let recipient = recipient(&key)?;
    let proof = proof(&request.challenge, &request.signature)?;
    if request.ids.len() > mailbox::MAX_FETCH as usize {
        return Err(ApiError::bad(format!("ids: at most {} per acknowledgement", mailbox::MAX_FETCH)));
    }
    let now = wire::now();
    let deleted =
        state.run(move |connection, _| mailbox::ack(connection, &recipient, &proof, &request.ids, now)).await?;
    Ok(Json(Acked { deleted }))
}
