//! What a backtest is configured with: the execution simulator's latency, queue and fee
//! models, the accounts' capital and units, the equity sampler; read from TOML (`--exec-config`,
//! a run spec's `[exec]`) and range-checked, then turned into [`BacktestOptions`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ticklane_engine::config::{Range, RangeError};
use ticklane_engine::exec::fees::Fees;
use ticklane_engine::exec::latency::{Constant, Empirical, Latency, PerAction};
use ticklane_engine::exec::ledger::MONEY_PER_TICK_LOT;
use ticklane_engine::exec::queue::{Probabilistic, QueueKind};
use ticklane_engine::exec::sim::SimConfig;

/// Order latency, as configured. Every latency key is in [`LATENCY_NS`](Self::LATENCY_NS)
/// (0..=60 s).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LatencyConfig {
    /// `constant`, `per_action` or `empirical`.
    pub model: String,
    /// `constant`: entry latency of every action, ns.
    pub entry_ns: u64,
    /// `constant` and `per_action`: response latency, ns.
    pub response_ns: u64,
    /// `per_action`: new orders, ns.
    pub new_ns: u64,
    /// `per_action`: cancels, ns.
    pub cancel_ns: u64,
    /// `per_action`: modifies, ns.
    pub modify_ns: u64,
    /// `empirical`: CSV of observed latencies (`ts_ns,entry_ns,response_ns` or
    /// `entry_ns,response_ns`), relative to the config file.
    pub csv: Option<String>,
}

impl LatencyConfig {
    /// Valid `entry_ns`, `response_ns`, `new_ns`, `cancel_ns` and `modify_ns`: up to a minute
    /// (timestamps plus latencies stay far from `u64` overflow).
    pub const LATENCY_NS: Range<u64> = Range::new(0, 60_000_000_000, "order latency, ns");
}

impl Default for LatencyConfig {
    fn default() -> Self {
        LatencyConfig {
            model: "constant".into(),
            entry_ns: 0,
            response_ns: 0,
            new_ns: 0,
            cancel_ns: 0,
            modify_ns: 0,
            csv: None,
        }
    }
}

/// Queue-position model, as configured.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QueueConfig {
    /// `fifo` (exact, L3 data), `conservative` or `probabilistic` (L2 models).
    pub model: String,
    /// `probabilistic`: the exponent n of f(x) = x^n ([`POWER`](Self::POWER): 0.1..=10).
    pub power: f64,
}

impl QueueConfig {
    /// Valid `power` (checked whatever the model, so a bad value is found before it is used).
    pub const POWER: Range<f64> = Range::new(0.1, 10.0, "exponent n of f(x) = x^n");
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            model: "fifo".into(),
            power: 3.0,
        }
    }
}

/// Fees, as configured (negative = rebate).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FeeConfig {
    /// Maker fee, basis points of notional ([`BPS`](Self::BPS): -100..=100).
    pub maker_bps: f64,
    /// Taker fee, basis points of notional ([`BPS`](Self::BPS): -100..=100).
    pub taker_bps: f64,
    /// Maker fee per lot, price ticks (ITCH: 1 tick = $0.0001, so 20 = $0.0020 a share)
    /// ([`PER_LOT`](Self::PER_LOT): -1e6..=1e6).
    pub maker_per_lot: f64,
    /// Taker fee per lot, price ticks ([`PER_LOT`](Self::PER_LOT): -1e6..=1e6).
    pub taker_per_lot: f64,
}

impl FeeConfig {
    /// Valid `maker_bps` and `taker_bps`: a fee or rebate of up to 1% of notional.
    pub const BPS: Range<f64> = Range::new(-100.0, 100.0, "fee, basis points of notional");
    /// Valid `maker_per_lot` and `taker_per_lot` ($100 a share on ITCH; the fee in money units
    /// stays within `i64`).
    pub const PER_LOT: Range<f64> =
        Range::new(-1_000_000.0, 1_000_000.0, "fee per lot, price ticks");
}

