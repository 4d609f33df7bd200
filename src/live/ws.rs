//! `ticklane live` with a websocket source (`kind = "binance"`, `"binance-futures"` or
//! `"coinbase"`): the live crypto runner ([`run_ws`]) on its own thread with the daemon's stop
//! flag, journal, BBO sink and metrics endpoint.
//!
//! ```text
//!  venue ws ──> [runner thread: ws client → sync state machine → book → BBO CSV]
//!  venue REST ─┘      │ every frame, REST body, lost connection → journal (its flush policy)
//!                     └ counters (Relaxed atomics) ──> metrics thread ──> GET /metrics
//!  main thread: SIGINT/SIGTERM, [run] max_duration_s, or the runner giving up reconnecting
//! ```
//!
//! The journal is the runner's own (a `Source` record, then frames, REST bodies, reconnects), so
//! `ticklane replay JOURNAL` drives the same session code and prints this run's digest.
//!
//! `[strategy]`: the strategy paper-trades on the books against the execution simulator, as an
//! L2 backtest of a capture does (`[strategy] queue` / `exec_config` as `replay --queue` /
//! `--exec-config`); `ticklane replay JOURNAL --strategy NAME --strategy-config F --queue Q`
//! reruns it on what arrived and prints the same digest.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use ticklane_feeds::journal::JournalWriter;
use ticklane_replay::live::config::LiveConfig;
use ticklane_replay::live_ws::{run_ws, WsCounters, WsRunError, WsVenue};

use super::http;
use crate::Failure;
use ticklane_replay::live::metrics::{self, MetricsRegistry};
use ticklane_replay::live::recv;

