//! Kraken spot websocket market data, v2 and v1, decoded with `simd-json` into typed records
//! with integer prices and quantities (1e-8 units), and the order-book CRC32 checksum exactly as
//! Kraken documents it.
//!
//! - v2 (`{"channel":"book","type":"snapshot"|"update","data":[{...,"checksum":N}]}`): price and
//!   qty are JSON numbers sent at the instrument's full precision; `trade` and `ticker` channels
//!   too. Heartbeats, status and method acknowledgements are [`KrakenMsg::Control`].
//! - v1 (arrays `[channelID, {...}, ("book-N" | "trade" | "ticker"), "PAIR"]`): book snapshots
//!   (`as`/`bs`), updates (`a`/`b`, the checksum `c` in the last object), trades, tickers; events
//!   (`{"event":...}`) are control.
//!
//! Checksum (both versions): the top 10 asks from the lowest price up, then the top 10 bids from
//! the highest down; for each level the price and then the quantity as the venue formats them
//! (at the instrument's price and quantity decimals) with the `.` removed and leading zeros
//! stripped, all concatenated, CRC32 (IEEE). Since a string at `d` decimals with the point
//! removed and leading zeros stripped is the decimal digits of the integer `value × 10^d`, the
//! checksum is built from our integer levels without any string, given those decimals
//! ([`book_checksum`]); v1 updates tell them by the strings themselves ([`KrakenMsg::Book`]'s
//! `wire`), v2 needs them from the instrument (config).

use simd_json::prelude::*;

use ticklane_engine::book::L2Book;
use ticklane_engine::Side;

use crate::json::{decimal, missing, LevelUpdate, Precision, TapeParser, V};
use crate::json_scan::{Cursor, Number};

/// Decimals of every decoded price and quantity.
pub const DECIMALS: u32 = 8;

/// A decoded message; levels and trades go to the caller's buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KrakenMsg<'a> {
    /// A book snapshot or update for `symbol` (levels in the level buffer; qty 0 removes).
    Book {
        /// Pair, e.g. `BTC/USD` (v2) or `XBT/USD` (v1).
        symbol: &'a str,
        /// A full snapshot (the book is replaced) rather than an update.
        snapshot: bool,
        /// The venue's CRC32 of the top 10 levels after this message, if sent.
        checksum: Option<u32>,
        /// v1: the subscribed depth from the channel name (`book-10` → 10).
        depth: Option<usize>,
        /// v1: decimals of prices and quantities as written in this message's strings (from
        /// its first level); `None` when it has no level, or for v2 (numbers).
        wire: Option<Precision>,
        /// v2 `timestamp` of an update, ns since the epoch.
        time_ns: Option<u64>,
    },
    /// Trades for `symbol` (in the trade buffer).
    Trades {
        /// Pair.
        symbol: &'a str,
    },
    /// Best bid and ask.
    Ticker {
        /// Pair.
        symbol: &'a str,
        /// Best bid (px, qty).
        bid: (i64, i64),
        /// Best ask (px, qty).
        ask: (i64, i64),
    },
    /// Heartbeats, status, subscription acknowledgements.
    Control,
}

/// One trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KrakenTrade {
    /// Price, 1e-8.
    pub px: i64,
    /// Quantity, 1e-8.
    pub qty: i64,
    /// The taker bought.
    pub buy: bool,
}

/// Why a message could not be decoded (a bad field includes a number not at 8 decimals).
pub type KrakenError = crate::json::MsgError;

/// The decoder: owns simd-json's buffers and tape, reused for every message.
pub struct KrakenDecoder {
    parser: TapeParser,
}

impl Default for KrakenDecoder {
    fn default() -> Self {
        Self::new()
    }
}

struct Out<'b> {
    levels: &'b mut Vec<LevelUpdate>,
    trades: &'b mut Vec<KrakenTrade>,
}

impl KrakenDecoder {
    /// A decoder with empty buffers.
    pub fn new() -> Self {
        KrakenDecoder {
            parser: TapeParser::new(),
        }
    }

