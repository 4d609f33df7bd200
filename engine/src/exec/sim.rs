//! The simulated exchange: a strategy's orders matched against the replayed book.
//!
//! One [`ExecSim`] serves the instruments of one book stage. For each event of an instrument,
//! the stage calls, in this order:
//! 1. [`ExecSim::before_event`]: actions that reached the exchange by the event's exchange
//!    time are handled against the book as it stood (taker orders walk it; post-only orders
//!    that would cross are rejected; resting orders join the back of their level), then the
//!    event itself moves the queues of the resting simulated orders and fills them when the
//!    market reaches them;
//! 2. the book applies the event;
//! 3. [`ExecSim::deliver`]: answers whose response latency has passed by the event's local
//!    time go to the strategy;
//! 4. the strategy's hooks run and their actions go to [`ExecSim::submit`], stamped with the
//!    local time plus the entry latency.
//!
//! The replayed market data is never changed by simulated orders (they are not really in the
//! market). So that the same liquidity never fills twice, what simulated taker orders take from
//! a level is remembered and subtracted from what later ones can take there, until the level
//! shrinks below it; and one execution in the data fills simulated resting orders for at most
//! its own quantity.

use super::fees::Fees;
use super::latency::{ActionKind, Latency, LatencyModel};
use super::queue::{QueueKind, QueueModel, QueuePos};
use super::{Fill, Liquidity, OrderStatus, OrderUpdate, RejectReason};
use crate::action::{Action, OrderIntent, Tif};
use crate::book::{Book, L3Books, LevelView};
use crate::event::{Body, Event};
use crate::{InstrumentIdx, Nanos, Px, Qty, Side};

/// Working orders an instrument may have at once; more are rejected
/// ([`RejectReason::TooManyOrders`]).
pub const MAX_WORKING: usize = 64;

/// How the simulator behaves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SimConfig {
    /// Order entry and response latency.
    pub latency: Latency,
    /// Queue-position model for resting orders.
    pub queue: QueueKind,
    /// Fees.
    pub fees: Fees,
    /// For data without receive times (`ts_recv == 0`, e.g. an ITCH file): how long after the
    /// exchange time the strategy sees an event, ns. Data with receive times uses them.
    pub feed_latency: u64,
}

/// What the simulator reports, at an exchange time, for the digest, the ledger and the trade
/// log (the strategy gets [`OrderUpdate`]s later, after the response latency).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SimOut {
    /// A fill.
    Fill(Fill),
    /// Any other status change of an order (accepted, modified, cancelled, rejected).
    Status {
        /// The order.
        client_id: u64,
        /// What happened.
        status: OrderStatus,
        /// Its side.
        side: Side,
        /// Quantity still working after it.
        leaves: Qty,
    },
}

/// One change of price-level (L2) market data, as the simulator takes it: before the book
/// applies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L2Change {
    /// The size at `px` on `side` goes from `before` to `after` lots (0: no level).
    Level {
        /// The level's side.
        side: Side,
        /// Its price.
        px: Px,
        /// Size before the change.
        before: u64,
        /// Size after it.
        after: u64,
    },
    /// `qty` traded at `px` against resting liquidity on `resting` (a sell aggressor hits
    /// [`Side::Bid`]).
    Trade {
        /// Trade price.
        px: Px,
        /// Trade size.
        qty: u64,
        /// Side of the resting (maker) order.
        resting: Side,
    },
}

/// Order counters over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimCounts {
    /// New orders sent by the strategy.
    pub submitted: u64,
    /// Their total quantity, plus what modifies added to working orders.
    pub submitted_qty: u64,
    /// New orders the exchange accepted.
    pub accepted: u64,
    /// Actions refused (new orders, cancels and modifies).
    pub rejected: u64,
    /// Orders that left unfilled or partly filled (cancels, unfilled IOC/market remainders).
    pub cancelled: u64,
    /// Orders filled completely.
    pub filled: u64,
    /// Fills that left part of the order working.
    pub partial_fills: u64,
    /// Fills.
    pub fills: u64,
    /// Quantity filled.
    pub filled_qty: u64,
    /// Cancels sent.
    pub cancels: u64,
    /// Modifies sent.
    pub modifies: u64,
    /// Answers delivered to the strategy.
    pub delivered: u64,
}

