//! ITCH 5.0 messages to normalized engine events, and the symbol table the Stock Directory
//! builds.
//!
//! The instrument index of an ITCH event is its stock locate code: NASDAQ assigns locates densely
//! from 1 each day, so books and counters index flat arrays with it directly. Prices stay in the
//! wire's 1/10000 USD ticks; exchange time is nanoseconds since midnight.

use ticklane_engine::event::StatusKind;
use ticklane_engine::{
    Body, Event, Header, InstrumentIdx, Nanos, OrderId, Px, Qty, Side, SourceId,
};

use super::msg::{Message, Stock};

/// Stock locate → symbol, filled by Stock Directory (`R`) messages.
#[derive(Clone, Debug, Default)]
pub struct SymbolTable {
    by_locate: Vec<Option<Stock>>,
    count: usize,
}

impl SymbolTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `stock` for `locate`; returns `true` when the locate was new.
    pub fn insert(&mut self, locate: u16, stock: Stock) -> bool {
        let i = usize::from(locate);
        if self.by_locate.len() <= i {
            self.by_locate.resize(i + 1, None);
        }
        let new = self.by_locate[i].is_none();
        self.by_locate[i] = Some(stock);
        if new {
            self.count += 1;
        }
        new
    }

    /// The raw 8-byte symbol of `locate`.
    pub fn raw(&self, locate: u16) -> Option<&Stock> {
        self.by_locate
            .get(usize::from(locate))
            .and_then(Option::as_ref)
    }

    /// The symbol of `locate` without its space padding (`None` if unknown or not ASCII).
    pub fn symbol(&self, locate: u16) -> Option<&str> {
        self.raw(locate).and_then(|s| symbol_str(s))
    }

    /// Number of symbols known.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether no symbol is known.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Highest locate slot + 1.
    pub fn capacity(&self) -> usize {
        self.by_locate.len()
    }

    /// `(locate, symbol)` for every known symbol, in locate order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, &str)> + '_ {
        self.by_locate
            .iter()
            .enumerate()
            .filter_map(|(i, s)| Some((i as u16, symbol_str(s.as_ref()?)?)))
    }
}

/// An 8-byte wire symbol as text, without trailing spaces.
pub fn symbol_str(s: &Stock) -> Option<&str> {
    let end = s.iter().rposition(|&b| b != b' ').map_or(0, |p| p + 1);
    std::str::from_utf8(&s[..end]).ok()
}

/// The wire side byte as a [`Side`]: `B` buy → bid, `S` sell → ask.
#[inline]
pub fn side_of(b: u8) -> Option<Side> {
    match b {
        b'B' => Some(Side::Bid),
        b'S' => Some(Side::Ask),
        _ => None,
    }
}

/// Turns ITCH messages into engine events and keeps the symbol table.
#[derive(Debug, Default)]
pub struct Normalizer {
    /// Symbols seen so far.
    pub symbols: SymbolTable,
    source: SourceId,
}

impl Normalizer {
    /// A normalizer stamping `source` on every event.
    pub fn new(source: SourceId) -> Self {
        Normalizer {
            symbols: SymbolTable::new(),
            source,
        }
    }

