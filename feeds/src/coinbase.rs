//! Coinbase Exchange websocket feed messages (`snapshot`, `l2update`, `match`/`last_match`,
//! `ticker`), decoded with `simd-json` into typed records with integer prices and sizes.
//!
//! Like the Binance decoder: the JSON is parsed into simd-json's tape with reused buffers, price
//! levels are converted exactly into the caller's level buffer, nothing is allocated per message
//! once warm, and subscription acknowledgements, heartbeats or unknown types are typed results
//! the caller counts.

use simd_json::prelude::*;

use crate::isotime::parse_utc_ns;
use crate::json::{
    decimal, decimal_field, missing, pair_levels, str_field, u64_field, LevelUpdate, Precision,
    TapeParser, V,
};

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
        self.parser
            .parse(frame, CoinbaseError::Json, |root| walk(root, p, levels))
    }
}

/// The optional `time` field: absent is `None`, present but not an RFC 3339 UTC time is an error.
fn time(v: &V<'_, '_>) -> Result<Option<u64>, CoinbaseError> {
    match v.get("time") {
        None => Ok(None),
        Some(t) => t
            .as_str()
            .and_then(parse_utc_ns)
            .map(Some)
            .ok_or(CoinbaseError::Field("time")),
    }
}

fn walk<'i>(
    v: V<'_, 'i>,
    p: Precision,
    out: &mut Vec<LevelUpdate>,
) -> Result<CoinbaseMsg<'i>, CoinbaseError> {
    match str_field(&v, "type")? {
        "snapshot" => {
            let product = str_field(&v, "product_id")?;
            pair_levels(&v, "bids", true, p, out)?;
            pair_levels(&v, "asks", false, p, out)?;
            Ok(CoinbaseMsg::Snapshot { product })
        }
        "l2update" => {
            let product = str_field(&v, "product_id")?;
            let bad = missing("changes");
            let changes = v.get("changes").and_then(|x| x.into_array()).ok_or(bad)?;
            for c in changes.iter() {
                // ["buy" | "sell", "price", "size"]
                let c = c.into_array().ok_or(bad)?;
                let (Some(side), Some(px), Some(qty)) = (c.get(0), c.get(1), c.get(2)) else {
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
                time_ns: time(&v)?,
            })
        }
        "match" | "last_match" => Ok(CoinbaseMsg::Match {
            product: str_field(&v, "product_id")?,
            trade_id: u64_field(&v, "trade_id")?,
            sequence: u64_field(&v, "sequence")?,
            px: decimal_field(&v, "price", p.px)?,
            qty: decimal_field(&v, "size", p.qty)?,
            maker_sell: match str_field(&v, "side")? {
                "sell" => true,
                "buy" => false,
                _ => return Err(CoinbaseError::Field("side")),
            },
        }),
        "ticker" => Ok(CoinbaseMsg::Ticker {
            product: str_field(&v, "product_id")?,
            sequence: u64_field(&v, "sequence")?,
            best_bid: decimal_field(&v, "best_bid", p.px)?,
            best_ask: decimal_field(&v, "best_ask", p.px)?,
            time_ns: time(&v)?,
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
}
