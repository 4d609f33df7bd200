//! Replay of a capture journal (see `ticklane_feeds::journal`): the recorded MoldUDP64 packets
//! of every line go through the same A/B arbiter the live feed uses, in the order they were
//! received, the recorded give-ups ([`RecordKind::Skip`]) are applied where they were made, and
//! the released messages drive the identical decode → book → strategy → digest stages as a file
//! replay. A journal of a session with every gap recovered therefore prints the digest of a
//! replay of the file that was published.

use std::io::Read;
use std::time::Instant;

use ticklane_engine::strategy::Strategy;
use ticklane_feeds::arbiter::{Arbiter, ArbiterConfig, ArbiterStats};
use ticklane_feeds::journal::{Cut, JournalError, JournalReader, RecordKind, SegmentCounts};

use crate::l3::itch::{csv_err, summarize, ItchReplayOptions, ReplayError};
use crate::l3::summary::{ErrorCounts, Summary};
use crate::stages::{BookStage, DecodeStage, OutputStage};

/// What the journal itself held, besides the market data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JournalStats {
    /// Whole, valid records.
    pub records: u64,
    /// Packet records.
    pub packets: u64,
    /// Skip records applied (ranges given up on live).
    pub skips: u64,
    /// Conflicting copies the live run journaled ([`RecordKind::Conflict`] counts, summed);
    /// the arbiter's own `conflicts` is what this replay found in the packets.
    pub conflicts_journaled: u64,
    /// Gap, request, conflict, reconnect, resync and end records (informational).
    pub notes: u64,
    /// Records failing their CRC (skipped).
    pub corrupt: u64,
    /// Records of an unknown kind (skipped).
    pub unknown_kind: u64,
    /// The read stopped at an impossible record length or an I/O error.
    pub stopped_early: Option<JournalError>,
    /// The journal was cut short here.
    pub cut: Option<Cut>,
    /// The arbiter's counters (packets per line, duplicates, gaps, ...).
    pub arbiter: ArbiterStats,
    /// Messages known to exist but never released (missing at the end).
    pub missing_at_end: u64,
    /// Segments read (a journal written by restarted or rolled daemons has several).
    pub segments: u32,
    /// Segments that start a new run (a restarted daemon): the arbiter starts again there.
    pub restarts: u32,
    /// Segments other than the last that their daemon did not close.
    pub unclosed_segments: u32,
    /// Segments that could not be opened or have a bad header (skipped).
    pub bad_segments: u32,
    /// The last segment ends without its end record (marked open, or a version 1 journal
    /// whose last record is not the end record): the daemon did not stop cleanly.
    pub no_end_record: bool,
}

impl std::fmt::Display for JournalStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = &self.arbiter;
        write!(
            f,
            "{} records ({} packets: A {} B {} retrans {}), {} duplicates, {} conflicting ({} journaled), {} gaps, {} recovered, {} skipped, {} missing at end, {} corrupt, {} unknown",
            self.records,
            self.packets,
            a.packets[0],
            a.packets[1],
            a.packets[2],
            a.duplicates,
            a.conflicts,
            self.conflicts_journaled,
            a.gaps,
            a.recovered,
            a.skipped,
            self.missing_at_end,
            self.corrupt,
            self.unknown_kind
        )?;
        if let Some(c) = self.cut {
            write!(
                f,
                "; cut short at byte {} ({} bytes of a record)",
                c.offset, c.have
            )?;
        }
        if let Some(e) = self.stopped_early {
            write!(f, "; stopped early: {e}")?;
        }
        if self.segments > 1 {
            write!(
                f,
                "; {} segments ({} restarts)",
                self.segments, self.restarts
            )?;
        }
        if self.bad_segments > 0 {
            write!(f, "; {} segments unreadable (skipped)", self.bad_segments)?;
        }
        if self.unclosed_segments > 0 {
            write!(
                f,
                "; {} earlier segments not closed (their daemon did not stop cleanly)",
                self.unclosed_segments
            )?;
        }
        if self.no_end_record {
            write!(
                f,
                "; journal ends without its end record: the daemon did not stop cleanly"
            )?;
        }
        Ok(())
    }
}

