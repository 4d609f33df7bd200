//! Every JSON message type ([`CASES`]) through our decoder, our simd-json tape path alone, and
//! serde_json into the same records, timed in one process with the paths interleaved (so a
//! loaded machine slows them alike), best of several runs, ratios reported.

use std::fmt;
use std::hint::black_box;
use std::time::{Duration, Instant};

use super::json_cases::{Case, DecodeFn, Decoders, CASES};

/// A decode path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonPath {
    /// Our decoder as the replays use it.
    Ticklane,
    /// Our simd-json tape path alone (what our decoder falls back to).
    Tape,
    /// serde_json into the same records.
    Serde,
}

/// Why the bench cannot run.
#[derive(Debug, thiserror::Error)]
pub enum JsonBenchError {
    /// No case has the name asked for.
    #[error("no JSON bench case {name:?}; cases: {cases}")]
    NoCase {
        /// The name asked for.
        name: String,
        /// Every case's name, comma-separated.
        cases: String,
    },
    /// The paths read different values from a frame: comparing them would mean nothing.
    #[error("{case}: the decode paths disagree (digests {ours:x} ours, {tape:x} tape, {serde:x} serde_json)")]
    Disagree {
        /// The case.
        case: &'static str,
        /// Our decoder's digest of the fields.
        ours: u64,
        /// The tape path's.
        tape: u64,
        /// serde_json's.
        serde: u64,
    },
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

/// The bench over the case named `name` (all cases when `None`), once every path has been
/// checked to read the same field values from each frame.
pub struct JsonBench {
    cases: Vec<&'static Case>,
    d: Decoders,
}

impl JsonBench {
    /// Selects the cases and checks the paths agree on each.
    ///
    /// # Errors
    /// [`JsonBenchError::NoCase`] for an unknown name; [`JsonBenchError::Disagree`] when the
    /// paths read different values.
    pub fn new(name: Option<&str>) -> Result<Self, JsonBenchError> {
        let cases: Vec<&Case> = CASES
            .iter()
            .filter(|c| name.is_none_or(|n| n == c.name))
            .collect();
        if cases.is_empty() {
            let names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
            return Err(JsonBenchError::NoCase {
                name: name.unwrap_or_default().to_owned(),
                cases: names.join(", "),
            });
        }
        let mut d = Decoders::default();
        // Every path must read the same fields, or the comparison means nothing.
        for c in &cases {
            let ours = (c.ours)(&mut d, c.frame);
            let serde = (c.serde)(&mut d, c.frame);
            let tape = c.tape.map_or(ours, |t| t(&mut d, c.frame));
            if ours == 0 || ours != serde || ours != tape {
                return Err(JsonBenchError::Disagree {
                    case: c.name,
                    ours,
                    tape,
                    serde,
                });
            }
        }
        Ok(JsonBench { cases, d })
    }

    /// Runs `path` exactly `iters` times per case, untimed: for an instruction counter
    /// (`valgrind --tool=callgrind`).
    pub fn iterate(&mut self, path: JsonPath, iters: u64) {
        for c in &self.cases {
            black_box(time(&mut self.d, select(c, path), c.frame, iters));
        }
    }

    /// Calibrates each (case, path) to about `ms` per run, then times `runs` runs with the
    /// paths interleaved and keeps each path's best.
    pub fn run(mut self, runs: u32, ms: u64) -> JsonBenchReport {
        let paths = [JsonPath::Ticklane, JsonPath::Tape, JsonPath::Serde];
        let d = &mut self.d;
        let target = Duration::from_millis(ms.max(1));
        let mut iters = Vec::new();
        for c in &self.cases {
            for &p in &paths {
                let f = select(c, p);
                let mut n = 1000u64;
                loop {
                    let t = time(d, f, c.frame, n);
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
        for _ in 0..runs.max(1) {
            let mut k = 0;
            for c in &self.cases {
                for &p in &paths {
                    let t = time(d, select(c, p), c.frame, iters[k]);
                    best[k] = best[k].min(t.as_secs_f64() * 1e9 / iters[k] as f64);
                    k += 1;
                }
            }
        }
        JsonBenchReport {
            rows: self
                .cases
                .iter()
                .enumerate()
                .map(|(i, c)| JsonBenchRow {
                    case: c.name,
                    bytes: c.frame.len(),
                    ticklane_ns: best[3 * i],
                    tape_ns: best[3 * i + 1],
                    serde_ns: best[3 * i + 2],
                })
                .collect(),
            runs: runs.max(1),
            ms,
        }
    }
}

/// One case's best times, ns per message.
#[derive(Clone, Copy, Debug)]
pub struct JsonBenchRow {
    /// The case.
    pub case: &'static str,
    /// Its frame's bytes.
    pub bytes: usize,
    /// Our decoder.
    pub ticklane_ns: f64,
    /// Our tape path alone.
    pub tape_ns: f64,
    /// serde_json.
    pub serde_ns: f64,
}

/// The bench's result; its `Display` is the table `ticklane bench json` prints.
#[derive(Clone, Debug)]
pub struct JsonBenchReport {
    /// Per case, in [`CASES`] order.
    pub rows: Vec<JsonBenchRow>,
    /// Timed runs.
    pub runs: u32,
    /// Time per path per run, ms.
    pub ms: u64,
}

impl fmt::Display for JsonBenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<24} {:>6} {:>12} {:>12} {:>12} {:>14} {:>14}",
            "case", "bytes", "ticklane ns", "tape ns", "serde ns", "serde/ticklane", "serde/tape"
        )?;
        for r in &self.rows {
            writeln!(
                f,
                "{:<24} {:>6} {:>12.1} {:>12.1} {:>12.1} {:>13.2}x {:>13.2}x",
                r.case,
                r.bytes,
                r.ticklane_ns,
                r.tape_ns,
                r.serde_ns,
                r.serde_ns / r.ticklane_ns,
                r.serde_ns / r.tape_ns
            )?;
        }
        writeln!(
            f,
            "best of {} runs of ~{} ms per path, paths interleaved; \"tape\" is our simd-json tape path alone",
            self.runs, self.ms
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_agrees_and_an_unknown_name_lists_the_cases() {
        let mut b = JsonBench::new(None).unwrap();
        b.iterate(JsonPath::Tape, 1);
        let r = JsonBench::new(Some("binance_trade")).unwrap().run(1, 1);
        assert_eq!(r.rows.len(), 1);
        assert!(r.rows[0].ticklane_ns > 0.0 && r.rows[0].serde_ns.is_finite());
        let text = r.to_string();
        assert!(text.starts_with("case "), "{text}");
        assert!(text.contains("binance_trade"), "{text}");
        let e = JsonBench::new(Some("nope")).err().unwrap().to_string();
        assert!(
            e.starts_with("no JSON bench case \"nope\"; cases: binance_depth_300B, "),
            "{e}"
        );
    }
}
