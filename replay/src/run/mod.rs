//! A run as a value, and running it: [`RunSpec`] says everything a replay or backtest does
//! (inputs and their format, venue options, options that change the digest, pipeline layout,
//! strategy and its configuration, execution configuration, outputs); [`run`] runs it with the
//! strategies of a [`Registry`]; [`manifest_for`] records it in a backtest's manifest with
//! every input's SHA-256, and [`verify()`] re-runs a manifest's spec from any directory.
//!
//! The command line only turns flags (or a spec file) into a `RunSpec`, runs it and prints the
//! [`Outcome`]: the flags, a spec file and a manifest all go through this one path, so they
//! give one digest.

pub mod input;
mod record;
pub mod spec;
pub mod verify;

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ticklane_engine::strategy::{NoStrategy, Strategy};
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_strategies::{Registry, RegistryError};

use crate::backtest::{BacktestOptions, ExecConfigError};
use crate::l3::journal::JournalStats;
use crate::l3::lobster::CheckReport;
use crate::live::session::{WsJournalStats, WsRunError, WsRunSummary};
use crate::report::ReportInput;
use crate::run::input::InputError;
use crate::sink::publish::SinkStats;
use crate::sink::record::{Source, Venue};
use crate::sink::signals::SignalFormat;
use crate::sink::{OpenError, Sink};
use crate::stages::l2::{CryptoReplayError, CryptoReplayOptions, L2Summary};
use crate::stages::pipeline::{HopLatency, PipelineConfig};
use crate::venue::consolidated::{ConsolidatedError, ConsolidatedOptions, ConsolidatedSummary};
use crate::venue::consolidated::{SourceSpec, VenueFormat};
use crate::{ItchReplayOptions, ReplayError, Summary};

pub use record::{legacy_config, manifest_for, RecordError};
pub use spec::{
    Format, InputSpec, Layout, Outputs, PipelineMode, RunOptions, RunSpec, SpecError, StrategySpec,
    VenueOptions,
};
pub use verify::{verify, Verdict, VerifyError};

/// Inputs below this size replay inline when the layout is `auto`: threads cost more than
/// they bring on a small file.
pub const AUTO_THREADS_BYTES: u64 = 32 << 20;

/// How `pipeline = auto` laid an ITCH replay out, and why.
///
/// The threaded layout runs every stage on its own thread: the decoder, each book shard, the
/// merger with the outputs. It does more work than inline (ring copies, the merge: 1.43x the
/// instructions for one shard, docs/performance.md#pipeline-layout), which only pays when the
/// stages run side by side; its stages spin (then yield) on their rings, so with fewer cores
/// than stages they take turns on a core instead (a quiet 2-core machine ran one shard at 0.74x
/// of inline). So `auto` takes threads only when the cores available to the process (its CPU
/// set and quota) give every stage its own, and the input is large enough to pay for starting
/// them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutoLayout {
    /// Cores available to the process.
    pub cores: usize,
    /// Threads the threaded layout needs: decode, the book shards, merge and output.
    pub need: usize,
    /// The input is below [`AUTO_THREADS_BYTES`].
    pub small: bool,
    /// The choice: threads (`true`) or inline.
    pub threads: bool,
}

impl AutoLayout {
    /// The choice for `cores` available cores, `shards` book shards and an input of
    /// `file_len` bytes (0 when unknown, e.g. a pipe, which counts as small).
    ///
    /// ```
    /// use ticklane_replay::run::AutoLayout;
    /// assert!(!AutoLayout::decide(2, 1, 1 << 30).threads);
    /// assert!(AutoLayout::decide(3, 1, 1 << 30).threads);
    /// ```
    pub fn decide(cores: usize, shards: u16, file_len: u64) -> Self {
        let need = usize::from(shards.max(1)) + 2;
        let small = file_len < AUTO_THREADS_BYTES;
        AutoLayout {
            cores,
            need,
            small,
            threads: cores >= need && !small,
        }
    }