#[derive(Clone, Copy, Debug)]
struct Working {
    client_id: u64,
    side: Side,
    px: Px,
    tif: Tif,
    leaves: u64,
    filled: u64,
    /// Book priority when it joined its level (FIFO model): orders with a lower one are ahead.
    join_prio: u64,
    queue: QueuePos,
    joined_at: u64,
    /// L2 data: quantity traded at the order's level since the level's size last changed, so
    /// that the size change a trade causes is not taken for cancels as well.
    traded: u64,
}

#[derive(Clone, Copy, Debug)]
enum Pending {
    New(OrderIntent),
    Cancel(u64),
    Modify { client_id: u64, px: Px, qty: Qty },
}

#[derive(Clone, Debug, Default)]
struct InstrSim {
    working: Vec<Working>,
    /// `(arrives at the exchange, submission number, action)`.
    pending: Vec<(u64, u64, Pending)>,
    /// `(delivered at local time, number, update)`.
    responses: Vec<(u64, u64, OrderUpdate)>,
    /// Liquidity taken by simulated taker orders: `(side of the level, price, lots)`.
    taken: Vec<(Side, Px, u64)>,
    /// The position as the strategy knows it (from delivered fills).
    position: i64,
    seq: u64,
}

impl InstrSim {
    fn new() -> Self {
        InstrSim {
            working: Vec::with_capacity(MAX_WORKING),
            pending: Vec::with_capacity(MAX_WORKING),
            responses: Vec::with_capacity(4 * MAX_WORKING),
            taken: Vec::with_capacity(16),
            position: 0,
            seq: 0,
        }
    }
    fn is_idle(&self) -> bool {
        self.working.is_empty() && self.pending.is_empty()
    }
    fn reset(&mut self) {
        self.working.clear();
        self.pending.clear();
        self.responses.clear();
        self.taken.clear();
        self.position = 0;
        self.seq = 0;
    }
}

/// The simulated exchange for the instruments of one book stage.
pub struct ExecSim {
    cfg: SimConfig,
    instr: Vec<InstrSim>,
    /// Order counters.
    pub counts: SimCounts,
}

/// Index of the entry due by `now` with the earliest `(time, number)`: time order, ties in the
/// order the entries were made.
#[inline]
fn earliest_due<T>(v: &[(u64, u64, T)], now: u64) -> Option<usize> {
    let mut best: Option<(u64, u64, usize)> = None;
    for (i, e) in v.iter().enumerate() {
        if e.0 <= now && best.is_none_or(|b| (e.0, e.1) < (b.0, b.1)) {
            best = Some((e.0, e.1, i));
        }
    }
    best.map(|b| b.2)
}

/// Whether `a` is a strictly better price than `b` for a resting order on `side`.
#[inline]
fn better(side: Side, a: Px, b: Px) -> bool {
    match side {
        Side::Bid => a > b,
        Side::Ask => a < b,
    }
}

/// Whether a `side` order at `px` trades against a resting price `level` of the other side.
#[inline]
fn crosses(side: Side, px: Px, level: Px) -> bool {
    match side {
        Side::Bid => px >= level,
        Side::Ask => px <= level,
    }
}

impl ExecSim {
    /// A simulator with `cfg`.
    pub fn new(cfg: SimConfig) -> Self {
        ExecSim {
            cfg,
            instr: Vec::new(),
            counts: SimCounts::default(),
        }
    }

