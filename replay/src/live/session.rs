//! The live crypto runner: a websocket source (Binance spot or USD-M futures, Coinbase
//! Exchange) read by [`ticklane_feeds::ws::WsClient`] and pushed frame by frame through the
//! same sync machines and book stage the file replays use ([`crate::stages::l2::L2Replay`]), so a live
//! run and a replay of what it received apply identical decode → sync → book → digest code.
//!
//! Resync: when a connection is lost the books are cleared and marked unsynced (a reconnect
//! record goes to the journal). Binance: the new connection's diffs are buffered by the sync
//! state machine, a REST depth snapshot is fetched once a diff has arrived (retried every
//! `snapshot_retry_ms` while the server refuses or the snapshot is older than the buffered
//! diffs), and the snapshot is applied by the documented procedure (drop diffs with
//! `u <= lastUpdateId`, the first applied one must bracket it). A sequence break in the diff
//! stream is handled the same way. Coinbase: the subscribe is sent again on every connect and
//! the venue answers with a fresh `snapshot` of each product.
//!
//! Journal: a `Source` record naming the venue, then every frame as received (`Frame`, `line` =
//! connection number), every REST snapshot body (`Rest`), every lost connection (`Reconnect`),
//! each completed resync (`Resync`, informational) and an `End`. [`replay_ws_journal`] drives
//! a [`WsSession`] with the same records, so it prints the digest the live run printed.
//!
//! Strategy: a [`WsBacktest`] paper-trades on the books through the sync state machines'
//! backtest hooks, exactly as an L2 backtest of a capture; the journal replay given the same
//! strategy and options prints the same digest (signals, orders and fills included).

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ticklane_engine::book::L2Book;
use ticklane_engine::config::{Range, RangeError};
use ticklane_engine::strategy::Strategy;
use ticklane_engine::Side;
use ticklane_feeds::journal::{JournalError, JournalReader, RecordKind, RecordSink, SegmentCounts};
use ticklane_feeds::rest::{depth_url, DepthApi, RestClient};
use ticklane_feeds::ws::{Flow, WallClock, WsClient, WsClientConfig, WsEvent};

use crate::backtest::l2::L2BacktestError;
use crate::backtest::BacktestOptions;
use crate::stages::l2::{CryptoReplayError, CryptoReplayOptions, L2Summary};
use crate::venue::{L2Sync, VenueFormat};

/// The venue of a websocket source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WsVenue {
    /// Binance spot (`/api/v3/depth` snapshots, `U == previous u + 1` chaining).
    Binance,
    /// Binance USD-M futures (`/fapi/v1/depth` snapshots, `pu == previous u` chaining).
    BinanceFutures,
    /// Coinbase Exchange (level2 snapshot + l2update, matches, ticker).
    Coinbase,
}

impl WsVenue {
    /// The name used in configs and journals.
    pub fn name(self) -> &'static str {
        match self {
            WsVenue::Binance => "binance",
            WsVenue::BinanceFutures => "binance-futures",
            WsVenue::Coinbase => "coinbase",
        }
    }

    /// The price-level venue whose machine reads this source's frames.
    pub fn format(self) -> VenueFormat {
        match self {
            WsVenue::Binance | WsVenue::BinanceFutures => VenueFormat::Binance,
            WsVenue::Coinbase => VenueFormat::Coinbase,
        }
    }

    /// The venue named `s`.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s {
            "binance" => WsVenue::Binance,
            "binance-futures" => WsVenue::BinanceFutures,
            "coinbase" => WsVenue::Coinbase,
            _ => return None,
        })
    }
}

fn d_snapshot_depth() -> u32 {
    1000
}
fn d_connect_ms() -> u64 {
    10_000
}
fn d_heartbeat_ms() -> u64 {
    15_000
}
fn d_silence_ms() -> u64 {
    30_000
}
fn d_backoff_initial_ms() -> u64 {
    250
}
fn d_backoff_max_ms() -> u64 {
    30_000
}
fn d_seed() -> u64 {
    1
}
fn d_snapshot_retry_ms() -> u64 {
    1000
}
fn d_rest_timeout_ms() -> u64 {
    10_000
}

