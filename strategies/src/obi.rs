//! Order-book-imbalance taker.
//!
//! The idea: when the resting size on the top levels of one side far outweighs the other, the
//! price tends to move toward the thin side, so take liquidity in the direction of the
//! imbalance. It signals once on entering an imbalanced state (buy when the imbalance rises to
//! `threshold` or above, sell when it falls to `-threshold` or below) and again only after the
//! imbalance has come back inside `±threshold·reset` and crossed out again, so a persistent
//! imbalance is one signal, not one per book update. With each signal it sends a market (IOC)
//! order of `size` lots in the signal's direction, unless that would take the position beyond
//! `max_position` (0 = signals only).

use serde::Deserialize;
use ticklane_engine::config::{Range, RangeError};
use ticklane_engine::indicators::book::imbalance;
use ticklane_engine::strategy::{Ctx, OrderIntent, Signal, SignalKind, Strategy, Tif};
use ticklane_engine::{Qty, Side};

use crate::limits;
use crate::per_instr::PerInstr;

/// Configuration. Each key's valid range is the associated constant of its name in capitals,
/// checked by [`validate`](Self::validate) when the registry builds the strategy.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ObiConfig {
    /// Levels per side summed into the imbalance ([`LEVELS`](Self::LEVELS): 1..=64).
    pub levels: usize,
    /// Imbalance that triggers a signal ([`THRESHOLD`](Self::THRESHOLD): 0.01..=1).
    pub threshold: f64,
    /// Fraction of `threshold` the imbalance must fall back within before the next signal
    /// ([`RESET`](Self::RESET): 0..=1).
    pub reset: f64,
    /// Lots per market order sent with a signal ([`SIZE`](crate::limits::SIZE)).
    pub size: u64,
    /// Largest absolute position the orders may build, lots (0: send no orders)
    /// ([`MAX_POSITION`](crate::limits::MAX_POSITION)).
    pub max_position: i64,
}

impl ObiConfig {
    /// Valid `levels`.
    pub const LEVELS: Range<usize> = Range::new(1, 64, "levels per side in the imbalance");
    /// Valid `threshold`: an imbalance lies in -1..=1, and below 0.01 every book is imbalanced.
    pub const THRESHOLD: Range<f64> = Range::new(0.01, 1.0, "imbalance that triggers a signal");
    /// Valid `reset`.
    pub const RESET: Range<f64> = Range::new(
        0.0,
        1.0,
        "fraction of threshold to fall back within before re-arming",
    );

    /// Checks every key against its range.
    ///
    /// # Errors
    /// The first key out of range.
    pub fn validate(&self) -> Result<(), RangeError> {
        Self::LEVELS.check("levels", self.levels)?;
        Self::THRESHOLD.check("threshold", self.threshold)?;
        Self::RESET.check("reset", self.reset)?;
        limits::SIZE.check("size", self.size)?;
        limits::MAX_POSITION.check("max_position", self.max_position)?;
        Ok(())
    }
}

impl Default for ObiConfig {
    fn default() -> Self {
        ObiConfig {
            levels: 3,
            threshold: 0.6,
            reset: 0.5,
            size: 100,
            max_position: 500,
        }
    }
}

/// The strategy.
#[derive(Clone, Debug, Default)]
pub struct ObiTaker {
    cfg: ObiConfig,
    /// Per instrument: the side of the last signal while still armed-out, or None when reset.
    state: PerInstr<Option<Side>>,
    /// Per instrument: the last client id used.
    ids: PerInstr<u64>,
}

impl ObiTaker {
    /// With `cfg`.
    pub fn new(cfg: ObiConfig) -> Self {
        ObiTaker {
            cfg,
            state: PerInstr::default(),
            ids: PerInstr::default(),
        }
    }
}

impl ObiTaker {
    /// A market order of `size` toward `side`, within `max_position`.
    fn take(&mut self, ctx: &mut Ctx<'_>, side: Side) {
        let size = self.cfg.size as i64;
        let after = ctx.position + if side == Side::Bid { size } else { -size };
        if size == 0 || after.abs() > self.cfg.max_position {
            return;
        }
        let id = self.ids.get_or(ctx.instr, || 0);
        *id += 1;
        ctx.order(OrderIntent {
            client_id: *id,
            side,
            px: None,
            qty: Qty(self.cfg.size),
            tif: Tif::Ioc,
        });
    }
}

impl Strategy for ObiTaker {
    fn name(&self) -> &'static str {
        "obi_taker"
    }

    fn on_book(&mut self, ctx: &mut Ctx<'_>) {
        let Some(x) = imbalance(
            ctx.book.levels(Side::Bid),
            ctx.book.levels(Side::Ask),
            self.cfg.levels,
        ) else {
            return;
        };
        let st = self.state.get_or(ctx.instr, || None);
        match *st {
            None if x >= self.cfg.threshold => {
                *st = Some(Side::Bid);
                ctx.signal(Signal {
                    kind: SignalKind::Take,
                    side: Some(Side::Bid),
                    value: x,
                });
                self.take(ctx, Side::Bid);
            }
            None if x <= -self.cfg.threshold => {
                *st = Some(Side::Ask);
                ctx.signal(Signal {
                    kind: SignalKind::Take,
                    side: Some(Side::Ask),
                    value: x,
                });
                self.take(ctx, Side::Ask);
            }
            Some(_) if x.abs() <= self.cfg.threshold * self.cfg.reset => *st = None,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::Harness;

    /// Worked by hand with levels = 1, threshold 0.6, reset 0.5 (imbalance = (B - A) / (B + A)).
    #[test]
    fn signals_once_per_excursion() {
        let mut h = Harness::new(|| {
            ObiTaker::new(ObiConfig {
                levels: 1,
                threshold: 0.6,
                reset: 0.5,
                size: 100,
                max_position: 500,
            })
        });
        // Only a bid: (100 - 0) / 100 = 1.0 >= 0.6, a buy. Then the ask: 0.0, re-armed.
        let (_, s) = h.add(Side::Bid, 100, 100);
        assert_eq!((s.len(), s[0].side, s[0].value), (1, Some(Side::Bid), 1.0));
        let (_, s) = h.add(Side::Ask, 101, 100);
        assert!(s.is_empty(), "100 vs 100: 0.0 ({s:?})");
        let (_, s) = h.add(Side::Bid, 100, 300); // 400 vs 100: 0.6
        assert_eq!(s.len(), 1);
        assert_eq!(
            (s[0].kind, s[0].side, s[0].value),
            (SignalKind::Take, Some(Side::Bid), 0.6)
        );
        assert!(
            h.add(Side::Bid, 100, 100).1.is_empty(),
            "500 vs 100 = 0.667: still the same excursion"
        );
        assert!(
            h.add(Side::Ask, 101, 300).1.is_empty(),
            "500 vs 400 = 0.111 <= 0.3: re-armed, no signal"
        );
        assert!(
            h.add(Side::Ask, 101, 1000).1.is_empty(),
            "500 vs 1400 = -0.474"
        );
        let (_, s) = h.add(Side::Ask, 101, 600); // 500 vs 2000 = -0.6
        assert_eq!((s.len(), s[0].side), (1, Some(Side::Ask)));
    }
}
