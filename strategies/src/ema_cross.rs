//! EMA crossover on the microprice.
//!
//! The idea: the microprice (the mid tilted toward the thinner side) is a better short-term
//! fair value than the mid; when its fast EMA crosses above its slow EMA, short-term momentum
//! turned up: buy; crossing below: sell. EMAs update on every book change that moves the
//! microprice; a signal fires only on a cross, with the EMA gap in ticks as its value.
//!
//! Orders: with each signal, a market (IOC) order of `size` lots in its direction (a buy on a
//! cross up, a sell on a cross down), unless it would take the position beyond `max_position`
//! (0 = signals only). So a long position built on crosses up is sold down again by crosses
//! down, and no cross ever builds more than `max_position` either way.

use serde::Deserialize;
use ticklane_engine::config::{Range, RangeError};
use ticklane_engine::indicators::book::microprice;
use ticklane_engine::indicators::ma::Ema;
use ticklane_engine::strategy::{Ctx, Signal, SignalKind, Strategy};
use ticklane_engine::Side;

use crate::orders::market_within;

use crate::limits;
use crate::per_instr::PerInstr;

/// Configuration. Each key's valid range is the associated constant of its name in capitals,
/// checked by [`validate`](Self::validate) when the registry builds the strategy.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EmaCrossConfig {
    /// Fast EMA length, in microprice updates ([`LENGTH`](Self::LENGTH): 1..=1000000).
    pub fast: usize,
    /// Slow EMA length, in microprice updates ([`LENGTH`](Self::LENGTH): 1..=1000000).
    pub slow: usize,
    /// Lots per market order sent with a signal ([`SIZE`](crate::limits::SIZE)).
    pub size: u64,
    /// Largest absolute position the orders may build, lots (0: send no orders)
    /// ([`MAX_POSITION`](crate::limits::MAX_POSITION)).
    pub max_position: i64,
}

impl EmaCrossConfig {
    /// Valid `fast` and `slow` (an EMA keeps one value whatever its length; past a million
    /// updates its weight per update is below 2e-6, a line that no longer moves).
    pub const LENGTH: Range<usize> = Range::new(1, 1_000_000, "EMA length, microprice updates");

    /// Checks every key against its range.
    ///
    /// # Errors
    /// The first key out of range.
    pub fn validate(&self) -> Result<(), RangeError> {
        Self::LENGTH.check("fast", self.fast)?;
        Self::LENGTH.check("slow", self.slow)?;
        limits::SIZE.check("size", self.size)?;
        limits::MAX_POSITION.check("max_position", self.max_position)?;
        Ok(())
    }
}

impl Default for EmaCrossConfig {
    fn default() -> Self {
        EmaCrossConfig {
            fast: 20,
            slow: 100,
            size: 100,
            max_position: 500,
        }
    }
}

#[derive(Clone, Debug)]
struct State {
    fast: Ema,
    slow: Ema,
    last_px: f64,
    above: Option<bool>,
    /// The last client id used.
    id: u64,
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
            id: 0,
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
            market_within(ctx, &mut st.id, side, cfg.size, cfg.max_position);
        }
        st.above = Some(above);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::Harness;
    use ticklane_engine::strategy::OrderIntent;

    /// Worked by hand with fast = 2 (alpha 2/3, seeded by the mean of 2) and slow = 3 (alpha 1/2,
    /// seeded by the mean of 3); equal sizes, so the microprice is the mid.
    #[test]
    fn signals_on_the_cross_only() {
        let mut h = Harness::new(|| {
            EmaCross::new(EmaCrossConfig {
                fast: 2,
                slow: 3,
                ..EmaCrossConfig::default()
            })
        });
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
        // With the signal, a market sell of the default 100 lots (flat, within 500).
        assert_eq!(
            h.orders,
            vec![OrderIntent {
                client_id: 1,
                side: Side::Ask,
                px: None,
                qty: ticklane_engine::Qty(100),
                tif: ticklane_engine::strategy::Tif::Ioc,
            }]
        );
        // Cross back up while short 450: a buy of 100 (to -350) is within the limit.
        h.position = -450;
        let (_, s) = h.add(Side::Bid, 104, 100); // mp 104.5: fast 104.284 > slow 104.25
        assert_eq!(s[0].side, Some(Side::Bid));
        assert_eq!(
            (h.orders.len(), h.orders[1].side, h.orders[1].client_id),
            (2, Side::Bid, 2)
        );
    }

    #[test]
    fn orders_stay_within_max_position_and_zero_means_signals_only() {
        for (max_position, position, orders) in [(500, -450, 0), (0, 0, 0), (500, 0, 1)] {
            let mut h = Harness::new(|| {
                EmaCross::new(EmaCrossConfig {
                    fast: 2,
                    slow: 3,
                    max_position,
                    ..EmaCrossConfig::default()
                })
            });
            h.position = position;
            h.add(Side::Bid, 100, 100);
            h.add(Side::Ask, 110, 100);
            h.add(Side::Ask, 106, 100);
            h.add(Side::Bid, 102, 100);
            let (bid104, _) = h.add(Side::Bid, 104, 100);
            h.add(Side::Ask, 105, 100);
            assert_eq!(h.delete(bid104).len(), 1, "the cross down signals");
            // A sell of 100 from -450 would reach -550.
            assert_eq!(
                h.orders.len(),
                orders,
                "max {max_position}, position {position}"
            );
        }
    }
}
