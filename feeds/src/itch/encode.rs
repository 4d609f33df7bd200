//! ITCH 5.0 message encoding: the exact inverse of [`super::decode`], for tests, the LOBSTER
//! converter and the synthetic generator.

use super::msg::*;

struct Wr<'a>(&'a mut Vec<u8>);

impl Wr<'_> {
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.0.extend_from_slice(v);
        self
    }
    fn u16(&mut self, v: u16) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }
    fn common(&mut self, ty: u8, c: &Common) -> &mut Self {
        self.u8(ty).u16(c.stock_locate).u16(c.tracking);
        let ts = c.timestamp.to_be_bytes();
        self.bytes(&ts[2..])
    }
}

/// Appends the wire bytes of `msg` (type byte first, no length prefix) to `out`. Only the low
/// 48 bits of the timestamp are written, as on the wire.
///
/// ```
/// use ticklane_feeds::itch::{decode, encode::encode, msg::*};
/// let m = Message::OrderDelete(OrderDelete { common: Common { stock_locate: 7, tracking: 0, timestamp: 42 }, order_ref: 9 });
/// let mut bytes = Vec::new();
/// encode(&m, &mut bytes);
/// assert_eq!(bytes.len(), 19);
/// assert_eq!(decode(&bytes).unwrap(), m);
/// ```
pub fn encode(msg: &Message, out: &mut Vec<u8>) {
    let ty = msg.type_byte();
    let mut w = Wr(out);
    w.common(ty, msg.common());
    match msg {
        Message::SystemEvent(m) => {
            w.u8(m.event_code);
        }
        Message::StockDirectory(m) => {
            w.bytes(&m.stock)
                .u8(m.market_category)
                .u8(m.financial_status)
                .u32(m.round_lot_size)
                .u8(m.round_lots_only)
                .u8(m.issue_classification)
                .bytes(&m.issue_subtype)
                .u8(m.authenticity)
                .u8(m.short_sale_threshold)
                .u8(m.ipo_flag)
                .u8(m.luld_tier)
                .u8(m.etp_flag)
                .u32(m.etp_leverage)
                .u8(m.inverse);
        }
        Message::StockTradingAction(m) => {
            w.bytes(&m.stock)
                .u8(m.trading_state)
                .u8(m.reserved)
                .bytes(&m.reason);
        }
        Message::RegSho(m) => {
            w.bytes(&m.stock).u8(m.action);
        }
        Message::MarketParticipantPosition(m) => {
            w.bytes(&m.mpid)
                .bytes(&m.stock)
                .u8(m.primary_market_maker)
                .u8(m.market_maker_mode)
                .u8(m.participant_state);
        }
        Message::MwcbDeclineLevel(m) => {
            w.u64(m.level1).u64(m.level2).u64(m.level3);
        }
        Message::MwcbStatus(m) => {
            w.u8(m.breached_level);
        }
        Message::IpoQuotingPeriod(m) => {
            w.bytes(&m.stock)
                .u32(m.release_time)
                .u8(m.release_qualifier)
                .u32(m.ipo_price);
        }
        Message::LuldAuctionCollar(m) => {
            w.bytes(&m.stock)
                .u32(m.reference_price)
                .u32(m.upper_price)
                .u32(m.lower_price)
                .u32(m.extension);
        }
        Message::OperationalHalt(m) => {
            w.bytes(&m.stock).u8(m.market_code).u8(m.action);
        }
        Message::AddOrder(m) => {
            w.u64(m.order_ref)
                .u8(m.side)
                .u32(m.shares)
                .bytes(&m.stock)
                .u32(m.price);
            if let Some(a) = &m.attribution {
                w.bytes(a);
            }
        }
        Message::OrderExecuted(m) => {
            w.u64(m.order_ref)
                .u32(m.executed_shares)
                .u64(m.match_number);
        }
        Message::OrderExecutedWithPrice(m) => {
            w.u64(m.order_ref)
                .u32(m.executed_shares)
                .u64(m.match_number)
                .u8(m.printable)
                .u32(m.execution_price);
        }
        Message::OrderCancel(m) => {
            w.u64(m.order_ref).u32(m.cancelled_shares);
        }
        Message::OrderDelete(m) => {
            w.u64(m.order_ref);
        }
        Message::OrderReplace(m) => {
            w.u64(m.original_ref)
                .u64(m.new_ref)
                .u32(m.shares)
                .u32(m.price);
        }
        Message::Trade(m) => {
            w.u64(m.order_ref)
                .u8(m.side)
                .u32(m.shares)
                .bytes(&m.stock)
                .u32(m.price)
                .u64(m.match_number);
        }
        Message::CrossTrade(m) => {
            w.u64(m.shares)
                .bytes(&m.stock)
                .u32(m.cross_price)
                .u64(m.match_number)
                .u8(m.cross_type);
        }
        Message::BrokenTrade(m) => {
            w.u64(m.match_number);
        }
        Message::Noii(m) => {
            w.u64(m.paired_shares)
                .u64(m.imbalance_shares)
                .u8(m.imbalance_direction)
                .bytes(&m.stock)
                .u32(m.far_price)
                .u32(m.near_price)
                .u32(m.current_reference_price)
                .u8(m.cross_type)
                .u8(m.price_variation);
        }
        Message::Rpii(m) => {
            w.bytes(&m.stock).u8(m.interest_flag);
        }
        Message::DlcrPriceDiscovery(m) => {
            w.bytes(&m.stock)
                .u8(m.open_eligibility)
                .u32(m.min_allowable_price)
                .u32(m.max_allowable_price)
                .u32(m.near_execution_price)
                .u64(m.near_execution_time)
                .u32(m.lower_price_range_collar)
                .u32(m.upper_price_range_collar);
        }
    }
}

/// Appends `msg` as a BinaryFILE frame: 2-byte big-endian length, then the message.
pub fn encode_frame(msg: &Message, out: &mut Vec<u8>) {
    let len = message_len(msg.type_byte()).unwrap_or(0) as u16;
    out.extend_from_slice(&len.to_be_bytes());
    encode(msg, out);
}
