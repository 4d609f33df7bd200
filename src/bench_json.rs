//! `ticklane bench json`: every JSON message type through our decoder, our simd-json tape path
//! alone, and serde_json into the same records, timed in one process with the paths interleaved
//! (so a loaded machine slows them alike), best of several runs, ratios printed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use ticklane_engine::config::Range;

use crate::json_cases::{Case, DecodeFn, Decoders, CASES};
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

fn select(c: &Case, p: JsonPath) -> DecodeFn {
    match p {
        JsonPath::Ticklane => c.ours,
        JsonPath::Tape => c.tape.unwrap_or(c.ours),
        JsonPath::Serde => c.serde,
    }
}

fn time(d: &mut Decoders, f: DecodeFn, frame: &str, iters: u64) -> Duration {
    let t = Instant::now();
    let mut acc = 0u64;
    for _ in 0..iters {
        acc = acc.wrapping_add(f(d, black_box(frame)));
    }
    black_box(acc);
    t.elapsed()
}

pub fn json(a: JsonBenchArgs) -> Result<u8, Failure> {
    let cases: Vec<&Case> = CASES
        .iter()
        .filter(|c| a.case.as_deref().is_none_or(|n| n == c.name))
        .collect();
    if cases.is_empty() {
        let names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
        return Err(Failure {
            code: 2,
            err: anyhow::anyhow!(
                "no JSON bench case {:?}; cases: {}",
                a.case.unwrap_or_default(),
                names.join(", ")
            ),
        });
    }
    let mut d = Decoders::default();
    // Every path must read the same fields, or the comparison means nothing.
    for c in &cases {
        let ours = (c.ours)(&mut d, c.frame);
        let serde = (c.serde)(&mut d, c.frame);
        let tape = c.tape.map_or(ours, |t| t(&mut d, c.frame));
        if ours == 0 || ours != serde || ours != tape {
            return Err(Failure {
                code: 1,
                err: anyhow::anyhow!(
                    "{}: the decode paths disagree (digests {ours:x} ours, {tape:x} tape, {serde:x} serde_json)",
                    c.name
                ),
            });
        }
    }
    if let (Some(p), Some(iters)) = (a.path, a.iters) {
        for c in &cases {
            black_box(time(&mut d, select(c, p), c.frame, iters));
        }
        return Ok(0);
    }
    let paths = [JsonPath::Ticklane, JsonPath::Tape, JsonPath::Serde];
    // Calibrate each (case, path) to about --ms per run.
    let target = Duration::from_millis(a.ms.max(1));
    let mut iters = Vec::new();
    for c in &cases {
        for &p in &paths {
            let f = select(c, p);
            let mut n = 1000u64;
            loop {
                let t = time(&mut d, f, c.frame, n);
                if t >= target / 8 || n >= 1 << 30 {
                    let per = t.as_secs_f64() / n as f64;
                    iters.push(((target.as_secs_f64() / per.max(1e-12)) as u64).max(1));
                    break;
                }
                n *= 4;
            }
        }
    }
    let mut best = vec![f64::INFINITY; iters.len()];
    for _ in 0..a.runs.max(1) {
        let mut k = 0;
        for c in &cases {
            for &p in &paths {
                let t = time(&mut d, select(c, p), c.frame, iters[k]);
                best[k] = best[k].min(t.as_secs_f64() * 1e9 / iters[k] as f64);
                k += 1;
            }
        }
    }
    println!(
        "{:<24} {:>6} {:>12} {:>12} {:>12} {:>14} {:>14}",
        "case", "bytes", "ticklane ns", "tape ns", "serde ns", "serde/ticklane", "serde/tape"
    );
    for (i, c) in cases.iter().enumerate() {
        let (ours, tape, serde) = (best[3 * i], best[3 * i + 1], best[3 * i + 2]);
        println!(
            "{:<24} {:>6} {:>12.1} {:>12.1} {:>12.1} {:>13.2}x {:>13.2}x",
            c.name,
            c.frame.len(),
            ours,
            tape,
            serde,
            serde / ours,
            serde / tape
        );
    }
    println!(
        "best of {} runs of ~{} ms per path, paths interleaved; \"tape\" is our simd-json tape path alone",
        a.runs.max(1),
        a.ms
    );
    Ok(0)
}
