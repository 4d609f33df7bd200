//! Book side.

/// Which side of the book an order rests on (or, for a trade, the side of the resting order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Side {
    /// Bid: a buy order.
    Bid = 0,
    /// Ask: a sell order.
    Ask = 1,
}

impl Side {
    /// The other side.
    pub fn opposite(self) -> Side {
        match self {
            Side::Bid => Side::Ask,
            Side::Ask => Side::Bid,
        }
    }

    /// 0 for bids, 1 for asks: an index into per-side arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}
