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

use crate::stages::output::{Output, OutputKind};

pub mod bbo_csv;
pub mod digest;
pub mod kafka;
#[cfg(feature = "kafka")]
mod kafka_producer;
pub mod parquet;
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
    /// A bad `parquet://` URL.
    #[error(transparent)]
    ParquetUrl(#[from] parquet::UrlError),
    /// The Parquet files could not be created.
    #[error("{url}: {err}")]
    Files {
        /// The sink's URL.
        url: String,
        /// What went wrong.
        err: io::Error,
    },
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

/// A sink's URL, as `--sink` and `[[sink]]` take it.
#[derive(Clone, Debug)]
pub enum SinkUrl {
    /// `kafka://HOST:PORT/PREFIX?...` ([`kafka::KafkaUrl`]).
    Kafka(kafka::KafkaUrl),
    /// `parquet://DIR?row_group=N` ([`parquet::ParquetUrl`]).
    Parquet(parquet::ParquetUrl),
}

impl SinkUrl {
    /// Parses any sink URL.
    ///
    /// # Errors
    /// The scheme's own URL errors; an unknown scheme is [`kafka::UrlError::Scheme`].
    pub fn parse(url: &str) -> Result<Self, OpenError> {
        if url.starts_with("parquet://") {
            Ok(SinkUrl::Parquet(parquet::ParquetUrl::parse(url)?))
        } else {
            Ok(SinkUrl::Kafka(kafka::KafkaUrl::parse(url)?))
        }
    }
}

/// A sink [`open`] made: any of them, movable to the thread the output stage runs on.
pub type OpenSink = Box<dyn Sink + Send>;

/// Opens the sink a URL names ([`SinkUrl`]) for records of `source`; signals name `strategy`.
/// Its counters are `stats` (a Parquet sink counts rows given as queued, rows in written row
/// groups as sent and acknowledged).
///
/// # Errors
/// A bad URL, a build without the sink's client, no broker answering, files that cannot be
/// created.
pub fn open(
    url: &str,
    source: record::Source,
    strategy: &str,
    stats: Arc<publish::SinkStats>,
) -> Result<OpenSink, OpenError> {
    let k = match SinkUrl::parse(url)? {
        SinkUrl::Parquet(p) => {
            let l2 = !matches!(source.venue, record::Venue::Itch | record::Venue::Lobster);
            let opts = parquet::ParquetOptions {
                venue: source.venue.as_str().to_owned(),
                clock: if l2 {
                    parquet::Clock::Utc
                } else {
                    parquet::Clock::TimeOfDay
                },
                px_decimals: u32::from(source.px_exp.unsigned_abs()),
                qty_decimals: u32::from(source.qty_exp.unsigned_abs()),
                row_group_rows: p.row_group_rows,
            };
            let sink = parquet::ParquetSink::create(&p.dir, &opts)
                .map_err(|err| OpenError::Files {
                    url: url.to_owned(),
                    err,
                })?
                .with_stats(stats);
            return Ok(Box::new(sink));
        }
        SinkUrl::Kafka(k) => k,
    };
    #[cfg(feature = "kafka")]
    {
        Ok(Box::new(kafka_producer::open(&k, source, strategy, stats)?))
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

/// A boxed sink (what [`open`] returns) is a sink.
impl<S: Sink + ?Sized> Sink for Box<S> {
    fn on_output(&mut self, o: &Output, symbol: &str) -> io::Result<()> {
        (**self).on_output(o, symbol)
    }

    fn finish(&mut self) -> io::Result<()> {
        (**self).finish()
    }
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
