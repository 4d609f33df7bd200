//! `ticklane live` with a websocket source (`kind = "binance"`, `"binance-futures"` or
//! `"coinbase"`): the library's daemon (`ticklane_replay::live::ws`) with this process's stop
//! flag (SIGINT/SIGTERM), metrics endpoint and output.
//!
//! `[strategy]` is turned into what it paper-trades with here, as `replay --strategy
//! --strategy-config --exec-config --queue` would (the same plan, so `ticklane replay JOURNAL`
//! with those flags reruns it and prints the same digest).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use ticklane_replay::live::config::LiveConfig;
use ticklane_replay::live::session::WsVenue;
use ticklane_replay::live::write_summary_json;
use ticklane_replay::live::ws::WsDaemon;

use super::{http, live_failure, stop_on_signals, strategy_toml};
use crate::Failure;

/// Runs the daemon for the config's websocket source (validated: it is one).
pub(crate) fn run(cfg: &LiveConfig) -> Result<u8, Failure> {
    let Some(src) = cfg.ws_source() else {
        return Err(anyhow::anyhow!("the source is not a websocket source").into());
    };
    let ws = &src.cfg;
    if !cfg.sink.is_empty() {
        // Refused, not ignored: the websocket daemon does not feed publishing sinks yet.
        return Err(Failure {
            code: 2,
            err: anyhow::anyhow!(
                "[[sink]] applies to ITCH sources; a websocket source does not publish yet (publish a capture with `ticklane replay CAPTURE --format binance --sink URL`)"
            ),
        });
    }

    // The strategy and its simulator, built first so a bad name, key or exec config fails
    // before anything connects.
    let backtest = match &cfg.strategy {
        Some(st) => {
            let text = strategy_toml(cfg)?;
            let strategy = crate::strategies()
                .build(&st.name, text.as_deref())
                .map_err(|e| Failure {
                    code: 2,
                    err: anyhow::Error::new(e).context("[strategy]"),
                })?;
            let plan = crate::backtest::plan(
                cfg.journal
                    .as_ref()
                    .map_or(std::path::Path::new(""), |j| &j.path),
                &ws.symbols,
                &st.name,
                st.config.as_deref(),
                text.as_deref(),
                st.exec_config.as_deref(),
                crate::backtest::DataPlan {
                    l2_format: Some(match ws.venue {
                        WsVenue::Coinbase => "coinbase",
                        WsVenue::Binance | WsVenue::BinanceFutures => "binance",
                    }),
                    accept_unsynced: ws.accept_unsynced,
                    queue: st.queue.as_deref(),
                    ..Default::default()
                },
            )
            .map_err(|err| Failure {
                code: 2,
                err: err.context("[strategy]"),
            })?;
            Some((strategy, plan.options))
        }
        None => None,
    };

    // The metrics port first (a busy port leaves no file behind), then the outputs (created
    // here, so a bad path fails before anything connects), signals, metrics.
    let metrics_port = http::bind(cfg)?;
    let daemon = WsDaemon::new(cfg, backtest).map_err(live_failure)?;
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signals(&stop)?;
    let endpoint = metrics_port
        .map(|p| p.start(daemon.metrics()))
        .transpose()?;
    eprintln!("{}", daemon.describe());

    let report = daemon.run(&stop, |note: &str| eprintln!("{note}"));
    if let Some(e) = endpoint {
        e.stop();
    }
    let report = report.map_err(live_failure)?;
    if let Some(p) = &cfg.sinks.summary_json {
        write_summary_json(p, &report.summary).map_err(live_failure)?;
    }
    print!("{report}");
    println!("{}", report.summary);
    if let Some(e) = report.journal_error {
        eprintln!("error: the journal could not be written: {e}");
        return Ok(crate::exit::OTHER);
    }
    if report.gave_up {
        eprintln!(
            "error: source {} gave up: {} connects in a row failed (max_reconnect_attempts)",
            report.source, ws.max_reconnect_attempts
        );
        return Ok(crate::exit::STOPPED);
    }
    Ok(0)
}
