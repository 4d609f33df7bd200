//! The backtest side of the command line: the statistics block and the report of a finished
//! run (`--report`, its manifest recording the run's spec), and the execution options of a
//! strategy the live daemon or `bench backtest` runs.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use ticklane_replay::backtest::{BacktestOptions, ExecConfig};
use ticklane_replay::report;
use ticklane_replay::run::{self, Outcome, RunSpec};

use crate::Failure;

/// What a strategy run outside `replay` (the live daemon, `bench backtest`) needs beyond the
/// replay options.
pub(crate) struct Plan {
    /// The simulator and accounting options.
    pub options: BacktestOptions,
}

/// What kind of data a backtest runs on, and command-line overrides of its configuration.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DataPlan<'a> {
    /// `None`: ITCH (order by order); `Some("binance")`: an L2 crypto capture.
    pub l2_format: Option<&'static str>,
    /// L2: report unsynced books.
    #[allow(
        dead_code,
        reason = "the live daemon describes its data with it; the execution options do not depend on it"
    )]
    pub accept_unsynced: bool,
    /// `--queue`: overrides the configuration's `queue.model`.
    pub queue: Option<&'a str>,
    /// Callers name the fields they set and take the rest from `Default` (the live daemon
    /// does), so a field added or dropped here does not touch them.
    pub _rest: (),
}

/// Reads `exec_config` (or the defaults) for `data`, with its overrides: the execution options
/// of a strategy run outside `replay`. The run's file, symbols and strategy are not needed
/// here any more (a replay records its run as a `RunSpec`); the parameters stay so the
/// callers' code stays as it is.
pub(crate) fn plan(
    _file: &Path,
    _symbols: &[String],
    _strategy: &str,
    _strategy_config: Option<&Path>,
    _strategy_toml: Option<&str>,
    exec_config: Option<&Path>,
    data: DataPlan<'_>,
) -> Result<Plan> {
    let (text, base) = match exec_config {
        Some(p) => (
            Some(
                std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read --exec-config {}", p.display()))?,
            ),
            p.parent().map(Path::to_path_buf).unwrap_or_default(),
        ),
        None => (None, PathBuf::new()),
    };
    let what = || match exec_config {
        Some(p) => format!("--exec-config {}", p.display()),
        None => "the default backtest configuration".into(),
    };
    let l2 = data.l2_format.is_some();
    let mut cfg = ExecConfig::parse_for(text.as_deref(), l2).with_context(what)?;
    if let Some(q) = data.queue {
        cfg.queue.model = q.to_owned();
    }
    if l2 && cfg.queue.model == "fifo" {
        anyhow::bail!(
            "queue model fifo needs order-by-order (L3) data; on L2 data use --queue conservative or --queue probabilistic (or the config's queue.model)"
        );
    }
    let options = cfg.to_options(&base).with_context(what)?;
    Ok(Plan { options })
}

/// After a replay with a strategy: prints the backtest statistics block on `out` and, with
/// `outputs.report`, writes the report with its manifest (the spec, paths relative to the
/// report's folder, inputs hashed). Nothing for runs that keep no accounts.
pub(crate) fn finish(
    spec: &RunSpec,
    outcome: &Outcome,
    out: &mut dyn std::io::Write,
) -> Result<(), Failure> {
    let accounted = matches!(outcome, Outcome::Itch { .. } | Outcome::L2(_));
    if spec.strategy.is_none() || !accounted {
        return Ok(());
    }
    let report_dir = spec.outputs.report.as_deref();
    let Some(input) = outcome.report_input() else {
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
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the report folder {}", dir.display()))?;
            let m = run::manifest_for(spec, outcome.digest(), dir, std::env::args().collect())
                .context("recording the run in the manifest")?;
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
    let mut out = out;
    report::print_summary(&stats, &mut out).context("printing the backtest summary")?;
    Ok(())
}
