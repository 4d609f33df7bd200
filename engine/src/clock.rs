//! Clocks. Only the live clock reads wall time; everything here is monotonic and used for
//! latency stamps, never for results.

use std::time::Instant;

/// A monotonic nanosecond clock with its own epoch (its creation), cheap to copy to every stage
/// thread so their stamps are comparable.
///
/// ```
/// use ticklane_engine::clock::MonoClock;
/// let c = MonoClock::new();
/// let a = c.now();
/// let b = c.now();
/// assert!(b >= a);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MonoClock {
    epoch: Instant,
}

impl Default for MonoClock {
    fn default() -> Self {
        Self::new()
    }
}

impl MonoClock {
    /// A clock whose zero is now.
    pub fn new() -> Self {
        MonoClock { epoch: Instant::now() }
    }

    /// Nanoseconds since the clock's epoch.
    #[inline]
    pub fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }
}
