//! Replay of a Binance capture (one symbol; hftbacktest's `<receive ns> <frame JSON>` lines or
//! our JSON lines with REST snapshots as lines of their own, see [`crate::capture`]; plain or
//! gzip) through the decoder and an L2 book synchronized the way Binance documents it.
//!
//! Sync: depth diffs are buffered until a depth snapshot arrives; diffs with `u` at or below the
//! snapshot's `lastUpdateId` are dropped; the first diff applied must bracket it (spot:
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

/// Options.
#[derive(Default)]
pub struct BinanceReplayOptions<'a> {
    /// Report the top of book while unsynced too (a diff-built book), instead of only after a
    /// snapshot.
    pub accept_unsynced: bool,
    /// BBO CSV sink (prices with 8 decimals).
    pub bbo_csv: Option<Box<dyn Write + 'a>>,
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
    /// Wall time, s (not in the digest).
    pub elapsed_s: f64,
    /// The digest: ordered top-of-book changes and trades.
    pub digest: String,
    /// Capture container: `ns-lines`, `jsonl`, `cryptofeed` or `mixed` (not in the digest).
    pub container: String,
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

/// Replays a capture.
///
/// # Errors
/// [`BinanceReplayError`].
pub fn replay_binance(
    input: impl BufRead,
    opts: BinanceReplayOptions<'_>,
) -> Result<BinanceSummary, BinanceReplayError> {
    let started = Instant::now();
    let p = Precision::SPOT_STRINGS;
    let mut s = BinanceSummary::default();
    let mut dec = BinanceDecoder::new();
    let mut levels = Vec::with_capacity(4096);
    let mut book = L2Book::new();
    let mut buffered: VecDeque<Buffered> = VecDeque::new();
    // Synced state: the last applied `u`; None while unsynced.
    let mut last_u: Option<u64> = None;
    let mut pending_first = false;
    let mut unsynced_since: Option<u64> = None;
    let mut last_ts = 0u64;
    let mut last_key = [(0i64, 0u64); 2];
    let mut digest = Digest::new();
    let mut csv = opts.bbo_csv.map(|w| BboCsv::with_decimals(w, 8));
    if let Some(c) = csv.as_mut() {
        c.header().map_err(BinanceReplayError::Output)?;
    }
    let mut seen = SeenContainers::default();
    let mut line = Vec::with_capacity(1 << 16);
    // simd-json parses in place: each frame is copied into this one reused buffer.
    let mut frame = Vec::with_capacity(1 << 16);
    let mut input = input;
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(BinanceReplayError::Read(e)),
        }
        s.lines += 1;
        let (ts, json, rest_url) = match classify(&line) {
            Some(CaptureLine::Frame {
                ts_ns,
                json,
                container,
            }) => {
                seen.add(container);
                (ts_ns, json, None)
            }
            Some(CaptureLine::Rest {
                ts_ns,
                url,
                json,
                container,
            }) => {
                seen.add(container);
                (ts_ns, json, Some(url))
            }
            Some(CaptureLine::Meta { container }) => {
                seen.add(container);
                continue;
            }
            None => {
                s.bad_lines += 1;
                continue;
            }
        };
        // A REST response is a depth snapshot of the symbol in its URL: one for another symbol
        // is counted and skipped.
        if let Some(url) = rest_url {
            match url_symbol(url) {
                Some(sym)
                    if !s.symbol.is_empty() && !sym.eq_ignore_ascii_case(s.symbol.as_bytes()) =>
                {
                    s.other_symbol += 1;
                    continue;
                }
                _ => {}
            }
        }
        if unsynced_since.is_none() && last_u.is_none() {
            unsynced_since = Some(ts);
        }
        last_ts = ts;
        frame.clear();
        frame.extend_from_slice(json);
        let msg = match dec.decode(&mut frame, p, &mut levels) {
            // A REST line must be a depth snapshot.
            Ok(m) if rest_url.is_some() && !matches!(m, BinanceMsg::Snapshot { .. }) => {
                s.bad_lines += 1;
                continue;
            }
            Ok(m) => m,
            Err(
                BinanceError::Json
                | BinanceError::Unknown
                | BinanceError::Field(_)
                | BinanceError::Decimal { .. },
            ) => {
                s.bad_lines += 1;
                continue;
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
                continue;
            }
        }
        let was_synced = last_u.is_some();
        match msg {
            BinanceMsg::Snapshot { last_update_id } => {
                s.snapshots += 1;
                book.clear();
                apply(&mut book, &levels);
                // Replay the buffered diffs per the rules.
                let mut cur = Some(last_update_id);
                let mut first = true;
                for b in buffered.drain(..) {
                    let Some(u) = cur else { break };
                    if b.last <= last_update_id {
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
                        apply(&mut book, &b.levels);
                        s.applied += 1;
                        cur = Some(b.last);
                    } else {
                        s.resyncs += 1;
                        cur = None;
                    }
                }
                last_u = cur;
                // No buffered diff reached past the snapshot: the next one must bracket it.
                pending_first = cur == Some(last_update_id);
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
                match last_u {
                    Some(u) if b.last <= u => s.stale_dropped += 1,
                    Some(u)
                        if (pending_first && bracket(&b, u))
                            || (!pending_first && continues(&b, u)) =>
                    {
                        apply(&mut book, &levels);
                        s.applied += 1;
                        last_u = Some(last);
                        pending_first = false;
                    }
                    Some(_) => {
                        // A gap: the book can no longer be trusted until the next snapshot.
                        s.resyncs += 1;
                        last_u = None;
                        book.clear();
                        buffered.clear();
                        buffered.push_back(Buffered {
                            levels: levels.clone(),
                            ..b
                        });
                        if opts.accept_unsynced {
                            apply(&mut book, &levels);
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
                        if opts.accept_unsynced {
                            apply(&mut book, &levels);
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
                if last_u.is_some() || opts.accept_unsynced {
                    digest.word(2 | u64::from(buyer_maker) << 8);
                    digest.word(ts);
                    digest.iword(px);
                    digest.iword(qty);
                }
            }
            BinanceMsg::BookTicker {
                update_id,
                bid,
                ask,
                ..
            } => {
                s.tickers += 1;
                if last_u == Some(update_id) {
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
        let synced = last_u.is_some();
        if synced != was_synced {
            if synced {
                if let Some(since) = unsynced_since.take() {
                    s.unsynced_ns += ts.saturating_sub(since);
                }
            } else {
                unsynced_since = Some(ts);
            }
        }
        book.set_synced(synced);
        if synced || opts.accept_unsynced {
            let k = key(&book.top());
            if k != last_key {
                last_key = k;
                s.bbo_changes += 1;
                digest.word(1);
                digest.word(ts);
                digest.iword(k[0].0);
                digest.word(k[0].1);
                digest.iword(k[1].0);
                digest.word(k[1].1);
                if let Some(c) = csv.as_mut() {
                    c.row(ticklane_engine::Nanos(ts), &s.symbol, k)
                        .map_err(BinanceReplayError::Output)?;
                }
            }
        }
    }
    if s.lines > 0 && s.lines == s.bad_lines {
        return Err(BinanceReplayError::NotBinance(s.bad_lines));
    }
    if let Some(since) = unsynced_since {
        s.unsynced_ns += last_ts.saturating_sub(since);
    }
    if let Some(c) = csv.as_mut() {
        c.flush().map_err(BinanceReplayError::Output)?;
    }
    s.synced_at_end = last_u.is_some();
    let t = book.top();
    s.bid = t.bid.map(|l| (l.px.0, l.qty.0 as i64));
    s.ask = t.ask.map(|l| (l.px.0, l.qty.0 as i64));
    s.elapsed_s = started.elapsed().as_secs_f64();
    s.digest = digest.hex();
    s.container = seen.name().into();
    Ok(s)
}

/// The `symbol=` parameter of a REST URL (`...depth?symbol=BTCUSDT&limit=1000`).
fn url_symbol(url: &[u8]) -> Option<&[u8]> {
    let q = url.iter().position(|&c| c == b'?')?;
    url[q + 1..]
        .split(|&c| c == b'&')
        .find_map(|kv| kv.strip_prefix(b"symbol="))
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
        writeln!(f, "elapsed:       {:.3} s", self.elapsed_s)?;
        write!(f, "digest: {}", self.digest)
    }
}
