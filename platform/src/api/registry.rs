//! Devices, merchants, catalogue.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
};
use crypto::{
    request::{DeviceRegistration, MerchantRegistration},
    voucher::BrandId,
};
use serde::{Deserialize, Serialize};

use crate::{
    error::ApiError,
    http::AppState,
    registry::{self, Brand, MAX_NAME_CHARS, MerchantView},
    wire::{self, ApiJson},
};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/catalogue", get(catalogue))
        .route("/api/devices", post(register_device))
        .route("/api/devices/{key}", get(device))
        .route("/api/merchants", post(register_merchant))
        .route("/api/merchants/{id}", get(merchant))
}

#[derive(Serialize)]
struct Catalogue {
    brands: Vec<Brand>,
}

async fn catalogue(State(state): State<AppState>) -> Result<Json<Catalogue>, ApiError> {
    let brands = state.run(|connection, _| registry::catalogue(connection)).await?;
    Ok(Json(Catalogue { brands }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceRequest {
    public_key: String,
    display_name: String,
    signature: String,
}

#[derive(Serialize)]
struct Device {
    public_key: String,
    display_name: String,
}

async fn register_device(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<DeviceRequest>,
) -> Result<(StatusCode, Json<Device>), ApiError> {
    let key = wire::public_key("public_key", &request.public_key)?;
    let name = wire::name("display_name", &request.display_name, MAX_NAME_CHARS)?;
    let registration = DeviceRegistration { public_key: key, display_name: request.display_name };
    wire::signed_by_named_key(&registration, "public_key", &request.signature)?;
    let now = wire::now();
    let stored_name = name.clone();
    let created = state.run(move |connection, _| registry::register_device(connection, &key, &stored_name, now)).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(Device { public_key: wire::b64(&key.to_bytes()), display_name: name })))
}

async fn device(State(state): State<AppState>, Path(key): Path<String>) -> Result<Json<Device>, ApiError> {
    let key = wire::public_key("key", &key)?;
    let name = state.run(move |connection, _| registry::device_name(connection, &key)).await?;
    let display_name = name.ok_or_else(|| ApiError::NotFound("no device registered with this key".into()))?;
    Ok(Json(Device { public_key: wire::b64(&key.to_bytes()), display_name }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MerchantRequest {
    brand: u32,
    public_key: String,
    name: String,
    signature: String,
}

async fn register_merchant(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<MerchantRequest>,
) -> Result<(StatusCode, Json<MerchantView>), ApiError> {
    let key = wire::public_key("public_key", &request.public_key)?;
    let name = wire::name("name", &request.name, MAX_NAME_CHARS)?;
    let registration = MerchantRegistration { brand: BrandId(request.brand), public_key: key, name: request.name };
    wire::signed_by_named_key(&registration, "public_key", &request.signature)?;
    let now = wire::now();
    let (view, created) = state
        .run(move |connection, _| registry::register_merchant(connection, request.brand, &key, &name, now))
        .await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(view)))
}

pub(super) fn merchant_id(text: &str) -> Result<u32, ApiError> {
    text.parse().map_err(|_| ApiError::bad(format!("merchant id: {text:?} is not a number")))
}

async fn merchant(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<MerchantView>, ApiError> {
    let id = merchant_id(&id)?;
    let view = state.run(move |connection, _| registry::merchant(connection, id)).await?;
    Ok(Json(view.ok_or_else(|| ApiError::NotFound(format!("merchant {id}: no such merchant")))?))
}
