//! Coinbase Exchange websocket feed messages (`snapshot`, `l2update`, `match`/`last_match`,
//! `ticker`), decoded with `simd-json` into typed records with integer prices and sizes.
//!
//! Like the Binance decoder: the book and trade messages are read by a one-pass scanner (the
//! crate's `json_scan`) in the layout Coinbase sends, or in any member order, and everything
//! else (or anything outside the scanner's subset) is parsed into simd-json's tape with reused
//! buffers; price levels are converted exactly into the caller's level buffer, nothing is
//! allocated per message once warm, and subscription acknowledgements, heartbeats or unknown
//! types are typed results the caller counts.

use simd_json::prelude::*;

use crate::decimal::parse_fixed;
use crate::isotime::{parse_utc_ns, parse_utc_ns_bytes};
use crate::json::{
    decimal, decimal_of, first, levels_of, members, missing, str_of, u64_of, LevelUpdate,
    Precision, TapeParser, V,
};
use crate::json_scan::{level_pairs, Cursor, Scalar};

/// A decoded Coinbase message. Levels go to the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoinbaseMsg<'a> {
    /// A full level-2 book for `product` (levels in the buffer).
    Snapshot {
        /// Product id, e.g. `BTC-USD`.
        product: &'a str,
    },
    /// Level changes for `product` (levels in the buffer; size 0 removes a level).
    L2Update {
        /// Product id.
        product: &'a str,
        /// The exchange's `time`, ns since the epoch (`None` when absent).
        time_ns: Option<u64>,
    },
    /// A trade (`match`, or `last_match` on subscribing).
    Match {
        /// Product id.
        product: &'a str,
        /// Trade id.
        trade_id: u64,
        /// Feed sequence number.
        sequence: u64,
        /// Price, ticks.
        px: i64,
        /// Size, lots.
        qty: i64,
        /// `true` when the maker was a sell order (a buyer lifted the offer): Coinbase's `side`
        /// is the maker's side.
        maker_sell: bool,
    },
    /// Ticker: last trade and best bid/ask.
    Ticker {
        /// Product id.
        product: &'a str,
        /// Feed sequence number.
        sequence: u64,
        /// Best bid price, ticks.
        best_bid: i64,
        /// Best ask price, ticks.
        best_ask: i64,
        /// The exchange's `time` (of the last trade), ns since the epoch (`None` when absent).
        time_ns: Option<u64>,
    },
    /// Subscription acknowledgements, heartbeats, status: nothing for the book.
    Control,
}

/// Why a message could not be decoded.
pub type CoinbaseError = crate::json::MsgError;

/// The decoder: owns simd-json's buffers and tape, reused for every message.
pub struct CoinbaseDecoder {
    parser: TapeParser,
}

impl Default for CoinbaseDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl CoinbaseDecoder {
    /// A decoder with empty buffers.
    pub fn new() -> Self {
        CoinbaseDecoder {
            parser: TapeParser::new(),
        }
    }

    /// Decodes one frame (parsed in place). Snapshot and update levels are appended to `levels`
    /// (cleared first).
    ///
    /// # Errors
    /// [`CoinbaseError`].
    pub fn decode<'i>(
        &mut self,
        frame: &'i mut [u8],
        p: Precision,
        levels: &mut Vec<LevelUpdate>,
    ) -> Result<CoinbaseMsg<'i>, CoinbaseError> {
        levels.clear();
        if let Some(m) = scan(frame, p, levels) {
            let frame: &'i [u8] = frame;
            return m.into_msg(frame);
        }
        self.decode_tape(frame, p, levels)
    }

    /// [`decode`](Self::decode) through simd-json's tape alone, for any frame: what `decode`
    /// falls back to for frames its one-pass path does not take, and what it must agree with
    /// on every frame.
    ///
    /// # Errors
    /// [`CoinbaseError`].
    pub fn decode_tape<'i>(
        &mut self,
        frame: &'i mut [u8],
        p: Precision,
        levels: &mut Vec<LevelUpdate>,
    ) -> Result<CoinbaseMsg<'i>, CoinbaseError> {
        levels.clear();
        self.parser
            .parse(frame, CoinbaseError::Json, |root| walk(root, p, levels))
    }
}

