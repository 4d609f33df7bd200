//! The command line as a library: [`main_with`] parses the arguments, runs the subcommand and
//! maps its failure to an exit code. `ticklane`'s own `main` calls it with the built-in
//! strategies; a crate of your own calls it with a [`Registry`] holding its strategies beside
//! them and gets every command (replay, backtests and reports, verify, live, serve) with them:
//!
//! ```no_run
//! use std::process::ExitCode;
//! use ticklane_strategies::Registry;
//!
//! fn main() -> ExitCode {
//!     let registry = Registry::builtins(); // .register(...) your own here
//!     ticklane::cli::main_with(registry)
//! }
//! ```

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use ticklane_engine::config::{Bound, Range};
use ticklane_replay::pipeline::PipelineConfig;
use ticklane_replay::run::{ErrorKind, Verdict};
use ticklane_strategies::Registry;

/// Exit codes a script can rely on.
pub(crate) mod exit {
    /// Bad usage: a flag, a strategy or backtest configuration file that cannot be read, or any
    /// configuration with a bad key or a value out of range. Clap's usage errors exit 2 as well.
    pub const USAGE: u8 = 2;
    /// Input data missing, unreadable or not in the expected format.
    pub const INPUT: u8 = 3;
    /// `--strict` and the input had bad records.
    pub const DATA: u8 = 4;
    /// `--check` found the book different from the reference, or `verify` found the re-run
    /// (or an input) different from the manifest.
    pub const CHECK: u8 = 5;
    /// Anything else (an output could not be written, ...).
    pub const OTHER: u8 = 1;
}

#[derive(Parser)]
#[command(
    name = "ticklane",
    version,
    about = "Low-latency market-data engine: exchange feed decoders, order books, deterministic replays",
    long_about = "Low-latency market-data engine: exchange feed decoders, order books, deterministic replays.\n\n\
                  Every replay ends with a line `digest: <hex>`: a hash over the ordered stream of best bid/offer \
                  changes and trades. The same input and options always give the same digest.\n\n\
                  Exit codes: 0 ok, 1 other failure, 2 bad usage or configuration (a flag; a strategy or \
                  backtest config file unreadable; any config with a bad key or a value out of range), \
                  3 input missing (the live daemon's --config file included) or not in the expected format, \
                  4 bad records in the input with --strict, 5 a check (--check, verify) found a difference."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
// One value per process, parsed once: boxing the big variant would buy nothing.
#[allow(clippy::large_enum_variant)]
enum Cmd {
    /// Replay a NASDAQ TotalView-ITCH 5.0 BinaryFILE (plain or gzip) through the order books.
    Replay(crate::replay::ReplayArgs),
    /// Measure decode and book throughput and per-message book latency.
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Convert other formats to ITCH 5.0.
    #[command(subcommand)]
    Convert(ConvertCmd),
    /// Generate synthetic data.
    #[command(subcommand)]
    Gen(GenCmd),
    /// Publish a capture for the live feed: ITCH as MoldUDP64 over UDP (multicast or unicast),
    /// with seeded faults and a retransmission request server.
    #[command(subcommand)]
    Serve(ServeCmd),
    /// The live feed daemon: receive ITCH over MoldUDP64 on A/B multicast lines, recover gaps
    /// from the retransmission server, journal every datagram, run the books (and a strategy),
    /// serve Prometheus metrics; on SIGINT/SIGTERM or the end of session print the summary and
    /// digest (the same digest `ticklane replay JOURNAL` prints). Or a websocket venue (Binance
    /// spot or USD-M futures, Coinbase): reconnect and resync from snapshots, journal every
    /// frame, same summary, digest and metrics endpoint.
    Live(crate::live::LiveArgs),
    /// List the strategies (the built-ins, and those the program registered) with their config
    /// keys, defaults and valid ranges.
    Strategies,
    /// Re-run the backtest a report's manifest.json records (its run spec, paths relative to the
    /// manifest, so from any directory); exit 0 only if it reproduces the manifest (5 if the
    /// digest, the recorded configuration or an input's SHA-256 differs, saying what; 3 if the
    /// manifest or an input is missing).
    Verify {
        /// The manifest.json of a `replay --report DIR` run.
        manifest: PathBuf,
    },
}

/// How the threaded pipeline is laid out (shared by `replay` and `bench latency`).
#[derive(Args)]
pub(crate) struct LayoutArgs {
    /// Book shards for the threaded pipeline (instruments are split by locate modulo N); 1..=64.
    #[arg(long, default_value_t = 1, value_parser = in_range("--shards", PipelineConfig::SHARDS))]
    pub(crate) shards: u16,
    /// Cores to pin the stages to, in order: decode, shard 0..N-1, output. E.g. --cores 2,3,4
    /// (each 0..=1023).
    #[arg(long, value_delimiter = ',', value_parser = in_range("--cores", PipelineConfig::CORE))]
    pub(crate) cores: Vec<usize>,
    /// How stages wait on rings: spin (only on dedicated cores), yield (spin then yield), park.
    #[arg(long, default_value = "yield")]
    pub(crate) wait: ticklane_engine::wait::WaitStrategy,
}

