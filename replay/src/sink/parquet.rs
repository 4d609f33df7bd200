//! The Parquet sink: the run's outputs as columnar files, one per kind of record — the batch
//! layer beside a replay or a live run. Into a directory it writes `bbo.parquet` (top-of-book
//! changes), `trades.parquet`, `status.parquet`, `signals.parquet` and `fills.parquet`, each a
//! sequence of row groups of at most `row_group_rows` rows (memory is bounded by that, not by
//! the run), readable as they are by pandas, polars, DuckDB and Spark.
//!
//! Columns (layout version [`LAYOUT_VERSION`], also in each file's key-value metadata as
//! `ticklane.layout`, with `ticklane.venue`):
//! - every file: `ts` — `TIMESTAMP(NANOS, UTC)` for inputs stamped in UTC (price-level venues'
//!   receive times), `TIME(NANOS)` of the exchange's local day for inputs stamped in nanoseconds
//!   since midnight (ITCH, LOBSTER, which carry no date); `ts_ns` — the same instant as a plain
//!   `int64` (exact in every reader: some hold times in microseconds); `seq` — the input
//!   message's sequence number; `symbol`.
//! - prices and sizes twice: as exact integers in the input's units (`*_px` ticks, `*_qty`
//!   lots) and as `DECIMAL(18, d)` in currency units and shares/coins (`*_price`, `*_size`),
//!   the same integers with their scale, so nothing is rounded.
//! - `bbo.parquet`: `bid_px`, `bid_qty`, `ask_px`, `ask_qty`, `bid_price`, `bid_size`,
//!   `ask_price`, `ask_size` (null for an empty side).
//! - `trades.parquet`: `px`, `qty`, `price`, `size`, `kind` (`execute`, `execute_at_px`,
//!   `execute_at_px_nonprintable`, `non_displayed`, `cross`, `print`), `maker_side` (`bid`,
//!   `ask`; null where the input does not say).
//! - `status.parquet`: `kind` (`system`, `trading`, `operational_halt`, `circuit_breaker`,
//!   `reg_sho`), `code` (the venue's code letter or level).
//! - `signals.parquet`: `kind` (`take`, `quote`, `exit`, `alert`), `side` (`buy`, `sell`, or
//!   null), `value` (`double`).
//! - `fills.parquet`: `client_id`, `side` (`buy`, `sell`), `px`, `qty`, `price`, `size`,
//!   `liquidity` (`maker`, `taker`), `queue_wait_ns`.
//!
//! Files are plain (uncompressed) Parquet written with the low-level column writer; rows are
//! buffered per file and written a row group at a time, so a run that stops with an error
//! still leaves the complete row groups written before it (the footer is written by
//! [`Sink::finish`]).

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use ticklane_engine::event::StatusKind;
use ticklane_engine::Side;

use super::publish::SinkStats;
use super::Sink;
use crate::stages::output::{Output, OutputKind, TradeKind};

/// Version of the column layout described in the module docs.
pub const LAYOUT_VERSION: u32 = 1;

/// Default rows per row group.
pub const ROW_GROUP_ROWS: usize = 1 << 17;

/// How the input stamps its times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// Nanoseconds since the Unix epoch, UTC.
    Utc,
    /// Nanoseconds since midnight of the exchange's (local) trading day, no date.
    TimeOfDay,
}

/// What the sink needs to know of the run.
#[derive(Clone, Debug)]
pub struct ParquetOptions {
    /// The venue or feed name (file metadata, and the `venue` of every row group).
    pub venue: String,
    /// How times are stamped.
    pub clock: Clock,
    /// Decimals of a price tick (4 for ITCH, 8 for the crypto venues).
    pub px_decimals: u32,
    /// Decimals of a size lot (0 for shares, 8 for the crypto venues).
    pub qty_decimals: u32,
    /// Rows per row group (1 ..= 16 M).
    pub row_group_rows: usize,
}

