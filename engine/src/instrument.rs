//! Dense instrument indices.

/// A dense instrument index: books, counters and symbol tables are flat arrays indexed by it.
///
/// For ITCH it is the stock locate code, which NASDAQ assigns densely from 1 each day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstrumentIdx(pub u32);

impl InstrumentIdx {
    /// The index as a `usize`, for array access.
    #[inline]
    pub fn get(self) -> usize {
        self.0 as usize
    }
}
