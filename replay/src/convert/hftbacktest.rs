//! ITCH 5.0 as hftbacktest's native market-by-order event array (an `.npz` holding one `.npy` named `data`), so the two backtesters can be run
//! on the same order flow.
//!
//! The ITCH messages go through the same decode and L3 book path as a replay; the book supplies
//! what ITCH leaves out (the side, price and remaining size of the order a cancel or execution
//! names). Each book change becomes hftbacktest L3 rows:
//!
//! | ITCH                      | rows                                                     |
//! |---------------------------|----------------------------------------------------------|
//! | `A`/`F` add               | `ADD_ORDER_EVENT` (side, px, qty, order id)              |
//! | `X` partial cancel        | `MODIFY_ORDER_EVENT` with the remaining qty, or `CANCEL` |
//! | `D` delete                | `CANCEL_ORDER_EVENT`                                     |
//! | `U` replace               | `CANCEL_ORDER_EVENT` old id, `ADD_ORDER_EVENT` new id    |
//! | `E`/`C` execution         | `FILL_EVENT` (executed qty), then `MODIFY` or `CANCEL`   |
//! | clear                     | `DEPTH_CLEAR_EVENT`                                      |
//!
//! Trades against hidden orders (`P`) and crosses (`Q`) do not touch the displayed book and are
//! counted, not written. Every row is both an exchange and a local event with
//! `local_ts = exch_ts` (no feed latency). Prices are dollars (ticks / 10000), quantities shares.

use std::fmt;
use std::io::{Read, Write};

use ticklane_engine::{Body, Event, OrderId, Side};
use ticklane_feeds::itch::framing::{FrameError, FrameReader};
use ticklane_feeds::itch::normalize::symbol_str;

use crate::stages::DecodeStage;

/// hftbacktest 2.x event flags (`hftbacktest/types.py`).
pub mod flags {
    /// Market depth clear.
    pub const DEPTH_CLEAR_EVENT: u64 = 3;
    /// An order joins the book (L3).
    pub const ADD_ORDER_EVENT: u64 = 10;
    /// An order leaves the book (L3).
    pub const CANCEL_ORDER_EVENT: u64 = 11;
    /// An order's price or quantity changes (L3).
    pub const MODIFY_ORDER_EVENT: u64 = 12;
    /// A resting order is executed (L3).
    pub const FILL_EVENT: u64 = 13;
    /// Processed by the exchange side at `exch_ts`.
    pub const EXCH_EVENT: u64 = 1 << 31;
    /// Processed by the local side at `local_ts`.
    pub const LOCAL_EVENT: u64 = 1 << 30;
    /// Bid side.
    pub const BUY_EVENT: u64 = 1 << 29;
    /// Ask side.
    pub const SELL_EVENT: u64 = 1 << 28;
}

/// The numpy `descr` of hftbacktest's `event_dtype` (eight 8-byte little-endian fields, 64 bytes
/// a row, no padding, so the aligned and packed layouts coincide).
pub const DESCR: &str = "[('ev', '<u8'), ('exch_ts', '<i8'), ('local_ts', '<i8'), ('px', '<f8'), ('qty', '<f8'), ('order_id', '<u8'), ('ival', '<i8'), ('fval', '<f8')]";

/// Bytes per row.
pub const ROW: usize = 64;

/// One hftbacktest event.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HbtEvent {
    /// Event flags ([`flags`]).
    pub ev: u64,
    /// Exchange time, ns.
    pub exch_ts: i64,
    /// Local (receive) time, ns.
    pub local_ts: i64,
    /// Price, dollars.
    pub px: f64,
    /// Quantity, shares.
    pub qty: f64,
    /// The order.
    pub order_id: u64,
}

impl HbtEvent {
    fn to_bytes(self) -> [u8; ROW] {
        let mut b = [0u8; ROW];
        b[0..8].copy_from_slice(&self.ev.to_le_bytes());
        b[8..16].copy_from_slice(&self.exch_ts.to_le_bytes());
        b[16..24].copy_from_slice(&self.local_ts.to_le_bytes());
        b[24..32].copy_from_slice(&self.px.to_le_bytes());
        b[32..40].copy_from_slice(&self.qty.to_le_bytes());
        b[40..48].copy_from_slice(&self.order_id.to_le_bytes());
        // ival and fval stay 0.
        b
    }
}

/// The `.npy` (format 1.0) header for `rows` events: magic, version, header length, then the
/// dict padded with spaces and a newline so the data starts at a multiple of 64 bytes.
pub fn npy_header(rows: usize) -> Vec<u8> {
    let dict = format!("{{'descr': {DESCR}, 'fortran_order': False, 'shape': ({rows},), }}");
    let unpadded = 10 + dict.len() + 1;
    let total = unpadded.div_ceil(64) * 64;
    let mut h = Vec::with_capacity(total);
    h.extend_from_slice(b"\x93NUMPY\x01\x00");
    let len = u16::try_from(total - 10).unwrap_or(u16::MAX);
    h.extend_from_slice(&len.to_le_bytes());
    h.extend_from_slice(dict.as_bytes());
    h.resize(total - 1, b' ');
    h.push(b'\n');
    h
}

