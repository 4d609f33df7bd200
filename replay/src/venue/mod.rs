//! Venues that publish price levels (crypto websockets and their captures), as one kind of
//! thing: a *sync state machine* per venue turns the venue's frames into [`Event`]s — levels,
//! snapshots, trades, "the book is stale", checksums and tickers to verify — and from there
//! every venue takes the same path as ITCH: events → book stage → outputs.
//!
//! A venue's machine knows the venue's protocol (how a snapshot and the diffs after it chain,
//! what a sequence gap looks like, which decimals its checksum uses) and nothing of books,
//! strategies or outputs: it keeps no book. What needs the book (applying levels, verifying a
//! checksum, comparing a ticker with the top, reporting the top of book) is done by the book
//! stage ([`crate::stages::l2::L2BookStage`]) on the events.
//!
//! The registry ([`VenueFormat`], [`VENUES`]) lists the venues once: their names, how their
//! symbols split into base and quote currency, and how to build their machine.

use ticklane_engine::event_time::TimeGuard;
use ticklane_engine::{Body, Event, Header, InstrumentIdx, Nanos, Px, Qty, Side, SourceId};
use ticklane_feeds::json::LevelUpdate;

use crate::venue::capture::CaptureLine;
use std::io::Write;

use ticklane_engine::strategy::Strategy;
use ticklane_feeds::json::Precision;

use crate::backtest::l2::L2BacktestError;
pub use summary::{L2Summary, SymbolSummary};
pub use sync::{L2Counts, L2Sync};

pub mod binance;
pub mod capture;
pub mod coinbase;
pub mod coinbase_advanced;
pub mod consolidated;
pub mod kraken;
pub mod summary;
pub mod sync;

/// Decimals of every price and size in a crypto replay's books (1e-8 units).
pub const DECIMALS: u32 = 8;

