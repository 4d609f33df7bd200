//! Time and volume bars (OHLCV) from trades.

use crate::{Nanos, Px, Qty};

/// One bar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bar {
    /// Start of the bar (time bars: aligned to the interval; volume bars: first trade).
    pub start: Nanos,
    /// Open.
    pub open: Px,
    /// High.
    pub high: Px,
    /// Low.
    pub low: Px,
    /// Close.
    pub close: Px,
    /// Volume.
    pub volume: Qty,
    /// Trades.
    pub trades: u32,
}

impl Bar {
    fn new(start: Nanos, px: Px, qty: Qty) -> Self {
        Bar {
            start,
            open: px,
            high: px,
            low: px,
            close: px,
            volume: qty,
            trades: 1,
        }
    }
    fn add(&mut self, px: Px, qty: Qty) {
        self.high = self.high.max(px);
        self.low = self.low.min(px);
        self.close = px;
        self.volume.0 += qty.0;
        self.trades += 1;
    }
}

/// Bars of fixed event-time intervals, aligned to multiples of the interval. Intervals without
/// trades produce no bar.
#[derive(Clone, Debug)]
pub struct TimeBars {
    interval: u64,
    cur: Option<Bar>,
}

impl TimeBars {
    /// Bars of `interval` ns.
    pub fn new(interval: Nanos) -> Self {
        TimeBars {
            interval: interval.0.max(1),
            cur: None,
        }
    }
    /// Adds a trade; returns the bar it closed, if it opened a new interval.
    #[inline]
    pub fn update(&mut self, ts: Nanos, px: Px, qty: Qty) -> Option<Bar> {
        let start = Nanos(ts.0 - ts.0 % self.interval);
        match &mut self.cur {
            Some(b) if b.start == start => {
                b.add(px, qty);
                None
            }
            _ => self.cur.replace(Bar::new(start, px, qty)),
        }
    }
    /// The bar being built.
    pub fn current(&self) -> Option<&Bar> {
        self.cur.as_ref()
    }
}

/// Bars of a fixed traded volume. A trade that crosses the threshold closes the bar with it
/// (its whole quantity counts toward that bar).
#[derive(Clone, Debug)]
pub struct VolumeBars {
    per_bar: u64,
    cur: Option<Bar>,
}

impl VolumeBars {
    /// Bars of `per_bar` lots.
    pub fn new(per_bar: Qty) -> Self {
        VolumeBars {
            per_bar: per_bar.0.max(1),
            cur: None,
        }
    }
    /// Adds a trade; returns the bar it completed.
    #[inline]
    pub fn update(&mut self, ts: Nanos, px: Px, qty: Qty) -> Option<Bar> {
        match &mut self.cur {
            Some(b) => b.add(px, qty),
            None => self.cur = Some(Bar::new(ts, px, qty)),
        }
        if self.cur.is_some_and(|b| b.volume.0 >= self.per_bar) {
            self.cur.take()
        } else {
            None
        }
    }
    /// The bar being built.
    pub fn current(&self) -> Option<&Bar> {
        self.cur.as_ref()
    }
}