    /// The event for `msg`, if it has one. Messages that only inform (participant positions,
    /// imbalance indicators, circuit-breaker levels, collars, IPO and DLCR updates) return
    /// `None`; a Stock Directory becomes [`Body::Instrument`] and updates
    /// [`Normalizer::symbols`]. `seq` is the
    /// message's sequence number in its stream, `ts_recv` when it was received (0 for files).
    #[inline]
    pub fn normalize(&mut self, msg: &Message, seq: u64, ts_recv: Nanos) -> Option<Event> {
        let c = msg.common();
        let hdr = Header {
            ts_exch: Nanos(c.timestamp),
            ts_recv,
            seq,
            instr: InstrumentIdx(u32::from(c.stock_locate)),
            source: self.source,
            flags: 0,
        };
        let body = match *msg {
            Message::AddOrder(m) => Body::Add {
                order_id: OrderId(m.order_ref),
                px: Px(i64::from(m.price)),
                qty: Qty(u64::from(m.shares)),
                side: side_of(m.side)?,
            },
            Message::OrderExecuted(m) => Body::Execute {
                order_id: OrderId(m.order_ref),
                qty: Qty(u64::from(m.executed_shares)),
            },
            Message::OrderExecutedWithPrice(m) => Body::ExecuteAtPx {
                order_id: OrderId(m.order_ref),
                qty: Qty(u64::from(m.executed_shares)),
                px: Px(i64::from(m.execution_price)),
                printable: m.printable == b'Y',
            },
            Message::OrderCancel(m) => Body::Reduce {
                order_id: OrderId(m.order_ref),
                qty: Qty(u64::from(m.cancelled_shares)),
            },
            Message::OrderDelete(m) => Body::Delete {
                order_id: OrderId(m.order_ref),
            },
            Message::OrderReplace(m) => Body::Replace {
                old_id: OrderId(m.original_ref),
                new_id: OrderId(m.new_ref),
                px: Px(i64::from(m.price)),
                qty: m.shares,
            },
            Message::Trade(m) => Body::Trade {
                px: Px(i64::from(m.price)),
                qty: Qty(u64::from(m.shares)),
                side: side_of(m.side),
            },
            Message::CrossTrade(m) => Body::Cross {
                px: Px(i64::from(m.cross_price)),
                qty: Qty(m.shares),
                cross_type: m.cross_type,
            },
            Message::BrokenTrade(m) => Body::TradeBreak {
                match_id: m.match_number,
            },
            Message::SystemEvent(m) => Body::Status {
                kind: StatusKind::System,
                code: m.event_code,
            },
            Message::StockTradingAction(m) => Body::Status {
                kind: StatusKind::Trading,
                code: m.trading_state,
            },
            Message::OperationalHalt(m) => Body::Status {
                kind: StatusKind::OperationalHalt,
                code: m.action,
            },
            Message::MwcbStatus(m) => Body::Status {
                kind: StatusKind::CircuitBreaker,
                code: m.breached_level,
            },
            Message::RegSho(m) => Body::Status {
                kind: StatusKind::RegSho,
                code: m.action,
            },
            Message::StockDirectory(m) => {
                self.symbols.insert(c.stock_locate, m.stock);
                Body::Instrument { symbol: m.stock }
            }
            Message::MarketParticipantPosition(_)
            | Message::MwcbDeclineLevel(_)
            | Message::IpoQuotingPeriod(_)
            | Message::LuldAuctionCollar(_)
            | Message::Noii(_)
            | Message::Rpii(_)
            | Message::DlcrPriceDiscovery(_) => return None,
        };
        Some(Event { hdr, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::itch::msg::*;

    fn common(locate: u16) -> Common {
        Common {
            stock_locate: locate,
            tracking: 0,
            timestamp: 34_200_000_000_123,
        }
    }

    #[test]
    fn add_maps_fields_and_side() {
        let mut n = Normalizer::new(SourceId(3));
        let m = Message::AddOrder(AddOrder {
            common: common(7),
            order_ref: 42,
            side: b'S',
            shares: 300,
            stock: *b"AAPL    ",
            price: 5_853_300,
            attribution: None,
        });
        let e = n.normalize(&m, 9, Nanos(5)).unwrap();
        assert_eq!(e.hdr.instr, InstrumentIdx(7));
        assert_eq!(e.hdr.ts_exch, Nanos(34_200_000_000_123));
        assert_eq!(e.hdr.ts_recv, Nanos(5));
        assert_eq!(e.hdr.seq, 9);
        assert_eq!(e.hdr.source, SourceId(3));
        assert_eq!(
            e.body,
            Body::Add {
                order_id: OrderId(42),
                px: Px(5_853_300),
                qty: Qty(300),
                side: Side::Ask
            }
        );
    }

    #[test]
    fn bad_side_byte_gives_no_event() {
        let mut n = Normalizer::default();
        let m = Message::AddOrder(AddOrder {
            common: common(1),
            order_ref: 1,
            side: b'?',
            shares: 1,
            stock: *b"X       ",
            price: 1,
            attribution: None,
        });
        assert_eq!(n.normalize(&m, 0, Nanos(0)), None);
    }

    #[test]
    fn directory_fills_symbols() {
        let mut n = Normalizer::default();
        let r = Message::StockDirectory(StockDirectory::common_stock(common(12), *b"MSFT    "));
        assert_eq!(
            n.normalize(&r, 0, Nanos(0)).unwrap().body,
            Body::Instrument {
                symbol: *b"MSFT    "
            }
        );
        assert_eq!(n.symbols.symbol(12), Some("MSFT"));
        assert_eq!(n.symbols.symbol(11), None);
        assert_eq!(n.symbols.len(), 1);
        assert_eq!(n.symbols.iter().collect::<Vec<_>>(), vec![(12, "MSFT")]);
    }

    #[test]
    fn executions_and_trades_keep_their_prices() {
        let mut n = Normalizer::default();
        let c = Message::OrderExecutedWithPrice(OrderExecutedWithPrice {
            common: common(1),
            order_ref: 5,
            executed_shares: 10,
            match_number: 77,
            printable: b'N',
            execution_price: 1234,
        });
        assert_eq!(
            n.normalize(&c, 0, Nanos(0)).unwrap().body,
            Body::ExecuteAtPx {
                order_id: OrderId(5),
                qty: Qty(10),
                px: Px(1234),
                printable: false
            }
        );
        let q = Message::CrossTrade(CrossTrade {
            common: common(1),
            shares: 1 << 33,
            stock: *b"X       ",
            cross_price: 99,
            match_number: 1,
            cross_type: b'O',
        });
        assert_eq!(
            n.normalize(&q, 0, Nanos(0)).unwrap().body,
            Body::Cross {
                px: Px(99),
                qty: Qty(1 << 33),
                cross_type: b'O'
            }
        );
    }

    #[test]
    fn symbol_str_trims_padding() {
        assert_eq!(symbol_str(b"A       "), Some("A"));
        assert_eq!(symbol_str(b"        "), Some(""));
        assert_eq!(symbol_str(b"BRK A   "), Some("BRK A"));
    }
}
