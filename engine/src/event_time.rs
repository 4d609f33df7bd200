//! Sanity of the times an input carries.
//!
//! Event time drives everything downstream that is paced by time: the backtest's equity
//! samples, strategy timers, the simulator's latency model. One corrupted timestamp (an extra
//! digit, a flipped high byte) can move a source's clock centuries ahead and make those run
//! through every boundary in between. [`TimeGuard`] sits where a source's times enter (the
//! decoder of every venue) and holds them to a bound: a time that differs from the previous
//! one by more than the bound, either way, is counted as bad input and the event keeps the
//! previous time, so the impossible time never reaches a sampler, timer or latency model.
//!
//! A real gap longer than the bound (a capture that resumes the next day) is told apart from a
//! corrupted time by the event after it: when two events in a row agree on the new time
//! (within the bound), the clock follows them. The first event after such a gap is counted
//! and keeps the previous time; the ones after it keep their own.
//!
//! ```
//! use ticklane_engine::event_time::TimeGuard;
//! let mut g = TimeGuard::new(1_000);
//! assert_eq!(g.admit(10_000), 10_000);
//! assert_eq!(g.admit(10_500), 10_500);
//! assert_eq!(g.admit(9_000_000_000), 10_500); // one corrupted time: held back, counted
//! assert_eq!(g.admit(10_600), 10_600); // the stream goes on
//! assert_eq!(g.jumps().forward, 1);
//! ```

/// Default bound on a jump of a source's time between two events: 6 hours. A trading day's
/// feed never pauses that long; a capture that does (an overnight disconnect) costs one
/// counted event.
pub const DEFAULT_MAX_TIME_JUMP_NS: u64 = 6 * 3_600 * 1_000_000_000;

/// Valid range of the bound, ns: one millisecond to 400 days.
pub const MAX_TIME_JUMP_RANGE_NS: std::ops::RangeInclusive<u64> =
    1_000_000..=400 * 86_400 * 1_000_000_000;

/// Times that jumped by more than the bound, by direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeJumps {
    /// Times ahead of the previous one by more than the bound.
    pub forward: u64,
    /// Times behind the previous one by more than the bound.
    pub backward: u64,
}

impl TimeJumps {
    /// Both directions.
    pub fn total(&self) -> u64 {
        self.forward + self.backward
    }

    /// Adds `other`'s counts.
    pub fn add(&mut self, other: TimeJumps) {
        self.forward += other.forward;
        self.backward += other.backward;
    }
}

/// Holds one source's event times to a bound on their jumps (see the module docs).
#[derive(Clone, Debug)]
pub struct TimeGuard {
    bound: u64,
    last: Option<u64>,
    pending: Option<u64>,
    jumps: TimeJumps,
}

impl Default for TimeGuard {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_TIME_JUMP_NS)
    }
}

impl TimeGuard {
    /// A guard allowing jumps of up to `bound_ns` between two events.
    pub fn new(bound_ns: u64) -> Self {
        TimeGuard {
            bound: bound_ns,
            last: None,
            pending: None,
            jumps: TimeJumps::default(),
        }
    }

    /// The bound, ns.
    pub fn bound(&self) -> u64 {
        self.bound
    }

    /// Starts over (a new input), keeping the bound.
    pub fn reset(&mut self) {
        *self = Self::new(self.bound);
    }

    /// The time to use for an event stamped `ts`: `ts` itself, or the previous event's time
    /// when `ts` jumped by more than the bound (counted). A zero time means "no time" and is
    /// passed through without moving the clock.
    #[inline]
    pub fn admit(&mut self, ts: u64) -> u64 {
        if ts == 0 {
            return 0;
        }
        let Some(last) = self.last else {
            self.last = Some(ts);
            return ts;
        };
        if ts.abs_diff(last) <= self.bound {
            self.last = Some(ts);
            self.pending = None;
            return ts;
        }
        self.jump(ts, last)
    }

    #[cold]
    fn jump(&mut self, ts: u64, last: u64) -> u64 {
        if self.pending.is_some_and(|p| ts.abs_diff(p) <= self.bound) {
            // The second event in a row at the new time: a real gap, not a corrupted time.
            self.last = Some(ts);
            self.pending = None;
            return ts;
        }
        if ts > last {
            self.jumps.forward += 1;
        } else {
            self.jumps.backward += 1;
        }
        self.pending = Some(ts);
        last
    }

    /// Jumps counted so far.
    pub fn jumps(&self) -> TimeJumps {
        self.jumps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_isolated_bad_time_is_held_back_and_counted_either_way() {
        let mut g = TimeGuard::new(100);
        let got: Vec<u64> = [1_000, 1_050, 9_000_000, 1_060, 1_070, 5, 1_080]
            .into_iter()
            .map(|t| g.admit(t))
            .collect();
        assert_eq!(got, [1_000, 1_050, 1_050, 1_060, 1_070, 1_070, 1_080]);
        assert_eq!(
            g.jumps(),
            TimeJumps {
                forward: 1,
                backward: 1
            }
        );
    }

    #[test]
    fn a_real_gap_is_followed_from_its_second_event() {
        let mut g = TimeGuard::new(100);
        let got: Vec<u64> = [1_000, 1_010, 50_000, 50_020, 50_030]
            .into_iter()
            .map(|t| g.admit(t))
            .collect();
        assert_eq!(got, [1_000, 1_010, 1_010, 50_020, 50_030]);
        assert_eq!(g.jumps().total(), 1);
    }

    #[test]
    fn small_disorder_and_missing_times_pass() {
        let mut g = TimeGuard::new(100);
        let got: Vec<u64> = [1_000, 990, 0, 1_085, 1_000]
            .into_iter()
            .map(|t| g.admit(t))
            .collect();
        assert_eq!(got, [1_000, 990, 0, 1_085, 1_000]);
        assert_eq!(g.jumps().total(), 0);
        g.reset();
        assert_eq!(g.admit(u64::MAX), u64::MAX);
        assert_eq!(g.admit(1), u64::MAX);
        assert_eq!(g.jumps().backward, 1);
    }
}
