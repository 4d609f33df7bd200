//! Streaming indicators: O(1) per update, no allocation after construction, `None` while warming
//! up. Time windows use event time (the `Nanos` passed in), never wall time.
//!
//! - [`ma`]: SMA, EMA, WMA.
//! - [`rolling`]: rolling min/max, standard deviation, z-score.
//! - [`oscillators`]: RSI, MACD, Bollinger bands.
//! - [`vwap`]: session and rolling-time-window VWAP, realized volatility over a time window.
//! - [`bars`]: time and volume bars (OHLCV).
//! - [`book`]: spread, mid, weighted mid, microprice, top-N imbalance, order-flow imbalance,
//!   trade-flow imbalance.
//!
//! Floats live here and only here; prices come in as integer ticks.

pub mod bars;
pub mod book;
pub mod ma;
pub mod oscillators;
pub mod rolling;
pub mod vwap;

#[cfg(test)]
mod tests;

/// A fixed-capacity ring of values, allocated once: the window behind the rolling indicators.
#[derive(Clone, Debug)]
pub(crate) struct Window<T: Copy> {
    buf: Box<[T]>,
    head: usize,
    len: usize,
}

impl<T: Copy + Default> Window<T> {
    pub(crate) fn new(cap: usize) -> Self {
        Window {
            buf: vec![T::default(); cap.max(1)].into_boxed_slice(),
            head: 0,
            len: 0,
        }
    }
    pub(crate) fn cap(&self) -> usize {
        self.buf.len()
    }
    pub(crate) fn len(&self) -> usize {
        self.len
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub(crate) fn is_full(&self) -> bool {
        self.len == self.buf.len()
    }
    /// Pushes `v`; returns the value that fell out when full.
    pub(crate) fn push(&mut self, v: T) -> Option<T> {
        let cap = self.buf.len();
        let idx = (self.head + self.len) % cap;
        if self.len == cap {
            let old = self.buf[self.head];
            self.buf[self.head] = v;
            self.head = (self.head + 1) % cap;
            Some(old)
        } else {
            self.buf[idx] = v;
            self.len += 1;
            None
        }
    }
    /// The i-th oldest value.
    pub(crate) fn get(&self, i: usize) -> T {
        self.buf[(self.head + i) % self.buf.len()]
    }
}
