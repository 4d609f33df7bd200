//! The execution simulator: what happens to a strategy's orders in a backtest.
//!
//! A strategy's order actions travel to a simulated exchange after an *entry latency*, are
//! matched there against the real book of the replayed data (taker orders walk the book; resting
//! orders wait in a queue whose position a [`queue::QueueModel`] tracks), and the strategy hears
//! of the outcome only after a *response latency*, through the strategy's `on_order` hook.
//! Fills are priced exactly, charged [`fees::Fees`], and booked by a [`ledger::Ledger`]
//! (position, cash, realized and unrealized PnL marked at mid).
//!
//! Everything runs on event time, per instrument: an action that reaches the exchange at time
//! `t` is handled just before the instrument's first event at or after `t`, so a backtest is
//! deterministic and gives the same result whether its instruments share one thread or are
//! split across book shards.

pub mod fees;
pub mod latency;
pub mod ledger;
pub mod queue;
pub mod sim;

use crate::{Nanos, Px, Qty, Side};

/// Whether a fill added liquidity (the order was resting) or took it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Liquidity {
    /// The order rested and was hit.
    Maker,
    /// The order crossed the spread on arrival.
    Taker,
}

impl Liquidity {
    /// `"maker"` or `"taker"`, as the trade log writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Liquidity::Maker => "maker",
            Liquidity::Taker => "taker",
        }
    }
}

/// Why the simulated exchange refused an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RejectReason {
    /// A post-only order (or a post-only order's modification) would have traded on arrival.
    WouldCross = 1,
    /// A cancel or modify named an order that is not resting (never accepted, already filled or
    /// cancelled: a cancel that arrives after the fill is rejected with this).
    UnknownOrder = 2,
    /// A new order reused the client id of an order that is still working.
    DuplicateClientId = 3,
    /// Zero quantity, or a limit price that is not positive.
    InvalidOrder = 4,
    /// The instrument already has as many working orders as the simulator allows.
    TooManyOrders = 5,
}

impl RejectReason {
    /// Lower-case name, for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::WouldCross => "would_cross",
            RejectReason::UnknownOrder => "unknown_order",
            RejectReason::DuplicateClientId => "duplicate_client_id",
            RejectReason::InvalidOrder => "invalid_order",
            RejectReason::TooManyOrders => "too_many_orders",
        }
    }
}

/// What happened to an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// It reached the exchange and rests (or, for a taker order, is being matched).
    Accepted,
    /// A modification was applied.
    Modified,
    /// Part of it traded; `leaves` remain.
    PartiallyFilled,
    /// All of it traded.
    Filled,
    /// It left the book unfilled (a cancel, or the unfilled rest of an IOC or market order).
    Cancelled,
    /// The action was refused.
    Rejected(RejectReason),
}

impl OrderStatus {
    /// A stable code, for digests and reports.
    pub fn code(self) -> u8 {
        match self {
            OrderStatus::Accepted => 1,
            OrderStatus::Modified => 2,
            OrderStatus::PartiallyFilled => 3,
            OrderStatus::Filled => 4,
            OrderStatus::Cancelled => 5,
            OrderStatus::Rejected(r) => 0x10 | r as u8,
        }
    }

    /// Lower-case name, for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Accepted => "accepted",
            OrderStatus::Modified => "modified",
            OrderStatus::PartiallyFilled => "partially_filled",
            OrderStatus::Filled => "filled",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Rejected(_) => "rejected",
        }
    }
}

/// An order update as the strategy receives it (after the response latency).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderUpdate {
    /// The strategy's id for the order.
    pub client_id: u64,
    /// What happened.
    pub status: OrderStatus,
    /// The order's side.
    pub side: Side,
    /// The order's limit price (`None` for a market order).
    pub px: Option<Px>,
    /// For fills: the price and quantity of this fill.
    pub last_px: Px,
    /// For fills: the quantity of this fill.
    pub last_qty: Qty,
    /// For fills: whether it was maker or taker.
    pub liquidity: Option<Liquidity>,
    /// Quantity filled so far.
    pub filled: Qty,
    /// Quantity still working.
    pub leaves: Qty,
    /// When it happened at the exchange (event time).
    pub ts_exch: Nanos,
}

/// One fill, as the simulator reports it to the ledger and the trade log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    /// The strategy's id for the order.
    pub client_id: u64,
    /// Buy ([`Side::Bid`]) or sell ([`Side::Ask`]).
    pub side: Side,
    /// Fill price.
    pub px: Px,
    /// Fill quantity.
    pub qty: Qty,
    /// Maker or taker.
    pub liquidity: Liquidity,
    /// Maker fills: event time from joining the queue to this fill; 0 for taker fills.
    pub queue_wait: u64,
    /// Response latency: the strategy hears of the fill this long after it happened.
    pub response: u32,
}
