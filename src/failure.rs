//! How a command fails: the exit codes a script can rely on, an error with its code, and the
//! file helpers whose errors map to them.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result};
use ticklane_replay::run::ErrorKind;

/// Exit codes a script can rely on.
pub(crate) mod exit {
    /// Bad usage: a flag, a strategy or backtest configuration file that cannot be read, or any
    /// configuration with a bad key or a value out of range. Clap's usage errors exit 2 as well.
    pub const USAGE: u8 = 2;
    /// Input data missing, unreadable or not in the expected format.
    pub const INPUT: u8 = 3;
    /// `--strict` and the input had bad records.
    pub const DATA: u8 = 4;
    /// `--check` found the book different from the reference, or `verify` found the re-run
    /// (or an input) different from the manifest.
    pub const CHECK: u8 = 5;
    /// `live` stopped on its own for another reason than a signal, the end of session or
    /// `[run] max_duration_s`: a source gave up (a websocket source's connects kept failing).
    pub const STOPPED: u8 = 6;
    /// Anything else (an output could not be written, the journal failed, ...).
    pub const OTHER: u8 = 1;
}

/// An error with the exit code it maps to.
pub(crate) struct Failure {
    /// The exit code ([`exit`]).
    pub(crate) code: u8,
    /// What went wrong, with its context.
    pub(crate) err: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            code: exit::OTHER,
            err: e.into(),
        }
    }
}

pub(crate) fn usage_failure(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: exit::USAGE,
        err: e.into(),
    }
}

/// Reads the configuration file given as `what` (`--strategy-config`, ...): one that cannot be
/// read is bad usage (exit 2), as a bad key or value in it is.
pub(crate) fn read_config(what: &str, path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))
        .map_err(usage_failure)
}

pub(crate) fn input_failure(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: exit::INPUT,
        err: e.into(),
    }
}

/// The exit code of a library failure of `kind`.
pub(crate) fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Usage => exit::USAGE,
        ErrorKind::Input => exit::INPUT,
        ErrorKind::Other => exit::OTHER,
    }
}

/// Opens a replay input (plain or gzip), mapping failures to exit 3.
pub(crate) fn ticklane_replay_input(
    p: &Path,
) -> Result<ticklane_replay::run::input::Input, Failure> {
    ticklane_replay::run::input::open(p)
        .with_context(|| format!("cannot open {}", p.display()))
        .map_err(input_failure)
}

/// Creates an output file, buffered.
pub(crate) fn create(path: &Path) -> Result<BufWriter<File>> {
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 16, f))
}
