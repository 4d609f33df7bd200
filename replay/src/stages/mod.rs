//! The three stages of a replay, written so they can run inline on one thread or on separate
//! threads joined by rings, with identical results:
//!
//! 1. [`DecodeStage`]: frame bytes → normalized [`Event`]s (counts types and decode errors);
//! 2. [`BookStage`]: events → book updates → [`Output`] records (top-of-book changes, trades,
//!    status changes, instrument definitions); it can be sharded by instrument, since each
//!    instrument's state lives in exactly one shard;
//! 3. [`OutputStage`]: outputs, in input order, → digest, BBO CSV, counters.
//!
//! Every output carries the sequence number of the input message that caused it, so outputs of
//! several shards merge back into exactly the order an inline run produces.

pub mod l2;
pub mod output;
pub mod pipeline;

use std::io;

use ticklane_engine::book::{BookError, L3Books, Top};
use ticklane_engine::event_time::TimeGuard;
use ticklane_engine::exec::sim::{ExecSim, SimConfig};
use ticklane_engine::runner::Runner;
use ticklane_engine::strategy::{BookView, NoStrategy, Strategy, TradeTick};
use ticklane_engine::{Body, Digest, Event, InstrumentIdx, Nanos, SourceId};
use ticklane_feeds::itch::msg::{type_index, MESSAGE_TYPES};
use ticklane_feeds::itch::normalize::{symbol_str, Normalizer};
use ticklane_feeds::itch::{decode, DecodeError, Message};

use crate::l3::summary::ErrorCounts;
use crate::sink::bbo_csv::BboCsv;
use crate::sink::Sink;

/// Instruments addressable by the per-instrument arrays of the stages (ITCH locates are `u16`).
pub const MAX_LOCATES: usize = 1 << 16;

/// Frames to events.
pub struct DecodeStage {
    norm: Normalizer,
    /// Messages framed so far (decoded or not); also the next message's sequence number.
    pub messages: u64,
    /// Messages per ITCH type, in [`MESSAGE_TYPES`] order.
    pub counts: [u64; MESSAGE_TYPES.len()],
    /// Undecodable messages.
    pub decode_errors: u64,
    /// The first decode error, for people.
    pub first_decode_error: Option<DecodeError>,
    /// Holds exchange times to a bound on their jumps (impossible times are counted and
    /// replaced by the previous event's time before any stage sees them).
    pub time: TimeGuard,
}

impl Default for DecodeStage {
    fn default() -> Self {
        Self::new()
    }
}

impl DecodeStage {
    /// A fresh decoder.
    pub fn new() -> Self {
        DecodeStage {
            norm: Normalizer::new(SourceId(0)),
            messages: 0,
            counts: [0; MESSAGE_TYPES.len()],
            decode_errors: 0,
            first_decode_error: None,
            time: TimeGuard::default(),
        }
    }

    /// A fresh decoder allowing exchange times to jump by up to `ns` between two messages.
    pub fn with_max_time_jump(ns: u64) -> Self {
        DecodeStage {
            time: TimeGuard::new(ns),
            ..Self::new()
        }
    }

    /// Decodes one message (no length prefix). Returns its event, if it has one.
    #[inline]
    pub fn on_frame(&mut self, bytes: &[u8]) -> Option<Event> {
        let seq = self.messages;
        self.messages += 1;
        let msg = match decode(bytes) {
            Ok(m) => m,
            Err(e) => {
                self.decode_errors += 1;
                self.first_decode_error.get_or_insert(e);
                return None;
            }
        };
        self.count_and_normalize(&msg, seq)
    }

    /// Takes one already-decoded message (a converter's output, say).
    #[inline]
    pub fn on_message(&mut self, msg: &Message) -> Option<Event> {
        let seq = self.messages;
        self.messages += 1;
        self.count_and_normalize(msg, seq)
    }

    #[inline]
    fn count_and_normalize(&mut self, msg: &Message, seq: u64) -> Option<Event> {
        if let Some(i) = type_index(msg.type_byte()) {
            self.counts[i] += 1;
        }
        let mut ev = self.norm.normalize(msg, seq, Nanos(0))?;
        ev.hdr.ts_exch = Nanos(self.time.admit(ev.hdr.ts_exch.0));
        Some(ev)
    }

    /// Symbols in the stock directory so far.
    pub fn symbols(&self) -> usize {
        self.norm.symbols.len()
    }
}

pub use crate::stages::output::{exec_output, Output, OutputKind, TradeKind};

