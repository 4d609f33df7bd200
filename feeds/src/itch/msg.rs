//! Typed ITCH 5.0 messages.
//!
//! Field names follow the spec; integers are already converted from big-endian; alpha fields
//! borrow or copy the raw ASCII bytes (space padded, as on the wire). Prices are the spec's
//! `Price(4)` (1/10000 USD) as `u32` and `Price(8)` (1/10^8 USD) as `u64`. Timestamps are
//! nanoseconds since midnight (the wire's 6-byte field).

/// The common header of every ITCH 5.0 message after the type byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Common {
    /// Stock locate code (0 for market-wide messages).
    pub stock_locate: u16,
    /// NASDAQ internal tracking number.
    pub tracking: u16,
    /// Nanoseconds since midnight (48-bit on the wire).
    pub timestamp: u64,
}

/// An 8-byte, space-padded stock symbol as on the wire.
pub type Stock = [u8; 8];

/// `S` System Event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SystemEvent {
    /// Header.
    pub common: Common,
    /// O, S, Q, M, E, C.
    pub event_code: u8,
}

/// `R` Stock Directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StockDirectory {
    /// Header.
    pub common: Common,
    /// Symbol.
    pub stock: Stock,
    /// Market category (Q, G, S, N, A, P, Z, V, space).
    pub market_category: u8,
    /// Financial status indicator.
    pub financial_status: u8,
    /// Round lot size in shares.
    pub round_lot_size: u32,
    /// Y: only round lots accepted.
    pub round_lots_only: u8,
    /// Issue classification.
    pub issue_classification: u8,
    /// Issue sub-type (2 alpha).
    pub issue_subtype: [u8; 2],
    /// P live/production, T test.
    pub authenticity: u8,
    /// Short sale threshold indicator.
    pub short_sale_threshold: u8,
    /// IPO flag.
    pub ipo_flag: u8,
    /// LULD reference price tier.
    pub luld_tier: u8,
    /// ETP flag.
    pub etp_flag: u8,
    /// ETP leverage factor.
    pub etp_leverage: u32,
    /// Inverse indicator.
    pub inverse: u8,
}

impl StockDirectory {
    /// A directory entry for an ordinary NASDAQ-listed common stock (category Q, normal
    /// financial status, round lots of 100, tier-1 LULD, no ETP), as converters and generators
    /// write them.
    pub fn common_stock(common: Common, stock: Stock) -> Self {
        StockDirectory {
            common,
            stock,
            market_category: b'Q',
            financial_status: b'N',
            round_lot_size: 100,
            round_lots_only: b'N',
            issue_classification: b'C',
            issue_subtype: *b"Z ",
            authenticity: b'P',
            short_sale_threshold: b'N',
            ipo_flag: b'N',
            luld_tier: b'1',
            etp_flag: b'N',
            etp_leverage: 0,
            inverse: b'N',
        }
    }
}

/// `H` Stock Trading Action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StockTradingAction {
    /// Header.
    pub common: Common,
    /// Symbol.
    pub stock: Stock,
    /// H halted, P paused, Q quotation only, T trading.
    pub trading_state: u8,
    /// Reserved.
    pub reserved: u8,
    /// Reason (4 alpha).
    pub reason: [u8; 4],
}

/// `Y` Reg SHO Short Sale Price Test Restricted Indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegSho {
    /// Header.
    pub common: Common,
    /// Symbol.
    pub stock: Stock,
    /// 0, 1 or 2.
    pub action: u8,
}

/// `L` Market Participant Position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarketParticipantPosition {
    /// Header.
    pub common: Common,
    /// Market participant id (4 alpha).
    pub mpid: [u8; 4],
    /// Symbol.
    pub stock: Stock,
    /// Y primary market maker.
    pub primary_market_maker: u8,
    /// Market maker mode.
    pub market_maker_mode: u8,
    /// Market participant state.
    pub participant_state: u8,
}

