//! The ITCH multicast daemon's receive loop, over sockets the caller opened and a receive
//! backend it chose ([`ItchSockets`]).
//!
//! One receive thread owns the sockets and the arbiter. Every datagram is journaled (line and
//! receive time) before the arbiter sees it, and every decision that changes what reaches the
//! books (a gap given up on) is journaled before it is applied (and a copy that conflicts with
//! the first one, right after its packet), so `ticklane replay JOURNAL` re-drives the same
//! arbiter and the same stages ([`ReleasedStages`]) and prints this run's digest. Counters are
//! atomics stored with `Relaxed` after each batch; the metrics thread reads them when scraped.
//!
//! ```text
//! ItchDaemon::new   journal segment, stages (inline or the threaded pipeline), counters
//!   .metrics()      the registry the caller serves
//!   .run(&stop)     = .start() then ReceiveLoop::run (until stop, max_duration_s or the end
//!                     of session) then ReceiveLoop::finish: journal drained, report
//! ```

use std::fmt;
use std::fs::File;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ticklane_engine::clock::MonoClock;
use ticklane_engine::strategy::Strategy;
use ticklane_feeds::arbiter::{Arbiter, ArbiterStats, Poll, LINE_RETRANS};
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_feeds::journal::{range_payload, RecordKind};
use ticklane_feeds::journal_file::StagedRecords;
use ticklane_feeds::moldudp64::encode_request;

use super::config::{ItchSource, LiveConfig, PipelineMode};
use super::journal::{self, LiveJournal};
use super::metrics::{
    self, ItchCollector, ItchCounters, LatencyPublisher, LatencySet, LatencyTotals,
    MetricsRegistry, SinkCollector,
};
use super::recv::{realtime_ns, Receiver, RecvStats};
use super::ring::{copy_into, prefault, wait_room, RingReader};
use super::LiveError;
use crate::l3::journal::ReleasedStages;
use crate::sink::publish::{SinkStats, StatsSnapshot};
use crate::sink::record::{Source, Venue};
use crate::stages::pipeline::{replay_itch_threaded_with, PipelineConfig, PipelineRun, EPOCH};
use crate::{ItchReplayOptions, ReplayError, Summary};

/// Bytes of the ring between the receive thread and the threaded pipeline.
pub const PIPELINE_RING: usize = 16 << 20;

/// Builds the strategy again, for each book shard of the threaded pipeline (the caller built
/// one first, so a bad name or key failed before any socket opened).
pub type MakeStrategy = Box<dyn Fn() -> Box<dyn Strategy + Send> + Send>;

/// What the caller opened for the daemon.
pub struct ItchSockets {
    /// The receive backend over line A, line B and the request socket (line
    /// [`LINE_RETRANS`]).
    pub receiver: Receiver,
    /// Why the backend is not the one asked for (`recv = "auto"` falling back), for the
    /// start line and the summary; empty otherwise.
    pub backend_note: String,
    /// The request socket: requests are sent from it (retransmissions arrive on it, through
    /// `receiver`).
    pub req: UdpSocket,
    /// Line A and line B, kept open as long as `receiver` reads them.
    pub lines: Vec<UdpSocket>,
}

/// Where released messages go.
enum Processor {
    Inline(Box<ReleasedStages<'static, Box<dyn Strategy + Send>>>),
    Threads {
        tx: rtrb::Producer<u8>,
        handle: JoinHandle<Result<PipelineRun, ReplayError>>,
        waits: u64,
    },
}

impl Processor {
    #[inline]
    fn on_message(&mut self, msg: &[u8]) {
        match self {
            Processor::Inline(s) => s.on_message(msg),
            Processor::Threads { tx, waits, .. } => {
                let n = msg.len() + 2;
                let (waited, room) = wait_room(tx, n);
                *waits += u64::from(waited);
                if !room {
                    // The pipeline thread is gone; its join reports why.
                    return;
                }
                if let Ok(mut c) = tx.write_chunk(n) {
                    copy_into(c.as_mut_slices(), &[&(msg.len() as u16).to_be_bytes(), msg]);
                    c.commit_all();
                }
            }
        }
    }

