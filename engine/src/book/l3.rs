//! Order-by-order (L3) books for every instrument at once.
//!
//! Laid out the way the fastest book builders do it:
//! - books live in a dense array indexed by [`InstrumentIdx`];
//! - orders live in one table keyed by order reference ([`OrderTable`]): a hash index over a
//!   dense array of order slots, so a lookup costs the same whether ids are dense, far apart,
//!   restarting or resting all day behind millions of newer ones;
//! - each side of a book is a vector of aggregated price levels sorted so that the **best level
//!   is at the end**: the touch is `last()`, and most activity (near the touch) moves few bytes.
//!
//! Bad input never panics: an event naming an unknown order, a duplicate order id or a reduction
//! larger than what rests is a [`BookError`] the caller counts, and the book stays consistent.

use crate::event::{Body, Event};
use crate::{InstrumentIdx, OrderId, Px, Qty, Side};

/// One aggregated price level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Level {
    /// Level price.
    pub px: Px,
    /// Total resting quantity.
    pub qty: Qty,
    /// Number of resting orders.
    pub orders: u32,
}

/// Best bid and offer of one instrument; `None` for an empty side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Top {
    /// Best bid level.
    pub bid: Option<Level>,
    /// Best ask level.
    pub ask: Option<Level>,
}

/// Why an event could not be applied. The book is unchanged (or, for
/// [`BookError::Overfill`], the order is removed) and the caller counts the error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    /// The event names an order that is not resting.
    #[error("unknown order {0}")]
    UnknownOrder(u64),
    /// An add (or replace) reuses an order id that is still resting.
    #[error("duplicate order id {0}")]
    DuplicateOrder(u64),
    /// A reduction or execution asked for more than the order's remaining quantity; the order
    /// was removed with what it had.
    #[error("order {order_id}: reduction of {asked} exceeds remaining {remaining}")]
    Overfill {
        /// The order.
        order_id: u64,
        /// Quantity the event removed.
        asked: u64,
        /// Quantity that was resting.
        remaining: u64,
    },
    /// The instrument index is beyond [`MAX_INSTRUMENTS`].
    #[error("instrument index {0} out of range")]
    InstrumentOutOfRange(u32),
}

/// What an applied event did, so a caller can detect top-of-book changes and price executions
/// without a second lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applied {
    /// The instrument whose book changed.
    pub instr: InstrumentIdx,
    /// The side that changed.
    pub side: Side,
    /// Price of the affected resting order (for executions: the price it traded at, unless the
    /// event carried its own).
    pub px: Px,
    /// Whether the best level of `side` may have changed (price, quantity or count).
    pub touched_top: bool,
}

/// Instruments a book set can hold (dense indices `0..MAX_INSTRUMENTS`).
pub const MAX_INSTRUMENTS: u32 = 1 << 20;

#[derive(Clone, Copy, Debug)]
struct Slot {
    /// Order reference; on a free slot, the index of the next free slot.
    id: u64,
    px: Px,
    qty: Qty,
    /// Time priority: the book set's add counter when the order joined its level (a replace
    /// gets a new one; a partial cancel or execution keeps it).
    prio: u64,
    /// Instrument index; [`FREE_SLOT`] on a free slot.
    instr: u32,
    side: Side,
}

/// `Slot::instr` of a free slot (beyond [`MAX_INSTRUMENTS`], so never an order's).
const FREE_SLOT: u32 = u32::MAX;

/// End of the free list.
const NO_SLOT: u32 = u32::MAX;

const _: () = assert!(std::mem::size_of::<Slot>() == 40);

/// A resting order as the book set holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestingOrder {
    /// Its instrument.
    pub instr: InstrumentIdx,
    /// Its side.
    pub side: Side,
    /// Its price.
    pub px: Px,
    /// Its remaining quantity.
    pub qty: Qty,
    /// Its time priority at its level: lower joined earlier (see [`L3Books::next_prio`]).
    pub prio: u64,
}

/// The 32-bit hash of an order id: a folded 64×128-bit multiply (the high and low halves of
/// the product xor-ed), so every input bit reaches every output bit and any spread of ids -
/// consecutive, strided, random - fills the index evenly. Keeping runs of consecutive ids in
/// consecutive buckets (for cache locality on dense ids) was tried and measured slower: it
/// lengthens the probe clusters more than it saves in cache misses.
#[inline(always)]
fn id_hash(id: u64) -> u32 {
    let m = u128::from(id).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
    ((m >> 64) as u64 ^ m as u64) as u32
}

/// Resting orders a table starts with room for, unless told otherwise (2^16: 3.5 MiB).
pub const DEFAULT_ORDER_CAPACITY: usize = 1 << 16;

/// Most resting orders a table can hold (2^31, 112 GiB): an add beyond is refused.
pub const MAX_ORDER_CAPACITY: usize = 1 << 31;

/// Table of resting orders by order reference, as fast whatever the ids look like.
///
/// Venues hand out ids in many ways: dense and increasing over a whole day (an ITCH feed),
/// far apart (a per-symbol extract of day-wide ids, as LOBSTER and Databento files are),
/// restarting every trading day, or arbitrary 64-bit values; and some orders rest all day while
/// millions arrive after them. Indexing by id directly is fastest only for the first kind, so
/// the table is a hash index instead:
///
/// - the **index** is an open-addressing table of `u64` buckets, each holding a 32-bit hash of
///   the id and the number of its slot (0: empty); linear probing, at most half full, and
///   deletion by backward shift, so there are no tombstones and a lookup never scans more than
///   the cluster its id hashes into;
/// - the **slots** are a dense array of orders (id, price, quantity, priority, instrument,
///   side) with a free list: a freed slot is the next one reused, so the slots in use stay
///   compact and hot in cache.
///
/// A lookup hashes the id, reads one index line and one slot. Memory is 40 bytes of slot and
/// 16 of index (two 8-byte buckets) for each order of capacity: 56 bytes an order when full,
/// at most 112 just after a growth. Capacity grows only when an add finds every slot in use:
/// it doubles (the slots move, the index is rebuilt from the stored hashes; [`OrderTable::grows`]
/// counts these), up to [`MAX_ORDER_CAPACITY`]. Once the table has room for the most orders
/// that rest at once, nothing allocates.
pub struct OrderTable {
    slots: Vec<Slot>,
    /// Orders the table has room for before it grows (a power of two).
    cap: usize,
    /// `2 * cap` buckets: `hash << 32 | (slot + 1)`, or 0 for an empty bucket.
    index: Box<[u64]>,
    mask: usize,
    /// Head of the free-slot list ([`NO_SLOT`]: none; slots past `slots.len()` are free too).
    free: u32,
    live: u64,
    grows: u32,
}

