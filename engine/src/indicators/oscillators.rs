//! RSI, MACD and Bollinger bands.

use super::ma::{Ema, Sma};
use super::rolling::RollingStd;

/// Relative strength index with Wilder's smoothing over `n` changes: seeded with the plain
/// average gain and loss of the first `n` changes, then `avg = (avg * (n - 1) + x) / n`.
#[derive(Clone, Debug)]
pub struct Rsi {
    n: usize,
    prev: Option<f64>,
    seen: usize,
    gain: f64,
    loss: f64,
}

impl Rsi {
    /// Over `n` changes (the classic is 14).
    pub fn new(n: usize) -> Self {
        Rsi {
            n: n.max(1),
            prev: None,
            seen: 0,
            gain: 0.0,
            loss: 0.0,
        }
    }
    /// Adds a value (a close, a mid).
    #[inline]
    pub fn update(&mut self, x: f64) {
        let Some(p) = self.prev.replace(x) else {
            return;
        };
        let (g, l) = if x > p { (x - p, 0.0) } else { (0.0, p - x) };
        let n = self.n as f64;
        if self.seen < self.n {
            self.gain += g / n;
            self.loss += l / n;
            self.seen += 1;
        } else {
            self.gain = (self.gain * (n - 1.0) + g) / n;
            self.loss = (self.loss * (n - 1.0) + l) / n;
        }
    }
    /// 0..=100, once `n` changes were seen (100 when there were no losses, 50 when flat).
    #[inline]
    pub fn value(&self) -> Option<f64> {
        if self.seen < self.n {
            return None;
        }
        Some(if self.loss == 0.0 {
            if self.gain == 0.0 {
                50.0
            } else {
                100.0
            }
        } else {
            100.0 - 100.0 / (1.0 + self.gain / self.loss)
        })
    }
}

/// MACD: fast EMA − slow EMA, its signal EMA, and the histogram (MACD − signal).
#[derive(Clone, Debug)]
pub struct Macd {
    fast: Ema,
    slow: Ema,
    signal: Ema,
}

/// One MACD reading.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MacdValue {
    /// Fast EMA − slow EMA.
    pub macd: f64,
    /// EMA of `macd`.
    pub signal: f64,
    /// `macd - signal`.
    pub histogram: f64,
}

impl Macd {
    /// Periods (the classic is 12, 26, 9).
    pub fn new(fast: usize, slow: usize, signal: usize) -> Self {
        Macd {
            fast: Ema::new(fast),
            slow: Ema::new(slow),
            signal: Ema::new(signal),
        }
    }
    /// Adds a value.
    #[inline]
    pub fn update(&mut self, x: f64) {
        self.fast.update(x);
        self.slow.update(x);
        if let (Some(f), Some(s)) = (self.fast.value(), self.slow.value()) {
            self.signal.update(f - s);
        }
    }
    /// The reading, once the signal EMA is warm.
    #[inline]
    pub fn value(&self) -> Option<MacdValue> {
        let macd = self.fast.value()? - self.slow.value()?;
        let signal = self.signal.value()?;
        Some(MacdValue {
            macd,
            signal,
            histogram: macd - signal,
        })
    }
}

/// Bollinger bands: SMA ± k population standard deviations over `n` values.
#[derive(Clone, Debug)]
pub struct Bollinger {
    sma: Sma,
    std: RollingStd,
    k: f64,
}

/// One Bollinger reading.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bands {
    /// Lower band.
    pub lower: f64,
    /// Middle band (the SMA).
    pub middle: f64,
    /// Upper band.
    pub upper: f64,
}

impl Bollinger {
    /// Over `n` values, `k` deviations wide (the classic is 20, 2).
    pub fn new(n: usize, k: f64) -> Self {
        Bollinger {
            sma: Sma::new(n),
            std: RollingStd::new(n),
            k,
        }
    }
    /// Adds a value.
    #[inline]
    pub fn update(&mut self, x: f64) {
        self.sma.update(x);
        self.std.update(x);
    }
    /// The bands, once full.
    #[inline]
    pub fn value(&self) -> Option<Bands> {
        let m = self.sma.value()?;
        let d = self.k * self.std.std()?;
        Some(Bands {
            lower: m - d,
            middle: m,
            upper: m + d,
        })
    }
}
