//! Replay of a Binance capture (hftbacktest's `<receive ns> <frame JSON>` lines, our JSON lines
//! with REST snapshots as lines of their own, or cryptofeed's raw capture lines, see
//! [`crate::capture`]; plain or gzip) through the decoder and one L2 book per symbol,
//! synchronized the way Binance documents it.
//!
//! The capture runs through the [`crate::venue::binance`] machine's events and the shared
//! price-level book stage ([`L2Replay`]); this module keeps Binance's own view of the result
//! ([`BinanceSummary`], as the replay has always printed it) and the API the live runner and
//! the websocket test venue use.
//!
//! Symbols get dense instrument indices in first-seen order, each with its own book, buffered
//! diffs and sync state. A REST snapshot belongs to the symbol in its URL; a snapshot body
//! without one (a live runner's REST response, a partial-depth frame) belongs to the first
//! symbol.
//!
//! Sync: depth diffs are buffered until a depth snapshot arrives; diffs older than the snapshot
//! are dropped (spot: `u <= lastUpdateId`; futures: `u < lastUpdateId`); the first diff applied must bracket it (spot:
//! `U <= lastUpdateId + 1 <= u`; USD-M futures: `U <= lastUpdateId <= u`), and every later one
//! must continue the previous (spot: `U == previous u + 1`; futures: `pu == previous u`). A break
//! marks the book unsynced and counts a resync; it stays unsynced until the next snapshot. A
//! capture without a snapshot replays from an empty, unsynced book: its top of book is reported
//! only with `accept_unsynced`, and the summary says how long the book was unsynced either way.
//!
//! Prices and quantities keep all 8 decimals Binance sends (1e-8 units).

use std::io::{BufRead, Write};

use ticklane_engine::book::L2Book;

use crate::l2state::{CryptoReplayError, CryptoReplayOptions, L2Replay, L2Summary};
use crate::venue::VenueFormat;

/// Options.
#[derive(Default)]
pub struct BinanceReplayOptions<'a> {
    /// Report the top of book while unsynced too (a diff-built book), instead of only after a
    /// snapshot.
    pub accept_unsynced: bool,
    /// BBO CSV sink (prices with 8 decimals).
    pub bbo_csv: Option<Box<dyn Write + 'a>>,
    /// Backtest this strategy on the book (see [`crate::l2backtest`]): it runs on every depth
    /// diff and trade while the book is synced (or always, with `accept_unsynced`).
    pub backtest: Option<(
        Box<dyn ticklane_engine::strategy::Strategy + 'a>,
        crate::backtest::BacktestOptions,
    )>,
    /// Largest jump of receive time between two frames, ns; a larger one is counted and the
    /// frame applied at the previous frame's time ([`ticklane_engine::event_time`]). `None`:
    /// the default, 6 hours.
    pub max_time_jump_ns: Option<u64>,
}

/// One symbol's results in a Binance replay.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct BinanceSymbolSummary {
    /// Symbol as Binance spells it (`BTCUSDT`).
    pub symbol: String,
    /// Depth diffs decoded.
    pub depth: u64,
    /// Snapshots.
    pub snapshots: u64,
    /// Trades (and aggregate trades).
    pub trades: u64,
    /// Book tickers.
    pub tickers: u64,
    /// Diffs applied to the book.
    pub applied: u64,
    /// Diffs dropped as older than the snapshot.
    pub stale_dropped: u64,
    /// Sequence breaks (the book was marked unsynced).
    pub resyncs: u64,
    /// Receive time the book spent unsynced, ns (from the symbol's first message).
    pub unsynced_ns: u64,
    /// Whether the book ended synced.
    pub synced_at_end: bool,
    /// Top-of-book changes reported.
    pub bbo_changes: u64,
    /// Book tickers whose update id equals the last applied diff's: compared with our top.
    pub tickers_compared: u64,
    /// Of those, equal to our top of book.
    pub tickers_equal: u64,
    /// Final best bid (px, qty) in 1e-8 units.
    pub bid: Option<(i64, i64)>,
    /// Final best ask.
    pub ask: Option<(i64, i64)>,
}

