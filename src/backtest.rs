//! The backtest side of `ticklane replay` (`--exec-config`, `--report`) and `ticklane verify`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::json;
use ticklane_replay::backtest::{BacktestOptions, ExecConfig};
use ticklane_replay::report::{self, InputFile, Manifest};
use ticklane_replay::Summary;

/// What a backtest run needs beyond the replay options, and what its manifest records.
pub(crate) struct Plan {
    /// The simulator and accounting options.
    pub options: BacktestOptions,
    /// The effective configuration, as the manifest records it.
    pub config: serde_json::Value,
    /// Every file the run read.
    pub inputs: Vec<PathBuf>,
}

/// What kind of data a backtest runs on, and command-line overrides of its configuration.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DataPlan<'a> {
    /// `None`: ITCH (order by order); `Some("binance")`: an L2 crypto capture.
    pub l2_format: Option<&'static str>,
    /// L2: report unsynced books (recorded so that `verify` re-runs the same way).
    pub accept_unsynced: bool,
    /// `--queue`: overrides the configuration's `queue.model`.
    pub queue: Option<&'a str>,
    /// Kraken: `--book-depth` (recorded for `verify`).
    pub book_depth: Option<usize>,
    /// Kraken: `--wire-precision` (recorded for `verify`).
    pub wire_precision: &'a [String],
    /// `--max-time-jump`, ns (recorded for `verify`).
    pub max_time_jump_ns: Option<u64>,
}

/// Price ticks per currency unit, and lots per unit of quantity, on L2 crypto data: prices
/// and sizes both carry 8 decimals (the defaults of `ticks_per_unit` and `lots_per_unit` there).
pub(crate) const L2_UNIT: i64 = 100_000_000;

/// Reads `--exec-config` (or the defaults) and records the effective configuration of a run of
/// `strategy` (with `strategy_toml`) over `file`.
pub(crate) fn plan(
    file: &Path,
    symbols: &[String],
    strategy: &str,
    strategy_config: Option<&Path>,
    strategy_toml: Option<&str>,
    exec_config: Option<&Path>,
    data: DataPlan<'_>,
) -> Result<Plan> {
    let (mut cfg, base, explicit) = match exec_config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read --exec-config {}", p.display()))?;
            let cfg = ExecConfig::parse(&text)
                .with_context(|| format!("--exec-config {}", p.display()))?;
            let keys = toml::from_str::<toml::Table>(&text).unwrap_or_default();
            let explicit = (
                keys.contains_key("ticks_per_unit"),
                keys.contains_key("lots_per_unit"),
            );
            (
                cfg,
                p.parent().map(Path::to_path_buf).unwrap_or_default(),
                explicit,
            )
        }
        None => (ExecConfig::default(), PathBuf::new(), (false, false)),
    };
    if let Some(q) = data.queue {
        cfg.queue.model = q.to_owned();
    }
    if data.l2_format.is_some() {
        // Crypto L2 data: 8-decimal prices and sizes, markets open all year round.
        if !explicit.0 {
            cfg.ticks_per_unit = L2_UNIT;
        }
        if !explicit.1 {
            cfg.lots_per_unit = L2_UNIT;
        }
        if cfg.periods_per_year <= 0.0 && cfg.sample_interval_ns > 0 {
            cfg.periods_per_year = 365.0 * 86_400e9 / cfg.sample_interval_ns as f64;
        }
        if cfg.queue.model == "fifo" {
            anyhow::bail!(
                "queue model fifo needs order-by-order (L3) data; on L2 data use --queue conservative or --queue probabilistic (or the config's queue.model)"
            );
        }
    }
    let options = cfg.to_options(&base).with_context(|| match exec_config {
        Some(p) => format!("--exec-config {}", p.display()),
        None => "the default backtest configuration".into(),
    })?;
    // Record the latency file as the run found it, so a re-run from the manifest finds it too.
    if let Some(p) = options.extra_inputs.first() {
        cfg.latency.csv = Some(p.display().to_string());
    }
    let mut inputs = vec![file.to_path_buf()];
    inputs.extend(strategy_config.map(Path::to_path_buf));
    inputs.extend(options.extra_inputs.iter().cloned());
    let mut config = json!({
        "input": file.display().to_string(),
        "symbols": symbols,
        "strategy": { "name": strategy, "config_toml": strategy_toml },
        "exec": serde_json::to_value(&cfg).context("recording the backtest configuration")?,
    });
    if let Some(ns) = data.max_time_jump_ns {
        config["max_time_jump_ns"] = json!(ns);
    }
    if let Some(f) = data.l2_format {
        config["data"] = json!({
            "format": f,
            "accept_unsynced": data.accept_unsynced,
            "book_depth": data.book_depth,
            "wire_precision": data.wire_precision,
        });
    }
    Ok(Plan {
        options,
        config,
        inputs,
    })
}

