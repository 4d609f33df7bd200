//! `ticklane live --config live.toml`: the feed daemon's command. The daemon itself is the
//! library's (`ticklane_replay::live`: the ITCH receive loop, journal, receive backends,
//! metrics registry, websocket runner); this module loads the config file, builds the
//! strategy, opens and joins the sockets ([`sockets`]), serves the metrics over HTTP
//! ([`http`]), wires SIGINT/SIGTERM to the stop flag, and prints what the library reports
//! (websocket sources: [`ws`]).

mod http;
mod sockets;
mod ws;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use ticklane_engine::strategy::{NoStrategy, Strategy};
use ticklane_replay::live::config::{ConfigError, LiveConfig};
use ticklane_replay::live::itch::ItchDaemon;
use ticklane_replay::live::{write_summary_json, LiveError};

use crate::{input_failure, Failure};

/// Arguments of `live`.
#[derive(Args)]
pub(crate) struct LiveArgs {
    /// The daemon's TOML configuration: sources, pipeline, strategy, sinks, journal, metrics,
    /// run limits. data/live-example.toml documents every key of an ITCH source,
    /// data/live-binance.toml and data/live-coinbase.toml those of a websocket source; unknown
    /// keys are an error.
    #[arg(long, value_name = "PATH")]
    config: PathBuf,
}

/// The `[strategy]` table's configuration text: its `config` file, or `[strategy.params]`.
fn strategy_toml(cfg: &LiveConfig) -> Result<Option<String>, Failure> {
    Ok(match &cfg.strategy {
        Some(s) => match (&s.config, &s.params) {
            (Some(p), _) => Some(crate::read_config("[strategy] config", p)?),
            (None, Some(t)) => Some(toml::to_string(t).map_err(|e| Failure {
                code: 2,
                err: e.into(),
            })?),
            (None, None) => None,
        },
        None => None,
    })
}

/// The daemon's config file missing is a missing input (exit 3); any error in it, a value out
/// of range included, is bad configuration (exit 2).
fn config_failure(e: ConfigError) -> Failure {
    match e {
        ConfigError::Read { .. } => input_failure(e),
        other => Failure {
            code: 2,
            err: other.into(),
        },
    }
}

/// The daemon's errors: a value in the config it cannot use is bad configuration (exit 2),
/// anything else (a file, a socket, a thread) exit 1.
fn live_failure(e: LiveError) -> Failure {
    Failure {
        code: if e.is_config() { 2 } else { crate::exit::OTHER },
        err: e.into(),
    }
}

/// Sets `stop` on SIGINT and SIGTERM.
fn stop_on_signals(stop: &Arc<AtomicBool>) -> Result<(), Failure> {
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("installing signal handlers")?;
    }
    Ok(())
}

/// Runs the daemon.
pub(crate) fn run(a: LiveArgs) -> Result<u8, Failure> {
    let cfg = LiveConfig::load(&a.config).map_err(config_failure)?;
    let Some(src) = cfg.itch() else {
        return ws::run(&cfg);
    };
    let usage = |err: anyhow::Error| Failure { code: 2, err };

    // The strategy, built once here so a bad name or key fails before any socket opens.
    let strategy_text = strategy_toml(&cfg)?;
    let strategy_name = cfg.strategy.as_ref().map(|s| s.name.clone());
    let make = move || -> Result<Box<dyn Strategy + Send>, ticklane_strategies::RegistryError> {
        match &strategy_name {
            Some(n) => crate::strategies().build(n, strategy_text.as_deref()),
            None => Ok(Box::new(NoStrategy)),
        }
    };
    let strategy = make().map_err(|e| usage(e.into()))?;

    // Every socket and port first: a daemon refused for a busy port creates no file.
    let sockets = sockets::open(src)?;
    let metrics_port = http::bind(&cfg)?;
    let daemon = ItchDaemon::new(
        &cfg,
        sockets,
        strategy,
        Box::new(move || make().expect("the strategy was built once with the same config")),
    )
    .map_err(live_failure)?;
    if let Some(note) = daemon.pipeline_note() {
        eprintln!("{note}");
    }
    let endpoint = metrics_port
        .map(|p| p.start(daemon.metrics()))
        .transpose()?;
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signals(&stop)?;
    if let Some(c) = cfg.pipeline.recv_core {
        // Best effort, as the replay's pipeline: an absent core is reported, not fatal.
        if !core_affinity::set_for_current(core_affinity::CoreId { id: c }) {
            eprintln!("live: could not pin the receive thread to core {c}");
        }
    }
    eprintln!("{}", daemon.describe());

    let report = daemon.run(&stop).map_err(live_failure)?;
    if let Some(e) = endpoint {
        e.stop();
    }
    print!("{report}");
    if let Some(p) = &cfg.sinks.summary_json {
        write_summary_json(p, &report.summary).map_err(live_failure)?;
    }
    println!("{}", report.summary);
    if let Some(e) = report.journal_error {
        eprintln!("error: the journal could not be written: {e}");
        return Ok(crate::exit::OTHER);
    }
    Ok(0)
}
