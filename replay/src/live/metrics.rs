//! What the daemon's Prometheus endpoint serves: a registry any source adds its collectors to,
//! the counters a source's receive thread publishes, and the collectors that expose them.
//!
//! How the hot path stays out of it: a source's counters are plain atomics its receive thread
//! updates with `Relaxed` stores; a [`Collector`] reads them when a scrape comes. Latency
//! histograms are recorded on the receive thread into a set it owns; every
//! [`LatencyPublisher::PERIOD_NS`] it swaps that set for an empty one through a pair of
//! single-producer rings (no lock, no allocation: the same two sets go round), and the metrics
//! thread merges what it gets into running totals. Nothing the scraper does can make the receive
//! thread wait.
//!
//! Encoding uses `prometheus-client` (the Prometheus project's Rust client). Serving the text
//! over HTTP is the binary's (a socket it binds): it calls [`MetricsRegistry::encode`] per
//! scrape and [`MetricsRegistry::tick`] between scrapes.
//!
//! Each source registers its own collector ([`MetricsRegistry::add`]): [`ItchCollector`] for
//! the multicast feed, [`WsCollector`] for a websocket venue (reconnects, resyncs, book
//! validity); the families are named per concept, labelled by source.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hdrhistogram::Histogram;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

/// The registry the endpoint serves; sources add collectors at start.
#[derive(Default)]
pub struct MetricsRegistry {
    registry: Registry,
    ticks: Vec<Arc<dyn Tick>>,
    ready: Vec<Arc<dyn Readiness>>,
}

/// Whether a source is ready (the endpoint's `/readyz`): receiving, its books in sync.
pub trait Readiness: Send + Sync {
    /// `Err` with a short reason while the source is not ready.
    ///
    /// # Errors
    /// The reason, naming the source.
    fn ready(&self) -> Result<(), String>;
}

/// Work a collector wants done off the hot path between scrapes (draining published histograms).
pub trait Tick: Send + Sync {
    /// Called by the metrics thread every few tens of milliseconds and before every scrape.
    fn tick(&self);
}

impl MetricsRegistry {
    /// Adds a collector.
    pub fn add(&mut self, c: Box<dyn Collector>) {
        self.registry.register_collector(c);
    }

    /// Adds something the metrics thread ticks.
    pub fn add_tick(&mut self, t: Arc<dyn Tick>) {
        self.ticks.push(t);
    }

    /// Adds a source whose readiness [`Self::readiness`] reports.
    pub fn add_readiness(&mut self, r: Arc<dyn Readiness>) {
        self.ready.push(r);
    }

    /// `Ok` when every source added with [`Self::add_readiness`] is ready (and when none was).
    ///
    /// # Errors
    /// The reasons of the sources that are not, joined by `; `.
    pub fn readiness(&self) -> Result<(), String> {
        let reasons: Vec<String> = self.ready.iter().filter_map(|r| r.ready().err()).collect();
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(reasons.join("; "))
        }
    }

    /// Ticks everything added with [`Self::add_tick`] (the metrics thread calls it every few
    /// tens of milliseconds while no scrape comes).
    pub fn tick(&self) {
        for t in &self.ticks {
            t.tick();
        }
    }

    /// The text exposition (OpenMetrics text, which Prometheus reads).
    pub fn encode(&self) -> String {
        self.tick();
        let mut s = String::new();
        // Writing into a String cannot fail; a collector's own error leaves a partial text.
        let _ = prometheus_client::encoding::text::encode(&mut s, &self.registry);
        s
    }
}

/// Stages whose latency the receive thread records.
pub const STAGES: [&str; 3] = ["recv_to_processed", "process", "journal_append"];
/// Index of the stage from the socket's receive timestamp to the end of the packet's processing.
pub const RECV_TO_PROCESSED: usize = 0;
/// Index of the stage timing one packet through arbiter, decode, book, strategy and outputs
/// (inline) or arbiter and ring hand-off (threads).
pub const PROCESS: usize = 1;
/// Index of the stage timing the copy of a packet into the journal ring.
pub const JOURNAL_APPEND: usize = 2;

