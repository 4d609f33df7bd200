//! Binance (spot, USD-M and COIN-M futures) as events: depth diffs chained to REST snapshots
//! the way Binance documents it, trades, and bookTickers to compare with the book.
//!
//! Symbols get dense instrument indices in first-seen order. A REST snapshot belongs to the
//! symbol in its URL; a snapshot body without one (a live runner's REST response, a
//! partial-depth frame) belongs to its stream's symbol, or to the first symbol.
//!
//! Sync: depth diffs are buffered until a depth snapshot arrives; diffs older than the snapshot
//! are dropped (spot: `u <= lastUpdateId`; futures: `u < lastUpdateId`); the first diff applied
//! must bracket it (spot: `U <= lastUpdateId + 1 <= u`; USD-M futures: `U <= lastUpdateId <= u`),
//! and every later one must continue the previous (spot: `U == previous u + 1`; futures:
//! `pu == previous u`). The snapshot and the buffered diffs it validates are one snapshot
//! message; a break makes the book stale ([`Body::Stale`], counted as a resync) until the next
//! snapshot. A capture without a snapshot replays from an empty, unsynced book.
//!
//! Prices and quantities keep all 8 decimals Binance sends (1e-8 units).

use std::collections::VecDeque;

use ticklane_engine::{Body, InstrumentIdx, Side};
use ticklane_feeds::binance::{BinanceDecoder, BinanceError, BinanceMsg, LevelUpdate, Precision};

use super::{CryptoReplayOptions, L2Summary};
use super::{EventBuf, VenueFormat, VenueSync};
use crate::venue::capture::CaptureLine;

/// Diffs kept per symbol while waiting for a snapshot (the most recent ones).
pub const MAX_BUFFERED: usize = 10_000;

struct Buffered {
    first: u64,
    last: u64,
    prev: Option<u64>,
    levels: Vec<LevelUpdate>,
}

/// One symbol's sync state and counters.
#[derive(Default)]
struct Sym {
    buffered: VecDeque<Buffered>,
    // Synced state: the last applied `u`; None while unsynced.
    last_u: Option<u64>,
    pending_first: bool,
    depth: u64,
    applied: u64,
    stale_dropped: u64,
    tickers: u64,
}

/// The Binance machine.
pub struct Binance {
    dec: BinanceDecoder,
    levels: Vec<LevelUpdate>,
    frame: Vec<u8>,
    syms: Vec<Sym>,
    // Upper-case names by instrument (empty: a book a snapshot created before any name).
    names: Vec<String>,
    accept_unsynced: bool,
}

impl Binance {
    /// A machine with no symbols yet.
    pub fn new(opts: &CryptoReplayOptions<'_>) -> Self {
        Binance {
            dec: BinanceDecoder::new(),
            levels: Vec::with_capacity(4096),
            frame: Vec::with_capacity(1 << 16),
            syms: Vec::new(),
            names: Vec::new(),
            accept_unsynced: opts.accept_unsynced,
        }
    }

    /// The index of `symbol` (compared ignoring case), assigned on first sight. A book a
    /// snapshot created before any symbol was named (the first one, unnamed) takes the first
    /// name seen.
    fn instr(&mut self, symbol: &[u8], out: &mut EventBuf) -> InstrumentIdx {
        if let Some(i) = self
            .names
            .iter()
            .position(|n| n.as_bytes().eq_ignore_ascii_case(symbol))
        {
            return InstrumentIdx(i as u32);
        }
        let name = String::from_utf8_lossy(symbol).to_ascii_uppercase();
        if self.names.first().is_some_and(String::is_empty) {
            self.names[0].clone_from(&name);
            out.rename(InstrumentIdx(0), &name);
            return InstrumentIdx(0);
        }
        self.names.push(name.clone());
        self.syms.push(Sym::default());
        out.instrument(&name)
    }

