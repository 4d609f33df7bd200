//! The one strategy runner: what happens, in which order, when an event reaches a strategy.
//!
//! For one instrument at one local time, [`Runner::run`]:
//! 1. hands the strategy the answers to its orders that are due (`on_order`, with the position
//!    each answer brings);
//! 2. fires its timer if one is due (`on_timer`);
//! 3. shows it the trade, if the event was one (`on_trade`);
//! 4. shows it the book, if the book changed (`on_book`);
//! 5. drains its actions: signals to the caller, orders to the [`OrderGateway`].
//!
//! Every path runs strategies through it: the L3 book stage (ITCH, LOBSTER, journals), the
//! price-level book stage (crypto venues, backtests and live paper trading) and the strategies'
//! own test harness. Where the orders go is the gateway's business: the execution simulator
//! ([`crate::exec::sim::ExecSim`]) in a backtest, a recorder in a test.

use crate::strategy::{Action, Actions, BookView, Ctx, OrderUpdate, Signal, Strategy, TradeTick};
use crate::InstrumentIdx;

/// Where a strategy's orders go and its answers come from.
pub trait OrderGateway {
    /// The position of `instr` as the strategy knows it (fills delivered so far).
    fn position(&self, instr: InstrumentIdx) -> i64;

    /// Whether answers for `instr` are waiting (a fast check before [`deliver`](Self::deliver)).
    fn has_responses(&self, instr: InstrumentIdx) -> bool;

    /// Hands every answer for `instr` due by local time `now` to `f`, in order, with the
    /// position the strategy knows once it has the answer.
    fn deliver(&mut self, instr: InstrumentIdx, now: u64, f: &mut dyn FnMut(&OrderUpdate, i64));

    /// Takes an order action the strategy sent at local time `now`.
    fn submit(&mut self, instr: InstrumentIdx, now: u64, action: &Action);
}

impl OrderGateway for crate::exec::sim::ExecSim {
    #[inline]
    fn position(&self, instr: InstrumentIdx) -> i64 {
        crate::exec::sim::ExecSim::position(self, instr)
    }

    #[inline]
    fn has_responses(&self, instr: InstrumentIdx) -> bool {
        crate::exec::sim::ExecSim::has_responses(self, instr)
    }

    #[inline]
    fn deliver(&mut self, instr: InstrumentIdx, now: u64, f: &mut dyn FnMut(&OrderUpdate, i64)) {
        crate::exec::sim::ExecSim::deliver(self, instr, now, f);
    }

    #[inline]
    fn submit(&mut self, instr: InstrumentIdx, now: u64, action: &Action) {
        crate::exec::sim::ExecSim::submit(self, instr, now, action);
    }
}

/// Timer slots at most: instrument indices beyond share slots (never the case for ITCH locates
/// or the dense indices of price-level venues).
pub const TIMER_SLOTS: usize = 1 << 16;

/// A strategy with its action buffer and timers.
pub struct Runner<S: Strategy> {
    /// The strategy.
    pub strategy: S,
    actions: Actions,
    /// Timer period, ns (`None`: the strategy has no timer).
    timer: Option<u64>,
    /// Next due time per instrument (0: not armed yet).
    timers: Vec<u64>,
    /// Order actions (new orders, cancels, modifies) the strategy sent.
    pub order_intents: u64,
    /// Signals it emitted.
    pub signals: u64,
}

impl<S: Strategy> Runner<S> {
    /// A runner for `strategy`, with timer slots for `instruments` instruments made up front
    /// (more are added on first sight).
    pub fn new(strategy: S, instruments: usize) -> Self {
        let timer = strategy.timer_interval().map(|n| n.0.max(1));
        Runner {
            timers: if timer.is_some() {
                vec![0; instruments]
            } else {
                Vec::new()
            },
            timer,
            strategy,
            actions: Actions::default(),
            order_intents: 0,
            signals: 0,
        }
    }

    /// Starts over with `strategy`, keeping the timer table's memory.
    pub fn reset(&mut self, strategy: S) {
        let timer = strategy.timer_interval().map(|n| n.0.max(1));
        if timer.is_some() {
            let n = self.timers.len();
            self.timers.clear();
            self.timers.resize(n, 0);
        } else {
            self.timers = Vec::new();
        }
        self.timer = timer;
        self.strategy = strategy;
        self.actions = Actions::default();
        self.order_intents = 0;
        self.signals = 0;
    }

    /// Runs the strategy's hooks for `instr` at local time `now` (see the module docs);
    /// signals go to `on_signal`, orders to `gateway`.
    #[allow(clippy::too_many_arguments)] // one event's whole context, each a distinct piece
    #[inline]
    pub fn run(
        &mut self,
        instr: InstrumentIdx,
        now: u64,
        book: BookView<'_>,
        gateway: &mut impl OrderGateway,
        trade: Option<&TradeTick>,
        book_changed: bool,
        on_signal: &mut impl FnMut(Signal),
    ) {
        let mut ctx = Ctx {
            instr,
            now: crate::Nanos(now),
            book,
            position: gateway.position(instr),
            actions: &mut self.actions,
        };
        if gateway.has_responses(instr) {
            let strategy = &mut self.strategy;
            gateway.deliver(instr, now, &mut |u, position| {
                ctx.position = position;
                strategy.on_order(&mut ctx, u);
            });
        }
        if let Some(every) = self.timer {
            // Slots are bounded whatever the data says (locates are 16-bit; price-level
            // venues number their instruments densely from 0).
            let i = instr.get() & (TIMER_SLOTS - 1);
            if self.timers.len() <= i {
                self.timers.resize(i + 1, 0);
            }
            let due = &mut self.timers[i];
            if now >= *due {
                if *due != 0 {
                    self.strategy.on_timer(&mut ctx);
                }
                *due = (now / every + 1) * every;
            }
        }
        if let Some(t) = trade {
            self.strategy.on_trade(&mut ctx, t);
        }
        if book_changed {
            self.strategy.on_book(&mut ctx);
        }
        for a in self.actions.as_slice() {
            match *a {
                Action::Signal(sig) => {
                    self.signals += 1;
                    on_signal(sig);
                }
                _ => {
                    self.order_intents += 1;
                    gateway.submit(instr, now, a);
                }
            }
        }
        self.actions.clear();
    }

    /// Actions dropped because the strategy's buffer was full.
    pub fn dropped_actions(&self) -> u64 {
        self.actions.dropped()
    }
}
