//! The price-level path allocates nothing per event once warm: a real capture's frames through
//! the venue's machine, the events, the L2 book stage and the outputs (digest, no files),
//! watched by a counting global allocator over the second half of the capture.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::Ordering;

use ticklane_replay::stages::l2::{CryptoReplayOptions, L2Replay};
use ticklane_replay::venue::VenueFormat;

mod common;
use common::{Counting, ALLOCS};

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations while the second half of `path`'s lines replays (the first half warms up) and
/// the number of messages in that half.
fn allocs_once_warm(format: VenueFormat, path: &str) -> (u64, u64) {
    let mut text = Vec::new();
    ticklane_replay::run::input::open(Path::new(path))
        .unwrap()
        .reader
        .read_to_end(&mut text)
        .unwrap();
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    let mut r = L2Replay::new(format, CryptoReplayOptions::default()).unwrap();
    let mut s = r.new_summary();
    let half = lines.len() / 2;
    for l in &lines[..half] {
        r.on_raw_line(l, &mut s).unwrap();
    }
    let (before, warm) = (ALLOCS.load(Ordering::Relaxed), s.messages);
    for l in &lines[half..] {
        r.on_raw_line(l, &mut s).unwrap();
    }
    let after = ALLOCS.load(Ordering::Relaxed);
    r.finish(&mut s).unwrap();
    (after - before, s.messages - warm)
}

#[test]
fn binance_and_coinbase_replays_do_not_allocate_per_event_once_warm() {
    for (format, path) in [
        (
            VenueFormat::Binance,
            "../../shared/data/binance/spot_btcusdt_20240808.gz",
        ),
        (
            VenueFormat::Coinbase,
            "../../shared/data/cryptofeed/COINBASE.ws.28.0",
        ),
    ] {
        let (allocs, messages) = allocs_once_warm(format, path);
        eprintln!("{path}: {allocs} allocations, {messages} messages");
        assert!(messages > 1000, "{path}: {messages} messages");
        // What may still allocate: a product seen for the first time, a book reaching a new
        // depth or a frame a new size (capacities double, so a handful over a run); Binance
        // diffs buffered while a book waits for its snapshot (bounded, not the synced path).
        // An allocation per event would be thousands.
        assert!(
            allocs * 1000 < messages,
            "{path}: {allocs} allocations over {messages} messages once warm"
        );
    }
}
