//! The live daemon's core, next to the replay runtime it shares its stages with: the ITCH
//! receive loop over sockets the caller opened ([`itch`]), the websocket runner's daemon
//! ([`ws`]), the journal the receive thread writes ([`journal`]), the receive backends and the live clock
//! ([`recv`]), the metrics registry and its counters ([`metrics`]) and the daemon's
//! configuration ([`config`]).
//!
//! ```text
//!  line A ─┐                                    ┌─> journal segment: one write per batch,
//!  line B ─┼─> [receive: recvmmsg | io_uring] ──┤   before the batch is released
//!  retrans ┘        │ arbiter (A/B, gaps)       └─> decode → book → strategy → outputs
//!                   └─> requests to the server        (inline, or the replay's threaded
//!                                                       pipeline behind a byte ring)
//! ```
//!
//! Why it lives here and not in the binary: a live run and a replay of its journal go through
//! the same code ([`crate::l3::journal::ReleasedStages`], [`crate::live::session`]), and another front end
//! (a test, a plugin's own binary) can run the daemon without the command line. The binary
//! keeps what is specific to one process: flags, reading the config file, opening and joining
//! sockets, signal handlers, the HTTP endpoint serving [`metrics::MetricsRegistry`], and
//! printing. Nothing here prints: start-up notes and the
//! end-of-run reports are returned as values.

pub mod config;
pub mod itch;
pub mod journal;
pub mod metrics;
pub mod recv;
mod ring;
pub mod session;
pub mod ws;

use std::path::Path;

use crate::live::session::WsRunError;
use crate::ReplayError;

/// Why the daemon could not start or finish. Every variant's message says what failed and
/// where; the sources carry the system's reason.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// A thread could not be started, or another system call failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The journal file could not be created.
    #[error("cannot create the journal {path}")]
    CreateJournal {
        /// The journal's path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The journal's path exists and `[journal] on_exists = "refuse"`.
    #[error("{0}")]
    JournalExists(String),
    /// The journal's header could not be written.
    #[error("writing the journal {path}")]
    WriteJournal {
        /// The journal's path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A `[sinks]` file could not be created.
    #[error("[sinks] {key}: cannot create {path}")]
    CreateSink {
        /// The key naming it (`bbo_csv`, `summary_json`).
        key: &'static str,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A `[sinks]` file could not be written.
    #[error("writing {path}")]
    WriteSink {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The summary could not be encoded as JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The replay stages failed (an output could not be written, ...).
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// The stages' outputs could not be set up.
    #[error("setting up the outputs")]
    Outputs(#[source] ReplayError),
    /// `[pipeline] wait` names no wait strategy.
    #[error("[pipeline] wait: {0}")]
    Wait(String),
    /// The receive backend failed.
    #[error("receiving ({backend})")]
    Receive {
        /// The backend's name.
        backend: &'static str,
        /// Why.
        source: std::io::Error,
    },
    /// The source is not the kind the caller runs.
    #[error("the source is not a {0} source")]
    WrongSource(&'static str),
    /// The websocket runner stopped on an error.
    #[error(transparent)]
    Ws(#[from] WsRunError),
    /// A thread of the daemon panicked.
    #[error("the {0} thread panicked")]
    Panicked(&'static str),
    /// A `[[sink]]` could not be opened.
    #[error("[[sink]] {0}")]
    Sink(#[from] crate::sink::OpenError),
}

impl LiveError {
    /// Whether the configuration is at fault (a value the daemon cannot use), as opposed to the
    /// system or the data: a command line maps it to its usage exit code.
    pub fn is_config(&self) -> bool {
        matches!(
            self,
            LiveError::Wait(_)
                | LiveError::JournalExists(_)
                | LiveError::Ws(WsRunError::Config(_) | WsRunError::Backtest(_))
                | LiveError::Sink(
                    crate::sink::OpenError::Url(_)
                        | crate::sink::OpenError::ParquetUrl(_)
                        | crate::sink::OpenError::NoKafka(_)
                )
        )
    }
}

/// Writes `summary` to `path` as pretty JSON and a newline (`[sinks] summary_json`).
///
/// # Errors
/// [`LiveError::CreateSink`], [`LiveError::Json`], [`LiveError::Io`] or
/// [`LiveError::WriteSink`] when the file cannot be created or written.
pub fn write_summary_json<T: serde::Serialize>(path: &Path, summary: &T) -> Result<(), LiveError> {
    use std::io::Write;
    let file = std::fs::File::create(path).map_err(|source| LiveError::CreateSink {
        key: "summary_json",
        path: path.display().to_string(),
        source,
    })?;
    let mut w = std::io::BufWriter::new(file);
    serde_json::to_writer_pretty(&mut w, summary)?;
    w.write_all(b"\n")?;
    w.flush().map_err(|source| LiveError::WriteSink {
        path: path.display().to_string(),
        source,
    })
}