const NO_LEVEL: (i64, u64) = (0, 0);

fn top_key(t: &Top) -> [(i64, u64); 2] {
    [
        t.bid.map_or(NO_LEVEL, |l| (l.px.0, l.qty.0)),
        t.ask.map_or(NO_LEVEL, |l| (l.px.0, l.qty.0)),
    ]
}

/// Book-consistency errors, counted by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BookErrorCounts {
    /// Events naming an order that is not resting.
    pub unknown_order: u64,
    /// Adds reusing a resting order id.
    pub duplicate_order: u64,
    /// Reductions larger than what rests.
    pub overfill: u64,
    /// Instrument index out of range.
    pub instrument_out_of_range: u64,
}

/// Events to book updates to outputs, and the strategy's hooks. One instance per shard.
pub struct BookStage<S: Strategy = NoStrategy> {
    /// The strategy's runner (one instance per shard; it sees only this shard's instruments).
    pub runner: Runner<S>,
    /// The simulated exchange the strategy's orders go to.
    pub sim: ExecSim,
    /// The books of the instruments this stage owns.
    pub books: L3Books,
    last: Vec<[(i64, u64); 2]>,
    /// Book events and trades per instrument (for "most active").
    pub activity: Vec<u64>,
    /// Events applied to the books.
    pub book_events: u64,
    /// Book errors.
    pub errors: BookErrorCounts,
    /// One past the highest instrument slot written in `last` or `activity` (what a reset
    /// clears).
    used: usize,
}

impl Default for BookStage {
    fn default() -> Self {
        Self::new()
    }
}

impl BookStage {
    /// A stage without a strategy, with room for 64Ki resting orders (3.5 MiB) before its
    /// order table grows.
    pub fn new() -> Self {
        Self::with_strategy(NoStrategy)
    }
}

impl<S: Strategy> BookStage<S> {
    /// A stage running `strategy`, its orders simulated with the default [`SimConfig`] (no
    /// latency, FIFO queues, no fees).
    pub fn with_strategy(strategy: S) -> Self {
        Self::with_strategy_and_sim(strategy, SimConfig::default())
    }

    /// A stage running `strategy` with its orders simulated as `sim` says.
    pub fn with_strategy_and_sim(strategy: S, sim: SimConfig) -> Self {
        BookStage {
            runner: Runner::new(strategy, MAX_LOCATES),
            sim: ExecSim::new(sim),
            books: L3Books::with_capacity(256, 16, 0),
            last: vec![[NO_LEVEL; 2]; MAX_LOCATES],
            activity: vec![0; MAX_LOCATES],
            book_events: 0,
            errors: BookErrorCounts::default(),
            used: 0,
        }
    }

    /// Starts over with `strategy`, keeping the books', the simulator's and the tables'
    /// memory: the next replay gives what a new stage would, without building (and touching)
    /// its tables again.
    pub fn reset(&mut self, strategy: S) {
        self.runner.reset(strategy);
        self.sim.reset();
        self.books.reset();
        self.last[..self.used].fill([NO_LEVEL; 2]);
        self.activity[..self.used].fill(0);
        self.used = 0;
        self.book_events = 0;
        self.errors = BookErrorCounts::default();
    }

    /// Applies `ev`, runs the strategy's hooks, and hands the outputs to `emit`, in order.
    #[inline]
    pub fn on_event(&mut self, ev: &Event, emit: &mut impl FnMut(Output)) {
        if self.sim.is_busy(ev.hdr.instr) {
            let (seq, instr) = (ev.hdr.seq, ev.hdr.instr);
            self.sim.before_event(ev, &self.books, &mut |at, so| {
                emit(exec_output(seq, at, instr, so))
            });
        }
        let hook = self.apply(ev, emit);
        if let Some((instr, trade, book_changed)) = hook {
            self.run_hooks(ev, instr, trade, book_changed, emit);
        }
    }

    /// Calls the strategy for one event and turns its signals into outputs.
    #[inline]
    fn run_hooks(
        &mut self,
        ev: &Event,
        instr: InstrumentIdx,
        trade: Option<TradeTick>,
        book_changed: bool,
        emit: &mut impl FnMut(Output),
    ) {
        let local = self.sim.local_time(ev);
        let (seq, ts) = (ev.hdr.seq, ev.hdr.ts_exch);
        self.runner.run(
            instr,
            local,
            BookView::new(self.books.book(instr)),
            &mut self.sim,
            trade.as_ref(),
            book_changed,
            &mut |sig| {
                emit(Output {
                    seq,
                    ts,
                    instr,
                    kind: OutputKind::Signal(sig),
                    stamp: 0,
                })
            },
        );
    }

