//! A backtest allocates nothing per event once warm: the market maker quoting, modifying and
//! getting filled by the execution simulator (with latency and fees), the ledger booking fills
//! and the equity curve sampled, all watched by a counting global allocator through the progress
//! callback (every 64Ki messages, from inside the loop).

use std::sync::Mutex;

use ticklane_feeds::itch::framing::FrameReader;
use ticklane_feeds::itch::synth::{generate, SynthConfig};
use ticklane_replay::backtest::ExecConfig;
use ticklane_replay::{replay_itch_with, ItchReplayOptions};

mod common;
use common::Counting;

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn backtest_loop_does_not_allocate_per_event() {
    let cfg = SynthConfig {
        seed: 9,
        symbols: 20,
        messages: 1_000_000,
        ..SynthConfig::default()
    };
    let mut data = Vec::new();
    generate(&cfg, &mut data).unwrap();
    let exec = ExecConfig::parse(
        "[latency]\nmodel = \"per_action\"\nnew_ns = 5000\ncancel_ns = 2000\nmodify_ns = 5000\nresponse_ns = 3000\n[fees]\ntaker_bps = 1.0\nmaker_per_lot = -20.0\n",
    )
    .unwrap();
    let mut bt = exec.to_options(std::path::Path::new("")).unwrap();
    // The trade log and equity curve are sized up front for this run.
    bt.log_capacity = 1 << 20;

    let samples = Mutex::new(Vec::with_capacity(64));
    let opts = ItchReplayOptions {
        progress: Some(Box::new(|_| common::record_allocs(&samples))),
        backtest: Some(bt),
        ..Default::default()
    };
    let strategy = ticklane_strategies::build("market_maker", None).unwrap();
    let summary = replay_itch_with(FrameReader::new(&data[..]), opts, strategy).unwrap();
    let b = summary
        .backtest
        .as_ref()
        .expect("the market maker sends orders");
    assert!(b.fills > 100, "the run must exercise fills: {b:?}");
    assert!(b.modifies_sent > 1000, "and modifies: {b:?}");
    let v = samples.into_inner().unwrap();
    assert!(v.len() > 8, "too few samples: {}", v.len());
    let warm = &v[4..v.len() - 1];
    let allocated = warm.last().unwrap() - warm.first().unwrap();
    assert_eq!(
        allocated,
        0,
        "{allocated} allocations over {} events after warm-up (samples: {v:?}); {b:?}",
        (warm.len() - 1) * 65536
    );
}