/// A websocket source (one `[[source]]` of `kind = "ws"` in a live config). Unknown keys are an
/// error naming the key.
///
/// ```
/// let cfg: ticklane_replay::live::session::WsSourceConfig = toml::from_str(r#"
///     venue = "binance"
///     url = "wss://stream.binance.com:9443/ws"
///     symbols = ["BTCUSDT"]
///     rest_url = "https://api.binance.com"
/// "#).unwrap();
/// assert_eq!(cfg.snapshot_depth, 1000);
/// assert_eq!(cfg.subscribe_messages().unwrap(), vec![
///     r#"{"method":"SUBSCRIBE","params":["btcusdt@depth@100ms","btcusdt@trade","btcusdt@bookTicker"],"id":1}"#.to_owned()
/// ]);
/// assert!(toml::from_str::<ticklane_replay::live::session::WsSourceConfig>("venue = \"binance\"\nurl = \"x\"\nsymbol = \"y\"").is_err());
/// ```
#[derive(Clone, Debug, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct WsSourceConfig {
    /// `binance`, `binance-futures` or `coinbase`.
    pub venue: WsVenue,
    /// Websocket URL: `wss://stream.binance.com:9443/ws`, `wss://fstream.binance.com/ws`,
    /// `wss://ws-feed.exchange.coinbase.com`, or `ws://127.0.0.1:PORT/ws` for `serve ws`.
    pub url: String,
    /// Binance: exactly one symbol (`BTCUSDT`); Coinbase: product ids (`BTC-USD`, ...).
    pub symbols: Vec<String>,
    /// Binance streams per symbol (default `depth@100ms`, `trade`, `bookTicker`); Coinbase
    /// channels (default `level2`, `matches`, `ticker`).
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// Binance: REST base URL for depth snapshots (`https://api.binance.com`,
    /// `https://fapi.binance.com`, or `http://127.0.0.1:PORT`). Required for Binance.
    #[serde(default)]
    pub rest_url: Option<String>,
    /// Binance: levels asked of the depth snapshot (`limit`)
    /// ([`SNAPSHOT_DEPTH`](Self::SNAPSHOT_DEPTH): 1..=5000).
    #[serde(default = "d_snapshot_depth")]
    pub snapshot_depth: u32,
    /// TCP connect + websocket handshake timeout, ms ([`TIMEOUT_MS`](Self::TIMEOUT_MS):
    /// 100..=300000).
    #[serde(default = "d_connect_ms")]
    pub connect_timeout_ms: u64,
    /// Send a ping after this long without sending, ms ([`IDLE_MS`](Self::IDLE_MS):
    /// 100..=3600000).
    #[serde(default = "d_heartbeat_ms")]
    pub heartbeat_ms: u64,
    /// No frame for this long: the connection is dead and is replaced, ms
    /// ([`IDLE_MS`](Self::IDLE_MS): 100..=3600000).
    #[serde(default = "d_silence_ms")]
    pub silence_timeout_ms: u64,
    /// First reconnect delay, ms (doubles per failed attempt)
    /// ([`BACKOFF_MS`](Self::BACKOFF_MS): 1..=3600000).
    #[serde(default = "d_backoff_initial_ms")]
    pub backoff_initial_ms: u64,
    /// Largest reconnect delay, ms ([`BACKOFF_MS`](Self::BACKOFF_MS): 1..=3600000).
    #[serde(default = "d_backoff_max_ms")]
    pub backoff_max_ms: u64,
    /// Seed of the reconnect jitter (up to +50% of each delay); any `u64`.
    #[serde(default = "d_seed")]
    pub jitter_seed: u64,
    /// Binance: wait at least this long between snapshot fetches that failed, ms
    /// ([`SNAPSHOT_RETRY_MS`](Self::SNAPSHOT_RETRY_MS): 0..=3600000).
    #[serde(default = "d_snapshot_retry_ms")]
    pub snapshot_retry_ms: u64,
    /// Binance: REST request timeout, ms ([`TIMEOUT_MS`](Self::TIMEOUT_MS): 100..=300000).
    #[serde(default = "d_rest_timeout_ms")]
    pub rest_timeout_ms: u64,
    /// Report the top of book while unsynced too (as `replay --accept-unsynced`). Prices and
    /// sizes are kept at 8 decimals, exactly as the venues' decimal strings give them, as in
    /// the file replays: no tick or lot table is needed.
    #[serde(default)]
    pub accept_unsynced: bool,
    /// Give up after this many consecutive failed connects and end the run (0: never; a live
    /// venue is retried forever). A finite `serve ws` capture ends this way: the server closes
    /// and exits, the reconnects are refused
    /// ([`MAX_RECONNECT_ATTEMPTS`](Self::MAX_RECONNECT_ATTEMPTS): 0..=1000000).
    #[serde(default)]
    pub max_reconnect_attempts: u32,
}

impl WsSourceConfig {
    /// Valid `snapshot_depth` (Binance serves at most 5000 levels).
    pub const SNAPSHOT_DEPTH: Range<u32> =
        Range::new(1, 5000, "levels asked of the depth snapshot");
    /// Valid `connect_timeout_ms` and `rest_timeout_ms`: 0.1 s to 5 minutes.
    pub const TIMEOUT_MS: Range<u64> = Range::new(100, 300_000, "timeout, ms");
    /// Valid `heartbeat_ms` and `silence_timeout_ms`: 0.1 s to an hour.
    pub const IDLE_MS: Range<u64> = Range::new(100, 3_600_000, "idle time, ms");
    /// Valid `backoff_initial_ms` and `backoff_max_ms`: up to an hour.
    pub const BACKOFF_MS: Range<u64> = Range::new(1, 3_600_000, "reconnect delay, ms");
    /// Valid `snapshot_retry_ms`: up to an hour.
    pub const SNAPSHOT_RETRY_MS: Range<u64> =
        Range::new(0, 3_600_000, "wait between failed snapshot fetches, ms");
    /// Valid `max_reconnect_attempts` (0: never give up).
    pub const MAX_RECONNECT_ATTEMPTS: Range<u32> = Range::new(
        0,
        1_000_000,
        "consecutive failed connects before the run ends (0: never)",
    );

    /// Checks every numeric key against its range (`jitter_seed` takes any value), so every
    /// deadline (now plus a timeout or delay) stays far from overflow.
    ///
    /// # Errors
    /// The first key out of range.
    pub fn check_ranges(&self) -> Result<(), RangeError> {
        Self::SNAPSHOT_DEPTH.check("snapshot_depth", self.snapshot_depth)?;
        Self::TIMEOUT_MS.check("connect_timeout_ms", self.connect_timeout_ms)?;
        Self::IDLE_MS.check("heartbeat_ms", self.heartbeat_ms)?;
        Self::IDLE_MS.check("silence_timeout_ms", self.silence_timeout_ms)?;
        Self::BACKOFF_MS.check("backoff_initial_ms", self.backoff_initial_ms)?;
        Self::BACKOFF_MS.check("backoff_max_ms", self.backoff_max_ms)?;
        Self::SNAPSHOT_RETRY_MS.check("snapshot_retry_ms", self.snapshot_retry_ms)?;
        Self::TIMEOUT_MS.check("rest_timeout_ms", self.rest_timeout_ms)?;
        Self::MAX_RECONNECT_ATTEMPTS
            .check("max_reconnect_attempts", self.max_reconnect_attempts)?;
        Ok(())
    }

