//! LOBSTER message files re-encoded as ITCH 5.0 BinaryFILEs: real order flow for the ITCH path.
//!
//! Mapping: submit → `A`; partial cancel → `X` (or `D` when it takes the whole order); delete →
//! `D`; visible execution → `E`; hidden execution → `P` (order ref 0, side of the hidden order);
//! cross → `Q` (cross type `O` before noon, `C` after, since LOBSTER does not say which);
//! halt indicator → `H` (price -1 halted `H`, 0 quotation only `Q`, 1 trading `T`). Around them:
//! `S` 'O', `R` for the symbol, `S` 'S' and 'Q' at the first message's time; `S` 'M', 'E', 'C'
//! at the last.
//!
//! LOBSTER's message file holds only the events that changed its N visible levels, so its
//! order-book file shows liquidity the messages never introduce: orders resting before the first
//! message, and depth that scrolls into view when the book shifts. Given the order-book file, the
//! converter seeds both as anonymous orders (references from [`SEED_REF_BASE`] up; LOBSTER ids
//! are far below): before message 1 it emits the book of row 1 with message 1 undone, and after
//! each row it adds whatever that row shows beyond the previous row's deepest level that the
//! re-encoded book lacks. An event naming an unknown id draws on the anonymous order at its side
//! and price. When there is none, the order is materialized just before the event with the
//! event's size (an `A` immediately reduced, so the book is unchanged and an execution still
//! prints its trade). Every case is counted in [`ConvertStats`]; without the order-book file the
//! book starts empty and only materialization applies.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, Write};

use super::{parse_orderbook_line, BookRow, LobsterError, LobsterKind, LobsterMsg, MessageReader};
use crate::itch::encode::encode_frame;
use crate::itch::msg::*;

/// First reference number of the anonymous orders seeded from the order-book file.
pub const SEED_REF_BASE: u64 = 1 << 40;

/// Conversion settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertOptions {
    /// Symbol for the stock directory (at most 8 characters are used).
    pub symbol: String,
    /// Stock locate to use.
    pub locate: u16,
    /// After a row whose visible levels still differ from the order-book file, make them equal
    /// (anonymous adds, cancels of the most recent orders), so later rows are judged on their
    /// own. Counted in [`ConvertStats::resynced_rows`].
    pub resync: bool,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            symbol: "LOBSTER".into(),
            locate: 1,
            resync: false,
        }
    }
}

/// What a conversion did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConvertStats {
    /// Message-file rows read.
    pub rows: u64,
    /// Rows that could not be parsed (skipped).
    pub bad_rows: u64,
    /// The first parse error.
    pub first_error: Option<LobsterError>,
    /// ITCH messages written by type (spec order; types written only).
    pub written: Vec<(char, u64)>,
    /// Anonymous orders seeded from the order-book file before the first message.
    pub seeded_orders: u64,
    /// Anonymous orders added for depth the order-book file revealed later.
    pub revealed_orders: u64,
    /// Levels cancelled because the order-book file stopped showing liquidity that changed
    /// while hidden below its depth.
    pub vanished: u64,
    /// Order-book rows whose visible levels still differ from the re-encoded book.
    pub rows_differing: u64,
    /// Rows after which the visible levels were resynchronized from the order-book file.
    pub resynced_rows: u64,
    /// Events on unknown ids served by a seeded order.
    pub drawn_from_seed: u64,
    /// Unknown ids materialized (liquidity LOBSTER never showed).
    pub materialized: u64,
    /// Reductions larger than what the order had (clamped).
    pub oversized: u64,
}

impl fmt::Display for ConvertStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} rows ({} bad), wrote", self.rows, self.bad_rows)?;
        for (t, n) in &self.written {
            write!(f, " {t}={n}")?;
        }
        write!(
            f,
            "; {} seeded orders, {} revealed-depth orders, {} vanished-depth cancels, {} events on pre-existing orders, {} unseen orders materialized, {} oversized reductions, {} order-book rows differing, {} resynced",
            self.seeded_orders, self.revealed_orders, self.vanished, self.drawn_from_seed, self.materialized, self.oversized, self.rows_differing, self.resynced_rows
        )?;
        if let Some(e) = &self.first_error {
            write!(f, "; first bad row: {e}")?;
        }
        Ok(())
    }
}