    /// Forgets every order, answer and counter, keeping the memory: the state of a new
    /// simulator with the same configuration.
    pub fn reset(&mut self) {
        for st in &mut self.instr {
            st.reset();
        }
        self.counts = SimCounts::default();
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The local time at which the strategy sees `ev`: its receive time when it has one,
    /// else its exchange time plus the configured feed latency.
    #[inline]
    pub fn local_time(&self, ev: &Event) -> u64 {
        if ev.hdr.ts_recv.0 != 0 {
            ev.hdr.ts_recv.0
        } else {
            ev.hdr.ts_exch.0 + self.cfg.feed_latency
        }
    }

    /// The position of `instr` as the strategy knows it (fills delivered so far).
    #[inline]
    pub fn position(&self, instr: InstrumentIdx) -> i64 {
        self.instr.get(instr.get()).map_or(0, |s| s.position)
    }

    /// Simulated orders of `instr` resting at the exchange now.
    pub fn working(&self, instr: InstrumentIdx) -> usize {
        self.instr.get(instr.get()).map_or(0, |s| s.working.len())
    }

    /// Whether `instr` has anything in flight or resting (the stage's fast path skips the
    /// simulator otherwise).
    #[inline]
    pub fn is_busy(&self, instr: InstrumentIdx) -> bool {
        self.instr.get(instr.get()).is_some_and(|s| !s.is_idle())
    }

    /// Whether `instr` has answers waiting for the strategy.
    #[inline]
    pub fn has_responses(&self, instr: InstrumentIdx) -> bool {
        self.instr
            .get(instr.get())
            .is_some_and(|s| !s.responses.is_empty())
    }

    fn state(&mut self, instr: InstrumentIdx) -> &mut InstrSim {
        let i = instr.get();
        if self.instr.len() <= i {
            self.instr.resize_with(i + 1, InstrSim::new);
        }
        &mut self.instr[i]
    }

    /// Takes a strategy action sent at local time `now` for `instr` (signals are not ours).
    pub fn submit(&mut self, instr: InstrumentIdx, now: u64, action: &Action) {
        let (p, kind) = match *action {
            Action::Signal(_) => return,
            Action::Order(o) => {
                self.counts.submitted += 1;
                self.counts.submitted_qty += o.qty.0;
                (Pending::New(o), ActionKind::New)
            }
            Action::Cancel { client_id } => {
                self.counts.cancels += 1;
                (Pending::Cancel(client_id), ActionKind::Cancel)
            }
            Action::Modify { client_id, px, qty } => {
                self.counts.modifies += 1;
                (Pending::Modify { client_id, px, qty }, ActionKind::Modify)
            }
        };
        let arrive = now + self.cfg.latency.entry(Nanos(now), kind);
        let st = self.state(instr);
        st.seq += 1;
        let n = st.seq;
        st.pending.push((arrive, n, p));
    }

    /// Hands the strategy every answer for `instr` due by local time `now`, in order, with the
    /// position the strategy knows once it has the answer.
    pub fn deliver(
        &mut self,
        instr: InstrumentIdx,
        now: u64,
        mut f: impl FnMut(&OrderUpdate, i64),
    ) {
        let Some(st) = self.instr.get_mut(instr.get()) else {
            return;
        };
        while let Some(i) = earliest_due(&st.responses, now) {
            let (_, _, u) = st.responses.swap_remove(i);
            if u.last_qty.0 > 0 {
                let q = u.last_qty.0 as i64;
                st.position += if u.side == Side::Bid { q } else { -q };
            }
            self.counts.delivered += 1;
            f(&u, st.position);
        }
    }

    /// Handles what reached the exchange by `ev`'s exchange time, then `ev`'s effect on the
    /// simulated resting orders, against `books` as they stand before `ev` is applied. Reports
    /// go to `emit` with the exchange time they happened at.
    #[inline]
    pub fn before_event(
        &mut self,
        ev: &Event,
        books: &L3Books,
        emit: &mut impl FnMut(Nanos, SimOut),
    ) {
        let instr = ev.hdr.instr;
        let Some(st) = self.instr.get_mut(instr.get()) else {
            return;
        };
        if st.is_idle() {
            return;
        }
        let empty = Book::default();
        let book = books.book(instr).unwrap_or(&empty);
        let now = ev.hdr.ts_exch.0;
        if !st.pending.is_empty() {
            Self::arrivals(
                &self.cfg,
                &mut self.counts,
                st,
                book,
                books.next_prio(),
                now,
                emit,
            );
        }
        if !st.working.is_empty() {
            Self::market_event(&self.cfg, &mut self.counts, st, ev, books, emit);
        }
    }

    /// L2 data: handles the actions of `instr` that reached the exchange by `at` against `book`
    /// as it stands (before the next market-data change is applied): call it before each
    /// message (depth update, trade) of the instrument. Reports go to `emit`.
    pub fn l2_arrivals<B: LevelView>(
        &mut self,
        instr: InstrumentIdx,
        at: u64,
        book: &B,
        emit: &mut impl FnMut(Nanos, SimOut),
    ) {
        let Some(st) = self.instr.get_mut(instr.get()) else {
            return;
        };
        if st.pending.is_empty() {
            return;
        }
        // L2 data has no order priorities: ours are numbered in the order they join.
        let prio = st.seq;
        Self::arrivals(&self.cfg, &mut self.counts, st, book, prio, at, emit);
    }

    /// L2 data: how `change` (at exchange time `at`, not yet applied to the book) moves the
    /// queues of `instr`'s resting simulated orders, and the fills it causes:
    /// - a trade at an order's price advances its queue by the traded size and fills it with
    ///   what is left once the quantity ahead is used up (both L2 models); orders priced
    ///   better than the trade fill first; one trade fills at most its own size in all;
    /// - a level that shrinks advances the queue of our orders there as the model says (the
    ///   conservative model only caps the quantity ahead at the new size; the probabilistic
    ///   one takes part of the cut as cancels ahead of us), after subtracting what trades at
    ///   that level already took since its last change, so no size is counted twice;
    /// - size arriving on the other side at or through an order's price is an aggressor that
    ///   would have traded with it first: it fills our orders there, best price first.
    ///
    /// FIFO needs order-by-order data; the L2 replays refuse it (here it would act as the
    /// conservative model).
    pub fn l2_change(
        &mut self,
        instr: InstrumentIdx,
        at: u64,
        change: L2Change,
        emit: &mut impl FnMut(Nanos, SimOut),
    ) {
        let Some(st) = self.instr.get_mut(instr.get()) else {
            return;
        };
        if st.working.is_empty() {
            return;
        }
        let mut ctx = Exch {
            cfg: &self.cfg,
            counts: &mut self.counts,
            st,
            at,
            emit,
        };
        match change {
            L2Change::Level {
                side,
                px,
                before,
                after,
            } => {
                ctx.l2_depth(side, px, before, after);
                if after > before {
                    ctx.aggressor(side.opposite(), px, after - before);
                }
            }
            L2Change::Trade { px, qty, resting } => {
                for w in ctx.st.working.iter_mut() {
                    if w.side == resting && w.px == px {
                        w.traded = w.traded.saturating_add(qty);
                    }
                }
                ctx.executed(resting, px, qty, u64::MAX);
            }
        }
    }

    /// Every pending action that arrived by `now`, in arrival order.
    fn arrivals<B: LevelView>(
        cfg: &SimConfig,
        counts: &mut SimCounts,
        st: &mut InstrSim,
        book: &B,
        next_prio: u64,
        now: u64,
        emit: &mut impl FnMut(Nanos, SimOut),
    ) {
        while let Some(i) = earliest_due(&st.pending, now) {
            let (at, _, p) = st.pending.remove(i);
            let mut ctx = Exch {
                cfg,
                counts,
                st,
                at,
                emit,
            };
            match p {
                Pending::New(o) => ctx.new_order(book, next_prio, o),
                Pending::Cancel(id) => ctx.cancel(id),
                Pending::Modify { client_id, px, qty } => {
                    ctx.modify(book, next_prio, client_id, px, qty)
                }
            }
        }
    }

    /// How `ev` moves the queues of the resting simulated orders, and the fills it causes.
    fn market_event(
        cfg: &SimConfig,
        counts: &mut SimCounts,
        st: &mut InstrSim,
        ev: &Event,
        books: &L3Books,
        emit: &mut impl FnMut(Nanos, SimOut),
    ) {
        let at = ev.hdr.ts_exch.0;
        let book = books.book(ev.hdr.instr);
        let level_qty =
            |side: Side, px: Px| book.and_then(|b| b.level(side, px)).map_or(0, |l| l.qty.0);
        let mut ctx = Exch {
            cfg,
            counts,
            st,
            at,
            emit,
        };
        match ev.body {
            Body::Add { side, px, qty, .. } => {
                // Liquidity arriving on the other side at or through our price would have
                // traded with us first.
                ctx.aggressor(side.opposite(), px, qty.0);
            }
            Body::Replace {
                old_id, px, qty, ..
            } => {
                if let Some(r) = books.resting(old_id) {
                    ctx.removed(r.side, r.px, r.qty.0, r.prio, level_qty(r.side, r.px));
                    ctx.aggressor(r.side.opposite(), px, u64::from(qty));
                }
            }
            Body::Reduce { order_id, qty } => {
                if let Some(r) = books.resting(order_id) {
                    let q = qty.0.min(r.qty.0);
                    ctx.removed(r.side, r.px, q, r.prio, level_qty(r.side, r.px));
                }
            }
            Body::Delete { order_id } => {
                if let Some(r) = books.resting(order_id) {
                    ctx.removed(r.side, r.px, r.qty.0, r.prio, level_qty(r.side, r.px));
                }
            }
            Body::Execute { order_id, qty } | Body::ExecuteAtPx { order_id, qty, .. } => {
                if let Some(r) = books.resting(order_id) {
                    ctx.executed(r.side, r.px, qty.0.min(r.qty.0), r.prio);
                }
            }
            Body::Trade {
                px,
                qty,
                side: Some(side),
            } => {
                // A trade against a hidden order: displayed orders at its price rank ahead of
                // it, and any at a better price would have traded first.
                ctx.executed(side, px, qty.0, u64::MAX);
            }
            _ => {}
        }
    }
}

/// The exchange acting at time `at` on one instrument.
struct Exch<'a, F> {
    cfg: &'a SimConfig,
    counts: &'a mut SimCounts,
    st: &'a mut InstrSim,
    at: u64,
    emit: &'a mut F,
}

