//! RFC 3339 UTC timestamps (`2021-04-17T16:43:37.075687Z`, as Coinbase and Kraken v2 send them)
//! to integer nanoseconds since the Unix epoch, exactly and without allocating.

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (UTC only; up to 9 fractional digits are kept,
/// further ones must be absent). `None` for anything else.
///
/// ```
/// use ticklane_feeds::isotime::parse_utc_ns;
/// assert_eq!(parse_utc_ns("1970-01-02T00:00:01.5Z"), Some(86_401_500_000_000));
/// assert_eq!(parse_utc_ns("2021-04-17T16:43:37.075687Z"), Some(1_618_677_817_075_687_000));
/// assert_eq!(parse_utc_ns("2021-04-17 16:43:37Z"), None);
/// ```
pub fn parse_utc_ns(s: &str) -> Option<u64> {
    parse_utc_ns_bytes(s.as_bytes())
}

/// [`parse_utc_ns`] on bytes (a JSON string's content, read in place).
#[inline]
pub(crate) fn parse_utc_ns_bytes(b: &[u8]) -> Option<u64> {
    match micros_layout(b) {
        Some(ns) => Some(ns),
        None => parse_general(b),
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// The layout both venues send, `YYYY-MM-DDTHH:MM:SS.ffffffZ` (27 bytes, microseconds), read
/// as words: separators checked under a mask, every digit position checked at once, no loops.
/// `None` for anything else (and for out-of-range fields), which [`parse_general`] then decides:
/// on what this accepts both give the same value.
#[inline(always)]
fn micros_layout(b: &[u8]) -> Option<u64> {
    let b: &[u8; 27] = b.try_into().ok()?;
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(w)
    };
    // Bytes 0..8 `YYYY-MM-`, 8..16 `DDTHH:MM`, 16..24 `:SS.ffff`, 19..27 `.ffffffZ`.
    let (w0, w1, w2, wf) = (word(0), word(8), word(16), word(19));
    let byte = |k: usize| 0xFFu64 << (8 * k);
    let at = |c: u8, k: usize| u64::from(c) << (8 * k);
    let sep0 = byte(4) | byte(7);
    let sep1 = byte(2) | byte(5);
    let sep2 = byte(0) | byte(3);
    let sepf = byte(0) | byte(7);
    if w0 & sep0 != at(b'-', 4) | at(b'-', 7)
        || w1 & sep1 != at(b'T', 2) | at(b':', 5)
        || w2 & sep2 != at(b':', 0) | at(b'.', 3)
        || wf & sepf != at(b'.', 0) | at(b'Z', 7)
    {
        return None;
    }
    // Separators become '0', so every byte of each word must then be a digit.
    let zeros = 0x30 * ONES;
    let d0 = all_digits((w0 & !sep0) | (zeros & sep0))?;
    let d1 = all_digits((w1 & !sep1) | (zeros & sep1))?;
    let d2 = all_digits((w2 & !sep2) | (zeros & sep2))?;
    let frac = crate::decimal::eight_digits((wf & !sepf) | (zeros & sepf))?;
    let dg = |w: u64, k: usize| (w >> (8 * k)) & 0xFF;
    let two = |w: u64, k: usize| dg(w, k) * 10 + dg(w, k + 1);
    let y = two(d0, 0) * 100 + two(d0, 2);
    let (mo, d) = (two(d0, 5), two(d1, 0));
    let (h, mi, sec) = (two(d1, 3), two(d1, 6), two(d2, 1));
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    // `frac` is the six digits followed by a zero (the `Z`'s place): tens of nanoseconds.
    let days = days_from_civil(y as i64, mo as i64, d as i64);
    let secs = u64::try_from(days)
        .ok()?
        .checked_mul(86_400)?
        .checked_add(h * 3600 + mi * 60 + sec)?;
    secs.checked_mul(1_000_000_000)?.checked_add(frac * 100)
}

/// `x` with 0x30 taken from every byte, if every byte was an ASCII digit.
#[inline(always)]
fn all_digits(x: u64) -> Option<u64> {
    if x & (0xF0 * ONES) != 0x30 * ONES
        || (x.wrapping_add(0x06 * ONES) & (0xF0 * ONES)) != 0x30 * ONES
    {
        return None;
    }
    Some(x - 0x30 * ONES)
}

/// Every accepted shape, field by field.
fn parse_general(b: &[u8]) -> Option<u64> {
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' {
        return None;
    }
    if b[16] != b':' || *b.last()? != b'Z' {
        return None;
    }
    let digit = |i: usize| -> Option<u64> {
        let d = b[i].wrapping_sub(b'0');
        (d <= 9).then_some(u64::from(d))
    };
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let y = two(0)? * 100 + two(2)?;
    let (mo, d) = (two(5)?, two(8)?);
    let (h, mi, sec) = (two(11)?, two(14)?, two(17)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut frac_ns = 0u64;
    let rest = &b[19..b.len() - 1];
    if !rest.is_empty() {
        if rest[0] != b'.' || rest.len() < 2 || rest.len() > 10 {
            return None;
        }
        let mut digits = 0u64;
        for i in 20..b.len() - 1 {
            digits = digits * 10 + digit(i)?;
        }
        frac_ns = digits * 10u64.pow(9 - (rest.len() as u32 - 1));
    }
    let days = days_from_civil(y as i64, mo as i64, d as i64);
    // Years past 2554 do not fit in u64 nanoseconds: not a time, rather than a wrapped one.
    let secs = u64::try_from(days)
        .ok()?
        .checked_mul(86_400)?
        .checked_add(h * 3600 + mi * 60 + sec)?;
    secs.checked_mul(1_000_000_000)?.checked_add(frac_ns)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beyond_u64_nanoseconds_is_not_a_time() {
        // 2554-07-21T23:34:33.709551615Z is u64::MAX ns; a year later does not fit.
        assert_eq!(
            parse_utc_ns("2554-07-21T23:34:33.709551615Z"),
            Some(u64::MAX)
        );
        assert_eq!(parse_utc_ns("2555-07-21T23:34:33Z"), None);
        assert_eq!(parse_utc_ns("9021-04-17T16:43:37.075687Z"), None);
    }

    #[test]
    fn known_instants() {
        // 2000-03-01 is day 11017 (30 years of 365 days + 7 leap days + Jan 31 + Feb 29).
        assert_eq!(
            parse_utc_ns("2000-03-01T00:00:00Z"),
            Some(11_017 * 86_400 * 1_000_000_000)
        );
        // 2024-08-09T00:00:00Z = 1723161600 s (the hftbacktest capture's day boundary).
        assert_eq!(
            parse_utc_ns("2024-08-09T00:00:00.000000001Z"),
            Some(1_723_161_600_000_000_001)
        );
        for bad in [
            "",
            "2021-04-17T16:43:37",
            "2021-13-17T16:43:37Z",
            "2021-04-17T16:43:37.Z",
            "2021-04-17T16:43:37.1234567891Z",
            "2021-04-17T16:4a:37Z",
            "2021-04-17T16:43:37+01:00",
        ] {
            assert_eq!(parse_utc_ns(bad), None, "{bad}");
        }
    }

    /// Days since 1970 counted year by year and month by month (independent of the closed form).
    fn naive_days(y: u64, mo: u64, d: u64) -> u64 {
        let leap =
            |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
        let mut days = (1970..y)
            .map(|y| if leap(y) { 366 } else { 365 })
            .sum::<u64>();
        let month = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        for m in 1..mo {
            days += month[m as usize - 1] + u64::from(m == 2 && leap(y));
        }
        days + d - 1
    }

    proptest::proptest! {
        /// The word-at-a-time reading of the microsecond layout agrees with the field-by-field
        /// one on that layout with any byte replaced (so also on every rejection).
        #[test]
        fn micros_layout_equals_general(
            y in 1970u64..2600, mo in 0u64..14, d in 0u64..33, h in 0u64..26, mi in 0u64..62,
            sec in 0u64..62, frac in 0u64..1_000_000, at in 0usize..40, with in proptest::prelude::any::<u8>(),
        ) {
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}.{frac:06}Z");
            let mut b = text.into_bytes();
            if at < b.len() {
                b[at] = with;
            }
            let general = parse_general(&b);
            if let Some(v) = micros_layout(&b) {
                proptest::prop_assert_eq!(Some(v), general);
            }
            proptest::prop_assert_eq!(parse_utc_ns_bytes(&b), general);
            if at >= b.len() && general.is_some() {
                proptest::prop_assert!(micros_layout(&b).is_some(), "not taken: {:?}", b);
            }
        }

        #[test]
        fn matches_a_naive_count(
            y in 1970u64..2500, mo in 1u64..13, d in 1u64..29, h in 0u64..24, mi in 0u64..60,
            sec in 0u64..60, frac in 0u64..1_000_000_000, w in 0usize..10,
        ) {
            let f = format!("{frac:09}");
            let text = if w == 0 {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}Z")
            } else {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}.{}Z", &f[..w])
            };
            let ns_frac = if w == 0 { 0 } else { f[..w].parse::<u64>().unwrap() * 10u64.pow(9 - w as u32) };
            let want = ((naive_days(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec) * 1_000_000_000) + ns_frac;
            proptest::prop_assert_eq!(parse_utc_ns(&text), Some(want), "{}", text);
        }
    }
}
