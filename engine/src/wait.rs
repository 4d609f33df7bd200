//! Wait strategies: what a stage does while its ring is empty (or full).
//!
//! Why several: waiting is a trade between latency and the CPU it burns. Busy-spinning reacts
//! within nanoseconds but only makes sense on a dedicated, pinned core: with more spinning
//! threads than cores it starves the very thread it waits for, and latency gets a thousand times
//! worse instead of better. On a 2-core machine, in tests and by default, use spin-then-yield;
//! park suits stages that may idle for long (it sleeps in short, self-ending naps, so no unpark
//! plumbing is needed).
//!
//! A [`Waiter`] is called in a loop while there is nothing to do and reset after progress, so
//! every strategy backs off from its cheapest step. [`WaitStrategy`] is the configuration-facing
//! choice; its [`AnyWaiter`] is an enum, so the hot loop pays no allocation and no dynamic
//! dispatch.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// What to do while a ring has nothing to give (or no room): [`wait`](Waiter::wait) is called
/// once per failed attempt, [`reset`](Waiter::reset) once progress was made.
///
/// ```
/// use ticklane_engine::wait::{SpinThenYield, Waiter};
/// let mut ready = 0;
/// let mut w = SpinThenYield::default();
/// while ready < 3 {
///     ready += 1; // stands in for "try the ring again"
///     w.wait();
/// }
/// w.reset();
/// ```
pub trait Waiter {
    /// Nothing to do yet: wait a little, a bit longer on each call until [`reset`](Waiter::reset).
    ///
    /// ```
    /// use ticklane_engine::wait::{BusySpin, Waiter};
    /// BusySpin.wait();
    /// ```
    fn wait(&mut self);

    /// Progress was made: start the back-off over.
    ///
    /// ```
    /// use ticklane_engine::wait::{Park, Waiter};
    /// let mut w = Park::default();
    /// w.wait();
    /// w.reset();
    /// ```
    fn reset(&mut self);
}

/// Pure busy spin ([`std::hint::spin_loop`] on every wait). Only on a dedicated, pinned core:
/// never with two spinning threads on two cores, or with more threads than cores.
///
/// ```
/// use ticklane_engine::wait::{BusySpin, Waiter};
/// let mut w = BusySpin;
/// w.wait();
/// w.reset();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BusySpin;

impl Waiter for BusySpin {
    #[inline]
    fn wait(&mut self) {
        std::hint::spin_loop();
    }

    #[inline]
    fn reset(&mut self) {}
}

/// Spins `spins` times, then yields the core ([`std::thread::yield_now`]) on every further wait
/// until reset. The default strategy, with [`SpinThenYield::DEFAULT_SPINS`] spins.
///
/// ```
/// use ticklane_engine::wait::{SpinThenYield, Waiter};
/// let mut w = SpinThenYield::new(10);
/// for _ in 0..20 {
///     w.wait(); // ten spins, then ten yields
/// }
/// w.reset();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpinThenYield {
    spins: u32,
    n: u32,
}

impl SpinThenYield {
    /// Spins before the first yield in the default strategy: about a microsecond or less of
    /// spinning, long enough to catch a handoff in flight from the other core.
    ///
    /// ```
    /// use ticklane_engine::wait::SpinThenYield;
    /// assert_eq!(SpinThenYield::default(), SpinThenYield::new(SpinThenYield::DEFAULT_SPINS));
    /// ```
    pub const DEFAULT_SPINS: u32 = 100;

    /// A waiter that spins `spins` times before it starts yielding.
    ///
    /// ```
    /// use ticklane_engine::wait::SpinThenYield;
    /// assert_eq!(SpinThenYield::new(5).spins(), 5);
    /// ```
    pub const fn new(spins: u32) -> Self {
        SpinThenYield { spins, n: 0 }
    }

    /// How many times it spins before yielding.
    ///
    /// ```
    /// use ticklane_engine::wait::SpinThenYield;
    /// assert_eq!(SpinThenYield::default().spins(), 100);
    /// ```
    pub const fn spins(&self) -> u32 {
        self.spins
    }
}

