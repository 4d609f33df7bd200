//! Backtest report: statistics, an equity plot, a trade log (CSV and Parquet) and a run
//! manifest, written into one directory.
//!
//! The backtest driver collects [`FillRecord`]s and [`EquitySample`]s in event time and hands
//! them over as a [`ReportInput`]; [`write_report`] turns them into:
//!
//! - `summary.json`: the run digest, the event count and the [`Stats`];
//! - `equity.svg`: equity and position over time, two panels sharing the time axis;
//! - `trades.csv` and `trades.parquet`: one row per fill, the same columns in both;
//! - `manifest.json`: the [`Manifest`] (version, input hashes, full config, digest, command,
//!   and the run's [`RunSpec`](crate::run::spec::RunSpec), which `ticklane verify` re-runs).
//!
//! Everything that depends only on the input is byte-identical across runs: no wall clock, no
//! hash-map iteration, field order fixed by the structs, floats printed by the shortest
//! round-trip formatting (the same bits always print the same digits).
//!
//! Money is an integer count of [`MONEY_PER_TICK_LOT`]ths of (one price tick x one lot); it is
//! shown in currency units as `money / MONEY_PER_TICK_LOT / ticks_per_unit`.

pub mod csv;
pub mod decimal;
pub mod manifest;
pub mod parquet;
pub mod stats;
pub mod svg;

use std::fs;
use std::io;
use std::path::Path;

use ticklane_engine::Side;

pub use manifest::{sha256_file, InputFile, Manifest, ManifestError};
pub use stats::{compute_stats, print_summary, Stats};

/// Money: i128 in units of 1e-7 of (one price tick x one lot); the engine's ledger unit.
pub use ticklane_engine::exec::ledger::MONEY_PER_TICK_LOT;
/// Maker or taker (`as_str` gives the trade log's `maker`/`taker`).
pub use ticklane_engine::exec::Liquidity;

/// `"buy"` for [`Side::Bid`], `"sell"` for [`Side::Ask`], as written in the trade log.
pub fn side_str(side: Side) -> &'static str {
    match side {
        Side::Bid => "buy",
        Side::Ask => "sell",
    }
}

/// Bytes of a trade-log symbol: an ITCH stock (8) or a crypto pair (`1000SATSUSDT`,
/// `DOGE-USDC`) whole.
pub const SYMBOL_LEN: usize = 16;

/// `symbol` as a trade-log field: its first [`SYMBOL_LEN`] bytes, space-padded.
pub fn symbol_field(symbol: &[u8]) -> [u8; SYMBOL_LEN] {
    let mut out = [b' '; SYMBOL_LEN];
    for (o, &b) in out.iter_mut().zip(symbol) {
        *o = b;
    }
    out
}

/// One simulated fill, with the account state right after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillRecord {
    /// Nanoseconds: when the fill happened at the simulated exchange.
    pub ts_exch: u64,
    /// Nanoseconds: when the strategy was told.
    pub ts_local: u64,
    /// Instrument symbol, space-padded ASCII.
    pub symbol: [u8; SYMBOL_LEN],
    /// The instrument's dense index in the run (its account in the ledger; not written to
    /// the trade files, whose `symbol` names it).
    pub instr: u32,
    /// The strategy's id of the order that was filled.
    pub client_id: u64,
    /// [`Side::Bid`] = buy, [`Side::Ask`] = sell.
    pub side: Side,
    /// Fill price, ticks.
    pub px: i64,
    /// Fill quantity, lots.
    pub qty: u64,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Fee in money units; negative = rebate.
    pub fee: i128,
    /// Position after the fill, lots (signed: negative = short).
    pub position: i64,
    /// Cash after the fill, money units.
    pub cash: i128,
    /// Cumulative realized PnL after the fill, money units.
    pub realized_pnl: i128,
    /// Maker fills: nanoseconds from joining the queue to this fill.
    pub queue_wait_ns: Option<u64>,
}

impl FillRecord {
    /// The symbol with its space padding (and any NUL padding) removed.
    pub fn symbol_str(&self) -> String {
        let s = String::from_utf8_lossy(&self.symbol);
        s.trim_end_matches([' ', '\0']).to_string()
    }
}

