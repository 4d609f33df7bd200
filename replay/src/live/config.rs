//! The `ticklane live` configuration file (TOML). Every table rejects keys it does not know, so
//! a typo is an error naming the key, the file and the line instead of a default silently used.
//! `data/live-example.toml` documents every key.
//!
//! Sources are a list of tables tagged by `kind`: `itch` (multicast, `data/live-example.toml`)
//! or a websocket venue, `binance`, `binance-futures` or `coinbase`, whose table holds the live
//! crypto runner's keys ([`WsSourceConfig`], `data/live-binance.toml` and
//! `data/live-coinbase.toml` document them).

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};

use crate::live::session::{WsSourceConfig, WsVenue};
use crate::stages::pipeline::PipelineConfig;
use serde::{Deserialize, Deserializer};
use ticklane_engine::config::{Range, RangeError};
use ticklane_feeds::arbiter::ArbiterConfig;
use ticklane_feeds::journal_file::{Fsync, OnExists, SegmentPolicy};

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveConfig {
    /// Feeds to receive (`[[source]]`).
    #[serde(rename = "source")]
    pub sources: Vec<SourceConfig>,
    /// How the released messages are processed.
    #[serde(default)]
    pub pipeline: PipelineSection,
    /// Strategy run on the books.
    #[serde(default)]
    pub strategy: Option<StrategySection>,
    /// Outputs besides the summary.
    #[serde(default)]
    pub sinks: SinksSection,
    /// The capture journal.
    #[serde(default)]
    pub journal: Option<JournalSection>,
    /// The Prometheus endpoint.
    #[serde(default)]
    pub metrics: MetricsSection,
    /// When to stop besides SIGINT/SIGTERM.
    #[serde(default)]
    pub run: RunSection,
    /// Publishing sinks (`[[sink]]`, ITCH sources; docs/kafka.md).
    #[serde(default, rename = "sink")]
    pub sink: Vec<SinkEntry>,
}

/// One feed. Tagged by `kind`.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceConfig {
    /// NASDAQ TotalView-ITCH 5.0 over MoldUDP64 (A/B multicast lines, retransmission server).
    Itch(ItchSource),
    /// Binance spot over a websocket, REST depth snapshots.
    #[serde(deserialize_with = "ws_table::binance")]
    Binance(WsSource),
    /// Binance USD-M futures over a websocket, REST depth snapshots.
    #[serde(
        rename = "binance-futures",
        alias = "binance_futures",
        deserialize_with = "ws_table::binance_futures"
    )]
    BinanceFutures(WsSource),
    /// Coinbase Exchange over a websocket.
    #[serde(deserialize_with = "ws_table::coinbase")]
    Coinbase(WsSource),
}

/// A websocket source: the runner's keys (the venue is the `kind`) and a name.
#[derive(Debug)]
pub struct WsSource {
    /// A name for the summary and metric labels (default: the venue's name).
    pub name: String,
    /// What the runner is given.
    pub cfg: WsSourceConfig,
}

/// A websocket `[[source]]` table read as the runner's [`WsSourceConfig`] with `venue` set from
/// `kind`, so the runner's own key checks (unknown keys are errors) apply unchanged.
mod ws_table {
    use super::*;
    use serde::de::Error;

    fn parse<'de, D: Deserializer<'de>>(venue: WsVenue, d: D) -> Result<WsSource, D::Error> {
        let mut t = toml::Table::deserialize(d)?;
        let name = match t.remove("name") {
            None => venue.name().to_owned(),
            Some(toml::Value::String(s)) => s,
            Some(v) => {
                return Err(D::Error::custom(format!(
                    "invalid type for `name`: {}, expected a string",
                    v.type_str()
                )))
            }
        };
        if t.contains_key("venue") {
            return Err(D::Error::custom(
                "unknown field `venue`: a websocket source's venue is its `kind`",
            ));
        }
        t.insert("venue".into(), toml::Value::String(venue.name().into()));
        let cfg = toml::Value::Table(t)
            .try_into::<WsSourceConfig>()
            // The list of keys the runner knows names `venue`, which here is the kind.
            .map_err(|e| D::Error::custom(e.message().replace("`venue`, ", "`name`, ")))?;
        Ok(WsSource { name, cfg })
    }

    pub(super) fn binance<'de, D: Deserializer<'de>>(d: D) -> Result<WsSource, D::Error> {
        parse(WsVenue::Binance, d)
    }
    pub(super) fn binance_futures<'de, D: Deserializer<'de>>(d: D) -> Result<WsSource, D::Error> {
        parse(WsVenue::BinanceFutures, d)
    }
    pub(super) fn coinbase<'de, D: Deserializer<'de>>(d: D) -> Result<WsSource, D::Error> {
        parse(WsVenue::Coinbase, d)
    }
}

/// How datagrams are read from the sockets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecvBackend {
    /// io_uring multishot receive when the kernel supports it (probed at start), else recvmmsg.
    #[default]
    Auto,
    /// io_uring multishot receive into a provided buffer ring; an error if unsupported.
    IoUring,
    /// recvmmsg(2) batches with SO_TIMESTAMPNS kernel timestamps.
    Recvmmsg,
}

/// An ITCH over MoldUDP64 source.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItchSource {
    /// A name for the summary and metric labels.
    #[serde(default = "default_source_name")]
    pub name: String,
    /// Line A: multicast group and port.
    #[serde(deserialize_with = "addr::parse")]
    pub group: SocketAddrV4,
    /// Line B: group and port (same sequence space as A).
    #[serde(default, deserialize_with = "addr::parse_opt")]
    pub line_b: Option<SocketAddrV4>,
    /// Local interface address the groups are joined on.
    #[serde(default = "default_interface", deserialize_with = "addr::parse")]
    pub interface: Ipv4Addr,
    /// Retransmission request server (MoldUDP64 request packets). None: gaps are waited for,
    /// then given up.
    #[serde(default, deserialize_with = "addr::parse_opt")]
    pub request_server: Option<SocketAddr>,
    /// Expected MoldUDP64 session id (10 characters); packets of other sessions are counted and
    /// ignored. None: the first session seen.
    #[serde(default)]
    pub session: Option<String>,
    /// Receive backend.
    #[serde(default)]
    pub recv: RecvBackend,
    /// SO_RCVBUF, bytes (the kernel caps it at net.core.rmem_max) ([`Self::RECV_BUFFER`]).
    #[serde(default = "default_recv_buffer")]
    pub recv_buffer: usize,
    /// Largest datagram accepted, bytes (receive buffer slot size) ([`Self::MAX_DATAGRAM`]).
    #[serde(default = "default_max_datagram")]
    pub max_datagram: usize,
    /// Datagrams per recvmmsg call, and buffers in the io_uring buffer ring; a power of two
    /// ([`Self::BATCH`]).
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Gap recovery.
    #[serde(default)]
    pub arbiter: ArbiterSection,
}

