//! Moving averages.

use super::Window;

/// Simple moving average over the last `n` values.
///
/// ```
/// use ticklane_engine::indicators::ma::Sma;
/// let mut s = Sma::new(3);
/// s.update(1.0);
/// s.update(2.0);
/// assert_eq!(s.value(), None);
/// s.update(6.0);
/// assert_eq!(s.value(), Some(3.0));
/// ```
#[derive(Clone, Debug)]
pub struct Sma {
    w: Window<f64>,
    sum: f64,
    /// Updates since the sum was last recomputed exactly (bounds float drift).
    since_exact: usize,
}

impl Sma {
    /// Over `n` values (at least 1).
    pub fn new(n: usize) -> Self {
        Sma {
            w: Window::new(n),
            sum: 0.0,
            since_exact: 0,
        }
    }
    /// Adds a value.
    #[inline]
    pub fn update(&mut self, x: f64) {
        if let Some(old) = self.w.push(x) {
            self.sum += x - old;
        } else {
            self.sum += x;
        }
        self.since_exact += 1;
        // Re-sum once per window length: still O(1) amortized, and drift never accumulates.
        if self.since_exact >= self.w.cap().max(64) {
            self.sum = (0..self.w.len()).map(|i| self.w.get(i)).sum();
            self.since_exact = 0;
        }
    }
    /// The average, once `n` values were seen.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        self.w.is_full().then(|| self.sum / self.w.cap() as f64)
    }
}

/// Exponential moving average with smoothing `alpha = 2 / (n + 1)`, seeded with the SMA of the
/// first `n` values (the usual convention), `None` before that.
#[derive(Clone, Debug)]
pub struct Ema {
    alpha: f64,
    n: usize,
    seen: usize,
    seed_sum: f64,
    v: f64,
}

impl Ema {
    /// Over `n` values.
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        Ema {
            alpha: 2.0 / (n as f64 + 1.0),
            n,
            seen: 0,
            seed_sum: 0.0,
            v: 0.0,
        }
    }
    /// An EMA with an explicit smoothing factor, seeded by its first value.
    pub fn with_alpha(alpha: f64) -> Self {
        Ema {
            alpha: alpha.clamp(f64::MIN_POSITIVE, 1.0),
            n: 1,
            seen: 0,
            seed_sum: 0.0,
            v: 0.0,
        }
    }
    /// Adds a value.
    #[inline]
    pub fn update(&mut self, x: f64) {
        if self.seen < self.n {
            self.seen += 1;
            self.seed_sum += x;
            if self.seen == self.n {
                self.v = self.seed_sum / self.n as f64;
            }
        } else {
            self.v += self.alpha * (x - self.v);
        }
    }
    /// The average, once `n` values were seen.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        (self.seen >= self.n).then_some(self.v)
    }
}

/// Linearly weighted moving average: the newest value weighs `n`, the oldest 1.
#[derive(Clone, Debug)]
pub struct Wma {
    w: Window<f64>,
    sum: f64,
    weighted: f64,
    since_exact: usize,
}

impl Wma {
    /// Over `n` values.
    pub fn new(n: usize) -> Self {
        Wma {
            w: Window::new(n),
            sum: 0.0,
            weighted: 0.0,
            since_exact: 0,
        }
    }
    /// Adds a value. O(1): when full, every weight drops by one (subtract the plain sum) and the
    /// new value enters with weight n.
    #[inline]
    pub fn update(&mut self, x: f64) {
        let n = self.w.cap() as f64;
        match self.w.push(x) {
            Some(old) => {
                self.weighted += n * x - self.sum;
                self.sum += x - old;
            }
            None => {
                self.weighted += self.w.len() as f64 * x;
                self.sum += x;
            }
        }
        self.since_exact += 1;
        if self.since_exact >= self.w.cap().max(64) {
            let len = self.w.len();
            self.sum = (0..len).map(|i| self.w.get(i)).sum();
            self.weighted = (0..len).map(|i| (i + 1) as f64 * self.w.get(i)).sum();
            self.since_exact = 0;
        }
    }
    /// The average, once `n` values were seen.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        let n = self.w.cap() as f64;
        self.w
            .is_full()
            .then(|| self.weighted / (n * (n + 1.0) / 2.0))
    }
}
