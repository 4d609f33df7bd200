//! Price-level (L2) venues after their sync state machine ([`crate::venue`]): the book stage
//! that applies their events to one [`L2Book`] per instrument, the output stage that digests and
//! writes what it reports, and the runner that joins a venue's machine to them, inline
//! ([`L2Replay`]) or on threads (`pipeline::replay_l2_threaded`).
//!
//! The book stage decides what is reported: a book's top of book only while it is synced,
//! unless `accept_unsynced` asks for diff-built books too. It also runs a backtest's strategy on
//! the books (see [`crate::backtest::l2`]).

use std::io::{BufRead, Write};

use ticklane_engine::book::{L2Book, L2Books, Top};
use ticklane_engine::strategy::{Strategy, TradeTick};
use ticklane_engine::{Body, Digest, Event, InstrumentIdx, Nanos, Side};
use ticklane_feeds::json::Precision;

use crate::backtest::l2::{L2Backtest, L2Change};
use crate::sink::bbo_csv::BboCsv;
use crate::sink::digest::L2Encoding;
use crate::sink::Sink;
use crate::stages::output::{Output, OutputKind, TradeKind};
use crate::venue::capture::SeenContainers;
use crate::venue::{EventBuf, Frames, VenueFormat, VenueSync};

/// A strategy backtested on a crypto replay.
pub type CryptoBacktest<'a> = L2Backtest<Box<dyn Strategy + 'a>>;

pub use crate::venue::summary::{L2Summary, SymbolSummary};
pub use crate::venue::{CryptoReplayError, CryptoReplayOptions, DECIMALS};

fn key(t: &Top) -> [(i64, u64); 2] {
    [
        t.bid.map_or((0, 0), |l| (l.px.0, l.qty.0)),
        t.ask.map_or((0, 0), |l| (l.px.0, l.qty.0)),
    ]
}

fn pair(l: Option<ticklane_engine::book::Level>) -> Option<(i64, i64)> {
    l.map(|l| (l.px.0, l.qty.0 as i64))
}

/// The name a [`Body::Symbol`] carries.
pub fn symbol_name(name: &[u8; 24]) -> String {
    let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    String::from_utf8_lossy(&name[..end]).into_owned()
}

/// What the book stage knows of the venue message it is in.
#[derive(Clone, Copy, Default)]
struct Msg {
    /// A level of an update message was counted (as applied or as before the snapshot).
    counted: bool,
    /// The backtest was shown the book before the message's first change.
    before: bool,
    /// Levels were applied and the book's crossedness is not checked yet.
    cross_check: bool,
    /// Inside a snapshot: levels set the book without being shown to the simulator.
    snapshot: bool,
    /// The strategy's book hook is due at the end of the message.
    hook: bool,
    /// The message so far only marked books stale (nothing to report).
    stale_only: bool,
    /// The first event of the message has been seen.
    open: bool,
    /// The bid side of a ticker comparison matched.
    bid_equal: Option<bool>,
}

/// Events of price-level venues to books to outputs, with a backtest's strategy and simulator.
/// One instance per book shard; it sees only its shard's instruments (their rows in
/// [`L2BookStage::stats`] are the ones filled).
pub struct L2BookStage<S: Strategy> {
    /// Per-instrument counters, by instrument index.
    pub stats: Vec<SymbolSummary>,
    books: L2Books,
    last_key: Vec<[(i64, u64); 2]>,
    unsynced_since: Vec<Option<u64>>,
    accept_unsynced: bool,
    bt: Option<L2Backtest<S>>,
    msg: Msg,
    last_ts: u64,
    /// Events applied.
    pub events: u64,
}

impl<S: Strategy> L2BookStage<S> {
    /// A stage reporting books only while synced (or always, with `accept_unsynced`),
    /// backtesting `bt` if given.
    pub fn new(accept_unsynced: bool, bt: Option<L2Backtest<S>>) -> Self {
        L2BookStage {
            stats: Vec::new(),
            books: L2Books::new(),
            last_key: Vec::new(),
            unsynced_since: Vec::new(),
            accept_unsynced,
            bt,
            msg: Msg::default(),
            last_ts: 0,
            events: 0,
        }
    }