/// One histogram per stage of [`STAGES`], ns.
pub type LatencySet = [Histogram<u64>; 3];

fn latency_set() -> LatencySet {
    let h = || Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("static bounds are valid");
    [h(), h(), h()]
}

/// The receive thread's side of the latency exchange.
pub struct LatencyPublisher {
    current: LatencySet,
    full: rtrb::Producer<LatencySet>,
    empty: rtrb::Consumer<LatencySet>,
    last: u64,
}

impl LatencyPublisher {
    /// How often the receive thread offers its histograms, ns.
    pub const PERIOD_NS: u64 = 200_000_000;

    /// Records `ns` for `stage` (no allocation: values beyond the bounds saturate).
    #[inline]
    pub fn record(&mut self, stage: usize, ns: u64) {
        self.current[stage].saturating_record(ns.max(1));
    }

    /// Hands the recorded set to the metrics thread if one period passed and it has given back
    /// an empty set; otherwise keeps recording into the current one.
    #[inline]
    pub fn maybe_publish(&mut self, now: u64) {
        if now.saturating_sub(self.last) < Self::PERIOD_NS {
            return;
        }
        self.last = now;
        if self.full.is_full() {
            return;
        }
        if let Ok(fresh) = self.empty.pop() {
            let full = std::mem::replace(&mut self.current, fresh);
            // Cannot fail: checked not full, and we are the only producer.
            let _ = self.full.push(full);
        }
    }

    /// What is recorded and not yet published, for the final summary.
    pub fn current(&self) -> &LatencySet {
        &self.current
    }
}

/// The metrics thread's side: running totals of everything published.
pub struct LatencyTotals {
    inner: Mutex<(
        LatencySet,
        rtrb::Consumer<LatencySet>,
        rtrb::Producer<LatencySet>,
    )>,
}

impl LatencyTotals {
    /// A connected pair.
    pub fn pair() -> (LatencyPublisher, Arc<LatencyTotals>) {
        let (full_tx, full_rx) = rtrb::RingBuffer::new(1);
        let (mut empty_tx, empty_rx) = rtrb::RingBuffer::new(1);
        let _ = empty_tx.push(latency_set());
        (
            LatencyPublisher {
                current: latency_set(),
                full: full_tx,
                empty: empty_rx,
                last: 0,
            },
            Arc::new(LatencyTotals {
                inner: Mutex::new((latency_set(), full_rx, empty_tx)),
            }),
        )
    }

    /// Running totals plus `extra` (the publisher's unpublished set), per stage.
    pub fn merged(&self, extra: &LatencySet) -> LatencySet {
        self.tick();
        let mut out = latency_set();
        if let Ok(g) = self.inner.lock() {
            for (o, (t, e)) in out.iter_mut().zip(g.0.iter().zip(extra)) {
                let _ = o.add(t);
                let _ = o.add(e);
            }
        }
        out
    }
}

impl Tick for LatencyTotals {
    fn tick(&self) {
        let Ok(mut g) = self.inner.lock() else {
            return;
        };
        let (totals, full, empty) = &mut *g;
        while let Ok(mut set) = full.pop() {
            for (t, s) in totals.iter_mut().zip(set.iter_mut()) {
                let _ = t.add(&*s);
                s.reset();
            }
            let _ = empty.push(set);
        }
    }
}

impl std::fmt::Debug for LatencyTotals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LatencyTotals")
    }
}

/// Quantiles exported for each latency stage.
pub const QUANTILES: [f64; 5] = [0.5, 0.9, 0.99, 0.999, 1.0];

