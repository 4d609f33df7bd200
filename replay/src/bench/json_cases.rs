//! JSON decode cases shared by `benches/decode_json.rs` (criterion) and `ticklane bench json`
//! ([`super::json`]: one command, ratios printed): each message type decoded by our decoder, by our simd-json
//! tape path alone (what the decoder falls back to), and as the same typed
//! records through `serde_json` (derived `Deserialize` on parallel structs with borrowed
//! strings, then the same exact decimal conversion). Every path returns a digest of the fields
//! it decoded, so a run can first check that all paths read the same values.

use std::hint::black_box;

use serde::Deserialize;
use ticklane_feeds::binance::{BinanceDecoder, BinanceMsg};
use ticklane_feeds::coinbase::{CoinbaseDecoder, CoinbaseMsg};
use ticklane_feeds::coinbase_advanced::{AdvancedDecoder, AdvancedMsg, AdvancedTrade};
use ticklane_feeds::decimal::parse_fixed;
use ticklane_feeds::json::{LevelUpdate, Precision};
use ticklane_feeds::kraken::{KrakenDecoder, KrakenMsg, KrakenTrade};

const P: Precision = Precision { px: 8, qty: 8 };

/// Real frames from ../shared/data unless a comment says otherwise: the Binance spot and
/// USD-M captures and cryptofeed's BINANCE*, COINBASE.ws.28.0 files; shapes the data lacks are
/// the venues' documented examples. The larger frames live in `data/json/`.
pub const DEPTH: &str = r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":50093239203,"u":50093239207,"b":[["55653.87000000","0.00000000"]],"a":[["61838.04000000","0.32332000"],["61844.30000000","0.40163000"],["61862.50000000","0.05019000"],["61862.51000000","0.00000000"]]}}"#;
/// A USD-M futures diff depth update (`T`, `pu`), usdm_btcusdt_20240808. Futures partial depth
/// streams send this same depthUpdate shape.
pub const FUT_DEPTH: &str = r#"{"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1723161292018,"T":1723161292007,"s":"BTCUSDT","U":5123110691500,"u":5123110692581,"pu":5123110691288,"b":[["5000.00","2.301"],["33000.00","5.203"],["61763.10","0.092"],["61807.70","0.075"]],"a":[["61858.10","14.960"],["61858.40","0.030"]]}}"#;
/// A spot partial depth frame (`<symbol>@depth5@100ms`): the data has none, so this is the
/// documented shape (`{"lastUpdateId":..,"bids":..,"asks":..}` in the combined-stream
/// wrapper) holding the top five levels of the real NKNUSDT REST snapshot in BINANCE.http.0.0.
pub const PARTIAL_DEPTH: &str = r#"{"stream":"nknusdt@depth5@100ms","data":{"lastUpdateId":499869752,"bids":[["0.35210000","672.00000000"],["0.35200000","1144.00000000"],["0.35190000","3260.00000000"],["0.35180000","3052.00000000"],["0.35160000","15356.00000000"]],"asks":[["0.35250000","3959.00000000"],["0.35260000","3199.00000000"],["0.35270000","4201.00000000"],["0.35280000","703.00000000"],["0.35290000","6718.00000000"]]}}"#;
/// The real NKNUSDT REST depth snapshot of BINANCE.http.0.0 (`limit=1000`), trimmed to its
/// first 100 levels per side.
pub const REST_DEPTH: &str = include_str!("../../../data/json/binance_rest_depth_nknusdt_100.json");
/// A spot trade in the combined-stream wrapper.
pub const TRADE: &str = r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}"#;
/// A spot aggregate trade, BINANCE.ws.1.0.
pub const AGG_TRADE: &str = r#"{"stream":"nknusdt@aggTrade","data":{"e":"aggTrade","E":1633998523963,"s":"NKNUSDT","a":15683430,"p":"0.35280000","q":"58.00000000","f":19862790,"l":19862790,"T":1633998523963,"m":false,"M":true}}"#;
/// A spot book ticker in the combined-stream wrapper.
pub const TICKER: &str = r#"{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#;
/// A Coinbase Exchange level-2 snapshot as received (BAND-GBP, 166 asks and 152 bids).
pub const CB_SNAPSHOT: &str = include_str!("../../../data/json/coinbase_snapshot_band-gbp.json");
/// A Coinbase Exchange level-2 update.
pub const CB_L2: &str = r#"{"type":"l2update","product_id":"SKL-BTC","changes":[["sell","0.00001306","660.5"],["buy","0.00001300","0"]],"time":"2021-04-17T16:43:37.075687Z"}"#;
/// A Coinbase Exchange match.
pub const CB_MATCH: &str = r#"{"type":"match","trade_id":280232,"maker_order_id":"2a0da34e-61f7-4c36-88e5-c9dd15927b16","taker_order_id":"3c82abaa-c01e-4608-be59-6a1e69742891","side":"sell","size":"985","price":"0.00001305","product_id":"SKL-BTC","sequence":177100030,"time":"2021-04-17T16:43:37.089723Z"}"#;
/// A Coinbase Exchange ticker.
pub const CB_TICKER: &str = r#"{"type":"ticker","sequence":333938798,"product_id":"BAND-GBP","price":"14.7775","open_24h":"14.6647","volume_24h":"94381.28000000","low_24h":"14.3691","high_24h":"16.55","volume_30d":"2295579.57000000","best_bid":"14.7550","best_ask":"14.8060","side":"buy","time":"2021-04-17T16:43:30.244075Z","trade_id":881613,"last_size":"0.04"}"#;
/// A Coinbase Advanced Trade `l2_data` update: the data has none, so this is the documented
/// message shape as an `update` event with two levels, the documentation's example bid and an
/// offer one tick above it.
pub const ADV_UPDATE: &str = r#"{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"2023-02-09T20:32:50.714964855Z","price_level":"21921.73","new_quantity":"0.06317902"},{"side":"offer","event_time":"2023-02-09T20:32:50.714964855Z","price_level":"21921.74","new_quantity":"0.5"}]}]}"#;
/// A Coinbase Advanced Trade `l2_data` snapshot in the documented shape, holding the first 100
/// bids and 100 asks of the real Coinbase Exchange BAND-GBP snapshot above.
pub const ADV_SNAPSHOT: &str =
    include_str!("../../../data/json/coinbase_advanced_snapshot_band-gbp_200.json");