/// A message read by the one-pass path: the product is a byte range of the frame until the
/// frame can be borrowed for the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scanned {
    L2Update {
        product: (usize, usize),
        time_ns: Option<u64>,
    },
    Snapshot {
        product: (usize, usize),
    },
    Match {
        product: (usize, usize),
        trade_id: u64,
        sequence: u64,
        px: i64,
        qty: i64,
        maker_sell: bool,
    },
    Ticker {
        product: (usize, usize),
        sequence: u64,
        best_bid: i64,
        best_ask: i64,
        time_ns: Option<u64>,
    },
}

impl Scanned {
    fn into_msg(self, frame: &[u8]) -> Result<CoinbaseMsg<'_>, CoinbaseError> {
        // The scanner admits only printable ASCII in strings, so this cannot fail.
        let product = |(s, e): (usize, usize)| {
            std::str::from_utf8(&frame[s..e]).map_err(|_| CoinbaseError::Field("product_id"))
        };
        Ok(match self {
            Scanned::L2Update {
                product: r,
                time_ns,
            } => CoinbaseMsg::L2Update {
                product: product(r)?,
                time_ns,
            },
            Scanned::Snapshot { product: r } => CoinbaseMsg::Snapshot {
                product: product(r)?,
            },
            Scanned::Match {
                product: r,
                trade_id,
                sequence,
                px,
                qty,
                maker_sell,
            } => CoinbaseMsg::Match {
                product: product(r)?,
                trade_id,
                sequence,
                px,
                qty,
                maker_sell,
            },
            Scanned::Ticker {
                product: r,
                sequence,
                best_bid,
                best_ask,
                time_ns,
            } => CoinbaseMsg::Ticker {
                product: product(r)?,
                sequence,
                best_bid,
                best_ask,
                time_ns,
            },
        })
    }
}

/// The one-pass path for the book and trade messages (`l2update`, `snapshot`, `match` and
/// `last_match`, `ticker`), levels appended to `out` in the tape path's order (bids, then asks),
/// the full JSON grammar checked. `None` for every other frame (control messages, other types,
/// errors, repeated keys, anything outside [`crate::json_scan`]'s subset): the tape path decides
/// those, and on the frames this accepts both give the same result.
fn scan(frame: &[u8], p: Precision, out: &mut Vec<LevelUpdate>) -> Option<Scanned> {
    if let Some((product, time_ns)) = l2update_usual(frame, p, out) {
        return Some(Scanned::L2Update { product, time_ns });
    }
    out.clear();
    if let Some(m) = usual(frame, p, out) {
        return Some(m);
    }
    out.clear();
    let m = any_order(frame, p, out);
    if m.is_none() {
        out.clear();
    }
    m
}

/// The layout Coinbase sends, its keys and punctuation matched as whole byte strings:
/// `{"type":"l2update","product_id":"…","changes":[…],"time":"…"}`. `None` for any other
/// layout, which [`any_order`] then reads (on this one both give the same result).
#[inline(always)]
fn l2update_usual(
    frame: &[u8],
    p: Precision,
    out: &mut Vec<LevelUpdate>,
) -> Option<((usize, usize), Option<u64>)> {
    let mut c = Cursor::new(frame);
    c.expect(b"{\"type\":\"l2update\",\"product_id\":")?;
    let product = c.string()?;
    c.expect(b",\"changes\":")?;
    level_triples(&mut c, p, out)?;
    c.expect(b",\"time\":")?;
    let (s, e) = c.string()?;
    let time = parse_utc_ns_bytes(&frame[s..e])?;
    c.expect(b"}")?;
    c.at_end().then_some((product, Some(time)))
}

