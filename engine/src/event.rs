//! The normalized event: one `Copy` value of at most one cache line that every feed decodes into
//! and every stage consumes.
//!
//! The header says when and where (exchange and receive time, the source's sequence number, the
//! instrument, the source); the body says what. Book-affecting bodies mirror the operations an
//! order-by-order (L3) feed can express; [`Body::Level`] carries price-level (L2) updates.

use crate::{InstrumentIdx, Nanos, OrderId, Px, Qty, Side};

/// Identifies the feed or file an event came from, for deterministic merges `(ts, source, seq)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId(pub u16);

/// When and where an event happened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Exchange timestamp (source epoch; see [`Nanos`]).
    pub ts_exch: Nanos,
    /// Receive timestamp: when the bytes reached us (live), or the capture's receive time.
    /// Zero when the source has none (an ITCH file).
    pub ts_recv: Nanos,
    /// The source's sequence number for this message (MoldUDP64 sequence, file message index).
    pub seq: u64,
    /// Dense instrument index (ITCH stock locate).
    pub instr: InstrumentIdx,
    /// Which feed or file produced it.
    pub source: SourceId,
    /// [`Header::MORE`]: more events of the same venue message follow (an L2 message that sets
    /// several levels becomes one event per level; its book is consistent again after the
    /// last). Zero for a message that is one event.
    pub flags: u8,
}

impl Header {
    /// Flag: the venue message this event belongs to continues in the next event.
    pub const MORE: u8 = 1;

    /// Whether this event ends its venue message (the book may be reported after it).
    #[inline]
    pub fn ends_message(&self) -> bool {
        self.flags & Self::MORE == 0
    }
}

/// What kind of status change a [`Body::Status`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum StatusKind {
    /// Market-wide system event (ITCH `S`: O, S, Q, M, E, C).
    System,
    /// Instrument trading state (ITCH `H`: H halted, P paused, Q quotation only, T trading).
    Trading,
    /// Venue-specific operational halt (ITCH `h`: H halted, T resumed).
    OperationalHalt,
    /// Market-wide circuit breaker breached (ITCH `W`: level 1, 2 or 3).
    CircuitBreaker,
    /// Short-sale restriction (ITCH `Y`: 0 none, 1 in effect, 2 remains in effect).
    RegSho,
}