impl Default for SpinThenYield {
    fn default() -> Self {
        Self::new(Self::DEFAULT_SPINS)
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

/// A bounded spin ([`Park::SPINS`]), a few yields ([`Park::YIELDS`]), then naps of
/// [`Park::NAP`] via [`std::thread::park_timeout`]. The nap ends by itself, so nobody has to
/// unpark the waiting thread; an unpark only ends it early. For stages that may idle for long.
///
/// ```
/// use ticklane_engine::wait::{Park, Waiter};
/// let mut w = Park::default();
/// for _ in 0..(Park::SPINS + Park::YIELDS + 1) {
///     w.wait(); // the last call naps for at most about `Park::NAP`
/// }
/// w.reset();
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Park {
    n: u32,
}

impl Park {
    /// Spins before the first yield.
    ///
    /// ```
    /// assert_eq!(ticklane_engine::wait::Park::SPINS, 64);
    /// ```
    pub const SPINS: u32 = 64;

    /// Yields after the spins, before the first nap.
    ///
    /// ```
    /// assert_eq!(ticklane_engine::wait::Park::YIELDS, 16);
    /// ```
    pub const YIELDS: u32 = 16;

    /// The longest a single wait sleeps once spinning and yielding are exhausted.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(ticklane_engine::wait::Park::NAP, Duration::from_micros(50));
    /// ```
    pub const NAP: Duration = Duration::from_micros(50);
}

impl Waiter for Park {
    #[inline]
    fn wait(&mut self) {
        if self.n < Self::SPINS {
            self.n += 1;
            std::hint::spin_loop();
        } else if self.n < Self::SPINS + Self::YIELDS {
            self.n += 1;
            std::thread::yield_now();
        } else {
            std::thread::park_timeout(Self::NAP);
        }
    }

    #[inline]
    fn reset(&mut self) {
        self.n = 0;
    }
}

/// A wait strategy chosen by configuration: `spin`, `yield` (the default) or `park`.
///
/// ```
/// use ticklane_engine::wait::WaitStrategy;
/// let s: WaitStrategy = "park".parse().unwrap();
/// assert_eq!(s, WaitStrategy::Park);
/// assert_eq!(s.to_string(), "park");
/// assert_eq!(WaitStrategy::default(), WaitStrategy::SpinThenYield);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum WaitStrategy {
    /// [`BusySpin`] (`spin`): only on dedicated, pinned cores.
    BusySpin,
    /// [`SpinThenYield`] (`yield`): the default, and the choice for small machines and tests.
    #[default]
    SpinThenYield,
    /// [`Park`] (`park`): for stages that may idle for long.
    Park,
}

impl WaitStrategy {
    /// A fresh waiter for this strategy.
    ///
    /// ```
    /// use ticklane_engine::wait::{AnyWaiter, WaitStrategy, Waiter};
    /// let mut w = WaitStrategy::SpinThenYield.waiter();
    /// assert!(matches!(w, AnyWaiter::SpinThenYield(_)));
    /// w.wait();
    /// w.reset();
    /// ```
    pub fn waiter(self) -> AnyWaiter {
        match self {
            WaitStrategy::BusySpin => AnyWaiter::BusySpin(BusySpin),
            WaitStrategy::SpinThenYield => AnyWaiter::SpinThenYield(SpinThenYield::default()),
            WaitStrategy::Park => AnyWaiter::Park(Park::default()),
        }
    }
}

/// The waiter of a [`WaitStrategy`]: an enum rather than a `Box<dyn Waiter>`, so choosing the
/// strategy at run time costs no allocation and no dynamic dispatch in the hot loop.
///
/// ```
/// use ticklane_engine::wait::{AnyWaiter, BusySpin, Waiter};
/// let mut w = AnyWaiter::BusySpin(BusySpin);
/// w.wait();
/// w.reset();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnyWaiter {
    /// Busy spin.
    BusySpin(BusySpin),
    /// Spin, then yield.
    SpinThenYield(SpinThenYield),
    /// Spin, yield, then nap.
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

/// A wait strategy name that is none of `spin`, `yield` or `park`.
///
/// ```
/// use ticklane_engine::wait::WaitStrategy;
/// let e = "nap".parse::<WaitStrategy>().unwrap_err();
/// assert_eq!(e.to_string(), r#"unknown wait strategy "nap": expected spin, yield or park"#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown wait strategy {0:?}: expected spin, yield or park")]
pub struct UnknownWaitStrategy(pub String);

impl FromStr for WaitStrategy {
    type Err = UnknownWaitStrategy;