/// The manifest of a finished run.
pub(crate) fn manifest(plan: &Plan, digest: &str) -> Result<Manifest> {
    let inputs = plan
        .inputs
        .iter()
        .map(|p| InputFile::from_path(p).with_context(|| format!("hashing {}", p.display())))
        .collect::<Result<Vec<_>>>()?;
    Ok(Manifest {
        ticklane_version: env!("CARGO_PKG_VERSION").to_owned(),
        inputs,
        config: plan.config.clone(),
        digest: digest.to_owned(),
        command: std::env::args().collect(),
        spec: None,
    })
}

/// Prints the backtest statistics block, and writes the report directory when asked.
pub(crate) fn finish(summary: &Summary, plan: &Plan, report_dir: Option<&Path>) -> Result<()> {
    finish_input(summary.report_input(), &summary.digest, plan, report_dir)
}

/// [`finish`] for any replay's report input (`None`: the strategy sent no orders).
pub(crate) fn finish_input(
    input: Option<report::ReportInput<'_>>,
    digest: &str,
    plan: &Plan,
    report_dir: Option<&Path>,
) -> Result<()> {
    let Some(input) = input else {
        if let Some(dir) = report_dir {
            eprintln!(
                "report:        not written to {}: the strategy sent no orders (it only signals)",
                dir.display()
            );
        }
        return Ok(());
    };
    let stats = match report_dir {
        Some(dir) => {
            let m = manifest(plan, digest)?;
            let stats = report::write_report(dir, &input, &m)
                .with_context(|| format!("writing the report into {}", dir.display()))?;
            eprintln!(
                "report:        {} (summary.json, equity.svg, trades.csv, trades.parquet, manifest.json)",
                dir.display()
            );
            stats
        }
        None => report::compute_stats(&input),
    };
    let mut out = std::io::stdout().lock();
    report::print_summary(&stats, &mut out).context("printing the backtest summary")?;
    Ok(())
}

/// `ticklane verify MANIFEST`: re-runs the backtest the manifest describes; `Ok(true)` when the
/// digest matches.
pub(crate) fn verify(manifest_path: &Path) -> Result<VerifyOutcome> {
    let m = Manifest::read(manifest_path)
        .with_context(|| format!("cannot read manifest {}", manifest_path.display()))?;
    let mut problems = Vec::new();
    for f in &m.inputs {
        let p = Path::new(&f.path);
        match report::sha256_file(p) {
            Ok(h) if h == f.sha256 => {}
            Ok(h) => problems.push(format!(
                "input {}: sha256 is {h}, the manifest says {}",
                f.path, f.sha256
            )),
            Err(e) => problems.push(format!("input {}: cannot read it: {e}", f.path)),
        }
    }
    if !problems.is_empty() {
        return Ok(VerifyOutcome::InputsDiffer(problems));
    }
    let c = &m.config;
    let field = |v: &serde_json::Value, k: &str| -> Result<serde_json::Value> {
        v.get(k)
            .cloned()
            .with_context(|| format!("manifest config has no {k:?}"))
    };
    let file = PathBuf::from(
        field(c, "input")?
            .as_str()
            .context("manifest config.input is not a path")?,
    );
    let symbols: Vec<String> =
        serde_json::from_value(field(c, "symbols")?).context("manifest config.symbols")?;
    let strategy = field(c, "strategy")?;
    let name = field(&strategy, "name")?
        .as_str()
        .context("manifest config.strategy.name")?
        .to_owned();
    let toml_text: Option<String> = serde_json::from_value(field(&strategy, "config_toml")?)
        .context("manifest config.strategy.config_toml")?;
    let exec: ExecConfig =
        serde_json::from_value(field(c, "exec")?).context("manifest config.exec")?;
    let options = exec
        .to_options(Path::new(""))
        .context("manifest config.exec")?;
    let s = ticklane_strategies::build(&name, toml_text.as_deref())?;
    let input = ticklane_replay::input::open(&file)
        .with_context(|| format!("cannot open {}", file.display()))?;
    let max_time_jump_ns: Option<u64> = match c.get("max_time_jump_ns") {
        Some(v) => {
            Some(serde_json::from_value(v.clone()).context("manifest config.max_time_jump_ns")?)
        }
        None => None,
    };
    if let Some(data) = c.get("data") {
        return verify_l2(&m, manifest_path, data, input, s, options, max_time_jump_ns);
    }
    let opts = ticklane_replay::ItchReplayOptions {
        symbols: symbols.clone(),
        backtest: Some(options.clone()),
        max_time_jump_ns,
        ..Default::default()
    };
    let summary = ticklane_replay::replay_itch_with(
        ticklane_feeds::itch::framing::FrameReader::new(input.reader),
        opts,
        s,
    )
    .with_context(|| format!("replaying {}", file.display()))?;
    let rerun = Manifest {
        digest: summary.digest.clone(),
        ..m.clone()
    };
    if rerun.digest == m.digest {
        return Ok(VerifyOutcome::Match(summary.digest));
    }
    let mut lines = m.diff(&rerun);
    // The run's own summary.json, when it is beside the manifest, says which results moved.
    lines.extend(stats_diff(manifest_path, summary.report_input())?);
    Ok(VerifyOutcome::DigestDiffers(lines))
}

