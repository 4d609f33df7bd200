//! What the ordered output stream goes to. Every output of a run — top-of-book changes,
//! trades, statuses, signals, fills, order updates — reaches the output stage in input order
//! (merged back from the book shards), which keeps the digest (every encoding in [`digest`])
//! and hands each output of a selected instrument to the run's [`Sink`]s: the BBO CSV
//! ([`bbo_csv`]), signal records ([`signals`]), and whatever a caller adds
//! ([`crate::ItchReplayOptions::sinks`], [`crate::venue::CryptoReplayOptions::sinks`]). A new
//! output (a message bus, a columnar file) is one more `Sink`: the stages do not change.

use std::io;

use crate::stages::output::{Output, OutputKind};

pub mod bbo_csv;
pub mod digest;
pub mod parquet;
pub mod signals;

/// A consumer of the ordered output stream.
pub trait Sink {
    /// One output, in input order; `symbol` names its instrument (empty before it is defined).
    ///
    /// # Errors
    /// The sink could not take it (the run stops and reports it).
    fn on_output(&mut self, o: &Output, symbol: &str) -> io::Result<()>;

    /// The end of the run: write out what is buffered.
    ///
    /// # Errors
    /// As [`on_output`](Self::on_output).
    fn finish(&mut self) -> io::Result<()>;
}

/// The BBO CSV: a row per top-of-book change.
impl Sink for bbo_csv::BboCsv<'_> {
    fn on_output(&mut self, o: &Output, symbol: &str) -> io::Result<()> {
        match o.kind {
            OutputKind::Bbo(top) => self.row(o.ts, symbol, top),
            _ => Ok(()),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.flush()
    }
}

/// Signal records: one per strategy signal.
impl Sink for signals::SignalSink<'_> {
    fn on_output(&mut self, o: &Output, symbol: &str) -> io::Result<()> {
        match o.kind {
            OutputKind::Signal(sig) => self.write(o.ts, symbol, &sig),
            _ => Ok(()),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.flush()
    }
}
