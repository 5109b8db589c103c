//! The outbox: every message waits here, per recipient, until that recipient acknowledges its
//! id, whichever path carried it (direct link, relay, mailbox, or a sync that pulled it).
//!
//! Retries back off exponentially with jitter; the random jitter and the time come in as
//! arguments. Everything lives in the [`OutboxStore`], so a restart resumes where it stopped,
//! and replaying any call is harmless: entries are keyed by `(message id, recipient)`.

use crypto::keys::PublicKey;

use crate::envelope::{Envelope, MessageId};
use crate::store::{OutboxEntry, OutboxStore, StoreError};

/// Retry timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// Delay after the first attempt (ms).
    pub base_ms: u64,
    /// Longest delay (ms).
    pub max_ms: u64,
    /// Jitter: up to this fraction (in percent) of the delay is added, from the caller's random.
    pub jitter_percent: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base_ms: 1_000,
            max_ms: 5 * 60 * 1_000,
            jitter_percent: 25,
        }
    }
}

impl Backoff {
    /// Delay after `attempts` attempts, with `random` choosing the jitter.
    pub fn delay(&self, attempts: u32, random: u64) -> u64 {
        let exponent = attempts.saturating_sub(1).min(32);
        let delay = self
            .base_ms
            .saturating_mul(1u64 << exponent)
            .min(self.max_ms);
        let jitter_span = delay / 100 * self.jitter_percent;
        delay
            + if jitter_span == 0 {
                0
            } else {
                random % (jitter_span + 1)
            }
    }
}

/// Outbox operations over a store.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outbox {
    /// Retry timing.
    pub backoff: Backoff,
}

impl Outbox {
    /// Queues `envelope` for each recipient, due at once. Idempotent: an entry already queued
    /// keeps its attempts and schedule.
    pub async fn enqueue<S: OutboxStore>(
        &self,
        store: &S,
        now_ms: u64,
        envelope: &Envelope,
        recipients: &[PublicKey],
    ) -> Result<(), StoreError> {
        for recipient in recipients {
            let entry = OutboxEntry {
                message: envelope.id(),
                conversation: envelope.content().conversation,
                recipient: *recipient,
                envelope: envelope.as_bytes().to_vec(),
                attempts: 0,
                next_attempt_ms: now_ms,
            };
            store.add_outbox(entry).await?;
        }
        Ok(())
    }

    /// Entries due at `now_ms` (at most `limit`), each already rescheduled for its next retry:
    /// send them all. If the process dies before sending, they come due again after the backoff.
    pub async fn poll_due<S: OutboxStore>(
        &self,
        store: &S,
        now_ms: u64,
        limit: usize,
        random: u64,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let due = store.due_outbox(now_ms, limit).await?;
        for (i, entry) in due.iter().enumerate() {
            let mut next = entry.clone();
            next.attempts = next.attempts.saturating_add(1);
            let mix =
                random.rotate_left(i as u32 * 7) ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            next.next_attempt_ms = now_ms.saturating_add(self.backoff.delay(next.attempts, mix));
            store.update_outbox(next).await?;
        }
        Ok(due)
    }

    /// `recipient` holds `message`: stop sending it there. Returns whether an entry was removed
    /// (false for a repeated or unknown ack).
    pub async fn ack<S: OutboxStore>(
        &self,
        store: &S,
        message: &MessageId,
        recipient: &PublicKey,
    ) -> Result<bool, StoreError> {
        store.remove_outbox(message, recipient).await
    }

    /// When [`Outbox::poll_due`] next has something to return.
    pub async fn poll_timeout<S: OutboxStore>(&self, store: &S) -> Result<Option<u64>, StoreError> {
        store.next_outbox_attempt().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let backoff = Backoff {
            base_ms: 1000,
            max_ms: 10_000,
            jitter_percent: 0,
        };
        let delays: Vec<u64> = (1..=6).map(|a| backoff.delay(a, 0)).collect();
        assert_eq!(delays, [1000, 2000, 4000, 8000, 10_000, 10_000]);
        let jittered = Backoff {
            jitter_percent: 25,
            ..backoff
        };
        for random in [0, 1, 249, 250, 251, u64::MAX] {
            let delay = jittered.delay(1, random);
            assert!((1000..=1250).contains(&delay), "{delay}");
        }
        assert!(jittered.delay(u32::MAX, u64::MAX) <= 12_500);
    }
}
