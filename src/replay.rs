//! `ticklane replay`: flags (or a run spec file) become one [`RunSpec`], which
//! `ticklane_replay::run` runs; this module prints the outcome, compares it with a `--check`
//! reference, writes the backtest report and picks the exit code.

use std::fs::File;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use ticklane_engine::config::Range;
use ticklane_replay::backtest::ExecConfig;
use ticklane_replay::run::{
    self, InputSpec, Layout, Outcome, Outputs, RunHooks, RunOptions, RunSpec, StrategySpec,
    VenueOptions,
};
use ticklane_strategies::Registry;

use crate::{exit, in_range, input_failure, read_config, Failure, LayoutArgs};
use crate::{exit_code, parse_time_jump, usage_failure};

#[derive(Args)]
pub(crate) struct ReplayArgs {
    /// ITCH 5.0 BinaryFILE (2-byte big-endian length before each message), or a LOBSTER message
    /// file (TICKER_YYYY-MM-DD_start_end_message_N.csv); plain or gzip, compression detected
    /// from the content, not the name. Not given with --consolidated or --spec.
    #[arg(value_name = "FILE", required_unless_present_any = ["consolidated", "spec"])]
    file_arg: Option<PathBuf>,
    /// Run the run spec in this file instead of flags: TOML (JSON for a .json path) with the
    /// input, its format and venue options, the options that change the digest, the pipeline
    /// layout, the strategy and its keys, the execution config and the outputs, paths relative
    /// to the file's folder (docs/cli.md#run-specs). Only --check, --strict, --no-progress and
    /// --save-spec go with it.
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with_all = [
            "file_arg", "consolidated", "format", "strategy", "strategy_config", "signals",
            "exec_config", "queue", "report", "accept_unsynced", "book_depth", "wire_precision",
            "symbol", "resync", "symbols", "bbo_csv", "summary_json", "top", "max_time_jump",
            "pipeline", "shards", "cores", "wait", "latency", "sinks"
        ]
    )]
    spec: Option<PathBuf>,
    /// Also write this run's spec here as TOML (paths relative to its folder), so that
    /// `ticklane replay --spec PATH` runs it again from anywhere.
    #[arg(long, value_name = "PATH")]
    save_spec: Option<PathBuf>,
    /// A source of a consolidated (multi-venue) BBO replay: FORMAT:PATH[,label=NAME][,product=ID]
    /// with FORMAT binance, coinbase, coinbase-advanced or kraken; give it once per capture (at least two), e.g.
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
    consolidated: Vec<ticklane_replay::venue::consolidated::SourceSpec>,
    /// Input format; auto: LOBSTER when the file name is a LOBSTER message-file name, else ITCH.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    format: Format,
    /// Compare the book with a reference after every step and exit 5 on any difference.
    /// A LOBSTER order-book file (with --format lobster): our top N levels against every row,
    /// the book seeded from its first row. Or a BBO CSV in the --bbo-csv format
    /// (ts_exch_ns,symbol,bid_px,bid_qty,ask_px,ask_qty, one row per change), for any input.
    #[arg(long, value_name = "REFERENCE")]
    check: Option<PathBuf>,
    /// Run a strategy (see `ticklane strategies`); its signals enter the digest. On a
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
    /// rising with the quantity ahead). L2 data (--format binance|coinbase|coinbase-advanced|kraken, and a
    /// `ticklane live` websocket journal) takes only the last two.
    #[arg(long, value_name = "MODEL", value_enum, requires = "strategy")]
    queue: Option<QueueModel>,
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
    /// still built for all. Comma separated, e.g. AAPL,MSFT. A symbol the input never defines
    /// is a warning naming it and exit 3 (the summary is still printed).
    #[arg(long, value_delimiter = ',')]
    symbols: Vec<String>,
    /// Write every change of a best bid/ask price or size as CSV:
    /// ts_exch_ns,symbol,bid_px,bid_qty,ask_px,ask_qty (prices with 4 decimals; empty side = empty fields).
    #[arg(long, value_name = "PATH")]
    bbo_csv: Option<PathBuf>,
    /// Send the outputs to a message bus or files (repeatable): kafka://HOST:PORT/PREFIX[?OPTIONS]
    /// sends BBO changes, trades, statuses, signals and fills to the topics PREFIX.bbo,
    /// PREFIX.trade, PREFIX.status, PREFIX.signal and PREFIX.fill, keyed by symbol, idempotent
    /// with acks=all, from a publisher thread. OPTIONS (&-separated): format=binary|json (the
    /// record layout of docs/kafka.md, or JSON), policy=block|drop|conflate (when the ring to
    /// the publisher is full: wait, drop and count, or keep the latest BBO per instrument),
    /// ring=N records (65536), queue=N records buffered by the client (100000), timeout_ms=N
    /// before a record counts as undelivered (30000), linger_ms=N (5). Needs a build with the
    /// `kafka` feature. parquet://DIR[?row_group=N] writes DIR/bbo.parquet, trades.parquet,
    /// status.parquet, signals.parquet and fills.parquet (docs/parquet.md). ITCH replays and
    /// price-level captures.
    #[arg(long = "sink", value_name = "URL")]
    sinks: Vec<String>,
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
    /// output on their own threads joined by SPSC rings; auto: ITCH threaded only when the
    /// cores this process may use give every stage its own (decode + shards + output) and the
    /// input is 32 MiB or more, inline otherwise (the plan line on stderr says why);
    /// Binance/Coinbase/Kraken captures inline. Every layout gives the same digest. A
    /// backtest on a crypto capture runs in one book shard (--shards 1).
    #[arg(long, value_enum, default_value_t = PipelineMode::Auto)]
    pipeline: PipelineMode,
    #[command(flatten)]
    layout: LayoutArgs,
    /// Record and print the threaded ITCH pipeline's per-hop latency (ingest→book,
    /// ingest→output). It costs a clock read and a histogram sample per event and output, so a
    /// plain replay does not; the outputs and digest are the same either way. Not with
    /// --pipeline inline.
    #[arg(long)]
    latency: bool,
}