impl Default for OrderTable {
    fn default() -> Self {
        Self::new()
    }
}

impl OrderTable {
    /// A table with room for [`DEFAULT_ORDER_CAPACITY`] resting orders before it grows.
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_ORDER_CAPACITY)
    }

    /// A table with room for `orders` resting orders (rounded up to a power of two, at least 16,
    /// at most [`MAX_ORDER_CAPACITY`]) before it grows.
    ///
    /// The index is allocated zeroed and the slots reserved, not written: only the memory the
    /// orders reach is ever touched, so a generous capacity costs a short run little.
    pub fn with_capacity(orders: usize) -> Self {
        let cap = orders.clamp(16, MAX_ORDER_CAPACITY).next_power_of_two();
        OrderTable {
            slots: Vec::with_capacity(cap),
            cap,
            index: vec![0u64; 2 * cap].into_boxed_slice(),
            mask: 2 * cap - 1,
            free: NO_SLOT,
            live: 0,
            grows: 0,
        }
    }

    /// Empties the table, keeping its memory (and its capacity): the state of a new table of
    /// that capacity, at the cost of clearing the buckets in use (or the whole index, if that
    /// is cheaper).
    pub fn reset(&mut self) {
        if self.live as usize * 8 < self.index.len() {
            for s in 0..self.slots.len() {
                let slot = self.slots[s];
                if slot.instr != FREE_SLOT {
                    if let Some((pos, _)) = self.find(slot.id) {
                        self.index[pos] = 0;
                        self.close_gap(pos);
                    }
                }
            }
        } else {
            self.index.fill(0);
        }
        debug_assert!(self.index.iter().all(|&e| e == 0));
        self.slots.clear();
        self.free = NO_SLOT;
        self.live = 0;
    }

    /// Number of resting orders.
    pub fn len(&self) -> u64 {
        self.live
    }

    /// Whether no order rests.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Resting orders the table has room for before it next grows.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// How many times the table has grown (doubled its capacity) since it was built.
    pub fn grows(&self) -> u32 {
        self.grows
    }

    /// The index bucket and slot of `id`, if it rests.
    #[inline]
    fn find(&self, id: u64) -> Option<(usize, usize)> {
        let h = id_hash(id);
        let mut i = h as usize & self.mask;
        loop {
            let e = self.index[i];
            if e == 0 {
                return None;
            }
            if (e >> 32) as u32 == h {
                let s = (e as u32 - 1) as usize;
                if self.slots[s].id == id {
                    return Some((i, s));
                }
            }
            i = (i + 1) & self.mask;
        }
    }

    #[inline]
    fn get(&self, id: u64) -> Option<Slot> {
        self.find(id).map(|(_, s)| self.slots[s])
    }

    /// Empties bucket `pos` (already zeroed by the caller) by backward shift: each following
    /// entry of the cluster that may live at the gap moves into it, so every entry stays
    /// reachable from its home bucket without tombstones.
    #[inline]
    fn close_gap(&mut self, pos: usize) {
        let mask = self.mask;
        let mut gap = pos;
        let mut j = pos;
        loop {
            j = (j + 1) & mask;
            let e = self.index[j];
            if e == 0 {
                break;
            }
            let home = (e >> 32) as usize & mask;
            // `e` may fill the gap if the gap lies between its home and `j` (cyclically).
            if j.wrapping_sub(home) & mask >= j.wrapping_sub(gap) & mask {
                self.index[gap] = e;
                self.index[j] = 0;
                gap = j;
            }
        }
    }

    /// Removes the order at bucket `pos`, slot `s`, and returns it.
    #[inline]
    fn remove_at(&mut self, pos: usize, s: usize) -> Slot {
        self.index[pos] = 0;
        self.close_gap(pos);
        let old = self.slots[s];
        let f = &mut self.slots[s];
        f.instr = FREE_SLOT;
        f.id = u64::from(self.free);
        self.free = s as u32;
        self.live -= 1;
        old
    }

    /// Takes `qty` from an order resting under `instr` and returns the order as it was: its
    /// quantity shrinks when `qty` is less, otherwise the order is removed (an overfill too).
    /// An order resting under another instrument is left alone (`None`).
    #[inline]
    fn take(&mut self, id: u64, instr: u32, qty: u64) -> Option<Slot> {
        let (pos, s) = self.find(id)?;
        let slot = &mut self.slots[s];
        if slot.instr != instr {
            return None;
        }
        let old = *slot;
        if qty < old.qty.0 {
            slot.qty.0 -= qty;
            return Some(old);
        }
        Some(self.remove_at(pos, s))
    }

    /// Inserts a new order (`slot.id` is its id); `false` if the id is already resting (or the
    /// table is at [`MAX_ORDER_CAPACITY`]).
    #[inline]
    fn insert(&mut self, slot: Slot) -> bool {
        let id = slot.id;
        let h = id_hash(id);
        let mut i = h as usize & self.mask;
        loop {
            let e = self.index[i];
            if e == 0 {
                break;
            }
            if (e >> 32) as u32 == h && self.slots[(e as u32 - 1) as usize].id == id {
                return false;
            }
            i = (i + 1) & self.mask;
        }
        if self.live as usize >= self.cap {
            if !self.grow() {
                return false;
            }
            i = h as usize & self.mask;
            while self.index[i] != 0 {
                i = (i + 1) & self.mask;
            }
        }
        let s = if self.free != NO_SLOT {
            let s = self.free as usize;
            self.free = self.slots[s].id as u32;
            self.slots[s] = slot;
            s
        } else {
            // `live < cap` and no free slot in the list: `slots.len() < cap`, within the
            // reserved capacity, so this push does not allocate.
            self.slots.push(slot);
            self.slots.len() - 1
        };
        self.index[i] = u64::from(h) << 32 | (s as u64 + 1);
        self.live += 1;
        true
    }

    /// Doubles the capacity: reserves the slots and rebuilds the index from the stored hashes.
    /// `false` at [`MAX_ORDER_CAPACITY`].
    #[cold]
    #[inline(never)]
    fn grow(&mut self) -> bool {
        if self.cap >= MAX_ORDER_CAPACITY {
            return false;
        }
        let cap = self.cap * 2;
        self.slots.reserve_exact(cap - self.slots.len());
        let mut index = vec![0u64; 2 * cap].into_boxed_slice();
        let mask = 2 * cap - 1;
        for &e in self.index.iter().filter(|&&e| e != 0) {
            let mut i = (e >> 32) as usize & mask;
            while index[i] != 0 {
                i = (i + 1) & mask;
            }
            index[i] = e;
        }
        self.index = index;
        self.mask = mask;
        self.cap = cap;
        self.grows += 1;
        true
    }

    /// Removes an order resting under `instr`, returning what it was (`None`, and nothing
    /// removed, for an order of another instrument).
    #[inline]
    fn remove(&mut self, id: u64, instr: u32) -> Option<Slot> {
        let (pos, s) = self.find(id)?;
        if self.slots[s].instr != instr {
            return None;
        }
        Some(self.remove_at(pos, s))
    }

    /// Removes every order of `instr` (rare: a book clear).
    fn remove_instrument(&mut self, instr: u32) {
        for s in 0..self.slots.len() {
            let slot = self.slots[s];
            if slot.instr == instr {
                if let Some((pos, found)) = self.find(slot.id) {
                    debug_assert_eq!(found, s);
                    self.remove_at(pos, found);
                }
            }
        }
    }
}

