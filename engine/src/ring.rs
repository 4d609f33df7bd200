//! Typed single-producer/single-consumer rings: a thin facade over [`rtrb`].
//!
//! Why SPSC and why these types: every ring connects exactly one stage to the next, so
//! [`ring`] returns one [`RingTx`] and one [`RingRx`], neither can be cloned, and the compiler
//! rules out a second producer or consumer. That is what lets `rtrb` get away with two indices on
//! separate cache lines and no compare-and-swap.
//!
//! Why batches: moving an item costs little; telling the other core about it costs a cache-line
//! handoff. [`RingTx::push_batch`] and [`RingRx::pop_batch`] publish many items with one
//! synchronization, so a burst costs one handoff instead of one per item.
//!
//! What the facade adds over `rtrb`: a [`Waiter`] while full or empty, an end-of-stream signal
//! when the other half is dropped ([`Closed`], [`RingRx::pop_wait`] returning `None`), and
//! counters ([`RingStats`]) either side can read without locks. Each side writes only its own
//! counters, on its own cache line, with plain `Relaxed` stores: once per batch, once per 64
//! single items, and whenever it finds nothing to do, never once per item. Once [`ring`] has
//! returned, nothing here allocates, takes a lock or panics.

use std::fmt;
use std::sync::atomic::{fence, AtomicU64, Ordering};
use std::sync::Arc;

use rtrb::{Consumer, Producer, PushError, RingBuffer};

use crate::wait::Waiter;

/// The consumer of the ring is gone, so a push that would wait for room would wait forever.
///
/// ```
/// use ticklane_engine::ring::{ring, Closed};
/// use ticklane_engine::wait::SpinThenYield;
/// let (mut tx, rx) = ring::<u32>(1, "demo");
/// tx.try_push(0).unwrap();
/// drop(rx);
/// assert_eq!(tx.push_wait(1, &mut SpinThenYield::default()), Err(Closed));
/// assert_eq!(Closed.to_string(), "the consumer of the ring is gone");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the consumer of the ring is gone")]
pub struct Closed;

/// Keeps what one core writes off the cache line the other core writes (128 bytes: adjacent-line
/// prefetchers pair lines on common x86 parts).
#[derive(Debug, Default)]
#[repr(align(128))]
struct Line<T>(T);

/// Written by the producer only.
#[derive(Debug, Default)]
struct TxCounters {
    pushed: AtomicU64,
    high_water: AtomicU64,
    full_events: AtomicU64,
}

/// Written by the consumer only.
#[derive(Debug, Default)]
struct RxCounters {
    popped: AtomicU64,
}

#[derive(Debug, Default)]
struct Counters {
    tx: Line<TxCounters>,
    rx: Line<RxCounters>,
}

impl Counters {
    fn snapshot(&self, name: &'static str, capacity: usize) -> RingStats {
        RingStats {
            name,
            capacity,
            pushed: self.tx.0.pushed.load(Ordering::Relaxed),
            popped: self.rx.0.popped.load(Ordering::Relaxed),
            high_water: self.tx.0.high_water.load(Ordering::Relaxed),
            full_events: self.tx.0.full_events.load(Ordering::Relaxed),
        }
    }
}

/// Single pushes and pops publish their count, and single pushes look at the occupancy, once
/// per this many items. Looking means reading the consumer's index, a cache line the consumer
/// keeps writing; doing it on every push would undo the index caching that makes `rtrb` fast,
/// and even a store per item to a line of one's own measurably slows a single-item stream.
/// Batches do both on every call: they read the index anyway.
const SAMPLE_EVERY: u64 = 64;

/// A snapshot of a ring's counters, readable from either half.
///
/// Each half's own counts are exact in its own [`stats`](RingTx::stats). The other half's
/// are as of its last publication: it publishes after every batch, every 64th single item,
/// whenever it finds the ring full (producer) or empty (consumer), and when it is dropped; so
/// a busy half's count lags by less than 64 items and an idle or dropped half's is exact.
///
/// ```
/// use ticklane_engine::ring::ring;
/// let (mut tx, mut rx) = ring::<u8>(2, "book->strategy");
/// tx.push_batch(&[1, 2, 3]);
/// rx.try_pop();
/// let s = rx.stats();
/// assert_eq!(s.name, "book->strategy");
/// assert_eq!((s.capacity, s.pushed, s.popped), (2, 2, 1));
/// assert_eq!((s.high_water, s.full_events), (2, 1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingStats {
    /// The ring's name, as given to [`ring`].
    pub name: &'static str,
    /// Capacity in items.
    pub capacity: usize,
    /// Items pushed so far.
    pub pushed: u64,
    /// Items popped so far.
    pub popped: u64,
    /// Most items seen waiting in the ring at push time. Batch pushes look every time; single
    /// pushes look every 64th push (so a short peak between looks can be missed); a push that
    /// finds the ring full records the capacity.
    pub high_water: u64,
    /// Times a push found no room for (all of) its items. A waiting push counts once per stall,
    /// not once per retry.
    pub full_events: u64,
}

