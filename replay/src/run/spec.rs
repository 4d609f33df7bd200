//! [`RunSpec`]: a whole run as one serializable value.
//!
//! The command line builds one from its flags, a user writes one as TOML (`ticklane replay
//! --spec run.toml`), and a backtest's `manifest.json` stores the one it ran, so `ticklane
//! verify` re-runs exactly that, from any working directory. Paths in a spec read from a file
//! are relative to that file's folder ([`RunSpec::resolve`]); a manifest stores them relative
//! to its own folder ([`RunSpec::relative_to`]).
//!
//! ```toml
//! format = "itch"                                   # auto, itch, lobster, binance, coinbase,
//!                                                   # kraken, journal, consolidated
//! [[inputs]]
//! path = "data/AAPL_2012-06-21_lobster10.itch"
//!
//! [options]                                         # what changes the digest besides the data
//! symbols = ["AAPL"]
//! max_time_jump_ns = 21600000000000
//!
//! [pipeline]
//! mode = "threads"
//! shards = 2
//!
//! [strategy]
//! name = "market_maker"
//! [strategy.config]                                 # the strategy's own keys
//! half_spread = 2.0
//!
//! [exec]                                            # the keys of data/exec-example.toml
//! queue.model = "fifo"
//!
//! [outputs]
//! report = "out"
//! ```

use std::io;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use ticklane_engine::wait::WaitStrategy;
use ticklane_feeds::json::Precision;

use crate::backtest::config::{ExecConfig, ExecConfigError};

/// What kind of data a run reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Told from the file: a journal by its magic bytes, LOBSTER by its file name, else ITCH.
    #[default]
    Auto,
    /// NASDAQ TotalView-ITCH 5.0 BinaryFILE (plain or gzip).
    Itch,
    /// A LOBSTER message file.
    Lobster,
    /// A Binance capture (one book per symbol).
    Binance,
    /// A Coinbase Exchange capture (one book per product).
    Coinbase,
    /// A Coinbase Advanced Trade capture (one book per product).
    #[serde(rename = "coinbase-advanced")]
    CoinbaseAdvanced,
    /// A Kraken capture (websocket v2 or v1).
    Kraken,
    /// A `ticklane live` journal (ITCH or websocket).
    Journal,
    /// Several crypto captures merged into one consolidated BBO (one input per venue).
    Consolidated,
}

impl Format {
    /// The name as the spec and the command line write it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Itch => "itch",
            Format::Lobster => "lobster",
            Format::Binance => "binance",
            Format::Coinbase => "coinbase",
            Format::CoinbaseAdvanced => "coinbase-advanced",
            Format::Kraken => "kraken",
            Format::Journal => "journal",
            Format::Consolidated => "consolidated",
        }
    }

    /// Price-level (L2) crypto data: 8-decimal prices and sizes, only the L2 queue models.
    pub fn is_l2(self) -> bool {
        self.venue().is_some()
    }

    /// The price-level venue this format reads, if it is one.
    pub fn venue(self) -> Option<crate::venue::VenueFormat> {
        use crate::venue::VenueFormat;
        match self {
            Format::Binance => Some(VenueFormat::Binance),
            Format::Coinbase => Some(VenueFormat::Coinbase),
            Format::CoinbaseAdvanced => Some(VenueFormat::CoinbaseAdvanced),
            Format::Kraken => Some(VenueFormat::Kraken),
            _ => None,
        }
    }
}

impl From<crate::venue::VenueFormat> for Format {
    fn from(v: crate::venue::VenueFormat) -> Self {
        use crate::venue::VenueFormat;
        match v {
            VenueFormat::Binance => Format::Binance,
            VenueFormat::Coinbase => Format::Coinbase,
            VenueFormat::CoinbaseAdvanced => Format::CoinbaseAdvanced,
            VenueFormat::Kraken => Format::Kraken,
        }
    }
}

/// One input file, with the SHA-256 a manifest records for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// The file (plain or gzip).
    pub path: PathBuf,
    /// SHA-256 of its bytes, lowercase hex: recorded in a manifest, checked by `verify`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Consolidated runs: the capture's venue (`binance`, `coinbase` or `kraken`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<Format>,
    /// Consolidated runs: the venue's name in the output (default `VENUE-STEM`, STEM the file
    /// name up to its first dot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Consolidated runs: the product to take from a capture holding several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
}

impl InputSpec {
    /// An input at `path`, nothing else recorded.
    pub fn new(path: impl Into<PathBuf>) -> InputSpec {
        InputSpec {
            path: path.into(),
            sha256: None,
            venue: None,
            label: None,
            product: None,
        }
    }
}

/// Options of one venue's protocol.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VenueOptions {
    /// Kraken v2: the subscribed book depth (default 10; 1..=1000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub book_depth: Option<usize>,
    /// Kraken v2: pairs' price and quantity decimals on the wire, `PAIR=PX,QTY`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub wire_precision: Vec<String>,
    /// LOBSTER: the symbol (default: from the file name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// LOBSTER: the order-book file: seeds the book from its first row, and every row is
    /// compared with ours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orderbook: Option<PathBuf>,
    /// LOBSTER with an order-book file: resynchronize the visible levels after a row that
    /// differs.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub resync: bool,
}