    /// Order actions (new orders, cancels, modifies) the strategy sent.
    pub fn order_intents(&self) -> u64 {
        self.runner.order_intents
    }

    /// Signals that did not fit the action buffer.
    pub fn dropped_actions(&self) -> u64 {
        self.runner.dropped_actions()
    }

    /// Applies `ev` to the books; returns what the hooks need: the instrument, a trade, and
    /// whether its book changed.
    #[inline]
    fn apply(
        &mut self,
        ev: &Event,
        emit: &mut impl FnMut(Output),
    ) -> Option<(InstrumentIdx, Option<TradeTick>, bool)> {
        let out = |instr, kind| Output {
            seq: ev.hdr.seq,
            ts: ev.hdr.ts_exch,
            instr,
            kind,
            stamp: 0,
        };
        let instr = ev.hdr.instr;
        let slot = instr.get() & (MAX_LOCATES - 1);
        match ev.body {
            Body::Trade { px, qty, side } => {
                self.activity[slot] += 1;
                self.used = self.used.max(slot + 1);
                emit(out(
                    instr,
                    OutputKind::Trade {
                        px,
                        qty,
                        kind: TradeKind::NonDisplayed,
                    },
                ));
                return Some((
                    instr,
                    Some(TradeTick {
                        px,
                        qty,
                        resting: side,
                    }),
                    false,
                ));
            }
            Body::Cross { px, qty, .. } => {
                self.activity[slot] += 1;
                self.used = self.used.max(slot + 1);
                emit(out(
                    instr,
                    OutputKind::Trade {
                        px,
                        qty,
                        kind: TradeKind::Cross,
                    },
                ));
                return Some((
                    instr,
                    Some(TradeTick {
                        px,
                        qty,
                        resting: None,
                    }),
                    false,
                ));
            }
            Body::Status { kind, code } => {
                emit(out(instr, OutputKind::Status { kind, code }));
                return None;
            }
            Body::Instrument { symbol } => {
                emit(out(instr, OutputKind::Instrument(symbol)));
                return None;
            }
            ref b if !b.affects_book() => return None,
            _ => {}
        }
        let applied = match self.books.apply(ev) {
            Ok(Some(a)) => a,
            Ok(None) => {
                // A clear: the top may have changed.
                self.book_events += 1;
                self.check_top(instr, ev, emit);
                return Some((instr, None, true));
            }
            Err(e) => {
                self.count(&e);
                if let BookError::Overfill { .. } = e {
                    // The order left the book with what it had.
                    self.check_top(instr, ev, emit);
                }
                return None;
            }
        };
        self.book_events += 1;
        let aslot = applied.instr.get() & (MAX_LOCATES - 1);
        self.activity[aslot] += 1;
        self.used = self.used.max(aslot + 1);
        let resting = Some(applied.side);
        let trade = match ev.body {
            Body::Execute { qty, .. } => {
                emit(out(
                    applied.instr,
                    OutputKind::Trade {
                        px: applied.px,
                        qty,
                        kind: TradeKind::Execute,
                    },
                ));
                Some(TradeTick {
                    px: applied.px,
                    qty,
                    resting,
                })
            }
            Body::ExecuteAtPx {
                qty, px, printable, ..
            } => {
                emit(out(
                    applied.instr,
                    OutputKind::Trade {
                        px,
                        qty,
                        kind: TradeKind::ExecuteAtPx { printable },
                    },
                ));
                Some(TradeTick { px, qty, resting })
            }
            _ => None,
        };
        if applied.touched_top {
            self.check_top(applied.instr, ev, emit);
        }
        Some((applied.instr, trade, true))
    }

    #[inline]
    fn check_top(&mut self, instr: InstrumentIdx, ev: &Event, emit: &mut impl FnMut(Output)) {
        let key = top_key(&self.books.top(instr));
        let slot = instr.get() & (MAX_LOCATES - 1);
        let last = &mut self.last[slot];
        if key != *last {
            *last = key;
            self.used = self.used.max(slot + 1);
            emit(Output {
                seq: ev.hdr.seq,
                ts: ev.hdr.ts_exch,
                instr,
                kind: OutputKind::Bbo(key),
                stamp: 0,
            });
        }
    }