    /// Decodes one frame (parsed in place). Book levels go to `levels` and trades to `trades`
    /// (both cleared first).
    ///
    /// # Errors
    /// [`KrakenError`].
    pub fn decode<'i>(
        &mut self,
        frame: &'i mut [u8],
        levels: &mut Vec<LevelUpdate>,
        trades: &mut Vec<KrakenTrade>,
    ) -> Result<KrakenMsg<'i>, KrakenError> {
        levels.clear();
        trades.clear();
        if let Some(b) = v2_book(frame, levels) {
            let frame: &'i [u8] = frame;
            // The scanner admits only printable ASCII in strings, so this cannot fail.
            let symbol = std::str::from_utf8(&frame[b.symbol.0..b.symbol.1])
                .map_err(|_| KrakenError::Field("symbol"))?;
            return Ok(KrakenMsg::Book {
                symbol,
                snapshot: b.snapshot,
                checksum: b.checksum,
                depth: None,
                wire: None,
                time_ns: b.time_ns,
            });
        }
        self.decode_tape(frame, levels, trades)
    }

    /// [`decode`](Self::decode) through simd-json's tape alone, for any frame: what `decode`
    /// falls back to for frames its one-pass path (v2 book messages) does not take, and what it
    /// must agree with on every frame.
    ///
    /// # Errors
    /// [`KrakenError`].
    pub fn decode_tape<'i>(
        &mut self,
        frame: &'i mut [u8],
        levels: &mut Vec<LevelUpdate>,
        trades: &mut Vec<KrakenTrade>,
    ) -> Result<KrakenMsg<'i>, KrakenError> {
        levels.clear();
        trades.clear();
        let mut out = Out { levels, trades };
        self.parser.parse(frame, KrakenError::Json, |root| {
            if root.is_array() {
                v1(root, &mut out)
            } else {
                v2(root, &mut out)
            }
        })
    }
}

/// A v2 JSON number at 8 decimals: integers exactly; fractions from the f64 simd-json parsed,
/// which holds every number of up to 15 significant digits exactly enough to round back.
fn num_e8(v: Option<V<'_, '_>>, field: &'static str) -> Result<i64, KrakenError> {
    let v = v.ok_or(KrakenError::Field(field))?;
    if let Some(u) = v.as_i64() {
        return int_e8(u).ok_or(KrakenError::Field(field));
    }
    let f = v.as_f64().ok_or(KrakenError::Field(field))?;
    float_e8(f).ok_or(KrakenError::Field(field))
}

/// An integer in 1e-8 units.
fn int_e8(u: i64) -> Option<i64> {
    u.checked_mul(100_000_000)
}

/// A parsed fraction in 1e-8 units.
fn float_e8(f: f64) -> Option<i64> {
    let x = f * 1e8;
    let r = x.round();
    // Off the 1e-8 grid, or beyond what an i64 / an exact f64 holds.
    if !r.is_finite() || r.abs() >= 9.0e15 || (x - r).abs() > 0.01 {
        return None;
    }
    Some(r as i64)
}

/// A v2 number read by the one-pass scanner, converted as [`num_e8`] converts the tape's.
fn scanned_e8(c: &mut Cursor<'_>) -> Option<i64> {
    match c.number()? {
        // At most 18 digits: the same i64 the tape holds.
        Number::Int(u) => int_e8(i64::try_from(u).ok()?),
        Number::Float(f) => float_e8(f),
    }
}

/// A v2 book message read by [`v2_book`].
struct ScannedBook {
    symbol: (usize, usize),
    snapshot: bool,
    checksum: Option<u32>,
    time_ns: Option<u64>,
}

/// The one-pass path for v2 book snapshots and updates, levels appended to `out` (bids, then
/// asks), the full JSON grammar checked. `None` for every other frame (v1, other channels,
/// errors, repeated keys, levels other than `{"price":N,"qty":N}`, anything outside
/// [`crate::json_scan`]'s subset): the tape path decides those, and on the frames this accepts
/// both give the same result.
fn v2_book(frame: &[u8], out: &mut Vec<LevelUpdate>) -> Option<ScannedBook> {
    if let Some(b) = v2_book_usual(frame, out) {
        return Some(b);
    }
    out.clear();
    v2_book_any_order(frame, out)
}

/// The layout Kraken sends, its keys and punctuation matched as whole byte strings:
/// `{"channel":"book","type":"update"|"snapshot","data":[{"symbol":"…","bids":[…],
/// "asks":[…],"checksum":N(,"timestamp":"…")}]}`. `None` for any other layout, which
/// [`v2_book_any_order`] then reads (on this one both give the same result).
#[inline(always)]
fn v2_book_usual(frame: &[u8], out: &mut Vec<LevelUpdate>) -> Option<ScannedBook> {
    let mut c = Cursor::new(frame);
    c.expect(b"{\"channel\":\"book\",\"type\":\"")?;
    let snapshot = if c.lit(b"update\",") {
        false
    } else if c.lit(b"snapshot\",") {
        true
    } else {
        return None;
    };
    c.expect(b"\"data\":[{\"symbol\":")?;
    let symbol = c.string()?;
    c.expect(b",\"bids\":")?;
    book_levels(&mut c, true, out)?;
    c.expect(b",\"asks\":")?;
    book_levels(&mut c, false, out)?;
    c.expect(b",\"checksum\":")?;
    let checksum = u32::try_from(c.uint()?).ok()?;
    // Updates carry a timestamp; snapshots have none.
    let time_ns = if c.lit(b",\"timestamp\":") {
        let (s, e) = c.string()?;
        Some(crate::isotime::parse_utc_ns_bytes(&frame[s..e])?)
    } else {
        None
    };
    c.expect(b"}]}")?;
    c.at_end().then_some(ScannedBook {
        symbol,
        snapshot,
        checksum: Some(checksum),
        time_ns,
    })
}