    /// The first symbol's index, its book created (unnamed) if no symbol was seen yet.
    fn first(&mut self, out: &mut EventBuf) -> InstrumentIdx {
        if self.names.is_empty() {
            self.names.push(String::new());
            self.syms.push(Sym::default());
            return out.instrument("");
        }
        InstrumentIdx(0)
    }

    /// `json` as received; `rest`: it is a REST response, with the symbol of its URL if any.
    fn apply_frame(
        &mut self,
        ts: u64,
        json: &[u8],
        rest: Option<Option<&[u8]>>,
        s: &mut L2Summary,
        out: &mut EventBuf,
    ) {
        out.at(ts);
        let rest_symbol = match rest {
            Some(Some(sym)) => Some(self.instr(sym, out)),
            _ => None,
        };
        // The frame buffer is taken out while its message is applied (the message borrows it)
        // and put back after, keeping its capacity.
        let mut frame = std::mem::take(&mut self.frame);
        frame.clear();
        frame.extend_from_slice(json);
        let mut levels = std::mem::take(&mut self.levels);
        match self
            .dec
            .decode(&mut frame, Precision::SPOT_STRINGS, &mut levels)
        {
            // A REST line of a capture must be a depth snapshot.
            Ok(m) if rest.is_some() && !matches!(m, BinanceMsg::Snapshot { .. }) => {
                s.bad_lines += 1;
            }
            Ok(msg) => {
                s.messages += 1;
                let i = match msg {
                    BinanceMsg::Depth { symbol, .. }
                    | BinanceMsg::Trade { symbol, .. }
                    | BinanceMsg::BookTicker { symbol, .. } => self.instr(symbol.as_bytes(), out),
                    // A snapshot names no symbol: a REST one belongs to its URL's, a
                    // partial-depth frame to its stream's (`nknusdt@depth5@100ms`), any other
                    // to the first symbol.
                    BinanceMsg::Snapshot { .. } => match (rest_symbol, stream_symbol(json)) {
                        (Some(i), _) => i,
                        (None, Some(sym)) => self.instr(sym, out),
                        (None, None) => self.first(out),
                    },
                };
                self.on_message(i, msg, &levels, out);
            }
            Err(
                BinanceError::Json
                | BinanceError::Unknown
                | BinanceError::Field(_)
                | BinanceError::Decimal { .. },
            ) => s.bad_lines += 1,
        }
        self.levels = levels;
        self.frame = frame;
    }

