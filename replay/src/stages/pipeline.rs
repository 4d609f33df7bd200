//! The threaded replay: stages on their own (optionally pinned) threads, joined by SPSC rings.
//!
//! ```text
//!  file ─> [ingest+decode] ─ring─> [book shard 0] ─ring─┐
//!                          ─ring─> [book shard 1] ─ring─┼─> [merge → outputs] (calling thread)
//!                          ─ring─> [book shard N] ─ring─┘
//! ```
//!
//! The decoder routes each event to the shard owning its instrument (`locate % N`), so each
//! instrument's book lives in exactly one shard. Every output carries the sequence number of the
//! message that caused it. To merge shards back into input order, the decoder sends every shard a
//! mark after each epoch of [`EPOCH`] messages; a shard answers a mark with a watermark output
//! once everything before it is done; the merger collects one epoch from every shard, sorts it by
//! `(seq, arrival)` in place and hands it on. The outputs — and so the digest — are exactly the
//! inline run's, whatever the number of shards.
//!
//! Replay never drops: a full ring makes its producer wait with the stage's wait strategy.
//! A stage that panics is reported as an error naming it; every thread is joined before return.

use std::io::Read;
use std::thread;
use std::time::Instant;

use hdrhistogram::Histogram;
use ticklane_engine::clock::MonoClock;
use ticklane_engine::config::Range;
use ticklane_engine::ring::{ring, RingRx, RingStats, RingTx};
use ticklane_engine::wait::{SpinThenYield, WaitStrategy, Waiter};
use ticklane_engine::Event;
use ticklane_feeds::itch::framing::FrameReader;

use crate::l3::itch::{summarize, FrameFlow, ItchReplayOptions, ReplayError};
use crate::l3::summary::{ErrorCounts, Summary};
use crate::stages::output::{Output, OutputKind};
use crate::stages::{BookStage, DecodeStage};
use ticklane_engine::strategy::{NoStrategy, Strategy};

/// Messages per merge epoch.
pub const EPOCH: u64 = 1024;
/// Capacity of every ring, in items.
pub const RING_CAPACITY: usize = 1 << 14;

/// How the threaded pipeline is laid out.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// Number of book shards (1..=64).
    pub shards: usize,
    /// Cores to pin to, in stage order: decoder, shard 0..N-1, merger. Missing entries leave a
    /// stage unpinned; an empty list pins nothing.
    pub cores: Vec<usize>,
    /// How a stage waits on an empty or full ring.
    pub wait: WaitStrategy,
    /// Feed messages at this rate (messages per second) instead of as fast as possible, so
    /// latency is measured at a load rather than as queueing behind a flood.
    pub rate: Option<u64>,
    /// Messages per merge epoch with several shards (outputs wait at most this many messages
    /// to be put back in order); default [`EPOCH`].
    pub epoch: u64,
    /// Record per-hop latency ([`HopLatency`]): the decoder reads the monotonic clock for every
    /// event, and the shards and the merger read it again and record a histogram sample for
    /// every event and output. Off, no stage reads a clock per event and the histograms stay
    /// empty; the outputs and the digest are the same either way.
    pub latency: bool,
}

impl PipelineConfig {
    /// Valid shard counts (`--shards`, `[pipeline] shards`).
    pub const SHARDS: Range<u16> = Range::new(1, 64, "book shards");
    /// Valid core ids (`--cores`, `[pipeline] cores`, `recv_core`): the CPUs a Linux CPU set
    /// can name.
    pub const CORE: Range<usize> = Range::new(0, 1023, "core id");
    /// Valid `epoch` (`--epoch`): the merger keeps about four epochs of outputs from every
    /// shard, so a million messages is tens of MB.
    pub const EPOCH: Range<u64> = Range::new(1, 1 << 20, "messages per merge epoch");
    /// Valid `rate` (`--rate`): up to a billion messages a second.
    pub const RATE: Range<u64> = Range::new(1, 1_000_000_000, "messages per second");
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            shards: 1,
            cores: Vec::new(),
            wait: WaitStrategy::SpinThenYield,
            rate: None,
            epoch: EPOCH,
            latency: false,
        }
    }
}