    fn finish(self) -> Result<(Summary, Option<String>), LiveError> {
        match self {
            Processor::Inline(s) => Ok((s.finish()?, None)),
            Processor::Threads { tx, handle, waits } => {
                drop(tx);
                let run = handle
                    .join()
                    .map_err(|_| LiveError::Panicked("pipeline"))??;
                let q = |h: &hdrhistogram::Histogram<u64>| {
                    format!(
                        "p50 {} ns, p99 {} ns, max {} ns",
                        h.value_at_quantile(0.5),
                        h.value_at_quantile(0.99),
                        h.max()
                    )
                };
                let note = format!(
                    "pipeline:      ingest→book {}; ingest→output {}; {} waits for ring room",
                    q(&run.latency.ingest_to_book),
                    q(&run.latency.ingest_to_output),
                    waits
                );
                Ok((run.summary, Some(note)))
            }
        }
    }

    fn ring_occupancy(&self) -> u64 {
        match self {
            Processor::Inline(_) => 0,
            Processor::Threads { tx, .. } => (tx.buffer().capacity() - tx.slots()) as u64,
        }
    }
}

/// ITCH message types that change a book.
#[inline]
fn is_book_update(ty: u8) -> bool {
    matches!(ty, b'A' | b'F' | b'E' | b'C' | b'X' | b'D' | b'U')
}

/// One message released in sequence: counted by type, its instrument's book marked updated at
/// `ts` (or its symbol noted, for a stock directory message), and handed to the stages.
#[inline]
fn on_release(
    c: &ItchCounters,
    by_type: &mut [u64; 26],
    processor: &mut Processor,
    ts: u64,
    msg: &[u8],
) {
    if let Some(&ty) = msg.first() {
        if ty.is_ascii_uppercase() {
            by_type[usize::from(ty - b'A')] += 1;
        }
        if msg.len() >= 3 {
            let locate = usize::from(u16::from_be_bytes([msg[1], msg[2]]));
            if is_book_update(ty) {
                c.last_update[locate].store(ts, Ordering::Relaxed);
            } else if ty == b'R' && msg.len() >= 19 {
                let mut s = [0u8; 8];
                s.copy_from_slice(&msg[11..19]);
                c.symbol[locate].store(u64::from_be_bytes(s), Ordering::Relaxed);
            }
        }
    }
    processor.on_message(msg);
}

/// What releasing a packet touches, borrowed from the receive loop for one step.
struct Release<'a> {
    arb: &'a mut Arbiter,
    processor: &'a mut Processor,
    c: &'a ItchCounters,
    by_type: &'a mut [u64; 26],
    latency: &'a mut LatencyPublisher,
    clock: &'a MonoClock,
}

/// Conflicting copies found while a batch is released, journaled once the batch is done (the
/// records are informational; a replay finds the same conflicts in the packets).
const MAX_CONFLICT_NOTES: usize = 32;

/// The conflicts found in a batch: `(first sequence number, count, receive time, line)` and
/// how many slots are used.
type ConflictNotes = ([(u64, u64, u64, u16); MAX_CONFLICT_NOTES], usize);

impl Release<'_> {
    /// Arbitrates one packet and processes what it releases; a conflict goes to `conflicts`
    /// (merged into the last slot when full).
    #[inline]
    fn packet(&mut self, line: u16, ts: u64, pkt: &[u8], conflicts: Option<&mut ConflictNotes>) {
        let t1 = self.clock.now();
        let (c, by_type, processor) = (self.c, &mut *self.by_type, &mut *self.processor);
        self.arb.on_packet(line, pkt, &mut |_seq, msg: &[u8]| {
            on_release(c, by_type, processor, ts, msg)
        });
        if let Some((seq, count)) = self.arb.take_conflicts() {
            if let Some((notes, n)) = conflicts {
                if *n < MAX_CONFLICT_NOTES {
                    notes[*n] = (seq, count, ts, line);
                    *n += 1;
                } else {
                    notes[MAX_CONFLICT_NOTES - 1].1 += count;
                }
            }
        }
        let t2 = self.clock.now();
        self.latency.record(metrics::PROCESS, t2 - t1);
        self.latency
            .record(metrics::RECV_TO_PROCESSED, realtime_ns().saturating_sub(ts));
    }

    /// Writes the staged batch to the journal (one write), then releases its packets, then
    /// journals the conflicts found.
    fn batch(&mut self, j: &mut LiveJournal) {
        if j.staged().is_empty() {
            return;
        }
        let t0 = self.clock.now();
        j.commit();
        self.latency
            .record(metrics::JOURNAL_APPEND, self.clock.now() - t0);
        let mut conflicts: ConflictNotes = ([(0, 0, 0, 0); MAX_CONFLICT_NOTES], 0);
        let packet = RecordKind::Packet.code();
        for (kind, ts, line, pkt) in StagedRecords::new(j.staged()) {
            if kind == packet {
                self.packet(line, ts, pkt, Some(&mut conflicts));
            }
        }
        j.clear();
        let (notes, n) = conflicts;
        for &(seq, count, ts, line) in &notes[..n] {
            j.stage(RecordKind::Conflict, ts, line, &range_payload(seq, count));
        }
        j.commit();
        j.clear();
    }
}

