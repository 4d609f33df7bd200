//! `ticklane`: the command-line front end. Thin by design: parsing arguments, opening files,
//! showing progress and mapping errors to exit codes; the work happens in the library crates.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use ticklane_engine::config::{Bound, Range};
use ticklane_replay::pipeline::PipelineConfig;

mod backtest;
mod bench;
mod bench_json;
mod convert;
mod crypto;
mod hftbacktest;
mod live;
mod replay_journal;
mod serve;
mod serve_ws;

#[cfg(not(test))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes a script can rely on.
mod exit {
    /// Bad usage: a flag, a strategy or backtest configuration file that cannot be read, or any
    /// configuration with a bad key or a value out of range. Clap's usage errors exit 2 as well.
    pub const USAGE: u8 = 2;
    /// Input data missing, unreadable or not in the expected format.
    pub const INPUT: u8 = 3;
    /// `--strict` and the input had bad records.
    pub const DATA: u8 = 4;
    /// `--check` found the book different from the reference.
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
                  4 bad records in the input with --strict."
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
    Replay(ReplayArgs),
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
    Live(live::LiveArgs),
    /// List the built-in strategies with their config keys, defaults and valid ranges.
    Strategies,
    /// Re-run the backtest a report's manifest.json describes; exit 0 only if the digest matches
    /// (5 if it differs, saying what differs; 3 if an input file changed or is missing).
    Verify {
        /// The manifest.json of a `replay --report DIR` run.
        manifest: PathBuf,
    },
}

