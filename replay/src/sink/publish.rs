//! Publishing off the hot path. A [`PublishSink`] is a [`Sink`]: on the output stage's thread
//! it encodes each output into a fixed-size [`RecordBuf`] and pushes it into an SPSC ring; a
//! publisher thread drains the ring into a [`Transport`] (the Kafka producer, say). The output
//! stage never waits on the network unless the sink's [`Policy`] says it may:
//!
//! - [`Policy::Block`]: lossless; when the ring is full the output stage waits for room (the
//!   pipeline slows to the transport's pace).
//! - [`Policy::Drop`]: when the ring is full the record is dropped and counted.
//! - [`Policy::Conflate`]: when the ring is full the latest best bid/ask per instrument is kept
//!   aside and sent once there is room (older ones it replaced are counted as conflated).
//!   Events (trades, statuses, signals, fills) are not state and cannot conflate: they wait
//!   for room as under `block`, after the instrument's kept state, so the order per
//!   instrument holds.
//!
//! Every count is a number in [`SinkStats`] (shared with a metrics endpoint); the hot side does
//! not allocate (the conflation table grows only when an instrument is first seen).

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use ticklane_engine::clock::MonoClock;

use super::record::{encode, RecordBuf, Source};
use super::Sink;
use crate::stages::output::Output;

/// What a sink does when its ring is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Policy {
    /// Wait for room: nothing is lost, the pipeline slows.
    #[default]
    Block,
    /// Drop the record and count it.
    Drop,
    /// Keep the latest best bid/ask per instrument; events wait as under `Block`.
    Conflate,
}

impl Policy {
    /// The policy of a name: `block`, `drop` or `conflate`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "block" => Some(Policy::Block),
            "drop" => Some(Policy::Drop),
            "conflate" => Some(Policy::Conflate),
            _ => None,
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Block => "block",
            Policy::Drop => "drop",
            Policy::Conflate => "conflate",
        }
    }
}

/// A sink's counters and gauges, shared by its hot side, its publisher thread and whoever
/// reports them (the run's summary, `/metrics`).
#[derive(Debug, Default)]
pub struct SinkStats {
    /// Records pushed into the ring.
    pub queued: AtomicU64,
    /// Records handed to the transport.
    pub sent: AtomicU64,
    /// Records the broker acknowledged.
    pub acked: AtomicU64,
    /// Records dropped because the ring was full (policy `drop`).
    pub dropped: AtomicU64,
    /// Best bid/ask records replaced by a newer one before they were sent (policy `conflate`).
    pub conflated: AtomicU64,
    /// Records the transport failed to deliver (or refused).
    pub errors: AtomicU64,
    /// Gauge: records in the ring plus records sent and not yet acknowledged.
    pub depth: AtomicU64,
    /// Gauge: age in ns of the oldest record sent and not yet acknowledged (0: none).
    pub oldest_unacked_ns: AtomicU64,
}

/// A snapshot of [`SinkStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// See [`SinkStats::queued`].
    pub queued: u64,
    /// See [`SinkStats::sent`].
    pub sent: u64,
    /// See [`SinkStats::acked`].
    pub acked: u64,
    /// See [`SinkStats::dropped`].
    pub dropped: u64,
    /// See [`SinkStats::conflated`].
    pub conflated: u64,
    /// See [`SinkStats::errors`].
    pub errors: u64,
    /// See [`SinkStats::depth`].
    pub depth: u64,
    /// See [`SinkStats::oldest_unacked_ns`].
    pub oldest_unacked_ns: u64,
}

impl SinkStats {
    /// The current values.
    pub fn snapshot(&self) -> StatsSnapshot {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        StatsSnapshot {
            queued: l(&self.queued),
            sent: l(&self.sent),
            acked: l(&self.acked),
            dropped: l(&self.dropped),
            conflated: l(&self.conflated),
            errors: l(&self.errors),
            depth: l(&self.depth),
            oldest_unacked_ns: l(&self.oldest_unacked_ns),
        }
    }
}

impl std::fmt::Display for StatsSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "queued {}, sent {}, acked {}, dropped {}, conflated {}, errors {}",
            self.queued, self.sent, self.acked, self.dropped, self.conflated, self.errors
        )
    }
}

/// Why a transport did not take a record.
#[derive(Debug)]
pub enum SendError {
    /// Its own queue is full: serve deliveries ([`Transport::poll`]) and try again.
    Full,
    /// This record cannot be sent (counted as an error; the next one is tried).
    Failed(String),
    /// The transport cannot go on (the sink fails the run).
    Fatal(String),
}

