//! Backtests: the execution simulator's configuration, and the recorder that books fills,
//! samples the equity curve and keeps the trade log while the replay runs.
//!
//! The simulator itself ([`ticklane_engine::exec::sim`]) runs inside each book stage, next to
//! the books it matches against; its reports travel to the output stage with the other outputs,
//! in input order, where the [`Recorder`] keeps the accounts. So a backtest gives the same fills,
//! PnL and digest inline and on any number of book shards.

pub mod config;
pub mod l2;

pub use config::*;

use serde::Serialize;
use ticklane_engine::exec::fees::Fees;
use ticklane_engine::exec::ledger::{Ledger, MONEY_PER_TICK_LOT};
use ticklane_engine::exec::sim::SimCounts;
use ticklane_engine::Nanos;

use crate::report::{EquitySample, FillRecord, OrderCounts};
use crate::stages::output::{Output, OutputKind};

/// Books fills and samples equity from the ordered output stream.
pub struct Recorder {
    fees: Fees,
    interval: u64,
    max_samples: usize,
    next_sample: Option<u64>,
    /// The accounts.
    pub ledger: Ledger,
    /// The trade log.
    pub fills: Vec<FillRecord>,
    /// The equity curve: a sample at the first output, then every interval of event time.
    pub equity: Vec<EquitySample>,
}

impl Recorder {
    /// A recorder for `opts`.
    pub fn new(opts: &BacktestOptions) -> Self {
        Recorder {
            fees: opts.sim.fees,
            interval: opts.sample_interval_ns.max(1),
            max_samples: opts.max_equity_samples.max(2),
            next_sample: None,
            ledger: Ledger::new(),
            fills: Vec::with_capacity(opts.log_capacity),
            equity: Vec::with_capacity(opts.log_capacity.min(opts.max_equity_samples)),
        }
    }

    /// The sampling interval the curve has now, ns (the configured one, doubled once for every
    /// time the curve reached its cap).
    pub fn interval(&self) -> u64 {
        self.interval
    }

    fn sample(&mut self, ts: u64) {
        if self.equity.len() >= self.max_samples {
            self.coarsen();
        }
        self.equity.push(EquitySample {
            ts,
            equity: self.ledger.equity(),
            position: self.ledger.net_position(),
        });
    }

    /// The curve is full: keep the first sample and those on a boundary of twice the
    /// interval, and sample at that interval from now on. The curve then reads as if it had
    /// been sampled at the doubled interval from the start.
    #[cold]
    fn coarsen(&mut self) {
        let Some(wider) = self.interval.checked_mul(2) else {
            // An interval of 2^63 ns (292 years) or more: only the first sample is kept.
            self.equity.truncate(1);
            return;
        };
        let mut i = 0;
        self.equity.retain(|s| {
            i += 1;
            i == 1 || s.ts % wider == 0
        });
        self.interval = wider;
    }

    /// The finished run's data: the options with the interval the curve ended with (and
    /// periods per year scaled to it), the counters, the trade log and the curve.
    pub fn take_data(&mut self, mut options: BacktestOptions, counts: SimCounts) -> BacktestData {
        if self.interval != options.sample_interval_ns && options.sample_interval_ns > 0 {
            options.periods_per_year *= options.sample_interval_ns as f64 / self.interval as f64;
            options.sample_interval_ns = self.interval;
        }
        BacktestData {
            options,
            counts,
            fills: std::mem::take(&mut self.fills),
            equity: std::mem::take(&mut self.equity),
        }
    }

    /// Takes the next output (already in input order), before the output stage applies it.
    #[inline]
    pub fn on_output(&mut self, o: &Output, symbol: [u8; crate::report::SYMBOL_LEN]) {
        let ts = o.ts.0;
        match self.next_sample {
            None => {
                self.sample(ts);
                self.next_sample = Some((ts / self.interval + 1).saturating_mul(self.interval));
            }
            Some(mut next) if ts >= next && next != u64::MAX => {
                // The state up to here held through every boundary crossed since the last one.
                // A full curve doubles the interval and moves on to the wider grid, so a long
                // gap costs a bounded number of steps.
                while ts >= next {
                    if self.equity.len() >= self.max_samples {
                        self.coarsen();
                        next = next.div_ceil(self.interval).saturating_mul(self.interval);
                        continue;
                    }
                    self.sample(next);
                    match next.checked_add(self.interval) {
                        Some(n) => next = n,
                        None => {
                            // No boundary is left before the end of time.
                            next = u64::MAX;
                            break;
                        }
                    }
                }
                self.next_sample = Some(next);
            }
            Some(_) => {}
        }
        match o.kind {
            OutputKind::Bbo(key) => {
                let px = |(p, q): (i64, u64)| (q > 0 || p != 0).then_some(ticklane_engine::Px(p));
                self.ledger.mark(o.instr, px(key[0]), px(key[1]));
            }
            OutputKind::Fill {
                client_id,
                px,
                qty,
                queue_wait,
                response,
                side,
                liquidity,
            } => {
                let fee = self.fees.fee(liquidity, px, qty);
                let acc = self.ledger.account_mut(o.instr);
                acc.fill(side, px, qty, fee);
                let acc = *acc;
                self.fills.push(FillRecord {
                    ts_exch: ts,
                    ts_local: ts + u64::from(response),
                    symbol,
                    instr: o.instr.0,
                    client_id,
                    side,
                    px: px.0,
                    qty: qty.0,
                    liquidity,
                    fee,
                    position: acc.position,
                    cash: acc.cash,
                    realized_pnl: acc.realized,
                    queue_wait_ns: (liquidity == ticklane_engine::exec::Liquidity::Maker)
                        .then_some(queue_wait),
                });
            }
            _ => {}
        }
    }

