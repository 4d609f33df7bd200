//! Typed single-producer/single-consumer rings: a thin facade over `rtrb`.
//!
//! Why a facade: stages want batches (one synchronization for many events: the cache-line
//! handoff between cores is the cost, not the copy), a wait strategy when full or empty, an
//! end-of-stream signal when the other side is gone, and counters an operator can read
//! (occupancy high-water mark, full events) without touching the hot path more than once per
//! batch. SPSC is enforced by the types: [`ring`] returns one [`RingTx`] and one [`RingRx`], and
//! neither can be cloned.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rtrb::{Consumer, Producer, RingBuffer};

use crate::wait::Waiter;

/// The other side of the ring is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the other side of the ring is gone")]
pub struct Closed;

/// Counters written by one side only, on their own cache line, so counting never makes the two
/// cores fight over a line.
#[derive(Debug, Default)]
#[repr(align(64))]
struct SideCounters {
    /// Items moved (pushed or popped).
    items: AtomicU64,
    /// Producer only: highest occupancy seen.
    high_water: AtomicU64,
    /// Producer only: pushes that found the ring full.
    full: AtomicU64,
}

#[derive(Debug, Default)]
struct Counters {
    tx: SideCounters,
    rx: SideCounters,
}

/// Single pushes sample occupancy once per this many pushes (batches always do).
const SAMPLE_EVERY: u64 = 64;

/// A snapshot of a ring's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingStats {
    /// The ring's name.
    pub name: &'static str,
    /// Capacity in items.
    pub capacity: usize,
    /// Items pushed.
    pub pushed: u64,
    /// Items popped.
    pub popped: u64,
    /// Most items ever waiting in the ring (measured at push time).
    pub high_water: u64,
    /// Times a push found the ring full.
    pub full_events: u64,
}

/// The producing half.
pub struct RingTx<T> {
    p: Producer<T>,
    c: Arc<Counters>,
    pushed: u64,
    high_water: u64,
    cap: usize,
    name: &'static str,
}

/// The consuming half.
pub struct RingRx<T> {
    c_: Consumer<T>,
    c: Arc<Counters>,
    popped: u64,
    cap: usize,
    name: &'static str,
}

/// A ring of `capacity` items.
///
/// ```
/// use ticklane_engine::ring::ring;
/// let (mut tx, mut rx) = ring::<u64>(4, "demo");
/// assert_eq!(tx.push_batch(&[1, 2, 3, 4, 5]), 4, "only what fits");
/// assert_eq!(tx.try_push(6), Err(6), "a full ring hands the value back");
/// let mut out = [0; 8];
/// assert_eq!(rx.pop_batch(&mut out), 4);
/// assert_eq!(&out[..4], &[1, 2, 3, 4]);
/// assert_eq!(rx.stats().full_events, 2);
/// ```
pub fn ring<T: Copy + Send>(capacity: usize, name: &'static str) -> (RingTx<T>, RingRx<T>) {
    let cap = capacity.max(1);
    let (p, c_) = RingBuffer::new(cap);
    let c = Arc::new(Counters::default());
    (RingTx { p, c: c.clone(), pushed: 0, high_water: 0, cap, name }, RingRx { c_, c, popped: 0, cap, name })
}

fn stats(c: &Counters, name: &'static str, capacity: usize) -> RingStats {
    RingStats {
        name,
        capacity,
        pushed: c.tx.items.load(Ordering::Relaxed),
        popped: c.rx.items.load(Ordering::Relaxed),
        high_water: c.tx.high_water.load(Ordering::Relaxed),
        full_events: c.tx.full.load(Ordering::Relaxed),
    }
}

impl<T: Copy + Send> RingTx<T> {
    /// Counts `n` pushed items; samples occupancy when `sample` (or every [`SAMPLE_EVERY`]).
    #[inline]
    fn note_push(&mut self, n: usize, sample: bool) {
        let before = self.pushed;
        self.pushed += n as u64;
        if sample || before / SAMPLE_EVERY != self.pushed / SAMPLE_EVERY {
            self.c.tx.items.store(self.pushed, Ordering::Relaxed);
            let occupied = (self.cap - self.p.slots()) as u64;
            if occupied > self.high_water {
                self.high_water = occupied;
                self.c.tx.high_water.store(occupied, Ordering::Relaxed);
            }
        }
    }

    #[inline]
    fn note_full(&mut self) {
        self.c.tx.full.fetch_add(1, Ordering::Relaxed);
        if self.high_water < self.cap as u64 {
            self.high_water = self.cap as u64;
            self.c.tx.high_water.store(self.high_water, Ordering::Relaxed);
        }
    }

