//! `ticklane replay --format coinbase|kraken`: option parsing and output for the multi-symbol
//! crypto L2 replays; the work is in `ticklane_replay::{coinbase, kraken}`.

use std::io::Write;

use anyhow::{bail, Context, Result};
use ticklane_engine::strategy::Strategy;
use ticklane_feeds::json::Precision;
use ticklane_replay::l2state::{CryptoReplayError, CryptoReplayOptions};
use ticklane_replay::pipeline::PipelineConfig;
use ticklane_replay::venue::VenueFormat;

use super::{create, exit, input_failure, Failure, ReplayArgs};

/// `BTC/USD=1,8` → (`BTC/USD`, 1 price decimal, 8 quantity decimals).
pub(crate) fn wire_precision(s: &str) -> Result<(String, Precision)> {
    let parse = || -> Option<(String, Precision)> {
        let (pair, d) = s.split_once('=')?;
        let (px, qty) = d.split_once(',')?;
        let (px, qty) = (px.trim().parse().ok()?, qty.trim().parse().ok()?);
        (px <= 8 && qty <= 8 && !pair.is_empty()).then(|| (pair.to_owned(), Precision { px, qty }))
    };
    match parse() {
        Some(p) => Ok(p),
        None => bail!(
            "--wire-precision {s:?}: expected PAIR=PX,QTY with decimals 0..=8, e.g. BTC/USD=1,8"
        ),
    }
}

pub(crate) fn replay_crypto(a: &ReplayArgs, kraken: bool) -> Result<u8, Failure> {
    let mut wire = Vec::new();
    for w in &a.wire_precision {
        wire.push(wire_precision(w).map_err(|err| Failure { code: 2, err })?);
    }
    let input = ticklane_replay::input::open(&a.file).map_err(input_failure)?;
    let mut opts = CryptoReplayOptions {
        accept_unsynced: a.accept_unsynced,
        bbo_csv: None,
        book_depth: a.book_depth,
        wire_precision: wire,
        backtest: None,
        max_time_jump_ns: a.max_time_jump,
    };
    let mut bt = None;
    let plan = l2_backtest(
        a,
        crate::backtest::DataPlan {
            l2_format: Some(if kraken { "kraken" } else { "coinbase" }),
            accept_unsynced: a.accept_unsynced,
            queue: a.queue.as_deref(),
            book_depth: a.book_depth,
            wire_precision: &a.wire_precision,
            max_time_jump_ns: a.max_time_jump,
        },
    )?
    .map(|(strategy, p)| {
        bt = Some((strategy, p.options.clone()));
        p
    });
    if let Some(p) = &a.bbo_csv {
        opts.bbo_csv = Some(Box::new(create(p)?));
    }
    let format = if kraken {
        VenueFormat::Kraken
    } else {
        VenueFormat::Coinbase
    };
    // Inline unless asked: on price-level captures (tens of MB of JSON) one thread is the
    // fast choice; the threaded layout gives the same digest.
    let r = if a.pipeline == crate::PipelineMode::Threads {
        let cfg = PipelineConfig {
            shards: usize::from(a.layout.shards),
            cores: a.layout.cores.clone(),
            wait: a.layout.wait,
            rate: None,
            epoch: ticklane_replay::pipeline::EPOCH,
        };
        eprintln!("pipeline: threads ({}), wait: {}", cfg.plan(), cfg.wait);
        ticklane_replay::pipeline::replay_l2_threaded(format, input.reader, opts, bt, &cfg)
            .map(|(s, _)| s)
    } else {
        opts.backtest = bt.map(|(s, o)| (s as Box<dyn Strategy>, o));
        let reader = std::io::BufReader::with_capacity(1 << 16, input.reader);
        ticklane_replay::l2state::replay_l2(format, reader, opts)
    };
    let s = r.map_err(|e| match e {
        CryptoReplayError::WrongVenue { .. } | CryptoReplayError::Read(_) => {
            input_failure(anyhow::Error::new(e).context(format!("{}", a.file.display())))
        }
        CryptoReplayError::Backtest(_) | CryptoReplayError::Stage(_) => Failure {
            code: 2,
            err: e.into(),
        },
        other => Failure::from(other),
    })?;
    l2_finish(a, &s, s.report_input(), &s.digest, plan.as_ref())?;
    println!("{s}");
    if a.strict && (s.bad_total() + s.time_jumps() > 0 || s.resyncs > 0) {
        return Ok(exit::DATA);
    }
    Ok(0)
}

