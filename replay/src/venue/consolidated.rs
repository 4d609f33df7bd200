//! Consolidated best bid and offer of one asset across several captures (venues).
//!
//! Each source is one capture of one venue (`binance`, `coinbase`, `kraken`) and one product in
//! it. It runs through that venue's own sync machine and the price-level book stage
//! ([`crate::stages::l2::L2Replay`]), fed line by line exactly as its single-venue replay feeds it, so each
//! source's own digest equals the digest `ticklane replay --format VENUE FILE` prints.
//!
//! Merge: the captures are read incrementally and their lines taken in order of
//! (receive time, source index, line number within the source): a k-way merge over the sources'
//! next lines. A line without a receive time (a capture header, a line no container knows) sorts
//! at its source's previous line's time.
//!
//! After every line the source's top of book is read back from its state machine: a source
//! counts only while its book is synced (an unsynced or invalidated book is excluded, and the
//! receive time it spends excluded is accounted); a source whose capture has ended keeps its
//! last book. The consolidated best bid is the highest bid over the included sources, the best
//! ask the lowest ask; on equal prices the source given first wins (source order, not time
//! priority). The size reported is that source's size at the price. Every change of the
//! consolidated top (price, size or venue of either side) is a row; the row says whether the
//! consolidated book is `crossed` (best bid above best ask, across venues), `locked` (equal),
//! `normal`, or `one-sided` (a side has no quote).
//!
//! Prices and sizes are integers in 1e-8 units of the quote and base currency on every venue
//! (the single-venue replays already keep 8 decimals). Sources must quote the same asset in the
//! same currency: mixing quote currencies (USDT and USD, say) is refused, as there is no
//! conversion rate to apply.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;

use ticklane_engine::book::L2Book;
use ticklane_engine::{Digest, Px};

use crate::stages::l2::{CryptoReplayError, CryptoReplayOptions, L2Summary};
use crate::venue::capture::{classify, CaptureLine};
use crate::venue::L2Sync;

/// The consolidated CSV header line (without newline).
pub const HEADER: &str = "ts_recv_ns,bid_px,bid_qty,bid_venue,ask_px,ask_qty,ask_venue,state";

pub use crate::venue::{asset_of, VenueFormat};

/// One source: `FORMAT:PATH[,label=NAME][,product=ID]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceSpec {
    /// Venue format.
    pub format: VenueFormat,
    /// The capture.
    pub path: PathBuf,
    /// Venue label in the output (default `FORMAT-STEM`, the file name up to its first dot).
    pub label: String,
    /// The product (symbol, pair) to take from the capture; needed when it holds several.
    pub product: Option<String>,
}

impl std::str::FromStr for SourceSpec {
    type Err = String;

    /// Parses `FORMAT:PATH[,label=NAME][,product=ID]` (`symbol=` is a synonym of `product=`).
    fn from_str(s: &str) -> Result<Self, String> {
        let shape = format!(
            "expected FORMAT:PATH[,label=NAME][,product=ID] with FORMAT one of {}, \
             e.g. binance:../shared/data/binance/spot_btcusdt_20240808.gz",
            VenueFormat::names()
        );
        let Some((fmt, rest)) = s.split_once(':') else {
            return Err(format!("{s:?}: no FORMAT: prefix; {shape}"));
        };
        let Some(format) = VenueFormat::from_name(fmt) else {
            return Err(format!(
                "{s:?}: unknown format {:?}; {shape}",
                fmt.trim().to_ascii_lowercase()
            ));
        };
        let mut parts = rest.split(',');
        let path = parts.next().unwrap_or_default();
        if path.is_empty() {
            return Err(format!("{s:?}: empty PATH; {shape}"));
        }
        let mut label = None;
        let mut product = None;
        for kv in parts {
            let Some((k, v)) = kv.split_once('=') else {
                return Err(format!("{s:?}: {kv:?} is not KEY=VALUE; {shape}"));
            };
            if v.is_empty() {
                return Err(format!("{s:?}: empty value for {k}"));
            }
            let slot = match k {
                "label" => &mut label,
                "product" | "symbol" => &mut product,
                other => {
                    return Err(format!(
                        "{s:?}: unknown key {other:?} (known: label, product, symbol)"
                    ))
                }
            };
            if slot.is_some() {
                return Err(format!("{s:?}: {k} given twice"));
            }
            *slot = Some(v.to_owned());
        }
        if let Some(l) = &label {
            if l.contains(',') || l.chars().any(char::is_whitespace) {
                return Err(format!(
                    "{s:?}: label {l:?} must not contain commas or spaces"
                ));
            }
        }
        let path = PathBuf::from(path);
        let label = label.unwrap_or_else(|| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("capture");
            let stem = name
                .split('.')
                .next()
                .filter(|s| !s.is_empty())
                .unwrap_or(name);
            format!("{}-{stem}", format.name())
        });
        Ok(SourceSpec {
            format,
            path,
            label,
            product,
        })
    }
}