impl PipelineConfig {
    /// The core plan as text: `decode→2 shard0→3 shard1→unpinned merge→4`.
    pub fn plan(&self) -> String {
        let core = |i: usize| {
            self.cores
                .get(i)
                .map_or_else(|| "unpinned".to_owned(), |c| format!("core {c}"))
        };
        let mut parts = vec![format!("decode: {}", core(0))];
        for s in 0..self.shards {
            parts.push(format!("book shard {s}: {}", core(1 + s)));
        }
        parts.push(format!("merge+output: {}", core(1 + self.shards)));
        parts.join(", ")
    }
}

/// Messages from the decoder to a shard.
#[derive(Clone, Copy, Debug)]
enum ToShard {
    /// An event and its ingest stamp (monotonic ns, 0 when latency is not recorded; kept apart
    /// from the event's own receive time, which the strategy and the simulator read).
    Event(Event, u64),
    /// Everything up to this sequence number has been sent.
    Mark(u64),
}

/// Per-hop latency histograms (nanoseconds), recorded on the stage threads and merged at the end
/// (empty unless [`PipelineConfig::latency`] is set).
pub struct HopLatency {
    /// Decoder stamp → book shard picks the event up.
    pub ingest_to_book: Histogram<u64>,
    /// Decoder stamp → merger picks the output up (end to end).
    pub ingest_to_output: Histogram<u64>,
}

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("static histogram bounds are valid")
}

/// The result of a threaded replay: the summary plus what the pipeline measured.
pub struct PipelineRun {
    /// The same summary an inline run gives.
    pub summary: Summary,
    /// Per-hop latency.
    pub latency: HopLatency,
    /// Ring statistics: decoder→shard rings, then shard→merger rings.
    pub rings: Vec<RingStats>,
}

fn pin(cores: &[usize], i: usize) {
    if let Some(&c) = cores.get(i) {
        // Pinning is best effort: an absent core is reported in the plan, not fatal.
        let _ = core_affinity::set_for_current(core_affinity::CoreId { id: c });
    }
}

struct DecodeResult {
    decoder: DecodeStage,
    errors: ErrorCounts,
    bytes: u64,
    end_of_session: bool,
    not_itch: Option<String>,
}

#[allow(clippy::too_many_arguments)] // the thread's whole set-up, each a distinct piece
fn decode_thread<R: Read>(
    mut decoder: DecodeStage,
    mut reader: FrameReader<R>,
    mut txs: Vec<RingTx<ToShard>>,
    wait: WaitStrategy,
    clock: MonoClock,
    rate: Option<u64>,
    epoch: u64,
    latency: bool,
) -> DecodeResult {
    // Pacing: message i is released at start + i / rate.
    let ns_per_msg = rate.filter(|&r| r > 0).map(|r| 1e9 / r as f64);
    let start = clock.now();
    let mut pace = SpinThenYield::new(64);
    let mut errors = ErrorCounts::default();
    let mut waiter = wait.waiter();
    let n = txs.len() as u64;
    let mut not_itch = None;
    let mut closed = false;
    'frames: while let Some(frame) = reader.next_frame() {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => match errors.frame_error(e, decoder.messages) {
                FrameFlow::Skip => continue,
                FrameFlow::Stop => break,
                FrameFlow::NotItch(why) => {
                    not_itch = Some(why);
                    break;
                }
            },
        };
        let seq = decoder.messages;
        if let Some(step) = ns_per_msg {
            let due = start + (seq as f64 * step) as u64;
            while clock.now() < due {
                pace.wait();
            }
            pace.reset();
        }
        if let Some(ev) = decoder.on_frame(frame.bytes) {
            let stamp = if latency { clock.now() } else { 0 };
            let k = (u64::from(ev.hdr.instr.0) % n) as usize;
            if txs[k]
                .push_wait(ToShard::Event(ev, stamp), &mut waiter)
                .is_err()
            {
                closed = true;
                break 'frames;
            }
        }
        if (seq + 1).is_multiple_of(epoch) {
            for tx in txs.iter_mut() {
                if tx.push_wait(ToShard::Mark(seq), &mut waiter).is_err() {
                    closed = true;
                    break 'frames;
                }
            }
        }
    }
    if !closed && not_itch.is_none() {
        let last = decoder.messages.saturating_sub(1);
        for tx in txs.iter_mut() {
            // A shard that is gone has already failed; its join reports it.
            let _ = tx.push_wait(ToShard::Mark(last), &mut waiter);
        }
    }
    let bytes = reader.bytes_read();
    DecodeResult {
        decoder,
        errors,
        bytes,
        end_of_session: reader.end_of_session(),
        not_itch,
    }
}

