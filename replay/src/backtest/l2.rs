//! Backtests on price-level (L2) data: a strategy and the execution simulator driven by a crypto
//! replay's book, with the same accounts, trade log, equity curve and report as an ITCH backtest.
//!
//! A venue replay calls, for each message of an instrument whose book is usable (synced, or
//! unsynced ones accepted):
//! 1. [`L2Backtest::before_message`] with the book as it stands: the strategy's actions that
//!    reached the exchange by then are handled against it (taker orders walk it, post-only
//!    orders that would cross are rejected, resting orders join the back of their level);
//! 2. [`L2Backtest::change`] for every level the message changes, *before* the book applies it
//!    (size before and after), or for a trade: these move the queues of the resting simulated
//!    orders and fill them (see [`ExecSim::l2_change`]);
//! 3. [`L2Backtest::after_message`] once the book has applied the message: equity is marked at
//!    the new mid, answers due by the local time go to the strategy, its hooks run, and its
//!    actions go to the simulator.
//!
//! Only L2 queue models apply (`conservative`, `probabilistic`); FIFO needs order-by-order data
//! and is refused by [`L2Backtest::new`]. Time: the capture's receive time is the exchange time
//! the simulator works on (crypto captures carry no reliable exchange time per level), and the
//! strategy sees each message `feed_latency_ns` later.
//!
//! Fills, order updates and signals enter the replay's digest, encoded as the ITCH output stage
//! encodes them, after the message's own market-data words.

use ticklane_engine::book::{L2Book, Top};
use ticklane_engine::exec::queue::QueueKind;
use ticklane_engine::exec::sim::{ExecSim, SimOut};
use ticklane_engine::runner::Runner;
use ticklane_engine::strategy::{BookView, Strategy, TradeTick};
use ticklane_engine::{InstrumentIdx, Nanos};

pub use ticklane_engine::exec::sim::L2Change;

use crate::backtest::{BacktestData, BacktestOptions, BacktestSummary, Recorder};
use crate::stages::output::{exec_output, Output, OutputKind};

/// Why an L2 backtest cannot run.
#[derive(Debug, thiserror::Error)]
pub enum L2BacktestError {
    /// The FIFO queue model was asked for on price-level data.
    #[error(
        "queue model fifo needs order-by-order (L3) data; on L2 data use conservative or probabilistic (--queue or the config's queue.model)"
    )]
    FifoOnL2,
}

/// A strategy with its simulated exchange and accounts, on L2 data.
pub struct L2Backtest<S: Strategy> {
    /// The strategy's runner.
    pub runner: Runner<S>,
    sim: ExecSim,
    recorder: Recorder,
    opts: BacktestOptions,
    feed_latency: u64,
    /// Symbols by instrument, for the trade log.
    symbols: Vec<[u8; crate::report::SYMBOL_LEN]>,
    last_top: Vec<[(i64, u64); 2]>,
    seq: u64,
    /// Fills of its orders.
    pub fills: u64,
    /// Other order status changes.
    pub order_updates: u64,
    last_ts: u64,
    /// The quote currency of a symbol, when the venue's naming tells it.
    quote_of: Option<fn(&str) -> Option<String>>,
    /// The backtest's currency: the quote of the first instrument named.
    currency: Option<Option<String>>,
    /// Instruments quoted in another currency: replayed, but not traded (their PnL would add
    /// a different currency to the account).
    skip: Vec<bool>,
    not_traded: Vec<String>,
}

fn top_key(t: &Top) -> [(i64, u64); 2] {
    [
        t.bid.map_or((0, 0), |l| (l.px.0, l.qty.0)),
        t.ask.map_or((0, 0), |l| (l.px.0, l.qty.0)),
    ]
}

/// Books one simulator output: counters, recorder, and on to the outputs.
struct Sink<'a, E: FnMut(Output)> {
    emit: &'a mut E,
    recorder: &'a mut Recorder,
    fills: &'a mut u64,
    order_updates: &'a mut u64,
    symbol: [u8; crate::report::SYMBOL_LEN],
}