/// Why a conversion failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The message file has no valid row.
    #[error("no valid LOBSTER message row ({bad} bad rows; first: {first:?})")]
    NoMessages {
        /// Bad rows seen.
        bad: u64,
        /// The first error.
        first: Option<LobsterError>,
    },
    /// An order-book row could not be parsed.
    #[error("order-book file: {0}")]
    OrderBook(LobsterError),
    /// Writing failed.
    #[error("writing ITCH: {0}")]
    Io(#[from] io::Error),
}

struct Order {
    bid: bool,
    px: i64,
    shares: u64,
}

/// Where converted messages go: an ITCH file ([`convert`]) or anything else, such as a replay
/// that checks its book against LOBSTER's after every row.
pub trait ItchSink {
    /// One ITCH message.
    ///
    /// # Errors
    /// The sink's own I/O errors.
    fn put(&mut self, m: &Message) -> io::Result<()>;

    /// Every message of a LOBSTER row has been put.
    ///
    /// # Errors
    /// The sink's own I/O errors.
    fn row_done(&mut self, row: &RowDone<'_>) -> io::Result<()> {
        let _ = row;
        Ok(())
    }
}

/// What [`ItchSink::row_done`] is told about a finished row.
#[derive(Clone, Copy, Debug)]
pub struct RowDone<'a> {
    /// 1-based row number in the message file (bad rows included).
    pub row: u64,
    /// The row.
    pub msg: &'a LobsterMsg,
    /// The same row of the order-book file, when one was given.
    pub reference: Option<&'a BookRow>,
    /// Anonymous orders added or cancelled after this row because the order-book file showed
    /// depth the message file never reported (LOBSTER's depth quirk); 0 on most rows.
    pub from_reference: u32,
}

/// Encodes into an ITCH BinaryFILE.
struct FileSink<'w, W: Write> {
    out: &'w mut W,
    buf: Vec<u8>,
}

impl<W: Write> ItchSink for FileSink<'_, W> {
    fn put(&mut self, m: &Message) -> io::Result<()> {
        encode_frame(m, &mut self.buf);
        if self.buf.len() > 1 << 16 {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

struct Writer<'w, S: ItchSink> {
    sink: &'w mut S,
    counts: [u64; MESSAGE_TYPES.len()],
    locate: u16,
    stock: Stock,
    match_no: u64,
    /// Tracking number stamped on messages: the LOBSTER row (mod 65535, from 1) that caused
    /// them; 0 for the header and the seeded book.
    tracking: u16,
    /// The re-encoded book: price → shares, bids `[0]`, asks `[1]`.
    book: [BTreeMap<i64, u64>; 2],
}

impl<S: ItchSink> Writer<'_, S> {
    fn c(&self, ts: u64) -> Common {
        Common {
            stock_locate: self.locate,
            tracking: self.tracking,
            timestamp: ts,
        }
    }
    fn put(&mut self, m: Message) -> io::Result<()> {
        if let Some(i) = type_index(m.type_byte()) {
            self.counts[i] += 1;
        }
        self.sink.put(&m)
    }
    fn sys(&mut self, ts: u64, code: u8) -> io::Result<()> {
        self.put(Message::SystemEvent(SystemEvent {
            common: Common {
                stock_locate: 0,
                tracking: 0,
                timestamp: ts,
            },
            event_code: code,
        }))
    }
    fn level(&mut self, bid: bool, px: i64, d: i64) {
        let side = &mut self.book[usize::from(!bid)];
        let e = side.entry(px).or_insert(0);
        *e = e.saturating_add_signed(d);
        if *e == 0 {
            side.remove(&px);
        }
    }
    fn add(&mut self, ts: u64, order_ref: u64, bid: bool, shares: u64, px: i64) -> io::Result<()> {
        self.level(bid, px, shares as i64);
        self.put(Message::AddOrder(AddOrder {
            common: self.c(ts),
            order_ref,
            side: if bid { b'B' } else { b'S' },
            shares: shares as u32,
            stock: self.stock,
            price: px as u32,
            attribution: None,
        }))
    }
    /// Removes `shares` from an order that has `has`: `X`, or `D` when it empties it, or `E`
    /// for an execution.
    #[allow(clippy::too_many_arguments)] // one order's full identity plus the reduction
    fn reduce(
        &mut self,
        ts: u64,
        order_ref: u64,
        bid: bool,
        px: i64,
        shares: u64,
        has: u64,
        exec: bool,
    ) -> io::Result<()> {
        self.level(bid, px, -(shares.min(has) as i64));
        let c = self.c(ts);
        if exec {
            self.match_no += 1;
            return self.put(Message::OrderExecuted(OrderExecuted {
                common: c,
                order_ref,
                executed_shares: shares as u32,
                match_number: self.match_no,
            }));
        }
        if shares >= has {
            self.put(Message::OrderDelete(OrderDelete {
                common: c,
                order_ref,
            }))
        } else {
            self.put(Message::OrderCancel(OrderCancel {
                common: c,
                order_ref,
                cancelled_shares: shares as u32,
            }))
        }
    }
}