/// A snapshot, match (or last_match) or ticker in the layout Coinbase sends, keys and
/// punctuation matched as whole byte strings:
/// `{"type":"snapshot","product_id":"…","asks":[…],"bids":[…]}`,
/// `{"type":"match","trade_id":N,"maker_order_id":"…","taker_order_id":"…","side":"…",
/// "size":"…","price":"…","product_id":"…","sequence":N,"time":"…"}` and
/// `{"type":"ticker","sequence":N,"product_id":"…","price":"…","open_24h":"…",
/// "volume_24h":"…","low_24h":"…","high_24h":"…","volume_30d":"…","best_bid":"…",
/// "best_ask":"…","side":"…","time":"…","trade_id":N,"last_size":"…"}`. `None` for any
/// other layout, which [`any_order`] then reads (on these both give the same result: each key
/// appears once, with a value of the type the tape path requires).
#[inline(always)]
fn usual(frame: &[u8], p: Precision, out: &mut Vec<LevelUpdate>) -> Option<Scanned> {
    let mut c = Cursor::new(frame);
    c.expect(b"{\"type\":\"")?;
    let m = if c.lit(b"snapshot\",\"product_id\":") {
        let product = c.string()?;
        c.expect(b",\"asks\":")?;
        level_pairs(&mut c, false, p, out)?;
        let asks = out.len();
        c.expect(b",\"bids\":")?;
        level_pairs(&mut c, true, p, out)?;
        // The tape path appends bids, then asks.
        out.rotate_left(asks);
        Scanned::Snapshot { product }
    } else if c.lit(b"match\",\"trade_id\":") || c.lit(b"last_match\",\"trade_id\":") {
        let trade_id = c.uint()?;
        c.expect(b",\"maker_order_id\":")?;
        c.string()?;
        c.expect(b",\"taker_order_id\":")?;
        c.string()?;
        let maker_sell = if c.lit(b",\"side\":\"sell\",\"size\":") {
            true
        } else {
            c.expect(b",\"side\":\"buy\",\"size\":")?;
            false
        };
        let qty = c.decimal(p.qty)?;
        c.expect(b",\"price\":")?;
        let px = c.decimal(p.px)?;
        c.expect(b",\"product_id\":")?;
        let product = c.string()?;
        c.expect(b",\"sequence\":")?;
        let sequence = c.uint()?;
        c.expect(b",\"time\":")?;
        c.string()?;
        Scanned::Match {
            product,
            trade_id,
            sequence,
            px,
            qty,
            maker_sell,
        }
    } else if c.lit(b"ticker\",\"sequence\":") {
        let sequence = c.uint()?;
        c.expect(b",\"product_id\":")?;
        let product = c.string()?;
        for key in [
            &b",\"price\":"[..],
            b",\"open_24h\":",
            b",\"volume_24h\":",
            b",\"low_24h\":",
            b",\"high_24h\":",
            b",\"volume_30d\":",
        ] {
            c.expect(key)?;
            c.string()?;
        }
        c.expect(b",\"best_bid\":")?;
        let best_bid = c.decimal(p.px)?;
        c.expect(b",\"best_ask\":")?;
        let best_ask = c.decimal(p.px)?;
        c.expect(b",\"side\":")?;
        c.string()?;
        c.expect(b",\"time\":")?;
        let (s, e) = c.string()?;
        let time_ns = parse_utc_ns_bytes(&frame[s..e])?;
        c.expect(b",\"trade_id\":")?;
        c.uint()?;
        c.expect(b",\"last_size\":")?;
        c.string()?;
        Scanned::Ticker {
            product,
            sequence,
            best_bid,
            best_ask,
            time_ns: Some(time_ns),
        }
    } else {
        return None;
    };
    c.expect(b"}")?;
    c.at_end().then_some(m)
}

// Members the member loop keeps, as indexes into its slots.
const K_TYPE: usize = 0;
const K_PRODUCT: usize = 1;
const K_TIME: usize = 2;
const K_TRADE_ID: usize = 3;
const K_SEQUENCE: usize = 4;
const K_PRICE: usize = 5;
const K_SIZE: usize = 6;
const K_SIDE: usize = 7;
const K_BEST_BID: usize = 8;
const K_BEST_ASK: usize = 9;
const SLOTS: usize = 10;
/// A member whose value the loop has already read (a level array) or passed over.
const READ: usize = usize::MAX;