impl VenueOptions {
    fn is_default(&self) -> bool {
        *self == VenueOptions::default()
    }
}

/// Options that change what a run computes (and so its digest), besides the data, the
/// strategy and the execution config.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunOptions {
    /// ITCH and LOBSTER: restrict outputs (digest, CSV, trades, top symbols) to these
    /// symbols; the books are still built for all. Empty: every symbol.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub symbols: Vec<String>,
    /// Largest jump of a source's time between two messages, ns (`None`: 6 hours).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_time_jump_ns: Option<u64>,
    /// Binance, Coinbase, Kraken: report books while they are not synchronized too.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub accept_unsynced: bool,
}

impl RunOptions {
    fn is_default(&self) -> bool {
        *self == RunOptions::default()
    }
}

/// Where the stages run. Every layout gives the same digest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PipelineMode {
    /// Threads when the cores available give every stage its own and the input is 32 MiB or
    /// more, inline otherwise ([`crate::run::AutoLayout`]).
    #[default]
    Auto,
    /// Every stage on the calling thread (the reference).
    Inline,
    /// Decode, book shards and output on their own threads joined by SPSC rings.
    Threads,
}

/// The pipeline layout (ITCH).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Layout {
    /// Inline, threads, or chosen by the input's size.
    pub mode: PipelineMode,
    /// Book shards of the threaded pipeline (1..=64).
    pub shards: u16,
    /// Cores to pin the stages to: decode, shard 0..N-1, output.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cores: Vec<usize>,
    /// How stages wait on rings: `spin`, `yield` or `park`.
    #[serde(with = "wait_text")]
    pub wait: WaitStrategy,
    /// Record per-hop latency in the threaded pipeline (a clock read and a histogram sample per
    /// event and output, so off by default); it never changes the outputs.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub latency: bool,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            mode: PipelineMode::Auto,
            shards: 1,
            cores: Vec::new(),
            wait: WaitStrategy::default(),
            latency: false,
        }
    }
}

impl Layout {
    fn is_default(&self) -> bool {
        *self == Layout::default()
    }
}

/// [`WaitStrategy`] as its name (`spin`, `yield`, `park`).
mod wait_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use ticklane_engine::wait::WaitStrategy;

    pub(super) fn serialize<S: Serializer>(w: &WaitStrategy, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(w)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<WaitStrategy, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The strategy of a run and its configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StrategySpec {
    /// The name it is registered under (`ticklane strategies` lists them).
    pub name: String,
    /// Its keys, as its TOML configuration file would give them (`None`: its defaults).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<toml::Table>,
}

impl StrategySpec {
    /// The configuration as TOML text, as a strategy's constructor takes it.
    ///
    /// # Errors
    /// [`SpecError::StrategyConfig`] when a value has no TOML text (cannot happen for a table
    /// read from TOML or JSON).
    pub fn config_text(&self) -> Result<Option<String>, SpecError> {
        self.config
            .as_ref()
            .map(|t| toml::to_string(t).map_err(|e| SpecError::StrategyConfig(e.to_string())))
            .transpose()
    }
}

/// What a run writes besides its summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Outputs {
    /// Every change of a best bid or ask, as CSV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bbo_csv: Option<PathBuf>,
    /// The strategy's signals: JSON lines, or CSV for a `.csv` path; `-` for stdout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signals: Option<PathBuf>,
    /// The summary as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary_json: Option<PathBuf>,
    /// The backtest report's folder (summary.json, equity.svg, trades.csv, trades.parquet,
    /// manifest.json).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<PathBuf>,
    /// How many of the most active symbols the summary lists (0..=10000).
    pub top: usize,
    /// Publishing sinks, by URL (`kafka://HOST:PORT/PREFIX?...`, docs/kafka.md). `verify`
    /// does not publish again: it re-runs a manifest's spec without its outputs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sinks: Vec<String>,
}

impl Outputs {
    fn is_default(&self) -> bool {
        *self == Outputs::default()
    }
}

impl Default for Outputs {
    fn default() -> Self {
        Outputs {
            bbo_csv: None,
            signals: None,
            summary_json: None,
            report: None,
            top: 10,
            sinks: Vec::new(),
        }
    }
}