/// Converts a LOBSTER message file to an ITCH 5.0 BinaryFILE on `out`.
///
/// # Errors
/// [`ConvertError::NoMessages`] when no row parses; [`ConvertError::Io`] when writing fails.
/// Bad rows are skipped and counted.
pub fn convert(
    messages: impl BufRead,
    orderbook: Option<&mut dyn BufRead>,
    opts: &ConvertOptions,
    out: &mut impl Write,
) -> Result<ConvertStats, ConvertError> {
    let mut sink = FileSink {
        out,
        buf: Vec::with_capacity(1 << 17),
    };
    let stats = convert_into(messages, orderbook, opts, &mut sink)?;
    sink.out.write_all(&sink.buf)?;
    sink.out.flush()?;
    Ok(stats)
}

/// [`convert`], handing each ITCH message to `sink` instead of encoding it.
///
/// # Errors
/// As [`convert`].
pub fn convert_into(
    messages: impl BufRead,
    orderbook: Option<&mut dyn BufRead>,
    opts: &ConvertOptions,
    sink: &mut impl ItchSink,
) -> Result<ConvertStats, ConvertError> {
    let mut ob_lines = orderbook.map(|r| r.lines());
    let mut ob_no = 0u64;
    let mut next_row = |row: &mut BookRow| -> Result<bool, ConvertError> {
        let Some(lines) = ob_lines.as_mut() else {
            return Ok(false);
        };
        match lines.next() {
            None => Ok(false),
            Some(Err(e)) => Err(ConvertError::Io(e)),
            Some(Ok(l)) => {
                ob_no += 1;
                parse_orderbook_line(l.as_bytes(), ob_no, row).map_err(ConvertError::OrderBook)?;
                Ok(true)
            }
        }
    };
    let mut stats = ConvertStats::default();
    let mut rows = MessageReader::new(messages);
    let mut next_ok = |stats: &mut ConvertStats| -> Option<LobsterMsg> {
        for r in rows.by_ref() {
            stats.rows += 1;
            match r {
                Ok(m) => return Some(m),
                Err(e) => {
                    stats.bad_rows += 1;
                    stats.first_error.get_or_insert(e);
                }
            }
        }
        None
    };
    let Some(first) = next_ok(&mut stats) else {
        return Err(ConvertError::NoMessages {
            bad: stats.bad_rows,
            first: stats.first_error,
        });
    };
    let mut stock = [b' '; 8];
    for (s, b) in stock.iter_mut().zip(opts.symbol.bytes()) {
        *s = b.to_ascii_uppercase();
    }
    let mut w = Writer {
        sink,
        counts: [0; MESSAGE_TYPES.len()],
        locate: opts.locate,
        stock,
        match_no: 0,
        tracking: 0,
        book: [BTreeMap::new(), BTreeMap::new()],
    };
    let t0 = first.ts_ns;
    w.sys(t0, b'O')?;
    w.put(Message::StockDirectory(StockDirectory::common_stock(
        w.c(t0),
        stock,
    )))?;
    w.sys(t0, b'S')?;
    w.sys(t0, b'Q')?;

    // Anonymous orders: (bid, px) → (ref, shares).
    let mut seeds: BTreeMap<(bool, i64), Vec<(u64, u64)>> = BTreeMap::new();
    let mut next_seed = SEED_REF_BASE;
    let mut row = BookRow::default();
    let mut prev_row = BookRow::default();
    let have_book = next_row(&mut row)?;
    if have_book {
        let mut levels: Vec<(bool, i64, i64)> = Vec::new();
        levels.extend(row.bids.iter().map(|&(p, q)| (true, p, q as i64)));
        levels.extend(row.asks.iter().map(|&(p, q)| (false, p, q as i64)));
        // Undo message 1: the row is the book after it.
        let undo = |levels: &mut Vec<(bool, i64, i64)>, bid: bool, px: i64, d: i64| {
            if let Some(l) = levels.iter_mut().find(|l| l.0 == bid && l.1 == px) {
                l.2 += d;
            } else if d > 0 {
                levels.push((bid, px, d));
            }
        };
        match first.kind {
            LobsterKind::Submit => undo(
                &mut levels,
                first.is_buy(),
                first.price,
                -(first.size as i64),
            ),
            LobsterKind::Cancel | LobsterKind::Delete | LobsterKind::ExecuteVisible => {
                undo(&mut levels, first.is_buy(), first.price, first.size as i64)
            }
            _ => {}
        }
        // Best levels first on each side, bids then asks, so the book builds from the touch.
        for &(bid, px, q) in levels.iter().filter(|l| l.2 > 0) {
            w.add(t0, next_seed, bid, q as u64, px)?;
            seeds
                .entry((bid, px))
                .or_default()
                .push((next_seed, q as u64));
            next_seed += 1;
            stats.seeded_orders += 1;
        }
        // The "previous row" for the first message: the seeded book, whose depth is row 1's.
        prev_row.clone_from(&row);
    }

    let mut known: BTreeMap<u64, Order> = BTreeMap::new();
    // Row 1 was read already (it seeded the book); later rows are read one per message.
    let mut first_row_pending = have_book;
    let mut last_ts = t0;
    let mut msg = Some(first);
    let mut row_no = 0u64;
    while let Some(m) = msg {
        let mut from_reference = 0u32;
        row_no += 1;
        w.tracking = (row_no % 65_535) as u16 + 1;
        last_ts = m.ts_ns;
        let ts = m.ts_ns;
        let bid = m.is_buy();
        match m.kind {
            LobsterKind::Submit => {
                w.add(ts, m.order_id, bid, m.size, m.price)?;
                known.insert(
                    m.order_id,
                    Order {
                        bid,
                        px: m.price,
                        shares: m.size,
                    },
                );
            }
            LobsterKind::Cancel | LobsterKind::Delete | LobsterKind::ExecuteVisible => {
                let exec = m.kind == LobsterKind::ExecuteVisible;
                let delete = m.kind == LobsterKind::Delete;
                if let Some(o) = known.get_mut(&m.order_id) {
                    let has = o.shares;
                    let take = if delete { has } else { m.size.min(has) };
                    if m.size > has {
                        stats.oversized += 1;
                    }
                    let (obid, opx) = (o.bid, o.px);
                    w.reduce(ts, m.order_id, obid, opx, take, has, exec)?;
                    o.shares -= take;
                    if o.shares == 0 {
                        known.remove(&m.order_id);
                    }
                } else {
                    let mut need = m.size;
                    if let Some(list) = seeds.get_mut(&(bid, m.price)) {
                        // Oldest anonymous order at the level first (time priority).
                        while need > 0 && !list.is_empty() {
                            let (sref, has) = list[0];
                            let take = need.min(has);
                            w.reduce(ts, sref, bid, m.price, take, has, exec)?;
                            need -= take;
                            list[0].1 -= take;
                            if list[0].1 == 0 {
                                list.remove(0);
                            }
                            stats.drawn_from_seed += 1;
                        }
                        if list.is_empty() {
                            seeds.remove(&(bid, m.price));
                        }
                    }
                    if need > 0 {
                        // Liquidity never shown: materialize it and take it at once.
                        w.add(ts, m.order_id, bid, need, m.price)?;
                        w.reduce(ts, m.order_id, bid, m.price, need, need, exec)?;
                        stats.materialized += 1;
                    }
                }
            }
            LobsterKind::ExecuteHidden => {
                w.match_no += 1;
                let c = w.c(ts);
                w.put(Message::Trade(Trade {
                    common: c,
                    order_ref: 0,
                    side: if bid { b'B' } else { b'S' },
                    shares: m.size as u32,
                    stock,
                    price: m.price as u32,
                    match_number: w.match_no,
                }))?;
            }
            LobsterKind::Cross => {
                w.match_no += 1;
                let c = w.c(ts);
                w.put(Message::CrossTrade(CrossTrade {
                    common: c,
                    shares: m.size,
                    stock,
                    cross_price: m.price as u32,
                    match_number: w.match_no,
                    cross_type: if ts < 12 * 3600 * 1_000_000_000 {
                        b'O'
                    } else {
                        b'C'
                    },
                }))?;
            }
            LobsterKind::Halt => {
                let state = match m.price {
                    -1 => b'H',
                    0 => b'Q',
                    _ => b'T',
                };
                let c = w.c(ts);
                w.put(Message::StockTradingAction(StockTradingAction {
                    common: c,
                    stock,
                    trading_state: state,
                    reserved: b' ',
                    reason: *b"    ",
                }))?;
            }
        }
        if have_book {
            if !std::mem::take(&mut first_row_pending) {
                std::mem::swap(&mut prev_row, &mut row);
                if !next_row(&mut row)? {
                    return Err(ConvertError::OrderBook(LobsterError::WrongColumnCount {
                        line: ob_no + 1,
                        have: 0,
                        want: 4,
                    }));
                }
            }
            let before = stats.revealed_orders + stats.vanished;
            let differing = stats.rows_differing;
            reconcile(
                &mut w,
                &mut seeds,
                &mut known,
                &mut next_seed,
                &prev_row,
                &row,
                ts,
                &mut stats,
                false,
            )?;
            from_reference = (stats.revealed_orders + stats.vanished - before) as u32;
            w.sink.row_done(&RowDone {
                row: stats.rows,
                msg: &m,
                reference: Some(&row),
                from_reference,
            })?;
            if opts.resync && stats.rows_differing > differing {
                // Judged as it was; now make the visible window equal for the rows after it.
                reconcile(
                    &mut w,
                    &mut seeds,
                    &mut known,
                    &mut next_seed,
                    &prev_row,
                    &row,
                    ts,
                    &mut stats,
                    true,
                )?;
                stats.resynced_rows += 1;
            }
        } else {
            w.sink.row_done(&RowDone {
                row: stats.rows,
                msg: &m,
                reference: None,
                from_reference,
            })?;
        }
        msg = next_ok(&mut stats);
    }
    w.tracking = 0;
    w.sys(last_ts, b'M')?;
    w.sys(last_ts, b'E')?;
    w.sys(last_ts, b'C')?;
    stats.written = MESSAGE_TYPES
        .iter()
        .zip(w.counts)
        .filter(|(_, n)| *n > 0)
        .map(|(&(t, _), n)| (t as char, n))
        .collect();
    Ok(stats)
}