    /// Closes the curve with a sample at `last_ts` (the last event's time).
    pub fn finish(&mut self, last_ts: Nanos) {
        if self.equity.last().is_none_or(|s| s.ts < last_ts.0) {
            self.sample(last_ts.0);
        }
    }
}

/// Order counters of all shards, in the report's shape.
pub fn order_counts(c: &SimCounts) -> OrderCounts {
    OrderCounts {
        submitted: c.submitted,
        accepted: c.accepted,
        rejected: c.rejected,
        cancelled: c.cancelled,
        filled: c.filled,
        partially_filled: c.partial_fills,
        submitted_qty: c.submitted_qty,
        filled_qty: c.filled_qty,
    }
}

/// Sums the counters of several shards.
pub fn sum_counts<'a>(it: impl IntoIterator<Item = &'a SimCounts>) -> SimCounts {
    let mut t = SimCounts::default();
    for c in it {
        t.submitted += c.submitted;
        t.submitted_qty += c.submitted_qty;
        t.accepted += c.accepted;
        t.rejected += c.rejected;
        t.cancelled += c.cancelled;
        t.filled += c.filled;
        t.partial_fills += c.partial_fills;
        t.fills += c.fills;
        t.filled_qty += c.filled_qty;
        t.cancels += c.cancels;
        t.modifies += c.modifies;
        t.delivered += c.delivered;
    }
    t
}

/// What a backtest adds to the replay summary.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct BacktestSummary {
    /// Events replayed (input messages).
    pub events: u64,
    /// Events per second of the replay loop alone (start-up excluded).
    pub events_per_sec: f64,
    /// Seconds in the replay loop.
    pub loop_s: f64,
    /// New orders sent.
    pub orders_submitted: u64,
    /// Accepted.
    pub orders_accepted: u64,
    /// Rejected actions.
    pub rejected: u64,
    /// Cancelled orders.
    pub cancelled: u64,
    /// Cancels and modifies sent.
    pub cancels_sent: u64,
    /// Modifies sent.
    pub modifies_sent: u64,
    /// Fills.
    pub fills: u64,
    /// Lots filled.
    pub filled_qty: u64,
    /// Final position (sum over instruments), lots.
    pub position: i64,
    /// Net PnL (equity at the end), currency units.
    pub pnl: f64,
    /// Fees paid, currency units.
    pub fees: f64,
    /// Queue model.
    pub queue_model: &'static str,
    /// L2 backtests: the currency of the accounts (the quote currency of the first symbol).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// L2 backtests: symbols quoted in another currency, replayed without the strategy.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_traded: Vec<String>,
}

impl BacktestSummary {
    /// The summary of a backtest over `events` events in `loop_s` seconds, from the
    /// simulator's counts and the recorder's accounts (currency and untraded instruments
    /// empty: price-level backtests fill them in).
    pub fn from_run(
        events: u64,
        loop_s: f64,
        counts: &SimCounts,
        recorder: &Recorder,
        opts: &BacktestOptions,
    ) -> Self {
        let tpu = money_scale(opts.ticks_per_unit, opts.lots_per_unit);
        let fees: i128 = recorder.ledger.accounts().map(|(_, a)| a.fees).sum();
        BacktestSummary {
            events,
            events_per_sec: if loop_s > 0.0 {
                events as f64 / loop_s
            } else {
                0.0
            },
            loop_s,
            orders_submitted: counts.submitted,
            orders_accepted: counts.accepted,
            rejected: counts.rejected,
            cancelled: counts.cancelled,
            cancels_sent: counts.cancels,
            modifies_sent: counts.modifies,
            fills: counts.fills,
            filled_qty: counts.filled_qty,
            position: recorder.ledger.net_position(),
            pnl: money_units(recorder.ledger.equity(), tpu),
            fees: money_units(fees, tpu),
            queue_model: opts.sim.queue.name(),
            currency: None,
            not_traded: Vec::new(),
        }
    }
}

/// Everything a finished backtest carries besides the summary line items.
#[derive(Clone, Debug, PartialEq)]
pub struct BacktestData {
    /// The options it ran with.
    pub options: BacktestOptions,
    /// Summed order counters.
    pub counts: SimCounts,
    /// The trade log.
    pub fills: Vec<FillRecord>,
    /// The equity curve.
    pub equity: Vec<EquitySample>,
}

