//! What every crypto L2 replay shares once a venue's messages are decoded: instruments indexed
//! densely in first-seen order, one [`L2Book`] each with its sync flag, per-symbol counters and
//! unsynced time, the BBO change stream (CSV and digest), and the summary printed at the end.
//!
//! Venue replays (Coinbase, Kraken) decide *when* a book is synced and what to apply; this module
//! decides what is reported: a book's top of book only while it is synced, unless
//! `accept_unsynced` asks for diff-built books too.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use ticklane_engine::book::{L2Book, L2Books, Top};
use ticklane_engine::event_time::TimeGuard;
use ticklane_engine::{Digest, InstrumentIdx, Nanos, Px, Qty, Side};
use ticklane_feeds::json::{LevelUpdate, Precision};

use crate::bbo_csv::BboCsv;
use crate::capture::{classify, CaptureLine, SeenContainers};
use crate::l2backtest::{L2Backtest, L2BacktestError, L2Change};
use ticklane_engine::strategy::{Strategy, TradeTick};

/// A strategy backtested on a crypto replay.
pub type CryptoBacktest<'a> = L2Backtest<Box<dyn Strategy + 'a>>;

/// Decimals of every price and size in a crypto replay's books (1e-8 units).
pub const DECIMALS: u32 = 8;

