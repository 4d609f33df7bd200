//! The daemon with a websocket source (`kind = "binance"`, `"binance-futures"` or
//! `"coinbase"`): the live crypto runner ([`run_ws`]) on its own thread with the caller's stop
//! flag, the journal, the BBO sink and the counters its metrics endpoint serves.
//!
//! ```text
//!  venue ws ──> [runner thread: ws client → sync state machine → book → BBO CSV]
//!  venue REST ─┘      │ every frame, REST body, lost connection → journal (its flush policy)
//!                     └ counters (Relaxed atomics) ──> metrics thread ──> GET /metrics
//!  caller's thread: its stop flag (signals), [run] max_duration_s, or the runner giving up
//! ```
//!
//! The journal is the runner's own (a `Source` record, then frames, REST bodies, reconnects), so
//! `ticklane replay JOURNAL` drives the same session code and prints this run's digest.
//!
//! `[strategy]`: the strategy paper-trades on the books against the execution simulator, as an
//! L2 backtest of a capture does; the caller builds it and its options ([`WsStrategy`]) from
//! `[strategy]`, as `replay --strategy --queue --exec-config` would, and
//! `ticklane replay JOURNAL --strategy NAME --strategy-config F --queue Q` reruns it on what
//! arrived and prints the same digest.

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ticklane_engine::strategy::Strategy;

use super::config::{LiveConfig, WsSource};
use super::journal::{self, LiveJournal};
use super::metrics::{MetricsRegistry, WsCollector};
use super::recv::realtime_ns;
use super::LiveError;
use crate::backtest::BacktestOptions;
use crate::live::session::{run_ws, WsBacktest, WsCounters, WsRunSummary};

/// A strategy and the simulator options it paper-trades with.
pub type WsStrategy = (Box<dyn Strategy + Send>, BacktestOptions);

/// The daemon, set up (outputs open) and not yet connected.
pub struct WsDaemon<'c> {
    cfg: &'c LiveConfig,
    src: &'c WsSource,
    backtest: Option<WsStrategy>,
    bbo: Option<Box<dyn Write + Send>>,
    journal: Option<LiveJournal>,
    counters: Arc<WsCounters>,
}

impl<'c> WsDaemon<'c> {
    /// Sets up the daemon for `cfg`'s websocket source, paper-trading `backtest` when given:
    /// the outputs are created first, so a bad path fails before anything connects.
    ///
    /// # Errors
    /// [`LiveError::WrongSource`] if the source is not a websocket venue;
    /// [`LiveError::CreateSink`], [`LiveError::CreateJournal`] or [`LiveError::WriteJournal`]
    /// when a file cannot be created.
    pub fn new(cfg: &'c LiveConfig, backtest: Option<WsStrategy>) -> Result<Self, LiveError> {
        let src = cfg.ws_source().ok_or(LiveError::WrongSource("websocket"))?;
        let bbo: Option<Box<dyn Write + Send>> = match &cfg.sinks.bbo_csv {
            Some(p) => Some(Box::new(std::io::BufWriter::with_capacity(
                1 << 16,
                File::create(p).map_err(|source| LiveError::CreateSink {
                    key: "bbo_csv",
                    path: p.display().to_string(),
                    source,
                })?,
            ))),
            None => None,
        };
        let journal = match &cfg.journal {
            Some(j) => Some(LiveJournal::open(j)?),
            None => None,
        };
        Ok(WsDaemon {
            cfg,
            src,
            backtest,
            bbo,
            journal,
            counters: Arc::new(WsCounters::default()),
        })
    }

    /// A registry holding this source's collector (frames, reconnects, resyncs, book validity
    /// and staleness), for the caller's metrics endpoint.
    pub fn metrics(&self) -> MetricsRegistry {
        let mut reg = MetricsRegistry::default();
        reg.add(Box::new(WsCollector {
            source: self.src.name.clone(),
            counters: self.counters.clone(),
            now_ns: realtime_ns,
        }));
        reg.add_readiness(std::sync::Arc::new(crate::live::metrics::WsReadiness {
            source: self.src.name.clone(),
            counters: self.counters.clone(),
        }));
        reg
    }

    /// The start line: source, venue, URLs, symbols, journal, strategy.
    pub fn describe(&self) -> String {
        let (src, ws, cfg) = (self.src, &self.src.cfg, self.cfg);
        format!(
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
            match (&cfg.strategy, &self.backtest) {
                (Some(st), Some((_, o))) => format!(
                    ", strategy {} paper-trading (queue model {})",
                    st.name,
                    o.sim.queue.name()
                ),
                _ => String::new(),
            },
        )
    }