    /// Pushes one item, or hands it back when the ring is full.
    ///
    /// # Errors
    /// The item itself when there is no room.
    #[inline]
    pub fn try_push(&mut self, v: T) -> Result<(), T> {
        match self.p.push(v) {
            Ok(()) => {
                self.note_push(1, false);
                Ok(())
            }
            Err(rtrb::PushError::Full(v)) => {
                self.note_full();
                Err(v)
            }
        }
    }

    /// Pushes as many of `items` as fit, in one synchronization; returns how many.
    #[inline]
    pub fn push_batch(&mut self, items: &[T]) -> usize {
        let n = items.len().min(self.p.slots());
        if n < items.len() {
            self.note_full();
        }
        if n == 0 {
            return 0;
        }
        let written = match self.p.write_chunk_uninit(n) {
            Ok(chunk) => chunk.fill_from_iter(items[..n].iter().copied()),
            Err(_) => 0,
        };
        self.note_push(written, true);
        written
    }

    /// Pushes one item, waiting with `wait` while the ring is full.
    ///
    /// # Errors
    /// [`Closed`] when the consumer is gone (the item is dropped).
    #[inline]
    pub fn push_wait(&mut self, mut v: T, wait: &mut impl Waiter) -> Result<(), Closed> {
        loop {
            match self.try_push(v) {
                Ok(()) => {
                    wait.reset();
                    return Ok(());
                }
                Err(back) => {
                    if self.p.is_abandoned() {
                        return Err(Closed);
                    }
                    v = back;
                    wait.wait();
                }
            }
        }
    }

    /// Pushes all of `items`, waiting with `wait` while the ring is full. Never drops.
    ///
    /// # Errors
    /// [`Closed`] when the consumer is gone.
    #[inline]
    pub fn push_batch_wait(&mut self, mut items: &[T], wait: &mut impl Waiter) -> Result<(), Closed> {
        while !items.is_empty() {
            let n = self.push_batch(items);
            items = &items[n..];
            if n > 0 {
                wait.reset();
            } else if self.p.is_abandoned() {
                return Err(Closed);
            } else {
                wait.wait();
            }
        }
        Ok(())
    }

    /// Free slots now.
    pub fn free_slots(&self) -> usize {
        self.p.slots()
    }

    /// Whether the consumer is gone.
    pub fn is_closed(&self) -> bool {
        self.p.is_abandoned()
    }

    /// The counters (this side's exact; the consumer's as of its last publication).
    pub fn stats(&self) -> RingStats {
        RingStats { pushed: self.pushed, ..stats(&self.c, self.name, self.cap) }
    }
}

impl<T> Drop for RingTx<T> {
    fn drop(&mut self) {
        self.c.tx.items.store(self.pushed, Ordering::Relaxed);
    }
}

impl<T> Drop for RingRx<T> {
    fn drop(&mut self) {
        self.c.rx.items.store(self.popped, Ordering::Relaxed);
    }
}

impl<T: Copy + Send> RingRx<T> {
    /// Pops one item, if any.
    #[inline]
    pub fn try_pop(&mut self) -> Option<T> {
        let v = self.c_.pop().ok()?;
        self.popped += 1;
        if self.popped % SAMPLE_EVERY == 0 {
            self.c.rx.items.store(self.popped, Ordering::Relaxed);
        }
        Some(v)
    }

    /// The next item without removing it.
    #[inline]
    pub fn peek(&self) -> Option<&T> {
        self.c_.peek().ok()
    }

    /// Pops up to `out.len()` items in one synchronization; returns how many.
    #[inline]
    pub fn pop_batch(&mut self, out: &mut [T]) -> usize {
        let n = out.len().min(self.c_.slots());
        if n == 0 {
            return 0;
        }
        let Ok(chunk) = self.c_.read_chunk(n) else { return 0 };
        let (a, b) = chunk.as_slices();
        out[..a.len()].copy_from_slice(a);
        out[a.len()..a.len() + b.len()].copy_from_slice(b);
        chunk.commit_all();
        self.popped += n as u64;
        self.c.rx.items.store(self.popped, Ordering::Relaxed);
        n
    }