/// Options.
#[derive(Default)]
pub struct CryptoReplayOptions<'a> {
    /// Report books before their snapshot (or after losing sync) too.
    pub accept_unsynced: bool,
    /// BBO CSV sink (prices with 8 decimals).
    pub bbo_csv: Option<Box<dyn Write + 'a>>,
    /// Kraken: the subscribed book depth for v2 captures (v1 names it in the channel,
    /// `book-10`); the book is truncated to it after every message. Default 10.
    pub book_depth: Option<usize>,
    /// Kraken v2: each pair's price and quantity decimals as the venue writes them (from its
    /// instrument channel), needed to verify checksums; v1 strings tell them themselves.
    pub wire_precision: Vec<(String, Precision)>,
    /// Backtest this strategy on the books (see [`crate::backtest::l2`]): it runs on every
    /// level update and trade of a synced book (or of any book, with `accept_unsynced`).
    pub backtest: Option<(Box<dyn Strategy + 'a>, crate::backtest::BacktestOptions)>,
    /// Largest jump of receive time between two frames, ns; a larger one is counted and the
    /// frame applied at the previous frame's time ([`ticklane_engine::event_time`]). `None`:
    /// the default, 6 hours.
    pub max_time_jump_ns: Option<u64>,
    /// More outputs: every output reaches each of these, in input order, whatever the
    /// pipeline layout (see [`crate::sink`]).
    pub sinks: Vec<Box<dyn crate::sink::Sink + 'a>>,
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum CryptoReplayError {
    /// Reading the capture failed.
    #[error("reading the capture: {0}")]
    Read(std::io::Error),
    /// Writing the BBO CSV failed.
    #[error("writing the outputs (BBO CSV, signals, sinks): {0}")]
    Output(std::io::Error),
    /// Nothing in the input decoded as this venue's messages.
    #[error("not a {venue} capture: no frame decoded ({bad} bad lines or frames)")]
    WrongVenue {
        /// The venue asked for.
        venue: &'static str,
        /// Lines and frames that failed.
        bad: u64,
    },
    /// The backtest cannot run on this data as configured.
    #[error("{0}")]
    Backtest(#[from] L2BacktestError),
    /// A stage of the threaded pipeline failed.
    #[error("{0}")]
    Stage(String),
}

/// A venue format: which sync state machine reads the capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VenueFormat {
    /// Binance spot, USD-M or COIN-M futures (told apart by the frames).
    Binance,
    /// Coinbase Exchange.
    Coinbase,
    /// Coinbase Advanced Trade.
    #[serde(rename = "coinbase-advanced")]
    CoinbaseAdvanced,
    /// Kraken spot (websocket v1 or v2).
    Kraken,
}

/// One entry of the venue registry.
#[derive(Clone, Copy, Debug)]
pub struct VenueInfo {
    /// The venue's format.
    pub format: VenueFormat,
    /// Its name on the command line and in summaries.
    pub name: &'static str,
    /// Its name in messages (`Binance`).
    pub title: &'static str,
    /// What it reads.
    pub about: &'static str,
}

/// Every venue, in the order help texts list them.
pub const VENUES: &[VenueInfo] = &[
    VenueInfo {
        format: VenueFormat::Binance,
        name: "binance",
        title: "Binance",
        about: "Binance spot / USD-M / COIN-M depth diffs + REST snapshots, trades, bookTicker",
    },
    VenueInfo {
        format: VenueFormat::Coinbase,
        name: "coinbase",
        title: "Coinbase",
        about: "Coinbase Exchange level2 snapshot + l2update, match, ticker",
    },
    VenueInfo {
        format: VenueFormat::CoinbaseAdvanced,
        name: "coinbase-advanced",
        title: "Coinbase Advanced Trade",
        about:
            "Coinbase Advanced Trade l2_data snapshot + update, market_trades (sequence_num gaps)",
    },
    VenueInfo {
        format: VenueFormat::Kraken,
        name: "kraken",
        title: "Kraken",
        about: "Kraken spot book (v1 and v2, checksums), trade, ticker",
    },
];

impl VenueFormat {
    /// The format's name.
    pub fn name(self) -> &'static str {
        VENUES
            .iter()
            .find(|v| v.format == self)
            .map_or("?", |v| v.name)
    }

    /// The venue's name as messages write it (`Binance`).
    pub fn title(self) -> &'static str {
        VENUES
            .iter()
            .find(|v| v.format == self)
            .map_or("?", |v| v.title)
    }

    /// The venue named `name` (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        VENUES
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name.trim()))
            .map(|v| v.format)
    }

    /// The names there are, comma separated (for messages).
    pub fn names() -> String {
        VENUES.iter().map(|v| v.name).collect::<Vec<_>>().join(", ")
    }

    /// The venue's sync state machine, configured by `opts`.
    pub fn machine(self, opts: &CryptoReplayOptions<'_>) -> Box<dyn VenueSync> {
        match self {
            VenueFormat::Binance => Box::new(binance::Binance::new(opts)),
            VenueFormat::Coinbase => Box::new(coinbase::Coinbase::new(opts)),
            VenueFormat::CoinbaseAdvanced => {
                Box::new(coinbase_advanced::CoinbaseAdvanced::new(opts))
            }
            VenueFormat::Kraken => Box::new(kraken::Kraken::new(opts)),
        }
    }

    /// Base and quote currency of one of the venue's symbols (`BTCUSDT`, `BTC-USD`, `XBT/USD`),
    /// with Kraken's `XBT`/`XDG` spelled `BTC`/`DOGE`; `None` when the symbol cannot be split.
    pub fn asset_of(self, symbol: &str) -> Option<(String, String)> {
        asset_of(self, symbol)
    }

    /// How the digest encodes this venue's outputs.
    pub fn digest_encoding(self) -> crate::sink::digest::L2Encoding {
        match self {
            VenueFormat::Binance => crate::sink::digest::L2Encoding::Binance,
            VenueFormat::Coinbase | VenueFormat::CoinbaseAdvanced | VenueFormat::Kraken => {
                crate::sink::digest::L2Encoding::Levels
            }
        }
    }

    /// [`quote_of`](Self::quote_of) as a function (what an L2 backtest is given to keep its
    /// accounts in one currency).
    pub fn quote_fn(self) -> fn(&str) -> Option<String> {
        match self {
            VenueFormat::Binance => |s| VenueFormat::Binance.quote_of(s),
            VenueFormat::Coinbase => |s| VenueFormat::Coinbase.quote_of(s),
            VenueFormat::CoinbaseAdvanced => |s| VenueFormat::CoinbaseAdvanced.quote_of(s),
            VenueFormat::Kraken => |s| VenueFormat::Kraken.quote_of(s),
        }
    }

    /// The quote currency of one of the venue's symbols.
    pub fn quote_of(self, symbol: &str) -> Option<String> {
        asset_of(self, symbol).map(|(_, q)| q)
    }
}

