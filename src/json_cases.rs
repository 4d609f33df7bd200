//! JSON decode cases shared by `benches/decode_json.rs` (criterion) and `ticklane bench json`
//! (one command, ratios printed): each message type decoded by our decoder, by our simd-json
//! tape path alone (what the decoder falls back to), and as the same typed
//! records through `serde_json` (derived `Deserialize` on parallel structs with borrowed
//! strings, then the same exact decimal conversion). Every path returns a digest of the fields
//! it decoded, so a run can first check that all paths read the same values.

use std::hint::black_box;

use serde::Deserialize;
use ticklane_feeds::binance::{BinanceDecoder, BinanceMsg};
use ticklane_feeds::coinbase::{CoinbaseDecoder, CoinbaseMsg};
use ticklane_feeds::decimal::parse_fixed;
use ticklane_feeds::json::{LevelUpdate, Precision};
use ticklane_feeds::kraken::{KrakenDecoder, KrakenMsg, KrakenTrade};

const P: Precision = Precision { px: 8, qty: 8 };

/// Real frames from ../shared/data (Binance spot capture, COINBASE.ws.28.0) and Kraken's
/// documented v2 book update shape.
pub const DEPTH: &str = r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":50093239203,"u":50093239207,"b":[["55653.87000000","0.00000000"]],"a":[["61838.04000000","0.32332000"],["61844.30000000","0.40163000"],["61862.50000000","0.05019000"],["61862.51000000","0.00000000"]]}}"#;
/// A spot trade in the combined-stream wrapper.
pub const TRADE: &str = r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}"#;
/// A spot book ticker in the combined-stream wrapper.
pub const TICKER: &str = r#"{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#;
/// A Coinbase Exchange level-2 update.
pub const CB_L2: &str = r#"{"type":"l2update","product_id":"SKL-BTC","changes":[["sell","0.00001306","660.5"],["buy","0.00001300","0"]],"time":"2021-04-17T16:43:37.075687Z"}"#;
/// A Kraken v2 book update.
pub const KR_BOOK: &str = r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":45284.0,"qty":0.5}],"asks":[{"price":45285.2,"qty":0}],"checksum":3682069327,"timestamp":"2023-10-06T17:35:55.440295Z"}]}"#;

/// Decoders and buffers, kept across iterations as a feed handler keeps them.
pub struct Decoders {
    bd: BinanceDecoder,
    cd: CoinbaseDecoder,
    kd: KrakenDecoder,
    lv: Vec<LevelUpdate>,
    tr: Vec<KrakenTrade>,
    buf: Vec<u8>,
}

impl Default for Decoders {
    fn default() -> Self {
        Decoders {
            bd: BinanceDecoder::new(),
            cd: CoinbaseDecoder::new(),
            kd: KrakenDecoder::new(),
            lv: Vec::with_capacity(64),
            tr: Vec::with_capacity(64),
            buf: Vec::with_capacity(4096),
        }
    }
}

/// One way of decoding one frame into its typed record; returns a digest of the fields.
pub type DecodeFn = fn(&mut Decoders, &str) -> u64;

/// A message type and its decode paths.
pub struct Case {
    /// Group name, e.g. `binance_depth_300B`.
    pub name: &'static str,
    /// The frame.
    pub frame: &'static str,
    /// Our decoder, as the replay uses it.
    pub ours: DecodeFn,
    /// Our simd-json tape path alone, when `ours` has a faster path in front of it.
    pub tape: Option<DecodeFn>,
    /// The same records through serde_json.
    pub serde: DecodeFn,
}