    /// Checks the keys' ranges and their combination.
    ///
    /// # Errors
    /// A message starting with the key.
    pub fn validate(&self) -> Result<(), String> {
        self.check_ranges().map_err(|e| e.to_string())?;
        if !url_ok(&self.url, &["ws://", "wss://"]) {
            return Err(format!(
                "url = {:?}: expected ws://HOST[:PORT]/PATH or wss://HOST[:PORT]/PATH",
                self.url
            ));
        }
        if let Some(r) = &self.rest_url {
            if !url_ok(r, &["http://", "https://"]) {
                return Err(format!(
                    "rest_url = {r:?}: expected http://HOST[:PORT] or https://HOST[:PORT]"
                ));
            }
        }
        match self.venue {
            WsVenue::Binance | WsVenue::BinanceFutures => {
                if self.symbols.len() != 1 {
                    return Err(format!(
                        "symbols: a Binance source follows exactly one symbol (got {})",
                        self.symbols.len()
                    ));
                }
                if self.rest_url.is_none() {
                    return Err("rest_url: required for Binance (depth snapshots)".into());
                }
            }
            WsVenue::Coinbase => {
                if self.symbols.is_empty() {
                    return Err("symbols: at least one product id".into());
                }
            }
        }
        Ok(())
    }

    /// The subscribe messages sent on every connect.
    ///
    /// # Errors
    /// [`validate`](Self::validate)'s.
    pub fn subscribe_messages(&self) -> Result<Vec<String>, String> {
        self.validate()?;
        let json = |v: &[String]| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
        Ok(match self.venue {
            WsVenue::Binance | WsVenue::BinanceFutures => {
                let chans = self.channels.clone().unwrap_or_else(|| {
                    vec!["depth@100ms".into(), "trade".into(), "bookTicker".into()]
                });
                let sym = self.symbols[0].to_ascii_lowercase();
                let params: Vec<String> = chans.iter().map(|c| format!("{sym}@{c}")).collect();
                vec![format!(
                    r#"{{"method":"SUBSCRIBE","params":{},"id":1}}"#,
                    json(&params)
                )]
            }
            WsVenue::Coinbase => {
                let chans = self
                    .channels
                    .clone()
                    .unwrap_or_else(|| vec!["level2".into(), "matches".into(), "ticker".into()]);
                vec![format!(
                    r#"{{"type":"subscribe","product_ids":{},"channels":{}}}"#,
                    json(&self.symbols),
                    json(&chans)
                )]
            }
        })
    }

    fn client_config(&self) -> Result<WsClientConfig, String> {
        Ok(WsClientConfig {
            url: self.url.clone(),
            subscribe: self.subscribe_messages()?,
            connect_timeout: Duration::from_millis(self.connect_timeout_ms),
            heartbeat: Duration::from_millis(self.heartbeat_ms),
            silence_timeout: Duration::from_millis(self.silence_timeout_ms),
            backoff_initial: Duration::from_millis(self.backoff_initial_ms),
            backoff_max: Duration::from_millis(self.backoff_max_ms),
            jitter_seed: self.jitter_seed,
            max_attempts: self.max_reconnect_attempts,
        })
    }
}

/// `url` starts with one of `schemes` and names a host (no spaces, a port if given is a number).
fn url_ok(url: &str, schemes: &[&str]) -> bool {
    let Some(rest) = schemes.iter().find_map(|s| url.strip_prefix(s)) else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    !host.is_empty()
        && !url.contains(char::is_whitespace)
        && port.is_none_or(|p| p.parse::<u16>().is_ok())
}

/// Counters a metrics endpoint reads while the runner works (relaxed atomics, written by the
/// runner's thread only).
#[derive(Debug, Default)]
pub struct WsCounters {
    /// Data frames received.
    pub frames: AtomicU64,
    /// Their bytes.
    pub bytes: AtomicU64,
    /// Control frames (subscription acknowledgements, heartbeats, status).
    pub control: AtomicU64,
    /// Frames that did not decode (malformed JSON, unknown type, bad field).
    pub bad_frames: AtomicU64,
    /// Book messages: Binance depth diffs, Coinbase level2 updates.
    pub depth: AtomicU64,
    /// Snapshots applied (REST for Binance, websocket for Coinbase).
    pub snapshots: AtomicU64,
    /// Trades.
    pub trades: AtomicU64,
    /// Tickers (Binance bookTicker, Coinbase ticker).
    pub tickers: AtomicU64,
    /// Connections opened after the first.
    pub reconnects: AtomicU64,
    /// Books brought back in sync after losing it (reconnect or gap).
    pub resyncs: AtomicU64,
    /// Sequence breaks detected in the diff stream (Binance).
    pub gaps: AtomicU64,
    /// REST snapshots fetched.
    pub snapshot_fetches: AtomicU64,
    /// REST snapshot requests that failed.
    pub snapshot_failures: AtomicU64,
    /// Journal writes that failed.
    pub journal_errors: AtomicU64,
    /// 1 while connected.
    pub connected: AtomicU64,
    /// 1 while every book is synced.
    pub synced: AtomicU64,
    /// Receive time (ns since the epoch) of the last frame seen with the book synced; the book's
    /// staleness is now minus this (0 while unsynced).
    pub book_ts_ns: AtomicU64,
    /// Per instrument, in first-seen order (the first [`MAX_BOOK_METRICS`]).
    pub books: [BookCounters; MAX_BOOK_METRICS],
}