/// Base and quote currency of a venue's symbol (`BTCUSDT`, `BTC-USD`, `XBT/USD`), with Kraken's
/// `XBT`/`XDG` spelled `BTC`/`DOGE`; `None` when the symbol cannot be split.
pub fn asset_of(format: VenueFormat, symbol: &str) -> Option<(String, String)> {
    let norm = |c: &str| match c.to_ascii_uppercase().as_str() {
        "XBT" => "BTC".to_owned(),
        "XDG" => "DOGE".to_owned(),
        u => u.to_owned(),
    };
    let split = |sep: char| {
        let (b, q) = symbol.split_once(sep)?;
        (!b.is_empty() && !q.is_empty()).then(|| (norm(b), norm(q)))
    };
    match format {
        VenueFormat::Coinbase | VenueFormat::CoinbaseAdvanced => split('-'),
        VenueFormat::Kraken => split('/'),
        VenueFormat::Binance => {
            // Longest quote first (FDUSD before USD...).
            const QUOTES: [&str; 17] = [
                "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USDP", "DAI", "BTC", "ETH", "BNB", "EUR",
                "GBP", "TRY", "BRL", "JPY", "AUD", "USD",
            ];
            let u = symbol.to_ascii_uppercase();
            QUOTES.iter().find_map(|q| {
                let b = u.strip_suffix(q)?;
                (!b.is_empty()).then(|| (b.to_owned(), (*q).to_owned()))
            })
        }
    }
}

/// A venue's sync state machine: frames in, events out.
///
/// Every call appends the events of what it was given to `out` (a frame's events, in order);
/// counters of what could not be used go to the summary. A machine holds no book and no
/// output, so it can run on its own thread ahead of the book stage.
pub trait VenueSync: Send {
    /// The venue.
    fn format(&self) -> VenueFormat;

    /// One classified capture line (counted in `s.lines` already) received at `ts` (after the
    /// time guard: see [`Frames`]). By default a frame goes to [`on_frame`](Self::on_frame), a
    /// REST response is not this venue's (venues that take snapshots over REST override this),
    /// and a header line is control.
    fn on_line(&mut self, ts: u64, line: CaptureLine<'_>, s: &mut L2Summary, out: &mut EventBuf) {
        match line {
            CaptureLine::Frame { json, .. } => self.on_frame(ts, json, s, out),
            CaptureLine::Rest { .. } => s.unknown += 1,
            CaptureLine::Meta { .. } => s.control += 1,
        }
    }

    /// One websocket frame (or REST body, for venues that take snapshots over REST) received
    /// at `ts`.
    fn on_frame(&mut self, ts: u64, json: &[u8], s: &mut L2Summary, out: &mut EventBuf);

    /// The connection was lost at `ts`: every book is stale until the venue's next snapshot.
    fn lose_sync(&mut self, ts: u64, out: &mut EventBuf);

    /// Whether instrument `i` waits for a snapshot it must ask for (venues that take them over
    /// REST): unsynced, with diffs buffered.
    fn awaiting_snapshot(&self, _i: usize) -> bool {
        false
    }

    /// The venue's update id instrument `i`'s book is at, while synced (venues that number
    /// their diffs).
    fn sequence(&self, _i: usize) -> Option<u64> {
        None
    }

    /// Diffs decoded and tickers seen so far, all instruments (for live metrics; the summary
    /// gets them per instrument from [`finish`](Self::finish)).
    fn counts(&self) -> (u64, u64) {
        (0, 0)
    }

    /// Venue-specific per-symbol counts into the summary's per-symbol rows (by instrument),
    /// and a check that the input was this venue's at all.
    ///
    /// # Errors
    /// The bad-line count for [`CryptoReplayError::WrongVenue`]: lines were read but
    /// none decoded as this venue's.
    fn finish(&mut self, s: &mut L2Summary) -> Result<(), u64>;
}

/// Ends a venue machine's part of a run: its per-symbol counts into `s`'s rows, the totals,
/// and the check that the input was this venue's at all (the inline runner and the threaded
/// pipeline both end here).
///
/// # Errors
/// [`CryptoReplayError::WrongVenue`] when lines were read but none decoded.
pub fn finish_machine(
    machine: &mut dyn VenueSync,
    s: &mut L2Summary,
) -> Result<(), CryptoReplayError> {
    let venue = machine.format();
    machine
        .finish(s)
        .map_err(|bad| CryptoReplayError::WrongVenue {
            venue: venue.title(),
            bad,
        })?;
    s.total_symbols();
    Ok(())
}

