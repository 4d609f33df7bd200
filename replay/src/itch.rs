//! Replay of an ITCH 5.0 BinaryFILE through the decoder and the L3 books.
//!
//! The loop is the same one a live feed runs: frame → decode → normalize → book → outputs
//! (digest, BBO changes, trades). Everything it reports is counted in integers; bad frames,
//! undecodable messages and book inconsistencies are counted by kind and the stream goes on.

use std::io::{Read, Write};
use std::time::Instant;

use ticklane_engine::book::{BookError, L3Books, Top};
use ticklane_engine::{Body, Digest, InstrumentIdx, Nanos, Px, Qty, SourceId};
use ticklane_feeds::itch::framing::{FrameError, FrameReader};
use ticklane_feeds::itch::msg::{type_index, MESSAGE_TYPES};
use ticklane_feeds::itch::normalize::Normalizer;
use ticklane_feeds::itch::{decode, DecodeError};

use crate::bbo_csv::BboCsv;
use crate::summary::{BboLine, ErrorCounts, Summary};

/// What to replay and what to write besides the summary.
#[derive(Default)]
pub struct ItchReplayOptions<'a> {
    /// Restrict outputs (digest, BBO CSV, trades, top symbols) to these symbols; decoding and
    /// the books still cover everything. Empty = all symbols.
    pub symbols: Vec<String>,
    /// Write every change of a selected symbol's best bid/ask price or size here.
    pub bbo_csv: Option<Box<dyn Write + 'a>>,
    /// Called every 64Ki frames with the number of input bytes consumed so far.
    pub progress: Option<Box<dyn FnMut(u64) + 'a>>,
    /// How many of the most active symbols the summary lists (default 10 when 0).
    pub top_n: usize,
}