/// The stages released messages drive, in sequence: decode → book (with the strategy) →
/// outputs (digest, BBO CSV, signals). The journal replay and the live daemon both feed it, so
/// a live run and the replay of its journal compute their digest with the same code.
pub struct ReleasedStages<'a, S: Strategy> {
    decoder: DecodeStage,
    book: BookStage<S>,
    output: OutputStage<'a>,
    name: &'static str,
    io_error: Option<std::io::Error>,
    bytes: u64,
    symbols: Vec<String>,
    top_n: usize,
    started: Instant,
}

impl<'a, S: Strategy> ReleasedStages<'a, S> {
    /// Stages for `strategy`, writing the outputs `opts` asks for.
    ///
    /// # Errors
    /// [`ReplayError::Output`] when an output cannot be created.
    pub fn new(mut opts: ItchReplayOptions<'a>, strategy: S) -> Result<Self, ReplayError> {
        let name = strategy.name();
        let output = opts.output_stage(name)?;
        Ok(ReleasedStages {
            decoder: opts.decoder(),
            book: BookStage::with_strategy(strategy),
            output,
            name,
            io_error: None,
            bytes: 0,
            symbols: std::mem::take(&mut opts.symbols),
            top_n: opts.top_n,
            started: Instant::now(),
        })
    }

    /// One released message (an ITCH 5.0 message without its length prefix).
    #[inline]
    pub fn on_message(&mut self, msg: &[u8]) {
        // As a BinaryFILE replay counts them: each message plus its 2-byte length.
        self.bytes += msg.len() as u64 + 2;
        let Some(ev) = self.decoder.on_frame(msg) else {
            return;
        };
        let (output, io_error) = (&mut self.output, &mut self.io_error);
        self.book.on_event(&ev, &mut |o| {
            if io_error.is_none() {
                if let Err(e) = output.on_output(&o) {
                    *io_error = Some(e);
                }
            }
        });
    }

    /// Takes the first output error since the last call (writing stops at the first one).
    ///
    /// # Errors
    /// [`ReplayError::Output`].
    pub fn check_output(&mut self) -> Result<(), ReplayError> {
        match self.io_error.take() {
            Some(e) => Err(csv_err(e)),
            None => Ok(()),
        }
    }

    /// Messages decoded so far.
    pub fn messages(&self) -> u64 {
        self.decoder.messages
    }

    /// Messages decoded so far, by ITCH type (indexed as [`ticklane_feeds::itch::msg::MESSAGE_TYPES`]).
    pub fn counts(&self) -> &[u64] {
        &self.decoder.counts
    }

    /// Flushes the outputs and builds the summary a file replay prints.
    ///
    /// # Errors
    /// [`ReplayError::Output`] when an output cannot be written.
    pub fn finish(mut self) -> Result<Summary, ReplayError> {
        self.check_output()?;
        self.output.finish().map_err(csv_err)?;
        let mut errors = ErrorCounts::default();
        errors.add_decoder(&self.decoder);
        errors.add_book(&self.book.errors);
        let mut summary = summarize(
            &self.decoder,
            &[&self.book],
            &self.output,
            errors,
            &self.symbols,
            self.top_n,
            self.bytes,
            self.started,
        );
        summary.strategy = (self.name != "none").then(|| self.name.to_owned());
        Ok(summary)
    }
}

/// Replays a journal with `strategy`; returns the summary and the journal's own counts.
///
/// # Errors
/// [`ReplayError::NotItch`] when the input is not a journal (or of an unsupported version);
/// [`ReplayError::Output`] when an output cannot be written. Damaged records are counted.
pub fn replay_journal_with<R: Read, S: Strategy>(
    reader: R,
    opts: ItchReplayOptions<'_>,
    strategy: S,
) -> Result<(Summary, JournalStats), ReplayError> {
    replay_journal_segments(std::iter::once(Ok(reader)), opts, strategy)
}