impl ItchSource {
    /// Valid `recv_buffer`: 4 KiB to 1 GiB of kernel memory per socket.
    pub const RECV_BUFFER: Range<usize> = Range::new(4096, 1 << 30, "SO_RCVBUF, bytes");
    /// Valid `max_datagram` (a UDP datagram is at most 64 KiB).
    pub const MAX_DATAGRAM: Range<usize> = Range::new(64, 65_536, "largest datagram, bytes");
    /// Valid `batch`: the receive buffers are `batch` x `max_datagram` bytes, 256 MiB at most.
    pub const BATCH: Range<usize> = Range::new(1, 4096, "datagrams per receive call");
    /// Valid ports of the request server.
    pub const PORT: Range<u16> = Range::new(1, u16::MAX, "UDP port");
}

/// `[source.arbiter]`: gap recovery timing (see `ticklane_feeds::arbiter`). The ranges are
/// [`ArbiterConfig`]'s, in the units written here.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArbiterSection {
    /// Messages the reorder window holds.
    pub window: usize,
    /// Grace before the first request for a gap, ms.
    pub request_delay_ms: f64,
    /// First retransmission timeout, ms (doubles per retry).
    pub request_timeout_ms: f64,
    /// Cap on the backed-off timeout, ms.
    pub max_timeout_ms: f64,
    /// Requests for one gap before it is given up.
    pub max_attempts: u32,
    /// Most messages asked for in one request.
    pub max_request: u16,
}

impl Default for ArbiterSection {
    fn default() -> Self {
        let d = ArbiterConfig::default();
        ArbiterSection {
            window: d.window,
            request_delay_ms: d.request_delay_ns as f64 / 1e6,
            request_timeout_ms: d.request_timeout_ns as f64 / 1e6,
            max_timeout_ms: d.max_timeout_ns as f64 / 1e6,
            max_attempts: d.max_attempts,
            max_request: d.max_request,
        }
    }
}

/// `range` (ns) in ms, meaning `what`.
const fn ms(range: Range<u64>, what: &'static str) -> Range<f64> {
    Range::new(range.min as f64 / 1e6, range.max as f64 / 1e6, what)
}

impl ArbiterSection {
    /// Valid `request_delay_ms`: 0..=10000.
    pub const REQUEST_DELAY_MS: Range<f64> = ms(
        ArbiterConfig::REQUEST_DELAY_NS,
        "grace before the first request for a gap, ms",
    );
    /// Valid `request_timeout_ms`: 0.1..=60000.
    pub const REQUEST_TIMEOUT_MS: Range<f64> = ms(
        ArbiterConfig::REQUEST_TIMEOUT_NS,
        "first retransmission timeout, ms",
    );
    /// Valid `max_timeout_ms`: 0.1..=300000.
    pub const MAX_TIMEOUT_MS: Range<f64> = ms(
        ArbiterConfig::MAX_TIMEOUT_NS,
        "cap on the backed-off timeout, ms",
    );

    /// Checks every key against its range.
    fn validate(&self) -> Result<(), RangeError> {
        ArbiterConfig::WINDOW.check("[source.arbiter] window", self.window)?;
        Self::REQUEST_DELAY_MS.check("[source.arbiter] request_delay_ms", self.request_delay_ms)?;
        Self::REQUEST_TIMEOUT_MS.check(
            "[source.arbiter] request_timeout_ms",
            self.request_timeout_ms,
        )?;
        Self::MAX_TIMEOUT_MS.check("[source.arbiter] max_timeout_ms", self.max_timeout_ms)?;
        ArbiterConfig::MAX_ATTEMPTS.check("[source.arbiter] max_attempts", self.max_attempts)?;
        ArbiterConfig::MAX_REQUEST.check("[source.arbiter] max_request", self.max_request)?;
        // The same ranges in ns (rounding cannot take a value out: the bounds are whole ns).
        self.to_config().validate()
    }

    /// The arbiter's configuration, in its units (ns).
    pub fn to_config(&self) -> ArbiterConfig {
        let ns = |ms: f64| (ms.max(0.0) * 1e6).round() as u64;
        ArbiterConfig {
            window: self.window,
            request_delay_ns: ns(self.request_delay_ms),
            request_timeout_ns: ns(self.request_timeout_ms),
            max_timeout_ns: ns(self.max_timeout_ms),
            max_attempts: self.max_attempts,
            max_request: self.max_request,
        }
    }
}

/// Processing of the released messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineMode {
    /// Decode, book, strategy and outputs on the receive thread (the reference).
    #[default]
    Inline,
    /// The replay's threaded pipeline (decode, book shards, merge on their own threads, joined
    /// by SPSC rings) fed from the receive thread through a byte ring.
    Threads,
}

/// `[pipeline]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineSection {
    /// inline or threads.
    pub mode: PipelineMode,
    /// Core the receive thread is pinned to (none: unpinned).
    pub recv_core: Option<usize>,
    /// threads: book shards (instruments split by locate modulo N) ([`PipelineConfig::SHARDS`]).
    pub shards: Option<u16>,
    /// threads: cores for decode, shard 0..N-1, merge (as `replay --cores`), each and
    /// `recv_core` in [`PipelineConfig::CORE`].
    pub cores: Vec<usize>,
    /// threads: how stages wait on rings: spin, yield or park.
    pub wait: Option<String>,
}

impl PipelineSection {
    /// Checks the keys' ranges.
    fn validate(&self) -> Result<(), RangeError> {
        PipelineConfig::CORE.check_opt("[pipeline] recv_core", self.recv_core)?;
        PipelineConfig::SHARDS.check_opt("[pipeline] shards", self.shards)?;
        for &c in &self.cores {
            PipelineConfig::CORE.check("[pipeline] cores", c)?;
        }
        Ok(())
    }
}

/// `[strategy]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategySection {
    /// A built-in (see `ticklane strategies`).
    pub name: String,
    /// A strategy config file, as `replay --strategy-config` (relative to this file).
    #[serde(default)]
    pub config: Option<PathBuf>,
    /// The same keys inline (instead of `config`).
    #[serde(default)]
    pub params: Option<toml::Table>,
    /// Websocket sources: the execution simulator's configuration the strategy paper-trades
    /// against, as `replay --exec-config` (relative to this file; default: the built-in one).
    #[serde(default)]
    pub exec_config: Option<PathBuf>,
    /// Websocket sources: the simulator's queue model, `conservative` or `probabilistic` (the
    /// books are price levels; `fifo` needs order-by-order data), as `replay --queue`.
    /// Overrides `exec_config`'s `queue.model`; one of the two must name an L2 model.
    #[serde(default)]
    pub queue: Option<String>,
}