/// Options.
#[derive(Default)]
pub struct CryptoReplayOptions<'a> {
    /// Report books before their snapshot (or after losing sync) too.
    pub accept_unsynced: bool,
    /// BBO CSV sink (prices with 8 decimals).
    pub bbo_csv: Option<Box<dyn Write + 'a>>,
    /// Kraken: the subscribed book depth for v2 captures (v1 names it in the channel,
    /// `book-10`); the book is truncated to it after every message. Default 10.
    pub book_depth: Option<usize>,
    /// Kraken v2: each pair's price and quantity decimals as the venue writes them (from its
    /// instrument channel), needed to verify checksums; v1 strings tell them themselves.
    pub wire_precision: Vec<(String, Precision)>,
    /// Backtest this strategy on the books (see [`crate::l2backtest`]): it runs on every
    /// level update and trade of a synced book (or of any book, with `accept_unsynced`).
    pub backtest: Option<(Box<dyn Strategy + 'a>, crate::backtest::BacktestOptions)>,
    /// Largest jump of receive time between two frames, ns; a larger one is counted and the
    /// frame applied at the previous frame's time ([`ticklane_engine::event_time`]). `None`:
    /// the default, 6 hours.
    pub max_time_jump_ns: Option<u64>,
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum CryptoReplayError {
    /// Reading the capture failed.
    #[error("reading the capture: {0}")]
    Read(std::io::Error),
    /// Writing the BBO CSV failed.
    #[error("writing the BBO CSV: {0}")]
    Output(std::io::Error),
    /// Nothing in the input decoded as this venue's messages.
    #[error("not a {venue} capture: no frame decoded ({bad} bad lines or frames)")]
    WrongVenue {
        /// The venue asked for.
        venue: &'static str,
        /// Lines and frames that failed.
        bad: u64,
    },
    /// The backtest cannot run on this data as configured.
    #[error("{0}")]
    Backtest(#[from] L2BacktestError),
}

/// Reads capture lines into `frame` one at a time and hands each classified line to `f`.
pub fn for_each_line(
    mut input: impl BufRead,
    seen: &mut SeenContainers,
    s: &mut L2Summary,
    mut f: impl FnMut(CaptureLine<'_>, &mut L2Summary) -> Result<(), CryptoReplayError>,
) -> Result<(), CryptoReplayError> {
    let mut line = Vec::with_capacity(1 << 16);
    loop {
        match crate::capture::read_line(&mut input, &mut line) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(CryptoReplayError::Read(e)),
        }
        on_capture_line(&line, seen, s, &mut f)?;
    }
}

/// One raw capture line, exactly as [`for_each_line`] treats each: blank lines are skipped,
/// others counted, classified (or counted bad) and handed to `f`. For callers that read lines
/// themselves (the consolidated replay interleaves several captures).
///
/// # Errors
/// Whatever `f` returns.
pub fn on_capture_line(
    line: &[u8],
    seen: &mut SeenContainers,
    s: &mut L2Summary,
    mut f: impl FnMut(CaptureLine<'_>, &mut L2Summary) -> Result<(), CryptoReplayError>,
) -> Result<(), CryptoReplayError> {
    if line.trim_ascii().is_empty() {
        return Ok(());
    }
    s.lines += 1;
    let Some(l) = classify(line) else {
        s.bad_lines += 1;
        return Ok(());
    };
    match l {
        CaptureLine::Frame { container, .. }
        | CaptureLine::Rest { container, .. }
        | CaptureLine::Meta { container } => seen.add(container),
    }
    f(l, s)
}

/// Per-symbol results.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct SymbolSummary {
    /// Symbol / product id as the venue spells it.
    pub symbol: String,
    /// Snapshots applied.
    pub snapshots: u64,
    /// Level updates (messages) applied.
    pub updates: u64,
    /// Updates that arrived while the book was unsynced (before its first snapshot, or after
    /// it lost sync; kept out of the book unless `accept_unsynced`).
    pub before_snapshot: u64,
    /// Trades.
    pub trades: u64,
    /// Ticker messages.
    pub tickers: u64,
    /// Tickers aligned with the book and compared with its top.
    pub tickers_compared: u64,
    /// Of those, equal.
    pub tickers_equal: u64,
    /// Checksums that matched the book.
    pub checksum_ok: u64,
    /// Checksums that did not (each one marks the book invalid and counts a resync).
    pub checksum_bad: u64,
    /// Checksums that could not be verified (the pair's wire decimals are unknown).
    pub checksum_unverified: u64,
    /// Times the book lost sync.
    pub resyncs: u64,
    /// Updates after which the book was crossed.
    pub crossed: u64,
    /// Receive time spent unsynced, ns (from the symbol's first message).
    pub unsynced_ns: u64,
    /// Whether the book ended synced.
    pub synced_at_end: bool,
    /// Reported top-of-book changes.
    pub bbo_changes: u64,
    /// Final best bid (px, qty) in 1e-8 units.
    pub bid: Option<(i64, i64)>,
    /// Final best ask.
    pub ask: Option<(i64, i64)>,
}

/// What a crypto L2 replay reports.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct L2Summary {
    /// Venue format (`coinbase`, `kraken`).
    pub format: String,
    /// Container format of the file (`cryptofeed`, `ns-lines`, `jsonl`, or `mixed`).
    pub container: String,
    /// Lines read.
    pub lines: u64,
    /// Frames decoded into a book, trade or ticker message.
    pub messages: u64,
    /// Control frames (subscriptions, heartbeats, status) and capture header/sent lines. Every
    /// line is counted once: `lines == messages + control + bad_total()`.
    pub control: u64,
    /// Lines that are not a capture line of any known container.
    pub bad_lines: u64,
    /// Frames that are not JSON.
    pub bad_json: u64,
    /// JSON frames of an unknown type.
    pub unknown: u64,
    /// Frames with a missing or invalid field.
    pub bad_fields: u64,
    /// Frames whose receive time was ahead of the previous frame's by more than the allowed
    /// jump (applied at the previous frame's time; see [`ticklane_engine::event_time`]).
    pub time_jump_forward: u64,
    /// Frames whose receive time was behind the previous frame's by more than the allowed jump.
    pub time_jump_backward: u64,
    /// Totals over all symbols.
    pub snapshots: u64,
    /// Updates applied, all symbols.
    pub updates: u64,
    /// Trades, all symbols.
    pub trades: u64,
    /// Resyncs, all symbols.
    pub resyncs: u64,
    /// Checksums verified equal, all symbols.
    pub checksum_ok: u64,
    /// Checksum mismatches, all symbols.
    pub checksum_bad: u64,
    /// Checksums not verifiable (wire decimals unknown), all symbols.
    pub checksum_unverified: u64,
    /// Tickers compared with the book, all symbols.
    pub tickers_compared: u64,
    /// Of those, equal.
    pub tickers_equal: u64,
    /// Reported top-of-book changes, all symbols.
    pub bbo_changes: u64,
    /// Per symbol, in first-seen (instrument index) order.
    pub symbols: Vec<SymbolSummary>,
    /// The strategy backtested, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Its signals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signals: Option<u64>,
    /// Backtest results, when the strategy sent orders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backtest: Option<crate::backtest::BacktestSummary>,
    /// The backtest's trade log and equity curve (not serialized with the summary).
    #[serde(skip)]
    pub backtest_data: Option<crate::backtest::BacktestData>,
    /// Wall time, s (not in the digest).
    pub elapsed_s: f64,
    /// Digest over the ordered BBO changes and trades of all symbols.
    pub digest: String,
}

impl L2Summary {
    /// Counts a frame a decoder refused.
    pub fn count_error(&mut self, e: ticklane_feeds::json::MsgError) {
        use ticklane_feeds::json::MsgError;
        match e {
            MsgError::Json => self.bad_json += 1,
            MsgError::Unknown => self.unknown += 1,
            MsgError::Field(_) => self.bad_fields += 1,
        }
    }

    /// Frames or lines that could not be used.
    pub fn bad_total(&self) -> u64 {
        self.bad_lines + self.bad_json + self.unknown + self.bad_fields
    }

    /// Frames with an impossible receive time (used, at the previous frame's time).
    pub fn time_jumps(&self) -> u64 {
        self.time_jump_forward + self.time_jump_backward
    }

    /// The backtest report's view of this run (`None` when no backtest ran or it sent no
    /// orders).
    pub fn report_input(&self) -> Option<crate::report::ReportInput<'_>> {
        Some(
            self.backtest_data
                .as_ref()?
                .report_input(self.lines, &self.digest),
        )
    }
}

