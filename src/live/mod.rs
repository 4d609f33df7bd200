//! `ticklane live --config live.toml`: the ITCH multicast feed daemon (websocket sources: see
//! [`ws`]).
//!
//! ```text
//!  line A ─┐                                    ┌─> journal thread (file, flush policy)
//!  line B ─┼─> [receive: recvmmsg | io_uring] ──┤
//!  retrans ┘        │ arbiter (A/B, gaps)       └─> decode → book → strategy → outputs
//!                   └─> requests to the server        (inline, or the replay's threaded
//!                                                       pipeline behind a byte ring)
//! ```
//!
//! One receive thread owns the sockets and the arbiter. Every datagram is journaled (line and
//! receive time) before the arbiter sees it, and every decision that changes what reaches the
//! books (a gap given up on) is journaled before it is applied (and a copy that conflicts with
//! the first one, right after its packet), so `ticklane replay JOURNAL`
//! re-drives the same arbiter and the same stages ([`ReleasedStages`]) and prints this run's
//! digest. Counters are atomics stored with `Relaxed` after each batch; the metrics thread reads
//! them when scraped.

mod http;
mod sockets;
pub(crate) mod ws;

use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use ticklane_engine::clock::MonoClock;
use ticklane_engine::strategy::{NoStrategy, Strategy};
use ticklane_feeds::arbiter::{Arbiter, Poll, LINE_A, LINE_B, LINE_RETRANS};
use ticklane_feeds::journal::{encode_prefix, range_payload, JournalWriter, RecordKind};
use ticklane_feeds::moldudp64::encode_request;
use ticklane_replay::journal::ReleasedStages;
use ticklane_replay::pipeline::PipelineRun;
use ticklane_replay::{ItchReplayOptions, ReplayError, Summary};

use crate::{input_failure, Failure};
use ticklane_replay::live::config::{ConfigError, LiveConfig, PipelineMode, RecvBackend};
use ticklane_replay::live::metrics::{self, ItchCounters, LatencyTotals, MetricsRegistry};
use ticklane_replay::live::recv::{self, Accept, LineSocket, Receiver};

/// Arguments of `live`.
#[derive(Args)]
pub(crate) struct LiveArgs {
    /// The daemon's TOML configuration: sources, pipeline, strategy, sinks, journal, metrics,
    /// run limits. data/live-example.toml documents every key of an ITCH source,
    /// data/live-binance.toml and data/live-coinbase.toml those of a websocket source; unknown
    /// keys are an error.
    #[arg(long, value_name = "PATH")]
    config: PathBuf,
}

/// Bytes of the ring between the receive thread and the journal thread.
const JOURNAL_RING: usize = 64 << 20;
/// Bytes of the ring between the receive thread and the threaded pipeline.
const PIPELINE_RING: usize = 16 << 20;

/// The `[strategy]` table's configuration text: its `config` file, or `[strategy.params]`.
fn strategy_toml(cfg: &LiveConfig) -> Result<Option<String>, Failure> {
    Ok(match &cfg.strategy {
        Some(s) => match (&s.config, &s.params) {
            (Some(p), _) => Some(crate::read_config("[strategy] config", p)?),
            (None, Some(t)) => Some(toml::to_string(t).map_err(|e| Failure {
                code: 2,
                err: e.into(),
            })?),
            (None, None) => None,
        },
        None => None,
    })
}

/// The daemon's config file missing is a missing input (exit 3); any error in it, a value out
/// of range included, is bad configuration (exit 2).
fn config_failure(e: ConfigError) -> Failure {
    match e {
        ConfigError::Read { .. } => input_failure(e),
        other => Failure {
            code: 2,
            err: other.into(),
        },
    }
}

/// Copies `parts` into a ring chunk's two slices, in order.
fn copy_into(dst: (&mut [u8], &mut [u8]), parts: &[&[u8]]) {
    let (a, b) = dst;
    let mut pos = 0usize;
    for p in parts {
        let mut src = *p;
        while !src.is_empty() {
            let (buf, off) = if pos < a.len() {
                (&mut a[pos..], pos)
            } else {
                (&mut b[pos - a.len()..], pos)
            };
            let n = buf.len().min(src.len());
            buf[..n].copy_from_slice(&src[..n]);
            src = &src[n..];
            pos = off + n;
        }
    }
}