    fn count(&mut self, e: &BookError) {
        match e {
            BookError::UnknownOrder(_) => self.errors.unknown_order += 1,
            BookError::DuplicateOrder(_) => self.errors.duplicate_order += 1,
            BookError::Overfill { .. } => self.errors.overfill += 1,
            BookError::InstrumentOutOfRange(_) => self.errors.instrument_out_of_range += 1,
        }
    }
}

/// Outputs, in input order, to digest, CSV and counters.
pub struct OutputStage<'w> {
    filter: Vec<[u8; 8]>,
    selected: Vec<bool>,
    symbols: Vec<[u8; 8]>,
    /// The run digest (a sink over the selected instruments' outputs).
    pub digest: ItchDigest,
    /// The summary's counts (a sink over the same outputs).
    pub counts: OutputCounts,
    /// Where the selected instruments' outputs go besides (BBO CSV, signals, a caller's).
    sinks: Vec<Box<dyn Sink + 'w>>,
    /// The backtest's accounts and trade log, when one runs.
    pub backtest: Option<crate::backtest::Recorder>,
    /// Exchange time of the last output.
    pub last_ts: Nanos,
    /// One past the highest instrument slot whose symbol or selection was set (what a reset
    /// clears).
    used: usize,
}

impl<'w> OutputStage<'w> {
    /// A stage restricted to `symbols` (empty: all), writing BBO changes to `csv` if given.
    ///
    /// # Errors
    /// Writing the CSV header failed.
    pub fn new(symbols: &[String], csv: Option<Box<dyn io::Write + 'w>>) -> io::Result<Self> {
        let mut stage = Self::without_sinks(symbols);
        if let Some(w) = csv {
            let mut c = BboCsv::new(w);
            c.header()?;
            stage.sinks.push(Box::new(c));
        }
        Ok(stage)
    }

    /// A stage restricted to `symbols` (empty: all) with no CSV (nothing to write, so nothing
    /// can fail).
    pub fn without_sinks(symbols: &[String]) -> Self {
        let filter: Vec<[u8; 8]> = symbols.iter().map(|s| pad_symbol(s)).collect();
        OutputStage {
            selected: vec![filter.is_empty(); MAX_LOCATES],
            filter,
            symbols: vec![[b' '; 8]; MAX_LOCATES],
            digest: ItchDigest::default(),
            counts: OutputCounts::default(),
            sinks: Vec::new(),
            backtest: None,
            last_ts: Nanos(0),
            used: 0,
        }
    }

    /// Starts over for a new replay with the same symbol selection and sinks: digest,
    /// counters, symbols and (with `backtest`) a new recorder, as a new stage would have them.
    /// Meant for stages without a CSV or signal sink (those would carry on writing into the
    /// same writer).
    pub fn reset(&mut self, backtest: Option<&crate::backtest::BacktestOptions>) {
        self.selected[..self.used].fill(self.filter.is_empty());
        self.symbols[..self.used].fill([b' '; 8]);
        self.used = 0;
        self.digest = ItchDigest::default();
        self.counts = OutputCounts::default();
        self.last_ts = Nanos(0);
        self.backtest = backtest.map(crate::backtest::Recorder::new);
    }

    /// Books fills and samples equity for a backtest with `opts`.
    pub fn with_backtest(mut self, opts: Option<&crate::backtest::BacktestOptions>) -> Self {
        self.backtest = opts.map(crate::backtest::Recorder::new);
        self
    }

    /// Also writes signals to `sink`.
    pub fn with_signals(mut self, sink: Option<crate::sink::signals::SignalSink<'w>>) -> Self {
        if let Some(s) = sink {
            self.sinks.push(Box::new(s));
        }
        self
    }

    /// Also hands every output of a selected instrument to `sinks`, in order.
    pub fn with_sinks(mut self, sinks: Vec<Box<dyn Sink + 'w>>) -> Self {
        self.sinks.extend(sinks);
        self
    }

    /// Whether `instr` is in the output selection.
    pub fn is_selected(&self, instr: InstrumentIdx) -> bool {
        self.selected[instr.get() & (MAX_LOCATES - 1)]
    }

    /// The symbols of the output selection that no instrument of the input defined so far,
    /// in the order they were given (empty without a selection).
    pub fn unmatched(&self) -> Vec<String> {
        let seen = &self.symbols[..self.used];
        self.filter
            .iter()
            .filter(|f| !seen.contains(f))
            .map(|f| symbol_str(f).unwrap_or("").to_owned())
            .collect()
    }