    /// [`AutoLayout::decide`] with the cores this process may run on
    /// ([`std::thread::available_parallelism`]: its CPU affinity and cgroup quota; 1 if
    /// unknown).
    pub fn for_this_machine(shards: u16, file_len: u64) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self::decide(cores, shards, file_len)
    }
}

impl std::fmt::Display for AutoLayout {
    /// `auto: 2 cores available, threads need 3`, and why a large enough machine still
    /// replays inline.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = if self.cores == 1 { "" } else { "s" };
        write!(
            f,
            "auto: {} core{s} available, threads need {}",
            self.cores, self.need
        )?;
        if self.cores >= self.need && self.small {
            write!(f, ", input below 32 MiB")?;
        }
        Ok(())
    }
}

/// What the caller of [`run`] adds to the spec's own outputs.
#[derive(Default)]
pub struct RunHooks<'a> {
    /// Gets a copy of every BBO CSV row (beside `outputs.bbo_csv`, if any), e.g. to compare
    /// them with a reference.
    pub bbo_tap: Option<Box<dyn Write + 'a>>,
    /// Called now and then with the input's raw (compressed) bytes read so far.
    pub progress: Option<Box<dyn FnMut(u64) + 'a>>,
    /// Gets the counters of every sink the spec's `outputs.sinks` opened (URL, counters), as
    /// they are opened, so they can be reported even when the run fails.
    pub sink_stats: Option<&'a mut Vec<(String, Arc<SinkStats>)>>,
}

/// How the threaded pipeline ran.
pub struct PipelineInfo {
    /// Its stages and cores, in words.
    pub plan: String,
    /// How its stages waited.
    pub wait: ticklane_engine::wait::WaitStrategy,
    /// Per-hop latency (`None` unless the layout asked for it: `latency = true`, `--latency`).
    pub latency: Option<HopLatency>,
}

/// What a run gave: the summary of its kind of data.
pub enum Outcome {
    /// An ITCH file.
    Itch {
        /// The replay summary.
        summary: Box<Summary>,
        /// The threaded pipeline's plan and latency (`None`: it ran inline).
        pipeline: Option<Box<PipelineInfo>>,
        /// What `pipeline = auto` chose and why (`None`: the layout was given).
        auto: Option<AutoLayout>,
    },
    /// A LOBSTER message file.
    Lobster {
        /// The replay summary.
        summary: Box<Summary>,
        /// What the conversion read and wrote.
        stats: ticklane_feeds::lobster::to_itch::ConvertStats,
        /// The comparison with the order-book file, when one was given.
        check: Option<CheckReport>,
    },
    /// A capture of a price-level venue (Binance, Coinbase, Kraken).
    L2(Box<L2Summary>),
    /// An ITCH journal of `ticklane live`.
    Journal {
        /// The replay summary.
        summary: Box<Summary>,
        /// The journal's own counts.
        stats: Box<JournalStats>,
    },
    /// A websocket journal of `ticklane live`.
    WsJournal {
        /// The session's summary.
        summary: Box<WsRunSummary>,
        /// The journal's own counts.
        stats: Box<WsJournalStats>,
    },
    /// Several captures, one consolidated BBO.
    Consolidated(Box<ConsolidatedSummary>),
}

impl Outcome {
    /// The run digest.
    pub fn digest(&self) -> &str {
        match self {
            Outcome::Itch { summary, .. }
            | Outcome::Lobster { summary, .. }
            | Outcome::Journal { summary, .. } => &summary.digest,
            Outcome::L2(s) => &s.digest,
            Outcome::WsJournal { summary, .. } => &summary.digest,
            Outcome::Consolidated(s) => &s.digest,
        }
    }