fn key(t: &Top) -> [(i64, u64); 2] {
    [
        t.bid.map_or((0, 0), |l| (l.px.0, l.qty.0)),
        t.ask.map_or((0, 0), |l| (l.px.0, l.qty.0)),
    ]
}

fn pair(l: Option<ticklane_engine::book::Level>) -> Option<(i64, i64)> {
    l.map(|l| (l.px.0, l.qty.0 as i64))
}

/// Books, counters and outputs of a multi-instrument L2 replay.
pub struct L2State<'a> {
    index: BTreeMap<String, usize>,
    /// Per-instrument summaries, by index.
    pub stats: Vec<SymbolSummary>,
    books: L2Books,
    last_key: Vec<[(i64, u64); 2]>,
    unsynced_since: Vec<Option<u64>>,
    accept_unsynced: bool,
    digest: Digest,
    csv: Option<BboCsv<'a>>,
    last_ts: u64,
    time: TimeGuard,
    bt: Option<CryptoBacktest<'a>>,
    strategy_name: Option<&'static str>,
    /// A book update of this instrument waits for the strategy's hooks (run by `report`).
    hook: Option<usize>,
    loop_started: std::time::Instant,
}

impl<'a> L2State<'a> {
    /// A state writing BBO changes to `csv` (header written here), allowing receive times to
    /// jump by up to `max_time_jump_ns` between two frames (`None`: the default).
    ///
    /// # Errors
    /// Writing the CSV header.
    pub fn new(
        accept_unsynced: bool,
        csv: Option<Box<dyn Write + 'a>>,
        max_time_jump_ns: Option<u64>,
    ) -> std::io::Result<Self> {
        let mut csv = csv.map(|w| BboCsv::with_decimals(w, DECIMALS));
        if let Some(c) = csv.as_mut() {
            c.header()?;
        }
        Ok(L2State {
            index: BTreeMap::new(),
            stats: Vec::new(),
            books: L2Books::new(),
            last_key: Vec::new(),
            unsynced_since: Vec::new(),
            accept_unsynced,
            digest: Digest::new(),
            csv,
            last_ts: 0,
            time: max_time_jump_ns.map_or_else(TimeGuard::default, TimeGuard::new),
            bt: None,
            strategy_name: None,
            hook: None,
            loop_started: std::time::Instant::now(),
        })
    }