/// `V` MWCB Decline Level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MwcbDeclineLevel {
    /// Header.
    pub common: Common,
    /// Level 1, Price(8).
    pub level1: u64,
    /// Level 2, Price(8).
    pub level2: u64,
    /// Level 3, Price(8).
    pub level3: u64,
}

/// `W` MWCB Status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MwcbStatus {
    /// Header.
    pub common: Common,
    /// 1, 2 or 3.
    pub breached_level: u8,
}

/// `K` IPO Quoting Period Update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpoQuotingPeriod {
    /// Header.
    pub common: Common,
    /// Symbol.
    pub stock: Stock,
    /// Seconds since midnight.
    pub release_time: u32,
    /// A anticipated, C cancelled/postponed.
    pub release_qualifier: u8,
    /// Price(4).
    pub ipo_price: u32,
}

/// `J` LULD Auction Collar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LuldAuctionCollar {
    /// Header.
    pub common: Common,
    /// Symbol.
    pub stock: Stock,
    /// Price(4).
    pub reference_price: u32,
    /// Price(4).
    pub upper_price: u32,
    /// Price(4).
    pub lower_price: u32,
    /// Number of extensions.
    pub extension: u32,
}

/// `h` Operational Halt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OperationalHalt {
    /// Header.
    pub common: Common,
    /// Symbol.
    pub stock: Stock,
    /// Q NASDAQ, B BX, X PSX.
    pub market_code: u8,
    /// H halted, T resumed.
    pub action: u8,
}

/// `A` Add Order (no MPID) and `F` Add Order with MPID attribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddOrder {
    /// Header.
    pub common: Common,
    /// Order reference number.
    pub order_ref: u64,
    /// b'B' buy or b'S' sell.
    pub side: u8,
    /// Shares.
    pub shares: u32,
    /// Symbol.
    pub stock: Stock,
    /// Price(4).
    pub price: u32,
    /// MPID attribution (`F` only).
    pub attribution: Option<[u8; 4]>,
}

/// `E` Order Executed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderExecuted {
    /// Header.
    pub common: Common,
    /// Order reference number.
    pub order_ref: u64,
    /// Shares executed.
    pub executed_shares: u32,
    /// Match number.
    pub match_number: u64,
}

/// `C` Order Executed With Price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderExecutedWithPrice {
    /// Header.
    pub common: Common,
    /// Order reference number.
    pub order_ref: u64,
    /// Shares executed.
    pub executed_shares: u32,
    /// Match number.
    pub match_number: u64,
    /// b'Y' printable, b'N' not.
    pub printable: u8,
    /// Price(4).
    pub execution_price: u32,
}

/// `X` Order Cancel (partial).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderCancel {
    /// Header.
    pub common: Common,
    /// Order reference number.
    pub order_ref: u64,
    /// Shares cancelled.
    pub cancelled_shares: u32,
}

/// `D` Order Delete.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderDelete {
    /// Header.
    pub common: Common,
    /// Order reference number.
    pub order_ref: u64,
}

/// `U` Order Replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderReplace {
    /// Header.
    pub common: Common,
    /// The order being replaced.
    pub original_ref: u64,
    /// The replacement's reference.
    pub new_ref: u64,
    /// Shares.
    pub shares: u32,
    /// Price(4).
    pub price: u32,
}

/// `P` Trade (non-cross), against a non-displayed order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trade {
    /// Header.
    pub common: Common,
    /// Order reference number (0 since 2014 on NASDAQ, kept as on the wire).
    pub order_ref: u64,
    /// b'B' or b'S': side of the non-displayed resting order.
    pub side: u8,
    /// Shares.
    pub shares: u32,
    /// Symbol.
    pub stock: Stock,
    /// Price(4).
    pub price: u32,
    /// Match number.
    pub match_number: u64,
}