/// What a Binance replay reports: totals over all symbols, and each symbol in `symbols`.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct BinanceSummary {
    /// The first symbol seen (the only one in a single-symbol capture).
    pub symbol: String,
    /// Every symbol, in first-seen (instrument index) order; filled in at the end.
    pub symbols: Vec<BinanceSymbolSummary>,
    /// Capture lines read.
    pub lines: u64,
    /// Depth diffs decoded.
    pub depth: u64,
    /// Snapshots.
    pub snapshots: u64,
    /// Trades (and aggregate trades).
    pub trades: u64,
    /// Book tickers.
    pub tickers: u64,
    /// Lines that could not be split or decoded (malformed JSON, unknown types).
    pub bad_lines: u64,
    /// Frames whose receive time was ahead of the previous frame's by more than the allowed
    /// jump (applied at the previous frame's time).
    pub time_jump_forward: u64,
    /// Frames whose receive time was behind the previous frame's by more than the allowed jump.
    pub time_jump_backward: u64,
    /// Diffs applied to the books.
    pub applied: u64,
    /// Diffs dropped as older than the snapshot.
    pub stale_dropped: u64,
    /// Sequence breaks (a book was marked unsynced).
    pub resyncs: u64,
    /// Receive time the books spent unsynced, ns, summed over symbols.
    pub unsynced_ns: u64,
    /// Whether every book ended synced.
    pub synced_at_end: bool,
    /// Top-of-book changes reported.
    pub bbo_changes: u64,
    /// Book tickers whose update id equals the last applied diff's: compared with our top.
    pub tickers_compared: u64,
    /// Of those, equal to our top of book.
    pub tickers_equal: u64,
    /// The first symbol's final best bid (px, qty) in 1e-8 units.
    pub bid: Option<(i64, i64)>,
    /// The first symbol's final best ask.
    pub ask: Option<(i64, i64)>,
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
    /// The digest: ordered top-of-book changes and trades of every symbol (each word tagged
    /// with the symbol's index), and with a backtest the strategy's signals, order updates and
    /// fills.
    pub digest: String,
    /// Capture container: `ns-lines`, `jsonl`, `cryptofeed` or `mixed`; `websocket` for a live
    /// run (not in the digest).
    pub container: String,
}

impl BinanceSummary {
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

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum BinanceReplayError {
    /// Reading the capture failed.
    #[error("reading the capture: {0}")]
    Read(std::io::Error),
    /// Writing the BBO CSV failed.
    #[error("writing the outputs (BBO CSV, signals, sinks): {0}")]
    Output(std::io::Error),
    /// No line decoded: not a Binance capture.
    #[error("not a Binance capture: no line decoded ({0} bad lines)")]
    NotBinance(u64),
    /// The backtest cannot run on this data as configured.
    #[error("{0}")]
    Backtest(#[from] crate::l2backtest::L2BacktestError),
    /// A stage of the replay failed.
    #[error("{0}")]
    Stage(String),
}

/// A Binance replay fed one frame or capture line at a time: the file replay feeds it capture
/// lines, the live runner websocket frames and REST snapshot bodies, so both apply the
/// identical decode → sync → events → book → digest code.
pub struct BinanceSync<'a> {
    r: L2Replay<'a>,
    s: L2Summary,
    // Frames came from a websocket (`on_frame`), not capture lines.
    websocket: bool,
}

impl<'a> BinanceSync<'a> {
    /// A replay with no symbols yet (the BBO CSV header is written here).
    ///
    /// # Errors
    /// [`BinanceReplayError::Output`] writing the CSV header; [`BinanceReplayError::Backtest`].
    pub fn new(opts: BinanceReplayOptions<'a>) -> Result<Self, BinanceReplayError> {
        let r = L2Replay::new(
            VenueFormat::Binance,
            CryptoReplayOptions {
                accept_unsynced: opts.accept_unsynced,
                bbo_csv: opts.bbo_csv,
                backtest: opts.backtest,
                max_time_jump_ns: opts.max_time_jump_ns,
                ..CryptoReplayOptions::default()
            },
        )
        .map_err(BinanceReplayError::from_l2)?;
        let s = r.new_summary();
        Ok(BinanceSync {
            r,
            s,
            websocket: false,
        })
    }