/// [`v2_book`] with members in any order and any whitespace.
fn v2_book_any_order(frame: &[u8], out: &mut Vec<LevelUpdate>) -> Option<ScannedBook> {
    let mut c = Cursor::new(frame);
    if c.open_object()? {
        return None;
    }
    let (mut channel, mut kind, mut entry) = (None, None, None);
    loop {
        match c.key()? {
            b"channel" if channel.is_none() => channel = Some(c.string()?),
            b"type" if kind.is_none() => kind = Some(c.string()?),
            b"data" if entry.is_none() => {
                c.eat(b'[')?;
                entry = Some(book_entry(&mut c, out)?);
                c.eat(b']')?;
            }
            b"channel" | b"type" | b"data" => return None,
            _ => {
                c.value()?;
            }
        }
        if !c.more(b'}')? {
            break;
        }
    }
    if !c.at_end() {
        return None;
    }
    let text = |r: Option<(usize, usize)>| r.map(|(s, e)| &frame[s..e]);
    if text(channel)? != b"book" {
        return None;
    }
    let snapshot = match text(kind)? {
        b"snapshot" => true,
        b"update" => false,
        _ => return None,
    };
    let (symbol, checksum, time_ns) = entry?;
    Some(ScannedBook {
        symbol,
        snapshot,
        checksum,
        time_ns,
    })
}

type Entry = ((usize, usize), Option<u32>, Option<u64>);

/// The one object of a v2 book message's `data` (through its `}`): symbol, checksum, time.
fn book_entry(c: &mut Cursor<'_>, out: &mut Vec<LevelUpdate>) -> Option<Entry> {
    if c.open_object()? {
        return None;
    }
    let (mut symbol, mut checksum, mut time) = (None, None, None);
    let (mut bids, mut asks) = (false, false);
    loop {
        match c.key()? {
            b"symbol" if symbol.is_none() => symbol = Some(c.string()?),
            // Bids first: the tape path appends all bids, then all asks.
            b"bids" if !bids && !asks => {
                bids = true;
                book_levels(c, true, out)?;
            }
            b"asks" if !asks && bids => {
                asks = true;
                book_levels(c, false, out)?;
            }
            b"checksum" if checksum.is_none() => {
                checksum = Some(u32::try_from(c.uint()?).ok()?);
            }
            b"timestamp" if time.is_none() => {
                let (s, e) = c.string()?;
                time = Some(crate::isotime::parse_utc_ns_bytes(&c.bytes()[s..e])?);
            }
            b"symbol" | b"bids" | b"asks" | b"checksum" | b"timestamp" => return None,
            _ => {
                c.value()?;
            }
        }
        if !c.more(b'}')? {
            break;
        }
    }
    (bids && asks).then_some((symbol?, checksum, time))
}

/// `[{"price":N,"qty":N}, ...]` into `out`.
fn book_levels(c: &mut Cursor<'_>, bid: bool, out: &mut Vec<LevelUpdate>) -> Option<()> {
    c.eat(b'[')?;
    if c.peek()? == b']' {
        return c.eat(b']');
    }
    loop {
        // The usual `{"price":` and `,"qty":` as whole byte strings, else token by token.
        if !c.lit(b"{\"price\":") && (c.open_object()? || c.key()? != b"price") {
            return None;
        }
        let px = scanned_e8(c)?;
        if !c.lit(b",\"qty\":") {
            c.eat(b',')?;
            if c.key()? != b"qty" {
                return None;
            }
        }
        let qty = scanned_e8(c)?;
        c.eat(b'}')?;
        out.push(LevelUpdate { bid, px, qty });
        if !c.more(b']')? {
            return Some(());
        }
    }
}