impl BacktestData {
    /// The report's view of a run of `events` input events that printed `digest`.
    pub fn report_input(&self, events: u64, digest: &str) -> crate::report::ReportInput<'_> {
        crate::report::ReportInput {
            fills: &self.fills,
            equity: &self.equity,
            sample_interval_ns: self.options.sample_interval_ns,
            orders: order_counts(&self.counts),
            events,
            capital: self.options.capital,
            ticks_per_unit: self.options.ticks_per_unit,
            lots_per_unit: self.options.lots_per_unit,
            periods_per_year: self.options.periods_per_year,
            digest: digest.to_owned(),
        }
    }
}

/// Currency units of a money amount, with `scale` tick-lots per currency unit
/// ([`crate::report::money_scale`]; `ticks_per_unit` on ITCH).
pub fn money_units(m: i128, scale: i64) -> f64 {
    m as f64 / MONEY_PER_TICK_LOT as f64 / scale as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::SYMBOL_LEN;
    use std::path::Path;
    use ticklane_engine::{InstrumentIdx, Px, Qty};

    fn recorder(interval: u64, max: usize) -> Recorder {
        Recorder::new(&BacktestOptions {
            sample_interval_ns: interval,
            max_equity_samples: max,
            log_capacity: 4,
            ..BacktestOptions::default()
        })
    }

    fn at(r: &mut Recorder, ts: u64) {
        let o = Output {
            seq: 0,
            ts: Nanos(ts),
            instr: InstrumentIdx(0),
            kind: OutputKind::Trade {
                px: Px(1),
                qty: Qty(1),
                kind: crate::stages::output::TradeKind::NonDisplayed,
            },
            stamp: 0,
        };
        r.on_output(&o, [0; SYMBOL_LEN]);
    }

    fn times(r: &Recorder) -> Vec<u64> {
        r.equity.iter().map(|s| s.ts).collect()
    }

    #[test]
    fn samples_every_boundary_below_the_cap() {
        let mut r = recorder(10, 16);
        at(&mut r, 5);
        at(&mut r, 37);
        r.finish(Nanos(41));
        assert_eq!(times(&r), [5, 10, 20, 30, 41]);
        assert_eq!(r.interval(), 10);
    }

    #[test]
    fn a_full_curve_keeps_every_other_sample_and_doubles_the_interval() {
        let mut r = recorder(10, 16);
        at(&mut r, 5);
        // Boundaries 10..=200: 15 fit beside the first sample, then the curve is full.
        at(&mut r, 200);
        assert_eq!(times(&r), [5, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200]);
        assert_eq!(r.interval(), 20);
        at(&mut r, 230);
        assert_eq!(*times(&r).last().unwrap(), 220);
        // The report reads the interval the curve ended with, and periods per year with it.
        let opts = BacktestOptions {
            sample_interval_ns: 10,
            periods_per_year: 1000.0,
            ..BacktestOptions::default()
        };
        let d = r.take_data(opts, SimCounts::default());
        assert_eq!(d.options.sample_interval_ns, 20);
        assert_eq!(d.options.periods_per_year, 500.0);
    }

    /// A time centuries ahead (one corrupted receive time) with a 1 ns interval used to push a
    /// sample per nanosecond until memory ran out; the curve now stays within its cap and the
    /// loop ends after a bounded number of steps.
    #[test]
    fn a_jump_to_the_far_future_stays_within_the_cap() {
        let mut r = recorder(1, 64);
        at(&mut r, 1_700_000_000_000_000_000);
        at(&mut r, 16_000_000_000_000_000_000);
        r.finish(Nanos(16_000_000_000_000_000_000));
        assert!(r.equity.len() <= 64, "{} samples", r.equity.len());
        assert!(r.equity.capacity() <= 128);
        let t = times(&r);
        assert!(t.windows(2).all(|w| w[0] < w[1]), "{t:?}");
        assert_eq!(*t.last().unwrap(), 16_000_000_000_000_000_000);
        // The end of time: no boundary past u64::MAX, no overflow.
        at(&mut r, u64::MAX);
        at(&mut r, u64::MAX);
        assert!(r.equity.len() <= 64);
    }

    #[test]
    fn max_equity_samples_is_range_checked() {
        for bad in [0, 15, (1 << 26) + 1] {
            let cfg = ExecConfig {
                max_equity_samples: bad,
                ..ExecConfig::default()
            };
            let e = cfg.to_options(Path::new(".")).unwrap_err().to_string();
            assert!(
                e.contains("max_equity_samples") && e.contains(&bad.to_string()),
                "{e}"
            );
        }
        for good in [16, 1 << 26] {
            let cfg = ExecConfig {
                max_equity_samples: good,
                ..ExecConfig::default()
            };
            assert!(cfg.to_options(Path::new(".")).is_ok());
        }
    }
}
