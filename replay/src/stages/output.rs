//! What the book stages produce: one [`Output`] per reported change (top of book, trade,
//! status, instrument, signal, fill, order update), with the input sequence number it belongs
//! to. Outputs cross rings between threads and are merged back into input order before the
//! sinks (digest, CSV, signals, recorder) see them.

use ticklane_engine::event::StatusKind;
use ticklane_engine::exec::sim::SimOut;
use ticklane_engine::exec::Liquidity;
use ticklane_engine::strategy::Signal;
use ticklane_engine::{InstrumentIdx, Nanos, Px, Qty, Side};

/// What a trade output reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TradeKind {
    /// Execution at the resting order's price (ITCH `E`).
    Execute,
    /// Execution with its own price (ITCH `C`); `printable` says whether it counts as volume.
    ExecuteAtPx {
        /// Counts toward volume.
        printable: bool,
    },
    /// Trade against a non-displayed order (ITCH `P`).
    NonDisplayed,
    /// Auction cross (ITCH `Q`).
    Cross,
    /// A price-level venue's trade print, with the side of the resting (maker) order.
    Print {
        /// The maker's side.
        resting: Side,
    },
}

impl TradeKind {
    pub(crate) fn code(self) -> u64 {
        match self {
            TradeKind::Execute => 1,
            TradeKind::ExecuteAtPx { .. } => 2,
            TradeKind::NonDisplayed => 3,
            TradeKind::Cross => 4,
            TradeKind::Print { .. } => 5,
        }
    }
}

/// A result record of the book stage.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OutputKind {
    /// The instrument's best bid/ask price or size changed: `[(bid px, qty), (ask px, qty)]`,
    /// `(0, 0)` for an empty side.
    Bbo([(i64, u64); 2]),
    /// A trade.
    Trade {
        /// Price.
        px: Px,
        /// Quantity.
        qty: Qty,
        /// Which kind.
        kind: TradeKind,
    },
    /// A status change.
    Status {
        /// Kind of status.
        kind: StatusKind,
        /// Venue code.
        code: u8,
    },
    /// An instrument definition.
    Instrument([u8; 8]),
    /// An instrument of a venue naming instruments by longer strings (zero padded).
    Symbol([u8; 24]),
    /// A strategy's signal.
    Signal(Signal),
    /// A fill of one of the strategy's orders at the simulated exchange (`ts` = when).
    Fill {
        /// The order's client id.
        client_id: u64,
        /// Fill price.
        px: Px,
        /// Fill quantity.
        qty: Qty,
        /// Maker fills: event time from joining the queue to the fill.
        queue_wait: u64,
        /// Response latency: the strategy hears of it this many ns later.
        response: u32,
        /// Buy ([`Side::Bid`]) or sell.
        side: Side,
        /// Maker or taker.
        liquidity: Liquidity,
    },
    /// Any other change of one of the strategy's orders (accepted, modified, cancelled,
    /// rejected), with [`ticklane_engine::exec::OrderStatus::code`].
    Order {
        /// The order's client id.
        client_id: u64,
        /// Quantity still working.
        leaves: Qty,
        /// Status code.
        code: u8,
        /// The order's side.
        side: Side,
    },
    /// Pipeline bookkeeping: a shard has sent everything up to `seq` (never from inline runs;
    /// ignored by the output stage).
    Watermark,
}

/// One output with the input sequence number, time and instrument it belongs to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Output {
    /// Sequence number of the input message that caused it.
    pub seq: u64,
    /// Exchange time of that message.
    pub ts: Nanos,
    /// Instrument.
    pub instr: InstrumentIdx,
    /// What.
    pub kind: OutputKind,
    /// Latency stamp: when the causing message entered the pipeline (monotonic ns; 0 inline).
    /// Never part of the digest.
    pub stamp: u64,
}

impl Output {
    /// A watermark for `seq`.
    pub fn watermark(seq: u64) -> Self {
        Output {
            seq,
            ts: Nanos(0),
            instr: InstrumentIdx(0),
            kind: OutputKind::Watermark,
            stamp: 0,
        }
    }
}

const _: () = assert!(
    std::mem::size_of::<Output>() <= 72,
    "Output stays small: it crosses a ring"
);

/// The output for a simulator report about an event of sequence `seq`.
#[inline]
pub fn exec_output(seq: u64, at: Nanos, instr: InstrumentIdx, so: SimOut) -> Output {
    let kind = match so {
        SimOut::Fill(f) => OutputKind::Fill {
            client_id: f.client_id,
            px: f.px,
            qty: f.qty,
            queue_wait: f.queue_wait,
            response: f.response,
            side: f.side,
            liquidity: f.liquidity,
        },
        SimOut::Status {
            client_id,
            status,
            side,
            leaves,
        } => OutputKind::Order {
            client_id,
            leaves,
            code: status.code(),
            side,
        },
    };
    Output {
        seq,
        ts: at,
        instr,
        kind,
        stamp: 0,
    }
}