/// Checks a list of sources: at least two, labels unique.
///
/// # Errors
/// A message saying what is wrong.
pub fn check_specs(specs: &[SourceSpec]) -> Result<(), String> {
    if specs.len() < 2 {
        return Err(format!(
            "--consolidated needs at least two sources (got {}); give one --consolidated FORMAT:PATH per capture",
            specs.len()
        ));
    }
    for (i, a) in specs.iter().enumerate() {
        if let Some(b) = specs[..i].iter().find(|b| b.label == a.label) {
            return Err(format!(
                "two sources are labelled {:?} ({} and {}); give one a label=NAME",
                a.label,
                b.path.display(),
                a.path.display()
            ));
        }
    }
    Ok(())
}

/// Why a consolidated replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum ConsolidatedError {
    /// The sources do not go together (mixed assets or quote currencies, an ambiguous or
    /// missing product).
    #[error("{0}")]
    Usage(String),
    /// A source's capture could not be read or is not its venue's.
    #[error("source {label}: {err}")]
    Input {
        /// The source.
        label: String,
        /// What went wrong.
        err: String,
    },
    /// Writing the CSV failed.
    #[error("writing the consolidated CSV: {0}")]
    Output(std::io::Error),
}

/// Top of one source: `[(bid px, qty), (ask px, qty)]`, qty 0 for an empty side.
type Top2 = [(i64, u64); 2];

struct Source<'a> {
    spec: SourceSpec,
    reader: Box<dyn BufRead + 'a>,
    line: Vec<u8>,
    // Receive time of `line`; None at the end of the capture.
    next_ts: Option<u64>,
    prev_ts: u64,
    m: Box<L2Sync<'a>>,
    // The product the book is read from, once known.
    product: Option<String>,
    // The source's top while it is included.
    top: Option<Top2>,
    excluded_since: Option<u64>,
    excluded_ns: u64,
    exclusions: u64,
    best_bid_ns: u64,
    best_ask_ns: u64,
}

fn top_of(b: &L2Book) -> Option<Top2> {
    if !b.is_synced() {
        return None;
    }
    let t = b.top();
    Some([
        t.bid.map_or((0, 0), |l| (l.px.0, l.qty.0)),
        t.ask.map_or((0, 0), |l| (l.px.0, l.qty.0)),
    ])
}

fn input_err(label: &str, e: impl std::fmt::Display) -> ConsolidatedError {
    ConsolidatedError::Input {
        label: label.to_owned(),
        err: e.to_string(),
    }
}

fn crypto_err(label: &str, e: CryptoReplayError) -> ConsolidatedError {
    match e {
        CryptoReplayError::Output(e) => ConsolidatedError::Output(e),
        e => input_err(label, e),
    }
}

impl<'a> Source<'a> {
    fn advance(&mut self) -> Result<(), ConsolidatedError> {
        let n = crate::venue::capture::read_line(&mut self.reader, &mut self.line)
            .map_err(|e| input_err(&self.spec.label, format!("reading the capture: {e}")))?;
        self.next_ts = (n > 0).then(|| match classify(&self.line) {
            Some(CaptureLine::Frame { ts_ns, .. } | CaptureLine::Rest { ts_ns, .. }) => ts_ns,
            _ => self.prev_ts,
        });
        if let Some(t) = self.next_ts {
            self.prev_ts = t;
        }
        Ok(())
    }

    /// Feeds the current line to the venue's state machine.
    fn feed(&mut self) -> Result<(), ConsolidatedError> {
        let label = &self.spec.label;
        self.m.on_line(&self.line).map_err(|e| crypto_err(label, e))
    }

    /// Reads the source's top back after a line; picks the product on first sight.
    fn observe(&mut self) -> Result<(), ConsolidatedError> {
        let (spec, product) = (&self.spec, &mut self.product);
        let m = &self.m;
        // Binance names a symbol in upper case in REST URLs, lower case in stream names.
        let ignore_case = spec.format == VenueFormat::Binance;
        pick(spec, product, || m.products(), ignore_case)?;
        let book = product.as_deref().and_then(|p| m.book_of(p));
        self.top = book.and_then(top_of);
        Ok(())
    }
}