/// Every case, in report order.
pub const CASES: [Case; 5] = [
    Case {
        name: "binance_depth_300B",
        frame: DEPTH,
        ours: |d, f| binance(d, f, false),
        tape: Some(|d, f| binance(d, f, true)),
        serde: serde_depth,
    },
    Case {
        name: "binance_trade",
        frame: TRADE,
        ours: |d, f| binance(d, f, false),
        tape: Some(|d, f| binance(d, f, true)),
        serde: serde_trade,
    },
    Case {
        name: "binance_book_ticker",
        frame: TICKER,
        ours: |d, f| binance(d, f, false),
        tape: Some(|d, f| binance(d, f, true)),
        serde: serde_ticker,
    },
    Case {
        name: "coinbase_l2update",
        frame: CB_L2,
        ours: |d, f| coinbase(d, f, false),
        tape: Some(|d, f| coinbase(d, f, true)),
        serde: serde_coinbase,
    },
    Case {
        name: "kraken_v2_book_update",
        frame: KR_BOOK,
        ours: |d, f| kraken(d, f, false),
        tape: Some(|d, f| kraken(d, f, true)),
        serde: serde_kraken,
    },
];

/// A digest of numbers (order-sensitive), so paths can be compared field for field.
fn mix(acc: u64, x: u64) -> u64 {
    (acc ^ x).wrapping_mul(0x100_0000_01b3)
}

fn str_digest(s: &str) -> u64 {
    s.bytes()
        .fold(0xcbf2_9ce4_8422_2325, |a, b| mix(a, u64::from(b)))
}

fn levels_digest(acc: u64, lv: &[LevelUpdate]) -> u64 {
    lv.iter().fold(acc, |a, l| {
        mix(mix(mix(a, u64::from(l.bid)), l.px as u64), l.qty as u64)
    })
}

fn binance(d: &mut Decoders, frame: &str, tape: bool) -> u64 {
    d.buf.clear();
    d.buf.extend_from_slice(black_box(frame).as_bytes());
    let m = if tape {
        d.bd.decode_tape(&mut d.buf, P, &mut d.lv)
    } else {
        d.bd.decode(&mut d.buf, P, &mut d.lv)
    };
    let h = match m {
        Ok(BinanceMsg::Depth {
            symbol,
            event_time,
            first,
            last,
            ..
        }) => mix(mix(mix(str_digest(symbol), event_time), first), last),
        Ok(BinanceMsg::Trade {
            symbol,
            id,
            time,
            px,
            qty,
            buyer_maker,
            ..
        }) => [id, px as u64, qty as u64, time, u64::from(buyer_maker)]
            .into_iter()
            .fold(str_digest(symbol), mix),
        Ok(BinanceMsg::BookTicker {
            symbol,
            update_id,
            bid,
            ask,
        }) => [
            update_id,
            bid.0 as u64,
            bid.1 as u64,
            ask.0 as u64,
            ask.1 as u64,
        ]
        .into_iter()
        .fold(str_digest(symbol), mix),
        Ok(BinanceMsg::Snapshot { last_update_id }) => last_update_id,
        Err(_) => 0,
    };
    levels_digest(h, &d.lv)
}

fn coinbase(d: &mut Decoders, frame: &str, tape: bool) -> u64 {
    d.buf.clear();
    d.buf.extend_from_slice(black_box(frame).as_bytes());
    let m = if tape {
        d.cd.decode_tape(&mut d.buf, P, &mut d.lv)
    } else {
        d.cd.decode(&mut d.buf, P, &mut d.lv)
    };
    let h = match m {
        Ok(CoinbaseMsg::L2Update { product, .. }) => str_digest(product),
        _ => 0,
    };
    levels_digest(h, &d.lv)
}

fn kraken(d: &mut Decoders, frame: &str, tape: bool) -> u64 {
    d.buf.clear();
    d.buf.extend_from_slice(black_box(frame).as_bytes());
    let m = if tape {
        d.kd.decode_tape(&mut d.buf, &mut d.lv, &mut d.tr)
    } else {
        d.kd.decode(&mut d.buf, &mut d.lv, &mut d.tr)
    };
    let h = match m {
        Ok(KrakenMsg::Book {
            symbol, checksum, ..
        }) => mix(str_digest(symbol), u64::from(checksum.unwrap_or(0))),
        _ => 0,
    };
    levels_digest(h, &d.lv)
}

#[derive(Deserialize)]
struct Wrapped<T> {
    #[allow(dead_code)] // read by serde, as the wrapper demands; not needed after
    stream: String,
    data: T,
}

