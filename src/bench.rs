//! `ticklane bench itch`, `bench latency` and `bench backtest`: the arguments, the input in
//! memory, and the report. The runners are the library's (`ticklane_replay::bench`); `bench
//! latency` drives the library's threaded pipeline and writes its histograms and plot.

use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use ticklane_engine::config::Range;
use ticklane_replay::bench;
use ticklane_replay::stages::pipeline::PipelineConfig;

use crate::{in_range, input_failure, Failure};

/// Valid `bench itch --runs`.
const PASSES: Range<u32> = Range::new(1, 1000, "timed passes");
/// Valid `--sample-every`.
const SAMPLE_EVERY: Range<u64> = Range::new(1, 1_000_000, "messages per latency sample");
/// Valid `bench latency --messages` (generated into memory, about 40 bytes each).
const MESSAGES: Range<u64> = Range::new(1, 100_000_000, "generated messages");
/// Valid `bench backtest --runs`.
const BACKTEST_RUNS: Range<u32> = Range::new(1, 100_000, "timed runs");

#[derive(Args)]
pub struct ItchBenchArgs {
    /// ITCH 5.0 BinaryFILE, plain or gzip (decompressed into memory before timing).
    file: PathBuf,
    /// Timed passes per measurement; the best pass is reported (the least disturbed by the
    /// machine's other work); 1..=1000.
    #[arg(long, default_value_t = 3, value_parser = in_range("--runs", PASSES))]
    runs: u32,
    /// Time one book apply in every N messages for the latency distribution. Timing every
    /// message would measure the clock more than the book; 1..=1000000.
    #[arg(long, default_value_t = 64, value_parser = in_range("--sample-every", SAMPLE_EVERY))]
    sample_every: u64,
}

pub fn itch(a: ItchBenchArgs) -> Result<u8, Failure> {
    let mut input = ticklane_replay::run::input::open(&a.file).map_err(input_failure)?;
    let mut data = Vec::new();
    input
        .reader
        .read_to_end(&mut data)
        .with_context(|| format!("reading {}", a.file.display()))?;
    if !bench::itch::looks_like_itch(&data) {
        return Err(input_failure(anyhow::anyhow!(
            "{}: not an ITCH 5.0 BinaryFILE",
            a.file.display()
        )));
    }
    println!(
        "input:         {} ({} bytes in memory)",
        a.file.display(),
        data.len()
    );
    print!("{}", bench::itch::run(&data, a.runs, a.sample_every));
    Ok(0)
}

#[derive(Args)]
pub struct LatencyBenchArgs {
    /// ITCH 5.0 BinaryFILE to drive the pipeline with (loaded into memory first). Without it, a
    /// built-in generator makes a multi-symbol stream (--messages, --symbols, --seed).
    file: Option<PathBuf>,
    /// Messages per second fed into the pipeline (1..=1000000000), or `max` for as fast as it
    /// goes.
    #[arg(long, default_value = "1000000")]
    rate: String,
    /// Generated messages when no file is given (held in memory: 1..=100000000).
    #[arg(long, default_value_t = 2_000_000, value_parser = in_range("--messages", MESSAGES))]
    messages: u64,
    /// Generated symbols when no file is given (1..=10000).
    #[arg(long, default_value_t = 200, value_parser = in_range("--symbols", crate::convert::SYMBOLS))]
    symbols: u16,
    /// Generator seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    layout: crate::LayoutArgs,
    /// Messages per merge epoch with several shards: outputs wait up to this many messages to
    /// be put back in input order (1..=1048576).
    #[arg(long, default_value_t = 64, value_parser = in_range("--epoch", PipelineConfig::EPOCH))]
    epoch: u64,
    /// Directory for the histograms (.hgrm percentile distributions) and the SVG plot.
    #[arg(long, default_value = "latency-report")]
    out: PathBuf,
}