/// Counters of an ITCH source, written by its receive thread with Relaxed stores.
pub struct ItchCounters {
    /// Packets per line (A, B, retransmissions).
    pub packets: [AtomicU64; 3],
    /// Bytes per line.
    pub bytes: [AtomicU64; 3],
    /// Messages released, by ITCH type letter (index = letter - 'A').
    pub by_type: [AtomicU64; 26],
    /// Message copies after the first.
    pub duplicates: AtomicU64,
    /// Copies with a known sequence number but other bytes than the first copy.
    pub conflicts: AtomicU64,
    /// Sequence gaps seen.
    pub gaps: AtomicU64,
    /// Retransmission requests sent.
    pub requests: AtomicU64,
    /// Messages missing at a gap and later released.
    pub recovered: AtomicU64,
    /// Messages given up on.
    pub skipped: AtomicU64,
    /// Heartbeat packets.
    pub heartbeats: AtomicU64,
    /// Packets that do not parse or are cut short.
    pub malformed: AtomicU64,
    /// Packets of another MoldUDP64 session.
    pub wrong_session: AtomicU64,
    /// Messages too far ahead for the reorder window.
    pub out_of_window: AtomicU64,
    /// Datagrams longer than the receive slot.
    pub truncated: AtomicU64,
    /// Receive errors.
    pub recv_errors: AtomicU64,
    /// Datagrams on the request socket not from the request server (dropped).
    pub rejected: AtomicU64,
    /// Journal writes the receive thread made (one per receive batch and per decision record).
    pub journal_writes: AtomicU64,
    /// Bytes in the ring to the threaded pipeline (0 inline).
    pub ring_occupancy: AtomicU64,
    /// That ring's capacity.
    pub ring_capacity: AtomicU64,
    /// Per stock locate: receive time (ns since epoch) of the last book update; 0 = none.
    pub last_update: Box<[AtomicU64]>,
    /// Per stock locate: the symbol (8 ASCII bytes as a big-endian u64) from the stock directory.
    pub symbol: Box<[AtomicU64]>,
}

impl Default for ItchCounters {
    fn default() -> Self {
        Self::new()
    }
}

impl ItchCounters {
    /// All zero, with a slot per stock locate (65,536).
    pub fn new() -> Self {
        let z = || AtomicU64::new(0);
        ItchCounters {
            packets: std::array::from_fn(|_| z()),
            bytes: std::array::from_fn(|_| z()),
            by_type: std::array::from_fn(|_| z()),
            duplicates: z(),
            conflicts: z(),
            gaps: z(),
            requests: z(),
            recovered: z(),
            skipped: z(),
            heartbeats: z(),
            malformed: z(),
            wrong_session: z(),
            out_of_window: z(),
            truncated: z(),
            recv_errors: z(),
            rejected: z(),
            journal_writes: z(),
            ring_occupancy: z(),
            ring_capacity: z(),
            last_update: (0..65_536).map(|_| z()).collect(),
            symbol: (0..65_536).map(|_| z()).collect(),
        }
    }
}

/// Exposes an ITCH source's counters, latency and book staleness.
pub struct ItchCollector {
    /// The source's name (the `source` label).
    pub source: String,
    /// What the receive thread publishes.
    pub counters: Arc<ItchCounters>,
    /// The latency histograms' running totals.
    pub latency: Arc<LatencyTotals>,
    /// Wall clock for staleness (the live clock).
    pub now_ns: fn() -> u64,
}

impl std::fmt::Debug for ItchCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ItchCollector({})", self.source)
    }
}

fn counter(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(&[(&str, &str)], u64)],
) -> Result<(), std::fmt::Error> {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (labels, v) in rows {
        ConstCounter::new(*v).encode(m.encode_family(labels)?)?;
    }
    Ok(())
}

fn gauge<V: prometheus_client::encoding::EncodeGaugeValue + Copy>(
    enc: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    rows: &[(Vec<(&str, &str)>, V)],
) -> Result<(), std::fmt::Error> {
    let mut m = enc.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (labels, v) in rows {
        ConstGauge::new(*v).encode(m.encode_family(labels)?)?;
    }
    Ok(())
}

/// `ticklane_build_info{version="..."} 1`: which build serves the metrics.
#[derive(Debug)]
pub struct BuildInfo {
    /// The program's version.
    pub version: &'static str,
}

impl Collector for BuildInfo {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        gauge(
            &mut enc,
            "ticklane_build_info",
            "1, labelled with the version of the program serving these metrics.",
            &[(vec![("version", self.version)], 1i64)],
        )
    }
}

