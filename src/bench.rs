//! `ticklane bench itch`: decode and book throughput on a file held in memory, and the
//! per-message book-apply latency distribution.

use std::hint::black_box;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use hdrhistogram::Histogram;
use ticklane_engine::book::L3Books;
use ticklane_engine::config::Range;
use ticklane_engine::{Nanos, SourceId};
use ticklane_feeds::itch::decode;
use ticklane_feeds::itch::framing::SliceFrames;
use ticklane_feeds::itch::normalize::Normalizer;
use ticklane_replay::pipeline::PipelineConfig;

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

struct Pass {
    msgs: u64,
    secs: f64,
}

impl Pass {
    fn line(&self, what: &str) -> String {
        format!(
            "{what:<14} {:>12.0} msgs/s  {:>7.1} ns/msg  ({} msgs in {:.3} s)",
            self.msgs as f64 / self.secs,
            self.secs * 1e9 / self.msgs as f64,
            self.msgs,
            self.secs
        )
    }
}

fn decode_pass(data: &[u8]) -> Pass {
    let t = Instant::now();
    let mut msgs = 0u64;
    let mut acc = 0u64;
    for f in SliceFrames::new(data).flatten() {
        if let Ok(m) = decode(black_box(f.bytes)) {
            acc = acc.wrapping_add(m.common().timestamp);
            msgs += 1;
        }
    }
    black_box(acc);
    Pass {
        msgs,
        secs: t.elapsed().as_secs_f64(),
    }
}