#[derive(Args)]
struct ReplayArgs {
    /// ITCH 5.0 BinaryFILE (2-byte big-endian length before each message), or a LOBSTER message
    /// file (TICKER_YYYY-MM-DD_start_end_message_N.csv); plain or gzip, compression detected
    /// from the content, not the name. Not given with --consolidated.
    #[arg(value_name = "FILE", required_unless_present = "consolidated")]
    file_arg: Option<PathBuf>,
    /// FILE, once parsed.
    #[arg(skip)]
    file: PathBuf,
    /// A source of a consolidated (multi-venue) BBO replay: FORMAT:PATH[,label=NAME][,product=ID]
    /// with FORMAT binance, coinbase or kraken; give it once per capture (at least two), e.g.
    /// --consolidated binance:../shared/data/binance/spot_btcusdt_20240808.gz
    /// --consolidated binance:../shared/data/binance/usdm_btcusdt_20240808.gz.
    /// Each source runs through its venue's sync (one product; product= picks one from a
    /// capture holding several, symbol= is a synonym); label= names the venue in the output
    /// (default FORMAT-STEM, STEM the file name up to its first dot). The captures are merged by
    /// (receive time, source order, line order) and after every line the consolidated best bid
    /// and ask over the sources whose books are synced are recomputed (equal prices: the source
    /// given first wins). --bbo-csv then writes one row per change:
    /// ts_recv_ns,bid_px,bid_qty,bid_venue,ask_px,ask_qty,ask_venue,state with prices in 8
    /// decimals, sizes in 1e-8 units, state normal, locked, crossed or one-sided. All sources
    /// must quote the same asset in the same currency (no conversion is applied).
    /// --book-depth and --wire-precision apply to its Kraken sources.
    #[arg(
        long,
        value_name = "FORMAT:PATH[,label=NAME][,product=ID]",
        conflicts_with_all = ["file_arg", "format", "check", "strategy", "accept_unsynced", "symbols", "symbol"]
    )]
    consolidated: Vec<ticklane_replay::consolidated::SourceSpec>,
    /// Input format; auto: LOBSTER when the file name is a LOBSTER message-file name, else ITCH.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    format: Format,
    /// Compare the book with a reference after every step and exit 5 on any difference.
    /// A LOBSTER order-book file (with --format lobster): our top N levels against every row,
    /// the book seeded from its first row. Or a BBO CSV in the --bbo-csv format
    /// (ts_exch_ns,symbol,bid_px,bid_qty,ask_px,ask_qty, one row per change), for any input.
    #[arg(long, value_name = "REFERENCE")]
    check: Option<PathBuf>,
    /// Run a built-in strategy (see `ticklane strategies`); its signals enter the digest. On a
    /// `ticklane live` websocket journal it paper-trades as the live run's `[strategy]` did
    /// (give the same --strategy-config, --exec-config and --queue for the same digest).
    #[arg(long, value_name = "NAME")]
    strategy: Option<String>,
    /// TOML config for --strategy (unknown keys are an error naming the key).
    #[arg(long, value_name = "PATH", requires = "strategy")]
    strategy_config: Option<PathBuf>,
    /// Write the strategy's signals here (`-` for stdout): JSON lines, or CSV for a .csv path.
    #[arg(long, value_name = "PATH", requires = "strategy")]
    signals: Option<PathBuf>,
    /// Backtest configuration (TOML): latency model, queue model, fees, capital, equity
    /// sampling. Without it the strategy's orders are simulated with no latency, FIFO queues and
    /// no fees. See data/exec-example.toml for every key.
    #[arg(long, value_name = "PATH", requires = "strategy")]
    exec_config: Option<PathBuf>,
    /// Queue-position model of the backtest, overriding the config's queue.model: fifo (exact,
    /// needs order-by-order data: ITCH, LOBSTER), conservative (only trades at the order's
    /// price advance it) or probabilistic (level decreases advance it too, with probability
    /// rising with the quantity ahead). L2 data (--format binance|coinbase|kraken, and a
    /// `ticklane live` websocket journal) takes only the last two.
    #[arg(long, value_name = "MODEL", requires = "strategy")]
    queue: Option<String>,
    /// Write the backtest report into DIR: summary.json, equity.svg, trades.csv,
    /// trades.parquet and manifest.json (which `ticklane verify` re-runs).
    #[arg(long, value_name = "DIR", requires = "strategy")]
    report: Option<PathBuf>,
    /// Binance: report the top of book while the book is not synchronized by a snapshot (a
    /// book built from diffs alone), instead of only once it is.
    #[arg(long)]
    accept_unsynced: bool,
    /// Kraken v2: subscribed book depth (v1 captures name it in the channel). Default 10;
    /// 1..=1000.
    #[arg(long, value_name = "N", value_parser = in_range("--book-depth", BOOK_DEPTH))]
    book_depth: Option<usize>,
    /// Kraken v2: a pair's price and quantity decimals on the wire, for its checksum, e.g.
    /// --wire-precision BTC/USD=1,8 (repeatable).
    #[arg(long, value_name = "PAIR=PX,QTY")]
    wire_precision: Vec<String>,
    /// Symbol for a LOBSTER file (default: from its file name).
    #[arg(long)]
    symbol: Option<String>,
    /// With --check against a LOBSTER order-book file: after a row that differs (and is counted
    /// as differing), resynchronize the visible levels from the reference so later rows are
    /// judged on their own instead of inheriting the difference. Level-1 files need it: they
    /// hide every order below the touch, cancellations of hidden orders included.
    #[arg(long, requires = "check")]
    resync: bool,
    /// Restrict outputs (digest, BBO CSV, trades, top symbols) to these symbols; the books are
    /// still built for all. Comma separated, e.g. AAPL,MSFT.
    #[arg(long, value_delimiter = ',')]
    symbols: Vec<String>,
    /// Write every change of a best bid/ask price or size as CSV:
    /// ts_exch_ns,symbol,bid_px,bid_qty,ask_px,ask_qty (prices with 4 decimals; empty side = empty fields).
    #[arg(long, value_name = "PATH")]
    bbo_csv: Option<PathBuf>,
    /// Write the summary as JSON (messages, elapsed_s, msgs_per_sec, digest, counts, errors, ...).
    #[arg(long, value_name = "PATH")]
    summary_json: Option<PathBuf>,
    /// How many of the most active symbols to list with their final BBO (0..=10000).
    #[arg(long, default_value_t = 10, value_parser = in_range("--top", TOP))]
    top: usize,
    /// Exit with code 4 if the input had any bad records (garbage, undecodable messages,
    /// book inconsistencies, a truncated tail). By default they are counted and reported.
    #[arg(long)]
    strict: bool,
    /// Largest jump of a source's time between two messages (exchange time for ITCH and
    /// LOBSTER, receive time for crypto captures), e.g. 90s, 30m, 6h, 2d; 1ms to 400d.
    /// A message whose time jumps further, either way, is counted as bad input ("time
    /// jumps") and applied at the previous message's time, so one corrupted timestamp cannot
    /// drive equity samples, timers or latency models. Two messages in a row at the new time
    /// mark a real gap, which the clock then follows. Default 6h.
    #[arg(long, value_name = "DURATION", value_parser = parse_time_jump)]
    max_time_jump: Option<u64>,
    /// Never show a progress bar (it is shown only when stderr is a terminal).
    #[arg(long)]
    no_progress: bool,
    /// inline: every stage on this thread (the reference); threads: decode, book shards and
    /// output on their own threads joined by SPSC rings; auto: inline below 32 MiB of input.
    /// Both give the same digest.
    #[arg(long, value_enum, default_value_t = PipelineMode::Auto)]
    pipeline: PipelineMode,
    #[command(flatten)]
    layout: LayoutArgs,
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