/// Readiness of an ITCH source: ready once a packet arrived on line A or B (multicast has no
/// connection to wait for; gaps are recovered while the source stays ready).
pub struct ItchReadiness {
    /// The source's name.
    pub source: String,
    /// What the receive thread publishes.
    pub counters: Arc<ItchCounters>,
}

impl std::fmt::Debug for ItchReadiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ItchReadiness({})", self.source)
    }
}

impl Readiness for ItchReadiness {
    fn ready(&self) -> Result<(), String> {
        let c = &self.counters;
        if c.packets[0].load(Ordering::Relaxed) + c.packets[1].load(Ordering::Relaxed) == 0 {
            return Err(format!("source {}: no packet received yet", self.source));
        }
        Ok(())
    }
}

/// Readiness of a websocket source: connected, and every book in sync.
pub struct WsReadiness {
    /// The source's name.
    pub source: String,
    /// What the runner publishes.
    pub counters: Arc<crate::live::session::WsCounters>,
}

impl std::fmt::Debug for WsReadiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WsReadiness({})", self.source)
    }
}

impl Readiness for WsReadiness {
    fn ready(&self) -> Result<(), String> {
        let c = &self.counters;
        if c.connected.load(Ordering::Relaxed) == 0 {
            return Err(format!("source {}: not connected", self.source));
        }
        if c.synced.load(Ordering::Relaxed) == 0 {
            let unsynced: Vec<&str> = c
                .books
                .iter()
                .filter(|b| b.synced.load(Ordering::Relaxed) == 0)
                .filter_map(|b| Some(b.symbol.get()?.as_str()))
                .collect();
            return Err(if unsynced.is_empty() {
                format!("source {}: books not synced yet", self.source)
            } else {
                format!("source {}: not synced: {}", self.source, unsynced.join(","))
            });
        }
        Ok(())
    }
}

/// The ITCH symbol packed by [`ItchCounters::symbol`], trimmed.
pub fn unpack_symbol(v: u64) -> String {
    String::from_utf8_lossy(&v.to_be_bytes())
        .trim_end_matches([' ', '\0'])
        .to_owned()
}