/// Creates a ring holding up to `capacity` items; `name` labels its [`RingStats`].
///
/// The only allocation of the ring's life happens here.
///
/// # Panics
/// If `capacity` is zero: such a ring could never move an item.
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
    assert!(capacity > 0, "ring {name:?}: capacity must be at least 1");
    let (p, c) = RingBuffer::new(capacity);
    let counters = Arc::new(Counters::default());
    let tx = RingTx {
        p,
        counters: Arc::clone(&counters),
        pushed: 0,
        high_water: 0,
        full_events: 0,
        capacity,
        name,
    };
    let rx = RingRx {
        c,
        counters,
        popped: 0,
        published: 0,
        capacity,
        name,
    };
    (tx, rx)
}

/// The producing half of a [`ring`]. `Send`, not `Clone`: one producer, on one thread at a time.
///
/// ```
/// use ticklane_engine::ring::ring;
/// let (mut tx, mut rx) = ring::<u32>(8, "demo");
/// let producer = std::thread::spawn(move || tx.push_batch(&[1, 2, 3]));
/// assert_eq!(producer.join().unwrap(), 3);
/// assert_eq!(rx.len(), 3);
/// ```
pub struct RingTx<T> {
    p: Producer<T>,
    counters: Arc<Counters>,
    pushed: u64,
    high_water: u64,
    full_events: u64,
    capacity: usize,
    name: &'static str,
}

/// The consuming half of a [`ring`]. `Send`, not `Clone`: one consumer, on one thread at a time.
///
/// ```
/// use ticklane_engine::ring::ring;
/// let (mut tx, mut rx) = ring::<u32>(8, "demo");
/// tx.try_push(7).unwrap();
/// let consumer = std::thread::spawn(move || rx.try_pop());
/// assert_eq!(consumer.join().unwrap(), Some(7));
/// ```
pub struct RingRx<T> {
    c: Consumer<T>,
    counters: Arc<Counters>,
    popped: u64,
    published: u64,
    capacity: usize,
    name: &'static str,
}

impl<T> fmt::Debug for RingTx<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingTx")
            .field("name", &self.name)
            .field("capacity", &self.capacity)
            .field("pushed", &self.pushed)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for RingRx<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RingRx")
            .field("name", &self.name)
            .field("capacity", &self.capacity)
            .field("popped", &self.popped)
            .finish_non_exhaustive()
    }
}

impl<T: Copy + Send> RingTx<T> {
    /// Publishes the pushed count and, when `occupied` is known, the high-water mark.
    #[inline]
    fn publish(&mut self, occupied: Option<usize>) {
        self.counters
            .tx
            .0
            .pushed
            .store(self.pushed, Ordering::Relaxed);
        if let Some(occupied) = occupied {
            self.note_occupancy(occupied as u64);
        }
    }

    /// Counts one pushed item; every [`SAMPLE_EVERY`]th publishes and looks at the occupancy.
    #[inline(always)]
    fn note_pushed_one(&mut self) {
        self.pushed += 1;
        if self.pushed.is_multiple_of(SAMPLE_EVERY) {
            self.sample();
        }
    }

    /// Kept out of line so the single-item fast path stays small.
    #[cold]
    #[inline(never)]
    fn sample(&mut self) {
        let occupied = self.capacity - self.p.slots();
        self.publish(Some(occupied));
    }

    #[inline]
    fn note_occupancy(&mut self, occupied: u64) {
        if occupied > self.high_water {
            self.high_water = occupied;
            self.counters
                .tx
                .0
                .high_water
                .store(occupied, Ordering::Relaxed);
        }
    }