    /// The backtest report's view of the run (`None` when nothing was accounted, or the
    /// strategy sent no orders).
    pub fn report_input(&self) -> Option<ReportInput<'_>> {
        match self {
            Outcome::Itch { summary, .. } => summary.report_input(),
            Outcome::L2(s) => s.report_input(),
            _ => None,
        }
    }

    /// True when the input had bad records, what `--strict` refuses: undecodable or
    /// inconsistent data, impossible time jumps, resynchronizations, a damaged journal.
    pub fn bad_input(&self) -> bool {
        match self {
            Outcome::Itch { summary, .. } | Outcome::Lobster { summary, .. } => {
                summary.errors.total() > 0
            }
            Outcome::L2(s) => s.bad_total() + s.time_jumps() > 0 || s.resyncs > 0,
            Outcome::Journal { summary, stats } => {
                stats.corrupt + stats.unknown_kind + u64::from(stats.stopped_early.is_some()) > 0
                    || summary.errors.total() > 0
            }
            Outcome::WsJournal { stats, .. } => {
                stats.corrupt + stats.unknown_kind + u64::from(stats.stopped_early.is_some()) > 0
            }
            Outcome::Consolidated(s) => s.sources.iter().any(|x| x.bad > 0 || x.resyncs > 0),
        }
    }

    /// Writes the summary as pretty JSON.
    fn write_json(&self, w: &mut impl Write) -> serde_json::Result<()> {
        match self {
            Outcome::Itch { summary, .. }
            | Outcome::Lobster { summary, .. }
            | Outcome::Journal { summary, .. } => serde_json::to_writer_pretty(w, summary),
            Outcome::L2(s) => serde_json::to_writer_pretty(w, s),
            Outcome::WsJournal { summary, .. } => serde_json::to_writer_pretty(w, summary),
            Outcome::Consolidated(s) => serde_json::to_writer_pretty(w, s),
        }
    }
}