/// Valid row group sizes.
pub const ROW_GROUP_RANGE: std::ops::RangeInclusive<usize> = 1..=(1 << 24);

/// `parquet://DIR[?row_group=N]`: the directory (relative to the working directory, or
/// absolute as `parquet:///abs/dir`) and the rows per row group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParquetUrl {
    /// The URL as given.
    pub url: String,
    /// The directory the files go to.
    pub dir: PathBuf,
    /// Rows per row group.
    pub row_group_rows: usize,
}

/// Why a `parquet://` URL is refused.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    /// No directory.
    #[error("{0:?}: no directory; give parquet://DIR[?row_group=N]")]
    Dir(String),
    /// A bad `row_group`.
    #[error("{0:?}: row_group must be a whole number of rows in 1..=16777216")]
    RowGroup(String),
    /// A key the sink does not know.
    #[error("{0:?}: unknown key {1:?}; parquet:// takes row_group=N")]
    Key(String, String),
}

impl ParquetUrl {
    /// Parses `parquet://DIR[?row_group=N]`.
    ///
    /// # Errors
    /// [`UrlError`].
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let rest = url.strip_prefix("parquet://").unwrap_or(url);
        let (dir, query) = rest.split_once('?').unwrap_or((rest, ""));
        if dir.is_empty() {
            return Err(UrlError::Dir(url.into()));
        }
        let mut row_group_rows = ROW_GROUP_ROWS;
        for kv in query.split('&').filter(|kv| !kv.is_empty()) {
            match kv.split_once('=') {
                Some(("row_group", v)) => {
                    row_group_rows = v
                        .parse()
                        .ok()
                        .filter(|n| ROW_GROUP_RANGE.contains(n))
                        .ok_or_else(|| UrlError::RowGroup(url.into()))?;
                }
                _ => return Err(UrlError::Key(url.into(), kv.into())),
            }
        }
        Ok(ParquetUrl {
            url: url.into(),
            dir: PathBuf::from(dir),
            row_group_rows,
        })
    }
}

enum Col {
    I64(Vec<i64>),
    OptI64(Vec<i64>, Vec<i16>),
    F64(Vec<f64>),
    Str(Vec<ByteArray>),
    OptStr(Vec<ByteArray>, Vec<i16>),
}

impl Col {
    fn clear(&mut self) {
        match self {
            Col::I64(v) => v.clear(),
            Col::F64(v) => v.clear(),
            Col::Str(v) => v.clear(),
            Col::OptI64(v, d) => {
                v.clear();
                d.clear();
            }
            Col::OptStr(v, d) => {
                v.clear();
                d.clear();
            }
        }
    }
}

/// One file: its writer and the rows of the row group being filled.
struct Table {
    path: PathBuf,
    writer: Option<SerializedFileWriter<BufWriter<File>>>,
    cols: Vec<Col>,
    rows: usize,
    cap: usize,
    written: u64,
    stats: Option<Arc<SinkStats>>,
}

fn pq_err(path: &Path, what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{}: {what}: {e}", path.display()))
}

