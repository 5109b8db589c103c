//! In-memory backend of every trait in this crate, for the core's tests and native tools.

use core::cell::RefCell;
use core::convert::Infallible;
use std::collections::BTreeMap;

use crypto::keys::DeviceKey;
use crypto::voucher::{Voucher, VoucherId};

use crate::{CachedList, IdentityStore, ListCache, ListKind, VoucherStore};

/// Identity, vouchers and list caches in memory.
#[derive(Debug, Default)]
pub struct MemoryWallet {
    identity: RefCell<Option<DeviceKey>>,
    vouchers: RefCell<BTreeMap<VoucherId, Voucher>>,
    lists: RefCell<BTreeMap<ListKind, CachedList>>,
}

impl MemoryWallet {
    /// An empty wallet.
    pub fn new() -> Self {
        Self::default()
    }
}

impl IdentityStore for MemoryWallet {
    type Error = Infallible;

    async fn device_key(&self) -> Result<Option<DeviceKey>, Infallible> {
        Ok(self.identity.borrow().clone())
    }

    async fn create_device_key(&self, key: DeviceKey) -> Result<DeviceKey, Infallible> {
        Ok(self.identity.borrow_mut().get_or_insert(key).clone())
    }

    async fn replace_device_key(&self, key: DeviceKey) -> Result<(), Infallible> {
        *self.identity.borrow_mut() = Some(key);
        Ok(())
    }
}

impl VoucherStore for MemoryWallet {
    type Error = Infallible;

    async fn put_voucher(&self, voucher: &Voucher) -> Result<bool, Infallible> {
        let mut vouchers = self.vouchers.borrow_mut();
        if vouchers.contains_key(&voucher.id()) {
            return Ok(false);
        }
        vouchers.insert(voucher.id(), voucher.clone());
        Ok(true)
    }

    async fn voucher(&self, id: VoucherId) -> Result<Option<Voucher>, Infallible> {
        Ok(self.vouchers.borrow().get(&id).cloned())
    }

    async fn vouchers(&self) -> Result<Vec<Voucher>, Infallible> {
        Ok(self.vouchers.borrow().values().cloned().collect())
    }

    async fn remove_voucher(&self, id: VoucherId) -> Result<bool, Infallible> {
        Ok(self.vouchers.borrow_mut().remove(&id).is_some())
    }
}

impl ListCache for MemoryWallet {
    type Error = Infallible;

    async fn put_list(&self, kind: ListKind, list: CachedList) -> Result<bool, Infallible> {
        let mut lists = self.lists.borrow_mut();
        if lists
            .get(&kind)
            .is_some_and(|held| held.fetched_at_ms > list.fetched_at_ms)
        {
            return Ok(false);
        }
        lists.insert(kind, list);
        Ok(true)
    }

    async fn list(&self, kind: ListKind) -> Result<Option<CachedList>, Infallible> {
        Ok(self.lists.borrow().get(&kind).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::MemoryWallet;

    crate::wallet_store_contract_tests!(MemoryWallet::new());
}