impl<E: FnMut(Output)> Sink<'_, E> {
    fn take(&mut self, o: &Output) {
        match o.kind {
            OutputKind::Fill { .. } => *self.fills += 1,
            OutputKind::Order { .. } => *self.order_updates += 1,
            _ => {}
        }
        self.recorder.on_output(o, self.symbol);
        (self.emit)(*o);
    }
}

impl<S: Strategy> L2Backtest<S> {
    /// A backtest of `strategy` with `opts`.
    ///
    /// # Errors
    /// [`L2BacktestError::FifoOnL2`] for the FIFO queue model.
    pub fn new(strategy: S, opts: BacktestOptions) -> Result<Self, L2BacktestError> {
        if opts.sim.queue == QueueKind::Fifo {
            return Err(L2BacktestError::FifoOnL2);
        }
        Ok(L2Backtest {
            runner: Runner::new(strategy, 0),
            sim: ExecSim::new(opts.sim.clone()),
            recorder: Recorder::new(&opts),
            feed_latency: opts.sim.feed_latency,
            opts,
            symbols: Vec::new(),
            last_top: Vec::new(),
            seq: 0,
            fills: 0,
            order_updates: 0,
            last_ts: 0,
            quote_of: None,
            currency: None,
            skip: Vec::new(),
            not_traded: Vec::new(),
        })
    }

    /// Trades only the instruments quoted in the currency of the first one named, telling a
    /// symbol's quote currency with `quote_of` (`NKNUSDT` → `USDT`, `SKL-GBP` → `GBP`): the
    /// accounts, PnL and equity curve are then in one currency. The others are listed in the
    /// summary as not traded.
    #[must_use]
    pub fn with_quotes(mut self, quote_of: fn(&str) -> Option<String>) -> Self {
        self.quote_of = Some(quote_of);
        self
    }

    /// Whether instrument `i` is replayed without the strategy (another quote currency).
    #[inline]
    fn skipped(&self, i: usize) -> bool {
        self.skip.get(i).copied().unwrap_or(false)
    }

    fn ensure(&mut self, i: usize) {
        if self.symbols.len() <= i {
            self.symbols
                .resize(i + 1, [b' '; crate::report::SYMBOL_LEN]);
            self.last_top.resize(i + 1, [(0, 0); 2]);
            self.skip.resize(i + 1, false);
        }
    }

    /// Names instrument `i` (for the trade log).
    pub fn set_symbol(&mut self, i: usize, symbol: &str) {
        self.ensure(i);
        self.symbols[i] = crate::report::symbol_field(symbol.as_bytes());
        let Some(quote_of) = self.quote_of else {
            return;
        };
        let quote = quote_of(symbol);
        match &self.currency {
            None => self.currency = Some(quote),
            Some(c) if *c != quote && !self.skip[i] => {
                self.skip[i] = true;
                self.not_traded.push(symbol.to_owned());
            }
            Some(_) => {}
        }
    }