impl Table {
    /// Creates the file with a schema of `(name, parquet type line)` columns, `optional` ones
    /// nullable.
    fn create(
        dir: &Path,
        name: &str,
        columns: &[String],
        opts: &ParquetOptions,
    ) -> io::Result<Table> {
        let path = dir.join(format!("{name}.parquet"));
        let body: String = columns.iter().map(|t| format!("  {t};\n")).collect();
        let schema = parse_message_type(&format!("message {name} {{\n{body}}}"))
            .map_err(|e| pq_err(&path, "schema", e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_created_by(format!("ticklane {}", env!("CARGO_PKG_VERSION")))
            .set_key_value_metadata(Some(vec![
                KeyValue::new("ticklane.layout".into(), LAYOUT_VERSION.to_string()),
                KeyValue::new("ticklane.venue".into(), opts.venue.clone()),
            ]))
            .build();
        let file = File::create(&path).map_err(|e| pq_err(&path, "cannot create", e))?;
        let writer = SerializedFileWriter::new(
            BufWriter::with_capacity(1 << 20, file),
            Arc::new(schema),
            Arc::new(props),
        )
        .map_err(|e| pq_err(&path, "writing the header", e))?;
        let cap = opts.row_group_rows;
        let cols = columns
            .iter()
            .map(|t| {
                let optional = t.trim_start().starts_with("optional");
                match (t.contains(" double "), t.contains(" binary "), optional) {
                    (true, _, _) => Col::F64(Vec::with_capacity(cap)),
                    (_, true, false) => Col::Str(Vec::with_capacity(cap)),
                    (_, true, true) => {
                        Col::OptStr(Vec::with_capacity(cap), Vec::with_capacity(cap))
                    }
                    (_, false, false) => Col::I64(Vec::with_capacity(cap)),
                    (_, false, true) => {
                        Col::OptI64(Vec::with_capacity(cap), Vec::with_capacity(cap))
                    }
                }
            })
            .collect();
        Ok(Table {
            path,
            writer: Some(writer),
            cols,
            rows: 0,
            cap,
            written: 0,
            stats: None,
        })
    }

    fn i(&mut self, c: usize, v: i64) {
        match &mut self.cols[c] {
            Col::I64(x) => x.push(v),
            Col::OptI64(x, d) => {
                x.push(v);
                d.push(1);
            }
            _ => debug_assert!(false, "column {c} is not int64"),
        }
    }

    fn opt_i(&mut self, c: usize, v: Option<i64>) {
        match (&mut self.cols[c], v) {
            (Col::OptI64(x, d), Some(v)) => {
                x.push(v);
                d.push(1);
            }
            (Col::OptI64(_, d), None) => d.push(0),
            _ => debug_assert!(false, "column {c} is not optional int64"),
        }
    }

    fn f(&mut self, c: usize, v: f64) {
        if let Col::F64(x) = &mut self.cols[c] {
            x.push(v);
        }
    }

    fn s(&mut self, c: usize, v: &ByteArray) {
        match &mut self.cols[c] {
            Col::Str(x) => x.push(v.clone()),
            Col::OptStr(x, d) => {
                x.push(v.clone());
                d.push(1);
            }
            _ => debug_assert!(false, "column {c} is not a string"),
        }
    }

    fn opt_s(&mut self, c: usize, v: Option<&ByteArray>) {
        match (&mut self.cols[c], v) {
            (Col::OptStr(x, d), Some(v)) => {
                x.push(v.clone());
                d.push(1);
            }
            (Col::OptStr(_, d), None) => d.push(0),
            _ => debug_assert!(false, "column {c} is not an optional string"),
        }
    }

    /// Ends a row; a full row group is written out.
    fn end_row(&mut self) -> io::Result<()> {
        self.rows += 1;
        if let Some(s) = &self.stats {
            s.queued.fetch_add(1, Ordering::Relaxed);
            s.depth.fetch_add(1, Ordering::Relaxed);
        }
        if self.rows >= self.cap {
            self.flush_group()?;
        }
        Ok(())
    }

    fn flush_group(&mut self) -> io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let path = &self.path;
        let err = |what: &str, e: parquet::errors::ParquetError| pq_err(path, what, e);
        let Some(w) = self.writer.as_mut() else {
            return Err(pq_err(path, "writing", "the file is closed"));
        };
        let mut rg = w.next_row_group().map_err(|e| err("row group", e))?;
        for col in &self.cols {
            let mut cw = rg
                .next_column()
                .map_err(|e| err("column", e))?
                .ok_or_else(|| pq_err(path, "column", "schema and columns disagree"))?;
            match col {
                Col::I64(v) => cw.typed::<Int64Type>().write_batch(v, None, None),
                Col::OptI64(v, d) => cw.typed::<Int64Type>().write_batch(v, Some(d), None),
                Col::F64(v) => cw.typed::<DoubleType>().write_batch(v, None, None),
                Col::Str(v) => cw.typed::<ByteArrayType>().write_batch(v, None, None),
                Col::OptStr(v, d) => cw.typed::<ByteArrayType>().write_batch(v, Some(d), None),
            }
            .map_err(|e| err("writing a column", e))?;
            cw.close().map_err(|e| err("closing a column", e))?;
        }
        rg.close().map_err(|e| err("closing a row group", e))?;
        self.written += self.rows as u64;
        if let Some(s) = &self.stats {
            let n = self.rows as u64;
            s.sent.fetch_add(n, Ordering::Relaxed);
            s.acked.fetch_add(n, Ordering::Relaxed);
            s.depth.fetch_sub(n, Ordering::Relaxed);
        }
        self.rows = 0;
        for c in &mut self.cols {
            c.clear();
        }
        Ok(())
    }

    fn close(&mut self) -> io::Result<()> {
        self.flush_group()?;
        if let Some(w) = self.writer.take() {
            w.close()
                .map_err(|e| pq_err(&self.path, "writing the footer", e))?;
        }
        Ok(())
    }
}

/// Rows written per file (see [`ParquetSink::counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParquetCounts {
    /// `bbo.parquet`.
    pub bbo: u64,
    /// `trades.parquet`.
    pub trades: u64,
    /// `status.parquet`.
    pub status: u64,
    /// `signals.parquet`.
    pub signals: u64,
    /// `fills.parquet`.
    pub fills: u64,
}

