//! Binance spot and USD-M futures market-data messages, decoded with `simd-json` into typed
//! records with integer prices and quantities.
//!
//! Messages: diff depth (`depthUpdate`, with `U`/`u`, and `pu` on futures), partial depth
//! (`lastUpdateId` with `bids`/`asks`, which is also the REST depth snapshot's shape), `trade`,
//! `aggTrade` and `bookTicker`, bare or inside the combined-stream wrapper
//! `{"stream": .., "data": ..}`.
//!
//! Every message type is first read by the one-pass scanner ([`crate::json_scan`]) in the
//! venue's own key order, with the full JSON grammar of what it passes over checked; any frame
//! outside its strict subset goes to simd-json's tape (no value tree), walked into
//! [`BinanceMsg`], which decides: the same value or the same error. Price levels are converted
//! exactly from decimal strings into the caller's reusable level buffer. The decoder keeps its parse buffers between messages, so once warm it allocates
//! nothing. Unknown message types and malformed JSON are typed errors the caller counts.

use simd_json::prelude::*;

use crate::decimal::DecimalError;
use crate::json::{
    decimal_of, first, levels_of, members, str_of, u64_of, FieldError, TapeParser, V,
};
pub use crate::json::{LevelUpdate, Precision};
use crate::json_scan::{level_pairs, Cursor, Scalar};

/// A decoded message. Depth levels go to the caller's buffer, not into the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinanceMsg<'a> {
    /// Diff depth update.
    Depth {
        /// Symbol.
        symbol: &'a str,
        /// Event time, ms.
        event_time: u64,
        /// First update id in the event (`U`).
        first: u64,
        /// Final update id in the event (`u`).
        last: u64,
        /// Futures: the previous event's final id (`pu`).
        prev: Option<u64>,
    },
    /// Partial depth or REST snapshot: the book as of `last_update_id`.
    Snapshot {
        /// `lastUpdateId`.
        last_update_id: u64,
    },
    /// A trade.
    Trade {
        /// Symbol.
        symbol: &'a str,
        /// Trade id (`t`), or the aggregate id (`a`) for `aggTrade`.
        id: u64,
        /// Trade time, ms.
        time: u64,
        /// Price, ticks.
        px: i64,
        /// Quantity, lots.
        qty: i64,
        /// The buyer was the maker (the aggressor sold).
        buyer_maker: bool,
        /// An aggregate trade.
        aggregate: bool,
    },
    /// Best bid and offer.
    BookTicker {
        /// Symbol.
        symbol: &'a str,
        /// Order-book update id.
        update_id: u64,
        /// Best bid (px, qty).
        bid: (i64, i64),
        /// Best ask (px, qty).
        ask: (i64, i64),
    },
}

/// Why a message could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BinanceError {
    /// Not valid JSON.
    #[error("malformed JSON")]
    Json,
    /// Valid JSON of a shape or event type this decoder does not know.
    #[error("unknown message type")]
    Unknown,
    /// A field is missing or of the wrong type.
    #[error("missing or invalid field {0:?}")]
    Field(&'static str),
    /// A price or quantity string does not fit the instrument's precision.
    #[error("field {field:?}: {err}")]
    Decimal {
        /// Which field.
        field: &'static str,
        /// Why.
        err: DecimalError,
    },
}

/// The decoder: owns simd-json's parse buffers and tape, reused for every message.
pub struct BinanceDecoder {
    parser: TapeParser,
}

impl Default for BinanceDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl From<FieldError> for BinanceError {
    fn from(e: FieldError) -> Self {
        match e.decimal {
            Some(err) => BinanceError::Decimal {
                field: e.field,
                err,
            },
            None => BinanceError::Field(e.field),
        }
    }
}

impl BinanceDecoder {
    /// A decoder with empty buffers (they grow to the largest message once).
    pub fn new() -> Self {
        BinanceDecoder {
            parser: TapeParser::new(),
        }
    }

    /// Decodes one frame (parsed in place: simd-json rewrites the buffer). Depth and snapshot
    /// levels are appended to `levels` (cleared first).
    ///
    /// # Errors
    /// [`BinanceError`].
    pub fn decode<'i>(
        &mut self,
        frame: &'i mut [u8],
        p: Precision,
        levels_out: &mut Vec<LevelUpdate>,
    ) -> Result<BinanceMsg<'i>, BinanceError> {
        levels_out.clear();
        if let Some(m) = canonical(frame, p, levels_out) {
            let frame: &'i [u8] = frame;
            return m.into_msg(frame);
        }
        self.decode_tape(frame, p, levels_out)
    }

    /// [`decode`](Self::decode) through simd-json's tape alone, for any frame: what `decode`
    /// falls back to for frames outside the one-pass scanner's subset, and what it must agree
    /// with on every frame (tests and benches compare the two).
    ///
    /// # Errors
    /// [`BinanceError`].
    pub fn decode_tape<'i>(
        &mut self,
        frame: &'i mut [u8],
        p: Precision,
        levels_out: &mut Vec<LevelUpdate>,
    ) -> Result<BinanceMsg<'i>, BinanceError> {
        levels_out.clear();
        self.parser
            .parse(frame, BinanceError::Json, |root| walk(root, p, levels_out))
    }
}