impl<F: FnMut(Nanos, SimOut)> Exch<'_, F> {
    fn respond(&mut self, u: OrderUpdate) {
        let deliver = self.at + self.cfg.latency.response(Nanos(self.at));
        self.st.seq += 1;
        self.st.responses.push((deliver, self.st.seq, u));
    }

    fn status(&mut self, w: &Working, status: OrderStatus, px: Option<Px>) {
        (self.emit)(
            Nanos(self.at),
            SimOut::Status {
                client_id: w.client_id,
                status,
                side: w.side,
                leaves: Qty(w.leaves),
            },
        );
        self.respond(OrderUpdate {
            client_id: w.client_id,
            status,
            side: w.side,
            px,
            last_px: Px(0),
            last_qty: Qty(0),
            liquidity: None,
            filled: Qty(w.filled),
            leaves: Qty(w.leaves),
            ts_exch: Nanos(self.at),
        });
        match status {
            OrderStatus::Rejected(_) => self.counts.rejected += 1,
            OrderStatus::Cancelled => self.counts.cancelled += 1,
            OrderStatus::Accepted => self.counts.accepted += 1,
            _ => {}
        }
    }

    fn reject(&mut self, client_id: u64, side: Side, px: Option<Px>, why: RejectReason) {
        let w = Working {
            client_id,
            side,
            px: px.unwrap_or_default(),
            tif: Tif::Ioc,
            leaves: 0,
            filled: 0,
            join_prio: 0,
            queue: QueuePos::default(),
            joined_at: 0,
            traded: 0,
        };
        self.status(&w, OrderStatus::Rejected(why), px);
    }

    /// Fills `w` for `qty` at `px`; updates it and reports.
    fn fill(&mut self, w: &mut Working, px: Px, qty: u64, liq: Liquidity, limit: Option<Px>) {
        w.leaves -= qty;
        w.filled += qty;
        let response = self.cfg.latency.response(Nanos(self.at));
        let queue_wait = match liq {
            Liquidity::Maker => self.at.saturating_sub(w.joined_at),
            Liquidity::Taker => 0,
        };
        (self.emit)(
            Nanos(self.at),
            SimOut::Fill(Fill {
                client_id: w.client_id,
                side: w.side,
                px,
                qty: Qty(qty),
                liquidity: liq,
                queue_wait,
                response: response.min(u64::from(u32::MAX)) as u32,
            }),
        );
        let status = if w.leaves == 0 {
            self.counts.filled += 1;
            OrderStatus::Filled
        } else {
            self.counts.partial_fills += 1;
            OrderStatus::PartiallyFilled
        };
        self.counts.fills += 1;
        self.counts.filled_qty += qty;
        self.respond(OrderUpdate {
            client_id: w.client_id,
            status,
            side: w.side,
            px: limit,
            last_px: px,
            last_qty: Qty(qty),
            liquidity: Some(liq),
            filled: Qty(w.filled),
            leaves: Qty(w.leaves),
            ts_exch: Nanos(self.at),
        });
    }

    /// Fills resting `w` for `qty` at its own price.
    fn maker_fill(&mut self, w: &mut Working, qty: u64) {
        let px = w.px;
        self.fill(w, px, qty, Liquidity::Maker, Some(px));
    }

    /// What simulated taker orders may still take at a level holding `level_qty`.
    fn available(&mut self, side: Side, px: Px, level_qty: u64) -> u64 {
        match self.st.taken.iter_mut().find(|t| t.0 == side && t.1 == px) {
            Some(t) => {
                // The level lost size since: what we took cannot exceed what is there.
                t.2 = t.2.min(level_qty);
                level_qty - t.2
            }
            None => level_qty,
        }
    }

    fn take_from(&mut self, side: Side, px: Px, qty: u64) {
        match self.st.taken.iter_mut().find(|t| t.0 == side && t.1 == px) {
            Some(t) => t.2 += qty,
            None => self.st.taken.push((side, px, qty)),
        }
    }

    /// Walks the other side of `book` for `w`, up to its limit; fills at each level's price.
    fn walk<B: LevelView>(&mut self, book: &B, w: &mut Working, limit: Option<Px>) {
        let opp = w.side.opposite();
        // Forget taken liquidity at levels that are gone.
        self.st.taken.retain(|t| book.level_at(t.0, t.1).is_some());
        for level in book.side_levels(opp).iter().rev() {
            if w.leaves == 0 {
                break;
            }
            if let Some(l) = limit {
                if !crosses(w.side, l, level.px) {
                    break;
                }
            }
            let avail = self.available(opp, level.px, level.qty.0);
            let q = avail.min(w.leaves);
            if q == 0 {
                continue;
            }
            self.take_from(opp, level.px, q);
            self.fill(w, level.px, q, Liquidity::Taker, limit);
        }
    }

    fn join<B: LevelView>(&self, book: &B, next_prio: u64, side: Side, px: Px) -> (u64, QueuePos) {
        let level = book.level_at(side, px).map_or(0, |l| l.qty.0);
        let pos = match self.cfg.queue {
            QueueKind::Fifo => QueuePos { ahead: level },
            QueueKind::Conservative => super::queue::Conservative.new_order(level),
            QueueKind::Probabilistic(m) => m.new_order(level),
        };
        (next_prio, pos)
    }

    fn new_order<B: LevelView>(&mut self, book: &B, next_prio: u64, o: OrderIntent) {
        if o.qty.0 == 0 || o.px.is_some_and(|p| p.0 <= 0) {
            return self.reject(o.client_id, o.side, o.px, RejectReason::InvalidOrder);
        }
        if self.st.working.iter().any(|w| w.client_id == o.client_id) {
            return self.reject(o.client_id, o.side, o.px, RejectReason::DuplicateClientId);
        }
        let best_opp = book.best_level(o.side.opposite()).map(|l| l.px);
        let marketable = match (o.px, best_opp) {
            (None, _) => true,
            (Some(p), Some(b)) => crosses(o.side, p, b),
            (Some(_), None) => false,
        };
        if o.tif == Tif::PostOnly && marketable {
            return self.reject(o.client_id, o.side, o.px, RejectReason::WouldCross);
        }
        let rests = o.px.is_some() && o.tif != Tif::Ioc;
        if rests && self.st.working.len() >= MAX_WORKING {
            return self.reject(o.client_id, o.side, o.px, RejectReason::TooManyOrders);
        }
        let mut w = Working {
            client_id: o.client_id,
            side: o.side,
            px: o.px.unwrap_or_default(),
            tif: o.tif,
            leaves: o.qty.0,
            filled: 0,
            join_prio: 0,
            queue: QueuePos::default(),
            joined_at: self.at,
            traded: 0,
        };
        self.status(&w, OrderStatus::Accepted, o.px);
        if marketable {
            self.walk(book, &mut w, o.px);
        }
        if w.leaves == 0 {
            return;
        }
        if !rests {
            // Market and IOC orders: the rest is cancelled.
            return self.status(&w, OrderStatus::Cancelled, o.px);
        }
        (w.join_prio, w.queue) = self.join(book, next_prio, w.side, w.px);
        self.st.working.push(w);
    }

    fn cancel(&mut self, id: u64) {
        match self.st.working.iter().position(|w| w.client_id == id) {
            Some(i) => {
                let mut w = self.st.working.remove(i);
                w.leaves = 0;
                self.status(&w, OrderStatus::Cancelled, Some(w.px));
            }
            // Never accepted, already filled, or already cancelled.
            None => self.reject(id, Side::Bid, None, RejectReason::UnknownOrder),
        }
    }

    fn modify<B: LevelView>(&mut self, book: &B, next_prio: u64, id: u64, px: Px, qty: Qty) {
        let Some(i) = self.st.working.iter().position(|w| w.client_id == id) else {
            return self.reject(id, Side::Bid, Some(px), RejectReason::UnknownOrder);
        };
        let w0 = self.st.working[i];
        // A refused modify leaves the order working as it was; the update says so (its price,
        // and leaves > 0).
        if qty.0 == 0 || px.0 <= 0 {
            return self.status(
                &w0,
                OrderStatus::Rejected(RejectReason::InvalidOrder),
                Some(w0.px),
            );
        }
        // Size a modify adds counts as offered, like a new order's (for the fill ratio).
        self.counts.submitted_qty += qty.0.saturating_sub(w0.leaves);
        if px == w0.px && qty.0 <= w0.leaves {
            // A size reduction at the same price keeps the queue position.
            let w = &mut self.st.working[i];
            w.leaves = qty.0;
            let w = *w;
            return self.status(&w, OrderStatus::Modified, Some(px));
        }
        let marketable = book
            .best_level(w0.side.opposite())
            .is_some_and(|b| crosses(w0.side, px, b.px));
        if marketable && w0.tif == Tif::PostOnly {
            return self.status(
                &w0,
                OrderStatus::Rejected(RejectReason::WouldCross),
                Some(w0.px),
            );
        }
        // A new price or more size: to the back of the (new) level.
        let mut w = self.st.working.remove(i);
        w.px = px;
        w.leaves = qty.0;
        w.joined_at = self.at;
        self.status(&w, OrderStatus::Modified, Some(px));
        if marketable {
            self.walk(book, &mut w, Some(px));
            if w.leaves == 0 {
                return;
            }
        }
        (w.join_prio, w.queue) = self.join(book, next_prio, w.side, px);
        w.traded = 0;
        self.st.working.push(w);
    }

    /// Fills our resting orders on `side` that an aggressor selling into bids (or buying from
    /// asks) at `px` for `qty` reaches: every one priced at or through `px`, best price first,
    /// earliest first.
    fn aggressor(&mut self, side: Side, px: Px, qty: u64) {
        let mut left = qty;
        while left > 0 {
            let pick = self
                .st
                .working
                .iter()
                .enumerate()
                .filter(|(_, w)| w.side == side && crosses(side.opposite(), px, w.px))
                .min_by(|(_, a), (_, b)| {
                    let ord = if better(side, a.px, b.px) {
                        std::cmp::Ordering::Less
                    } else if better(side, b.px, a.px) {
                        std::cmp::Ordering::Greater
                    } else {
                        std::cmp::Ordering::Equal
                    };
                    ord.then(a.join_prio.cmp(&b.join_prio))
                })
                .map(|(i, _)| i);
            let Some(i) = pick else { break };
            let mut w = self.st.working[i];
            let q = left.min(w.leaves);
            left -= q;
            self.maker_fill(&mut w, q);
            self.settle(i, w);
        }
    }

    /// Writes back `w` at `i`, removing it when filled.
    fn settle(&mut self, i: usize, w: Working) {
        if w.leaves == 0 {
            self.st.working.remove(i);
        } else {
            self.st.working[i] = w;
        }
    }

    /// `qty` of a resting market order with priority `prio` at `side`/`px` was cancelled; the
    /// level held `level_before`.
    fn removed(&mut self, side: Side, px: Px, qty: u64, prio: u64, level_before: u64) {
        let after = level_before.saturating_sub(qty);
        for w in self.st.working.iter_mut() {
            if w.side != side || w.px != px {
                continue;
            }
            match self.cfg.queue {
                QueueKind::Fifo => {
                    if prio < w.join_prio {
                        w.queue.ahead = w.queue.ahead.saturating_sub(qty);
                    }
                }
                QueueKind::Conservative => {
                    super::queue::Conservative.depth(&mut w.queue, level_before, after)
                }
                QueueKind::Probabilistic(m) => m.depth(&mut w.queue, level_before, after),
            }
        }
    }

    /// L2 data: the level at `side`/`px` goes from `before` to `after` without a trade (what
    /// trades took since its last change is not counted again).
    fn l2_depth(&mut self, side: Side, px: Px, before: u64, after: u64) {
        for w in self.st.working.iter_mut() {
            if w.side != side || w.px != px {
                continue;
            }
            let cut = before.saturating_sub(after).saturating_sub(w.traded);
            w.traded = 0;
            let before = after.saturating_add(cut);
            match self.cfg.queue {
                QueueKind::Probabilistic(m) => m.depth(&mut w.queue, before, after),
                QueueKind::Conservative | QueueKind::Fifo => {
                    super::queue::Conservative.depth(&mut w.queue, before, after)
                }
            }
        }
    }

    /// `qty` of a resting market order (priority `prio`) on `side` at `px` traded.
    fn executed(&mut self, side: Side, px: Px, qty: u64, prio: u64) {
        let mut left = qty;
        // Our orders priced better than the trade would have been hit first.
        let mut i = 0;
        while i < self.st.working.len() && left > 0 {
            let mut w = self.st.working[i];
            if w.side == side && better(side, w.px, px) {
                let q = left.min(w.leaves);
                left -= q;
                self.maker_fill(&mut w, q);
                if w.leaves == 0 {
                    self.st.working.remove(i);
                    continue;
                }
                self.st.working[i] = w;
            }
            i += 1;
        }
        // At the trade's price, the queue decides.
        let mut i = 0;
        while i < self.st.working.len() {
            let mut w = self.st.working[i];
            if w.side != side || w.px != px {
                i += 1;
                continue;
            }
            let q = match self.cfg.queue {
                QueueKind::Fifo => {
                    if prio < w.join_prio {
                        // An order ahead of ours traded: we move up.
                        w.queue.ahead = w.queue.ahead.saturating_sub(qty);
                        0
                    } else if w.queue.ahead == 0 {
                        // An order behind ours traded while nothing was ahead: it was us.
                        left.min(w.leaves)
                    } else {
                        0
                    }
                }
                QueueKind::Conservative => super::queue::Conservative
                    .trade(&mut w.queue, qty)
                    .min(left.min(w.leaves)),
                QueueKind::Probabilistic(m) => m.trade(&mut w.queue, qty).min(left.min(w.leaves)),
            };
            if q > 0 {
                left -= q;
                self.maker_fill(&mut w, q);
            }
            if w.leaves == 0 {
                self.st.working.remove(i);
                continue;
            }
            self.st.working[i] = w;
            i += 1;
        }
    }
}
