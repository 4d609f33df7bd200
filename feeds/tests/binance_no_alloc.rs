//! The Binance decoder allocates nothing per message once its buffers have grown: a counting
//! global allocator watches it decode the real spot capture a second time.

use std::io::{BufRead, BufReader};
use std::sync::atomic::Ordering;

use ticklane_feeds::binance::{split_capture_line, BinanceDecoder, Precision};

// The counting allocator the replay crate's no-allocation tests use.
#[allow(dead_code)] // its progress-callback probe is for the replay tests
#[path = "../../replay/tests/common/mod.rs"]
mod common;

#[global_allocator]
static GLOBAL: common::Counting = common::Counting;

#[test]
fn warm_decoder_does_not_allocate() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/binance/spot_btcusdt_20240808.gz"
    );
    let r = BufReader::new(flate2::read::MultiGzDecoder::new(
        std::fs::File::open(path).unwrap(),
    ));
    // Frames prepared up front, each with room to be parsed in place.
    let frames: Vec<Vec<u8>> = r
        .lines()
        .map(|l| {
            split_capture_line(l.unwrap().as_bytes())
                .unwrap()
                .1
                .to_vec()
        })
        .collect();
    let mut d = BinanceDecoder::new();
    let mut levels = Vec::with_capacity(4096);
    let mut work: Vec<Vec<u8>> = frames.clone();
    for f in work.iter_mut() {
        d.decode(f, Precision::SPOT_STRINGS, &mut levels).unwrap();
    }
    let mut work: Vec<Vec<u8>> = frames.clone();
    let before = common::ALLOCS.load(Ordering::Relaxed);
    let mut ok = 0;
    for f in work.iter_mut() {
        if d.decode(f, Precision::SPOT_STRINGS, &mut levels).is_ok() {
            ok += 1;
        }
    }
    let allocated = common::ALLOCS.load(Ordering::Relaxed) - before;
    assert_eq!(ok, frames.len());
    assert_eq!(
        allocated,
        0,
        "{allocated} allocations decoding {} warm frames",
        frames.len()
    );
}