/// The daemon, set up and not yet receiving.
pub struct ItchDaemon<'c> {
    cfg: &'c LiveConfig,
    src: &'c ItchSource,
    sockets: ItchSockets,
    journal: Option<LiveJournal>,
    processor: Processor,
    pipeline_note: Option<String>,
    counters: Arc<ItchCounters>,
    latency: LatencyPublisher,
    totals: Arc<LatencyTotals>,
    sinks: Vec<(String, Arc<SinkStats>)>,
}

impl<'c> ItchDaemon<'c> {
    /// Sets up the daemon for `cfg`'s ITCH source: the journal's new segment, the
    /// stages the released messages drive (inline with `strategy`, or the threaded pipeline
    /// with a strategy per shard from `make`) and their outputs, the counters.
    ///
    /// # Errors
    /// [`LiveError::WrongSource`] if the source is not ITCH; [`LiveError::JournalExists`],
    /// [`LiveError::CreateJournal`],
    /// [`LiveError::Outputs`] or [`LiveError::Replay`] when a file cannot be created;
    /// [`LiveError::Wait`] for an unknown `[pipeline] wait`; [`LiveError::Io`] when a thread
    /// cannot be started.
    pub fn new(
        cfg: &'c LiveConfig,
        sockets: ItchSockets,
        strategy: Box<dyn Strategy + Send>,
        make: MakeStrategy,
    ) -> Result<Self, LiveError> {
        let src = cfg.itch().ok_or(LiveError::WrongSource("ITCH"))?;
        let journal = match &cfg.journal {
            Some(j) => Some(LiveJournal::open(j)?),
            None => None,
        };

        // `[[sink]]`: opened now (a bad URL or no broker fails the start), fed by the output
        // stage wherever it runs.
        let mut sinks = Vec::new();
        let mut sink_stats = Vec::new();
        for s in &cfg.sink {
            let stats = Arc::new(SinkStats::default());
            let source = Source {
                venue: Venue::Itch,
                px_exp: -4,
                qty_exp: 0,
            };
            let name = cfg.strategy.as_ref().map_or("", |s| s.name.as_str());
            sinks.push(crate::sink::open(&s.url, source, name, stats.clone())?);
            sink_stats.push((s.url.clone(), stats));
        }
        let bbo_csv = cfg.sinks.bbo_csv.clone();
        let open_opts = move || -> Result<ItchReplayOptions<'static>, ReplayError> {
            let mut opts = ItchReplayOptions {
                sinks: sinks
                    .into_iter()
                    .map(|s| s as Box<dyn crate::sink::Sink>)
                    .collect(),
                ..ItchReplayOptions::default()
            };
            if let Some(p) = &bbo_csv {
                let f = File::create(p).map_err(|source| ReplayError::Output {
                    what: "BBO CSV",
                    source,
                })?;
                opts.bbo_csv = Some(Box::new(std::io::BufWriter::with_capacity(1 << 16, f)));
            }
            Ok(opts)
        };
        let mut pipeline_note = None;
        let processor = match cfg.pipeline.mode {
            PipelineMode::Inline => Processor::Inline(Box::new(
                ReleasedStages::new(open_opts()?, strategy).map_err(LiveError::Outputs)?,
            )),
            PipelineMode::Threads => {
                drop(strategy);
                let (mut tx, rx) = rtrb::RingBuffer::<u8>::new(PIPELINE_RING);
                prefault(&mut tx);
                let pcfg = PipelineConfig {
                    shards: usize::from(cfg.pipeline.shards.unwrap_or(1).clamp(1, 64)),
                    cores: cfg.pipeline.cores.clone(),
                    wait: cfg
                        .pipeline
                        .wait
                        .as_deref()
                        .unwrap_or("yield")
                        .parse()
                        .map_err(|e| LiveError::Wait(format!("{e}")))?,
                    rate: None,
                    epoch: EPOCH,
                    // The live daemon reports its per-hop latency.
                    latency: true,
                };
                pipeline_note = Some(format!(
                    "live: pipeline threads ({}), wait: {}",
                    pcfg.plan(),
                    pcfg.wait
                ));
                let handle = std::thread::Builder::new()
                    .name("tl-pipeline".into())
                    .spawn(move || {
                        let reader = FrameReader::new(RingReader { rx });
                        replay_itch_threaded_with(reader, open_opts()?, &pcfg, make)
                    })?;
                Processor::Threads {
                    tx,
                    handle,
                    waits: 0,
                }
            }
        };

