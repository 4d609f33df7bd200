//! Order-book-imbalance taker.
//!
//! The idea: when the resting size on the top levels of one side far outweighs the other, the
//! price tends to move toward the thin side, so take liquidity in the direction of the
//! imbalance. It signals once on entering an imbalanced state (buy when the imbalance rises to
//! `threshold` or above, sell when it falls to `-threshold` or below) and again only after the
//! imbalance has come back inside `±threshold·reset` and crossed out again, so a persistent
//! imbalance is one signal, not one per book update.

use serde::Deserialize;
use ticklane_engine::indicators::book::imbalance;
use ticklane_engine::strategy::{Ctx, Signal, SignalKind, Strategy};
use ticklane_engine::Side;

use crate::per_instr::PerInstr;

/// Configuration.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ObiConfig {
    /// Levels per side summed into the imbalance.
    pub levels: usize,
    /// Imbalance in (0, 1] that triggers a signal.
    pub threshold: f64,
    /// Fraction of `threshold` the imbalance must fall back within before the next signal.
    pub reset: f64,
}

impl Default for ObiConfig {
    fn default() -> Self {
        ObiConfig {
            levels: 3,
            threshold: 0.6,
            reset: 0.5,
        }
    }
}

/// The strategy.
#[derive(Clone, Debug, Default)]
pub struct ObiTaker {
    cfg: ObiConfig,
    /// Per instrument: the side of the last signal while still armed-out, or None when reset.
    state: PerInstr<Option<Side>>,
}

impl ObiTaker {
    /// With `cfg`.
    pub fn new(cfg: ObiConfig) -> Self {
        ObiTaker {
            cfg,
            state: PerInstr::default(),
        }
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
            }
            None if x <= -self.cfg.threshold => {
                *st = Some(Side::Ask);
                ctx.signal(Signal {
                    kind: SignalKind::Take,
                    side: Some(Side::Ask),
                    value: x,
                });
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
        let mut h = Harness::new(ObiTaker::new(ObiConfig {
            levels: 1,
            threshold: 0.6,
            reset: 0.5,
        }));
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