/// One raw capture line through a venue's machine, as every runner treats it: blank lines are
/// skipped, others counted, classified (or counted bad), their receive time admitted by the
/// time guard, their container noted, and their events written to `out`.
pub fn feed_line(
    machine: &mut dyn VenueSync,
    frames: &mut Frames,
    seen: &mut crate::venue::capture::SeenContainers,
    line: &[u8],
    s: &mut L2Summary,
    out: &mut EventBuf,
) {
    if line.trim_ascii().is_empty() {
        return;
    }
    s.lines += 1;
    let Some(l) = crate::venue::capture::classify(line) else {
        s.bad_lines += 1;
        return;
    };
    let ts = match l.ts_ns() {
        Some(t) => frames.admit(t),
        None => frames.last(),
    };
    seen.add(l.container());
    machine.on_line(ts, l, s, out);
}

/// Adds a venue's per-instrument ticker counts to the summary's rows, after checking that the
/// input was the venue's at all (`decoded`: frames its decoder understood).
///
/// # Errors
/// The bad-line count when lines were read but none decoded.
pub fn finish_tickers(
    decoded: u64,
    tickers: impl IntoIterator<Item = u64>,
    s: &mut L2Summary,
) -> Result<(), u64> {
    if decoded == 0 && s.lines > 0 {
        return Err(s.bad_total());
    }
    for (row, t) in s.symbols.iter_mut().zip(tickers) {
        row.tickers += t;
    }
    Ok(())
}

/// The events of one frame, as a venue's machine writes them, with the instruments it named.
///
/// Events of one venue message (one instrument) in a row are one message: all but its last
/// carry [`Header::MORE`]. Sequence numbers count events from 0 over the run.
pub struct EventBuf {
    events: Vec<Event>,
    next_seq: u64,
    ts: u64,
    ts_exch: u64,
    source: SourceId,
    /// Names of the instruments, by index (first-seen order).
    names: Vec<String>,
    /// The last event ended its message.
    split: bool,
}

impl Default for EventBuf {
    fn default() -> Self {
        Self::new(SourceId(0))
    }
}

impl EventBuf {
    /// An empty buffer for events of `source`.
    pub fn new(source: SourceId) -> Self {
        EventBuf {
            events: Vec::with_capacity(4096),
            next_seq: 0,
            ts: 0,
            ts_exch: 0,
            source,
            names: Vec::new(),
            split: false,
        }
    }

    /// Starts a frame received at `ts` (the receive time of every event until the next).
    pub fn at(&mut self, ts: u64) {
        self.ts = ts;
        self.ts_exch = 0;
    }

    /// Sets the venue's own time of the events that follow in this frame (0: none).
    pub fn exchange_time(&mut self, ts: u64) {
        self.ts_exch = ts;
    }

    /// The instrument named `symbol`, its index assigned (and a [`Body::Symbol`] event
    /// written) on first sight.
    pub fn instrument(&mut self, symbol: &str) -> InstrumentIdx {
        if let Some(i) = self.names.iter().position(|n| n == symbol) {
            return InstrumentIdx(i as u32);
        }
        let i = InstrumentIdx(self.names.len() as u32);
        self.names.push(symbol.to_owned());
        let mut name = [0u8; 24];
        for (o, b) in name.iter_mut().zip(symbol.bytes()) {
            *o = b;
        }
        self.push(i, Body::Symbol { name });
        i
    }

    /// Renames instrument `i` (a book that a snapshot created before its symbol was known).
    pub fn rename(&mut self, i: InstrumentIdx, symbol: &str) {
        if let Some(n) = self.names.get_mut(i.get()) {
            symbol.clone_into(n);
            let mut name = [0u8; 24];
            for (o, b) in name.iter_mut().zip(symbol.bytes()) {
                *o = b;
            }
            self.push(i, Body::Symbol { name });
        }
    }

    /// The index of `symbol` if it was named.
    pub fn find(&self, symbol: &str) -> Option<InstrumentIdx> {
        self.names
            .iter()
            .position(|n| n == symbol)
            .map(|i| InstrumentIdx(i as u32))
    }

