//! The Kafka sink against a real broker (feature `kafka`; `scripts/kafka-broker.sh start`, or
//! `TICKLANE_KAFKA=HOST:PORT` for another broker). What the sink published is read back by an
//! independent consumer (rdkafka's, assigned every partition from the beginning) and decoded
//! from the documented layout (docs/kafka.md), not with the sink's code; the expected records
//! come from the same run's BBO CSV, signal records and summary.
//!
//! The backpressure tests start a broker of their own (tansu, found as the script finds it)
//! so they can stall it with SIGSTOP.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message};
use rdkafka::{Offset, TopicPartitionList};
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_replay::run::{self, Format, RunHooks, RunSpec, StrategySpec};
use ticklane_replay::sink::publish::{SinkStats, StatsSnapshot};
use ticklane_replay::sink::record::{Source, Venue};
use ticklane_replay::sink::Sink;
use ticklane_replay::stages::output::{Output, OutputKind};
use ticklane_replay::{replay_itch_with, ItchReplayOptions};
use ticklane_strategies::Registry;

/// A trade as compared: (seq, ts, px, qty).
type Trade = (u64, u64, i64, u64);
/// The last best bid/ask per symbol.
type LastBbo = BTreeMap<String, [(i64, u64); 2]>;

const TOPICS: [&str; 5] = ["bbo", "trade", "status", "signal", "fill"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn itch_sample() -> PathBuf {
    repo().join("data/AAPL_2012-06-21_lobster10.itch")
}

fn binance_capture() -> PathBuf {
    repo().join("../shared/data/binance/spot_btcusdt_20240808.gz")
}

/// The broker the suite runs against: `TICKLANE_KAFKA`, else the script's default address.
fn broker() -> String {
    std::env::var("TICKLANE_KAFKA").unwrap_or_else(|_| "127.0.0.1:19092".into())
}

fn unique(name: &str) -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    format!("t{:x}-{name}", h.finish() & 0xffff_ffff)
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ticklane-kafka-{}", unique("")));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// One record as the consumer read it.
#[derive(Clone, Debug)]
struct Got {
    key: Vec<u8>,
    value: Vec<u8>,
    schema: Option<Vec<u8>>,
}

/// Every record of `topic`, partition by partition, each partition in its order.
fn consume(brokers: &str, topic: &str) -> Vec<Got> {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", unique("reader"))
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "true")
        .create()
        .unwrap();
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("metadata of {topic} at {brokers}: {e}"));
    let parts = md.topics()[0].partitions().len() as i32;
    assert!(parts > 0, "{topic} has no partitions");
    let mut tpl = TopicPartitionList::new();
    for p in 0..parts {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    c.assign(&tpl).unwrap();
    let mut by_part: BTreeMap<i32, Vec<Got>> = BTreeMap::new();
    let mut eof = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while (eof.len() as i32) < parts {
        assert!(
            Instant::now() < deadline,
            "{topic}: partitions {eof:?} of {parts} read to the end in 120 s"
        );
        match c.poll(Duration::from_millis(500)) {
            Some(Ok(m)) => {
                let schema = m.headers().and_then(|h| {
                    h.iter()
                        .find(|x| x.key == "ticklane.schema")
                        .and_then(|x| x.value.map(<[u8]>::to_vec))
                });
                eof.remove(&m.partition());
                by_part.entry(m.partition()).or_default().push(Got {
                    key: m.key().unwrap_or_default().to_vec(),
                    value: m.payload().unwrap_or_default().to_vec(),
                    schema,
                });
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                eof.insert(p);
            }
            Some(Err(e)) => panic!("reading {topic}: {e}"),
            None => {}
        }
    }
    by_part.into_values().flatten().collect()
}

// --- An independent decoder of the documented layout (docs/kafka.md, schema 1). ---

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// A record's time, as the layout table puts it: the exchange time (offset 16) for ITCH and
/// LOBSTER (venue 1, 2; receive time 0), the receive time (offset 24) for the price-level
/// venues (exchange time 0).
fn time_of(b: &[u8]) -> u64 {
    let (at, other) = if matches!(b[3], 1 | 2) {
        (16, 24)
    } else {
        (24, 16)
    };
    assert_eq!(
        u64_at(b, other),
        0,
        "venue {}: the other time is unknown",
        b[3]
    );
    u64_at(b, at)
}

