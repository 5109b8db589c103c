//! Gift coupons on the platform: issuing, revocation lists, online redemption and reconciliation.
//!
//! Plain functions over a SQLite connection; each takes the time as an argument and does its
//! writes in one transaction. The HTTP handlers in `api` only decode, call and encode.

use std::collections::HashMap;

use crypto::{
    extension::{VerifiedExpiryExtension, effective_expiry},
    keys::DeviceKey,
    presentation::Scanned,
    receipt::{ReceiptId, RedemptionReceipt},
    request::Order,
    revocation::RevocationList,
    trust::{TrustList, VerifiedTrustList},
    voucher::{BrandId, Flags, Voucher, VoucherId, VoucherTerms},
};
use rand_core::CryptoRngCore;
use rusqlite::{Connection, OptionalExtension as _, Transaction, params};

use crate::{
    error::ApiError,
    signatures::{self, CheckedReceipts, Verdict},
};

/// How far a merchant's clock may be off when it redeems online, either way, in seconds.
pub const ONLINE_CLOCK_TOLERANCE_SECS: u64 = 120;
/// Clock tolerance for the expiry of a receipt uploaded at reconciliation.
pub const RECONCILE_CLOCK_TOLERANCE_SECS: u64 = 300;
/// A cached revocation list older than this is signed afresh when asked for.
pub const REVOCATION_LIST_REFRESH_SECS: u64 = 3600;

/// SQLite stores signed 64-bit integers; times and ids past `i64::MAX` saturate.
pub(crate) fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) fn uint(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A product as the catalogue lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Product {
    /// Stock-keeping unit; the voucher's `sku`.
    pub sku: u32,
    /// The brand that redeems it.
    pub brand: u32,
    /// Name shown in the app.
    pub name: String,
    /// Price in KRW.
    pub price_krw: u32,
    /// Stored value in KRW (0 for an item coupon).
    pub value_krw: u32,
    /// Whether it is a stored-value denomination.
    pub stored_value: bool,
    /// Days from issue to expiry.
    pub validity_days: u32,
}

/// Looks a product up by SKU.
pub fn product(connection: &Connection, sku: u32) -> Result<Option<Product>, ApiError> {
    Ok(connection
        .query_row(
            "SELECT sku, brand, name, price_krw, value_krw, stored_value, validity_days FROM products WHERE sku = ?1",
            params![sku],
            product_row,
        )
        .optional()?)
}

pub(crate) fn product_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Product> {
    Ok(Product {
        sku: row.get(0)?,
        brand: row.get(1)?,
        name: row.get(2)?,
        price_krw: row.get(3)?,
        value_krw: row.get(4)?,
        stored_value: row.get(5)?,
        validity_days: row.get(6)?,
    })
}

/// The voucher of an order, and whether this call issued it (false on a retry).
#[derive(Debug, Clone)]
pub struct Issued {
    /// The signed voucher.
    pub voucher: Voucher,
    /// The mailbox entry that delivered it.
    pub mailbox_id: i64,
    /// True when this call issued it; false when it answers a retry.
    pub created: bool,
}

/// Issues a holder-bound voucher for `order` and seals it into the recipient's mailbox, in one
/// transaction. Retrying the same order returns the same voucher; reusing its id for another
/// order is a conflict. A voucher that `trust` would not let `issuer` sign (brand out of scope,
/// expiry past the key's window) is not issued: merchants would refuse it.
pub fn issue(
    connection: &mut Connection,
    issuer: &DeviceKey,
    trust: &TrustList,
    order: &Order,
    now: u64,
    rng: &mut impl CryptoRngCore,
) -> Result<Issued, ApiError> {
    let transaction = connection.transaction()?;
    if let Some(issued) = existing_order(&transaction, order)? {
        return Ok(issued);
    }
    for (role, key) in [("buyer", order.buyer), ("recipient", order.recipient)] {
        if !crate::registry::device_exists(&transaction, &key)? {
            return Err(ApiError::NotFound(format!("{role}: no device registered with this key")));
        }
    }
    let product = product(&transaction, order.sku)?
        .ok_or_else(|| ApiError::NotFound(format!("sku {}: no such product", order.sku)))?;
    let flags = if product.stored_value { Flags::STORED_VALUE } else { Flags::NONE };
    let terms = VoucherTerms {
        sku: product.sku,
        brand: BrandId(product.brand),
        value: product.value_krw,
        issued_at: now,
        expires_at: now.saturating_add(u64::from(product.validity_days) * 86_400),
        flags,
        holder: Some(order.recipient),
    };
    if !crate::trust::issuer_covers(trust, &issuer.public(), terms.brand, terms.issued_at, terms.expires_at) {
        return Err(ApiError::Unavailable(format!(
            "cannot issue sku {}: the trust list does not let this platform's issuer key sign for brand {} until {}; \
             the operator must install a newer trust list",
            product.sku,
            product.brand,
            crate::trust::rfc3339(terms.expires_at)
        )));
    }
    let voucher = Voucher::issue(issuer, VoucherId::random(rng), terms)
        .map_err(|error| ApiError::bad(format!("cannot issue: {error}")))?;
    let sealed = crypto::seal::seal(&order.recipient, voucher.to_bytes(), rng)
        .map_err(|error| ApiError::bad(format!("cannot seal the voucher: {error}")))?;
    let mailbox_id = crate::mailbox::put(&transaction, &order.recipient, &sealed, now)?;
    transaction.execute(
        "INSERT INTO vouchers (id, order_id, sku, brand, holder, buyer, issued_at, expires_at, bytes, mailbox_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            voucher.id().0,
            order.order_id,
            product.sku,
            product.brand,
            order.recipient.to_bytes(),
            order.buyer.to_bytes(),
            int(terms.issued_at),
            int(terms.expires_at),
            voucher.to_bytes(),
            mailbox_id,
        ],
    )?;
    transaction.commit()?;
    Ok(Issued { voucher, mailbox_id, created: true })
}