/// Why an `.npz` could not be written.
#[derive(Debug, thiserror::Error)]
pub enum NpzError {
    /// Writing the member's bytes failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The zip container could not be written.
    #[error(transparent)]
    Zip(#[from] zip::result::ZipError),
}

/// Writes `rows` (already encoded, [`ROW`] bytes each) as an `.npz` with one member `data.npy`.
///
/// # Errors
/// When `w` cannot be written.
pub fn write_npz(w: impl Write + std::io::Seek, rows: &[u8]) -> Result<(), NpzError> {
    let mut zip = zip::ZipWriter::new(w);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(rows.len() > u32::MAX as usize / 2);
    zip.start_file("data.npy", opts)?;
    zip.write_all(&npy_header(rows.len() / ROW))?;
    zip.write_all(rows)?;
    zip.finish()?;
    Ok(())
}

/// What the conversion did, counted.
#[derive(Default, Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvertCounts {
    /// ITCH messages framed.
    pub messages: u64,
    /// Rows written.
    pub rows: u64,
    /// Book events of other instruments (with `--symbol`).
    pub other_instruments: u64,
    /// Hidden-order trades and crosses (not in the displayed book).
    pub off_book_trades: u64,
    /// Events naming an order the book does not hold, or otherwise inconsistent.
    pub book_errors: u64,
    /// Undecodable messages.
    pub decode_errors: u64,
    /// Garbage runs skipped by the framer.
    pub garbage: u64,
    /// Messages whose time jumped more than the default bound (written at the previous
    /// message's time; see `ticklane_engine::event_time`).
    pub time_jumps: u64,
    /// The input ended inside a message.
    pub truncated_tail: bool,
}

/// Converts ITCH events into hftbacktest rows, keeping the L3 book that fills in what ITCH
/// messages leave out.
pub struct Converter {
    books: ticklane_engine::book::L3Books,
    /// Only this symbol (None: all instruments).
    symbol: Option<String>,
    /// Locate of `symbol`, once its stock-directory message has been seen.
    locate: Option<u32>,
    /// What was converted and skipped.
    pub counts: ConvertCounts,
    /// The rows, [`ROW`] bytes each.
    pub rows: Vec<u8>,
}

fn side_flag(s: Side) -> u64 {
    match s {
        Side::Bid => flags::BUY_EVENT,
        Side::Ask => flags::SELL_EVENT,
    }
}

fn dollars(px: ticklane_engine::Px) -> f64 {
    px.0 as f64 / 10_000.0
}

impl Converter {
    /// A converter for `symbol`'s book (None: every instrument).
    pub fn new(symbol: Option<String>) -> Self {
        Converter {
            books: ticklane_engine::book::L3Books::with_capacity(256, 16, 0),
            symbol,
            locate: None,
            counts: ConvertCounts::default(),
            rows: Vec::new(),
        }
    }

    fn push(&mut self, ev: &Event, kind: u64, px: f64, qty: f64, order_id: OrderId) {
        let ts = i64::try_from(ev.hdr.ts_exch.0).unwrap_or(i64::MAX);
        let row = HbtEvent {
            ev: flags::EXCH_EVENT | flags::LOCAL_EVENT | kind,
            exch_ts: ts,
            local_ts: ts,
            px,
            qty,
            order_id: order_id.0,
        };
        self.rows.extend_from_slice(&row.to_bytes());
        self.counts.rows += 1;
    }

    /// After `id` lost some quantity: a modify with what is left, or a cancel if nothing is.
    fn push_remaining(&mut self, ev: &Event, id: OrderId, side: Side, px: f64) {
        match self.books.order(id) {
            Some((_, _, _, left)) => self.push(
                ev,
                flags::MODIFY_ORDER_EVENT | side_flag(side),
                px,
                left.0 as f64,
                id,
            ),
            None => self.push(ev, flags::CANCEL_ORDER_EVENT | side_flag(side), px, 0.0, id),
        }
    }

    /// Whether the stock directory named the symbol asked for (always true without one).
    pub fn symbol_seen(&self) -> bool {
        self.symbol.is_none() || self.locate.is_some()
    }