/// Valid `--book-depth` (Kraken serves at most 1000 levels).
const BOOK_DEPTH: Range<usize> = Range::new(1, 1000, "subscribed book depth, levels");
/// Valid `--top`.
const TOP: Range<usize> = Range::new(0, 10_000, "symbols listed");

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// A journal by its magic bytes, LOBSTER by its file name, else ITCH.
    Auto,
    /// NASDAQ TotalView-ITCH 5.0 BinaryFILE.
    Itch,
    /// A LOBSTER message file.
    Lobster,
    /// A Binance capture: `<receive ns> <frame JSON>` lines (hftbacktest's collector), our JSON
    /// lines or cryptofeed raw; one book per symbol.
    Binance,
    /// A Coinbase Exchange capture (level2, ticker, matches): cryptofeed raw, `<ns> <json>`
    /// lines or JSONL; one book per product.
    Coinbase,
    /// A Coinbase Advanced Trade capture (l2_data, market_trades; `sequence_num` gaps make the
    /// books stale until their next snapshot), any container; one book per product.
    #[value(name = "coinbase-advanced")]
    CoinbaseAdvanced,
    /// A Kraken capture (websocket v2 or v1 book, trade, ticker), any container; CRC32
    /// checksums verified.
    Kraken,
}

/// `--queue`: the backtest's queue-position models (the execution config's `queue.model`).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum QueueModel {
    /// Exact position behind the orders ahead (order-by-order data only).
    Fifo,
    /// Only trades at the order's price advance it.
    Conservative,
    /// Level decreases advance it too, with a probability rising with the quantity ahead.
    Probabilistic,
}

