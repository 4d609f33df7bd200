//! A reused backtest engine ([`ItchEngine`]) gives, run after run, exactly what a one-shot
//! replay gives for the same input: summary, digest, trade log and equity curve. Checked on the
//! shipped sample (market maker, with and without latency and fees) and on a generated
//! multi-symbol stream, with runs of different inputs in between so that the reset must clear
//! what another run left behind.

use std::path::PathBuf;

use ticklane_engine::strategy::NoStrategy;
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_feeds::itch::synth::{generate, SynthConfig};
use ticklane_replay::backtest::{BacktestOptions, ExecConfig};
use ticklane_replay::{replay_itch, replay_itch_with, ItchEngine, ItchReplayOptions, Summary};

fn sample() -> Vec<u8> {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/AAPL_2012-06-21_lobster10.itch");
    std::fs::read(p).unwrap()
}

fn synth() -> Vec<u8> {
    let mut data = Vec::new();
    generate(
        &SynthConfig {
            seed: 3,
            symbols: 12,
            messages: 150_000,
            ..SynthConfig::default()
        },
        &mut data,
    )
    .unwrap();
    data
}

fn example_exec() -> BacktestOptions {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data");
    let text = std::fs::read_to_string(root.join("exec-example.toml")).unwrap();
    ExecConfig::parse(&text).unwrap().to_options(&root).unwrap()
}

/// The summary without its wall-clock fields, as JSON, plus the trade log and equity curve.
fn comparable(s: &Summary) -> (serde_json::Value, String) {
    let mut v = serde_json::to_value(s).unwrap();
    let o = v.as_object_mut().unwrap();
    for k in ["elapsed_s", "loop_s", "msgs_per_sec"] {
        o.remove(k);
    }
    if let Some(b) = o.get_mut("backtest").and_then(|b| b.as_object_mut()) {
        b.remove("events_per_sec");
        b.remove("loop_s");
    }
    let data = s
        .backtest_data
        .as_ref()
        .map(|d| format!("{:?}\n{:?}\n{:?}", d.counts, d.fills, d.equity))
        .unwrap_or_default();
    (v, data)
}

fn one_shot(data: &[u8], bt: &BacktestOptions) -> Summary {
    let opts = ItchReplayOptions {
        backtest: Some(bt.clone()),
        ..Default::default()
    };
    let mm = ticklane_strategies::build("market_maker", None).unwrap();
    replay_itch_with(FrameReader::new(data), opts, mm).unwrap()
}

#[test]
fn a_reused_engine_gives_the_one_shot_results_run_after_run() {
    let (aapl, gen) = (sample(), synth());
    for bt in [BacktestOptions::default(), example_exec()] {
        let want_aapl = one_shot(&aapl, &bt);
        let want_gen = one_shot(&gen, &bt);
        assert!(
            want_aapl.backtest.as_ref().unwrap().fills > 0 && want_gen.fills > 0,
            "the runs must trade"
        );
        let mut engine = ItchEngine::new(
            ticklane_strategies::build("market_maker", None).unwrap(),
            Some(bt.clone()),
        );
        // Alternate the inputs: each run starts from what the other left behind.
        for (round, (data, want)) in [
            (&aapl, &want_aapl),
            (&gen, &want_gen),
            (&aapl, &want_aapl),
            (&aapl, &want_aapl),
            (&gen, &want_gen),
        ]
        .into_iter()
        .enumerate()
        {
            let mm = ticklane_strategies::build("market_maker", None).unwrap();
            let got = engine.run(mm, FrameReader::new(&data[..])).unwrap();
            assert_eq!(got.digest, want.digest, "run {round}: digest");
            assert_eq!(comparable(&got), comparable(want), "run {round}");
        }
    }
}

#[test]
fn a_reused_engine_without_a_strategy_gives_the_plain_replay() {
    let (aapl, gen) = (sample(), synth());
    let want = [
        replay_itch(FrameReader::new(&aapl[..]), Default::default()).unwrap(),
        replay_itch(FrameReader::new(&gen[..]), Default::default()).unwrap(),
    ];
    let mut engine = ItchEngine::new(NoStrategy, None);
    for round in 0..4 {
        let (data, want) = if round % 2 == 0 {
            (&aapl, &want[0])
        } else {
            (&gen, &want[1])
        };
        let got = engine.run(NoStrategy, FrameReader::new(&data[..])).unwrap();
        assert_eq!(comparable(&got), comparable(want), "run {round}");
    }
    // The sample's pinned replay digest (README, golden file).
    let got = engine.run(NoStrategy, FrameReader::new(&aapl[..])).unwrap();
    assert_eq!(got.digest, "a0abf44d760f8aab381cd1bc1bc14a9a");
}
