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
    /// `null`, an object or an array (validated and passed over).
    Other,
}

/// A position in a frame.
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
    #[inline]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    /// Consumes `c` (after whitespace).
    #[inline]
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
    #[inline]
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
    #[inline]
    pub(crate) fn open_object(&mut self) -> Option<bool> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(true);
        }
        Some(false)
    }

    /// A member key and its `:`; the key's content bytes.
    #[inline]
    pub(crate) fn key(&mut self) -> Option<&'a [u8]> {
        let (s, e) = self.string()?;
        self.eat(b':')?;
        Some(&self.b[s..e])
    }

    /// A string in the subset: its content range. Printable ASCII only; no escapes.
    #[inline]
    pub(crate) fn string(&mut self) -> Option<(usize, usize)> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return Some((start, self.i - 1)),
                b'\\' | 0..=0x1F | 0x80..=0xFF => return None,
                _ => {}
            }
        }
    }

    /// Any value in the subset; containers are validated and passed over.
    #[inline]
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
    #[inline]
    pub(crate) fn uint(&mut self) -> Option<u64> {
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

    /// A string of decimal digits parsed exactly at `decimals` (the same conversion the tape
    /// path uses); `None` if it is not one.
    #[inline]
    pub(crate) fn decimal(&mut self, decimals: u32) -> Option<i64> {
        let (s, e) = self.string()?;
        crate::decimal::parse_fixed(&self.b[s..e], decimals).ok()
    }
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

    proptest::proptest! {
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
