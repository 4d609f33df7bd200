//! What a strategy can ask for: signals and order actions. Its own module so that the
//! execution simulator, which takes the order actions, and the strategy API, which produces
//! them, both depend on it rather than on each other.

use crate::{Px, Qty, Side};

/// What a signal means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SignalKind {
    /// Take liquidity now on `side` (buy = [`Side::Bid`], sell = [`Side::Ask`]).
    Take = 1,
    /// Quote: rest liquidity on `side` (value = price in ticks).
    Quote = 2,
    /// Flatten the position.
    Exit = 3,
    /// Informational (a feature crossed a threshold, say).
    Alert = 4,
}

impl SignalKind {
    /// Lower-case name, for sinks.
    pub fn as_str(self) -> &'static str {
        match self {
            SignalKind::Take => "take",
            SignalKind::Quote => "quote",
            SignalKind::Exit => "exit",
            SignalKind::Alert => "alert",
        }
    }
}

/// A signal: what a strategy concluded, with a strength or price in `value`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Signal {
    /// What it means.
    pub kind: SignalKind,
    /// Buy ([`Side::Bid`]) or sell ([`Side::Ask`]), when it has a direction.
    pub side: Option<Side>,
    /// Strength, score or price, as the strategy documents.
    pub value: f64,
}

/// Time in force of an order intent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tif {
    /// Rests until cancelled.
    Gtc,
    /// Immediate or cancel.
    Ioc,
    /// Rests only if it would not trade on arrival.
    PostOnly,
}

/// An order a strategy wants placed (executed by the execution simulator or a gateway).
///
/// A market order is `px: None` (it takes what the book offers and the rest is cancelled,
/// whatever the `tif`); a limit order with [`Tif::Gtc`] takes what crosses and rests the rest;
/// [`Tif::Ioc`] takes what crosses and cancels the rest; [`Tif::PostOnly`] is rejected if it
/// would cross on arrival.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderIntent {
    /// The strategy's id for the order: unique among its working orders on the instrument;
    /// updates, cancels and modifies name it.
    pub client_id: u64,
    /// Buy ([`Side::Bid`]) or sell ([`Side::Ask`]).
    pub side: Side,
    /// Limit price; `None` for a market order.
    pub px: Option<Px>,
    /// Quantity.
    pub qty: Qty,
    /// Time in force.
    pub tif: Tif,
}

/// One thing a strategy wants done.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    /// Emit a signal.
    Signal(Signal),
    /// Place an order.
    Order(OrderIntent),
    /// Cancel a working order.
    Cancel {
        /// The order's client id.
        client_id: u64,
    },
    /// Change a working order's price and remaining quantity. Reducing the quantity at the same
    /// price keeps the order's place in the queue; anything else sends it to the back.
    Modify {
        /// The order's client id.
        client_id: u64,
        /// New limit price.
        px: Px,
        /// New remaining quantity.
        qty: Qty,
    },
}