/// `Q` Cross Trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CrossTrade {
    /// Header.
    pub common: Common,
    /// Shares (8 bytes on the wire).
    pub shares: u64,
    /// Symbol.
    pub stock: Stock,
    /// Price(4).
    pub cross_price: u32,
    /// Match number.
    pub match_number: u64,
    /// O, C, H, I.
    pub cross_type: u8,
}

/// `B` Broken Trade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrokenTrade {
    /// Header.
    pub common: Common,
    /// Match number of the broken execution.
    pub match_number: u64,
}

/// `I` Net Order Imbalance Indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Noii {
    /// Header.
    pub common: Common,
    /// Paired shares.
    pub paired_shares: u64,
    /// Imbalance shares.
    pub imbalance_shares: u64,
    /// B, S, N, O, P.
    pub imbalance_direction: u8,
    /// Symbol.
    pub stock: Stock,
    /// Price(4).
    pub far_price: u32,
    /// Price(4).
    pub near_price: u32,
    /// Price(4).
    pub current_reference_price: u32,
    /// O, C, H, A.
    pub cross_type: u8,
    /// Price variation indicator.
    pub price_variation: u8,
}

/// `N` Retail Price Improvement Indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rpii {
    /// Header.
    pub common: Common,
    /// Symbol.
    pub stock: Stock,
    /// B, S, A, N.
    pub interest_flag: u8,
}

/// `O` Direct Listing with Capital Raise Price Discovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DlcrPriceDiscovery {
    /// Header.
    pub common: Common,
    /// Symbol.
    pub stock: Stock,
    /// N or Y.
    pub open_eligibility: u8,
    /// Price(4).
    pub min_allowable_price: u32,
    /// Price(4).
    pub max_allowable_price: u32,
    /// Price(4).
    pub near_execution_price: u32,
    /// Nanoseconds (8 bytes on the wire).
    pub near_execution_time: u64,
    /// Price(4).
    pub lower_price_range_collar: u32,
    /// Price(4).
    pub upper_price_range_collar: u32,
}

/// One decoded ITCH 5.0 message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    /// `S`
    SystemEvent(SystemEvent),
    /// `R`
    StockDirectory(StockDirectory),
    /// `H`
    StockTradingAction(StockTradingAction),
    /// `Y`
    RegSho(RegSho),
    /// `L`
    MarketParticipantPosition(MarketParticipantPosition),
    /// `V`
    MwcbDeclineLevel(MwcbDeclineLevel),
    /// `W`
    MwcbStatus(MwcbStatus),
    /// `K`
    IpoQuotingPeriod(IpoQuotingPeriod),
    /// `J`
    LuldAuctionCollar(LuldAuctionCollar),
    /// `h`
    OperationalHalt(OperationalHalt),
    /// `A` (attribution `None`) or `F` (attribution `Some`).
    AddOrder(AddOrder),
    /// `E`
    OrderExecuted(OrderExecuted),
    /// `C`
    OrderExecutedWithPrice(OrderExecutedWithPrice),
    /// `X`
    OrderCancel(OrderCancel),
    /// `D`
    OrderDelete(OrderDelete),
    /// `U`
    OrderReplace(OrderReplace),
    /// `P`
    Trade(Trade),
    /// `Q`
    CrossTrade(CrossTrade),
    /// `B`
    BrokenTrade(BrokenTrade),
    /// `I`
    Noii(Noii),
    /// `N`
    Rpii(Rpii),
    /// `O`
    DlcrPriceDiscovery(DlcrPriceDiscovery),
}

/// Every message type byte of ITCH 5.0 with its fixed length (type byte included, length
/// prefix excluded), in spec order.
pub const MESSAGE_TYPES: [(u8, usize); 23] = [
    (b'S', 12),
    (b'R', 39),
    (b'H', 25),
    (b'Y', 20),
    (b'L', 26),
    (b'V', 35),
    (b'W', 12),
    (b'K', 28),
    (b'J', 35),
    (b'h', 21),
    (b'A', 36),
    (b'F', 40),
    (b'E', 31),
    (b'C', 36),
    (b'X', 23),
    (b'D', 19),
    (b'U', 35),
    (b'P', 44),
    (b'Q', 40),
    (b'B', 19),
    (b'I', 50),
    (b'N', 20),
    (b'O', 48),
];