/// What a book shard does with the events routed to it: the L3 book stage, the price-level
/// book stage. Outputs go to `emit` in order.
pub trait ShardStage: Send {
    /// Applies one event.
    fn on_event(&mut self, ev: &Event, emit: &mut impl FnMut(Output));
}

impl<S: Strategy + Send> ShardStage for BookStage<S> {
    #[inline]
    fn on_event(&mut self, ev: &Event, emit: &mut impl FnMut(Output)) {
        BookStage::on_event(self, ev, emit);
    }
}

impl<S: Strategy + Send> ShardStage for crate::stages::l2::L2BookStage<S> {
    #[inline]
    fn on_event(&mut self, ev: &Event, emit: &mut impl FnMut(Output)) {
        crate::stages::l2::L2BookStage::on_event(self, ev, emit);
    }
}

fn shard_thread<St: ShardStage>(
    mut stage: St,
    mut rx: RingRx<ToShard>,
    mut tx: RingTx<Output>,
    wait: WaitStrategy,
    clock: MonoClock,
    latency: bool,
) -> ShardEnd<St> {
    let mut h = hist();
    let mut waiter = wait.waiter();
    let mut inbox = [ToShard::Mark(0); 256];
    let mut outbox: Vec<Output> = Vec::with_capacity(1024);
    'run: loop {
        let n = rx.pop_batch(&mut inbox);
        if n == 0 {
            if rx.is_abandoned() && rx.is_empty() {
                break;
            }
            waiter.wait();
            continue;
        }
        waiter.reset();
        for m in &inbox[..n] {
            match *m {
                ToShard::Event(ev, stamp) => {
                    if latency {
                        h.saturating_record(clock.now().saturating_sub(stamp).max(1));
                    }
                    stage.on_event(&ev, &mut |mut o| {
                        o.stamp = stamp;
                        outbox.push(o);
                    });
                }
                ToShard::Mark(seq) => outbox.push(Output::watermark(seq)),
            }
            if outbox.len() >= 768 {
                if tx.push_batch_wait(&outbox, &mut waiter).is_err() {
                    break 'run;
                }
                outbox.clear();
            }
        }
        if !outbox.is_empty() {
            if tx.push_batch_wait(&outbox, &mut waiter).is_err() {
                break 'run;
            }
            outbox.clear();
        }
    }
    (stage, h, rx.stats())
}

/// What a book shard's thread ends with: its stage, the ingest → book latency, its input ring's
/// statistics.
type ShardEnd<St> = (St, Histogram<u64>, RingStats);

/// Starts book shard `i` on its own thread (pinned to `cores[1 + i]` if given).
#[allow(clippy::too_many_arguments)] // the thread's whole set-up, each a distinct piece
fn spawn_shard<St: ShardStage + 'static>(
    i: usize,
    stage: St,
    rx: RingRx<ToShard>,
    tx: RingTx<Output>,
    cores: &[usize],
    wait: WaitStrategy,
    clock: &MonoClock,
    latency: bool,
) -> std::io::Result<thread::JoinHandle<ShardEnd<St>>> {
    let cores = cores.to_vec();
    let clock = clock.clone();
    thread::Builder::new()
        .name(format!("tl-book{i}"))
        .spawn(move || {
            pin(&cores, 1 + i);
            shard_thread(stage, rx, tx, wait, clock, latency)
        })
}

