//! EMA crossover on the microprice.
//!
//! The idea: the microprice (the mid tilted toward the thinner side) is a better short-term
//! fair value than the mid; when its fast EMA crosses above its slow EMA, short-term momentum
//! turned up: buy; crossing below: sell. EMAs update on every book change that moves the
//! microprice; a signal fires only on a cross, with the EMA gap in ticks as its value.

use serde::Deserialize;
use ticklane_engine::indicators::book::microprice;
use ticklane_engine::indicators::ma::Ema;
use ticklane_engine::strategy::{Ctx, Signal, SignalKind, Strategy};
use ticklane_engine::Side;

use crate::per_instr::PerInstr;

/// Configuration.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EmaCrossConfig {
    /// Fast EMA length, in microprice updates.
    pub fast: usize,
    /// Slow EMA length, in microprice updates.
    pub slow: usize,
}

impl Default for EmaCrossConfig {
    fn default() -> Self {
        EmaCrossConfig {
            fast: 20,
            slow: 100,
        }
    }
}

#[derive(Clone, Debug)]
struct State {
    fast: Ema,
    slow: Ema,
    last_px: f64,
    above: Option<bool>,
}

/// The strategy.
#[derive(Clone, Debug, Default)]
pub struct EmaCross {
    cfg: EmaCrossConfig,
    state: PerInstr<State>,
}

impl EmaCross {
    /// With `cfg`.
    pub fn new(cfg: EmaCrossConfig) -> Self {
        EmaCross {
            cfg,
            state: PerInstr::default(),
        }
    }
}

impl Strategy for EmaCross {
    fn name(&self) -> &'static str {
        "ema_cross"
    }

    fn on_book(&mut self, ctx: &mut Ctx<'_>) {
        let Some(mp) = microprice(&ctx.book.top()) else {
            return;
        };
        let cfg = &self.cfg;
        let st = self.state.get_or(ctx.instr, || State {
            fast: Ema::new(cfg.fast),
            slow: Ema::new(cfg.slow),
            last_px: f64::NAN,
            above: None,
        });
        if mp == st.last_px {
            return;
        }
        st.last_px = mp;
        st.fast.update(mp);
        st.slow.update(mp);
        let (Some(f), Some(s)) = (st.fast.value(), st.slow.value()) else {
            return;
        };
        if f == s {
            return;
        }
        let above = f > s;
        if st.above.is_some_and(|was| was != above) {
            let side = if above { Side::Bid } else { Side::Ask };
            ctx.signal(Signal {
                kind: SignalKind::Take,
                side: Some(side),
                value: f - s,
            });
        }
        st.above = Some(above);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::Harness;

    /// Worked by hand with fast = 2 (alpha 2/3, seeded by the mean of 2) and slow = 3 (alpha 1/2,
    /// seeded by the mean of 3); equal sizes, so the microprice is the mid.
    #[test]
    fn signals_on_the_cross_only() {
        let mut h = Harness::new(EmaCross::new(EmaCrossConfig { fast: 2, slow: 3 }));
        assert!(h.add(Side::Bid, 100, 100).1.is_empty()); // no microprice yet
        assert!(h.add(Side::Ask, 110, 100).1.is_empty()); // mp 105
        assert!(h.add(Side::Ask, 106, 100).1.is_empty()); // mp 103: fast = 104
        assert!(h.add(Side::Bid, 102, 100).1.is_empty()); // mp 104: fast 104, slow 104: equal
        let (bid104, s) = h.add(Side::Bid, 104, 100); // mp 105: fast 104.667 > slow 104.5: first side
        assert!(s.is_empty());
        assert!(h.add(Side::Ask, 105, 100).1.is_empty()); // mp 104.5: fast 104.556 > slow 104.5
                                                          // Delete the 104 bid: mp (102 + 105) / 2 = 103.5: fast 103.852 < slow 104.0: cross down.
        let s = h.delete(bid104);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].kind, s[0].side), (SignalKind::Take, Some(Side::Ask)));
        assert!(
            (s[0].value - (103.851_851_851_851_85 - 104.0)).abs() < 1e-9,
            "{}",
            s[0].value
        );
    }
}