/// The fixed length of message type `ty`, or `None` for a byte that is not an ITCH 5.0 type.
#[inline]
pub const fn message_len(ty: u8) -> Option<usize> {
    let len = match ty {
        b'S' | b'W' => 12,
        b'R' => 39,
        b'H' => 25,
        b'Y' | b'N' => 20,
        b'L' => 26,
        b'V' | b'J' | b'U' => 35,
        b'K' => 28,
        b'h' => 21,
        b'A' | b'C' => 36,
        b'F' | b'Q' => 40,
        b'E' => 31,
        b'X' => 23,
        b'D' | b'B' => 19,
        b'P' => 44,
        b'I' => 50,
        b'O' => 48,
        _ => return None,
    };
    Some(len)
}

impl Message {
    /// The wire type byte.
    pub fn type_byte(&self) -> u8 {
        match self {
            Message::SystemEvent(_) => b'S',
            Message::StockDirectory(_) => b'R',
            Message::StockTradingAction(_) => b'H',
            Message::RegSho(_) => b'Y',
            Message::MarketParticipantPosition(_) => b'L',
            Message::MwcbDeclineLevel(_) => b'V',
            Message::MwcbStatus(_) => b'W',
            Message::IpoQuotingPeriod(_) => b'K',
            Message::LuldAuctionCollar(_) => b'J',
            Message::OperationalHalt(_) => b'h',
            Message::AddOrder(a) => {
                if a.attribution.is_some() {
                    b'F'
                } else {
                    b'A'
                }
            }
            Message::OrderExecuted(_) => b'E',
            Message::OrderExecutedWithPrice(_) => b'C',
            Message::OrderCancel(_) => b'X',
            Message::OrderDelete(_) => b'D',
            Message::OrderReplace(_) => b'U',
            Message::Trade(_) => b'P',
            Message::CrossTrade(_) => b'Q',
            Message::BrokenTrade(_) => b'B',
            Message::Noii(_) => b'I',
            Message::Rpii(_) => b'N',
            Message::DlcrPriceDiscovery(_) => b'O',
        }
    }

    /// The common header.
    pub fn common(&self) -> &Common {
        match self {
            Message::SystemEvent(m) => &m.common,
            Message::StockDirectory(m) => &m.common,
            Message::StockTradingAction(m) => &m.common,
            Message::RegSho(m) => &m.common,
            Message::MarketParticipantPosition(m) => &m.common,
            Message::MwcbDeclineLevel(m) => &m.common,
            Message::MwcbStatus(m) => &m.common,
            Message::IpoQuotingPeriod(m) => &m.common,
            Message::LuldAuctionCollar(m) => &m.common,
            Message::OperationalHalt(m) => &m.common,
            Message::AddOrder(m) => &m.common,
            Message::OrderExecuted(m) => &m.common,
            Message::OrderExecutedWithPrice(m) => &m.common,
            Message::OrderCancel(m) => &m.common,
            Message::OrderDelete(m) => &m.common,
            Message::OrderReplace(m) => &m.common,
            Message::Trade(m) => &m.common,
            Message::CrossTrade(m) => &m.common,
            Message::BrokenTrade(m) => &m.common,
            Message::Noii(m) => &m.common,
            Message::Rpii(m) => &m.common,
            Message::DlcrPriceDiscovery(m) => &m.common,
        }
    }
}

/// The index (0..23) of a type byte in [`MESSAGE_TYPES`], for per-type counters.
#[inline]
pub const fn type_index(ty: u8) -> Option<usize> {
    let mut i = 0;
    while i < MESSAGE_TYPES.len() {
        if MESSAGE_TYPES[i].0 == ty {
            return Some(i);
        }
        i += 1;
    }
    None
}