/// Replays ITCH frames through the threaded pipeline.
///
/// # Errors
/// As [`crate::replay_itch`]; plus [`ReplayError::Stage`] when a stage thread panicked.
pub fn replay_itch_threaded<R: Read + Send + 'static>(
    reader: FrameReader<R>,
    opts: ItchReplayOptions<'_>,
    cfg: &PipelineConfig,
) -> Result<PipelineRun, ReplayError> {
    replay_itch_threaded_with(reader, opts, cfg, || NoStrategy)
}

/// [`replay_itch_threaded`] with a strategy in every book shard, each made by `make` (a shard's
/// instance sees only that shard's instruments; per-instrument state gives the inline result).
///
/// # Errors
/// As [`replay_itch_threaded`].
pub fn replay_itch_threaded_with<R, S, F>(
    reader: FrameReader<R>,
    mut opts: ItchReplayOptions<'_>,
    cfg: &PipelineConfig,
    make: F,
) -> Result<PipelineRun, ReplayError>
where
    R: Read + Send + 'static,
    S: Strategy + Send + 'static,
    F: Fn() -> S,
{
    let started = Instant::now();
    let shards = cfg.shards.clamp(1, 64);
    let clock = MonoClock::new();
    let mut to_shard_tx = Vec::with_capacity(shards);
    let mut to_shard_rx = Vec::with_capacity(shards);
    let mut from_shard_tx = Vec::with_capacity(shards);
    let mut from_shard_rx = Vec::with_capacity(shards);
    for _ in 0..shards {
        let (t, r) = ring::<ToShard>(RING_CAPACITY, "decode→book");
        to_shard_tx.push(t);
        to_shard_rx.push(r);
        let (t, r) = ring::<Output>(RING_CAPACITY, "book→merge");
        from_shard_tx.push(t);
        from_shard_rx.push(r);
    }
    let mut rings: Vec<RingStats> = Vec::with_capacity(shards);
    let stages: Vec<BookStage<S>> = (0..shards)
        .map(|_| BookStage::with_strategy_and_sim(make(), opts.sim_config()))
        .collect();
    let name = stages[0].runner.strategy.name();
    let mut output = opts.output_stage(name)?;
    let loop_started = Instant::now();

    let wait = cfg.wait;
    let rate = cfg.rate;
    // One shard needs no reordering; its marks only keep the merger's bookkeeping uniform.
    let epoch = cfg.epoch.max(1);
    let cores = cfg.cores.clone();
    let latency = cfg.latency;
    let mut shard_handles = Vec::with_capacity(shards);
    // Every stage was built before any thread starts, so no allocation is on the clock.
    for (i, ((rx, tx), stage)) in to_shard_rx
        .into_iter()
        .zip(from_shard_tx)
        .zip(stages)
        .enumerate()
    {
        let h = spawn_shard(i, stage, rx, tx, &cores, wait, &clock, cfg.latency)
            .map_err(|e| ReplayError::Stage(format!("cannot start book shard {i}: {e}")))?;
        shard_handles.push(h);
    }
    // The decoder starts last, once every shard is ready to take its events.
    let decode_handle = {
        let cores = cores.clone();
        let dclock = clock.clone();
        let decoder = opts.decoder();
        thread::Builder::new()
            .name("tl-decode".into())
            .spawn(move || {
                pin(&cores, 0);
                decode_thread(
                    decoder,
                    reader,
                    to_shard_tx,
                    wait,
                    dclock,
                    rate,
                    epoch,
                    latency,
                )
            })
            .map_err(|e| ReplayError::Stage(format!("cannot start the decode thread: {e}")))?
    };
    pin(&cores, 1 + shards);

    // Merge: one epoch from every shard, sorted by (seq, arrival), then to the output stage.
    let mut last_progress = 0u64;
    let merged = merge(
        &mut from_shard_rx,
        epoch,
        wait,
        &clock,
        cfg.latency,
        &mut |o| match o {
            Some(o) => output.on_output(o),
            None => {
                if let Some(p) = opts.progress.as_mut() {
                    let s = output.last_ts.0;
                    if s != last_progress {
                        last_progress = s;
                        p(0);
                    }
                }
                Ok(())
            }
        },
    );
    // Dropping our ends tells the shards (and through them the decoder) to stop if we quit early.
    for rx in &from_shard_rx {
        rings.push(rx.stats());
    }
    drop(from_shard_rx);

    let (e2e, out_err) = (merged.e2e, merged.err);
    let dec = decode_handle
        .join()
        .map_err(|p| ReplayError::Stage(format!("decode stage panicked: {}", panic_text(&p))))?;
    let mut books = Vec::with_capacity(shards);
    let mut ingest_to_book = hist();
    let mut in_rings = Vec::with_capacity(shards);
    for (i, h) in shard_handles.into_iter().enumerate() {
        let (stage, hh, rs) = h.join().map_err(|p| {
            ReplayError::Stage(format!("book shard {i} panicked: {}", panic_text(&p)))
        })?;
        ingest_to_book.add(&hh).ok();
        books.push(stage);
        in_rings.push(rs);
    }
    in_rings.append(&mut rings);
    let rings = in_rings;
    if let Some(e) = out_err {
        return Err(ReplayError::Output {
            what: "the outputs (BBO CSV, signals, sinks)",
            source: e,
        });
    }
    if let Some(why) = dec.not_itch {
        return Err(ReplayError::NotItch(why));
    }
    let loop_s = loop_started.elapsed().as_secs_f64();
    output.finish().map_err(|source| ReplayError::Output {
        what: "the outputs (BBO CSV, signals, sinks)",
        source,
    })?;
    let mut errors = dec.errors;
    errors.add_decoder(&dec.decoder);
    for b in &books {
        errors.add_book(&b.errors);
    }
    let refs: Vec<&BookStage<S>> = books.iter().collect();
    let mut summary = summarize(
        &dec.decoder,
        &refs,
        &output,
        errors,
        &opts.symbols,
        opts.top_n,
        dec.bytes,
        started,
    );
    summary.end_of_session = dec.end_of_session;
    summary.strategy = (name != "none").then(|| name.to_owned());
    summary.loop_s = loop_s;
    crate::l3::itch::finish_backtest(
        &mut summary,
        &mut output,
        &refs,
        opts.backtest.take(),
        loop_s,
    );
    Ok(PipelineRun {
        summary,
        latency: HopLatency {
            ingest_to_book,
            ingest_to_output: e2e,
        },
        rings,
    })
}