/// A Coinbase Advanced Trade `market_trades` message: the documented shape and values.
pub const ADV_TRADES: &str = r#"{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":0,"events":[{"type":"snapshot","trades":[{"trade_id":"000000000","product_id":"ETH-USD","price":"1260.01","size":"0.3","side":"BUY","time":"2019-08-14T20:42:27.265Z"}]}]}"#;
/// A Kraken v2 book snapshot: the documented example (its 10 bids and the first 4 asks the
/// documentation shows).
pub const KR_SNAPSHOT: &str = r#"{"channel":"book","type":"snapshot","data":[{"symbol":"MATIC/USD","bids":[{"price":0.5666,"qty":4831.75496356},{"price":0.5665,"qty":6658.22734739},{"price":0.5664,"qty":18724.91513344},{"price":0.5663,"qty":11563.92544914},{"price":0.5662,"qty":14006.65365711},{"price":0.5661,"qty":17454.85679807},{"price":0.566,"qty":18097.1547},{"price":0.5659,"qty":33644.89175666},{"price":0.5658,"qty":148.3464},{"price":0.5657,"qty":606.70854372}],"asks":[{"price":0.5668,"qty":4410.79769741},{"price":0.5669,"qty":4655.40412487},{"price":0.567,"qty":49844.89424998},{"price":0.5671,"qty":24306.41678}],"checksum":2439117997}]}"#;
/// A Kraken v2 book update (documented shape).
pub const KR_BOOK: &str = r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":45284.0,"qty":0.5}],"asks":[{"price":45285.2,"qty":0}],"checksum":3682069327,"timestamp":"2023-10-06T17:35:55.440295Z"}]}"#;

/// Decoders and buffers, kept across iterations as a feed handler keeps them.
pub struct Decoders {
    bd: BinanceDecoder,
    cd: CoinbaseDecoder,
    kd: KrakenDecoder,
    ad: AdvancedDecoder,
    lv: Vec<LevelUpdate>,
    tr: Vec<KrakenTrade>,
    at: Vec<AdvancedTrade>,
    buf: Vec<u8>,
}