/// [`scan`]'s member loop: members in any order and any whitespace. The members the tape path
/// reads are kept (a repeated one is outside the subset: the tape path keeps the first); level
/// arrays are read into `out` where they stand, and the message type decides at the end
/// whether they belong (a level array the type does not read is left to the tape path).
fn any_order(frame: &[u8], p: Precision, out: &mut Vec<LevelUpdate>) -> Option<Scanned> {
    let mut c = Cursor::new(frame);
    if c.open_object()? {
        return None;
    }
    let mut f = [None::<Scalar>; SLOTS];
    let (mut changes, mut bids, mut asks) = (false, None::<usize>, None::<usize>);
    loop {
        let slot = match c.key()? {
            b"type" => K_TYPE,
            b"product_id" => K_PRODUCT,
            b"time" => K_TIME,
            b"trade_id" => K_TRADE_ID,
            b"sequence" => K_SEQUENCE,
            b"price" => K_PRICE,
            b"size" => K_SIZE,
            b"side" => K_SIDE,
            b"best_bid" => K_BEST_BID,
            b"best_ask" => K_BEST_ASK,
            b"changes" if !changes => {
                changes = true;
                level_triples(&mut c, p, out)?;
                READ
            }
            b"bids" if bids.is_none() => {
                bids = Some(out.len());
                level_pairs(&mut c, true, p, out)?;
                READ
            }
            b"asks" if asks.is_none() => {
                asks = Some(out.len());
                level_pairs(&mut c, false, p, out)?;
                READ
            }
            b"changes" | b"bids" | b"asks" => return None,
            _ => {
                c.value()?;
                READ
            }
        };
        if slot != READ {
            if f[slot].is_some() {
                return None;
            }
            f[slot] = Some(c.value()?);
        }
        if !c.more(b'}')? {
            break;
        }
    }
    if !c.at_end() {
        return None;
    }
    let str_ = |i: usize| match f[i] {
        Some(Scalar::Str(s, e)) => Some((s, e)),
        _ => None,
    };
    let text = |i: usize| str_(i).map(|(s, e)| &frame[s..e]);
    let uint = |i: usize| match f[i] {
        Some(Scalar::UInt(v)) => Some(v),
        _ => None,
    };
    let dec = |i: usize, d: u32| parse_fixed(text(i)?, d).ok();
    // Absent is `None`; present, it must be an RFC 3339 UTC time (else the tape path's error).
    let time = || match f[K_TIME] {
        None => Some(None),
        Some(Scalar::Str(s, e)) => parse_utc_ns_bytes(&frame[s..e]).map(Some),
        Some(_) => None,
    };
    let levels = changes || bids.is_some() || asks.is_some();
    let product = str_(K_PRODUCT)?;
    match text(K_TYPE)? {
        b"l2update" if changes && bids.is_none() && asks.is_none() => Some(Scanned::L2Update {
            product,
            time_ns: time()?,
        }),
        b"snapshot" if !changes => {
            let (bids, asks) = (bids?, asks?);
            // Coinbase sends asks first; the tape path appends bids, then asks.
            if asks < bids {
                out.rotate_left(bids);
            }
            Some(Scanned::Snapshot { product })
        }
        b"match" | b"last_match" if !levels => Some(Scanned::Match {
            product,
            trade_id: uint(K_TRADE_ID)?,
            sequence: uint(K_SEQUENCE)?,
            px: dec(K_PRICE, p.px)?,
            qty: dec(K_SIZE, p.qty)?,
            maker_sell: match text(K_SIDE)? {
                b"sell" => true,
                b"buy" => false,
                _ => return None,
            },
        }),
        b"ticker" if !levels => Some(Scanned::Ticker {
            product,
            sequence: uint(K_SEQUENCE)?,
            best_bid: dec(K_BEST_BID, p.px)?,
            best_ask: dec(K_BEST_ASK, p.px)?,
            time_ns: time()?,
        }),
        _ => None,
    }
}

/// `[["buy"|"sell","price","size"], ...]` into `out`.
fn level_triples(c: &mut Cursor<'_>, p: Precision, out: &mut Vec<LevelUpdate>) -> Option<()> {
    c.eat(b'[')?;
    if c.peek()? == b']' {
        return c.eat(b']');
    }
    loop {
        // The usual `["buy",` / `["sell",` as whole byte strings, else read token by token.
        let bid = if c.lit(b"[\"buy\",") {
            true
        } else if c.lit(b"[\"sell\",") {
            false
        } else {
            c.eat(b'[')?;
            let (s, e) = c.string()?;
            let bid = match &c.bytes()[s..e] {
                b"buy" => true,
                b"sell" => false,
                _ => return None,
            };
            c.eat(b',')?;
            bid
        };
        let px = c.decimal(p.px)?;
        c.eat(b',')?;
        let qty = c.decimal(p.qty)?;
        c.eat(b']')?;
        out.push(LevelUpdate { bid, px, qty });
        if !c.more(b']')? {
            return Some(());
        }
    }
}