fn v2<'i>(v: V<'_, 'i>, out: &mut Out<'_>) -> Result<KrakenMsg<'i>, KrakenError> {
    let channel = v.get("channel").and_then(|c| c.into_string());
    let Some(channel) = channel else {
        // `{"method":"subscribe","result":..}` acknowledgements; v1-style events on a v2 socket.
        if v.get("method").is_some() || v.get("event").is_some() {
            return Ok(KrakenMsg::Control);
        }
        return Err(KrakenError::Unknown);
    };
    match channel {
        "heartbeat" | "status" | "instrument" => return Ok(KrakenMsg::Control),
        "book" | "trade" | "ticker" => {}
        _ => return Err(KrakenError::Unknown),
    }
    let kind = v
        .get("type")
        .and_then(|t| t.into_string())
        .ok_or(KrakenError::Field("type"))?;
    let data = v
        .get("data")
        .and_then(|d| d.into_array())
        .ok_or(KrakenError::Field("data"))?;
    let first = data.get(0).ok_or(KrakenError::Field("data"))?;
    let symbol = first
        .get("symbol")
        .and_then(|s| s.into_string())
        .ok_or(KrakenError::Field("symbol"))?;
    match channel {
        "book" => {
            if data.len() != 1 {
                // One book per message is what the venue sends; several would need one
                // checksum each, and a caller's book per entry.
                return Err(KrakenError::Field("data"));
            }
            let snapshot = match kind {
                "snapshot" => true,
                "update" => false,
                _ => return Err(KrakenError::Field("type")),
            };
            for (key, bid) in [("bids", true), ("asks", false)] {
                let side = first
                    .get(key)
                    .and_then(|x| x.into_array())
                    .ok_or(KrakenError::Field(key))?;
                for l in side.iter() {
                    out.levels.push(LevelUpdate {
                        bid,
                        px: num_e8(l.get("price"), "price")?,
                        qty: num_e8(l.get("qty"), "qty")?,
                    });
                }
            }
            let checksum = match first.get("checksum") {
                None => None,
                Some(c) => Some(
                    c.as_u64()
                        .and_then(|c| u32::try_from(c).ok())
                        .ok_or(KrakenError::Field("checksum"))?,
                ),
            };
            let time_ns = match first.get("timestamp") {
                None => None,
                Some(t) => Some(
                    t.as_str()
                        .and_then(crate::isotime::parse_utc_ns)
                        .ok_or(KrakenError::Field("timestamp"))?,
                ),
            };
            Ok(KrakenMsg::Book {
                symbol,
                snapshot,
                checksum,
                depth: None,
                wire: None,
                time_ns,
            })
        }
        "trade" => {
            for t in data.iter() {
                let buy = match t.get("side").and_then(|s| s.into_string()) {
                    Some("buy") => true,
                    Some("sell") => false,
                    _ => return Err(KrakenError::Field("side")),
                };
                out.trades.push(KrakenTrade {
                    px: num_e8(t.get("price"), "price")?,
                    qty: num_e8(t.get("qty"), "qty")?,
                    buy,
                });
            }
            Ok(KrakenMsg::Trades { symbol })
        }
        _ => Ok(KrakenMsg::Ticker {
            symbol,
            bid: (
                num_e8(first.get("bid"), "bid")?,
                num_e8(first.get("bid_qty"), "bid_qty")?,
            ),
            ask: (
                num_e8(first.get("ask"), "ask")?,
                num_e8(first.get("ask_qty"), "ask_qty")?,
            ),
        }),
    }
}

/// Decimals written in a v1 decimal string.
fn decimals_of(s: &str) -> u32 {
    s.split_once('.').map_or(0, |(_, f)| f.len() as u32)
}

/// `[["price","volume","time"(,"r")], ...]` into the level buffer; the first level's string
/// decimals go to `wire`.
fn v1_levels(
    v: V<'_, '_>,
    key: &'static str,
    bid: bool,
    out: &mut Out<'_>,
    wire: &mut Option<Precision>,
) -> Result<(), KrakenError> {
    let arr = v.into_array().ok_or(missing(key))?;
    for l in arr.iter() {
        let l = l.into_array().ok_or(missing(key))?;
        let (Some(px), Some(qty)) = (
            l.get(0).and_then(|x| x.into_string()),
            l.get(1).and_then(|x| x.into_string()),
        ) else {
            return Err(KrakenError::Field(key));
        };
        if wire.is_none() {
            *wire = Some(Precision {
                px: decimals_of(px),
                qty: decimals_of(qty),
            });
        }
        out.levels.push(LevelUpdate {
            bid,
            px: decimal(px, key, DECIMALS)?,
            qty: decimal(qty, key, DECIMALS)?,
        });
    }
    Ok(())
}

