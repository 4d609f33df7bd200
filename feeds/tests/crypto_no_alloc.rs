//! The Coinbase and Kraken decoders and Kraken's checksum allocate nothing per message once
//! their buffers have grown: a counting global allocator watches them decode the real Coinbase
//! capture and Kraken frames a second time. (Its own test binary: the counter is process-wide.)

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
