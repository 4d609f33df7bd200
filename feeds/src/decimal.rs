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
    match parse_fixed_plain(s, decimals) {
        Some(v) => Ok(v),
        None => parse_fixed_general(s, decimals),
    }
}

/// The common shape, fast: the whole of `s` is what [`parse_fixed_prefix`] reads. `None` for
/// anything else, which [`parse_fixed_general`] then decides (the same value, or the error).
#[inline]
fn parse_fixed_plain(s: &[u8], decimals: u32) -> Option<i64> {
    match parse_fixed_prefix(s, decimals) {
        Some((v, n)) if n == s.len() => Some(v),
        _ => None,
    }
}

/// The value of the longest prefix of `s` of the common shape `[-]digits[.digits]`, and its
/// length: at least one integer digit, at most 18 significant digits at that scale (so nothing
/// can overflow), fraction digits past `decimals` all zero (a non-zero one is `None`). Eight
/// fraction digits are converted at once. For a JSON decoder that reads a decimal string in
/// place: when the prefix ends at the closing quote, the string is exactly that decimal and
/// [`parse_fixed`] would give the same value.
#[inline(always)]
pub(crate) fn parse_fixed_prefix(s: &[u8], decimals: u32) -> Option<(i64, usize)> {
    if decimals > 18 {
        return None;
    }
    let neg = s.first() == Some(&b'-');
    let start = usize::from(neg);
    let mut i = start;
    let mut v: u64 = 0;
    if let Some((n, x)) = leading_digits(s, i) {
        v = x;
        i += n;
    }
    while let Some(&c) = s.get(i) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        v = v * 10 + u64::from(d);
        i += 1;
        if i - start > 18 {
            return None;
        }
    }
    let n = i - start;
    if n == 0 || n as u32 + decimals > 18 {
        return None;
    }
    let mut f: u64 = 0;
    let mut kept = 0u32;
    if s.get(i) == Some(&b'.') {
        i += 1;
        if decimals >= 8 {
            if let Some(chunk) = s.get(i..i + 8) {
                let mut w = [0u8; 8];
                w.copy_from_slice(chunk);
                if let Some(x) = eight_digits(u64::from_le_bytes(w)) {
                    f = x;
                    kept = 8;
                    i += 8;
                }
            }
        }
        while let Some(&c) = s.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            if kept < decimals {
                f = f * 10 + u64::from(d);
                kept += 1;
            } else if d != 0 {
                return None;
            }
            i += 1;
        }
    }
    let scale = POW10[decimals as usize];
    Some((
        signed(neg, v * scale + f * POW10[(decimals - kept) as usize]),
        i,
    ))
}

/// Powers of ten up to 10^18 (the largest that fits an `i64`).
const POW10: [u64; 19] = {
    let mut t = [1u64; 19];
    let mut i = 1;
    while i < 19 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

#[inline]
fn signed(neg: bool, v: u64) -> i64 {
    // v < 10^18 by construction.
    let v = v as i64;
    if neg {
        -v
    } else {
        v
    }
}

/// The run of ASCII digits at `s[i..]` within the next eight bytes: its length and value, when
/// eight bytes are there (the caller reads any digits after a full run of eight, and handles
/// a short tail itself).
#[inline(always)]
pub(crate) fn leading_digits(s: &[u8], i: usize) -> Option<(usize, u64)> {
    let chunk = s.get(i..i.checked_add(8)?)?;
    let mut w = [0u8; 8];
    w.copy_from_slice(chunk);
    let x = u64::from_le_bytes(w);
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Digits become 0..=9; the high bit marks every byte above 9 (no carries between bytes).
    let t = x ^ (0x30 * ONES);
    let above9 = (((t & (0x7F * ONES)) + 0x76 * ONES) | t) & (0x80 * ONES);
    let n = (above9.trailing_zeros() / 8) as usize;
    let v = match n {
        0 => 0,
        8 => eight_digits(x)?,
        // The n digits as the low end of an eight-digit number with leading zeros.
        _ => eight_digits((x << (8 * (8 - n))) | ((0x30 * ONES) >> (8 * n)))?,
    };
    Some((n, v))
}

/// Eight ASCII digits (first digit in the low byte) as their value, or `None` if any byte is
/// not a digit: the SWAR conversion (pairs, then quads, then the eight, by multiply-and-shift,
/// as simdjson does).
#[inline(always)]
pub(crate) fn eight_digits(x: u64) -> Option<u64> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    // Every byte in 0x30..=0x39: high nibble 3, and adding 6 does not carry into it.
    if x & (0xF0 * ONES) != 0x30 * ONES
        || (x.wrapping_add(0x06 * ONES) & (0xF0 * ONES)) != 0x30 * ONES
    {
        return None;
    }
    let v = x - 0x30 * ONES;
    // Pairs (10a + b in each 16 bits), quads, then the eight digits.
    let v = (v.wrapping_mul(10 * 256 + 1) >> 8) & 0x00FF_00FF_00FF_00FF;
    let v = (v.wrapping_mul(100 * 65_536 + 1) >> 16) & 0x0000_FFFF_0000_FFFF;
    let v = v.wrapping_mul(10_000 * (1 << 32) + 1) >> 32;
    Some(v)
}