/// After a message: makes the re-encoded book equal `row` on the price range LOBSTER could not
/// report changes in — beyond the previous row's deepest level (when that row was full) up to
/// this row's deepest level (or the whole side when this row is not full). Missing liquidity is
/// added as anonymous orders; liquidity LOBSTER no longer shows is cancelled (the most recent
/// known orders at the level first, then anonymous ones). Counts a row whose visible levels
/// still differ.
#[allow(clippy::too_many_arguments)] // the converter's state, passed explicitly
fn reconcile<S: ItchSink>(
    w: &mut Writer<'_, S>,
    seeds: &mut BTreeMap<(bool, i64), Vec<(u64, u64)>>,
    known: &mut BTreeMap<u64, Order>,
    next_seed: &mut u64,
    prev: &BookRow,
    row: &BookRow,
    ts: u64,
    stats: &mut ConvertStats,
    whole_window: bool,
) -> io::Result<()> {
    for (bid, levels, prev_levels) in [
        (true, &row.bids, &prev.bids),
        (false, &row.asks, &prev.asks),
    ] {
        // A side shown in full (fewer levels than the file's depth) hides nothing.
        let edge = if whole_window {
            None
        } else {
            match prev_levels
                .last()
                .filter(|_| prev_levels.len() >= prev.depth)
            {
                Some(&(e, _)) => Some(e),
                None => continue,
            }
        };
        let end = if levels.len() >= row.depth {
            levels.last().map(|l| l.0)
        } else {
            None
        };
        let beyond = |px: i64| edge.is_none_or(|e| if bid { px < e } else { px > e });
        let within = |px: i64| end.is_none_or(|e| if bid { px >= e } else { px <= e });
        // Our prices and theirs in range, merged (BTreeMap: deterministic order).
        let mut range: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
        for (&px, &q) in w.book[usize::from(!bid)].iter() {
            if beyond(px) && within(px) {
                range.entry(px).or_default().0 = q;
            }
        }
        for &(px, q) in levels.iter().filter(|l| beyond(l.0)) {
            range.entry(px).or_default().1 = q;
        }
        for (px, (ours, theirs)) in range {
            if ours < theirs {
                let add = theirs - ours;
                w.add(ts, *next_seed, bid, add, px)?;
                seeds.entry((bid, px)).or_default().push((*next_seed, add));
                *next_seed += 1;
                if !whole_window {
                    stats.revealed_orders += 1;
                }
            } else if ours > theirs {
                let mut excess = ours - theirs;
                // Liquidity that left while hidden: most likely the most recent orders at the level
                // (recent orders are the ones cancelled soonest), then the anonymous ones.
                while excess > 0 {
                    let Some((&id, o)) = known
                        .iter_mut()
                        .rev()
                        .find(|(_, o)| o.bid == bid && o.px == px)
                    else {
                        break;
                    };
                    let take = excess.min(o.shares);
                    let has = o.shares;
                    o.shares -= take;
                    if o.shares == 0 {
                        known.remove(&id);
                    }
                    w.reduce(ts, id, bid, px, take, has, false)?;
                    excess -= take;
                }
                if let Some(list) = seeds.get_mut(&(bid, px)) {
                    while excess > 0 && !list.is_empty() {
                        let (sref, has) = list[list.len() - 1];
                        let take = excess.min(has);
                        w.reduce(ts, sref, bid, px, take, has, false)?;
                        excess -= take;
                        let last = list.len() - 1;
                        list[last].1 -= take;
                        if list[last].1 == 0 {
                            list.pop();
                        }
                    }
                    if list.is_empty() {
                        seeds.remove(&(bid, px));
                    }
                }
                if !whole_window {
                    stats.vanished += 1;
                }
            }
        }
    }
    if whole_window {
        return Ok(());
    }
    let side_eq = |bid: bool, levels: &[(i64, u64)]| {
        let book = &w.book[usize::from(!bid)];
        let ours: Vec<(i64, u64)> = if bid {
            book.iter()
                .rev()
                .take(levels.len())
                .map(|(&p, &q)| (p, q))
                .collect()
        } else {
            book.iter()
                .take(levels.len())
                .map(|(&p, &q)| (p, q))
                .collect()
        };
        ours == levels
    };
    if !side_eq(true, &row.bids) || !side_eq(false, &row.asks) {
        if std::env::var("LOBSTER_DEBUG").is_ok() && stats.rows_differing < 3 {
            let b: Vec<_> = w.book[0].iter().rev().take(10).collect();
            let a: Vec<_> = w.book[1].iter().take(10).collect();
            eprintln!("row {} ts {ts}\n ours bids {b:?}\n them bids {:?}\n ours asks {a:?}\n them asks {:?}", w.tracking, row.bids, row.asks);
        }
        stats.rows_differing += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::itch::decode;
    use crate::itch::framing::SliceFrames;
    use crate::lobster::parse_orderbook_line;
    use std::collections::BTreeMap;

    const MSG: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
    );
    const OB: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
    );

    /// A deliberately naive book over decoded ITCH (test code only).
    #[derive(Default)]
    struct Naive {
        orders: std::collections::HashMap<u64, (bool, u32, u32)>,
        bids: BTreeMap<u32, u64>,
        asks: BTreeMap<u32, u64>,
    }

    impl Naive {
        fn touch(&mut self, bid: bool, px: u32, d: i64) {
            let side = if bid { &mut self.bids } else { &mut self.asks };
            let e = side.entry(px).or_insert(0);
            *e = (*e as i64 + d) as u64;
            if *e == 0 {
                side.remove(&px);
            }
        }
        fn apply(&mut self, m: &Message) {
            match *m {
                Message::AddOrder(a) => {
                    self.orders
                        .insert(a.order_ref, (a.side == b'B', a.price, a.shares));
                    self.touch(a.side == b'B', a.price, i64::from(a.shares));
                }
                Message::OrderDelete(d) => {
                    let (b, p, s) = self.orders.remove(&d.order_ref).unwrap();
                    self.touch(b, p, -i64::from(s));
                }
                Message::OrderCancel(OrderCancel {
                    order_ref,
                    cancelled_shares: n,
                    ..
                })
                | Message::OrderExecuted(OrderExecuted {
                    order_ref,
                    executed_shares: n,
                    ..
                }) => {
                    let o = self.orders.get_mut(&order_ref).unwrap();
                    o.2 -= n;
                    let (b, p, left) = *o;
                    if left == 0 {
                        self.orders.remove(&order_ref);
                    }
                    self.touch(b, p, -i64::from(n));
                }
                _ => {}
            }
        }
        #[allow(clippy::type_complexity)] // (bids, asks), best first
        fn levels(&self, n: usize) -> (Vec<(i64, u64)>, Vec<(i64, u64)>) {
            let bids = self
                .bids
                .iter()
                .rev()
                .take(n)
                .map(|(&p, &q)| (i64::from(p), q))
                .collect();
            let asks = self
                .asks
                .iter()
                .take(n)
                .map(|(&p, &q)| (i64::from(p), q))
                .collect();
            (bids, asks)
        }
    }

    #[test]
    fn replayed_book_matches_lobster_orderbook_file() {
        let mut ob = std::io::BufReader::new(std::fs::File::open(OB).unwrap());
        let mut out = Vec::new();
        let opts = ConvertOptions {
            symbol: "AAPL".into(),
            locate: 1,
            resync: false,
        };
        let stats = convert(
            std::io::BufReader::new(std::fs::File::open(MSG).unwrap()),
            Some(&mut ob),
            &opts,
            &mut out,
        )
        .unwrap();
        assert_eq!(stats.bad_rows, 0);
        // Row 1 is the book after message 1, a buy at a new best level 585.33: undoing it leaves
        // 9 known bid levels (the 10th was below the file's depth) and 10 ask levels.
        assert_eq!(stats.seeded_orders, 19);
        assert_eq!(stats.rows_differing, 0, "{stats}");

        // Independently: decode the ITCH, apply it to a naive book, and after each LOBSTER row's
        // messages (grouped by the tracking number the converter stamps) compare all 10 levels
        // with LOBSTER's order-book file.
        let ob_text = std::fs::read_to_string(OB).unwrap();
        let mut ob_rows = ob_text.lines();
        let mut book = Naive::default();
        let mut row = BookRow::default();
        let mut group: Option<u16> = None;
        let mut compared = 0;
        let mut check = |book: &Naive, row: &mut BookRow| {
            parse_orderbook_line(ob_rows.next().unwrap().as_bytes(), 0, row).unwrap();
            let (bids, asks) = book.levels(10);
            assert_eq!(
                (&bids, &asks),
                (&row.bids, &row.asks),
                "after row {}",
                compared + 1
            );
            compared += 1;
        };
        for f in SliceFrames::new(&out) {
            let m = decode(f.unwrap().bytes).unwrap();
            let t = m.common().tracking;
            if t != 0 && group.is_some_and(|g| g != t) {
                check(&book, &mut row);
            }
            if t != 0 {
                group = Some(t);
            }
            book.apply(&m);
        }
        check(&book, &mut row);
        assert_eq!(compared, ob_text.lines().count());
    }

    #[test]
    fn unknown_ids_without_seed_are_materialized_and_counted() {
        let data = b"34200.1,4,555,100,1000000,1\n34200.2,5,0,50,1000100,-1\n34200.3,7,0,0,-1,-1\nbad line\n";
        let mut out = Vec::new();
        let s = convert(&data[..], None, &ConvertOptions::default(), &mut out).unwrap();
        assert_eq!((s.rows, s.bad_rows, s.materialized), (4, 1, 1));
        let types: String = SliceFrames::new(&out)
            .map(|f| decode(f.unwrap().bytes).unwrap().type_byte() as char)
            .collect();
        assert_eq!(types, "SRSSAEPHSSS");
    }

    #[test]
    fn no_valid_rows_is_an_error() {
        let mut out = Vec::new();
        assert!(matches!(
            convert(&b"x\ny\n"[..], None, &ConvertOptions::default(), &mut out),
            Err(ConvertError::NoMessages { bad: 2, .. })
        ));
    }
}