/// Waits (spin, then yield, then sleep) until `tx` has `n` free slots or its consumer is gone.
/// Returns whether it had to wait, and whether there is room.
#[inline]
fn wait_room(tx: &rtrb::Producer<u8>, n: usize) -> (bool, bool) {
    if tx.slots() >= n {
        return (false, true);
    }
    let mut spins = 0u32;
    while tx.slots() < n {
        if tx.is_abandoned() {
            return (true, false);
        }
        spins += 1;
        if spins < 64 {
            std::hint::spin_loop();
        } else if spins < 128 {
            std::thread::yield_now();
        } else {
            std::thread::sleep(Duration::from_micros(50));
        }
    }
    (true, true)
}

/// Touches every page of a fresh ring so the receive thread does not take the page faults
/// (the kernel's allocation) on its first pass through it.
fn prefault(tx: &mut rtrb::Producer<u8>) {
    let n = tx.slots();
    // write_chunk fills the slots with zeros; dropping the chunk uncommitted leaves the ring
    // empty.
    drop(tx.write_chunk(n));
}

/// The receive thread's end of the journal.
struct JournalTx {
    tx: rtrb::Producer<u8>,
    records: u64,
    /// Records that could not be written because the journal thread had failed.
    lost: u64,
    waits: u64,
}

impl JournalTx {
    #[inline]
    fn append(&mut self, kind: RecordKind, ts: u64, line: u16, payload: &[u8]) {
        let p = encode_prefix(kind, ts, line, payload);
        let n = p.len() + payload.len();
        let (waited, room) = wait_room(&self.tx, n);
        self.waits += u64::from(waited);
        if !room {
            self.lost += 1;
            return;
        }
        let Ok(mut chunk) = self.tx.write_chunk(n) else {
            self.lost += 1;
            return;
        };
        copy_into(chunk.as_mut_slices(), &[&p, payload]);
        chunk.commit_all();
        self.records += 1;
    }
}

/// Writes what the receive thread journals, flushing every `flush_ns` and at the end.
fn journal_thread(
    mut rx: rtrb::Consumer<u8>,
    file: std::fs::File,
    flush_ns: u64,
) -> std::io::Result<u64> {
    let clock = MonoClock::new();
    let mut w = JournalWriter::new(file, flush_ns)?;
    loop {
        let n = rx.slots();
        if n > 0 {
            let chunk = rx
                .read_chunk(n)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let (a, b) = chunk.as_slices();
            w.append_raw(a)?;
            w.append_raw(b)?;
            chunk.commit_all();
        } else if rx.is_abandoned() {
            if rx.slots() == 0 {
                break;
            }
            continue;
        } else {
            std::thread::sleep(Duration::from_millis(1));
        }
        w.maybe_flush(clock.now())?;
    }
    let bytes = w.bytes();
    let f = w.finish()?;
    f.sync_data()?;
    Ok(bytes)
}

/// Reads the byte stream the receive thread writes into a ring, as a BinaryFILE for the
/// threaded pipeline; end of file once the receive side is done and the ring drained.
struct RingReader {
    rx: rtrb::Consumer<u8>,
}

