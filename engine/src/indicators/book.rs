//! Order-book features from the top of book and the top N levels.

use super::Window;
use crate::book::{Level, Top};
use crate::{Px, Qty, Side};

/// Best ask − best bid, in ticks.
#[inline]
pub fn spread(t: &Top) -> Option<i64> {
    Some(t.ask?.px.0 - t.bid?.px.0)
}

/// (bid + ask) / 2, in ticks.
#[inline]
pub fn mid(t: &Top) -> Option<f64> {
    Some((t.ask?.px.0 + t.bid?.px.0) as f64 / 2.0)
}

/// Microprice (Stoikov): the mid tilted toward the side with less size,
/// `(bid·ask_qty + ask·bid_qty) / (bid_qty + ask_qty)`.
#[inline]
pub fn microprice(t: &Top) -> Option<f64> {
    let (b, a) = (t.bid?, t.ask?);
    let (bq, aq) = (b.qty.0 as f64, a.qty.0 as f64);
    (bq + aq > 0.0).then(|| (b.px.0 as f64 * aq + a.px.0 as f64 * bq) / (bq + aq))
}

/// Size-weighted mid of the top `n` levels: the average of each side's volume-weighted price.
pub fn weighted_mid<'a>(
    bids: impl Iterator<Item = &'a Level>,
    asks: impl Iterator<Item = &'a Level>,
    n: usize,
) -> Option<f64> {
    let vw = |it: &mut dyn Iterator<Item = &'a Level>| {
        let (mut pq, mut q) = (0f64, 0f64);
        for l in it.take(n) {
            pq += l.px.0 as f64 * l.qty.0 as f64;
            q += l.qty.0 as f64;
        }
        (q > 0.0).then(|| pq / q)
    };
    let (mut b, mut a) = (bids, asks);
    Some((vw(&mut b)? + vw(&mut a)?) / 2.0)
}

/// Top-`n` depth imbalance in [-1, 1]: (Σ bid qty − Σ ask qty) / (Σ bid qty + Σ ask qty).
pub fn imbalance<'a>(
    bids: impl Iterator<Item = &'a Level>,
    asks: impl Iterator<Item = &'a Level>,
    n: usize,
) -> Option<f64> {
    let b: u64 = bids.take(n).map(|l| l.qty.0).sum();
    let a: u64 = asks.take(n).map(|l| l.qty.0).sum();
    (a + b > 0).then(|| (b as f64 - a as f64) / (a + b) as f64)
}

/// Order-flow imbalance (Cont, Kukanov, Stoikov 2014) summed over the last `n` top-of-book
/// updates: each update contributes
/// `e = 1{Pb ≥ Pb'}·qb − 1{Pb ≤ Pb'}·qb' − 1{Pa ≤ Pa'}·qa + 1{Pa ≥ Pa'}·qa'`
/// (primed: the previous top). Integer, exact.
#[derive(Clone, Debug)]
pub struct Ofi {
    prev: Option<(Px, Qty, Px, Qty)>,
    w: Window<i64>,
    sum: i64,
}

impl Ofi {
    /// Over the last `n` updates.
    pub fn new(n: usize) -> Self {
        Ofi {
            prev: None,
            w: Window::new(n),
            sum: 0,
        }
    }
    /// The contribution of one update from `prev` to `cur` (both sides present).
    pub fn event(prev: (Px, Qty, Px, Qty), cur: (Px, Qty, Px, Qty)) -> i64 {
        let (pb0, qb0, pa0, qa0) = prev;
        let (pb, qb, pa, qa) = cur;
        let mut e = 0i64;
        if pb >= pb0 {
            e += qb.0 as i64;
        }
        if pb <= pb0 {
            e -= qb0.0 as i64;
        }
        if pa <= pa0 {
            e -= qa.0 as i64;
        }
        if pa >= pa0 {
            e += qa0.0 as i64;
        }
        e
    }
    /// Takes the new top of book (ignored while a side is empty).
    #[inline]
    pub fn update(&mut self, t: &Top) {
        let (Some(b), Some(a)) = (t.bid, t.ask) else {
            return;
        };
        let cur = (b.px, b.qty, a.px, a.qty);
        if let Some(prev) = self.prev.replace(cur) {
            let e = Self::event(prev, cur);
            if let Some(old) = self.w.push(e) {
                self.sum -= old;
            }
            self.sum += e;
        }
    }
    /// The sum over the window, once `n` updates were seen.
    #[inline]
    pub fn value(&self) -> Option<i64> {
        self.w.is_full().then_some(self.sum)
    }
}

/// Trade-flow imbalance over the last `n` trades: (buy volume − sell volume) / total, where a
/// trade's aggressor is the opposite of the resting side it hit.
#[derive(Clone, Debug)]
pub struct TradeFlowImbalance {
    w: Window<i64>,
    signed: i64,
    total: u64,
}

impl TradeFlowImbalance {
    /// Over the last `n` trades.
    pub fn new(n: usize) -> Self {
        TradeFlowImbalance {
            w: Window::new(n),
            signed: 0,
            total: 0,
        }
    }
    /// Adds a trade against a resting order on `resting` side.
    #[inline]
    pub fn update(&mut self, resting: Side, qty: Qty) {
        let v = match resting {
            Side::Ask => qty.0 as i64,    // a buyer lifted the offer
            Side::Bid => -(qty.0 as i64), // a seller hit the bid
        };
        if let Some(old) = self.w.push(v) {
            self.signed -= old;
            self.total -= old.unsigned_abs();
        }
        self.signed += v;
        self.total += v.unsigned_abs();
    }
    /// In [-1, 1], once `n` trades were seen.
    #[inline]
    pub fn value(&self) -> Option<f64> {
        (self.w.is_full() && self.total > 0).then(|| self.signed as f64 / self.total as f64)
    }
}