    /// Takes one event.
    pub fn on_event(&mut self, ev: &Event) {
        let instr = ev.hdr.instr;
        if let Body::Instrument { symbol } = ev.body {
            if let (Some(want), Some(have)) = (&self.symbol, symbol_str(&symbol)) {
                if want == have {
                    self.locate = Some(instr.0);
                }
            }
            return;
        }
        if matches!(ev.body, Body::Trade { .. } | Body::Cross { .. }) {
            self.counts.off_book_trades += 1;
            return;
        }
        if !ev.body.affects_book() {
            return;
        }
        if self.symbol.is_some() && self.locate != Some(instr.0) {
            self.counts.other_instruments += 1;
            return;
        }
        // What the order named by the event looked like before it.
        let before = |id: OrderId, books: &ticklane_engine::book::L3Books| books.order(id);
        let prior = match ev.body {
            Body::Reduce { order_id, .. }
            | Body::Delete { order_id }
            | Body::Execute { order_id, .. }
            | Body::ExecuteAtPx { order_id, .. } => before(order_id, &self.books),
            Body::Replace { old_id, .. } => before(old_id, &self.books),
            _ => None,
        };
        if self.books.apply(ev).is_err() {
            self.counts.book_errors += 1;
            return;
        }
        match ev.body {
            Body::Add {
                order_id,
                px,
                qty,
                side,
            } => self.push(
                ev,
                flags::ADD_ORDER_EVENT | side_flag(side),
                dollars(px),
                qty.0 as f64,
                order_id,
            ),
            Body::Reduce { order_id, .. } => {
                if let Some((_, side, px, _)) = prior {
                    self.push_remaining(ev, order_id, side, dollars(px));
                }
            }
            Body::Delete { order_id } => {
                if let Some((_, side, px, _)) = prior {
                    self.push(
                        ev,
                        flags::CANCEL_ORDER_EVENT | side_flag(side),
                        dollars(px),
                        0.0,
                        order_id,
                    );
                }
            }
            Body::Execute { order_id, qty } | Body::ExecuteAtPx { order_id, qty, .. } => {
                if let Some((_, side, px, _)) = prior {
                    self.push(
                        ev,
                        flags::FILL_EVENT | side_flag(side),
                        dollars(px),
                        qty.0 as f64,
                        order_id,
                    );
                    self.push_remaining(ev, order_id, side, dollars(px));
                }
            }
            Body::Replace {
                old_id,
                new_id,
                px,
                qty,
            } => {
                if let Some((_, side, old_px, _)) = prior {
                    self.push(
                        ev,
                        flags::CANCEL_ORDER_EVENT | side_flag(side),
                        dollars(old_px),
                        0.0,
                        old_id,
                    );
                    self.push(
                        ev,
                        flags::ADD_ORDER_EVENT | side_flag(side),
                        dollars(px),
                        f64::from(qty),
                        new_id,
                    );
                }
            }
            Body::Clear => self.push(ev, flags::DEPTH_CLEAR_EVENT, 0.0, 0.0, OrderId(0)),
            _ => {}
        }
    }
}

/// Converts a whole ITCH 5.0 BinaryFILE: every frame decoded as a replay decodes it, the book
/// kept, rows for `symbol` (or every instrument) collected in [`Converter::rows`] and counted in
/// [`Converter::counts`]. Garbage runs are skipped and counted; a cut last message ends it.
///
/// # Errors
/// A frame error other than garbage or a cut tail (an I/O error reading `reader`).
pub fn convert_itch<R: Read>(reader: R, symbol: Option<String>) -> Result<Converter, FrameError> {
    let mut reader = FrameReader::new(reader);
    let mut decoder = DecodeStage::new();
    let mut conv = Converter::new(symbol);
    while let Some(frame) = reader.next_frame() {
        let frame = match frame {
            Ok(f) => f,
            Err(FrameError::Garbage { .. }) => {
                conv.counts.garbage += 1;
                continue;
            }
            Err(FrameError::TruncatedTail { .. }) => {
                conv.counts.truncated_tail = true;
                break;
            }
            Err(e) => return Err(e),
        };
        if let Some(ev) = decoder.on_frame(frame.bytes) {
            conv.on_event(&ev);
        }
    }
    conv.counts.messages = decoder.messages;
    conv.counts.decode_errors = decoder.decode_errors;
    conv.counts.time_jumps = decoder.time.jumps().total();
    Ok(conv)
}