    /// One capture line, without or with its newline: `<receive ns> <frame JSON>`, a JSON-lines
    /// record (a frame, or a REST response), or a cryptofeed capture line (see
    /// [`crate::capture`]).
    ///
    /// # Errors
    /// [`BinanceReplayError::Output`] writing the CSV.
    pub fn on_line(&mut self, line: &[u8]) -> Result<(), BinanceReplayError> {
        self.r
            .on_raw_line(line, &mut self.s)
            .map_err(BinanceReplayError::from_l2)
    }

    /// One frame (a websocket message or a REST snapshot body) received at `ts`; counted as a
    /// line.
    ///
    /// # Errors
    /// [`BinanceReplayError::Output`] writing the CSV.
    pub fn on_frame(&mut self, ts: u64, json: &[u8]) -> Result<(), BinanceReplayError> {
        self.websocket = true;
        self.r
            .on_frame(&mut self.s, ts, json)
            .map_err(BinanceReplayError::from_l2)
    }

    /// The connection was lost at `ts` (a reconnect follows): what arrives next cannot be
    /// chained to what came before, so every book is cleared and unsynced until a new snapshot,
    /// and the buffered diffs are dropped.
    pub fn lose_sync(&mut self, ts: u64) {
        self.r.lose_sync(ts);
    }

    /// Whether the first symbol's book is synced.
    pub fn is_synced(&self) -> bool {
        self.r.book_at(0).is_some_and(L2Book::is_synced)
    }

    /// The first symbol's last applied update id (`u`), while synced: a REST snapshot of this
    /// book would carry it as `lastUpdateId`.
    pub fn last_update_id(&self) -> Option<u64> {
        self.r.sequence(0)
    }

    /// Whether the first symbol waits for a REST snapshot (unsynced, diffs buffered).
    pub fn awaiting_snapshot(&self) -> bool {
        self.r.awaiting_snapshot(0)
    }

    /// The first symbol's book (empty before any message).
    pub fn book(&self) -> &L2Book {
        static EMPTY: std::sync::OnceLock<L2Book> = std::sync::OnceLock::new();
        self.r
            .book_at(0)
            .unwrap_or_else(|| EMPTY.get_or_init(L2Book::new))
    }

    /// The symbols seen so far, in instrument index order.
    pub fn products(&self) -> impl Iterator<Item = &str> {
        self.r.products().filter(|s| !s.is_empty())
    }

    /// The book of `symbol` (compared ignoring case), if seen.
    pub fn book_of(&self, symbol: &str) -> Option<&L2Book> {
        let i = self
            .r
            .products()
            .position(|p| p.eq_ignore_ascii_case(symbol))?;
        self.r.book_at(i)
    }

    /// The first symbol (empty before one is named).
    pub fn symbol(&self) -> &str {
        self.r.products().next().unwrap_or("")
    }

    /// Counts so far, totals over all symbols.
    pub fn counts(&self) -> BinanceCounts {
        let mut c = BinanceCounts {
            bad_lines: self.s.bad_lines,
            ..BinanceCounts::default()
        };
        for x in self.r.stats() {
            c.snapshots += x.snapshots;
            c.trades += x.trades;
            c.resyncs += x.resyncs;
        }
        let (depth, tickers) = self.r.machine_counts();
        c.depth = depth;
        c.tickers = tickers;
        c
    }

