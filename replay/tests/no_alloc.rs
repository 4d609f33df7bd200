//! The replay loop allocates nothing per message once warm: a counting global allocator watches
//! the real `replay_itch` loop over a generated multi-symbol stream, sampled through the progress
//! callback (called every 64Ki messages, from inside the loop).

use std::sync::Mutex;

use ticklane_feeds::itch::framing::FrameReader;
use ticklane_feeds::itch::synth::{generate, SynthConfig};
use ticklane_replay::{replay_itch, ItchReplayOptions};

mod common;
use common::Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn replay_loop_does_not_allocate_per_message() {
    let cfg = SynthConfig {
        seed: 5,
        symbols: 100,
        messages: 1_500_000,
        ..SynthConfig::default()
    };
    let mut data = Vec::new();
    generate(&cfg, &mut data).unwrap();

    let samples = Mutex::new(Vec::with_capacity(64));
    let opts = ItchReplayOptions {
        progress: Some(Box::new(|_| common::record_allocs(&samples))),
        ..Default::default()
    };
    let summary = replay_itch(FrameReader::new(&data[..]), opts).unwrap();
    let v = samples.into_inner().unwrap();
    assert!(
        summary.messages >= 1_500_000,
        "generator wrote {}",
        summary.messages
    );
    assert!(
        summary.book_events > 1_000_000,
        "the stream must exercise the book"
    );
    assert_eq!(summary.errors.total(), 0, "{:?}", summary.errors);
    // 64Ki messages between samples; the first few are warm-up (books, levels and the order
    // window reach their working size). The final sample is taken after the loop.
    assert!(v.len() > 10, "too few samples: {}", v.len());
    let warm = &v[4..v.len() - 1];
    let allocated = warm.last().unwrap() - warm.first().unwrap();
    assert_eq!(
        allocated,
        0,
        "{allocated} allocations over {} messages after warm-up (samples: {v:?})",
        (warm.len() - 1) * 65536
    );
}
