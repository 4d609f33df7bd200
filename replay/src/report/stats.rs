//! Backtest statistics from the fills and the sampled equity curve.
//!
//! Definitions (docs/backtests.md, "Backtest report", repeats them):
//!
//! - **PnL** = equity of the last sample (equity is `cash + position * mid` with cash starting
//!   at 0, so it is the mark-to-market profit). With no samples, the last fill's realized PnL.
//! - **Return** = PnL / capital.
//! - **Per-sample return** `r_i = (equity_i - equity_{i-1}) / capital`, for consecutive samples.
//! - **Sharpe** = mean(r) / std(r) * sqrt(periods_per_year), std being the sample standard
//!   deviation (divisor n - 1, as pandas' `std()`).
//! - **Sortino** = mean(r) / dd * sqrt(periods_per_year), with the downside deviation
//!   dd = sqrt(mean(min(r, 0)^2)) over all n returns.
//! - Sharpe and Sortino are `None` (JSON `null`) when there are fewer than two returns, when the
//!   deviation is zero (a flat curve, or no losing period for Sortino), or when capital <= 0.
//! - **Max drawdown**: the largest peak-to-trough fall of `capital + equity` along the sampled
//!   curve, in money units, and as a fraction of the peak it fell from (`None` if that peak is
//!   not positive). Zero for a curve that never falls.
//! - **Notional** = sum of `px * qty * MONEY_PER_TICK_LOT` over fills (money units);
//!   **turnover** = notional / capital.
//! - **Fill ratio** = filled_qty / submitted_qty from the order counts (`None` if nothing was
//!   submitted).
//! - **Mean queue wait** = mean of `queue_wait_ns` over fills that have one (`None` if none).

use std::io::{self, Write};

use ticklane_engine::Side;

use super::decimal::{money_fixed, money_str};
use super::{Liquidity, OrderCounts, ReportInput, MONEY_PER_TICK_LOT};

/// Summary statistics of one backtest. Money in money units (see [`MONEY_PER_TICK_LOT`]),
/// quantities in lots, time in nanoseconds; ratios `f64`, `None` where undefined.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// Mark-to-market profit at the last equity sample, money units.
    pub pnl: i128,
    /// Cumulative realized PnL, money units: over instruments, each one's after its last fill.
    pub realized_pnl: i128,
    /// PnL / capital.
    pub return_frac: Option<f64>,
    /// Annualized Sharpe ratio of the per-sample returns.
    pub sharpe: Option<f64>,
    /// Annualized Sortino ratio of the per-sample returns.
    pub sortino: Option<f64>,
    /// Largest peak-to-trough fall of capital + equity, money units.
    pub max_drawdown: i128,
    /// `max_drawdown` as a fraction of the peak it fell from.
    pub max_drawdown_frac: Option<f64>,
    /// Number of fills.
    pub trades: u64,
    /// Number of buy fills.
    pub buys: u64,
    /// Number of sell fills.
    pub sells: u64,
    /// Traded quantity, lots.
    pub volume: u64,
    /// Traded notional, money units.
    pub notional: i128,
    /// Notional / capital.
    pub turnover: Option<f64>,
    /// Sum of fees, money units (negative = net rebate).
    pub fees: i128,
    /// filled_qty / submitted_qty.
    pub fill_ratio: Option<f64>,
    /// Mean time from joining the queue to the fill over maker fills that report it, ns.
    pub mean_queue_wait_ns: Option<f64>,
    /// Fills that added liquidity.
    pub maker_fills: u64,
    /// Fills that took liquidity.
    pub taker_fills: u64,
    /// Net position at the end, lots: the sum over instruments of each one's position after its
    /// last fill (else the last equity sample's, else 0).
    pub final_position: i64,
    /// Largest absolute position seen, lots: of one instrument after any fill, or net in any
    /// equity sample.
    pub max_abs_position: u64,
    /// Number of equity samples.
    pub samples: u64,
    /// Sampling interval, ns.
    pub sample_interval_ns: u64,
    /// Event time of the first equity sample, ns.
    pub first_sample_ts: Option<u64>,
    /// Event time of the last equity sample, ns.
    pub last_sample_ts: Option<u64>,
    /// Starting capital, money units.
    pub capital: i128,
    /// Price ticks per currency unit (for display).
    pub ticks_per_unit: i64,
    /// Lots per unit of quantity (1 on ITCH; absent in reports from before it existed).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub lots_per_unit: i64,
    /// Sampling periods per year used to annualize Sharpe and Sortino.
    pub periods_per_year: f64,
    /// Money units per (tick x lot), [`MONEY_PER_TICK_LOT`]: divide money by this and by
    /// `ticks_per_unit` for currency units.
    pub money_per_tick_lot: i128,
    /// Order counts.
    pub orders: OrderCounts,
    /// Market-data events replayed.
    pub events: u64,
}

