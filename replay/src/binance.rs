//! Replay of a Binance capture (one symbol; hftbacktest's `<receive ns> <frame JSON>` lines,
//! our JSON lines with REST snapshots as lines of their own, or cryptofeed's raw capture lines,
//! see [`crate::capture`]; plain or gzip) through the decoder and an L2 book synchronized the
//! way Binance documents it.
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

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::time::Instant;

use ticklane_engine::book::{L2Book, Top};
use ticklane_engine::{Digest, Side};
use ticklane_feeds::binance::{BinanceDecoder, BinanceError, BinanceMsg, LevelUpdate, Precision};

use crate::bbo_csv::BboCsv;
use crate::capture::{classify, CaptureLine, SeenContainers};
use crate::l2backtest::{L2Backtest, L2BacktestError, L2Change};

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
}

/// What a Binance replay reports.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct BinanceSummary {
    /// Symbol.
    pub symbol: String,
    /// Capture lines read.
    pub lines: u64,
    /// Depth diffs, snapshots, trades, book tickers decoded.
    pub depth: u64,
    /// Snapshots.
    pub snapshots: u64,
    /// Trades (and aggregate trades).
    pub trades: u64,
    /// Book tickers.
    pub tickers: u64,
    /// Lines that could not be split or decoded (malformed JSON, unknown types).
    pub bad_lines: u64,
    /// Messages for another symbol (skipped: one symbol per capture).
    pub other_symbol: u64,
    /// Diffs applied to the book.
    pub applied: u64,
    /// Diffs dropped as older than the snapshot.
    pub stale_dropped: u64,
    /// Sequence breaks (the book was marked unsynced).
    pub resyncs: u64,
    /// Receive time the book spent unsynced, ns (from the first message).
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
    /// The digest: ordered top-of-book changes and trades, and with a backtest the strategy's
    /// signals, order updates and fills.
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
    #[error("writing the BBO CSV: {0}")]
    Output(std::io::Error),
    /// No line decoded: not a Binance capture.
    #[error("not a Binance capture: no line decoded ({0} bad lines)")]
    NotBinance(u64),
    /// The backtest cannot run on this data as configured.
    #[error("{0}")]
    Backtest(#[from] L2BacktestError),
}

/// The backtest a Binance replay runs, if any.
type Bt<'a> = L2Backtest<Box<dyn ticklane_engine::strategy::Strategy + 'a>>;

/// Applies `levels` to `book`, telling the backtest (if any) each level's size before and after.
fn apply_traced(
    book: &mut L2Book,
    levels: &[LevelUpdate],
    bt: Option<&mut Bt<'_>>,
    ts: u64,
    digest: &mut Digest,
) {
    let Some(bt) = bt else {
        return apply(book, levels);
    };
    bt.before_message(0, ts, book, digest);
    for l in levels {
        let side = if l.bid { Side::Bid } else { Side::Ask };
        let px = ticklane_engine::Px(l.px);
        let after = l.qty.max(0) as u64;
        let before = book.level(side, px).map_or(0, |x| x.qty.0);
        bt.change(
            0,
            ts,
            L2Change::Level {
                side,
                px,
                before,
                after,
            },
            digest,
        );
        book.set(side, px, ticklane_engine::Qty(after));
    }
}

struct Buffered {
    first: u64,
    last: u64,
    prev: Option<u64>,
    levels: Vec<LevelUpdate>,
}

fn apply(book: &mut L2Book, levels: &[LevelUpdate]) {
    for l in levels {
        let side = if l.bid { Side::Bid } else { Side::Ask };
        book.set(
            side,
            ticklane_engine::Px(l.px),
            ticklane_engine::Qty(l.qty.max(0) as u64),
        );
    }
}

fn key(t: &Top) -> [(i64, u64); 2] {
    [
        t.bid.map_or((0, 0), |l| (l.px.0, l.qty.0)),
        t.ask.map_or((0, 0), |l| (l.px.0, l.qty.0)),
    ]
}