fn symbol_of(b: &[u8]) -> String {
    String::from_utf8(b[36..36 + usize::from(b[34])].to_vec()).unwrap()
}

/// A price or quantity with `exp` decimals, as the CSV writes it.
fn decimal(v: i64, exp: i8) -> String {
    let d = u32::from(exp.unsigned_abs());
    if d == 0 {
        return v.to_string();
    }
    let scale = 10i64.pow(d);
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!(
        "{sign}{}.{:0w$}",
        a / scale as u64,
        a % scale as u64,
        w = d as usize
    )
}

/// A BBO record as a BBO CSV row.
fn bbo_row(b: &[u8]) -> String {
    assert_eq!(b.len(), 128);
    assert_eq!(u16::from_le_bytes([b[0], b[1]]), 1, "schema version");
    assert_eq!(b[2], 1, "record type bbo");
    let px_exp = b[32] as i8;
    let mut row = format!("{},{}", time_of(b), symbol_of(b));
    for at in [64, 80] {
        let (px, qty) = (u64_at(b, at) as i64, u64_at(b, at + 8));
        if qty == 0 {
            row.push_str(",,");
        } else {
            row.push_str(&format!(",{},{qty}", decimal(px, px_exp)));
        }
    }
    row
}

/// A signal record as (ts, symbol, kind, side, value).
fn signal_of(b: &[u8]) -> (u64, String, &'static str, &'static str, f64) {
    assert_eq!(b[2], 4, "record type signal");
    let kind = ["", "take", "quote", "exit", "alert"][usize::from(b[64])];
    let side = ["", "buy", "sell"][usize::from(b[65])];
    (
        time_of(b),
        symbol_of(b),
        kind,
        side,
        f64::from_bits(u64_at(b, 72)),
    )
}

/// Rows grouped by their symbol, each group in order.
fn by_symbol<T>(rows: impl IntoIterator<Item = (String, T)>) -> BTreeMap<String, Vec<T>> {
    let mut m: BTreeMap<String, Vec<T>> = BTreeMap::new();
    for (s, r) in rows {
        m.entry(s).or_default().push(r);
    }
    m
}

