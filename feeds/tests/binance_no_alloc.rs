//! The Binance decoder allocates nothing per message once its buffers have grown: a counting
//! global allocator watches it decode the real spot capture a second time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicU64, Ordering};

use ticklane_feeds::binance::{split_capture_line, BinanceDecoder, Precision};

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call unchanged to the system allocator; only counts.
#[allow(unsafe_code)] // a global allocator can only be written with `unsafe impl`
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
    let before = ALLOCS.load(Ordering::Relaxed);
    let mut ok = 0;
    for f in work.iter_mut() {
        if d.decode(f, Precision::SPOT_STRINGS, &mut levels).is_ok() {
            ok += 1;
        }
    }
    let allocated = ALLOCS.load(Ordering::Relaxed) - before;
    assert_eq!(ok, frames.len());
    assert_eq!(
        allocated,
        0,
        "{allocated} allocations decoding {} warm frames",
        frames.len()
    );
}