/// The backtest configuration file (`--exec-config exec.toml`); every key is optional. Each
/// numeric key's valid range is an associated constant (of this struct, or of the table's),
/// checked by [`to_options`](Self::to_options).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ExecConfig {
    /// Starting capital, currency units (for return, turnover, Sharpe)
    /// ([`CAPITAL`](Self::CAPITAL): 1..=1e12).
    pub capital: f64,
    /// Price ticks per currency unit (ITCH and LOBSTER: 10000; Binance: 100000000)
    /// ([`PER_UNIT`](Self::PER_UNIT): 1..=1e9).
    pub ticks_per_unit: i64,
    /// Lots per unit of quantity (ITCH and LOBSTER: 1, a lot is a share; Binance, sizes in
    /// 1e-8: 100000000) ([`PER_UNIT`](Self::PER_UNIT): 1..=1e9).
    #[serde(skip_serializing_if = "is_one")]
    pub lots_per_unit: i64,
    /// Equity-curve sampling interval, event-time ns
    /// ([`SAMPLE_INTERVAL_NS`](Self::SAMPLE_INTERVAL_NS): 10 ms..=1 day).
    pub sample_interval_ns: u64,
    /// Most samples the equity curve holds. A run whose event time spans more intervals
    /// keeps every other sample and doubles the interval (as often as needed), so memory is
    /// set here, not by the data's time span; the report shows the interval it ended with
    /// ([`MAX_EQUITY_SAMPLES`](Self::MAX_EQUITY_SAMPLES): 16..=2^26).
    pub max_equity_samples: usize,
    /// Periods per year for annualizing Sharpe and Sortino; 0 = a US equity year (252 days of
    /// 6.5 hours) divided by the sampling interval
    /// ([`PERIODS_PER_YEAR`](Self::PERIODS_PER_YEAR): 0..=1e11).
    pub periods_per_year: f64,
    /// Data without receive times: how long after exchange time the strategy sees an event
    /// ([`FEED_LATENCY_NS`](Self::FEED_LATENCY_NS): 0..=60 s).
    pub feed_latency_ns: u64,
    /// Order latency.
    pub latency: LatencyConfig,
    /// Queue model.
    pub queue: QueueConfig,
    /// Fees.
    pub fees: FeeConfig,
}

impl Default for ExecConfig {
    fn default() -> Self {
        ExecConfig {
            capital: 1_000_000.0,
            ticks_per_unit: 10_000,
            lots_per_unit: 1,
            sample_interval_ns: 1_000_000_000,
            max_equity_samples: DEFAULT_MAX_EQUITY_SAMPLES,
            periods_per_year: 0.0,
            feed_latency_ns: 0,
            latency: LatencyConfig::default(),
            queue: QueueConfig::default(),
            fees: FeeConfig::default(),
        }
    }
}

/// Default cap on the equity curve: 2 Mi samples (96 MiB), a year of 15-second samples.
pub const DEFAULT_MAX_EQUITY_SAMPLES: usize = 1 << 21;

impl ExecConfig {
    /// Valid `capital`: with the largest tick and lot scales, a trillion currency units is
    /// still far inside the `i128` money units the ledger counts in.
    pub const CAPITAL: Range<f64> = Range::new(1.0, 1e12, "starting capital, currency units");
    /// Valid `ticks_per_unit` and `lots_per_unit` (1e9: finer than the 1e-8 of crypto venues).
    pub const PER_UNIT: Range<i64> = Range::new(
        1,
        1_000_000_000,
        "price ticks or lots per currency or quantity unit",
    );
    /// Valid `sample_interval_ns`. The equity curve keeps a 48-byte sample per interval of
    /// event time, so the shortest, 10 ms, costs at most 8.64 million samples (415 MB) for a
    /// day of data; the longest is a day.
    pub const SAMPLE_INTERVAL_NS: Range<u64> = Range::new(
        10_000_000,
        86_400_000_000_000,
        "equity-curve sampling interval, event-time ns",
    );
    /// Valid `max_equity_samples`: 48 bytes a sample, so the largest curve is 3 GiB.
    pub const MAX_EQUITY_SAMPLES: Range<usize> = Range::new(
        16,
        1 << 26,
        "samples the equity curve holds before it doubles its interval",
    );
    /// Valid `periods_per_year` (0: derived from the sampling interval; 1e11 is more than the
    /// milliseconds in a year).
    pub const PERIODS_PER_YEAR: Range<f64> = Range::new(
        0.0,
        1e11,
        "periods per year for Sharpe and Sortino (0: from the sampling interval)",
    );
    /// Valid `feed_latency_ns`.
    pub const FEED_LATENCY_NS: Range<u64> = Range::new(0, 60_000_000_000, "feed latency, ns");