pub fn latency(a: LatencyBenchArgs) -> Result<u8, Failure> {
    use ticklane_replay::stages::pipeline::replay_itch_threaded;

    let rate = match a.rate.trim() {
        "max" => None,
        r => Some(
            r.replace('_', "")
                .parse::<u64>()
                .map_err(|_| {
                    anyhow::anyhow!(
                        "--rate {r}: expected a number of messages per second ({}) or `max`",
                        PipelineConfig::RATE
                    )
                })
                .and_then(|v| Ok(PipelineConfig::RATE.check("--rate", v)?))
                .map_err(|err| Failure { code: 2, err })?,
        ),
    };
    let data = match &a.file {
        Some(path) => {
            let mut input = ticklane_replay::run::input::open(path).map_err(input_failure)?;
            let mut data = Vec::new();
            input
                .reader
                .read_to_end(&mut data)
                .with_context(|| format!("reading {}", path.display()))?;
            data
        }
        None => {
            let cfg = ticklane_feeds::itch::synth::SynthConfig {
                seed: a.seed,
                symbols: a.symbols,
                messages: a.messages,
                ..Default::default()
            };
            let mut data = Vec::new();
            ticklane_feeds::itch::synth::generate(&cfg, &mut data)?;
            data
        }
    };
    let cfg = PipelineConfig {
        shards: usize::from(a.layout.shards),
        cores: a.layout.cores.clone(),
        wait: a.layout.wait,
        rate,
        epoch: a.epoch,
        latency: true,
    };
    println!("pipeline:      {}", cfg.plan());
    println!(
        "input:         {} ({} bytes), rate {}, wait {}",
        a.file.as_ref().map_or_else(
            || format!("generated, seed {}", a.seed),
            |p| p.display().to_string()
        ),
        data.len(),
        rate.map_or_else(|| "max".to_owned(), |r| format!("{r} msgs/s")),
        cfg.wait
    );
    let run = replay_itch_threaded(
        ticklane_feeds::itch::framing::FrameReader::new(std::io::Cursor::new(data)),
        ticklane_replay::ItchReplayOptions::default(),
        &cfg,
    )
    .map_err(|e| match e {
        ticklane_replay::ReplayError::NotItch(_) => input_failure(e),
        other => Failure::from(other),
    })?;
    print!("{}", bench::latency::LatencyTable(&run));
    let title = format!(
        "ticklane pipeline latency, {} shard(s), {}",
        a.layout.shards,
        rate.map_or_else(|| "max rate".to_owned(), |r| format!("{r} msgs/s"))
    );
    bench::latency::write_files(&run, &a.out, &title)?;
    println!(
        "wrote {}/{{ingest_to_book.hgrm, ingest_to_output.hgrm, latency.svg}}",
        a.out.display()
    );
    Ok(0)
}

#[derive(Args)]
pub struct BacktestBenchArgs {
    /// ITCH 5.0 BinaryFILE, plain or gzip (decompressed into memory before timing).
    file: PathBuf,
    /// The strategy to backtest.
    #[arg(long, default_value = "market_maker")]
    strategy: String,
    /// Backtest configuration (TOML), as for `replay --exec-config`.
    #[arg(long, value_name = "PATH")]
    exec_config: Option<PathBuf>,
    /// Timed runs of each variant; the median and best are reported. Small inputs need many:
    /// the first runs pay for page faults and cold caches; 1..=100000.
    #[arg(long, default_value_t = 50, value_parser = in_range("--runs", BACKTEST_RUNS))]
    runs: u32,
}

/// `ticklane bench backtest`: the backtest loop against the loop without a strategy, on
/// engines built once and reset per run ([`bench::backtest`]).
pub fn backtest(a: BacktestBenchArgs) -> Result<u8, Failure> {
    let mut data = Vec::new();
    crate::ticklane_replay_input(&a.file)?
        .reader
        .read_to_end(&mut data)
        .with_context(|| format!("reading {}", a.file.display()))?;
    let plan = crate::backtest::plan(
        &a.file,
        &[],
        &a.strategy,
        None,
        None,
        a.exec_config.as_deref(),
        Default::default(),
    )
    .map_err(|err| Failure { code: 2, err })?;
    // Built once here, so a bad name fails as bad usage; the runs build it again.
    crate::strategies()
        .build(&a.strategy, None)
        .map_err(|e| Failure {
            code: 2,
            err: e.into(),
        })?;
    let build = || {
        crate::strategies()
            .build(&a.strategy, None)
            .expect("the strategy was built once")
    };
    let r = bench::backtest::run(&data, &a.strategy, &plan.options, a.runs, build)?;
    println!(
        "input:      {} ({} events), {} runs of each on a reused engine",
        a.file.display(),
        r.events,
        r.runs
    );
    print!("{r}");
    Ok(0)
}

