//! The strategy plugin trait: what users write code against.
//!
//! A strategy reacts to book updates, trades and timers of one instrument at a time. Hooks have
//! empty defaults, cannot fail and must not allocate: a strategy reads the book through
//! [`Ctx`], and writes what it wants done (signals, order intents) into an engine-owned,
//! fixed-capacity [`Actions`] buffer. The engine's loop is generic over the strategy type, so a
//! plugin's hooks inline into it; `Box<dyn Strategy>` only appears where a strategy is chosen by
//! name from configuration.
//!
//! A plugin crate depends on `ticklane-engine` alone:
//!
//! ```
//! use ticklane_engine::strategy::{Ctx, Signal, SignalKind, Strategy};
//! use ticklane_engine::Side;
//!
//! /// Says "buy" whenever the spread is one tick.
//! struct TightSpread;
//!
//! impl Strategy for TightSpread {
//!     fn name(&self) -> &'static str {
//!         "tight_spread"
//!     }
//!     fn on_book(&mut self, ctx: &mut Ctx<'_>) {
//!         let top = ctx.book.top();
//!         if let (Some(b), Some(a)) = (top.bid, top.ask) {
//!             if a.px.0 - b.px.0 == 1 {
//!                 ctx.signal(Signal { kind: SignalKind::Take, side: Some(Side::Bid), value: 1.0 });
//!             }
//!         }
//!     }
//! }
//! ```

use crate::book::{Book, Level, LevelView, Top};
pub use crate::exec::{Liquidity, OrderStatus, OrderUpdate, RejectReason};
use crate::{InstrumentIdx, Nanos, Px, Qty, Side};

pub use crate::action::{Action, OrderIntent, Signal, SignalKind, Tif};

/// Capacity of the action buffer per hook call.
pub const ACTIONS: usize = 16;

/// The engine-owned action buffer a hook writes into. Fixed capacity: what does not fit is
/// counted in [`Actions::dropped`], never allocated.
#[derive(Clone, Debug)]
pub struct Actions {
    buf: [Action; ACTIONS],
    len: usize,
    dropped: u64,
}

impl Default for Actions {
    fn default() -> Self {
        Actions {
            buf: [Action::Signal(Signal {
                kind: SignalKind::Alert,
                side: None,
                value: 0.0,
            }); ACTIONS],
            len: 0,
            dropped: 0,
        }
    }
}

impl Actions {
    /// Appends an action; `false` (and counted) when the buffer is full.
    #[inline]
    pub fn push(&mut self, a: Action) -> bool {
        if self.len < ACTIONS {
            self.buf[self.len] = a;
            self.len += 1;
            true
        } else {
            self.dropped += 1;
            false
        }
    }
    /// The actions of the current call.
    #[inline]
    pub fn as_slice(&self) -> &[Action] {
        &self.buf[..self.len]
    }
    /// Empties the buffer (the engine does this after taking the actions).
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }
    /// Actions that did not fit, over the buffer's life.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Read access to one instrument's book (order-by-order or price-level).
#[derive(Clone, Copy)]
pub struct BookView<'a> {
    /// Bid and ask levels, worst first (empty: no book yet).
    sides: [&'a [Level]; 2],
}

impl<'a> BookView<'a> {
    /// A view of an L3 `book` (`None`: an instrument with no book yet).
    pub fn new(book: Option<&'a Book>) -> Self {
        book.map_or(BookView { sides: [&[], &[]] }, Self::of)
    }
    /// A view of any book: an L3 [`Book`] or an L2 [`crate::book::L2Book`].
    #[inline]
    pub fn of(book: &'a impl LevelView) -> Self {
        BookView {
            sides: [book.side_levels(Side::Bid), book.side_levels(Side::Ask)],
        }
    }
    /// Best bid and offer.
    #[inline]
    pub fn top(&self) -> Top {
        Top {
            bid: self.sides[0].last().copied(),
            ask: self.sides[1].last().copied(),
        }
    }
    /// Levels of `side`, best first.
    #[inline]
    pub fn levels(&self, side: Side) -> impl Iterator<Item = &'a Level> + 'a {
        self.sides[side.index()].iter().rev()
    }
}