impl Default for Decoders {
    fn default() -> Self {
        Decoders {
            bd: BinanceDecoder::new(),
            cd: CoinbaseDecoder::new(),
            kd: KrakenDecoder::new(),
            ad: AdvancedDecoder::new(),
            lv: Vec::with_capacity(1024),
            tr: Vec::with_capacity(64),
            at: Vec::with_capacity(64),
            buf: Vec::with_capacity(32 * 1024),
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
pub const CASES: [Case; 16] = [
    Case {
        name: "binance_depth_300B",
        frame: DEPTH,
        ours: |d, f| binance(d, f, false),
        tape: Some(|d, f| binance(d, f, true)),
        serde: serde_depth,
    },
    Case {
        name: "binance_futures_depth",
        frame: FUT_DEPTH,
        ours: |d, f| binance(d, f, false),
        tape: Some(|d, f| binance(d, f, true)),
        serde: serde_depth,
    },
    Case {
        name: "binance_partial_depth5",
        frame: PARTIAL_DEPTH,
        ours: |d, f| binance(d, f, false),
        tape: Some(|d, f| binance(d, f, true)),
        serde: serde_partial_depth,
    },
    Case {
        name: "binance_rest_depth_100x2",
        frame: REST_DEPTH,
        ours: |d, f| binance(d, f, false),
        tape: Some(|d, f| binance(d, f, true)),
        serde: serde_rest_depth,
    },
    Case {
        name: "binance_trade",
        frame: TRADE,
        ours: |d, f| binance(d, f, false),
        tape: Some(|d, f| binance(d, f, true)),
        serde: serde_trade,
    },
    Case {
        name: "binance_agg_trade",
        frame: AGG_TRADE,
        ours: |d, f| binance(d, f, false),
        tape: Some(|d, f| binance(d, f, true)),
        serde: serde_agg_trade,
    },
    Case {
        name: "binance_book_ticker",
        frame: TICKER,
        ours: |d, f| binance(d, f, false),
        tape: Some(|d, f| binance(d, f, true)),
        serde: serde_ticker,
    },
    Case {
        name: "coinbase_snapshot_318lv",
        frame: CB_SNAPSHOT,
        ours: |d, f| coinbase(d, f, false),
        tape: Some(|d, f| coinbase(d, f, true)),
        serde: serde_cb_snapshot,
    },
    Case {
        name: "coinbase_l2update",
        frame: CB_L2,
        ours: |d, f| coinbase(d, f, false),
        tape: Some(|d, f| coinbase(d, f, true)),
        serde: serde_coinbase,
    },
    Case {
        name: "coinbase_match",
        frame: CB_MATCH,
        ours: |d, f| coinbase(d, f, false),
        tape: Some(|d, f| coinbase(d, f, true)),
        serde: serde_cb_match,
    },
    Case {
        name: "coinbase_ticker",
        frame: CB_TICKER,
        ours: |d, f| coinbase(d, f, false),
        tape: Some(|d, f| coinbase(d, f, true)),
        serde: serde_cb_ticker,
    },
    Case {
        name: "cb_adv_l2_update",
        frame: ADV_UPDATE,
        ours: |d, f| advanced(d, f, false),
        tape: Some(|d, f| advanced(d, f, true)),
        serde: serde_adv_l2,
    },
    Case {
        name: "cb_adv_l2_snapshot_200lv",
        frame: ADV_SNAPSHOT,
        ours: |d, f| advanced(d, f, false),
        tape: Some(|d, f| advanced(d, f, true)),
        serde: serde_adv_l2,
    },
    Case {
        name: "cb_adv_market_trades",
        frame: ADV_TRADES,
        ours: |d, f| advanced(d, f, false),
        tape: Some(|d, f| advanced(d, f, true)),
        serde: serde_adv_trades,
    },
    Case {
        name: "kraken_v2_book_snapshot",
        frame: KR_SNAPSHOT,
        ours: |d, f| kraken(d, f, false),
        tape: Some(|d, f| kraken(d, f, true)),
        serde: serde_kraken,
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
            prev,
        }) => [event_time, first, last, prev.unwrap_or(0)]
            .into_iter()
            .fold(str_digest(symbol), mix),
        Ok(BinanceMsg::Trade {
            symbol,
            id,
            time,
            px,
            qty,
            buyer_maker,
            aggregate,
        }) => [
            id,
            px as u64,
            qty as u64,
            time,
            u64::from(buyer_maker),
            u64::from(aggregate),
        ]
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
        Ok(CoinbaseMsg::Snapshot { product }) => mix(str_digest(product), 1),
        Ok(CoinbaseMsg::Match {
            product,
            trade_id,
            sequence,
            px,
            qty,
            maker_sell,
        }) => [
            trade_id,
            sequence,
            px as u64,
            qty as u64,
            u64::from(maker_sell),
        ]
        .into_iter()
        .fold(str_digest(product), mix),
        Ok(CoinbaseMsg::Ticker {
            product,
            sequence,
            best_bid,
            best_ask,
            ..
        }) => [sequence, best_bid as u64, best_ask as u64]
            .into_iter()
            .fold(str_digest(product), mix),
        _ => 0,
    };
    levels_digest(h, &d.lv)
}

fn advanced(d: &mut Decoders, frame: &str, tape: bool) -> u64 {
    d.buf.clear();
    d.buf.extend_from_slice(black_box(frame).as_bytes());
    let m = if tape {
        d.ad.decode_tape(&mut d.buf, P, &mut d.lv, &mut d.at)
    } else {
        d.ad.decode(&mut d.buf, P, &mut d.lv, &mut d.at)
    };
    let h = match m {
        Ok(AdvancedMsg::Level2 {
            product,
            snapshot,
            sequence_num,
            ..
        }) => mix(mix(str_digest(product), u64::from(snapshot)), sequence_num),
        Ok(AdvancedMsg::Trades {
            product,
            snapshot,
            sequence_num,
        }) => d.at.iter().fold(
            mix(mix(str_digest(product), u64::from(snapshot)), sequence_num),
            |a, t| mix(mix(mix(a, t.px as u64), t.qty as u64), u64::from(t.buy)),
        ),
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
            symbol,
            snapshot,
            checksum,
            ..
        }) => mix(
            mix(str_digest(symbol), u64::from(snapshot)),
            u64::from(checksum.unwrap_or(0)),
        ),
        _ => 0,
    };
    levels_digest(h, &d.lv)
}