/// A message read by [`canonical`]: everything but the symbol, which is a byte range of the
/// frame until the frame can be borrowed for the result.
enum Scanned {
    Depth {
        symbol: (usize, usize),
        event_time: u64,
        first: u64,
        last: u64,
        prev: Option<u64>,
    },
    Trade {
        symbol: (usize, usize),
        id: u64,
        time: u64,
        px: i64,
        qty: i64,
        buyer_maker: bool,
        aggregate: bool,
    },
    BookTicker {
        symbol: (usize, usize),
        update_id: u64,
        bid: (i64, i64),
        ask: (i64, i64),
    },
    Snapshot {
        last_update_id: u64,
    },
}

impl Scanned {
    fn into_msg(self, frame: &[u8]) -> Result<BinanceMsg<'_>, BinanceError> {
        // The scanner admits only printable ASCII in strings, so this cannot fail.
        let sym = |(s, e): (usize, usize)| {
            std::str::from_utf8(&frame[s..e]).map_err(|_| BinanceError::Field("s"))
        };
        Ok(match self {
            Scanned::Depth {
                symbol,
                event_time,
                first,
                last,
                prev,
            } => BinanceMsg::Depth {
                symbol: sym(symbol)?,
                event_time,
                first,
                last,
                prev,
            },
            Scanned::Trade {
                symbol,
                id,
                time,
                px,
                qty,
                buyer_maker,
                aggregate,
            } => BinanceMsg::Trade {
                symbol: sym(symbol)?,
                id,
                time,
                px,
                qty,
                buyer_maker,
                aggregate,
            },
            Scanned::BookTicker {
                symbol,
                update_id,
                bid,
                ask,
            } => BinanceMsg::BookTicker {
                symbol: sym(symbol)?,
                update_id,
                bid,
                ask,
            },
            Scanned::Snapshot { last_update_id } => BinanceMsg::Snapshot { last_update_id },
        })
    }
}

// Members the one-pass path reads, as indexes into its slots.
const K_E: usize = 0;
const K_S: usize = 1;
const K_EVENT_TIME: usize = 2;
const K_FIRST: usize = 3;
const K_U: usize = 4;
const K_PU: usize = 5;
const K_B: usize = 6;
const K_A: usize = 7;
const K_BQ: usize = 8;
const K_AQ: usize = 9;
const K_T: usize = 10;
const K_TIME: usize = 11;
const K_PX: usize = 12;
const K_QTY: usize = 13;
const K_M: usize = 14;
const SLOTS: usize = 15;

/// The one-pass path: a depth update, trade, aggregate trade or book ticker, bare or in the
/// combined-stream wrapper, read in document order with the full JSON grammar checked, levels
/// appended to `out`; also a partial depth frame or REST depth snapshot in the layout Binance
/// sends. `None` for every other frame (snapshots in another layout, errors, unknown types,
/// repeated keys, anything outside [`crate::json_scan`]'s subset): the tape path decides those,
/// and on the frames this accepts both give the same result (tested on real captures and
/// mutations).
fn canonical(frame: &[u8], p: Precision, out: &mut Vec<LevelUpdate>) -> Option<Scanned> {
    let mut c = Cursor::new(frame);
    if c.open_object()? {
        return None;
    }
    let mut slots = [None::<Scalar>; SLOTS];
    let mut levels = (false, false);
    let root = c.clone();
    let wrapped = c.key()? == b"stream";
    if wrapped {
        c.string()?;
        c.eat(b',')?;
        if c.key()? != b"data" || c.open_object()? {
            return None;
        }
    } else {
        c = root;
    }
    // The venue's own layout first; any other order or spacing goes through the member loop.
    let message = c.clone();
    if let Some(m) = usual_layout(&mut c, p, out) {
        return ((!wrapped || c.eat(b'}').is_some()) && c.at_end()).then_some(m);
    }
    out.clear();
    c = message;
    let k = c.key()?;
    message_members(&mut c, k, p, out, &mut slots, &mut levels)?;
    if wrapped {
        c.eat(b'}')?;
    }
    if !c.at_end() {
        return None;
    }
    let b = c.bytes();
    let str_ = |i: usize| match slots[i] {
        Some(Scalar::Str(s, e)) => Some((s, e)),
        _ => None,
    };
    let uint = |i: usize| match slots[i] {
        Some(Scalar::UInt(v)) => Some(v),
        _ => None,
    };
    let dec = |i: usize| match slots[i] {
        Some(Scalar::Fixed(v)) => Some(v),
        _ => None,
    };
    let event = match slots[K_E] {
        None => None,
        Some(Scalar::Str(s, e)) => Some(&b[s..e]),
        Some(_) => return None,
    };
    match event {
        Some(b"depthUpdate") => {
            if levels != (true, true) {
                return None;
            }
            Some(Scanned::Depth {
                symbol: str_(K_S)?,
                event_time: uint(K_EVENT_TIME)?,
                first: uint(K_FIRST)?,
                last: uint(K_U)?,
                prev: match slots[K_PU] {
                    None => None,
                    Some(Scalar::UInt(v)) => Some(v),
                    Some(_) => return None,
                },
            })
        }
        Some(e @ (b"trade" | b"aggTrade")) => {
            let aggregate = e == b"aggTrade";
            if levels != (false, false) {
                return None;
            }
            Some(Scanned::Trade {
                symbol: str_(K_S)?,
                id: uint(if aggregate { K_A } else { K_T })?,
                time: uint(K_TIME)?,
                px: dec(K_PX)?,
                qty: dec(K_QTY)?,
                buyer_maker: match slots[K_M] {
                    Some(Scalar::Bool(m)) => m,
                    _ => return None,
                },
                aggregate,
            })
        }
        None | Some(b"bookTicker") => {
            if levels != (false, false) {
                return None;
            }
            Some(Scanned::BookTicker {
                symbol: str_(K_S)?,
                update_id: uint(K_U)?,
                bid: (dec(K_B)?, dec(K_BQ)?),
                ask: (dec(K_A)?, dec(K_AQ)?),
            })
        }
        _ => None,
    }
}

