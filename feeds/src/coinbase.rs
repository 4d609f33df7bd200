//! Coinbase Exchange websocket feed messages (`snapshot`, `l2update`, `match`/`last_match`,
//! `ticker`), decoded with `simd-json` into typed records with integer prices and sizes.
//!
//! Like the Binance decoder: the JSON is parsed into simd-json's tape with reused buffers, price
//! levels are converted exactly into the caller's level buffer, nothing is allocated per message
//! once warm, and subscription acknowledgements, heartbeats or unknown types are typed results
//! the caller counts.

use simd_json::prelude::*;

use crate::isotime::{parse_utc_ns, parse_utc_ns_bytes};
use crate::json::{
    decimal, decimal_of, first, levels_of, members, missing, str_of, u64_of, LevelUpdate,
    Precision, TapeParser, V,
};
use crate::json_scan::Cursor;

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
        if let Some((product, time_ns)) = l2update(frame, p, levels) {
            let frame: &'i [u8] = frame;
            // The scanner admits only printable ASCII in strings, so this cannot fail.
            let product = std::str::from_utf8(&frame[product.0..product.1])
                .map_err(|_| CoinbaseError::Field("product_id"))?;
            return Ok(CoinbaseMsg::L2Update { product, time_ns });
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

/// The one-pass path for the most frequent message, `l2update`: the product's byte range and
/// the time, changes appended to `out`, the full JSON grammar checked. `None` for every other
/// frame (other types, errors, repeated keys, anything outside [`crate::json_scan`]'s subset):
/// the tape path decides those, and on the frames this accepts both give the same result.
fn l2update(
    frame: &[u8],
    p: Precision,
    out: &mut Vec<LevelUpdate>,
) -> Option<((usize, usize), Option<u64>)> {
    if let Some(r) = l2update_usual(frame, p, out) {
        return Some(r);
    }
    out.clear();
    l2update_any_order(frame, p, out)
}

/// The layout Coinbase sends, its keys and punctuation matched as whole byte strings:
/// `{"type":"l2update","product_id":"…","changes":[…],"time":"…"}`. `None` for any other
/// layout, which [`l2update_any_order`] then reads (on this one both give the same result).
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

/// [`l2update`] with members in any order and any whitespace.
fn l2update_any_order(
    frame: &[u8],
    p: Precision,
    out: &mut Vec<LevelUpdate>,
) -> Option<((usize, usize), Option<u64>)> {
    let mut c = Cursor::new(frame);
    if c.open_object()? {
        return None;
    }
    let (mut kind, mut product, mut changes, mut time) = (None, None, false, None);
    loop {
        match c.key()? {
            b"type" if kind.is_none() => kind = Some(c.string()?),
            b"product_id" if product.is_none() => product = Some(c.string()?),
            b"changes" if !changes => {
                changes = true;
                level_triples(&mut c, p, out)?;
            }
            b"time" if time.is_none() => {
                let (s, e) = c.string()?;
                time = Some(parse_utc_ns_bytes(&c.bytes()[s..e])?);
            }
            b"type" | b"product_id" | b"changes" | b"time" => return None,
            _ => {
                c.value()?;
            }
        }
        if !c.more(b'}')? {
            break;
        }
    }
    if !c.at_end() || !changes {
        return None;
    }
    let (s, e) = kind?;
    (&frame[s..e] == b"l2update").then_some((product?, time))
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

    /// Every received frame of the real capture: the one-pass path takes every l2update and
    /// nothing else, and both paths give the same result.
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
            let fast = l2update(json, P, &mut lv).is_some();
            let is_update = std::str::from_utf8(json)
                .unwrap()
                .contains(r#""type":"l2update""#);
            assert_eq!(fast, is_update, "frame {frames}");
            taken += usize::from(fast);
            // The usual-layout reading, where it applies, equals the any-order one.
            let (mut lu, mut la) = (Vec::new(), Vec::new());
            let u = l2update_usual(json, P, &mut lu);
            if u.is_some() {
                assert_eq!((u, lu), (l2update_any_order(json, P, &mut la), la));
                usual += 1;
            }
        }
        assert!(taken > 1000, "{taken} of {frames}");
        assert!(usual > 1000, "{usual} of {taken}");
    }

    proptest::proptest! {
        /// Mutated real frames: both paths agree on the result and the levels.
        #[test]
        fn one_pass_path_equals_tape_path_on_mutations(
            edits in proptest::collection::vec((0usize..200, 0u8..16, 0usize..30), 1..4),
        ) {
            const FRAME: &str = r#"{"type":"l2update","product_id":"SKL-BTC","changes":[["sell","0.00001306","660.5"],["buy","0.00001300","0"]],"time":"2021-04-17T16:43:37.075687Z"}"#;
            const PUNCT: &[u8; 16] = b"{}[]\",:0-.e\\ 9ax";
            let mut b = FRAME.as_bytes().to_vec();
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