impl fmt::Display for ConvertCounts {
    /// `N rows from M messages (...)`, as `ticklane convert hftbacktest` reports it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} rows from {} messages ({} off-book trades and {} other-instrument events skipped; {} book errors, {} decode errors, {} garbage runs, {} time jumps{})",
            self.rows,
            self.messages,
            self.off_book_trades,
            self.other_instruments,
            self.book_errors,
            self.decode_errors,
            self.garbage,
            self.time_jumps,
            if self.truncated_tail { ", truncated tail" } else { "" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use ticklane_engine::{Header, InstrumentIdx, Nanos, Px, Qty, SourceId};

    fn ev(ts: u64, body: Body) -> Event {
        Event {
            hdr: Header {
                ts_exch: Nanos(ts),
                ts_recv: Nanos(0),
                seq: 0,
                instr: InstrumentIdx(1),
                source: SourceId(0),
                flags: 0,
            },
            body,
        }
    }

    /// An independent reading of the npz: the first local file header of a stored zip member
    /// is 30 bytes + name (+ extra), then the raw member bytes.
    fn member(zip: &[u8]) -> (String, Vec<u8>) {
        assert_eq!(&zip[0..4], b"PK\x03\x04", "local file header signature");
        let method = u16::from_le_bytes([zip[8], zip[9]]);
        assert_eq!(method, 0, "stored, not deflated");
        let name_len = usize::from(u16::from_le_bytes([zip[26], zip[27]]));
        let extra_len = usize::from(u16::from_le_bytes([zip[28], zip[29]]));
        let name = String::from_utf8(zip[30..30 + name_len].to_vec()).unwrap();
        let start = 30 + name_len + extra_len;
        let mut a = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        let mut f = a.by_index(0).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        // The stored bytes right after the local header are the member itself.
        assert_eq!(&zip[start..start + data.len()], &data[..]);
        (name, data)
    }

    #[test]
    fn tiny_npz_has_hftbacktest_dtype_and_rows() {
        let mut c = Converter::new(None);
        // Add 100 shares at $1.2345 (12345 ticks) on the bid, execute 30, delete the rest.
        c.on_event(&ev(
            5,
            Body::Add {
                order_id: OrderId(7),
                px: Px(12345),
                qty: Qty(100),
                side: Side::Bid,
            },
        ));
        c.on_event(&ev(
            6,
            Body::Execute {
                order_id: OrderId(7),
                qty: Qty(30),
            },
        ));
        c.on_event(&ev(
            9,
            Body::Delete {
                order_id: OrderId(7),
            },
        ));
        // A delete of an order that never existed: counted, no row.
        c.on_event(&ev(
            10,
            Body::Delete {
                order_id: OrderId(99),
            },
        ));
        // add + (fill + modify) + cancel = 4 rows.
        assert_eq!(c.counts.rows, 4);
        assert_eq!(c.counts.book_errors, 1);

        let mut buf = std::io::Cursor::new(Vec::new());
        write_npz(&mut buf, &c.rows).unwrap();
        let (name, npy) = member(buf.get_ref());
        assert_eq!(name, "data.npy");
        assert_eq!(&npy[0..8], b"\x93NUMPY\x01\x00");
        let hlen = usize::from(u16::from_le_bytes([npy[8], npy[9]]));
        assert_eq!((10 + hlen) % 64, 0, "data aligned to 64 bytes");
        let header = std::str::from_utf8(&npy[10..10 + hlen]).unwrap();
        assert!(header.ends_with('\n'));
        // The descr numpy prints for hftbacktest's event_dtype, written out by hand.
        assert!(header.starts_with("{'descr': [('ev', '<u8'), ('exch_ts', '<i8'), ('local_ts', '<i8'), ('px', '<f8'), ('qty', '<f8'), ('order_id', '<u8'), ('ival', '<i8'), ('fval', '<f8')], 'fortran_order': False, 'shape': (4,), }"));
        let body = &npy[10 + hlen..];
        assert_eq!(body.len(), 4 * 64);
        let u = |r: usize, f: usize| {
            u64::from_le_bytes(body[r * 64 + f * 8..r * 64 + f * 8 + 8].try_into().unwrap())
        };
        let f = |r: usize, fi: usize| f64::from_bits(u(r, fi));
        // Row 0: EXCH (1<<31) | LOCAL (1<<30) | BUY (1<<29) | ADD_ORDER (10).
        assert_eq!(u(0, 0), (1 << 31) | (1 << 30) | (1 << 29) | 10);
        assert_eq!(u(0, 1), 5);
        assert_eq!(u(0, 2), 5, "local_ts = exch_ts");
        assert_eq!(f(0, 3), 1.2345);
        assert_eq!(f(0, 4), 100.0);
        assert_eq!(u(0, 5), 7);
        // Row 1: FILL (13) of 30; row 2: MODIFY (12) to 100 - 30 = 70 left.
        assert_eq!(u(1, 0), (1 << 31) | (1 << 30) | (1 << 29) | 13);
        assert_eq!(f(1, 4), 30.0);
        assert_eq!(u(2, 0), (1 << 31) | (1 << 30) | (1 << 29) | 12);
        assert_eq!(f(2, 4), 70.0);
        // Row 3: CANCEL (11) at t = 9.
        assert_eq!(u(3, 0), (1 << 31) | (1 << 30) | (1 << 29) | 11);
        assert_eq!(u(3, 1), 9);
        assert_eq!(u(3, 6), 0, "ival unused");
    }
}