/// Instruments whose books are published one by one in [`WsCounters::books`] (a Coinbase source
/// following more has the rest counted in the totals only).
pub const MAX_BOOK_METRICS: usize = 32;

/// One instrument's book state, for staleness and validity per instrument.
#[derive(Debug, Default)]
pub struct BookCounters {
    /// The instrument, set once when its book is first seen (unset: a slot not in use).
    pub symbol: OnceLock<String>,
    /// 1 while this book is synced.
    pub synced: AtomicU64,
    /// Receive time (ns since the epoch) of the last frame that changed this book (a diff or a
    /// snapshot applied while synced); 0 before any.
    pub last_update_ns: AtomicU64,
}

/// What a live run (or a replay of its journal) reports.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct WsRunSummary {
    /// Venue name.
    pub venue: String,
    /// Data frames.
    pub frames: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Connections lost (journaled as reconnect records).
    pub disconnects: u64,
    /// Connections opened after the first.
    pub reconnects: u64,
    /// Books brought back in sync after losing it (printed as `resynced`; the book summary's
    /// `resyncs` count the losses).
    pub resyncs: u64,
    /// REST snapshots applied.
    pub rest_snapshots: u64,
    /// REST snapshot requests that failed (live only; not journaled).
    pub snapshot_failures: u64,
    /// Journal writes that failed (live only).
    pub journal_errors: u64,
    /// The venue's book summary, as the file replay prints it.
    pub book: L2Summary,
    /// The final books, top [`SUMMARY_LEVELS`] levels of each side, per symbol in first-seen
    /// order (not printed; for checks and the JSON summary).
    pub levels: Vec<(String, TopLevels)>,
    /// The run's digest (the book summary's: ordered BBO changes and trades).
    pub digest: String,
}

impl std::fmt::Display for WsRunSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "source:        {} websocket: {} frames ({} bytes), {} disconnects, {} reconnects, {} resynced (books back in sync after losing it), {} REST snapshots ({} failed), {} journal errors",
            self.venue,
            self.frames,
            self.bytes,
            self.disconnects,
            self.reconnects,
            self.resyncs,
            self.rest_snapshots,
            self.snapshot_failures,
            self.journal_errors
        )?;
        write!(f, "{}", self.book)
    }
}

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum WsRunError {
    /// The configuration is not usable.
    #[error("websocket source config: {0}")]
    Config(String),
    /// Writing the BBO CSV failed.
    #[error("writing the BBO CSV: {0}")]
    Output(std::io::Error),
    /// The journal is not a websocket journal (or not a journal).
    #[error("not a websocket journal: {0}")]
    NotWsJournal(String),
    /// The venue's state machine refused (no frame decoded at all).
    #[error("{0}")]
    Venue(CryptoReplayError),
    /// The strategy's backtest cannot run on this data as configured (the FIFO queue model).
    #[error("{0}")]
    Backtest(L2BacktestError),
}

impl From<CryptoReplayError> for WsRunError {
    fn from(e: CryptoReplayError) -> Self {
        match e {
            CryptoReplayError::Output(e) => WsRunError::Output(e),
            CryptoReplayError::Backtest(e) => WsRunError::Backtest(e),
            other => WsRunError::Venue(other),
        }
    }
}

/// A Binance control frame: a reply to SUBSCRIBE (`{"result":null,"id":1}`) or an error.
fn binance_control(json: &[u8]) -> bool {
    let j = json.trim_ascii_start();
    j.starts_with(b"{\"result\"") || j.starts_with(b"{\"id\"") || j.starts_with(b"{\"error\"")
}

/// The shared core of a live run and a journal replay: frames, REST bodies and lost
/// connections in, book state and counters out.
pub struct WsSession<'a> {
    venue_kind: WsVenue,
    venue: Box<L2Sync<'a>>,
    counters: &'a WsCounters,
    frames: u64,
    bytes: u64,
    disconnects: u64,
    resyncs: u64,
    rest_snapshots: u64,
    ever_synced: bool,
    was_synced: bool,
    lost: Option<u64>,
    /// Per instrument: book messages (diffs + snapshots) counted at the last publish.
    book_msgs: Vec<u64>,
}

/// What a frame did to the sync state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncChange {
    /// Nothing.
    None,
    /// The books became synced for the first time.
    Synced,
    /// The books became synced again after losing sync.
    Resynced,
    /// The books lost sync (a gap).
    Lost,
}

/// A strategy paper-traded against the execution simulator on a websocket source's books, with
/// the backtest's options: exactly the L2 backtest of a capture replay (see
/// [`crate::backtest::l2`]), driven by the frames as they arrive.
pub type WsBacktest<'a> = (Box<dyn Strategy + 'a>, BacktestOptions);