/// One point of the equity curve, sampled on event time at a fixed interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EquitySample {
    /// Event time of the sample, nanoseconds.
    pub ts: u64,
    /// `cash + position * mid`, money units (zero at the start of the run: cash starts at 0).
    pub equity: i128,
    /// Position at the sample, lots.
    pub position: i64,
}

/// What happened to the strategy's orders over the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderCounts {
    /// Orders the strategy sent.
    pub submitted: u64,
    /// Orders the simulated exchange accepted.
    pub accepted: u64,
    /// Orders the simulated exchange rejected.
    pub rejected: u64,
    /// Orders cancelled (by the strategy or the exchange).
    pub cancelled: u64,
    /// Orders filled completely.
    pub filled: u64,
    /// Orders filled in part (counted once per order).
    pub partially_filled: u64,
    /// Total quantity of submitted orders, lots.
    pub submitted_qty: u64,
    /// Total filled quantity, lots.
    pub filled_qty: u64,
}

/// Everything the report is computed from.
#[derive(Clone, Debug)]
pub struct ReportInput<'a> {
    /// Fills in the order they happened.
    pub fills: &'a [FillRecord],
    /// Equity curve, sampled on event time at a fixed interval, in time order.
    pub equity: &'a [EquitySample],
    /// The sampling interval of `equity`, nanoseconds.
    pub sample_interval_ns: u64,
    /// Order counts.
    pub orders: OrderCounts,
    /// Market-data events replayed.
    pub events: u64,
    /// Starting capital, money units (for return, turnover, Sharpe).
    pub capital: i128,
    /// Price ticks per currency unit (ITCH: 10_000; Binance 8dp: 100_000_000), for display.
    pub ticks_per_unit: i64,
    /// Lots per unit of quantity (ITCH: 1, a lot is a share; Binance 8dp: 100_000_000).
    pub lots_per_unit: i64,
    /// Sampling periods per year, for annualizing Sharpe and Sortino.
    pub periods_per_year: f64,
    /// The run digest.
    pub digest: String,
}

pub use crate::backtest::config::money_scale;

/// Why a report could not be written. The payloads say which file and what kind of failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    /// Creating the report directory or writing one of its files failed.
    #[error("writing {file}: {kind}")]
    Io {
        /// The file (or `"directory"`).
        file: &'static str,
        /// The I/O failure.
        kind: io::ErrorKind,
    },
    /// The Parquet writer refused the data.
    #[error("writing trades.parquet: the parquet writer failed while {stage}")]
    Parquet {
        /// What the writer was doing.
        stage: &'static str,
    },
    /// Drawing the equity plot failed.
    #[error("drawing equity.svg failed while {stage}")]
    Plot {
        /// What was being drawn.
        stage: &'static str,
    },
    /// A value does not fit the column type of the trade log (e.g. a u64 above i64::MAX for an
    /// int64 Parquet column).
    #[error("trades.parquet: fill {row}: {column} = {value} does not fit in int64")]
    OutOfRange {
        /// The column.
        column: &'static str,
        /// Zero-based fill index.
        row: usize,
        /// The value that did not fit.
        value: u64,
    },
    /// `ticks_per_unit` must be positive to show prices in currency units.
    #[error("ticks_per_unit is {0}; it must be positive (price ticks per currency unit)")]
    BadTicksPerUnit(i64),
    /// The manifest could not be written.
    #[error("writing manifest.json: {0}")]
    Manifest(#[from] ManifestError),
}

/// Current layout of `summary.json`; bumped when a field changes meaning.
pub const SUMMARY_FORMAT: &str = "ticklane-backtest-summary/1";

/// The contents of `summary.json`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SummaryFile {
    /// [`SUMMARY_FORMAT`].
    pub format: String,
    /// The run digest.
    pub digest: String,
    /// Market-data events replayed.
    pub events: u64,
    /// The statistics.
    pub stats: Stats,
}

fn io_err(file: &'static str) -> impl Fn(io::Error) -> ReportError {
    move |e| ReportError::Io {
        file,
        kind: e.kind(),
    }
}

