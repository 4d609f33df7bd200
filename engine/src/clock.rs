//! Clocks. Only the live clock reads wall time; everything here is monotonic and used for
//! latency stamps, never for results.
//!
//! [`MonoClock`] reads the CPU's time-stamp counter through `quanta` (a few nanoseconds a read,
//! calibrated against the OS clock), and falls back to the OS monotonic clock where the TSC is
//! not usable (no invariant TSC, some VMs).

/// A monotonic nanosecond clock with its own epoch (its creation). Clones share the epoch, so
/// stamps taken on different stage threads are comparable.
///
/// ```
/// use ticklane_engine::clock::MonoClock;
/// let c = MonoClock::new();
/// let a = c.now();
/// let b = c.clone().now();
/// assert!(b >= a);
/// ```
#[derive(Clone, Debug)]
pub struct MonoClock {
    clock: quanta::Clock,
    epoch: u64,
}

impl Default for MonoClock {
    fn default() -> Self {
        Self::new()
    }
}

impl MonoClock {
    /// A clock whose zero is now.
    pub fn new() -> Self {
        let clock = quanta::Clock::new();
        let epoch = clock.raw();
        MonoClock { clock, epoch }
    }

    /// Nanoseconds since the clock's epoch.
    #[inline]
    pub fn now(&self) -> u64 {
        self.clock.delta_as_nanos(self.epoch, self.clock.raw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracks_the_os_clock() {
        let c = MonoClock::new();
        let t0 = std::time::Instant::now();
        let a = c.now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = c.now();
        let os = t0.elapsed().as_nanos() as u64;
        let ours = b - a;
        assert!(
            ours >= 15_000_000 && ours <= os + 5_000_000,
            "ours {ours} ns, os {os} ns"
        );
    }
}