    /// Checks every numeric key against its range, in the file's order.
    ///
    /// # Errors
    /// The first key out of range.
    pub fn validate(&self) -> Result<(), RangeError> {
        Self::CAPITAL.check("capital", self.capital)?;
        Self::PER_UNIT.check("ticks_per_unit", self.ticks_per_unit)?;
        Self::PER_UNIT.check("lots_per_unit", self.lots_per_unit)?;
        Self::SAMPLE_INTERVAL_NS.check("sample_interval_ns", self.sample_interval_ns)?;
        Self::MAX_EQUITY_SAMPLES.check("max_equity_samples", self.max_equity_samples)?;
        Self::PERIODS_PER_YEAR.check("periods_per_year", self.periods_per_year)?;
        Self::FEED_LATENCY_NS.check("feed_latency_ns", self.feed_latency_ns)?;
        let l = &self.latency;
        for (key, v) in [
            ("latency.entry_ns", l.entry_ns),
            ("latency.response_ns", l.response_ns),
            ("latency.new_ns", l.new_ns),
            ("latency.cancel_ns", l.cancel_ns),
            ("latency.modify_ns", l.modify_ns),
        ] {
            LatencyConfig::LATENCY_NS.check(key, v)?;
        }
        QueueConfig::POWER.check("queue.power", self.queue.power)?;
        let f = &self.fees;
        FeeConfig::BPS.check("fees.maker_bps", f.maker_bps)?;
        FeeConfig::BPS.check("fees.taker_bps", f.taker_bps)?;
        FeeConfig::PER_LOT.check("fees.maker_per_lot", f.maker_per_lot)?;
        FeeConfig::PER_LOT.check("fees.taker_per_lot", f.taker_per_lot)?;
        Ok(())
    }
}

/// Price ticks per currency unit, and lots per unit of quantity, on L2 crypto data: prices
/// and sizes both carry 8 decimals.
pub const L2_UNIT: i64 = 100_000_000;

impl ExecConfig {
    /// The units of L2 crypto data (Binance, Coinbase, Kraken): `ticks_per_unit` and
    /// `lots_per_unit` become [`L2_UNIT`] unless the configuration gave them
    /// (`ticks_given`, `lots_given`), and Sharpe and Sortino annualize over 365 days of 24
    /// hours unless `periods_per_year` is set (crypto markets never close).
    ///
    /// ```
    /// let mut c = ticklane_replay::backtest::ExecConfig::default();
    /// c.default_l2_units(false, true);
    /// assert_eq!((c.ticks_per_unit, c.lots_per_unit), (100_000_000, 1));
    /// assert_eq!(c.periods_per_year, 365.0 * 86_400.0);
    /// ```
    pub fn default_l2_units(&mut self, ticks_given: bool, lots_given: bool) {
        if !ticks_given {
            self.ticks_per_unit = L2_UNIT;
        }
        if !lots_given {
            self.lots_per_unit = L2_UNIT;
        }
        if self.periods_per_year <= 0.0 && self.sample_interval_ns > 0 {
            self.periods_per_year = 365.0 * 86_400e9 / self.sample_interval_ns as f64;
        }
    }

    /// Parses an execution config file's text (`None`: every default) for a run on `l2` data
    /// or not: on L2 data the units the text leaves out are the L2 ones
    /// ([`default_l2_units`](Self::default_l2_units)).
    ///
    /// # Errors
    /// [`ExecConfigError::Toml`], naming the key or line.
    pub fn parse_for(text: Option<&str>, l2: bool) -> Result<Self, ExecConfigError> {
        let mut cfg = match text {
            Some(t) => ExecConfig::parse(t)?,
            None => ExecConfig::default(),
        };
        if l2 {
            let keys = text
                .and_then(|t| toml::from_str::<toml::Table>(t).ok())
                .unwrap_or_default();
            cfg.default_l2_units(
                keys.contains_key("ticks_per_unit"),
                keys.contains_key("lots_per_unit"),
            );
        }
        Ok(cfg)
    }
}

fn is_one(v: &i64) -> bool {
    *v == 1
}