/// Why a run failed, and what kind of failure it is ([`RunError::kind`]).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The spec does not describe a run this input can take.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The strategy could not be built from its name and configuration.
    #[error(transparent)]
    Strategy(#[from] RegistryError),
    /// The execution configuration is not usable.
    #[error("the backtest configuration: {0}")]
    Exec(#[from] ExecConfigError),
    /// The backtest cannot run on this data as configured.
    #[error("{0}")]
    Backtest(String),
    /// An input could not be opened.
    #[error(transparent)]
    Open(#[from] InputError),
    /// An input is not in the expected format, or could not be read to the end.
    #[error("{}: {message}", path.display())]
    Input {
        /// The input.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// One of several inputs is not in the expected format (the message names it).
    #[error("{0}")]
    Source(String),
    /// An output could not be created or written.
    #[error("{what} {}: {source}", path.display())]
    Output {
        /// `cannot create` or `writing`.
        what: &'static str,
        /// The output.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The replay itself failed (an output stage, a pipeline thread).
    #[error("{0}")]
    Replay(String),
    /// A sink of `outputs.sinks` could not be opened.
    #[error(transparent)]
    Sink(#[from] OpenError),
}

/// The kinds of [`RunError`], for exit codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad usage or configuration (the spec, the strategy, the execution config).
    Usage,
    /// An input missing, unreadable or not in the expected format.
    Input,
    /// Anything else (an output could not be written).
    Other,
}

impl RunError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            RunError::Spec(_) | RunError::Strategy(_) | RunError::Exec(_) => ErrorKind::Usage,
            RunError::Backtest(_) => ErrorKind::Usage,
            RunError::Open(_) | RunError::Input { .. } | RunError::Source(_) => ErrorKind::Input,
            RunError::Output { .. } | RunError::Replay(_) => ErrorKind::Other,
            RunError::Sink(
                OpenError::Url(_) | OpenError::ParquetUrl(_) | OpenError::NoKafka(_),
            ) => ErrorKind::Usage,
            RunError::Sink(OpenError::Connect { .. } | OpenError::Files { .. }) => ErrorKind::Other,
        }
    }

    fn input(path: &Path, message: impl ToString) -> RunError {
        RunError::Input {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }
}

/// Runs `spec` with the strategies of `registry`, writing the spec's outputs (BBO CSV,
/// signals, summary JSON; the backtest report is the caller's, with [`manifest_for`]) and
/// `hooks`'.
///
/// # Errors
/// [`RunError`]; its [`kind`](RunError::kind) says whose fault it is.
pub fn run(
    spec: &RunSpec,
    registry: &Registry,
    mut hooks: RunHooks<'_>,
) -> Result<Outcome, RunError> {
    let format = spec.resolved_format();
    spec.check(format)?;
    let sinks = open_sinks(spec, format, hooks.sink_stats.take())?;
    let outcome = match format {
        Format::Consolidated => run_consolidated(spec, hooks)?,
        Format::Journal => run_journal(spec, registry, hooks)?,
        Format::Lobster => run_lobster(spec, hooks)?,
        Format::Binance | Format::Coinbase | Format::CoinbaseAdvanced | Format::Kraken => {
            run_crypto(spec, format, registry, hooks, sinks)?
        }
        Format::Itch | Format::Auto => run_itch(spec, registry, hooks, sinks)?,
    };
    if let Some(p) = &spec.outputs.summary_json {
        let written = (|| -> io::Result<()> {
            let mut w = BufWriter::new(File::create(p)?);
            outcome.write_json(&mut w)?;
            writeln!(w)?;
            w.flush()
        })();
        written.map_err(|source| RunError::Output {
            what: "writing",
            path: p.clone(),
            source,
        })?;
    }
    Ok(outcome)
}

/// Opens the spec's `outputs.sinks` (the spec's check has refused them on runs without an
/// output stream), handing their counters to `stats`.
fn open_sinks<'a>(
    spec: &RunSpec,
    format: Format,
    mut stats: Option<&mut Vec<(String, Arc<SinkStats>)>>,
) -> Result<Vec<Box<dyn Sink + 'a>>, RunError> {
    let source = match format.venue() {
        Some(v) => Source {
            venue: match v {
                VenueFormat::Binance => Venue::Binance,
                VenueFormat::Coinbase => Venue::Coinbase,
                VenueFormat::CoinbaseAdvanced => Venue::CoinbaseAdvanced,
                VenueFormat::Kraken => Venue::Kraken,
            },
            px_exp: -(crate::venue::DECIMALS as i8),
            qty_exp: -(crate::venue::DECIMALS as i8),
        },
        None => Source {
            venue: Venue::Itch,
            px_exp: -4,
            qty_exp: 0,
        },
    };
    let strategy = spec.strategy.as_ref().map_or("", |s| s.name.as_str());
    let mut sinks: Vec<Box<dyn Sink + 'a>> = Vec::new();
    for url in &spec.outputs.sinks {
        let counters = Arc::new(SinkStats::default());
        let sink = crate::sink::open(url, source, strategy, counters.clone())?;
        if let Some(s) = stats.as_mut() {
            s.push((url.clone(), counters));
        }
        sinks.push(sink);
    }
    Ok(sinks)
}

/// The one input of a single-input run.
fn the_input(spec: &RunSpec) -> &Path {
    spec.inputs
        .first()
        .map_or(Path::new(""), |i| i.path.as_path())
}

fn create(path: &Path) -> Result<BufWriter<File>, RunError> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 16, f))
        .map_err(|source| RunError::Output {
            what: "cannot create",
            path: path.to_path_buf(),
            source,
        })
}

/// Writes to two sinks at once.
struct Tee<'a>(Box<dyn Write + 'a>, Box<dyn Write + 'a>);

impl Write for Tee<'_> {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.write_all(b)?;
        self.1.write_all(b)?;
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()?;
        self.1.flush()
    }
}