    /// Ends the run: final tops, unsynced time up to the last frame, the digest.
    ///
    /// # Errors
    /// [`BinanceReplayError::NotBinance`] when no line decoded; [`BinanceReplayError::Output`]
    /// flushing the CSV.
    pub fn finish(mut self) -> Result<BinanceSummary, BinanceReplayError> {
        if self.websocket {
            self.s.container = "websocket".into();
        }
        self.r
            .finish(&mut self.s)
            .map_err(BinanceReplayError::from_l2)?;
        Ok(BinanceSummary::from_l2(self.s))
    }
}

/// Counts of a Binance replay so far (for a live runner's metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BinanceCounts {
    /// Depth diffs decoded.
    pub depth: u64,
    /// Snapshots.
    pub snapshots: u64,
    /// Trades.
    pub trades: u64,
    /// Book tickers.
    pub tickers: u64,
    /// Lines or frames that could not be used.
    pub bad_lines: u64,
    /// Times a book lost sync.
    pub resyncs: u64,
}

impl BinanceReplayError {
    /// The Binance view of a price-level replay's error.
    pub fn from_l2(e: CryptoReplayError) -> Self {
        match e {
            CryptoReplayError::Read(e) => BinanceReplayError::Read(e),
            CryptoReplayError::Output(e) => BinanceReplayError::Output(e),
            CryptoReplayError::WrongVenue { bad, .. } => BinanceReplayError::NotBinance(bad),
            CryptoReplayError::Backtest(e) => BinanceReplayError::Backtest(e),
            CryptoReplayError::Stage(e) => BinanceReplayError::Stage(e),
        }
    }
}

impl BinanceSummary {
    /// Binance's view of a price-level replay's summary.
    pub fn from_l2(l: L2Summary) -> Self {
        let symbols: Vec<BinanceSymbolSummary> = l
            .symbols
            .iter()
            .map(|x| BinanceSymbolSummary {
                symbol: x.symbol.clone(),
                depth: x.depth,
                snapshots: x.snapshots,
                trades: x.trades,
                tickers: x.tickers,
                applied: x.applied,
                stale_dropped: x.stale_dropped,
                resyncs: x.resyncs,
                unsynced_ns: x.unsynced_ns,
                synced_at_end: x.synced_at_end,
                bbo_changes: x.bbo_changes,
                tickers_compared: x.tickers_compared,
                tickers_equal: x.tickers_equal,
                bid: x.bid,
                ask: x.ask,
            })
            .collect();
        let sum = |f: fn(&BinanceSymbolSummary) -> u64| symbols.iter().map(f).sum::<u64>();
        let first = symbols.first();
        BinanceSummary {
            symbol: first.map(|x| x.symbol.clone()).unwrap_or_default(),
            lines: l.lines,
            depth: sum(|x| x.depth),
            snapshots: sum(|x| x.snapshots),
            trades: sum(|x| x.trades),
            tickers: sum(|x| x.tickers),
            bad_lines: l.bad_total(),
            time_jump_forward: l.time_jump_forward,
            time_jump_backward: l.time_jump_backward,
            applied: sum(|x| x.applied),
            stale_dropped: sum(|x| x.stale_dropped),
            resyncs: sum(|x| x.resyncs),
            unsynced_ns: sum(|x| x.unsynced_ns),
            synced_at_end: !symbols.is_empty() && symbols.iter().all(|x| x.synced_at_end),
            bbo_changes: sum(|x| x.bbo_changes),
            tickers_compared: sum(|x| x.tickers_compared),
            tickers_equal: sum(|x| x.tickers_equal),
            bid: first.and_then(|x| x.bid),
            ask: first.and_then(|x| x.ask),
            strategy: l.strategy,
            signals: l.signals,
            backtest: l.backtest,
            backtest_data: l.backtest_data,
            elapsed_s: l.elapsed_s,
            digest: l.digest,
            container: l.container,
            symbols,
        }
    }
}

/// Feeds every line of `input` to `sync`.
///
/// # Errors
/// [`BinanceReplayError::Read`], [`BinanceReplayError::Output`].
pub fn feed_lines(
    mut input: impl BufRead,
    sync: &mut BinanceSync<'_>,
) -> Result<(), BinanceReplayError> {
    let mut line = Vec::with_capacity(1 << 16);
    loop {
        match crate::capture::read_line(&mut input, &mut line) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(BinanceReplayError::Read(e)),
        }
        sync.on_line(&line)?;
    }
}