/// Why a backtest configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ExecConfigError {
    /// The TOML does not parse or has an unknown key (the message names it).
    #[error("{0}")]
    Toml(String),
    /// A numeric key is out of its range (the message names the key, the value and the range).
    #[error(transparent)]
    Range(#[from] RangeError),
    /// A value names something unknown.
    #[error("{key}: {message}")]
    Value {
        /// The key.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The empirical latency CSV could not be read.
    #[error("latency.csv {path}: {message}")]
    LatencyCsv {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// A backtest ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct BacktestOptions {
    /// The simulator's configuration.
    pub sim: SimConfig,
    /// Starting capital, money units.
    pub capital: i128,
    /// Price ticks per currency unit.
    pub ticks_per_unit: i64,
    /// Lots per unit of quantity.
    pub lots_per_unit: i64,
    /// Equity sampling interval, ns.
    pub sample_interval_ns: u64,
    /// Most samples the equity curve holds (see [`ExecConfig::max_equity_samples`]).
    pub max_equity_samples: usize,
    /// Periods per year (annualization).
    pub periods_per_year: f64,
    /// Extra files the configuration read (an empirical latency CSV), for the manifest.
    pub extra_inputs: Vec<PathBuf>,
    /// Room reserved up front in the trade log and the equity curve (each), so that a run with
    /// up to this many fills and samples allocates nothing for them while it runs.
    pub log_capacity: usize,
}

impl Default for BacktestOptions {
    fn default() -> Self {
        ExecConfig::default()
            .to_options(Path::new("."))
            .expect("the default configuration is valid")
    }
}

impl ExecConfig {
    /// Parses TOML text.
    ///
    /// # Errors
    /// [`ExecConfigError::Toml`], naming the key or line.
    pub fn parse(text: &str) -> Result<Self, ExecConfigError> {
        toml::from_str(text).map_err(|e| ExecConfigError::Toml(e.to_string().trim().to_owned()))
    }

    /// Builds the options; relative paths are taken from `base` (the config file's folder).
    ///
    /// # Errors
    /// [`ExecConfigError`] for bad values and unreadable latency files.
    pub fn to_options(&self, base: &Path) -> Result<BacktestOptions, ExecConfigError> {
        let bad = |key, message: &str| ExecConfigError::Value {
            key,
            message: message.to_owned(),
        };
        self.validate()?;
        let scale = money_scale(self.ticks_per_unit, self.lots_per_unit);
        let l = &self.latency;
        let mut extra_inputs = Vec::new();
        let latency = match l.model.as_str() {
            "constant" => Latency::Constant(Constant {
                entry: l.entry_ns,
                response: l.response_ns,
            }),
            "per_action" => Latency::PerAction(PerAction {
                new: l.new_ns,
                cancel: l.cancel_ns,
                modify: l.modify_ns,
                response: l.response_ns,
            }),
            "empirical" => {
                let Some(p) = &l.csv else {
                    return Err(bad("latency.csv", "the empirical model needs a CSV file"));
                };
                let path = base.join(p);
                let text =
                    std::fs::read_to_string(&path).map_err(|e| ExecConfigError::LatencyCsv {
                        path: path.display().to_string(),
                        message: e.to_string(),
                    })?;
                let m = Empirical::parse(&text).map_err(|e| ExecConfigError::LatencyCsv {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?;
                extra_inputs.push(path);
                Latency::Empirical(m)
            }
            other => {
                return Err(bad(
                    "latency.model",
                    &format!("{other:?} is not one of constant, per_action, empirical"),
                ))
            }
        };
        let queue = match self.queue.model.as_str() {
            "fifo" => QueueKind::Fifo,
            "conservative" => QueueKind::Conservative,
            "probabilistic" => QueueKind::Probabilistic(Probabilistic {
                power: self.queue.power,
            }),
            other => {
                return Err(bad(
                    "queue.model",
                    &format!("{other:?} is not one of fifo, conservative, probabilistic"),
                ))
            }
        };
        let f = &self.fees;
        let periods_per_year = if self.periods_per_year > 0.0 {
            self.periods_per_year
        } else {
            252.0 * 23_400e9 / self.sample_interval_ns as f64
        };
        Ok(BacktestOptions {
            sim: SimConfig {
                latency,
                queue,
                fees: Fees::from_decimal(
                    f.maker_bps,
                    f.taker_bps,
                    f.maker_per_lot,
                    f.taker_per_lot,
                ),
                feed_latency: self.feed_latency_ns,
            },
            capital: (self.capital * scale as f64).round() as i128 * MONEY_PER_TICK_LOT,
            ticks_per_unit: self.ticks_per_unit,
            lots_per_unit: self.lots_per_unit,
            sample_interval_ns: self.sample_interval_ns,
            max_equity_samples: self.max_equity_samples,
            periods_per_year,
            extra_inputs,
            log_capacity: 1 << 12,
        })
    }
}

/// Tick-lots per currency unit: what money amounts are divided by (with
/// [`ticklane_engine::exec::ledger::MONEY_PER_TICK_LOT`]) to show currency units.
pub fn money_scale(ticks_per_unit: i64, lots_per_unit: i64) -> i64 {
    ticks_per_unit.saturating_mul(lots_per_unit.max(1))
}
