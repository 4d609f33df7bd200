//! Mean reversion on the microprice z-score.
//!
//! The idea: over short horizons the microprice oscillates around its recent mean; when it
//! strays `entry` standard deviations away, bet on the way back (sell high, buy low), and exit
//! when it has come back within `exit` deviations. The z-score is over the last `window`
//! microprice changes.
//!
//! Orders: on entry, a market (IOC) order of `size` lots in the signal's direction (a sell when
//! z is high, a buy when it is low), unless it would take the position beyond `max_position`;
//! on exit, a market order that flattens the position the strategy knows of (all of it, in
//! one order). `max_position = 0` sends no orders (signals only).

use serde::Deserialize;
use ticklane_engine::config::{Range, RangeError};
use ticklane_engine::indicators::book::microprice;
use ticklane_engine::indicators::rolling::RollingStd;
use ticklane_engine::strategy::{Ctx, Signal, SignalKind, Strategy};
use ticklane_engine::Side;

use crate::orders::market_within;

use crate::limits;
use crate::per_instr::PerInstr;

/// Configuration. Each key's valid range is the associated constant of its name in capitals,
/// checked by [`validate`](Self::validate) when the registry builds the strategy.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MeanReversionConfig {
    /// Microprice changes in the z-score window ([`WINDOW`](Self::WINDOW): 2..=10000).
    pub window: usize,
    /// |z| at or above which to enter ([`ENTRY`](Self::ENTRY): 0.1..=100).
    pub entry: f64,
    /// |z| at or below which to exit ([`EXIT`](Self::EXIT): 0..=100).
    pub exit: f64,
    /// Lots per entry order ([`SIZE`](crate::limits::SIZE)).
    pub size: u64,
    /// Largest absolute position the orders may build, lots (0: send no orders)
    /// ([`MAX_POSITION`](crate::limits::MAX_POSITION)).
    pub max_position: i64,
}

impl MeanReversionConfig {
    /// Valid `window`: the window keeps 8 bytes per change for every instrument traded, so the
    /// largest costs 80 KB an instrument (640 MB over 8,000 ITCH symbols); a standard deviation
    /// needs two values.
    pub const WINDOW: Range<usize> =
        Range::new(2, 10_000, "microprice changes in the z-score window");
    /// Valid `entry`.
    pub const ENTRY: Range<f64> = Range::new(0.1, 100.0, "|z| to enter");
    /// Valid `exit`.
    pub const EXIT: Range<f64> = Range::new(0.0, 100.0, "|z| to exit");

    /// Checks every key against its range.
    ///
    /// # Errors
    /// The first key out of range.
    pub fn validate(&self) -> Result<(), RangeError> {
        Self::WINDOW.check("window", self.window)?;
        Self::ENTRY.check("entry", self.entry)?;
        Self::EXIT.check("exit", self.exit)?;
        limits::SIZE.check("size", self.size)?;
        limits::MAX_POSITION.check("max_position", self.max_position)?;
        Ok(())
    }
}

impl Default for MeanReversionConfig {
    fn default() -> Self {
        MeanReversionConfig {
            window: 100,
            entry: 2.0,
            exit: 0.5,
            size: 100,
            max_position: 500,
        }
    }
}

#[derive(Clone, Debug)]
struct State {
    z: RollingStd,
    last_px: f64,
    open: Option<Side>,
    /// The last client id used.
    id: u64,
}

/// The strategy.
#[derive(Clone, Debug, Default)]
pub struct MeanReversion {
    cfg: MeanReversionConfig,
    state: PerInstr<State>,
}

impl MeanReversion {
    /// With `cfg`.
    pub fn new(cfg: MeanReversionConfig) -> Self {
        MeanReversion {
            cfg,
            state: PerInstr::default(),
        }
    }
}