#[derive(Deserialize)]
struct Wrapped<'a, T> {
    #[allow(dead_code)] // read by serde, as the wrapper demands; not needed after
    stream: &'a str,
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
    pu: Option<u64>,
    #[serde(borrow)]
    b: Vec<[&'a str; 2]>,
    #[serde(borrow)]
    a: Vec<[&'a str; 2]>,
}

#[derive(Deserialize)]
struct SSnapshot<'a> {
    #[serde(rename = "lastUpdateId")]
    last_update_id: u64,
    #[serde(borrow)]
    bids: Vec<[&'a str; 2]>,
    #[serde(borrow)]
    asks: Vec<[&'a str; 2]>,
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
struct SAggTrade<'a> {
    s: &'a str,
    a: u64,
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
struct SCbSnapshot<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    product_id: &'a str,
    #[serde(borrow)]
    bids: Vec<[&'a str; 2]>,
    #[serde(borrow)]
    asks: Vec<[&'a str; 2]>,
}

#[derive(Deserialize)]
struct SCbMatch<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    product_id: &'a str,
    trade_id: u64,
    sequence: u64,
    price: &'a str,
    size: &'a str,
    side: &'a str,
}

#[derive(Deserialize)]
struct SCbTicker<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    product_id: &'a str,
    sequence: u64,
    best_bid: &'a str,
    best_ask: &'a str,
}

#[derive(Deserialize)]
struct SAdvLevel<'a> {
    side: &'a str,
    price_level: &'a str,
    new_quantity: &'a str,
}

#[derive(Deserialize)]
struct SAdvL2Event<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    product_id: &'a str,
    #[serde(borrow)]
    updates: Vec<SAdvLevel<'a>>,
}

#[derive(Deserialize)]
struct SAdvTrade<'a> {
    product_id: &'a str,
    price: &'a str,
    size: &'a str,
    side: &'a str,
}

#[derive(Deserialize)]
struct SAdvTradesEvent<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow)]
    trades: Vec<SAdvTrade<'a>>,
}

#[derive(Deserialize)]
struct SAdv<'a, E> {
    channel: &'a str,
    sequence_num: u64,
    events: Vec<E>,
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
    #[serde(rename = "type")]
    kind: &'a str,
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
    let Ok(w) = serde_json::from_str::<Wrapped<'_, SDepth<'_>>>(black_box(frame)) else {
        return 0;
    };
    levels(&mut d.lv, true, &w.data.b);
    levels(&mut d.lv, false, &w.data.a);
    let t = w.data;
    let h = [t.event_time, t.first, t.u, t.pu.unwrap_or(0)]
        .into_iter()
        .fold(str_digest(t.s), mix);
    levels_digest(h, &d.lv)
}

fn snapshot_digest(d: &mut Decoders, t: &SSnapshot<'_>) -> u64 {
    levels(&mut d.lv, true, &t.bids);
    levels(&mut d.lv, false, &t.asks);
    levels_digest(t.last_update_id, &d.lv)
}