/// The full grammar with every error: sign, a bare point (`.5`, `12.`), long digit runs.
fn parse_fixed_general(s: &[u8], decimals: u32) -> Result<i64, DecimalError> {
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

    #[test]
    fn fast_path_edges() {
        // 18 significant digits at the scale are the fast path's limit; 19 still convert.
        assert_eq!(
            parse_fixed(b"9999999999.12345678", 8),
            Ok(999_999_999_912_345_678)
        );
        assert_eq!(parse_fixed(b"92233720368.54775807", 8), Ok(i64::MAX));
        assert_eq!(
            parse_fixed(b"92233720368.54775808", 8),
            Err(DecimalError::Overflow)
        );
        assert_eq!(parse_fixed(b"1.2345678x", 8), Err(DecimalError::Syntax));
        assert_eq!(parse_fixed(b"1.23456789", 8), Ok(123_456_789));
        assert_eq!(
            parse_fixed(b"1.234567891", 8),
            Err(DecimalError::Precision { decimals: 8 })
        );
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

        /// The fast path agrees with the full grammar on every string of the characters that
        /// matter, values and errors alike.
        #[test]
        fn fast_path_is_the_general_path(
            s in proptest::collection::vec(prop::sample::select(&b"0123456789000000.-+x"[..]), 0..24),
            d in 0u32..20,
        ) {
            prop_assert_eq!(parse_fixed(&s, d), parse_fixed_general(&s, d));
        }

        /// The same on venue-shaped strings: integer part, point, eight (or any number of)
        /// fraction digits, at every precision.
        #[test]
        fn fast_path_on_venue_strings(
            int in 0u64..100_000_000_000, frac in 0u64..100_000_000, width in 0usize..12,
            d in 0u32..20, neg: bool,
        ) {
            let f = format!("{frac:08}");
            let f = if width < 8 { &f[..width] } else { &f };
            let s = format!("{}{int}.{f}{}", if neg { "-" } else { "" }, "0".repeat(width.saturating_sub(8)));
            prop_assert_eq!(parse_fixed(s.as_bytes(), d), parse_fixed_general(s.as_bytes(), d));
        }

        /// The eight-byte digit run is what a byte-by-byte reading finds.
        #[test]
        fn leading_digits_is_bytewise(s in proptest::collection::vec(prop::sample::select(&b"0123456789.\"x/:"[..]), 8..12)) {
            let n = s[..8].iter().take_while(|c| c.is_ascii_digit()).count();
            let v = s[..n].iter().fold(0u64, |v, c| v * 10 + u64::from(c - b'0'));
            prop_assert_eq!(leading_digits(&s, 0), Some((n, v)));
        }

        /// What the in-place prefix reading takes is a decimal of that value by the full grammar.
        #[test]
        fn prefix_is_a_decimal(
            s in proptest::collection::vec(prop::sample::select(&b"0123456789000000.-+\"x"[..]), 0..30),
            d in 0u32..20,
        ) {
            if let Some((v, n)) = parse_fixed_prefix(&s, d) {
                prop_assert_eq!(parse_fixed_general(&s[..n], d), Ok(v));
            }
        }

        #[test]
        fn never_panics(s in proptest::collection::vec(any::<u8>(), 0..40), d in 0u32..20) {
            let _ = parse_fixed(&s, d);
        }
    }
}
