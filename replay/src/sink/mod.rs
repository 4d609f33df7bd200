//! What the ordered output stream goes to. Every output of a run — top-of-book changes,
//! trades, statuses, signals, fills, order updates — reaches the output stage in input order
//! (merged back from the book shards), which keeps the digest (every encoding in [`digest`])
//! and hands each output of a selected instrument to the run's [`Sink`]s: the BBO CSV
//! ([`bbo_csv`]), signal records ([`signals`]), and whatever a caller adds
//! ([`crate::ItchReplayOptions::sinks`], [`crate::venue::CryptoReplayOptions::sinks`]). A new
//! output (a message bus, a columnar file) is one more `Sink`: the stages do not change.
//!
//! Sinks that publish ([`publish`]: Kafka, [`kafka`]) take records off the output stage's
//! thread through a ring, with a backpressure policy; [`open`] makes one from its URL.

use std::io;

use crate::output::{Output, OutputKind};

pub mod bbo_csv;
pub mod digest;
pub mod kafka;
#[cfg(feature = "kafka")]
mod kafka_producer;
pub mod publish;
pub mod record;
pub mod signals;

use std::sync::Arc;

/// A sink that could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A bad URL.
    #[error(transparent)]
    Url(#[from] kafka::UrlError),
    /// This build has no Kafka client.
    #[error("{0}: this build of ticklane has no Kafka support; build it with `--features kafka` (cargo build --release --features kafka)")]
    NoKafka(String),
    /// No broker answered, or the client could not be set up.
    #[error("{url}: {why}")]
    Connect {
        /// The sink's URL.
        url: String,
        /// What went wrong.
        why: String,
    },
}

/// Whether this build can publish to Kafka.
pub const KAFKA: bool = cfg!(feature = "kafka");

/// Opens the sink a URL names (`kafka://HOST:PORT/PREFIX?...`, see [`kafka::KafkaUrl`]) for
/// records of `source`; signals name `strategy`. Its counters are `stats`.
///
/// # Errors
/// A bad URL, a build without the sink's client, or no broker answering.
pub fn open(
    url: &str,
    source: record::Source,
    strategy: &str,
    stats: Arc<publish::SinkStats>,
) -> Result<publish::PublishSink, OpenError> {
    let k = kafka::KafkaUrl::parse(url)?;
    #[cfg(feature = "kafka")]
    {
        kafka_producer::open(&k, source, strategy, stats)
    }
    #[cfg(not(feature = "kafka"))]
    {
        let _ = (source, strategy, stats);
        Err(OpenError::NoKafka(k.url))
    }
}

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