fn existing_order(transaction: &Transaction<'_>, order: &Order) -> Result<Option<Issued>, ApiError> {
    let row: Option<(Vec<u8>, Vec<u8>, u32, i64)> = transaction
        .query_row(
            "SELECT bytes, buyer, sku, mailbox_id FROM vouchers WHERE order_id = ?1",
            params![order.order_id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()?;
    let Some((bytes, buyer, sku, mailbox_id)) = row else { return Ok(None) };
    let voucher = stored_voucher(&bytes)?;
    if buyer != order.buyer.to_bytes() || sku != order.sku || voucher.terms().holder != Some(order.recipient) {
        return Err(ApiError::Conflict("order id already used for a different order".into()));
    }
    Ok(Some(Issued { voucher, mailbox_id, created: false }))
}

fn stored_voucher(bytes: &[u8]) -> Result<Voucher, ApiError> {
    Voucher::from_bytes(bytes).map_err(|error| {
        ApiError::Internal(crate::db::DbError::Corrupt(format!("stored voucher does not decode: {error}")))
    })
}

/// Revokes voucher `id` (a refund or re-issue) and drops its brand's cached revocation list, in
/// one transaction. Revoking twice is harmless.
pub fn revoke(connection: &mut Connection, id: &VoucherId, now: u64) -> Result<u32, ApiError> {
    let transaction = connection.transaction()?;
    let brand: Option<u32> = transaction
        .query_row("SELECT brand FROM vouchers WHERE id = ?1", params![id.0], |row| row.get(0))
        .optional()?;
    let brand = brand.ok_or_else(|| ApiError::NotFound("no such voucher".into()))?;
    transaction.execute(
        "UPDATE vouchers SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        params![id.0, int(now)],
    )?;
    transaction.execute("DELETE FROM revocation_lists WHERE brand = ?1", params![brand])?;
    transaction.commit()?;
    Ok(brand)
}

/// The signed revocation list of one brand: the cached one unless it is older than
/// [`REVOCATION_LIST_REFRESH_SECS`], else a fresh one, cached.
pub fn revocation_list(
    connection: &mut Connection,
    platform: &DeviceKey,
    brand: u32,
    now: u64,
) -> Result<(u64, Vec<u8>), ApiError> {
    let transaction = connection.transaction()?;
    let known: bool =
        transaction.query_row("SELECT EXISTS (SELECT 1 FROM brands WHERE id = ?1)", params![brand], |row| row.get(0))?;
    if !known {
        return Err(ApiError::NotFound(format!("brand {brand}: no such brand")));
    }
    let cached: Option<(i64, Vec<u8>)> = transaction
        .query_row("SELECT issued_at, bytes FROM revocation_lists WHERE brand = ?1", params![brand], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    if let Some((issued_at, bytes)) = cached
        && now.saturating_sub(uint(issued_at)) < REVOCATION_LIST_REFRESH_SECS
    {
        return Ok((uint(issued_at), bytes));
    }
    let mut statement =
        transaction.prepare("SELECT id FROM vouchers WHERE brand = ?1 AND revoked_at IS NOT NULL")?;
    let ids = statement
        .query_map(params![brand], |row| row.get::<_, Vec<u8>>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    drop(statement);
    let revoked = ids
        .into_iter()
        .filter_map(|id| <[u8; 16]>::try_from(id).ok())
        .map(|id| (BrandId(brand), VoucherId(id)));
    let list = RevocationList::new(now, [BrandId(brand)], revoked);
    let bytes = list.sign(platform).map_err(|error| ApiError::LimitReached(format!("revocation list: {error}")))?;
    transaction.execute(
        "INSERT OR REPLACE INTO revocation_lists (brand, issued_at, bytes) VALUES (?1, ?2, ?3)",
        params![brand, int(now), bytes],
    )?;
    transaction.commit()?;
    Ok((now, bytes))
}

/// The stored expiry extensions, verified against the trust list.
pub fn extensions(connection: &Connection, trust: &VerifiedTrustList) -> Result<Vec<VerifiedExpiryExtension>, ApiError> {
    let mut statement = connection.prepare("SELECT bytes FROM expiry_extensions ORDER BY id")?;
    let rows = statement.query_map([], |row| row.get::<_, Vec<u8>>(0))?.collect::<Result<Vec<_>, _>>()?;
    rows.iter()
        .map(|bytes| {
            VerifiedExpiryExtension::from_bytes(bytes, trust).map_err(|error| {
                ApiError::Internal(crate::db::DbError::Corrupt(format!("stored expiry extension: {error}")))
            })
        })
        .collect()
}

/// What happened to one receipt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The redemption counts: the voucher is spent by this receipt.
    Accepted,
    /// The voucher was already spent by another receipt: a fraud case holds both.
    DoubleRedemption {
        /// The fraud case.
        fraud_case: i64,
    },
    /// The receipt does not count; nothing was stored.
    Refused {
        /// Why.
        reason: String,
    },
}

/// Which channel a receipt came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The merchant is online: the platform decides before the goods are handed over.
    Online,
    /// Uploaded after an offline redemption.
    Reconciliation,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Reconciliation => "reconciliation",
        }
    }
}