    /// Records that a push found no room: one full event, and the ring was at capacity. The
    /// producer has to wait anyway, so it publishes its count too.
    #[cold]
    fn note_full(&mut self) {
        self.full_events += 1;
        self.counters
            .tx
            .0
            .full_events
            .store(self.full_events, Ordering::Relaxed);
        self.publish(Some(self.capacity));
    }

    /// Pushes what fits of `items` with one synchronization, without counting a full event.
    #[inline]
    fn write(&mut self, items: &[T]) -> usize {
        let free = self.p.slots();
        let n = items.len().min(free);
        if n == 0 {
            return 0;
        }
        // `n` is at most the free space just read, so the chunk is always granted.
        let written = match self.p.write_chunk_uninit(n) {
            Ok(chunk) => chunk.fill_from_iter(items[..n].iter().copied()),
            Err(_) => 0,
        };
        self.pushed += written as u64;
        self.publish(Some(self.capacity - free + written));
        written
    }

    /// Pushes one item, or hands it back when the ring is full.
    ///
    /// # Errors
    /// The item itself, when there is no room (counted as a full event).
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// let (mut tx, _rx) = ring::<char>(1, "demo");
    /// assert_eq!(tx.try_push('a'), Ok(()));
    /// assert_eq!(tx.try_push('b'), Err('b'));
    /// ```
    // Always inlined, with the bookkeeping out of line: measured in `ring_hop`, anything less
    // let a single-item stream run about a third slower than raw `rtrb`.
    #[inline(always)]
    pub fn try_push(&mut self, v: T) -> Result<(), T> {
        match self.p.push(v) {
            Ok(()) => {
                self.note_pushed_one();
                Ok(())
            }
            Err(PushError::Full(v)) => {
                self.note_full();
                Err(v)
            }
        }
    }

    /// Pushes as many of `items` as fit, in order, with one synchronization; returns how many.
    /// Fewer than `items.len()` counts as a full event.
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// let (mut tx, mut rx) = ring::<u16>(3, "demo");
    /// assert_eq!(tx.push_batch(&[1, 2]), 2);
    /// assert_eq!(tx.push_batch(&[3, 4]), 1);
    /// assert_eq!(tx.push_batch(&[]), 0);
    /// let mut out = [0; 3];
    /// assert_eq!(rx.pop_batch(&mut out), 3);
    /// assert_eq!(out, [1, 2, 3]);
    /// ```
    #[inline]
    pub fn push_batch(&mut self, items: &[T]) -> usize {
        if items.is_empty() {
            return 0;
        }
        let n = self.write(items);
        if n < items.len() {
            self.note_full();
        }
        n
    }

    /// Pushes one item, waiting with `wait` while the ring is full.
    ///
    /// # Errors
    /// [`Closed`] when the ring is full and the consumer is gone (the item is dropped). Like
    /// `rtrb`, a push that finds room succeeds whether or not anyone will read it; check
    /// [`is_closed`](RingTx::is_closed) to stop early.
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// use ticklane_engine::wait::SpinThenYield;
    /// let (mut tx, mut rx) = ring::<u32>(1, "demo");
    /// let consumer = std::thread::spawn(move || {
    ///     let mut w = SpinThenYield::default();
    ///     let a = rx.pop_wait(&mut w);
    ///     let b = rx.pop_wait(&mut w);
    ///     (a, b)
    /// });
    /// let mut w = SpinThenYield::default();
    /// tx.push_wait(1, &mut w).unwrap();
    /// tx.push_wait(2, &mut w).unwrap(); // waits until the consumer took 1
    /// assert_eq!(consumer.join().unwrap(), (Some(1), Some(2)));
    /// ```
    #[inline]
    pub fn push_wait(&mut self, v: T, wait: &mut impl Waiter) -> Result<(), Closed> {
        match self.try_push(v) {
            Ok(()) => Ok(()),
            Err(v) => self.push_wait_slow(v, wait),
        }
    }

    #[cold]
    fn push_wait_slow(&mut self, mut v: T, wait: &mut impl Waiter) -> Result<(), Closed> {
        loop {
            if self.is_closed() {
                return Err(Closed);
            }
            wait.wait();
            match self.p.push(v) {
                Ok(()) => {
                    wait.reset();
                    self.note_pushed_one();
                    return Ok(());
                }
                Err(PushError::Full(back)) => v = back,
            }
        }
    }