/// Why a replay could not run at all (as opposed to bad records inside it, which are counted).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The input is not an ITCH 5.0 BinaryFILE.
    #[error("not an ITCH 5.0 BinaryFILE: {0}")]
    NotItch(String),
    /// Writing an output failed.
    #[error("writing {what}: {source}")]
    Output {
        /// Which output.
        what: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Per-instrument state the outputs need: last reported top and activity.
#[derive(Clone, Copy, Default)]
struct InstrState {
    /// Last reported (bid px, bid qty, ask px, ask qty); empty sides as (0, 0).
    last: [(i64, u64); 2],
    selected: bool,
    activity: u64,
}

const NO_LEVEL: (i64, u64) = (0, 0);

fn top_key(t: &Top) -> [(i64, u64); 2] {
    [
        t.bid.map_or(NO_LEVEL, |l| (l.px.0, l.qty.0)),
        t.ask.map_or(NO_LEVEL, |l| (l.px.0, l.qty.0)),
    ]
}

/// Trade kinds as they enter the digest.
#[derive(Clone, Copy)]
#[repr(u8)]
enum TradeKind {
    Execute = 1,
    ExecuteAtPx = 2,
    NonDisplayed = 3,
    Cross = 4,
}

/// Replays ITCH frames from `reader` and returns the summary.
///
/// # Errors
/// [`ReplayError::NotItch`] when the first frame is not ITCH; [`ReplayError::Output`] when an
/// output cannot be written. Bad records inside the stream are counted in the summary instead.
pub fn replay_itch<R: Read>(
    mut reader: FrameReader<R>,
    mut opts: ItchReplayOptions<'_>,
) -> Result<Summary, ReplayError> {
    let started = Instant::now();
    let top_n = if opts.top_n == 0 { 10 } else { opts.top_n };
    let filter: Vec<[u8; 8]> = opts.symbols.iter().map(|s| pad_symbol(s)).collect();

    let mut norm = Normalizer::new(SourceId(0));
    let mut books = L3Books::with_capacity(1 << 14, 20, 1 << 16);
    let mut state: Vec<InstrState> = vec![InstrState { selected: filter.is_empty(), ..Default::default() }; 1 << 16];
    let mut digest = Digest::new();
    let mut counts = [0u64; MESSAGE_TYPES.len()];
    let mut errors = ErrorCounts::default();
    let mut csv = opts.bbo_csv.take().map(BboCsv::new);
    if let Some(c) = csv.as_mut() {
        c.header().map_err(|source| ReplayError::Output { what: "BBO CSV", source })?;
    }

    let mut messages = 0u64;
    let mut book_events = 0u64;
    let mut trades = 0u64;
    let mut volume = 0u64;
    let mut cross_volume = 0u64;
    let mut bbo_changes = 0u64;
    let mut first = true;
    let mut last_ts = Nanos(0);

    while let Some(frame) = reader.next_frame() {
        let frame = match frame {
            Ok(f) => f,
            Err(FrameError::Garbage { offset, skipped }) => {
                if first {
                    return Err(ReplayError::NotItch(format!(
                        "the first frame at byte {offset} is not a valid ITCH 5.0 message"
                    )));
                }
                errors.garbage_regions += 1;
                errors.garbage_bytes += skipped;
                continue;
            }
            Err(FrameError::TruncatedTail { offset, need, have }) => {
                errors.truncated_tail = Some(crate::summary::Truncated { offset, need: need as u64, have: have as u64 });
                break;
            }
            Err(FrameError::Io(kind)) => {
                errors.io = Some(format!("{kind}"));
                break;
            }
        };
        first = false;
        let seq = messages;
        messages += 1;
        if messages & 0xFFFF == 0 {
            if let Some(p) = opts.progress.as_mut() {
                p(reader.bytes_read());
            }
        }
        let msg = match decode(frame.bytes) {
            Ok(m) => m,
            Err(e) => {
                errors.count_decode(&e);
                continue;
            }
        };
        if let Some(i) = type_index(msg.type_byte()) {
            counts[i] += 1;
        }
        let Some(ev) = norm.normalize(&msg, seq, Nanos(0)) else {
            if let ticklane_feeds::itch::Message::StockDirectory(r) = msg {
                let locate = usize::from(r.common.stock_locate);
                if !filter.is_empty() {
                    state[locate].selected = filter.contains(&r.stock);
                }
            }
            continue;
        };
        last_ts = ev.hdr.ts_exch;
        let instr = ev.hdr.instr;
        let st_idx = instr.get() & 0xFFFF;
        match ev.body {
            Body::Trade { px, qty, .. } => {
                let st = &mut state[st_idx];
                st.activity += 1;
                if st.selected {
                    trades += 1;
                    volume += qty.0;
                    trade_digest(&mut digest, instr, ev.hdr.ts_exch, px, qty, TradeKind::NonDisplayed);
                }
                continue;
            }
            Body::Cross { px, qty, .. } => {
                let st = &mut state[st_idx];
                st.activity += 1;
                if st.selected {
                    trades += 1;
                    cross_volume += qty.0;
                    trade_digest(&mut digest, instr, ev.hdr.ts_exch, px, qty, TradeKind::Cross);
                }
                continue;
            }
            ref b if !b.affects_book() => continue,
            _ => {}
        }
        let applied = match books.apply(&ev) {
            Ok(Some(a)) => a,
            Ok(None) => {
                // A clear: report the (now empty) top.
                book_events += 1;
                check_top(&books, &mut state, instr, ev.hdr.ts_exch, &mut digest, &mut csv, &norm, &mut bbo_changes)?;
                continue;
            }
            Err(e) => {
                errors.count_book(&e);
                if let BookError::Overfill { .. } = e {
                    check_top(&books, &mut state, instr, ev.hdr.ts_exch, &mut digest, &mut csv, &norm, &mut bbo_changes)?;
                }
                continue;
            }
        };
        book_events += 1;
        let st = &mut state[applied.instr.get() & 0xFFFF];
        st.activity += 1;
        if st.selected {
            match ev.body {
                Body::Execute { qty, .. } => {
                    trades += 1;
                    volume += qty.0;
                    trade_digest(&mut digest, applied.instr, ev.hdr.ts_exch, applied.px, qty, TradeKind::Execute);
                }
                Body::ExecuteAtPx { qty, px, printable, .. } => {
                    trades += 1;
                    if printable {
                        volume += qty.0;
                    }
                    trade_digest(&mut digest, applied.instr, ev.hdr.ts_exch, px, qty, TradeKind::ExecuteAtPx);
                }
                _ => {}
            }
        }
        if applied.touched_top {
            check_top(&books, &mut state, applied.instr, ev.hdr.ts_exch, &mut digest, &mut csv, &norm, &mut bbo_changes)?;
        }
    }
    if let Some(p) = opts.progress.as_mut() {
        p(reader.bytes_read());
    }
    if let Some(c) = csv.as_mut() {
        c.flush().map_err(|source| ReplayError::Output { what: "BBO CSV", source })?;
    }
    errors.garbage_bytes = errors.garbage_bytes.max(reader.garbage_bytes());

    // The most active selected symbols, ties broken by locate so the list is deterministic.
    let mut active: Vec<(u64, usize)> = state
        .iter()
        .enumerate()
        .filter(|(_, s)| s.selected && s.activity > 0)
        .map(|(i, s)| (s.activity, i))
        .collect();
    active.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let top_symbols = active
        .iter()
        .take(top_n)
        .map(|&(activity, i)| {
            let t = books.top(InstrumentIdx(i as u32));
            BboLine {
                symbol: norm.symbols.symbol(i as u16).map_or_else(|| format!("#{i}"), str::to_owned),
                locate: i as u16,
                events: activity,
                bid: t.bid.map(|l| (l.px.0, l.qty.0)),
                ask: t.ask.map(|l| (l.px.0, l.qty.0)),
            }
        })
        .collect();

    let elapsed = started.elapsed().as_secs_f64();
    let by_type = MESSAGE_TYPES
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(&(ty, _), n)| ((ty as char).to_string(), n))
        .collect();
    Ok(Summary {
        format: "itch5".into(),
        messages,
        by_type,
        symbols: norm.symbols.len() as u64,
        selected_symbols: if filter.is_empty() { None } else { Some(opts.symbols.clone()) },
        book_events,
        resting_orders: books.orders().len(),
        trades,
        volume,
        cross_volume,
        bbo_changes,
        last_ts_exch_ns: last_ts.0,
        top_symbols,
        errors,
        bytes: reader.bytes_read(),
        elapsed_s: elapsed,
        msgs_per_sec: if elapsed > 0.0 { messages as f64 / elapsed } else { 0.0 },
        digest: digest.hex(),
    })
}

