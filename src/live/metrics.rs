//! The daemon's Prometheus endpoint: a registry any source adds its collectors to, and a small
//! HTTP server answering `GET /metrics` with the text exposition.
//!
//! How the hot path stays out of it: a source's counters are plain atomics its receive thread
//! updates with `Relaxed` stores; a [`Collector`] reads them when a scrape comes. Latency
//! histograms are recorded on the receive thread into a set it owns; every
//! [`LatencyPublisher::PERIOD_NS`] it swaps that set for an empty one through a pair of
//! single-producer rings (no lock, no allocation: the same two sets go round), and the metrics
//! thread merges what it gets into running totals. Nothing the scraper does can make the receive
//! thread wait.
//!
//! Encoding uses `prometheus-client` (the Prometheus project's Rust client). Serving uses
//! `tiny_http`: a blocking HTTP/1.1 server (keep-alive, request parsing, HEAD) with no async
//! runtime and four small dependencies. Its accept thread hands each connection to a thread of
//! its own pool, which reads requests off it, so a client that connects and says nothing ties
//! up only that thread, never the scrapes of others (a single-threaded loop over accepted
//! connections once made three idle clients delay a scrape by 6 s). Requests are answered by
//! [`WORKERS`] threads of ours, so two scrapes (Prometheus and a person with curl) encode at
//! once. Paths: `/metrics`, and `/healthz` (200 while the process runs).
//!
//! A websocket source would register its own collector the same way ([`MetricsRegistry::add`]),
//! e.g. reconnects and resyncs per venue; the families are named per concept, labelled by source.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use hdrhistogram::Histogram;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

/// The registry the endpoint serves; sources add collectors at start.
#[derive(Default)]
pub(crate) struct MetricsRegistry {
    registry: Registry,
    ticks: Vec<Arc<dyn Tick>>,
}

/// Work a collector wants done off the hot path between scrapes (draining published histograms).
pub(crate) trait Tick: Send + Sync {
    /// Called by the metrics thread every few tens of milliseconds and before every scrape.
    fn tick(&self);
}

impl MetricsRegistry {
    /// Adds a collector.
    pub(crate) fn add(&mut self, c: Box<dyn Collector>) {
        self.registry.register_collector(c);
    }

    /// Adds something the metrics thread ticks.
    pub(crate) fn add_tick(&mut self, t: Arc<dyn Tick>) {
        self.ticks.push(t);
    }

    fn tick(&self) {
        for t in &self.ticks {
            t.tick();
        }
    }

    /// The text exposition (OpenMetrics text, which Prometheus reads).
    pub(crate) fn encode(&self) -> String {
        self.tick();
        let mut s = String::new();
        // Writing into a String cannot fail; a collector's own error leaves a partial text.
        let _ = prometheus_client::encoding::text::encode(&mut s, &self.registry);
        s
    }
}

/// Threads answering requests (connections are read by `tiny_http`'s own pool).
pub(crate) const WORKERS: usize = 2;