    /// The strategy's name, when one runs.
    pub fn strategy_name(&self) -> Option<&'static str> {
        self.bt.as_ref().map(|b| b.runner.strategy.name())
    }

    fn ensure(&mut self, i: usize, ts: u64) {
        while self.stats.len() <= i {
            self.stats.push(SymbolSummary::default());
            self.last_key.push([(0, 0); 2]);
            self.unsynced_since.push(Some(ts));
        }
    }

    /// The book of instrument `i`, if it exists (read-only).
    pub fn book(&self, i: usize) -> Option<&L2Book> {
        self.books.book(InstrumentIdx(i as u32))
    }

    fn traced(&self, i: usize) -> bool {
        self.bt.is_some() && (self.accept_unsynced || self.synced(i))
    }

    fn synced(&self, i: usize) -> bool {
        self.books
            .book(InstrumentIdx(i as u32))
            .is_some_and(L2Book::is_synced)
    }

    fn set_synced(&mut self, i: usize, synced: bool) {
        let ts = self.last_ts;
        let book = self.books.book_mut(InstrumentIdx(i as u32));
        if book.is_synced() == synced {
            return;
        }
        book.set_synced(synced);
        if synced {
            if let Some(since) = self.unsynced_since[i].take() {
                self.stats[i].unsynced_ns += ts.saturating_sub(since);
            }
        } else {
            self.stats[i].resyncs += 1;
            self.unsynced_since[i] = Some(ts);
        }
    }

    fn check_crossed(&mut self, i: usize) {
        if std::mem::take(&mut self.msg.cross_check)
            && self.books.book_mut(InstrumentIdx(i as u32)).is_crossed()
        {
            self.stats[i].crossed += 1;
        }
    }

    /// Applies one event and hands what it reports to `emit`, in order.
    pub fn on_event(&mut self, ev: &Event, emit: &mut impl FnMut(Output)) {
        let i = ev.hdr.instr.get();
        let ts = ev.hdr.ts_recv.0;
        let seq = ev.hdr.seq;
        self.last_ts = ts;
        self.events += 1;
        self.ensure(i, ts);
        if !self.msg.open {
            self.msg = Msg {
                open: true,
                stale_only: true,
                ..Msg::default()
            };
        }
        let instr = ev.hdr.instr;
        let out = |kind| Output {
            seq,
            ts: Nanos(ts),
            instr,
            kind,
            stamp: 0,
        };
        match ev.body {
            Body::Symbol { name } => {
                let s = symbol_name(&name);
                if let Some(bt) = self.bt.as_mut() {
                    bt.set_symbol(i, &s);
                }
                self.stats[i].symbol = s;
                self.books.book_mut(instr);
                emit(out(OutputKind::Symbol(name)));
                self.msg.open = !ev.hdr.ends_message();
                return;
            }
            Body::SnapshotBegin => {
                self.msg.stale_only = false;
                self.books.book_mut(instr).clear();
                self.stats[i].snapshots += 1;
                self.msg.snapshot = true;
                if self.bt.is_some() {
                    self.msg.hook = true;
                }
            }
            Body::Level { side, px, qty } => {
                self.msg.stale_only = false;
                self.msg.cross_check = true;
                if self.msg.snapshot {
                    self.books.book_mut(instr).set(side, px, qty);
                } else {
                    let synced = self.synced(i);
                    if !self.msg.counted {
                        self.msg.counted = true;
                        if synced {
                            self.stats[i].updates += 1;
                        } else {
                            self.stats[i].before_snapshot += 1;
                        }
                    }
                    if synced || self.accept_unsynced {
                        let book = self.books.book_mut(instr);
                        if let Some(bt) = self.bt.as_mut() {
                            if !self.msg.before {
                                self.msg.before = true;
                                bt.before_message(i, ts, book, emit);
                            }
                            let before = book.level(side, px).map_or(0, |x| x.qty.0);
                            bt.change(
                                i,
                                ts,
                                L2Change::Level {
                                    side,
                                    px,
                                    before,
                                    after: qty.0,
                                },
                                emit,
                            );
                            self.msg.hook = true;
                        }
                        book.set(side, px, qty);
                    } else {
                        self.msg.cross_check = false;
                    }
                }
            }
            Body::Depth { levels } => {
                self.msg.stale_only = false;
                self.check_crossed(i);
                self.books.book_mut(instr).truncate(usize::from(levels));
            }
            Body::SnapshotEnd => {
                self.check_crossed(i);
                self.msg.snapshot = false;
                self.set_synced(i, true);
            }
            Body::Checksum {
                crc,
                px_decimals,
                qty_decimals,
            } => {
                self.check_crossed(i);
                if self.synced(i) {
                    let wire = Precision {
                        px: u32::from(px_decimals),
                        qty: u32::from(qty_decimals),
                    };
                    let book = self.books.book_mut(instr);
                    if ticklane_feeds::kraken::book_checksum(book, wire) == crc {
                        self.stats[i].checksum_ok += 1;
                    } else {
                        self.stats[i].checksum_bad += 1;
                        self.set_synced(i, false);
                        if !self.accept_unsynced {
                            self.books.book_mut(instr).clear();
                        }
                    }
                }
            }
            Body::ChecksumUnverified if self.synced(i) => {
                self.stats[i].checksum_unverified += 1;
            }
            Body::Stale { clear } => {
                self.set_synced(i, false);
                if clear {
                    self.books.book_mut(instr).clear();
                }
            }
            Body::TopCheck {
                side,
                px,
                qty,
                with_qty,
            } => {
                self.msg.stale_only = false;
                if self.synced(i) {
                    let top = self.books.book_mut(instr).top();
                    let l = match side {
                        Side::Bid => top.bid,
                        Side::Ask => top.ask,
                    };
                    let eq = l.is_some_and(|l| l.px == px && (!with_qty || l.qty == qty));
                    match side {
                        Side::Bid => self.msg.bid_equal = Some(eq),
                        Side::Ask => {
                            self.stats[i].tickers_compared += 1;
                            if eq && self.msg.bid_equal.take() == Some(true) {
                                self.stats[i].tickers_equal += 1;
                            }
                        }
                    }
                }
            }
            Body::Trade { px, qty, side } => {
                self.msg.stale_only = false;
                self.stats[i].trades += 1;
                let resting = side.unwrap_or(Side::Bid);
                if self.accept_unsynced || self.synced(i) {
                    emit(out(OutputKind::Trade {
                        px,
                        qty,
                        kind: TradeKind::Print { resting },
                    }));
                }
                if self.traced(i) {
                    let book = self.books.book_mut(instr);
                    if let Some(bt) = self.bt.as_mut() {
                        bt.before_message(i, ts, book, emit);
                        bt.change(
                            i,
                            ts,
                            L2Change::Trade {
                                px,
                                qty: qty.0,
                                resting,
                            },
                            emit,
                        );
                        let tick = TradeTick {
                            px,
                            qty,
                            resting: Some(resting),
                        };
                        bt.after_message(i, ts, book, Some(tick), false, emit);
                    }
                }
            }
            _ => {}
        }
        if ev.hdr.ends_message() {
            self.end_message(i, ts, seq, emit);
        }
    }

    fn end_message(&mut self, i: usize, ts: u64, seq: u64, emit: &mut impl FnMut(Output)) {
        self.check_crossed(i);
        let msg = std::mem::take(&mut self.msg);
        if msg.stale_only {
            return;
        }
        let instr = InstrumentIdx(i as u32);
        if self.accept_unsynced || self.synced(i) {
            let k = key(&self.books.book_mut(instr).top());
            if k != self.last_key[i] {
                self.last_key[i] = k;
                self.stats[i].bbo_changes += 1;
                emit(Output {
                    seq,
                    ts: Nanos(ts),
                    instr,
                    kind: OutputKind::Bbo(k),
                    stamp: 0,
                });
            }
        }
        if msg.hook && self.traced(i) {
            let book = self.books.book_mut(instr);
            if let Some(bt) = self.bt.as_mut() {
                bt.after_message(i, ts, book, None, true, emit);
            }
        }
    }

    /// Closes the stage at `end` (the last frame's time): unsynced time up to it, each
    /// book's final top, and the backtest's results (`events` is what the summary counts).
    pub fn finish(mut self, end: u64, events: u64, loop_s: f64) -> L2StageResult {
        for (i, st) in self.stats.iter_mut().enumerate() {
            let book = self.books.book_mut(InstrumentIdx(i as u32));
            if let Some(since) = self.unsynced_since[i] {
                st.unsynced_ns += end.saturating_sub(since);
            }
            st.synced_at_end = book.is_synced();
            let t = book.top();
            st.bid = pair(t.bid);
            st.ask = pair(t.ask);
        }
        let mut r = L2StageResult {
            stats: self.stats,
            strategy: None,
            signals: None,
            backtest: None,
        };
        if let Some(bt) = self.bt.take() {
            r.strategy = Some(bt.runner.strategy.name().to_owned());
            r.signals = Some(bt.signals());
            r.backtest = bt.finish(events, loop_s);
        }
        r
    }
}