    /// Pushes all of `items`, in order, waiting with `wait` whenever the ring is full; each
    /// call to the ring moves as many as fit with one synchronization.
    ///
    /// # Errors
    /// [`Closed`] when the ring is full and the consumer is gone; the items not yet pushed are
    /// dropped.
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// use ticklane_engine::wait::SpinThenYield;
    /// let (mut tx, mut rx) = ring::<u32>(4, "demo");
    /// let producer = std::thread::spawn(move || {
    ///     let items: Vec<u32> = (0..100).collect();
    ///     tx.push_batch_wait(&items, &mut SpinThenYield::default())
    /// });
    /// let mut w = SpinThenYield::default();
    /// let mut got = Vec::new();
    /// while let Some(v) = rx.pop_wait(&mut w) {
    ///     got.push(v);
    /// }
    /// assert_eq!(producer.join().unwrap(), Ok(()));
    /// assert_eq!(got, (0..100).collect::<Vec<u32>>());
    /// ```
    #[inline]
    pub fn push_batch_wait(
        &mut self,
        mut items: &[T],
        wait: &mut impl Waiter,
    ) -> Result<(), Closed> {
        let mut stalled = false;
        while !items.is_empty() {
            let n = self.write(items);
            items = &items[n..];
            if n > 0 {
                stalled = false;
                wait.reset();
            } else {
                if !stalled {
                    stalled = true;
                    self.note_full();
                }
                if self.is_closed() {
                    return Err(Closed);
                }
                wait.wait();
            }
        }
        Ok(())
    }

    /// Free slots right now (more may free up at any moment).
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// let (mut tx, _rx) = ring::<u8>(4, "demo");
    /// tx.try_push(1).unwrap();
    /// assert_eq!(tx.free_slots(), 3);
    /// ```
    #[inline]
    pub fn free_slots(&self) -> usize {
        self.p.slots()
    }

    /// The ring's capacity in items.
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// let (tx, _rx) = ring::<u8>(4, "demo");
    /// assert_eq!(tx.capacity(), 4);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether the consumer is gone. Once true it stays true.
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// let (tx, rx) = ring::<u8>(4, "demo");
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    #[inline]
    pub fn is_closed(&self) -> bool {
        let gone = self.p.is_abandoned();
        if gone {
            // Pairs with the release in the other half's drop (see rtrb's `is_abandoned`).
            fence(Ordering::Acquire);
        }
        gone
    }

    /// The counters: this side's are exact, the consumer's as of its last publication (see
    /// [`RingStats`]).
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// let (mut tx, _rx) = ring::<u8>(4, "demo");
    /// tx.push_batch(&[1, 2, 3]);
    /// assert_eq!(tx.stats().pushed, 3);
    /// assert_eq!(tx.stats().high_water, 3);
    /// ```
    pub fn stats(&self) -> RingStats {
        RingStats {
            pushed: self.pushed,
            ..self.counters.snapshot(self.name, self.capacity)
        }
    }
}

impl<T> Drop for RingTx<T> {
    fn drop(&mut self) {
        self.counters
            .tx
            .0
            .pushed
            .store(self.pushed, Ordering::Relaxed);
    }
}

impl<T> Drop for RingRx<T> {
    fn drop(&mut self) {
        self.counters
            .rx
            .0
            .popped
            .store(self.popped, Ordering::Relaxed);
    }
}

impl<T: Copy + Send> RingRx<T> {
    #[inline]
    fn publish(&mut self) {
        self.published = self.popped;
        self.counters
            .rx
            .0
            .popped
            .store(self.popped, Ordering::Relaxed);
    }

    /// Found nothing to pop: a moment to spare, so publish the count if it moved.
    #[cold]
    #[inline(never)]
    fn note_empty(&mut self) {
        if self.published != self.popped {
            self.publish();
        }
    }

    /// Pops one item, if any.
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// let (mut tx, mut rx) = ring::<u8>(4, "demo");
    /// assert_eq!(rx.try_pop(), None);
    /// tx.try_push(9).unwrap();
    /// assert_eq!(rx.try_pop(), Some(9));
    /// ```
    // Always inlined, with the bookkeeping out of line: measured in `ring_hop`, anything less
    // let a single-item stream run about a third slower than raw `rtrb`.
    #[inline(always)]
    pub fn try_pop(&mut self) -> Option<T> {
        if let Ok(v) = self.c.pop() {
            self.popped += 1;
            if self.popped.is_multiple_of(SAMPLE_EVERY) {
                self.publish_sampled();
            }
            return Some(v);
        }
        self.note_empty();
        None
    }