impl<'a> WsSession<'a> {
    /// A session for `venue`, BBO changes to `bbo_csv`, publishing into `counters`; with
    /// `backtest`, its strategy runs on the books through the sync state machine's backtest
    /// hooks (its signals, orders and fills enter the digest).
    ///
    /// # Errors
    /// Writing the CSV header; [`WsRunError::Backtest`] for a queue model L2 data cannot use.
    pub fn new(
        venue: WsVenue,
        accept_unsynced: bool,
        bbo_csv: Option<Box<dyn Write + 'a>>,
        counters: &'a WsCounters,
        backtest: Option<WsBacktest<'a>>,
    ) -> Result<Self, WsRunError> {
        let v = L2Sync::new(
            venue.format(),
            CryptoReplayOptions {
                accept_unsynced,
                bbo_csv,
                backtest,
                ..CryptoReplayOptions::default()
            },
        )?;
        Ok(WsSession {
            venue_kind: venue,
            venue: Box::new(v),
            counters,
            frames: 0,
            bytes: 0,
            disconnects: 0,
            resyncs: 0,
            rest_snapshots: 0,
            ever_synced: false,
            was_synced: false,
            lost: None,
            book_msgs: Vec::new(),
        })
    }

    /// Whether every book is synced.
    pub fn is_synced(&self) -> bool {
        self.venue.is_synced()
    }

    /// Binance: the book is unsynced and diffs are buffered, so a REST snapshot is due.
    pub fn needs_snapshot(&self) -> bool {
        self.venue.awaiting_snapshot()
    }

    /// The book of `symbol` (compared ignoring case), if seen.
    pub fn book(&self, symbol: &str) -> Option<&L2Book> {
        self.venue.book_of(symbol)
    }

    /// One data frame received at `ts`.
    ///
    /// # Errors
    /// Writing the CSV.
    pub fn on_frame(&mut self, ts: u64, bytes: &[u8]) -> Result<SyncChange, WsRunError> {
        self.apply_loss();
        self.frames += 1;
        self.bytes += bytes.len() as u64;
        if self.venue_kind.format() == VenueFormat::Binance && binance_control(bytes) {
            self.venue.count_control();
        } else {
            self.venue.on_frame(ts, bytes)?;
        }
        Ok(self.after(ts))
    }

    /// A REST snapshot body received at `ts` (Binance).
    ///
    /// # Errors
    /// Writing the CSV.
    pub fn on_rest(&mut self, ts: u64, body: &[u8]) -> Result<SyncChange, WsRunError> {
        self.apply_loss();
        self.rest_snapshots += 1;
        if self.venue_kind.format() == VenueFormat::Binance {
            self.venue.on_frame(ts, body)?;
        } else {
            // Only Binance books are synced from REST snapshots.
            self.venue.count_unknown();
        }
        Ok(self.after(ts))
    }

    /// The connection was lost at `ts`. The books keep their state as of the last frame (the
    /// final book of a run that ends here), but what arrives next cannot be chained to it: the
    /// first frame or snapshot of the next connection clears them and marks them unsynced
    /// first.
    pub fn on_disconnect(&mut self, ts: u64) {
        self.disconnects += 1;
        if self.lost.is_none() {
            self.lost = Some(ts);
        }
        self.counters.synced.store(0, Ordering::Relaxed);
        self.counters.book_ts_ns.store(0, Ordering::Relaxed);
        for b in &self.counters.books {
            b.synced.store(0, Ordering::Relaxed);
        }
    }

    fn apply_loss(&mut self) {
        let Some(ts) = self.lost.take() else { return };
        self.venue.lose_sync(ts);
        self.after(ts);
    }

    fn after(&mut self, ts: u64) -> SyncChange {
        let synced = self.is_synced();
        let change = match (self.was_synced, synced) {
            (false, true) if self.ever_synced => {
                self.resyncs += 1;
                SyncChange::Resynced
            }
            (false, true) => {
                self.ever_synced = true;
                SyncChange::Synced
            }
            (true, false) => SyncChange::Lost,
            _ => SyncChange::None,
        };
        self.was_synced = synced;
        self.publish(ts, synced);
        change
    }

    fn publish(&mut self, ts: u64, synced: bool) {
        let c = self.counters;
        let r = Ordering::Relaxed;
        // Per instrument: a book whose message count moved was updated by this frame.
        let mut book = |i: usize, symbol: &str, synced: bool, msgs: u64| {
            let Some(bc) = c.books.get(i) else { return };
            if bc.symbol.get().is_none() {
                // Once per instrument, when first seen.
                let _ = bc.symbol.set(symbol.to_owned());
            }
            if self.book_msgs.len() <= i {
                self.book_msgs.resize(i + 1, 0);
            }
            if msgs != self.book_msgs[i] {
                self.book_msgs[i] = msgs;
                if synced {
                    bc.last_update_ns.store(ts, r);
                }
            }
            bc.synced.store(u64::from(synced), r);
        };
        for (i, (symbol, synced, msgs)) in self.venue.symbol_rows().enumerate() {
            book(i, symbol, synced, msgs);
        }
        c.frames.store(self.frames, r);
        c.bytes.store(self.bytes, r);
        c.resyncs.store(self.resyncs, r);
        c.synced.store(u64::from(synced), r);
        c.book_ts_ns.store(if synced { ts } else { 0 }, r);
        let n = self.venue.counts();
        c.control.store(n.control, r);
        c.bad_frames.store(n.bad, r);
        c.depth.store(n.depth, r);
        c.snapshots.store(n.snapshots, r);
        c.trades.store(n.trades, r);
        c.tickers.store(n.tickers, r);
        c.gaps.store(n.resyncs, r);
    }