fn pad_symbol(s: &str) -> [u8; 8] {
    let mut out = [b' '; 8];
    for (o, b) in out.iter_mut().zip(s.trim().bytes()) {
        *o = b.to_ascii_uppercase();
    }
    out
}

#[inline]
fn trade_digest(d: &mut Digest, instr: InstrumentIdx, ts: Nanos, px: Px, qty: Qty, kind: TradeKind) {
    d.word(2 | (kind as u64) << 8 | u64::from(instr.0) << 16);
    d.word(ts.0);
    d.iword(px.0);
    d.word(qty.0);
}

#[allow(clippy::too_many_arguments)] // the loop's state, passed explicitly to keep this cold path out of line
#[inline(never)]
fn check_top<'w>(
    books: &L3Books,
    state: &mut [InstrState],
    instr: InstrumentIdx,
    ts: Nanos,
    digest: &mut Digest,
    csv: &mut Option<BboCsv<'w>>,
    norm: &Normalizer,
    bbo_changes: &mut u64,
) -> Result<(), ReplayError> {
    let st = &mut state[instr.get() & 0xFFFF];
    let key = top_key(&books.top(instr));
    if key == st.last {
        return Ok(());
    }
    st.last = key;
    if !st.selected {
        return Ok(());
    }
    *bbo_changes += 1;
    digest.word(1 | u64::from(instr.0) << 16);
    digest.word(ts.0);
    digest.iword(key[0].0);
    digest.word(key[0].1);
    digest.iword(key[1].0);
    digest.word(key[1].1);
    if let Some(c) = csv.as_mut() {
        let sym = norm.symbols.symbol(instr.0 as u16).unwrap_or("");
        c.row(ts, sym, key)
            .map_err(|source| ReplayError::Output { what: "BBO CSV", source })?;
    }
    Ok(())
}

impl ErrorCounts {
    fn count_decode(&mut self, e: &DecodeError) {
        self.decode += 1;
        if self.first_decode.is_none() {
            self.first_decode = Some(e.to_string());
        }
    }

    fn count_book(&mut self, e: &BookError) {
        match e {
            BookError::UnknownOrder(_) => self.unknown_order += 1,
            BookError::DuplicateOrder(_) => self.duplicate_order += 1,
            BookError::Overfill { .. } => self.overfill += 1,
            BookError::InstrumentOutOfRange(_) => self.instrument_out_of_range += 1,
        }
    }
}