/// Picks a source's product among those its capture has shown so far: the one `product=`
/// names (ignoring case where the venue's symbols are case-insensitive) once it appears, else
/// the only one; a second product without `product=` is a usage error.
fn pick<'p, I: Iterator<Item = &'p str>>(
    spec: &SourceSpec,
    chosen: &mut Option<String>,
    products: impl Fn() -> I,
    ignore_case: bool,
) -> Result<(), ConsolidatedError> {
    if spec.product.is_none() && products().nth(1).is_some() {
        let ps: Vec<&str> = products().collect();
        return Err(ConsolidatedError::Usage(format!(
            "source {} holds several products ({}): pick one with product=NAME",
            spec.label,
            ps.join(", ")
        )));
    }
    if chosen.is_none() {
        *chosen = match &spec.product {
            Some(p) => products()
                .find(|x| x == p || (ignore_case && x.eq_ignore_ascii_case(p)))
                .map(str::to_owned),
            None => products().next().map(str::to_owned),
        };
    }
    Ok(())
}

/// Per-source results.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct SourceSummary {
    /// Venue label.
    pub label: String,
    /// Venue format.
    pub format: String,
    /// The product read (empty if none was seen).
    pub product: String,
    /// Capture lines read.
    pub lines: u64,
    /// Lines or frames that could not be used, and frames with an impossible receive time.
    pub bad: u64,
    /// The source's own top-of-book changes (all its products), as its single replay counts them.
    pub bbo_changes: u64,
    /// Times its book lost sync.
    pub resyncs: u64,
    /// Consolidated receive time the source was excluded (book unsynced or not seen yet), ns.
    pub excluded_ns: u64,
    /// Times it went from included to excluded (it starts excluded until its book syncs).
    pub exclusions: u64,
    /// Whether its book ended synced.
    pub synced_at_end: bool,
    /// Receive time it held the consolidated best bid, ns.
    pub best_bid_ns: u64,
    /// Receive time it held the consolidated best ask, ns.
    pub best_ask_ns: u64,
    /// The source's own digest (equal to its single-venue replay's).
    pub digest: String,
}

/// What a consolidated replay reports.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct ConsolidatedSummary {
    /// The asset, `BASE/QUOTE`.
    pub asset: String,
    /// Sources, in the order given.
    pub sources: Vec<SourceSummary>,
    /// Lines merged, all sources.
    pub lines: u64,
    /// First and last receive time merged, ns.
    pub start_ns: u64,
    /// Last receive time merged.
    pub end_ns: u64,
    /// Consolidated top changes (CSV rows).
    pub changes: u64,
    /// Times the consolidated book became crossed (best bid above best ask across venues).
    pub crossed: u64,
    /// Receive time it spent crossed, ns.
    pub crossed_ns: u64,
    /// Times it became locked (best bid equal to best ask).
    pub locked: u64,
    /// Receive time it spent locked, ns.
    pub locked_ns: u64,
    /// Receive time with no consolidated bid (no included source had one), ns.
    pub no_bid_ns: u64,
    /// Receive time with no consolidated ask, ns.
    pub no_ask_ns: u64,
    /// Final consolidated best bid (px, qty, venue label).
    pub bid: Option<(i64, u64, String)>,
    /// Final consolidated best ask.
    pub ask: Option<(i64, u64, String)>,
    /// Wall time, s (not in the digest).
    pub elapsed_s: f64,
    /// Digest over the consolidated rows.
    pub digest: String,
}

/// One side of the consolidated top: (px, qty, source index).
type Best = Option<(i64, u64, usize)>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    Locked,
    Crossed,
    OneSided,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Normal => "normal",
            State::Locked => "locked",
            State::Crossed => "crossed",
            State::OneSided => "one-sided",
        }
    }
}