/// A clap value parser for a numeric flag that accepts `range`'s values only: out of range, the
/// error names the flag, the value and the range, as a config key's does.
pub(crate) fn in_range<T>(
    flag: &'static str,
    range: Range<T>,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: Bound + std::str::FromStr + Send + Sync + 'static,
    T::Err: std::fmt::Display,
{
    move |s: &str| {
        let v = s.parse::<T>().map_err(|e| e.to_string())?;
        range.check(flag, v).map_err(|e| e.to_string())
    }
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Load an ITCH file into memory, then report decode-only and decode+book throughput and the
    /// per-message book-apply latency distribution.
    Itch(crate::bench::ItchBenchArgs),
    /// Drive the threaded pipeline at a target rate and report per-hop latency percentiles,
    /// ring high-water marks, HdrHistogram percentile files and an SVG plot.
    Latency(crate::bench::LatencyBenchArgs),
    /// Time the backtest replay loop (strategy, execution simulator, ledger) against the same
    /// loop without a strategy, in one process, over many runs of an engine built once and
    /// reset between runs (the file held in memory); the reset, building the strategy and a
    /// cold one-shot run are reported separately, and every run's digest is checked against
    /// the one-shot run's.
    Backtest(crate::bench::BacktestBenchArgs),
    /// Decode each JSON message type (Binance depth, trade, book ticker; Coinbase l2update;
    /// Kraken v2 book) with our decoder, our simd-json tape path alone and serde_json into the
    /// same records, in one process; print ns per message and the serde_json/ours ratios.
    Json(crate::bench_json::JsonBenchArgs),
}

#[derive(Subcommand)]
enum ServeCmd {
    /// Publish an ITCH 5.0 BinaryFILE as MoldUDP64 on line A (and B), answer retransmission
    /// requests on 127.0.0.1:--request-port.
    Itch(crate::serve::ServeItchArgs),
    /// Serve a Binance or Coinbase capture as a local websocket venue (subscribe, snapshots
    /// from its own book, REST depth for Binance, seeded disconnects and bad frames).
    #[command(long_about = crate::serve_ws::LONG_ABOUT)]
    Ws(crate::serve_ws::ServeWsArgs),
}

#[derive(Subcommand)]
enum ConvertCmd {
    /// Re-encode a LOBSTER message file as an ITCH 5.0 BinaryFILE.
    Lobster(crate::convert::LobsterArgs),
    /// Write an ITCH 5.0 file as hftbacktest's market-by-order event array (.npz).
    Hftbacktest(crate::hftbacktest::HftbacktestArgs),
}

#[derive(Subcommand)]
enum GenCmd {
    /// Write a seeded, realistic multi-symbol ITCH 5.0 order-flow file (for benchmarks).
    Itch(crate::convert::GenItchArgs),
}

/// An error with the exit code it maps to.
pub(crate) struct Failure {
    /// The exit code ([`exit`]).
    pub(crate) code: u8,
    /// What went wrong, with its context.
    pub(crate) err: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            code: exit::OTHER,
            err: e.into(),
        }
    }
}

/// `--max-time-jump`: a duration with a unit (ms, s, m, h, d), in nanoseconds, within
/// [`ticklane_engine::event_time::MAX_TIME_JUMP_RANGE_NS`].
pub(crate) fn parse_time_jump(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 90s, 30m, 6h or 2d"))?;
    let scale: u64 = match unit {
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => return Err(format!("{s:?} needs a unit: ms, s, m, h or d (e.g. 6h)")),
    };
    let range = ticklane_engine::event_time::MAX_TIME_JUMP_RANGE_NS;
    match n.checked_mul(scale) {
        Some(ns) if range.contains(&ns) => Ok(ns),
        _ => Err(format!("{s} is out of range 1ms..=400d")),
    }
}

pub(crate) fn usage_failure(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: exit::USAGE,
        err: e.into(),
    }
}

/// Reads the configuration file given as `what` (`--strategy-config`, ...): one that cannot be
/// read is bad usage (exit 2), as a bad key or value in it is.
pub(crate) fn read_config(what: &str, path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))
        .map_err(usage_failure)
}

pub(crate) fn input_failure(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: exit::INPUT,
        err: e.into(),
    }
}