    /// Kept out of line so the single-item fast path stays small.
    #[cold]
    #[inline(never)]
    fn publish_sampled(&mut self) {
        self.publish();
    }

    /// Pops up to `out.len()` items into the front of `out`, in order, with one
    /// synchronization; returns how many.
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// let (mut tx, mut rx) = ring::<u8>(4, "demo");
    /// tx.push_batch(&[1, 2, 3]);
    /// let mut out = [0; 2];
    /// assert_eq!(rx.pop_batch(&mut out), 2);
    /// assert_eq!(out, [1, 2]);
    /// assert_eq!(rx.pop_batch(&mut out), 1);
    /// assert_eq!(out[0], 3);
    /// ```
    #[inline]
    pub fn pop_batch(&mut self, out: &mut [T]) -> usize {
        let n = out.len().min(self.c.slots());
        if n == 0 {
            self.note_empty();
            return 0;
        }
        // `n` is at most the items just counted, so the chunk is always granted.
        let Ok(chunk) = self.c.read_chunk(n) else {
            return 0;
        };
        let (a, b) = chunk.as_slices();
        let (head, rest) = out.split_at_mut(a.len());
        head.copy_from_slice(a);
        rest[..b.len()].copy_from_slice(b);
        chunk.commit_all();
        self.popped += n as u64;
        self.publish();
        n
    }

    /// Pops one item, waiting with `wait` while the ring is empty. `None` means the end of the
    /// stream: the producer is gone and everything it pushed has been popped.
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// use ticklane_engine::wait::SpinThenYield;
    /// let (mut tx, mut rx) = ring::<u8>(4, "demo");
    /// tx.push_batch(&[1, 2]);
    /// drop(tx);
    /// let mut w = SpinThenYield::default();
    /// assert_eq!(rx.pop_wait(&mut w), Some(1));
    /// assert_eq!(rx.pop_wait(&mut w), Some(2));
    /// assert_eq!(rx.pop_wait(&mut w), None);
    /// ```
    #[inline]
    pub fn pop_wait(&mut self, wait: &mut impl Waiter) -> Option<T> {
        loop {
            if let Some(v) = self.try_pop() {
                wait.reset();
                return Some(v);
            }
            if self.is_abandoned() {
                // The producer may have pushed its last items just before it left.
                return self.try_pop();
            }
            wait.wait();
        }
    }

    /// Pops up to `out.len()` items like [`pop_batch`](RingRx::pop_batch), waiting with `wait`
    /// while the ring is empty. Returns 0 only at the end of the stream (or for an empty `out`).
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// use ticklane_engine::wait::SpinThenYield;
    /// let (mut tx, mut rx) = ring::<u8>(4, "demo");
    /// tx.push_batch(&[1, 2, 3]);
    /// drop(tx);
    /// let mut w = SpinThenYield::default();
    /// let mut out = [0; 8];
    /// assert_eq!(rx.pop_batch_wait(&mut out, &mut w), 3);
    /// assert_eq!(rx.pop_batch_wait(&mut out, &mut w), 0);
    /// ```
    #[inline]
    pub fn pop_batch_wait(&mut self, out: &mut [T], wait: &mut impl Waiter) -> usize {
        if out.is_empty() {
            return 0;
        }
        loop {
            let n = self.pop_batch(out);
            if n > 0 {
                wait.reset();
                return n;
            }
            if self.is_abandoned() {
                return self.pop_batch(out);
            }
            wait.wait();
        }
    }

    /// Items waiting right now (more may arrive at any moment).
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// let (mut tx, rx) = ring::<u8>(4, "demo");
    /// tx.push_batch(&[1, 2]);
    /// assert_eq!(rx.len(), 2);
    /// ```
    #[inline]
    pub fn len(&self) -> usize {
        self.c.slots()
    }

