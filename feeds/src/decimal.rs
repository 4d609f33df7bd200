//! Decimal strings (as crypto venues send prices and sizes) to integer ticks or lots, exactly.
//!
//! `"61737.63000000"` with 2 decimals is 6 173 763 ticks of 0.01. No floating point is involved,
//! so a price never lands one tick off; digits beyond the instrument's precision must be zeros,
//! or the value is rejected (a wrong tick size in the config shows up at once instead of
//! silently rounding every price).

/// Why a decimal string could not be converted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// Empty, or not digits with at most one point and a leading sign.
    #[error("not a decimal number")]
    Syntax,
    /// Non-zero digits beyond the allowed decimals (the tick or lot size is wrong, or the value
    /// is off-grid).
    #[error("more precision than {decimals} decimals")]
    Precision {
        /// Decimals allowed.
        decimals: u32,
    },
    /// Does not fit in 64 bits at that scale.
    #[error("out of range")]
    Overflow,
}

/// Parses `s` as a fixed-point number with `decimals` digits after the point, as an integer.
///
/// ```
/// use ticklane_feeds::decimal::parse_fixed;
/// assert_eq!(parse_fixed(b"61737.63000000", 2), Ok(6_173_763));
/// assert_eq!(parse_fixed(b"0.00100", 5), Ok(100));
/// assert_eq!(parse_fixed(b"-1.5", 1), Ok(-15));
/// assert!(parse_fixed(b"1.005", 2).is_err());
/// ```
///
/// # Errors
/// [`DecimalError`].
#[inline]
pub fn parse_fixed(s: &[u8], decimals: u32) -> Result<i64, DecimalError> {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        Some(_) => (false, s),
        None => return Err(DecimalError::Syntax),
    };
    if digits.is_empty() {
        return Err(DecimalError::Syntax);
    }
    let mut v: i64 = 0;
    let mut frac: Option<u32> = None;
    let mut any = false;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                any = true;
                let d = i64::from(c - b'0');
                match frac {
                    Some(n) if n >= decimals => {
                        if d != 0 {
                            return Err(DecimalError::Precision { decimals });
                        }
                        continue;
                    }
                    Some(n) => frac = Some(n + 1),
                    None => {}
                }
                v = v
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(d))
                    .ok_or(DecimalError::Overflow)?;
            }
            b'.' if frac.is_none() => frac = Some(0),
            _ => return Err(DecimalError::Syntax),
        }
    }
    if !any {
        return Err(DecimalError::Syntax);
    }
    let used = frac.unwrap_or(0).min(decimals);
    let scale = 10i64
        .checked_pow(decimals - used)
        .ok_or(DecimalError::Overflow)?;
    let v = v.checked_mul(scale).ok_or(DecimalError::Overflow)?;
    Ok(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn real_venue_strings() {
        assert_eq!(parse_fixed(b"61837.64000000", 2), Ok(6_183_764));
        assert_eq!(parse_fixed(b"1.54698000", 5), Ok(154_698));
        assert_eq!(parse_fixed(b"0.00000000", 5), Ok(0));
        assert_eq!(parse_fixed(b"58710.20", 1), Ok(587_102));
        assert_eq!(parse_fixed(b"12", 3), Ok(12_000));
        assert_eq!(parse_fixed(b"12.", 3), Ok(12_000));
        assert_eq!(parse_fixed(b".5", 1), Ok(5));
    }

    #[test]
    fn bad_strings_are_errors() {
        for s in [
            &b""[..],
            b"-",
            b".",
            b"1.2.3",
            b"1e5",
            b"abc",
            b" 1",
            b"1,5",
        ] {
            assert_eq!(
                parse_fixed(s, 2),
                Err(DecimalError::Syntax),
                "{:?}",
                String::from_utf8_lossy(s)
            );
        }
        assert_eq!(
            parse_fixed(b"1.001", 2),
            Err(DecimalError::Precision { decimals: 2 })
        );
        assert_eq!(
            parse_fixed(b"99999999999999999999", 0),
            Err(DecimalError::Overflow)
        );
        assert_eq!(parse_fixed(b"9999999999", 10), Err(DecimalError::Overflow));
    }

    proptest! {
        /// Formatting an integer at a scale and parsing it back is the identity.
        #[test]
        fn round_trip(v in -1_000_000_000_000i64..1_000_000_000_000, decimals in 0u32..9, pad in 0usize..4) {
            let scale = 10i64.pow(decimals);
            let a = v.unsigned_abs();
            let mut s = if v < 0 { "-".to_string() } else { String::new() };
            if decimals == 0 {
                s += &a.to_string();
            } else {
                s += &format!("{}.{:0w$}", a / scale as u64, a % scale as u64, w = decimals as usize);
            }
            if decimals > 0 {
                s += &"0".repeat(pad);
            }
            prop_assert_eq!(parse_fixed(s.as_bytes(), decimals), Ok(v));
        }

        #[test]
        fn never_panics(s in proptest::collection::vec(any::<u8>(), 0..40), d in 0u32..20) {
            let _ = parse_fixed(&s, d);
        }
    }
}