/// What a book stage ends with.
pub struct L2StageResult {
    /// Per-instrument counters (rows of other shards' instruments stay empty).
    pub stats: Vec<SymbolSummary>,
    /// The strategy, if one ran.
    pub strategy: Option<String>,
    /// Its signals.
    pub signals: Option<u64>,
    /// The backtest's results, when it sent orders.
    pub backtest: Option<(
        crate::backtest::BacktestSummary,
        crate::backtest::BacktestData,
    )>,
}

impl L2StageResult {
    /// Totals and per-symbol rows into `s` (rows in instrument order).
    pub fn into_summary(self, s: &mut L2Summary) {
        for st in &self.stats {
            s.snapshots += st.snapshots;
            s.updates += st.updates;
            s.trades += st.trades;
            s.resyncs += st.resyncs;
            s.checksum_ok += st.checksum_ok;
            s.checksum_bad += st.checksum_bad;
            s.checksum_unverified += st.checksum_unverified;
            s.tickers_compared += st.tickers_compared;
            s.tickers_equal += st.tickers_equal;
            s.bbo_changes += st.bbo_changes;
        }
        s.symbols = self.stats;
        s.strategy = self.strategy;
        s.signals = self.signals;
        if let Some((b, d)) = self.backtest {
            s.backtest = Some(b);
            s.backtest_data = Some(d);
        }
    }