    /// Whether nothing is waiting right now.
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// let (_tx, rx) = ring::<u8>(4, "demo");
    /// assert!(rx.is_empty());
    /// ```
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ring's capacity in items.
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// let (_tx, rx) = ring::<u8>(4, "demo");
    /// assert_eq!(rx.capacity(), 4);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Whether the producer is gone. Once true it stays true, and every item it pushed is then
    /// visible: an empty, abandoned ring is the end of the stream.
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// let (mut tx, rx) = ring::<u8>(4, "demo");
    /// tx.try_push(1).unwrap();
    /// drop(tx);
    /// assert!(rx.is_abandoned());
    /// assert_eq!(rx.len(), 1, "what was pushed can still be popped");
    /// ```
    #[inline]
    pub fn is_abandoned(&self) -> bool {
        let gone = self.c.is_abandoned();
        if gone {
            // Pairs with the release in the other half's drop (see rtrb's `is_abandoned`), so
            // the producer's last pushes are visible to the reads that follow.
            fence(Ordering::Acquire);
        }
        gone
    }

    /// The counters: this side's are exact, the producer's as of its last publication (see
    /// [`RingStats`]), and exact once the producer is gone.
    ///
    /// ```
    /// use ticklane_engine::ring::ring;
    /// let (mut tx, mut rx) = ring::<u8>(4, "demo");
    /// tx.push_batch(&[1, 2]);
    /// rx.try_pop();
    /// let s = rx.stats();
    /// assert_eq!((s.pushed, s.popped), (2, 1));
    /// ```
    pub fn stats(&self) -> RingStats {
        RingStats {
            popped: self.popped,
            ..self.counters.snapshot(self.name, self.capacity)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wait::SpinThenYield;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    const _: () = {
        const fn send<T: Send>() {}
        send::<RingTx<crate::Event>>();
        send::<RingRx<crate::Event>>();
    };

    #[derive(Clone, Debug)]
    enum Op {
        PushBatch(Vec<u32>),
        PopBatch(usize),
        Push(u32),
        Pop,
    }

    const MAX_CAP: usize = 20;

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => proptest::collection::vec(any::<u32>(), 0..2 * MAX_CAP).prop_map(Op::PushBatch),
            3 => (0..2 * MAX_CAP).prop_map(Op::PopBatch),
            1 => any::<u32>().prop_map(Op::Push),
            1 => Just(Op::Pop),
        ]
    }

    proptest! {
        /// Any interleaving of pushes and pops behaves like a `VecDeque` bounded by the
        /// capacity, and the counters agree with the model.
        #[test]
        fn behaves_like_a_bounded_deque(
            cap in 1usize..=MAX_CAP,
            ops in proptest::collection::vec(op(), 0..200),
        ) {
            let (mut tx, mut rx) = ring::<u32>(cap, "prop");
            let mut model: VecDeque<u32> = VecDeque::new();
            let (mut pushed, mut popped, mut full) = (0u64, 0u64, 0u64);
            // The high-water mark must lie between what batch pushes (always observed) and
            // all pushes (single ones are sampled) reached.
            let (mut hw_batches, mut hw_all) = (0u64, 0u64);
            for o in ops {
                match o {
                    Op::PushBatch(items) => {
                        let room = cap - model.len();
                        let n = tx.push_batch(&items);
                        prop_assert_eq!(n, items.len().min(room));
                        model.extend(&items[..n]);
                        pushed += n as u64;
                        if n < items.len() {
                            full += 1;
                        }
                        if !items.is_empty() {
                            hw_batches = hw_batches.max(model.len() as u64);
                        }
                    }
                    Op::PopBatch(k) => {
                        let mut out = vec![u32::MAX; k];
                        let n = rx.pop_batch(&mut out);
                        prop_assert_eq!(n, k.min(model.len()));
                        let want: Vec<u32> = model.drain(..n).collect();
                        prop_assert_eq!(&out[..n], &want[..]);
                        prop_assert!(out[n..].iter().all(|&v| v == u32::MAX), "wrote past n");
                        popped += n as u64;
                    }
                    Op::Push(v) => {
                        if model.len() < cap {
                            prop_assert_eq!(tx.try_push(v), Ok(()));
                            model.push_back(v);
                            pushed += 1;
                        } else {
                            prop_assert_eq!(tx.try_push(v), Err(v));
                            full += 1;
                        }
                    }
                    Op::Pop => {
                        let want = model.pop_front();
                        prop_assert_eq!(rx.try_pop(), want);
                        popped += u64::from(want.is_some());
                    }
                }
                hw_all = hw_all.max(model.len() as u64);
                prop_assert_eq!(rx.len(), model.len());
                prop_assert_eq!(rx.is_empty(), model.is_empty());
                prop_assert_eq!(tx.free_slots(), cap - model.len());
                // Own counts are exact; the other side's lag by less than SAMPLE_EVERY.
                let (ts, rs) = (tx.stats(), rx.stats());
                prop_assert_eq!((ts.pushed, rs.popped), (pushed, popped));
                prop_assert!(rs.pushed <= pushed && pushed - rs.pushed < SAMPLE_EVERY, "{} vs {}", rs.pushed, pushed);
                prop_assert!(ts.popped <= popped && popped - ts.popped < SAMPLE_EVERY, "{} vs {}", ts.popped, popped);
                prop_assert_eq!((ts.full_events, rs.full_events), (full, full));
                prop_assert_eq!(ts.high_water, rs.high_water);
                prop_assert!(hw_batches <= ts.high_water && ts.high_water <= hw_all,
                    "high water {} outside [{}, {}]", ts.high_water, hw_batches, hw_all);
            }
            drop(tx);
            let s = rx.stats();
            prop_assert_eq!(s.pushed, pushed, "a dropped producer's count is exact");
            prop_assert_eq!((s.name, s.capacity), ("prop", cap));
        }
    }

