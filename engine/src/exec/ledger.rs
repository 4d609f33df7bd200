//! Accounting: position, average price, cash, realized and unrealized PnL marked at mid.
//!
//! All money is `i128` in money units, [`MONEY_PER_TICK_LOT`] of them per price tick times one
//! lot, so fees in fractions of a basis point stay exact and sums are associative (a digest
//! over them is the same on every machine).

use crate::{InstrumentIdx, Px, Qty, Side};

/// Money units per (one price tick × one lot).
pub const MONEY_PER_TICK_LOT: i128 = 10_000_000;

/// One instrument's account.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// Position, lots (positive long).
    pub position: i64,
    /// Cash, money units (starts at 0; buys spend, sells earn, fees cost).
    pub cash: i128,
    /// Cost basis of the open position, money units (always ≥ 0).
    pub cost: i128,
    /// Realized PnL before fees, money units.
    pub realized: i128,
    /// Fees paid (negative: rebates earned), money units.
    pub fees: i128,
    /// Lots traded.
    pub volume: u64,
    /// Notional traded, money units.
    pub notional: i128,
    /// Fills.
    pub fills: u64,
    /// Best bid + best ask (twice the mid), ticks, from the last two-sided top of book.
    pub mid2: Option<i64>,
}

impl Account {
    /// Books a fill of `qty` at `px` on `side` (buy = [`Side::Bid`]) costing `fee`.
    pub fn fill(&mut self, side: Side, px: Px, qty: Qty, fee: i128) {
        let notional = i128::from(px.0) * i128::from(qty.0) * MONEY_PER_TICK_LOT;
        let q = qty.0 as i64;
        let dir: i64 = if side == Side::Bid { 1 } else { -1 };
        self.cash += if dir > 0 { -notional } else { notional } - fee;
        self.fees += fee;
        self.volume += qty.0;
        self.notional += notional;
        self.fills += 1;
        if self.position == 0 || self.position.signum() == dir {
            self.cost += notional;
            self.position += dir * q;
            return;
        }
        // Closing (and maybe flipping): realize against the average cost of what closes.
        let open = self.position.unsigned_abs();
        let close = qty.0.min(open);
        let cost_closed = self.cost * i128::from(close) / i128::from(open);
        let value_closed = i128::from(px.0) * i128::from(close) * MONEY_PER_TICK_LOT;
        self.realized += if self.position > 0 {
            value_closed - cost_closed
        } else {
            cost_closed - value_closed
        };
        self.cost -= cost_closed;
        self.position += dir * close as i64;
        let rest = qty.0 - close;
        if rest > 0 {
            self.position = dir * rest as i64;
            self.cost = i128::from(px.0) * i128::from(rest) * MONEY_PER_TICK_LOT;
        } else if self.position == 0 {
            self.cost = 0;
        }
    }

    /// Value of the position at mid, money units (0 flat, or before any two-sided book).
    pub fn mark_value(&self) -> i128 {
        match self.mid2 {
            Some(m2) => i128::from(self.position) * i128::from(m2) * (MONEY_PER_TICK_LOT / 2),
            None => 0,
        }
    }

    /// Unrealized PnL at mid, money units.
    pub fn unrealized(&self) -> i128 {
        if self.position == 0 || self.mid2.is_none() {
            return 0;
        }
        let signed_cost = if self.position > 0 {
            self.cost
        } else {
            -self.cost
        };
        self.mark_value() - signed_cost
    }

    /// Cash plus the position at mid: PnL net of fees, since cash starts at 0.
    pub fn equity(&self) -> i128 {
        self.cash + self.mark_value()
    }
}

/// Accounts of every instrument, dense by index.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    accounts: Vec<Account>,
}

impl Ledger {
    /// An empty ledger.
    pub fn new() -> Self {
        Ledger::default()
    }

    /// The account of `instr` (created on first use).
    pub fn account_mut(&mut self, instr: InstrumentIdx) -> &mut Account {
        let i = instr.get();
        if self.accounts.len() <= i {
            self.accounts.resize(i + 1, Account::default());
        }
        &mut self.accounts[i]
    }

    /// The account of `instr`, if it traded or was marked.
    pub fn account(&self, instr: InstrumentIdx) -> Option<&Account> {
        self.accounts.get(instr.get())
    }