/// `[sinks]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SinksSection {
    /// BBO changes as CSV (as `replay --bbo-csv`), relative to this file.
    pub bbo_csv: Option<PathBuf>,
    /// The end-of-run summary as JSON (as `replay --summary-json`; a websocket source's also
    /// holds the final books' top levels), relative to this file.
    pub summary_json: Option<PathBuf>,
}

/// `[journal]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalSection {
    /// The journal's first segment, relative to this file; later segments are `PATH.1`,
    /// `PATH.2`, ... (a restart or a roll adds one; none is ever truncated).
    pub path: PathBuf,
    /// When records are forced to stable storage: `"never"`, `"every_batch"` or
    /// `{ interval_ms = N }` ([`Self::FSYNC_INTERVAL_MS`]). Every record reaches the kernel
    /// before its message is released whatever this says.
    #[serde(default = "default_fsync", deserialize_with = "fsync::parse")]
    pub fsync: Fsync,
    /// Roll to a new segment once one holds this many bytes ([`Self::SEGMENT_BYTES`]).
    #[serde(default = "default_segment_bytes")]
    pub segment_bytes: u64,
    /// Roll to a new segment once one is this old, seconds (0: never by age;
    /// [`Self::SEGMENT_SECS`]).
    #[serde(default)]
    pub segment_secs: u64,
    /// When the path exists: `"append"` (a new segment after the last) or `"refuse"`.
    #[serde(
        default = "default_on_exists",
        deserialize_with = "fsync::parse_on_exists"
    )]
    pub on_exists: OnExists,
    /// No longer used (each receive batch is written before release); refused with a pointer
    /// to `fsync`.
    #[serde(default)]
    pub flush_ms: Option<u64>,
}

impl JournalSection {
    /// Valid `fsync = { interval_ms = N }`.
    pub const FSYNC_INTERVAL_MS: Range<u64> = Range::new(1, 3_600_000, "fsync interval, ms");
    /// Valid `segment_bytes`: 64 KiB to 1 TiB.
    pub const SEGMENT_BYTES: Range<u64> = Range::new(1 << 16, 1 << 40, "segment size, bytes");
    /// Valid `segment_secs`: up to a week.
    pub const SEGMENT_SECS: Range<u64> = Range::new(0, 7 * 86_400, "segment age, s");

    /// The segment writer's policy.
    pub fn policy(&self) -> SegmentPolicy {
        SegmentPolicy {
            segment_bytes: self.segment_bytes,
            segment_ns: self.segment_secs.saturating_mul(1_000_000_000),
            fsync: self.fsync,
            stage_bytes: 4 << 20,
        }
    }
}

fn default_fsync() -> Fsync {
    Fsync::IntervalMs(1000)
}

fn default_segment_bytes() -> u64 {
    1 << 30
}

fn default_on_exists() -> OnExists {
    OnExists::Append
}

/// `fsync = "never" | "every_batch" | { interval_ms = N }` and `on_exists`.
mod fsync {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer};
    use ticklane_feeds::journal_file::{Fsync, OnExists};

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Interval {
        interval_ms: u64,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Shape {
        Name(String),
        Interval(Interval),
    }

    pub(super) fn parse<'de, D: Deserializer<'de>>(d: D) -> Result<Fsync, D::Error> {
        let bad = || {
            D::Error::custom("fsync: expected \"never\", \"every_batch\" or { interval_ms = N }")
        };
        match Shape::deserialize(d).map_err(|_| bad())? {
            Shape::Name(n) if n == "never" => Ok(Fsync::Never),
            Shape::Name(n) if n == "every_batch" => Ok(Fsync::EveryBatch),
            Shape::Name(_) => Err(bad()),
            Shape::Interval(i) => Ok(Fsync::IntervalMs(i.interval_ms)),
        }
    }

    pub(super) fn parse_on_exists<'de, D: Deserializer<'de>>(d: D) -> Result<OnExists, D::Error> {
        match String::deserialize(d)?.as_str() {
            "append" => Ok(OnExists::Append),
            "refuse" => Ok(OnExists::Refuse),
            other => Err(D::Error::custom(format!(
                "on_exists = \"{other}\": expected \"append\" or \"refuse\""
            ))),
        }
    }
}

/// `[metrics]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSection {
    /// Serve `GET /metrics`.
    pub enabled: bool,
    /// Listen address (127.0.0.1 keeps it on this host).
    #[serde(deserialize_with = "addr::parse")]
    pub bind: SocketAddr,
}

impl Default for MetricsSection {
    fn default() -> Self {
        MetricsSection {
            enabled: true,
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 9187)),
        }
    }
}

/// `[run]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunSection {
    /// ITCH: stop once the end of session is received and every gap is recovered or given up
    /// (default true). A websocket feed has no end of session (see `max_reconnect_attempts`).
    stop_at_end: Option<bool>,
    /// ITCH: after that, keep receiving this long (late copies are counted), ms (default 100)
    /// ([`Self::LINGER_MS`]).
    linger_ms: Option<u64>,
    /// Stop after this many seconds whatever happens (none: no limit)
    /// ([`Self::MAX_DURATION_S`]).
    pub max_duration_s: Option<f64>,
}

impl RunSection {
    /// Valid `linger_ms`: up to 10 minutes.
    pub const LINGER_MS: Range<u64> = Range::new(0, 600_000, "receive after the end, ms");
    /// Valid `max_duration_s`: a millisecond to a leap year.
    pub const MAX_DURATION_S: Range<f64> = Range::new(0.001, 31_622_400.0, "run time limit, s");

    /// Checks the keys' ranges.
    fn validate(&self) -> Result<(), RangeError> {
        Self::LINGER_MS.check_opt("[run] linger_ms", self.linger_ms)?;
        Self::MAX_DURATION_S.check_opt("[run] max_duration_s", self.max_duration_s)?;
        Ok(())
    }

    /// `stop_at_end`, default true.
    pub fn stop_at_end(&self) -> bool {
        self.stop_at_end.unwrap_or(true)
    }
    /// `linger_ms`, default 100.
    pub fn linger_ms(&self) -> u64 {
        self.linger_ms.unwrap_or(100)
    }
}

/// Addresses parsed from strings with an error that quotes the value, so the line holding it
/// can be found (see [`locate`]).
mod addr {
    use serde::{Deserialize, Deserializer};

    fn from_str<T: std::str::FromStr, E: serde::de::Error>(s: &str) -> Result<T, E> {
        s.parse().map_err(|_| {
            E::custom(format!(
                "invalid address \"{s}\": expected an IPv4 address, with :port where a port is needed (e.g. 239.255.0.1:31001)"
            ))
        })
    }