/// Writes the outputs of a run into a directory of Parquet files.
pub struct ParquetSink {
    bbo: Table,
    trades: Table,
    status: Table,
    signals: Table,
    fills: Table,
    // The symbol of each instrument as a Parquet string, made once per instrument (a clone is
    // a reference count, not a copy).
    symbols: Vec<(String, ByteArray)>,
    words: Words,
}

/// The strings rows repeat, made once.
struct Words {
    bid: ByteArray,
    ask: ByteArray,
    buy: ByteArray,
    sell: ByteArray,
    maker: ByteArray,
    taker: ByteArray,
    trade: [ByteArray; 6],
    status: [ByteArray; 5],
    signal: [ByteArray; 4],
}

impl Words {
    fn new() -> Self {
        let b = |s: &str| ByteArray::from(s);
        Words {
            bid: b("bid"),
            ask: b("ask"),
            buy: b("buy"),
            sell: b("sell"),
            maker: b("maker"),
            taker: b("taker"),
            trade: [
                b("execute"),
                b("execute_at_px"),
                b("execute_at_px_nonprintable"),
                b("non_displayed"),
                b("cross"),
                b("print"),
            ],
            status: [
                b("system"),
                b("trading"),
                b("operational_halt"),
                b("circuit_breaker"),
                b("reg_sho"),
            ],
            signal: [b("take"), b("quote"), b("exit"), b("alert")],
        }
    }
}

