//! Golden replays: the summary of each input listed in `data/golden/inputs.txt` (every line but
//! the wall-clock ones) must equal the reviewed file beside it, digest included. Update them only
//! with `scripts/update-goldens.sh` and read the diff it prints.

use std::path::PathBuf;

use ticklane_feeds::itch::framing::FrameReader;
use ticklane_replay::{input, replay_itch, ItchReplayOptions};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn strip_wall_clock(s: &str) -> String {
    s.lines()
        .filter(|l| !l.starts_with("elapsed:") && !l.starts_with("throughput:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn run(path: &str, symbols: Vec<String>) -> String {
    let inp = input::open(&root().join(path)).unwrap_or_else(|e| panic!("{e}"));
    let opts = ItchReplayOptions { symbols, ..Default::default() };
    let summary = replay_itch(FrameReader::new(inp.reader), opts).unwrap();
    strip_wall_clock(&summary.to_string())
}

#[test]
fn golden_summaries_match() {
    let list = std::fs::read_to_string(root().join("data/golden/inputs.txt")).unwrap();
    let mut checked = 0;
    for line in list.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let mut parts = line.split_whitespace();
        let name = parts.next().unwrap();
        let path = parts.next().unwrap();
        let mut symbols = Vec::new();
        while let Some(flag) = parts.next() {
            assert_eq!(flag, "--symbols", "inputs.txt supports only --symbols");
            symbols = parts.next().unwrap().split(',').map(str::to_owned).collect();
        }
        let want = std::fs::read_to_string(root().join(format!("data/golden/{name}.txt")))
            .unwrap_or_else(|e| panic!("data/golden/{name}.txt: {e}; run scripts/update-goldens.sh"));
        let got = run(path, symbols.clone());
        assert_eq!(got, want, "golden {name} differs; if intended, run scripts/update-goldens.sh and review the diff");
        // Same input, same digest: run it again.
        assert_eq!(got, run(path, symbols), "{name}: a second run differs");
        checked += 1;
    }
    assert!(checked >= 2, "only {checked} goldens checked");
}
