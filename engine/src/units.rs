//! Integer units: price ticks, quantity lots, nanoseconds, order ids.
//!
//! Money and size never touch floating point on a book or output path: equality is exact,
//! sums are associative, and a digest over them is the same on every machine.

use std::fmt;

/// A price in integer ticks. What a tick is worth is the instrument's business (ITCH and
/// LOBSTER prices are 1/10000 USD). Signed so spreads and PnL deltas need no casts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Px(pub i64);

/// A quantity in integer lots (shares for equities).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Qty(pub u64);

/// A point in time or a duration, in integer nanoseconds.
///
/// For exchange timestamps, the epoch is the source's: ITCH and LOBSTER count from midnight of
/// the trading day, crypto venues from the Unix epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nanos(pub u64);

/// An exchange-assigned order reference (ITCH order reference number, LOBSTER order id).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderId(pub u64);

impl Px {
    /// Formats a price whose tick is 10^-`decimals` as a decimal string, e.g. `585.3300`.
    ///
    /// ```
    /// use ticklane_engine::Px;
    /// assert_eq!(Px(5853300).display_decimals(4).to_string(), "585.3300");
    /// assert_eq!(Px(-5).display_decimals(4).to_string(), "-0.0005");
    /// ```
    pub fn display_decimals(self, decimals: u32) -> DecimalPx {
        DecimalPx {
            px: self.0,
            decimals,
        }
    }
}

/// A [`Px`] shown as a fixed-point decimal; see [`Px::display_decimals`].
#[derive(Clone, Copy, Debug)]
pub struct DecimalPx {
    px: i64,
    decimals: u32,
}

impl fmt::Display for DecimalPx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scale = 10u64.pow(self.decimals);
        let abs = self.px.unsigned_abs();
        let sign = if self.px < 0 { "-" } else { "" };
        if self.decimals == 0 {
            return write!(f, "{sign}{abs}");
        }
        write!(
            f,
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = self.decimals as usize
        )
    }
}

impl Nanos {
    /// Seconds as a float, for humans only (never on a digest path).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

impl fmt::Display for Px {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Qty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_pad_the_fraction() {
        assert_eq!(Px(1).display_decimals(4).to_string(), "0.0001");
        assert_eq!(Px(1_000_000).display_decimals(4).to_string(), "100.0000");
        assert_eq!(Px(42).display_decimals(0).to_string(), "42");
        assert_eq!(Px(-123_4567).display_decimals(4).to_string(), "-123.4567");
    }
}