/// What happened. Every variant is plain data; the largest fits in 32 bytes with its tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// A new resting order.
    Add {
        /// Exchange order reference.
        order_id: OrderId,
        /// Limit price.
        px: Px,
        /// Displayed quantity.
        qty: Qty,
        /// Side it rests on.
        side: Side,
    },
    /// Cancel-replace: `old_id` leaves the book, `new_id` joins it at `px` with `qty`, on the
    /// same side and at the back of the queue (ITCH `U`).
    Replace {
        /// The order being replaced.
        old_id: OrderId,
        /// Its replacement's reference.
        new_id: OrderId,
        /// The replacement's price.
        px: Px,
        /// The replacement's quantity (ITCH share counts are 32-bit; keeps `Event` in one line).
        qty: u32,
    },
    /// Partial cancel: `qty` leaves the resting order (ITCH `X`, LOBSTER type 2).
    Reduce {
        /// The order being reduced.
        order_id: OrderId,
        /// Quantity cancelled.
        qty: Qty,
    },
    /// The whole order leaves the book (ITCH `D`, LOBSTER type 3).
    Delete {
        /// The order being deleted.
        order_id: OrderId,
    },
    /// Execution against a resting order at its own price (ITCH `E`, LOBSTER type 4).
    Execute {
        /// The resting order.
        order_id: OrderId,
        /// Quantity executed.
        qty: Qty,
    },
    /// Execution against a resting order at a price of its own (ITCH `C`).
    ExecuteAtPx {
        /// The resting order.
        order_id: OrderId,
        /// Quantity executed.
        qty: Qty,
        /// The execution price (may differ from the order's limit).
        px: Px,
        /// Whether the print counts toward volume (ITCH `C` printable flag).
        printable: bool,
    },
    /// A trade that does not touch the displayed book (ITCH `P`, LOBSTER type 5).
    Trade {
        /// Trade price.
        px: Px,
        /// Trade quantity.
        qty: Qty,
        /// Side of the resting (non-displayed) order, when known.
        side: Option<Side>,
    },
    /// An auction cross (ITCH `Q`).
    Cross {
        /// Cross price.
        px: Px,
        /// Shares matched in the cross.
        qty: Qty,
        /// ITCH cross type: O opening, C closing, H halt/IPO, I intraday.
        cross_type: u8,
    },
    /// A previously reported execution was broken (ITCH `B`).
    TradeBreak {
        /// The match number of the broken execution.
        match_id: u64,
    },
    /// An L2 price level now holds `qty` (0 removes the level).
    Level {
        /// Side of the level.
        side: Side,
        /// Level price.
        px: Px,
        /// New total quantity at the level.
        qty: Qty,
    },
    /// The instrument's book is emptied.
    Clear,
    /// The instrument is defined (ITCH Stock Directory): its symbol, space padded. Carried
    /// through the pipeline so every stage downstream can name it.
    Instrument {
        /// Symbol bytes as on the wire (ASCII, space padded).
        symbol: [u8; 8],
    },
    /// A trading-state or system status change; `code` is the venue's code byte.
    Status {
        /// What kind of status.
        kind: StatusKind,
        /// The venue's code (an ASCII letter or digit for ITCH).
        code: u8,
    },
    /// A book snapshot starts; the following `Level`/`Add` events rebuild the book.
    SnapshotBegin,
    /// The snapshot is complete; the book is consistent again (synced).
    SnapshotEnd,
    /// The book can no longer be trusted (a sequence gap, a lost connection, a checksum that
    /// did not match): it is unsynced until the next [`Body::SnapshotEnd`]; `clear` empties it.
    Stale {
        /// Whether the book's levels are dropped too.
        clear: bool,
    },
    /// The venue keeps only this many levels per side (a depth-limited subscription): levels
    /// beyond it leave the book at the end of every message.
    Depth {
        /// Levels per side.
        levels: u16,
    },
    /// The venue's checksum of its top ten levels per side (CRC32 over the levels' prices and
    /// quantities written as decimal digits with the venue's decimals, asks then bids), to
    /// verify against the book once the message is applied; a mismatch makes the book stale.
    Checksum {
        /// The venue's value.
        crc: u32,
        /// Decimals of prices as the venue writes them.
        px_decimals: u8,
        /// Decimals of quantities as the venue writes them.
        qty_decimals: u8,
    },
    /// The checksum of the message could not be verified (the venue's decimals are unknown).
    ChecksumUnverified,
    /// The venue's own statement of one side's best level (a ticker), to compare with the book
    /// as it stands: the bid first, then the ask, which closes the comparison.
    TopCheck {
        /// Which side.
        side: Side,
        /// Best price.
        px: Px,
        /// Size at it (compared only when `with_qty`).
        qty: Qty,
        /// Whether the size is compared too.
        with_qty: bool,
    },
    /// An instrument of a venue that names instruments by strings of up to 24 bytes (ASCII,
    /// zero padded): what the instrument index of the header stands for.
    Symbol {
        /// The venue's name for it.
        name: [u8; 24],
    },
}

/// A normalized market-data event: header plus body, at most one cache line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// When and where.
    pub hdr: Header,
    /// What.
    pub body: Body,
}

const _: () = assert!(
    std::mem::size_of::<Event>() <= 64,
    "Event must fit one cache line"
);

impl Body {
    /// Whether applying this body can change an order book.
    pub fn affects_book(&self) -> bool {
        matches!(
            self,
            Body::Add { .. }
                | Body::Replace { .. }
                | Body::Reduce { .. }
                | Body::Delete { .. }
                | Body::Execute { .. }
                | Body::ExecuteAtPx { .. }
                | Body::Level { .. }
                | Body::Clear
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_is_one_cache_line_at_most() {
        assert!(std::mem::size_of::<Event>() <= 64);
        assert!(std::mem::size_of::<Body>() <= 32);
    }

    #[test]
    fn book_bodies_are_classified() {
        assert!(Body::Delete {
            order_id: OrderId(1)
        }
        .affects_book());
        assert!(!Body::TradeBreak { match_id: 1 }.affects_book());
        assert!(!Body::Trade {
            px: Px(1),
            qty: Qty(1),
            side: None
        }
        .affects_book());
    }
}