/// Serves `GET /metrics` and `GET /healthz` on `bind` until `stop`; returns the bound address
/// and the thread (it joins the other workers before it ends).
pub(crate) fn serve(
    bind: SocketAddr,
    registry: MetricsRegistry,
    stop: Arc<AtomicBool>,
) -> io::Result<(SocketAddr, JoinHandle<()>)> {
    // Bound here, so a bind error keeps its io::ErrorKind for the caller's message.
    let listener = TcpListener::bind(bind)?;
    let addr = listener.local_addr()?;
    let server = Arc::new(
        tiny_http::Server::from_listener(listener, None)
            .map_err(|e| io::Error::other(e.to_string()))?,
    );
    let registry = Arc::new(registry);
    let worker = {
        let (server, registry, stop) = (server.clone(), registry.clone(), stop.clone());
        move || {
            while !stop.load(Ordering::Relaxed) {
                match server.recv_timeout(Duration::from_millis(20)) {
                    // One bad client must not stop the endpoint.
                    Ok(Some(rq)) => {
                        let _ = answer(rq, &registry);
                    }
                    Ok(None) => registry.tick(),
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
    };
    let mut others = Vec::with_capacity(WORKERS - 1);
    for i in 1..WORKERS {
        others.push(
            std::thread::Builder::new()
                .name(format!("tl-metrics-{i}"))
                .spawn(worker.clone())?,
        );
    }
    let h = std::thread::Builder::new()
        .name("tl-metrics".into())
        .spawn(move || {
            worker();
            for h in others {
                let _ = h.join();
            }
            // The last handle: dropping it closes the listener and its accept thread.
            drop(server);
        })?;
    Ok((addr, h))
}

fn answer(rq: tiny_http::Request, registry: &MetricsRegistry) -> io::Result<()> {
    use tiny_http::Method;
    let (status, ctype, body) = match (rq.method(), rq.url()) {
        (Method::Get | Method::Head, "/metrics") => (
            200,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
            registry.encode(),
        ),
        (Method::Get | Method::Head, "/healthz") => (200, "text/plain", "ok\n".into()),
        (Method::Get | Method::Head, _) => (
            404,
            "text/plain",
            "ticklane live: metrics are at /metrics\n".into(),
        ),
        _ => (405, "text/plain", "only GET is served\n".into()),
    };
    let header = tiny_http::Header::from_bytes(&b"Content-Type"[..], ctype.as_bytes())
        .map_err(|()| io::Error::other("bad header"))?;
    // A Content-Length whatever the size (no chunked encoding), as before.
    let resp = tiny_http::Response::from_string(body)
        .with_status_code(status)
        .with_header(header)
        .with_chunked_threshold(usize::MAX);
    rq.respond(resp)
}

/// Stages whose latency the receive thread records.
pub(crate) const STAGES: [&str; 3] = ["recv_to_processed", "process", "journal_append"];
/// Index of the stage from the socket's receive timestamp to the end of the packet's processing.
pub(crate) const RECV_TO_PROCESSED: usize = 0;
/// Index of the stage timing one packet through arbiter, decode, book, strategy and outputs
/// (inline) or arbiter and ring hand-off (threads).
pub(crate) const PROCESS: usize = 1;
/// Index of the stage timing the copy of a packet into the journal ring.
pub(crate) const JOURNAL_APPEND: usize = 2;

type LatencySet = [Histogram<u64>; 3];

fn latency_set() -> LatencySet {
    let h = || Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("static bounds are valid");
    [h(), h(), h()]
}

/// The receive thread's side of the latency exchange.
pub(crate) struct LatencyPublisher {
    current: LatencySet,
    full: rtrb::Producer<LatencySet>,
    empty: rtrb::Consumer<LatencySet>,
    last: u64,
}

impl LatencyPublisher {
    /// How often the receive thread offers its histograms, ns.
    pub(crate) const PERIOD_NS: u64 = 200_000_000;

    /// Records `ns` for `stage` (no allocation: values beyond the bounds saturate).
    #[inline]
    pub(crate) fn record(&mut self, stage: usize, ns: u64) {
        self.current[stage].saturating_record(ns.max(1));
    }

    /// Hands the recorded set to the metrics thread if one period passed and it has given back
    /// an empty set; otherwise keeps recording into the current one.
    #[inline]
    pub(crate) fn maybe_publish(&mut self, now: u64) {
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
    pub(crate) fn current(&self) -> &LatencySet {
        &self.current
    }
}

/// The metrics thread's side: running totals of everything published.
pub(crate) struct LatencyTotals {
    inner: Mutex<(
        LatencySet,
        rtrb::Consumer<LatencySet>,
        rtrb::Producer<LatencySet>,
    )>,
}

impl LatencyTotals {
    /// A connected pair.
    pub(crate) fn pair() -> (LatencyPublisher, Arc<LatencyTotals>) {
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
    pub(crate) fn merged(&self, extra: &LatencySet) -> LatencySet {
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
pub(crate) const QUANTILES: [f64; 5] = [0.5, 0.9, 0.99, 0.999, 1.0];

/// Counters of an ITCH source, written by its receive thread with Relaxed stores.
pub(crate) struct ItchCounters {
    /// Packets per line (A, B, retransmissions).
    pub(crate) packets: [AtomicU64; 3],
    /// Bytes per line.
    pub(crate) bytes: [AtomicU64; 3],
    /// Messages released, by ITCH type letter (index = letter - 'A').
    pub(crate) by_type: [AtomicU64; 26],
    pub(crate) duplicates: AtomicU64,
    pub(crate) conflicts: AtomicU64,
    pub(crate) gaps: AtomicU64,
    pub(crate) requests: AtomicU64,
    pub(crate) recovered: AtomicU64,
    pub(crate) skipped: AtomicU64,
    pub(crate) heartbeats: AtomicU64,
    pub(crate) malformed: AtomicU64,
    pub(crate) wrong_session: AtomicU64,
    pub(crate) out_of_window: AtomicU64,
    pub(crate) truncated: AtomicU64,
    pub(crate) recv_errors: AtomicU64,
    /// Datagrams on the request socket not from the request server (dropped).
    pub(crate) rejected: AtomicU64,
    pub(crate) journal_waits: AtomicU64,
    /// Bytes in the ring to the threaded pipeline (0 inline).
    pub(crate) ring_occupancy: AtomicU64,
    /// That ring's capacity.
    pub(crate) ring_capacity: AtomicU64,
    /// Per stock locate: receive time (ns since epoch) of the last book update; 0 = none.
    pub(crate) last_update: Box<[AtomicU64]>,
    /// Per stock locate: the symbol (8 ASCII bytes as a big-endian u64) from the stock directory.
    pub(crate) symbol: Box<[AtomicU64]>,
}

impl ItchCounters {
    pub(crate) fn new() -> Self {
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
            journal_waits: z(),
            ring_occupancy: z(),
            ring_capacity: z(),
            last_update: (0..65_536).map(|_| z()).collect(),
            symbol: (0..65_536).map(|_| z()).collect(),
        }
    }
}

/// Exposes an ITCH source's counters, latency and book staleness.
pub(crate) struct ItchCollector {
    pub(crate) source: String,
    pub(crate) counters: Arc<ItchCounters>,
    pub(crate) latency: Arc<LatencyTotals>,
    /// Wall clock for staleness (the live clock).
    pub(crate) now_ns: fn() -> u64,
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

/// The ITCH symbol packed by [`ItchCounters::symbol`], trimmed.
pub(crate) fn unpack_symbol(v: u64) -> String {
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
                "ticklane_journal_waits",
                "Times the receive thread waited for room in the journal ring.",
                &c.journal_waits,
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
/// [`ticklane_replay::live_ws::WsCounters`]), its connection state, and per instrument its
/// book's validity and staleness.
pub(crate) struct WsCollector {
    pub(crate) source: String,
    pub(crate) counters: Arc<ticklane_replay::live_ws::WsCounters>,
    /// Wall clock for staleness (the live clock).
    pub(crate) now_ns: fn() -> u64,
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