    /// Ends the session: the summary with the digest.
    ///
    /// # Errors
    /// Flushing the CSV; a session in which frames arrived and none decoded.
    pub fn finish(
        self,
        reconnects: u64,
        snapshot_failures: u64,
        journal_errors: u64,
    ) -> Result<WsRunSummary, WsRunError> {
        let levels = self
            .venue
            .products()
            .filter_map(|p| {
                Some((
                    p.to_owned(),
                    top_levels(self.venue.book_of(p)?, SUMMARY_LEVELS),
                ))
            })
            .collect();
        let book = self.venue.finish()?;
        let digest = book.digest.clone();
        Ok(WsRunSummary {
            venue: self.venue_kind.name().into(),
            frames: self.frames,
            bytes: self.bytes,
            disconnects: self.disconnects,
            reconnects,
            resyncs: self.resyncs,
            rest_snapshots: self.rest_snapshots,
            snapshot_failures,
            journal_errors,
            book,
            levels,
            digest,
        })
    }
}

/// Levels per side kept in [`WsRunSummary::levels`].
pub const SUMMARY_LEVELS: usize = 20;

/// The top `n` levels of each side of `book`: `(bids, asks)`, best first, `(px, qty)` in 1e-8.
pub type TopLevels = (Vec<(i64, u64)>, Vec<(i64, u64)>);

/// The top `n` levels of both sides.
pub fn top_levels(book: &L2Book, n: usize) -> TopLevels {
    let side = |s| {
        book.levels(s)
            .take(n)
            .map(|l| (l.px.0, l.qty.0))
            .collect::<Vec<_>>()
    };
    (side(Side::Bid), side(Side::Ask))
}

struct Journal<'j, J: RecordSink> {
    w: Option<&'j mut J>,
    errors: u64,
}

impl<J: RecordSink> Journal<'_, J> {
    /// Journals one record; a file journal has it in the kernel when this returns, so a frame
    /// is journaled before the session sees it.
    fn rec(&mut self, kind: RecordKind, ts: u64, line: u16, payload: &[u8]) {
        if let Some(w) = self.w.as_mut() {
            if w.record(kind, ts, line, payload).is_err() {
                self.errors += 1;
            }
        }
    }
}

/// Journals a completed resync; a failed session stops the run.
fn after<J: RecordSink>(
    change: Result<SyncChange, WsRunError>,
    j: &mut Journal<'_, J>,
    ts: u64,
    line: u16,
    fatal: &mut Option<WsRunError>,
) -> Flow {
    match change {
        Ok(SyncChange::Resynced) => {
            j.rec(RecordKind::Resync, ts, line, b"");
            Flow::Continue
        }
        Ok(_) => Flow::Continue,
        Err(e) => {
            *fatal = Some(e);
            Flow::Stop
        }
    }
}

/// Runs a websocket source until `stop` is set: connect, subscribe, sync, reconnect and resync
/// as needed. Frames and decisions go to `journal` when given, each before the session acts
/// on it; BBO changes to `bbo_csv`; live counts to `counters`. With `backtest`, its strategy
/// paper-trades on the books against the simulator (the journal holds only what arrived, so
/// [`replay_ws_journal`] with the same strategy and options reproduces the run's digest).
///
/// # Errors
/// [`WsRunError::Config`] for an unusable config; [`WsRunError::Output`] when the BBO CSV
/// cannot be written; [`WsRunError::Backtest`] for a queue model L2 data cannot use. Network
/// trouble is never an error: it is retried and counted.
pub fn run_ws<'a, J: RecordSink>(
    cfg: &WsSourceConfig,
    stop: &AtomicBool,
    journal: Option<&mut J>,
    counters: &'a WsCounters,
    bbo_csv: Option<Box<dyn Write + 'a>>,
    backtest: Option<WsBacktest<'a>>,
) -> Result<WsRunSummary, WsRunError> {
    let client_cfg = cfg.client_config().map_err(WsRunError::Config)?;
    let clock = WallClock::new();
    let mut client = WsClient::new(client_cfg, clock.clone());
    let mut session = WsSession::new(cfg.venue, cfg.accept_unsynced, bbo_csv, counters, backtest)?;
    let rest = RestClient::new(Duration::from_millis(cfg.rest_timeout_ms));
    let snapshot_url = cfg.rest_url.as_deref().map(|base| {
        let api = if cfg.venue == WsVenue::BinanceFutures {
            DepthApi::Futures
        } else {
            DepthApi::Spot
        };
        depth_url(base, api, &cfg.symbols[0], cfg.snapshot_depth)
    });
    let mut j = Journal {
        w: journal,
        errors: 0,
    };
    j.rec(
        RecordKind::Source,
        clock.now_ns(),
        0,
        cfg.venue.name().as_bytes(),
    );
    let retry = Duration::from_millis(cfg.snapshot_retry_ms);
    let mut next_fetch = Instant::now();
    let mut connection = 0u32;
    let mut connected = false;
    let mut reconnects = 0u64;
    let mut snapshot_failures = 0u64;
    let mut fatal: Option<WsRunError> = None;
    let r = Ordering::Relaxed;

    client.run(stop, |ev| {
        let flow = match ev {
            WsEvent::Connected { connection: c } => {
                connection = c;
                connected = true;
                counters.connected.store(1, r);
                if c > 0 {
                    reconnects += 1;
                    counters.reconnects.store(reconnects, r);
                }
                Flow::Continue
            }
            WsEvent::Frame { ts_recv, bytes } => {
                j.rec(RecordKind::Frame, ts_recv, connection as u16, bytes);
                let ch = session.on_frame(ts_recv, bytes);
                after(ch, &mut j, ts_recv, connection as u16, &mut fatal)
            }
            WsEvent::Disconnected { reason } => {
                if connected {
                    connected = false;
                    counters.connected.store(0, r);
                    let ts = clock.now_ns();
                    j.rec(
                        RecordKind::Reconnect,
                        ts,
                        connection as u16,
                        reason.to_string().as_bytes(),
                    );
                    session.on_disconnect(ts);
                }
                Flow::Continue
            }
            WsEvent::Idle | WsEvent::Reconnecting { .. } => Flow::Continue,
        };
        if flow != Flow::Continue {
            return flow;
        }
        // Binance: fetch a depth snapshot once diffs are buffered.
        if let Some(url) = &snapshot_url {
            if connected && session.needs_snapshot() && Instant::now() >= next_fetch {
                counters.snapshot_fetches.fetch_add(1, r);
                match rest.get(url) {
                    Ok(body) => {
                        let ts = clock.now_ns();
                        j.rec(RecordKind::Rest, ts, connection as u16, &body);
                        let ch = session.on_rest(ts, &body);
                        let f = after(ch, &mut j, ts, connection as u16, &mut fatal);
                        if !session.is_synced() {
                            // Older than the buffered diffs: try again after the next one.
                            next_fetch = Instant::now() + retry.min(Duration::from_millis(100));
                        }
                        return f;
                    }
                    Err(_) => {
                        snapshot_failures += 1;
                        counters.snapshot_failures.store(snapshot_failures, r);
                        next_fetch = Instant::now() + retry;
                    }
                }
            }
        }
        counters.journal_errors.store(j.errors, r);
        Flow::Continue
    });
    counters.connected.store(0, r);
    if let Some(e) = fatal {
        return Err(e);
    }
    j.rec(RecordKind::End, clock.now_ns(), connection as u16, b"");
    counters.journal_errors.store(j.errors, r);
    session.finish(reconnects, snapshot_failures, j.errors)
}