/// Where a publisher thread sends records: a message-bus client.
pub trait Transport: Send + 'static {
    /// Hands one record over; delivery is reported later through [`SinkStats`].
    ///
    /// # Errors
    /// See [`SendError`].
    fn send(&mut self, rec: &RecordBuf) -> Result<(), SendError>;
    /// Serves delivery reports for up to `timeout`.
    fn poll(&mut self, timeout: Duration);
    /// Records sent and not yet acknowledged or failed.
    fn in_flight(&self) -> u64;
    /// When (on `clock`) the oldest record still in flight was sent.
    fn oldest_unacked(&self) -> Option<u64>;
    /// Waits up to `timeout` for every record in flight to be acknowledged or fail.
    ///
    /// # Errors
    /// Records were still in flight at the end.
    fn flush(&mut self, timeout: Duration) -> Result<(), String>;
    /// The first error the transport saw (a failed delivery, a broker it could not reach).
    fn first_error(&self) -> Option<String>;
}

/// A publishing sink's configuration.
#[derive(Clone, Debug)]
pub struct PublishConfig {
    /// Name used in messages and reports (the sink's URL).
    pub name: String,
    /// Ring capacity, records.
    pub ring: usize,
    /// What to do when the ring is full.
    pub policy: Policy,
    /// The venue and units of the run's records.
    pub source: Source,
    /// How long [`Sink::finish`] waits for outstanding acknowledgements.
    pub flush_timeout: Duration,
}

/// What the publisher thread ends with: the first permanent failure, if any.
type Ended = Result<(), String>;

/// The hot side of a publishing sink (see the module docs).
pub struct PublishSink {
    tx: Option<rtrb::Producer<RecordBuf>>,
    cfg: PublishConfig,
    stats: Arc<SinkStats>,
    failed: Arc<AtomicBool>,
    failure: Arc<Mutex<Option<String>>>,
    thread: Option<JoinHandle<Ended>>,
    /// Policy `conflate`: the best bid/ask kept aside per instrument, and the instruments
    /// that have one, in the order they were kept.
    kept: Vec<Option<RecordBuf>>,
    kept_order: Vec<u32>,
    kept_next: usize,
}

impl PublishSink {
    /// Starts the publisher thread over `transport`.
    ///
    /// # Errors
    /// The thread could not be started.
    pub fn start(
        cfg: PublishConfig,
        transport: impl Transport,
        stats: Arc<SinkStats>,
        clock: MonoClock,
    ) -> io::Result<Self> {
        let (tx, rx) = rtrb::RingBuffer::new(cfg.ring.max(1));
        let failed = Arc::new(AtomicBool::new(false));
        let failure = Arc::new(Mutex::new(None));
        let thread = {
            let (stats, failed, failure) = (stats.clone(), failed.clone(), failure.clone());
            let flush = cfg.flush_timeout;
            let running = Arc::new(AtomicBool::new(false));
            let up = running.clone();
            let t = std::thread::Builder::new()
                .name("ticklane-publish".into())
                .spawn(move || {
                    up.store(true, Ordering::Release);
                    publisher(rx, transport, &stats, &failed, &failure, &clock, flush)
                })?;
            // The thread's own setup is done before the first output (none of it per record).
            while !running.load(Ordering::Acquire) {
                std::thread::yield_now();
            }
            t
        };
        Ok(PublishSink {
            tx: Some(tx),
            cfg,
            stats,
            failed,
            failure,
            thread: Some(thread),
            kept: Vec::new(),
            kept_order: Vec::with_capacity(1024),
            kept_next: 0,
        })
    }

    /// The sink's counters.
    pub fn stats(&self) -> &Arc<SinkStats> {
        &self.stats
    }

    fn failure_error(&self) -> io::Error {
        let why = self
            .failure
            .lock()
            .ok()
            .and_then(|f| f.clone())
            .unwrap_or_else(|| "the publisher thread stopped".into());
        io::Error::other(format!("sink {}: {why}", self.cfg.name))
    }

    /// Pushes, waiting for room (policy `block`, and events under `conflate`).
    fn push_blocking(&mut self, rec: RecordBuf) -> io::Result<()> {
        let Some(tx) = self.tx.as_mut() else {
            return Err(io::Error::other("sink already finished"));
        };
        let mut rec = rec;
        let mut spins = 0u32;
        loop {
            match tx.push(rec) {
                Ok(()) => {
                    self.stats.queued.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                }
                Err(rtrb::PushError::Full(r)) => {
                    rec = r;
                    if self.failed.load(Ordering::Relaxed) {
                        return Err(self.failure_error());
                    }
                    spins += 1;
                    if spins < 64 {
                        std::hint::spin_loop();
                    } else if spins < 128 {
                        std::thread::yield_now();
                    } else {
                        std::thread::sleep(Duration::from_micros(100));
                    }
                }
            }
        }
    }

