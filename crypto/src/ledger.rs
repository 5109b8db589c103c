//! The merchant device's redemption ledger: the storage contract, an in-memory implementation,
//! and (with the `testing` feature) the contract suite every implementation must pass.
//!
//! The IndexedDB implementation lives in `app/`; it runs [`contract`] through
//! [`ledger_contract_tests!`](crate::ledger_contract_tests) in the browser.
//!
//! # Contract
//! - [`Ledger::record`] is atomic: either the receipt is stored, its voucher marked redeemed, its
//!   presentation counter noted and the receipt queued for sync, all at once; or, when a receipt
//!   for the same voucher id is already stored, nothing changes and the earlier receipt's id is
//!   returned. Two concurrent `record` calls for one voucher: exactly one is `Recorded`.
//! - A voucher once recorded stays redeemed, also after [`Ledger::mark_synced`].
//! - [`Ledger::pending_sync`] returns unsynced receipts in the order they were recorded.
//! - [`Ledger::unsynced_totals`] counts exactly the receipts `pending_sync` would return.

use std::collections::BTreeMap;
use std::convert::Infallible;

use crate::presentation::Scanned;
use crate::receipt::{ReceiptId, RedemptionReceipt};
use crate::voucher::VoucherId;

/// What a ledger knows about one voucher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LedgerEntry {
    /// The receipt that redeemed it here, if any.
    pub redeemed: Option<ReceiptId>,
    /// The highest presentation counter recorded for it here, if any.
    pub highest_counter: Option<u32>,
}

/// Redemptions recorded and not yet synced to the platform: what the offline caps limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OfflineTotals {
    /// Number of unsynced receipts.
    pub count: u32,
    /// Sum of their voucher values, in KRW.
    pub value: u64,
}

/// What [`Ledger::record`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordOutcome {
    /// Stored and queued for sync.
    Recorded,
    /// Refused: this receipt id already redeemed the voucher here.
    AlreadyRedeemed(ReceiptId),
}

/// The merchant device's ledger of redemptions. See the module documentation for the contract.
///
/// Futures are not required to be `Send`: IndexedDB futures in the browser are not.
#[allow(async_fn_in_trait)]
pub trait Ledger {
    /// A storage failure.
    type Error: core::fmt::Display;

    /// What the ledger knows about voucher `id`.
    async fn entry(&self, id: VoucherId) -> Result<LedgerEntry, Self::Error>;

    /// Totals over the receipts not yet synced.
    async fn unsynced_totals(&self) -> Result<OfflineTotals, Self::Error>;

    /// Atomically records `receipt` unless its voucher was already redeemed here.
    async fn record(&mut self, receipt: &RedemptionReceipt) -> Result<RecordOutcome, Self::Error>;

    /// Up to `limit` unsynced receipts, oldest first.
    async fn pending_sync(&self, limit: usize) -> Result<Vec<RedemptionReceipt>, Self::Error>;

    /// Marks these receipts as synced (unknown ids are ignored).
    async fn mark_synced(&mut self, receipts: &[ReceiptId]) -> Result<(), Self::Error>;
}

/// The value a receipt adds to [`OfflineTotals::value`].
pub fn receipt_value(receipt: &RedemptionReceipt) -> u64 {
    u64::from(receipt.scanned().voucher().terms().value)
}

/// The presentation counter a receipt adds to [`LedgerEntry::highest_counter`] (none for a
/// bearer voucher scanned as such).
pub fn presented_counter(receipt: &RedemptionReceipt) -> Option<u32> {
    match receipt.scanned() {
        Scanned::Presentation(presentation) => Some(presentation.counter()),
        Scanned::Voucher(_) => None,
    }
}

/// A ledger in memory, for tests and for the native tools.
#[derive(Debug, Clone, Default)]
pub struct MemoryLedger {
    entries: BTreeMap<VoucherId, LedgerEntry>,
    unsynced: Vec<RedemptionReceipt>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Ledger for MemoryLedger {
    type Error = Infallible;

    async fn entry(&self, id: VoucherId) -> Result<LedgerEntry, Infallible> {
        Ok(self.entries.get(&id).copied().unwrap_or_default())
    }

    async fn unsynced_totals(&self) -> Result<OfflineTotals, Infallible> {
        Ok(OfflineTotals {
            count: u32::try_from(self.unsynced.len()).unwrap_or(u32::MAX),
            value: self.unsynced.iter().map(receipt_value).sum(),
        })
    }

    async fn record(&mut self, receipt: &RedemptionReceipt) -> Result<RecordOutcome, Infallible> {
        let entry = self.entries.entry(receipt.voucher_id()).or_default();
        if let Some(earlier) = entry.redeemed {
            return Ok(RecordOutcome::AlreadyRedeemed(earlier));
        }
        entry.redeemed = Some(receipt.receipt_id());
        entry.highest_counter = entry.highest_counter.max(presented_counter(receipt));
        self.unsynced.push(receipt.clone());
        Ok(RecordOutcome::Recorded)
    }

    async fn pending_sync(&self, limit: usize) -> Result<Vec<RedemptionReceipt>, Infallible> {
        Ok(self.unsynced.iter().take(limit).cloned().collect())
    }

    async fn mark_synced(&mut self, receipts: &[ReceiptId]) -> Result<(), Infallible> {
        self.unsynced.retain(|receipt| !receipts.contains(&receipt.receipt_id()));
        Ok(())
    }
}

/// The contract suite: one async function per behaviour, generic over the ledger. Each takes a
/// fresh, empty ledger and panics (as a test does) when the ledger breaks the contract.
#[cfg(any(test, feature = "testing"))]
pub mod contract {
    use super::{Ledger, LedgerEntry, OfflineTotals, RecordOutcome, receipt_value};
    use crate::testing::Fixture;