    /// Merges shards' results: instrument `i`'s row comes from shard `i % shards`.
    pub fn merge(mut parts: Vec<L2StageResult>) -> L2StageResult {
        let n = parts.len().max(1);
        let len = parts.iter().map(|p| p.stats.len()).max().unwrap_or(0);
        let mut stats = Vec::with_capacity(len);
        for i in 0..len {
            let row = parts[i % n].stats.get_mut(i).map(std::mem::take);
            stats.push(row.unwrap_or_default());
        }
        let first = parts.swap_remove(0);
        L2StageResult { stats, ..first }
    }
}

/// The digest of a price-level run: top-of-book changes and trade prints in the venue's
/// encoding, and the strategy's signals, fills and order updates ([`crate::sink::digest`]).
pub struct L2Digest {
    digest: Digest,
    encoding: L2Encoding,
}

impl L2Digest {
    /// Adds one output.
    #[inline]
    pub fn take(&mut self, o: &Output) {
        let d = &mut self.digest;
        match o.kind {
            OutputKind::Bbo(k) => crate::sink::digest::l2_bbo(d, self.encoding, o.instr, o.ts, k),
            OutputKind::Trade {
                px,
                qty,
                kind: TradeKind::Print { resting },
            } => crate::sink::digest::l2_trade(d, self.encoding, o.instr, o.ts, px, qty, resting),
            _ => crate::sink::digest::exec(d, o),
        }
    }
}

impl Sink for L2Digest {
    fn on_output(&mut self, o: &Output, _symbol: &str) -> std::io::Result<()> {
        self.take(o);
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Outputs of a price-level replay, in input order: the digest and the run's sinks (the BBO
/// CSV, ...).
pub struct L2Output<'a> {
    names: Vec<String>,
    digest: L2Digest,
    sinks: Vec<Box<dyn Sink + 'a>>,
    /// Time of the last output.
    pub last_ts: u64,
}

impl<'a> L2Output<'a> {
    /// A stage writing BBO changes to `csv` (its header written here).
    ///
    /// # Errors
    /// Writing the CSV header.
    pub fn new(encoding: L2Encoding, csv: Option<Box<dyn Write + 'a>>) -> std::io::Result<Self> {
        let mut sinks: Vec<Box<dyn Sink + 'a>> = Vec::new();
        if let Some(w) = csv {
            let mut c = BboCsv::with_decimals(w, DECIMALS);
            c.header()?;
            sinks.push(Box::new(c));
        }
        Ok(L2Output {
            names: Vec::new(),
            digest: L2Digest {
                digest: Digest::new(),
                encoding,
            },
            sinks,
            last_ts: 0,
        })
    }