        let counters = Arc::new(ItchCounters::new());
        if let Processor::Threads { tx, .. } = &processor {
            counters
                .ring_capacity
                .store(tx.buffer().capacity() as u64, Ordering::Relaxed);
        }
        let (latency, totals) = LatencyTotals::pair();
        Ok(ItchDaemon {
            cfg,
            src,
            sockets,
            journal,
            processor,
            pipeline_note,
            counters,
            latency,
            totals,
            sinks: sink_stats,
        })
    }

    /// How the threaded pipeline is laid out (`live: pipeline threads (...)`), when that is the
    /// mode.
    pub fn pipeline_note(&self) -> Option<&str> {
        self.pipeline_note.as_deref()
    }

    /// A registry holding this source's collector (counters, stage latency, book staleness),
    /// for the caller's metrics endpoint; ticking it drains the latency the receive loop
    /// publishes.
    pub fn metrics(&self) -> MetricsRegistry {
        let mut reg = MetricsRegistry::default();
        reg.add(Box::new(ItchCollector {
            source: self.src.name.clone(),
            counters: self.counters.clone(),
            latency: self.totals.clone(),
            now_ns: realtime_ns,
        }));
        reg.add_tick(self.totals.clone());
        reg.add_readiness(std::sync::Arc::new(crate::live::metrics::ItchReadiness {
            source: self.src.name.clone(),
            counters: self.counters.clone(),
        }));
        if !self.sinks.is_empty() {
            reg.add(Box::new(SinkCollector {
                sinks: self.sinks.clone(),
            }));
        }
        reg
    }

    /// The start line: source, lines, interface, request server, receive backend, journal.
    pub fn describe(&self) -> String {
        let (src, s) = (self.src, &self.sockets);
        format!(
            "live: source {} line A {}{} on {}, requests {}, recv {}{} (timestamps: {}), journal {}",
            src.name,
            src.group,
            src.line_b
                .map(|b| format!(", line B {b}"))
                .unwrap_or_default(),
            src.interface,
            src.request_server.map_or_else(
                || "off".to_owned(),
                |r| format!(
                    "{r} (from {})",
                    s.req
                        .local_addr()
                        .map_or_else(|_| "?".to_owned(), |a| a.to_string())
                )
            ),
            s.receiver.name(),
            s.backend_note,
            s.receiver.timestamps(),
            match (&self.cfg.journal, &self.journal) {
                (Some(c), Some(j)) => format!(
                    "{} (segment {}, fsync {})",
                    c.path.display(),
                    j.current_path().display(),
                    c.fsync
                ),
                _ => "off".to_owned(),
            },
        )
    }

    /// The receive loop, ready to step (its clock starts now).
    pub fn start(self) -> ReceiveLoop<'c> {
        let ItchDaemon {
            cfg,
            src,
            sockets,
            journal,
            processor,
            counters,
            latency,
            totals,
            sinks,
            ..
        } = self;
        ReceiveLoop {
            started: Instant::now(),
            clock: MonoClock::new(),
            cfg,
            src,
            receiver: sockets.receiver,
            backend_note: sockets.backend_note,
            req: sockets.req,
            _lines: sockets.lines,
            session: src
                .session
                .as_ref()
                .and_then(|s| s.as_bytes().try_into().ok()),
            arb: Arbiter::new(src.arbiter.to_config()),
            journal,
            processor,
            counters,
            latency,
            totals,
            stop_at_end: cfg.run.stop_at_end(),
            by_type: [0; 26],
            foreign_session: 0,
            end_journaled: false,
            finished_at: None,
            last_gaps: 0,
            requests_unsent: 0,
            request_errors: 0,
            sinks,
        }
    }

    /// Receives until `stop` is set, `[run] max_duration_s` passes, or the session ended and
    /// every gap closed (`[run] stop_at_end`, after `linger_ms`); then drains the journal and
    /// the stages.
    ///
    /// # Errors
    /// As [`ReceiveLoop::step`] and [`ReceiveLoop::finish`].
    pub fn run(self, stop: &AtomicBool) -> Result<ItchReport, LiveError> {
        let mut lp = self.start();
        let why = lp.run(stop)?;
        lp.finish(why)
    }
}