/// Everything a receipt is checked against besides the database.
#[derive(Debug, Clone, Copy)]
pub struct ReceiptContext<'a> {
    /// The platform's expiry extensions, verified.
    pub extensions: &'a [VerifiedExpiryExtension],
    /// Unix seconds at the platform.
    pub now: u64,
}

/// A receipt's outcome and its id (none if it did not decode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    /// The receipt's id.
    pub receipt_id: Option<ReceiptId>,
    /// What happened to it.
    pub outcome: Outcome,
}

/// Processes receipts in one transaction: each gets an outcome, in order. Their signatures were
/// checked before ([`CheckedReceipts`]), in batches, outside the database's work; the chunks may
/// still be arriving ([`reconcile`]). Retrying a receipt returns its stored outcome.
///
/// Online: a spent voucher is refused. A refusal of a registered merchant's receipt is recorded, so
/// the same receipt uploaded later is refused again ("refused online: …"), never counted or taken
/// for a double redemption. Reconciliation: a spent voucher opens a fraud case holding both
/// receipts, hence both holder-signed presentations.
pub fn process_receipts(
    connection: &mut Connection,
    receipts: impl IntoIterator<Item = CheckedReceipts>,
    channel: Channel,
    context: ReceiptContext<'_>,
) -> Result<Vec<Processed>, ApiError> {
    let transaction = connection.transaction()?;
    let processed = process_in(&transaction, receipts, channel, context)?;
    transaction.commit()?;
    Ok(processed)
}

