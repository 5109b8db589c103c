//! The wallet traits on IndexedDB: device identity, held vouchers, cached signed lists.
//!
//! The device key's seed is stored as is: the browser profile is its protection at rest, and
//! it leaves the device only through an explicit, passphrase-encrypted backup export.

use chat::StoreError;
use crypto::keys::DeviceKey;
use crypto::voucher::{Voucher, VoucherId};
use indexed_db_futures::transaction::TransactionMode;
use wallet::{CachedList, IdentityStore, ListCache, ListKind, VoucherStore};
use wasm_bindgen::JsValue;

use crate::db::{
    IDENTITY, IdbStore, LISTS, VOUCHERS, array_of, bin, bytes_of, delete, get, get_all, put,
};

const DEVICE_KEY: &[u8] = b"device";

fn decode_voucher(value: &JsValue) -> Result<Voucher, StoreError> {
    Voucher::from_bytes(&bytes_of(value, "")?)
        .map_err(|e| StoreError::Corrupt(format!("voucher: {e}")))
}

impl IdentityStore for IdbStore {
    type Error = StoreError;

    async fn device_key(&self) -> Result<Option<DeviceKey>, StoreError> {
        let tx = self.transaction(&[IDENTITY], TransactionMode::Readonly)?;
        get(&tx, IDENTITY, DEVICE_KEY)
            .await?
            .map(|seed| array_of(&seed, "").map(|seed| DeviceKey::from_seed(&seed)))
            .transpose()
    }

    async fn create_device_key(&self, key: DeviceKey) -> Result<DeviceKey, StoreError> {
        let tx = self.transaction(&[IDENTITY], TransactionMode::Readwrite)?;
        if let Some(seed) = get(&tx, IDENTITY, DEVICE_KEY).await? {
            return Ok(DeviceKey::from_seed(&array_of(&seed, "")?));
        }
        put(&tx, IDENTITY, &bin(DEVICE_KEY), &bin(&key.to_seed())).await?;
        tx.commit().await?;
        Ok(key)
    }

    async fn replace_device_key(&self, key: DeviceKey) -> Result<(), StoreError> {
        let tx = self.transaction(&[IDENTITY], TransactionMode::Readwrite)?;
        put(&tx, IDENTITY, &bin(DEVICE_KEY), &bin(&key.to_seed())).await?;
        tx.commit().await
    }
}

impl VoucherStore for IdbStore {
    type Error = StoreError;

    async fn put_voucher(&self, voucher: &Voucher) -> Result<bool, StoreError> {
        let tx = self.transaction(&[VOUCHERS], TransactionMode::Readwrite)?;
        if get(&tx, VOUCHERS, &voucher.id().0).await?.is_some() {
            return Ok(false);
        }
        put(
            &tx,
            VOUCHERS,
            &bin(&voucher.id().0),
            &bin(voucher.to_bytes()),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn voucher(&self, id: VoucherId) -> Result<Option<Voucher>, StoreError> {
        let tx = self.transaction(&[VOUCHERS], TransactionMode::Readonly)?;
        get(&tx, VOUCHERS, &id.0)
            .await?
            .map(|v| decode_voucher(&v))
            .transpose()
    }

    async fn vouchers(&self) -> Result<Vec<Voucher>, StoreError> {
        let tx = self.transaction(&[VOUCHERS], TransactionMode::Readonly)?;
        get_all(&tx, VOUCHERS, None)
            .await?
            .iter()
            .map(decode_voucher)
            .collect()
    }

    async fn remove_voucher(&self, id: VoucherId) -> Result<bool, StoreError> {
        let tx = self.transaction(&[VOUCHERS], TransactionMode::Readwrite)?;
        let existed = get(&tx, VOUCHERS, &id.0).await?.is_some();
        delete(&tx, VOUCHERS, &id.0).await?;
        tx.commit().await?;
        Ok(existed)
    }
}

fn list_key(kind: ListKind) -> [u8; 1] {
    match kind {
        ListKind::Trust => [0],
        ListKind::Revocation => [1],
        ListKind::Extensions => [2],
    }
}

/// `fetched_at_ms (big-endian) ‖ signed bytes`.
fn decode_list(value: &JsValue) -> Result<CachedList, StoreError> {
    let bytes = bytes_of(value, "")?;
    match bytes.split_first_chunk::<8>() {
        Some((at, list)) => Ok(CachedList {
            bytes: list.to_vec(),
            fetched_at_ms: u64::from_be_bytes(*at),
        }),
        None => Err(StoreError::Corrupt("cached list header".into())),
    }
}

impl ListCache for IdbStore {
    type Error = StoreError;

    async fn put_list(&self, kind: ListKind, list: CachedList) -> Result<bool, StoreError> {
        let tx = self.transaction(&[LISTS], TransactionMode::Readwrite)?;
        if let Some(held) = get(&tx, LISTS, &list_key(kind)).await?
            && decode_list(&held)?.fetched_at_ms > list.fetched_at_ms
        {
            return Ok(false);
        }
        let value = [list.fetched_at_ms.to_be_bytes().as_slice(), &list.bytes].concat();
        put(&tx, LISTS, &bin(&list_key(kind)), &bin(&value)).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list(&self, kind: ListKind) -> Result<Option<CachedList>, StoreError> {
        let tx = self.transaction(&[LISTS], TransactionMode::Readonly)?;
        get(&tx, LISTS, &list_key(kind))
            .await?
            .map(|v| decode_list(&v))
            .transpose()
    }
}