/// A whole run: input files and their format, venue options, options that change the digest,
/// pipeline layout, strategy and its configuration, execution configuration, outputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSpec {
    /// The inputs' format.
    #[serde(default)]
    pub format: Format,
    /// The input files: one, or one per venue for a consolidated run.
    pub inputs: Vec<InputSpec>,
    /// Venue protocol options.
    #[serde(default, skip_serializing_if = "VenueOptions::is_default")]
    pub venue: VenueOptions,
    /// Options that change the digest.
    #[serde(default, skip_serializing_if = "RunOptions::is_default")]
    pub options: RunOptions,
    /// Where the stages run.
    #[serde(default, skip_serializing_if = "Layout::is_default")]
    pub pipeline: Layout,
    /// The strategy, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<StrategySpec>,
    /// The execution simulator's configuration of a backtest (`None` with a strategy: the
    /// defaults for the data; an ITCH journal replays without accounting, as its live run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecConfig>,
    /// What the run writes.
    #[serde(default, skip_serializing_if = "Outputs::is_default")]
    pub outputs: Outputs,
}

/// Why a spec cannot be read or run as it is.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The TOML or JSON text does not describe a run (the message names the key or line).
    #[error("run spec: {0}")]
    Parse(String),
    /// The spec could not be written as TOML or JSON.
    #[error("run spec: cannot write it: {0}")]
    Write(String),
    /// Its `[exec]` table is not a valid execution configuration.
    #[error("run spec [exec]: {0}")]
    Exec(#[from] ExecConfigError),
    /// The strategy's configuration has no TOML text.
    #[error("run spec [strategy.config]: {0}")]
    StrategyConfig(String),
    /// A value does not go with the rest of the spec (an option this input does not take, a
    /// missing input, ...).
    #[error("{0}")]
    Invalid(String),
}

impl RunSpec {
    /// A run of one file in `format`, everything else at its default.
    pub fn for_file(format: Format, path: impl Into<PathBuf>) -> RunSpec {
        RunSpec {
            format,
            inputs: vec![InputSpec::new(path)],
            venue: VenueOptions::default(),
            options: RunOptions::default(),
            pipeline: Layout::default(),
            strategy: None,
            exec: None,
            outputs: Outputs::default(),
        }
    }

    /// Parses a spec from TOML. On L2 data (`binance`, `coinbase`, `kraken`), the `[exec]`
    /// table's `ticks_per_unit` and `lots_per_unit` default to 100000000 (the venues' 8
    /// decimals), as with `--exec-config`.
    ///
    /// # Errors
    /// [`SpecError::Parse`] naming the key or line; [`SpecError::Exec`] for a bad `[exec]`.
    pub fn from_toml_str(text: &str) -> Result<RunSpec, SpecError> {
        let mut spec: RunSpec = toml::from_str(text).map_err(|e| parse_err(&e))?;
        if let Some(exec) = spec.exec.as_mut() {
            let table: toml::Table = toml::from_str(text).map_err(|e| parse_err(&e))?;
            let keys = table.get("exec").and_then(toml::Value::as_table);
            let given = |k: &str| keys.is_some_and(|t| t.contains_key(k));
            if spec.format.is_l2() {
                exec.default_l2_units(given("ticks_per_unit"), given("lots_per_unit"));
            }
        }
        Ok(spec)
    }

    /// The spec as TOML (the form [`from_toml_str`](Self::from_toml_str) reads back).
    ///
    /// # Errors
    /// [`SpecError::Write`].
    pub fn to_toml_string(&self) -> Result<String, SpecError> {
        toml::to_string(self).map_err(|e| SpecError::Write(e.to_string()))
    }

    /// Parses a spec from JSON (as a manifest stores it).
    ///
    /// # Errors
    /// [`SpecError::Parse`] with the line and column.
    pub fn from_json_str(text: &str) -> Result<RunSpec, SpecError> {
        serde_json::from_str(text).map_err(|e| SpecError::Parse(e.to_string()))
    }

    /// The spec as pretty-printed JSON.
    ///
    /// # Errors
    /// [`SpecError::Write`].
    pub fn to_json_string(&self) -> Result<String, SpecError> {
        serde_json::to_string_pretty(self).map_err(|e| SpecError::Write(e.to_string()))
    }

