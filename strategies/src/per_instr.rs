//! Per-instrument state in a dense array, created on an instrument's first event.

use ticklane_engine::InstrumentIdx;

/// `T` per instrument index; grows to the highest index seen (allocates only then).
#[derive(Clone, Debug)]
pub(crate) struct PerInstr<T> {
    v: Vec<Option<T>>,
}

impl<T> Default for PerInstr<T> {
    fn default() -> Self {
        PerInstr { v: Vec::new() }
    }
}

impl<T> PerInstr<T> {
    /// The state of `i`, made by `init` on first use.
    #[inline]
    pub(crate) fn get_or(&mut self, i: InstrumentIdx, init: impl FnOnce() -> T) -> &mut T {
        let k = i.get();
        if self.v.len() <= k {
            self.v.resize_with(k + 1, || None);
        }
        self.v[k].get_or_insert_with(init)
    }
}