/// A strategy to backtest and the plan of its run.
pub(crate) type L2Backtest = (Box<dyn Strategy + Send>, crate::backtest::Plan);

/// `--strategy` on an L2 capture: the strategy built from its configuration and the backtest
/// plan (`None` without `--strategy`).
pub(crate) fn l2_backtest(
    a: &ReplayArgs,
    data: crate::backtest::DataPlan<'_>,
) -> Result<Option<L2Backtest>, Failure> {
    let Some(name) = &a.strategy else {
        return Ok(None);
    };
    let strategy_cfg = match &a.strategy_config {
        Some(p) => Some(crate::read_config("--strategy-config", p)?),
        None => None,
    };
    let strategy =
        ticklane_strategies::build(name, strategy_cfg.as_deref()).map_err(|e| Failure {
            code: 2,
            err: e.into(),
        })?;
    let p = crate::backtest::plan(
        &a.file,
        &[],
        name,
        a.strategy_config.as_deref(),
        strategy_cfg.as_deref(),
        a.exec_config.as_deref(),
        data,
    )
    .map_err(|err| Failure { code: 2, err })?;
    Ok(Some((strategy, p)))
}

/// The end of an L2 replay: `--summary-json`, and the backtest report when one ran.
pub(crate) fn l2_finish(
    a: &ReplayArgs,
    summary: &impl serde::Serialize,
    report: Option<ticklane_replay::report::ReportInput<'_>>,
    digest: &str,
    plan: Option<&crate::backtest::Plan>,
) -> Result<(), Failure> {
    if let Some(p) = &a.summary_json {
        let mut w = create(p)?;
        serde_json::to_writer_pretty(&mut w, summary)?;
        writeln!(w)?;
        w.flush()
            .with_context(|| format!("writing {}", p.display()))?;
    }
    if let Some(p) = plan {
        crate::backtest::finish_input(report, digest, p, a.report.as_deref())?;
    }
    Ok(())
}

/// `ticklane replay --consolidated SPEC --consolidated SPEC ...`: the consolidated BBO of one
/// asset across several captures (see `ticklane_replay::consolidated`).
pub(crate) fn replay_consolidated(a: &ReplayArgs) -> Result<u8, Failure> {
    use ticklane_replay::consolidated::{
        check_specs, replay_consolidated, ConsolidatedError, ConsolidatedOptions,
    };
    check_specs(&a.consolidated).map_err(|e| Failure {
        code: 2,
        err: anyhow::anyhow!(e),
    })?;
    let mut opts = ConsolidatedOptions {
        book_depth: a.book_depth,
        wire_precision: Vec::new(),
        max_time_jump_ns: a.max_time_jump,
    };
    for w in &a.wire_precision {
        opts.wire_precision
            .push(wire_precision(w).map_err(|err| Failure { code: 2, err })?);
    }
    let csv: Option<Box<dyn Write>> = match &a.bbo_csv {
        Some(p) => Some(Box::new(create(p)?)),
        None => None,
    };
    let s = replay_consolidated(&a.consolidated, &opts, csv).map_err(|e| match e {
        ConsolidatedError::Usage(_) => Failure {
            code: 2,
            err: e.into(),
        },
        ConsolidatedError::Input { .. } => input_failure(e),
        ConsolidatedError::Output(_) => Failure::from(e),
    })?;
    l2_finish(a, &s, None, &s.digest, None)?;
    println!("{s}");
    if a.strict && s.sources.iter().any(|x| x.bad > 0 || x.resyncs > 0) {
        return Ok(exit::DATA);
    }
    Ok(0)
}