    /// Reads a spec file: JSON for a `.json` path, else TOML; its relative paths are taken
    /// from the file's folder.
    ///
    /// # Errors
    /// [`SpecError::Parse`] (the I/O error of reading it included), [`SpecError::Exec`].
    pub fn load(path: &Path) -> Result<RunSpec, SpecError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SpecError::Parse(format!("cannot read {}: {e}", path.display())))?;
        let mut spec = if path.extension().is_some_and(|e| e == "json") {
            RunSpec::from_json_str(&text)?
        } else {
            RunSpec::from_toml_str(&text)?
        };
        spec.resolve(path.parent().unwrap_or(Path::new("")));
        Ok(spec)
    }

    /// Every path of the spec (inputs, the LOBSTER order book, the latency CSV, outputs but
    /// `-`), mapped by `f`.
    fn map_paths(&mut self, mut f: impl FnMut(&Path) -> PathBuf) {
        for i in &mut self.inputs {
            i.path = f(&i.path);
        }
        if let Some(p) = self.venue.orderbook.as_mut() {
            *p = f(p);
        }
        if let Some(csv) = self.exec.as_mut().and_then(|e| e.latency.csv.as_mut()) {
            *csv = f(Path::new(csv.as_str())).to_string_lossy().into_owned();
        }
        let o = &mut self.outputs;
        for p in [
            &mut o.bbo_csv,
            &mut o.signals,
            &mut o.summary_json,
            &mut o.report,
        ]
        .into_iter()
        .flatten()
        {
            if p.as_os_str() != "-" {
                *p = f(p);
            }
        }
    }

    /// Takes every relative path as relative to `base` (a spec file's or a manifest's folder).
    pub fn resolve(&mut self, base: &Path) {
        if base.as_os_str().is_empty() {
            return;
        }
        self.map_paths(|p| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        });
    }

    /// Writes every path relative to `dir`, so the spec stored in `dir` finds its files from
    /// any working directory once [`resolve`](Self::resolve)d against `dir` again.
    ///
    /// # Errors
    /// The I/O error of finding the working directory.
    pub fn relative_to(&mut self, dir: &Path) -> io::Result<()> {
        let dir = real_path(dir)?;
        let mut err = None;
        self.map_paths(|p| match real_path(p) {
            Ok(abs) => relative_path(&abs, &dir),
            Err(e) => {
                err.get_or_insert(e);
                p.to_path_buf()
            }
        });
        err.map_or(Ok(()), Err)
    }

    /// The format, told from the file when it is [`Format::Auto`]: a journal by its magic
    /// bytes, LOBSTER by its file name, else ITCH.
    pub fn resolved_format(&self) -> Format {
        if self.format != Format::Auto {
            return self.format;
        }
        let Some(input) = self.inputs.first() else {
            return Format::Itch;
        };
        if is_journal(&input.path) {
            return Format::Journal;
        }
        let name = input
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        match ticklane_feeds::lobster::parse_file_name(name) {
            Some(n) if n.is_message => Format::Lobster,
            _ => Format::Itch,
        }
    }

    /// The Kraken wire precisions, parsed.
    ///
    /// # Errors
    /// [`SpecError::Invalid`] naming the entry that is not `PAIR=PX,QTY`.
    pub fn wire_precision(&self) -> Result<Vec<(String, Precision)>, SpecError> {
        self.venue
            .wire_precision
            .iter()
            .map(|w| parse_wire_precision(w))
            .collect()
    }

    /// Checks that every part of the spec applies to its input (`format` as resolved): an
    /// option the input does not take is an error, never ignored.
    ///
    /// # Errors
    /// [`SpecError::Invalid`] saying which option and why.
    pub fn check(&self, format: Format) -> Result<(), SpecError> {
        let bad = |m: String| Err(SpecError::Invalid(m));
        let f = format.name();
        // A consolidated run's sources are counted where they are merged.
        match (format, self.inputs.len()) {
            (Format::Consolidated, _) => {}
            (_, 1) => {}
            (_, n) => return bad(format!("a {f} run reads one input file (got {n})")),
        }
        for i in &self.inputs {
            let venue_keys = i.venue.is_some() || i.label.is_some() || i.product.is_some();
            if format == Format::Consolidated {
                if !i.venue.is_some_and(Format::is_l2) {
                    return bad(format!(
                        "input {}: a consolidated run's inputs each name their venue: binance, coinbase or kraken",
                        i.path.display()
                    ));
                }
            } else if venue_keys {
                return bad(format!(
                    "input {}: venue, label and product apply to consolidated runs only",
                    i.path.display()
                ));
            }
        }
        let v = &self.venue;
        let kraken = matches!(format, Format::Kraken | Format::Consolidated);
        if !kraken && (v.book_depth.is_some() || !v.wire_precision.is_empty()) {
            return bad(format!(
                "venue.book_depth and venue.wire_precision apply to Kraken data, not to {f}"
            ));
        }
        if let Some(d) = v.book_depth {
            if !(1..=1000).contains(&d) {
                return bad(format!(
                    "venue.book_depth = {d} is out of range 1..=1000 (subscribed book depth, levels)"
                ));
            }
        }
        self.wire_precision()?;
        if format != Format::Lobster && (v.symbol.is_some() || v.orderbook.is_some() || v.resync) {
            return bad(format!(
                "venue.symbol, venue.orderbook and venue.resync apply to LOBSTER files, not to {f}"
            ));
        }
        if v.resync && v.orderbook.is_none() {
            return bad("venue.resync needs venue.orderbook (a LOBSTER order-book file)".into());
        }
        let streams = matches!(format, Format::Itch | Format::Auto) || format.is_l2();
        if !self.outputs.sinks.is_empty() && !streams {
            return bad(format!(
                "outputs.sinks (--sink) applies to ITCH replays and price-level captures ({}), not to {f}",
                crate::venue::VenueFormat::names()
            ));
        }
        for url in &self.outputs.sinks {
            crate::sink::SinkUrl::parse(url)
                .map_err(|e| SpecError::Invalid(format!("outputs.sinks: {e}")))?;
        }
        let o = &self.options;
        if !o.symbols.is_empty() && !matches!(format, Format::Itch | Format::Lobster) {
            return bad(format!(
                "options.symbols applies to ITCH and LOBSTER data, not to {f}"
            ));
        }
        if o.accept_unsynced && !format.is_l2() {
            return bad(format!(
                "options.accept_unsynced applies to Binance, Coinbase and Kraken data, not to {f}"
            ));
        }
        if let Some(ns) = o.max_time_jump_ns {
            if format == Format::Journal {
                return bad("options.max_time_jump_ns is not available on a journal replay: it re-drives the live daemon's path, whose times are held to the default bound (6h)".into());
            }
            if !ticklane_engine::event_time::MAX_TIME_JUMP_RANGE_NS.contains(&ns) {
                return bad(format!(
                    "options.max_time_jump_ns = {ns} is out of range 1ms..=400d"
                ));
            }
        }
        let p = &self.pipeline;
        if !(1..=64).contains(&p.shards) {
            return bad(format!(
                "pipeline.shards = {} is out of range 1..=64",
                p.shards
            ));
        }
        if let Some(c) = p.cores.iter().find(|c| **c > 1023) {
            return bad(format!("pipeline.cores: {c} is out of range 0..=1023"));
        }
        let threaded = matches!(
            format,
            Format::Itch
                | Format::Binance
                | Format::Coinbase
                | Format::CoinbaseAdvanced
                | Format::Kraken
        );
        if !threaded && !p.is_default() {
            return bad(format!(
                "pipeline applies to ITCH files and price-level captures (the threaded pipeline), not to {f}"
            ));
        }
        if p.latency && !matches!(format, Format::Itch | Format::Auto) {
            return bad(format!(
                "pipeline.latency (--latency) measures the threaded ITCH pipeline, not {f}"
            ));
        }
        if p.latency && p.mode == PipelineMode::Inline {
            return bad(
                "pipeline.latency (--latency) measures the threaded pipeline: the inline layout has no hops to time (use --pipeline threads)".into(),
            );
        }
        if threaded
            && format != Format::Itch
            && p.mode == PipelineMode::Threads
            && p.shards > 1
            && self.strategy.is_some()
        {
            return bad(format!(
                "a backtest on {f} data runs in one book shard (its accounts are one ledger): use pipeline.shards = 1 (--shards 1)"
            ));
        }
        if self.outputs.top > 10_000 {
            return bad(format!(
                "outputs.top = {} is out of range 0..=10000",
                self.outputs.top
            ));
        }
        match &self.strategy {
            None => {
                if self.exec.is_some()
                    || self.outputs.signals.is_some()
                    || self.outputs.report.is_some()
                {
                    return bad("exec, outputs.signals and outputs.report need a strategy".into());
                }
            }
            Some(_) => {
                if matches!(format, Format::Lobster | Format::Consolidated) {
                    return bad(format!(
                        "a strategy does not run on {f} data (replay ITCH, or a crypto capture)"
                    ));
                }
                if self.outputs.signals.is_some() && format != Format::Itch {
                    return bad(format!(
                        "outputs.signals applies to ITCH replays, not to {f}"
                    ));
                }
                if format == Format::Journal && self.outputs.report.is_some() {
                    return bad("outputs.report is not available on a journal replay (it re-drives the live daemon's path); backtest a capture or a file instead".into());
                }
            }
        }
        if let Some(e) = &self.exec {
            if format.is_l2() && e.queue.model == "fifo" {
                return bad(FIFO_ON_L2.into());
            }
        }
        Ok(())
    }

    /// The execution configuration a backtest of this spec runs with, on `format` data (as
    /// resolved): the spec's, or the defaults for the data (L2 units on L2 data). `None` when
    /// nothing is accounted: no strategy, or an ITCH journal (its live run kept no accounts).
    pub fn effective_exec(&self, format: Format, ws_journal: bool) -> Option<ExecConfig> {
        self.strategy.as_ref()?;
        if format == Format::Journal && !ws_journal {
            return None;
        }
        Some(self.exec.clone().unwrap_or_else(|| {
            let mut e = ExecConfig::default();
            if format.is_l2() || ws_journal {
                e.default_l2_units(false, false);
            }
            e
        }))
    }
}