/// The receive thread's state: sockets, arbiter, journal, stages and the counters it publishes.
pub struct ReceiveLoop<'c> {
    started: Instant,
    clock: MonoClock,
    cfg: &'c LiveConfig,
    src: &'c ItchSource,
    receiver: Receiver,
    backend_note: String,
    req: UdpSocket,
    /// Declared after `receiver`, so dropped after it.
    _lines: Vec<UdpSocket>,
    session: Option<[u8; 10]>,
    arb: Arbiter,
    journal: Option<LiveJournal>,
    processor: Processor,
    counters: Arc<ItchCounters>,
    latency: LatencyPublisher,
    totals: Arc<LatencyTotals>,
    stop_at_end: bool,
    by_type: [u64; 26],
    foreign_session: u64,
    end_journaled: bool,
    finished_at: Option<u64>,
    last_gaps: u64,
    requests_unsent: u64,
    request_errors: u64,
    sinks: Vec<(String, Arc<SinkStats>)>,
}

impl ReceiveLoop<'_> {
    /// The arbiter (its statistics, whether the session is finished).
    pub fn arbiter(&self) -> &Arbiter {
        &self.arb
    }

    /// One turn of the receive loop: waits up to `timeout` for datagrams, journals and
    /// arbitrates each, processes what it releases, acts on gaps, publishes the counters.
    /// Nothing here allocates once warm (tested with a counting allocator).
    ///
    /// # Errors
    /// [`LiveError::Receive`] when the backend fails; [`LiveError::Replay`] when an output
    /// cannot be written (inline).
    pub fn step(&mut self, timeout: Duration) -> Result<(), LiveError> {
        let ReceiveLoop {
            clock,
            receiver,
            session,
            arb,
            journal,
            processor,
            counters,
            latency,
            by_type,
            foreign_session,
            ..
        } = self;
        let c = &**counters;
        let mut rel = Release {
            arb,
            processor,
            c,
            by_type,
            latency,
            clock,
        };
        let res = receiver.recv(timeout, &mut |line: u16, ts: u64, pkt: &[u8]| {
            if let Some(s) = session {
                if pkt.len() >= 10 && pkt[..10] != *s {
                    *foreign_session += 1;
                    return;
                }
            }
            match journal.as_mut() {
                // Staged now, written with the rest of the batch, released after the write.
                Some(j) => {
                    if !j.has_room(pkt.len()) {
                        rel.batch(j);
                    }
                    j.stage(RecordKind::Packet, ts, line, pkt);
                }
                None => rel.packet(line, ts, pkt, None),
            }
        });
        if let Some(j) = journal.as_mut() {
            rel.batch(j);
        }
        if let Err(source) = res {
            return Err(LiveError::Receive {
                backend: receiver.name(),
                source,
            });
        }
        let now = clock.now();
        // Gap notes and recovery decisions.
        if arb.stats.gaps != self.last_gaps {
            self.last_gaps = arb.stats.gaps;
            if let Some(j) = journal.as_mut() {
                j.note(
                    RecordKind::Gap,
                    realtime_ns(),
                    0,
                    &range_payload(arb.next_seq(), arb.missing()),
                );
            }
        }
        match arb.poll(now) {
            Poll::Idle => {}
            Poll::Request { seq, count } => {
                let wall = realtime_ns();
                match (self.src.request_server, arb.session()) {
                    (Some(server), Some(sess)) => {
                        if self
                            .req
                            .send_to(&encode_request(sess, seq, count), server)
                            .is_err()
                        {
                            self.request_errors += 1;
                        }
                    }
                    _ => self.requests_unsent += 1,
                }
                if let Some(j) = journal.as_mut() {
                    j.note(
                        RecordKind::Request,
                        wall,
                        LINE_RETRANS,
                        &range_payload(seq, u64::from(count)),
                    );
                }
            }
            Poll::Skip { seq, count } => {
                // Journaled before it is applied: the replay applies it at the same point.
                let ts = realtime_ns();
                if let Some(j) = journal.as_mut() {
                    j.note(RecordKind::Skip, ts, 0, &range_payload(seq, count));
                }
                arb.skip(seq, count, &mut |_seq, msg: &[u8]| {
                    on_release(c, by_type, processor, ts, msg)
                });
            }
        }
        if arb.end_seen() && !self.end_journaled {
            self.end_journaled = true;
            if let Some(j) = journal.as_mut() {
                j.note(RecordKind::End, realtime_ns(), 0, &[]);
            }
        }
        if self.stop_at_end && self.finished_at.is_none() && arb.finished() {
            self.finished_at = Some(now);
        }
        if let Processor::Inline(s) = processor {
            s.check_output()?;
        }
        // Publish counters (Relaxed stores; the scraper reads whenever it likes).
        let st = &arb.stats;
        for (i, (p, b)) in c.packets.iter().zip(&c.bytes).enumerate() {
            p.store(st.packets[i], Ordering::Relaxed);
            b.store(st.bytes[i], Ordering::Relaxed);
        }
        for (a, v) in c.by_type.iter().zip(*by_type) {
            a.store(v, Ordering::Relaxed);
        }
        c.duplicates.store(st.duplicates, Ordering::Relaxed);
        c.conflicts.store(st.conflicts, Ordering::Relaxed);
        c.gaps.store(st.gaps, Ordering::Relaxed);
        c.requests.store(st.requests, Ordering::Relaxed);
        c.recovered.store(st.recovered, Ordering::Relaxed);
        c.skipped.store(st.skipped, Ordering::Relaxed);
        c.heartbeats.store(st.heartbeats, Ordering::Relaxed);
        c.malformed.store(st.malformed, Ordering::Relaxed);
        c.wrong_session
            .store(st.wrong_session + *foreign_session, Ordering::Relaxed);
        c.out_of_window.store(st.out_of_window, Ordering::Relaxed);
        let rs = receiver.stats();
        c.truncated.store(rs.truncated, Ordering::Relaxed);
        c.recv_errors.store(rs.errors, Ordering::Relaxed);
        c.rejected.store(rs.rejected, Ordering::Relaxed);
        c.journal_writes.store(
            journal.as_ref().map_or(0, |j| j.commits()),
            Ordering::Relaxed,
        );
        c.ring_occupancy
            .store(processor.ring_occupancy(), Ordering::Relaxed);
        latency.maybe_publish(now);
        Ok(())
    }

    /// Steps until `stop` is set, `[run] max_duration_s` passes, or the session ended and every
    /// gap closed (then `linger_ms` more); returns why it stopped.
    ///
    /// # Errors
    /// As [`Self::step`].
    pub fn run(&mut self, stop: &AtomicBool) -> Result<&'static str, LiveError> {
        let max_ns = self.cfg.run.max_duration_s.map(|s| (s * 1e9) as u64);
        let linger_ns = self.cfg.run.linger_ms().saturating_mul(1_000_000);
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok("signal");
            }
            let now = self.clock.now();
            if max_ns.is_some_and(|m| now >= m) {
                return Ok("max_duration_s");
            }
            if let Some(t) = self.finished_at {
                if now.saturating_sub(t) >= linger_ns {
                    return Ok("end of session, every gap closed");
                }
            }
            let timeout = if self.arb.missing() > 0 || self.finished_at.is_some() {
                Duration::from_millis(1)
            } else {
                Duration::from_millis(20)
            };
            self.step(timeout)?;
        }
    }

    /// Ends the run: the journal's end record, its thread joined (the file synced), the stages
    /// finished; `stop_reason` goes into the report.
    ///
    /// # Errors
    /// [`LiveError::Panicked`] if the journal or pipeline thread panicked; the stages' errors
    /// ([`LiveError::Replay`]). A journal that could not be written is not an error here: the
    /// report says so ([`ItchReport::journal_error`]).
    pub fn finish(self, stop_reason: &'static str) -> Result<ItchReport, LiveError> {
        let ReceiveLoop {
            started,
            cfg,
            src,
            receiver,
            backend_note,
            arb,
            mut journal,
            processor,
            latency,
            totals,
            foreign_session,
            end_journaled,
            requests_unsent,
            request_errors,
            sinks,
            ..
        } = self;
        let run_s = started.elapsed().as_secs_f64();

        // Drain and report.
        let mut journal_note = "off".to_owned();
        let mut journal_error = None;
        if let Some(mut j) = journal.take() {
            if !end_journaled {
                j.note(RecordKind::End, realtime_ns(), 0, &[]);
            }
            let (records, lost) = (j.records(), j.lost());
            let path = cfg
                .journal
                .as_ref()
                .map(|j| j.path.clone())
                .unwrap_or_default();
            match j.close() {
                Ok(w) => journal_note = journal::describe(&path, &w),
                Err(e) => {
                    journal_note =
                        format!("{}: FAILED after {records} records: {e}", path.display());
                    journal_error = Some(e);
                }
            }
            if lost > 0 {
                journal_note.push_str(&format!("; {lost} records LOST (not written)"));
            }
        }
        let (summary, pipeline) = processor.finish()?;
        Ok(ItchReport {
            source: src.name.clone(),
            stop_reason,
            run_s,
            receiver: receiver.name(),
            timestamps: receiver.timestamps(),
            backend_note,
            recv: receiver.stats(),
            arbiter: arb.stats,
            missing: arb.missing(),
            end_seen: arb.end_seen(),
            foreign_session,
            requests_unsent,
            request_errors,
            journal: journal_note,
            journal_error,
            latency: totals.merged(latency.current()),
            pipeline,
            summary,
            sinks: sinks
                .iter()
                .map(|(u, s)| (u.clone(), s.snapshot()))
                .collect(),
        })
    }
}