/// The optional `time` field: absent is `None`, present but not an RFC 3339 UTC time is an error.
fn time(x: Option<V<'_, '_>>) -> Result<Option<u64>, CoinbaseError> {
    match x {
        None => Ok(None),
        Some(t) => t
            .as_str()
            .and_then(parse_utc_ns)
            .map(Some)
            .ok_or(CoinbaseError::Field("time")),
    }
}

/// The members a Coinbase message may carry (first value of each key).
#[derive(Default)]
struct Fields<'t, 'i> {
    kind: Option<V<'t, 'i>>,
    product_id: Option<V<'t, 'i>>,
    bids: Option<V<'t, 'i>>,
    asks: Option<V<'t, 'i>>,
    changes: Option<V<'t, 'i>>,
    time: Option<V<'t, 'i>>,
    trade_id: Option<V<'t, 'i>>,
    sequence: Option<V<'t, 'i>>,
    price: Option<V<'t, 'i>>,
    size: Option<V<'t, 'i>>,
    side: Option<V<'t, 'i>>,
    best_bid: Option<V<'t, 'i>>,
    best_ask: Option<V<'t, 'i>>,
}

fn walk<'i>(
    v: V<'_, 'i>,
    p: Precision,
    out: &mut Vec<LevelUpdate>,
) -> Result<CoinbaseMsg<'i>, CoinbaseError> {
    // One pass over the members; each key's first value, as `get` would find it.
    let mut f = Fields::default();
    for (k, x) in members(&v) {
        let slot = match k {
            "type" => &mut f.kind,
            "product_id" => &mut f.product_id,
            "bids" => &mut f.bids,
            "asks" => &mut f.asks,
            "changes" => &mut f.changes,
            "time" => &mut f.time,
            "trade_id" => &mut f.trade_id,
            "sequence" => &mut f.sequence,
            "price" => &mut f.price,
            "size" => &mut f.size,
            "side" => &mut f.side,
            "best_bid" => &mut f.best_bid,
            "best_ask" => &mut f.best_ask,
            _ => continue,
        };
        first(slot, x);
    }
    match str_of(f.kind, "type")? {
        "snapshot" => {
            let product = str_of(f.product_id, "product_id")?;
            levels_of(f.bids, "bids", true, p, out)?;
            levels_of(f.asks, "asks", false, p, out)?;
            Ok(CoinbaseMsg::Snapshot { product })
        }
        "l2update" => {
            let product = str_of(f.product_id, "product_id")?;
            let bad = missing("changes");
            let changes = f.changes.and_then(|x| x.into_array()).ok_or(bad)?;
            for c in changes.iter() {
                // ["buy" | "sell", "price", "size"]
                let c = c.into_array().ok_or(bad)?;
                let mut it = c.iter();
                let (Some(side), Some(px), Some(qty)) = (it.next(), it.next(), it.next()) else {
                    return Err(bad.into());
                };
                let bid = match side.as_str() {
                    Some("buy") => true,
                    Some("sell") => false,
                    _ => return Err(bad.into()),
                };
                let (Some(px), Some(qty)) = (px.as_str(), qty.as_str()) else {
                    return Err(bad.into());
                };
                out.push(LevelUpdate {
                    bid,
                    px: decimal(px, "changes", p.px)?,
                    qty: decimal(qty, "changes", p.qty)?,
                });
            }
            Ok(CoinbaseMsg::L2Update {
                product,
                time_ns: time(f.time)?,
            })
        }
        "match" | "last_match" => Ok(CoinbaseMsg::Match {
            product: str_of(f.product_id, "product_id")?,
            trade_id: u64_of(f.trade_id, "trade_id")?,
            sequence: u64_of(f.sequence, "sequence")?,
            px: decimal_of(f.price, "price", p.px)?,
            qty: decimal_of(f.size, "size", p.qty)?,
            maker_sell: match str_of(f.side, "side")? {
                "sell" => true,
                "buy" => false,
                _ => return Err(CoinbaseError::Field("side")),
            },
        }),
        "ticker" => Ok(CoinbaseMsg::Ticker {
            product: str_of(f.product_id, "product_id")?,
            sequence: u64_of(f.sequence, "sequence")?,
            best_bid: decimal_of(f.best_bid, "best_bid", p.px)?,
            best_ask: decimal_of(f.best_ask, "best_ask", p.px)?,
            time_ns: time(f.time)?,
        }),
        "subscriptions" | "subscribe" | "heartbeat" | "status" | "error" => {
            Ok(CoinbaseMsg::Control)
        }
        _ => Err(CoinbaseError::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cryptofeed::{parse_line, Line};

    const P: Precision = Precision { px: 8, qty: 8 };

    #[test]
    fn messages() {
        let mut d = CoinbaseDecoder::new();
        let mut lv = Vec::new();
        let mut f = br#"{"type":"l2update","product_id":"SKL-BTC","changes":[["sell","0.00001306","660.5"],["buy","0.00001300","0"]],"time":"2021-04-17T16:43:37.075687Z"}"#.to_vec();
        assert_eq!(
            d.decode(&mut f, P, &mut lv),
            Ok(CoinbaseMsg::L2Update {
                product: "SKL-BTC",
                // 2021-04-17T16:43:37.075687Z: 1618677817 s (python's datetime(...).timestamp()).
                time_ns: Some(1_618_677_817_075_687_000)
            })
        );
        assert_eq!(
            lv,
            vec![
                LevelUpdate {
                    bid: false,
                    px: 1306,
                    qty: 66_050_000_000
                },
                LevelUpdate {
                    bid: true,
                    px: 1300,
                    qty: 0
                }
            ]
        );
        let mut f = br#"{"type":"match","trade_id":280232,"side":"sell","size":"985","price":"0.00001305","product_id":"SKL-BTC","sequence":177100030}"#.to_vec();
        assert_eq!(
            d.decode(&mut f, P, &mut lv),
            Ok(CoinbaseMsg::Match {
                product: "SKL-BTC",
                trade_id: 280_232,
                sequence: 177_100_030,
                px: 1305,
                qty: 98_500_000_000,
                maker_sell: true
            })
        );
        let mut f = br#"{"type":"heartbeat"}"#.to_vec();
        assert_eq!(d.decode(&mut f, P, &mut lv), Ok(CoinbaseMsg::Control));
        let mut f = br#"{"type":"mystery"}"#.to_vec();
        assert_eq!(d.decode(&mut f, P, &mut lv), Err(CoinbaseError::Unknown));
        let mut f = br#"{"type":"l2update","product_id":"X","changes":[["up","1","1"]]}"#.to_vec();
        assert_eq!(
            d.decode(&mut f, P, &mut lv),
            Err(CoinbaseError::Field("changes"))
        );
        let mut f = b"{nope".to_vec();
        assert_eq!(d.decode(&mut f, P, &mut lv), Err(CoinbaseError::Json));
    }

    /// Every received frame of the real capture decodes; counts by type match an independent
    /// `grep -o '"type":"…"' | uniq -c` of the file.
    #[test]
    fn real_capture() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/cryptofeed/COINBASE.ws.28.0"
        );
        let text = std::fs::read(path).unwrap();
        let mut d = CoinbaseDecoder::new();
        let mut lv = Vec::new();
        let (mut snap, mut upd, mut matches, mut tickers, mut control, mut levels) =
            (0, 0, 0, 0, 0, 0usize);
        let mut products = std::collections::BTreeSet::new();
        for raw in text.split(|&c| c == b'\n') {
            let Some(Line::Received { json, .. }) = parse_line(raw) else {
                continue;
            };
            let mut f = json.to_vec();
            match d.decode(&mut f, P, &mut lv).unwrap() {
                CoinbaseMsg::Snapshot { product } => {
                    snap += 1;
                    products.insert(product.to_owned());
                    levels += lv.len();
                }
                CoinbaseMsg::L2Update { .. } => {
                    upd += 1;
                    levels += lv.len();
                }
                CoinbaseMsg::Match { .. } => matches += 1,
                CoinbaseMsg::Ticker {
                    best_bid, best_ask, ..
                } => {
                    tickers += 1;
                    assert!(best_bid < best_ask);
                }
                CoinbaseMsg::Control => control += 1,
            }
        }
        // grep: 10 snapshot, 9719 l2update, 97 match + 10 last_match, 107 ticker, 3 subscriptions.
        assert_eq!(
            (snap, upd, matches, tickers, control),
            (10, 9719, 107, 107, 3)
        );
        assert_eq!(products.len(), 10);
        assert!(levels > 10_000);
    }

    /// Both paths on one frame: results (as text) and levels.
    fn both(frame: &[u8]) -> [(String, Vec<LevelUpdate>); 2] {
        let mut d = CoinbaseDecoder::new();
        let (mut a, mut b) = (frame.to_vec(), frame.to_vec());
        let (mut la, mut lb) = (
            vec![LevelUpdate {
                bid: true,
                px: 1,
                qty: 1,
            }],
            Vec::new(),
        );
        let ra = format!("{:?}", d.decode(&mut a, P, &mut la));
        let rb = format!("{:?}", d.decode_tape(&mut b, P, &mut lb));
        [(ra, la), (rb, lb)]
    }

    /// Every received frame of the real capture: the one-pass path takes every snapshot,
    /// l2update, match, last_match and ticker (everything but the three subscription
    /// acknowledgements), and both paths give the same result.
    #[test]
    fn one_pass_path_equals_tape_path_on_real_capture() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/cryptofeed/COINBASE.ws.28.0"
        );
        let text = std::fs::read(path).unwrap();
        let (mut frames, mut taken, mut usual) = (0, 0, 0);
        let mut lv = Vec::new();
        for raw in text.split(|&c| c == b'\n') {
            let Some(Line::Received { json, .. }) = parse_line(raw) else {
                continue;
            };
            frames += 1;
            let [a, b] = both(json);
            assert_eq!(a, b, "frame {frames}");
            let fast = scan(json, P, &mut lv).is_some();
            let control = std::str::from_utf8(json)
                .unwrap()
                .starts_with(r#"{"type":"subscriptions""#);
            assert_eq!(fast, !control, "frame {frames}");
            taken += usize::from(fast);
            // The usual-layout readings, where they apply, equal the any-order one.
            let (mut lu, mut la) = (Vec::new(), Vec::new());
            let u = l2update_usual(json, P, &mut lu)
                .map(|(product, time_ns)| Scanned::L2Update { product, time_ns })
                .or_else(|| {
                    lu.clear();
                    super::usual(json, P, &mut lu)
                });
            if u.is_some() {
                assert_eq!((u, lu), (any_order(json, P, &mut la), la), "frame {frames}");
                usual += 1;
            }
        }
        // 10 snapshot + 9719 l2update + 107 match + 107 ticker (see `real_capture`).
        assert_eq!(taken, 9943, "{taken} of {frames}");
        // Every frame taken is in Coinbase's own layout.
        assert_eq!(usual, taken);
    }

    #[test]
    fn one_pass_snapshot_match_ticker() {
        let mut lv = Vec::new();
        // Asks before bids, as Coinbase sends them: the levels still come bids first.
        let s = r#"{"type":"snapshot","product_id":"BAND-GBP","asks":[["14.8024","12.77"],["14.8069","12.49"]],"bids":[["14.7550","0.5"]]}"#;
        assert!(scan(s.as_bytes(), P, &mut lv).is_some());
        let [a, b] = both(s.as_bytes());
        assert_eq!(a, b);
        assert_eq!(a.0, r#"Ok(Snapshot { product: "BAND-GBP" })"#);
        let got: Vec<(bool, i64, i64)> = a.1.iter().map(|l| (l.bid, l.px, l.qty)).collect();
        assert_eq!(
            got,
            vec![
                (true, 1_475_500_000, 50_000_000),
                (false, 1_480_240_000, 1_277_000_000),
                (false, 1_480_690_000, 1_249_000_000)
            ]
        );
        let s = r#"{"type":"last_match","trade_id":881613,"maker_order_id":"27fff20b","side":"buy","size":"0.04","price":"14.7775","product_id":"BAND-GBP","sequence":333938798,"time":"2021-04-17T16:43:30.244075Z"}"#;
        assert!(scan(s.as_bytes(), P, &mut lv).is_some());
        let [a, b] = both(s.as_bytes());
        assert_eq!(a, b);
        assert_eq!(
            a.0,
            r#"Ok(Match { product: "BAND-GBP", trade_id: 881613, sequence: 333938798, px: 1477750000, qty: 4000000, maker_sell: false })"#
        );
        let s = r#"{"type":"ticker","sequence":27883326,"product_id":"SKL-GBP","price":"0.5752","best_bid":"0.5752","best_ask":"0.5771","side":"sell","time":"2021-04-17T16:43:29.571587Z","trade_id":82007}"#;
        assert!(scan(s.as_bytes(), P, &mut lv).is_some());
        let [a, b] = both(s.as_bytes());
        assert_eq!(a, b);
        // 2021-04-17T16:43:29Z = 1618677809 s (python's datetime(...).timestamp()).
        assert_eq!(
            a.0,
            r#"Ok(Ticker { product: "SKL-GBP", sequence: 27883326, best_bid: 57520000, best_ask: 57710000, time_ns: Some(1618677809571587000) })"#
        );
        // Handed over: repeated key, levels on a type that has none, changes on a snapshot,
        // a bad time, an unknown side, control messages, an escape, a float sequence.
        for s in [
            r#"{"type":"match","type":"match","trade_id":1,"side":"buy","size":"1","price":"1","product_id":"X","sequence":1}"#,
            r#"{"type":"ticker","bids":[],"sequence":1,"product_id":"X","best_bid":"1","best_ask":"2"}"#,
            r#"{"type":"snapshot","product_id":"X","asks":[],"bids":[],"changes":[]}"#,
            r#"{"type":"ticker","sequence":1,"product_id":"X","best_bid":"1","best_ask":"2","time":"yesterday"}"#,
            r#"{"type":"match","trade_id":1,"side":"up","size":"1","price":"1","product_id":"X","sequence":1}"#,
            r#"{"type":"heartbeat","sequence":1}"#,
            r#"{"type":"match","trade_id":1,"side":"buy","size":"1","price":"1","product_id":"X\u0041","sequence":1}"#,
            r#"{"type":"ticker","sequence":1.5,"product_id":"X","best_bid":"1","best_ask":"2"}"#,
        ] {
            assert!(scan(s.as_bytes(), P, &mut lv).is_none(), "{s}");
            let [a, b] = both(s.as_bytes());
            assert_eq!(a, b, "{s}");
        }
    }

    proptest::proptest! {
        /// Mutated real frames: both paths agree on the result and the levels.
        #[test]
        fn one_pass_path_equals_tape_path_on_mutations(
            which in 0usize..4,
            edits in proptest::collection::vec((0usize..400, 0u8..16, 0usize..30), 1..4),
        ) {
            const FRAMES: [&str; 4] = [
                r#"{"type":"l2update","product_id":"SKL-BTC","changes":[["sell","0.00001306","660.5"],["buy","0.00001300","0"]],"time":"2021-04-17T16:43:37.075687Z"}"#,
                r#"{"type":"snapshot","product_id":"BAND-GBP","asks":[["14.8024","12.77"],["14.8069","12.49"]],"bids":[["14.7550","0.5"]]}"#,
                r#"{"type":"match","trade_id":280232,"maker_order_id":"2a0da34e-61f7-4c36-88e5-c9dd15927b16","taker_order_id":"3c82abaa-c01e-4608-be59-6a1e69742891","side":"sell","size":"985","price":"0.00001305","product_id":"SKL-BTC","sequence":177100030,"time":"2021-04-17T16:43:37.089723Z"}"#,
                r#"{"type":"ticker","sequence":333938798,"product_id":"BAND-GBP","price":"14.7775","open_24h":"14.6647","volume_24h":"94381.28000000","low_24h":"14.3691","high_24h":"16.55","volume_30d":"2295579.57000000","best_bid":"14.7550","best_ask":"14.8060","side":"buy","time":"2021-04-17T16:43:30.244075Z","trade_id":881613,"last_size":"0.04"}"#,
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
            let [a, t] = both(&b);
            proptest::prop_assert_eq!(a, t, "{}", String::from_utf8_lossy(&b));
        }
    }
}
