//! Rolling window statistics.

use super::Window;

/// Rolling minimum and maximum of the last `n` values (monotonic queues: O(1) amortized).
#[derive(Clone, Debug)]
pub struct RollingMinMax {
    n: u64,
    i: u64,
    /// (index, value), values increasing: the front is the minimum.
    mins: Window<(u64, f64)>,
    /// (index, value), values decreasing: the front is the maximum.
    maxs: Window<(u64, f64)>,
}

/// Pushes `x` on a monotonic deque, first dropping the back entries it dominates.
#[inline]
fn push_mono(w: &mut Window<(u64, f64)>, x: (u64, f64), keep: impl Fn(f64, f64) -> bool) {
    while !w.is_empty() && !keep(w.get(w.len() - 1).1, x.1) {
        w.pop_back();
    }
    w.push_back(x);
}

impl RollingMinMax {
    /// Over `n` values.
    pub fn new(n: usize) -> Self {
        let n = n.max(1);
        RollingMinMax {
            n: n as u64,
            i: 0,
            mins: Window::new(n + 1),
            maxs: Window::new(n + 1),
        }
    }
    /// Adds a value.
    #[inline]
    pub fn update(&mut self, x: f64) {
        let i = self.i;
        self.i += 1;
        push_mono(&mut self.mins, (i, x), |back, new| back < new);
        push_mono(&mut self.maxs, (i, x), |back, new| back > new);
        let oldest = self.i.saturating_sub(self.n);
        while !self.mins.is_empty() && self.mins.get(0).0 < oldest {
            self.mins.pop_front();
        }
        while !self.maxs.is_empty() && self.maxs.get(0).0 < oldest {
            self.maxs.pop_front();
        }
    }
    /// Minimum of the window, once full.
    #[inline]
    pub fn min(&self) -> Option<f64> {
        (self.i >= self.n).then(|| self.mins.get(0).1)
    }
    /// Maximum of the window, once full.
    #[inline]
    pub fn max(&self) -> Option<f64> {
        (self.i >= self.n).then(|| self.maxs.get(0).1)
    }
}

impl<T: Copy + Default> Window<T> {
    pub(crate) fn pop_front(&mut self) {
        if self.len > 0 {
            self.head = (self.head + 1) % self.buf.len();
            self.len -= 1;
        }
    }
    pub(crate) fn pop_back(&mut self) {
        if self.len > 0 {
            self.len -= 1;
        }
    }
    pub(crate) fn push_back(&mut self, v: T) {
        // Callers keep len < cap.
        let _ = self.push(v);
    }
}

/// Rolling mean and (population) standard deviation of the last `n` values, and the z-score of
/// the newest value against them.
#[derive(Clone, Debug)]
pub struct RollingStd {
    w: Window<f64>,
    sum: f64,
    sumsq: f64,
    last: f64,
    since_exact: usize,
}

impl RollingStd {
    /// Over `n` values.
    pub fn new(n: usize) -> Self {
        RollingStd {
            w: Window::new(n),
            sum: 0.0,
            sumsq: 0.0,
            last: 0.0,
            since_exact: 0,
        }
    }
    /// Adds a value.
    #[inline]
    pub fn update(&mut self, x: f64) {
        if let Some(old) = self.w.push(x) {
            self.sum += x - old;
            self.sumsq += x * x - old * old;
        } else {
            self.sum += x;
            self.sumsq += x * x;
        }
        self.last = x;
        self.since_exact += 1;
        if self.since_exact >= self.w.cap().max(64) {
            self.sum = (0..self.w.len()).map(|i| self.w.get(i)).sum();
            self.sumsq = (0..self.w.len())
                .map(|i| self.w.get(i) * self.w.get(i))
                .sum();
            self.since_exact = 0;
        }
    }
    /// Mean, once full.
    #[inline]
    pub fn mean(&self) -> Option<f64> {
        self.w.is_full().then(|| self.sum / self.w.cap() as f64)
    }
    /// Population standard deviation, once full.
    #[inline]
    pub fn std(&self) -> Option<f64> {
        let n = self.w.cap() as f64;
        self.w.is_full().then(|| {
            let m = self.sum / n;
            (self.sumsq / n - m * m).max(0.0).sqrt()
        })
    }
    /// `(newest - mean) / std`, once full and when the window is not flat.
    #[inline]
    pub fn zscore(&self) -> Option<f64> {
        let (m, s) = (self.mean()?, self.std()?);
        (s > 1e-12 * m.abs().max(1.0)).then(|| (self.last - m) / s)
    }
}
