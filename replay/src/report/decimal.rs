//! Exact decimal text for integer ratios: prices in ticks and money in money units, shown in
//! currency units without going through floating point.
//!
//! `ratio_str(7, 2)` is `3.5`; when the divisor is a power of ten the result is exact, with
//! trailing zeros removed. For any other divisor the quotient is printed as an `f64` with the
//! shortest round-trip formatting, which is still deterministic.

use super::MONEY_PER_TICK_LOT;

/// `Some(k)` when `d == 10^k`.
fn pow10_exponent(d: i128) -> Option<u32> {
    if d <= 0 {
        return None;
    }
    let mut k = 0;
    let mut x = d;
    while x % 10 == 0 {
        x /= 10;
        k += 1;
    }
    (x == 1).then_some(k)
}

/// `num / den` as decimal text: exact (trailing zeros trimmed) when `den` is a positive power
/// of ten, otherwise the shortest `f64` text. `den` of zero or below gives `NaN`.
pub fn ratio_str(num: i128, den: i128) -> String {
    let Some(k) = pow10_exponent(den) else {
        return (ratio_f64(num, den)).to_string();
    };
    let neg = num < 0;
    let mag = num.unsigned_abs();
    let den = den.unsigned_abs();
    let int = mag / den;
    let frac = mag % den;
    let mut s = String::with_capacity(24);
    if neg {
        s.push('-');
    }
    s.push_str(&int.to_string());
    if frac != 0 {
        let digits = format!("{:0width$}", frac, width = k as usize);
        s.push('.');
        s.push_str(digits.trim_end_matches('0'));
    }
    s
}

/// `num / den` as an `f64` (`NaN` when `den <= 0`).
pub fn ratio_f64(num: i128, den: i128) -> f64 {
    if den <= 0 {
        return f64::NAN;
    }
    num as f64 / den as f64
}

/// A price in ticks as currency-unit decimal text.
pub fn px_str(px: i64, ticks_per_unit: i64) -> String {
    ratio_str(px as i128, ticks_per_unit as i128)
}

/// Money units per currency unit: `MONEY_PER_TICK_LOT * ticks_per_unit`.
pub fn money_per_unit(ticks_per_unit: i64) -> i128 {
    MONEY_PER_TICK_LOT * ticks_per_unit as i128
}

/// Money in money units as currency-unit decimal text.
pub fn money_str(money: i128, ticks_per_unit: i64) -> String {
    ratio_str(money, money_per_unit(ticks_per_unit))
}

/// Money in money units as currency units, `f64`.
pub fn money_f64(money: i128, ticks_per_unit: i64) -> f64 {
    ratio_f64(money, money_per_unit(ticks_per_unit))
}

/// Money rounded half away from zero to `decimals` places of a currency unit, fixed width
/// (for the human-readable summary: `money_fixed(-15_000_000, 100, 2)` is `-0.02`).
pub fn money_fixed(money: i128, ticks_per_unit: i64, decimals: u32) -> String {
    let den = money_per_unit(ticks_per_unit);
    if den <= 0 {
        return "NaN".to_string();
    }
    let scale = 10i128.pow(decimals);
    let neg = money < 0;
    let mag = money.unsigned_abs() * scale.unsigned_abs();
    let den = den.unsigned_abs();
    let q = (mag + den / 2) / den;
    let int = q / scale.unsigned_abs();
    let frac = q % scale.unsigned_abs();
    let sign = if neg && q != 0 { "-" } else { "" };
    if decimals == 0 {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac:0width$}", width = decimals as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_decimals_for_powers_of_ten() {
        // 5853300 ticks at 10_000 ticks per dollar = $585.33 (trailing zeros trimmed).
        assert_eq!(px_str(5_853_300, 10_000), "585.33");
        assert_eq!(px_str(-5, 10_000), "-0.0005");
        assert_eq!(px_str(20_000, 10_000), "2");
        // Binance 8dp: 1 tick = 1e-8.
        assert_eq!(px_str(1, 100_000_000), "0.00000001");
        // Money: 1 tick-lot at 10_000 ticks/unit = 1e7 money = $0.0001.
        assert_eq!(money_str(10_000_000, 10_000), "0.0001");
        assert_eq!(money_str(-25 * 10_000_000 * 10_000, 10_000), "-25");
        // A tenth of a money unit does not exist; 1 money unit = 1e-11 dollars.
        assert_eq!(money_str(1, 10_000), "0.00000000001");
    }

    #[test]
    fn non_power_of_ten_falls_back_to_f64() {
        assert_eq!(ratio_str(1, 4), "0.25");
        assert_eq!(ratio_str(1, 3), (1.0f64 / 3.0).to_string());
        assert!(ratio_f64(1, 0).is_nan());
    }

    #[test]
    fn fixed_rounding_half_away_from_zero() {
        // 1.5e7 money at 100 ticks/unit: 1e9 money per unit -> 0.015 units -> 0.02 at 2 dp.
        assert_eq!(money_fixed(15_000_000, 100, 2), "0.02");
        assert_eq!(money_fixed(-15_000_000, 100, 2), "-0.02");
        // 0.004 rounds to 0.00 with no minus sign.
        assert_eq!(money_fixed(-4_000_000, 100, 2), "0.00");
        assert_eq!(money_fixed(123 * 1_000_000_000, 100, 0), "123");
    }
}
