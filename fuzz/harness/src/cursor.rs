//! Structured input from fuzz bytes: small numbers and length-prefixed chunks, read front to
//! back, with zeros once the bytes run out (so every input means something).

/// Reads fuzz bytes front to back.
///
/// ```
/// let mut c = ticklane_fuzzing::cursor::Cursor::new(&[1, 0, 2, b'a', b'b', b'c']);
/// assert_eq!(c.u8(), 1);
/// assert_eq!(c.chunk(), b"ab");
/// assert_eq!(c.rest(), b"c");
/// assert!(c.is_empty());
/// assert_eq!(c.u16(), 0);
/// ```
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    data: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Cursor { data }
    }

    /// Nothing left.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte, or 0.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes, big-endian, or 0.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// Up to `n` bytes.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// A chunk: a 2-byte big-endian length, then that many bytes (fewer at the end).
    pub fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.u16());
        self.take(n)
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }
}