impl QueueModel {
    /// The name the execution config's `queue.model` takes.
    pub(crate) fn name(self) -> &'static str {
        match self {
            QueueModel::Fifo => "fifo",
            QueueModel::Conservative => "conservative",
            QueueModel::Probabilistic => "probabilistic",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PipelineMode {
    /// Threads when every stage has a core of its own and the input is 32 MiB or more.
    Auto,
    /// Every stage on this thread.
    Inline,
    /// Stages on their own threads.
    Threads,
}

/// Runs `ticklane replay`.
pub(crate) fn replay(a: ReplayArgs) -> Result<u8, Failure> {
    let registry = crate::strategies();
    let (spec, bbo_reference) = match &a.spec {
        Some(p) => {
            let spec = RunSpec::load(p).map_err(usage_failure)?;
            let bbo = match &a.check {
                Some(c) if !is_bbo_csv(c)? => {
                    return Err(input_failure(anyhow::anyhow!(
                        "--check {}: not a BBO CSV (header {}); with --spec, a LOBSTER order-book reference is the spec's venue.orderbook",
                        c.display(),
                        ticklane_replay::sink::bbo_csv::HEADER
                    )))
                }
                Some(_) => true,
                None => false,
            };
            (spec, bbo)
        }
        None => from_flags(&a, registry)?,
    };
    if let Some(p) = &a.save_spec {
        save_spec(&spec, p)?;
    }
    let path = spec
        .inputs
        .first()
        .map(|i| i.path.clone())
        .unwrap_or_default();
    let capture = SharedBuf::default();
    let mut sink_stats = Vec::new();
    let mut hooks = RunHooks {
        sink_stats: Some(&mut sink_stats),
        ..RunHooks::default()
    };
    if bbo_reference {
        hooks.bbo_tap = Some(Box::new(capture.clone()));
    }
    let file_len = std::fs::metadata(&path).map_or(0, |m| m.len());
    let show_progress = !a.no_progress
        && spec.resolved_format() == run::Format::Itch
        && std::io::stderr().is_terminal()
        && file_len > (8 << 20);
    let bar = show_progress.then(|| {
        let b = indicatif::ProgressBar::new(file_len);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    if let Some(b) = bar.clone() {
        hooks.progress = Some(Box::new(move |n| b.set_position(n)));
    }
    let outcome = run::run(&spec, registry, hooks);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    // With `--signals -` stdout carries the signal records alone (one JSON object a line, for
    // `jq` and the like); the summary, the check and backtest blocks and the digest go to
    // stderr instead.
    let signals_on_stdout = spec
        .outputs
        .signals
        .as_deref()
        .is_some_and(|p| p.as_os_str() == "-");
    let mut out: Box<dyn Write> = if signals_on_stdout {
        Box::new(std::io::stderr().lock())
    } else {
        Box::new(std::io::stdout().lock())
    };
    let sink_lines = |out: &mut dyn Write| -> std::io::Result<()> {
        for (url, s) in &sink_stats {
            writeln!(out, "sink:          {url}: {}", s.snapshot())?;
        }
        Ok(())
    };
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            sink_lines(&mut std::io::stderr().lock())?;
            return Err(Failure {
                code: exit_code(e.kind()),
                err: e.into(),
            });
        }
    };
    sink_lines(&mut out)?;

    // What comes before the summary: the digest stays the last line.
    let mut code = 0;
    match &outcome {
        Outcome::Itch {
            summary,
            pipeline,
            auto,
        } => {
            // The layout and, when auto chose it, why.
            let why = auto.map_or_else(String::new, |a| format!("{a}; "));
            if let Some(info) = pipeline {
                eprintln!(
                    "pipeline: threads ({why}{}), wait: {}",
                    info.plan, info.wait
                );
                let q = |h: &hdrhistogram::Histogram<u64>| {
                    format!(
                        "p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns",
                        h.value_at_quantile(0.5),
                        h.value_at_quantile(0.99),
                        h.value_at_quantile(0.999),
                        h.max()
                    )
                };
                if let Some(l) = &info.latency {
                    eprintln!("latency ingest→book:   {}", q(&l.ingest_to_book));
                    eprintln!("latency ingest→output: {}", q(&l.ingest_to_output));
                }
            } else if let Some(a) = auto {
                eprintln!("pipeline: inline ({a})");
            }
            if pipeline.is_none() && spec.pipeline.latency {
                eprintln!(
                    "warning: --latency: the replay ran inline (--pipeline auto chose it), so there is no per-hop latency to report; use --pipeline threads"
                );
            }
            if let Some(t) = summary.errors.truncated_tail {
                eprintln!(
                    "warning: {} ends in the middle of a message at byte {} (needs {} bytes, has {}); everything before it was replayed",
                    path.display(),
                    t.offset,
                    t.need,
                    t.have
                );
            }
        }
        Outcome::Lobster { stats, check, .. } => {
            eprintln!("lobster:       {stats}");
            if let Some(r) = check {
                write!(out, "{r}")?;
                if !r.passed() {
                    code = exit::CHECK;
                }
            }
        }
        Outcome::Journal { stats, .. } => writeln!(out, "journal:       {stats}")?,
        Outcome::WsJournal { stats, .. } => writeln!(out, "journal:       {stats}")?,
        Outcome::L2(_) | Outcome::Consolidated(_) => {}
    }
    if bbo_reference {
        if let Some(c) = a
            .check
            .as_deref()
            .map(|p| check_bbo_csv(p, &capture, &mut out))
            .transpose()?
            .flatten()
        {
            code = c;
        }
    }
    crate::backtest::finish(&spec, &outcome, &mut out)?;
    match &outcome {
        Outcome::Itch { summary, .. }
        | Outcome::Lobster { summary, .. }
        | Outcome::Journal { summary, .. } => writeln!(out, "{summary}")?,
        Outcome::L2(s) => writeln!(out, "{s}")?,
        Outcome::WsJournal { summary, .. } => writeln!(out, "{summary}")?,
        Outcome::Consolidated(s) => writeln!(out, "{s}")?,
    }
    out.flush()?;
    drop(out);
    if code != 0 {
        return Ok(code);
    }
    if let Outcome::Itch { summary, .. } = &outcome {
        if let Some(io) = &summary.errors.io {
            // The summary covers what was read; the input itself is broken (a corrupt gzip
            // stream, say), which is bad input whether or not --strict was given.
            eprintln!(
                "error: {}: reading stopped at {} decompressed bytes: {io}; the summary covers what was read before",
                path.display(),
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
    }
    if a.strict && outcome.bad_input() {
        return Ok(exit::DATA);
    }
    // A `--symbols` name the input never defined would otherwise pass unnoticed (a typo, or
    // the wrong file): its output is empty, the digest that of no data.
    if let Outcome::Itch { summary, .. }
    | Outcome::Lobster { summary, .. }
    | Outcome::Journal { summary, .. } = &outcome
    {
        if !summary.unmatched_symbols.is_empty() {
            eprintln!(
                "warning: --symbols: {} never appeared in the input {}",
                summary.unmatched_symbols.join(","),
                path.display()
            );
            return Ok(exit::INPUT);
        }
    }
    Ok(0)
}

/// The spec the flags describe, and whether `--check` names a BBO CSV (compared after the
/// run) rather than a LOBSTER order book (an input of the run).
fn from_flags(a: &ReplayArgs, registry: &Registry) -> Result<(RunSpec, bool), Failure> {
    let mut spec = if a.consolidated.is_empty() {
        let file = a.file_arg.clone().unwrap_or_default();
        let format = match a.format {
            Format::Auto => run::Format::Auto,
            Format::Itch => run::Format::Itch,
            Format::Lobster => run::Format::Lobster,
            Format::Binance => run::Format::Binance,
            Format::Coinbase => run::Format::Coinbase,
            Format::CoinbaseAdvanced => run::Format::CoinbaseAdvanced,
            Format::Kraken => run::Format::Kraken,
        };
        let mut spec = RunSpec::for_file(format, file);
        spec.format = spec.resolved_format();
        spec
    } else {
        let mut spec = RunSpec::for_file(run::Format::Consolidated, "");
        spec.inputs = a
            .consolidated
            .iter()
            .map(|s| InputSpec {
                venue: Some(run::Format::from(s.format)),
                label: Some(s.label.clone()),
                product: s.product.clone(),
                ..InputSpec::new(s.path.clone())
            })
            .collect();
        spec
    };
    let format = spec.format;
    let path = spec
        .inputs
        .first()
        .map(|i| i.path.clone())
        .unwrap_or_default();
    let ws_journal = format == run::Format::Journal
        && File::open(&path)
            .ok()
            .and_then(|f| {
                ticklane_replay::live::session::ws_journal_venue(std::io::BufReader::new(f))
            })
            .is_some();
    if format == run::Format::Journal {
        refuse_on_journal(a, ws_journal)?;
    }

    // --check: a BBO CSV for any input, or a LOBSTER order book.
    let mut bbo_reference = false;
    if let Some(c) = &a.check {
        bbo_reference = is_bbo_csv(c)?;
        if !bbo_reference {
            if format != run::Format::Lobster {
                return Err(input_failure(anyhow::anyhow!(
                    "--check {}: not a BBO CSV (header {}); a LOBSTER order-book reference needs a LOBSTER message file",
                    c.display(),
                    ticklane_replay::sink::bbo_csv::HEADER
                )));
            }
            spec.venue.orderbook = Some(c.clone());
        }
    }
    spec.venue = VenueOptions {
        book_depth: a.book_depth,
        wire_precision: a.wire_precision.clone(),
        symbol: a.symbol.clone(),
        resync: a.resync,
        ..spec.venue
    };
    spec.options = RunOptions {
        symbols: a.symbols.clone(),
        max_time_jump_ns: a.max_time_jump,
        accept_unsynced: a.accept_unsynced,
    };
    spec.pipeline = Layout {
        mode: match a.pipeline {
            PipelineMode::Auto => run::PipelineMode::Auto,
            PipelineMode::Inline => run::PipelineMode::Inline,
            PipelineMode::Threads => run::PipelineMode::Threads,
        },
        shards: a.layout.shards,
        cores: a.layout.cores.clone(),
        wait: a.layout.wait,
        latency: a.latency,
    };
    spec.outputs = Outputs {
        bbo_csv: a.bbo_csv.clone(),
        signals: a.signals.clone(),
        summary_json: a.summary_json.clone(),
        report: a.report.clone(),
        top: a.top,
        sinks: a.sinks.clone(),
    };

    let Some(name) = &a.strategy else {
        return Ok((spec, bbo_reference));
    };
    // The strategy, built once from the file as written so errors name its own lines.
    let text = match &a.strategy_config {
        Some(p) => Some(read_config("--strategy-config", p)?),
        None => None,
    };
    registry
        .build(name, text.as_deref())
        .map_err(usage_failure)?;
    let config = match (&text, &a.strategy_config) {
        (Some(t), Some(p)) => Some(
            toml::from_str::<toml::Table>(t)
                .with_context(|| format!("--strategy-config {}: not a TOML table", p.display()))
                .map_err(usage_failure)?,
        ),
        _ => None,
    };
    spec.strategy = Some(StrategySpec {
        name: name.clone(),
        config,
    });
    if a.exec_config.is_some() || a.queue.is_some() {
        spec.exec = Some(exec_config(a, format.is_l2() || ws_journal)?);
    }
    Ok((spec, bbo_reference))
}

/// `--exec-config` (or the defaults) for data that is `l2` or not, with `--queue` over its
/// queue model and its latency CSV's path taken from the config file's folder.
fn exec_config(a: &ReplayArgs, l2: bool) -> Result<ExecConfig, Failure> {
    let (text, base) = match &a.exec_config {
        Some(p) => (
            Some(read_config("--exec-config", p)?),
            p.parent().map(Path::to_path_buf).unwrap_or_default(),
        ),
        None => (None, PathBuf::new()),
    };
    let what = || match &a.exec_config {
        Some(p) => format!("--exec-config {}", p.display()),
        None => "the default backtest configuration".into(),
    };
    let mut cfg = ExecConfig::parse_for(text.as_deref(), l2)
        .with_context(what)
        .map_err(usage_failure)?;
    if let Some(q) = a.queue {
        cfg.queue.model = q.name().to_owned();
    }
    if let Some(csv) = cfg.latency.csv.as_mut() {
        if Path::new(csv.as_str()).is_relative() {
            *csv = base.join(csv.as_str()).display().to_string();
        }
    }
    // Checked here, so a bad key or file is named with the flag that gave it.
    cfg.to_options(Path::new(""))
        .with_context(what)
        .map_err(usage_failure)?;
    Ok(cfg)
}

/// The flags a journal replay refuses, and why: it re-drives the live daemon's path.
fn refuse_on_journal(a: &ReplayArgs, ws: bool) -> Result<(), Failure> {
    let refuse = |msg: String| {
        Err(Failure {
            code: exit::USAGE,
            err: anyhow::anyhow!(msg),
        })
    };
    if ws {
        if a.max_time_jump.is_some() {
            return refuse(
                "--max-time-jump is not available on a journal replay: it re-drives the live \
                 daemon's path, whose receive times are held to the default bound (6h)"
                    .into(),
            );
        }
        if a.report.is_some() || a.signals.is_some() {
            return refuse(
                "--report and --signals are not available on a websocket journal replay (the \
                 summary, its strategy and backtest lines and the digest are); backtest a \
                 capture with `ticklane replay --format binance|coinbase FILE --report DIR`"
                    .into(),
            );
        }
        return Ok(());
    }
    // The ITCH live daemon runs its strategy's orders through the default simulator, with no
    // execution config and no accounting, so its journal replays the same way: options that
    // only a backtest has are refused, not ignored.
    let refused = [
        ("--exec-config", a.exec_config.is_some()),
        ("--queue", a.queue.is_some()),
        ("--report", a.report.is_some()),
        ("--signals", a.signals.is_some()),
        ("--max-time-jump", a.max_time_jump.is_some()),
    ];
    if let Some((flag, _)) = refused.iter().find(|(_, given)| *given) {
        return refuse(format!(
            "{flag} is not available on an ITCH journal replay (it re-drives the live \
             daemon's path: books, the strategy, the default simulator, no accounting); \
             backtest the published file with `ticklane replay FILE --strategy NAME {flag} ...`"
        ));
    }
    Ok(())
}

/// Writes `spec` as TOML at `path`, its paths relative to `path`'s folder.
fn save_spec(spec: &RunSpec, path: &Path) -> Result<(), Failure> {
    let mut s = spec.clone();
    s.format = spec.resolved_format();
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    s.relative_to(&dir)
        .with_context(|| format!("--save-spec {}", path.display()))?;
    let text = s.to_toml_string()?;
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// True when the file starts with the BBO CSV header; unreadable: exit 3.
fn is_bbo_csv(p: &Path) -> Result<bool, Failure> {
    let mut first = String::new();
    std::io::BufReader::new(
        File::open(p)
            .with_context(|| format!("cannot open {}", p.display()))
            .map_err(input_failure)?,
    )
    .read_line(&mut first)
    .with_context(|| format!("reading {}", p.display()))?;
    Ok(first.starts_with(ticklane_replay::sink::bbo_csv::HEADER))
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

/// Compares the captured BBO CSV with the `--check` reference at `path`, row by row. Returns
/// the exit code when they differ.
fn check_bbo_csv(
    path: &Path,
    capture: &SharedBuf,
    out: &mut dyn Write,
) -> Result<Option<u8>, Failure> {
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
            writeln!(
                out,
                "mismatch at BBO row {rows} (line {} of {}):",
                rows + 1,
                path.display()
            )?;
            writeln!(out, "  ours   {}", o.unwrap_or("(no more rows)"))?;
            writeln!(out, "  theirs {}", t.unwrap_or("(no more rows)"))?;
        }
    }
    writeln!(
        out,
        "check:         {rows} BBO rows compared, {equal} equal, {} differ",
        rows - equal
    )?;
    Ok((equal != rows || rows == 0).then_some(exit::CHECK))
}