    /// Pops one item, waiting with `wait` while the ring is empty. `None` means the end of the
    /// stream: the ring is empty and the producer is gone.
    #[inline]
    pub fn pop_wait(&mut self, wait: &mut impl Waiter) -> Option<T> {
        loop {
            if let Some(v) = self.try_pop() {
                wait.reset();
                return Some(v);
            }
            if self.c_.is_abandoned() {
                // The producer may have pushed its last items just before leaving.
                return self.try_pop();
            }
            wait.wait();
        }
    }

    /// Items waiting now.
    pub fn len(&self) -> usize {
        self.c_.slots()
    }

    /// Whether nothing is waiting now.
    pub fn is_empty(&self) -> bool {
        self.c_.is_empty()
    }

    /// Whether the producer is gone (items may still be waiting).
    pub fn is_abandoned(&self) -> bool {
        self.c_.is_abandoned()
    }

    /// The counters (this side's exact; the producer's as of its last publication, which is
    /// exact once the producer is gone).
    pub fn stats(&self) -> RingStats {
        RingStats { popped: self.popped, ..stats(&self.c, self.name, self.cap) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wait::SpinThenYield;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[derive(Clone, Debug)]
    enum Op {
        Push(Vec<u32>),
        Pop(usize),
    }

    fn op(cap: usize) -> impl Strategy<Value = Op> {
        prop_oneof![
            proptest::collection::vec(any::<u32>(), 0..2 * cap).prop_map(Op::Push),
            (0..2 * cap).prop_map(Op::Pop),
        ]
    }

    proptest! {
        /// Any interleaving of batch pushes and pops behaves like a bounded VecDeque.
        #[test]
        fn behaves_like_a_bounded_deque(cap in 1usize..20, ops in proptest::collection::vec(op(20), 0..200)) {
            let (mut tx, mut rx) = ring::<u32>(cap, "prop");
            let mut model: VecDeque<u32> = VecDeque::new();
            for o in ops {
                match o {
                    Op::Push(items) => {
                        let room = cap - model.len();
                        let n = tx.push_batch(&items);
                        prop_assert_eq!(n, items.len().min(room));
                        model.extend(&items[..n]);
                    }
                    Op::Pop(k) => {
                        let mut out = vec![0u32; k];
                        let n = rx.pop_batch(&mut out);
                        prop_assert_eq!(n, k.min(model.len()));
                        let want: Vec<u32> = model.drain(..n).collect();
                        prop_assert_eq!(&out[..n], &want[..]);
                    }
                }
                prop_assert_eq!(rx.len(), model.len());
                prop_assert_eq!(tx.free_slots(), cap - model.len());
            }
        }
    }

    #[test]
    fn two_threads_exact_order_and_end_of_stream() {
        const N: u64 = 1_000_000;
        let (mut tx, mut rx) = ring::<u64>(1024, "threads");
        let producer = std::thread::spawn(move || {
            let mut w = SpinThenYield::default();
            let mut batch = [0u64; 64];
            let mut next = 0;
            while next < N {
                let k = (N - next).min(64) as usize;
                for (i, b) in batch[..k].iter_mut().enumerate() {
                    *b = next + i as u64;
                }
                tx.push_batch_wait(&batch[..k], &mut w).unwrap();
                next += k as u64;
            }
        });
        let mut w = SpinThenYield::default();
        let mut expect = 0u64;
        let mut out = [0u64; 100];
        loop {
            let n = rx.pop_batch(&mut out);
            if n == 0 {
                if rx.is_abandoned() && rx.is_empty() {
                    break;
                }
                w.wait();
                continue;
            }
            for &v in &out[..n] {
                assert_eq!(v, expect);
                expect += 1;
            }
        }
        producer.join().unwrap();
        assert_eq!(expect, N);
        assert_eq!(rx.pop_wait(&mut w), None, "end of stream");
        assert_eq!(rx.stats().popped, N);
    }

    #[test]
    fn stats_count_high_water_and_full_events() {
        let (mut tx, mut rx) = ring::<u8>(3, "stats");
        tx.try_push(1).unwrap();
        tx.try_push(2).unwrap();
        assert_eq!(rx.try_pop(), Some(1));
        assert_eq!(tx.push_batch(&[3, 4, 5]), 2); // one full event
        assert_eq!(tx.try_push(6), Err(6)); // another
        let s = rx.stats();
        assert_eq!((s.popped, s.high_water, s.full_events), (1, 3, 2));
        assert_eq!(tx.stats().pushed, 4);
        assert_eq!(s.name, "stats");
        drop(rx);
        assert!(tx.is_closed());
        let mut w = SpinThenYield::default();
        assert_eq!(tx.push_wait(9, &mut w), Err(Closed));
    }
}
