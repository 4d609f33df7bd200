//! Binance spot and USD-M futures market-data messages, decoded with `simd-json` into typed
//! records with integer prices and quantities.
//!
//! Messages: diff depth (`depthUpdate`, with `U`/`u`, and `pu` on futures), partial depth
//! (`lastUpdateId` with `bids`/`asks`, which is also the REST depth snapshot's shape), `trade`,
//! `aggTrade` and `bookTicker`, bare or inside the combined-stream wrapper
//! `{"stream": .., "data": ..}`.
//!
//! The JSON is parsed into simd-json's tape (no value tree), walked into [`BinanceMsg`], and
//! price levels are converted exactly from decimal strings into the caller's reusable level
//! buffer. The decoder keeps its parse buffers between messages, so once warm it allocates
//! nothing. Unknown message types and malformed JSON are typed errors the caller counts.

use simd_json::prelude::*;

use crate::decimal::DecimalError;
use crate::json::{decimal_field, pair_levels, str_field, u64_field, FieldError, TapeParser, V};
pub use crate::json::{LevelUpdate, Precision};

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
        self.parser
            .parse(frame, BinanceError::Json, |root| walk(root, p, levels_out))
    }
}

fn walk<'i>(
    root: V<'_, 'i>,
    p: Precision,
    out: &mut Vec<LevelUpdate>,
) -> Result<BinanceMsg<'i>, BinanceError> {
    // Combined-stream wrapper.
    let v = match root.get("data") {
        Some(d) if root.get("stream").is_some() => d,
        _ => root,
    };
    if v.get("lastUpdateId").is_some() {
        let last_update_id = u64_field(&v, "lastUpdateId")?;
        pair_levels(&v, "bids", true, p, out)?;
        pair_levels(&v, "asks", false, p, out)?;
        return Ok(BinanceMsg::Snapshot { last_update_id });
    }
    let event = v.get("e").and_then(|x| x.into_string());
    match event {
        Some("depthUpdate") => {
            let msg = BinanceMsg::Depth {
                symbol: str_field(&v, "s")?,
                event_time: u64_field(&v, "E")?,
                first: u64_field(&v, "U")?,
                last: u64_field(&v, "u")?,
                prev: v.get("pu").and_then(|x| x.as_u64()),
            };
            pair_levels(&v, "b", true, p, out)?;
            pair_levels(&v, "a", false, p, out)?;
            Ok(msg)
        }
        Some(e @ ("trade" | "aggTrade")) => {
            let aggregate = e == "aggTrade";
            Ok(BinanceMsg::Trade {
                symbol: str_field(&v, "s")?,
                id: u64_field(&v, if aggregate { "a" } else { "t" })?,
                time: u64_field(&v, "T")?,
                px: decimal_field(&v, "p", p.px)?,
                qty: decimal_field(&v, "q", p.qty)?,
                buyer_maker: v
                    .get("m")
                    .and_then(|x| x.as_bool())
                    .ok_or(BinanceError::Field("m"))?,
                aggregate,
            })
        }
        // bookTicker has no "e" on spot; futures sends "e":"bookTicker".
        None | Some("bookTicker") if v.get("b").is_some_and(|b| b.as_str().is_some()) => {
            Ok(BinanceMsg::BookTicker {
                symbol: str_field(&v, "s")?,
                update_id: u64_field(&v, "u")?,
                bid: (
                    decimal_field(&v, "b", p.px)?,
                    decimal_field(&v, "B", p.qty)?,
                ),
                ask: (
                    decimal_field(&v, "a", p.px)?,
                    decimal_field(&v, "A", p.qty)?,
                ),
            })
        }
        _ => Err(BinanceError::Unknown),
    }
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
}
