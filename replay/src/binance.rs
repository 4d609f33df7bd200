//! Replay of a Binance capture (hftbacktest's `<receive ns> <frame JSON>` lines, our JSON lines
//! with REST snapshots as lines of their own, or cryptofeed's raw capture lines, see
//! [`crate::capture`]; plain or gzip) through the decoder and one L2 book per symbol,
//! synchronized the way Binance documents it.
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

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::time::Instant;
use ticklane_engine::event_time::TimeGuard;

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
    i: usize,
    ts: u64,
    digest: &mut Digest,
) {
    let Some(bt) = bt else {
        return apply(book, levels);
    };
    let emit = &mut |o: crate::stages::Output| crate::digest::exec(digest, &o);
    bt.before_message(i, ts, book, emit);
    for l in levels {
        let side = if l.bid { Side::Bid } else { Side::Ask };
        let px = ticklane_engine::Px(l.px);
        let after = l.qty.max(0) as u64;
        let before = book.level(side, px).map_or(0, |x| x.qty.0);
        bt.change(
            i,
            ts,
            L2Change::Level {
                side,
                px,
                before,
                after,
            },
            emit,
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

/// The sync state of one symbol's book.
struct SymbolBook {
    book: L2Book,
    buffered: VecDeque<Buffered>,
    // Synced state: the last applied `u`; None while unsynced.
    last_u: Option<u64>,
    pending_first: bool,
    unsynced_since: Option<u64>,
    last_key: [(i64, u64); 2],
    s: BinanceSymbolSummary,
}

impl SymbolBook {
    fn new(symbol: String) -> Self {
        SymbolBook {
            book: L2Book::new(),
            buffered: VecDeque::new(),
            last_u: None,
            pending_first: false,
            unsynced_since: None,
            last_key: [(0, 0); 2],
            s: BinanceSymbolSummary {
                symbol,
                ..BinanceSymbolSummary::default()
            },
        }
    }

    /// Ends this symbol's run at `end`: unsynced time, final top.
    fn finish(mut self, end: u64) -> BinanceSymbolSummary {
        if let Some(since) = self.unsynced_since {
            self.s.unsynced_ns += end.saturating_sub(since);
        }
        self.s.synced_at_end = self.last_u.is_some();
        let t = self.book.top();
        self.s.bid = t.bid.map(|l| (l.px.0, l.qty.0 as i64));
        self.s.ask = t.ask.map(|l| (l.px.0, l.qty.0 as i64));
        self.s
    }
}

/// Adds one to a counter of the run's totals and of symbol `$i`'s.
macro_rules! count {
    ($self:ident, $i:expr, $field:ident) => {{
        $self.s.$field += 1;
        $self.syms[$i].s.$field += 1;
    }};
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
    // Per symbol, by instrument index (first-seen order).
    syms: Vec<SymbolBook>,
    last_ts: u64,
    time: TimeGuard,
    digest: Digest,
    csv: Option<BboCsv<'a>>,
    // simd-json parses in place: each frame is copied into this one reused buffer.
    frame: Vec<u8>,
    bt: Option<Bt<'a>>,
    strategy_name: Option<&'static str>,
    loop_started: Instant,
    seen: SeenContainers,
    // The frame being applied is a REST response (it must be a depth snapshot), and the
    // symbol its URL names, if any.
    rest_frame: bool,
    rest_symbol: Option<usize>,
    // Frames came from a websocket (`on_frame`), not capture lines.
    websocket: bool,
}

impl<'a> BinanceSync<'a> {
    /// A state with no symbols yet (the BBO CSV header is written here).
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
                let bt = L2Backtest::new(strategy, bo)?.with_quotes(|s| {
                    crate::venue::asset_of(crate::venue::VenueFormat::Binance, s)
                        .map(|(_, quote)| quote)
                });
                (Some(bt), Some(name))
            }
            None => (None, None),
        };
        Ok(BinanceSync {
            started: Instant::now(),
            accept_unsynced: opts.accept_unsynced,
            s: BinanceSummary::default(),
            dec: BinanceDecoder::new(),
            levels: Vec::with_capacity(4096),
            syms: Vec::new(),
            last_ts: 0,
            time: opts
                .max_time_jump_ns
                .map_or_else(TimeGuard::default, TimeGuard::new),
            digest: Digest::new(),
            csv,
            frame: Vec::with_capacity(1 << 16),
            bt,
            strategy_name,
            loop_started: Instant::now(),
            seen: SeenContainers::default(),
            rest_frame: false,
            rest_symbol: None,
            websocket: false,
        })
    }

    /// The index of `symbol` (Binance spells symbols in upper case; compared ignoring case),
    /// assigned on first sight. A book created by a snapshot before any symbol was named (the
    /// first one, unnamed) takes the first name seen.
    fn instr(&mut self, symbol: &[u8]) -> usize {
        if let Some(i) = self
            .syms
            .iter()
            .position(|b| b.s.symbol.as_bytes().eq_ignore_ascii_case(symbol))
        {
            return i;
        }
        let name = String::from_utf8_lossy(symbol).to_ascii_uppercase();
        // The backtest learns each name before any message of the symbol reaches it.
        if let Some(bt) = self.bt.as_mut() {
            let i = match self.syms.first() {
                Some(first) if first.s.symbol.is_empty() => 0,
                _ => self.syms.len(),
            };
            bt.set_symbol(i, &name);
        }
        if let Some(first) = self.syms.first_mut() {
            if first.s.symbol.is_empty() {
                first.s.symbol.clone_from(&name);
                self.s.symbol = name;
                return 0;
            }
        }
        if self.syms.is_empty() {
            self.s.symbol.clone_from(&name);
        }
        self.syms.push(SymbolBook::new(name));
        self.syms.len() - 1
    }

    /// The first symbol's index, its book created (unnamed) if no symbol was seen yet.
    fn first(&mut self) -> usize {
        if self.syms.is_empty() {
            self.syms.push(SymbolBook::new(String::new()));
        }
        0
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
        // A REST response is a depth snapshot of the symbol in its URL.
        self.rest_frame = rest_url.is_some();
        self.rest_symbol = rest_url.and_then(url_symbol).map(|sym| self.instr(sym));
        let r = self.apply_frame(ts, json);
        self.rest_frame = false;
        self.rest_symbol = None;
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
    /// chained to what came before, so every book is cleared and unsynced until a new snapshot,
    /// and the buffered diffs are dropped.
    pub fn lose_sync(&mut self, ts: u64) {
        for b in &mut self.syms {
            if b.last_u.take().is_some() {
                b.unsynced_since = Some(ts);
            }
            b.pending_first = false;
            b.buffered.clear();
            b.book.clear();
            b.book.set_synced(false);
        }
    }

    /// Whether the first symbol's book is synced.
    pub fn is_synced(&self) -> bool {
        self.syms.first().is_some_and(|b| b.last_u.is_some())
    }

    /// The first symbol's last applied update id (`u`), while synced: a REST snapshot of this
    /// book would carry it as `lastUpdateId`.
    pub fn last_update_id(&self) -> Option<u64> {
        self.syms.first().and_then(|b| b.last_u)
    }

    /// Diffs of the first symbol buffered while unsynced (waiting for a snapshot).
    pub fn buffered(&self) -> usize {
        self.syms.first().map_or(0, |b| b.buffered.len())
    }

    /// The first symbol's book (empty before any message).
    pub fn book(&self) -> &L2Book {
        static EMPTY: std::sync::OnceLock<L2Book> = std::sync::OnceLock::new();
        self.syms
            .first()
            .map_or_else(|| EMPTY.get_or_init(L2Book::new), |b| &b.book)
    }

    /// The symbols seen so far, in instrument index order.
    pub fn products(&self) -> impl Iterator<Item = &str> {
        self.syms
            .iter()
            .map(|b| b.s.symbol.as_str())
            .filter(|s| !s.is_empty())
    }

    /// The book of `symbol` (compared ignoring case), if seen.
    pub fn book_of(&self, symbol: &str) -> Option<&L2Book> {
        self.syms
            .iter()
            .find(|b| b.s.symbol.eq_ignore_ascii_case(symbol))
            .map(|b| &b.book)
    }

    /// Counts so far, totals over all symbols (`symbols`, the final tops and the digest are
    /// set by [`finish`](Self::finish)).
    pub fn summary(&self) -> &BinanceSummary {
        &self.s
    }

    fn apply_frame(&mut self, ts: u64, json: &[u8]) -> Result<(), BinanceReplayError> {
        let ts = self.time.admit(ts);
        self.last_ts = ts;
        // The frame buffer is taken out while its message is applied (the message borrows it)
        // and put back after, keeping its capacity.
        let mut frame = std::mem::take(&mut self.frame);
        frame.clear();
        frame.extend_from_slice(json);
        let r = self.decode_and_apply(ts, json, &mut frame);
        self.frame = frame;
        r
    }

    /// `json` is the frame as received (`frame` its copy, which the decoder may rewrite).
    fn decode_and_apply(
        &mut self,
        ts: u64,
        json: &[u8],
        frame: &mut [u8],
    ) -> Result<(), BinanceReplayError> {
        let msg = match self
            .dec
            .decode(frame, Precision::SPOT_STRINGS, &mut self.levels)
        {
            // A REST line of a capture must be a depth snapshot.
            Ok(m) if self.rest_frame && !matches!(m, BinanceMsg::Snapshot { .. }) => {
                self.s.bad_lines += 1;
                return Ok(());
            }
            Ok(m) => m,
            Err(
                BinanceError::Json
                | BinanceError::Unknown
                | BinanceError::Field(_)
                | BinanceError::Decimal { .. },
            ) => {
                self.s.bad_lines += 1;
                return Ok(());
            }
        };
        let i = match msg {
            BinanceMsg::Depth { symbol, .. }
            | BinanceMsg::Trade { symbol, .. }
            | BinanceMsg::BookTicker { symbol, .. } => self.instr(symbol.as_bytes()),
            // A snapshot names no symbol: a REST one belongs to its URL's, a partial-depth
            // frame to its stream's (`nknusdt@depth5@100ms`), any other to the first symbol.
            BinanceMsg::Snapshot { .. } => match (self.rest_symbol, stream_symbol(json)) {
                (Some(i), _) => i,
                (None, Some(sym)) => self.instr(sym),
                (None, None) => self.first(),
            },
        };
        self.on_message(i, ts, msg)
    }

    /// Applies one decoded message of symbol `i` (levels in `self.levels`).
    fn on_message(
        &mut self,
        i: usize,
        ts: u64,
        msg: BinanceMsg<'_>,
    ) -> Result<(), BinanceReplayError> {
        let tag = (i as u64) << 16;
        let sb = &mut self.syms[i];
        if sb.unsynced_since.is_none() && sb.last_u.is_none() {
            sb.unsynced_since = Some(ts);
        }
        let was_synced = sb.last_u.is_some();
        let levels = &self.levels;
        // The backtest runs on messages that find the book usable: (trade, book changed).
        let mut hook: Option<(Option<ticklane_engine::strategy::TradeTick>, bool)> = None;
        match msg {
            BinanceMsg::Snapshot { last_update_id } => {
                count!(self, i, snapshots);
                let sb = &mut self.syms[i];
                sb.book.clear();
                apply(&mut sb.book, levels);
                // Replay the buffered diffs per the rules.
                let mut cur = Some(last_update_id);
                let mut first = true;
                let mut applied_any = false;
                let (mut stale_n, mut applied_n, mut resyncs_n) = (0, 0, 0);
                for b in sb.buffered.drain(..) {
                    let Some(u) = cur else { break };
                    if stale(&b, last_update_id, true) {
                        stale_n += 1;
                        continue;
                    }
                    let ok = if first {
                        bracket(&b, last_update_id)
                    } else {
                        continues(&b, u)
                    };
                    first = false;
                    if ok {
                        apply(&mut sb.book, &b.levels);
                        applied_n += 1;
                        applied_any = true;
                        cur = Some(b.last);
                    } else {
                        resyncs_n += 1;
                        cur = None;
                    }
                }
                sb.last_u = cur;
                // No buffered diff was applied: the next one must bracket the snapshot.
                sb.pending_first = cur.is_some() && !applied_any;
                for (total, sym, n) in [
                    (&mut self.s.stale_dropped, &mut sb.s.stale_dropped, stale_n),
                    (&mut self.s.applied, &mut sb.s.applied, applied_n),
                    (&mut self.s.resyncs, &mut sb.s.resyncs, resyncs_n),
                ] {
                    *total += n;
                    *sym += n;
                }
            }
            BinanceMsg::Depth {
                first, last, prev, ..
            } => {
                count!(self, i, depth);
                let sb = &mut self.syms[i];
                let b = Buffered {
                    first,
                    last,
                    prev,
                    levels: Vec::new(),
                };
                let pending_first = sb.pending_first;
                match sb.last_u {
                    Some(u) if stale(&b, u, pending_first) => count!(self, i, stale_dropped),
                    Some(u)
                        if (pending_first && bracket(&b, u))
                            || (!pending_first && continues(&b, u)) =>
                    {
                        apply_traced(
                            &mut sb.book,
                            levels,
                            self.bt.as_mut(),
                            i,
                            ts,
                            &mut self.digest,
                        );
                        hook = Some((None, true));
                        sb.last_u = Some(last);
                        sb.pending_first = false;
                        count!(self, i, applied);
                    }
                    Some(_) => {
                        // A gap: the book can no longer be trusted until the next snapshot.
                        sb.last_u = None;
                        sb.book.clear();
                        sb.buffered.clear();
                        sb.buffered.push_back(Buffered {
                            levels: levels.clone(),
                            ..b
                        });
                        count!(self, i, resyncs);
                        if self.accept_unsynced {
                            apply(&mut self.syms[i].book, levels);
                            count!(self, i, applied);
                        }
                    }
                    None => {
                        // Unsynced: keep the diffs for the next snapshot (the most recent 10 000)
                        // and, if asked, build the book from them meanwhile.
                        if sb.buffered.len() == 10_000 {
                            sb.buffered.pop_front();
                        }
                        sb.buffered.push_back(Buffered {
                            levels: levels.clone(),
                            ..b
                        });
                        if self.accept_unsynced {
                            apply_traced(
                                &mut sb.book,
                                levels,
                                self.bt.as_mut(),
                                i,
                                ts,
                                &mut self.digest,
                            );
                            hook = Some((None, true));
                            count!(self, i, applied);
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
                count!(self, i, trades);
                let sb = &mut self.syms[i];
                if sb.last_u.is_some() || self.accept_unsynced {
                    self.digest.word(2 | u64::from(buyer_maker) << 8 | tag);
                    self.digest.word(ts);
                    self.digest.iword(px);
                    self.digest.iword(qty);
                    if let Some(bt) = self.bt.as_mut() {
                        // The buyer was the maker: a sell hit the bid.
                        let resting = if buyer_maker { Side::Bid } else { Side::Ask };
                        let q = qty.max(0) as u64;
                        let digest = &mut self.digest;
                        let emit = &mut |o: crate::stages::Output| crate::digest::exec(digest, &o);
                        bt.before_message(i, ts, &sb.book, emit);
                        bt.change(
                            i,
                            ts,
                            L2Change::Trade {
                                px: ticklane_engine::Px(px),
                                qty: q,
                                resting,
                            },
                            emit,
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
                count!(self, i, tickers);
                let sb = &self.syms[i];
                if sb.last_u == Some(update_id) {
                    let t = sb.book.top();
                    let ours = (
                        t.bid.map(|l| (l.px.0, l.qty.0 as i64)),
                        t.ask.map(|l| (l.px.0, l.qty.0 as i64)),
                    );
                    count!(self, i, tickers_compared);
                    if ours == (Some(bid), Some(ask)) {
                        count!(self, i, tickers_equal);
                    }
                }
            }
        }
        let sb = &mut self.syms[i];
        let synced = sb.last_u.is_some();
        if synced != was_synced {
            if synced {
                if let Some(since) = sb.unsynced_since.take() {
                    let d = ts.saturating_sub(since);
                    sb.s.unsynced_ns += d;
                    self.s.unsynced_ns += d;
                }
            } else {
                sb.unsynced_since = Some(ts);
            }
        }
        sb.book.set_synced(synced);
        if synced || self.accept_unsynced {
            let k = key(&sb.book.top());
            if k != sb.last_key {
                sb.last_key = k;
                self.digest.word(1 | tag);
                self.digest.word(ts);
                self.digest.iword(k[0].0);
                self.digest.word(k[0].1);
                self.digest.iword(k[1].0);
                self.digest.word(k[1].1);
                if let Some(c) = self.csv.as_mut() {
                    c.row(ticklane_engine::Nanos(ts), &sb.s.symbol, k)
                        .map_err(BinanceReplayError::Output)?;
                }
                count!(self, i, bbo_changes);
            }
        }
        let sb = &self.syms[i];
        if let (Some(bt), Some((trade, changed))) = (self.bt.as_mut(), hook) {
            let digest = &mut self.digest;
            bt.after_message(i, ts, &sb.book, trade, changed, &mut |o| {
                crate::digest::exec(digest, &o);
            });
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
        let j = self.time.jumps();
        s.time_jump_forward = j.forward;
        s.time_jump_backward = j.backward;
        if s.lines > 0 && s.lines == s.bad_lines {
            return Err(BinanceReplayError::NotBinance(s.bad_lines));
        }
        if let Some(c) = self.csv.as_mut() {
            c.flush().map_err(BinanceReplayError::Output)?;
        }
        let end = self.last_ts;
        s.symbols = self.syms.drain(..).map(|b| b.finish(end)).collect();
        // Unsynced time still open at the end is added now (the running total had only the
        // closed stretches).
        s.unsynced_ns = s.symbols.iter().map(|x| x.unsynced_ns).sum();
        s.synced_at_end = !s.symbols.is_empty() && s.symbols.iter().all(|x| x.synced_at_end);
        if let Some(first) = s.symbols.first() {
            s.bid = first.bid;
            s.ask = first.ask;
        }
        if let Some(bt) = self.bt.take() {
            s.strategy = self.strategy_name.map(str::to_owned);
            s.signals = Some(bt.signals());
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

/// The symbol of a combined-stream frame's stream name (`{"stream":"nknusdt@depth5@100ms",...`:
/// `nknusdt`), read from the frame's first bytes as Binance writes them.
fn stream_symbol(frame: &[u8]) -> Option<&[u8]> {
    let rest = frame.strip_prefix(br#"{"stream":""#)?;
    let at = rest.iter().take(40).position(|&c| c == b'@')?;
    let sym = &rest[..at];
    (!sym.is_empty() && sym.iter().all(u8::is_ascii_alphanumeric)).then_some(sym)
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