/// Valid `--book-depth` (Kraken serves at most 1000 levels).
const BOOK_DEPTH: Range<usize> = Range::new(1, 1000, "subscribed book depth, levels");
/// Valid `--top`.
const TOP: Range<usize> = Range::new(0, 10_000, "symbols listed");

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

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Auto,
    Itch,
    Lobster,
    /// A Binance capture: `<receive ns> <frame JSON>` lines (hftbacktest's collector), our JSON
    /// lines or cryptofeed raw; one book per symbol.
    Binance,
    /// A Coinbase Exchange capture (level2, ticker, matches): cryptofeed raw, `<ns> <json>`
    /// lines or JSONL; one book per product.
    Coinbase,
    /// A Kraken capture (websocket v2 or v1 book, trade, ticker), any container; CRC32
    /// checksums verified.
    Kraken,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PipelineMode {
    Auto,
    Inline,
    Threads,
}

#[derive(Subcommand)]
enum BenchCmd {
    /// Load an ITCH file into memory, then report decode-only and decode+book throughput and the
    /// per-message book-apply latency distribution.
    Itch(bench::ItchBenchArgs),
    /// Drive the threaded pipeline at a target rate and report per-hop latency percentiles,
    /// ring high-water marks, HdrHistogram percentile files and an SVG plot.
    Latency(bench::LatencyBenchArgs),
    /// Time the backtest replay loop (strategy, execution simulator, ledger) against the same
    /// loop without a strategy, in one process, over many runs of an engine built once and
    /// reset between runs (the file held in memory); the reset, building the strategy and a
    /// cold one-shot run are reported separately, and every run's digest is checked against
    /// the one-shot run's.
    Backtest(bench::BacktestBenchArgs),
    /// Decode each JSON message type (Binance depth, trade, book ticker; Coinbase l2update;
    /// Kraken v2 book) with our decoder, our simd-json tape path alone and serde_json into the
    /// same records, in one process; print ns per message and the serde_json/ours ratios.
    Json(bench_json::JsonBenchArgs),
}

#[derive(Subcommand)]
enum ServeCmd {
    /// Publish an ITCH 5.0 BinaryFILE as MoldUDP64 on line A (and B), answer retransmission
    /// requests on 127.0.0.1:--request-port.
    Itch(serve::ServeItchArgs),
    /// Serve a Binance or Coinbase capture as a local websocket venue (subscribe, snapshots
    /// from its own book, REST depth for Binance, seeded disconnects and bad frames).
    #[command(long_about = serve_ws::LONG_ABOUT)]
    Ws(serve_ws::ServeWsArgs),
}