/// The BBO CSV sink: the spec's file, the caller's tap, or both.
fn bbo_sink<'a>(
    spec: &RunSpec,
    tap: Option<Box<dyn Write + 'a>>,
) -> Result<Option<Box<dyn Write + 'a>>, RunError> {
    let file: Option<Box<dyn Write + 'a>> = match &spec.outputs.bbo_csv {
        Some(p) => Some(Box::new(create(p)?)),
        None => None,
    };
    Ok(match (file, tap) {
        (Some(f), Some(t)) => Some(Box::new(Tee(f, t))),
        (f, t) => f.or(t),
    })
}

/// The strategy of the spec, built by `registry`.
fn build_strategy(
    spec: &RunSpec,
    registry: &Registry,
) -> Result<Option<Box<dyn Strategy + Send>>, RunError> {
    let Some(st) = &spec.strategy else {
        return Ok(None);
    };
    let text = st.config_text()?;
    Ok(Some(registry.build(&st.name, text.as_deref())?))
}

/// The backtest options of the spec on `format` data (`None`: nothing accounted).
fn backtest_options(
    spec: &RunSpec,
    format: Format,
    ws_journal: bool,
) -> Result<Option<BacktestOptions>, RunError> {
    let Some(exec) = spec.effective_exec(format, ws_journal) else {
        return Ok(None);
    };
    if (format.is_l2() || ws_journal) && exec.queue.model == "fifo" {
        return Err(RunError::Backtest(spec::FIFO_ON_L2.into()));
    }
    Ok(Some(exec.to_options(Path::new(""))?))
}

fn replay_err(path: &Path, e: ReplayError) -> RunError {
    match e {
        ReplayError::NotItch(_) => RunError::input(path, e),
        other => RunError::Replay(other.to_string()),
    }
}

fn run_itch<'a>(
    spec: &RunSpec,
    registry: &Registry,
    mut hooks: RunHooks<'a>,
    sinks: Vec<Box<dyn Sink + 'a>>,
) -> Result<Outcome, RunError> {
    let path = the_input(spec);
    let input = crate::run::input::open(path)?;
    let mut opts = ItchReplayOptions {
        symbols: spec.options.symbols.clone(),
        top_n: spec.outputs.top,
        max_time_jump_ns: spec.options.max_time_jump_ns,
        bbo_csv: bbo_sink(spec, hooks.bbo_tap.take())?,
        backtest: backtest_options(spec, Format::Itch, false)?,
        sinks,
        ..Default::default()
    };
    if let Some(mut progress) = hooks.progress.take() {
        let consumed = input.consumed.clone();
        opts.progress = Some(Box::new(move |_| {
            progress(consumed.load(std::sync::atomic::Ordering::Relaxed))
        }));
    }
    if let Some(p) = &spec.outputs.signals {
        opts.signals = Some(if p.as_os_str() == "-" {
            Box::new(io::stdout())
        } else {
            Box::new(create(p)?)
        });
        opts.signal_format = Some(if p.extension().is_some_and(|e| e == "csv") {
            SignalFormat::Csv
        } else {
            SignalFormat::JsonLines
        });
    }
    let layout = &spec.pipeline;
    let auto = (layout.mode == PipelineMode::Auto)
        .then(|| AutoLayout::for_this_machine(layout.shards, input.file_len));
    let threads = match layout.mode {
        PipelineMode::Inline => false,
        PipelineMode::Threads => true,
        PipelineMode::Auto => auto.is_some_and(|a| a.threads),
    };
    let strategy = build_strategy(spec, registry)?;
    let reader = FrameReader::new(input.reader);
    let (summary, pipeline) = if threads {
        let cfg = PipelineConfig {
            shards: usize::from(layout.shards),
            cores: layout.cores.clone(),
            wait: layout.wait,
            rate: None,
            epoch: crate::stages::pipeline::EPOCH,
            latency: layout.latency,
        };
        let run = match strategy {
            Some(first) => {
                // One instance per book shard, each built from the same configuration.
                let shards = cfg.shards.clamp(1, 64);
                let mut built = vec![first];
                for _ in 1..shards {
                    built.extend(build_strategy(spec, registry)?);
                }
                let built = std::cell::RefCell::new(built);
                crate::stages::pipeline::replay_itch_threaded_with(reader, opts, &cfg, || {
                    built
                        .borrow_mut()
                        .pop()
                        .expect("one strategy is built for each book shard")
                })
            }
            None => crate::stages::pipeline::replay_itch_threaded(reader, opts, &cfg),
        }
        .map_err(|e| replay_err(path, e))?;
        let info = PipelineInfo {
            plan: cfg.plan(),
            wait: cfg.wait,
            latency: cfg.latency.then_some(run.latency),
        };
        (run.summary, Some(Box::new(info)))
    } else {
        let summary = match strategy {
            Some(s) => crate::replay_itch_with(reader, opts, s),
            None => crate::replay_itch(reader, opts),
        }
        .map_err(|e| replay_err(path, e))?;
        (summary, None)
    };
    if summary.bytes == 0 && summary.errors.io.is_none() {
        // A device or pipe with nothing in it (a regular empty file is refused on open).
        return Err(RunError::input(path, "the input is empty"));
    }
    Ok(Outcome::Itch {
        summary: Box::new(summary),
        pipeline,
        auto,
    })
}