impl ParquetSink {
    /// Creates the directory (if needed) and the five files in it.
    ///
    /// # Errors
    /// The directory or a file cannot be created; `row_group_rows` out of
    /// [`ROW_GROUP_RANGE`] or decimals above 18 (`InvalidInput`).
    pub fn create(dir: &Path, opts: &ParquetOptions) -> io::Result<ParquetSink> {
        if !ROW_GROUP_RANGE.contains(&opts.row_group_rows) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "parquet row group of {} rows: expected {}..={}",
                    opts.row_group_rows,
                    ROW_GROUP_RANGE.start(),
                    ROW_GROUP_RANGE.end()
                ),
            ));
        }
        if opts.px_decimals > 18 || opts.qty_decimals > 18 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "parquet decimals: at most 18",
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| pq_err(dir, "cannot create the directory", e))?;
        let ts = match opts.clock {
            Clock::Utc => "required int64 ts (TIMESTAMP(NANOS,true))".to_owned(),
            Clock::TimeOfDay => "required int64 ts (TIME(NANOS,false))".to_owned(),
        };
        let head = || {
            vec![
                ts.clone(),
                "required int64 ts_ns".to_owned(),
                "required int64 seq".to_owned(),
                "required binary symbol (STRING)".to_owned(),
            ]
        };
        let int = |req: &str, name: &str| format!("{req} int64 {name}");
        let dec = |req: &str, name: &str, d: u32| format!("{req} int64 {name} (DECIMAL(18,{d}))");
        let text = |req: &str, name: &str| format!("{req} binary {name} (STRING)");
        let (pd, qd) = (opts.px_decimals, opts.qty_decimals);

        let mut bbo = head();
        for side in ["bid", "ask"] {
            bbo.push(int("optional", &format!("{side}_px")));
            bbo.push(int("optional", &format!("{side}_qty")));
        }
        for side in ["bid", "ask"] {
            bbo.push(dec("optional", &format!("{side}_price"), pd));
            bbo.push(dec("optional", &format!("{side}_size"), qd));
        }
        let mut trades = head();
        trades.extend([
            int("required", "px"),
            int("required", "qty"),
            dec("required", "price", pd),
            dec("required", "size", qd),
            text("required", "kind"),
            text("optional", "maker_side"),
        ]);
        let mut status = head();
        status.extend([text("required", "kind"), int("required", "code")]);
        let mut signals = head();
        signals.extend([
            text("required", "kind"),
            text("optional", "side"),
            "required double value".to_owned(),
        ]);
        let mut fills = head();
        fills.extend([
            int("required", "client_id"),
            text("required", "side"),
            int("required", "px"),
            int("required", "qty"),
            dec("required", "price", pd),
            dec("required", "size", qd),
            text("required", "liquidity"),
            int("required", "queue_wait_ns"),
        ]);
        Ok(ParquetSink {
            bbo: Table::create(dir, "bbo", &bbo, opts)?,
            trades: Table::create(dir, "trades", &trades, opts)?,
            status: Table::create(dir, "status", &status, opts)?,
            signals: Table::create(dir, "signals", &signals, opts)?,
            fills: Table::create(dir, "fills", &fills, opts)?,
            symbols: Vec::new(),
            words: Words::new(),
        })
    }

    /// Counts rows into `stats` as a publishing sink counts records: rows given are queued,
    /// rows of written row groups sent and acknowledged, buffered rows the depth.
    pub fn with_stats(mut self, stats: Arc<SinkStats>) -> Self {
        for t in self.tables_mut() {
            t.stats = Some(stats.clone());
        }
        self
    }

    fn tables_mut(&mut self) -> [&mut Table; 5] {
        [
            &mut self.bbo,
            &mut self.trades,
            &mut self.status,
            &mut self.signals,
            &mut self.fills,
        ]
    }

    /// Rows written so far (complete row groups and buffered rows).
    pub fn counts(&self) -> ParquetCounts {
        let n = |t: &Table| t.written + t.rows as u64;
        ParquetCounts {
            bbo: n(&self.bbo),
            trades: n(&self.trades),
            status: n(&self.status),
            signals: n(&self.signals),
            fills: n(&self.fills),
        }
    }

    fn symbol(&mut self, instr: usize, symbol: &str) -> ByteArray {
        if self.symbols.len() <= instr {
            self.symbols
                .resize_with(instr + 1, || (String::new(), ByteArray::from("")));
        }
        let slot = &mut self.symbols[instr];
        if slot.0 != symbol {
            // Once per instrument (or when a venue renames it).
            *slot = (symbol.to_owned(), ByteArray::from(symbol));
        }
        slot.1.clone()
    }
}

/// `ts`, `ts_ns`, `seq`, `symbol` of a row.
fn head(t: &mut Table, o: &Output, sym: &ByteArray) {
    t.i(0, o.ts.0 as i64);
    t.i(1, o.ts.0 as i64);
    t.i(2, o.seq as i64);
    t.s(3, sym);
}