fn v1<'i>(v: V<'_, 'i>, out: &mut Out<'_>) -> Result<KrakenMsg<'i>, KrakenError> {
    let arr = v.into_array().ok_or(KrakenError::Unknown)?;
    let n = arr.len();
    if n < 4 || arr.get(0).and_then(|c| c.as_u64()).is_none() {
        return Err(KrakenError::Unknown);
    }
    let name = arr
        .get(n - 2)
        .and_then(|x| x.into_string())
        .ok_or(KrakenError::Unknown)?;
    let symbol = arr
        .get(n - 1)
        .and_then(|x| x.into_string())
        .ok_or(KrakenError::Field("pair"))?;
    if let Some(depth) = name.strip_prefix("book-") {
        let depth: usize = depth
            .parse()
            .map_err(|_| KrakenError::Field("channelName"))?;
        let mut snapshot = false;
        let mut checksum = None;
        let mut wire = None;
        for i in 1..n - 2 {
            let o = arr
                .get(i)
                .and_then(|x| x.into_object())
                .ok_or(KrakenError::Field("book"))?;
            for (k, x) in o.iter() {
                match k {
                    "as" | "bs" => {
                        snapshot = true;
                        let (key, bid) = if k == "bs" {
                            ("bs", true)
                        } else {
                            ("as", false)
                        };
                        v1_levels(x, key, bid, out, &mut wire)?;
                    }
                    "a" => v1_levels(x, "a", false, out, &mut wire)?,
                    "b" => v1_levels(x, "b", true, out, &mut wire)?,
                    "c" => {
                        checksum = Some(
                            x.as_str()
                                .and_then(|c| c.parse::<u32>().ok())
                                .ok_or(KrakenError::Field("c"))?,
                        );
                    }
                    _ => return Err(KrakenError::Field("book")),
                }
            }
        }
        return Ok(KrakenMsg::Book {
            symbol,
            snapshot,
            checksum,
            depth: Some(depth),
            wire,
            time_ns: None,
        });
    }
    match name {
        "trade" => {
            let ts = arr
                .get(1)
                .and_then(|x| x.into_array())
                .ok_or(KrakenError::Field("trade"))?;
            for t in ts.iter() {
                // [price, volume, time, side "b"|"s", orderType, misc]
                let t = t.into_array().ok_or(KrakenError::Field("trade"))?;
                let s = |i: usize| t.get(i).and_then(|x| x.into_string());
                let (Some(px), Some(qty), Some(side)) = (s(0), s(1), s(3)) else {
                    return Err(KrakenError::Field("trade"));
                };
                let buy = match side {
                    "b" => true,
                    "s" => false,
                    _ => return Err(KrakenError::Field("trade")),
                };
                out.trades.push(KrakenTrade {
                    px: decimal(px, "trade", DECIMALS)?,
                    qty: decimal(qty, "trade", DECIMALS)?,
                    buy,
                });
            }
            Ok(KrakenMsg::Trades { symbol })
        }
        "ticker" => {
            let o = arr.get(1).ok_or(KrakenError::Field("ticker"))?;
            // "a": [price, wholeLotVolume, lotVolume]
            let best = |key: &'static str| -> Result<(i64, i64), KrakenError> {
                let a = o
                    .get(key)
                    .and_then(|x| x.into_array())
                    .ok_or(KrakenError::Field(key))?;
                let (Some(px), Some(qty)) = (
                    a.get(0).and_then(|x| x.into_string()),
                    a.get(2).and_then(|x| x.into_string()),
                ) else {
                    return Err(KrakenError::Field(key));
                };
                Ok((decimal(px, key, DECIMALS)?, decimal(qty, key, DECIMALS)?))
            };
            Ok(KrakenMsg::Ticker {
                symbol,
                bid: best("b")?,
                ask: best("a")?,
            })
        }
        _ => Err(KrakenError::Unknown),
    }
}