impl Read for RingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut spins = 0u32;
        loop {
            let n = self.rx.slots().min(buf.len());
            if n > 0 {
                let chunk = self
                    .rx
                    .read_chunk(n)
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                let (a, b) = chunk.as_slices();
                buf[..a.len()].copy_from_slice(a);
                buf[a.len()..a.len() + b.len()].copy_from_slice(b);
                chunk.commit_all();
                return Ok(n);
            }
            if self.rx.is_abandoned() && self.rx.slots() == 0 {
                return Ok(0);
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

/// Where released messages go.
enum Processor {
    Inline(Box<ReleasedStages<'static, Box<dyn Strategy + Send>>>),
    Threads {
        tx: rtrb::Producer<u8>,
        handle: std::thread::JoinHandle<Result<PipelineRun, ReplayError>>,
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

    fn finish(self) -> Result<(Summary, Option<String>), Failure> {
        match self {
            Processor::Inline(s) => Ok((s.finish()?, None)),
            Processor::Threads { tx, handle, waits } => {
                drop(tx);
                let run = handle
                    .join()
                    .map_err(|_| anyhow::anyhow!("the pipeline thread panicked"))??;
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

/// The receive thread's state: sockets, arbiter, journal, stages and the counters it publishes.
struct Daemon {
    clock: MonoClock,
    receiver: Receiver,
    session: Option<[u8; 10]>,
    arb: Arbiter,
    journal: Option<JournalTx>,
    processor: Processor,
    counters: Arc<ItchCounters>,
    latency: metrics::LatencyPublisher,
    request_server: Option<std::net::SocketAddr>,
    req: std::net::UdpSocket,
    stop_at_end: bool,
    by_type: [u64; 26],
    foreign_session: u64,
    end_journaled: bool,
    finished_at: Option<u64>,
    last_gaps: u64,
    requests_unsent: u64,
    request_errors: u64,
}

impl Daemon {
    /// One turn of the receive loop: waits up to `timeout` for datagrams, journals and
    /// arbitrates each, processes what it releases, acts on gaps, publishes the counters.
    /// Nothing here allocates once warm (tested with a counting allocator).
    fn step(&mut self, timeout: Duration) -> Result<(), Failure> {
        let Daemon {
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
        let res = receiver.recv(timeout, &mut |line: u16, ts: u64, pkt: &[u8]| {
            if let Some(s) = session {
                if pkt.len() >= 10 && pkt[..10] != *s {
                    *foreign_session += 1;
                    return;
                }
            }
            let t0 = clock.now();
            if let Some(j) = journal.as_mut() {
                j.append(RecordKind::Packet, ts, line, pkt);
            }
            let t1 = clock.now();
            arb.on_packet(line, pkt, &mut |_seq, msg: &[u8]| {
                on_release(c, by_type, processor, ts, msg)
            });
            if let Some((seq, count)) = arb.take_conflicts() {
                if let Some(j) = journal.as_mut() {
                    j.append(RecordKind::Conflict, ts, line, &range_payload(seq, count));
                }
            }
            let t2 = clock.now();
            latency.record(metrics::JOURNAL_APPEND, t1 - t0);
            latency.record(metrics::PROCESS, t2 - t1);
            latency.record(
                metrics::RECV_TO_PROCESSED,
                recv::realtime_ns().saturating_sub(ts),
            );
        });
        if let Err(e) = res {
            return Err(Failure::from(
                anyhow::Error::new(e).context(format!("receiving ({})", receiver.name())),
            ));
        }
        let now = clock.now();
        // Gap notes and recovery decisions.
        if arb.stats.gaps != self.last_gaps {
            self.last_gaps = arb.stats.gaps;
            if let Some(j) = journal.as_mut() {
                j.append(
                    RecordKind::Gap,
                    recv::realtime_ns(),
                    0,
                    &range_payload(arb.next_seq(), arb.missing()),
                );
            }
        }
        match arb.poll(now) {
            Poll::Idle => {}
            Poll::Request { seq, count } => {
                let wall = recv::realtime_ns();
                match (self.request_server, arb.session()) {
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
                    j.append(
                        RecordKind::Request,
                        wall,
                        LINE_RETRANS,
                        &range_payload(seq, u64::from(count)),
                    );
                }
            }
            Poll::Skip { seq, count } => {
                // Journaled before it is applied: the replay applies it at the same point.
                let ts = recv::realtime_ns();
                if let Some(j) = journal.as_mut() {
                    j.append(RecordKind::Skip, ts, 0, &range_payload(seq, count));
                }
                arb.skip(seq, count, &mut |_seq, msg: &[u8]| {
                    on_release(c, by_type, processor, ts, msg)
                });
            }
        }
        if arb.end_seen() && !self.end_journaled {
            self.end_journaled = true;
            if let Some(j) = journal.as_mut() {
                j.append(RecordKind::End, recv::realtime_ns(), 0, &[]);
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
        c.journal_waits
            .store(journal.as_ref().map_or(0, |j| j.waits), Ordering::Relaxed);
        c.ring_occupancy
            .store(processor.ring_occupancy(), Ordering::Relaxed);
        latency.maybe_publish(now);
        Ok(())
    }
}

/// Runs the daemon.
pub(crate) fn run(a: LiveArgs) -> Result<u8, Failure> {
    let cfg = LiveConfig::load(&a.config).map_err(config_failure)?;
    let Some(src) = cfg.itch() else {
        return ws::run(&cfg);
    };
    let usage = |err: anyhow::Error| Failure { code: 2, err };

    // The strategy, built once here so a bad name or key fails before any socket opens.
    let strategy_text = strategy_toml(&cfg)?;
    let strategy_name = cfg.strategy.as_ref().map(|s| s.name.clone());
    let make = {
        let (n, t) = (strategy_name.clone(), strategy_text.clone());
        move || -> Result<Box<dyn Strategy + Send>, ticklane_strategies::RegistryError> {
            match &n {
                Some(n) => ticklane_strategies::build(n, t.as_deref()),
                None => Ok(Box::new(NoStrategy)),
            }
        }
    };
    let strategy = make().map_err(|e| usage(e.into()))?;

    // Sockets.
    let line_a = sockets::multicast_socket(src.group, src.interface, src.recv_buffer)
        .with_context(|| format!("joining line A {} on {}", src.group, src.interface))?;
    let line_b = match src.line_b {
        Some(b) => Some(
            sockets::multicast_socket(b, src.interface, src.recv_buffer)
                .with_context(|| format!("joining line B {b} on {}", src.interface))?,
        ),
        None => None,
    };
    let req = sockets::request_socket(src.interface, src.recv_buffer)
        .with_context(|| format!("opening the request socket on {}", src.interface))?;
    // Retransmissions are taken only from the request server's address and port; without
    // one, nothing is expected on the request socket.
    let accept_req = match src.request_server {
        Some(std::net::SocketAddr::V4(a)) => Accept::From(a),
        Some(std::net::SocketAddr::V6(a)) => {
            return Err(usage(anyhow::anyhow!(
                "request_server = \"{a}\": the request socket is IPv4; give an IPv4 address"
            )))
        }
        None => Accept::Nobody,
    };
    let line = |line, s: &std::net::UdpSocket, accept| LineSocket {
        line,
        fd: s.as_raw_fd(),
        accept,
    };
    let mut fds = vec![line(LINE_A, &line_a, Accept::Any)];
    if let Some(b) = &line_b {
        fds.push(line(LINE_B, b, Accept::Any));
    }
    fds.push(line(LINE_RETRANS, &req, accept_req));

    // Receive backend.
    let mut backend_note = String::new();
    let receiver = match src.recv {
        RecvBackend::Recvmmsg => Receiver::Mmsg(
            recv::MmsgReceiver::new(&fds, src.batch, src.max_datagram)
                .context("setting up recvmmsg")?,
        ),
        RecvBackend::IoUring => {
            recv::probe_io_uring()
                .map_err(|why| Failure::from(anyhow::anyhow!("recv = \"io_uring\": {why}")))?;
            Receiver::Uring(
                recv::UringReceiver::new(&fds, src.batch, src.max_datagram)
                    .context("setting up io_uring")?,
            )
        }
        RecvBackend::Auto => match recv::probe_io_uring() {
            Ok(()) => Receiver::Uring(
                recv::UringReceiver::new(&fds, src.batch, src.max_datagram)
                    .context("setting up io_uring")?,
            ),
            Err(why) => {
                backend_note = format!(" (auto: {why})");
                Receiver::Mmsg(
                    recv::MmsgReceiver::new(&fds, src.batch, src.max_datagram)
                        .context("setting up recvmmsg")?,
                )
            }
        },
    };

    // Journal.
    let mut journal = None;
    let mut journal_handle = None;
    if let Some(j) = &cfg.journal {
        let file = std::fs::File::create(&j.path)
            .with_context(|| format!("cannot create the journal {}", j.path.display()))?;
        let (mut tx, rx) = rtrb::RingBuffer::<u8>::new(JOURNAL_RING);
        prefault(&mut tx);
        let flush_ns = j.flush_ms.saturating_mul(1_000_000);
        journal_handle = Some(
            std::thread::Builder::new()
                .name("tl-journal".into())
                .spawn(move || journal_thread(rx, file, flush_ns))?,
        );
        journal = Some(JournalTx {
            tx,
            records: 0,
            lost: 0,
            waits: 0,
        });
    }

    // Processing.
    let bbo_csv = cfg.sinks.bbo_csv.clone();
    let open_opts = move || -> Result<ItchReplayOptions<'static>, ReplayError> {
        let mut opts = ItchReplayOptions::default();
        if let Some(p) = &bbo_csv {
            let f = std::fs::File::create(p).map_err(|source| ReplayError::Output {
                what: "BBO CSV",
                source,
            })?;
            opts.bbo_csv = Some(Box::new(std::io::BufWriter::with_capacity(1 << 16, f)));
        }
        Ok(opts)
    };
    let processor = match cfg.pipeline.mode {
        PipelineMode::Inline => Processor::Inline(Box::new(
            ReleasedStages::new(open_opts()?, strategy).context("setting up the outputs")?,
        )),
        PipelineMode::Threads => {
            drop(strategy);
            let (mut tx, rx) = rtrb::RingBuffer::<u8>::new(PIPELINE_RING);
            prefault(&mut tx);
            let pcfg = ticklane_replay::pipeline::PipelineConfig {
                shards: usize::from(cfg.pipeline.shards.unwrap_or(1).clamp(1, 64)),
                cores: cfg.pipeline.cores.clone(),
                wait: cfg
                    .pipeline
                    .wait
                    .as_deref()
                    .unwrap_or("yield")
                    .parse()
                    .map_err(|e| usage(anyhow::anyhow!("[pipeline] wait: {e}")))?,
                rate: None,
                epoch: ticklane_replay::pipeline::EPOCH,
            };
            eprintln!(
                "live: pipeline threads ({}), wait: {}",
                pcfg.plan(),
                pcfg.wait
            );
            let handle = std::thread::Builder::new()
                .name("tl-pipeline".into())
                .spawn(move || {
                    let reader = ticklane_feeds::itch::framing::FrameReader::new(RingReader { rx });
                    ticklane_replay::pipeline::replay_itch_threaded_with(
                        reader,
                        open_opts()?,
                        &pcfg,
                        || make().expect("the strategy was built once with the same config"),
                    )
                })?;
            Processor::Threads {
                tx,
                handle,
                waits: 0,
            }
        }
    };

    // Metrics.
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(ItchCounters::new());
    let (latency, totals) = LatencyTotals::pair();
    let metrics_stop = Arc::new(AtomicBool::new(false));
    let mut metrics_handle = None;
    if cfg.metrics.enabled {
        let mut reg = MetricsRegistry::default();
        reg.add(Box::new(metrics::ItchCollector {
            source: src.name.clone(),
            counters: counters.clone(),
            latency: totals.clone(),
            now_ns: recv::realtime_ns,
        }));
        reg.add_tick(totals.clone());
        let (addr, h) = http::serve(cfg.metrics.bind, reg, metrics_stop.clone())
            .with_context(|| format!("[metrics] bind = \"{}\"", cfg.metrics.bind))?;
        eprintln!("live: metrics at http://{addr}/metrics");
        metrics_handle = Some(h);
    }
    if let Processor::Threads { tx, .. } = &processor {
        counters
            .ring_capacity
            .store(tx.buffer().capacity() as u64, Ordering::Relaxed);
    }

    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(sig, stop.clone()).context("installing signal handlers")?;
    }
    if let Some(c) = cfg.pipeline.recv_core {
        // Best effort, as the replay's pipeline: an absent core is reported, not fatal.
        if !core_affinity::set_for_current(core_affinity::CoreId { id: c }) {
            eprintln!("live: could not pin the receive thread to core {c}");
        }
    }
    let session: Option<[u8; 10]> = src
        .session
        .as_ref()
        .and_then(|s| s.as_bytes().try_into().ok());
    eprintln!(
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
                req.local_addr()
                    .map_or_else(|_| "?".to_owned(), |a| a.to_string())
            )
        ),
        receiver.name(),
        backend_note,
        receiver.timestamps(),
        cfg.journal
            .as_ref()
            .map_or_else(|| "off".to_owned(), |j| j.path.display().to_string()),
    );

    // The receive loop.
    let started = Instant::now();
    let max_ns = cfg.run.max_duration_s.map(|s| (s * 1e9) as u64);
    let linger_ns = cfg.run.linger_ms().saturating_mul(1_000_000);
    let mut d = Daemon {
        clock: MonoClock::new(),
        receiver,
        session,
        arb: Arbiter::new(src.arbiter.to_config()),
        journal,
        processor,
        counters: counters.clone(),
        latency,
        request_server: src.request_server,
        req,
        stop_at_end: cfg.run.stop_at_end(),
        by_type: [0; 26],
        foreign_session: 0,
        end_journaled: false,
        finished_at: None,
        last_gaps: 0,
        requests_unsent: 0,
        request_errors: 0,
    };
    let mut stop_reason = "signal";
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let now = d.clock.now();
        if max_ns.is_some_and(|m| now >= m) {
            stop_reason = "max_duration_s";
            break;
        }
        if let Some(t) = d.finished_at {
            if now.saturating_sub(t) >= linger_ns {
                stop_reason = "end of session, every gap closed";
                break;
            }
        }
        let timeout = if d.arb.missing() > 0 || d.finished_at.is_some() {
            Duration::from_millis(1)
        } else {
            Duration::from_millis(20)
        };
        d.step(timeout)?;
    }
    let Daemon {
        receiver,
        arb,
        mut journal,
        processor,
        latency,
        foreign_session,
        end_journaled,
        requests_unsent,
        request_errors,
        ..
    } = d;
    let run_s = started.elapsed().as_secs_f64();

    // Drain and report.
    let mut journal_note = "off".to_owned();
    let mut journal_failed = None;
    if let Some(mut j) = journal.take() {
        if !end_journaled {
            j.append(RecordKind::End, recv::realtime_ns(), 0, &[]);
        }
        let (records, lost, waits) = (j.records, j.lost, j.waits);
        drop(j);
        let res = journal_handle
            .take()
            .map(|h| h.join())
            .transpose()
            .map_err(|_| anyhow::anyhow!("the journal thread panicked"))?;
        let path = cfg.journal.as_ref().map(|j| j.path.display().to_string());
        match res {
            Some(Ok(bytes)) => {
                journal_note = format!(
                    "{} ({records} records, {bytes} bytes, {waits} waits for ring room)",
                    path.unwrap_or_default()
                );
            }
            Some(Err(e)) => {
                journal_note = format!(
                    "{}: FAILED after {records} records: {e}",
                    path.unwrap_or_default()
                );
                journal_failed = Some(e);
            }
            None => {}
        }
        if lost > 0 {
            journal_note.push_str(&format!("; {lost} records LOST (journal thread failed)"));
        }
    }
    let (summary, pipeline_note) = processor.finish()?;
    metrics_stop.store(true, Ordering::Relaxed);
    if let Some(h) = metrics_handle {
        let _ = h.join();
    }
    let st = arb.stats;
    let rs = receiver.stats();
    println!(
        "live:          source {}, stopped by {stop_reason} after {run_s:.3} s",
        src.name
    );
    println!(
        "receive:       {}{backend_note}, timestamps {}, {} truncated datagrams, {} receive errors, {} multishot re-arms, {} rejected datagrams (not from the request server)",
        receiver.name(),
        receiver.timestamps(),
        rs.truncated,
        rs.errors,
        rs.rearms,
        rs.rejected
    );
    println!(
        "packets:       A {} B {} retrans {} ({} bytes), {} heartbeats, {} malformed, {} of another session",
        st.packets[0],
        st.packets[1],
        st.packets[2],
        st.bytes.iter().sum::<u64>(),
        st.heartbeats,
        st.malformed,
        st.wrong_session + foreign_session
    );
    println!(
        "arbiter:       {} released (first copy on A {} B {} retrans {}), {} duplicates, {} conflicting, {} gaps, {} requests ({} unsent, {} send errors), {} recovered, {} skipped, {} out of window, {} missing at end, end of session {}",
        st.released,
        st.won[0],
        st.won[1],
        st.won[2],
        st.duplicates,
        st.conflicts,
        st.gaps,
        st.requests,
        requests_unsent,
        request_errors,
        st.recovered,
        st.skipped,
        st.out_of_window,
        arb.missing(),
        if arb.end_seen() { "seen" } else { "not seen" }
    );
    println!("journal:       {journal_note}");
    let sets = totals.merged(latency.current());
    for (name, h) in metrics::STAGES.iter().zip(&sets) {
        if !h.is_empty() {
            println!(
                "latency:       {name:<18} p50 {} ns, p99 {} ns, p99.9 {} ns, max {} ns ({} packets)",
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.99),
                h.value_at_quantile(0.999),
                h.max(),
                h.len()
            );
        }
    }
    if let Some(n) = pipeline_note {
        println!("{n}");
    }
    if let Some(p) = &cfg.sinks.summary_json {
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(p)
                .with_context(|| format!("[sinks] summary_json: cannot create {}", p.display()))?,
        );
        serde_json::to_writer_pretty(&mut w, &summary)?;
        std::io::Write::write_all(&mut w, b"\n")?;
        std::io::Write::flush(&mut w).with_context(|| format!("writing {}", p.display()))?;
    }
    println!("{summary}");
    if let Some(e) = journal_failed {
        eprintln!("error: the journal could not be written: {e}");
        return Ok(crate::exit::OTHER);
    }
    Ok(0)
}

/// A global allocator for the unit tests that counts allocations per thread, so a test can
/// watch its own thread while others run.
#[cfg(test)]
pub(crate) mod alloc_count {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static ALLOCS: Cell<u64> = const { Cell::new(0) };
    }

    /// Allocations (and reallocations) made by this thread so far.
    pub(crate) fn allocs() -> u64 {
        ALLOCS.with(Cell::get)
    }

    /// Forwards to the system allocator and counts.
    pub(crate) struct Counting;

    fn count() {
        // A const-initialized thread local without destructor: no allocation, no registration.
        let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
    }

    // SAFETY: forwards every call unchanged to the system allocator; only counts.
    #[allow(unsafe_code)] // a global allocator can only be written with `unsafe impl`
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            count();
            // SAFETY: same contract as our caller's.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: same contract as our caller's.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            count();
            // SAFETY: same contract as our caller's.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use ticklane_feeds::itch::framing::FrameReader;
    use ticklane_feeds::itch::synth::{generate, SynthConfig};
    use ticklane_feeds::moldudp64::{end_of_session, PacketBuilder};

    const SESSION: [u8; 10] = *b"NOALLOC001";

    /// Synthetic multi-symbol ITCH packed into MoldUDP64 packets; returns them and the message
    /// count.
    fn packets(messages: u64) -> (Vec<Vec<u8>>, u64) {
        let cfg = SynthConfig {
            seed: 17,
            symbols: 100,
            messages,
            ..SynthConfig::default()
        };
        let mut data = Vec::new();
        generate(&cfg, &mut data).unwrap();
        let mut msgs = Vec::new();
        let mut r = FrameReader::new(&data[..]);
        while let Some(f) = r.next_frame() {
            msgs.push(f.unwrap().bytes.to_vec());
        }
        let mut out = Vec::new();
        let (mut seq, mut i) = (1u64, 0usize);
        while i < msgs.len() {
            let mut buf = Vec::new();
            let mut b = PacketBuilder::new(SESSION, seq, 1400);
            while i < msgs.len() && b.push(&mut buf, &msgs[i]) {
                i += 1;
            }
            seq = b.finish(&mut buf);
            out.push(buf);
        }
        out.push(end_of_session(SESSION, seq).to_vec());
        (out, msgs.len() as u64)
    }

    fn daemon(
        backend: &str,
        dir: &std::path::Path,
    ) -> (
        Daemon,
        [std::net::SocketAddr; 2],
        Vec<std::net::UdpSocket>,
        std::thread::JoinHandle<std::io::Result<u64>>,
    ) {
        let lo = std::net::Ipv4Addr::LOCALHOST;
        let a = sockets::request_socket(lo, 8 << 20).unwrap();
        let b = sockets::request_socket(lo, 8 << 20).unwrap();
        let req = sockets::request_socket(lo, 8 << 20).unwrap();
        let port = |s: &std::net::UdpSocket| {
            std::net::SocketAddr::from((
                std::net::Ipv4Addr::LOCALHOST,
                s.local_addr().unwrap().port(),
            ))
        };
        let addrs = [port(&a), port(&b)];
        let line = |line, s: &std::net::UdpSocket, accept| LineSocket {
            line,
            fd: s.as_raw_fd(),
            accept,
        };
        let fds = [
            line(LINE_A, &a, Accept::Any),
            line(LINE_B, &b, Accept::Any),
            line(LINE_RETRANS, &req, Accept::Nobody),
        ];
        let receiver = if backend == "io_uring" {
            Receiver::Uring(recv::UringReceiver::new(&fds, 64, 2048).unwrap())
        } else {
            Receiver::Mmsg(recv::MmsgReceiver::new(&fds, 64, 2048).unwrap())
        };
        let (mut tx, rx) = rtrb::RingBuffer::<u8>::new(JOURNAL_RING);
        prefault(&mut tx);
        let file = std::fs::File::create(dir.join(format!("{backend}.journal"))).unwrap();
        let jh = std::thread::spawn(move || journal_thread(rx, file, 10_000_000));
        let strategy: Box<dyn Strategy + Send> = Box::new(NoStrategy);
        let (latency, totals) = LatencyTotals::pair();
        // Drain published latency like the metrics thread does.
        std::thread::spawn(move || {
            for _ in 0..3000 {
                metrics::Tick::tick(&*totals);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let d = Daemon {
            clock: MonoClock::new(),
            receiver,
            session: Some(SESSION),
            arb: Arbiter::new(ticklane_feeds::arbiter::ArbiterConfig::default()),
            journal: Some(JournalTx {
                tx,
                records: 0,
                lost: 0,
                waits: 0,
            }),
            processor: Processor::Inline(Box::new(
                ReleasedStages::new(ItchReplayOptions::default(), strategy).unwrap(),
            )),
            counters: Arc::new(ItchCounters::new()),
            latency,
            request_server: None,
            req,
            stop_at_end: true,
            by_type: [0; 26],
            foreign_session: 0,
            end_journaled: false,
            finished_at: None,
            last_gaps: 0,
            requests_unsent: 0,
            request_errors: 0,
        };
        (d, addrs, vec![a, b], jh)
    }

    #[test]
    fn the_receive_loop_allocates_nothing_once_warm() {
        let (pkts, total) = packets(500_000);
        let pkts = Arc::new(pkts);
        let dir = std::env::temp_dir().join(format!("ticklane-noalloc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for backend in ["recvmmsg", "io_uring"] {
            if backend == "io_uring" {
                if let Err(why) = recv::probe_io_uring() {
                    eprintln!("skipping io_uring: {why}");
                    continue;
                }
            }
            let (mut d, addrs, _socks, jh) = daemon(backend, &dir);
            // The sender keeps at most 512 packets ahead of what the daemon has received on
            // line B, so nothing overflows a socket buffer.
            let got = Arc::new(AtomicU64::new(0));
            let sender = {
                let (pkts, got) = (pkts.clone(), got.clone());
                std::thread::spawn(move || {
                    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                    for (i, p) in pkts.iter().enumerate() {
                        let t = Instant::now();
                        while i as u64 > got.load(Ordering::Relaxed) + 512 {
                            assert!(t.elapsed() < Duration::from_secs(30), "receiver stalled");
                            std::thread::sleep(Duration::from_micros(200));
                        }
                        s.send_to(p, addrs[0]).unwrap();
                        s.send_to(p, addrs[1]).unwrap();
                    }
                })
            };
            let started = Instant::now();
            let mut warm_allocs = None;
            while !d.arb.finished() {
                assert!(
                    started.elapsed() < Duration::from_secs(120),
                    "{:?}",
                    d.arb.stats
                );
                if let Err(f) = d.step(Duration::from_millis(5)) {
                    panic!("step failed: {:#}", f.err);
                }
                got.store(d.arb.stats.packets[1], Ordering::Relaxed);
                if warm_allocs.is_none() && d.arb.stats.released >= total * 3 / 5 {
                    warm_allocs = Some(alloc_count::allocs());
                }
            }
            let after = alloc_count::allocs();
            sender.join().unwrap();
            let st = d.arb.stats;
            assert_eq!(st.released, total);
            assert_eq!(st.skipped, 0);
            assert!(st.duplicates >= total / 2, "line B repeated A: {st:?}");
            let warm = warm_allocs.unwrap();
            assert_eq!(
                after - warm,
                0,
                "{backend}: {} allocations on the receive thread over the last {} messages",
                after - warm,
                total - total * 3 / 5
            );
            drop(d);
            jh.join().unwrap().unwrap();
        }
    }
}