    fn on_message(
        &mut self,
        i: InstrumentIdx,
        msg: BinanceMsg<'_>,
        levels: &[LevelUpdate],
        out: &mut EventBuf,
    ) {
        let accept = self.accept_unsynced;
        let sb = &mut self.syms[i.get()];
        match msg {
            BinanceMsg::Snapshot { last_update_id } => {
                out.push(i, Body::SnapshotBegin);
                out.levels(i, levels);
                // Replay the buffered diffs per the rules.
                let mut cur = Some(last_update_id);
                let mut first = true;
                let mut applied_any = false;
                for b in sb.buffered.drain(..) {
                    let Some(u) = cur else { break };
                    if stale(&b, last_update_id, true) {
                        sb.stale_dropped += 1;
                        continue;
                    }
                    let ok = if first {
                        bracket(&b, last_update_id)
                    } else {
                        continues(&b, u)
                    };
                    first = false;
                    if ok {
                        out.levels(i, &b.levels);
                        sb.applied += 1;
                        applied_any = true;
                        cur = Some(b.last);
                    } else {
                        cur = None;
                    }
                }
                out.push(i, Body::SnapshotEnd);
                if cur.is_none() {
                    // A buffered diff did not chain: the book waits for the next snapshot.
                    out.push(i, Body::Stale { clear: false });
                }
                sb.last_u = cur;
                // No buffered diff was applied: the next one must bracket the snapshot.
                sb.pending_first = cur.is_some() && !applied_any;
            }
            BinanceMsg::Depth {
                first, last, prev, ..
            } => {
                sb.depth += 1;
                let b = Buffered {
                    first,
                    last,
                    prev,
                    levels: Vec::new(),
                };
                let pending_first = sb.pending_first;
                match sb.last_u {
                    Some(u) if stale(&b, u, pending_first) => sb.stale_dropped += 1,
                    Some(u)
                        if (pending_first && bracket(&b, u))
                            || (!pending_first && continues(&b, u)) =>
                    {
                        out.levels(i, levels);
                        sb.last_u = Some(last);
                        sb.pending_first = false;
                        sb.applied += 1;
                    }
                    Some(_) => {
                        // A gap: the book can no longer be trusted until the next snapshot.
                        sb.last_u = None;
                        sb.buffered.clear();
                        sb.buffered.push_back(Buffered {
                            levels: levels.to_vec(),
                            ..b
                        });
                        out.push(i, Body::Stale { clear: true });
                        if accept {
                            out.levels(i, levels);
                            sb.applied += 1;
                        }
                    }
                    None => {
                        // Unsynced: keep the diffs for the next snapshot (the most recent ones)
                        // and, if asked, build the book from them meanwhile.
                        if sb.buffered.len() == MAX_BUFFERED {
                            sb.buffered.pop_front();
                        }
                        sb.buffered.push_back(Buffered {
                            levels: levels.to_vec(),
                            ..b
                        });
                        if accept {
                            out.levels(i, levels);
                            sb.applied += 1;
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
                // The buyer was the maker: a sell hit the bid.
                out.trade(i, px, qty, if buyer_maker { Side::Bid } else { Side::Ask });
            }
            BinanceMsg::BookTicker {
                update_id,
                bid,
                ask,
                ..
            } => {
                sb.tickers += 1;
                if sb.last_u == Some(update_id) {
                    out.top_check(i, (bid.0, Some(bid.1)), (ask.0, Some(ask.1)));
                }
            }
        }
    }
}

impl VenueSync for Binance {
    fn format(&self) -> VenueFormat {
        VenueFormat::Binance
    }

    fn on_line(&mut self, ts: u64, l: CaptureLine<'_>, s: &mut L2Summary, out: &mut EventBuf) {
        match l {
            CaptureLine::Frame { json, .. } => self.apply_frame(ts, json, None, s, out),
            // A REST response is a depth snapshot of the symbol in its URL.
            CaptureLine::Rest { url, json, .. } => {
                self.apply_frame(ts, json, Some(url_symbol(url)), s, out);
            }
            CaptureLine::Meta { .. } => s.control += 1,
        }
    }

    fn on_frame(&mut self, ts: u64, json: &[u8], s: &mut L2Summary, out: &mut EventBuf) {
        self.apply_frame(ts, json, None, s, out);
    }

    fn lose_sync(&mut self, ts: u64, out: &mut EventBuf) {
        for b in &mut self.syms {
            b.last_u = None;
            b.pending_first = false;
            b.buffered.clear();
        }
        out.lose_all(ts);
    }

    fn awaiting_snapshot(&self, i: usize) -> bool {
        self.syms
            .get(i)
            .is_some_and(|b| b.last_u.is_none() && !b.buffered.is_empty())
    }

    fn sequence(&self, i: usize) -> Option<u64> {
        self.syms.get(i).and_then(|b| b.last_u)
    }

    fn counts(&self) -> (u64, u64) {
        self.syms
            .iter()
            .fold((0, 0), |(d, t), b| (d + b.depth, t + b.tickers))
    }

    fn finish(&mut self, s: &mut L2Summary) -> Result<(), u64> {
        if s.lines > 0 && s.lines == s.bad_lines {
            return Err(s.bad_lines);
        }
        for (row, b) in s.symbols.iter_mut().zip(&self.syms) {
            row.tickers += b.tickers;
            row.depth += b.depth;
            row.applied += b.applied;
            row.stale_dropped += b.stale_dropped;
        }
        Ok(())
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