impl Collector for ItchCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let c = &*self.counters;
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let s = self.source.as_str();
        let src = [("source", s)];
        let lines = ["A", "B", "retrans"];
        let per_line = |v: &[AtomicU64; 3]| -> Vec<([(&str, &str); 2], u64)> {
            lines
                .iter()
                .zip(v)
                .map(|(l, a)| ([("source", s), ("line", *l)], r(a)))
                .collect()
        };
        let p = per_line(&c.packets);
        let rows: Vec<(&[(&str, &str)], u64)> = p.iter().map(|(l, v)| (&l[..], *v)).collect();
        counter(
            &mut enc,
            "ticklane_packets",
            "Datagrams received per line.",
            &rows,
        )?;
        let b = per_line(&c.bytes);
        let rows: Vec<(&[(&str, &str)], u64)> = b.iter().map(|(l, v)| (&l[..], *v)).collect();
        counter(
            &mut enc,
            "ticklane_bytes",
            "Bytes received per line.",
            &rows,
        )?;
        let letters: Vec<String> = (b'A'..=b'Z').map(|x| (x as char).to_string()).collect();
        let by_type: Vec<([(&str, &str); 2], u64)> = c
            .by_type
            .iter()
            .zip(&letters)
            .filter(|(a, _)| r(a) > 0)
            .map(|(a, t)| ([("source", s), ("type", t.as_str())], r(a)))
            .collect();
        let rows: Vec<(&[(&str, &str)], u64)> = by_type.iter().map(|(l, v)| (&l[..], *v)).collect();
        counter(
            &mut enc,
            "ticklane_messages",
            "Messages released in sequence, by ITCH message type.",
            &rows,
        )?;
        for (name, help, a) in [
            ("ticklane_gaps", "Sequence gaps seen.", &c.gaps),
            (
                "ticklane_rerequests",
                "Retransmission requests sent.",
                &c.requests,
            ),
            (
                "ticklane_recovered",
                "Messages missing at a gap and later released.",
                &c.recovered,
            ),
            (
                "ticklane_duplicates",
                "Message copies after the first (other line, retransmission).",
                &c.duplicates,
            ),
            (
                "ticklane_conflicts",
                "Message copies with a known sequence number but other bytes than the first copy \
                 (the first is kept).",
                &c.conflicts,
            ),
            ("ticklane_skipped", "Messages given up on.", &c.skipped),
            (
                "ticklane_resyncs",
                "Book resynchronizations from a snapshot (none for ITCH).",
                &AtomicU64::new(0),
            ),
            ("ticklane_heartbeats", "Heartbeat packets.", &c.heartbeats),
            (
                "ticklane_malformed",
                "Packets that do not parse or are cut short.",
                &c.malformed,
            ),
            (
                "ticklane_wrong_session",
                "Packets of another MoldUDP64 session (ignored).",
                &c.wrong_session,
            ),
            (
                "ticklane_out_of_window",
                "Messages too far ahead for the reorder window (requested later).",
                &c.out_of_window,
            ),
            (
                "ticklane_truncated_datagrams",
                "Datagrams longer than the receive slot.",
                &c.truncated,
            ),
            ("ticklane_recv_errors", "Receive errors.", &c.recv_errors),
            (
                "ticklane_rejected_datagrams",
                "Datagrams on the request socket not from the configured request server \
                 (dropped before the journal and the arbiter).",
                &c.rejected,
            ),
            (
                "ticklane_journal_writes",
                "Journal writes (one per receive batch, each before its messages are released).",
                &c.journal_writes,
            ),
        ] {
            counter(&mut enc, name, help, &[(&src[..], r(a))])?;
        }
        gauge(
            &mut enc,
            "ticklane_ring_occupancy_bytes",
            "Bytes waiting in the ring to the threaded pipeline (0 inline).",
            &[(src.to_vec(), r(&c.ring_occupancy))],
        )?;
        gauge(
            &mut enc,
            "ticklane_ring_capacity_bytes",
            "Capacity of the ring to the threaded pipeline (0 inline).",
            &[(src.to_vec(), r(&c.ring_capacity))],
        )?;
        let sets = self.latency.merged(&latency_set());
        let qs: Vec<String> = QUANTILES.iter().map(|q| q.to_string()).collect();
        let mut rows = Vec::new();
        let mut counts = Vec::new();
        for (stage, h) in STAGES.iter().zip(&sets) {
            for (q, qs) in QUANTILES.iter().zip(&qs) {
                let v = if h.is_empty() {
                    0
                } else {
                    h.value_at_quantile(*q) as i64
                };
                rows.push((
                    vec![("source", s), ("stage", *stage), ("quantile", qs.as_str())],
                    v,
                ));
            }
            counts.push(([("source", s), ("stage", *stage)], h.len()));
        }
        gauge(
            &mut enc,
            "ticklane_stage_latency_ns",
            "Per-stage latency quantiles, ns, over the run (published every 200 ms).",
            &rows,
        )?;
        let rows: Vec<(&[(&str, &str)], u64)> = counts.iter().map(|(l, v)| (&l[..], *v)).collect();
        counter(
            &mut enc,
            "ticklane_stage_latency_samples",
            "Samples behind the latency quantiles.",
            &rows,
        )?;
        let now = (self.now_ns)();
        let mut stale = Vec::new();
        let names: Vec<(String, String, f64)> = c
            .last_update
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let t = r(a);
                (t > 0).then(|| {
                    let sym = unpack_symbol(r(&c.symbol[i]));
                    let sym = if sym.is_empty() { format!("#{i}") } else { sym };
                    (sym, i.to_string(), now.saturating_sub(t) as f64 / 1e9)
                })
            })
            .collect();
        for (sym, locate, v) in &names {
            stale.push((
                vec![
                    ("source", s),
                    ("symbol", sym.as_str()),
                    ("locate", locate.as_str()),
                ],
                *v,
            ));
        }
        gauge(
            &mut enc,
            "ticklane_book_staleness_seconds",
            "Seconds since the last book update, per instrument with a book.",
            &stale,
        )?;
        Ok(())
    }
}