/// One instrument's book: two sides, best level at the end of each.
#[derive(Clone, Debug, Default)]
pub struct Book {
    /// Bids ascending by price (best = highest = last); asks descending (best = lowest = last).
    sides: [Vec<Level>; 2],
}

/// Whether `a` is a strictly better price than `b` on `side`.
#[inline]
fn better(side: Side, a: Px, b: Px) -> bool {
    match side {
        Side::Bid => a > b,
        Side::Ask => a < b,
    }
}

impl Book {
    const INITIAL_LEVELS: usize = 32;

    fn new() -> Self {
        Book {
            sides: [
                Vec::with_capacity(Self::INITIAL_LEVELS),
                Vec::with_capacity(Self::INITIAL_LEVELS),
            ],
        }
    }

    /// Index of the level at `px` on `side`, or the index where it would be inserted (`Err`).
    #[inline]
    fn find(&self, side: Side, px: Px) -> Result<usize, usize> {
        let v = &self.sides[side.index()];
        // Most events land at or near the touch: scan a few levels from the back first.
        let n = v.len();
        let mut i = n;
        let scan_to = n.saturating_sub(8);
        while i > scan_to {
            let l = v[i - 1].px;
            if l == px {
                return Ok(i - 1);
            }
            if better(side, px, l) {
                return Err(i);
            }
            i -= 1;
        }
        // Deeper: binary search over `v[..scan_to]`, which is sorted worst..best.
        let head = &v[..scan_to];
        let pos = head.partition_point(|l| better(side, px, l.px));
        if pos < head.len() && head[pos].px == px {
            Ok(pos)
        } else {
            Err(pos)
        }
    }

    /// Adds `qty` (one more order) at `px`; returns whether the top changed.
    #[inline]
    fn add(&mut self, side: Side, px: Px, qty: Qty) -> bool {
        match self.find(side, px) {
            Ok(i) => {
                let v = &mut self.sides[side.index()];
                let l = &mut v[i];
                l.qty.0 += qty.0;
                l.orders += 1;
                i + 1 == v.len()
            }
            Err(i) => {
                let v = &mut self.sides[side.index()];
                v.insert(i, Level { px, qty, orders: 1 });
                i + 1 == v.len()
            }
        }
    }

    /// Removes `qty` at `px`, and one order from the count if `order_gone`. Returns whether
    /// the top changed. The level must exist (the order table says so).
    #[inline]
    fn remove(&mut self, side: Side, px: Px, qty: Qty, order_gone: bool) -> bool {
        let Ok(i) = self.find(side, px) else {
            // Unreachable while the order table and levels agree; keep the book usable anyway.
            debug_assert!(false, "level missing for a resting order");
            return false;
        };
        let v = &mut self.sides[side.index()];
        let at_top = i + 1 == v.len();
        let l = &mut v[i];
        l.qty.0 = l.qty.0.saturating_sub(qty.0);
        if order_gone {
            l.orders = l.orders.saturating_sub(1);
        }
        if l.orders == 0 {
            v.remove(i);
        }
        at_top
    }

    /// The level at `px` on `side`, if any order rests there.
    #[inline]
    pub fn level(&self, side: Side, px: Px) -> Option<Level> {
        self.find(side, px)
            .ok()
            .map(|i| self.sides[side.index()][i])
    }

    /// Best level of `side`.
    #[inline]
    pub fn best(&self, side: Side) -> Option<Level> {
        self.sides[side.index()].last().copied()
    }

    /// Levels of `side`, worst first (the best is the last).
    #[inline]
    pub fn side_slice(&self, side: Side) -> &[Level] {
        &self.sides[side.index()]
    }

    /// Levels of `side`, best first.
    pub fn levels(&self, side: Side) -> impl ExactSizeIterator<Item = &Level> + '_ {
        self.sides[side.index()].iter().rev()
    }

    /// Best bid and offer.
    #[inline]
    pub fn top(&self) -> Top {
        Top {
            bid: self.best(Side::Bid),
            ask: self.best(Side::Ask),
        }
    }

    /// Number of price levels on `side`.
    pub fn depth(&self, side: Side) -> usize {
        self.sides[side.index()].len()
    }

    fn clear(&mut self) {
        self.sides[0].clear();
        self.sides[1].clear();
    }
}

/// L3 books for every instrument, plus the table of resting orders they share.
///
/// ```
/// use ticklane_engine::book::L3Books;
/// use ticklane_engine::{Body, Event, Header, InstrumentIdx, OrderId, Px, Qty, Side};
///
/// let mut books = L3Books::new();
/// let hdr = Header { instr: InstrumentIdx(7), ..Header::default() };
/// let add = |id, side, px, qty| Event {
///     hdr,
///     body: Body::Add { order_id: OrderId(id), side, px: Px(px), qty: Qty(qty) },
/// };
/// books.apply(&add(1, Side::Bid, 100, 5)).unwrap();
/// books.apply(&add(2, Side::Bid, 101, 3)).unwrap();
/// books.apply(&add(3, Side::Ask, 103, 4)).unwrap();
/// let top = books.top(InstrumentIdx(7));
/// assert_eq!(top.bid.unwrap().px, Px(101));
/// assert_eq!(top.ask.unwrap().qty, Qty(4));
/// books.apply(&Event { hdr, body: Body::Delete { order_id: OrderId(2) } }).unwrap();
/// assert_eq!(books.top(InstrumentIdx(7)).bid.unwrap().px, Px(100));
/// ```
pub struct L3Books {
    books: Vec<Book>,
    orders: OrderTable,
    /// Time priority the next order to join a level gets.
    next_prio: u64,
}

impl Default for L3Books {
    fn default() -> Self {
        Self::new()
    }
}

impl L3Books {
    /// An empty book set.
    pub fn new() -> Self {
        L3Books {
            books: Vec::new(),
            orders: OrderTable::new(),
            next_prio: 0,
        }
    }