fn consolidate(sources: &[Source<'_>]) -> (Best, Best) {
    let mut bid: Best = None;
    let mut ask: Best = None;
    for (i, s) in sources.iter().enumerate() {
        let Some([b, a]) = s.top else { continue };
        // Strictly better only: on equal prices the earlier source keeps the side.
        if b.1 > 0 && bid.is_none_or(|(px, ..)| b.0 > px) {
            bid = Some((b.0, b.1, i));
        }
        if a.1 > 0 && ask.is_none_or(|(px, ..)| a.0 < px) {
            ask = Some((a.0, a.1, i));
        }
    }
    (bid, ask)
}

fn state_of(bid: Best, ask: Best) -> State {
    match (bid, ask) {
        (Some((b, ..)), Some((a, ..))) if b > a => State::Crossed,
        (Some((b, ..)), Some((a, ..))) if b == a => State::Locked,
        (Some(_), Some(_)) => State::Normal,
        _ => State::OneSided,
    }
}

/// Venue options that apply to every source of that venue.
#[derive(Clone, Debug, Default)]
pub struct ConsolidatedOptions {
    /// Kraken v2: the subscribed book depth (default 10).
    pub book_depth: Option<usize>,
    /// Kraken v2: pairs' wire decimals, for their checksums.
    pub wire_precision: Vec<(String, ticklane_feeds::json::Precision)>,
    /// Largest jump of a source's receive time between two frames (`None`: the default).
    pub max_time_jump_ns: Option<u64>,
}

/// Replays `specs` merged; consolidated rows go to `csv` (header first).
///
/// # Errors
/// [`ConsolidatedError`].
pub fn replay_consolidated<'a>(
    specs: &[SourceSpec],
    opts: &ConsolidatedOptions,
    csv: Option<Box<dyn Write + 'a>>,
) -> Result<ConsolidatedSummary, ConsolidatedError> {
    let started = std::time::Instant::now();
    check_specs(specs).map_err(ConsolidatedError::Usage)?;
    let mut sources = Vec::with_capacity(specs.len());
    for spec in specs {
        let input = crate::run::input::open(&spec.path).map_err(|e| {
            input_err(
                &spec.label,
                format!("cannot open {}: {e}", spec.path.display()),
            )
        })?;
        let reader: Box<dyn BufRead> =
            Box::new(std::io::BufReader::with_capacity(1 << 16, input.reader));
        let l = &spec.label;
        let m = L2Sync::new(
            spec.format,
            CryptoReplayOptions {
                book_depth: opts.book_depth,
                wire_precision: opts.wire_precision.clone(),
                max_time_jump_ns: opts.max_time_jump_ns,
                ..CryptoReplayOptions::default()
            },
        )
        .map_err(|e| crypto_err(l, e))?;
        let mut s = Source {
            spec: spec.clone(),
            reader,
            line: Vec::with_capacity(1 << 16),
            next_ts: None,
            prev_ts: 0,
            m: Box::new(m),
            product: None,
            top: None,
            excluded_since: None,
            excluded_ns: 0,
            exclusions: 0,
            best_bid_ns: 0,
            best_ask_ns: 0,
        };
        s.advance()?;
        sources.push(s);
    }
    let mut out = csv.map(|w| BufWriter::with_capacity(1 << 16, w));
    if let Some(o) = out.as_mut() {
        writeln!(o, "{HEADER}").map_err(ConsolidatedError::Output)?;
    }
    let mut sum = ConsolidatedSummary::default();
    let mut digest = Digest::new();
    // The asset every source must quote: (base, quote, label of the first source seen).
    let mut asset: Option<(String, String, String)> = None;
    let mut checked = vec![false; sources.len()];
    let (mut bid, mut ask): (Best, Best) = (None, None);
    let mut state = State::OneSided;
    let mut clock: Option<u64> = None;
    loop {
        // The next line: smallest (receive time, source index); the line order within a source
        // is kept because only each source's next line is a candidate.
        let mut pick: Option<(u64, usize)> = None;
        for (i, s) in sources.iter().enumerate() {
            if let Some(t) = s.next_ts {
                if pick.is_none_or(|(pt, _)| t < pt) {
                    pick = Some((t, i));
                }
            }
        }
        let Some((ts, i)) = pick else { break };
        // Account the time since the previous line to the state that held it.
        let now = clock.map_or(ts, |c| c.max(ts));
        match clock {
            None => {
                // Every source is excluded from the start until its book is synced.
                sum.start_ns = now;
                for s in &mut sources {
                    s.excluded_since = Some(now);
                }
            }
            Some(c) => {
                let dt = now - c;
                match state {
                    State::Crossed => sum.crossed_ns += dt,
                    State::Locked => sum.locked_ns += dt,
                    _ => {}
                }
                match bid {
                    Some((.., v)) => sources[v].best_bid_ns += dt,
                    None => sum.no_bid_ns += dt,
                }
                match ask {
                    Some((.., v)) => sources[v].best_ask_ns += dt,
                    None => sum.no_ask_ns += dt,
                }
            }
        }
        clock = Some(now);
        sum.lines += 1;
        let s = &mut sources[i];
        s.feed()?;
        s.observe()?;
        match (s.top.is_some(), s.excluded_since) {
            (true, Some(since)) => {
                s.excluded_ns += now - since;
                s.excluded_since = None;
            }
            (false, None) => {
                s.excluded_since = Some(now);
                s.exclusions += 1;
            }
            _ => {}
        }
        if !checked[i] {
            if let Some(p) = s.product.clone() {
                let Some((b, q)) = asset_of(s.spec.format, &p) else {
                    return Err(ConsolidatedError::Usage(format!(
                        "source {}: cannot tell the base and quote currency of {p:?}",
                        s.spec.label
                    )));
                };
                match &asset {
                    None => asset = Some((b, q, s.spec.label.clone())),
                    Some((b0, q0, l0)) if (b0, q0) != (&b, &q) => {
                        let what = if b0 == &b {
                            "quote currencies differ and no conversion is applied"
                        } else {
                            "one consolidated book is for one asset"
                        };
                        return Err(ConsolidatedError::Usage(format!(
                            "source {} quotes {b}/{q} ({p}) but source {l0} quotes {b0}/{q0}: {what}",
                            s.spec.label
                        )));
                    }
                    Some(_) => {}
                }
                checked[i] = true;
            }
        }
        s.advance()?;
        let (b, a) = consolidate(&sources);
        if (b, a) != (bid, ask) {
            bid = b;
            ask = a;
            let st = state_of(bid, ask);
            if st != state {
                match st {
                    State::Crossed => sum.crossed += 1,
                    State::Locked => sum.locked += 1,
                    _ => {}
                }
                state = st;
            }
            sum.changes += 1;
            digest.word(ts);
            for side in [bid, ask] {
                let (px, qty, v) = side.map_or((0, 0, 0), |(p, q, v)| (p, q, v as u64 + 1));
                digest.iword(px);
                digest.word(qty);
                digest.word(v);
            }
            digest.word(state as u64);
            if let Some(o) = out.as_mut() {
                write!(o, "{ts}").map_err(ConsolidatedError::Output)?;
                for side in [bid, ask] {
                    match side {
                        Some((px, qty, v)) => write!(
                            o,
                            ",{},{qty},{}",
                            Px(px).display_decimals(8),
                            sources[v].spec.label
                        ),
                        None => write!(o, ",,,"),
                    }
                    .map_err(ConsolidatedError::Output)?;
                }
                writeln!(o, ",{}", state.name()).map_err(ConsolidatedError::Output)?;
            }
        }
    }
    let end = clock.unwrap_or(0);
    sum.end_ns = end;
    if let Some(o) = out.as_mut() {
        o.flush().map_err(ConsolidatedError::Output)?;
    }
    let label_of = |side: Best, sources: &[Source<'_>]| {
        side.map(|(p, q, v)| (p, q, sources[v].spec.label.clone()))
    };
    sum.bid = label_of(bid, &sources);
    sum.ask = label_of(ask, &sources);
    for s in sources {
        let label = s.spec.label.clone();
        if let Some(want) = &s.spec.product {
            if s.product.is_none() {
                return Err(ConsolidatedError::Usage(format!(
                    "source {label}: product {want} not found in {}",
                    s.spec.path.display()
                )));
            }
        }
        let mut r = SourceSummary {
            label: label.clone(),
            format: s.spec.format.name().into(),
            product: s.product.clone().unwrap_or_default(),
            excluded_ns: s.excluded_ns + s.excluded_since.map_or(0, |since| end - since),
            exclusions: s.exclusions,
            best_bid_ns: s.best_bid_ns,
            best_ask_ns: s.best_ask_ns,
            ..SourceSummary::default()
        };
        let l = s.m.finish().map_err(|e| crypto_err(&label, e))?;
        fill_l2(&mut r, &l);
        sum.sources.push(r);
    }
    if let Some((b, q, _)) = asset {
        sum.asset = format!("{b}/{q}");
    }
    sum.digest = digest.hex();
    sum.elapsed_s = started.elapsed().as_secs_f64();
    Ok(sum)
}

