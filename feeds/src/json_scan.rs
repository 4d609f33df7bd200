//! A one-pass JSON scanner for the strict subset venues actually send: ASCII strings without
//! escapes, non-negative integers of up to 18 digits, `true`/`false`/`null`, nesting up to
//! [`MAX_DEPTH`], JSON whitespace.
//!
//! Why: for a 100–400 byte frame, simd-json's two stages (structural index, then tape) cost more
//! than the whole message is worth, and serde_json is no faster. A venue decoder that knows its
//! message layout reads the fields in document order with this cursor while checking the full
//! JSON grammar of everything it passes over, and hands any frame outside the subset (an escape,
//! a float, a non-ASCII byte, a syntax error) to its simd-json tape path, which then decides: the
//! same value, or the same error. So the scanner never needs to report errors: every method
//! returns `None` for "not in the subset", and accepting only valid JSON is its one obligation.

use crate::json::{LevelUpdate, Precision};

/// Deepest nesting the scanner skips over; deeper frames go to the general path.
pub(crate) const MAX_DEPTH: u32 = 32;

/// A scalar or container read by [`Cursor::value`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scalar {
    /// A string: the byte range of its content (between the quotes) in the frame.
    Str(usize, usize),
    /// A non-negative integer.
    UInt(u64),
    /// `true` or `false`.
    Bool(bool),
    /// A decimal string read by [`Cursor::decimal`], in units of its decimals.
    Fixed(i64),
    /// `null`, an object or an array (validated and passed over).
    Other,
}

/// A number read by [`Cursor::number`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Number {
    /// An integer.
    Int(u64),
    /// A number with a fraction, as simd-json's `f64`.
    Float(f64),
}