    pub(super) fn parse<'de, D: Deserializer<'de>, T: std::str::FromStr>(
        d: D,
    ) -> Result<T, D::Error> {
        from_str(&String::deserialize(d)?)
    }

    pub(super) fn parse_opt<'de, D: Deserializer<'de>, T: std::str::FromStr>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        from_str(&String::deserialize(d)?).map(Some)
    }
}

/// The TOML parser's error, with the line of the offending key or value when the parser could
/// only point at the enclosing `[[source]]` table (tagged tables are read in two steps, which
/// loses the position inside them).
fn locate(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message();
    let start = e.span().map_or(0, |s| s.start);
    // `unknown field `x``, `missing field `x``, or a quoted value of ours.
    let key = msg.split('`').nth(1).filter(|_| msg.contains('`'));
    let value = msg.split('"').nth(1).filter(|_| msg.contains('"'));
    // From the start of the line the parser pointed at.
    let from = text[..start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let mut off = from;
    for line in text[from..].split_inclusive('\n') {
        let t = line.trim();
        let key_hit = key.is_some_and(|k| {
            t.strip_prefix(k)
                .is_some_and(|r| r.trim_start().starts_with('='))
        });
        // A quoted value of ours, or a backticked name that is a value (an unknown `kind`).
        let value_hit = value
            .or(key)
            .is_some_and(|v| t.contains(&format!("\"{v}\"")));
        if key_hit || value_hit {
            let n = text[..off].matches('\n').count() + 1;
            return format!("line {n}: `{t}`: {msg}");
        }
        off += line.len();
    }
    e.to_string().trim_end().to_owned()
}

/// Where `key = ...` is set in `text`: ``line N: `key = value`: `` for an error message (empty
/// when the key is not written, e.g. a missing key).
fn line_of(text: &str, key: &str) -> String {
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with('='))
        {
            return format!("line {}: `{t}`: ", i + 1);
        }
    }
    String::new()
}

fn default_source_name() -> String {
    "itch".into()
}
fn default_interface() -> Ipv4Addr {
    Ipv4Addr::LOCALHOST
}
fn default_recv_buffer() -> usize {
    8 << 20
}
fn default_max_datagram() -> usize {
    9216
}
fn default_batch() -> usize {
    64
}
/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TOML does not parse or does not fit (the message names the key and line).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What is wrong, where.
        message: String,
    },
    /// The values parse but cannot work together.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, where.
        message: String,
    },
}