/// Restores the default action of SIGPIPE, as other Unix command-line tools have it: Rust
/// ignores the signal, so `ticklane replay FILE | head` would fail on its next write (a panic
/// in `println!`) instead of ending quietly when the reader goes away. Not for the daemons
/// (`live`, `serve`), which write only to sockets and their own files and must not be killed
/// by a consumer of their terminal output.
#[allow(unsafe_code)]
fn default_sigpipe() {
    // SAFETY: signal(2) with SIG_DFL installs no handler code; it runs before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The strategies of this process: the registry [`main_with`] was given (the built-ins when
/// nothing set one). Process-wide because every subcommand reaches it (a replay, a backtest,
/// `verify`, the live daemon's `[strategy]`, `bench backtest`), and it never changes once
/// the command line has started.
static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// The strategies the commands build by name.
pub(crate) fn strategies() -> &'static Registry {
    REGISTRY.get_or_init(Registry::builtins)
}

/// Runs the `ticklane` command line on this process's arguments with the strategies of
/// `registry` (every name `--strategy`, a run spec, a manifest or a live `[strategy]` can use),
/// and returns the exit code: 0 ok, 1 other failure, 2 bad usage or configuration, 3 input
/// missing or not in the expected format, 4 bad records with `--strict`, 5 a check found a
/// difference. Errors are printed on stderr.
///
/// Call it once, from `main`: the first registry given serves the whole process.
pub fn main_with(registry: Registry) -> ExitCode {
    // Only `main` sets it, once; a second call keeps the first registry.
    let _ = REGISTRY.set(registry);
    let cli = Cli::parse();
    if !matches!(cli.cmd, Cmd::Live(_) | Cmd::Serve(_)) {
        default_sigpipe();
    }
    let res = match cli.cmd {
        Cmd::Replay(a) => crate::replay::replay(a),
        Cmd::Bench(BenchCmd::Itch(a)) => crate::bench::itch(a),
        Cmd::Bench(BenchCmd::Latency(a)) => crate::bench::latency(a),
        Cmd::Bench(BenchCmd::Backtest(a)) => crate::bench::backtest(a),
        Cmd::Bench(BenchCmd::Json(a)) => crate::bench_json::json(a),
        Cmd::Convert(ConvertCmd::Lobster(a)) => crate::convert::lobster(a),
        Cmd::Convert(ConvertCmd::Hftbacktest(a)) => crate::hftbacktest::convert(a),
        Cmd::Gen(GenCmd::Itch(a)) => crate::convert::gen_itch(a),
        Cmd::Verify { manifest } => verify(&manifest),
        Cmd::Serve(ServeCmd::Itch(a)) => crate::serve::itch(a),
        Cmd::Serve(ServeCmd::Ws(a)) => crate::serve_ws::ws(a),
        Cmd::Live(a) => crate::live::run(a),
        Cmd::Strategies => {
            for info in strategies().infos() {
                println!("{:<16} {}", info.name, info.about);
                for k in &info.keys {
                    println!(
                        "    {:<14} = {:<8} {:<24} {}",
                        k.key, k.default, k.range, k.meaning
                    );
                }
            }
            Ok(0)
        }
    };
    match res {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("error: {:#}", f.err);
            ExitCode::from(f.code)
        }
    }
}

/// The exit code of a library failure of `kind`.
pub(crate) fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Usage => exit::USAGE,
        ErrorKind::Input => exit::INPUT,
        ErrorKind::Other => exit::OTHER,
    }
}

/// Opens a replay input (plain or gzip), mapping failures to exit 3.
pub(crate) fn ticklane_replay_input(p: &Path) -> Result<ticklane_replay::input::Input, Failure> {
    ticklane_replay::input::open(p)
        .with_context(|| format!("cannot open {}", p.display()))
        .map_err(input_failure)
}

/// `ticklane verify MANIFEST`.
fn verify(manifest: &Path) -> Result<u8, Failure> {
    let verdict = ticklane_replay::run::verify(manifest, strategies()).map_err(|e| Failure {
        code: exit_code(e.kind()),
        err: e.into(),
    })?;
    match verdict {
        Verdict::Match(d) => {
            println!("verify: ok: the re-run gives the manifest's digest");
            println!("digest: {d}");
            Ok(0)
        }
        Verdict::InputsDiffer(lines) => {
            for l in lines {
                println!("verify: differs: {l}");
            }
            println!("verify: FAILED: the inputs are not the ones the manifest records (nothing was re-run)");
            Ok(exit::CHECK)
        }
        Verdict::Differs(lines) => {
            for l in lines {
                println!("verify: differs: {l}");
            }
            println!("verify: FAILED: the re-run does not reproduce the manifest");
            Ok(exit::CHECK)
        }
    }
}

/// Creates an output file, buffered.
pub(crate) fn create(path: &Path) -> Result<BufWriter<File>> {
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 16, f))
}