fn run_lobster(spec: &RunSpec, hooks: RunHooks<'_>) -> Result<Outcome, RunError> {
    use ticklane_feeds::lobster::to_itch::ConvertOptions;
    let path = the_input(spec);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(ticklane_feeds::lobster::parse_file_name);
    let symbol = match (&spec.venue.symbol, name) {
        (Some(s), _) => s.clone(),
        (None, Some(n)) => n.symbol,
        (None, None) => {
            return Err(RunError::input(
                path,
                "cannot tell the symbol from the file name (expected TICKER_YYYY-MM-DD_start_end_message_N.csv); pass --symbol",
            ))
        }
    };
    let messages = crate::run::input::open(path)?;
    let messages = BufReader::with_capacity(1 << 16, messages.reader);
    let mut orderbook = match &spec.venue.orderbook {
        Some(p) => Some(BufReader::with_capacity(
            1 << 16,
            crate::run::input::open(p)?.reader,
        )),
        None => None,
    };
    let opts = ItchReplayOptions {
        symbols: spec.options.symbols.clone(),
        top_n: spec.outputs.top,
        max_time_jump_ns: spec.options.max_time_jump_ns,
        bbo_csv: bbo_sink(spec, hooks.bbo_tap)?,
        ..Default::default()
    };
    let conv = ConvertOptions {
        symbol,
        locate: 1,
        resync: spec.venue.resync,
    };
    let check = orderbook.is_some();
    let (summary, stats, check) = crate::l3::lobster::replay_lobster(
        messages,
        orderbook.as_mut().map(|b| b as &mut dyn io::BufRead),
        check,
        &conv,
        opts,
    )
    .map_err(|e| RunError::input(path, e))?;
    Ok(Outcome::Lobster {
        summary: Box::new(summary),
        stats,
        check,
    })
}

fn run_crypto<'a>(
    spec: &RunSpec,
    format: Format,
    registry: &Registry,
    hooks: RunHooks<'a>,
    sinks: Vec<Box<dyn Sink + 'a>>,
) -> Result<Outcome, RunError> {
    let path = the_input(spec);
    let wire_precision = spec.wire_precision()?;
    let input = crate::run::input::open(path)?;
    let backtest = match build_strategy(spec, registry)? {
        Some(s) => backtest_options(spec, format, false)?.map(|o| (s as Box<dyn Strategy>, o)),
        None => None,
    };
    let opts = CryptoReplayOptions {
        accept_unsynced: spec.options.accept_unsynced,
        bbo_csv: bbo_sink(spec, hooks.bbo_tap)?,
        book_depth: spec.venue.book_depth,
        wire_precision,
        backtest,
        max_time_jump_ns: spec.options.max_time_jump_ns,
        sinks,
    };
    let venue = format.venue().unwrap_or(VenueFormat::Binance);
    if spec.pipeline.mode == PipelineMode::Threads {
        let mut opts = opts;
        opts.backtest = None;
        let s = run_l2_threaded(spec, registry, venue, input.reader, opts)?;
        return Ok(Outcome::L2(Box::new(s)));
    }
    // Inline unless asked (also under `auto`): on price-level captures one thread is the fast
    // choice on small machines; the threaded layout gives the same digest.
    let reader = BufReader::with_capacity(1 << 16, input.reader);
    let s = crate::stages::l2::replay_l2(venue, reader, opts).map_err(|e| l2_error(path, e))?;
    Ok(Outcome::L2(Box::new(s)))
}

