//! The Coinbase (Exchange and Advanced Trade) and Kraken decoders and Kraken's checksum
//! allocate nothing per message once their buffers have grown: a counting global allocator
//! watches them decode the real Coinbase capture and Kraken and Advanced Trade frames a second
//! time. (Its own test binary: the counter is process-wide.)

use std::sync::atomic::Ordering;

use ticklane_feeds::json::Precision;

// The counting allocator the replay crate's no-allocation tests use.
#[allow(dead_code)] // its progress-callback probe is for the replay tests
#[path = "../../replay/tests/common/mod.rs"]
mod common;

#[global_allocator]
static GLOBAL: common::Counting = common::Counting;

#[test]
fn warm_coinbase_and_kraken_decoders_do_not_allocate() {
    use ticklane_feeds::coinbase::CoinbaseDecoder;
    use ticklane_feeds::cryptofeed::{parse_line, Line};
    use ticklane_feeds::kraken::{book_checksum, KrakenDecoder};
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/cryptofeed/COINBASE.ws.28.0"
    );
    let text = std::fs::read(path).unwrap();
    let frames: Vec<Vec<u8>> = text
        .split(|&c| c == b'\n')
        .filter_map(|l| match parse_line(l) {
            Some(Line::Received { json, .. }) => Some(json.to_vec()),
            _ => None,
        })
        .collect();
    let mut d = CoinbaseDecoder::new();
    let mut levels = Vec::with_capacity(8192);
    let p = Precision { px: 8, qty: 8 };
    for f in frames.clone().iter_mut() {
        d.decode(f, p, &mut levels).unwrap();
    }
    let mut work = frames.clone();
    let before = common::ALLOCS.load(Ordering::Relaxed);
    let mut ok = 0;
    for f in work.iter_mut() {
        if d.decode(f, p, &mut levels).is_ok() {
            ok += 1;
        }
    }
    let allocated = common::ALLOCS.load(Ordering::Relaxed) - before;
    assert_eq!((ok, allocated), (frames.len(), 0));

    let kraken: Vec<Vec<u8>> = [
        r#"{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[{"price":45283.5,"qty":0.1}],"asks":[{"price":45285.2,"qty":0.001}],"checksum":1}]}"#,
        r#"[0,{"a":[["0.05120","0.00000500","1582905486.493008"]]},{"b":[["0.04765","0.00000500","1582905486.493008"]],"c":"974947235"},"book-10","BTC/USD"]"#,
        r#"[993,[["354.04000000","0.28245396","1618678150.826417","s","m",""]],"trade","XMR/USD"]"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let mut k = KrakenDecoder::new();
    let mut trades = Vec::with_capacity(64);
    let mut book = ticklane_engine::book::L2Book::new();
    for f in kraken.clone().iter_mut() {
        k.decode(f, &mut levels, &mut trades).unwrap();
    }
    let mut work = kraken.clone();
    let before = common::ALLOCS.load(Ordering::Relaxed);
    let mut sum = 0u64;
    for f in work.iter_mut() {
        k.decode(f, &mut levels, &mut trades).unwrap();
        for l in &levels {
            let side = if l.bid {
                ticklane_engine::Side::Bid
            } else {
                ticklane_engine::Side::Ask
            };
            // Both sides have room from L2Book::new's reserve: no growth for two levels.
            book.set(
                side,
                ticklane_engine::Px(l.px),
                ticklane_engine::Qty(l.qty as u64),
            );
        }
        sum += u64::from(book_checksum(&book, Precision { px: 5, qty: 8 }));
    }
    let allocated = common::ALLOCS.load(Ordering::Relaxed) - before;
    assert!(sum > 0);
    assert_eq!(allocated, 0);
}

/// Coinbase Advanced Trade level2 updates, snapshots and market trades (the documented shapes):
/// a second pass over them allocates nothing, whichever path reads them.
#[test]
fn warm_coinbase_advanced_decoder_does_not_allocate() {
    use ticklane_feeds::coinbase_advanced::AdvancedDecoder;
    let frames: Vec<Vec<u8>> = [
        r#"{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.73","new_quantity":"0.06317902"},{"side":"offer","event_time":"1970-01-01T00:00:00Z","price_level":"21921.74","new_quantity":"0.5"}]}]}"#,
        r#"{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:51Z","sequence_num":1,"events":[{"type":"update","product_id":"BTC-USD","updates":[{ "price_level":"21921.73", "side":"bid","new_quantity":"0"}]}]}"#,
        r#"{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":2,"events":[{"type":"snapshot","trades":[{"trade_id":"000000000","product_id":"ETH-USD","price":"1260.01","size":"0.3","side":"BUY","time":"2019-08-14T20:42:27.265Z"}]}]}"#,
        r#"{"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z","sequence_num":3,"events":[{"current_time":"2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105","heartbeat_counter":3049}]}"#,
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let mut d = AdvancedDecoder::new();
    let (mut levels, mut trades) = (Vec::with_capacity(64), Vec::with_capacity(64));
    let p = Precision { px: 2, qty: 8 };
    for f in frames.clone().iter_mut() {
        d.decode(f, p, &mut levels, &mut trades).unwrap();
    }
    let mut work = frames.clone();
    let before = common::ALLOCS.load(Ordering::Relaxed);
    let mut ok = 0;
    for f in work.iter_mut() {
        if d.decode(f, p, &mut levels, &mut trades).is_ok() {
            ok += 1;
        }
    }
    let allocated = common::ALLOCS.load(Ordering::Relaxed) - before;
    assert_eq!((ok, allocated), (frames.len(), 0));
}