fn serde_partial_depth(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(w) = serde_json::from_str::<Wrapped<'_, SSnapshot<'_>>>(black_box(frame)) else {
        return 0;
    };
    snapshot_digest(d, &w.data)
}

fn serde_rest_depth(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(t) = serde_json::from_str::<SSnapshot<'_>>(black_box(frame)) else {
        return 0;
    };
    snapshot_digest(d, &t)
}

fn serde_trade(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(w) = serde_json::from_str::<Wrapped<'_, STrade<'_>>>(black_box(frame)) else {
        return 0;
    };
    let t = w.data;
    [
        t.t,
        fx(t.p) as u64,
        fx(t.q) as u64,
        t.time,
        u64::from(t.m),
        0,
    ]
    .into_iter()
    .fold(str_digest(t.s), mix)
}

fn serde_agg_trade(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(w) = serde_json::from_str::<Wrapped<'_, SAggTrade<'_>>>(black_box(frame)) else {
        return 0;
    };
    let t = w.data;
    [
        t.a,
        fx(t.p) as u64,
        fx(t.q) as u64,
        t.time,
        u64::from(t.m),
        1,
    ]
    .into_iter()
    .fold(str_digest(t.s), mix)
}

fn serde_ticker(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(w) = serde_json::from_str::<Wrapped<'_, STicker<'_>>>(black_box(frame)) else {
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

fn serde_cb_snapshot(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(m) = serde_json::from_str::<SCbSnapshot<'_>>(black_box(frame)) else {
        return 0;
    };
    if m.kind != "snapshot" {
        return 0;
    }
    levels(&mut d.lv, true, &m.bids);
    levels(&mut d.lv, false, &m.asks);
    levels_digest(mix(str_digest(m.product_id), 1), &d.lv)
}

fn serde_cb_match(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(m) = serde_json::from_str::<SCbMatch<'_>>(black_box(frame)) else {
        return 0;
    };
    if m.kind != "match" && m.kind != "last_match" {
        return 0;
    }
    [
        m.trade_id,
        m.sequence,
        fx(m.price) as u64,
        fx(m.size) as u64,
        u64::from(m.side == "sell"),
    ]
    .into_iter()
    .fold(str_digest(m.product_id), mix)
}

fn serde_cb_ticker(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(m) = serde_json::from_str::<SCbTicker<'_>>(black_box(frame)) else {
        return 0;
    };
    if m.kind != "ticker" {
        return 0;
    }
    [m.sequence, fx(m.best_bid) as u64, fx(m.best_ask) as u64]
        .into_iter()
        .fold(str_digest(m.product_id), mix)
}

fn serde_adv_l2(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(m) = serde_json::from_str::<SAdv<'_, SAdvL2Event<'_>>>(black_box(frame)) else {
        return 0;
    };
    let Some(e) = m.events.first().filter(|_| m.channel == "l2_data") else {
        return 0;
    };
    for u in &e.updates {
        d.lv.push(LevelUpdate {
            bid: u.side == "bid",
            px: fx(u.price_level),
            qty: fx(u.new_quantity),
        });
    }
    let h = mix(
        mix(str_digest(e.product_id), u64::from(e.kind == "snapshot")),
        m.sequence_num,
    );
    levels_digest(h, &d.lv)
}

fn serde_adv_trades(d: &mut Decoders, frame: &str) -> u64 {
    d.lv.clear();
    let Ok(m) = serde_json::from_str::<SAdv<'_, SAdvTradesEvent<'_>>>(black_box(frame)) else {
        return 0;
    };
    let Some((e0, t0)) = m
        .events
        .first()
        .and_then(|e| Some((e, e.trades.first()?)))
        .filter(|_| m.channel == "market_trades")
    else {
        return 0;
    };
    let snapshot = u64::from(e0.kind == "snapshot");
    let mut h = mix(mix(str_digest(t0.product_id), snapshot), m.sequence_num);
    for t in m.events.iter().flat_map(|e| &e.trades) {
        h = mix(
            mix(mix(h, fx(t.price) as u64), fx(t.size) as u64),
            u64::from(t.side == "BUY"),
        );
    }
    h
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
    let h = mix(
        mix(str_digest(k.symbol), u64::from(m.kind == "snapshot")),
        u64::from(k.checksum),
    );
    levels_digest(h, &d.lv)
}