/// [`process_receipts`] inside `transaction`, which the caller commits.
fn process_in(
    transaction: &Transaction<'_>,
    receipts: impl IntoIterator<Item = CheckedReceipts>,
    channel: Channel,
    context: ReceiptContext<'_>,
) -> Result<Vec<Processed>, ApiError> {
    let mut merchants = Merchants::default();
    let mut processed = Vec::new();
    for chunk in receipts {
        processed.reserve(chunk.len());
        for entry in chunk.iter() {
            processed.push(match entry {
                Err(error) => {
                    Processed { receipt_id: None, outcome: Outcome::Refused { reason: format!("receipt: {error}") } }
                }
                Ok((receipt, signatures)) => Processed {
                    receipt_id: Some(receipt.receipt_id()),
                    outcome: match signatures {
                        Err(error) => Outcome::Refused { reason: error.to_string() },
                        Ok(()) => process_one(transaction, &mut merchants, receipt, channel, context)?,
                    },
                },
            });
        }
    }
    Ok(processed)
}

/// Reconciles an upload (each receipt's bytes) in one transaction. First provisionally: decoding
/// overlaps with the database work, and the signatures are checked in one batch per core at the
/// end ([`signatures::provisional`]); committed only if they all verify. Otherwise the transaction
/// is rolled back and the upload processed again with each chunk checked before the database sees
/// it ([`signatures::pipelined`]), which names the bad receipts. Either way, the outcomes are
/// those of checking each receipt alone first.
pub fn reconcile(
    connection: &mut Connection,
    uploads: &[Vec<u8>],
    context: ReceiptContext<'_>,
) -> Result<Vec<Processed>, ApiError> {
    let transaction = connection.transaction()?;
    let provisional = signatures::provisional(uploads, |chunks| {
        process_in(&transaction, chunks, Channel::Reconciliation, context)
    });
    if let Verdict::Confirmed(processed) = provisional {
        let processed = processed?;
        transaction.commit()?;
        return Ok(processed);
    }
    transaction.rollback()?;
    signatures::pipelined(uploads, |checked| process_receipts(connection, checked, Channel::Reconciliation, context))
}

/// The merchants met in one transaction: an upload's receipts mostly come from one merchant,
/// and nothing in a transaction changes a merchant.
#[derive(Default)]
struct Merchants(HashMap<u32, Option<MerchantState>>);

/// What a receipt is checked against of its merchant.
#[derive(Clone)]
struct MerchantState {
    brand: u32,
    public_key: Vec<u8>,
    approved_at: Option<i64>,
}

impl Merchants {
    fn get(&mut self, transaction: &Transaction<'_>, id: u32) -> Result<Option<MerchantState>, ApiError> {
        if let Some(known) = self.0.get(&id) {
            return Ok(known.clone());
        }
        let merchant = cached_row(
            transaction,
            "SELECT brand, public_key, approved_at FROM merchants WHERE id = ?1",
            params![id],
            |row| Ok(MerchantState { brand: row.get(0)?, public_key: row.get(1)?, approved_at: row.get(2)? }),
        )
        .optional()?;
        self.0.insert(id, merchant.clone());
        Ok(merchant)
    }
}

fn refused(reason: impl Into<String>) -> Result<Outcome, ApiError> {
    Ok(Outcome::Refused { reason: reason.into() })
}

/// `query_row` through the connection's statement cache: reconciliation runs the same few
/// statements for every receipt.
fn cached_row<T>(
    transaction: &Transaction<'_>,
    sql: &str,
    parameters: impl rusqlite::Params,
    map: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    transaction.prepare_cached(sql)?.query_row(parameters, map)
}