/// The message for the FIFO queue model on L2 data.
pub(crate) const FIFO_ON_L2: &str = "queue model fifo needs order-by-order (L3) data; on L2 data use --queue conservative or --queue probabilistic (or the config's queue.model)";

fn parse_err(e: &toml::de::Error) -> SpecError {
    SpecError::Parse(e.to_string().trim().to_owned())
}

/// `BTC/USD=1,8` → (`BTC/USD`, 1 price decimal, 8 quantity decimals).
///
/// # Errors
/// [`SpecError::Invalid`] with the expected shape.
pub fn parse_wire_precision(s: &str) -> Result<(String, Precision), SpecError> {
    let parse = || -> Option<(String, Precision)> {
        let (pair, d) = s.split_once('=')?;
        let (px, qty) = d.split_once(',')?;
        let (px, qty) = (px.trim().parse().ok()?, qty.trim().parse().ok()?);
        (px <= 8 && qty <= 8 && !pair.is_empty()).then(|| (pair.to_owned(), Precision { px, qty }))
    };
    parse().ok_or_else(|| {
        SpecError::Invalid(format!(
            "--wire-precision {s:?}: expected PAIR=PX,QTY with decimals 0..=8, e.g. BTC/USD=1,8"
        ))
    })
}

/// A consolidated source's default label: `VENUE-STEM`, STEM the file name up to its first
/// dot.
pub(crate) fn default_label(venue: &str, path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("capture");
    let stem = name
        .split('.')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(name);
    format!("{venue}-{stem}")
}

