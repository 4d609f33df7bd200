//! `ticklane`: the command-line front end. Thin by design: parsing arguments, opening files,
//! showing progress and mapping errors to exit codes; the work happens in the library crates.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

mod bench;
mod convert;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes a script can rely on.
mod exit {
    /// Input missing, unreadable or not in the expected format.
    pub const INPUT: u8 = 3;
    /// `--strict` and the input had bad records.
    pub const DATA: u8 = 4;
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
                  Exit codes: 0 ok, 1 other failure, 2 bad usage, 3 input missing or not in the expected format, \
                  4 bad records in the input with --strict."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
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
}

#[derive(Args)]
struct ReplayArgs {
    /// ITCH 5.0 BinaryFILE (2-byte big-endian length before each message), plain or gzip;
    /// compression is detected from the content, not the name.
    file: PathBuf,
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
    /// How many of the most active symbols to list with their final BBO.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Exit with code 4 if the input had any bad records (garbage, undecodable messages,
    /// book inconsistencies, a truncated tail). By default they are counted and reported.
    #[arg(long)]
    strict: bool,
    /// Never show a progress bar (it is shown only when stderr is a terminal).
    #[arg(long)]
    no_progress: bool,
    /// inline: every stage on this thread (the reference); threads: decode, book shards and
    /// output on their own threads joined by SPSC rings; auto: inline below 32 MiB of input.
    /// Both give the same digest.
    #[arg(long, value_enum, default_value_t = PipelineMode::Auto)]
    pipeline: PipelineMode,
    /// Book shards for --pipeline threads (instruments are split by locate modulo N).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    shards: u16,
    /// Cores to pin the stages to, in order: decode, shard 0..N-1, output. E.g. --cores 2,3,4.
    #[arg(long, value_delimiter = ',')]
    cores: Vec<usize>,
    /// How stages wait on rings: spin (only on dedicated cores), yield (spin then yield), park.
    #[arg(long, default_value = "yield")]
    wait: ticklane_engine::wait::WaitStrategy,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PipelineMode {
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
}

#[derive(Subcommand)]
enum ConvertCmd {
    /// Re-encode a LOBSTER message file as an ITCH 5.0 BinaryFILE.
    Lobster(convert::LobsterArgs),
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
        Failure { code: exit::OTHER, err: e.into() }
    }
}

fn input_failure(e: impl Into<anyhow::Error>) -> Failure {
    Failure { code: exit::INPUT, err: e.into() }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let res = match cli.cmd {
        Cmd::Replay(a) => replay(a),
        Cmd::Bench(BenchCmd::Itch(a)) => bench::itch(a),
        Cmd::Bench(BenchCmd::Latency(a)) => bench::latency(a),
        Cmd::Convert(ConvertCmd::Lobster(a)) => convert::lobster(a),
        Cmd::Gen(GenCmd::Itch(a)) => convert::gen_itch(a),
    };
    match res {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("error: {:#}", f.err);
            ExitCode::from(f.code)
        }
    }
}

fn create(path: &Path) -> Result<BufWriter<File>> {
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 16, f))
}

fn replay(a: ReplayArgs) -> Result<u8, Failure> {
    let input = ticklane_replay::input::open(&a.file).map_err(input_failure)?;
    let show_progress = !a.no_progress && std::io::stderr().is_terminal() && input.file_len > (8 << 20);
    let bar = show_progress.then(|| {
        let b = indicatif::ProgressBar::new(input.file_len);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let consumed = input.consumed.clone();
    let mut opts = ticklane_replay::ItchReplayOptions { symbols: a.symbols.clone(), top_n: a.top, ..Default::default() };
    if let Some(p) = &a.bbo_csv {
        opts.bbo_csv = Some(Box::new(create(p)?));
    }
    if let Some(b) = bar.clone() {
        opts.progress = Some(Box::new(move |_| b.set_position(consumed.load(Ordering::Relaxed))));
    }
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
            shards: usize::from(a.shards),
            cores: a.cores.clone(),
            wait: a.wait,
            rate: None,
            epoch: ticklane_replay::pipeline::EPOCH,
        };
        eprintln!("pipeline: threads ({}), wait: {}", cfg.plan(), cfg.wait);
        let run = ticklane_replay::pipeline::replay_itch_threaded(reader, opts, &cfg).map_err(not_itch)?;
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
        eprintln!("latency ingest→output: {}", q(&run.latency.ingest_to_output));
        run.summary
    } else {
        ticklane_replay::replay_itch(reader, opts).map_err(not_itch)?
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Some(p) = &a.summary_json {
        let mut w = create(p)?;
        serde_json::to_writer_pretty(&mut w, &summary)?;
        writeln!(w)?;
        w.flush().with_context(|| format!("writing {}", p.display()))?;
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
    println!("{summary}");
    if a.strict && summary.errors.total() > 0 {
        eprintln!("error: --strict: the input had {} bad records (see errors above)", summary.errors.total());
        return Ok(exit::DATA);
    }
    Ok(0)
}