    /// Pre-sizes for `instruments` books and room for `2^order_bits + more_orders` resting
    /// orders (rounded up to a power of two; see [`OrderTable::with_capacity`]), so a replay
    /// whose resting orders never exceed that allocates nothing once running. Past it the
    /// order table doubles, which is counted ([`OrderTable::grows`]) and costs one rebuild.
    pub fn with_capacity(instruments: usize, order_bits: u32, more_orders: usize) -> Self {
        let orders = 1usize
            .checked_shl(order_bits.min(31))
            .unwrap_or(1)
            .saturating_add(more_orders);
        let mut b = L3Books {
            books: Vec::new(),
            orders: OrderTable::with_capacity(orders),
            next_prio: 0,
        };
        b.ensure_instrument(InstrumentIdx(instruments.saturating_sub(1) as u32));
        b
    }

    /// Empties every book and the order table, keeping their memory, so a new replay starts
    /// from the state of a fresh book set (same results) without allocating its tables again.
    pub fn reset(&mut self) {
        for b in &mut self.books {
            b.clear();
        }
        self.orders.reset();
        self.next_prio = 0;
    }

    /// Makes sure a book exists for `instr` (books are created on first use anyway).
    pub fn ensure_instrument(&mut self, instr: InstrumentIdx) -> bool {
        if instr.0 >= MAX_INSTRUMENTS {
            return false;
        }
        if self.books.len() <= instr.get() {
            self.books.resize_with(instr.get() + 1, Book::new);
        }
        true
    }

    /// The book of `instr`, if it exists.
    pub fn book(&self, instr: InstrumentIdx) -> Option<&Book> {
        self.books.get(instr.get())
    }

    /// Number of book slots (highest instrument index seen + 1).
    pub fn instruments(&self) -> usize {
        self.books.len()
    }

    /// Best bid and offer of `instr` (both `None` for an unknown instrument).
    #[inline]
    pub fn top(&self, instr: InstrumentIdx) -> Top {
        self.books
            .get(instr.get())
            .map(Book::top)
            .unwrap_or_default()
    }

    /// The resting orders table.
    pub fn orders(&self) -> &OrderTable {
        &self.orders
    }

    /// The remaining quantity, price, side and instrument of a resting order.
    pub fn order(&self, id: OrderId) -> Option<(InstrumentIdx, Side, Px, Qty)> {
        self.orders
            .get(id.0)
            .map(|s| (InstrumentIdx(s.instr), s.side, s.px, s.qty))
    }

    /// A resting order with its time priority.
    #[inline]
    pub fn resting(&self, id: OrderId) -> Option<RestingOrder> {
        self.orders.get(id.0).map(|s| RestingOrder {
            instr: InstrumentIdx(s.instr),
            side: s.side,
            px: s.px,
            qty: s.qty,
            prio: s.prio,
        })
    }

    /// The time priority the next order to join any level will get: every order resting now
    /// has a lower one, every later arrival a higher one. An order simulated as joining a level
    /// now is behind exactly the orders with a lower priority.
    #[inline]
    pub fn next_prio(&self) -> u64 {
        self.next_prio
    }