/// Exact powers of ten as `f64` (every one up to 10^22 is exact).
const POW10_F64: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A position in a frame.
#[derive(Clone)]
pub(crate) struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Cursor { b, i: 0 }
    }

    /// The frame being scanned.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.b
    }

    /// Skips JSON whitespace and returns the next byte (not consumed).
    #[inline(always)]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if c > b' ' || !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    /// Consumes exactly the bytes `s` if they come next (no whitespace skipped): for decoders
    /// that try a venue's usual layout (`,"p":`) before the general member loop.
    #[inline(always)]
    pub(crate) fn lit(&mut self, s: &[u8]) -> bool {
        let end = self.i + s.len();
        if self.b.get(self.i..end) == Some(s) {
            self.i = end;
            true
        } else {
            false
        }
    }

    /// [`lit`](Self::lit), as an `Option`.
    #[inline(always)]
    pub(crate) fn expect(&mut self, s: &[u8]) -> Option<()> {
        self.lit(s).then_some(())
    }

    /// `true` or `false`, right here.
    #[inline(always)]
    pub(crate) fn boolean(&mut self) -> Option<bool> {
        if self.lit(b"true") {
            Some(true)
        } else if self.lit(b"false") {
            Some(false)
        } else {
            None
        }
    }

    /// Consumes `c` (after whitespace).
    #[inline(always)]
    pub(crate) fn eat(&mut self, c: u8) -> Option<()> {
        if self.peek()? == c {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// After a member or element: `true` if a `,` follows (consumed), `false` if `close`
    /// follows (consumed).
    #[inline(always)]
    pub(crate) fn more(&mut self, close: u8) -> Option<bool> {
        let c = self.peek()?;
        self.i += 1;
        if c == b',' {
            Some(true)
        } else if c == close {
            Some(false)
        } else {
            None
        }
    }

    /// Consumes `{` and reports whether the object is empty (its `}` consumed too).
    #[inline(always)]
    pub(crate) fn open_object(&mut self) -> Option<bool> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(true);
        }
        Some(false)
    }

    /// A member key and its `:`; the key's content bytes.
    #[inline(always)]
    pub(crate) fn key(&mut self) -> Option<&'a [u8]> {
        // One-letter keys, as most venues use, without whitespace: `"k":`.
        if let Some(&[b'"', k, b'"', b':']) = self.b.get(self.i..self.i + 4) {
            if (0x20..0x80).contains(&k) && k != b'"' && k != b'\\' {
                self.i += 4;
                return Some(&self.b[self.i - 3..self.i - 2]);
            }
        }
        let (s, e) = self.string()?;
        self.eat(b':')?;
        Some(&self.b[s..e])
    }

    /// A string in the subset: its content range. Printable ASCII only; no escapes. Eight
    /// bytes are checked at a time.
    #[inline(always)]
    pub(crate) fn string(&mut self) -> Option<(usize, usize)> {
        self.eat(b'"')?;
        let start = self.i;
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            let special = special_bytes(u64::from_le_bytes(w));
            if special == 0 {
                self.i += 8;
                continue;
            }
            // The lowest flagged byte is a real one (false flags only sit above a real one).
            let at = self.i + (special.trailing_zeros() / 8) as usize;
            self.i = at + 1;
            return (self.b[at] == b'"').then_some((start, at));
        }
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            if c == b'"' {
                return Some((start, self.i - 1));
            }
            if c == b'\\' || !(0x20..0x80).contains(&c) {
                return None;
            }
        }
    }

    /// Any value in the subset; containers are validated and passed over.
    #[inline(always)]
    pub(crate) fn value(&mut self) -> Option<Scalar> {
        match self.peek()? {
            b'"' => self.string().map(|(s, e)| Scalar::Str(s, e)),
            b'0'..=b'9' => self.uint().map(Scalar::UInt),
            b't' => self.literal(b"true").map(|()| Scalar::Bool(true)),
            b'f' => self.literal(b"false").map(|()| Scalar::Bool(false)),
            b'n' => self.literal(b"null").map(|()| Scalar::Other),
            b'[' | b'{' => self.skip_container(0).map(|()| Scalar::Other),
            _ => None,
        }
    }

    /// A non-negative number without exponent: an integer as [`uint`](Self::uint) reads it,
    /// or one with a fraction as the `f64` simd-json makes of it. Only fractions whose digits
    /// form a significand below 2^53 with at most 22 fraction digits are in the subset: there
    /// simd-json (and any correct parser) computes `significand / 10^digits`, one correctly
    /// rounded division, which this repeats exactly.
    #[inline(always)]
    pub(crate) fn number(&mut self) -> Option<Number> {
        let start = self.i;
        let int = self.uint_digits()?;
        if self.b.get(self.i) != Some(&b'.') {
            if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
                return None;
            }
            return Some(Number::Int(int));
        }
        self.i += 1;
        let frac_start = self.i;
        let mut sig = int;
        while let Some(&c) = self.b.get(self.i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            sig = sig.checked_mul(10)?.checked_add(u64::from(d))?;
            self.i += 1;
        }
        let frac = self.i - frac_start;
        if frac == 0 || frac > 22 || self.i - start > 18 || sig > (1 << 53) - 1 {
            return None;
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            return None;
        }
        Some(Number::Float(sig as f64 / POW10_F64[frac]))
    }

    /// The integer part of a number: digits without a leading zero, at most 18.
    #[inline(always)]
    fn uint_digits(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(&c) = self.b.get(self.i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v * 10 + u64::from(d);
            self.i += 1;
            if self.i - start > 18 {
                return None;
            }
        }
        let n = self.i - start;
        if n == 0 || (n > 1 && self.b[start] == b'0') {
            return None;
        }
        Some(v)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i.checked_add(word.len())?;
        if self.b.get(self.i..end)? == word {
            self.i = end;
            Some(())
        } else {
            None
        }
    }

    /// A non-negative integer without leading zeros, fraction or exponent, of at most 18 digits
    /// (so it is the same `u64` whichever way a parser stores it).
    #[inline(always)]
    pub(crate) fn uint(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        if let Some((n, x)) = crate::decimal::leading_digits(self.b, self.i) {
            v = x;
            self.i += n;
            if n == 8 {
                if let Some((n, x)) = crate::decimal::leading_digits(self.b, self.i) {
                    v = v * POW10_8[n] + x;
                    self.i += n;
                }
            }
        }
        while let Some(&c) = self.b.get(self.i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v * 10 + u64::from(d);
            self.i += 1;
            if self.i - start > 18 {
                return None;
            }
        }
        let n = self.i - start;
        if n == 0 || (n > 1 && self.b[start] == b'0') {
            return None;
        }
        // A fraction or exponent makes it a float: not in the subset.
        if matches!(self.b.get(self.i), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        Some(v)
    }

    fn skip_container(&mut self, depth: u32) -> Option<()> {
        if depth >= MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'{' => {
                if self.open_object()? {
                    return Some(());
                }
                loop {
                    self.key()?;
                    self.skip_value(depth + 1)?;
                    if !self.more(b'}')? {
                        return Some(());
                    }
                }
            }
            b'[' => {
                self.i += 1;
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    if !self.more(b']')? {
                        return Some(());
                    }
                }
            }
            _ => None,
        }
    }

    fn skip_value(&mut self, depth: u32) -> Option<()> {
        match self.peek()? {
            b'[' | b'{' => self.skip_container(depth),
            _ => self.value().map(|_| ()),
        }
    }

    /// Nothing but whitespace is left.
    #[inline]
    pub(crate) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// After a string's opening quote: its content and closing quote, when the content is a
    /// decimal of the common shape (read in place); `None` (nothing consumed) otherwise.
    #[inline(always)]
    fn decimal_rest(&mut self, decimals: u32) -> Option<i64> {
        let rest = &self.b[self.i..];
        if let Some((v, n)) = short_decimal(rest, decimals) {
            self.i += n + 1;
            return Some(v);
        }
        let (v, n) = crate::decimal::parse_fixed_prefix(rest, decimals)?;
        if rest.get(n) != Some(&b'"') {
            return None;
        }
        self.i += n + 1;
        Some(v)
    }

    /// A string of decimal digits parsed exactly at `decimals` (the same conversion the tape
    /// path uses); `None` if it is not one. The common shape is read in place, in one pass.
    #[inline(always)]
    pub(crate) fn decimal(&mut self, decimals: u32) -> Option<i64> {
        self.eat(b'"')?;
        let rest = &self.b[self.i..];
        if let Some((v, n)) = crate::decimal::parse_fixed_prefix(rest, decimals) {
            if rest.get(n) == Some(&b'"') {
                self.i += n + 1;
                return Some(v);
            }
        }
        self.i -= 1;
        let (s, e) = self.string()?;
        crate::decimal::parse_fixed(&self.b[s..e], decimals).ok()
    }
}

