//! Coinbase Advanced Trade websocket market data: the `l2_data` channel (`level2`
//! subscription; `snapshot` and `update` events) and `market_trades`, decoded with `simd-json`
//! into typed records with integer prices and sizes, like the Exchange decoder.
//!
//! Messages are `{"channel":..,"timestamp":..,"sequence_num":N,"events":[..]}`; `sequence_num`
//! counts every message on the connection, so a caller detects a gap as a jump in it.
//! `subscriptions` and `heartbeats` channels are [`AdvancedMsg::Control`]. A message's events
//! must all concern one product (what the venue sends for a level2 event; a `market_trades`
//! message mixing products is rejected as a field error, counted by the caller).

use simd_json::prelude::*;

use crate::isotime::parse_utc_ns;
use crate::json::{decimal, LevelUpdate, Precision, TapeParser, V};

/// A decoded message; levels and trades go to the caller's buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdvancedMsg<'a> {
    /// Level changes (`new_quantity` 0 removes a level) or a full book for `product`.
    Level2 {
        /// Product id.
        product: &'a str,
        /// A `snapshot` event (the book is replaced) rather than `update`.
        snapshot: bool,
        /// Connection-wide message sequence number.
        sequence_num: u64,
        /// Message `timestamp`, ns since the epoch.
        time_ns: u64,
    },
    /// Trades for `product` (in the trade buffer).
    Trades {
        /// Product id.
        product: &'a str,
        /// Connection-wide message sequence number.
        sequence_num: u64,
    },
    /// Subscriptions acknowledgements and heartbeats.
    Control {
        /// Connection-wide message sequence number.
        sequence_num: u64,
    },
}

/// One trade from `market_trades`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdvancedTrade {
    /// Price, ticks.
    pub px: i64,
    /// Size, lots.
    pub qty: i64,
    /// `side` was `BUY`.
    pub buy: bool,
}

/// Why a message could not be decoded.
pub type AdvancedError = crate::json::MsgError;

/// The decoder: owns simd-json's buffers and tape, reused for every message.
pub struct AdvancedDecoder {
    parser: TapeParser,
}

impl Default for AdvancedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl AdvancedDecoder {
    /// A decoder with empty buffers.
    pub fn new() -> Self {
        AdvancedDecoder {
            parser: TapeParser::new(),
        }
    }

    /// Decodes one frame (parsed in place); `levels` and `trades` are cleared first.
    ///
    /// # Errors
    /// [`AdvancedError`].
    pub fn decode<'i>(
        &mut self,
        frame: &'i mut [u8],
        p: Precision,
        levels: &mut Vec<LevelUpdate>,
        trades: &mut Vec<AdvancedTrade>,
    ) -> Result<AdvancedMsg<'i>, AdvancedError> {
        self.decode_tape(frame, p, levels, trades)
    }

    /// [`decode`](Self::decode) through simd-json's tape alone, for any frame: what `decode`
    /// falls back to for frames its one-pass path does not take, and what it must agree with
    /// on every frame.
    ///
    /// # Errors
    /// [`AdvancedError`].
    pub fn decode_tape<'i>(
        &mut self,
        frame: &'i mut [u8],
        p: Precision,
        levels: &mut Vec<LevelUpdate>,
        trades: &mut Vec<AdvancedTrade>,
    ) -> Result<AdvancedMsg<'i>, AdvancedError> {
        levels.clear();
        trades.clear();
        self.parser
            .parse(frame, AdvancedError::Json, |v| walk(v, p, levels, trades))
    }
}

fn s<'i>(v: &V<'_, 'i>, key: &'static str) -> Result<&'i str, AdvancedError> {
    v.get(key)
        .and_then(|x| x.into_string())
        .ok_or(AdvancedError::Field(key))
}