    /// The symbol of `instr`, if defined.
    pub fn symbol(&self, instr: InstrumentIdx) -> Option<&str> {
        let s = &self.symbols[instr.get() & (MAX_LOCATES - 1)];
        if s == &[b' '; 8] {
            None
        } else {
            symbol_str(s)
        }
    }

    /// Takes one output.
    ///
    /// # Errors
    /// Writing the CSV failed.
    #[inline]
    pub fn on_output(&mut self, o: &Output) -> io::Result<()> {
        let slot = o.instr.get() & (MAX_LOCATES - 1);
        self.last_ts = o.ts;
        if let Some(bt) = self.backtest.as_mut() {
            if self.selected[slot] {
                bt.on_output(o, crate::report::symbol_field(&self.symbols[slot]));
            }
        }
        if let OutputKind::Instrument(sym) = o.kind {
            self.symbols[slot] = sym;
            self.used = self.used.max(slot + 1);
            if !self.filter.is_empty() {
                self.selected[slot] = self.filter.contains(&sym);
            }
        }
        // Market-wide status (locate 0) is always reported.
        let market_wide = slot == 0 && matches!(o.kind, OutputKind::Status { .. });
        if self.selected[slot] || market_wide {
            self.digest.take(o);
            self.counts.take(o);
            if !self.sinks.is_empty() {
                let sym = symbol_str(&self.symbols[slot]).unwrap_or("");
                for s in &mut self.sinks {
                    s.on_output(o, sym)?;
                }
            }
        }
        Ok(())
    }

    /// Ends the run for every sink (flushes the CSV, the signal records, ...).
    ///
    /// # Errors
    /// A sink failed.
    pub fn finish(&mut self) -> io::Result<()> {
        for s in &mut self.sinks {
            s.finish()?;
        }
        Ok(())
    }
}

/// The digest of an ITCH-family run: every selected instrument's top-of-book changes, trades,
/// statuses, signals, fills and order updates, in input order ([`crate::sink::digest`] has the
/// encodings).
#[derive(Default)]
pub struct ItchDigest {
    digest: Digest,
}

impl ItchDigest {
    /// Adds one output.
    #[inline]
    pub fn take(&mut self, o: &Output) {
        let d = &mut self.digest;
        match o.kind {
            OutputKind::Status { kind, code } => {
                crate::sink::digest::itch_status(d, o.instr, o.ts, kind, code);
            }
            OutputKind::Trade { px, qty, kind } => {
                crate::sink::digest::itch_trade(d, o.instr, o.ts, kind.code(), px, qty);
            }
            OutputKind::Bbo(key) => crate::sink::digest::itch_bbo(d, o.instr, o.ts, key),
            _ => crate::sink::digest::exec(d, o),
        }
    }

    /// The digest so far, as hex.
    pub fn hex(&self) -> String {
        self.digest.hex()
    }
}