    #[test]
    fn two_threads_exact_order_count_and_end_of_stream() {
        const N: u64 = 1_000_000;
        let (mut tx, mut rx) = ring::<u64>(1024, "threads");
        let producer = std::thread::spawn(move || {
            let mut w = SpinThenYield::default();
            let mut batch = [0u64; 100];
            let mut next = 0u64;
            let mut round = 0usize;
            while next < N {
                // Batch sizes 1..=100 vary so chunks wrap around the ring at every offset.
                let k = ((round % 100) + 1).min((N - next) as usize);
                for (i, b) in batch[..k].iter_mut().enumerate() {
                    *b = next + i as u64;
                }
                tx.push_batch_wait(&batch[..k], &mut w)
                    .expect("consumer alive");
                next += k as u64;
                round += 1;
            }
            tx.stats()
        });
        let mut w = SpinThenYield::default();
        let mut expect = 0u64;
        let mut out = [0u64; 77];
        loop {
            let n = rx.pop_batch(&mut out);
            if n == 0 {
                if rx.is_abandoned() && rx.is_empty() {
                    break;
                }
                w.wait();
                continue;
            }
            w.reset();
            for &v in &out[..n] {
                assert_eq!(v, expect, "out of order");
                expect += 1;
            }
        }
        let tx_stats = producer.join().expect("producer panicked");
        assert_eq!(expect, N);
        assert_eq!(rx.pop_wait(&mut w), None, "end of stream");
        assert_eq!(rx.pop_batch_wait(&mut out, &mut w), 0, "end of stream");
        let s = rx.stats();
        assert_eq!((s.pushed, s.popped), (N, N));
        assert_eq!(tx_stats.pushed, N);
        assert!(
            s.high_water >= 1 && s.high_water <= 1024,
            "high water {}",
            s.high_water
        );
    }

    #[test]
    fn pop_batch_wait_drains_then_ends() {
        const N: u64 = 100_000;
        let (mut tx, mut rx) = ring::<u64>(64, "drain");
        let producer = std::thread::spawn(move || {
            let mut w = SpinThenYield::default();
            for i in 0..N {
                tx.push_wait(i, &mut w).expect("consumer alive");
            }
        });
        let mut w = SpinThenYield::default();
        let mut out = [0u64; 16];
        let mut expect = 0u64;
        loop {
            let n = rx.pop_batch_wait(&mut out, &mut w);
            if n == 0 {
                break;
            }
            for &v in &out[..n] {
                assert_eq!(v, expect);
                expect += 1;
            }
        }
        producer.join().expect("producer panicked");
        assert_eq!(expect, N);
    }

    #[test]
    fn stats_count_high_water_and_full_events() {
        let (mut tx, mut rx) = ring::<u8>(3, "stats");
        tx.try_push(1).unwrap();
        tx.try_push(2).unwrap();
        assert_eq!(tx.stats().high_water, 0, "single pushes sample occupancy");
        assert_eq!(tx.push_batch(&[3]), 1);
        assert_eq!(tx.stats().high_water, 3, "a batch push sees 3 waiting");
        assert_eq!(rx.try_pop(), Some(1));
        assert_eq!(rx.try_pop(), Some(2));
        assert_eq!(tx.push_batch(&[4]), 1);
        assert_eq!(
            tx.stats().high_water,
            3,
            "2 waiting does not lower the mark"
        );
        assert_eq!(tx.stats().full_events, 0);
        assert_eq!(tx.push_batch(&[5, 6, 7]), 1, "one full event");
        assert_eq!(tx.try_push(8), Err(8), "another");
        assert_eq!(tx.push_batch(&[]), 0, "an empty batch is never full");
        let s = rx.stats();
        assert_eq!(s.name, "stats");
        assert_eq!(
            (s.pushed, s.popped, s.high_water, s.full_events),
            (5, 2, 3, 2)
        );
    }