/// Replays a journal's segments in order with `strategy`: one arbiter through a run's rolled
/// segments, a new one where a segment starts a new run (a restarted daemon), the same stages
/// (books, strategy, digest) throughout.
///
/// # Errors
/// As [`replay_journal_with`], for the first segment; a later segment that cannot be opened
/// or has a bad header is counted ([`JournalStats::bad_segments`]) and skipped.
pub fn replay_journal_segments<R: Read, S: Strategy>(
    segments: impl IntoIterator<Item = std::io::Result<R>>,
    opts: ItchReplayOptions<'_>,
    strategy: S,
) -> Result<(Summary, JournalStats), ReplayError> {
    let mut segments = segments.into_iter();
    let first = segments
        .next()
        .ok_or_else(|| ReplayError::NotItch("no journal segment".into()))?
        .map_err(|e| ReplayError::NotItch(e.to_string()))?;
    let mut journal = JournalReader::new(first).map_err(|e| ReplayError::NotItch(e.to_string()))?;
    let mut arb = Arbiter::new(ArbiterConfig::default());
    let mut stages = ReleasedStages::new(opts, strategy)?;
    let mut stats = JournalStats {
        segments: 1,
        ..Default::default()
    };
    let mut merged = ArbiterStats::default();

    loop {
        while let Some(rec) = journal.next_record() {
            let rec = match rec {
                Ok(r) => r,
                Err(JournalError::Corrupt { .. }) | Err(JournalError::UnknownKind { .. }) => {
                    continue
                }
                Err(e) => {
                    stats.stopped_early = Some(e);
                    break;
                }
            };
            let mut sink = |_seq: u64, msg: &[u8]| stages.on_message(msg);
            match rec.kind {
                RecordKind::Packet => {
                    stats.packets += 1;
                    arb.on_packet(rec.line, rec.payload, &mut sink);
                }
                RecordKind::Skip => {
                    if let Some((from, count)) = rec.range() {
                        stats.skips += 1;
                        arb.skip(from, count, &mut sink);
                    }
                }
                RecordKind::Conflict => {
                    stats.notes += 1;
                    if let Some((_, count)) = rec.range() {
                        stats.conflicts_journaled += count;
                    }
                }
                _ => stats.notes += 1,
            }
            stages.check_output()?;
        }
        if stats.cut.is_none() {
            stats.cut = journal.cut();
        }
        // The next segment that opens and has a journal header.
        let mut c = SegmentCounts::default();
        let next = journal.advance(&mut segments, &mut c);
        stats.bad_segments += c.bad;
        stats.unclosed_segments += c.unclosed;
        stats.segments += c.segments;
        let Some(h) = next else {
            stats.no_end_record = c.no_end_record;
            break;
        };
        if !h.continues() {
            // A restarted daemon started its arbiter again; so does the replay.
            stats.restarts += 1;
            stats.missing_at_end += arb.missing();
            add_stats(&mut merged, &arb.stats);
            arb = Arbiter::new(ArbiterConfig::default());
        }
    }
    stats.records = journal.records;
    stats.corrupt = journal.corrupt;
    stats.unknown_kind = journal.unknown_kind;
    add_stats(&mut merged, &arb.stats);
    stats.arbiter = merged;
    stats.missing_at_end += arb.missing();
    let mut summary = stages.finish()?;
    summary.format = "journal (itch5 over moldudp64)".into();
    Ok((summary, stats))
}

/// Adds one arbiter's counters to `into` (the runs of a restarted journal).
fn add_stats(into: &mut ArbiterStats, s: &ArbiterStats) {
    let ArbiterStats {
        packets,
        bytes,
        won,
        released,
        duplicates,
        conflicts,
        gaps,
        requests,
        recovered,
        skipped,
        heartbeats,
        malformed,
        wrong_session,
        out_of_window,
        oversize,
    } = *s;
    for i in 0..packets.len() {
        into.packets[i] += packets[i];
        into.bytes[i] += bytes[i];
        into.won[i] += won[i];
    }
    into.released += released;
    into.duplicates += duplicates;
    into.conflicts += conflicts;
    into.gaps += gaps;
    into.requests += requests;
    into.recovered += recovered;
    into.skipped += skipped;
    into.heartbeats += heartbeats;
    into.malformed += malformed;
    into.wrong_session += wrong_session;
    into.out_of_window += out_of_window;
    into.oversize += oversize;
}