#[derive(Deserialize)]
struct SDepth<'a> {
    #[serde(borrow)]
    s: &'a str,
    #[serde(rename = "E")]
    event_time: u64,
    #[serde(rename = "U")]
    first: u64,
    u: u64,
    #[serde(borrow)]
    b: Vec<[&'a str; 2]>,
    #[serde(borrow)]
    a: Vec<[&'a str; 2]>,
}

#[derive(Deserialize)]
struct STrade<'a> {
    s: &'a str,
    t: u64,
    p: &'a str,
    q: &'a str,
    #[serde(rename = "T")]
    time: u64,
    m: bool,
}

#[derive(Deserialize)]
struct STicker<'a> {
    u: u64,
    s: &'a str,
    b: &'a str,
    #[serde(rename = "B")]
    bq: &'a str,
    a: &'a str,
    #[serde(rename = "A")]
    aq: &'a str,
}

#[derive(Deserialize)]
struct SCbL2<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    product_id: &'a str,
    #[serde(borrow)]
    changes: Vec<[&'a str; 3]>,
}

#[derive(Deserialize)]
struct SKrLevel {
    price: f64,
    qty: f64,
}

#[derive(Deserialize)]
struct SKrData<'a> {
    symbol: &'a str,
    bids: Vec<SKrLevel>,
    asks: Vec<SKrLevel>,
    checksum: u32,
}

#[derive(Deserialize)]
struct SKrBook<'a> {
    #[serde(borrow)]
    channel: &'a str,
    #[serde(borrow)]
    data: Vec<SKrData<'a>>,
}

fn fx(s: &str) -> i64 {
    parse_fixed(s.as_bytes(), 8).unwrap_or(0)
}

fn levels(out: &mut Vec<LevelUpdate>, bid: bool, v: &[[&str; 2]]) {
    for l in v {
        out.push(LevelUpdate {
            bid,
            px: fx(l[0]),
            qty: fx(l[1]),
        });
    }
}

fn serde_depth(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(w) = serde_json::from_str::<Wrapped<SDepth<'_>>>(black_box(frame)) else {
        return 0;
    };
    levels(&mut d.lv, true, &w.data.b);
    levels(&mut d.lv, false, &w.data.a);
    let t = w.data;
    let h = mix(mix(mix(str_digest(t.s), t.event_time), t.first), t.u);
    levels_digest(h, &d.lv)
}

fn serde_trade(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(w) = serde_json::from_str::<Wrapped<STrade<'_>>>(black_box(frame)) else {
        return 0;
    };
    let t = w.data;
    [t.t, fx(t.p) as u64, fx(t.q) as u64, t.time, u64::from(t.m)]
        .into_iter()
        .fold(str_digest(t.s), mix)
}

fn serde_ticker(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(w) = serde_json::from_str::<Wrapped<STicker<'_>>>(black_box(frame)) else {
        return 0;
    };
    let t = w.data;
    [
        t.u,
        fx(t.b) as u64,
        fx(t.bq) as u64,
        fx(t.a) as u64,
        fx(t.aq) as u64,
    ]
    .into_iter()
    .fold(str_digest(t.s), mix)
}

fn serde_coinbase(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(m) = serde_json::from_str::<SCbL2<'_>>(black_box(frame)) else {
        return 0;
    };
    if m.kind != "l2update" {
        return 0;
    }
    for ch in &m.changes {
        d.lv.push(LevelUpdate {
            bid: ch[0] == "buy",
            px: fx(ch[1]),
            qty: fx(ch[2]),
        });
    }
    levels_digest(str_digest(m.product_id), &d.lv)
}

fn serde_kraken(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(m) = serde_json::from_str::<SKrBook<'_>>(black_box(frame)) else {
        return 0;
    };
    let Some(k) = m.data.first().filter(|_| m.channel == "book") else {
        return 0;
    };
    for (bid, side) in [(true, &k.bids), (false, &k.asks)] {
        for l in side {
            d.lv.push(LevelUpdate {
                bid,
                px: (l.price * 1e8).round() as i64,
                qty: (l.qty * 1e8).round() as i64,
            });
        }
    }
    levels_digest(mix(str_digest(k.symbol), u64::from(k.checksum)), &d.lv)
}