    /// Takes one output.
    ///
    /// # Errors
    /// Writing the CSV.
    pub fn on_output(&mut self, o: &Output) -> std::io::Result<()> {
        let i = o.instr.get();
        self.last_ts = o.ts.0;
        if let OutputKind::Symbol(name) = o.kind {
            if self.names.len() <= i {
                self.names.resize(i + 1, String::new());
            }
            self.names[i] = symbol_name(&name);
        }
        self.digest.take(o);
        let sym = self.names.get(i).map_or("", String::as_str);
        for s in &mut self.sinks {
            s.on_output(o, sym)?;
        }
        Ok(())
    }

    /// Also hands every output to `sinks`, in order.
    #[must_use]
    pub fn with_sinks(mut self, sinks: Vec<Box<dyn Sink + 'a>>) -> Self {
        self.sinks.extend(sinks);
        self
    }

    /// Flushes the CSV and returns the digest.
    ///
    /// # Errors
    /// Flushing the CSV.
    pub fn finish(mut self) -> std::io::Result<String> {
        for s in &mut self.sinks {
            s.finish()?;
        }
        Ok(self.digest.digest.hex())
    }
}

/// A price-level replay run inline: a venue's sync machine, the book stage and the outputs,
/// one frame at a time. The file replay feeds it capture lines, the live runner websocket
/// frames, the consolidated replay lines of several captures (one runner per capture).
pub struct L2Replay<'a> {
    machine: Box<dyn VenueSync>,
    buf: EventBuf,
    frames: Frames,
    stage: L2BookStage<Box<dyn Strategy + 'a>>,
    output: L2Output<'a>,
    seen: SeenContainers,
    failed: Option<std::io::Error>,
    loop_started: std::time::Instant,
}

impl<'a> L2Replay<'a> {
    /// A runner for `format` configured by `opts`.
    ///
    /// # Errors
    /// [`CryptoReplayError::Output`] writing the CSV header; [`CryptoReplayError::Backtest`].
    pub fn new(
        format: VenueFormat,
        mut opts: CryptoReplayOptions<'a>,
    ) -> Result<Self, CryptoReplayError> {
        let machine = format.machine(&opts);
        let bt = match opts.backtest.take() {
            Some((s, bo)) => Some(L2Backtest::new(s, bo)?.with_quotes(format.quote_fn())),
            None => None,
        };
        let encoding = format.digest_encoding();
        Ok(L2Replay {
            machine,
            buf: EventBuf::default(),
            frames: Frames::new(opts.max_time_jump_ns),
            stage: L2BookStage::new(opts.accept_unsynced, bt),
            output: L2Output::new(encoding, opts.bbo_csv.take())
                .map_err(CryptoReplayError::Output)?
                .with_sinks(std::mem::take(&mut opts.sinks)),
            seen: SeenContainers::default(),
            failed: None,
            loop_started: std::time::Instant::now(),
        })
    }

    /// Also hands every output to `sinks`, in order.
    pub fn with_sinks(mut self, sinks: Vec<Box<dyn Sink + 'a>>) -> Self {
        self.output = self.output.with_sinks(sinks);
        self
    }

    /// A summary to count into, named for the venue.
    pub fn new_summary(&self) -> L2Summary {
        L2Summary {
            format: self.machine.format().name().into(),
            ..L2Summary::default()
        }
    }

    fn drain(&mut self) {
        let (stage, output, failed) = (&mut self.stage, &mut self.output, &mut self.failed);
        for ev in self.buf.events() {
            stage.on_event(ev, &mut |o| {
                if failed.is_none() {
                    if let Err(e) = output.on_output(&o) {
                        *failed = Some(e);
                    }
                }
            });
        }
        self.buf.clear();
    }

    fn result(&mut self) -> Result<(), CryptoReplayError> {
        match self.failed.take() {
            Some(e) => Err(CryptoReplayError::Output(e)),
            None => Ok(()),
        }
    }

    /// One raw capture line (blank lines are skipped; others counted, classified or counted
    /// bad).
    ///
    /// # Errors
    /// [`CryptoReplayError::Output`] writing the CSV.
    pub fn on_raw_line(&mut self, line: &[u8], s: &mut L2Summary) -> Result<(), CryptoReplayError> {
        crate::venue::feed_line(
            self.machine.as_mut(),
            &mut self.frames,
            &mut self.seen,
            line,
            s,
            &mut self.buf,
        );
        self.drain();
        self.result()
    }

