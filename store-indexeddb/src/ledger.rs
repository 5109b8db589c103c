//! The merchant ledger ([`Ledger`]) on IndexedDB. A redemption writes the ledger entry, the
//! receipt and its place in the sync queue in one transaction.

use chat::StoreError;
use crypto::ledger::{
    Ledger, LedgerEntry, OfflineTotals, RecordOutcome, presented_counter, receipt_value,
};
use crypto::receipt::{ReceiptId, RedemptionReceipt};
use crypto::voucher::VoucherId;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use js_sys::Reflect;
use wasm_bindgen::JsValue;

use crate::db::{
    IdbStore, LEDGER, RECEIPTS, SYNC_QUEUE, Tx, array_of, backend, bin, bytes_of, collect, get,
    get_all, js_error, object, put,
};

const LEDGER_STORES: [&str; 3] = [LEDGER, RECEIPTS, SYNC_QUEUE];

fn decode_entry(value: &JsValue) -> Result<LedgerEntry, StoreError> {
    let counter = Reflect::get(value, &JsValue::from_str("c")).map_err(js_error)?;
    let highest_counter = match counter.as_f64() {
        None if counter.is_undefined() => None,
        Some(c) if c >= 0.0 && c <= f64::from(u32::MAX) && c.fract() == 0.0 => Some(c as u32),
        _ => return Err(StoreError::Corrupt("ledger counter".into())),
    };
    Ok(LedgerEntry {
        redeemed: Some(ReceiptId(array_of(value, "r")?)),
        highest_counter,
    })
}

fn entry_value(receipt: &RedemptionReceipt) -> Result<JsValue, StoreError> {
    let id = bin(&receipt.receipt_id().0);
    match presented_counter(receipt) {
        Some(counter) => object(&[("r", &id), ("c", &JsValue::from(counter))]),
        None => object(&[("r", &id)]),
    }
}

async fn receipt(tx: &Tx<'_>, id: &[u8; 16]) -> Result<RedemptionReceipt, StoreError> {
    let value = get(tx, RECEIPTS, id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("queued receipt missing".into()))?;
    RedemptionReceipt::from_bytes(&bytes_of(&value, "")?)
        .map_err(|e| StoreError::Corrupt(format!("receipt: {e}")))
}

impl Ledger for IdbStore {
    type Error = StoreError;

    async fn entry(&self, id: VoucherId) -> Result<LedgerEntry, StoreError> {
        let tx = self.transaction(&[LEDGER], TransactionMode::Readonly)?;
        match get(&tx, LEDGER, &id.0).await? {
            Some(value) => decode_entry(&value),
            None => Ok(LedgerEntry::default()),
        }
    }

    async fn unsynced_totals(&self) -> Result<OfflineTotals, StoreError> {
        let tx = self.transaction(&[SYNC_QUEUE], TransactionMode::Readonly)?;
        let mut totals = OfflineTotals::default();
        for item in get_all(&tx, SYNC_QUEUE, None).await? {
            let value = Reflect::get(&item, &JsValue::from_str("v"))
                .map_err(js_error)?
                .as_f64()
                .filter(|v| *v >= 0.0 && v.fract() == 0.0)
                .ok_or_else(|| StoreError::Corrupt("queued value".into()))?;
            totals.count = totals.count.saturating_add(1);
            totals.value = totals.value.saturating_add(value as u64);
        }
        Ok(totals)
    }

    async fn record(&mut self, receipt: &RedemptionReceipt) -> Result<RecordOutcome, StoreError> {
        let tx = self.transaction(&LEDGER_STORES, TransactionMode::Readwrite)?;
        let voucher = receipt.voucher_id();
        if let Some(value) = get(&tx, LEDGER, &voucher.0).await?
            && let Some(earlier) = decode_entry(&value)?.redeemed
        {
            return Ok(RecordOutcome::AlreadyRedeemed(earlier));
        }
        let id = bin(&receipt.receipt_id().0);
        put(&tx, LEDGER, &bin(&voucher.0), &entry_value(receipt)?).await?;
        put(&tx, RECEIPTS, &id, &bin(receipt.to_bytes())).await?;
        // Values are KRW in a u32, exact as a JS number.
        let value = JsValue::from(receipt_value(receipt) as f64);
        tx.store(SYNC_QUEUE)?
            .add(object(&[("r", &id), ("v", &value)])?)
            .primitive()
            .map_err(backend)?
            .await
            .map_err(backend)?;
        tx.commit().await?;
        Ok(RecordOutcome::Recorded)
    }

    async fn pending_sync(&self, limit: usize) -> Result<Vec<RedemptionReceipt>, StoreError> {
        let tx = self.transaction(&LEDGER_STORES, TransactionMode::Readonly)?;
        // A getAll count of 0 means "no limit" to IndexedDB.
        if limit == 0 {
            return Ok(vec![]);
        }
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let queue = tx.store(SYNC_QUEUE)?;
        let items = collect(queue.get_all().with_limit(limit).primitive()).await?;
        let mut receipts = vec![];
        for item in &items {
            receipts.push(receipt(&tx, &array_of(item, "r")?).await?);
        }
        Ok(receipts)
    }

    async fn mark_synced(&mut self, receipts: &[ReceiptId]) -> Result<(), StoreError> {
        let tx = self.transaction(&LEDGER_STORES, TransactionMode::Readwrite)?;
        let queue = tx.store(SYNC_QUEUE)?;
        let index = queue.index("by_receipt").map_err(backend)?;
        for id in receipts {
            let key: Option<JsValue> = index
                .get_key(bin(&id.0))
                .primitive()
                .map_err(backend)?
                .await
                .map_err(backend)?;
            if let Some(seq) = key.filter(|k| !k.is_undefined()) {
                queue
                    .delete(seq)
                    .primitive()
                    .map_err(backend)?
                    .await
                    .map_err(backend)?;
            }
        }
        tx.commit().await
    }
}