/// `execute` through the statement cache.
fn cached_execute(transaction: &Transaction<'_>, sql: &str, parameters: impl rusqlite::Params) -> rusqlite::Result<usize> {
    transaction.prepare_cached(sql)?.execute(parameters)
}

fn process_one(
    transaction: &Transaction<'_>,
    merchants: &mut Merchants,
    receipt: &RedemptionReceipt,
    channel: Channel,
    context: ReceiptContext<'_>,
) -> Result<Outcome, ApiError> {
    let receipt_id = receipt.receipt_id().0;
    // A receipt is in at most one of the two tables: counted (or a fraud case), or refused online.
    let stored: Option<(Vec<u8>, String, Option<String>)> = cached_row(
        transaction,
        "SELECT bytes, outcome, NULL FROM receipts WHERE receipt_id = ?1
         UNION ALL SELECT bytes, 'refused', reason FROM online_refusals WHERE receipt_id = ?1",
        params![receipt_id],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )
    .optional()?;
    if let Some((bytes, outcome, reason)) = stored {
        if bytes != receipt.to_bytes() {
            return refused("receipt id already used by another receipt");
        }
        return stored_outcome(transaction, &receipt_id, &outcome, reason);
    }
    let Some(MerchantState { brand, public_key: merchant_key, approved_at }) =
        merchants.get(transaction, receipt.merchant().0)?
    else {
        return refused("unknown merchant");
    };
    if merchant_key != receipt.merchant_key().to_bytes() {
        return refused("receipt not signed with the merchant's registered key");
    }
    let outcome = process_merchants_receipt(transaction, receipt, channel, context, brand, approved_at)?;
    // The merchant was told no and handed nothing over, but its app recorded the receipt before
    // sending it and may upload it at reconciliation: it must not count then, nor open a fraud
    // case. Only the registered merchant's own receipts are recorded, so nobody else can claim a
    // receipt id in advance.
    if channel == Channel::Online
        && let Outcome::Refused { reason } = &outcome
    {
        cached_execute(
            transaction,
            "INSERT INTO online_refusals (receipt_id, bytes, reason, refused_at) VALUES (?1, ?2, ?3, ?4)",
            params![receipt_id, receipt.to_bytes(), reason, int(context.now)],
        )?;
    }
    Ok(outcome)
}

/// The outcome of a receipt signed by the registered key of merchant `receipt.merchant()`, which
/// redeems `brand` and was approved at `approved_at`.
fn process_merchants_receipt(
    transaction: &Transaction<'_>,
    receipt: &RedemptionReceipt,
    channel: Channel,
    context: ReceiptContext<'_>,
    brand: u32,
    approved_at: Option<i64>,
) -> Result<Outcome, ApiError> {
    let receipt_id = receipt.receipt_id().0;
    let voucher = receipt.scanned().voucher();
    if approved_at.is_none() {
        return refused("merchant not approved yet");
    }
    if brand != voucher.terms().brand.0 {
        return refused(format!("voucher is for brand {}, merchant redeems brand {brand}", voucher.terms().brand.0));
    }
    let row = cached_row(
        transaction,
        "SELECT rowid, bytes, spent_by, revoked_at FROM vouchers WHERE id = ?1",
        params![voucher.id().0],
        |row| Ok(VoucherState { rowid: row.get(0)?, bytes: row.get(1)?, spent_by: row.get(2)?, revoked_at: row.get(3)? }),
    )
    .optional()?;
    let Some(VoucherState { rowid, bytes: issued_bytes, spent_by, revoked_at }) = row else {
        return refused("voucher not issued by this platform");
    };
    if issued_bytes != voucher.to_bytes() {
        return refused("voucher differs from the one this platform issued");
    }
    let redeemed_at = receipt.redeemed_at();
    if revoked_at.is_some_and(|revoked_at| uint(revoked_at) <= redeemed_at) {
        return refused("voucher revoked");
    }
    let tolerance = match channel {
        Channel::Online => ONLINE_CLOCK_TOLERANCE_SECS,
        Channel::Reconciliation => RECONCILE_CLOCK_TOLERANCE_SECS,
    };
    let expires = effective_expiry(voucher.terms(), context.extensions);
    if redeemed_at > expires.saturating_add(tolerance) {
        return refused(format!("voucher expired at {expires}"));
    }
    if channel == Channel::Online {
        if context.now.abs_diff(redeemed_at) > ONLINE_CLOCK_TOLERANCE_SECS {
            return refused("receipt time is too far from the platform's clock for an online redemption");
        }
        if let Scanned::Presentation(presentation) = receipt.scanned()
            && !presentation.is_fresh(context.now, ONLINE_CLOCK_TOLERANCE_SECS)
        {
            return refused("presentation is stale");
        }
    }
    match spent_by {
        None => {
            // By rowid: the row just read, without a second search of the id index.
            cached_execute(
                transaction,
                "UPDATE vouchers SET spent_by = ?2 WHERE rowid = ?1 AND spent_by IS NULL",
                params![rowid, receipt_id],
            )?;
            insert_receipt(transaction, receipt, channel, "accepted", context.now)?;
            Ok(Outcome::Accepted)
        }
        Some(_) if channel == Channel::Online => refused("voucher already redeemed"),
        Some(first) => {
            insert_receipt(transaction, receipt, channel, "double_redemption", context.now)?;
            let kind = fraud_kind(transaction, &first, receipt)?;
            cached_execute(
                transaction,
                "INSERT INTO fraud_cases (voucher_id, kind, first_receipt, second_receipt, opened_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![voucher.id().0, kind, first, receipt_id, int(context.now)],
            )?;
            Ok(Outcome::DoubleRedemption { fraud_case: transaction.last_insert_rowid() })
        }
    }
}