    fn ok<T, E: core::fmt::Display>(result: Result<T, E>) -> T {
        match result {
            Ok(value) => value,
            Err(error) => panic!("ledger error: {error}"),
        }
    }

    /// A recorded receipt marks its voucher redeemed with its id and notes its counter.
    pub async fn record_marks_redeemed<L: Ledger>(mut ledger: L) {
        let fixture = Fixture::new();
        let receipt = fixture.receipt_for_presentation(7);
        let id = receipt.voucher_id();
        assert_eq!(ok(ledger.entry(id).await), LedgerEntry::default());
        assert_eq!(ok(ledger.record(&receipt).await), RecordOutcome::Recorded);
        let entry = ok(ledger.entry(id).await);
        assert_eq!(entry.redeemed, Some(receipt.receipt_id()));
        assert_eq!(entry.highest_counter, Some(7));
    }

    /// A second receipt for the same voucher is refused with the first receipt's id, and changes
    /// nothing.
    pub async fn second_record_is_refused<L: Ledger>(mut ledger: L) {
        let fixture = Fixture::new();
        let first = fixture.receipt_for_presentation(1);
        let second = fixture.receipt_for_presentation(2);
        assert_ne!(first.receipt_id(), second.receipt_id());
        assert_eq!(ok(ledger.record(&first).await), RecordOutcome::Recorded);
        assert_eq!(ok(ledger.record(&second).await), RecordOutcome::AlreadyRedeemed(first.receipt_id()));
        assert_eq!(ok(ledger.pending_sync(10).await), vec![first]);
    }

    /// Pending receipts come oldest first; synced ones leave the queue but stay redeemed.
    pub async fn sync_queue_in_order<L: Ledger>(mut ledger: L) {
        let fixture = Fixture::new();
        let receipts = [fixture.receipt_for_bearer(1), fixture.receipt_for_bearer(2), fixture.receipt_for_bearer(3)];
        for receipt in &receipts {
            assert_eq!(ok(ledger.record(receipt).await), RecordOutcome::Recorded);
        }
        assert_eq!(ok(ledger.pending_sync(2).await), receipts[..2].to_vec());
        ok(ledger.mark_synced(&[receipts[0].receipt_id(), receipts[2].receipt_id()]).await);
        assert_eq!(ok(ledger.pending_sync(10).await), vec![receipts[1].clone()]);
        let entry = ok(ledger.entry(receipts[0].voucher_id()).await);
        assert_eq!(entry.redeemed, Some(receipts[0].receipt_id()));
    }

    /// Unsynced totals count and sum exactly the pending receipts.
    pub async fn unsynced_totals_follow_the_queue<L: Ledger>(mut ledger: L) {
        let fixture = Fixture::new();
        assert_eq!(ok(ledger.unsynced_totals().await), OfflineTotals::default());
        let receipts = [fixture.receipt_for_bearer(4), fixture.receipt_for_presentation(1)];
        for receipt in &receipts {
            ok(ledger.record(receipt).await);
        }
        let value = receipts.iter().map(receipt_value).sum();
        assert_eq!(ok(ledger.unsynced_totals().await), OfflineTotals { count: 2, value });
        ok(ledger.mark_synced(&[receipts[0].receipt_id()]).await);
        let value = receipt_value(&receipts[1]);
        assert_eq!(ok(ledger.unsynced_totals().await), OfflineTotals { count: 1, value });
    }
}

/// Expands the [`contract`] suite into one test per behaviour, against a fresh ledger from
/// `$make` for each.
///
/// - `ledger_contract_tests!(blocking, make)` makes plain tests (`#[test]` natively,
///   `wasm_bindgen_test` on wasm) for ledgers whose futures never wait (the memory ledger);
///   `make()` returns the ledger.
/// - `ledger_contract_tests!(async, make)` makes `#[wasm_bindgen_test] async` tests, for
///   IndexedDB; `make().await` returns the ledger. The caller depends on `wasm-bindgen-test`.
#[cfg(any(test, feature = "testing"))]
#[macro_export]
macro_rules! ledger_contract_tests {
    (blocking, $make:expr) => {
        $crate::ledger_contract_tests!(@blocking $make; record_marks_redeemed second_record_is_refused
            sync_queue_in_order unsynced_totals_follow_the_queue);
    };
    (async, $make:expr) => {
        $crate::ledger_contract_tests!(@async $make; record_marks_redeemed second_record_is_refused
            sync_queue_in_order unsynced_totals_follow_the_queue);
    };
    (@blocking $make:expr; $($name:ident)*) => {
        $(
            #[cfg_attr(not(target_family = "wasm"), test)]
            #[cfg_attr(target_family = "wasm", wasm_bindgen_test::wasm_bindgen_test)]
            fn $name() {
                $crate::testing::block_on($crate::ledger::contract::$name($make()));
            }
        )*
    };
    (@async $make:expr; $($name:ident)*) => {
        $(
            #[wasm_bindgen_test::wasm_bindgen_test]
            async fn $name() {
                $crate::ledger::contract::$name($make().await).await;
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::MemoryLedger;

    crate::ledger_contract_tests!(blocking, MemoryLedger::new);
}