/// `[["px","qty"], ...]` (Binance depth updates and snapshots, Coinbase snapshots) appended to
/// `out` on side `bid`, both decimals converted exactly as the tape path's level reader does.
/// A level that is not exactly two decimal strings is outside the subset.
#[inline]
pub(crate) fn level_pairs(
    c: &mut Cursor<'_>,
    bid: bool,
    p: Precision,
    out: &mut Vec<LevelUpdate>,
) -> Option<()> {
    c.eat(b'[')?;
    if c.peek()? == b']' {
        return c.eat(b']');
    }
    loop {
        // The venues' own `["px","qty"]` (no whitespace, decimals of the common shape) as
        // whole byte strings; anything else token by token from the level's start.
        let at = c.clone();
        let (px, qty) = match usual_pair(c, p) {
            Some(l) => l,
            None => {
                *c = at;
                c.eat(b'[')?;
                let px = c.decimal(p.px)?;
                c.eat(b',')?;
                let qty = c.decimal(p.qty)?;
                c.eat(b']')?;
                (px, qty)
            }
        };
        out.push(LevelUpdate { bid, px, qty });
        if !c.more(b']')? {
            return Some(());
        }
    }
}

/// `["px","qty"]` exactly, both decimals of [`crate::decimal::parse_fixed_prefix`]'s shape.
#[inline(always)]
fn usual_pair(c: &mut Cursor<'_>, p: Precision) -> Option<(i64, i64)> {
    c.expect(b"[\"")?;
    let px = c.decimal_rest(p.px)?;
    c.expect(b",\"")?;
    let qty = c.decimal_rest(p.qty)?;
    c.expect(b"]")?;
    Some((px, qty))
}