fn fill_l2(r: &mut SourceSummary, l: &L2Summary) {
    r.lines = l.lines;
    r.bad = l.bad_total() + l.time_jumps();
    r.bbo_changes = l.bbo_changes;
    r.resyncs = l.resyncs;
    r.synced_at_end = l
        .symbols
        .iter()
        .find(|s| s.symbol == r.product)
        .is_some_and(|s| s.synced_at_end);
    r.digest = l.digest.clone();
}

impl std::fmt::Display for ConsolidatedSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let span = self.end_ns.saturating_sub(self.start_ns);
        let secs = |ns: u64| ns as f64 / 1e9;
        let pct = |ns: u64| {
            if span == 0 {
                0.0
            } else {
                100.0 * ns as f64 / span as f64
            }
        };
        let side = |v: &Option<(i64, u64, String)>| {
            v.as_ref().map_or_else(
                || "-".to_owned(),
                |(p, q, l)| {
                    format!(
                        "{} @ {} ({l})",
                        Px(*q as i64).display_decimals(8),
                        Px(*p).display_decimals(8)
                    )
                },
            )
        };
        writeln!(
            f,
            "format:        consolidated ({} sources, {})",
            self.sources.len(),
            if self.asset.is_empty() {
                "-"
            } else {
                &self.asset
            }
        )?;
        writeln!(f, "per source:")?;
        for s in &self.sources {
            writeln!(
                f,
                "  {:<28} {:<8} {:<10} {:>8} lines {:>3} bad {:>7} bbo {:>3} resyncs  excluded {:.3} s ({}x){}  digest {}",
                s.label,
                s.format,
                if s.product.is_empty() { "-" } else { &s.product },
                s.lines,
                s.bad,
                s.bbo_changes,
                s.resyncs,
                secs(s.excluded_ns),
                s.exclusions,
                if s.synced_at_end { "" } else { " UNSYNCED at end" },
                s.digest
            )?;
        }
        writeln!(
            f,
            "merged:        {} lines, {:.3} s of receive time",
            self.lines,
            secs(span)
        )?;
        writeln!(f, "changes:       {}", self.changes)?;
        writeln!(
            f,
            "crossed:       {} times, {:.3} s ({:.2}%); locked {} times, {:.3} s ({:.2}%)",
            self.crossed,
            secs(self.crossed_ns),
            pct(self.crossed_ns),
            self.locked,
            secs(self.locked_ns),
            pct(self.locked_ns)
        )?;
        writeln!(
            f,
            "best held:     share of receive time each source held the best bid / ask"
        )?;
        for s in &self.sources {
            writeln!(
                f,
                "  {:<28} bid {:>6.2}%  ask {:>6.2}%",
                s.label,
                pct(s.best_bid_ns),
                pct(s.best_ask_ns)
            )?;
        }
        writeln!(
            f,
            "  {:<28} bid {:>6.2}%  ask {:>6.2}%",
            "(no quote)",
            pct(self.no_bid_ns),
            pct(self.no_ask_ns)
        )?;
        writeln!(
            f,
            "final BBO:     bid {}  ask {}",
            side(&self.bid),
            side(&self.ask)
        )?;
        writeln!(f, "elapsed:       {:.3} s", self.elapsed_s)?;
        write!(f, "digest: {}", self.digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_with_defaults_and_keys() {
        let s: SourceSpec = "binance:../d/spot_btcusdt_20240808.gz".parse().unwrap();
        assert_eq!(s.format, VenueFormat::Binance);
        assert_eq!(s.label, "binance-spot_btcusdt_20240808");
        assert_eq!(s.product, None);
        let s: SourceSpec = "coinbase:x.jsonl,product=BTC-USD,label=cb".parse().unwrap();
        assert_eq!(
            (s.label.as_str(), s.product.as_deref()),
            ("cb", Some("BTC-USD"))
        );
        for bad in [
            "x.gz",
            "bitmex:x.gz",
            "binance:",
            "kraken:x,depth=10",
            "kraken:x,label",
            "kraken:x,label=a,label=b",
            "kraken:x,label=",
        ] {
            assert!(bad.parse::<SourceSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn assets_split_per_venue() {
        let a = |f, s| asset_of(f, s).map(|(b, q)| format!("{b}/{q}"));
        assert_eq!(
            a(VenueFormat::Binance, "BTCUSDT").as_deref(),
            Some("BTC/USDT")
        );
        assert_eq!(
            a(VenueFormat::Binance, "BTCFDUSD").as_deref(),
            Some("BTC/FDUSD")
        );
        assert_eq!(
            a(VenueFormat::Coinbase, "BTC-USD").as_deref(),
            Some("BTC/USD")
        );
        assert_eq!(
            a(VenueFormat::Kraken, "XBT/USD").as_deref(),
            Some("BTC/USD")
        );
        assert_eq!(a(VenueFormat::Binance, "USDT"), None);
    }
}
