//! `ticklane bench json`: every JSON message type through our decoder, our simd-json tape path
//! alone, and serde_json into the same records, timed in one process with the paths
//! interleaved. The runner and the cases are the library's (`ticklane_replay::bench::json`).

use clap::{Args, ValueEnum};
use ticklane_engine::config::Range;
use ticklane_replay::bench::json::{JsonBench, JsonBenchError, JsonPath as Path};

use crate::{in_range, Failure};

/// Valid `--runs`.
const RUNS: Range<u32> = Range::new(1, 1000, "timed runs");
/// Valid `--ms`.
const MS: Range<u64> = Range::new(1, 60_000, "time per path per run, ms");
/// Valid `--iters`.
const ITERS: Range<u64> = Range::new(1, 10_000_000_000, "iterations");

#[derive(Args)]
pub struct JsonBenchArgs {
    /// Timed runs; each path's best run is reported (the least disturbed by other work);
    /// 1..=1000.
    #[arg(long, default_value_t = 7, value_parser = in_range("--runs", RUNS))]
    runs: u32,
    /// Time per path per run, ms (the iteration count is calibrated to it once); 1..=60000.
    #[arg(long, default_value_t = 200, value_parser = in_range("--ms", MS))]
    ms: u64,
    /// Only the case with this name (e.g. `binance_depth_300B`); all by default.
    #[arg(long)]
    case: Option<String>,
    /// Only this path, exactly `--iters` iterations, no timing: for an instruction counter
    /// (`valgrind --tool=callgrind`), see scripts/json-callgrind.sh.
    #[arg(long, value_enum, requires = "iters")]
    path: Option<JsonPath>,
    /// Iterations for `--path` (1..=10000000000).
    #[arg(long, value_parser = in_range("--iters", ITERS))]
    iters: Option<u64>,
}

/// A decode path.
#[derive(Clone, Copy, ValueEnum)]
enum JsonPath {
    /// Our decoder as the replays use it.
    Ticklane,
    /// Our simd-json tape path alone (what our decoder falls back to).
    Tape,
    /// serde_json into the same records.
    Serde,
}

pub fn json(a: JsonBenchArgs) -> Result<u8, Failure> {
    let mut bench = JsonBench::new(a.case.as_deref()).map_err(|e| Failure {
        code: match e {
            JsonBenchError::NoCase { .. } => 2,
            JsonBenchError::Disagree { .. } => 1,
        },
        err: e.into(),
    })?;
    if let (Some(p), Some(iters)) = (a.path, a.iters) {
        let path = match p {
            JsonPath::Ticklane => Path::Ticklane,
            JsonPath::Tape => Path::Tape,
            JsonPath::Serde => Path::Serde,
        };
        bench.iterate(path, iters);
        return Ok(0);
    }
    print!("{}", bench.run(a.runs, a.ms));
    Ok(0)
}