/// What a hook sees and where it writes.
pub struct Ctx<'a> {
    /// The instrument.
    pub instr: InstrumentIdx,
    /// Event time of the triggering event.
    pub now: Nanos,
    /// The instrument's book.
    pub book: BookView<'a>,
    /// Current position in lots (positive long), as the strategy knows it: the fills reported
    /// to it so far (in a backtest, after the response latency).
    pub position: i64,
    /// Where actions go.
    pub actions: &'a mut Actions,
}

impl Ctx<'_> {
    /// Emits a signal.
    #[inline]
    pub fn signal(&mut self, s: Signal) -> bool {
        self.actions.push(Action::Signal(s))
    }
    /// Requests an order.
    #[inline]
    pub fn order(&mut self, o: OrderIntent) -> bool {
        self.actions.push(Action::Order(o))
    }
    /// Requests a cancel.
    #[inline]
    pub fn cancel(&mut self, client_id: u64) -> bool {
        self.actions.push(Action::Cancel { client_id })
    }
    /// Requests a modification (see [`Action::Modify`]).
    #[inline]
    pub fn modify(&mut self, client_id: u64, px: Px, qty: Qty) -> bool {
        self.actions.push(Action::Modify { client_id, px, qty })
    }
}

/// A trade as strategies see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeTick {
    /// Price.
    pub px: Px,
    /// Quantity.
    pub qty: Qty,
    /// Side of the resting order that traded, when known (a trade against the ask was a buy).
    pub resting: Option<Side>,
}

/// A trading strategy. Every hook has an empty default; none may fail, block or allocate.
///
/// Strategies keep their state per instrument (indexed by [`Ctx::instr`]): the engine may run
/// several instances, one per book shard, each seeing only its instruments.
pub trait Strategy {
    /// A short name, for signal records and reports.
    fn name(&self) -> &'static str;
    /// The instrument's top of book or depth changed.
    fn on_book(&mut self, ctx: &mut Ctx<'_>) {
        let _ = ctx;
    }
    /// A trade printed.
    fn on_trade(&mut self, ctx: &mut Ctx<'_>, trade: &TradeTick) {
        let _ = (ctx, trade);
    }
    /// The timer fired: on the instrument's first event at or after each multiple of
    /// [`Strategy::timer_interval`] of event time.
    fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        let _ = ctx;
    }
    /// How often [`Strategy::on_timer`] should fire; `None` (the default) for never.
    fn timer_interval(&self) -> Option<Nanos> {
        None
    }
    /// One of the strategy's orders changed (accepted, filled, cancelled, rejected, ...). In a
    /// backtest this arrives after the response latency; [`Ctx::position`] already includes a
    /// fill reported here.
    fn on_order(&mut self, ctx: &mut Ctx<'_>, update: &OrderUpdate) {
        let _ = (ctx, update);
    }
}

impl<S: Strategy + ?Sized> Strategy for Box<S> {
    fn name(&self) -> &'static str {
        (**self).name()
    }
    #[inline]
    fn on_book(&mut self, ctx: &mut Ctx<'_>) {
        (**self).on_book(ctx)
    }
    #[inline]
    fn on_trade(&mut self, ctx: &mut Ctx<'_>, trade: &TradeTick) {
        (**self).on_trade(ctx, trade)
    }
    #[inline]
    fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
        (**self).on_timer(ctx)
    }
    fn timer_interval(&self) -> Option<Nanos> {
        (**self).timer_interval()
    }
    #[inline]
    fn on_order(&mut self, ctx: &mut Ctx<'_>, update: &OrderUpdate) {
        (**self).on_order(ctx, update)
    }
}

/// The strategy that does nothing: the engine's default, and free.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoStrategy;

impl Strategy for NoStrategy {
    fn name(&self) -> &'static str {
        "none"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_bounded_and_counted() {
        let mut a = Actions::default();
        let s = Signal {
            kind: SignalKind::Take,
            side: Some(Side::Bid),
            value: 1.0,
        };
        for _ in 0..ACTIONS {
            assert!(a.push(Action::Signal(s)));
        }
        assert!(!a.push(Action::Signal(s)));
        assert_eq!((a.as_slice().len(), a.dropped()), (ACTIONS, 1));
        a.clear();
        assert!(a.as_slice().is_empty());
    }
}