    /// Every line of `input`, as [`on_raw_line`](Self::on_raw_line).
    ///
    /// # Errors
    /// [`CryptoReplayError::Read`], [`CryptoReplayError::Output`].
    pub fn feed_lines(
        &mut self,
        mut input: impl BufRead,
        s: &mut L2Summary,
    ) -> Result<(), CryptoReplayError> {
        let mut line = Vec::with_capacity(1 << 16);
        loop {
            match crate::venue::capture::read_line(&mut input, &mut line) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(CryptoReplayError::Read(e)),
            }
            self.on_raw_line(&line, s)?;
        }
    }

    /// One websocket frame received at `ts`; counted as a line.
    ///
    /// # Errors
    /// [`CryptoReplayError::Output`] writing the CSV.
    pub fn on_frame(
        &mut self,
        s: &mut L2Summary,
        ts: u64,
        json: &[u8],
    ) -> Result<(), CryptoReplayError> {
        s.lines += 1;
        let ts = self.frames.admit(ts);
        self.machine.on_frame(ts, json, s, &mut self.buf);
        self.drain();
        self.result()
    }

    /// The connection was lost at `ts`: every book is stale until the venue's next snapshot.
    pub fn lose_sync(&mut self, ts: u64) {
        let ts = self.frames.admit(ts);
        self.machine.lose_sync(ts, &mut self.buf);
        self.drain();
    }

    /// Instruments seen, in index order.
    pub fn products(&self) -> impl Iterator<Item = &str> + '_ {
        self.buf.names().iter().map(String::as_str)
    }

    /// The book of instrument `i`, if it exists.
    pub fn book_at(&self, i: usize) -> Option<&L2Book> {
        self.stage.book(i)
    }

    /// The venue's update id instrument `i`'s book is at (see [`VenueSync::sequence`]).
    pub fn sequence(&self, i: usize) -> Option<u64> {
        self.machine.sequence(i)
    }

    /// Whether instrument `i` waits for a snapshot it must ask for (see
    /// [`VenueSync::awaiting_snapshot`]).
    pub fn awaiting_snapshot(&self, i: usize) -> bool {
        self.machine.awaiting_snapshot(i)
    }

    /// Diffs decoded and tickers seen so far (see [`VenueSync::counts`]).
    pub fn machine_counts(&self) -> (u64, u64) {
        self.machine.counts()
    }

    /// Whether every instrument seen has a synced book (false before any).
    pub fn all_synced(&self) -> bool {
        !self.buf.names().is_empty()
            && (0..self.buf.names().len())
                .all(|i| self.stage.book(i).is_some_and(L2Book::is_synced))
    }

    /// The book of `product`, if seen.
    pub fn book(&self, product: &str) -> Option<&L2Book> {
        self.stage.book(self.buf.find(product)?.get())
    }

    /// Per-instrument counters so far.
    pub fn stats(&self) -> &[SymbolSummary] {
        &self.stage.stats
    }

    /// Ends the run: totals, per-symbol rows and the digest into `s`.
    ///
    /// # Errors
    /// [`CryptoReplayError::WrongVenue`] when lines were read but none decoded;
    /// [`CryptoReplayError::Output`] flushing the CSV.
    pub fn finish(mut self, s: &mut L2Summary) -> Result<(), CryptoReplayError> {
        self.result()?;
        let loop_s = self.loop_started.elapsed().as_secs_f64();
        let end = self.frames.last();
        self.frames.count_into(s);
        self.stage.finish(end, s.lines, loop_s).into_summary(s);
        if s.container.is_empty() {
            s.container = self.seen.name().into();
        }
        crate::venue::finish_machine(self.machine.as_mut(), s)?;
        s.digest = self.output.finish().map_err(CryptoReplayError::Output)?;
        Ok(())
    }
}

/// Replays a capture of `format` inline.
///
/// # Errors
/// [`CryptoReplayError`].
pub fn replay_l2(
    format: VenueFormat,
    mut input: impl BufRead,
    opts: CryptoReplayOptions<'_>,
) -> Result<L2Summary, CryptoReplayError> {
    let started = std::time::Instant::now();
    let mut r = L2Replay::new(format, opts)?;
    let mut s = r.new_summary();
    r.feed_lines(&mut input, &mut s)?;
    r.finish(&mut s)?;
    s.elapsed_s = started.elapsed().as_secs_f64();
    Ok(s)
}