    /// Names of the instruments so far, by index.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Appends one event of instrument `i`.
    pub fn push(&mut self, i: InstrumentIdx, body: Body) {
        let hdr = Header {
            ts_exch: Nanos(self.ts_exch),
            ts_recv: Nanos(self.ts),
            seq: self.next_seq,
            instr: i,
            source: self.source,
            flags: 0,
        };
        self.next_seq += 1;
        if let Some(prev) = self.events.last_mut() {
            if !self.split && prev.hdr.instr == i && !matches!(body, Body::Symbol { .. }) {
                prev.hdr.flags |= Header::MORE;
            }
        }
        self.split = false;
        self.events.push(Event { hdr, body });
    }

    /// Level updates of instrument `i` (quantity 0 removes a level; negative ones count as 0).
    pub fn levels(&mut self, i: InstrumentIdx, levels: &[LevelUpdate]) {
        for l in levels {
            self.push(
                i,
                Body::Level {
                    side: if l.bid { Side::Bid } else { Side::Ask },
                    px: Px(l.px),
                    qty: Qty(l.qty.max(0) as u64),
                },
            );
        }
    }

    /// A snapshot of instrument `i`: the book becomes exactly `levels` and is synced.
    pub fn snapshot(&mut self, i: InstrumentIdx, levels: &[LevelUpdate]) {
        self.push(i, Body::SnapshotBegin);
        self.levels(i, levels);
        self.push(i, Body::SnapshotEnd);
    }

    /// A trade of instrument `i`; `resting` is the side of the resting (maker) order.
    pub fn trade(&mut self, i: InstrumentIdx, px: i64, qty: i64, resting: Side) {
        self.push(
            i,
            Body::Trade {
                px: Px(px),
                qty: Qty(qty.max(0) as u64),
                side: Some(resting),
            },
        );
    }

    /// The venue's best bid and ask, to compare with the book (prices; sizes too when given).
    pub fn top_check(
        &mut self,
        i: InstrumentIdx,
        bid: (i64, Option<i64>),
        ask: (i64, Option<i64>),
    ) {
        for (side, (px, qty)) in [(Side::Bid, bid), (Side::Ask, ask)] {
            self.push(
                i,
                Body::TopCheck {
                    side,
                    px: Px(px),
                    qty: Qty(qty.unwrap_or(0).max(0) as u64),
                    with_qty: qty.is_some(),
                },
            );
        }
    }

    /// The connection was lost at `ts`: every instrument named so far becomes stale, its book
    /// emptied, each its own message.
    pub fn lose_all(&mut self, ts: u64) {
        self.at(ts);
        for i in 0..self.names.len() {
            self.push(InstrumentIdx(i as u32), Body::Stale { clear: true });
            self.end_message();
        }
    }

    /// Ends the current message: the next event of the same instrument starts a new one.
    pub fn end_message(&mut self) {
        if let Some(prev) = self.events.last_mut() {
            prev.hdr.flags &= !Header::MORE;
        }
        self.split = true;
    }

    /// The events written since the last [`clear`](Self::clear), in order.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// Forgets the events handed on (keeps the names and the sequence count).
    pub fn clear(&mut self) {
        self.events.clear();
        self.split = false;
    }

    /// Events written over the run.
    pub fn written(&self) -> u64 {
        self.next_seq
    }
}

/// Receive times of a capture's frames through the time guard (one per run): the time a
/// frame's events are stamped with.
pub struct Frames {
    time: TimeGuard,
    last: u64,
}

impl Frames {
    /// A guard allowing jumps up to `max_time_jump_ns` (`None`: the default).
    pub fn new(max_time_jump_ns: Option<u64>) -> Self {
        Frames {
            time: max_time_jump_ns.map_or_else(TimeGuard::default, TimeGuard::new),
            last: 0,
        }
    }

    /// The time to apply a frame received at `ts` at: `ts`, or the previous frame's time when
    /// it jumped by more than allowed (counted).
    pub fn admit(&mut self, ts: u64) -> u64 {
        self.last = self.time.admit(ts);
        self.last
    }

    /// The last admitted time.
    pub fn last(&self) -> u64 {
        self.last
    }

    /// Adds the jumps counted to `s`.
    pub fn count_into(&self, s: &mut L2Summary) {
        let j = self.time.jumps();
        s.time_jump_forward += j.forward;
        s.time_jump_backward += j.backward;
    }
}