fn csv_rows(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

fn signal_lines(p: &Path) -> Vec<(u64, String, String, String, f64)> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["ts_exch_ns"].as_u64().unwrap(),
                v["symbol"].as_str().unwrap().to_owned(),
                v["kind"].as_str().unwrap().to_owned(),
                v["side"].as_str().unwrap().to_owned(),
                v["value"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// Runs `spec` with its sinks, returning the sinks' counters.
fn run_spec(spec: &RunSpec) -> Vec<StatsSnapshot> {
    let registry = Registry::builtins();
    let mut stats: Vec<(String, Arc<SinkStats>)> = Vec::new();
    let hooks = RunHooks {
        sink_stats: Some(&mut stats),
        ..RunHooks::default()
    };
    run::run(spec, &registry, hooks).unwrap_or_else(|e| panic!("the run failed: {e}"));
    stats.iter().map(|(_, s)| s.snapshot()).collect()
}

fn summary_json(p: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A replay of `input` with a strategy, a BBO CSV, signal records, a summary and a binary
/// Kafka sink; every topic read back matches them.
fn replay_matches_consumer(
    format: Format,
    input: &Path,
    strategy: &str,
    exec: bool,
    shards: Option<u16>,
    name: &str,
) {
    let prefix = unique(name);
    let brokers = broker();
    let mut spec = RunSpec::for_file(format, input);
    if let Some(n) = shards {
        // The threaded pipeline: the sink runs on the merge thread, after the shards.
        spec.pipeline.mode = run::PipelineMode::Threads;
        spec.pipeline.shards = n;
    }
    let (csv, signals, summary) = (tmp("bbo.csv"), tmp("signals.jsonl"), tmp("summary.json"));
    spec.outputs.bbo_csv = Some(csv.clone());
    // Signal records are written for ITCH runs; on other venues the summary counts them.
    let signal_file = format == Format::Itch;
    if signal_file {
        spec.outputs.signals = Some(signals.clone());
    }
    spec.outputs.summary_json = Some(summary.clone());
    spec.outputs.sinks = vec![format!("kafka://{brokers}/{prefix}")];
    spec.strategy = Some(StrategySpec {
        name: strategy.into(),
        config: None,
    });
    if exec {
        let mut cfg = ticklane_replay::backtest::ExecConfig::parse_for(None, true).unwrap();
        cfg.queue.model = "conservative".into();
        spec.exec = Some(cfg);
    }
    let stats = run_spec(&spec);
    let s = stats[0];

    let topic = |t: &str| consume(&brokers, &format!("{prefix}.{t}"));
    let got: BTreeMap<&str, Vec<Got>> = TOPICS.iter().map(|t| (*t, topic(t))).collect();
    let total: usize = got.values().map(Vec::len).sum();
    assert_eq!(
        (s.queued, s.sent, s.acked, s.dropped, s.errors),
        (total as u64, total as u64, total as u64, 0, 0),
        "the sink's counts against what the consumer read"
    );
    for (t, recs) in &got {
        for r in recs {
            assert_eq!(r.schema.as_deref(), Some(&b"1"[..]), "{t}: schema header");
            // The key is the symbol, or `#` and the instrument index without one (ITCH's
            // market-wide statuses).
            let key = match symbol_of(&r.value) {
                s if s.is_empty() => {
                    format!("#{}", u32::from_le_bytes(r.value[4..8].try_into().unwrap()))
                }
                s => s,
            };
            assert_eq!(r.key, key.into_bytes(), "{t}: key");
        }
    }

    // BBO: exactly the CSV's rows, in order per instrument.
    let expected = csv_rows(&csv);
    assert!(
        expected.len() > 100,
        "too few BBO changes: {}",
        expected.len()
    );
    let sym = |row: &str| row.split(',').nth(1).unwrap().to_owned();
    let want = by_symbol(expected.iter().map(|r| (sym(r), r.clone())));
    let have = by_symbol(got["bbo"].iter().map(|g| {
        let r = bbo_row(&g.value);
        (sym(&r), r)
    }));
    assert_eq!(
        have.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (k, w) in &want {
        let h = &have[k];
        assert_eq!(h.len(), w.len(), "{k}: BBO records");
        if let Some(i) = (0..w.len()).find(|&i| h[i] != w[i]) {
            panic!("{k}: BBO record {i}: {} != CSV {}", h[i], w[i]);
        }
    }

    let sum = summary_json(&summary);
    let n_signals = sum["signals"].as_u64().unwrap();
    assert!(n_signals > 0, "the strategy gave no signals");
    assert_eq!(got["signal"].len() as u64, n_signals, "signal records");
    if signal_file {
        signals_match(&signals, &got["signal"]);
    }

    // Trades and fills: the summary's counts, each instrument's in input order.
    let trades = got["trade"].len() as u64;

    assert!(trades > 0);
    let have = by_symbol(got["trade"].iter().map(|g| {
        let b = &g.value;
        (
            symbol_of(b),
            (
                u64_at(b, 8),
                time_of(b),
                u64_at(b, 64) as i64,
                u64_at(b, 72),
            ),
        )
    }));
    assert_eq!(have, recorded_trades(format, input), "trades");
    if let Some(fills) = sum["fills"].as_u64() {
        let n = got["fill"].iter().filter(|g| g.value[2] == 5).count() as u64;
        assert_eq!(n, fills, "fill records");
    }
    for t in ["trade", "signal", "fill", "status"] {
        let per = by_symbol(
            got[t]
                .iter()
                .map(|g| (symbol_of(&g.value), u64_at(&g.value, 8))),
        );
        for (k, seqs) in per {
            assert!(
                seqs.windows(2).all(|w| w[0] <= w[1]),
                "{t} {k}: not in input order"
            );
        }
    }
}

/// Every trade of a replay of `input`, per symbol in order, as a plain sink on the output
/// stream sees it: (seq, ts, px, qty).
fn recorded_trades(format: Format, input: &Path) -> BTreeMap<String, Vec<Trade>> {
    #[derive(Clone, Default)]
    struct Trades(Arc<Mutex<Vec<(String, Trade)>>>);
    impl Sink for Trades {
        fn on_output(&mut self, o: &Output, symbol: &str) -> std::io::Result<()> {
            if let OutputKind::Trade { px, qty, .. } = o.kind {
                self.0
                    .lock()
                    .unwrap()
                    .push((symbol.into(), (o.seq, o.ts.0, px.0, qty.0)));
            }
            Ok(())
        }
        fn finish(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let t = Trades::default();
    let reader = ticklane_replay::run::input::open(input).unwrap().reader;
    match format {
        Format::Itch => {
            let opts = ItchReplayOptions {
                sinks: vec![Box::new(t.clone())],
                ..Default::default()
            };
            ticklane_replay::replay_itch(FrameReader::new(reader), opts).unwrap();
        }
        _ => {
            ticklane_replay::stages::l2::replay_l2(
                ticklane_replay::venue::VenueFormat::Binance,
                std::io::BufReader::new(reader),
                ticklane_replay::stages::l2::CryptoReplayOptions {
                    sinks: vec![Box::new(t.clone())],
                    ..Default::default()
                },
            )
            .unwrap();
        }
    }
    let v = std::mem::take(&mut *t.0.lock().unwrap());
    by_symbol(v)
}

/// The signal records read back are exactly the `--signals` file's, in order per instrument.
fn signals_match(path: &Path, got: &[Got]) {
    let want: Vec<_> = signal_lines(path);
    assert!(!want.is_empty(), "the strategy gave no signals");
    let want = by_symbol(
        want.into_iter()
            .map(|(ts, s, k, d, v)| (s, (ts, k, d, v.to_bits()))),
    );
    let have = by_symbol(got.iter().map(|g| {
        let (ts, s, k, d, v) = signal_of(&g.value);
        (s, (ts, k.to_owned(), d.to_owned(), v.to_bits()))
    }));
    assert_eq!(have, want, "signals");
}

#[test]
fn itch_sample_every_topic_matches_the_bbo_csv_and_signals() {
    replay_matches_consumer(
        Format::Itch,
        &itch_sample(),
        "obi_taker",
        false,
        None,
        "itch",
    );
}

#[test]
fn itch_sample_threaded_every_topic_matches_the_bbo_csv_and_signals() {
    replay_matches_consumer(
        Format::Itch,
        &itch_sample(),
        "obi_taker",
        false,
        Some(2),
        "itch-threads",
    );
}

#[test]
fn binance_capture_every_topic_matches_the_bbo_csv_and_signals() {
    replay_matches_consumer(
        Format::Binance,
        &binance_capture(),
        "obi_taker",
        true,
        None,
        "binance",
    );
}

/// The JSON encoding: the same BBO changes, prices written as the CSV writes them.
#[test]
fn json_records_carry_the_csv_values() {
    let prefix = unique("json");
    let brokers = broker();
    let mut spec = RunSpec::for_file(Format::Binance, binance_capture());
    let csv = tmp("bbo-json.csv");
    spec.outputs.bbo_csv = Some(csv.clone());
    spec.outputs.sinks = vec![format!("kafka://{brokers}/{prefix}?format=json")];
    run_spec(&spec);
    let got = consume(&brokers, &format!("{prefix}.bbo"));
    let want = csv_rows(&csv);
    assert_eq!(got.len(), want.len());
    // One instrument: one partition, so the whole topic is in order.
    let field = |json: &str, k: &str| -> String {
        let at = json.find(&format!("\"{k}\":")).unwrap() + k.len() + 3;
        let v = &json[at..];
        let v = &v[..v.find([',', '}']).unwrap()];
        if v == "null" {
            String::new()
        } else {
            v.trim_matches('"').to_owned()
        }
    };
    for (g, w) in got.iter().zip(&want) {
        let j = std::str::from_utf8(&g.value).unwrap();
        serde_json::from_str::<serde_json::Value>(j).unwrap();
        // A Binance record's time is its receive time (the CSV's first column).
        assert_eq!(field(j, "ts_exch_ns"), "0");
        let row = [
            "ts_recv_ns",
            "symbol",
            "bid_px",
            "bid_qty",
            "ask_px",
            "ask_qty",
        ]
        .map(|k| field(j, k))
        .join(",");
        // The CSV gives sizes in 1e-8 units; JSON in the asset's units.
        let w: Vec<&str> = w.split(',').collect();
        let r: Vec<String> = row.split(',').map(str::to_owned).collect();
        assert_eq!(
            (&r[0], &r[1], &r[2], &r[4]),
            (
                &w[0].to_owned(),
                &w[1].to_owned(),
                &w[2].to_owned(),
                &w[4].to_owned()
            ),
            "{j}"
        );
        for (rq, wq) in [(&r[3], w[3]), (&r[5], w[5])] {
            if wq.is_empty() {
                assert!(rq.is_empty());
            } else {
                assert_eq!(rq.replace('.', "").trim_start_matches('0'), wq, "{j}");
            }
        }
    }
}

/// Without a broker at the address, the run fails at once, saying so.
#[test]
fn no_broker_fails_the_run_with_a_clear_message() {
    let mut spec = RunSpec::for_file(Format::Itch, itch_sample());
    spec.outputs.sinks = vec!["kafka://127.0.0.1:9/x".into()];
    let t = Instant::now();
    let e = run::run(&spec, &Registry::builtins(), RunHooks::default())
        .err()
        .expect("a run without a broker fails");
    assert!(e.to_string().contains("no broker answered"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(60));
}

// --- Backpressure: a broker of the test's own, stalled with SIGSTOP. ---

struct OwnBroker {
    child: Child,
    addr: String,
}

impl OwnBroker {
    fn start() -> OwnBroker {
        let bin = std::env::var("TICKLANE_TANSU")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                let out = Command::new(repo().join("scripts/kafka-broker.sh"))
                    .arg("path")
                    .output()
                    .unwrap();
                assert!(
                    out.status.success(),
                    "no broker binary for the backpressure tests: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
            });
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(&bin)
            .args([
                "broker",
                "--listener-url",
                &format!("tcp://{addr}"),
                "--advertised-listener-url",
                &format!("tcp://{addr}"),
                "--storage-engine",
                "memory://tansu/",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "{} did not answer on {addr}",
                bin.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        OwnBroker { child, addr }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig}");
    }
}

impl Drop for OwnBroker {
    fn drop(&mut self) {
        self.signal("-CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Counts what reaches the sinks and when the replay loop ended (its `finish`).
struct Probe {
    inner: Box<dyn Sink>,
    published: Arc<AtomicU64>,
    last_bbo: Arc<Mutex<LastBbo>>,
    loop_done: Arc<Mutex<Option<Instant>>>,
}

impl Sink for Probe {
    fn on_output(&mut self, o: &Output, symbol: &str) -> std::io::Result<()> {
        match o.kind {
            OutputKind::Bbo(top) => {
                self.last_bbo.lock().unwrap().insert(symbol.into(), top);
                self.published.fetch_add(1, Ordering::Relaxed);
            }
            OutputKind::Instrument(_) | OutputKind::Symbol(_) | OutputKind::Watermark => {}
            _ => {
                self.published.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.inner.on_output(o, symbol)
    }

    fn finish(&mut self) -> std::io::Result<()> {
        *self.loop_done.lock().unwrap() = Some(Instant::now());
        self.inner.finish()
    }
}

struct Stalled {
    stats: StatsSnapshot,
    published: u64,
    last_bbo: LastBbo,
    /// The replay loop ended while the broker was still stopped.
    loop_ended_while_stalled: bool,
    /// The run took at least the stall.
    waited: bool,
    broker: OwnBroker,
    prefix: String,
}

/// Replays the ITCH sample (with a strategy) into a sink with a tiny ring and client queue
/// while the broker is stopped for `stall`; it is resumed from another thread.
fn stalled_run(policy: &str, stall: Duration) -> Stalled {
    let broker = OwnBroker::start();
    let prefix = unique(policy);
    let url = format!(
        "kafka://{}/{prefix}?policy={policy}&ring=16&queue=1&linger_ms=0&timeout_ms=120000",
        broker.addr
    );
    let stats = Arc::new(SinkStats::default());
    let source = Source {
        venue: Venue::Itch,
        px_exp: -4,
        qty_exp: 0,
    };
    // Opened (and its topics made) while the broker runs; then the broker stalls.
    let sink = ticklane_replay::sink::open(&url, source, "obi_taker", stats.clone()).unwrap();
    let probe = Probe {
        inner: Box::new(sink),
        published: Arc::default(),
        last_bbo: Arc::default(),
        loop_done: Arc::default(),
    };
    let (published, last_bbo, loop_done) = (
        probe.published.clone(),
        probe.last_bbo.clone(),
        probe.loop_done.clone(),
    );
    broker.signal("-STOP");
    let stopped_at = Instant::now();
    let pid = broker.child.id().to_string();
    let resumer = std::thread::spawn(move || {
        std::thread::sleep(stall);
        let at = Instant::now();
        Command::new("kill").args(["-CONT", &pid]).status().unwrap();
        at
    });
    let bytes = std::fs::read(itch_sample()).unwrap();
    let strategy = Registry::builtins().build("obi_taker", None).unwrap();
    let opts = ItchReplayOptions {
        sinks: vec![Box::new(probe)],
        ..Default::default()
    };
    let r = replay_itch_with(FrameReader::new(&bytes[..]), opts, strategy);
    let resumed_at = resumer.join().unwrap();
    r.unwrap_or_else(|e| panic!("policy {policy}: the run failed: {e}"));
    let done = loop_done.lock().unwrap().expect("finish was called");
    let last_bbo = std::mem::take(&mut *last_bbo.lock().unwrap());
    Stalled {
        stats: stats.snapshot(),
        published: published.load(Ordering::Relaxed),
        last_bbo,
        loop_ended_while_stalled: done < resumed_at,
        waited: done.duration_since(stopped_at) >= stall.mul_f64(0.9),
        broker,
        prefix,
    }
}

#[test]
fn a_stalled_broker_with_drop_loses_only_counted_records_and_the_loop_keeps_going() {
    let r = stalled_run("drop", Duration::from_secs(10));
    let s = r.stats;
    assert!(
        r.loop_ended_while_stalled,
        "the replay waited for the broker: {s}"
    );
    assert!(s.dropped > 0, "nothing was dropped: {s}");
    assert_eq!(s.queued + s.dropped, r.published, "{s}");
    assert_eq!((s.sent, s.acked, s.errors), (s.queued, s.queued, 0), "{s}");
    let read: usize = TOPICS
        .iter()
        .map(|t| consume(&r.broker.addr, &format!("{}.{t}", r.prefix)).len())
        .sum();
    assert_eq!(
        read as u64, s.acked,
        "the consumer read every record not dropped"
    );
}

#[test]
fn a_stalled_broker_with_block_loses_nothing() {
    let r = stalled_run("block", Duration::from_secs(4));
    let s = r.stats;
    assert!(r.waited, "the replay did not wait for the broker: {s}");
    assert_eq!((s.dropped, s.conflated, s.errors), (0, 0, 0), "{s}");
    assert_eq!((s.queued, s.acked), (r.published, r.published), "{s}");
    let read: usize = TOPICS
        .iter()
        .map(|t| consume(&r.broker.addr, &format!("{}.{t}", r.prefix)).len())
        .sum();
    assert_eq!(read as u64, r.published);
}

#[test]
fn a_stalled_broker_with_conflate_delivers_the_latest_bbo_per_instrument() {
    let r = stalled_run("conflate", Duration::from_secs(4));
    let s = r.stats;
    assert!(s.conflated > 0, "nothing was conflated: {s}");
    assert_eq!((s.dropped, s.errors), (0, 0), "{s}");
    assert_eq!(s.queued + s.conflated, r.published, "{s}");
    assert_eq!(s.acked, s.queued, "{s}");
    let bbo = consume(&r.broker.addr, &format!("{}.bbo", r.prefix));
    let mut last = LastBbo::new();
    for g in &bbo {
        let b = &g.value;
        let side = |at| (u64_at(b, at) as i64, u64_at(b, at + 8));
        last.insert(symbol_of(b), [side(64), side(80)]);
    }
    assert_eq!(last, r.last_bbo, "the latest BBO per instrument");
    // Events are never conflated: every trade arrived.
    let trades = consume(&r.broker.addr, &format!("{}.trade", r.prefix));
    assert!(!trades.is_empty());
}