/// The Binance sync state machine, one frame at a time: the file replay feeds it capture lines,
/// the live runner feeds it websocket frames and REST snapshot bodies. Both therefore apply the
/// identical decode → sync → book → digest code.
pub struct BinanceSync<'a> {
    started: Instant,
    accept_unsynced: bool,
    s: BinanceSummary,
    dec: BinanceDecoder,
    levels: Vec<LevelUpdate>,
    book: L2Book,
    buffered: VecDeque<Buffered>,
    // Synced state: the last applied `u`; None while unsynced.
    last_u: Option<u64>,
    pending_first: bool,
    unsynced_since: Option<u64>,
    last_ts: u64,
    last_key: [(i64, u64); 2],
    digest: Digest,
    csv: Option<BboCsv<'a>>,
    // simd-json parses in place: each frame is copied into this one reused buffer.
    frame: Vec<u8>,
    bt: Option<Bt<'a>>,
    strategy_name: Option<&'static str>,
    bt_symbol_unset: bool,
    loop_started: Instant,
    seen: SeenContainers,
    // The frame being applied is a REST response (it must be a depth snapshot).
    rest_frame: bool,
    // Frames came from a websocket (`on_frame`), not capture lines.
    websocket: bool,
}

impl<'a> BinanceSync<'a> {
    /// A state with an empty, unsynced book (the BBO CSV header is written here).
    ///
    /// # Errors
    /// [`BinanceReplayError::Output`] writing the CSV header.
    pub fn new(opts: BinanceReplayOptions<'a>) -> Result<Self, BinanceReplayError> {
        let mut csv = opts.bbo_csv.map(|w| BboCsv::with_decimals(w, 8));
        if let Some(c) = csv.as_mut() {
            c.header().map_err(BinanceReplayError::Output)?;
        }
        let (bt, strategy_name) = match opts.backtest {
            Some((strategy, bo)) => {
                let name = strategy.name();
                (Some(L2Backtest::new(strategy, bo)?), Some(name))
            }
            None => (None, None),
        };
        Ok(BinanceSync {
            started: Instant::now(),
            accept_unsynced: opts.accept_unsynced,
            s: BinanceSummary::default(),
            dec: BinanceDecoder::new(),
            levels: Vec::with_capacity(4096),
            book: L2Book::new(),
            buffered: VecDeque::new(),
            last_u: None,
            pending_first: false,
            unsynced_since: None,
            last_ts: 0,
            last_key: [(0, 0); 2],
            digest: Digest::new(),
            csv,
            frame: Vec::with_capacity(1 << 16),
            bt,
            strategy_name,
            bt_symbol_unset: true,
            loop_started: Instant::now(),
            seen: SeenContainers::default(),
            rest_frame: false,
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
        self.s.lines += 1;
        let (ts, json, rest_url) = match classify(line) {
            Some(CaptureLine::Frame {
                ts_ns,
                json,
                container,
            }) => {
                self.seen.add(container);
                (ts_ns, json, None)
            }
            Some(CaptureLine::Rest {
                ts_ns,
                url,
                json,
                container,
            }) => {
                self.seen.add(container);
                (ts_ns, json, Some(url))
            }
            Some(CaptureLine::Meta { container }) => {
                self.seen.add(container);
                return Ok(());
            }
            None => {
                self.s.bad_lines += 1;
                return Ok(());
            }
        };
        // A REST response is a depth snapshot of the symbol in its URL: one for another symbol
        // is counted and skipped.
        if let Some(url) = rest_url {
            if let Some(sym) = url_symbol(url) {
                if !self.s.symbol.is_empty() && !sym.eq_ignore_ascii_case(self.s.symbol.as_bytes())
                {
                    self.s.other_symbol += 1;
                    return Ok(());
                }
            }
        }
        self.rest_frame = rest_url.is_some();
        let r = self.apply_frame(ts, json);
        self.rest_frame = false;
        r
    }

    /// One frame (a websocket message or a REST snapshot body) received at `ts`; counted as a
    /// line.
    ///
    /// # Errors
    /// [`BinanceReplayError::Output`] writing the CSV.
    pub fn on_frame(&mut self, ts: u64, json: &[u8]) -> Result<(), BinanceReplayError> {
        self.s.lines += 1;
        self.websocket = true;
        self.apply_frame(ts, json)
    }

    /// The connection was lost at `ts` (a reconnect follows): what arrives next cannot be
    /// chained to what came before, so the book is cleared and unsynced until a new snapshot,
    /// and the buffered diffs are dropped.
    pub fn lose_sync(&mut self, ts: u64) {
        if self.last_u.take().is_some() {
            self.unsynced_since = Some(ts);
        }
        self.pending_first = false;
        self.buffered.clear();
        self.book.clear();
        self.book.set_synced(false);
    }

    /// Whether the book is synced.
    pub fn is_synced(&self) -> bool {
        self.last_u.is_some()
    }

    /// The last applied update id (`u`), while synced: a REST snapshot of this book would carry
    /// it as `lastUpdateId`.
    pub fn last_update_id(&self) -> Option<u64> {
        self.last_u
    }

    /// Diffs buffered while unsynced (waiting for a snapshot).
    pub fn buffered(&self) -> usize {
        self.buffered.len()
    }

    /// The book.
    pub fn book(&self) -> &L2Book {
        &self.book
    }

    /// Counts so far (totals of the final summary; the final tops and digest are set by
    /// [`finish`](Self::finish)).
    pub fn summary(&self) -> &BinanceSummary {
        &self.s
    }

    fn apply_frame(&mut self, ts: u64, json: &[u8]) -> Result<(), BinanceReplayError> {
        let s = &mut self.s;
        let book = &mut self.book;
        let levels = &mut self.levels;
        let buffered = &mut self.buffered;
        if self.unsynced_since.is_none() && self.last_u.is_none() {
            self.unsynced_since = Some(ts);
        }
        self.last_ts = ts;
        let frame = &mut self.frame;
        frame.clear();
        frame.extend_from_slice(json);
        let msg = match self.dec.decode(frame, Precision::SPOT_STRINGS, levels) {
            // A REST line of a capture must be a depth snapshot.
            Ok(m) if self.rest_frame && !matches!(m, BinanceMsg::Snapshot { .. }) => {
                s.bad_lines += 1;
                return Ok(());
            }
            Ok(m) => m,
            Err(
                BinanceError::Json
                | BinanceError::Unknown
                | BinanceError::Field(_)
                | BinanceError::Decimal { .. },
            ) => {
                s.bad_lines += 1;
                return Ok(());
            }
        };
        let symbol = match msg {
            BinanceMsg::Depth { symbol, .. }
            | BinanceMsg::Trade { symbol, .. }
            | BinanceMsg::BookTicker { symbol, .. } => Some(symbol),
            BinanceMsg::Snapshot { .. } => None,
        };
        if let Some(sym) = symbol {
            if s.symbol.is_empty() {
                s.symbol = sym.to_owned();
            } else if s.symbol != sym {
                s.other_symbol += 1;
                return Ok(());
            }
        }
        let was_synced = self.last_u.is_some();
        // The backtest runs on messages that find the book usable: (trade, book changed).
        let mut hook: Option<(Option<ticklane_engine::strategy::TradeTick>, bool)> = None;
        match msg {
            BinanceMsg::Snapshot { last_update_id } => {
                s.snapshots += 1;
                book.clear();
                apply(book, levels);
                // Replay the buffered diffs per the rules.
                let mut cur = Some(last_update_id);
                let mut first = true;
                let mut applied_any = false;
                for b in buffered.drain(..) {
                    let Some(u) = cur else { break };
                    if stale(&b, last_update_id, true) {
                        s.stale_dropped += 1;
                        continue;
                    }
                    let ok = if first {
                        bracket(&b, last_update_id)
                    } else {
                        continues(&b, u)
                    };
                    first = false;
                    if ok {
                        apply(book, &b.levels);
                        s.applied += 1;
                        applied_any = true;
                        cur = Some(b.last);
                    } else {
                        s.resyncs += 1;
                        cur = None;
                    }
                }
                self.last_u = cur;
                // No buffered diff was applied: the next one must bracket the snapshot.
                self.pending_first = cur.is_some() && !applied_any;
            }
            BinanceMsg::Depth {
                first, last, prev, ..
            } => {
                s.depth += 1;
                let b = Buffered {
                    first,
                    last,
                    prev,
                    levels: Vec::new(),
                };
                let pending_first = self.pending_first;
                match self.last_u {
                    Some(u) if stale(&b, u, pending_first) => s.stale_dropped += 1,
                    Some(u)
                        if (pending_first && bracket(&b, u))
                            || (!pending_first && continues(&b, u)) =>
                    {
                        apply_traced(book, levels, self.bt.as_mut(), ts, &mut self.digest);
                        hook = Some((None, true));
                        s.applied += 1;
                        self.last_u = Some(last);
                        self.pending_first = false;
                    }
                    Some(_) => {
                        // A gap: the book can no longer be trusted until the next snapshot.
                        s.resyncs += 1;
                        self.last_u = None;
                        book.clear();
                        buffered.clear();
                        buffered.push_back(Buffered {
                            levels: levels.clone(),
                            ..b
                        });
                        if self.accept_unsynced {
                            apply(book, levels);
                            s.applied += 1;
                        }
                    }
                    None => {
                        // Unsynced: keep the diffs for the next snapshot (the most recent 10 000)
                        // and, if asked, build the book from them meanwhile.
                        if buffered.len() == 10_000 {
                            buffered.pop_front();
                        }
                        buffered.push_back(Buffered {
                            levels: levels.clone(),
                            ..b
                        });
                        if self.accept_unsynced {
                            apply_traced(book, levels, self.bt.as_mut(), ts, &mut self.digest);
                            hook = Some((None, true));
                            s.applied += 1;
                        }
                    }
                }
            }
            BinanceMsg::Trade {
                px,
                qty,
                buyer_maker,
                ..
            } => {
                s.trades += 1;
                if self.last_u.is_some() || self.accept_unsynced {
                    self.digest.word(2 | u64::from(buyer_maker) << 8);
                    self.digest.word(ts);
                    self.digest.iword(px);
                    self.digest.iword(qty);
                    if let Some(bt) = self.bt.as_mut() {
                        // The buyer was the maker: a sell hit the bid.
                        let resting = if buyer_maker { Side::Bid } else { Side::Ask };
                        let q = qty.max(0) as u64;
                        bt.before_message(0, ts, book, &mut self.digest);
                        bt.change(
                            0,
                            ts,
                            L2Change::Trade {
                                px: ticklane_engine::Px(px),
                                qty: q,
                                resting,
                            },
                            &mut self.digest,
                        );
                        hook = Some((
                            Some(ticklane_engine::strategy::TradeTick {
                                px: ticklane_engine::Px(px),
                                qty: ticklane_engine::Qty(q),
                                resting: Some(resting),
                            }),
                            false,
                        ));
                    }
                }
            }
            BinanceMsg::BookTicker {
                update_id,
                bid,
                ask,
                ..
            } => {
                s.tickers += 1;
                if self.last_u == Some(update_id) {
                    s.tickers_compared += 1;
                    let t = book.top();
                    let ours = (
                        t.bid.map(|l| (l.px.0, l.qty.0 as i64)),
                        t.ask.map(|l| (l.px.0, l.qty.0 as i64)),
                    );
                    if ours == (Some(bid), Some(ask)) {
                        s.tickers_equal += 1;
                    }
                }
            }
        }
        let synced = self.last_u.is_some();
        if synced != was_synced {
            if synced {
                if let Some(since) = self.unsynced_since.take() {
                    s.unsynced_ns += ts.saturating_sub(since);
                }
            } else {
                self.unsynced_since = Some(ts);
            }
        }
        book.set_synced(synced);
        if synced || self.accept_unsynced {
            let k = key(&book.top());
            if k != self.last_key {
                self.last_key = k;
                s.bbo_changes += 1;
                self.digest.word(1);
                self.digest.word(ts);
                self.digest.iword(k[0].0);
                self.digest.word(k[0].1);
                self.digest.iword(k[1].0);
                self.digest.word(k[1].1);
                if let Some(c) = self.csv.as_mut() {
                    c.row(ticklane_engine::Nanos(ts), &s.symbol, k)
                        .map_err(BinanceReplayError::Output)?;
                }
            }
        }
        if let (Some(bt), Some((trade, changed))) = (self.bt.as_mut(), hook) {
            if self.bt_symbol_unset {
                bt.set_symbol(0, &s.symbol);
                self.bt_symbol_unset = false;
            }
            bt.after_message(0, ts, book, trade, changed, &mut self.digest);
        }
        Ok(())
    }

    /// Ends the run: final tops, unsynced time up to the last frame, the digest.
    ///
    /// # Errors
    /// [`BinanceReplayError::NotBinance`] when no line decoded; [`BinanceReplayError::Output`]
    /// flushing the CSV.
    pub fn finish(mut self) -> Result<BinanceSummary, BinanceReplayError> {
        let loop_s = self.loop_started.elapsed().as_secs_f64();
        let mut s = std::mem::take(&mut self.s);
        if s.lines > 0 && s.lines == s.bad_lines {
            return Err(BinanceReplayError::NotBinance(s.bad_lines));
        }
        if let Some(since) = self.unsynced_since {
            s.unsynced_ns += self.last_ts.saturating_sub(since);
        }
        if let Some(c) = self.csv.as_mut() {
            c.flush().map_err(BinanceReplayError::Output)?;
        }
        s.synced_at_end = self.last_u.is_some();
        let t = self.book.top();
        s.bid = t.bid.map(|l| (l.px.0, l.qty.0 as i64));
        s.ask = t.ask.map(|l| (l.px.0, l.qty.0 as i64));
        if let Some(bt) = self.bt.take() {
            s.strategy = self.strategy_name.map(str::to_owned);
            s.signals = Some(bt.signals);
            if let Some((b, d)) = bt.finish(s.lines, loop_s) {
                s.backtest = Some(b);
                s.backtest_data = Some(d);
            }
        }
        s.elapsed_s = self.started.elapsed().as_secs_f64();
        s.digest = self.digest.hex();
        s.container = match self.seen.name() {
            "none" if self.websocket => "websocket",
            n => n,
        }
        .into();
        Ok(s)
    }
}

/// The `symbol=` parameter of a REST URL (`...depth?symbol=BTCUSDT&limit=1000`).
fn url_symbol(url: &[u8]) -> Option<&[u8]> {
    let q = url.iter().position(|&c| c == b'?')?;
    url[q + 1..]
        .split(|&c| c == b'&')
        .find_map(|kv| kv.strip_prefix(b"symbol="))
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
        line.clear();
        match input.read_until(b'\n', &mut line) {
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
    let mut sync = BinanceSync::new(opts)?;
    feed_lines(input, &mut sync)?;
    sync.finish()
}

/// A diff older than the book: spot drops `u <= lastUpdateId`; futures drops `u < lastUpdateId`
/// for the first diff after a snapshot (one ending exactly at the snapshot's id is the one to
/// apply first, `U <= lastUpdateId <= u`), and `u <= previous u` after that.
fn stale(b: &Buffered, id: u64, after_snapshot: bool) -> bool {
    match b.prev {
        Some(_) if after_snapshot => b.last < id,
        _ => b.last <= id,
    }
}

/// The first diff after a snapshot must contain the snapshot's next update.
fn bracket(b: &Buffered, snapshot_id: u64) -> bool {
    match b.prev {
        // Futures: U <= lastUpdateId <= u.
        Some(_) => b.first <= snapshot_id && snapshot_id <= b.last,
        // Spot: U <= lastUpdateId + 1 <= u.
        None => b.first <= snapshot_id + 1 && snapshot_id < b.last,
    }
}

/// A later diff must continue the previous one.
fn continues(b: &Buffered, prev_last: u64) -> bool {
    match b.prev {
        Some(pu) => pu == prev_last,
        None => b.first == prev_last + 1,
    }
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
        writeln!(
            f,
            "format:        binance ({}) ({} capture)",
            self.symbol, self.container
        )?;
        writeln!(f, "lines:         {} (depth {}, snapshots {}, trades {}, book tickers {}, bad {}, other symbols {})", self.lines, self.depth, self.snapshots, self.trades, self.tickers, self.bad_lines, self.other_symbol)?;
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
        writeln!(
            f,
            "final BBO:     bid {}  ask {}",
            px(self.bid),
            px(self.ask)
        )?;
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