fn l2_error(path: &Path, e: CryptoReplayError) -> RunError {
    match e {
        CryptoReplayError::WrongVenue { .. } | CryptoReplayError::Read(_) => {
            RunError::input(path, e)
        }
        CryptoReplayError::Backtest(_) => RunError::Backtest(e.to_string()),
        other => RunError::Replay(other.to_string()),
    }
}

/// A price-level capture through the threaded pipeline (the strategy, if any, in its one
/// book shard).
fn run_l2_threaded(
    spec: &RunSpec,
    registry: &Registry,
    venue: VenueFormat,
    input: Box<dyn std::io::Read + Send>,
    opts: CryptoReplayOptions<'_>,
) -> Result<crate::stages::l2::L2Summary, RunError> {
    let format = Format::from(venue);
    let strategy = match build_strategy(spec, registry)? {
        Some(s) => backtest_options(spec, format, false)?.map(|o| (s, o)),
        None => None,
    };
    let layout = &spec.pipeline;
    let cfg = PipelineConfig {
        shards: usize::from(layout.shards),
        cores: layout.cores.clone(),
        wait: layout.wait,
        rate: None,
        epoch: crate::stages::pipeline::EPOCH,
        latency: false,
    };
    crate::stages::pipeline::replay_l2_threaded(venue, input, opts, strategy, &cfg)
        .map(|(s, _)| s)
        .map_err(|e| l2_error(the_input(spec), e))
}

fn run_journal(
    spec: &RunSpec,
    registry: &Registry,
    hooks: RunHooks<'_>,
) -> Result<Outcome, RunError> {
    let path = the_input(spec);
    let ws = File::open(path)
        .ok()
        .and_then(|f| crate::live::session::ws_journal_venue(BufReader::new(f)));
    if ws.is_none() && spec.exec.is_some() {
        return Err(SpecError::Invalid(
            "an ITCH journal replays the live daemon's path (books, the strategy, the default simulator, no accounting): exec does not apply; backtest the published file instead".into(),
        )
        .into());
    }
    let input = crate::run::input::open(path)?;
    let reader = BufReader::with_capacity(1 << 16, input.reader);
    let bbo_csv = bbo_sink(spec, hooks.bbo_tap)?;
    let strategy = build_strategy(spec, registry)?;
    if let Some(venue) = ws {
        let backtest = match strategy {
            Some(s) => backtest_options(spec, Format::from(venue.format()), true)?
                .map(|o| (s as Box<dyn Strategy>, o)),
            None => None,
        };
        let counters = crate::live::session::WsCounters::default();
        let (summary, stats) = crate::live::session::replay_ws_journal_segments(
            journal_segments(path, reader),
            false,
            bbo_csv,
            &counters,
            backtest,
        )
        .map_err(|e| match e {
            WsRunError::Backtest(_) => RunError::Backtest(e.to_string()),
            other => RunError::input(path, other),
        })?;
        return Ok(Outcome::WsJournal {
            summary: Box::new(summary),
            stats: Box::new(stats),
        });
    }
    let opts = ItchReplayOptions {
        bbo_csv,
        top_n: spec.outputs.top,
        ..Default::default()
    };
    let segments = journal_segments(path, reader);
    let run = match strategy {
        Some(s) => crate::l3::journal::replay_journal_segments(segments, opts, s),
        None => crate::l3::journal::replay_journal_segments(segments, opts, NoStrategy),
    };
    let (summary, stats) = run.map_err(|e| RunError::input(path, e))?;
    Ok(Outcome::Journal {
        summary: Box::new(summary),
        stats: Box::new(stats),
    })
}