/// Exposes a websocket source's counters (the live crypto runner's
/// [`crate::live::session::WsCounters`]), its connection state, and per instrument its
/// book's validity and staleness.
pub struct WsCollector {
    /// The source's name (the `source` label).
    pub source: String,
    /// What the runner publishes.
    pub counters: Arc<crate::live::session::WsCounters>,
    /// Wall clock for staleness (the live clock).
    pub now_ns: fn() -> u64,
}

impl std::fmt::Debug for WsCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WsCollector({})", self.source)
    }
}

impl Collector for WsCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let c = &*self.counters;
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let s = self.source.as_str();
        let src = [("source", s)];
        for (name, help, a) in [
            (
                "ticklane_ws_frames",
                "Websocket data frames received (all connections).",
                &c.frames,
            ),
            (
                "ticklane_ws_bytes",
                "Bytes of the websocket data frames received.",
                &c.bytes,
            ),
            (
                "ticklane_reconnects",
                "Connections opened after the first.",
                &c.reconnects,
            ),
            (
                "ticklane_resyncs",
                "Books brought back in sync from a snapshot after losing it (reconnect or gap).",
                &c.resyncs,
            ),
            (
                "ticklane_gaps",
                "Sequence breaks in the diff stream (Binance).",
                &c.gaps,
            ),
            (
                "ticklane_malformed",
                "Frames that did not decode (malformed JSON, unknown type, bad field).",
                &c.bad_frames,
            ),
            (
                "ticklane_snapshot_fetches",
                "REST depth snapshots requested (Binance).",
                &c.snapshot_fetches,
            ),
            (
                "ticklane_snapshot_failures",
                "REST depth snapshot requests that failed (Binance).",
                &c.snapshot_failures,
            ),
            (
                "ticklane_journal_errors",
                "Journal writes that failed.",
                &c.journal_errors,
            ),
        ] {
            counter(&mut enc, name, help, &[(&src[..], r(a))])?;
        }
        let types = [
            ("depth", &c.depth),
            ("snapshot", &c.snapshots),
            ("trade", &c.trades),
            ("ticker", &c.tickers),
            ("control", &c.control),
        ];
        let rows: Vec<([(&str, &str); 2], u64)> = types
            .iter()
            .map(|(t, a)| ([("source", s), ("type", *t)], r(a)))
            .collect();
        let rows: Vec<(&[(&str, &str)], u64)> = rows.iter().map(|(l, v)| (&l[..], *v)).collect();
        counter(
            &mut enc,
            "ticklane_messages",
            "Messages by type: depth (Binance diffs, Coinbase l2update), snapshot (applied), \
             trade, ticker (bookTicker, ticker), control (subscription replies, heartbeats).",
            &rows,
        )?;
        gauge(
            &mut enc,
            "ticklane_connected",
            "1 while the websocket is connected.",
            &[(src.to_vec(), r(&c.connected) as i64)],
        )?;
        // Per instrument, as the runner first saw them.
        let books: Vec<(&str, u64, u64)> = c
            .books
            .iter()
            .filter_map(|b| Some((b.symbol.get()?.as_str(), r(&b.synced), r(&b.last_update_ns))))
            .collect();
        let valid: Vec<(Vec<(&str, &str)>, i64)> = books
            .iter()
            .map(|(sym, synced, _)| (vec![("source", s), ("symbol", *sym)], *synced as i64))
            .collect();
        gauge(
            &mut enc,
            "ticklane_book_valid",
            "1 while the instrument's book is synced (snapshot applied, diffs chained); 0 while \
             it resyncs.",
            &valid,
        )?;
        let now = (self.now_ns)();
        let stale: Vec<(Vec<(&str, &str)>, f64)> = books
            .iter()
            .filter(|(_, synced, ts)| *synced == 1 && *ts > 0)
            .map(|(sym, _, ts)| {
                (
                    vec![("source", s), ("symbol", *sym)],
                    now.saturating_sub(*ts) as f64 / 1e9,
                )
            })
            .collect();
        gauge(
            &mut enc,
            "ticklane_book_staleness_seconds",
            "Seconds since the last update of the instrument's book (absent while it resyncs).",
            &stale,
        )?;
        Ok(())
    }
}