    /// Runs the runner on its own thread (pinned to `[pipeline] recv_core` if set; `warn`
    /// hears when that fails) until `stop` is set, `[run] max_duration_s` passes (this sets
    /// `stop`), or the runner gives up (`max_reconnect_attempts` connects in a row failed);
    /// then finishes the journal.
    ///
    /// # Errors
    /// [`LiveError::Ws`] when the runner stopped on an error (its config, the BBO CSV, the
    /// strategy's queue model); [`LiveError::Panicked`] or [`LiveError::Io`] for its thread.
    /// A journal that could not be finished is not an error here: the report says so
    /// ([`WsReport::journal_error`]).
    pub fn run(self, stop: &AtomicBool, warn: fn(&str)) -> Result<WsReport, LiveError> {
        let WsDaemon {
            cfg,
            src,
            backtest,
            bbo,
            mut journal,
            counters,
        } = self;
        let ws = &src.cfg;
        let started = Instant::now();
        let max = cfg.run.max_duration_s.map(Duration::from_secs_f64);
        let recv_core = cfg.pipeline.recv_core;
        let mut stop_reason = "signal";
        let mut gave_up = false;
        let counters_ref = &*counters;
        let (result, journal) = std::thread::scope(|sc| {
            let h = std::thread::Builder::new()
                .name("tl-ws".into())
                .spawn_scoped(sc, move || {
                    if let Some(c) = recv_core {
                        if !core_affinity::set_for_current(core_affinity::CoreId { id: c }) {
                            warn(&format!(
                                "live: could not pin the websocket thread to core {c}"
                            ));
                        }
                    }
                    let bbo = bbo.map(|b| -> Box<dyn Write> { b });
                    let backtest = backtest.map(|(s, o)| -> WsBacktest { (s, o) });
                    let r = run_ws(ws, stop, journal.as_mut(), counters_ref, bbo, backtest);
                    (r, journal)
                });
            let h = match h {
                Ok(h) => h,
                Err(e) => return (Err(LiveError::Io(e)), None),
            };
            // The runner returns when stopped, or by itself once `max_reconnect_attempts`
            // connects in a row failed (or on an error).
            while !h.is_finished() {
                if !stop.load(Ordering::Relaxed) && max.is_some_and(|m| started.elapsed() >= m) {
                    stop_reason = "max_duration_s";
                    stop.store(true, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            if !stop.load(Ordering::Relaxed) {
                stop_reason = "the venue: connects kept failing (max_reconnect_attempts)";
                gave_up = true;
            }
            match h.join() {
                Ok((r, j)) => (Ok(r), j),
                Err(_) => (Err(LiveError::Panicked("websocket")), None),
            }
        });
        let run_s = started.elapsed().as_secs_f64();
        let summary = result??;

        let mut journal_note = "off".to_owned();
        let mut journal_error = None;
        if let (Some(w), Some(j)) = (journal, &cfg.journal) {
            match w.close() {
                Ok(written) => journal_note = journal::describe(&j.path, &written),
                Err(e) => {
                    journal_note = format!("{}: FAILED at the end: {e}", j.path.display());
                    journal_error = Some(e.to_string());
                }
            }
        }
        if summary.journal_errors > 0 && journal_error.is_none() {
            journal_error = Some(format!("{} writes failed", summary.journal_errors));
        }
        Ok(WsReport {
            source: src.name.clone(),
            stop_reason,
            gave_up,
            run_s,
            journal: journal_note,
            journal_error,
            summary,
        })
    }
}

/// What a websocket run did. Its `Display` is the report printed before the summary (`live:`
/// and `journal:` lines).
#[derive(Debug)]
pub struct WsReport {
    /// The source's name.
    pub source: String,
    /// Why the run stopped.
    pub stop_reason: &'static str,
    /// The source gave up (connects kept failing), rather than being stopped: a supervisor
    /// should restart the daemon.
    pub gave_up: bool,
    /// Seconds from the start to the stop.
    pub run_s: f64,
    /// The journal: path, records, bytes (or what failed); `off` without one.
    pub journal: String,
    /// Why the journal is incomplete, if it is.
    pub journal_error: Option<String>,
    /// The runner's summary and digest (the journal's replay prints the same digest).
    pub summary: WsRunSummary,
}

impl fmt::Display for WsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "live:          source {}, stopped by {} after {:.3} s",
            self.source, self.stop_reason, self.run_s
        )?;
        writeln!(f, "journal:       {}", self.journal)
    }
}