impl Sink for ItchDigest {
    fn on_output(&mut self, o: &Output, _symbol: &str) -> io::Result<()> {
        self.take(o);
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What the summary counts of the outputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputCounts {
    /// Trades of selected instruments.
    pub trades: u64,
    /// Shares traded (printable executions and non-displayed trades).
    pub volume: u64,
    /// Shares crossed.
    pub cross_volume: u64,
    /// Top-of-book changes reported.
    pub bbo_changes: u64,
    /// Status changes reported.
    pub status_changes: u64,
    /// Signals reported.
    pub signals: u64,
    /// Fills of selected instruments.
    pub fills: u64,
    /// Order status changes of selected instruments (other than fills).
    pub order_updates: u64,
}

impl OutputCounts {
    /// Counts one output.
    #[inline]
    pub fn take(&mut self, o: &Output) {
        match o.kind {
            OutputKind::Status { .. } => self.status_changes += 1,
            OutputKind::Trade { qty, kind, .. } => {
                self.trades += 1;
                match kind {
                    TradeKind::Cross => self.cross_volume += qty.0,
                    TradeKind::ExecuteAtPx { printable: false } => {}
                    _ => self.volume += qty.0,
                }
            }
            OutputKind::Signal(_) => self.signals += 1,
            OutputKind::Fill { .. } => self.fills += 1,
            OutputKind::Order { .. } => self.order_updates += 1,
            OutputKind::Bbo(_) => self.bbo_changes += 1,
            _ => {}
        }
    }
}

impl Sink for OutputCounts {
    fn on_output(&mut self, o: &Output, _symbol: &str) -> io::Result<()> {
        self.take(o);
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn pad_symbol(s: &str) -> [u8; 8] {
    let mut out = [b' '; 8];
    for (o, b) in out.iter_mut().zip(s.trim().bytes()) {
        *o = b.to_ascii_uppercase();
    }
    out
}

impl ErrorCounts {
    /// Adds a decoder's counts: undecodable messages (and the first one's error) and
    /// impossible time jumps.
    pub fn add_decoder(&mut self, d: &DecodeStage) {
        self.decode += d.decode_errors;
        if self.first_decode.is_none() {
            self.first_decode = d.first_decode_error.map(|e| e.to_string());
        }
        let j = d.time.jumps();
        self.time_jump_forward += j.forward;
        self.time_jump_backward += j.backward;
    }

    /// Adds a book stage's counts.
    pub fn add_book(&mut self, e: &BookErrorCounts) {
        self.unknown_order += e.unknown_order;
        self.duplicate_order += e.duplicate_order;
        self.overfill += e.overfill;
        self.instrument_out_of_range += e.instrument_out_of_range;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticklane_engine::strategy::SignalKind;
    use ticklane_engine::strategy::{Ctx, Signal};
    use ticklane_engine::{Header, OrderId};
    use ticklane_engine::{Px, Qty, Side};

    /// Counts timer calls and says so with a signal each time.
    struct Ticker;
    impl Strategy for Ticker {
        fn name(&self) -> &'static str {
            "ticker"
        }
        fn on_timer(&mut self, ctx: &mut Ctx<'_>) {
            ctx.signal(Signal {
                kind: SignalKind::Alert,
                side: None,
                value: ctx.now.0 as f64,
            });
        }
        fn timer_interval(&self) -> Option<Nanos> {
            Some(Nanos(1_000))
        }
    }

    #[test]
    fn timer_fires_on_the_first_event_after_each_due_time() {
        let mut st = BookStage::with_strategy(Ticker);
        let mut fired = Vec::new();
        // Instrument 1 at t = 0, 500, 1500, 3700, 3900; instrument 2 at t = 3800.
        for (i, (instr, ts)) in [
            (1u32, 0u64),
            (1, 500),
            (1, 1_500),
            (1, 3_700),
            (2, 3_800),
            (1, 3_900),
        ]
        .into_iter()
        .enumerate()
        {
            let ev = Event {
                hdr: Header {
                    ts_exch: Nanos(ts),
                    instr: InstrumentIdx(instr),
                    seq: i as u64,
                    ..Header::default()
                },
                body: Body::Add {
                    order_id: OrderId(i as u64 + 1),
                    px: Px(100 + i as i64),
                    qty: Qty(1),
                    side: Side::Bid,
                },
            };
            st.on_event(&ev, &mut |o| {
                if let OutputKind::Signal(s) = o.kind {
                    fired.push((o.instr.0, s.value as u64));
                }
            });
        }
        // Instrument 1: armed at 0 (due 1000), fires at 1500 (due 2000) and 3700 (due 4000).
        // Instrument 2: its first event only arms its timer.
        assert_eq!(fired, vec![(1, 1_500), (1, 3_700)]);
    }

    /// Asks for more actions per call than the buffer holds.
    struct Flood;
    impl Strategy for Flood {
        fn name(&self) -> &'static str {
            "flood"
        }
        fn on_book(&mut self, ctx: &mut Ctx<'_>) {
            for i in 0..ticklane_engine::strategy::ACTIONS + 4 {
                ctx.signal(Signal {
                    kind: SignalKind::Alert,
                    side: None,
                    value: i as f64,
                });
            }
        }
    }

    #[test]
    fn overflowing_actions_are_dropped_and_counted() {
        let mut st = BookStage::with_strategy(Flood);
        let mut signals = 0;
        for i in 0..3u64 {
            let ev = Event {
                hdr: Header {
                    instr: InstrumentIdx(1),
                    seq: i,
                    ..Header::default()
                },
                body: Body::Add {
                    order_id: OrderId(i + 1),
                    px: Px(100),
                    qty: Qty(1),
                    side: Side::Bid,
                },
            };
            st.on_event(&ev, &mut |o| {
                signals += u64::from(matches!(o.kind, OutputKind::Signal(_)))
            });
        }
        assert_eq!(signals, 3 * ticklane_engine::strategy::ACTIONS as u64);
        assert_eq!(st.dropped_actions(), 12);
    }
}