/// Writes `summary.json`, `equity.svg`, `trades.csv`, `trades.parquet` and `manifest.json`
/// into `dir` (created if missing; existing files of those names are replaced) and returns the
/// statistics.
///
/// # Errors
///
/// [`ReportError`] naming the file that could not be written; files written before the failure
/// stay in place.
pub fn write_report(
    dir: &Path,
    input: &ReportInput,
    manifest: &Manifest,
) -> Result<Stats, ReportError> {
    if input.ticks_per_unit <= 0 {
        return Err(ReportError::BadTicksPerUnit(input.ticks_per_unit));
    }
    fs::create_dir_all(dir).map_err(io_err("directory"))?;
    let stats = compute_stats(input);

    let summary = SummaryFile {
        format: SUMMARY_FORMAT.to_string(),
        digest: input.digest.clone(),
        events: input.events,
        stats: stats.clone(),
    };
    let mut json = serde_json::to_vec_pretty(&summary).map_err(|e| ReportError::Io {
        file: "summary.json",
        kind: e.io_error_kind().unwrap_or(io::ErrorKind::InvalidData),
    })?;
    json.push(b'\n');
    fs::write(dir.join("summary.json"), json).map_err(io_err("summary.json"))?;

    let csv = csv::trades_csv(input.fills, input.ticks_per_unit, input.lots_per_unit);
    fs::write(dir.join("trades.csv"), csv).map_err(io_err("trades.csv"))?;

    let file = fs::File::create(dir.join("trades.parquet")).map_err(io_err("trades.parquet"))?;
    parquet::write_trades_parquet(file, input.fills, input.ticks_per_unit, input.lots_per_unit)?;

    let svg = svg::equity_svg(
        input.equity,
        money_scale(input.ticks_per_unit, input.lots_per_unit),
    )?;
    fs::write(dir.join("equity.svg"), svg).map_err(io_err("equity.svg"))?;

    manifest.write(&dir.join("manifest.json"))?;
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::stats::tests::{curve, fill, input};
    use super::*;

    #[test]
    fn write_report_twice_is_byte_identical() {
        let eq = curve(&[(0, 0), (10, 1), (-5, -2), (20, 0)]);
        let mut a = fill(Side::Bid, 1_853_300, 100, Liquidity::Maker, -20);
        a.queue_wait_ns = Some(900);
        let b = fill(Side::Ask, 1_853_400, 100, Liquidity::Taker, 30);
        let fills = [a, b];
        let inp = input(&fills, &eq, 1_000, 252.0);
        let manifest = Manifest {
            ticklane_version: "0.1.0".into(),
            inputs: vec![],
            config: serde_json::json!({"strategy": {"z": 1, "a": 2}}),
            digest: inp.digest.clone(),
            command: vec!["ticklane".into(), "replay".into()],
            spec: None,
        };
        let base =
            std::env::temp_dir().join(format!("ticklane-report-{}-write", std::process::id()));
        let (d1, d2) = (base.join("run1"), base.join("run2"));
        let s1 = write_report(&d1, &inp, &manifest).unwrap();
        let s2 = write_report(&d2, &inp, &manifest).unwrap();
        assert_eq!(s1, s2);
        for f in [
            "summary.json",
            "trades.csv",
            "manifest.json",
            "equity.svg",
            "trades.parquet",
        ] {
            let x = fs::read(d1.join(f)).unwrap();
            assert!(!x.is_empty(), "{f} empty");
            assert_eq!(x, fs::read(d2.join(f)).unwrap(), "{f} differs between runs");
        }
        let summary: SummaryFile =
            serde_json::from_slice(&fs::read(d1.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary.digest, "0123456789abcdef");
        assert_eq!(summary.stats.max_drawdown, 15);
        assert_eq!(summary.stats.trades, 2);
        let csv = fs::read_to_string(d1.join("trades.csv")).unwrap();
        assert_eq!(csv.lines().count(), 3);
        assert_eq!(Manifest::read(&d1.join("manifest.json")).unwrap(), manifest);
        let bad = ReportInput {
            ticks_per_unit: 0,
            lots_per_unit: 1,
            ..inp.clone()
        };
        assert_eq!(
            write_report(&base.join("run3"), &bad, &manifest),
            Err(ReportError::BadTicksPerUnit(0))
        );
        let _ = fs::remove_dir_all(&base);
    }
}