impl LiveConfig {
    /// Parses TOML text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &str) -> Result<Self, ConfigError> {
        let cfg: LiveConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: locate(text, &e),
        })?;
        cfg.validate(path, text)?;
        Ok(cfg)
    }

    /// Reads and parses the file at `path`; relative paths inside it are resolved against
    /// its directory.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut cfg = Self::parse(&text, &path.display().to_string())?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let rel = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        };
        if let Some(j) = cfg.journal.as_mut() {
            rel(&mut j.path);
        }
        if let Some(p) = cfg.sinks.bbo_csv.as_mut() {
            rel(p);
        }
        if let Some(p) = cfg.sinks.summary_json.as_mut() {
            rel(p);
        }
        if let Some(p) = cfg.strategy.as_mut().and_then(|s| s.config.as_mut()) {
            rel(p);
        }
        if let Some(p) = cfg.strategy.as_mut().and_then(|s| s.exec_config.as_mut()) {
            rel(p);
        }
        // A Parquet sink's directory is relative to the config too.
        for k in &mut cfg.sink {
            if let Some(d) = k.url.strip_prefix("parquet://") {
                let mut p = PathBuf::from(d);
                if !d.is_empty() && p.is_relative() {
                    rel(&mut p);
                    k.url = format!("parquet://{}", p.display());
                }
            }
        }
        Ok(cfg)
    }

    fn validate(&self, path: &str, text: &str) -> Result<(), ConfigError> {
        let bad = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        match self.sources.len() {
            0 => return Err(bad("no [[source]]: name the feed to receive".into())),
            1 => {}
            n => {
                return Err(bad(format!(
                    "{n} [[source]] tables: one daemon receives one feed (run one per feed)"
                )))
            }
        }
        // Every numeric key against its range, the line that sets it named.
        let range = |e: RangeError| {
            let key = e.key.rsplit(' ').next().unwrap_or(e.key);
            bad(format!("{}{e}", line_of(text, key)))
        };
        self.pipeline.validate().map_err(range)?;
        self.run.validate().map_err(range)?;
        if let Some(j) = &self.journal {
            if j.flush_ms.is_some() {
                return Err(bad(format!(
                    "{}[journal] flush_ms is no longer used: every receive batch reaches the kernel before its messages are released; for power loss, set fsync = \"never\" | \"every_batch\" | {{ interval_ms = N }}",
                    line_of(text, "flush_ms")
                )));
            }
            if let Fsync::IntervalMs(ms) = j.fsync {
                JournalSection::FSYNC_INTERVAL_MS
                    .check("[journal] fsync interval_ms", ms)
                    .map_err(range)?;
            }
            JournalSection::SEGMENT_BYTES
                .check("[journal] segment_bytes", j.segment_bytes)
                .map_err(range)?;
            JournalSection::SEGMENT_SECS
                .check("[journal] segment_secs", j.segment_secs)
                .map_err(range)?;
        }
        if let Some(s) = self.itch() {
            ItchSource::RECV_BUFFER
                .check("[[source]] recv_buffer", s.recv_buffer)
                .map_err(range)?;
            ItchSource::MAX_DATAGRAM
                .check("[[source]] max_datagram", s.max_datagram)
                .map_err(range)?;
            ItchSource::BATCH
                .check("[[source]] batch", s.batch)
                .map_err(range)?;
            if let Some(r) = s.request_server {
                ItchSource::PORT
                    .check("[[source]] request_server port", r.port())
                    .map_err(range)?;
            }
            s.arbiter.validate().map_err(range)?;
        }
        if let Some(w) = self.ws_source() {
            return self.validate_ws(w, path, text);
        }
        let Some(s) = self.itch() else {
            return Ok(());
        };
        for (what, a) in std::iter::once(("group", s.group)).chain(s.line_b.map(|b| ("line_b", b)))
        {
            if !a.ip().is_multicast() {
                return Err(bad(format!(
                    "source {what} = \"{a}\": not a multicast group address (224.0.0.0/4)"
                )));
            }
            if a.port() == 0 {
                return Err(bad(format!("source {what} = \"{a}\": port 0")));
            }
        }
        if let Some(sess) = &s.session {
            if sess.len() != 10 || !sess.is_ascii() {
                return Err(bad(format!(
                    "source session = {sess:?}: a MoldUDP64 session id is exactly 10 ASCII characters"
                )));
            }
        }
        if !s.batch.is_power_of_two() {
            return Err(bad(format!(
                "{}[[source]] batch = {}: expected a power of two in {}",
                line_of(text, "batch"),
                s.batch,
                ItchSource::BATCH
            )));
        }
        if let Some(st) = &self.strategy {
            if st.config.is_some() && st.params.is_some() {
                return Err(bad(
                    "[strategy]: give either config (a file) or [strategy.params], not both".into(),
                ));
            }
            for (key, set) in [
                ("exec_config", st.exec_config.is_some()),
                ("queue", st.queue.is_some()),
            ] {
                if set {
                    return Err(bad(format!(
                        "{}[strategy] {key} applies to websocket sources (the strategy \
                         paper-trades against the simulator there); on ITCH the strategy's \
                         signals and orders go to the outputs, nothing is simulated",
                        line_of(text, key)
                    )));
                }
            }
        }
        if let Some(w) = &self.pipeline.wait {
            w.parse::<ticklane_engine::wait::WaitStrategy>()
                .map_err(|e| bad(format!("[pipeline] wait = {w:?}: {e}")))?;
        }
        Ok(())
    }

    /// The websocket source's checks: the runner's own (a bad URL, a missing `rest_url`...),
    /// then the tables that do not apply to a websocket source yet.
    fn validate_ws(&self, w: &WsSource, path: &str, text: &str) -> Result<(), ConfigError> {
        let bad = |message: String| ConfigError::Invalid {
            path: path.to_owned(),
            message,
        };
        if let Err(m) = w.cfg.validate() {
            // The runner's messages start with the key.
            let key = m.split([' ', ':']).next().unwrap_or_default();
            return Err(bad(format!("{}source {m}", line_of(text, key))));
        }
        if let Some(st) = &self.strategy {
            let at = text
                .lines()
                .position(|l| l.trim().starts_with("[strategy"))
                .map_or(String::new(), |i| format!("line {}: ", i + 1));
            if st.config.is_some() && st.params.is_some() {
                return Err(bad(format!(
                    "{at}[strategy]: give either config (a file) or [strategy.params], not both"
                )));
            }
            if st.queue.is_none() && st.exec_config.is_none() {
                return Err(bad(format!(
                    "{at}[strategy]: on a websocket source the strategy paper-trades against \
                     the simulator on L2 books: set queue = \"conservative\" or \
                     \"probabilistic\" (fifo needs order-by-order data), or exec_config = \
                     an exec TOML whose queue.model is one of them"
                )));
            }
            if let Some(q) = &st.queue {
                if q != "conservative" && q != "probabilistic" {
                    return Err(bad(format!(
                        "{}[strategy] queue = {q:?}: on a websocket source's L2 books use \
                         \"conservative\" or \"probabilistic\" (fifo needs order-by-order data)",
                        line_of(text, "queue")
                    )));
                }
            }
        }
        let p = &self.pipeline;
        if p.mode != PipelineMode::Inline
            || p.shards.is_some()
            || !p.cores.is_empty()
            || p.wait.is_some()
        {
            return Err(bad(
                "[pipeline]: mode, shards, cores and wait apply to ITCH sources; a websocket \
                 source runs on one thread (recv_core pins it)"
                    .into(),
            ));
        }
        if self.run.stop_at_end.is_some() || self.run.linger_ms.is_some() {
            return Err(bad(format!(
                "{}[run] stop_at_end and linger_ms apply to ITCH sources (a websocket feed has no \
                 end of session): the run ends on SIGINT/SIGTERM, max_duration_s, or when the \
                 source's max_reconnect_attempts connects in a row failed",
                line_of(
                    text,
                    if self.run.stop_at_end.is_some() {
                        "stop_at_end"
                    } else {
                        "linger_ms"
                    }
                )
            )));
        }
        Ok(())
    }

    /// The ITCH source, if that is the source (validated: there is exactly one source).
    pub fn itch(&self) -> Option<&ItchSource> {
        match &self.sources[0] {
            SourceConfig::Itch(s) => Some(s),
            _ => None,
        }
    }

    /// The websocket source, if that is the source.
    pub fn ws_source(&self) -> Option<&WsSource> {
        match &self.sources[0] {
            SourceConfig::Itch(_) => None,
            SourceConfig::Binance(w)
            | SourceConfig::BinanceFutures(w)
            | SourceConfig::Coinbase(w) => Some(w),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../data/live-example.toml");

    #[test]
    fn the_documented_example_parses_with_every_key() {
        let c = LiveConfig::parse(EXAMPLE, "data/live-example.toml").unwrap();
        let s = c.itch().unwrap();
        assert_eq!(s.group, "239.255.0.1:31001".parse().unwrap());
        assert_eq!(s.line_b, Some("239.255.0.1:31002".parse().unwrap()));
        assert_eq!(s.request_server, Some("127.0.0.1:31009".parse().unwrap()));
        assert_eq!(s.session.as_deref(), Some("TICKLANE01"));
        assert_eq!(s.recv, RecvBackend::Auto);
        assert_eq!(s.arbiter.to_config().request_delay_ns, 2_000_000);
        assert_eq!(c.pipeline.mode, PipelineMode::Inline);
        let j = c.journal.as_ref().unwrap();
        assert_eq!(j.fsync, Fsync::IntervalMs(1000));
        assert_eq!((j.segment_bytes, j.segment_secs), (1 << 30, 0));
        assert_eq!(j.on_exists, OnExists::Append);
        assert_eq!(
            c.metrics.bind,
            "127.0.0.1:9187".parse::<SocketAddr>().unwrap()
        );
        assert!(c.run.stop_at_end());
        assert_eq!(c.strategy.as_ref().unwrap().name, "obi_taker");
    }

    #[test]
    fn an_unknown_key_is_named_with_its_line() {
        let text = "[[source]]\nkind = \"itch\"\ngroup = \"239.255.0.1:1\"\nrecv_bufer = 5\n";
        let e = LiveConfig::parse(text, "x.toml").unwrap_err().to_string();
        assert!(e.contains("recv_bufer"), "{e}");
        assert!(e.contains("line 4"), "{e}");
        let text = "[[source]]\nkind = \"itch\"\ngroup = \"239.255.0.1:1\"\n[metrics]\nport = 1\n";
        let e = LiveConfig::parse(text, "x.toml").unwrap_err().to_string();
        assert!(e.contains("port") && e.contains("line 5"), "{e}");
        let text = "[[source]]\nkind = \"itch\"\ngroup = \"239.255.0.1:1\"\n\n[source.arbiter]\nwindw = 1\n";
        let e = LiveConfig::parse(text, "x.toml").unwrap_err().to_string();
        assert!(e.contains("windw") && e.contains("line 6"), "{e}");
    }

    #[test]
    fn an_unknown_kind_and_bad_values_are_rejected() {
        let e = LiveConfig::parse("[[source]]\nkind = \"kraken\"\n", "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("kraken") && e.contains("line 2"), "{e}");
        let e = LiveConfig::parse(
            "[[source]]\nkind = \"itch\"\ngroup = \"10.0.0.1:5\"\n",
            "x.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not a multicast group"), "{e}");
        let e = LiveConfig::parse(
            "[[source]]\nkind = \"itch\"\ngroup = \"239.1.1.1\"\n",
            "x.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("line 3") && e.contains("group") && e.contains("239.1.1.1"),
            "{e}"
        );
        // Nothing is simulated on ITCH: the websocket-only strategy keys are refused.
        let itch = "[[source]]\nkind = \"itch\"\ngroup = \"239.1.1.1:5000\"\n[strategy]\nname = \"obi_taker\"\n";
        assert!(LiveConfig::parse(itch, "x.toml").is_ok());
        let e = LiveConfig::parse(&format!("{itch}queue = \"conservative\"\n"), "x.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 6") && e.contains("queue") && e.contains("websocket"),
            "{e}"
        );
    }

    const BINANCE: &str = include_str!("../../../data/live-binance.toml");
    const COINBASE: &str = include_str!("../../../data/live-coinbase.toml");

    fn ws(c: &LiveConfig) -> &WsSource {
        c.ws_source().expect("a websocket source")
    }

    #[test]
    fn the_documented_websocket_examples_parse_with_every_key() {
        let c = LiveConfig::parse(BINANCE, "data/live-binance.toml").unwrap();
        let w = ws(&c);
        assert_eq!(w.name, "binance-btcusdt");
        assert_eq!(w.cfg.venue, WsVenue::Binance);
        assert_eq!(w.cfg.url, "wss://stream.binance.com:9443/ws");
        assert_eq!(w.cfg.symbols, ["BTCUSDT"]);
        assert_eq!(
            w.cfg.channels.as_deref(),
            Some(
                &[
                    "depth@100ms".to_owned(),
                    "trade".into(),
                    "bookTicker".into()
                ][..]
            )
        );
        assert_eq!(w.cfg.rest_url.as_deref(), Some("https://api.binance.com"));
        assert_eq!(
            (
                w.cfg.snapshot_depth,
                w.cfg.snapshot_retry_ms,
                w.cfg.rest_timeout_ms
            ),
            (1000, 1000, 10_000)
        );
        assert_eq!(
            (
                w.cfg.connect_timeout_ms,
                w.cfg.heartbeat_ms,
                w.cfg.silence_timeout_ms
            ),
            (10_000, 15_000, 30_000)
        );
        assert_eq!(
            (
                w.cfg.backoff_initial_ms,
                w.cfg.backoff_max_ms,
                w.cfg.jitter_seed
            ),
            (250, 30_000, 1)
        );
        assert_eq!(w.cfg.max_reconnect_attempts, 0);
        assert!(!w.cfg.accept_unsynced);
        assert_eq!(c.pipeline.recv_core, Some(1));
        assert_eq!(c.sinks.bbo_csv.as_deref(), Some(Path::new("live-bbo.csv")));
        assert_eq!(
            c.sinks.summary_json.as_deref(),
            Some(Path::new("live-summary.json"))
        );
        assert_eq!(c.journal.as_ref().unwrap().fsync, Fsync::IntervalMs(1000));
        assert_eq!(c.run.max_duration_s, Some(3600.0));
        assert!(c.strategy.is_none() && c.itch().is_none());

        let c = LiveConfig::parse(COINBASE, "data/live-coinbase.toml").unwrap();
        let w = ws(&c);
        assert_eq!(
            (w.name.as_str(), w.cfg.venue),
            ("coinbase", WsVenue::Coinbase)
        );
        assert_eq!(w.cfg.symbols, ["BTC-USD", "ETH-USD"]);
        assert_eq!(w.cfg.rest_url, None);
        assert_eq!(
            w.cfg.subscribe_messages().unwrap(),
            [
                r#"{"type":"subscribe","product_ids":["BTC-USD","ETH-USD"],"channels":["level2","matches","ticker"]}"#
            ]
        );
        assert_eq!(c.run.max_duration_s, None);
    }

    #[test]
    fn websocket_kinds_and_their_defaults() {
        for (kind, venue) in [
            ("binance-futures", WsVenue::BinanceFutures),
            ("binance_futures", WsVenue::BinanceFutures),
            ("binance", WsVenue::Binance),
        ] {
            let text = format!(
                "[[source]]\nkind = \"{kind}\"\nurl = \"ws://127.0.0.1:9/ws\"\nsymbols = [\"BTCUSDT\"]\nrest_url = \"http://127.0.0.1:9\"\n"
            );
            let c = LiveConfig::parse(&text, "x.toml").unwrap();
            let w = ws(&c);
            assert_eq!(w.cfg.venue, venue, "{kind}");
            assert_eq!(w.name, venue.name());
            assert_eq!(
                (w.cfg.snapshot_depth, w.cfg.max_reconnect_attempts),
                (1000, 0)
            );
        }
    }

    #[test]
    fn websocket_config_errors_name_the_key_and_line() {
        let head = "[metrics]\nbind = \"127.0.0.1:0\"\n\n[[source]]\nkind = \"binance\"\n";
        let ok = "url = \"ws://127.0.0.1:9/ws\"\nsymbols = [\"BTCUSDT\"]\nrest_url = \"http://127.0.0.1:9\"\n";
        let err = |body: &str| {
            LiveConfig::parse(&format!("{head}{body}"), "x.toml")
                .unwrap_err()
                .to_string()
        };
        // Unknown key: named, with its line (line 9).
        let e = err(&format!("{ok}snapshot_dept = 5\n"));
        assert!(e.contains("snapshot_dept") && e.contains("line 9"), "{e}");
        // The venue is the kind.
        let e = err(&format!("{ok}venue = \"coinbase\"\n"));
        assert!(e.contains("venue") && e.contains("kind"), "{e}");
        // Bad URLs.
        let e = err("url = \"http://127.0.0.1:9/ws\"\nsymbols = [\"BTCUSDT\"]\nrest_url = \"http://127.0.0.1:9\"\n");
        assert!(
            e.contains("line 6")
                && e.contains("url = \"http://127.0.0.1:9/ws\"")
                && e.contains("ws://"),
            "{e}"
        );
        let e = err(
            "url = \"ws://127.0.0.1:9/ws\"\nsymbols = [\"BTCUSDT\"]\nrest_url = \"127.0.0.1:9\"\n",
        );
        assert!(e.contains("line 8") && e.contains("rest_url"), "{e}");
        // Missing keys.
        let e = err("url = \"ws://127.0.0.1:9/ws\"\nsymbols = [\"BTCUSDT\"]\n");
        assert!(e.contains("rest_url") && e.contains("required"), "{e}");
        let e = err("symbols = [\"BTCUSDT\"]\n");
        assert!(e.contains("url"), "{e}");
        // A wrong type.
        let e = err(&format!("{ok}heartbeat_ms = \"fast\"\n"));
        assert!(e.contains("heartbeat_ms") || e.contains("line 9"), "{e}");
        // Tables that do not apply to a websocket source.
        // A strategy needs an L2 queue model.
        let e = err(&format!("{ok}[strategy]\nname = \"obi_taker\"\n"));
        assert!(
            e.contains("[strategy]") && e.contains("line 9") && e.contains("conservative"),
            "{e}"
        );
        let e = err(&format!(
            "{ok}[strategy]\nname = \"obi_taker\"\nqueue = \"fifo\"\n"
        ));
        assert!(
            e.contains("queue = \"fifo\"") && e.contains("line 11") && e.contains("order-by-order"),
            "{e}"
        );
        let c = LiveConfig::parse(
            &format!(
                "{head}{ok}[strategy]\nname = \"obi_taker\"\nqueue = \"probabilistic\"\n\
                 exec_config = \"exec.toml\"\n"
            ),
            "x.toml",
        )
        .unwrap();
        let st = c.strategy.as_ref().unwrap();
        assert_eq!(st.queue.as_deref(), Some("probabilistic"));
        assert_eq!(
            st.exec_config.as_deref(),
            Some(std::path::Path::new("exec.toml"))
        );
        let e = err(&format!("{ok}[run]\nstop_at_end = false\n"));
        assert!(e.contains("stop_at_end") && e.contains("line 10"), "{e}");
        let e = err(&format!("{ok}[pipeline]\nmode = \"threads\"\n"));
        assert!(e.contains("[pipeline]"), "{e}");
        assert!(
            LiveConfig::parse(&format!("{head}{ok}[pipeline]\nrecv_core = 0\n"), "x.toml").is_ok()
        );
    }

    const ITCH: &str = "[[source]]\nkind = \"itch\"\ngroup = \"239.1.1.1:5000\"\n";
    const WS: &str = "[[source]]\nkind = \"binance\"\nurl = \"ws://127.0.0.1:9/ws\"\n\
                      symbols = [\"BTCUSDT\"]\nrest_url = \"http://127.0.0.1:9\"\n";

    /// `(base, keys appended, what the error must say)`: every numeric key of the daemon's
    /// config out of range, the line that sets it named.
    const BAD: &[(&str, &str, &str)] = &[
        // The reorder window: 65,536,536 took 5.3 GB, 2^32 aborted, i64::MAX panicked.
        (ITCH, "[source.arbiter]\nwindow = 65536536\n", "line 5: `window = 65536536`: [source.arbiter] window = 65536536 is out of range 16..=1048576 (messages the reorder window holds)"),
        (ITCH, "[source.arbiter]\nwindow = 4294967296\n", "[source.arbiter] window = 4294967296 is out of range 16..=1048576"),
        (ITCH, "[source.arbiter]\nwindow = 9223372036854775807\n", "[source.arbiter] window = 9223372036854775807 is out of range"),
        (ITCH, "[source.arbiter]\nwindow = 15\n", "[source.arbiter] window = 15 is out of range"),
        (ITCH, "[source.arbiter]\nrequest_delay_ms = -1.0\n", "[source.arbiter] request_delay_ms = -1 is out of range 0..=10000"),
        (ITCH, "[source.arbiter]\nrequest_delay_ms = nan\n", "[source.arbiter] request_delay_ms = nan is out of range"),
        (ITCH, "[source.arbiter]\nrequest_delay_ms = 1e300\n", "[source.arbiter] request_delay_ms = 1e300 is out of range"),
        (ITCH, "[source.arbiter]\nrequest_timeout_ms = 0.0\n", "[source.arbiter] request_timeout_ms = 0 is out of range 0.1..=60000"),
        (ITCH, "[source.arbiter]\nrequest_timeout_ms = inf\n", "[source.arbiter] request_timeout_ms = inf is out of range"),
        (ITCH, "[source.arbiter]\nmax_timeout_ms = 0.01\n", "[source.arbiter] max_timeout_ms = 0.01 is out of range 0.1..=300000"),
        (ITCH, "[source.arbiter]\nmax_timeout_ms = 300001.0\n", "[source.arbiter] max_timeout_ms = 300001 is out of range"),
        (ITCH, "[source.arbiter]\nmax_attempts = 101\n", "[source.arbiter] max_attempts = 101 is out of range 0..=100"),
        (ITCH, "[source.arbiter]\nmax_request = 0\n", "[source.arbiter] max_request = 0 is out of range 1..=65535"),
        (ITCH, "recv_buffer = 100\n", "line 4: `recv_buffer = 100`: [[source]] recv_buffer = 100 is out of range 4096..=1073741824"),
        (ITCH, "recv_buffer = 1099511627776\n", "[[source]] recv_buffer = 1099511627776 is out of range"),
        (ITCH, "max_datagram = 63\n", "[[source]] max_datagram = 63 is out of range 64..=65536"),
        (ITCH, "max_datagram = 65537\n", "[[source]] max_datagram = 65537 is out of range"),
        (ITCH, "batch = 0\n", "[[source]] batch = 0 is out of range 1..=4096"),
        (ITCH, "batch = 8192\n", "[[source]] batch = 8192 is out of range 1..=4096"),
        (ITCH, "batch = 100\n", "[[source]] batch = 100: expected a power of two in 1..=4096"),
        (ITCH, "request_server = \"127.0.0.1:0\"\n", "[[source]] request_server port = 0 is out of range 1..=65535"),
        (ITCH, "[pipeline]\nshards = 0\n", "line 5: `shards = 0`: [pipeline] shards = 0 is out of range 1..=64"),
        (ITCH, "[pipeline]\nshards = 65\n", "[pipeline] shards = 65 is out of range 1..=64"),
        (ITCH, "[pipeline]\nrecv_core = 1024\n", "[pipeline] recv_core = 1024 is out of range 0..=1023"),
        (ITCH, "[pipeline]\ncores = [0, 5000]\n", "[pipeline] cores = 5000 is out of range 0..=1023"),
        (ITCH, "[journal]\npath = \"j\"\nflush_ms = 100\n", "line 6: `flush_ms = 100`: [journal] flush_ms is no longer used"),
        (ITCH, "[journal]\npath = \"j\"\nfsync = { interval_ms = 0 }\n", "[journal] fsync interval_ms = 0 is out of range 1..=3600000"),
        (ITCH, "[journal]\npath = \"j\"\nfsync = \"always\"\n", "fsync: expected \"never\", \"every_batch\" or { interval_ms = N }"),
        (ITCH, "[journal]\npath = \"j\"\nfsync = { every_ms = 5 }\n", "fsync: expected \"never\", \"every_batch\" or { interval_ms = N }"),
        (ITCH, "[journal]\npath = \"j\"\nsegment_bytes = 65535\n", "[journal] segment_bytes = 65535 is out of range 65536..=1099511627776"),
        (ITCH, "[journal]\npath = \"j\"\nsegment_secs = 604801\n", "[journal] segment_secs = 604801 is out of range 0..=604800"),
        (ITCH, "[journal]\npath = \"j\"\non_exists = \"overwrite\"\n", "on_exists = \"overwrite\": expected \"append\" or \"refuse\""),
        (ITCH, "[run]\nlinger_ms = 600001\n", "[run] linger_ms = 600001 is out of range 0..=600000"),
        (ITCH, "[run]\nmax_duration_s = 0.0\n", "[run] max_duration_s = 0 is out of range 0.001..=31622400"),
        (ITCH, "[run]\nmax_duration_s = nan\n", "[run] max_duration_s = nan is out of range"),
        (ITCH, "[run]\nmax_duration_s = 1e300\n", "[run] max_duration_s = 1e300 is out of range"),
        (WS, "[run]\nmax_duration_s = -1.0\n", "[run] max_duration_s = -1 is out of range"),
        (WS, "snapshot_depth = 0\n", "line 6: `snapshot_depth = 0`: source snapshot_depth = 0 is out of range 1..=5000"),
        (WS, "snapshot_depth = 5001\n", "snapshot_depth = 5001 is out of range"),
        (WS, "connect_timeout_ms = 99\n", "connect_timeout_ms = 99 is out of range 100..=300000"),
        (WS, "connect_timeout_ms = 9223372036854775807\n", "connect_timeout_ms = 9223372036854775807 is out"),
        (WS, "heartbeat_ms = 0\n", "heartbeat_ms = 0 is out of range 100..=3600000"),
        (WS, "silence_timeout_ms = 3600001\n", "silence_timeout_ms = 3600001 is out of range 100..=3600000"),
        (WS, "backoff_initial_ms = 0\n", "backoff_initial_ms = 0 is out of range 1..=3600000"),
        (WS, "backoff_max_ms = 9223372036854775807\n", "backoff_max_ms = 9223372036854775807 is out"),
        (WS, "snapshot_retry_ms = 3600001\n", "snapshot_retry_ms = 3600001 is out of range 0..=3600000"),
        (WS, "rest_timeout_ms = 0\n", "rest_timeout_ms = 0 is out of range 100..=300000"),
        (WS, "max_reconnect_attempts = 1000001\n", "max_reconnect_attempts = 1000001 is out of range 0..=1000000"),
        (WS, "[pipeline]\nrecv_core = 4096\n", "[pipeline] recv_core = 4096 is out of range"),
    ];

    #[test]
    fn every_numeric_key_out_of_range_is_an_error_naming_key_value_range_and_line() {
        for (base, keys, want) in BAD {
            let text = format!("{base}{keys}");
            let e = LiveConfig::parse(&text, "x.toml")
                .err()
                .unwrap_or_else(|| panic!("accepted:\n{text}"))
                .to_string();
            assert!(e.starts_with("x.toml: ") && e.contains(want), "{text}\n{e}");
        }
    }

    #[test]
    fn both_ends_of_every_range_are_accepted() {
        let lo = "recv_buffer = 4096\nmax_datagram = 64\nbatch = 1\n\
                  request_server = \"127.0.0.1:1\"\n\
                  [source.arbiter]\nwindow = 16\nrequest_delay_ms = 0.0\n\
                  request_timeout_ms = 0.1\nmax_timeout_ms = 0.1\nmax_attempts = 0\n\
                  max_request = 1\n\
                  [pipeline]\nrecv_core = 0\nshards = 1\ncores = [0]\n\
                  [journal]\npath = \"j\"\nfsync = { interval_ms = 1 }\nsegment_bytes = 65536\n\
                  segment_secs = 0\non_exists = \"refuse\"\n\
                  [run]\nlinger_ms = 0\nmax_duration_s = 0.001\n";
        let hi = "recv_buffer = 1073741824\nmax_datagram = 65536\nbatch = 4096\n\
                  request_server = \"127.0.0.1:65535\"\n\
                  [source.arbiter]\nwindow = 1048576\nrequest_delay_ms = 10000.0\n\
                  request_timeout_ms = 60000.0\nmax_timeout_ms = 300000.0\n\
                  max_attempts = 100\nmax_request = 65535\n\
                  [pipeline]\nrecv_core = 1023\nshards = 64\ncores = [1023]\n\
                  [journal]\npath = \"j\"\nfsync = { interval_ms = 3600000 }\n\
                  segment_bytes = 1099511627776\nsegment_secs = 604800\non_exists = \"append\"\n\
                  [run]\nlinger_ms = 600000\nmax_duration_s = 31622400.0\n";
        for keys in [lo, hi] {
            let c = LiveConfig::parse(&format!("{ITCH}{keys}"), "x.toml").unwrap();
            c.itch().unwrap().arbiter.to_config().validate().unwrap();
        }
        let lo = "snapshot_depth = 1\nconnect_timeout_ms = 100\nheartbeat_ms = 100\n\
                  silence_timeout_ms = 100\nbackoff_initial_ms = 1\nbackoff_max_ms = 1\n\
                  snapshot_retry_ms = 0\nrest_timeout_ms = 100\nmax_reconnect_attempts = 0\n\
                  jitter_seed = 0\n";
        let hi = "snapshot_depth = 5000\nconnect_timeout_ms = 300000\nheartbeat_ms = 3600000\n\
                  silence_timeout_ms = 3600000\nbackoff_initial_ms = 3600000\n\
                  backoff_max_ms = 3600000\nsnapshot_retry_ms = 3600000\n\
                  rest_timeout_ms = 300000\nmax_reconnect_attempts = 1000000\n\
                  jitter_seed = 9223372036854775807\n";
        for keys in [lo, hi] {
            LiveConfig::parse(&format!("{WS}{keys}"), "x.toml").unwrap();
        }
    }
}

/// `[[sink]]`: a sink, as `ticklane replay --sink` (docs/kafka.md, docs/parquet.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkEntry {
    /// `kafka://HOST:PORT/PREFIX[?format=json&policy=drop&...]` or `parquet://DIR[?row_group=N]`
    /// (a relative `DIR` is relative to the config file).
    pub url: String,
}