/// A decimal string's content of at most seven bytes (`digits[.digits]`, at least one digit
/// either side of the point, the closing quote within the first eight bytes), as one eight-byte
/// word: the point is squeezed out and the digits converted at once. Its value at `decimals`
/// and its length, where [`crate::decimal::parse_fixed_prefix`] gives the same (so the same
/// limits: at most `decimals` fraction digits here, at most 18 digits at that scale); `None`
/// for anything else, which that reader then takes.
#[inline(always)]
fn short_decimal(rest: &[u8], decimals: u32) -> Option<(i64, usize)> {
    let chunk = rest.get(..8)?;
    let mut w = [0u8; 8];
    w.copy_from_slice(chunk);
    let x = u64::from_le_bytes(w);
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    // The lowest flagged byte is a real one (false flags only sit above a real one).
    let quotes = zero(x ^ (u64::from(b'"') * ONES));
    if quotes == 0 {
        return None;
    }
    let len = (quotes.trailing_zeros() / 8) as usize;
    let below = |n: usize| (1u64 << (8 * n)) - 1;
    let dots = zero(x ^ (u64::from(b'.') * ONES)) & below(len);
    // The digits as one run: the bytes above the point moved down over it.
    let (digits, frac, y) = if dots == 0 {
        (len, 0, x)
    } else {
        let dot = (dots.trailing_zeros() / 8) as usize;
        if dot == 0 || dot + 1 >= len {
            return None;
        }
        let y = (x & below(dot)) | ((x >> 8) & !below(dot));
        (len - 1, len - 1 - dot, y)
    };
    if digits == 0 || frac as u32 > decimals || (digits - frac) as u32 + decimals > 18 {
        return None;
    }
    // The digits as the low end of an eight-digit number with leading zeros; any byte that is
    // not a digit (a second point, a sign, anything) fails the conversion.
    let v = crate::decimal::eight_digits(
        (y << (8 * (8 - digits))) | ((u64::from(b'0') * ONES) >> (8 * digits)),
    )?;
    Some((
        (v * POW10_18[(decimals - frac as u32) as usize]) as i64,
        len,
    ))
}

/// 10^n for n ≤ 18.
const POW10_18: [u64; 19] = {
    let mut t = [1u64; 19];
    let mut i = 1;
    while i < 19 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
/// 10^n for n ≤ 8.
const POW10_8: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];
const HIGH: u64 = 0x80 * ONES;