/// What the merger ends with.
struct Merged {
    /// Decoder stamp → output, per output.
    e2e: Histogram<u64>,
    /// The first error the sink returned (outputs after it were dropped and the merge stopped).
    err: Option<std::io::Error>,
}

/// Merges the shards' outputs back into input order: one epoch from every shard, sorted by
/// `(seq, arrival)`, each output handed to `sink(Some(o))`, and `sink(None)` after every epoch.
fn merge(
    from_shard_rx: &mut [RingRx<Output>],
    epoch: u64,
    wait: WaitStrategy,
    clock: &MonoClock,
    latency: bool,
    sink: &mut dyn FnMut(Option<&Output>) -> std::io::Result<()>,
) -> Merged {
    let shards = from_shard_rx.len();
    let mut e2e = hist();
    let mut waiter = wait.waiter();
    let mut epoch_buf: Vec<(u64, u32, Output)> = Vec::with_capacity(4 * epoch as usize + 1024);
    let mut buf = [Output::watermark(0); 256];
    // Per shard, outputs popped from its ring (a batch at a time) and not yet merged: items past
    // the current epoch's watermark wait here for the next epoch.
    let mut staged: Vec<std::collections::VecDeque<Output>> = (0..shards)
        .map(|_| std::collections::VecDeque::with_capacity(buf.len()))
        .collect();
    let mut pending: Vec<usize> = Vec::with_capacity(shards);
    let mut arrival = 0u32;
    let mut out_err: Option<std::io::Error> = None;
    let mut finished = vec![false; shards];
    'epochs: loop {
        pending.clear();
        pending.extend((0..shards).filter(|&s| !finished[s]));
        if pending.is_empty() {
            break;
        }
        // Drain every pending shard up to its next watermark.
        while !pending.is_empty() {
            let mut progressed = false;
            let mut i = 0;
            while i < pending.len() {
                let s = pending[i];
                let rx = &mut from_shard_rx[s];
                let stage = &mut staged[s];
                let mut got_mark = false;
                loop {
                    if stage.is_empty() {
                        // Refill only when empty, so the queue never outgrows one batch.
                        let n = rx.pop_batch(&mut buf);
                        if n == 0 {
                            break;
                        }
                        stage.extend(&buf[..n]);
                    }
                    let Some(o) = stage.pop_front() else { break };
                    progressed = true;
                    if o.kind == OutputKind::Watermark {
                        got_mark = true;
                        break;
                    }
                    if shards == 1 {
                        // Already in order: emit at once.
                        if latency {
                            e2e.saturating_record(clock.now().saturating_sub(o.stamp).max(1));
                        }
                        if out_err.is_none() {
                            if let Err(e) = sink(Some(&o)) {
                                out_err = Some(e);
                            }
                        }
                        continue;
                    }
                    epoch_buf.push((o.seq, arrival, o));
                    arrival = arrival.wrapping_add(1);
                }
                if got_mark {
                    pending.swap_remove(i);
                } else if stage.is_empty() && rx.is_abandoned() && rx.is_empty() {
                    finished[s] = true;
                    pending.swap_remove(i);
                } else {
                    i += 1;
                }
            }
            if progressed {
                waiter.reset();
            } else if !pending.is_empty() {
                waiter.wait();
            }
        }
        epoch_buf.sort_unstable_by_key(|&(seq, arr, _)| (seq, arr));
        let now = if latency { clock.now() } else { 0 };
        for (_, _, o) in &epoch_buf {
            if latency {
                e2e.saturating_record(now.saturating_sub(o.stamp).max(1));
            }
            if out_err.is_none() {
                if let Err(e) = sink(Some(o)) {
                    out_err = Some(e);
                }
            }
        }
        epoch_buf.clear();
        arrival = 0;
        if out_err.is_none() {
            if let Err(e) = sink(None) {
                out_err = Some(e);
            }
        }
        if out_err.is_some() {
            break 'epochs;
        }
        if finished.iter().all(|&f| f) {
            break;
        }
    }
    Merged { e2e, err: out_err }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// What the decode thread of a price-level replay ends with.
