//! Wait strategies: what a stage does while its ring is empty (or full).
//!
//! Busy-spinning gives the lowest latency but only makes sense on a dedicated, pinned core: with
//! more spinning threads than cores it starves the very thread it waits for. Spin-then-yield is
//! the default (and what tests and 2-core machines use); park sleeps briefly after a bounded spin
//! and suits stages that may idle for long.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Called in a loop while a ring has nothing to give (or no room); `reset` after progress.
pub trait Waiter {
    /// Waits a little.
    fn wait(&mut self);
    /// Progress was made: start the back-off over.
    fn reset(&mut self);
}

/// Pure busy spin. Only on a dedicated core.
#[derive(Clone, Copy, Debug, Default)]
pub struct BusySpin;

impl Waiter for BusySpin {
    #[inline]
    fn wait(&mut self) {
        std::hint::spin_loop();
    }
    #[inline]
    fn reset(&mut self) {}
}

/// Spin `spins` times, then yield the core on every further wait.
#[derive(Clone, Copy, Debug)]
pub struct SpinThenYield {
    spins: u32,
    n: u32,
}

impl SpinThenYield {
    /// Spins this many times before yielding.
    pub fn new(spins: u32) -> Self {
        SpinThenYield { spins, n: 0 }
    }
}

impl Default for SpinThenYield {
    fn default() -> Self {
        Self::new(100)
    }
}

impl Waiter for SpinThenYield {
    #[inline]
    fn wait(&mut self) {
        if self.n < self.spins {
            self.n += 1;
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
    #[inline]
    fn reset(&mut self) {
        self.n = 0;
    }
}

/// A bounded spin, a few yields, then short sleeps (50 µs): for stages that may idle for long.
#[derive(Clone, Copy, Debug, Default)]
pub struct Park {
    n: u32,
}

impl Waiter for Park {
    #[inline]
    fn wait(&mut self) {
        self.n = self.n.saturating_add(1);
        if self.n <= 64 {
            std::hint::spin_loop();
        } else if self.n <= 80 {
            std::thread::yield_now();
        } else {
            std::thread::park_timeout(Duration::from_micros(50));
        }
    }
    #[inline]
    fn reset(&mut self) {
        self.n = 0;
    }
}

/// A wait strategy chosen by configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WaitStrategy {
    /// [`BusySpin`]: only on dedicated pinned cores.
    BusySpin,
    /// [`SpinThenYield`] (default).
    #[default]
    SpinThenYield,
    /// [`Park`].
    Park,
}

/// The waiter of a [`WaitStrategy`]: an enum, so the hot loop pays no dynamic dispatch.
#[derive(Clone, Copy, Debug)]
pub enum AnyWaiter {
    /// Busy spin.
    BusySpin(BusySpin),
    /// Spin then yield.
    SpinThenYield(SpinThenYield),
    /// Park.
    Park(Park),
}

impl Waiter for AnyWaiter {
    #[inline]
    fn wait(&mut self) {
        match self {
            AnyWaiter::BusySpin(w) => w.wait(),
            AnyWaiter::SpinThenYield(w) => w.wait(),
            AnyWaiter::Park(w) => w.wait(),
        }
    }
    #[inline]
    fn reset(&mut self) {
        match self {
            AnyWaiter::BusySpin(w) => w.reset(),
            AnyWaiter::SpinThenYield(w) => w.reset(),
            AnyWaiter::Park(w) => w.reset(),
        }
    }
}

impl WaitStrategy {
    /// A fresh waiter.
    pub fn waiter(self) -> AnyWaiter {
        match self {
            WaitStrategy::BusySpin => AnyWaiter::BusySpin(BusySpin),
            WaitStrategy::SpinThenYield => AnyWaiter::SpinThenYield(SpinThenYield::default()),
            WaitStrategy::Park => AnyWaiter::Park(Park::default()),
        }
    }
}

/// A wait strategy name that is not `spin`, `yield` or `park`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown wait strategy {0:?}: expected spin, yield or park")]
pub struct UnknownWaitStrategy(pub String);

impl FromStr for WaitStrategy {
    type Err = UnknownWaitStrategy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "spin" | "busy-spin" | "busyspin" => Ok(WaitStrategy::BusySpin),
            "yield" | "spin-then-yield" => Ok(WaitStrategy::SpinThenYield),
            "park" => Ok(WaitStrategy::Park),
            _ => Err(UnknownWaitStrategy(s.to_owned())),
        }
    }
}

impl fmt::Display for WaitStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WaitStrategy::BusySpin => "spin",
            WaitStrategy::SpinThenYield => "yield",
            WaitStrategy::Park => "park",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display_round_trip() {
        for w in [WaitStrategy::BusySpin, WaitStrategy::SpinThenYield, WaitStrategy::Park] {
            assert_eq!(w.to_string().parse::<WaitStrategy>(), Ok(w));
        }
        let e = "sleepy".parse::<WaitStrategy>().unwrap_err();
        assert!(e.to_string().contains("spin, yield or park"), "{e}");
    }

    #[test]
    fn spin_then_yield_counts_and_resets() {
        let mut w = SpinThenYield::new(3);
        for _ in 0..5 {
            w.wait();
        }
        assert_eq!(w.n, 3);
        w.reset();
        assert_eq!(w.n, 0);
    }
}
