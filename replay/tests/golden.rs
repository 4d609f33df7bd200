//! Golden replays: the summary of each input listed in `data/golden/inputs.txt` (every line but
//! the wall-clock ones) must equal the reviewed file beside it, digest included. Update them only
//! with `scripts/update-goldens.sh` and read the diff it prints.

use std::path::PathBuf;

use ticklane_feeds::itch::framing::FrameReader;
use ticklane_replay::run::input;
use ticklane_replay::{replay_itch, replay_itch_with, ItchReplayOptions};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn strip_wall_clock(s: &str) -> String {
    s.lines()
        .filter(|l| {
            !l.starts_with("elapsed:")
                && !l.starts_with("throughput:")
                && !l.contains("events/s in the replay loop")
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

fn run(path: &str, symbols: Vec<String>, strategy: Option<&str>) -> String {
    let inp = input::open(&root().join(path)).unwrap_or_else(|e| panic!("{e}"));
    // As the CLI does: a strategy's orders go through a backtest with the default settings.
    let opts = ItchReplayOptions {
        symbols,
        backtest: strategy.map(|_| ticklane_replay::backtest::BacktestOptions::default()),
        ..Default::default()
    };
    let summary = match strategy {
        Some(name) => replay_itch_with(
            FrameReader::new(inp.reader),
            opts,
            ticklane_strategies::build(name, None).unwrap(),
        ),
        None => replay_itch(FrameReader::new(inp.reader), opts),
    }
    .unwrap();
    // The CLI prints the backtest statistics before the summary.
    let mut text = Vec::new();
    if let Some(input) = summary.report_input() {
        let stats = ticklane_replay::report::compute_stats(&input);
        ticklane_replay::report::print_summary(&stats, &mut text).unwrap();
    }
    text.extend_from_slice(summary.to_string().as_bytes());
    strip_wall_clock(&String::from_utf8(text).unwrap())
}

/// A Binance capture replayed as `ticklane replay --format binance` does.
fn run_binance(path: &str) -> String {
    let inp = input::open(&root().join(path)).unwrap_or_else(|e| panic!("{e}"));
    let s = ticklane_replay::stages::l2::replay_l2(
        ticklane_replay::venue::VenueFormat::Binance,
        std::io::BufReader::new(inp.reader),
        Default::default(),
    )
    .unwrap();
    strip_wall_clock(&format!("{s}\n"))
}

#[test]
fn golden_summaries_match() {
    let list = std::fs::read_to_string(root().join("data/golden/inputs.txt")).unwrap();
    let mut checked = 0;
    for line in list
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let mut parts = line.split_whitespace();
        let name = parts.next().unwrap();
        let path = parts.next().unwrap();
        let mut symbols = Vec::new();
        let mut strategy = None;
        let mut binance = false;
        while let Some(flag) = parts.next() {
            let value = parts.next().unwrap();
            match (flag, value) {
                ("--symbols", _) => symbols = value.split(',').map(str::to_owned).collect(),
                ("--strategy", _) => strategy = Some(value),
                ("--format", "binance") => binance = true,
                (other, _) => panic!(
                    "inputs.txt supports --symbols, --strategy and --format binance, not {other} {value}"
                ),
            }
        }
        let want = std::fs::read_to_string(root().join(format!("data/golden/{name}.txt")))
            .unwrap_or_else(|e| {
                panic!("data/golden/{name}.txt: {e}; run scripts/update-goldens.sh")
            });
        if binance {
            let got = run_binance(path);
            assert_eq!(
                got, want,
                "golden {name} differs; if intended, run scripts/update-goldens.sh and review the diff"
            );
            assert_eq!(got, run_binance(path), "{name}: a second run differs");
            checked += 1;
            continue;
        }
        let got = run(path, symbols.clone(), strategy);
        assert_eq!(
            got, want,
            "golden {name} differs; if intended, run scripts/update-goldens.sh and review the diff"
        );
        // Same input, same digest: run it again.
        assert_eq!(
            got,
            run(path, symbols, strategy),
            "{name}: a second run differs"
        );
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} goldens checked");
}