/// Replays a capture.
///
/// # Errors
/// [`BinanceReplayError`].
pub fn replay_binance(
    input: impl BufRead,
    opts: BinanceReplayOptions<'_>,
) -> Result<BinanceSummary, BinanceReplayError> {
    replay_binance_with(input, opts, Vec::new())
}

/// [`replay_binance`], also handing every output to `sinks` in order.
///
/// # Errors
/// As [`replay_binance`].
pub fn replay_binance_with<'a>(
    input: impl BufRead,
    opts: BinanceReplayOptions<'a>,
    sinks: Vec<Box<dyn crate::sink::Sink + 'a>>,
) -> Result<BinanceSummary, BinanceReplayError> {
    let started = std::time::Instant::now();
    let mut sync = BinanceSync::new(opts)?;
    sync.r = sync.r.with_sinks(sinks);
    feed_lines(input, &mut sync)?;
    let mut s = sync.finish()?;
    s.elapsed_s = started.elapsed().as_secs_f64();
    Ok(s)
}

impl std::fmt::Display for BinanceSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let px = |v: Option<(i64, i64)>| {
            v.map_or_else(
                || "-".to_owned(),
                |(p, q)| {
                    format!(
                        "{} @ {}",
                        ticklane_engine::Px(q).display_decimals(8),
                        ticklane_engine::Px(p).display_decimals(8)
                    )
                },
            )
        };
        let names: Vec<&str> = self.symbols.iter().map(|x| x.symbol.as_str()).collect();
        writeln!(
            f,
            "format:        binance ({}) ({} capture)",
            if names.is_empty() {
                self.symbol.clone()
            } else {
                names.join(", ")
            },
            self.container
        )?;
        writeln!(
            f,
            "lines:         {} (depth {}, snapshots {}, trades {}, book tickers {}, bad {})",
            self.lines, self.depth, self.snapshots, self.trades, self.tickers, self.bad_lines
        )?;
        if self.time_jump_forward + self.time_jump_backward > 0 {
            writeln!(
                f,
                "time jumps:    {} ahead, {} back (bad receive times; those frames were applied at the previous frame's time)",
                self.time_jump_forward, self.time_jump_backward
            )?;
        }
        writeln!(
            f,
            "book:          {} diffs applied, {} stale dropped, {} resyncs, {} at end",
            self.applied,
            self.stale_dropped,
            self.resyncs,
            if self.synced_at_end {
                "synced"
            } else {
                "UNSYNCED"
            }
        )?;
        writeln!(
            f,
            "unsynced:      {:.3} s of receive time",
            self.unsynced_ns as f64 / 1e9
        )?;
        writeln!(f, "bbo changes:   {}", self.bbo_changes)?;
        writeln!(
            f,
            "bookTicker:    {} with the book's update id compared, {} equal",
            self.tickers_compared, self.tickers_equal
        )?;
        if self.symbols.len() > 1 {
            writeln!(f, "per symbol:")?;
            writeln!(
                f,
                "  {:<12} {:>7} {:>6} {:>6} {:>9} {:>8} {:>8}  {:<28} {:<28}",
                "symbol",
                "applied",
                "stale",
                "resync",
                "unsync s",
                "tick cmp",
                "tick eq",
                "bid",
                "ask"
            )?;
            for x in &self.symbols {
                writeln!(
                    f,
                    "  {:<12} {:>7} {:>6} {:>6} {:>8.3}{} {:>8} {:>8}  {:<28} {:<28}",
                    x.symbol,
                    x.applied,
                    x.stale_dropped,
                    x.resyncs,
                    x.unsynced_ns as f64 / 1e9,
                    if x.synced_at_end { " " } else { "!" },
                    x.tickers_compared,
                    x.tickers_equal,
                    px(x.bid),
                    px(x.ask)
                )?;
            }
            writeln!(f, "  (! = book unsynced at end)")?;
        } else {
            writeln!(
                f,
                "final BBO:     bid {}  ask {}",
                px(self.bid),
                px(self.ask)
            )?;
        }
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