fn one() -> i64 {
    1
}

fn is_one(v: &i64) -> bool {
    *v == 1
}

/// Sharpe and Sortino of per-period returns, annualized by `sqrt(periods_per_year)`.
/// `None` each where undefined (fewer than two returns, zero deviation).
fn sharpe_sortino(returns: &[f64], periods_per_year: f64) -> (Option<f64>, Option<f64>) {
    let n = returns.len();
    if n < 2 || periods_per_year.is_nan() || periods_per_year <= 0.0 {
        return (None, None);
    }
    let mean = returns.iter().sum::<f64>() / n as f64;
    let var = returns.iter().map(|r| (r - mean) * (r - mean)).sum::<f64>() / (n - 1) as f64;
    let down = returns.iter().map(|r| r.min(0.0) * r.min(0.0)).sum::<f64>() / n as f64;
    let ann = periods_per_year.sqrt();
    let ratio = |dev: f64| {
        let v = mean / dev * ann;
        (dev > 0.0 && v.is_finite()).then_some(v)
    };
    (ratio(var.sqrt()), ratio(down.sqrt()))
}

fn frac(num: i128, den: i128) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Computes the [`Stats`] of a run (definitions in the module docs).
pub fn compute_stats(input: &ReportInput) -> Stats {
    let fills = input.fills;
    let equity = input.equity;
    let capital = input.capital;

    let mut buys = 0u64;
    let mut sells = 0u64;
    let mut volume = 0u64;
    let mut notional = 0i128;
    let mut fees = 0i128;
    let mut maker_fills = 0u64;
    let mut taker_fills = 0u64;
    let mut wait_sum = 0u128;
    let mut wait_n = 0u64;
    let mut max_abs_position = 0u64;
    for f in fills {
        match f.side {
            Side::Bid => buys += 1,
            Side::Ask => sells += 1,
        }
        volume = volume.saturating_add(f.qty);
        notional += (f.px as i128).abs() * f.qty as i128 * MONEY_PER_TICK_LOT;
        fees += f.fee;
        match f.liquidity {
            Liquidity::Maker => maker_fills += 1,
            Liquidity::Taker => taker_fills += 1,
        }
        if let Some(w) = f.queue_wait_ns {
            wait_sum += w as u128;
            wait_n += 1;
        }
        max_abs_position = max_abs_position.max(f.position.unsigned_abs());
    }

    // Drawdown on capital + equity: track the running peak, the largest fall from it, and the
    // peak that fall started from (for the fraction).
    let mut peak: Option<i128> = None;
    let mut max_dd = 0i128;
    let mut dd_peak = 0i128;
    for s in equity {
        let level = capital + s.equity;
        let p = peak.map_or(level, |p| p.max(level));
        peak = Some(p);
        if p - level > max_dd {
            max_dd = p - level;
            dd_peak = p;
        }
        max_abs_position = max_abs_position.max(s.position.unsigned_abs());
    }
    let max_drawdown_frac = if max_dd == 0 {
        Some(0.0).filter(|_| !equity.is_empty())
    } else {
        frac(max_dd, dd_peak)
    };

    let (sharpe, sortino) = if capital > 0 {
        let returns: Vec<f64> = equity
            .windows(2)
            .map(|w| (w[1].equity - w[0].equity) as f64 / capital as f64)
            .collect();
        sharpe_sortino(&returns, input.periods_per_year)
    } else {
        (None, None)
    };

    // Each fill carries its instrument's account after it: the run's realized PnL and final
    // position are the sums over instruments of their last fill's.
    let mut last_of: std::collections::BTreeMap<u32, (i128, i64)> = Default::default();
    for f in fills {
        last_of.insert(f.instr, (f.realized_pnl, f.position));
    }
    let realized_pnl = last_of.values().map(|v| v.0).sum();
    let pnl = equity.last().map_or(realized_pnl, |s| s.equity);
    let final_position = if last_of.is_empty() {
        equity.last().map_or(0, |s| s.position)
    } else {
        last_of.values().map(|v| v.1).sum()
    };

    Stats {
        pnl,
        realized_pnl,
        return_frac: frac(pnl, capital),
        sharpe,
        sortino,
        max_drawdown: max_dd,
        max_drawdown_frac,
        trades: fills.len() as u64,
        buys,
        sells,
        volume,
        notional,
        turnover: frac(notional, capital),
        fees,
        fill_ratio: (input.orders.submitted_qty > 0)
            .then(|| input.orders.filled_qty as f64 / input.orders.submitted_qty as f64),
        mean_queue_wait_ns: (wait_n > 0).then(|| wait_sum as f64 / wait_n as f64),
        maker_fills,
        taker_fills,
        final_position,
        max_abs_position,
        samples: equity.len() as u64,
        sample_interval_ns: input.sample_interval_ns,
        first_sample_ts: equity.first().map(|s| s.ts),
        last_sample_ts: equity.last().map(|s| s.ts),
        capital,
        ticks_per_unit: input.ticks_per_unit,
        lots_per_unit: input.lots_per_unit,
        periods_per_year: input.periods_per_year,
        money_per_tick_lot: MONEY_PER_TICK_LOT,
        orders: input.orders,
        events: input.events,
    }
}

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.decimals$}"))
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{:.4}%", v * 100.0))
}

