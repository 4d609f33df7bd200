//! What a producer does when its ring is full: a per-ring setting.
//!
//! Replay always blocks (never drops: results must not depend on timing). A live feed may prefer
//! to drop the newest item and count it, so a slow consumer cannot stall the socket reader into
//! losing packets in the kernel instead, where nobody counts them.

use std::fmt;
use std::str::FromStr;

use crate::ring::{Closed, RingTx};
use crate::wait::Waiter;

/// Full-ring policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backpressure {
    /// Wait until there is room (replay; live stages that must not lose data).
    #[default]
    Block,
    /// Drop the item that does not fit and count it.
    DropNewest,
}

impl FromStr for Backpressure {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "block" => Ok(Backpressure::Block),
            "drop-newest" | "drop_newest" => Ok(Backpressure::DropNewest),
            other => Err(format!(
                "unknown backpressure policy {other:?}: expected block or drop-newest"
            )),
        }
    }
}

impl fmt::Display for Backpressure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backpressure::Block => "block",
            Backpressure::DropNewest => "drop-newest",
        })
    }
}

/// A ring producer with a full-ring policy and a drop counter.
///
/// ```
/// use ticklane_engine::backpressure::{Backpressure, PolicyTx};
/// use ticklane_engine::ring::ring;
/// use ticklane_engine::wait::SpinThenYield;
/// let (tx, mut rx) = ring::<u32>(2, "live");
/// let mut tx = PolicyTx::new(tx, Backpressure::DropNewest);
/// let mut w = SpinThenYield::default();
/// for v in 0..5 {
///     tx.send(v, &mut w).unwrap();
/// }
/// assert_eq!(tx.dropped(), 3);
/// assert_eq!((rx.try_pop(), rx.try_pop(), rx.try_pop()), (Some(0), Some(1), None));
/// ```
pub struct PolicyTx<T> {
    tx: RingTx<T>,
    policy: Backpressure,
    dropped: u64,
}

impl<T: Copy + Send> PolicyTx<T> {
    /// Wraps `tx` with `policy`.
    pub fn new(tx: RingTx<T>, policy: Backpressure) -> Self {
        PolicyTx {
            tx,
            policy,
            dropped: 0,
        }
    }

    /// Sends `v` under the policy; `Ok(false)` when it was dropped.
    ///
    /// # Errors
    /// [`Closed`] when the consumer is gone.
    #[inline]
    pub fn send(&mut self, v: T, wait: &mut impl Waiter) -> Result<bool, Closed> {
        match self.policy {
            Backpressure::Block => self.tx.push_wait(v, wait).map(|()| true),
            Backpressure::DropNewest => {
                if self.tx.try_push(v).is_ok() {
                    return Ok(true);
                }
                if self.tx.is_closed() {
                    return Err(Closed);
                }
                self.dropped += 1;
                Ok(false)
            }
        }
    }

    /// Items dropped so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// The policy.
    pub fn policy(&self) -> Backpressure {
        self.policy
    }

    /// The underlying producer.
    pub fn inner(&self) -> &RingTx<T> {
        &self.tx
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ring::ring;
    use crate::wait::SpinThenYield;

    #[test]
    fn block_never_drops_even_with_a_slow_consumer() {
        let (tx, mut rx) = ring::<u64>(4, "block");
        let mut tx = PolicyTx::new(tx, Backpressure::Block);
        let consumer = std::thread::spawn(move || {
            let mut got = Vec::new();
            let mut w = SpinThenYield::default();
            while let Some(v) = rx.pop_wait(&mut w) {
                got.push(v);
                if got.len() % 100 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
            }
            got
        });
        let mut w = SpinThenYield::default();
        for v in 0..2_000 {
            assert!(tx.send(v, &mut w).unwrap());
        }
        drop(tx);
        assert_eq!(consumer.join().unwrap(), (0..2_000).collect::<Vec<_>>());
    }

    #[test]
    fn drop_newest_counts_and_reports_a_closed_ring() {
        let (tx, rx) = ring::<u8>(1, "drop");
        let mut tx = PolicyTx::new(tx, Backpressure::DropNewest);
        let mut w = SpinThenYield::default();
        assert_eq!(tx.send(1, &mut w), Ok(true));
        assert_eq!(tx.send(2, &mut w), Ok(false));
        assert_eq!(tx.dropped(), 1);
        drop(rx);
        assert_eq!(tx.send(3, &mut w), Err(Closed));
        assert_eq!(
            "drop-newest".parse::<Backpressure>(),
            Ok(Backpressure::DropNewest)
        );
        assert!("lossy".parse::<Backpressure>().is_err());
    }
}