/// Valid `bench journal --batches`.
const JOURNAL_BATCHES: Range<u64> = Range::new(1, 10_000_000, "journal batches");
/// Valid `bench journal --batch-bytes`.
const JOURNAL_BATCH_BYTES: Range<u64> = Range::new(20, 4 << 20, "bytes a batch");

#[derive(Args)]
pub struct JournalBenchArgs {
    /// The `[journal] fsync` policy: `never`, `every_batch`, or a number of milliseconds
    /// (`{ interval_ms = N }`).
    #[arg(long, default_value = "never")]
    fsync: String,
    /// Receive batches committed (one write each); 1..=10000000.
    #[arg(long, default_value_t = 20_000, value_parser = in_range("--batches", JOURNAL_BATCHES))]
    batches: u64,
    /// Bytes of datagrams a batch (split into datagrams of up to 1400 bytes); 20..=4194304.
    #[arg(long, default_value_t = 14_000, value_parser = in_range("--batch-bytes", JOURNAL_BATCH_BYTES))]
    batch_bytes: u64,
    /// Directory for the journal (removed afterwards): put it on the disk the daemon will
    /// use. Default: the system's temporary directory.
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// Commits `--batches` receive batches to a journal under the `--fsync` policy, as the live
/// daemon's receive thread does, and reports the time per commit.
pub fn journal(a: JournalBenchArgs) -> Result<u8, Failure> {
    use std::time::Instant;
    use ticklane_feeds::journal::RecordKind;
    use ticklane_feeds::journal_file::{Fsync, OnExists, SegmentPolicy, SegmentWriter};

    let fsync = match a.fsync.as_str() {
        "never" => Fsync::Never,
        "every_batch" => Fsync::EveryBatch,
        ms => match ms.parse::<u64>() {
            Ok(n) if (1..=3_600_000).contains(&n) => Fsync::IntervalMs(n),
            _ => {
                return Err(crate::usage_failure(anyhow::anyhow!(
                    "--fsync {ms}: expected never, every_batch or milliseconds 1..=3600000"
                )))
            }
        },
    };
    let base = a.dir.unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("ticklane-bench-journal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let policy = SegmentPolicy {
        segment_bytes: 1 << 40,
        segment_ns: 0,
        fsync,
        stage_bytes: 4 << 20,
    };
    let t0 = Instant::now();
    let mut w = SegmentWriter::create(&dir.join("bench.journal"), policy, OnExists::Append, 0)
        .context("creating the journal")?;
    let datagram = vec![0x5Au8; 1400];
    let mut lat = Vec::with_capacity(a.batches as usize);
    let started = Instant::now();
    for i in 0..a.batches {
        let mut left = a.batch_bytes as usize;
        while left > 0 {
            let n = left.min(datagram.len());
            w.stage(RecordKind::Packet, i, 0, &datagram[..n]);
            left -= n;
        }
        let t = Instant::now();
        w.commit(0).context("writing the journal")?;
        lat.push(t.elapsed().as_nanos() as u64);
        w.clear();
    }
    let run_s = started.elapsed().as_secs_f64();
    let written = w.close(0).context("closing the journal")?;
    let total_s = t0.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    lat.sort_unstable();
    let q = |p: f64| lat[((lat.len() - 1) as f64 * p).round() as usize];
    println!(
        "journal:       fsync {fsync}, {} batches of {} bytes ({} records, {} bytes) in {}",
        a.batches,
        a.batch_bytes,
        written.records,
        written.bytes,
        base.display()
    );
    println!(
        "commit:        p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns; {:.3} s for the batches, {:.1} MB/s; {:.3} s with the close",
        q(0.5),
        q(0.99),
        q(0.999),
        lat[lat.len() - 1],
        run_s,
        written.bytes as f64 / run_s / 1e6,
        total_s
    );
    Ok(0)
}