/// A journal's segments in order: `first` (already open), then `PATH.1`, `PATH.2`... when
/// present beside it.
fn journal_segments(
    path: &std::path::Path,
    first: impl std::io::Read + 'static,
) -> impl Iterator<Item = std::io::Result<Box<dyn std::io::Read>>> {
    let later = ticklane_feeds::journal_file::existing_segments(path)
        .unwrap_or_default()
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(_, p)| {
            crate::run::input::open(&p)
                .map_err(std::io::Error::other)
                .map(|i| {
                    Box::new(BufReader::with_capacity(1 << 16, i.reader)) as Box<dyn std::io::Read>
                })
        });
    std::iter::once(Ok(Box::new(first) as Box<dyn std::io::Read>)).chain(later)
}

fn run_consolidated(spec: &RunSpec, hooks: RunHooks<'_>) -> Result<Outcome, RunError> {
    let sources = spec
        .inputs
        .iter()
        .map(|i| {
            let format = i
                .venue
                .and_then(Format::venue)
                .unwrap_or(VenueFormat::Binance);
            SourceSpec {
                format,
                path: i.path.clone(),
                label: i
                    .label
                    .clone()
                    .unwrap_or_else(|| spec::default_label(format.name(), &i.path)),
                product: i.product.clone(),
            }
        })
        .collect::<Vec<_>>();
    crate::venue::consolidated::check_specs(&sources).map_err(SpecError::Invalid)?;
    let opts = ConsolidatedOptions {
        book_depth: spec.venue.book_depth,
        wire_precision: spec.wire_precision()?,
        max_time_jump_ns: spec.options.max_time_jump_ns,
    };
    let csv = bbo_sink(spec, hooks.bbo_tap)?;
    let s =
        crate::venue::consolidated::replay_consolidated(&sources, &opts, csv).map_err(
            |e| match e {
                ConsolidatedError::Usage(m) => RunError::Spec(SpecError::Invalid(m)),
                ConsolidatedError::Input { .. } => RunError::Source(e.to_string()),
                ConsolidatedError::Output(_) => RunError::Replay(e.to_string()),
            },
        )?;
    Ok(Outcome::Consolidated(Box::new(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_takes_threads_only_when_every_stage_has_a_core() {
        let big = 1 << 30;
        // (cores, shards) -> threads; one shard needs decode + shard + merge = 3 cores.
        for (cores, shards, threads) in [
            (1, 1, false),
            (2, 1, false),
            (3, 1, true),
            (4, 1, true),
            (3, 2, false),
            (4, 2, true),
            (8, 6, true),
            (8, 7, false),
            (64, 64, false),
        ] {
            let a = AutoLayout::decide(cores, shards, big);
            assert_eq!(a.threads, threads, "{cores} cores, {shards} shards");
            assert_eq!(a.need, usize::from(shards) + 2);
        }
        // Enough cores, but a small input still replays inline.
        assert!(!AutoLayout::decide(16, 1, AUTO_THREADS_BYTES - 1).threads);
        assert!(AutoLayout::decide(16, 1, AUTO_THREADS_BYTES).threads);
    }

    #[test]
    fn auto_says_why() {
        assert_eq!(
            AutoLayout::decide(2, 1, 1 << 30).to_string(),
            "auto: 2 cores available, threads need 3"
        );
        assert_eq!(
            AutoLayout::decide(1, 2, 1 << 30).to_string(),
            "auto: 1 core available, threads need 4"
        );
        assert_eq!(
            AutoLayout::decide(8, 1, 100).to_string(),
            "auto: 8 cores available, threads need 3, input below 32 MiB"
        );
    }
}