/// `verify` of a backtest on L2 data (the manifest's `config.data` names the format).
fn verify_l2(
    m: &Manifest,
    manifest_path: &Path,
    data: &serde_json::Value,
    input: ticklane_replay::input::Input,
    strategy: Box<dyn ticklane_engine::strategy::Strategy>,
    options: BacktestOptions,
    max_time_jump_ns: Option<u64>,
) -> Result<VerifyOutcome> {
    let format = data
        .get("format")
        .and_then(|v| v.as_str())
        .context("manifest config.data.format")?;
    let accept_unsynced = data
        .get("accept_unsynced")
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    let reader = std::io::BufReader::with_capacity(1 << 16, input.reader);
    let (digest, source): (String, Box<dyn ReportSource>) = match format {
        "binance" => {
            let opts = ticklane_replay::binance::BinanceReplayOptions {
                accept_unsynced,
                bbo_csv: None,
                backtest: Some((strategy, options)),
                max_time_jump_ns,
            };
            let s = ticklane_replay::binance::replay_binance(reader, opts)
                .context("replaying the capture")?;
            (s.digest.clone(), Box::new(s))
        }
        "coinbase" | "kraken" => {
            let book_depth: Option<usize> = match data.get("book_depth") {
                Some(v) => {
                    serde_json::from_value(v.clone()).context("manifest config.data.book_depth")?
                }
                None => None,
            };
            let wire: Vec<String> = match data.get("wire_precision") {
                Some(v) => serde_json::from_value(v.clone())
                    .context("manifest config.data.wire_precision")?,
                None => Vec::new(),
            };
            let mut wire_precision = Vec::new();
            for w in &wire {
                wire_precision.push(crate::crypto::wire_precision(w)?);
            }
            let opts = ticklane_replay::l2state::CryptoReplayOptions {
                accept_unsynced,
                bbo_csv: None,
                book_depth,
                wire_precision,
                backtest: Some((strategy, options)),
                max_time_jump_ns,
            };
            let s = if format == "kraken" {
                ticklane_replay::kraken::replay_kraken(reader, opts)
            } else {
                ticklane_replay::coinbase::replay_coinbase(reader, opts)
            }
            .context("replaying the capture")?;
            (s.digest.clone(), Box::new(s))
        }
        other => anyhow::bail!(
            "manifest config.data.format {other:?}: not one of binance, coinbase, kraken"
        ),
    };
    if digest == m.digest {
        return Ok(VerifyOutcome::Match(digest));
    }
    let rerun = Manifest {
        digest,
        ..m.clone()
    };
    let mut lines = m.diff(&rerun);
    lines.extend(stats_diff(manifest_path, source.input())?);
    Ok(VerifyOutcome::DigestDiffers(lines))
}

/// A finished L2 replay's summary, as far as the report needs it.
trait ReportSource {
    fn input(&self) -> Option<report::ReportInput<'_>>;
}

impl ReportSource for ticklane_replay::binance::BinanceSummary {
    fn input(&self) -> Option<report::ReportInput<'_>> {
        self.report_input()
    }
}

impl ReportSource for ticklane_replay::l2state::L2Summary {
    fn input(&self) -> Option<report::ReportInput<'_>> {
        self.report_input()
    }
}

/// The statistics of the run's recorded `summary.json` (beside the manifest) that a re-run
/// moved.
fn stats_diff(manifest_path: &Path, input: Option<report::ReportInput<'_>>) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    let recorded = manifest_path.with_file_name("summary.json");
    if let (Ok(text), Some(input)) = (std::fs::read_to_string(&recorded), input) {
        // Compared as JSON values read back from text: money amounts beyond 64 bits (L2 data's
        // finer units) become floats there, where a direct conversion would refuse them.
        let old = serde_json::from_str::<serde_json::Value>(&text).ok();
        if let Some(old) = old.as_ref().and_then(|v| v.get("stats")) {
            let new = report::compute_stats(&input);
            let n: serde_json::Value = serde_json::from_str(&serde_json::to_string(&new)?)?;
            if let (Some(o), Some(n)) = (old.as_object(), n.as_object()) {
                for (k, ov) in o {
                    let nv = n.get(k).cloned().unwrap_or_default();
                    if *ov != nv {
                        lines.push(format!("stats.{k}: {ov} -> {nv}"));
                    }
                }
            }
        }
    }
    Ok(lines)
}

/// What `verify` found.
pub(crate) enum VerifyOutcome {
    /// Same digest.
    Match(String),
    /// An input file changed or is missing.
    InputsDiffer(Vec<String>),
    /// The re-run gave another digest (the lines say what differs).
    DigestDiffers(Vec<String>),
}