impl Strategy for MeanReversion {
    fn name(&self) -> &'static str {
        "mean_reversion"
    }

    fn on_book(&mut self, ctx: &mut Ctx<'_>) {
        let Some(mp) = microprice(&ctx.book.top()) else {
            return;
        };
        let cfg = &self.cfg;
        let st = self.state.get_or(ctx.instr, || State {
            z: RollingStd::new(cfg.window),
            last_px: f64::NAN,
            open: None,
            id: 0,
        });
        if mp == st.last_px {
            return;
        }
        st.last_px = mp;
        st.z.update(mp);
        let Some(z) = st.z.zscore() else { return };
        match st.open {
            None if z >= cfg.entry => {
                st.open = Some(Side::Ask);
                ctx.signal(Signal {
                    kind: SignalKind::Take,
                    side: Some(Side::Ask),
                    value: z,
                });
                market_within(ctx, &mut st.id, Side::Ask, cfg.size, cfg.max_position);
            }
            None if z <= -cfg.entry => {
                st.open = Some(Side::Bid);
                ctx.signal(Signal {
                    kind: SignalKind::Take,
                    side: Some(Side::Bid),
                    value: z,
                });
                market_within(ctx, &mut st.id, Side::Bid, cfg.size, cfg.max_position);
            }
            Some(_) if z.abs() <= cfg.exit => {
                st.open = None;
                ctx.signal(Signal {
                    kind: SignalKind::Exit,
                    side: None,
                    value: z,
                });
                if cfg.max_position > 0 && ctx.position != 0 {
                    let side = if ctx.position > 0 {
                        Side::Ask
                    } else {
                        Side::Bid
                    };
                    let q = ctx.position.unsigned_abs();
                    market_within(ctx, &mut st.id, side, q, cfg.max_position);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::Harness;

    /// Worked by hand with window 3, entry 1.2, exit 0.5 (population std); equal sizes, so the
    /// microprice is the mid.
    #[test]
    fn enters_on_extremes_and_exits_near_the_mean() {
        let mut h = Harness::new(|| {
            MeanReversion::new(MeanReversionConfig {
                window: 3,
                entry: 1.2,
                exit: 0.5,
                ..MeanReversionConfig::default()
            })
        });
        assert!(h.add(Side::Bid, 990, 100).1.is_empty());
        assert!(h.add(Side::Ask, 1010, 100).1.is_empty()); // 1000
        assert!(h.add(Side::Bid, 1000, 100).1.is_empty()); // 1005
        assert!(h.add(Side::Ask, 1008, 100).1.is_empty()); // 1004: [1000 1005 1004] z = 0.463
                                                           // 1007: [1005 1004 1007] mean 1005.333, std 1.2472, z = 1.336 >= 1.2: sell.
        let (b1006, s) = h.add(Side::Bid, 1006, 100);
        assert_eq!(
            (s.len(), s[0].kind, s[0].side),
            (1, SignalKind::Take, Some(Side::Ask))
        );
        // With it, a market sell of 100.
        assert_eq!(
            h.orders
                .iter()
                .map(|o| (o.side, o.qty.0, o.px, o.client_id))
                .collect::<Vec<_>>(),
            vec![(Side::Ask, 100, None, 1)]
        );
        // Say it filled for 60 of the 100.
        h.position = -60;
        assert!(
            (s[0].value - 1.336_306_209_562_122).abs() < 1e-6,
            "{}",
            s[0].value
        );
        assert!(h.delete(b1006).is_empty()); // 1004: z = -0.707
        assert!(h.add(Side::Ask, 1007, 100).1.is_empty()); // 1003.5: z = -0.863
        assert!(h.add(Side::Bid, 1005, 100).1.is_empty()); // 1006: z = 1.389, already short
                                                           // 1005.5: [1003.5 1006 1005.5] mean 1005, std 1.0801, z = 0.463 <= 0.5: exit.
        let (_, s) = h.add(Side::Ask, 1006, 100);
        assert_eq!((s.len(), s[0].kind, s[0].side), (1, SignalKind::Exit, None));
        // The exit flattens what is held: a market buy of 60.
        assert_eq!(
            h.orders
                .iter()
                .map(|o| (o.side, o.qty.0, o.client_id))
                .collect::<Vec<_>>(),
            vec![(Side::Ask, 100, 1), (Side::Bid, 60, 2)]
        );
        assert!(
            (s[0].value - 0.462_910_049_886_275_7).abs() < 1e-6,
            "{}",
            s[0].value
        );
    }
}
