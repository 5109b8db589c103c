//! Devices, merchants and the catalogue.

use crypto::keys::PublicKey;
use rusqlite::{Connection, OptionalExtension as _, params};
use serde::Serialize;

use crate::{
    coupons::{Product, int, product_row},
    error::ApiError,
};

/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Whether a device with this key is registered.
pub fn device_exists(connection: &Connection, key: &PublicKey) -> Result<bool, ApiError> {
    Ok(connection.query_row(
        "SELECT EXISTS (SELECT 1 FROM devices WHERE public_key = ?1)",
        params![key.to_bytes()],
        |row| row.get(0),
    )?)
}

/// A device's display name, if registered.
pub fn device_name(connection: &Connection, key: &PublicKey) -> Result<Option<String>, ApiError> {
    Ok(connection
        .query_row("SELECT display_name FROM devices WHERE public_key = ?1", params![key.to_bytes()], |row| row.get(0))
        .optional()?)
}

/// Registers a device. True if it was new; registering again with the same name is a no-op,
/// with another name a conflict.
pub fn register_device(connection: &mut Connection, key: &PublicKey, name: &str, now: u64) -> Result<bool, ApiError> {
    let transaction = connection.transaction()?;
    match device_name(&transaction, key)? {
        Some(existing) if existing == name => return Ok(false),
        Some(_) => return Err(ApiError::Conflict("device already registered under another name".into())),
        None => {}
    }
    transaction.execute(
        "INSERT INTO devices (public_key, display_name, registered_at) VALUES (?1, ?2, ?3)",
        params![key.to_bytes(), name, int(now)],
    )?;
    transaction.commit()?;
    Ok(true)
}

/// A merchant as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MerchantView {
    /// The id the platform assigned; receipts carry it.
    pub id: u32,
    /// The brand it redeems.
    pub brand: u32,
    /// Its name.
    pub name: String,
    /// `pending` until an operator approves it, then `approved`.
    pub status: &'static str,
}

/// Looks a merchant up by id.
pub fn merchant(connection: &Connection, id: u32) -> Result<Option<MerchantView>, ApiError> {
    Ok(connection
        .query_row("SELECT id, brand, name, approved_at FROM merchants WHERE id = ?1", params![id], |row| {
            let approved: Option<i64> = row.get(3)?;
            Ok(MerchantView {
                id: row.get(0)?,
                brand: row.get(1)?,
                name: row.get(2)?,
                status: if approved.is_some() { "approved" } else { "pending" },
            })
        })
        .optional()?)
}

/// Registers a merchant key for a brand, pending approval. The same registration again returns
/// the same merchant (and `false`); the key under another brand or name is a conflict.
pub fn register_merchant(
    connection: &mut Connection,
    brand: u32,
    key: &PublicKey,
    name: &str,
    now: u64,
) -> Result<(MerchantView, bool), ApiError> {
    let transaction = connection.transaction()?;
    let known_brand: bool =
        transaction.query_row("SELECT EXISTS (SELECT 1 FROM brands WHERE id = ?1)", params![brand], |row| row.get(0))?;
    if !known_brand {
        return Err(ApiError::NotFound(format!("brand {brand}: no such brand")));
    }
    let existing: Option<u32> = transaction
        .query_row("SELECT id FROM merchants WHERE public_key = ?1", params![key.to_bytes()], |row| row.get(0))
        .optional()?;
    if let Some(id) = existing {
        let view = merchant(&transaction, id)?.ok_or_else(|| ApiError::NotFound("merchant vanished".into()))?;
        if view.brand != brand || view.name != name {
            return Err(ApiError::Conflict("merchant key already registered for another brand or name".into()));
        }
        return Ok((view, false));
    }
    transaction.execute(
        "INSERT INTO merchants (brand, public_key, name, registered_at) VALUES (?1, ?2, ?3, ?4)",
        params![brand, key.to_bytes(), name, int(now)],
    )?;
    let id = u32::try_from(transaction.last_insert_rowid())
        .map_err(|_| ApiError::LimitReached("merchant ids exhausted".into()))?;
    transaction.commit()?;
    Ok((MerchantView { id, brand, name: name.to_owned(), status: "pending" }, true))
}

/// Approves a merchant (operator). Approving twice is harmless.
pub fn approve_merchant(connection: &mut Connection, id: u32, now: u64) -> Result<MerchantView, ApiError> {
    let transaction = connection.transaction()?;
    let changed = transaction.execute(
        "UPDATE merchants SET approved_at = coalesce(approved_at, ?2) WHERE id = ?1",
        params![id, int(now)],
    )?;
    if changed == 0 {
        return Err(ApiError::NotFound(format!("merchant {id}: no such merchant")));
    }
    let view = merchant(&transaction, id)?.ok_or_else(|| ApiError::NotFound("merchant vanished".into()))?;
    transaction.commit()?;
    Ok(view)
}

/// A brand and its products.
#[derive(Debug, Clone, Serialize)]
pub struct Brand {
    /// The brand id vouchers carry.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// What can be bought for it.
    pub products: Vec<Product>,
}

/// The whole catalogue, brands and products in id order.
pub fn catalogue(connection: &Connection) -> Result<Vec<Brand>, ApiError> {
    let mut brands: Vec<Brand> = connection
        .prepare("SELECT id, name FROM brands ORDER BY id")?
        .query_map([], |row| Ok(Brand { id: row.get(0)?, name: row.get(1)?, products: Vec::new() }))?
        .collect::<Result<_, _>>()?;
    let products: Vec<Product> = connection
        .prepare(
            "SELECT sku, brand, name, price_krw, value_krw, stored_value, validity_days FROM products ORDER BY sku",
        )?
        .query_map([], product_row)?
        .collect::<Result<_, _>>()?;
    for product in products {
        if let Some(brand) = brands.iter_mut().find(|brand| brand.id == product.brand) {
            brand.products.push(product);
        }
    }
    Ok(brands)
}
