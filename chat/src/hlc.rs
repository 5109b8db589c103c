//! Hybrid logical clock: wall-clock milliseconds plus a counter, so that a message's time is
//! above the time of everything its author had seen, even when clocks disagree.

use serde::{Deserialize, Serialize};

/// Bits of the counter in a [`Timestamp`].
const COUNTER_BITS: u32 = 16;
/// Largest wall-clock value a timestamp can hold (2^48 - 1 ms: about the year 10889).
pub const MAX_WALL_MS: u64 = (1 << (64 - COUNTER_BITS)) - 1;
/// How far ahead of our wall clock a received time may be (5 minutes).
pub const MAX_DRIFT_MS: u64 = 5 * 60 * 1000;

/// A hybrid logical clock time: `wall_ms << 16 | counter`, ordered as a `u64`.
///
/// `u64::MAX` is never a valid time (the sync protocol reserves it).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// Time from its parts; `wall_ms` is capped at [`MAX_WALL_MS`].
    pub fn new(wall_ms: u64, counter: u16) -> Self {
        Self((wall_ms.min(MAX_WALL_MS) << COUNTER_BITS) | u64::from(counter))
    }

    /// The wall-clock part, in milliseconds.
    pub fn wall_ms(self) -> u64 {
        self.0 >> COUNTER_BITS
    }

    /// The counter part.
    pub fn counter(self) -> u16 {
        (self.0 & 0xffff) as u16
    }

    /// The next time after this one.
    fn successor(self) -> Self {
        Self(self.0.saturating_add(1).min(u64::MAX - 1))
    }
}

/// A received time was too far ahead of our clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("time {remote_ms} ms is more than {MAX_DRIFT_MS} ms ahead of {local_ms} ms")]
pub struct TooFarAhead {
    /// The received wall time.
    pub remote_ms: u64,
    /// Our wall time.
    pub local_ms: u64,
}

/// The clock of one device. Restore it after a restart with [`Clock::starting_after`] the
/// largest stored time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Clock {
    last: Timestamp,
}

impl Clock {
    /// A clock that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// A clock whose next time is above `last`.
    pub fn starting_after(last: Timestamp) -> Self {
        Self { last }
    }

    /// The last time issued or observed.
    pub fn last(&self) -> Timestamp {
        self.last
    }

    /// A new time for a local event, given the wall clock `now_ms`: above every time issued or
    /// observed so far.
    pub fn tick(&mut self, now_ms: u64) -> Timestamp {
        let wall = Timestamp::new(now_ms, 0);
        self.last = if wall > self.last {
            wall
        } else {
            self.last.successor()
        };
        self.last
    }

    /// Takes a received time into account, so the next [`Clock::tick`] is above it. A time more
    /// than [`MAX_DRIFT_MS`] ahead of `now_ms` is refused and not observed.
    pub fn observe(&mut self, now_ms: u64, remote: Timestamp) -> Result<(), TooFarAhead> {
        if remote.wall_ms() > now_ms.saturating_add(MAX_DRIFT_MS) {
            return Err(TooFarAhead {
                remote_ms: remote.wall_ms(),
                local_ms: now_ms,
            });
        }
        self.last = self.last.max(remote);
        Ok(())
    }

    /// Moves the clock past a time already trusted (our own stored messages).
    pub fn advance_to(&mut self, time: Timestamp) {
        self.last = self.last.max(time);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_increase_even_when_the_wall_clock_stalls_or_goes_back() {
        let mut clock = Clock::new();
        let a = clock.tick(1000);
        let b = clock.tick(1000);
        let c = clock.tick(900);
        assert!(a < b && b < c);
        assert_eq!((a.wall_ms(), a.counter()), (1000, 0));
        assert_eq!((c.wall_ms(), c.counter()), (1000, 2));
        assert_eq!(clock.tick(2000), Timestamp::new(2000, 0));
    }

    #[test]
    fn observed_times_are_exceeded_by_the_next_tick() {
        let mut clock = Clock::new();
        let remote = Timestamp::new(5000, 7);
        assert_eq!(clock.observe(4000, remote), Ok(()));
        assert_eq!(clock.tick(4000), Timestamp::new(5000, 8));
    }

    #[test]
    fn times_far_in_the_future_are_refused() {
        let mut clock = Clock::new();
        let remote = Timestamp::new(1000 + MAX_DRIFT_MS + 1, 0);
        assert!(clock.observe(1000, remote).is_err());
        assert_eq!(clock.last(), Timestamp::default());
        assert_eq!(
            clock.observe(1000, Timestamp::new(1000 + MAX_DRIFT_MS, 0)),
            Ok(())
        );
    }

    #[test]
    fn counter_overflow_carries_into_the_wall_part() {
        let mut clock = Clock::starting_after(Timestamp::new(10, u16::MAX));
        let next = clock.tick(10);
        assert_eq!((next.wall_ms(), next.counter()), (11, 0));
    }

    #[test]
    fn the_clock_never_reaches_the_reserved_time() {
        let mut clock = Clock::starting_after(Timestamp(u64::MAX - 1));
        assert_eq!(clock.tick(0), Timestamp(u64::MAX - 1));
    }
}