/// The high bit of every byte of `x` that ends or leaves a subset string (`"`, `\\`, a control
/// byte, a non-ASCII byte), possibly also of bytes above the lowest such one (borrows), never
/// below it.
#[inline(always)]
fn special_bytes(x: u64) -> u64 {
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = zero(x ^ (b'"' as u64 * ONES));
    let backslash = zero(x ^ (b'\\' as u64 * ONES));
    let control = x.wrapping_sub(0x20 * ONES) & !x & HIGH;
    quote | backslash | control | (x & HIGH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(s: &str) -> Option<Scalar> {
        let mut c = Cursor::new(s.as_bytes());
        let v = c.value()?;
        c.at_end().then_some(v)
    }

    #[test]
    fn subset_values() {
        assert_eq!(whole(r#" "ab" "#), Some(Scalar::Str(2, 4)));
        assert_eq!(whole("0"), Some(Scalar::UInt(0)));
        assert_eq!(
            whole("123456789012345678"),
            Some(Scalar::UInt(123_456_789_012_345_678))
        );
        assert_eq!(whole("true"), Some(Scalar::Bool(true)));
        assert_eq!(whole("false"), Some(Scalar::Bool(false)));
        assert_eq!(whole("null"), Some(Scalar::Other));
        assert_eq!(
            whole(r#"{"a":[1,{"b":null},[]],"c":{}}"#),
            Some(Scalar::Other)
        );
    }

    #[test]
    fn outside_the_subset_or_invalid() {
        for s in [
            "",
            "01",
            "-1",
            "1.5",
            "1e3",
            "1234567890123456789",
            r#""a\"b""#,
            "\"\u{e9}\"",
            "\"\t\"",
            "tru",
            "nul",
            "[1,]",
            "[1 2]",
            r#"{"a" 1}"#,
            r#"{"a":1,}"#,
            r#"{1:1}"#,
            "[",
            "]",
            "{}}",
            "[1]x",
        ] {
            assert_eq!(whole(s), None, "{s:?}");
        }
        let deep = "[".repeat(40) + &"]".repeat(40);
        assert_eq!(whole(&deep), None);
    }

    #[test]
    fn numbers() {
        let n = |s: &str| Cursor::new(s.as_bytes()).number();
        assert_eq!(n("45284"), Some(Number::Int(45284)));
        assert_eq!(n("45285.2"), Some(Number::Float(45285.2)));
        assert_eq!(n("0.5,"), Some(Number::Float(0.5)));
        assert_eq!(n("0"), Some(Number::Int(0)));
        for bad in [
            "1e5",
            "1.5e3",
            "01.5",
            "1.",
            "-1.5",
            "9007199254740992.5",
            ".5",
        ] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }

    #[test]
    fn short_decimals() {
        let d = |s: &str, n: u32| short_decimal(s.as_bytes(), n);
        assert_eq!(d("14.8024\"]", 8), Some((1_480_240_000, 7)));
        assert_eq!(d("12.77\"],[\"1", 8), Some((1_277_000_000, 5)));
        assert_eq!(d("985\",\"price", 8), Some((98_500_000_000, 3)));
        assert_eq!(d("0.5\"]]}xx", 2), Some((50, 3)));
        assert_eq!(d("1234567\"", 0), Some((1_234_567, 7)));
        // Past the reader's limits, or not its shape: the general reader decides.
        for (s, n) in [
            ("0.35210000\"", 8),
            ("1.005\"xxxx", 2),
            ("1.\"xxxxxxx", 8),
            (".5\"xxxxxxx", 8),
            ("-1.5\"xxxxx", 8),
            ("1.2.3\"xxxx", 8),
            ("\"xxxxxxxxx", 8),
            ("12345\"xx", 14),
            ("1\\\"xxxxxx", 8),
        ] {
            assert_eq!(d(s, n), None, "{s}");
        }
    }

    proptest::proptest! {
        /// Where the one-word reader takes a decimal, the general reader gives the same value
        /// and length.
        #[test]
        fn short_decimal_is_the_general_reader(
            s in proptest::collection::vec(proptest::sample::select(&b"0123456789..\"-x"[..]), 8..12),
            decimals in 0u32..19,
        ) {
            if let Some(v) = short_decimal(&s, decimals) {
                proptest::prop_assert_eq!(
                    Some(v),
                    crate::decimal::parse_fixed_prefix(&s, decimals),
                    "{}", String::from_utf8_lossy(&s)
                );
                proptest::prop_assert_eq!(s[v.1], b'"');
            }
        }

        /// The same on venue-shaped strings (`int[.frac]"` and what follows a level's price).
        #[test]
        fn short_decimal_on_venue_shapes(
            int in 0u64..100_000, frac in 0u64..10_000, w in 0usize..5, decimals in 0u32..19,
        ) {
            let f = format!("{frac:04}");
            let s = if w == 0 { format!("{int}\",\"1.0\"]") } else { format!("{int}.{}\",\"1\"]", &f[..w]) };
            let got = short_decimal(s.as_bytes(), decimals);
            let want = crate::decimal::parse_fixed_prefix(s.as_bytes(), decimals);
            // Taken whenever it fits the word and keeps every fraction digit.
            if s.find('"').unwrap() <= 7 && want.is_some() && w as u32 <= decimals {
                proptest::prop_assert!(got.is_some(), "{}", s);
            }
            if got.is_some() {
                proptest::prop_assert_eq!(got, want, "{}", s);
            }
        }

        /// Numbers in the subset are the `f64` Rust's own (correctly rounded) parser makes.
        #[test]
        fn float_numbers_are_correctly_rounded(int in 0u64..10_000_000, frac in 0u64..100_000_000, w in 1usize..9) {
            let f = format!("{frac:08}");
            let s = format!("{int}.{}", &f[..w]);
            if let Some(Number::Float(x)) = Cursor::new(s.as_bytes()).number() {
                proptest::prop_assert_eq!(x, s.parse::<f64>().unwrap(), "{}", s);
            }
        }

        /// The eight-at-a-time string scan ends where a byte-by-byte reading ends.
        #[test]
        fn string_scan_is_bytewise(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40)) {
            let mut s = vec![b'"'];
            s.extend_from_slice(&body);
            s.push(b'"');
            let end = body.iter().position(|&c| c == b'"' || c == b'\\' || !(0x20..0x80).contains(&c));
            let want = match end {
                Some(k) if body[k] == b'"' => Some((1, 1 + k)),
                Some(_) => None,
                None => Some((1, 1 + body.len())),
            };
            proptest::prop_assert_eq!(Cursor::new(&s).string(), want);
        }

        /// Whatever the scanner accepts whole, serde_json accepts too (the subset is valid JSON).
        #[test]
        fn accepted_is_valid_json(s in proptest::collection::vec(
            proptest::sample::select(&b"{}[]\":,01a9 .-etrufnl\\"[..]), 0..40)) {
            let mut c = Cursor::new(&s);
            if c.value().is_some() && c.at_end() {
                proptest::prop_assert!(serde_json::from_slice::<serde_json::Value>(&s).is_ok(),
                    "{:?}", String::from_utf8_lossy(&s));
            }
        }
    }
}