/// What reconciliation needs of a stored voucher.
struct VoucherState {
    rowid: i64,
    bytes: Vec<u8>,
    spent_by: Option<Vec<u8>>,
    revoked_at: Option<i64>,
}

fn insert_receipt(
    transaction: &Transaction<'_>,
    receipt: &RedemptionReceipt,
    channel: Channel,
    outcome: &str,
    now: u64,
) -> Result<(), ApiError> {
    cached_execute(
        transaction,
        "INSERT INTO receipts (receipt_id, voucher_id, merchant_id, channel, outcome, bytes, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            receipt.receipt_id().0,
            receipt.voucher_id().0,
            receipt.merchant().0,
            channel.as_str(),
            outcome,
            receipt.to_bytes(),
            int(now),
        ],
    )?;
    Ok(())
}

/// Two holder-signed presentations at different counters prove the holder presented twice; the
/// same counter twice is one presentation replayed (a copied screen); bearer vouchers prove nothing
/// about who presented them.
fn fraud_kind(transaction: &Transaction<'_>, first: &[u8], second: &RedemptionReceipt) -> Result<&'static str, ApiError> {
    let first_bytes: Vec<u8> =
        cached_row(transaction, "SELECT bytes FROM receipts WHERE receipt_id = ?1", params![first], |row| row.get(0))?;
    let first = RedemptionReceipt::from_bytes(&first_bytes)
        .map_err(|error| ApiError::Internal(crate::db::DbError::Corrupt(format!("stored receipt: {error}"))))?;
    Ok(match (first.scanned(), second.scanned()) {
        (Scanned::Presentation(a), Scanned::Presentation(b)) if a.counter() != b.counter() => "holder_presented_twice",
        (Scanned::Presentation(_), Scanned::Presentation(_)) => "presentation_replayed",
        _ => "bearer_redeemed_twice",
    })
}

fn stored_outcome(
    transaction: &Transaction<'_>,
    receipt_id: &[u8; 16],
    outcome: &str,
    reason: Option<String>,
) -> Result<Outcome, ApiError> {
    match outcome {
        "accepted" => Ok(Outcome::Accepted),
        "refused" => refused(format!("refused online: {}", reason.unwrap_or_default())),
        _ => {
            let fraud_case: i64 = cached_row(
                transaction,
                "SELECT id FROM fraud_cases WHERE second_receipt = ?1",
                params![receipt_id],
                |row| row.get(0),
            )?;
            Ok(Outcome::DoubleRedemption { fraud_case })
        }
    }
}
