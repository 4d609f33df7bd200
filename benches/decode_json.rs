//! JSON decode per message type: our simd-json tape decoders (frame copied into a reused buffer,
//! parsed in place, walked into typed records, decimals converted to integers) against the same
//! typed records through `serde_json` (derived `Deserialize` on parallel structs with borrowed
//! strings, then the same exact decimal conversion). One group, so the ratios come from one run.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use serde::Deserialize;
use ticklane_feeds::binance::{BinanceDecoder, BinanceMsg};
use ticklane_feeds::coinbase::CoinbaseDecoder;
use ticklane_feeds::decimal::parse_fixed;
use ticklane_feeds::json::{LevelUpdate, Precision};
use ticklane_feeds::kraken::KrakenDecoder;

const P: Precision = Precision { px: 8, qty: 8 };

/// Real frames from ../shared/data (Binance spot capture, COINBASE.ws.28.0) and Kraken's
/// documented v2 book update shape.
const DEPTH: &str = r#"{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":50093239203,"u":50093239207,"b":[["55653.87000000","0.00000000"]],"a":[["61838.04000000","0.32332000"],["61844.30000000","0.40163000"],["61862.50000000","0.05019000"],["61862.51000000","0.00000000"]]}}"#;
const TRADE: &str = r#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}"#;
const TICKER: &str = r#"{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000","B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}"#;
const CB_L2: &str = r#"{"type":"l2update","product_id":"SKL-BTC","changes":[["sell","0.00001306","660.5"],["buy","0.00001300","0"]],"time":"2021-04-17T16:43:37.075687Z"}"#;
const KR_BOOK: &str = r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":45284.0,"qty":0.5}],"asks":[{"price":45285.2,"qty":0}],"checksum":3682069327,"timestamp":"2023-10-06T17:35:55.440295Z"}]}"#;

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

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode_json");
    g.sample_size(30);
    g.warm_up_time(std::time::Duration::from_millis(500));
    g.measurement_time(std::time::Duration::from_secs(2));
    let mut bd = BinanceDecoder::new();
    let mut cd = CoinbaseDecoder::new();
    let mut kd = KrakenDecoder::new();
    let mut lv = Vec::with_capacity(64);
    let mut tr = Vec::with_capacity(64);
    let mut buf = Vec::with_capacity(4096);
    for (name, frame) in [
        ("binance_depth_300B", DEPTH),
        ("binance_trade", TRADE),
        ("binance_book_ticker", TICKER),
    ] {
        g.bench_function(format!("{name}/simd_json"), |b| {
            b.iter(|| {
                buf.clear();
                buf.extend_from_slice(black_box(frame).as_bytes());
                let m = bd.decode(&mut buf, P, &mut lv).map(|m| match m {
                    BinanceMsg::Depth { last, .. } => last,
                    BinanceMsg::Trade { px, .. } | BinanceMsg::BookTicker { bid: (px, _), .. } => {
                        px as u64
                    }
                    BinanceMsg::Snapshot { last_update_id } => last_update_id,
                });
                black_box((m.ok(), lv.len()))
            })
        });
    }
    g.bench_function("binance_depth_300B/serde_json", |b| {
        b.iter(|| {
            lv.clear();
            let w: Wrapped<SDepth<'_>> = serde_json::from_str(black_box(DEPTH)).unwrap();
            levels(&mut lv, true, &w.data.b);
            levels(&mut lv, false, &w.data.a);
            black_box((
                w.data.s,
                w.data.event_time,
                w.data.first,
                w.data.u,
                lv.len(),
            ))
        })
    });
    g.bench_function("binance_trade/serde_json", |b| {
        b.iter(|| {
            let w: Wrapped<STrade<'_>> = serde_json::from_str(black_box(TRADE)).unwrap();
            let t = w.data;
            black_box((t.s, t.t, fx(t.p), fx(t.q), t.time, t.m))
        })
    });
    g.bench_function("binance_book_ticker/serde_json", |b| {
        b.iter(|| {
            let w: Wrapped<STicker<'_>> = serde_json::from_str(black_box(TICKER)).unwrap();
            let t = w.data;
            black_box((t.u, t.s, fx(t.b), fx(t.bq), fx(t.a), fx(t.aq)))
        })
    });
    g.bench_function("coinbase_l2update/simd_json", |b| {
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(black_box(CB_L2).as_bytes());
            let ok = cd.decode(&mut buf, P, &mut lv).is_ok();
            black_box((ok, lv.len()))
        })
    });
    g.bench_function("coinbase_l2update/serde_json", |b| {
        b.iter(|| {
            lv.clear();
            let m: SCbL2<'_> = serde_json::from_str(black_box(CB_L2)).unwrap();
            for ch in &m.changes {
                lv.push(LevelUpdate {
                    bid: ch[0] == "buy",
                    px: fx(ch[1]),
                    qty: fx(ch[2]),
                });
            }
            black_box((m.kind, m.product_id, lv.len()))
        })
    });
    g.bench_function("kraken_v2_book_update/simd_json", |b| {
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(black_box(KR_BOOK).as_bytes());
            let ok = kd.decode(&mut buf, &mut lv, &mut tr).is_ok();
            black_box((ok, lv.len()))
        })
    });
    g.bench_function("kraken_v2_book_update/serde_json", |b| {
        b.iter(|| {
            lv.clear();
            let m: SKrBook<'_> = serde_json::from_str(black_box(KR_BOOK)).unwrap();
            let d = &m.data[0];
            for (bid, side) in [(true, &d.bids), (false, &d.asks)] {
                for l in side {
                    lv.push(LevelUpdate {
                        bid,
                        px: (l.price * 1e8).round() as i64,
                        qty: (l.qty * 1e8).round() as i64,
                    });
                }
            }
            black_box((m.channel, d.symbol, d.checksum, lv.len()))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