    /// Parses `spin`, `yield` or `park` (case and surrounding space ignored); the longer
    /// spellings `busy-spin` and `spin-then-yield` are accepted too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("spin") || t.eq_ignore_ascii_case("busy-spin") {
            Ok(WaitStrategy::BusySpin)
        } else if t.eq_ignore_ascii_case("yield") || t.eq_ignore_ascii_case("spin-then-yield") {
            Ok(WaitStrategy::SpinThenYield)
        } else if t.eq_ignore_ascii_case("park") {
            Ok(WaitStrategy::Park)
        } else {
            Err(UnknownWaitStrategy(s.to_owned()))
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
    use std::time::Instant;

    const ALL: [WaitStrategy; 3] = [
        WaitStrategy::BusySpin,
        WaitStrategy::SpinThenYield,
        WaitStrategy::Park,
    ];

    #[test]
    fn parse_and_display_round_trip() {
        for w in ALL {
            assert_eq!(w.to_string().parse::<WaitStrategy>(), Ok(w));
        }
        assert_eq!(
            " Yield ".parse::<WaitStrategy>(),
            Ok(WaitStrategy::SpinThenYield)
        );
        assert_eq!(
            "busy-spin".parse::<WaitStrategy>(),
            Ok(WaitStrategy::BusySpin)
        );
        assert_eq!(
            "spin-then-yield".parse::<WaitStrategy>(),
            Ok(WaitStrategy::SpinThenYield)
        );
    }

    #[test]
    fn bad_name_is_a_clear_error() {
        let e = "sleepy".parse::<WaitStrategy>().unwrap_err();
        assert_eq!(e, UnknownWaitStrategy("sleepy".to_owned()));
        assert_eq!(
            e.to_string(),
            "unknown wait strategy \"sleepy\": expected spin, yield or park"
        );
        assert!("".parse::<WaitStrategy>().is_err());
    }

    #[test]
    fn waiter_matches_strategy() {
        assert!(matches!(
            WaitStrategy::BusySpin.waiter(),
            AnyWaiter::BusySpin(_)
        ));
        assert_eq!(
            WaitStrategy::SpinThenYield.waiter(),
            AnyWaiter::SpinThenYield(SpinThenYield::new(100))
        );
        assert!(matches!(WaitStrategy::Park.waiter(), AnyWaiter::Park(_)));
    }

    #[test]
    fn spin_then_yield_counts_spins_and_resets() {
        let mut w = SpinThenYield::new(3);
        for _ in 0..5 {
            w.wait();
        }
        assert_eq!(w.n, 3, "stops counting once it yields");
        w.reset();
        assert_eq!(w.n, 0);
    }

    #[test]
    fn park_backs_off_to_naps_that_end_by_themselves() {
        let mut w = Park::default();
        for _ in 0..Park::SPINS + Park::YIELDS {
            w.wait();
        }
        assert_eq!(w.n, Park::SPINS + Park::YIELDS);
        // Nobody unparks this thread: the naps must time out on their own.
        let t = Instant::now();
        for _ in 0..4 {
            w.wait();
        }
        assert!(t.elapsed().as_secs() < 5, "park naps must time out");
        w.reset();
        assert_eq!(w, Park::default());
    }
}