/// What an ITCH run did. Its `Display` is the report printed before the summary (`live:`,
/// `receive:`, `packets:`, `arbiter:`, `journal:`, `latency:` and `pipeline:` lines).
#[derive(Debug)]
pub struct ItchReport {
    /// The source's name.
    pub source: String,
    /// Why the run stopped.
    pub stop_reason: &'static str,
    /// Seconds from the first receive to the stop.
    pub run_s: f64,
    /// The receive backend.
    pub receiver: &'static str,
    /// Where receive timestamps came from.
    pub timestamps: &'static str,
    /// Why the backend is not the one asked for (empty otherwise).
    pub backend_note: String,
    /// The backend's counters.
    pub recv: RecvStats,
    /// The arbiter's counters.
    pub arbiter: ArbiterStats,
    /// Messages still missing at the end.
    pub missing: u64,
    /// Whether the end of session was received.
    pub end_seen: bool,
    /// Packets of another session than the configured one (dropped before the arbiter).
    pub foreign_session: u64,
    /// Requests due with no request server configured.
    pub requests_unsent: u64,
    /// Requests the socket failed to send.
    pub request_errors: u64,
    /// The journal: path, records, bytes, ring waits (or what failed); `off` without one.
    pub journal: String,
    /// Why the journal could not be written, if it could not.
    pub journal_error: Option<std::io::Error>,
    /// Per stage of [`metrics::STAGES`], the latency over the run, ns.
    pub latency: LatencySet,
    /// The threaded pipeline's hop latencies and ring waits (threads mode).
    pub pipeline: Option<String>,
    /// The replay summary and digest (the journal's replay prints the same digest).
    pub summary: Summary,
    /// Each `[[sink]]`'s URL and final counts.
    pub sinks: Vec<(String, StatsSnapshot)>,
}