/// Writes a human-readable block of the statistics, money in currency units (4 decimals).
///
/// # Errors
///
/// Whatever `w` returns.
pub fn print_summary(stats: &Stats, w: &mut impl Write) -> io::Result<()> {
    let tpu = super::money_scale(stats.ticks_per_unit, stats.lots_per_unit);
    let m = |v: i128| {
        if tpu > 0 {
            money_fixed(v, tpu, 4)
        } else {
            format!("{v} money units")
        }
    };
    let o = &stats.orders;
    writeln!(w, "backtest report")?;
    writeln!(
        w,
        "  pnl            {}  (return {}, realized {})",
        m(stats.pnl),
        pct(stats.return_frac),
        m(stats.realized_pnl)
    )?;
    writeln!(
        w,
        "  capital        {}",
        if tpu > 0 {
            money_str(stats.capital, tpu)
        } else {
            stats.capital.to_string()
        }
    )?;
    writeln!(
        w,
        "  sharpe         {}   sortino {}   (annualized, {} periods/year)",
        opt(stats.sharpe, 3),
        opt(stats.sortino, 3),
        stats.periods_per_year
    )?;
    writeln!(
        w,
        "  max drawdown   {}  ({})",
        m(stats.max_drawdown),
        pct(stats.max_drawdown_frac)
    )?;
    writeln!(
        w,
        "  fills          {}  ({} buy, {} sell; {} maker, {} taker)",
        stats.trades, stats.buys, stats.sells, stats.maker_fills, stats.taker_fills
    )?;
    writeln!(
        w,
        "  volume         {} lots, notional {}, turnover {}",
        stats.volume,
        m(stats.notional),
        opt(stats.turnover, 4)
    )?;
    writeln!(w, "  fees           {}", m(stats.fees))?;
    writeln!(
        w,
        "  orders         {} submitted, {} accepted, {} rejected, {} cancelled, {} filled, {} partially filled",
        o.submitted, o.accepted, o.rejected, o.cancelled, o.filled, o.partially_filled
    )?;
    writeln!(
        w,
        "  fill ratio     {}  ({} of {} lots)",
        opt(stats.fill_ratio, 4),
        o.filled_qty,
        o.submitted_qty
    )?;
    writeln!(
        w,
        "  queue wait     {}",
        stats.mean_queue_wait_ns.map_or_else(
            || "n/a".to_string(),
            |ns| format!("{:.0} ns mean (maker fills)", ns)
        )
    )?;
    writeln!(
        w,
        "  position       {} final, {} max abs",
        stats.final_position, stats.max_abs_position
    )?;
    writeln!(
        w,
        "  equity curve   {} samples every {} ns, {} events",
        stats.samples, stats.sample_interval_ns, stats.events
    )?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::report::{EquitySample, FillRecord};

    pub(crate) fn curve(points: &[(i128, i64)]) -> Vec<EquitySample> {
        points
            .iter()
            .enumerate()
            .map(|(i, &(equity, position))| EquitySample {
                ts: 1_000 * i as u64,
                equity,
                position,
            })
            .collect()
    }

    pub(crate) fn input<'a>(
        fills: &'a [FillRecord],
        equity: &'a [EquitySample],
        capital: i128,
        periods_per_year: f64,
    ) -> ReportInput<'a> {
        ReportInput {
            fills,
            equity,
            sample_interval_ns: 1_000,
            orders: OrderCounts::default(),
            events: 0,
            capital,
            ticks_per_unit: 10_000,
            lots_per_unit: 1,
            periods_per_year,
            digest: "0123456789abcdef".to_string(),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn drawdown_on_hand_curve() {
        // Capital 100, equity 0, +10, -5, +20: capital + equity = 100, 110, 95, 120.
        // Peak 110 falls to 95: drawdown 15, fraction 15/110; the later 120 is a new peak with
        // no fall after it.
        let eq = curve(&[(0, 0), (10, 1), (-5, -2), (20, 0)]);
        let s = compute_stats(&input(&[], &eq, 100, 1.0));
        assert_eq!(s.max_drawdown, 15);
        assert!(close(s.max_drawdown_frac.unwrap(), 15.0 / 110.0));
        assert_eq!(s.pnl, 20);
        assert!(close(s.return_frac.unwrap(), 0.2));
        assert_eq!(s.max_abs_position, 2);
        assert_eq!(s.final_position, 0);
        assert_eq!(s.samples, 4);
        assert_eq!(s.first_sample_ts, Some(0));
        assert_eq!(s.last_sample_ts, Some(3_000));
    }

    #[test]
    fn deepest_fall_wins_over_later_shallower_one() {
        // capital 1000: levels 1000, 1050, 990 (fall 60 from 1050), 1100, 1060 (fall 40).
        let eq = curve(&[(0, 0), (50, 0), (-10, 0), (100, 0), (60, 0)]);
        let s = compute_stats(&input(&[], &eq, 1000, 1.0));
        assert_eq!(s.max_drawdown, 60);
        assert!(close(s.max_drawdown_frac.unwrap(), 60.0 / 1050.0));
    }

    #[test]
    fn monotone_curve_has_zero_drawdown() {
        let eq = curve(&[(0, 0), (1, 0), (2, 0)]);
        let s = compute_stats(&input(&[], &eq, 100, 1.0));
        assert_eq!(s.max_drawdown, 0);
        assert_eq!(s.max_drawdown_frac, Some(0.0));
    }

    #[test]
    fn sharpe_sortino_by_hand() {
        // Capital 100, equity 0, 10, -5, 20 -> changes +10, -15, +25 -> r = 0.10, -0.15, 0.25.
        // mean = 0.20 / 3 = 0.0666667.
        // deviations 0.0333333, -0.2166667, 0.1833333; squares 0.0011111, 0.0469444, 0.0336111;
        // sum 0.0816667; / (n-1 = 2) = 0.0408333; std = 0.2020726.
        // Sharpe (1 period/year) = 0.0666667 / 0.2020726 = 0.3299144.
        // Downside: min(r,0) = 0, -0.15, 0 -> mean of squares 0.0225/3 = 0.0075 -> 0.0866025.
        // Sortino = 0.0666667 / 0.0866025 = 0.7698004.
        // With 4 periods/year both scale by sqrt(4) = 2.
        let eq = curve(&[(0, 0), (10, 0), (-5, 0), (20, 0)]);
        let s = compute_stats(&input(&[], &eq, 100, 1.0));
        assert!(
            (s.sharpe.unwrap() - 0.3299144).abs() < 1e-6,
            "{:?}",
            s.sharpe
        );
        assert!(
            (s.sortino.unwrap() - 0.7698004).abs() < 1e-6,
            "{:?}",
            s.sortino
        );
        let s4 = compute_stats(&input(&[], &eq, 100, 4.0));
        assert!((s4.sharpe.unwrap() - 2.0 * 0.3299144).abs() < 1e-6);
        assert!((s4.sortino.unwrap() - 2.0 * 0.7698004).abs() < 1e-6);
    }

    #[test]
    fn zero_variance_and_short_curves_give_none() {
        // Flat curve: std 0 and no downside -> both None.
        let flat = curve(&[(5, 0), (5, 0), (5, 0)]);
        let s = compute_stats(&input(&[], &flat, 100, 252.0));
        assert_eq!((s.sharpe, s.sortino), (None, None));
        // Constant gains: std 0 -> Sharpe None; no losing period -> Sortino None.
        let up = curve(&[(0, 0), (1, 0), (2, 0), (3, 0)]);
        let s = compute_stats(&input(&[], &up, 100, 252.0));
        assert_eq!((s.sharpe, s.sortino), (None, None));
        // One return only.
        let two = curve(&[(0, 0), (1, 0)]);
        assert_eq!(compute_stats(&input(&[], &two, 100, 252.0)).sharpe, None);
        // No capital: no return-based ratios at all.
        let eq = curve(&[(0, 0), (10, 0), (-5, 0), (20, 0)]);
        let s = compute_stats(&input(&[], &eq, 0, 1.0));
        assert_eq!(
            (s.sharpe, s.sortino, s.return_frac, s.turnover),
            (None, None, None, None)
        );
        // Empty run.
        let s = compute_stats(&input(&[], &[], 100, 1.0));
        assert_eq!((s.pnl, s.max_drawdown, s.max_drawdown_frac), (0, 0, None));
    }

    pub(crate) fn fill(side: Side, px: i64, qty: u64, liq: Liquidity, fee: i128) -> FillRecord {
        FillRecord {
            ts_exch: 1,
            ts_local: 2,
            symbol: crate::report::symbol_field(b"AAPL"),
            instr: 0,
            client_id: 7,
            side,
            px,
            qty,
            liquidity: liq,
            fee,
            position: 0,
            cash: 0,
            realized_pnl: 0,
            queue_wait_ns: None,
        }
    }

    /// Two instruments: instrument 0 ends long 100 having realized 5 money units, instrument
    /// 1's last fill (the run's last) leaves it short 30 with 2 realized: the run ends net
    /// long 70 with 7 realized, not what the last fill alone says (-30, 2).
    #[test]
    fn final_position_and_realized_pnl_sum_the_instruments() {
        let mut a = fill(Side::Bid, 1_000_000, 100, Liquidity::Maker, 0);
        (a.instr, a.position, a.realized_pnl) = (0, 100, 5);
        let mut b = fill(Side::Ask, 2_000_000, 30, Liquidity::Maker, 0);
        (b.instr, b.position, b.realized_pnl) = (1, -30, 2);
        let s = compute_stats(&input(&[a, b], &[], 100, 1.0));
        assert_eq!((s.final_position, s.realized_pnl), (70, 7));
        // One instrument: its last fill's account.
        let mut c = a;
        (c.position, c.realized_pnl) = (40, 9);
        let s = compute_stats(&input(&[a, c], &[], 100, 1.0));
        assert_eq!((s.final_position, s.realized_pnl), (40, 9));
    }

    #[test]
    fn fill_counts_notional_turnover_fees() {
        let mut a = fill(Side::Bid, 1_000_000, 100, Liquidity::Maker, -300);
        a.queue_wait_ns = Some(1_000);
        a.position = 100;
        let mut b = fill(Side::Ask, 1_000_100, 60, Liquidity::Taker, 500);
        b.position = 40;
        b.realized_pnl = 60 * 100 * MONEY_PER_TICK_LOT;
        let mut c = fill(Side::Ask, 1_000_200, 40, Liquidity::Maker, -100);
        c.queue_wait_ns = Some(4_000);
        c.position = 0;
        c.realized_pnl = b.realized_pnl;
        let fills = [a, b, c];
        // Notional in tick-lots: 1_000_000*100 + 1_000_100*60 + 1_000_200*40
        //   = 100_000_000 + 60_006_000 + 40_008_000 = 200_014_000 tick-lots.
        let notional = 200_014_000i128 * MONEY_PER_TICK_LOT;
        let capital = 1_000_000_000i128 * MONEY_PER_TICK_LOT;
        let mut inp = input(&fills, &[], capital, 1.0);
        inp.orders = OrderCounts {
            submitted: 4,
            submitted_qty: 250,
            filled_qty: 200,
            ..OrderCounts::default()
        };
        let s = compute_stats(&inp);
        assert_eq!((s.trades, s.buys, s.sells), (3, 1, 2));
        assert_eq!((s.maker_fills, s.taker_fills), (2, 1));
        assert_eq!(s.volume, 200);
        assert_eq!(s.notional, notional);
        assert!(close(s.turnover.unwrap(), 0.200014));
        assert_eq!(s.fees, 100); // -300 + 500 - 100
        assert!(close(s.fill_ratio.unwrap(), 0.8)); // 200 / 250
        assert!(close(s.mean_queue_wait_ns.unwrap(), 2_500.0)); // (1000 + 4000) / 2
        assert_eq!(s.final_position, 0);
        assert_eq!(s.max_abs_position, 100);
        // No equity samples: PnL falls back to the last realized PnL.
        assert_eq!(s.realized_pnl, 6_000 * MONEY_PER_TICK_LOT);
        assert_eq!(s.pnl, s.realized_pnl);
    }

    #[test]
    fn summary_block_shows_currency_units() {
        // ticks_per_unit 10_000: 1 unit = 1e11 money. PnL 1.5e11 -> 1.5000; drawdown 15 money
        // units rounds to 0.0000.
        let eq = curve(&[(0, 0), (150_000_000_000, 3)]);
        let s = compute_stats(&input(&[], &eq, 10_000 * 100_000_000_000, 252.0));
        let mut out = Vec::new();
        print_summary(&s, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("pnl            1.5000  (return 0.0150%"),
            "{text}"
        );
        assert!(text.contains("capital        10000\n"), "{text}");
        assert!(text.contains("sharpe         n/a"), "{text}");
        assert!(text.contains("position       3 final, 3 max abs"), "{text}");
    }
}