/// Per publishing sink (`[[sink]]`): its records by outcome and its lag, read from the
/// counters its hot side and publisher thread keep ([`crate::sink::publish::SinkStats`]).
#[derive(Debug)]
pub struct SinkCollector {
    /// Each sink's URL (the `sink` label) and counters.
    pub sinks: Vec<(String, Arc<crate::sink::publish::SinkStats>)>,
}

impl Collector for SinkCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snaps: Vec<_> = self
            .sinks
            .iter()
            .map(|(u, s)| (u.as_str(), s.snapshot()))
            .collect();
        let states = ["queued", "sent", "acked", "dropped", "conflated", "errors"];
        let mut rows: Vec<([(&str, &str); 2], u64)> = Vec::new();
        for (u, s) in &snaps {
            let v = [s.queued, s.sent, s.acked, s.dropped, s.conflated, s.errors];
            for (st, n) in states.iter().zip(v) {
                rows.push(([("sink", u), ("state", st)], n));
            }
        }
        let rows: Vec<(&[(&str, &str)], u64)> = rows.iter().map(|(l, v)| (&l[..], *v)).collect();
        counter(
            &mut enc,
            "ticklane_sink_records",
            "Records of a publishing sink by state: queued into its ring, sent to the client, acknowledged by the broker, dropped or conflated by its policy, delivery errors",
            &rows,
        )?;
        let depth: Vec<_> = snaps
            .iter()
            .map(|(u, s)| (vec![("sink", *u)], s.depth as i64))
            .collect();
        gauge(
            &mut enc,
            "ticklane_sink_queue_depth",
            "Records in a sink's ring plus records sent and not yet acknowledged",
            &depth,
        )?;
        let age: Vec<_> = snaps
            .iter()
            .map(|(u, s)| (vec![("sink", *u)], s.oldest_unacked_ns as f64 / 1e9))
            .collect();
        gauge(
            &mut enc,
            "ticklane_sink_oldest_unacked_seconds",
            "Age of a sink's oldest record sent and not yet acknowledged (0: none)",
            &age,
        )
    }
}

#[cfg(test)]
mod readiness_tests {
    use super::*;
    use crate::live::session::WsCounters;

    #[test]
    fn a_websocket_source_is_ready_while_connected_with_every_book_synced() {
        let c = Arc::new(WsCounters::default());
        let r = WsReadiness {
            source: "bn".into(),
            counters: c.clone(),
        };
        assert_eq!(r.ready(), Err("source bn: not connected".into()));
        c.connected.store(1, Ordering::Relaxed);
        assert_eq!(r.ready(), Err("source bn: books not synced yet".into()));
        c.books[0].symbol.set("BTCUSDT".into()).unwrap();
        c.books[1].symbol.set("ETHUSDT".into()).unwrap();
        c.books[1].synced.store(1, Ordering::Relaxed);
        assert_eq!(r.ready(), Err("source bn: not synced: BTCUSDT".into()));
        c.synced.store(1, Ordering::Relaxed);
        assert_eq!(r.ready(), Ok(()));
        c.connected.store(0, Ordering::Relaxed);
        assert_eq!(r.ready(), Err("source bn: not connected".into()));
    }

    #[test]
    fn an_itch_source_is_ready_once_a_packet_arrived_on_a_or_b() {
        let c = Arc::new(ItchCounters::new());
        let r = ItchReadiness {
            source: "nasdaq".into(),
            counters: c.clone(),
        };
        assert_eq!(
            r.ready(),
            Err("source nasdaq: no packet received yet".into())
        );
        c.packets[2].store(5, Ordering::Relaxed); // retransmissions alone do not count
        assert!(r.ready().is_err());
        c.packets[1].store(1, Ordering::Relaxed);
        assert_eq!(r.ready(), Ok(()));
    }
}