    /// Pushes if there is room.
    fn try_push(&mut self, rec: RecordBuf) -> bool {
        let Some(tx) = self.tx.as_mut() else {
            return false;
        };
        let pushed = tx.push(rec).is_ok();
        if pushed {
            self.stats.queued.fetch_add(1, Ordering::Relaxed);
        }
        pushed
    }

    /// Sends the kept best bid/asks while there is room (all of them when `wait`).
    fn flush_kept(&mut self, wait: bool) -> io::Result<()> {
        while self.kept_next < self.kept_order.len() {
            let i = self.kept_order[self.kept_next] as usize;
            if let Some(rec) = self.kept[i] {
                if wait {
                    self.push_blocking(rec)?;
                } else if !self.try_push(rec) {
                    return Ok(());
                }
                self.kept[i] = None;
            }
            self.kept_next += 1;
        }
        self.kept_order.clear();
        self.kept_next = 0;
        Ok(())
    }

    fn conflate(&mut self, rec: RecordBuf) -> io::Result<()> {
        let is_state = rec.record_type().is_some_and(|t| t.is_state());
        if !is_state {
            // An event: whatever is kept goes first (order per instrument), then it waits.
            self.flush_kept(true)?;
            return self.push_blocking(rec);
        }
        self.flush_kept(false)?;
        let i = rec.instrument() as usize;
        if i >= self.kept.len() {
            // First sight of this instrument: the table grows now, not in steady state.
            self.kept.resize((i + 1).next_power_of_two().max(256), None);
        }
        if let Some(slot) = self.kept.get_mut(i).filter(|s| s.is_some()) {
            // A newer state of an instrument whose older one is still waiting: replace it.
            *slot = Some(rec);
            self.stats.conflated.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        if self.try_push(rec) {
            return Ok(());
        }
        self.kept[i] = Some(rec);
        self.kept_order.push(i as u32);
        Ok(())
    }
}

impl Sink for PublishSink {
    #[inline]
    fn on_output(&mut self, o: &Output, symbol: &str) -> io::Result<()> {
        let Some(rec) = encode(o, symbol, self.cfg.source) else {
            return Ok(());
        };
        match self.cfg.policy {
            Policy::Block => self.push_blocking(rec),
            Policy::Drop => {
                if self.failed.load(Ordering::Relaxed) {
                    return Err(self.failure_error());
                }
                if !self.try_push(rec) {
                    self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }
            Policy::Conflate => self.conflate(rec),
        }
    }

    /// Sends what is kept, closes the ring, waits for the publisher to deliver everything
    /// (up to the flush timeout) and fails if any record was not delivered.
    fn finish(&mut self) -> io::Result<()> {
        let kept = self.flush_kept(true);
        self.tx = None;
        let ended = match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err("the publisher thread panicked".into()),
            None => Ok(()),
        };
        kept?;
        let s = self.stats.snapshot();
        match ended {
            Ok(()) if s.errors == 0 => Ok(()),
            Ok(()) => Err(io::Error::other(format!(
                "sink {}: {} records were not delivered ({s})",
                self.cfg.name, s.errors
            ))),
            Err(why) => Err(io::Error::other(format!(
                "sink {}: {} records were not delivered ({s}); first error: {why}",
                self.cfg.name,
                s.errors.max(s.queued.saturating_sub(s.acked))
            ))),
        }
    }
}

impl Drop for PublishSink {
    fn drop(&mut self) {
        // A run that stopped early: close the ring so the thread ends, and wait for it.
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The publisher thread: ring → transport, then a flush; keeps the gauges current.
fn publisher(
    mut rx: rtrb::Consumer<RecordBuf>,
    mut t: impl Transport,
    stats: &SinkStats,
    failed: &AtomicBool,
    failure: &Mutex<Option<String>>,
    clock: &MonoClock,
    flush: Duration,
) -> Ended {
    let fail = |why: String| {
        if let Ok(mut f) = failure.lock() {
            f.get_or_insert(why);
        }
        failed.store(true, Ordering::Relaxed);
    };
    let gauges = |t: &dyn Transport, ring: usize| {
        stats
            .depth
            .store(ring as u64 + t.in_flight(), Ordering::Relaxed);
        let age = t
            .oldest_unacked()
            .map_or(0, |sent| clock.now().saturating_sub(sent));
        stats.oldest_unacked_ns.store(age, Ordering::Relaxed);
    };
    let mut fatal = None;
    let mut n = 0u64;
    loop {
        let rec = match rx.pop() {
            Ok(r) => r,
            Err(_) if rx.is_abandoned() => {
                // Pushed just before the ring was closed?
                match rx.pop() {
                    Ok(r) => r,
                    Err(_) => break,
                }
            }
            Err(_) => {
                t.poll(Duration::from_millis(1));
                gauges(&t, rx.slots());
                continue;
            }
        };
        if fatal.is_some() {
            // Nothing more can be sent: every remaining record is an error.
            stats.errors.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        loop {
            match t.send(&rec) {
                Ok(()) => {
                    stats.sent.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Err(SendError::Full) => {
                    t.poll(Duration::from_millis(10));
                    gauges(&t, rx.slots());
                }
                Err(SendError::Failed(why)) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut f) = failure.lock() {
                        f.get_or_insert(why);
                    }
                    break;
                }
                Err(SendError::Fatal(why)) => {
                    stats.errors.fetch_add(1, Ordering::Relaxed);
                    fail(why.clone());
                    fatal = Some(why);
                    break;
                }
            }
        }
        n += 1;
        if n.is_multiple_of(256) {
            t.poll(Duration::ZERO);
            gauges(&t, rx.slots());
        }
    }
    let flushed = t.flush(flush);
    gauges(&t, 0);
    if let Some(why) = fatal {
        return Err(why);
    }
    flushed.inspect_err(|why| fail(why.clone()))?;
    if stats.errors.load(Ordering::Relaxed) > 0 {
        let first = failure.lock().ok().and_then(|f| f.clone());
        return Err(first
            .or_else(|| t.first_error())
            .unwrap_or_else(|| "delivery failed".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::record::{decode, RecordType, Venue};
    use ticklane_engine::{InstrumentIdx, Nanos, Px, Qty};

    /// A transport that takes nothing while paused (its queue is "full") and acknowledges
    /// every record at once otherwise, keeping what it got.
    #[derive(Clone)]
    struct Gate {
        paused: Arc<AtomicBool>,
        got: Arc<Mutex<Vec<RecordBuf>>>,
        stats: Arc<SinkStats>,
        fatal_after: Option<usize>,
    }

    impl Transport for Gate {
        fn send(&mut self, rec: &RecordBuf) -> Result<(), SendError> {
            if self.paused.load(Ordering::Relaxed) {
                return Err(SendError::Full);
            }
            let mut got = self.got.lock().unwrap();
            if self.fatal_after.is_some_and(|n| got.len() >= n) {
                return Err(SendError::Fatal("the broker fenced us".into()));
            }
            got.push(*rec);
            self.stats.acked.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        fn poll(&mut self, timeout: Duration) {
            std::thread::sleep(timeout.min(Duration::from_millis(1)));
        }
        fn in_flight(&self) -> u64 {
            0
        }
        fn oldest_unacked(&self) -> Option<u64> {
            None
        }
        fn flush(&mut self, _: Duration) -> Result<(), String> {
            Ok(())
        }
        fn first_error(&self) -> Option<String> {
            None
        }
    }

    const SRC: Source = Source {
        venue: Venue::Itch,
        px_exp: -4,
        qty_exp: 0,
    };

    fn sink(policy: Policy, ring: usize, fatal_after: Option<usize>) -> (PublishSink, Gate) {
        let stats = Arc::new(SinkStats::default());
        let gate = Gate {
            paused: Arc::new(AtomicBool::new(true)),
            got: Arc::default(),
            stats: stats.clone(),
            fatal_after,
        };
        let cfg = PublishConfig {
            name: "test".into(),
            ring,
            policy,
            source: SRC,
            flush_timeout: Duration::from_secs(5),
        };
        let s = PublishSink::start(cfg, gate.clone(), stats, MonoClock::new()).unwrap();
        (s, gate)
    }

    fn bbo(seq: u64, instr: u32, bid: i64) -> Output {
        Output {
            seq,
            ts: Nanos(seq),
            instr: InstrumentIdx(instr),
            kind: OutputKind::Bbo([(bid, 1), (bid + 1, 1)]),
            stamp: 0,
        }
    }

    fn trade(seq: u64, instr: u32) -> Output {
        Output {
            kind: OutputKind::Trade {
                px: Px(1),
                qty: Qty(1),
                kind: crate::stages::output::TradeKind::Execute,
            },
            ..bbo(seq, instr, 0)
        }
    }

    use crate::stages::output::OutputKind;

    fn seqs(g: &Gate) -> Vec<(u32, u64, RecordType)> {
        g.got
            .lock()
            .unwrap()
            .iter()
            .map(|r| {
                let d = decode(&r.0).unwrap();
                (d.instrument, d.seq, d.ty)
            })
            .collect()
    }

    #[test]
    fn drop_counts_what_a_full_ring_refuses_and_delivers_the_rest() {
        let (mut s, g) = sink(Policy::Drop, 8, None);
        for i in 0..100 {
            s.on_output(&bbo(i, 1, i as i64), "A").unwrap();
        }
        g.paused.store(false, Ordering::Relaxed);
        s.finish().unwrap();
        let st = s.stats().snapshot();
        // The publisher may hold one record it popped while the transport was full.
        assert!((8..=9).contains(&st.queued), "{st}");
        assert_eq!(st.queued + st.dropped, 100, "{st}");
        assert_eq!((st.sent, st.acked, st.errors), (st.queued, st.queued, 0));
        let got = seqs(&g);
        assert_eq!(got.len() as u64, st.queued);
        assert!(got.windows(2).all(|w| w[0].1 < w[1].1), "in order: {got:?}");
    }

    #[test]
    fn conflate_keeps_the_latest_bbo_per_instrument_and_lets_events_wait() {
        let (mut s, g) = sink(Policy::Conflate, 4, None);
        for i in 0..50u64 {
            s.on_output(&bbo(i, (i % 3) as u32, i as i64), "X").unwrap();
        }
        // An event while state is kept: it waits for room, after the kept state.
        let resume = {
            let p = g.paused.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                p.store(false, Ordering::Relaxed);
            })
        };
        s.on_output(&trade(50, 0), "X").unwrap();
        resume.join().unwrap();
        s.on_output(&bbo(51, 1, 51), "X").unwrap();
        s.finish().unwrap();
        let st = s.stats().snapshot();
        assert!(st.conflated > 0, "{st}");
        assert_eq!(st.queued + st.conflated, 52, "{st}");
        assert_eq!((st.dropped, st.errors, st.acked), (0, 0, st.queued), "{st}");
        let got = seqs(&g);
        // Per instrument: in input order, and the last state is the last one given.
        for i in 0..3u32 {
            let mine: Vec<u64> = got.iter().filter(|r| r.0 == i).map(|r| r.1).collect();
            assert!(mine.windows(2).all(|w| w[0] < w[1]), "{i}: {mine:?}");
            let last_bbo = got
                .iter()
                .rev()
                .find(|r| r.0 == i && r.2 == RecordType::Bbo);
            let want = if i == 1 {
                51
            } else {
                (47..50).find(|s| s % 3 == u64::from(i)).unwrap()
            };
            assert_eq!(last_bbo.map(|r| r.1), Some(want), "{i}");
        }
        assert!(got.iter().any(|r| r.2 == RecordType::Trade));
    }

    #[test]
    fn block_waits_and_loses_nothing() {
        let (mut s, g) = sink(Policy::Block, 4, None);
        let resume = {
            let p = g.paused.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                p.store(false, Ordering::Relaxed);
            })
        };
        for i in 0..1000 {
            s.on_output(&bbo(i, (i % 7) as u32, i as i64), "B").unwrap();
        }
        resume.join().unwrap();
        s.finish().unwrap();
        let st = s.stats().snapshot();
        assert_eq!(
            (st.queued, st.acked, st.dropped, st.conflated),
            (1000, 1000, 0, 0)
        );
        let got: Vec<u64> = seqs(&g).iter().map(|r| r.1).collect();
        assert_eq!(got, (0..1000).collect::<Vec<_>>());
    }

    #[test]
    fn a_failed_transport_fails_the_run_instead_of_hanging() {
        let (mut s, g) = sink(Policy::Block, 4, Some(10));
        g.paused.store(false, Ordering::Relaxed);
        let mut err = None;
        for i in 0..10_000 {
            if let Err(e) = s.on_output(&bbo(i, 1, i as i64), "F") {
                err = Some(e);
                break;
            }
        }
        let e = err.unwrap_or_else(|| s.finish().unwrap_err());
        assert!(e.to_string().contains("fenced"), "{e}");
    }
}