fn walk<'i>(
    v: V<'_, 'i>,
    p: Precision,
    levels: &mut Vec<LevelUpdate>,
    trades: &mut Vec<AdvancedTrade>,
) -> Result<AdvancedMsg<'i>, AdvancedError> {
    let channel = s(&v, "channel")?;
    let sequence_num = v
        .get("sequence_num")
        .and_then(|x| x.as_u64())
        .ok_or(AdvancedError::Field("sequence_num"))?;
    match channel {
        "subscriptions" | "heartbeats" => return Ok(AdvancedMsg::Control { sequence_num }),
        "l2_data" | "market_trades" => {}
        _ => return Err(AdvancedError::Unknown),
    }
    let events = v
        .get("events")
        .and_then(|x| x.into_array())
        .ok_or(AdvancedError::Field("events"))?;
    let mut product: Option<&'i str> = None;
    let mut same = |p: &'i str| -> Result<(), AdvancedError> {
        match product {
            Some(q) if q != p => Err(AdvancedError::Field("product_id")),
            _ => {
                product = Some(p);
                Ok(())
            }
        }
    };
    if channel == "l2_data" {
        let time_ns = parse_utc_ns(s(&v, "timestamp")?).ok_or(AdvancedError::Field("timestamp"))?;
        let mut snapshot = None;
        for e in events.iter() {
            let snap = match s(&e, "type")? {
                "snapshot" => true,
                "update" => false,
                _ => return Err(AdvancedError::Unknown),
            };
            if snapshot.is_some_and(|x| x != snap) {
                return Err(AdvancedError::Field("type"));
            }
            snapshot = Some(snap);
            same(s(&e, "product_id")?)?;
            let ups = e
                .get("updates")
                .and_then(|x| x.into_array())
                .ok_or(AdvancedError::Field("updates"))?;
            for u in ups.iter() {
                let bid = match s(&u, "side")? {
                    "bid" => true,
                    "offer" | "ask" => false,
                    _ => return Err(AdvancedError::Field("side")),
                };
                levels.push(LevelUpdate {
                    bid,
                    px: decimal(s(&u, "price_level")?, "price_level", p.px)?,
                    qty: decimal(s(&u, "new_quantity")?, "new_quantity", p.qty)?,
                });
            }
        }
        return Ok(AdvancedMsg::Level2 {
            product: product.ok_or(AdvancedError::Field("events"))?,
            snapshot: snapshot.unwrap_or(false),
            sequence_num,
            time_ns,
        });
    }
    for e in events.iter() {
        match s(&e, "type")? {
            "snapshot" | "update" => {}
            _ => return Err(AdvancedError::Unknown),
        }
        let ts = e
            .get("trades")
            .and_then(|x| x.into_array())
            .ok_or(AdvancedError::Field("trades"))?;
        for t in ts.iter() {
            same(s(&t, "product_id")?)?;
            let buy = match s(&t, "side")? {
                "BUY" => true,
                "SELL" => false,
                _ => return Err(AdvancedError::Field("side")),
            };
            trades.push(AdvancedTrade {
                px: decimal(s(&t, "price")?, "price", p.px)?,
                qty: decimal(s(&t, "size")?, "size", p.qty)?,
                buy,
            });
        }
    }
    Ok(AdvancedMsg::Trades {
        product: product.ok_or(AdvancedError::Field("trades"))?,
        sequence_num,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Precision = Precision { px: 2, qty: 8 };

    fn dec(
        s: &str,
    ) -> (
        Result<String, AdvancedError>,
        Vec<LevelUpdate>,
        Vec<AdvancedTrade>,
    ) {
        let mut d = AdvancedDecoder::new();
        let (mut lv, mut tr) = (Vec::new(), Vec::new());
        let mut b = s.as_bytes().to_vec();
        let r = d
            .decode(&mut b, P, &mut lv, &mut tr)
            .map(|m| format!("{m:?}"));
        (r, lv, tr)
    }

    /// Shapes as Coinbase's Advanced Trade websocket channel docs show them.
    #[test]
    fn documented_shapes() {
        let (r, lv, _) = dec(
            r#"{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.73","new_quantity":"0.06317902"},{"side":"offer","event_time":"1970-01-01T00:00:00Z","price_level":"21921.74","new_quantity":"0.5"}]}]}"#,
        );
        // 2023-02-09T20:32:50Z = 1675974770 s (python's datetime(...).timestamp()).
        assert_eq!(
            r.unwrap(),
            "Level2 { product: \"BTC-USD\", snapshot: true, sequence_num: 0, time_ns: 1675974770714964855 }"
        );
        assert_eq!(
            lv,
            vec![
                LevelUpdate {
                    bid: true,
                    px: 2_192_173,
                    qty: 6_317_902
                },
                LevelUpdate {
                    bid: false,
                    px: 2_192_174,
                    qty: 50_000_000
                },
            ]
        );
        let (r, _, tr) = dec(
            r#"{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":3,"events":[{"type":"snapshot","trades":[{"trade_id":"000000000","product_id":"ETH-USD","price":"1260.01","size":"0.3","side":"BUY","time":"2019-08-14T20:42:27.265Z"}]}]}"#,
        );
        assert_eq!(
            r.unwrap(),
            "Trades { product: \"ETH-USD\", sequence_num: 3 }"
        );
        assert_eq!(
            tr,
            vec![AdvancedTrade {
                px: 126_001,
                qty: 30_000_000,
                buy: true
            }]
        );
        let (r, _, _) = dec(
            r#"{"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z","sequence_num":5,"events":[{"current_time":"2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105","heartbeat_counter":3049}]}"#,
        );
        assert_eq!(r.unwrap(), "Control { sequence_num: 5 }");
        assert_eq!(
            dec(r#"{"channel":"candles","sequence_num":1,"events":[]}"#).0,
            Err(AdvancedError::Unknown)
        );
        assert_eq!(
            dec(r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"up","price_level":"1","new_quantity":"1"}]}]}"#).0,
            Err(AdvancedError::Field("side"))
        );
        assert_eq!(
            dec(r#"{"channel":"market_trades","sequence_num":1,"events":[{"type":"update","trades":[{"product_id":"A","price":"1","size":"1","side":"BUY"},{"product_id":"B","price":"1","size":"1","side":"SELL"}]}]}"#).0,
            Err(AdvancedError::Field("product_id"))
        );
        assert_eq!(dec("{").0, Err(AdvancedError::Json));
    }
}