    /// Applies one event. Non-book events return `Ok(None)`.
    ///
    /// An event that names a resting order (execute, reduce, delete, replace) names it by its
    /// instrument (`ev.hdr.instr`, the ITCH stock locate) and its id together: an order resting
    /// under another instrument is [`BookError::UnknownOrder`] and stays as it is. One rule for
    /// every layout: a sharded replay routes each event by its instrument, so a shard never sees
    /// another instrument's orders, and the single-threaded replay must refuse them too for both
    /// to build the same books from inconsistent input.
    ///
    /// # Errors
    /// [`BookError`]: the event was inconsistent with the book; nothing was changed except for
    /// [`BookError::Overfill`], where the order was removed with what it had.
    #[inline]
    pub fn apply(&mut self, ev: &Event) -> Result<Option<Applied>, BookError> {
        match ev.body {
            Body::Add {
                order_id,
                px,
                qty,
                side,
            } => self.add(ev.hdr.instr, order_id, side, px, qty).map(Some),
            Body::Replace {
                old_id,
                new_id,
                px,
                qty,
            } => self
                .replace(ev.hdr.instr, old_id, new_id, px, Qty(u64::from(qty)))
                .map(Some),
            Body::Reduce { order_id, qty }
            | Body::Execute { order_id, qty }
            | Body::ExecuteAtPx { order_id, qty, .. } => {
                self.reduce(ev.hdr.instr, order_id, qty).map(Some)
            }
            Body::Delete { order_id } => self.delete(ev.hdr.instr, order_id).map(Some),
            Body::Clear => {
                self.clear(ev.hdr.instr);
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    /// Adds a resting order.
    ///
    /// # Errors
    /// [`BookError::DuplicateOrder`], [`BookError::InstrumentOutOfRange`].
    #[inline]
    pub fn add(
        &mut self,
        instr: InstrumentIdx,
        id: OrderId,
        side: Side,
        px: Px,
        qty: Qty,
    ) -> Result<Applied, BookError> {
        if !self.ensure_instrument(instr) {
            return Err(BookError::InstrumentOutOfRange(instr.0));
        }
        if !self.orders.insert(Slot {
            id: id.0,
            px,
            qty,
            instr: instr.0,
            side,
            prio: self.next_prio,
        }) {
            return Err(BookError::DuplicateOrder(id.0));
        }
        self.next_prio += 1;
        let touched_top = self.books[instr.get()].add(side, px, qty);
        Ok(Applied {
            instr,
            side,
            px,
            touched_top,
        })
    }

    /// Removes `qty` from an order resting under `instr` (partial cancel or execution);
    /// removes the order when nothing is left.
    ///
    /// An order is named by its instrument and its id together: an order resting under another
    /// instrument is unknown to `instr` (see [`L3Books::apply`]).
    ///
    /// # Errors
    /// [`BookError::UnknownOrder`]; [`BookError::Overfill`] (the order is removed).
    #[inline]
    pub fn reduce(
        &mut self,
        instr: InstrumentIdx,
        id: OrderId,
        qty: Qty,
    ) -> Result<Applied, BookError> {
        let Some(s) = self.orders.take(id.0, instr.0, qty.0) else {
            return Err(BookError::UnknownOrder(id.0));
        };
        if qty.0 < s.qty.0 {
            let touched_top = self.books[s.instr as usize].remove(s.side, s.px, qty, false);
            return Ok(Applied {
                instr: InstrumentIdx(s.instr),
                side: s.side,
                px: s.px,
                touched_top,
            });
        }
        let touched_top = self.books[s.instr as usize].remove(s.side, s.px, s.qty, true);
        if qty.0 > s.qty.0 {
            return Err(BookError::Overfill {
                order_id: id.0,
                asked: qty.0,
                remaining: s.qty.0,
            });
        }
        Ok(Applied {
            instr: InstrumentIdx(s.instr),
            side: s.side,
            px: s.px,
            touched_top,
        })
    }

    /// Deletes an order resting under `instr`.
    ///
    /// # Errors
    /// [`BookError::UnknownOrder`], also for an order resting under another instrument.
    #[inline]
    pub fn delete(&mut self, instr: InstrumentIdx, id: OrderId) -> Result<Applied, BookError> {
        let Some(s) = self.orders.remove(id.0, instr.0) else {
            return Err(BookError::UnknownOrder(id.0));
        };
        let touched_top = self.books[s.instr as usize].remove(s.side, s.px, s.qty, true);
        Ok(Applied {
            instr: InstrumentIdx(s.instr),
            side: s.side,
            px: s.px,
            touched_top,
        })
    }

    /// Cancel-replace: `old`, resting under `instr`, leaves; `new` joins at the back of the
    /// queue at `px` with `qty`, on the same side and instrument.
    ///
    /// # Errors
    /// [`BookError::UnknownOrder`] for `old`, also when it rests under another instrument
    /// (nothing changes); [`BookError::DuplicateOrder`] for `new` (the old order is left in
    /// place).
    pub fn replace(
        &mut self,
        instr: InstrumentIdx,
        old: OrderId,
        new: OrderId,
        px: Px,
        qty: Qty,
    ) -> Result<Applied, BookError> {
        let Some(s) = self.orders.get(old.0).filter(|s| s.instr == instr.0) else {
            return Err(BookError::UnknownOrder(old.0));
        };
        if old != new && self.orders.get(new.0).is_some() {
            return Err(BookError::DuplicateOrder(new.0));
        }
        self.orders.remove(old.0, s.instr);
        let book = &mut self.books[s.instr as usize];
        let a = book.remove(s.side, s.px, s.qty, true);
        let b = book.add(s.side, px, qty);
        self.orders.insert(Slot {
            id: new.0,
            px,
            qty,
            instr: s.instr,
            side: s.side,
            prio: self.next_prio,
        });
        self.next_prio += 1;
        Ok(Applied {
            instr: InstrumentIdx(s.instr),
            side: s.side,
            px,
            touched_top: a || b,
        })
    }

    /// Empties one instrument's book (its orders leave the table too).
    pub fn clear(&mut self, instr: InstrumentIdx) {
        let Some(book) = self.books.get_mut(instr.get()) else {
            return;
        };
        if book.depth(Side::Bid) == 0 && book.depth(Side::Ask) == 0 {
            return;
        }
        book.clear();
        self.orders.remove_instrument(instr.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Header;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn ev(instr: u32, body: Body) -> Event {
        Event {
            hdr: Header {
                instr: InstrumentIdx(instr),
                ..Header::default()
            },
            body,
        }
    }
    fn add(id: u64, side: Side, px: i64, qty: u64) -> Event {
        ev(
            1,
            Body::Add {
                order_id: OrderId(id),
                side,
                px: Px(px),
                qty: Qty(qty),
            },
        )
    }

    #[test]
    fn levels_aggregate_and_best_is_last() {
        let mut b = L3Books::new();
        b.apply(&add(1, Side::Bid, 100, 5)).unwrap();
        b.apply(&add(2, Side::Bid, 100, 7)).unwrap();
        b.apply(&add(3, Side::Bid, 99, 1)).unwrap();
        b.apply(&add(4, Side::Ask, 102, 2)).unwrap();
        b.apply(&add(5, Side::Ask, 101, 3)).unwrap();
        let book = b.book(InstrumentIdx(1)).unwrap();
        let bids: Vec<_> = book
            .levels(Side::Bid)
            .map(|l| (l.px.0, l.qty.0, l.orders))
            .collect();
        let asks: Vec<_> = book
            .levels(Side::Ask)
            .map(|l| (l.px.0, l.qty.0, l.orders))
            .collect();
        assert_eq!(bids, vec![(100, 12, 2), (99, 1, 1)]);
        assert_eq!(asks, vec![(101, 3, 1), (102, 2, 1)]);
    }

    #[test]
    fn an_order_is_named_by_its_instrument_and_id() {
        let mut b = L3Books::new();
        b.apply(&add(1, Side::Bid, 100, 500)).unwrap();
        let before = (b.top(InstrumentIdx(1)), b.order(OrderId(1)));
        // The same id under instrument 2 (a corrupted locate): unknown there, nothing changes.
        for body in [
            Body::Execute {
                order_id: OrderId(1),
                qty: Qty(200),
            },
            Body::ExecuteAtPx {
                order_id: OrderId(1),
                qty: Qty(200),
                px: Px(99),
                printable: true,
            },
            Body::Reduce {
                order_id: OrderId(1),
                qty: Qty(100),
            },
            Body::Delete {
                order_id: OrderId(1),
            },
            Body::Replace {
                old_id: OrderId(1),
                new_id: OrderId(2),
                px: Px(101),
                qty: 50,
            },
        ] {
            assert_eq!(
                b.apply(&ev(2, body)),
                Err(BookError::UnknownOrder(1)),
                "{body:?}"
            );
            assert_eq!((b.top(InstrumentIdx(1)), b.order(OrderId(1))), before);
        }
        assert_eq!(b.top(InstrumentIdx(2)), Top::default());
        // Orders that left the window for the overflow map follow the same rule.
        let mut b = L3Books::with_capacity(4, 4, 16);
        b.apply(&add(1, Side::Bid, 100, 500)).unwrap();
        b.apply(&add(1000, Side::Ask, 105, 5)).unwrap();
        assert_eq!(
            b.apply(&ev(
                2,
                Body::Delete {
                    order_id: OrderId(1)
                }
            )),
            Err(BookError::UnknownOrder(1))
        );
        assert!(b
            .apply(&ev(
                1,
                Body::Delete {
                    order_id: OrderId(1)
                }
            ))
            .is_ok());
        assert_eq!(b.top(InstrumentIdx(1)).bid, None);
    }

    #[test]
    fn execute_cancel_delete_replace_per_spec() {
        let mut b = L3Books::new();
        b.apply(&add(1, Side::Bid, 100, 500)).unwrap();
        // E: executes 200 of 500 at the order's price.
        let a = b
            .apply(&ev(
                1,
                Body::Execute {
                    order_id: OrderId(1),
                    qty: Qty(200),
                },
            ))
            .unwrap()
            .unwrap();
        assert_eq!(a.px, Px(100));
        assert!(a.touched_top);
        assert_eq!(b.order(OrderId(1)).unwrap().3, Qty(300));
        // X: partial cancel of 100.
        b.apply(&ev(
            1,
            Body::Reduce {
                order_id: OrderId(1),
                qty: Qty(100),
            },
        ))
        .unwrap();
        assert_eq!(b.top(InstrumentIdx(1)).bid.unwrap().qty, Qty(200));
        // U: replace with new ref, new price, new size; same side.
        b.apply(&ev(
            1,
            Body::Replace {
                old_id: OrderId(1),
                new_id: OrderId(9),
                px: Px(101),
                qty: 50,
            },
        ))
        .unwrap();
        assert!(b.order(OrderId(1)).is_none());
        assert_eq!(
            b.order(OrderId(9)),
            Some((InstrumentIdx(1), Side::Bid, Px(101), Qty(50)))
        );
        assert_eq!(b.book(InstrumentIdx(1)).unwrap().depth(Side::Bid), 1);
        // C executes the remaining 50 in full: the order and its level leave.
        b.apply(&ev(
            1,
            Body::ExecuteAtPx {
                order_id: OrderId(9),
                qty: Qty(50),
                px: Px(99),
                printable: true,
            },
        ))
        .unwrap();
        assert_eq!(b.top(InstrumentIdx(1)), Top::default());
        assert!(b.orders().is_empty());
    }

    #[test]
    fn bad_events_are_errors_not_panics() {
        let mut b = L3Books::new();
        assert_eq!(
            b.apply(&ev(
                1,
                Body::Delete {
                    order_id: OrderId(5)
                }
            )),
            Err(BookError::UnknownOrder(5))
        );
        b.apply(&add(5, Side::Ask, 10, 10)).unwrap();
        assert_eq!(
            b.apply(&add(5, Side::Ask, 11, 1)),
            Err(BookError::DuplicateOrder(5))
        );
        assert_eq!(
            b.apply(&ev(
                1,
                Body::Execute {
                    order_id: OrderId(5),
                    qty: Qty(11)
                }
            )),
            Err(BookError::Overfill {
                order_id: 5,
                asked: 11,
                remaining: 10
            })
        );
        assert!(b.orders().is_empty(), "an overfilled order is removed");
        assert_eq!(b.top(InstrumentIdx(1)), Top::default());
        let far = ev(
            MAX_INSTRUMENTS,
            Body::Add {
                order_id: OrderId(1),
                side: Side::Bid,
                px: Px(1),
                qty: Qty(1),
            },
        );
        assert_eq!(
            b.apply(&far),
            Err(BookError::InstrumentOutOfRange(MAX_INSTRUMENTS))
        );
    }

    #[test]
    fn huge_and_sparse_ids_work() {
        let mut b = L3Books::new();
        for (i, id) in [0u64, 1 << 20, 1 << 40, u64::MAX].into_iter().enumerate() {
            b.apply(&add(id, Side::Bid, 100 + i as i64, 1)).unwrap();
        }
        assert_eq!(b.orders().len(), 4);
        assert_eq!(b.order(OrderId(u64::MAX)).unwrap().2, Px(103));
        b.apply(&ev(
            1,
            Body::Delete {
                order_id: OrderId(1 << 40),
            },
        ))
        .unwrap();
        assert!(b.order(OrderId(1 << 40)).is_none());
        assert_eq!(b.orders().len(), 3);
    }

    #[test]
    fn reset_gives_the_state_of_a_fresh_book_set() {
        // Enough orders to make a 16-order table grow twice, one left resting in a book.
        let mut b = L3Books::with_capacity(2, 4, 0);
        b.apply(&add(1000, Side::Bid, 50, 7)).unwrap();
        for id in 1001..1040u64 {
            b.apply(&add(id, Side::Ask, 60 + (id % 5) as i64, 1))
                .unwrap();
        }
        assert_eq!((b.orders().capacity(), b.orders().grows()), (64, 2));
        b.reset();
        assert_eq!(b.orders().len(), 0);
        assert_eq!(b.orders().capacity(), 64, "reset keeps the memory");
        assert_eq!(b.top(InstrumentIdx(1)), Top::default());
        assert_eq!(b.next_prio(), 0);
        for id in [1000u64, 1001, 1039] {
            assert_eq!(b.order(OrderId(id)), None, "id {id} survived the reset");
        }
        // The same ids again, and new ones: as a new set.
        let mut fresh = L3Books::with_capacity(2, 4, 0);
        for books in [&mut b, &mut fresh] {
            books.apply(&add(5, Side::Bid, 40, 3)).unwrap();
            books.apply(&add(1001, Side::Ask, 41, 2)).unwrap();
        }
        assert_eq!(b.top(InstrumentIdx(1)), fresh.top(InstrumentIdx(1)));
        assert_eq!(b.resting(OrderId(5)), fresh.resting(OrderId(5)));
        assert_eq!(b.resting(OrderId(1001)), fresh.resting(OrderId(1001)));
        assert_eq!(b.orders().len(), 2);
    }

    #[test]
    fn reset_of_a_full_table_clears_the_whole_index() {
        let mut b = L3Books::with_capacity(2, 4, 0);
        for id in 0..16u64 {
            b.apply(&add(id << 40, Side::Bid, 50, 1)).unwrap();
        }
        b.reset();
        assert!(b.orders().is_empty());
        for id in 0..16u64 {
            assert_eq!(b.order(OrderId(id << 40)), None);
            b.apply(&add(id << 40, Side::Ask, 60, 2)).unwrap();
        }
        assert_eq!(b.top(InstrumentIdx(1)).ask.unwrap().qty, Qty(32));
        assert_eq!(b.orders().grows(), 0);
    }

    #[test]
    fn long_lived_orders_survive_millions_of_newer_ids() {
        let mut b = L3Books::with_capacity(2, 4, 0);
        b.apply(&add(1000, Side::Bid, 50, 7)).unwrap(); // long-lived
        for id in 1001..200_000u64 {
            b.apply(&add(id, Side::Ask, 60 + (id % 5) as i64, 1))
                .unwrap();
            b.apply(&ev(
                1,
                Body::Delete {
                    order_id: OrderId(id),
                },
            ))
            .unwrap();
        }
        assert_eq!(b.orders().grows(), 0, "never more than two orders rested");
        assert_eq!(
            b.order(OrderId(1000)),
            Some((InstrumentIdx(1), Side::Bid, Px(50), Qty(7)))
        );
        b.apply(&ev(
            1,
            Body::Execute {
                order_id: OrderId(1000),
                qty: Qty(2),
            },
        ))
        .unwrap();
        assert_eq!(b.top(InstrumentIdx(1)).bid.unwrap().qty, Qty(5));
        // An id far below the others and a duplicate of the old one.
        b.apply(&add(3, Side::Bid, 49, 1)).unwrap();
        assert_eq!(
            b.apply(&add(1000, Side::Bid, 49, 1)),
            Err(BookError::DuplicateOrder(1000))
        );
        b.apply(&ev(
            1,
            Body::Delete {
                order_id: OrderId(1000),
            },
        ))
        .unwrap();
        b.apply(&ev(
            1,
            Body::Delete {
                order_id: OrderId(3),
            },
        ))
        .unwrap();
        assert!(b.orders().is_empty());
    }

    #[test]
    fn clear_empties_one_instrument_only() {
        let mut b = L3Books::new();
        b.apply(&add(1, Side::Bid, 100, 5)).unwrap();
        b.apply(&ev(
            2,
            Body::Add {
                order_id: OrderId(2),
                side: Side::Ask,
                px: Px(7),
                qty: Qty(1),
            },
        ))
        .unwrap();
        b.apply(&ev(1, Body::Clear)).unwrap();
        assert_eq!(b.top(InstrumentIdx(1)), Top::default());
        assert!(b.order(OrderId(1)).is_none());
        assert_eq!(b.top(InstrumentIdx(2)).ask.unwrap().px, Px(7));
    }

    #[test]
    fn deep_levels_use_the_binary_search_path() {
        let mut b = L3Books::new();
        // 40 bid levels, inserted out of order, then hit one deep in the book.
        for i in 0..40u64 {
            let px = ((i * 17) % 40) as i64 + 1000;
            b.apply(&add(i + 1, Side::Bid, px, 10)).unwrap();
        }
        b.apply(&add(100, Side::Bid, 1003, 5)).unwrap();
        let book = b.book(InstrumentIdx(1)).unwrap();
        let pxs: Vec<i64> = book.levels(Side::Bid).map(|l| l.px.0).collect();
        let want: Vec<i64> = (1000..1040).rev().collect();
        assert_eq!(pxs, want);
        let l = book.levels(Side::Bid).find(|l| l.px == Px(1003)).unwrap();
        assert_eq!((l.qty, l.orders), (Qty(15), 2));
    }

    /// How the ids of a generated order stream are spread.
    #[derive(Clone, Copy, Debug)]
    enum Ids {
        /// A day-wide counter: dense, near one another.
        Dense,
        /// Any 64-bit value.
        Sparse,
        /// Small numbers used over and over (ids restarting every trading day).
        Restarting,
        /// Multiples of 2^40: the low bits never vary.
        Strided,
    }

    impl Ids {
        fn id(self, raw: u64) -> u64 {
            match self {
                Ids::Dense => 5_000_000 + raw % 600,
                Ids::Sparse => raw,
                Ids::Restarting => raw % 40,
                Ids::Strided => (raw % 600) << 40,
            }
        }
    }

    #[derive(Clone, Debug)]
    enum TableOp {
        /// Insert (raw id, instrument, quantity).
        Insert(u64, u32, u64),
        /// Take (id, pick a resting id?, instrument, quantity).
        Take(u64, bool, u32, u64),
        /// Remove (id, pick a resting id?, instrument).
        Remove(u64, bool, u32),
        /// Remove every order of an instrument.
        RemoveInstrument(u32),
        /// Empty the table.
        Reset,
    }

    fn table_op() -> impl Strategy<Value = TableOp> {
        prop_oneof![
            8 => (any::<u64>(), 0u32..3, 1u64..50).prop_map(|(i, n, q)| TableOp::Insert(i, n, q)),
            4 => (any::<u64>(), any::<bool>(), 0u32..3, 1u64..60).prop_map(|(i, p, n, q)| TableOp::Take(i, p, n, q)),
            4 => (any::<u64>(), any::<bool>(), 0u32..3).prop_map(|(i, p, n)| TableOp::Remove(i, p, n)),
            1 => (0u32..3).prop_map(TableOp::RemoveInstrument),
            1 => Just(TableOp::Reset),
        ]
    }

    fn ids() -> impl Strategy<Value = Ids> {
        prop_oneof![
            Just(Ids::Dense),
            Just(Ids::Sparse),
            Just(Ids::Restarting),
            Just(Ids::Strided)
        ]
    }

    /// What the model keeps of an order: (instrument, side, px, qty, prio).
    type ModelOrder = (u32, Side, i64, u64, u64);

    fn seen(s: Slot) -> ModelOrder {
        (s.instr, s.side, s.px.0, s.qty.0, s.prio)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(192))]

        /// The order table holds exactly what a `BTreeMap` holds under random inserts, takes,
        /// removes, instrument clears and resets, whatever the spread of the ids, while it grows
        /// from 16 orders and its index clusters shift on every removal.
        #[test]
        fn order_table_matches_a_map(ids in ids(), ops in proptest::collection::vec(table_op(), 1..1500)) {
            let mut t = OrderTable::with_capacity(16);
            let mut m: BTreeMap<u64, ModelOrder> = BTreeMap::new();
            let pick = |m: &BTreeMap<u64, ModelOrder>, raw: u64, resting: bool| {
                if resting && !m.is_empty() {
                    *m.keys().nth(raw as usize % m.len()).unwrap()
                } else {
                    ids.id(raw)
                }
            };
            for (n, op) in ops.into_iter().enumerate() {
                let touched = match op {
                    TableOp::Insert(raw, instr, qty) => {
                        let id = ids.id(raw);
                        let side = if raw & 1 == 0 { Side::Bid } else { Side::Ask };
                        let px = (raw % 97) as i64;
                        let slot = Slot { id, px: Px(px), qty: Qty(qty), prio: n as u64, instr, side };
                        let fresh = !m.contains_key(&id);
                        prop_assert_eq!(t.insert(slot), fresh);
                        if fresh {
                            m.insert(id, (instr, side, px, qty, n as u64));
                        }
                        Some(id)
                    }
                    TableOp::Take(raw, resting, instr, qty) => {
                        let id = pick(&m, raw, resting);
                        let want = m.get(&id).copied().filter(|o| o.0 == instr);
                        prop_assert_eq!(t.take(id, instr, qty).map(seen), want);
                        if let Some(o) = want {
                            if qty < o.3 {
                                m.insert(id, (o.0, o.1, o.2, o.3 - qty, o.4));
                            } else {
                                m.remove(&id);
                            }
                        }
                        Some(id)
                    }
                    TableOp::Remove(raw, resting, instr) => {
                        let id = pick(&m, raw, resting);
                        let want = m.get(&id).copied().filter(|o| o.0 == instr);
                        prop_assert_eq!(t.remove(id, instr).map(seen), want);
                        if want.is_some() {
                            m.remove(&id);
                        }
                        Some(id)
                    }
                    TableOp::RemoveInstrument(instr) => {
                        t.remove_instrument(instr);
                        m.retain(|_, o| o.0 != instr);
                        None
                    }
                    TableOp::Reset => {
                        t.reset();
                        m.clear();
                        None
                    }
                };
                prop_assert_eq!(t.len(), m.len() as u64);
                if let Some(id) = touched {
                    prop_assert_eq!(t.get(id).map(seen), m.get(&id).copied());
                }
                prop_assert!(t.len() as usize <= t.capacity());
            }
            for (&id, &o) in &m {
                prop_assert_eq!(t.get(id).map(seen), Some(o));
            }
            for raw in 0..64u64 {
                let id = ids.id(raw.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                prop_assert_eq!(t.get(id).map(seen), m.get(&id).copied());
            }
        }
    }

    /// A naive reference: every order in a map; levels recomputed from scratch.
    #[derive(Default)]
    struct Naive {
        orders: BTreeMap<u64, (Side, i64, u64)>,
    }
    impl Naive {
        fn levels(&self, side: Side) -> Vec<(i64, u64, u32)> {
            let mut m: BTreeMap<i64, (u64, u32)> = BTreeMap::new();
            for &(s, px, q) in self.orders.values() {
                if s == side {
                    let e = m.entry(px).or_default();
                    e.0 += q;
                    e.1 += 1;
                }
            }
            let mut v: Vec<_> = m.into_iter().map(|(p, (q, n))| (p, q, n)).collect();
            if side == Side::Bid {
                v.reverse();
            }
            v
        }
    }

    #[derive(Clone, Debug)]
    enum Op {
        Add(Side, i64, u64),
        Reduce(usize, u64),
        Delete(usize),
        Replace(usize, i64, u32),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<bool>(), 0i64..30, 1u64..1000).prop_map(|(b, d, q)| Op::Add(if b { Side::Bid } else { Side::Ask }, d, q)),
            2 => (any::<usize>(), 1u64..1200).prop_map(|(i, q)| Op::Reduce(i, q)),
            2 => any::<usize>().prop_map(Op::Delete),
            1 => (any::<usize>(), 0i64..30, 1u32..1000).prop_map(|(i, d, q)| Op::Replace(i, d, q)),
        ]
    }

    proptest! {
        /// A consistent stream (adds never cross) keeps the book uncrossed, every level's qty and
        /// count equal to the sum over its orders, and matches a naive recomputation.
        #[test]
        fn book_matches_naive_and_never_crosses(ops in proptest::collection::vec(op(), 1..400), window_bits in 4u32..8) {
            // A tiny order window makes it slide constantly, so the overflow path is exercised.
            let mut b = L3Books::with_capacity(2, window_bits, 0);
            let mut n = Naive::default();
            let mut live: Vec<u64> = Vec::new();
            let mut next_id = 1u64;
            let instr = InstrumentIdx(1);
            for o in ops {
                match o {
                    Op::Add(side, d, q) => {
                        // Bids at 1000-d, asks at 1001+d: never crossed by construction.
                        let px = if side == Side::Bid { 1000 - d } else { 1001 + d };
                        b.apply(&add(next_id, side, px, q)).unwrap();
                        n.orders.insert(next_id, (side, px, q));
                        live.push(next_id);
                        next_id += 1;
                    }
                    Op::Reduce(i, q) if !live.is_empty() => {
                        let id = live[i % live.len()];
                        let (s, px, rem) = n.orders[&id];
                        let r = b.apply(&ev(1, Body::Reduce { order_id: OrderId(id), qty: Qty(q) }));
                        if q >= rem {
                            n.orders.remove(&id);
                            live.retain(|&x| x != id);
                            prop_assert_eq!(r.is_err(), q > rem);
                        } else {
                            n.orders.insert(id, (s, px, rem - q));
                            prop_assert!(r.is_ok());
                        }
                    }
                    Op::Delete(i) if !live.is_empty() => {
                        let id = live.swap_remove(i % live.len());
                        b.apply(&ev(1, Body::Delete { order_id: OrderId(id) })).unwrap();
                        n.orders.remove(&id);
                    }
                    Op::Replace(i, d, q) if !live.is_empty() => {
                        let k = i % live.len();
                        let id = live[k];
                        let (s, _, _) = n.orders[&id];
                        let px = if s == Side::Bid { 1000 - d } else { 1001 + d };
                        b.apply(&ev(1, Body::Replace { old_id: OrderId(id), new_id: OrderId(next_id), px: Px(px), qty: q })).unwrap();
                        n.orders.remove(&id);
                        n.orders.insert(next_id, (s, px, u64::from(q)));
                        live[k] = next_id;
                        next_id += 1;
                    }
                    _ => {}
                }
                let Some(book) = b.book(instr) else { continue };
                for side in [Side::Bid, Side::Ask] {
                    let got: Vec<_> = book.levels(side).map(|l| (l.px.0, l.qty.0, l.orders)).collect();
                    prop_assert_eq!(got, n.levels(side));
                }
                let t = b.top(instr);
                if let (Some(bid), Some(ask)) = (t.bid, t.ask) {
                    prop_assert!(bid.px < ask.px, "crossed: {:?}", t);
                }
                prop_assert_eq!(b.orders().len(), n.orders.len() as u64);
            }
        }

        /// Add then delete restores the book exactly.
        #[test]
        fn add_then_delete_restores(base in proptest::collection::vec((any::<bool>(), 0i64..20, 1u64..100), 0..50),
                                    extra in (any::<bool>(), 0i64..20, 1u64..100)) {
            let mut b = L3Books::new();
            for (i, &(bid, d, q)) in base.iter().enumerate() {
                let side = if bid { Side::Bid } else { Side::Ask };
                let px = if bid { 1000 - d } else { 1001 + d };
                b.apply(&add(i as u64 + 1, side, px, q)).unwrap();
            }
            let snapshot = |b: &L3Books| -> Vec<Vec<Level>> {
                let book = b.book(InstrumentIdx(1)).cloned().unwrap_or_default();
                [Side::Bid, Side::Ask].iter().map(|&s| book.levels(s).copied().collect()).collect()
            };
            let before = snapshot(&b);
            let (bid, d, q) = extra;
            let side = if bid { Side::Bid } else { Side::Ask };
            let px = if bid { 1000 - d } else { 1001 + d };
            b.apply(&add(10_000, side, px, q)).unwrap();
            b.apply(&ev(1, Body::Delete { order_id: OrderId(10_000) })).unwrap();
            prop_assert_eq!(snapshot(&b), before);
        }
    }
}