struct L2DecodeResult {
    summary: crate::stages::l2::L2Summary,
    machine: Box<dyn crate::venue::VenueSync>,
    frames: crate::venue::Frames,
    seen: crate::venue::capture::SeenContainers,
    read_error: Option<std::io::Error>,
}

/// The decode thread of a price-level replay: capture lines → the venue's machine → events,
/// each to the shard owning its instrument, with a mark to every shard after each epoch.
#[allow(clippy::too_many_arguments)] // the thread's whole set-up, each a distinct piece
fn l2_decode_thread<R: Read>(
    mut machine: Box<dyn crate::venue::VenueSync>,
    mut frames: crate::venue::Frames,
    mut summary: crate::stages::l2::L2Summary,
    input: R,
    mut txs: Vec<RingTx<ToShard>>,
    wait: WaitStrategy,
    clock: MonoClock,
    epoch: u64,
    latency: bool,
) -> L2DecodeResult {
    use crate::venue::capture::SeenContainers;
    let mut input = std::io::BufReader::with_capacity(1 << 16, input);
    let mut buf = crate::venue::EventBuf::default();
    let mut seen = SeenContainers::default();
    let mut waiter = wait.waiter();
    let n = txs.len() as u64;
    let mut line = Vec::with_capacity(1 << 16);
    let mut since_mark = 0u64;
    let mut last_seq = None;
    let mut read_error = None;
    let mut closed = false;
    'lines: loop {
        match crate::venue::capture::read_line(&mut input, &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                read_error = Some(e);
                break;
            }
        }
        crate::venue::feed_line(
            machine.as_mut(),
            &mut frames,
            &mut seen,
            &line,
            &mut summary,
            &mut buf,
        );
        for ev in buf.events() {
            let stamp = if latency { clock.now() } else { 0 };
            let k = (u64::from(ev.hdr.instr.0) % n) as usize;
            if txs[k]
                .push_wait(ToShard::Event(*ev, stamp), &mut waiter)
                .is_err()
            {
                closed = true;
                break 'lines;
            }
            last_seq = Some(ev.hdr.seq);
            since_mark += 1;
            // Marks fall between messages: a message's events all reach their shard first.
            if since_mark >= epoch && ev.hdr.ends_message() {
                since_mark = 0;
                for tx in txs.iter_mut() {
                    if tx
                        .push_wait(ToShard::Mark(ev.hdr.seq), &mut waiter)
                        .is_err()
                    {
                        closed = true;
                        break 'lines;
                    }
                }
            }
        }
        buf.clear();
    }
    if !closed {
        let last = last_seq.unwrap_or(0);
        for tx in txs.iter_mut() {
            // A shard that is gone has already failed; its join reports it.
            let _ = tx.push_wait(ToShard::Mark(last), &mut waiter);
        }
    }
    L2DecodeResult {
        summary,
        machine,
        frames,
        seen,
        read_error,
    }
}