/// Writes the decimal digits of `v` (> 0 expected; 0 writes nothing, as "0" with leading zeros
/// stripped is empty) into `buf`, returning the used tail.
fn digits(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    while v > 0 {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    &buf[i..]
}

/// Kraken's CRC32 over the top 10 levels of `book`, prices and quantities written at `wire`
/// decimals (at most [`DECIMALS`]). Allocates nothing.
pub fn book_checksum(book: &L2Book, wire: Precision) -> u32 {
    let px_div = 10u64.pow(DECIMALS.saturating_sub(wire.px));
    let qty_div = 10u64.pow(DECIMALS.saturating_sub(wire.qty));
    let mut h = crc32fast::Hasher::new();
    let mut buf = [0u8; 20];
    for side in [Side::Ask, Side::Bid] {
        for l in book.levels(side).take(10) {
            h.update(digits(l.px.0.max(0) as u64 / px_div, &mut buf));
            h.update(digits(l.qty.0 / qty_div, &mut buf));
        }
    }
    h.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticklane_engine::{Px, Qty};

    fn dec(
        s: &str,
    ) -> (
        Result<String, KrakenError>,
        Vec<LevelUpdate>,
        Vec<KrakenTrade>,
    ) {
        let mut d = KrakenDecoder::new();
        let (mut lv, mut tr) = (Vec::new(), Vec::new());
        let mut b = s.as_bytes().to_vec();
        let r = d.decode(&mut b, &mut lv, &mut tr).map(|m| format!("{m:?}"));
        (r, lv, tr)
    }

    /// The documented rule, step by step on strings: remove '.', strip leading zeros, asks
    /// ascending then bids descending, concatenate, CRC32. Independent of [`book_checksum`].
    fn by_the_docs(asks: &[(&str, &str)], bids: &[(&str, &str)]) -> u32 {
        let f = |s: &str| s.replace('.', "").trim_start_matches('0').to_string();
        let mut text = String::new();
        for (p, q) in asks.iter().chain(bids) {
            text += &f(p);
            text += &f(q);
        }
        crc32fast::hash(text.as_bytes())
    }

    #[test]
    fn crc_and_the_documented_string_fragments() {
        // The CRC-32/IEEE check value of "123456789".
        assert_eq!(crc32fast::hash(b"123456789"), 0xCBF4_3926);
        // Kraken's v1 page: "0.05000" with volume "0.00000304" formats as "5000304"; the v2
        // page: price "45285.2", qty "0.00100000" as "452852100000".
        assert_eq!(
            by_the_docs(&[("0.05000", "0.00000304")], &[]),
            crc32fast::hash(b"5000304")
        );
        assert_eq!(
            by_the_docs(&[("45285.2", "0.00100000")], &[]),
            crc32fast::hash(b"452852100000")
        );
    }

    #[test]
    fn checksum_of_a_book_follows_the_documented_rule() {
        let mut b = L2Book::new();
        // 12 levels a side, so the top-10 cut matters; prices at 1 decimal, sizes at 8.
        let mut asks = Vec::new();
        let mut bids = Vec::new();
        for k in 0..12i64 {
            let ap = 4_528_520_000_000 + k * 10_000_000; // 45285.2 + k * 0.1
            let bp = 4_528_350_000_000 - k * 10_000_000;
            let q = 100_000 * (k as u64 + 1); // 0.001 * (k + 1)
            b.set(Side::Ask, Px(ap), Qty(q));
            b.set(Side::Bid, Px(bp), Qty(q + 7));
            asks.push((
                format!("{}.{}", ap / 100_000_000, ap / 10_000_000 % 10),
                format!("0.{:08}", q),
            ));
            bids.push((
                format!("{}.{}", bp / 100_000_000, bp / 10_000_000 % 10),
                format!("0.{:08}", q + 7),
            ));
        }
        let a: Vec<(&str, &str)> = asks
            .iter()
            .take(10)
            .map(|(p, q)| (p.as_str(), q.as_str()))
            .collect();
        let bb: Vec<(&str, &str)> = bids
            .iter()
            .take(10)
            .map(|(p, q)| (p.as_str(), q.as_str()))
            .collect();
        let want = by_the_docs(&a, &bb);
        assert_eq!(book_checksum(&b, Precision { px: 1, qty: 8 }), want);
        // Changing the 11th level does not change the checksum; changing the 10th does.
        b.set(Side::Bid, Px(4_528_350_000_000 - 10 * 10_000_000), Qty(1));
        assert_eq!(book_checksum(&b, Precision { px: 1, qty: 8 }), want);
        b.set(Side::Bid, Px(4_528_350_000_000 - 9 * 10_000_000), Qty(1));
        assert_ne!(book_checksum(&b, Precision { px: 1, qty: 8 }), want);
    }

    #[test]
    fn v2_book_snapshot_and_update() {
        let (r, lv, _) = dec(
            r#"{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[{"price":45283.5,"qty":0.10000000}],"asks":[{"price":45285.2,"qty":0.00100000},{"price":45286,"qty":2}],"checksum":2958113700}]}"#,
        );
        assert_eq!(
            r.unwrap(),
            "Book { symbol: \"BTC/USD\", snapshot: true, checksum: Some(2958113700), depth: None, wire: None, time_ns: None }"
        );
        assert_eq!(
            lv,
            vec![
                LevelUpdate {
                    bid: true,
                    px: 4_528_350_000_000,
                    qty: 10_000_000
                },
                LevelUpdate {
                    bid: false,
                    px: 4_528_520_000_000,
                    qty: 100_000
                },
                LevelUpdate {
                    bid: false,
                    px: 4_528_600_000_000,
                    qty: 200_000_000
                },
            ]
        );
        let (r, lv, _) = dec(
            r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[{"price":45285.2,"qty":0}],"checksum":1,"timestamp":"2023-10-06T17:35:55.440295Z"}]}"#,
        );
        assert!(r.unwrap().contains("snapshot: false, checksum: Some(1)"));
        assert_eq!(
            lv,
            vec![LevelUpdate {
                bid: false,
                px: 4_528_520_000_000,
                qty: 0
            }]
        );
        let (r, _, tr) = dec(
            r#"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":45280.1,"qty":0.25,"ord_type":"market","trade_id":1,"timestamp":"2023-10-06T17:35:55.440295Z"}]}"#,
        );
        assert_eq!(r.unwrap(), "Trades { symbol: \"BTC/USD\" }");
        assert_eq!(
            tr,
            vec![KrakenTrade {
                px: 4_528_010_000_000,
                qty: 25_000_000,
                buy: false
            }]
        );
        assert_eq!(dec(r#"{"channel":"heartbeat"}"#).0.unwrap(), "Control");
        assert_eq!(
            dec(r#"{"method":"subscribe","success":true}"#).0.unwrap(),
            "Control"
        );
        assert_eq!(
            dec(r#"{"channel":"ohlc","type":"update","data":[]}"#).0,
            Err(KrakenError::Unknown)
        );
        // Off the 1e-8 grid.
        assert_eq!(
            dec(r#"{"channel":"book","type":"update","data":[{"symbol":"X","bids":[{"price":1.000000001,"qty":1}],"asks":[]}]}"#).0,
            Err(KrakenError::Field("price"))
        );
        assert_eq!(dec("[1,2").0, Err(KrakenError::Json));
    }

    #[test]
    fn v1_book_trade_ticker() {
        let (r, lv, _) = dec(
            r#"[0,{"as":[["0.05005","0.00000500","1582905487.684110"]],"bs":[["0.05000","0.00000304","1582905487.439814"]]},"book-10","BTC/USD"]"#,
        );
        assert_eq!(
            r.unwrap(),
            "Book { symbol: \"BTC/USD\", snapshot: true, checksum: None, depth: Some(10), wire: Some(Precision { px: 5, qty: 8 }), time_ns: None }"
        );
        assert_eq!(lv.len(), 2);
        // Kraken's documented update shape: asks and bids in two objects, "c" in the last.
        let (r, lv, _) = dec(
            r#"[0,{"a":[["0.05120","0.00000500","1582905486.493008"],["0.05275","0.00000500","1582905486.493034"]]},{"b":[["0.04765","0.00000500","1582905486.493008"],["0.04940","0.00000500","1582905486.493034","r"]],"c":"974947235"},"book-1000","BTC/USD"]"#,
        );
        assert!(r
            .unwrap()
            .contains("snapshot: false, checksum: Some(974947235), depth: Some(1000)"));
        assert_eq!(lv.iter().filter(|l| l.bid).count(), 2);
        // From KRAKEN.ws.48.0 and .49.0.
        let (r, _, tr) = dec(
            r#"[993,[["354.04000000","0.28245396","1618678150.826417","s","m",""],["353.81000000","1.71754604","1618678150.827816","s","m",""]],"trade","XMR/USD"]"#,
        );
        assert_eq!(r.unwrap(), "Trades { symbol: \"XMR/USD\" }");
        assert_eq!(
            tr[1],
            KrakenTrade {
                px: 35_381_000_000,
                qty: 171_754_604,
                buy: false
            }
        );
        let (r, _, _) = dec(
            r#"[1924,{"a":["0.043000",965,"965.15385023"],"b":["0.042950",2332,"2332.63400000"],"c":["0.043000","2383.16665529"]},"ticker","SC/EUR"]"#,
        );
        assert_eq!(
            r.unwrap(),
            "Ticker { symbol: \"SC/EUR\", bid: (4295000, 233263400000), ask: (4300000, 96515385023) }"
        );
        assert_eq!(dec(r#"{"event":"heartbeat"}"#).0.unwrap(), "Control");
        assert_eq!(dec(r#"[1,{},"spread","X/Y"]"#).0, Err(KrakenError::Unknown));
        assert_eq!(
            dec(r#"[1,{"a":[["x","1","1"]]},"book-10","X/Y"]"#).0,
            Err(KrakenError::Field("a"))
        );
    }

    /// Both paths on one frame: results (as text) and levels.
    fn both(frame: &[u8]) -> [(String, Vec<LevelUpdate>); 2] {
        let mut d = KrakenDecoder::new();
        let (mut a, mut b) = (frame.to_vec(), frame.to_vec());
        let (mut la, mut lb, mut tr) = (Vec::new(), Vec::new(), Vec::new());
        let ra = format!("{:?} {tr:?}", d.decode(&mut a, &mut la, &mut tr));
        let rb = format!("{:?} {tr:?}", d.decode_tape(&mut b, &mut lb, &mut tr));
        [(ra, la), (rb, lb)]
    }

    const V2_BOOK: &str = r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":45284.0,"qty":0.5}],"asks":[{"price":45285.2,"qty":0}],"checksum":3682069327,"timestamp":"2023-10-06T17:35:55.440295Z"}]}"#;

    #[test]
    fn usual_layout_equals_any_order() {
        let fields = |b: ScannedBook| (b.symbol, b.snapshot, b.checksum, b.time_ns);
        let (mut lu, mut la) = (Vec::new(), Vec::new());
        let snapshot = V2_BOOK.replacen(r#""type":"update""#, r#""type":"snapshot""#, 1);
        // A snapshot as Kraken sends it: no timestamp.
        let untimed = snapshot.replacen(r#","timestamp":"2023-10-06T17:35:55.440295Z""#, "", 1);
        for s in [V2_BOOK, snapshot.as_str(), untimed.as_str()] {
            let u = v2_book_usual(s.as_bytes(), &mut lu).map(fields);
            assert!(u.is_some(), "{s}");
            let a = v2_book_any_order(s.as_bytes(), &mut la).map(fields);
            assert_eq!((u, &lu), (a, &la), "{s}");
            lu.clear();
            la.clear();
        }
        // Another order or whitespace: only the member loop reads it, to the same result.
        let spaced = V2_BOOK.replacen(r#""bids":"#, r#""bids" : "#, 1);
        let reordered = V2_BOOK.replacen(
            r#"{"channel":"book","type":"update""#,
            r#"{"type":"update","channel":"book""#,
            1,
        );
        for s in [spaced.as_str(), reordered.as_str()] {
            assert!(v2_book_usual(s.as_bytes(), &mut lu).is_none(), "{s}");
            let a = v2_book(s.as_bytes(), &mut la).map(fields);
            assert!(a.is_some(), "{s}");
            let [x, y] = both(s.as_bytes());
            assert_eq!(x, y, "{s}");
            la.clear();
            lu.clear();
        }
    }

    #[test]
    fn one_pass_v2_book_equals_tape_path() {
        let mut lv = Vec::new();
        let snapshot = r#"{"channel":"book","type":"snapshot","data":[{"symbol":"MATIC/USD","bids":[{"price":0.5666,"qty":4831.75496356},{"price":0.5665,"qty":6658.22734739}],"asks":[{"price":0.5668,"qty":4410.79769741}],"checksum":2439117997}]}"#;
        for s in [V2_BOOK, snapshot] {
            assert!(v2_book(s.as_bytes(), &mut lv).is_some(), "{s}");
            let [a, b] = both(s.as_bytes());
            assert_eq!(a, b, "{s}");
        }
        // Hand-read: 0.5666 and 4831.75496356 at 1e-8.
        let [(r, levels), _] = both(snapshot.as_bytes());
        assert!(
            r.contains("snapshot: true, checksum: Some(2439117997)"),
            "{r}"
        );
        assert_eq!(
            levels[0],
            LevelUpdate {
                bid: true,
                px: 56_660_000,
                qty: 483_175_496_356
            }
        );
        // Handed over: asks before bids, off-grid price, exponent, two entries, v1, trade.
        for s in [
            r#"{"channel":"book","type":"update","data":[{"symbol":"X","asks":[],"bids":[]}]}"#,
            r#"{"channel":"book","type":"update","data":[{"symbol":"X","bids":[{"price":1.000000001,"qty":1}],"asks":[]}]}"#,
            r#"{"channel":"book","type":"update","data":[{"symbol":"X","bids":[{"price":1e3,"qty":1}],"asks":[]}]}"#,
            r#"{"channel":"book","type":"update","data":[{"symbol":"X","bids":[],"asks":[]},{"symbol":"X","bids":[],"asks":[]}]}"#,
            r#"[0,{"a":[["0.05120","0.00000500","1582905486.493008"]]},"book-10","BTC/USD"]"#,
            r#"{"channel":"trade","type":"update","data":[{"symbol":"X","side":"buy","price":1.5,"qty":2}]}"#,
        ] {
            assert!(v2_book(s.as_bytes(), &mut lv).is_none(), "{s}");
            let [a, b] = both(s.as_bytes());
            assert_eq!(a, b, "{s}");
        }
    }

    /// Every received frame of both real captures decodes the same through both paths.
    #[test]
    fn one_pass_path_equals_tape_path_on_real_captures() {
        // `grep -c -E '^[0-9.]+: '`: 49 and 60 received frames.
        for (name, n) in [("KRAKEN.ws.48.0", 49), ("KRAKEN.ws.49.0", 60)] {
            let path = format!(
                "{}/../../shared/data/cryptofeed/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read(path).unwrap();
            let mut frames = 0;
            for raw in text.split(|&c| c == b'\n') {
                let Some(crate::cryptofeed::Line::Received { json, .. }) =
                    crate::cryptofeed::parse_line(raw)
                else {
                    continue;
                };
                frames += 1;
                let [a, b] = both(json);
                assert_eq!(a, b, "{name} frame {frames}");
            }
            assert_eq!(frames, n, "{name}");
        }
    }

    proptest::proptest! {
        /// Mutated v2 book frames: both paths agree on the result and the levels.
        #[test]
        fn one_pass_path_equals_tape_path_on_mutations(
            edits in proptest::collection::vec((0usize..300, 0u8..16, 0usize..30), 1..4),
        ) {
            const PUNCT: &[u8; 16] = b"{}[]\",:0-.e\\ 9ax";
            let mut b = V2_BOOK.as_bytes().to_vec();
            for (at, what, n) in edits {
                if b.is_empty() {
                    break;
                }
                let k = at % b.len();
                match n % 3 {
                    0 => b[k] = PUNCT[usize::from(what)],
                    1 => b.insert(k, PUNCT[usize::from(what)]),
                    _ => {
                        let end = (k + n).min(b.len());
                        let span = b[k..end].to_vec();
                        b.splice(k..k, span);
                    }
                }
            }
            let [a, t] = both(&b);
            proptest::prop_assert_eq!(a, t, "{}", String::from_utf8_lossy(&b));
        }
    }
}