    #[test]
    fn single_items_publish_every_sample_and_when_idle() {
        let (mut tx, mut rx) = ring::<u32>(256, "sample");
        for i in 0..SAMPLE_EVERY as u32 - 1 {
            tx.try_push(i).unwrap();
        }
        assert_eq!(rx.stats().pushed, 0, "not yet published");
        assert_eq!(tx.stats().high_water, 0, "not yet looked");
        tx.try_push(99).unwrap();
        assert_eq!(rx.stats().pushed, SAMPLE_EVERY);
        assert_eq!(tx.stats().high_water, SAMPLE_EVERY);
        for _ in 0..10 {
            rx.try_pop().unwrap();
        }
        assert_eq!((rx.stats().popped, tx.stats().popped), (10, 0));
        let mut out = [0; 100];
        assert_eq!(rx.pop_batch(&mut out), 54);
        assert_eq!(tx.stats().popped, 64, "a batch publishes");
        tx.try_push(1).unwrap();
        assert_eq!(rx.try_pop(), Some(1));
        assert_eq!(tx.stats().popped, 64);
        assert_eq!(rx.try_pop(), None);
        assert_eq!(tx.stats().popped, 65, "an idle consumer publishes");
        drop(tx);
        assert_eq!(rx.stats().pushed, 65, "a dropped producer publishes");
    }

    #[test]
    fn a_blocked_push_counts_one_full_event_per_stall() {
        let (mut tx, mut rx) = ring::<u32>(4, "stall");
        tx.push_batch(&[0, 1, 2, 3]);
        let consumer = std::thread::spawn(move || {
            let mut w = SpinThenYield::default();
            let mut got = Vec::new();
            while let Some(v) = rx.pop_wait(&mut w) {
                got.push(v);
                // Slow consumer: the producer stalls many times per item.
                for _ in 0..100 {
                    std::thread::yield_now();
                }
            }
            got
        });
        let items: Vec<u32> = (4..40).collect();
        let mut w = SpinThenYield::default();
        tx.push_batch_wait(&items, &mut w).unwrap();
        let s = tx.stats();
        drop(tx);
        assert_eq!(consumer.join().unwrap(), (0..40).collect::<Vec<u32>>());
        assert!(
            s.full_events >= 1 && s.full_events <= 36,
            "one per stall, got {}",
            s.full_events
        );
        assert_eq!(s.high_water, 4);
    }

    #[test]
    fn dropping_the_consumer_unblocks_a_waiting_producer() {
        let (mut tx, rx) = ring::<u32>(2, "closed");
        tx.push_batch(&[1, 2]);
        let producer = std::thread::spawn(move || {
            let mut w = SpinThenYield::default();
            let r = tx.push_batch_wait(&[3, 4, 5], &mut w);
            (r, tx.push_wait(6, &mut w), tx.is_closed())
        });
        std::thread::sleep(std::time::Duration::from_millis(10));
        drop(rx);
        assert_eq!(producer.join().unwrap(), (Err(Closed), Err(Closed), true));
    }

    #[test]
    fn dropping_the_producer_ends_the_stream_after_the_last_item() {
        let (mut tx, mut rx) = ring::<u32>(8, "eos");
        let mut w = SpinThenYield::default();
        let consumer = std::thread::spawn(move || {
            let mut got = Vec::new();
            while let Some(v) = rx.pop_wait(&mut w) {
                got.push(v);
            }
            (got, rx.is_abandoned())
        });
        tx.push_batch(&[1, 2, 3]);
        drop(tx);
        assert_eq!(consumer.join().unwrap(), (vec![1, 2, 3], true));
    }

    #[test]
    #[should_panic(expected = "capacity must be at least 1")]
    fn zero_capacity_is_refused() {
        let _ = ring::<u8>(0, "zero");
    }
}
