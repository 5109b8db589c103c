//! The mailbox: sealed envelopes kept for an offline recipient, fetched with a signed challenge
//! by the recipient's device key only, deleted on acknowledgement.
//!
//! Access: `challenge` gives a random 32-byte challenge, valid for [`CHALLENGE_TTL_SECS`] and
//! usable once. The recipient signs `challenge (32) || recipient key (32)` under
//! `Context::MAILBOX_CHALLENGE`; `fetch` and `ack` each consume one challenge.

use crypto::keys::{Context, PublicKey, Signature};
use rand_core::CryptoRngCore;
use rusqlite::{Connection, OptionalExtension as _, Transaction, params};

use crate::{
    coupons::{int, uint},
    error::ApiError,
};

/// Most envelopes kept for one recipient.
pub const MAX_ENVELOPES_PER_RECIPIENT: i64 = 1000;
/// Most envelopes returned by one fetch.
pub const MAX_FETCH: i64 = 100;
/// Most outstanding challenges per recipient.
pub const MAX_CHALLENGES_PER_RECIPIENT: i64 = 16;
/// How long a challenge may be used.
pub const CHALLENGE_TTL_SECS: u64 = 60;

/// Stores a sealed envelope for `recipient` (who must be a registered device), within the
/// per-recipient limit. Returns its id.
pub fn put(transaction: &Transaction<'_>, recipient: &PublicKey, sealed: &[u8], now: u64) -> Result<i64, ApiError> {
    if !crate::registry::device_exists(transaction, recipient)? {
        return Err(ApiError::NotFound("recipient: no device registered with this key".into()));
    }
    let held: i64 = transaction.query_row(
        "SELECT count(*) FROM mailbox WHERE recipient = ?1",
        params![recipient.to_bytes()],
        |row| row.get(0),
    )?;
    if held >= MAX_ENVELOPES_PER_RECIPIENT {
        return Err(ApiError::LimitReached(format!(
            "the recipient's mailbox is full ({MAX_ENVELOPES_PER_RECIPIENT} envelopes)"
        )));
    }
    transaction.execute(
        "INSERT INTO mailbox (recipient, envelope, stored_at) VALUES (?1, ?2, ?3)",
        params![recipient.to_bytes(), sealed, int(now)],
    )?;
    Ok(transaction.last_insert_rowid())
}

/// Stores a sealed envelope in its own transaction.
pub fn deposit(connection: &mut Connection, recipient: &PublicKey, sealed: &[u8], now: u64) -> Result<i64, ApiError> {
    let transaction = connection.transaction()?;
    let id = put(&transaction, recipient, sealed, now)?;
    transaction.commit()?;
    Ok(id)
}

/// A new single-use challenge for `recipient`'s mailbox, and its expiry.
pub fn challenge(
    connection: &mut Connection,
    recipient: &PublicKey,
    now: u64,
    rng: &mut impl CryptoRngCore,
) -> Result<([u8; 32], u64), ApiError> {
    let transaction = connection.transaction()?;
    transaction.execute("DELETE FROM mailbox_challenges WHERE expires_at < ?1", params![int(now)])?;
    let outstanding: i64 = transaction.query_row(
        "SELECT count(*) FROM mailbox_challenges WHERE recipient = ?1",
        params![recipient.to_bytes()],
        |row| row.get(0),
    )?;
    if outstanding >= MAX_CHALLENGES_PER_RECIPIENT {
        return Err(ApiError::LimitReached("too many outstanding challenges for this mailbox".into()));
    }
    let mut challenge = [0u8; 32];
    rng.fill_bytes(&mut challenge);
    let expires_at = now.saturating_add(CHALLENGE_TTL_SECS);
    transaction.execute(
        "INSERT INTO mailbox_challenges (challenge, recipient, expires_at) VALUES (?1, ?2, ?3)",
        params![challenge, recipient.to_bytes(), int(expires_at)],
    )?;
    transaction.commit()?;
    Ok((challenge, expires_at))
}

/// The message a recipient signs to answer `challenge`.
pub fn challenge_message(challenge: &[u8; 32], recipient: &PublicKey) -> [u8; 64] {
    let mut message = [0u8; 64];
    message[..32].copy_from_slice(challenge);
    message[32..].copy_from_slice(&recipient.to_bytes());
    message
}

/// Consumes `challenge` (whatever the outcome) and checks that `recipient` signed it.
fn authenticate(
    transaction: &Transaction<'_>,
    recipient: &PublicKey,
    challenge: &[u8; 32],
    signature: &Signature,
    now: u64,
) -> Result<(), ApiError> {
    let stored: Option<(Vec<u8>, i64)> = transaction
        .query_row(
            "DELETE FROM mailbox_challenges WHERE challenge = ?1 RETURNING recipient, expires_at",
            params![challenge],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let unknown = || ApiError::Unauthorized("unknown, used or expired challenge".into());
    let (owner, expires_at) = stored.ok_or_else(unknown)?;
    if owner != recipient.to_bytes() || uint(expires_at) < now {
        return Err(unknown());
    }
    recipient
        .verify(Context::MAILBOX_CHALLENGE, &challenge_message(challenge, recipient), signature)
        .map_err(|_| ApiError::Unauthorized("challenge signature does not verify under the recipient's key".into()))
}

/// Proof that the caller holds the recipient's key.
#[derive(Debug, Clone, Copy)]
pub struct Proof {
    /// The challenge answered.
    pub challenge: [u8; 32],
    /// The recipient's signature over [`challenge_message`].
    pub signature: Signature,
}

/// Up to [`MAX_FETCH`] envelopes for `recipient`, oldest first. The challenge is consumed even
/// when the signature is wrong (committed before answering).
pub fn fetch(
    connection: &mut Connection,
    recipient: &PublicKey,
    proof: &Proof,
    now: u64,
) -> Result<Vec<(i64, Vec<u8>)>, ApiError> {
    let transaction = connection.transaction()?;
    let authenticated = authenticate(&transaction, recipient, &proof.challenge, &proof.signature, now);
    let envelopes = match authenticated {
        Ok(()) => transaction
            .prepare("SELECT id, envelope FROM mailbox WHERE recipient = ?1 ORDER BY id LIMIT ?2")?
            .query_map(params![recipient.to_bytes(), MAX_FETCH], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<Vec<_>, _>>()?,
        Err(_) => Vec::new(),
    };
    transaction.commit()?;
    authenticated.map(|()| envelopes)
}

/// Deletes the recipient's envelopes with these ids (others' ids are ignored); returns how many.
pub fn ack(connection: &mut Connection, recipient: &PublicKey, proof: &Proof, ids: &[i64], now: u64) -> Result<usize, ApiError> {
    let transaction = connection.transaction()?;
    let authenticated = authenticate(&transaction, recipient, &proof.challenge, &proof.signature, now);
    let mut deleted = 0;
    if authenticated.is_ok() {
        let mut statement = transaction.prepare("DELETE FROM mailbox WHERE id = ?1 AND recipient = ?2")?;
        for id in ids {
            deleted += statement.execute(params![id, recipient.to_bytes()])?;
        }
    }
    transaction.commit()?;
    authenticated.map(|()| deleted)
}