/// Runs the daemon for the config's websocket source (validated: it is one).
pub(crate) fn run(cfg: &LiveConfig) -> Result<u8, Failure> {
    let Some(src) = cfg.ws_source() else {
        return Err(anyhow::anyhow!("the source is not a websocket source").into());
    };
    let ws = &src.cfg;

    // The strategy and its simulator, built first so a bad name, key or exec config fails
    // before anything connects.
    let backtest = match &cfg.strategy {
        Some(st) => {
            let text = super::strategy_toml(cfg)?;
            let strategy =
                ticklane_strategies::build(&st.name, text.as_deref()).map_err(|e| Failure {
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

    // Outputs first, so a bad path fails before anything connects.
    let bbo: Option<Box<dyn Write + Send>> = match &cfg.sinks.bbo_csv {
        Some(p) => Some(Box::new(std::io::BufWriter::with_capacity(
            1 << 16,
            std::fs::File::create(p)
                .with_context(|| format!("[sinks] bbo_csv: cannot create {}", p.display()))?,
        ))),
        None => None,
    };
    let mut journal = match &cfg.journal {
        Some(j) => {
            let file = std::fs::File::create(&j.path)
                .with_context(|| format!("cannot create the journal {}", j.path.display()))?;
            Some(
                JournalWriter::new(file, j.flush_ms.saturating_mul(1_000_000))
                    .with_context(|| format!("writing the journal {}", j.path.display()))?,
            )
        }
        None => None,
    };

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("installing signal handlers")?;
    }
    let counters = Arc::new(WsCounters::default());
    let metrics_stop = Arc::new(AtomicBool::new(false));
    let mut metrics_handle = None;
    if cfg.metrics.enabled {
        let mut reg = MetricsRegistry::default();
        reg.add(Box::new(metrics::WsCollector {
            source: src.name.clone(),
            counters: counters.clone(),
            now_ns: recv::realtime_ns,
        }));
        let (addr, h) = http::serve(cfg.metrics.bind, reg, metrics_stop.clone())
            .with_context(|| format!("[metrics] bind = \"{}\"", cfg.metrics.bind))?;
        eprintln!("live: metrics at http://{addr}/metrics");
        metrics_handle = Some(h);
    }
    eprintln!(
        "live: source {} ({} websocket {}, symbols {}{}), journal {}{}",
        src.name,
        ws.venue.name(),
        ws.url,
        ws.symbols.join(","),
        ws.rest_url
            .as_deref()
            .map(|r| format!(", REST {r}"))
            .unwrap_or_default(),
        cfg.journal
            .as_ref()
            .map_or_else(|| "off".to_owned(), |j| j.path.display().to_string()),
        match (&cfg.strategy, &backtest) {
            (Some(st), Some((_, o))) => format!(
                ", strategy {} paper-trading (queue model {})",
                st.name,
                o.sim.queue.name()
            ),
            _ => String::new(),
        },
    );

    let started = Instant::now();
    let max = cfg.run.max_duration_s.map(Duration::from_secs_f64);
    let recv_core = cfg.pipeline.recv_core;
    let mut stop_reason = "signal";
    let (stop_ref, counters_ref) = (&*stop, &*counters);
    let (result, journal) = std::thread::scope(|sc| {
        let h = std::thread::Builder::new()
            .name("tl-ws".into())
            .spawn_scoped(sc, move || {
                if let Some(c) = recv_core {
                    if !core_affinity::set_for_current(core_affinity::CoreId { id: c }) {
                        eprintln!("live: could not pin the websocket thread to core {c}");
                    }
                }
                let bbo = bbo.map(|b| -> Box<dyn Write> { b });
                let backtest =
                    backtest.map(|(s, o)| -> ticklane_replay::live_ws::WsBacktest { (s, o) });
                let r = run_ws(ws, stop_ref, journal.as_mut(), counters_ref, bbo, backtest);
                (r, journal)
            });
        let h = match h {
            Ok(h) => h,
            Err(e) => return (Err(Failure::from(e)), None),
        };
        // The runner returns when stopped, or by itself once `max_reconnect_attempts` connects
        // in a row failed (or on an error).
        while !h.is_finished() {
            if !stop.load(Ordering::Relaxed) && max.is_some_and(|m| started.elapsed() >= m) {
                stop_reason = "max_duration_s";
                stop.store(true, Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if !stop.load(Ordering::Relaxed) {
            stop_reason = "the venue: connects kept failing (max_reconnect_attempts)";
        }
        match h.join() {
            Ok((r, j)) => (Ok(r), j),
            Err(_) => (
                Err(anyhow::anyhow!("the websocket thread panicked").into()),
                None,
            ),
        }
    });
    let run_s = started.elapsed().as_secs_f64();
    metrics_stop.store(true, Ordering::Relaxed);
    if let Some(h) = metrics_handle {
        let _ = h.join();
    }
    let summary = result?.map_err(|e| match e {
        WsRunError::Config(_) | WsRunError::Backtest(_) => Failure {
            code: 2,
            err: e.into(),
        },
        other => Failure::from(other),
    })?;

    let mut journal_note = "off".to_owned();
    let mut journal_failed = None;
    if let (Some(w), Some(j)) = (journal, &cfg.journal) {
        let (records, bytes) = (w.records(), w.bytes());
        match w.finish().and_then(|f| f.sync_data()) {
            Ok(()) => {
                journal_note = format!("{} ({records} records, {bytes} bytes)", j.path.display())
            }
            Err(e) => {
                journal_note = format!("{}: FAILED at the end: {e}", j.path.display());
                journal_failed = Some(e.to_string());
            }
        }
    }
    if summary.journal_errors > 0 && journal_failed.is_none() {
        journal_failed = Some(format!("{} writes failed", summary.journal_errors));
    }
    if let Some(p) = &cfg.sinks.summary_json {
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(p)
                .with_context(|| format!("[sinks] summary_json: cannot create {}", p.display()))?,
        );
        serde_json::to_writer_pretty(&mut w, &summary)?;
        writeln!(w)?;
        w.flush()
            .with_context(|| format!("writing {}", p.display()))?;
    }
    println!(
        "live:          source {}, stopped by {stop_reason} after {run_s:.3} s",
        src.name
    );
    println!("journal:       {journal_note}");
    println!("{summary}");
    if let Some(e) = journal_failed {
        eprintln!("error: the journal could not be written: {e}");
        return Ok(crate::exit::OTHER);
    }
    Ok(0)
}