fn book_pass(data: &[u8]) -> (Pass, u64) {
    let mut books = L3Books::with_capacity(1 << 14, 16, 0);
    let mut norm = Normalizer::new(SourceId(0));
    let t = Instant::now();
    let mut msgs = 0u64;
    let mut errors = 0u64;
    for f in SliceFrames::new(data).flatten() {
        let Ok(m) = decode(black_box(f.bytes)) else {
            continue;
        };
        msgs += 1;
        if let Some(ev) = norm.normalize(&m, msgs, Nanos(0)) {
            if books.apply(&ev).is_err() {
                errors += 1;
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    black_box(&books);
    (Pass { msgs, secs }, errors)
}

fn latency_pass(data: &[u8], every: u64) -> (Histogram<u64>, u64) {
    let mut books = L3Books::with_capacity(1 << 14, 16, 0);
    let mut norm = Normalizer::new(SourceId(0));
    let mut hist = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3)
        .expect("static histogram bounds are valid");
    let every = every.max(1);
    let mut n = 0u64;
    for f in SliceFrames::new(data).flatten() {
        let Ok(m) = decode(f.bytes) else { continue };
        n += 1;
        let Some(ev) = norm.normalize(&m, n, Nanos(0)) else {
            continue;
        };
        if n.is_multiple_of(every) {
            let t = Instant::now();
            let r = books.apply(black_box(&ev));
            let dt = t.elapsed().as_nanos() as u64;
            black_box(r).ok();
            hist.saturating_record(dt.max(1));
        } else {
            books.apply(&ev).ok();
        }
    }
    // The cost of reading the clock twice, to read the percentiles against.
    let mut overhead = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3)
        .expect("static histogram bounds are valid");
    for _ in 0..100_000 {
        let t = Instant::now();
        overhead.saturating_record((t.elapsed().as_nanos() as u64).max(1));
    }
    (hist, overhead.value_at_quantile(0.5))
}

pub fn itch(a: ItchBenchArgs) -> Result<u8, Failure> {
    let mut input = ticklane_replay::input::open(&a.file).map_err(input_failure)?;
    let mut data = Vec::new();
    input
        .reader
        .read_to_end(&mut data)
        .with_context(|| format!("reading {}", a.file.display()))?;
    let frames = SliceFrames::new(&data)
        .take(4)
        .filter(Result::is_ok)
        .count();
    if frames == 0 {
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
    let runs = a.runs.max(1);
    let best = |mut v: Vec<Pass>| {
        v.sort_by(|x, y| x.secs.total_cmp(&y.secs));
        v.swap_remove(0)
    };
    let dec = best((0..runs).map(|_| decode_pass(&data)).collect());
    let mut errs = 0;
    let book = best(
        (0..runs)
            .map(|_| {
                let (p, e) = book_pass(&data);
                errs = e;
                p
            })
            .collect(),
    );
    println!("{}", dec.line("decode:"));
    println!("{}", book.line("decode+book:"));
    println!(
        "book share:    {:.1} ns/msg of book apply on top of decode (best of {runs} runs each)",
        (book.secs - dec.secs).max(0.0) * 1e9 / book.msgs as f64
    );
    if errs > 0 {
        println!("book errors:   {errs} (events inconsistent with the book, counted and skipped)");
    }
    let (h, overhead) = latency_pass(&data, a.sample_every);
    println!(
        "book apply latency (1 in {} messages, {} samples; clock read pair costs ~{} ns and is included):",
        a.sample_every,
        h.len(),
        overhead
    );
    println!(
        "  p50 {} ns  p90 {} ns  p99 {} ns  p99.9 {} ns  p99.99 {} ns  max {} ns",
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.9),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.value_at_quantile(0.9999),
        h.max()
    );
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
    use ticklane_replay::latency_report::{svg_plot, write_hgrm};
    use ticklane_replay::pipeline::{replay_itch_threaded, PipelineConfig};

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
            let mut input = ticklane_replay::input::open(path).map_err(input_failure)?;
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
    let s = &run.summary;
    println!(
        "replayed:      {} msgs in {:.3} s ({:.0} msgs/s), digest {}",
        s.messages, s.elapsed_s, s.msgs_per_sec, s.digest
    );
    let hops = [
        ("ingest→book", &run.latency.ingest_to_book),
        ("ingest→output (end to end)", &run.latency.ingest_to_output),
    ];
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "latency (ns)", "p50", "p90", "p99", "p99.9", "p99.99", "max", "samples"
    );
    for (name, h) in hops {
        println!(
            "{name:<28} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.9),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.value_at_quantile(0.9999),
            h.max(),
            h.len()
        );
    }
    println!(
        "{:<28} {:>9} {:>9} {:>12}",
        "ring", "capacity", "high-water", "full events"
    );
    for r in &run.rings {
        println!(
            "{:<28} {:>9} {:>9} {:>12}",
            r.name, r.capacity, r.high_water, r.full_events
        );
    }
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    for (file, h) in [
        ("ingest_to_book.hgrm", hops[0].1),
        ("ingest_to_output.hgrm", hops[1].1),
    ] {
        let path = a.out.join(file);
        let mut w = crate::create(&path)?;
        write_hgrm(h, &mut w).with_context(|| format!("writing {}", path.display()))?;
        w.flush()
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let title = format!(
        "ticklane pipeline latency, {} shard(s), {}",
        a.layout.shards,
        rate.map_or_else(|| "max rate".to_owned(), |r| format!("{r} msgs/s"))
    );
    let svg = a.out.join("latency.svg");
    std::fs::write(&svg, svg_plot(&title, &hops))
        .with_context(|| format!("writing {}", svg.display()))?;
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

/// `ticklane bench backtest`: the replay loop of a backtest (decode, book, strategy, execution
/// simulator, ledger, digest) against the same loop without a strategy, alternating in one
/// process. Each variant runs on an engine built once and reset before every run (what a user
/// running many backtests over data in memory sees: [`ticklane_replay::ItchEngine`]); the
/// reset, building the strategy and a cold one-shot run (stages built per run, as `replay`
/// does) are timed and reported separately. The digest of every run must equal a one-shot
/// run's.
pub fn backtest(a: BacktestBenchArgs) -> Result<u8, Failure> {
    use ticklane_feeds::itch::framing::FrameReader;
    use ticklane_replay::ItchEngine;

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
    let build = || {
        crate::strategies()
            .build(&a.strategy, None)
            .map_err(|e| Failure {
                code: 2,
                err: e.into(),
            })
    };
    let changed = |what: &str, want: &str, got: &str| Failure {
        code: crate::exit::OTHER,
        err: anyhow::anyhow!(
            "the digest of {what} differs from a one-shot run's: {want} then {got}"
        ),
    };
    // A cold one-shot run first: stages built, tables touched for the first time.
    let t = Instant::now();
    let cold = ticklane_replay::replay_itch_with(
        FrameReader::new(&data[..]),
        ticklane_replay::ItchReplayOptions {
            backtest: Some(plan.options.clone()),
            ..Default::default()
        },
        build()?,
    )?;
    let cold_total = t.elapsed().as_secs_f64();
    let events = cold.messages;
    let digest = cold.digest.clone();
    let bare_digest =
        ticklane_replay::replay_itch(FrameReader::new(&data[..]), Default::default())?.digest;

    let t = Instant::now();
    let mut engine = ItchEngine::new(build()?, Some(plan.options.clone()));
    let mut bare = ItchEngine::new(ticklane_engine::strategy::NoStrategy, None);
    let built_s = t.elapsed().as_secs_f64();

    let runs = a.runs.max(1);
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let (mut resets, mut strategy_s) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let s = build()?;
        strategy_s.push(t.elapsed().as_secs_f64());
        let r = engine.run(s, FrameReader::new(&data[..]))?;
        resets.push(engine.setup_s);
        with.push(r.loop_s);
        if r.digest != digest {
            return Err(changed("a reused engine's run", &digest, &r.digest));
        }
        let r = bare.run(
            ticklane_engine::strategy::NoStrategy,
            FrameReader::new(&data[..]),
        )?;
        without.push(r.loop_s);
        if r.digest != bare_digest {
            return Err(changed(
                "a reused engine's run without a strategy",
                &bare_digest,
                &r.digest,
            ));
        }
    }
    let stat = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0])
    };
    let (wm, wb) = stat(&mut with);
    let (om, ob) = stat(&mut without);
    let (rm, _) = stat(&mut resets);
    let (sm, _) = stat(&mut strategy_s);
    let rate = |s: f64| events as f64 / s;
    println!(
        "input:      {} ({events} events), {runs} runs of each on a reused engine",
        a.file.display()
    );
    println!(
        "backtest:   {:>12.0} events/s median, {:>12.0} best  ({} + execution simulator, ledger)",
        rate(wm),
        rate(wb),
        a.strategy
    );
    println!(
        "no strategy:{:>12.0} events/s median, {:>12.0} best  (decode, book, digest)",
        rate(om),
        rate(ob)
    );
    println!(
        "ratio:      {:.2}x the loop time of the replay without a strategy (median)",
        wm / om
    );
    println!(
        "setup:      engines built once in {:.1} ms (tables of both); per run, outside the loop: reset {:.1} us, strategy built {:.1} us (medians)",
        built_s * 1e3,
        rm * 1e6,
        sm * 1e6
    );
    println!(
        "cold run:   {:>12.0} events/s in the loop of a one-shot replay (stages built first: {:.1} ms in all)",
        rate(cold.loop_s),
        cold_total * 1e3
    );
    println!("digest: {digest} (every run equal to the one-shot run)");
    Ok(0)
}