#[derive(Subcommand)]
enum ConvertCmd {
    /// Re-encode a LOBSTER message file as an ITCH 5.0 BinaryFILE.
    Lobster(convert::LobsterArgs),
    /// Write an ITCH 5.0 file as hftbacktest's market-by-order event array (.npz).
    Hftbacktest(hftbacktest::HftbacktestArgs),
}

#[derive(Subcommand)]
enum GenCmd {
    /// Write a seeded, realistic multi-symbol ITCH 5.0 order-flow file (for benchmarks).
    Itch(convert::GenItchArgs),
}

/// An error with the exit code it maps to.
struct Failure {
    code: u8,
    err: anyhow::Error,
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
fn parse_time_jump(s: &str) -> Result<u64, String> {
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

fn usage_failure(e: impl Into<anyhow::Error>) -> Failure {
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

fn input_failure(e: impl Into<anyhow::Error>) -> Failure {
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.cmd, Cmd::Live(_) | Cmd::Serve(_)) {
        default_sigpipe();
    }
    let res = match cli.cmd {
        Cmd::Replay(a) => replay(a),
        Cmd::Bench(BenchCmd::Itch(a)) => bench::itch(a),
        Cmd::Bench(BenchCmd::Latency(a)) => bench::latency(a),
        Cmd::Bench(BenchCmd::Backtest(a)) => bench::backtest(a),
        Cmd::Bench(BenchCmd::Json(a)) => bench_json::json(a),
        Cmd::Convert(ConvertCmd::Lobster(a)) => convert::lobster(a),
        Cmd::Convert(ConvertCmd::Hftbacktest(a)) => hftbacktest::convert(a),
        Cmd::Gen(GenCmd::Itch(a)) => convert::gen_itch(a),
        Cmd::Verify { manifest } => verify(&manifest),
        Cmd::Serve(ServeCmd::Itch(a)) => serve::itch(a),
        Cmd::Serve(ServeCmd::Ws(a)) => serve_ws::ws(a),
        Cmd::Live(a) => live::run(a),
        Cmd::Strategies => {
            for info in ticklane_strategies::list() {
                println!("{:<16} {}", info.name, info.about);
                for k in info.keys {
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

/// Opens a replay input (plain or gzip), mapping failures to exit 3.
fn ticklane_replay_input(p: &Path) -> Result<ticklane_replay::input::Input, Failure> {
    ticklane_replay::input::open(p)
        .with_context(|| format!("cannot open {}", p.display()))
        .map_err(input_failure)
}

fn verify(manifest: &Path) -> Result<u8, Failure> {
    match backtest::verify(manifest)? {
        backtest::VerifyOutcome::Match(d) => {
            println!("verify: ok: the re-run gives the manifest's digest");
            println!("digest: {d}");
            Ok(0)
        }
        backtest::VerifyOutcome::InputsDiffer(lines) => {
            for l in lines {
                eprintln!("verify: {l}");
            }
            eprintln!("verify: FAILED: the inputs are not the ones the manifest records");
            Ok(exit::INPUT)
        }
        backtest::VerifyOutcome::DigestDiffers(lines) => {
            for l in lines {
                println!("verify: differs: {l}");
            }
            println!("verify: FAILED: the re-run does not reproduce the manifest's digest");
            Ok(exit::CHECK)
        }
    }
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 16, f))
}

fn replay(mut a: ReplayArgs) -> Result<u8, Failure> {
    if !a.consolidated.is_empty() {
        return crypto::replay_consolidated(&a);
    }
    a.file = a.file_arg.take().unwrap_or_default();
    let name = a
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let lobster_name = ticklane_feeds::lobster::parse_file_name(name);
    if a.format == Format::Binance {
        return replay_binance(&a);
    }
    if matches!(a.format, Format::Coinbase | Format::Kraken) {
        return crypto::replay_crypto(&a, a.format == Format::Kraken);
    }
    if a.format == Format::Auto && replay_journal::is_journal(&a.file) {
        return replay_journal::replay(&a);
    }
    let is_lobster = match a.format {
        Format::Lobster => true,
        Format::Itch | Format::Binance | Format::Coinbase | Format::Kraken => false,
        Format::Auto => lobster_name.as_ref().is_some_and(|f| f.is_message),
    };
    // A BBO CSV reference: capture our BBO changes and compare after the run.
    let bbo_reference = match &a.check {
        Some(p) => {
            let mut first = String::new();
            std::io::BufRead::read_line(
                &mut std::io::BufReader::new(
                    File::open(p)
                        .with_context(|| format!("cannot open {}", p.display()))
                        .map_err(input_failure)?,
                ),
                &mut first,
            )
            .with_context(|| format!("reading {}", p.display()))?;
            first.starts_with(ticklane_replay::bbo_csv::HEADER)
        }
        None => false,
    };
    if a.check.is_some() && !bbo_reference && !is_lobster {
        return Err(input_failure(anyhow::anyhow!(
            "--check {}: not a BBO CSV (header {}); a LOBSTER order-book reference needs a LOBSTER message file",
            a.check.as_ref().map(|p| p.display().to_string()).unwrap_or_default(),
            ticklane_replay::bbo_csv::HEADER
        )));
    }
    if is_lobster {
        return replay_lobster(a, lobster_name, bbo_reference);
    }
    let input = ticklane_replay::input::open(&a.file).map_err(input_failure)?;
    let show_progress =
        !a.no_progress && std::io::stderr().is_terminal() && input.file_len > (8 << 20);
    let bar = show_progress.then(|| {
        let b = indicatif::ProgressBar::new(input.file_len);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let consumed = input.consumed.clone();
    let mut opts = ticklane_replay::ItchReplayOptions {
        symbols: a.symbols.clone(),
        top_n: a.top,
        max_time_jump_ns: a.max_time_jump,
        ..Default::default()
    };
    let capture = SharedBuf::default();
    match (&a.bbo_csv, bbo_reference) {
        (Some(p), false) => opts.bbo_csv = Some(Box::new(create(p)?)),
        (Some(p), true) => opts.bbo_csv = Some(Box::new(Tee(create(p)?, capture.clone()))),
        (None, true) => opts.bbo_csv = Some(Box::new(capture.clone())),
        (None, false) => {}
    }
    if let Some(b) = bar.clone() {
        opts.progress = Some(Box::new(move |_| {
            b.set_position(consumed.load(Ordering::Relaxed))
        }));
    }
    let strategy_cfg = match &a.strategy_config {
        Some(p) => Some(read_config("--strategy-config", p)?),
        None => None,
    };
    let make = |name: &str| ticklane_strategies::build(name, strategy_cfg.as_deref());
    if let Some(name) = &a.strategy {
        make(name).map_err(|e| Failure {
            code: 2,
            err: e.into(),
        })?;
        if let Some(p) = &a.signals {
            let w: Box<dyn Write> = if p.as_os_str() == "-" {
                Box::new(std::io::stdout())
            } else {
                Box::new(create(p)?)
            };
            opts.signals = Some(w);
            opts.signal_format = Some(if p.extension().is_some_and(|e| e == "csv") {
                ticklane_replay::signals::SignalFormat::Csv
            } else {
                ticklane_replay::signals::SignalFormat::JsonLines
            });
        }
    }
    let plan = match &a.strategy {
        Some(name) => {
            let p = backtest::plan(
                &a.file,
                &a.symbols,
                name,
                a.strategy_config.as_deref(),
                strategy_cfg.as_deref(),
                a.exec_config.as_deref(),
                backtest::DataPlan {
                    queue: a.queue.as_deref(),
                    max_time_jump_ns: a.max_time_jump,
                    ..Default::default()
                },
            )
            .map_err(|err| Failure { code: 2, err })?;
            opts.backtest = Some(p.options.clone());
            Some(p)
        }
        None => None,
    };
    let threads = match a.pipeline {
        PipelineMode::Inline => false,
        PipelineMode::Threads => true,
        PipelineMode::Auto => input.file_len >= (32 << 20),
    };
    let reader = ticklane_feeds::itch::framing::FrameReader::new(input.reader);
    let not_itch = |e: ticklane_replay::ReplayError| match e {
        ticklane_replay::ReplayError::NotItch(_) => {
            input_failure(anyhow::Error::new(e).context(format!("{}", a.file.display())))
        }
        other => Failure::from(other),
    };
    let summary = if threads {
        let cfg = ticklane_replay::pipeline::PipelineConfig {
            shards: usize::from(a.layout.shards),
            cores: a.layout.cores.clone(),
            wait: a.layout.wait,
            rate: None,
            epoch: ticklane_replay::pipeline::EPOCH,
        };
        eprintln!("pipeline: threads ({}), wait: {}", cfg.plan(), cfg.wait);
        let run = match &a.strategy {
            Some(name) => {
                ticklane_replay::pipeline::replay_itch_threaded_with(reader, opts, &cfg, || {
                    make(name).expect("the strategy was built once above with the same config")
                })
            }
            None => ticklane_replay::pipeline::replay_itch_threaded(reader, opts, &cfg),
        }
        .map_err(not_itch)?;
        let q = |h: &hdrhistogram::Histogram<u64>| {
            format!(
                "p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.99),
                h.value_at_quantile(0.999),
                h.max()
            )
        };
        eprintln!("latency ingest→book:   {}", q(&run.latency.ingest_to_book));
        eprintln!(
            "latency ingest→output: {}",
            q(&run.latency.ingest_to_output)
        );
        run.summary
    } else {
        match &a.strategy {
            Some(name) => {
                let s = make(name).map_err(|e| Failure {
                    code: 2,
                    err: e.into(),
                })?;
                ticklane_replay::replay_itch_with(reader, opts, s)
            }
            None => ticklane_replay::replay_itch(reader, opts),
        }
        .map_err(not_itch)?
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if summary.bytes == 0 && summary.errors.io.is_none() {
        // A device or pipe with nothing in it (a regular empty file is refused on open).
        return Err(input_failure(anyhow::anyhow!(
            "{}: the input is empty",
            a.file.display()
        )));
    }
    if let Some(p) = &a.summary_json {
        let mut w = create(p)?;
        serde_json::to_writer_pretty(&mut w, &summary)?;
        writeln!(w)?;
        w.flush()
            .with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(t) = summary.errors.truncated_tail {
        eprintln!(
            "warning: {} ends in the middle of a message at byte {} (needs {} bytes, has {}); everything before it was replayed",
            a.file.display(),
            t.offset,
            t.need,
            t.have
        );
    }
    // The check's lines first: the digest stays the last line.
    let check_code = if bbo_reference {
        check_bbo_csv(&a, &capture)?
    } else {
        None
    };
    if let Some(p) = &plan {
        backtest::finish(&summary, p, a.report.as_deref())?;
    }
    println!("{summary}");
    if let Some(code) = check_code {
        return Ok(code);
    }
    if let Some(io) = &summary.errors.io {
        // The summary covers what was read; the input itself is broken (a corrupt gzip
        // stream, say), which is bad input whether or not --strict was given.
        eprintln!(
            "error: {}: reading stopped at {} decompressed bytes: {io}; the summary covers what was read before",
            a.file.display(),
            summary.bytes
        );
        return Ok(exit::INPUT);
    }
    if a.strict && summary.errors.total() > 0 {
        eprintln!(
            "error: --strict: the input had {} bad records (see errors above)",
            summary.errors.total()
        );
        return Ok(exit::DATA);
    }
    Ok(0)
}

/// A cloneable in-memory sink (the BBO CSV captured for `--check`).
#[derive(Clone, Default)]
struct SharedBuf(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes to a file and a capture at once.
struct Tee<W: Write>(W, SharedBuf);

impl<W: Write> Write for Tee<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.write_all(b)?;
        self.1.write_all(b)?;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Compares the captured BBO CSV with the `--check` reference, row by row. Returns the exit code
/// when they differ.
fn check_bbo_csv(a: &ReplayArgs, capture: &SharedBuf) -> Result<Option<u8>, Failure> {
    let Some(path) = &a.check else {
        return Ok(None);
    };
    let reference = std::fs::read_to_string(path)
        .with_context(|| format!("reading {}", path.display()))
        .map_err(input_failure)?;
    let ours = String::from_utf8_lossy(&capture.0.borrow()).into_owned();
    let (mut theirs_it, mut ours_it) = (reference.lines().skip(1), ours.lines().skip(1));
    let (mut rows, mut equal, mut shown) = (0u64, 0u64, 0);
    loop {
        let (t, o) = (theirs_it.next(), ours_it.next());
        if t.is_none() && o.is_none() {
            break;
        }
        rows += 1;
        if t == o {
            equal += 1;
        } else if shown < 5 {
            shown += 1;
            println!(
                "mismatch at BBO row {rows} (line {} of {}):",
                rows + 1,
                path.display()
            );
            println!("  ours   {}", o.unwrap_or("(no more rows)"));
            println!("  theirs {}", t.unwrap_or("(no more rows)"));
        }
    }
    println!(
        "check:         {rows} BBO rows compared, {equal} equal, {} differ",
        rows - equal
    );
    Ok((equal != rows || rows == 0).then_some(exit::CHECK))
}

fn replay_lobster(
    a: ReplayArgs,
    name: Option<ticklane_feeds::lobster::LobsterFileName>,
    bbo_reference: bool,
) -> Result<u8, Failure> {
    use ticklane_feeds::lobster::to_itch::ConvertOptions;
    let symbol = match (&a.symbol, &name) {
        (Some(s), _) => s.clone(),
        (None, Some(n)) => n.symbol.clone(),
        (None, None) => {
            return Err(input_failure(anyhow::anyhow!(
                "{}: cannot tell the symbol from the file name (expected TICKER_YYYY-MM-DD_start_end_message_N.csv); pass --symbol",
                a.file.display()
            )))
        }
    };
    let messages = ticklane_replay::input::open(&a.file).map_err(input_failure)?;
    let messages = std::io::BufReader::with_capacity(1 << 16, messages.reader);
    let mut orderbook = match (&a.check, bbo_reference) {
        (Some(p), false) => {
            let input = ticklane_replay::input::open(p).map_err(input_failure)?;
            Some(std::io::BufReader::with_capacity(1 << 16, input.reader))
        }
        _ => None,
    };
    let capture = SharedBuf::default();
    let mut opts = ticklane_replay::ItchReplayOptions {
        symbols: a.symbols.clone(),
        top_n: a.top,
        max_time_jump_ns: a.max_time_jump,
        ..Default::default()
    };
    match (&a.bbo_csv, bbo_reference) {
        (Some(p), false) => opts.bbo_csv = Some(Box::new(create(p)?)),
        (Some(p), true) => opts.bbo_csv = Some(Box::new(Tee(create(p)?, capture.clone()))),
        (None, true) => opts.bbo_csv = Some(Box::new(capture.clone())),
        (None, false) => {}
    }
    let conv = ConvertOptions {
        symbol,
        locate: 1,
        resync: a.resync,
    };
    let check = orderbook.is_some();
    let (summary, stats, report) = ticklane_replay::lobster::replay_lobster(
        messages,
        orderbook.as_mut().map(|b| b as &mut dyn std::io::BufRead),
        check,
        &conv,
        opts,
    )
    .map_err(|e| input_failure(anyhow::Error::new(e).context(format!("{}", a.file.display()))))?;
    if let Some(p) = &a.summary_json {
        let mut w = create(p)?;
        serde_json::to_writer_pretty(&mut w, &summary)?;
        writeln!(w)?;
        w.flush()
            .with_context(|| format!("writing {}", p.display()))?;
    }
    eprintln!("lobster:       {stats}");
    let mut code = 0;
    if let Some(r) = &report {
        print!("{r}");
        if !r.passed() {
            code = exit::CHECK;
        }
    }
    if bbo_reference {
        if let Some(c) = check_bbo_csv(&a, &capture)? {
            code = c;
        }
    }
    println!("{summary}");
    if code == 0 && a.strict && summary.errors.total() > 0 {
        return Ok(exit::DATA);
    }
    Ok(code)
}

fn replay_binance(a: &ReplayArgs) -> Result<u8, Failure> {
    let input = ticklane_replay::input::open(&a.file).map_err(input_failure)?;
    let mut opts = ticklane_replay::binance::BinanceReplayOptions {
        accept_unsynced: a.accept_unsynced,
        max_time_jump_ns: a.max_time_jump,
        ..Default::default()
    };
    if let Some(p) = &a.bbo_csv {
        opts.bbo_csv = Some(Box::new(create(p)?));
    }
    let mut send_bt = None;
    let plan = crypto::l2_backtest(
        a,
        backtest::DataPlan {
            l2_format: Some("binance"),
            accept_unsynced: a.accept_unsynced,
            queue: a.queue.as_deref(),
            max_time_jump_ns: a.max_time_jump,
            ..Default::default()
        },
    )?
    .map(|(strategy, p)| {
        send_bt = Some((strategy, p.options.clone()));
        p
    });
    if a.pipeline != PipelineMode::Threads {
        opts.backtest = send_bt
            .take()
            .map(|(st, o)| (st as Box<dyn ticklane_engine::strategy::Strategy>, o));
    }
    let s = if a.pipeline == PipelineMode::Threads {
        let cfg = PipelineConfig {
            shards: usize::from(a.layout.shards),
            cores: a.layout.cores.clone(),
            wait: a.layout.wait,
            rate: None,
            epoch: ticklane_replay::pipeline::EPOCH,
        };
        eprintln!("pipeline: threads ({}), wait: {}", cfg.plan(), cfg.wait);
        let l2 = ticklane_replay::l2state::CryptoReplayOptions {
            accept_unsynced: opts.accept_unsynced,
            bbo_csv: opts.bbo_csv.take(),
            max_time_jump_ns: opts.max_time_jump_ns,
            ..Default::default()
        };
        ticklane_replay::pipeline::replay_l2_threaded(
            ticklane_replay::venue::VenueFormat::Binance,
            input.reader,
            l2,
            send_bt.take(),
            &cfg,
        )
        .map(|(s, _)| ticklane_replay::binance::BinanceSummary::from_l2(s))
        .map_err(ticklane_replay::binance::BinanceReplayError::from_l2)
    } else {
        ticklane_replay::binance::replay_binance(
            std::io::BufReader::with_capacity(1 << 16, input.reader),
            opts,
        )
    }
    .map_err(|e| match e {
        ticklane_replay::binance::BinanceReplayError::NotBinance(_)
        | ticklane_replay::binance::BinanceReplayError::Read(_) => {
            input_failure(anyhow::Error::new(e).context(format!("{}", a.file.display())))
        }
        ticklane_replay::binance::BinanceReplayError::Backtest(_) => Failure {
            code: 2,
            err: e.into(),
        },
        other => Failure::from(other),
    })?;
    crypto::l2_finish(a, &s, s.report_input(), &s.digest, plan.as_ref())?;
    println!("{s}");
    if a.strict && (s.bad_lines + s.time_jump_forward + s.time_jump_backward > 0 || s.resyncs > 0) {
        return Ok(exit::DATA);
    }
    Ok(0)
}
