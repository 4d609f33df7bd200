//! Maker/taker fees, in basis points of notional and per lot; negative values are rebates.
//!
//! Money is integer: [`super::ledger::MONEY_PER_TICK_LOT`] money units make one price tick
//! times one lot, fine enough that a fee of a thousandth of a basis point, or of a
//! ten-millionth of a tick per lot, is exact.

use super::ledger::MONEY_PER_TICK_LOT;
use super::Liquidity;
use crate::{Px, Qty};

/// A fee schedule in exact integer units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fees {
    /// Maker fee, thousandths of a basis point of notional (negative: rebate).
    pub maker_millibps: i64,
    /// Taker fee, thousandths of a basis point of notional.
    pub taker_millibps: i64,
    /// Maker fee per lot, money units.
    pub maker_per_lot: i64,
    /// Taker fee per lot, money units.
    pub taker_per_lot: i64,
}

impl Fees {
    /// From the units people write: basis points, and price ticks per lot (e.g. an ITCH tick is
    /// $0.0001, so a $0.0030-per-share take fee is `taker_per_lot_ticks = 30`). Rounded to the
    /// nearest representable unit.
    ///
    /// ```
    /// use ticklane_engine::exec::fees::Fees;
    /// use ticklane_engine::exec::Liquidity;
    /// use ticklane_engine::{Px, Qty};
    /// // Maker rebate of 0.2 bps; taker 1 bps plus 30 ticks a share.
    /// let f = Fees::from_decimal(-0.2, 1.0, 0.0, 30.0);
    /// // 100 shares at 1,000,000 ticks ($100): notional 1e8 tick-lots; 1 bps = 10,000 tick-lots,
    /// // plus 3,000 tick-lots per-share fee; in money units (1e7 per tick-lot):
    /// assert_eq!(f.fee(Liquidity::Taker, Px(1_000_000), Qty(100)), 13_000 * 10_000_000);
    /// assert_eq!(f.fee(Liquidity::Maker, Px(1_000_000), Qty(100)), -2_000 * 10_000_000);
    /// ```
    pub fn from_decimal(
        maker_bps: f64,
        taker_bps: f64,
        maker_per_lot_ticks: f64,
        taker_per_lot_ticks: f64,
    ) -> Self {
        let m = MONEY_PER_TICK_LOT as f64;
        Fees {
            maker_millibps: (maker_bps * 1000.0).round() as i64,
            taker_millibps: (taker_bps * 1000.0).round() as i64,
            maker_per_lot: (maker_per_lot_ticks * m).round() as i64,
            taker_per_lot: (taker_per_lot_ticks * m).round() as i64,
        }
    }

    /// The fee for one fill, in money units (negative: a rebate).
    #[inline]
    pub fn fee(&self, liq: Liquidity, px: Px, qty: Qty) -> i128 {
        let (bps, per_lot) = match liq {
            Liquidity::Maker => (self.maker_millibps, self.maker_per_lot),
            Liquidity::Taker => (self.taker_millibps, self.taker_per_lot),
        };
        // notional (money) = px * qty * 1e7; fee = notional * (millibps / 1e3) / 1e4
        //                  = px * qty * millibps, exactly, because 1e7 / 1e7 = 1.
        let q = i128::from(qty.0);
        i128::from(px.0) * q * i128::from(bps) * MONEY_PER_TICK_LOT / 10_000_000
            + q * i128::from(per_lot)
    }
}