impl fmt::Display for ItchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (st, rs) = (&self.arbiter, &self.recv);
        writeln!(
            f,
            "live:          source {}, stopped by {} after {:.3} s",
            self.source, self.stop_reason, self.run_s
        )?;
        writeln!(
            f,
            "receive:       {}{}, timestamps {}, {} truncated datagrams, {} receive errors, {} multishot re-arms, {} rejected datagrams (not from the request server)",
            self.receiver,
            self.backend_note,
            self.timestamps,
            rs.truncated,
            rs.errors,
            rs.rearms,
            rs.rejected
        )?;
        writeln!(
            f,
            "packets:       A {} B {} retrans {} ({} bytes), {} heartbeats, {} malformed, {} of another session",
            st.packets[0],
            st.packets[1],
            st.packets[2],
            st.bytes.iter().sum::<u64>(),
            st.heartbeats,
            st.malformed,
            st.wrong_session + self.foreign_session
        )?;
        writeln!(
            f,
            "arbiter:       {} released (first copy on A {} B {} retrans {}), {} duplicates, {} conflicting, {} gaps, {} requests ({} unsent, {} send errors), {} recovered, {} skipped, {} out of window, {} missing at end, end of session {}",
            st.released,
            st.won[0],
            st.won[1],
            st.won[2],
            st.duplicates,
            st.conflicts,
            st.gaps,
            st.requests,
            self.requests_unsent,
            self.request_errors,
            st.recovered,
            st.skipped,
            st.out_of_window,
            self.missing,
            if self.end_seen { "seen" } else { "not seen" }
        )?;
        writeln!(f, "journal:       {}", self.journal)?;
        for (name, h) in metrics::STAGES.iter().zip(&self.latency) {
            if !h.is_empty() {
                writeln!(
                    f,
                    "latency:       {name:<18} p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns ({} packets)",
                    h.value_at_quantile(0.5),
                    h.value_at_quantile(0.99),
                    h.value_at_quantile(0.999),
                    h.max(),
                    h.len()
                )?;
            }
        }
        if let Some(n) = &self.pipeline {
            writeln!(f, "{n}")?;
        }
        for (url, s) in &self.sinks {
            writeln!(f, "sink:          {url}: {s}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn book_updates_mark_their_locate_and_directory_messages_name_it() {
        let c = ItchCounters::new();
        let mut by_type = [0u64; 26];
        let strategy: Box<dyn Strategy + Send> = Box::new(ticklane_engine::strategy::NoStrategy);
        let mut p = Processor::Inline(Box::new(
            ReleasedStages::new(ItchReplayOptions::default(), strategy).unwrap(),
        ));
        // A stock directory message for locate 5 (AAPL), then a delete on locate 5.
        let mut dir = vec![0u8; 39];
        dir[0] = b'R';
        dir[1..3].copy_from_slice(&5u16.to_be_bytes());
        dir[11..19].copy_from_slice(b"AAPL    ");
        on_release(&c, &mut by_type, &mut p, 100, &dir);
        let mut del = vec![0u8; 19];
        del[0] = b'D';
        del[1..3].copy_from_slice(&5u16.to_be_bytes());
        on_release(&c, &mut by_type, &mut p, 200, &del);
        assert_eq!(by_type[usize::from(b'R' - b'A')], 1);
        assert_eq!(by_type[usize::from(b'D' - b'A')], 1);
        assert_eq!(c.last_update[5].load(Ordering::Relaxed), 200);
        assert_eq!(
            metrics::unpack_symbol(c.symbol[5].load(Ordering::Relaxed)),
            "AAPL"
        );
        assert_eq!(c.last_update[6].load(Ordering::Relaxed), 0);
    }
}
