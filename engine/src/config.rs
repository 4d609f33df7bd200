//! Valid ranges of numeric configuration keys, checked when a configuration is loaded.
//!
//! Why one type for every configuration (strategies, the backtest, the live daemon, command-line
//! flags): a value outside what the code was built for fails late and far from its cause (a
//! reorder window of 2^32 messages is an allocation abort, a NaN threshold a strategy that never
//! trades), so each numeric key carries a [`Range`] next to its documentation and is checked at
//! load, with one error shape that names the key, the value, the range and what the key means:
//!
//! ```text
//! [source.arbiter] window = 4294967296 is out of range 16..=1048576 (messages the reorder window holds)
//! ```
//!
//! Bounds are inclusive, so the range printed is exactly the set of accepted values. Floats
//! outside every range (NaN, infinities) are rejected by the same comparison.

use std::fmt;

/// A number as the error reports it: integers exactly, floats as TOML writes them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    /// A signed integer key.
    Int(i64),
    /// An unsigned integer key.
    UInt(u64),
    /// A float key.
    Float(f64),
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Num::Int(v) => write!(f, "{v}"),
            Num::UInt(v) => write!(f, "{v}"),
            Num::Float(v) if v.is_nan() => f.write_str("nan"),
            Num::Float(v) if v.is_infinite() => f.write_str(if v > 0.0 { "inf" } else { "-inf" }),
            // Long runs of digits are harder to read than an exponent.
            Num::Float(v) if v != 0.0 && !(1e-6..1e16).contains(&v.abs()) => write!(f, "{v:e}"),
            Num::Float(v) => write!(f, "{v}"),
        }
    }
}

/// A numeric type a configuration key can have.
pub trait Bound: Copy + PartialOrd {
    /// The value as the error reports it.
    fn num(self) -> Num;
}

macro_rules! int_bound {
    ($variant:ident as $wide:ty: $($t:ty),*) => {$(
        impl Bound for $t {
            fn num(self) -> Num {
                Num::$variant(self as $wide)
            }
        }
    )*};
}
int_bound!(UInt as u64: u8, u16, u32, u64, usize);
int_bound!(Int as i64: i32, i64);

impl Bound for f64 {
    fn num(self) -> Num {
        Num::Float(self)
    }
}

/// The inclusive range `min..=max` of a key's valid values, and what the key means (the error
/// repeats it, so a person reading it knows which knob this is and in what unit).
///
/// ```
/// use ticklane_engine::config::Range;
///
/// const WINDOW: Range<usize> = Range::new(16, 1 << 20, "messages the reorder window holds");
/// assert_eq!(WINDOW.check("window", 1024), Ok(1024));
/// let e = WINDOW.check("[source.arbiter] window", 1 << 32).unwrap_err();
/// assert_eq!(
///     e.to_string(),
///     "[source.arbiter] window = 4294967296 is out of range 16..=1048576 \
///      (messages the reorder window holds)"
/// );
/// // NaN is outside every float range.
/// assert!(Range::new(0.0, 1.0, "a fraction").check("reset", f64::NAN).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range<T> {
    /// Smallest valid value.
    pub min: T,
    /// Largest valid value.
    pub max: T,
    /// What the key means, with its unit.
    pub what: &'static str,
}

impl<T: Bound> Range<T> {
    /// `min..=max`, meaning `what`.
    pub const fn new(min: T, max: T, what: &'static str) -> Self {
        Range { min, max, what }
    }

    /// `value` lies in the range (false for NaN).
    pub fn contains(&self, value: T) -> bool {
        self.min <= value && value <= self.max
    }

    /// `value` when it lies in the range.
    ///
    /// # Errors
    /// [`RangeError`] naming `key` (as the user writes it, with its table), the value and the
    /// range.
    pub fn check(&self, key: &'static str, value: T) -> Result<T, RangeError> {
        if self.contains(value) {
            Ok(value)
        } else {
            Err(RangeError {
                key,
                value: value.num(),
                min: self.min.num(),
                max: self.max.num(),
                what: self.what,
            })
        }
    }

    /// [`check`](Self::check) for an optional key (`None`: not set, nothing to check).
    ///
    /// # Errors
    /// As [`check`](Self::check).
    pub fn check_opt(&self, key: &'static str, value: Option<T>) -> Result<Option<T>, RangeError> {
        value.map(|v| self.check(key, v)).transpose()
    }
}

impl<T: Bound> fmt::Display for Range<T> {
    /// `min..=max`, as the errors and the documentation write it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..={}", self.min.num(), self.max.num())
    }
}

/// A configuration value outside its key's range.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error("{key} = {value} is out of range {min}..={max} ({what})")]
pub struct RangeError {
    /// The key, as the user writes it.
    pub key: &'static str,
    /// The value given.
    pub value: Num,
    /// Smallest valid value.
    pub min: Num,
    /// Largest valid value.
    pub max: Num,
    /// What the key means.
    pub what: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_everything_outside_is_named() {
        const R: Range<i64> = Range::new(-5, 5, "ticks");
        for ok in [-5, 0, 5] {
            assert_eq!(R.check("skew", ok), Ok(ok));
        }
        for bad in [i64::MIN, -6, 6, i64::MAX] {
            let e = R.check("skew", bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("skew = {bad} is out of range -5..=5 (ticks)")
            );
        }
        assert_eq!(R.to_string(), "-5..=5");
        assert_eq!(R.check_opt("skew", None), Ok(None));
        assert!(R.check_opt("skew", Some(9)).is_err());
    }

    #[test]
    fn floats_print_as_toml_writes_them_and_nan_and_infinities_are_rejected() {
        const F: Range<f64> = Range::new(0.01, 1.0, "imbalance");
        assert_eq!(F.check("threshold", 0.01), Ok(0.01));
        assert_eq!(F.check("threshold", 1.0), Ok(1.0));
        for (bad, shown) in [
            (f64::NAN, "nan"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (-1.0, "-1"),
            (0.0, "0"),
            (1e300, "1e300"),
            (0.005, "0.005"),
        ] {
            let e = F.check("threshold", bad).unwrap_err().to_string();
            assert_eq!(
                e,
                format!("threshold = {shown} is out of range 0.01..=1 (imbalance)")
            );
        }
        assert_eq!(Range::new(1e-3, 1e18, "x").to_string(), "0.001..=1e18");
    }
}