/// What a websocket journal held besides the frames.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WsJournalStats {
    /// Whole, valid records.
    pub records: u64,
    /// Frame records.
    pub frames: u64,
    /// REST records.
    pub rest: u64,
    /// Reconnect records.
    pub reconnects: u64,
    /// Resync records (informational: the replay derives its own).
    pub resync_notes: u64,
    /// Records failing their CRC (skipped).
    pub corrupt: u64,
    /// Records of an unknown kind (skipped).
    pub unknown_kind: u64,
    /// Records of a kind that has no place in a websocket journal (packets, skips...).
    pub foreign: u64,
    /// Whether the journal was cut short.
    pub cut: bool,
    /// The read stopped at an impossible record length or an I/O error.
    pub stopped_early: Option<JournalError>,
    /// Segments read (a journal of restarted or rolled daemons has several).
    pub segments: u32,
    /// Segments that start a new run (a restarted daemon): replayed as a lost connection.
    pub restarts: u32,
    /// Segments other than the last that their daemon did not close.
    pub unclosed_segments: u32,
    /// Segments that could not be opened or have a bad header (skipped).
    pub bad_segments: u32,
    /// The last segment ends without its end record: the daemon did not stop cleanly.
    pub no_end_record: bool,
}

impl std::fmt::Display for WsJournalStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} records ({} frames, {} REST, {} reconnects, {} resync notes), {} corrupt, {} unknown, {} foreign{}",
            self.records,
            self.frames,
            self.rest,
            self.reconnects,
            self.resync_notes,
            self.corrupt,
            self.unknown_kind,
            self.foreign,
            if self.cut { "; cut short" } else { "" }
        )?;
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

/// The venue of a websocket journal (its first record is a `Source` record), or `None` for any
/// other journal (ITCH) or input.
pub fn ws_journal_venue(reader: impl Read) -> Option<WsVenue> {
    let mut r = JournalReader::new(reader).ok()?;
    let rec = r.next_record()?.ok()?;
    if rec.kind != RecordKind::Source {
        return None;
    }
    WsVenue::from_name(std::str::from_utf8(rec.payload).ok()?)
}

/// Replays a websocket journal through the same [`WsSession`] a live run uses; with
/// `backtest` (the live run's strategy and options), the strategy runs again on the same
/// frames at the same receive times.
///
/// # Errors
/// [`WsRunError::NotWsJournal`] when the input is not a websocket journal;
/// [`WsRunError::Output`] writing the CSV; [`WsRunError::Backtest`] for a queue model L2 data
/// cannot use.
pub fn replay_ws_journal<'a>(
    reader: impl Read,
    accept_unsynced: bool,
    bbo_csv: Option<Box<dyn Write + 'a>>,
    counters: &'a WsCounters,
    backtest: Option<WsBacktest<'a>>,
) -> Result<(WsRunSummary, WsJournalStats), WsRunError> {
    replay_ws_journal_segments(
        std::iter::once(Ok(reader)),
        accept_unsynced,
        bbo_csv,
        counters,
        backtest,
    )
}

