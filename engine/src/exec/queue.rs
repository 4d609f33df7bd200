//! Queue-position models: how much resting quantity is ahead of a simulated order at its price
//! level, and when the market's own activity reaches it.
//!
//! - [`QueueKind::Fifo`] is exact on order-by-order (L3) data: the simulated order joins the
//!   back of its level, behind exactly the orders resting there at that moment (the book's time
//!   priorities say which). Executions and cancels of orders *ahead* of it advance it; orders
//!   that joined later never do, and an execution of one of them while nothing is left ahead
//!   fills the simulated order instead. The simulator implements it with the book's priorities.
//! - On price-level (L2) data, where nobody knows which order a size change belongs to:
//!   [`Conservative`] advances only on trades at the order's price (a cancel can only shrink
//!   the queue ahead to the level's size), and [`Probabilistic`] also advances on cancels, with
//!   the probability that the cancelled quantity was ahead rising with the quantity ahead
//!   relative to behind (`f(x) = x^n`; the "power probability queue" of the literature).
//!
//! The L2 models are small traits in the shape hftbacktest gives them: a position is made when
//! the order joins ([`QueueModel::new_order`]), moved by trades ([`QueueModel::trade`]) and by
//! level-size changes without a trade ([`QueueModel::depth`]).

/// Where a simulated resting order stands in its level's queue.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueuePos {
    /// Quantity ahead of it, lots.
    pub ahead: u64,
}

/// An L2 queue-position model.
pub trait QueueModel {
    /// The order joins the back of a level holding `level_qty`.
    fn new_order(&self, level_qty: u64) -> QueuePos {
        QueuePos { ahead: level_qty }
    }
    /// `qty` traded at the order's price against its side. Returns the quantity that reaches the
    /// order (fills it), after the quantity ahead is used up.
    fn trade(&self, pos: &mut QueuePos, qty: u64) -> u64 {
        let fill = qty.saturating_sub(pos.ahead);
        pos.ahead = pos.ahead.saturating_sub(qty);
        fill
    }
    /// The level's size went from `before` to `after` without a trade.
    fn depth(&self, pos: &mut QueuePos, before: u64, after: u64);
}

/// Only trades move the order up; cancels can only cap the queue at the level's size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Conservative;

impl QueueModel for Conservative {
    fn depth(&self, pos: &mut QueuePos, _before: u64, after: u64) {
        pos.ahead = pos.ahead.min(after);
    }
}

/// Cancels move the order up with a probability that depends on its position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Probabilistic {
    /// The exponent `n` of `f(x) = x^n` (3 is a common choice; higher = more pessimistic about
    /// cancels coming from the front while the order is near the back).
    pub power: f64,
}

impl Default for Probabilistic {
    fn default() -> Self {
        Probabilistic { power: 3.0 }
    }
}

impl Probabilistic {
    /// Probability that a cancel came from *behind* the order, given `front` ahead and `back`
    /// behind: `f(back) / (f(back) + f(front))`.
    pub fn prob_behind(&self, front: f64, back: f64) -> f64 {
        let (fb, ff) = (back.powf(self.power), front.powf(self.power));
        if fb + ff <= 0.0 {
            return 0.5;
        }
        fb / (fb + ff)
    }
}

impl QueueModel for Probabilistic {
    fn depth(&self, pos: &mut QueuePos, before: u64, after: u64) {
        if after >= before {
            // More size joined behind the order: nothing changes ahead of it.
            pos.ahead = pos.ahead.min(after);
            return;
        }
        let chg = (before - after) as f64;
        let front = pos.ahead as f64;
        let back = before.saturating_sub(pos.ahead) as f64;
        let p = self.prob_behind(front, back);
        // The expected part of the cancel that was ahead, (1 - p) * chg; and whatever the part
        // assumed behind exceeds what is behind must have come from ahead too.
        let est = front - (1.0 - p) * chg + (back - p * chg).min(0.0);
        let est = if est <= 0.0 { 0 } else { est.floor() as u64 };
        pos.ahead = est.min(after);
    }
}

/// Which queue model a backtest uses (what configuration chooses).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum QueueKind {
    /// Exact FIFO from the order-by-order book (L3 data).
    #[default]
    Fifo,
    /// [`Conservative`].
    Conservative,
    /// [`Probabilistic`].
    Probabilistic(Probabilistic),
}

impl QueueKind {
    /// The config name.
    pub fn name(&self) -> &'static str {
        match self {
            QueueKind::Fifo => "fifo",
            QueueKind::Conservative => "conservative",
            QueueKind::Probabilistic(_) => "probabilistic",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conservative_advances_only_on_trades() {
        let m = Conservative;
        let mut p = m.new_order(500);
        m.depth(&mut p, 500, 400); // a cancel somewhere in the level: no advance
        assert_eq!(p.ahead, 400, "capped at the level's size only");
        assert_eq!(m.trade(&mut p, 300), 0);
        assert_eq!(p.ahead, 100);
        // A 150-lot trade uses the last 100 ahead and gives the order 50.
        assert_eq!(m.trade(&mut p, 150), 50);
        assert_eq!(p.ahead, 0);
    }

    #[test]
    fn probabilistic_cancels_count_more_from_the_front_when_the_order_is_at_the_back() {
        let m = Probabilistic { power: 3.0 };
        // 900 ahead, 100 behind (level 1000): p(behind) = 100^3 / (100^3 + 900^3) = 1/730.
        // A 100-lot cancel: est = 900 - (729/730) * 100 + min(100 - 100/730, 0) = 900 - 99.863
        // = 800.137 -> 800.
        let mut p = QueuePos { ahead: 900 };
        m.depth(&mut p, 1000, 900);
        assert_eq!(p.ahead, 800);
        // Near the front (100 ahead, 900 behind), the same cancel is almost surely behind:
        // p = 729/730, est = 100 - (1/730) * 100 = 99.86 -> 99.
        let mut q = QueuePos { ahead: 100 };
        m.depth(&mut q, 1000, 900);
        assert_eq!(q.ahead, 99);
        // Size joining behind changes nothing ahead.
        m.depth(&mut q, 900, 1500);
        assert_eq!(q.ahead, 99);
        // A cancel bigger than everything behind must partly come from ahead: 100 ahead, 50
        // behind, 120 cancelled: p = 50^3/(50^3+100^3) = 1/9; est = 100 - (8/9)*120 +
        // min(50 - 120/9, 0) = 100 - 106.67 = -6.67 -> 0.
        let mut r = QueuePos { ahead: 100 };
        m.depth(&mut r, 150, 30);
        assert_eq!(r.ahead, 0);
    }
}