    /// Marks `instr` at the mid of a top of book (one-sided tops keep the last mid).
    #[inline]
    pub fn mark(&mut self, instr: InstrumentIdx, bid: Option<Px>, ask: Option<Px>) {
        if let (Some(b), Some(a)) = (bid, ask) {
            if let Some(acc) = self.accounts.get_mut(instr.get()) {
                acc.mid2 = Some(b.0 + a.0);
            }
        }
    }

    /// Every account, in instrument order (index, account), skipping untouched ones.
    pub fn accounts(&self) -> impl Iterator<Item = (InstrumentIdx, &Account)> {
        self.accounts
            .iter()
            .enumerate()
            .filter(|(_, a)| a.fills > 0)
            .map(|(i, a)| (InstrumentIdx(i as u32), a))
    }

    /// Sum of every account's equity.
    pub fn equity(&self) -> i128 {
        self.accounts.iter().map(Account::equity).sum()
    }

    /// Sum of positions across instruments, lots (for a single-instrument run: the position).
    pub fn net_position(&self) -> i64 {
        self.accounts.iter().map(|a| a.position).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i128 = MONEY_PER_TICK_LOT;

    #[test]
    fn partial_closes_realize_against_average_cost_and_flips_restart_the_basis() {
        let mut a = Account::default();
        // Buy 100 @ 1000 and 100 @ 1010: average 1005, cost 201,000 tick-lots.
        a.fill(Side::Bid, Px(1000), Qty(100), 0);
        a.fill(Side::Bid, Px(1010), Qty(100), 0);
        assert_eq!((a.position, a.cost), (200, 201_000 * M));
        // Sell 50 @ 1020: realized (1020 - 1005) * 50 = 750.
        a.fill(Side::Ask, Px(1020), Qty(50), 0);
        assert_eq!(
            (a.position, a.realized, a.cost),
            (150, 750 * M, 150_750 * M)
        );
        // Sell 200 @ 1000: closes 150 at (1000 - 1005) * 150 = -750, flips short 50 @ 1000.
        a.fill(Side::Ask, Px(1000), Qty(200), 0);
        assert_eq!((a.position, a.realized, a.cost), (-50, 0, 50_000 * M));
        // Cash: -100,000 - 101,000 + 51,000 + 200,000 = 50,000.
        assert_eq!(a.cash, 50_000 * M);
        // Mark at bid 990 / ask 992 (mid 991): unrealized short (1000 - 991) * 50 = 450;
        // equity = cash + position * mid = 50,000 - 49,550 = 450 = realized + unrealized.
        a.mid2 = Some(990 + 992);
        assert_eq!(a.unrealized(), 450 * M);
        assert_eq!(a.equity(), 450 * M);
    }

    #[test]
    fn fees_come_out_of_cash_and_equity_but_not_realized() {
        let mut a = Account::default();
        a.fill(Side::Bid, Px(100), Qty(10), 3 * M);
        a.fill(Side::Ask, Px(101), Qty(10), -M);
        // Gross realized 10; fees 3 - 1 = 2; equity flat = 10 - 2 = 8.
        assert_eq!(a.realized, 10 * M);
        assert_eq!(a.fees, 2 * M);
        assert_eq!(a.equity(), 8 * M);
        assert_eq!((a.volume, a.fills, a.notional), (20, 2, 2010 * M));
    }

    #[test]
    fn ledger_marks_only_two_sided_tops_and_sums_instruments() {
        let mut l = Ledger::new();
        l.account_mut(InstrumentIdx(2))
            .fill(Side::Bid, Px(100), Qty(1), 0);
        l.account_mut(InstrumentIdx(5))
            .fill(Side::Ask, Px(50), Qty(2), 0);
        l.mark(InstrumentIdx(2), Some(Px(104)), Some(Px(106)));
        l.mark(InstrumentIdx(5), Some(Px(45)), None); // one-sided: no mark
                                                      // 2: -100 + 105 = 5; 5: +100 (no mark yet, position valued at 0).
        assert_eq!(l.equity(), 105 * M);
        l.mark(InstrumentIdx(5), Some(Px(44)), Some(Px(46)));
        assert_eq!(l.equity(), (5 + 100 - 90) * M);
        assert_eq!(l.net_position(), -1);
        assert_eq!(
            l.accounts().map(|(i, _)| i.0).collect::<Vec<_>>(),
            vec![2, 5]
        );
    }
}