    fn sink<'a, E: FnMut(Output)>(
        &'a mut self,
        emit: &'a mut E,
        i: usize,
    ) -> (&'a mut ExecSim, Sink<'a, E>) {
        self.ensure(i);
        (
            &mut self.sim,
            Sink {
                emit,
                recorder: &mut self.recorder,
                fills: &mut self.fills,
                order_updates: &mut self.order_updates,
                symbol: self.symbols[i],
            },
        )
    }

    /// Step 1: before a message of instrument `i` received at `ts`, with its book as it stands.
    pub fn before_message(
        &mut self,
        i: usize,
        ts: u64,
        book: &L2Book,
        emit: &mut impl FnMut(Output),
    ) {
        if self.skipped(i) {
            return;
        }
        self.seq += 1;
        self.last_ts = ts;
        let instr = InstrumentIdx(i as u32);
        let seq = self.seq;
        let (sim, mut sink) = self.sink(emit, i);
        sim.l2_arrivals(instr, ts, book, &mut |at, so: SimOut| {
            sink.take(&exec_output(seq, at, instr, so))
        });
    }

    /// Step 2: a change the message makes (a level's size, before the book applies it; or a
    /// trade). A level whose size does not change is ignored.
    pub fn change(&mut self, i: usize, ts: u64, change: L2Change, emit: &mut impl FnMut(Output)) {
        if self.skipped(i) {
            return;
        }
        if let L2Change::Level { before, after, .. } = change {
            if before == after {
                return;
            }
        }
        let instr = InstrumentIdx(i as u32);
        let seq = self.seq;
        let (sim, mut sink) = self.sink(emit, i);
        sim.l2_change(instr, ts, change, &mut |at, so: SimOut| {
            sink.take(&exec_output(seq, at, instr, so))
        });
    }

    /// Step 3: the book of instrument `i` has applied the message (`book_changed`: its levels
    /// changed; `trade`: the message was a trade).
    pub fn after_message(
        &mut self,
        i: usize,
        ts: u64,
        book: &L2Book,
        trade: Option<TradeTick>,
        book_changed: bool,
        emit: &mut impl FnMut(Output),
    ) {
        self.ensure(i);
        if self.skip[i] {
            return;
        }
        let instr = InstrumentIdx(i as u32);
        let key = top_key(&book.top());
        if key != self.last_top[i] {
            // Marks the position at the new mid (and samples the equity curve on time).
            self.last_top[i] = key;
            let o = Output {
                seq: self.seq,
                ts: Nanos(ts),
                instr,
                kind: OutputKind::Bbo(key),
                stamp: 0,
            };
            self.recorder.on_output(&o, self.symbols[i]);
        }
        let local = ts + self.feed_latency;
        let seq = self.seq;
        self.runner.run(
            instr,
            local,
            BookView::of(book),
            &mut self.sim,
            trade.as_ref(),
            book_changed,
            &mut |sig| {
                emit(Output {
                    seq,
                    ts: Nanos(ts),
                    instr,
                    kind: OutputKind::Signal(sig),
                    stamp: 0,
                })
            },
        );
    }

    /// Closes the books: the backtest block of the summary and the data of the report, or
    /// `None` when the strategy sent no orders (a signal-only strategy).
    pub fn finish(mut self, events: u64, loop_s: f64) -> Option<(BacktestSummary, BacktestData)> {
        let counts = self.sim.counts;
        if counts.submitted == 0 {
            return None;
        }
        self.recorder.finish(Nanos(self.last_ts));
        let summary = BacktestSummary {
            currency: self.currency.flatten(),
            not_traded: std::mem::take(&mut self.not_traded),
            ..BacktestSummary::from_run(events, loop_s, &counts, &self.recorder, &self.opts)
        };
        let data = self.recorder.take_data(self.opts, counts);
        Some((summary, data))
    }

    /// Actions dropped because the strategy's buffer was full.
    pub fn dropped_actions(&self) -> u64 {
        self.runner.dropped_actions()
    }

    /// Signals the strategy emitted.
    pub fn signals(&self) -> u64 {
        self.runner.signals
    }
}

/// The strategy and backtest lines of an L2 replay's printed summary (nothing without a
/// strategy).
pub(crate) fn fmt_summary_lines(
    f: &mut std::fmt::Formatter<'_>,
    strategy: Option<&str>,
    signals: Option<u64>,
    backtest: Option<&BacktestSummary>,
) -> std::fmt::Result {
    if let Some(name) = strategy {
        writeln!(
            f,
            "strategy:      {name} ({} signals)",
            signals.unwrap_or(0)
        )?;
    }
    if let Some(b) = backtest {
        writeln!(
            f,
            "backtest:      {} orders ({} accepted, {} rejected, {} cancelled), {} cancels and {} modifies sent",
            b.orders_submitted, b.orders_accepted, b.rejected, b.cancelled, b.cancels_sent, b.modifies_sent
        )?;
        writeln!(
            f,
            "               {} fills, {} lots (1e-8); position {}; PnL {:.2} after {:.2} fees (queue model {})",
            b.fills, b.filled_qty, b.position, b.pnl, b.fees, b.queue_model
        )?;
        writeln!(
            f,
            "               {:.0} events/s in the replay loop ({} events, {:.6} s)",
            b.events_per_sec, b.events, b.loop_s
        )?;
        if !b.not_traded.is_empty() {
            writeln!(
                f,
                "               not traded (quoted in another currency than {}): {}",
                b.currency.as_deref().unwrap_or("the first symbol's"),
                b.not_traded.join(", ")
            )?;
        }
    }
    Ok(())
}
