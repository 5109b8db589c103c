//! Stored-value cards, issued as denominations that are each spent whole, so no balance needs to
//! be trusted offline: every denomination is an ordinary GV1 voucher with
//! [`Flags::STORED_VALUE`] and its amount as `value`, verified and redeemed like any other.

use rand_core::CryptoRngCore;

use crate::codec::DecodeError;
use crate::keys::DeviceKey;
use crate::voucher::{Flags, Voucher, VoucherId, VoucherTerms};

/// Won denominations for stored-value cards, largest first; each divides the next larger.
pub const KRW_DENOMINATIONS: [u32; 6] = [50_000, 10_000, 5_000, 1_000, 500, 100];
/// Most denominations one card is split into.
pub const MAX_PIECES: usize = 100;

/// Why a card could not be split or issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StoredValueError {
    /// The denomination list is empty, not strictly decreasing, or contains 0.
    #[error("denominations must be non-zero and strictly decreasing")]
    BadDenominations,
    /// The amount is not a sum of the denominations.
    #[error("{amount} is not a sum of the denominations")]
    NotRepresentable {
        /// The amount asked for.
        amount: u64,
    },
    /// The split needs more than [`MAX_PIECES`] pieces.
    #[error("needs {pieces} pieces, over the limit of {max}")]
    TooManyPieces {
        /// Pieces needed.
        pieces: usize,
        /// The limit.
        max: usize,
    },
    /// The card's terms are invalid.
    #[error("terms: {0}")]
    Terms(#[from] DecodeError),
}

/// Splits `amount` into the fewest pieces of `denominations` (largest first; greedy is optimal
/// when each denomination divides the next larger, as in [`KRW_DENOMINATIONS`]).
pub fn split(amount: u64, denominations: &[u32]) -> Result<Vec<u32>, StoredValueError> {
    let valid = !denominations.is_empty()
        && denominations.iter().all(|&d| d > 0)
        && denominations.windows(2).all(|pair| pair[0] > pair[1]);
    if !valid {
        return Err(StoredValueError::BadDenominations);
    }
    let mut pieces = Vec::new();
    let mut remaining = amount;
    for &denomination in denominations {
        let count = remaining / u64::from(denomination);
        let total = pieces.len().saturating_add(usize::try_from(count).unwrap_or(usize::MAX));
        if total > MAX_PIECES {
            return Err(StoredValueError::TooManyPieces { pieces: total, max: MAX_PIECES });
        }
        pieces.extend(std::iter::repeat_n(denomination, total - pieces.len()));
        remaining %= u64::from(denomination);
    }
    if remaining == 0 { Ok(pieces) } else { Err(StoredValueError::NotRepresentable { amount }) }
}

/// Issues a card of `amount` as one voucher per piece of [`split`]: each gets the `template`'s
/// terms with its own value, [`Flags::STORED_VALUE`], and a fresh random id.
pub fn issue_card(
    issuer: &DeviceKey,
    rng: &mut impl CryptoRngCore,
    amount: u64,
    denominations: &[u32],
    template: VoucherTerms,
) -> Result<Vec<Voucher>, StoredValueError> {
    split(amount, denominations)?
        .into_iter()
        .map(|value| {
            let terms = VoucherTerms { value, flags: template.flags.with(Flags::STORED_VALUE), ..template };
            Ok(Voucher::issue(issuer, VoucherId::random(rng), terms)?)
        })
        .collect()
}

/// Which held pieces to hand over for `price`: indices into `held` and their total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// Indices into the held values, largest value first.
    pub pieces: Vec<usize>,
    /// Sum of their values; above the price when no exact sum exists (pieces are spent whole).
    pub total: u64,
}

/// Chooses pieces for `price` from the `held` values: largest first while they fit, which finds
/// an exact sum whenever one exists for denominations that divide each other; otherwise it adds
/// the smallest remaining piece that covers the rest. `None` if everything held is not enough.
pub fn choose_payment(held: &[u32], price: u64) -> Option<Payment> {
    let mut order: Vec<usize> = (0..held.len()).collect();
    order.sort_by_key(|&index| std::cmp::Reverse(held[index]));
    let mut pieces = Vec::new();
    let mut unused = Vec::new();
    let mut total = 0u64;
    for index in order {
        let value = u64::from(held[index]);
        if total.saturating_add(value) <= price {
            total += value;
            pieces.push(index);
        } else {
            unused.push(index);
        }
    }
    if total < price {
        let cover = unused.iter().rev().copied().find(|&index| total.saturating_add(u64::from(held[index])) >= price)?;
        total = total.saturating_add(u64::from(held[cover]));
        pieces.push(cover);
        pieces.sort_by_key(|&index| std::cmp::Reverse(held[index]));
    }
    Some(Payment { pieces, total })
}