    /// Backtests `backtest`'s strategy on the books (on the instruments quoted in the first
    /// one's currency, as `quote_of` tells them; see [`L2Backtest::with_quotes`]).
    ///
    /// # Errors
    /// [`CryptoReplayError::Backtest`] (the FIFO queue model).
    pub fn with_backtest(
        mut self,
        backtest: Option<(Box<dyn Strategy + 'a>, crate::backtest::BacktestOptions)>,
        quote_of: fn(&str) -> Option<String>,
    ) -> Result<Self, CryptoReplayError> {
        if let Some((s, opts)) = backtest {
            self.strategy_name = Some(s.name());
            self.bt = Some(L2Backtest::new(s, opts)?.with_quotes(quote_of));
        }
        self.loop_started = std::time::Instant::now();
        Ok(self)
    }

    fn traced(&self, i: usize) -> bool {
        self.bt.is_some()
            && (self.accept_unsynced
                || self
                    .books
                    .book(InstrumentIdx(i as u32))
                    .is_some_and(L2Book::is_synced))
    }

    /// Notes the receive time of the current frame and returns the time to apply it at: `ts`,
    /// or the previous frame's time when `ts` jumped by more than the allowed bound (counted).
    pub fn at(&mut self, ts: u64) -> u64 {
        self.last_ts = self.time.admit(ts);
        self.last_ts
    }

    /// The dense index of `symbol`, assigned on first sight (its book starts empty and unsynced).
    pub fn instr(&mut self, symbol: &str) -> usize {
        if let Some(&i) = self.index.get(symbol) {
            return i;
        }
        let i = self.stats.len();
        self.index.insert(symbol.to_owned(), i);
        self.stats.push(SymbolSummary {
            symbol: symbol.to_owned(),
            ..SymbolSummary::default()
        });
        self.last_key.push([(0, 0); 2]);
        self.unsynced_since.push(Some(self.last_ts));
        self.books.book_mut(InstrumentIdx(i as u32));
        if let Some(bt) = self.bt.as_mut() {
            bt.set_symbol(i, symbol);
        }
        i
    }

    /// The index of `symbol` if it has been seen.
    pub fn find(&self, symbol: &str) -> Option<usize> {
        self.index.get(symbol).copied()
    }

    /// The book of instrument `i`, if it exists (read-only).
    pub fn book_ref(&self, i: usize) -> Option<&L2Book> {
        self.books.book(InstrumentIdx(i as u32))
    }

    /// The book of instrument `i`.
    pub fn book(&mut self, i: usize) -> &mut L2Book {
        self.books.book_mut(InstrumentIdx(i as u32))
    }

    /// Applies level updates to instrument `i`'s book (qty 0 removes a level). With a
    /// backtest on a usable book, each level's change goes to the simulator first.
    pub fn apply(&mut self, i: usize, levels: &[LevelUpdate]) {
        if self.traced(i) {
            let ts = self.last_ts;
            let (books, digest) = (&mut self.books, &mut self.digest);
            let book = books.book_mut(InstrumentIdx(i as u32));
            if let Some(bt) = self.bt.as_mut() {
                bt.before_message(i, ts, book, digest);
                for l in levels {
                    let side = if l.bid { Side::Bid } else { Side::Ask };
                    let after = l.qty.max(0) as u64;
                    let before = book.level(side, Px(l.px)).map_or(0, |x| x.qty.0);
                    bt.change(
                        i,
                        ts,
                        L2Change::Level {
                            side,
                            px: Px(l.px),
                            before,
                            after,
                        },
                        digest,
                    );
                    book.set(side, Px(l.px), Qty(after));
                }
            }
            self.hook = Some(i);
        } else {
            let book = self.book(i);
            for l in levels {
                let side = if l.bid { Side::Bid } else { Side::Ask };
                book.set(side, Px(l.px), Qty(l.qty.max(0) as u64));
            }
        }
        if self.book(i).is_crossed() {
            self.stats[i].crossed += 1;
        }
    }

    /// Replaces instrument `i`'s book with a snapshot's levels (not shown to a backtest's
    /// simulator as level changes: a snapshot says what is there, not what happened).
    pub fn apply_snapshot(&mut self, i: usize, levels: &[LevelUpdate]) {
        let book = self.book(i);
        book.clear();
        for l in levels {
            let side = if l.bid { Side::Bid } else { Side::Ask };
            book.set(side, Px(l.px), Qty(l.qty.max(0) as u64));
        }
        if book.is_crossed() {
            self.stats[i].crossed += 1;
        }
        if self.bt.is_some() {
            self.hook = Some(i);
        }
    }

    /// Whether instrument `i`'s book is synced.
    pub fn is_synced(&mut self, i: usize) -> bool {
        self.book(i).is_synced()
    }

    /// Marks instrument `i` synced or not, keeping the unsynced-time account; losing sync counts
    /// a resync.
    pub fn set_synced(&mut self, i: usize, synced: bool) {
        let ts = self.last_ts;
        let was = self.book(i).is_synced();
        if was == synced {
            return;
        }
        self.book(i).set_synced(synced);
        if synced {
            if let Some(since) = self.unsynced_since[i].take() {
                self.stats[i].unsynced_ns += ts.saturating_sub(since);
            }
        } else {
            self.stats[i].resyncs += 1;
            self.unsynced_since[i] = Some(ts);
        }
    }

    /// After a change to instrument `i`'s book: report a changed top of book (CSV, digest) if
    /// the book is synced or unsynced books are accepted.
    ///
    /// # Errors
    /// Writing the CSV.
    pub fn report(&mut self, i: usize) -> std::io::Result<()> {
        let r = self.report_bbo(i);
        if let Some(h) = self.hook.take() {
            if self.traced(h) {
                self.run_hooks(h, None, true);
            }
        }
        r
    }

    fn run_hooks(&mut self, i: usize, trade: Option<TradeTick>, book_changed: bool) {
        let ts = self.last_ts;
        let (books, digest) = (&mut self.books, &mut self.digest);
        let book = books.book_mut(InstrumentIdx(i as u32));
        if let Some(bt) = self.bt.as_mut() {
            bt.after_message(i, ts, book, trade, book_changed, digest);
        }
    }

    fn report_bbo(&mut self, i: usize) -> std::io::Result<()> {
        let ts = self.last_ts;
        let accept = self.accept_unsynced;
        let book = self.book(i);
        if !book.is_synced() && !accept {
            return Ok(());
        }
        let k = key(&book.top());
        if k == self.last_key[i] {
            return Ok(());
        }
        self.last_key[i] = k;
        self.stats[i].bbo_changes += 1;
        self.digest.word(1 | (i as u64) << 8);
        self.digest.word(ts);
        self.digest.iword(k[0].0);
        self.digest.word(k[0].1);
        self.digest.iword(k[1].0);
        self.digest.word(k[1].1);
        if let Some(c) = self.csv.as_mut() {
            c.row(Nanos(ts), &self.stats[i].symbol, k)?;
        }
        Ok(())
    }

    /// A trade on instrument `i` (`maker_sell`: the resting order was a sell); it enters the
    /// digest while the book is synced or unsynced books are accepted.
    pub fn trade(&mut self, i: usize, px: i64, qty: i64, maker_sell: bool) {
        self.stats[i].trades += 1;
        let ts = self.last_ts;
        if self.accept_unsynced || self.book(i).is_synced() {
            self.digest
                .word(2 | u64::from(maker_sell) << 1 | (i as u64) << 8);
            self.digest.word(ts);
            self.digest.iword(px);
            self.digest.iword(qty);
        }
        if self.traced(i) {
            let resting = if maker_sell { Side::Ask } else { Side::Bid };
            let q = qty.max(0) as u64;
            let (books, digest) = (&mut self.books, &mut self.digest);
            let book = books.book_mut(InstrumentIdx(i as u32));
            if let Some(bt) = self.bt.as_mut() {
                bt.before_message(i, ts, book, digest);
                bt.change(
                    i,
                    ts,
                    L2Change::Trade {
                        px: Px(px),
                        qty: q,
                        resting,
                    },
                    digest,
                );
            }
            let tick = TradeTick {
                px: Px(px),
                qty: Qty(q),
                resting: Some(resting),
            };
            self.run_hooks(i, Some(tick), false);
        }
    }

    /// Closes the run: final tops, unsynced time up to the last frame, totals.
    ///
    /// # Errors
    /// Flushing the CSV.
    pub fn finish(mut self, s: &mut L2Summary) -> std::io::Result<()> {
        if let Some(c) = self.csv.as_mut() {
            c.flush()?;
        }
        if let Some(bt) = self.bt.take() {
            let loop_s = self.loop_started.elapsed().as_secs_f64();
            s.strategy = self.strategy_name.map(str::to_owned);
            s.signals = Some(bt.signals);
            if let Some((b, d)) = bt.finish(s.lines, loop_s) {
                s.backtest = Some(b);
                s.backtest_data = Some(d);
            }
        }
        let j = self.time.jumps();
        s.time_jump_forward += j.forward;
        s.time_jump_backward += j.backward;
        let end = self.last_ts;
        for (i, st) in self.stats.iter_mut().enumerate() {
            let book = self.books.book_mut(InstrumentIdx(i as u32));
            if let Some(since) = self.unsynced_since[i] {
                st.unsynced_ns += end.saturating_sub(since);
            }
            st.synced_at_end = book.is_synced();
            let t = book.top();
            st.bid = pair(t.bid);
            st.ask = pair(t.ask);
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
        s.digest = self.digest.hex();
        Ok(())
    }
}

impl std::fmt::Display for L2Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let px = |v: Option<(i64, i64)>| {
            v.map_or_else(
                || "-".to_owned(),
                |(p, q)| {
                    format!(
                        "{} @ {}",
                        Px(q).display_decimals(DECIMALS),
                        Px(p).display_decimals(DECIMALS)
                    )
                },
            )
        };
        writeln!(
            f,
            "format:        {} ({} capture, {} symbols)",
            self.format,
            self.container,
            self.symbols.len()
        )?;
        writeln!(
            f,
            "lines:         {} ({} messages, {} control, bad: {} lines, {} JSON, {} unknown type, {} fields)",
            self.lines, self.messages, self.control, self.bad_lines, self.bad_json, self.unknown, self.bad_fields
        )?;
        if self.time_jumps() > 0 {
            writeln!(
                f,
                "time jumps:    {} ahead, {} back (bad receive times; those frames were applied at the previous frame's time)",
                self.time_jump_forward, self.time_jump_backward
            )?;
        }
        writeln!(
            f,
            "book:          {} snapshots, {} updates applied, {} trades, {} resyncs",
            self.snapshots, self.updates, self.trades, self.resyncs
        )?;
        if self.checksum_ok + self.checksum_bad + self.checksum_unverified > 0 {
            writeln!(
                f,
                "checksums:     {} verified equal, {} mismatched, {} not verifiable (decimals unknown)",
                self.checksum_ok, self.checksum_bad, self.checksum_unverified
            )?;
        }
        writeln!(
            f,
            "tickers:       {} aligned with the book compared, {} equal",
            self.tickers_compared, self.tickers_equal
        )?;
        writeln!(f, "bbo changes:   {}", self.bbo_changes)?;
        writeln!(f, "per symbol:")?;
        writeln!(
            f,
            "  {:<12} {:>6} {:>5} {:>7} {:>9} {:>9}  {:<28} {:<28}",
            "symbol", "updates", "resync", "unsync s", "tick cmp", "tick eq", "bid", "ask"
        )?;
        for s in &self.symbols {
            writeln!(
                f,
                "  {:<12} {:>6} {:>5} {:>7.3}{} {:>9} {:>9}  {:<28} {:<28}",
                s.symbol,
                s.updates,
                s.resyncs,
                s.unsynced_ns as f64 / 1e9,
                if s.synced_at_end { " " } else { "!" },
                s.tickers_compared,
                s.tickers_equal,
                px(s.bid),
                px(s.ask)
            )?;
        }
        writeln!(f, "  (! = book unsynced at end)")?;
        crate::l2backtest::fmt_summary_lines(
            f,
            self.strategy.as_deref(),
            self.signals,
            self.backtest.as_ref(),
        )?;
        writeln!(f, "elapsed:       {:.3} s", self.elapsed_s)?;
        write!(f, "digest: {}", self.digest)
    }
}