/// Replays a capture of a price-level venue through the threaded pipeline: the venue's machine
/// on the decode thread, books in `cfg.shards` shards (instrument `i` in shard `i % shards`),
/// outputs merged back into input order. The summary and digest are the inline run's
/// ([`crate::stages::l2::replay_l2`]) whatever the layout.
///
/// A backtest runs in one shard (its accounts are one ledger): with a strategy, `cfg.shards`
/// must be 1.
///
/// # Errors
/// As [`crate::stages::l2::replay_l2`]; `CryptoReplayError::Stage` when a stage thread
/// panicked or a backtest was asked for with several shards.
pub fn replay_l2_threaded<R, S>(
    format: crate::venue::VenueFormat,
    input: R,
    opts: crate::stages::l2::CryptoReplayOptions<'_>,
    strategy: Option<(S, crate::backtest::BacktestOptions)>,
    cfg: &PipelineConfig,
) -> Result<(crate::stages::l2::L2Summary, HopLatency), crate::stages::l2::CryptoReplayError>
where
    R: Read + Send + 'static,
    S: Strategy + Send + 'static,
{
    use crate::stages::l2::{CryptoReplayError, L2BookStage, L2Output, L2StageResult, L2Summary};
    use crate::venue::Frames;
    let started = Instant::now();
    let shards = cfg.shards.clamp(1, 64);
    if strategy.is_some() && shards > 1 {
        return Err(CryptoReplayError::Stage(format!(
            "a backtest on {} data runs in one book shard (its accounts are one ledger): use --shards 1",
            format.name()
        )));
    }
    if opts.backtest.is_some() {
        return Err(CryptoReplayError::Stage(
            "the threaded pipeline takes its strategy as a sendable value, not in the options"
                .into(),
        ));
    }
    let machine = format.machine(&opts);
    let encoding = format.digest_encoding();
    let mut output = L2Output::new(encoding, opts.bbo_csv)
        .map_err(CryptoReplayError::Output)?
        .with_sinks(opts.sinks);
    let mut bt = match strategy {
        Some((s, bo)) => {
            Some(crate::backtest::l2::L2Backtest::new(s, bo)?.with_quotes(format.quote_fn()))
        }
        None => None,
    };
    let stages: Vec<L2BookStage<S>> = (0..shards)
        .map(|_| L2BookStage::new(opts.accept_unsynced, bt.take()))
        .collect();
    let summary = L2Summary {
        format: format.name().into(),
        ..L2Summary::default()
    };
    let frames = Frames::new(opts.max_time_jump_ns);
    let clock = MonoClock::new();
    let wait = cfg.wait;
    let epoch = cfg.epoch.max(1);
    let cores = cfg.cores.clone();
    let latency = cfg.latency;
    let mut to_shard_tx = Vec::with_capacity(shards);
    let mut from_shard_rx = Vec::with_capacity(shards);
    let mut shard_handles = Vec::with_capacity(shards);
    let loop_started = Instant::now();
    for (i, stage) in stages.into_iter().enumerate() {
        let (t, r) = ring::<ToShard>(RING_CAPACITY, "decode→book");
        to_shard_tx.push(t);
        let (ot, or) = ring::<Output>(RING_CAPACITY, "book→merge");
        from_shard_rx.push(or);
        let h = spawn_shard(i, stage, r, ot, &cores, wait, &clock, cfg.latency)
            .map_err(|e| CryptoReplayError::Stage(format!("cannot start book shard {i}: {e}")))?;
        shard_handles.push(h);
    }
    let decode_handle = {
        let cores = cores.clone();
        let dclock = clock.clone();
        thread::Builder::new()
            .name("tl-decode".into())
            .spawn(move || {
                pin(&cores, 0);
                l2_decode_thread(
                    machine,
                    frames,
                    summary,
                    input,
                    to_shard_tx,
                    wait,
                    dclock,
                    epoch,
                    latency,
                )
            })
            .map_err(|e| CryptoReplayError::Stage(format!("cannot start the decode thread: {e}")))?
    };
    pin(&cores, 1 + shards);
    let merged = merge(
        &mut from_shard_rx,
        epoch,
        wait,
        &clock,
        cfg.latency,
        &mut |o| match o {
            Some(o) => output.on_output(o),
            None => Ok(()),
        },
    );
    drop(from_shard_rx);
    let dec = decode_handle.join().map_err(|p| {
        CryptoReplayError::Stage(format!("decode stage panicked: {}", panic_text(&p)))
    })?;
    let mut parts = Vec::with_capacity(shards);
    let mut ingest_to_book = hist();
    let loop_s = loop_started.elapsed().as_secs_f64();
    let end = dec.frames.last();
    for (i, h) in shard_handles.into_iter().enumerate() {
        let (stage, hh, _) = h.join().map_err(|p| {
            CryptoReplayError::Stage(format!("book shard {i} panicked: {}", panic_text(&p)))
        })?;
        ingest_to_book.add(&hh).ok();
        parts.push(stage.finish(end, dec.summary.lines, loop_s));
    }
    if let Some(e) = merged.err {
        return Err(CryptoReplayError::Output(e));
    }
    if let Some(e) = dec.read_error {
        return Err(CryptoReplayError::Read(e));
    }
    let L2DecodeResult {
        mut summary,
        mut machine,
        frames,
        seen,
        ..
    } = dec;
    frames.count_into(&mut summary);
    L2StageResult::merge(parts).into_summary(&mut summary);
    summary.container = seen.name().into();
    crate::venue::finish_machine(machine.as_mut(), &mut summary)?;
    summary.digest = output.finish().map_err(CryptoReplayError::Output)?;
    summary.elapsed_s = started.elapsed().as_secs_f64();
    Ok((
        summary,
        HopLatency {
            ingest_to_book,
            ingest_to_output: merged.e2e,
        },
    ))
}