/// True when the file at `path` starts with the journal magic (plain, not gzip).
pub fn is_journal(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && ticklane_feeds::journal::is_journal(&head)
}

/// `path` made absolute: the real path when it exists (symbolic links resolved, so `..` in a
/// relative path means what the file system says), else the working directory joined and
/// `.` and `..` removed by name.
pub(crate) fn real_path(path: &Path) -> io::Result<PathBuf> {
    if let Ok(p) = path.canonicalize() {
        return Ok(p);
    }
    let abs = std::path::absolute(path)?;
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// The relative path from the folder `dir` to `path`, both absolute and normalized.
pub(crate) fn relative_path(path: &Path, dir: &Path) -> PathBuf {
    let (p, d): (Vec<_>, Vec<_>) = (path.components().collect(), dir.components().collect());
    let common = p.iter().zip(&d).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..d.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> RunSpec {
        let mut s = RunSpec::for_file(Format::Itch, "data/AAPL_2012-06-21_lobster10.itch");
        s.inputs[0].sha256 = Some("ab".repeat(32));
        s.options.symbols = vec!["AAPL".into()];
        s.options.max_time_jump_ns = Some(90_000_000_000);
        s.pipeline = Layout {
            mode: PipelineMode::Threads,
            shards: 3,
            cores: vec![0, 1],
            wait: WaitStrategy::Park,
            latency: true,
        };
        let config: toml::Table = toml::from_str("half_spread = 2.5\nsize = 300\n").unwrap();
        s.strategy = Some(StrategySpec {
            name: "market_maker".into(),
            config: Some(config),
        });
        let mut exec = ExecConfig::default();
        exec.latency.model = "per_action".into();
        exec.latency.new_ns = 30_000;
        exec.fees.maker_bps = -0.2;
        exec.periods_per_year = 365.0 * 86_400e9 / 3e9;
        s.exec = Some(exec);
        s.outputs.report = Some("out".into());
        s.outputs.top = 3;
        s
    }

    #[test]
    fn a_spec_round_trips_through_toml_and_json() {
        for spec in [
            full(),
            RunSpec::for_file(Format::Auto, "x.itch"),
            RunSpec {
                format: Format::Kraken,
                venue: VenueOptions {
                    book_depth: Some(25),
                    wire_precision: vec!["BTC/USD=1,8".into()],
                    ..VenueOptions::default()
                },
                options: RunOptions {
                    accept_unsynced: true,
                    ..RunOptions::default()
                },
                ..RunSpec::for_file(Format::Kraken, "k.gz")
            },
        ] {
            let toml_text = spec.to_toml_string().unwrap();
            let back = RunSpec::from_toml_str(&toml_text).unwrap();
            assert_eq!(back, spec, "{toml_text}");
            let json = spec.to_json_string().unwrap();
            assert_eq!(RunSpec::from_json_str(&json).unwrap(), spec, "{json}");
            // JSON → TOML → JSON: one value in either form.
            let again = RunSpec::from_toml_str(&back.to_toml_string().unwrap()).unwrap();
            assert_eq!(again.to_json_string().unwrap(), json);
        }
        let t = full().to_toml_string().unwrap();
        assert!(
            t.contains("[strategy.config]") && t.contains("half_spread = 2.5"),
            "{t}"
        );
        assert!(t.contains("wait = \"park\""), "{t}");
    }

    #[test]
    fn a_hand_written_spec_reads_with_defaults_and_refuses_unknown_keys() {
        let s = RunSpec::from_toml_str(
            "[[inputs]]\npath = \"a.itch\"\n[strategy]\nname = \"obi_taker\"\n\
             [strategy.config]\nthreshold = 0.7\n",
        )
        .unwrap();
        assert_eq!(s.format, Format::Auto);
        assert_eq!(s.pipeline, Layout::default());
        assert_eq!(s.outputs.top, 10);
        assert_eq!(
            s.strategy.as_ref().unwrap().config_text().unwrap().unwrap(),
            "threshold = 0.7\n"
        );
        assert!(s.exec.is_none());
        for (text, key) in [
            (
                "[[inputs]]\npath = \"a\"\n[options]\nsymbol = [\"A\"]\n",
                "symbol",
            ),
            ("[[inputs]]\npath = \"a\"\nformat = \"itch\"\n", "format"),
            (
                "[[inputs]]\npath = \"a\"\n[exec]\nqueue.modle = \"fifo\"\n",
                "modle",
            ),
            (
                "[[inputs]]\npath = \"a\"\n[pipeline]\nwait = \"nap\"\n",
                "nap",
            ),
            (
                "format = \"parquet\"\n[[inputs]]\npath = \"a\"\n",
                "parquet",
            ),
        ] {
            let e = RunSpec::from_toml_str(text).err().unwrap().to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
    }

    #[test]
    fn l2_specs_take_the_l2_units_unless_the_exec_table_gives_them() {
        let s = RunSpec::from_toml_str(
            "format = \"binance\"\n[[inputs]]\npath = \"b.gz\"\n[strategy]\nname = \"market_maker\"\n\
             [exec]\nqueue.model = \"conservative\"\nlots_per_unit = 1000\n",
        )
        .unwrap();
        let e = s.exec.as_ref().unwrap();
        assert_eq!((e.ticks_per_unit, e.lots_per_unit), (100_000_000, 1000));
        assert!(e.periods_per_year > 0.0);
        // The same table on ITCH keeps the ITCH units; no [exec] takes the data's defaults.
        let itch = RunSpec::from_toml_str(
            "format = \"itch\"\n[[inputs]]\npath = \"a\"\n[strategy]\nname = \"x\"\n[exec]\nfeed_latency_ns = 5\n",
        )
        .unwrap();
        assert_eq!(itch.exec.as_ref().unwrap().ticks_per_unit, 10_000);
        let mut bare = RunSpec::for_file(Format::Coinbase, "c");
        assert!(bare.effective_exec(Format::Coinbase, false).is_none());
        bare.strategy = Some(StrategySpec {
            name: "x".into(),
            config: None,
        });
        let e = bare.effective_exec(Format::Coinbase, false).unwrap();
        assert_eq!(e.ticks_per_unit, 100_000_000);
        assert!(bare.effective_exec(Format::Journal, false).is_none());
        assert!(bare.effective_exec(Format::Journal, true).is_some());
    }

    #[test]
    fn options_that_do_not_apply_to_the_input_are_refused() {
        let itch = || RunSpec::for_file(Format::Itch, "a.itch");
        let with_strategy = |mut s: RunSpec| {
            s.strategy = Some(StrategySpec {
                name: "obi_taker".into(),
                config: None,
            });
            s
        };
        assert!(itch().check(Format::Itch).is_ok());
        let cases: Vec<(RunSpec, Format, &str)> = vec![
            (
                RunSpec {
                    options: RunOptions {
                        accept_unsynced: true,
                        ..Default::default()
                    },
                    ..itch()
                },
                Format::Itch,
                "accept_unsynced",
            ),
            (
                RunSpec {
                    venue: VenueOptions {
                        book_depth: Some(10),
                        ..Default::default()
                    },
                    ..RunSpec::for_file(Format::Binance, "b")
                },
                Format::Binance,
                "book_depth",
            ),
            (
                RunSpec {
                    venue: VenueOptions {
                        book_depth: Some(0),
                        ..Default::default()
                    },
                    ..RunSpec::for_file(Format::Kraken, "k")
                },
                Format::Kraken,
                "out of range",
            ),
            (
                RunSpec {
                    options: RunOptions {
                        symbols: vec!["BTCUSDT".into()],
                        ..Default::default()
                    },
                    ..RunSpec::for_file(Format::Binance, "b")
                },
                Format::Binance,
                "symbols",
            ),
            (
                with_strategy(RunSpec::for_file(Format::Lobster, "m.csv")),
                Format::Lobster,
                "strategy",
            ),
            (
                {
                    let mut s = with_strategy(RunSpec::for_file(Format::Binance, "b"));
                    s.exec = Some(ExecConfig::default());
                    s
                },
                Format::Binance,
                "fifo",
            ),
            (
                RunSpec {
                    outputs: Outputs {
                        report: Some("out".into()),
                        ..Outputs::default()
                    },
                    ..itch()
                },
                Format::Itch,
                "need a strategy",
            ),
            (
                RunSpec {
                    pipeline: Layout {
                        shards: 2,
                        ..Layout::default()
                    },
                    ..RunSpec::for_file(Format::Lobster, "l")
                },
                Format::Lobster,
                "pipeline",
            ),
            (
                {
                    let mut s = with_strategy(RunSpec::for_file(Format::Coinbase, "c"));
                    s.pipeline = Layout {
                        mode: PipelineMode::Threads,
                        shards: 2,
                        ..Layout::default()
                    };
                    s
                },
                Format::Coinbase,
                "one book shard",
            ),
            (
                RunSpec {
                    options: RunOptions {
                        max_time_jump_ns: Some(1_000_000_000),
                        ..Default::default()
                    },
                    ..RunSpec::for_file(Format::Journal, "j")
                },
                Format::Journal,
                "journal",
            ),
            (
                RunSpec::for_file(Format::Consolidated, "one.gz"),
                Format::Consolidated,
                "name their venue",
            ),
            (
                RunSpec {
                    inputs: vec![InputSpec::new("a"), InputSpec::new("b")],
                    ..itch()
                },
                Format::Itch,
                "one input",
            ),
        ];
        for (spec, format, want) in cases {
            let e = spec.check(format).err().map(|e| e.to_string());
            assert!(
                e.as_deref().is_some_and(|e| e.contains(want)),
                "{want}: {e:?}"
            );
        }
    }

    #[test]
    fn paths_are_stored_relative_to_a_folder_and_resolved_from_it() {
        let base = std::env::temp_dir().join(format!("ticklane-spec-{}", std::process::id()));
        let (data, out) = (base.join("data"), base.join("runs/out"));
        std::fs::create_dir_all(&data).unwrap();
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(data.join("a.itch"), b"x").unwrap();
        std::fs::write(data.join("lat.csv"), b"entry_ns,response_ns\n1,1\n").unwrap();
        let mut s = full();
        s.inputs[0].path = data.join("a.itch");
        s.exec.as_mut().unwrap().latency.csv = Some(data.join("lat.csv").display().to_string());
        s.outputs.report = Some(out.clone());
        s.outputs.signals = Some("-".into());
        let mut rel = s.clone();
        rel.relative_to(&out).unwrap();
        assert_eq!(rel.inputs[0].path, Path::new("../../data/a.itch"));
        assert_eq!(
            rel.exec.as_ref().unwrap().latency.csv.as_deref(),
            Some("../../data/lat.csv")
        );
        assert_eq!(rel.outputs.report.as_deref(), Some(Path::new(".")));
        assert_eq!(rel.outputs.signals.as_deref(), Some(Path::new("-")));
        // Resolved against the folder again, every path names the same file.
        rel.resolve(&out);
        assert_eq!(
            rel.inputs[0].path.canonicalize().unwrap(),
            data.join("a.itch").canonicalize().unwrap()
        );
        let csv = rel.exec.as_ref().unwrap().latency.csv.clone().unwrap();
        assert_eq!(
            Path::new(&csv).canonicalize().unwrap(),
            data.join("lat.csv").canonicalize().unwrap()
        );
        // A spec file's paths are relative to its folder.
        let file = base.join("runs/run.toml");
        std::fs::write(
            &file,
            "format = \"itch\"\n[[inputs]]\npath = \"../data/a.itch\"\n[outputs]\nbbo_csv = \"bbo.csv\"\n",
        )
        .unwrap();
        let loaded = RunSpec::load(&file).unwrap();
        assert_eq!(
            loaded.inputs[0].path.canonicalize().unwrap(),
            data.join("a.itch").canonicalize().unwrap()
        );
        assert_eq!(
            loaded.outputs.bbo_csv.as_deref(),
            Some(base.join("runs/bbo.csv").as_path())
        );
        assert!(RunSpec::load(&base.join("nope.toml")).is_err());
    }

    #[test]
    fn the_reference_example_is_a_spec() {
        let doc = include_str!("../../../docs/cli.md");
        let section = &doc[doc
            .find("## Run specs")
            .expect("docs/cli.md has ## Run specs")..];
        let start = section.find("```toml\n").expect("a TOML example") + "```toml\n".len();
        let text = &section[start..start + section[start..].find("```").unwrap()];
        let spec = RunSpec::from_toml_str(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(spec.format, Format::Itch);
        assert_eq!(spec.pipeline.shards, 2);
        assert_eq!(spec.exec.as_ref().unwrap().latency.new_ns, 30_000);
        assert!(spec.check(Format::Itch).is_ok());
    }

    #[test]
    fn relative_paths_between_folders() {
        assert_eq!(
            relative_path(Path::new("/a/b/c.itch"), Path::new("/a/d/e")),
            Path::new("../../b/c.itch")
        );
        assert_eq!(
            relative_path(Path::new("/a"), Path::new("/a")),
            Path::new(".")
        );
        assert_eq!(
            relative_path(Path::new("/a/b"), Path::new("/a")),
            Path::new("b")
        );
    }

    #[test]
    fn wire_precision_entries_parse_or_name_the_shape() {
        let (pair, p) = parse_wire_precision("BTC/USD=1,8").unwrap();
        assert_eq!((pair.as_str(), p.px, p.qty), ("BTC/USD", 1, 8));
        for bad in ["BTC/USD", "=1,8", "BTC/USD=9,1", "BTC/USD=1"] {
            let e = parse_wire_precision(bad).err().unwrap().to_string();
            assert!(e.contains("PAIR=PX,QTY"), "{bad}: {e}");
        }
    }
}
