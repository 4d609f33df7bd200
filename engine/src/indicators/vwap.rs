//! Volume-weighted average price and realized volatility, over a session or a time window of
//! event time.

use std::collections::VecDeque;

use crate::{Nanos, Px, Qty};

/// Session VWAP: Σ px·qty / Σ qty since construction (or [`SessionVwap::reset`]).
#[derive(Clone, Debug, Default)]
pub struct SessionVwap {
    pq: f64,
    q: u64,
}

impl SessionVwap {
    /// An empty session.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a trade.
    #[inline]
    pub fn update(&mut self, px: Px, qty: Qty) {
        self.pq += px.0 as f64 * qty.0 as f64;
        self.q += qty.0;
    }
    /// VWAP in ticks, once anything traded.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        (self.q > 0).then(|| self.pq / self.q as f64)
    }
    /// Starts a new session.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// VWAP over the trades of the last `window` nanoseconds of event time.
///
/// Holds each trade of the window: sized at construction for `capacity` trades per window, it
/// allocates only if a window ever holds more.
#[derive(Clone, Debug)]
pub struct WindowVwap {
    window: u64,
    trades: VecDeque<(u64, f64, u64)>,
    pq: f64,
    q: u64,
}

impl WindowVwap {
    /// A window of `window` ns, room for `capacity` trades.
    pub fn new(window: Nanos, capacity: usize) -> Self {
        WindowVwap {
            window: window.0,
            trades: VecDeque::with_capacity(capacity),
            pq: 0.0,
            q: 0,
        }
    }
    /// Adds a trade at event time `ts` (non-decreasing).
    #[inline]
    pub fn update(&mut self, ts: Nanos, px: Px, qty: Qty) {
        let pq = px.0 as f64 * qty.0 as f64;
        self.trades.push_back((ts.0, pq, qty.0));
        self.pq += pq;
        self.q += qty.0;
        self.evict(ts);
    }
    /// Drops trades older than the window at time `now`: a trade at `t` stays while
    /// `t + window > now`.
    #[inline]
    pub fn evict(&mut self, now: Nanos) {
        while let Some(&(t, pq, q)) = self.trades.front() {
            if t.saturating_add(self.window) > now.0 {
                break;
            }
            self.trades.pop_front();
            self.pq -= pq;
            self.q -= q;
        }
        if self.trades.is_empty() {
            self.pq = 0.0;
        }
    }
    /// VWAP in ticks of the trades in (now − window, now], if any.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        (self.q > 0).then(|| self.pq / self.q as f64)
    }
}

/// Realized volatility: the square root of the sum of squared log returns of a price over the
/// last `window` nanoseconds of event time.
#[derive(Clone, Debug)]
pub struct RealizedVol {
    window: u64,
    prev: Option<f64>,
    r2: VecDeque<(u64, f64)>,
    sum: f64,
}

impl RealizedVol {
    /// A window of `window` ns, room for `capacity` returns.
    pub fn new(window: Nanos, capacity: usize) -> Self {
        RealizedVol {
            window: window.0,
            prev: None,
            r2: VecDeque::with_capacity(capacity),
            sum: 0.0,
        }
    }
    /// Adds a price observation (ticks) at event time `ts`.
    #[inline]
    pub fn update(&mut self, ts: Nanos, px: f64) {
        if px <= 0.0 {
            return;
        }
        if let Some(p) = self.prev.replace(px) {
            let r = (px / p).ln();
            self.r2.push_back((ts.0, r * r));
            self.sum += r * r;
        }
        while let Some(&(t, v)) = self.r2.front() {
            if t.saturating_add(self.window) > ts.0 {
                break;
            }
            self.r2.pop_front();
            self.sum -= v;
        }
        if self.r2.is_empty() {
            self.sum = 0.0;
        }
    }
    /// The volatility over the window (not annualized), once a return is in it.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        (!self.r2.is_empty()).then(|| self.sum.max(0.0).sqrt())
    }
}
