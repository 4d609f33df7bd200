//! No allocation per event in steady state across every stage of the threaded pipeline: a
//! counting global allocator (counting on all threads) is sampled from the merger's progress
//! callback, once per merge epoch, while 2 book shards, the decoder and the merger run.

use std::sync::Mutex;

use ticklane_feeds::itch::framing::FrameReader;
use ticklane_feeds::itch::synth::{generate, SynthConfig};
use ticklane_replay::stages::pipeline::{replay_itch_threaded, PipelineConfig};
use ticklane_replay::ItchReplayOptions;

mod common;
use common::Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn threaded_pipeline_does_not_allocate_per_event() {
    let cfg = SynthConfig {
        seed: 8,
        symbols: 80,
        messages: 1_000_000,
        ..SynthConfig::default()
    };
    let mut data = Vec::new();
    generate(&cfg, &mut data).unwrap();
    let samples = Mutex::new(Vec::with_capacity(4096));
    let opts = ItchReplayOptions {
        progress: Some(Box::new(|_| common::record_allocs(&samples))),
        ..Default::default()
    };
    let pcfg = PipelineConfig {
        shards: 2,
        // Recording latency too: the histograms are sized up front, so the samples allocate
        // nothing either (off, the stages only skip work).
        latency: true,
        ..PipelineConfig::default()
    };
    let run =
        replay_itch_threaded(FrameReader::new(std::io::Cursor::new(data)), opts, &pcfg).unwrap();
    assert_eq!(run.summary.errors.total(), 0);
    assert!(run.summary.book_events > 900_000);
    let v = samples.into_inner().unwrap();
    // One sample per 1024-message epoch: ~980. Skip the first 100 epochs (books, levels and the
    // order window reach their working size) and the last one.
    assert!(v.len() > 500, "too few samples: {}", v.len());
    let warm = &v[100..v.len() - 1];
    let allocated = warm.last().unwrap() - warm.first().unwrap();
    assert_eq!(
        allocated,
        0,
        "{allocated} allocations over {} epochs after warm-up",
        warm.len() - 1
    );
}