/// A depth update (spot, or futures with `T` and `pu`), spot trade, aggregate trade (spot or
/// futures key order), book ticker, or partial depth / REST snapshot (spot, or futures with `E`
/// and `T`) exactly as Binance lays it out (keys in its order, no spaces), from the message's
/// first key through its `}`, levels appended to `out`; `None` as soon as anything differs.
/// Each key read here appears once, with the type the tape path requires, so the result is the
/// one the member loop (and the tape path) would give; a snapshot is whatever carries
/// `lastUpdateId`, as on the tape path, so nothing else needs to be absent.
#[inline(always)]
fn usual_layout(c: &mut Cursor<'_>, p: Precision, out: &mut Vec<LevelUpdate>) -> Option<Scanned> {
    if c.lit(br#""lastUpdateId":"#) {
        let last_update_id = c.uint()?;
        if c.lit(br#","E":"#) {
            c.uint()?;
            c.expect(br#","T":"#)?;
            c.uint()?;
        }
        c.expect(br#","bids":"#)?;
        level_pairs(c, true, p, out)?;
        c.expect(br#","asks":"#)?;
        level_pairs(c, false, p, out)?;
        c.expect(b"}")?;
        return Some(Scanned::Snapshot { last_update_id });
    }
    if c.lit(br#""e":"aggTrade","E":"#) {
        c.uint()?;
        // Spot sends `"s"` before `"a"`, futures `"a"` before `"s"`.
        let (symbol, id) = if c.lit(br#","s":"#) {
            let symbol = c.string()?;
            c.expect(br#","a":"#)?;
            (symbol, c.uint()?)
        } else {
            c.expect(br#","a":"#)?;
            let id = c.uint()?;
            c.expect(br#","s":"#)?;
            (c.string()?, id)
        };
        c.expect(br#","p":"#)?;
        let px = c.decimal(p.px)?;
        c.expect(br#","q":"#)?;
        let qty = c.decimal(p.qty)?;
        c.expect(br#","f":"#)?;
        c.uint()?;
        c.expect(br#","l":"#)?;
        c.uint()?;
        c.expect(br#","T":"#)?;
        let time = c.uint()?;
        c.expect(br#","m":"#)?;
        let buyer_maker = c.boolean()?;
        if c.lit(br#","M":"#) {
            c.boolean()?;
        }
        c.expect(b"}")?;
        return Some(Scanned::Trade {
            symbol,
            id,
            time,
            px,
            qty,
            buyer_maker,
            aggregate: true,
        });
    }
    if c.lit(br#""e":"depthUpdate","E":"#) {
        let event_time = c.uint()?;
        if c.lit(br#","T":"#) {
            c.uint()?;
        }
        c.expect(br#","s":"#)?;
        let symbol = c.string()?;
        c.expect(br#","U":"#)?;
        let first = c.uint()?;
        c.expect(br#","u":"#)?;
        let last = c.uint()?;
        let prev = if c.lit(br#","pu":"#) {
            Some(c.uint()?)
        } else {
            None
        };
        c.expect(br#","b":"#)?;
        level_pairs(c, true, p, out)?;
        c.expect(br#","a":"#)?;
        level_pairs(c, false, p, out)?;
        c.expect(b"}")?;
        return Some(Scanned::Depth {
            symbol,
            event_time,
            first,
            last,
            prev,
        });
    }
    if c.lit(br#""e":"trade","E":"#) {
        c.uint()?;
        c.expect(br#","s":"#)?;
        let symbol = c.string()?;
        c.expect(br#","t":"#)?;
        let id = c.uint()?;
        c.expect(br#","p":"#)?;
        let px = c.decimal(p.px)?;
        c.expect(br#","q":"#)?;
        let qty = c.decimal(p.qty)?;
        c.expect(br#","T":"#)?;
        let time = c.uint()?;
        c.expect(br#","m":"#)?;
        let buyer_maker = c.boolean()?;
        if c.lit(br#","M":"#) {
            c.boolean()?;
        }
        c.expect(b"}")?;
        return Some(Scanned::Trade {
            symbol,
            id,
            time,
            px,
            qty,
            buyer_maker,
            aggregate: false,
        });
    }
    if c.lit(br#""u":"#) {
        let update_id = c.uint()?;
        c.expect(br#","s":"#)?;
        let symbol = c.string()?;
        c.expect(br#","b":"#)?;
        let bid_px = c.decimal(p.px)?;
        c.expect(br#","B":"#)?;
        let bid_qty = c.decimal(p.qty)?;
        c.expect(br#","a":"#)?;
        let ask_px = c.decimal(p.px)?;
        c.expect(br#","A":"#)?;
        let ask_qty = c.decimal(p.qty)?;
        c.expect(b"}")?;
        return Some(Scanned::BookTicker {
            symbol,
            update_id,
            bid: (bid_px, bid_qty),
            ask: (ask_px, ask_qty),
        });
    }
    None
}

/// The members of an opened message object, from its first key `k` through its `}`.
fn message_members<'a>(
    c: &mut Cursor<'a>,
    mut k: &'a [u8],
    p: Precision,
    out: &mut Vec<LevelUpdate>,
    slots: &mut [Option<Scalar>; SLOTS],
    levels: &mut (bool, bool),
) -> Option<()> {
    loop {
        let slot = match k {
            b"e" => K_E,
            b"s" => K_S,
            b"E" => K_EVENT_TIME,
            b"U" => K_FIRST,
            b"u" => K_U,
            b"pu" => K_PU,
            b"b" => K_B,
            b"a" => K_A,
            b"B" => K_BQ,
            b"A" => K_AQ,
            b"t" => K_T,
            b"T" => K_TIME,
            b"p" => K_PX,
            b"q" => K_QTY,
            b"m" => K_M,
            // A snapshot, or a wrapper's keys where a message is expected: the tape path.
            b"lastUpdateId" | b"bids" | b"asks" | b"stream" | b"data" => return None,
            _ => {
                c.value()?;
                usize::MAX
            }
        };
        if slot != usize::MAX {
            if slots[slot].is_some() {
                return None;
            }
            let next = c.peek()?;
            if (slot == K_B || slot == K_A) && next == b'[' {
                // Bids then asks, as the tape path appends them.
                if slot == K_B && levels.1 {
                    return None;
                }
                level_pairs(c, slot == K_B, p, out)?;
                if slot == K_B {
                    levels.0 = true;
                } else {
                    levels.1 = true;
                }
                slots[slot] = Some(Scalar::Other);
            } else if next == b'"' && matches!(slot, K_B | K_A | K_BQ | K_AQ | K_PX | K_QTY) {
                // Prices and quantities, converted in place; any other string there is the
                // tape path's to judge.
                let d = if matches!(slot, K_B | K_A | K_PX) {
                    p.px
                } else {
                    p.qty
                };
                slots[slot] = Some(Scalar::Fixed(c.decimal(d)?));
            } else {
                slots[slot] = Some(c.value()?);
            }
        }
        if !c.more(b'}')? {
            return Some(());
        }
        k = c.key()?;
    }
}

fn walk<'i>(
    root: V<'_, 'i>,
    p: Precision,
    out: &mut Vec<LevelUpdate>,
) -> Result<BinanceMsg<'i>, BinanceError> {
    // Combined-stream wrapper.
    let (mut data, mut stream) = (None, None);
    for (k, x) in members(&root) {
        match k {
            "data" => first(&mut data, x),
            "stream" => first(&mut stream, x),
            _ => {}
        }
    }
    let v = match data {
        Some(d) if stream.is_some() => d,
        _ => root,
    };
    // One pass over the message's members; each key's first value, as `get` would find it.
    let mut f = Fields::default();
    for (k, x) in members(&v) {
        let slot = match k {
            "e" => &mut f.e,
            "s" => &mut f.s,
            "E" => &mut f.event_time,
            "U" => &mut f.first,
            "u" => &mut f.u,
            "pu" => &mut f.pu,
            "b" => &mut f.b,
            "a" => &mut f.a,
            "B" => &mut f.bq,
            "A" => &mut f.aq,
            "t" => &mut f.t,
            "T" => &mut f.time,
            "p" => &mut f.px,
            "q" => &mut f.qty,
            "m" => &mut f.m,
            "lastUpdateId" => &mut f.last_update_id,
            "bids" => &mut f.bids,
            "asks" => &mut f.asks,
            _ => continue,
        };
        first(slot, x);
    }
    if f.last_update_id.is_some() {
        let last_update_id = u64_of(f.last_update_id, "lastUpdateId")?;
        levels_of(f.bids, "bids", true, p, out)?;
        levels_of(f.asks, "asks", false, p, out)?;
        return Ok(BinanceMsg::Snapshot { last_update_id });
    }
    let event = f.e.and_then(|x| x.into_string());
    match event {
        Some("depthUpdate") => {
            let msg = BinanceMsg::Depth {
                symbol: str_of(f.s, "s")?,
                event_time: u64_of(f.event_time, "E")?,
                first: u64_of(f.first, "U")?,
                last: u64_of(f.u, "u")?,
                prev: f.pu.and_then(|x| x.as_u64()),
            };
            levels_of(f.b, "b", true, p, out)?;
            levels_of(f.a, "a", false, p, out)?;
            Ok(msg)
        }
        Some(e @ ("trade" | "aggTrade")) => {
            let aggregate = e == "aggTrade";
            Ok(BinanceMsg::Trade {
                symbol: str_of(f.s, "s")?,
                id: if aggregate {
                    u64_of(f.a, "a")?
                } else {
                    u64_of(f.t, "t")?
                },
                time: u64_of(f.time, "T")?,
                px: decimal_of(f.px, "p", p.px)?,
                qty: decimal_of(f.qty, "q", p.qty)?,
                buyer_maker: f
                    .m
                    .and_then(|x| x.as_bool())
                    .ok_or(BinanceError::Field("m"))?,
                aggregate,
            })
        }
        // bookTicker has no "e" on spot; futures sends "e":"bookTicker".
        None | Some("bookTicker") if f.b.is_some_and(|b| b.as_str().is_some()) => {
            Ok(BinanceMsg::BookTicker {
                symbol: str_of(f.s, "s")?,
                update_id: u64_of(f.u, "u")?,
                bid: (decimal_of(f.b, "b", p.px)?, decimal_of(f.bq, "B", p.qty)?),
                ask: (decimal_of(f.a, "a", p.px)?, decimal_of(f.aq, "A", p.qty)?),
            })
        }
        _ => Err(BinanceError::Unknown),
    }
}

/// The members a Binance message may carry (first value of each key), by the venue's names.
#[derive(Default)]
struct Fields<'t, 'i> {
    e: Option<V<'t, 'i>>,
    s: Option<V<'t, 'i>>,
    event_time: Option<V<'t, 'i>>,
    first: Option<V<'t, 'i>>,
    u: Option<V<'t, 'i>>,
    pu: Option<V<'t, 'i>>,
    b: Option<V<'t, 'i>>,
    a: Option<V<'t, 'i>>,
    bq: Option<V<'t, 'i>>,
    aq: Option<V<'t, 'i>>,
    t: Option<V<'t, 'i>>,
    time: Option<V<'t, 'i>>,
    px: Option<V<'t, 'i>>,
    qty: Option<V<'t, 'i>>,
    m: Option<V<'t, 'i>>,
    last_update_id: Option<V<'t, 'i>>,
    bids: Option<V<'t, 'i>>,
    asks: Option<V<'t, 'i>>,
}

/// Splits a capture line in hftbacktest's collector format, `<receive ns> <frame JSON>`.
///
/// ```
/// use ticklane_feeds::binance::split_capture_line;
/// let (ts, json) = split_capture_line(b"1723161253937085768 {\"a\":1}").unwrap();
/// assert_eq!((ts, json), (1_723_161_253_937_085_768, &b"{\"a\":1}"[..]));
/// ```
pub fn split_capture_line(line: &[u8]) -> Option<(u64, &[u8])> {
    let sp = line.iter().position(|&c| c == b' ')?;
    let ts = std::str::from_utf8(&line[..sp]).ok()?.parse().ok()?;
    let json = line[sp + 1..].trim_ascii();
    (!json.is_empty()).then_some((ts, json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader};

    const P: Precision = Precision { px: 2, qty: 5 };

    fn dec(s: &str, p: Precision) -> (Result<String, BinanceError>, Vec<LevelUpdate>) {
        let mut d = BinanceDecoder::new();
        let mut buf = s.as_bytes().to_vec();
        let mut lv = Vec::new();
        let r = d.decode(&mut buf, p, &mut lv).map(|m| format!("{m:?}"));
        (r, lv)
    }

    #[test]
    fn spot_depth_update_in_combined_stream() {
        let (r, lv) = dec(
            r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"]],"a":[["61837.64000000","1.54698000"],["61839.85000000","0.00000000"]]}}"#,
            P,
        );
        assert_eq!(
            r.unwrap(),
            "Depth { symbol: \"BTCUSDT\", event_time: 1723161255208, first: 50093239189, last: 50093239202, prev: None }"
        );
        assert_eq!(
            lv,
            vec![
                LevelUpdate {
                    bid: true,
                    px: 6_173_763,
                    qty: 0
                },
                LevelUpdate {
                    bid: false,
                    px: 6_183_764,
                    qty: 154_698
                },
                LevelUpdate {
                    bid: false,
                    px: 6_183_985,
                    qty: 0
                },
            ]
        );
    }

    #[test]
    fn futures_depth_has_pu_and_trades_and_tickers() {
        let (r, lv) = dec(
            r#"{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":10,"u":12,"pu":9,"b":[["58710.20","0.014"]],"a":[]}}"#,
            Precision { px: 1, qty: 3 },
        );
        assert!(r.unwrap().contains("prev: Some(9)"));
        assert_eq!(
            lv,
            vec![LevelUpdate {
                bid: true,
                px: 587_102,
                qty: 14
            }]
        );
        let (r, _) = dec(
            r#"{"e":"trade","E":1,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}"#,
            P,
        );
        assert_eq!(
            r.unwrap(),
            "Trade { symbol: \"BTCUSDT\", id: 3735683259, time: 1723161255342, px: 6183763, qty: 2000, buyer_maker: true, aggregate: false }"
        );
        let (r, _) = dec(
            r#"{"e":"aggTrade","E":1,"s":"X","a":5,"p":"1.00","q":"2.00000","f":1,"l":2,"T":9,"m":false}"#,
            P,
        );
        assert!(r
            .unwrap()
            .contains("id: 5, time: 9, px: 100, qty: 200000, buyer_maker: false, aggregate: true"));
        let (r, _) = dec(
            r#"{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}"#,
            P,
        );
        assert_eq!(r.unwrap(), "BookTicker { symbol: \"BTCUSDT\", update_id: 50093239212, bid: (6183763, 378826), ask: (6183764, 154698) }");
        let (r, lv) = dec(
            r#"{"lastUpdateId":160,"bids":[["0.0024","10"]],"asks":[["0.0026","100"]]}"#,
            Precision { px: 4, qty: 0 },
        );
        assert_eq!(r.unwrap(), "Snapshot { last_update_id: 160 }");
        assert_eq!(lv.len(), 2);
    }

    #[test]
    fn bad_input_is_typed() {
        assert_eq!(dec("{not json", P).0, Err(BinanceError::Json));
        assert_eq!(
            dec(r#"{"e":"kline","k":{}}"#, P).0,
            Err(BinanceError::Unknown)
        );
        assert_eq!(
            dec(r#"{"e":"trade","s":"X"}"#, P).0,
            Err(BinanceError::Field("t"))
        );
        assert_eq!(
            dec(
                r#"{"e":"trade","s":"X","t":1,"T":1,"p":"1.001","q":"1","m":true}"#,
                P
            )
            .0,
            Err(BinanceError::Decimal {
                field: "p",
                err: DecimalError::Precision { decimals: 2 }
            })
        );
        assert_eq!(dec("", P).0, Err(BinanceError::Json));
    }

    proptest::proptest! {
        /// Random bytes and truncations of a real frame never panic.
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), cut in 0usize..300) {
            let mut d = BinanceDecoder::new();
            let mut lv = Vec::new();
            let mut b = bytes.clone();
            let _ = d.decode(&mut b, P, &mut lv);
            let real = br#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1.00","2.00000"]],"a":[]}}"#;
            let mut t = real[..cut.min(real.len())].to_vec();
            let _ = d.decode(&mut t, P, &mut lv);
        }
    }

    /// Every frame of the real spot capture decodes; counts per type match an independent count
    /// of the stream names, and each bookTicker's prices match a plain string reading of it.
    #[test]
    fn real_spot_capture() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/binance/spot_btcusdt_20240808.gz"
        );
        let f = std::fs::File::open(path).unwrap();
        let r = BufReader::new(flate2::read::MultiGzDecoder::new(f));
        let mut d = BinanceDecoder::new();
        let mut lv = Vec::new();
        let (mut depth, mut trades, mut tickers, mut lines, mut levels_seen, mut snapshots) =
            (0, 0, 0, 0, 0, 0);
        let mut last_u = None::<u64>;
        let mut gaps = 0;
        for line in r.lines() {
            let line = line.unwrap();
            lines += 1;
            let (_, json) = split_capture_line(line.as_bytes()).unwrap();
            let mut buf = json.to_vec();
            let m = d
                .decode(&mut buf, Precision::SPOT_STRINGS, &mut lv)
                .unwrap_or_else(|e| panic!("line {lines}: {e}"));
            match m {
                BinanceMsg::Depth { first, last, .. } => {
                    assert!(line.contains("@depth"));
                    depth += 1;
                    levels_seen += lv.len();
                    if let Some(prev) = last_u {
                        if first != prev + 1 {
                            gaps += 1;
                        }
                    }
                    last_u = Some(last);
                }
                BinanceMsg::Trade { .. } => {
                    assert!(line.contains("@trade"));
                    trades += 1;
                }
                BinanceMsg::BookTicker { bid, .. } => {
                    tickers += 1;
                    // Independent reading: the "b" string, digits only (8 decimals kept).
                    let b = line
                        .split("\"b\":\"")
                        .nth(1)
                        .unwrap()
                        .split('"')
                        .next()
                        .unwrap();
                    let want: i64 = b.replace('.', "").parse().unwrap();
                    assert_eq!(bid.0, want, "line {lines}");
                }
                BinanceMsg::Snapshot { last_update_id } => {
                    // The collector's REST snapshot (line 8): 50093239218, with its levels.
                    assert_eq!(last_update_id, 50_093_239_218);
                    assert!(lv.iter().any(|l| l.bid) && lv.iter().any(|l| !l.bid));
                    snapshots += 1;
                }
            }
        }
        // `grep -o '"stream":"[^"]*"' | sort | uniq -c` on the capture: 3451 depth, 9757 trade,
        // 28040 bookTicker; `grep -c lastUpdateId`: 1 snapshot; `wc -l`: 41249 lines.
        assert_eq!(
            (depth, trades, tickers, snapshots, lines),
            (3451, 9757, 28040, 1, 41249)
        );
        assert!(levels_seen > depth, "depth updates carry levels");
        // The diff stream is continuous (U = previous u + 1) throughout this capture.
        assert_eq!(gaps, 0);
    }

    /// Both paths on one frame: results (as text) and levels.
    fn both(frame: &[u8], p: Precision) -> [(String, Vec<LevelUpdate>); 2] {
        let mut d = BinanceDecoder::new();
        let (mut a, mut b) = (frame.to_vec(), frame.to_vec());
        let (mut la, mut lb) = (
            vec![LevelUpdate {
                bid: true,
                px: 1,
                qty: 1,
            }],
            Vec::new(),
        );
        let ra = format!("{:?}", d.decode(&mut a, p, &mut la));
        let rb = format!("{:?}", d.decode_tape(&mut b, p, &mut lb));
        [(ra, la), (rb, lb)]
    }

    /// On every frame of both real captures (spot and USD-M futures) the one-pass path is taken
    /// for every depth update, trade, book ticker and REST snapshot, and gives what the tape
    /// path gives.
    #[test]
    fn one_pass_path_equals_tape_path_on_real_captures() {
        for (file, p, n) in [
            ("spot_btcusdt_20240808.gz", Precision::SPOT_STRINGS, 41_249),
            ("usdm_btcusdt_20240808.gz", Precision { px: 1, qty: 3 }, 0),
        ] {
            let path = format!(
                "{}/../../shared/data/binance/{file}",
                env!("CARGO_MANIFEST_DIR")
            );
            let r = BufReader::new(flate2::read::MultiGzDecoder::new(
                std::fs::File::open(path).unwrap(),
            ));
            let (mut lines, mut scanned) = (0, 0);
            let mut lv = Vec::new();
            for line in r.lines() {
                let line = line.unwrap();
                lines += 1;
                let (_, json) = split_capture_line(line.as_bytes()).unwrap();
                let [a, b] = both(json, p);
                assert_eq!(a, b, "{file} line {lines}");
                let fast = canonical(json, p, &mut lv).is_some();
                assert!(fast, "{file} line {lines}");
                scanned += usize::from(line.contains("lastUpdateId"));
            }
            if n > 0 {
                assert_eq!(lines, n);
            }
            // `grep -c lastUpdateId`: one REST snapshot in each capture.
            assert_eq!(scanned, 1, "{file}");
        }
    }

    /// cryptofeed's Binance spot and futures captures (combined streams of depth updates, book
    /// tickers, aggregate trades and klines) and the REST depth snapshots taken alongside: every
    /// frame decodes the same through both paths, and the one-pass path takes every frame but
    /// the klines.
    #[test]
    fn one_pass_path_equals_tape_path_on_cryptofeed_captures() {
        use crate::cryptofeed::{parse_line, Line};
        // (file, precision, frames, klines): `grep -c -E '^[0-9.]+: '` and `grep -c kline`
        // on the websocket files, `grep -c lastUpdateId` on the REST ones.
        for (name, n, klines) in [
            ("BINANCE.ws.1.0", 265, 2),
            ("BINANCE_FUTURES.ws.1.0", 1535, 67),
            ("BINANCE.http.0.0", 4, 0),
            ("BINANCE_FUTURES.http.0.0", 4, 0),
        ] {
            let p = Precision::SPOT_STRINGS;
            let path = format!(
                "{}/../../shared/data/cryptofeed/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read(path).unwrap();
            let (mut frames, mut taken) = (0, 0);
            let mut lv = Vec::new();
            for raw in text.split(|&c| c == b'\n') {
                let json = if name.contains(".http.") {
                    // `URL -> t: body`
                    let Some(at) = raw.windows(3).position(|w| w == b": {") else {
                        continue;
                    };
                    &raw[at + 2..]
                } else {
                    let Some(Line::Received { json, .. }) = parse_line(raw) else {
                        continue;
                    };
                    json
                };
                frames += 1;
                let [a, b] = both(json, p);
                assert_eq!(a, b, "{name} frame {frames}");
                let kline = json.windows(11).any(|w| w == br#""e":"kline""#);
                assert_eq!(
                    a.0.starts_with("Err"),
                    kline,
                    "{name} frame {frames}: {}",
                    a.0
                );
                taken += usize::from(canonical(json, p, &mut lv).is_some());
            }
            assert_eq!((frames, taken), (n, n - klines), "{name}");
        }
    }

    #[test]
    fn one_pass_path_hands_over_what_it_does_not_take() {
        let mut lv = Vec::new();
        for s in [
            // Snapshot in another order, escape, float, key order b after a, repeated key,
            // trailing garbage, unknown type, snapshot level with a third element.
            r#"{"bids":[],"lastUpdateId":1,"asks":[]}"#,
            r#"{"lastUpdateId":1,"bids":[["1.00","1","x"]],"asks":[]}"#,
            r#"{"e":"trade","E":1,"s":"BT\u0043","t":1,"p":"1.0","q":"1.0","T":1,"m":true}"#,
            r#"{"e":"trade","E":1.5,"s":"X","t":1,"p":"1.0","q":"1.0","T":1,"m":true}"#,
            r#"{"e":"depthUpdate","E":1,"s":"X","U":1,"u":2,"a":[],"b":[]}"#,
            r#"{"e":"trade","s":"X","s":"Y","t":1,"p":"1.0","q":"1.0","T":1,"m":true}"#,
            r#"{"u":1,"s":"X","b":"1.0","B":"1.0","a":"1.0","A":"1.0"} x"#,
            r#"{"e":"kline","k":{}}"#,
        ] {
            assert!(canonical(s.as_bytes(), P, &mut lv).is_none(), "{s}");
            let [a, b] = both(s.as_bytes(), P);
            assert_eq!(a, b, "{s}");
        }
        // Partial depth (wrapped), REST snapshots (spot, futures) and aggregate trades (spot and
        // futures key order) in Binance's layout, read by hand.
        for (s, want, levels) in [
            (
                r#"{"stream":"x@depth5@100ms","data":{"lastUpdateId":160,"bids":[["0.02","10"]],"asks":[["0.03","100"],["0.04","1.5"]]}}"#,
                "Snapshot { last_update_id: 160 }",
                vec![(true, 2, 1_000_000), (false, 3, 10_000_000), (false, 4, 150_000)],
            ),
            (
                r#"{"lastUpdateId":7,"E":1,"T":2,"bids":[],"asks":[["1.50","0.00001"]]}"#,
                "Snapshot { last_update_id: 7 }",
                vec![(false, 150, 1)],
            ),
            (
                r#"{"e":"aggTrade","E":1,"s":"X","a":5,"p":"1.00","q":"2.00000","f":1,"l":2,"T":9,"m":false,"M":true}"#,
                "Trade { symbol: \"X\", id: 5, time: 9, px: 100, qty: 200000, buyer_maker: false, aggregate: true }",
                vec![],
            ),
            (
                r#"{"e":"aggTrade","E":1,"a":6,"s":"Y","p":"1.01","q":"3","f":1,"l":2,"T":8,"m":true}"#,
                "Trade { symbol: \"Y\", id: 6, time: 8, px: 101, qty: 300000, buyer_maker: true, aggregate: true }",
                vec![],
            ),
        ] {
            assert!(canonical(s.as_bytes(), P, &mut lv).is_some(), "{s}");
            let [a, b] = both(s.as_bytes(), P);
            assert_eq!(a, b, "{s}");
            assert_eq!(a.0, format!("Ok({want})"));
            let got: Vec<(bool, i64, i64)> = a.1.iter().map(|l| (l.bid, l.px, l.qty)).collect();
            assert_eq!(got, levels, "{s}");
        }
        // Whitespace and unknown members are fine.
        let s = r#" { "u" : 7 , "x" : [ { "y" : null } ] , "s":"X","b":"1.00","B":"2","a":"3","A":"4" } "#;
        assert!(canonical(s.as_bytes(), P, &mut lv).is_some());
        let [a, b] = both(s.as_bytes(), P);
        assert_eq!(a, b);
        assert!(a
            .0
            .contains("update_id: 7, bid: (100, 200000), ask: (300, 400000)"));
    }

    proptest::proptest! {
        /// Mutated real frames (byte flips, cuts, inserted JSON punctuation, repeated spans):
        /// the one-pass path and the tape path agree on the result and the levels.
        #[test]
        fn one_pass_path_equals_tape_path_on_mutations(
            which in 0usize..7,
            edits in proptest::collection::vec((0usize..400, 0u8..16, 0usize..30), 1..4),
        ) {
            const FRAMES: [&str; 7] = [
                r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[["61737.63000000","0.00000000"]],"a":[["61837.64000000","1.54698000"],["61839.85000000","0.00000000"]]}}"#,
                r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}"#,
                r#"{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#,
                r#"{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1,"T":1,"s":"BTCUSDT","U":10,"u":12,"pu":9,"b":[["58710.20","0.014"]],"a":[]}}"#,
                r#"{"stream":"nknusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"NKNUSDT","a":15683430,"p":"0.35280000","q":"58.00000000","f":19862790,"l":19862790,"T":1633998523963,"m":false,"M":true}}"#,
                r#"{"stream":"nknusdt@depth5@100ms","data":{"lastUpdateId":499869752,"bids":[["0.35210000","672.00000000"],["0.35200000","1144.00000000"]],"asks":[["0.35250000","3959.00000000"]]}}"#,
                r#"{"lastUpdateId":600859605926,"E":1626992741264,"T":1626992741261,"bids":[["7.6110","6"],["7.6080","161"]],"asks":[["7.6150","1563"]]}"#,
            ];
            const PUNCT: &[u8; 16] = b"{}[]\",:0-.e\\ 9ax";
            let mut b = FRAMES[which].as_bytes().to_vec();
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
            let p = match which {
                3 => Precision { px: 1, qty: 3 },
                6 => Precision { px: 4, qty: 0 },
                _ => Precision::SPOT_STRINGS,
            };
            let [a, t] = both(&b, p);
            proptest::prop_assert_eq!(a, t, "{}", String::from_utf8_lossy(&b));
        }
    }
}