/// [`replay_ws_journal`] over a journal's segments in order; a segment that starts a new run
/// (a restarted daemon) is replayed as a lost connection (the new daemon's books started
/// empty and unsynced).
///
/// # Errors
/// As [`replay_ws_journal`], for the first segment; a later one that cannot be opened or has
/// a bad header is counted ([`WsJournalStats::bad_segments`]) and skipped.
pub fn replay_ws_journal_segments<'a, R: Read>(
    segments: impl IntoIterator<Item = std::io::Result<R>>,
    accept_unsynced: bool,
    bbo_csv: Option<Box<dyn Write + 'a>>,
    counters: &'a WsCounters,
    backtest: Option<WsBacktest<'a>>,
) -> Result<(WsRunSummary, WsJournalStats), WsRunError> {
    let mut segments = segments.into_iter();
    let first = segments
        .next()
        .ok_or_else(|| WsRunError::NotWsJournal("no journal segment".into()))?
        .map_err(|e| WsRunError::NotWsJournal(e.to_string()))?;
    let mut r = JournalReader::new(first).map_err(|e| WsRunError::NotWsJournal(e.to_string()))?;
    let venue = match r.next_record() {
        Some(Ok(rec)) if rec.kind == RecordKind::Source => std::str::from_utf8(rec.payload)
            .ok()
            .and_then(WsVenue::from_name),
        _ => None,
    }
    .ok_or_else(|| WsRunError::NotWsJournal("no source record first".into()))?;
    let mut session = WsSession::new(venue, accept_unsynced, bbo_csv, counters, backtest)?;
    let mut st = WsJournalStats {
        segments: 1,
        ..Default::default()
    };
    let mut max_line = 0u16;
    // Connections of the earlier runs (a restart's connection 0 is one more).
    let mut earlier_connections = 0u64;
    let mut last_ts = 0u64;
    loop {
        while let Some(rec) = r.next_record() {
            let rec = match rec {
                Ok(rec) => rec,
                Err(JournalError::Corrupt { .. } | JournalError::UnknownKind { .. }) => continue,
                Err(e) => {
                    st.stopped_early = Some(e);
                    break;
                }
            };
            last_ts = rec.ts_recv;
            match rec.kind {
                RecordKind::Frame => {
                    st.frames += 1;
                    max_line = max_line.max(rec.line);
                    session.on_frame(rec.ts_recv, rec.payload)?;
                }
                RecordKind::Rest => {
                    st.rest += 1;
                    session.on_rest(rec.ts_recv, rec.payload)?;
                }
                RecordKind::Reconnect => {
                    st.reconnects += 1;
                    session.on_disconnect(rec.ts_recv);
                }
                RecordKind::Resync => st.resync_notes += 1,
                RecordKind::End | RecordKind::Source => {}
                RecordKind::Packet
                | RecordKind::Gap
                | RecordKind::Request
                | RecordKind::Skip
                | RecordKind::Conflict => st.foreign += 1,
            }
        }
        st.cut |= r.cut().is_some();
        let mut c = SegmentCounts::default();
        let next = r.advance(&mut segments, &mut c);
        st.bad_segments += c.bad;
        st.unclosed_segments += c.unclosed;
        st.segments += c.segments;
        let Some(h) = next else {
            st.no_end_record = c.no_end_record;
            break;
        };
        if !h.continues() {
            st.restarts += 1;
            earlier_connections += u64::from(max_line) + 1;
            max_line = 0;
            session.on_disconnect(last_ts);
        }
    }
    st.records = r.records + 1;
    st.corrupt = r.corrupt;
    st.unknown_kind = r.unknown_kind;
    let s = session.finish(earlier_connections + u64::from(max_line), 0, 0)?;
    Ok((s, st))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keys_are_checked() {
        let ok: WsSourceConfig = toml::from_str(
            "venue = \"coinbase\"\nurl = \"ws://127.0.0.1:1/\"\nsymbols = [\"SKL-GBP\"]\nchannels = [\"level2\"]",
        )
        .unwrap();
        assert_eq!(
            ok.subscribe_messages().unwrap(),
            vec![r#"{"type":"subscribe","product_ids":["SKL-GBP"],"channels":["level2"]}"#]
        );
        let no_rest: WsSourceConfig = toml::from_str(
            "venue = \"binance-futures\"\nurl = \"wss://h/ws\"\nsymbols = [\"BTCUSDT\"]",
        )
        .unwrap();
        assert!(no_rest.validate().unwrap_err().starts_with("rest_url"));
        let two: WsSourceConfig = toml::from_str(
            "venue = \"binance\"\nurl = \"ws://h:1/ws\"\nrest_url = \"http://h:1\"\nsymbols = [\"A\", \"B\"]",
        )
        .unwrap();
        assert!(two.validate().unwrap_err().starts_with("symbols"));
        let e = toml::from_str::<WsSourceConfig>("venue = \"kraken\"\nurl = \"u\"\nsymbols = []")
            .unwrap_err();
        assert!(e.to_string().contains("kraken"), "{e}");
        for (url, rest) in [
            ("http://h/ws", "http://h"),
            ("ws:///ws", "http://h"),
            ("ws://h:99999/ws", "http://h"),
            ("ws://h/ws", "ws://h"),
            ("ws://h/ws", "https://"),
        ] {
            let c: WsSourceConfig = toml::from_str(&format!(
                "venue = \"binance\"\nurl = \"{url}\"\nrest_url = \"{rest}\"\nsymbols = [\"A\"]"
            ))
            .unwrap();
            let e = c.validate().unwrap_err();
            assert!(e.contains(url) || e.contains(rest), "{url} {rest}: {e}");
        }
        let c: WsSourceConfig = toml::from_str(
            "venue = \"binance\"\nurl = \"wss://stream.binance.com:9443/ws\"\nrest_url = \"https://api.binance.com\"\nsymbols = [\"A\"]\nmax_reconnect_attempts = 3",
        )
        .unwrap();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.client_config().unwrap().max_attempts, 3);
    }

    #[test]
    fn binance_control_frames_are_told_apart() {
        assert!(binance_control(br#"{"result":null,"id":1}"#));
        assert!(binance_control(br#"{"error":{"code":2,"msg":"x"},"id":1}"#));
        assert!(!binance_control(br#"{"stream":"btcusdt@trade","data":{}}"#));
        assert!(!binance_control(
            br#"{"lastUpdateId":1,"bids":[],"asks":[]}"#
        ));
    }
}