impl Sink for ParquetSink {
    fn on_output(&mut self, o: &Output, symbol: &str) -> io::Result<()> {
        let sym = match o.kind {
            OutputKind::Bbo(_)
            | OutputKind::Trade { .. }
            | OutputKind::Status { .. }
            | OutputKind::Signal(_)
            | OutputKind::Fill { .. } => self.symbol(o.instr.get(), symbol),
            _ => return Ok(()),
        };
        let w = &self.words;
        match o.kind {
            OutputKind::Bbo(top) => {
                let t = &mut self.bbo;
                head(t, o, &sym);
                let side = |(px, qty): (i64, u64)| (qty > 0).then_some((px, qty as i64));
                let (b, a) = (side(top[0]), side(top[1]));
                for (k, s) in [b, a].into_iter().enumerate() {
                    t.opt_i(4 + 2 * k, s.map(|x| x.0));
                    t.opt_i(5 + 2 * k, s.map(|x| x.1));
                    t.opt_i(8 + 2 * k, s.map(|x| x.0));
                    t.opt_i(9 + 2 * k, s.map(|x| x.1));
                }
                t.end_row()
            }
            OutputKind::Trade { px, qty, kind } => {
                let t = &mut self.trades;
                head(t, o, &sym);
                t.i(4, px.0);
                t.i(5, qty.0 as i64);
                t.i(6, px.0);
                t.i(7, qty.0 as i64);
                let (k, maker) = match kind {
                    TradeKind::Execute => (0, None),
                    TradeKind::ExecuteAtPx { printable: true } => (1, None),
                    TradeKind::ExecuteAtPx { printable: false } => (2, None),
                    TradeKind::NonDisplayed => (3, None),
                    TradeKind::Cross => (4, None),
                    TradeKind::Print { resting } => (5, Some(resting)),
                };
                t.s(8, &w.trade[k]);
                t.opt_s(
                    9,
                    maker.map(|s| match s {
                        Side::Bid => &w.bid,
                        Side::Ask => &w.ask,
                    }),
                );
                t.end_row()
            }
            OutputKind::Status { kind, code } => {
                let t = &mut self.status;
                head(t, o, &sym);
                let k = match kind {
                    StatusKind::System => 0,
                    StatusKind::Trading => 1,
                    StatusKind::OperationalHalt => 2,
                    StatusKind::CircuitBreaker => 3,
                    StatusKind::RegSho => 4,
                };
                t.s(4, &w.status[k]);
                t.i(5, i64::from(code));
                t.end_row()
            }
            OutputKind::Signal(sig) => {
                let t = &mut self.signals;
                head(t, o, &sym);
                t.s(4, &w.signal[sig.kind as usize - 1]);
                t.opt_s(
                    5,
                    sig.side.map(|s| match s {
                        Side::Bid => &w.buy,
                        Side::Ask => &w.sell,
                    }),
                );
                t.f(6, sig.value);
                t.end_row()
            }
            OutputKind::Fill {
                client_id,
                px,
                qty,
                queue_wait,
                side,
                liquidity,
                ..
            } => {
                let t = &mut self.fills;
                head(t, o, &sym);
                t.i(4, client_id as i64);
                t.s(
                    5,
                    match side {
                        Side::Bid => &w.buy,
                        Side::Ask => &w.sell,
                    },
                );
                t.i(6, px.0);
                t.i(7, qty.0 as i64);
                t.i(8, px.0);
                t.i(9, qty.0 as i64);
                t.s(
                    10,
                    match liquidity {
                        ticklane_engine::exec::Liquidity::Maker => &w.maker,
                        ticklane_engine::exec::Liquidity::Taker => &w.taker,
                    },
                );
                t.i(11, queue_wait as i64);
                t.end_row()
            }
            _ => Ok(()),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        for t in self.tables_mut() {
            t.close()?;
        }
        Ok(())
    }
}
