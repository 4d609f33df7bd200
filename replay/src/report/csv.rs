//! `trades.csv`: one row per fill, the columns pandas and polars read as-is.
//!
//! Columns: `ts_exch_ns, ts_local_ns, symbol, client_id, side, px, qty, liquidity, fee,
//! position, cash, realized_pnl, queue_wait_ns`. Prices and money are exact decimals in
//! currency units (see [`super::decimal`]); `side` is `buy`/`sell`, `liquidity` is
//! `maker`/`taker`; `queue_wait_ns` is empty for fills without one (read as missing).

use super::decimal::{money_str, px_str};
use super::{side_str, FillRecord};

/// The header line of `trades.csv` (without the newline).
pub const CSV_HEADER: &str = "ts_exch_ns,ts_local_ns,symbol,client_id,side,px,qty,liquidity,fee,position,cash,realized_pnl,queue_wait_ns";

/// Quotes a field if it contains a comma, quote or line break (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The whole `trades.csv` text: header plus one line per fill, `\n` line ends.
pub fn trades_csv(fills: &[FillRecord], ticks_per_unit: i64, lots_per_unit: i64) -> String {
    let m = super::money_scale(ticks_per_unit, lots_per_unit);
    let lots = |q: i128| {
        if lots_per_unit > 1 {
            super::decimal::ratio_str(q, i128::from(lots_per_unit))
        } else {
            q.to_string()
        }
    };
    let mut out = String::with_capacity(64 + fills.len() * 120);
    out.push_str(CSV_HEADER);
    out.push('\n');
    for f in fills {
        let wait = f.queue_wait_ns.map_or_else(String::new, |w| w.to_string());
        let line = format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            f.ts_exch,
            f.ts_local,
            field(&f.symbol_str()),
            f.client_id,
            side_str(f.side),
            px_str(f.px, ticks_per_unit),
            lots(i128::from(f.qty)),
            f.liquidity.as_str(),
            money_str(f.fee, m),
            lots(i128::from(f.position)),
            money_str(f.cash, m),
            money_str(f.realized_pnl, m),
            wait,
        );
        out.push_str(&line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Liquidity, MONEY_PER_TICK_LOT};
    use ticklane_engine::Side;

    /// Parses a decimal string back to an integer count of `1/den` (den a power of ten),
    /// independently of the writer's formatting code.
    fn parse_scaled(s: &str, den: i128) -> i128 {
        let (neg, s) = s.strip_prefix('-').map_or((false, s), |r| (true, r));
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let digits = den.to_string().len() - 1;
        assert!(frac.len() <= digits, "too many decimals in {s}");
        let frac_padded = format!("{frac:0<digits$}");
        let v = int.parse::<i128>().unwrap() * den
            + if digits == 0 {
                0
            } else {
                frac_padded.parse::<i128>().unwrap()
            };
        if neg {
            -v
        } else {
            v
        }
    }

    fn sample_fills() -> Vec<FillRecord> {
        vec![
            FillRecord {
                ts_exch: 34_200_000_000_123,
                ts_local: 34_200_000_050_123,
                symbol: crate::report::symbol_field(b"AAPL"),
                instr: 0,
                client_id: 1,
                side: Side::Bid,
                px: 1_853_300, // $185.33
                qty: 100,
                liquidity: Liquidity::Maker,
                fee: -2_000 * MONEY_PER_TICK_LOT, // rebate $0.20
                position: 100,
                cash: -185_330_000 * MONEY_PER_TICK_LOT + 2_000 * MONEY_PER_TICK_LOT,
                realized_pnl: 0,
                queue_wait_ns: Some(1_250_000),
            },
            FillRecord {
                ts_exch: 34_201_000_000_000,
                ts_local: 34_201_000_040_000,
                symbol: crate::report::symbol_field(b"AAPL"),
                instr: 0,
                client_id: 2,
                side: Side::Ask,
                px: 1_853_450,
                qty: 100,
                liquidity: Liquidity::Taker,
                fee: 30_000 * MONEY_PER_TICK_LOT + 1, // an odd money unit to test exactness
                position: 0,
                cash: 12_345,
                realized_pnl: -1,
                queue_wait_ns: None,
            },
        ]
    }

    #[test]
    fn csv_round_trip() {
        let fills = sample_fills();
        let tpu = 10_000i64;
        let text = trades_csv(&fills, tpu, 1);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(CSV_HEADER));
        let money_den = MONEY_PER_TICK_LOT * tpu as i128;
        let mut n = 0;
        for (line, f) in lines.zip(&fills) {
            let c: Vec<&str> = line.split(',').collect();
            assert_eq!(c.len(), 13, "{line}");
            assert_eq!(c[0].parse::<u64>().unwrap(), f.ts_exch);
            assert_eq!(c[1].parse::<u64>().unwrap(), f.ts_local);
            assert_eq!(c[2], "AAPL");
            assert_eq!(c[3].parse::<u64>().unwrap(), f.client_id);
            assert_eq!(c[4], if f.side == Side::Bid { "buy" } else { "sell" });
            assert_eq!(parse_scaled(c[5], tpu as i128), f.px as i128);
            assert_eq!(c[6].parse::<u64>().unwrap(), f.qty);
            assert_eq!(c[7], f.liquidity.as_str());
            assert_eq!(parse_scaled(c[8], money_den), f.fee);
            assert_eq!(c[9].parse::<i64>().unwrap(), f.position);
            assert_eq!(parse_scaled(c[10], money_den), f.cash);
            assert_eq!(parse_scaled(c[11], money_den), f.realized_pnl);
            assert_eq!(c[12].parse::<u64>().ok(), f.queue_wait_ns);
            n += 1;
        }
        assert_eq!(n, fills.len());
        // Hand-written expectations for the first row: $185.33, rebate 2000 tick-lots at
        // 1e-4 $/tick-lot = -$0.2.
        let first = text.lines().nth(1).unwrap();
        assert!(
            first
                .starts_with("34200000000123,34200000050123,AAPL,1,buy,185.33,100,maker,-0.2,100,"),
            "{first}"
        );
        assert!(first.ends_with(",0,1250000"), "{first}");
        // Missing queue wait is an empty last field.
        assert!(text.lines().nth(2).unwrap().ends_with(",-0.00000000001,"));
    }

    #[test]
    fn crypto_symbols_longer_than_a_stock_symbol_are_kept_whole() {
        let mut f = sample_fills()[0];
        f.symbol = crate::report::symbol_field(b"1000SATSUSDT");
        let text = trades_csv(&[f], 10_000, 1);
        assert!(
            text.lines().nth(1).unwrap().contains(",1000SATSUSDT,1,"),
            "{text}"
        );
    }

    #[test]
    fn symbols_needing_quotes_are_quoted() {
        let mut f = sample_fills()[0];
        f.symbol = crate::report::symbol_field(b"A,B\"C");
        let text = trades_csv(&[f], 10_000, 1);
        assert!(text.lines().nth(1).unwrap().contains(",\"A,B\"\"C\",1,"));
    }

    #[test]
    fn l2_units_show_sizes_and_money_in_currency_units() {
        // BTCUSDT in 1e-8 units: 0.0015 BTC bought at 61837.62 USDT.
        let e8 = 100_000_000i64;
        let f = FillRecord {
            ts_exch: 1,
            ts_local: 1,
            symbol: crate::report::symbol_field(b"BTCUSDT"),
            instr: 0,
            client_id: 7,
            side: Side::Bid,
            px: 6_183_762 * 1_000_000,
            qty: 150_000,
            liquidity: Liquidity::Maker,
            fee: 0,
            position: 150_000,
            // Cash: -(px ticks * lots) money per tick-lot = -92.75643 USDT.
            cash: -(6_183_762i128 * 1_000_000 * 150_000) * MONEY_PER_TICK_LOT,
            realized_pnl: 0,
            queue_wait_ns: None,
        };
        let text = trades_csv(&[f], e8, e8);
        let row: Vec<&str> = text.lines().nth(1).unwrap().split(',').collect();
        assert_eq!(
            (row[5], row[6], row[9], row[10]),
            ("61837.62", "0.0015", "0.0015", "-92.75643")
        );
    }
}
