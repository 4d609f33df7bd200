//! ITCH 5.0 message decoding: one message (type byte first, no length prefix) to a typed
//! [`Message`].
//!
//! One length check per message against the type's fixed length, then fixed-offset big-endian
//! reads (`from_be_bytes` on array copies); no allocation, no panics on any input.

use super::msg::*;

/// Why a message could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// No bytes at all.
    #[error("empty ITCH message")]
    Empty,
    /// The type byte is not an ITCH 5.0 message type.
    #[error("unknown ITCH message type 0x{ty:02x}")]
    UnknownType {
        /// The type byte.
        ty: u8,
    },
    /// Fewer bytes than the type needs.
    #[error("truncated ITCH '{}' message: need {need} bytes, have {have}", *ty as char)]
    Truncated {
        /// The type byte.
        ty: u8,
        /// Bytes the type needs.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// More bytes than the type's fixed length (a framing error).
    #[error("ITCH '{}' message too long: expected {need} bytes, have {have}", *ty as char)]
    TooLong {
        /// The type byte.
        ty: u8,
        /// Bytes the type has.
        need: usize,
        /// Bytes given.
        have: usize,
    },
    /// A side byte other than `B` or `S`.
    #[error("ITCH '{}' message with side byte 0x{byte:02x} (expected 'B' or 'S')", *ty as char)]
    BadSide {
        /// The type byte.
        ty: u8,
        /// The side byte.
        byte: u8,
    },
}

/// A cursor over a buffer whose length was already checked against the message type.
struct Rd<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Rd<'a> {
    #[inline(always)]
    fn arr<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        // In bounds: `decode` checked the length against the type's fixed size, and every
        // reader below consumes exactly that many bytes.
        out.copy_from_slice(&self.b[self.at..self.at + N]);
        self.at += N;
        out
    }
    #[inline(always)]
    fn u8(&mut self) -> u8 {
        let v = self.b[self.at];
        self.at += 1;
        v
    }
    #[inline(always)]
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.arr())
    }
    #[inline(always)]
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.arr())
    }
    #[inline(always)]
    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.arr())
    }
    #[inline(always)]
    fn u48(&mut self) -> u64 {
        let a: [u8; 6] = self.arr();
        u64::from_be_bytes([0, 0, a[0], a[1], a[2], a[3], a[4], a[5]])
    }
    #[inline(always)]
    fn common(&mut self) -> Common {
        Common {
            stock_locate: self.u16(),
            tracking: self.u16(),
            timestamp: self.u48(),
        }
    }
}

#[inline(always)]
fn side(ty: u8, byte: u8) -> Result<u8, DecodeError> {
    match byte {
        b'B' | b'S' => Ok(byte),
        _ => Err(DecodeError::BadSide { ty, byte }),
    }
}

/// Decodes one message (type byte first, no length prefix).
///
/// ```
/// use ticklane_feeds::itch::{decode, Message};
/// // S (system event) 'O' at locate 0, tracking 0, timestamp 0x0a11ea0e8c43.
/// let bytes = [b'S', 0, 0, 0, 0, 0x0a, 0x11, 0xea, 0x0e, 0x8c, 0x43, b'O'];
/// let Message::SystemEvent(m) = decode(&bytes).unwrap() else { panic!() };
/// assert_eq!(m.event_code, b'O');
/// assert_eq!(m.common.timestamp, 0x0a11ea0e8c43);
/// ```
///
/// # Errors
/// [`DecodeError`]: empty input, unknown type, a length that does not match the type, or a bad
/// side byte.
#[inline]
pub fn decode(buf: &[u8]) -> Result<Message, DecodeError> {
    let Some(&ty) = buf.first() else {
        return Err(DecodeError::Empty);
    };
    let Some(need) = message_len(ty) else {
        return Err(DecodeError::UnknownType { ty });
    };
    if buf.len() < need {
        return Err(DecodeError::Truncated {
            ty,
            need,
            have: buf.len(),
        });
    }
    if buf.len() > need {
        return Err(DecodeError::TooLong {
            ty,
            need,
            have: buf.len(),
        });
    }
    let mut r = Rd { b: buf, at: 1 };
    let common = r.common();
    let m = match ty {
        b'A' | b'F' => {
            let order_ref = r.u64();
            let s = side(ty, r.u8())?;
            let shares = r.u32();
            let stock = r.arr();
            let price = r.u32();
            let attribution = if ty == b'F' { Some(r.arr()) } else { None };
            Message::AddOrder(AddOrder {
                common,
                order_ref,
                side: s,
                shares,
                stock,
                price,
                attribution,
            })
        }
        b'D' => Message::OrderDelete(OrderDelete {
            common,
            order_ref: r.u64(),
        }),
        b'U' => Message::OrderReplace(OrderReplace {
            common,
            original_ref: r.u64(),
            new_ref: r.u64(),
            shares: r.u32(),
            price: r.u32(),
        }),
        b'E' => Message::OrderExecuted(OrderExecuted {
            common,
            order_ref: r.u64(),
            executed_shares: r.u32(),
            match_number: r.u64(),
        }),
        b'X' => Message::OrderCancel(OrderCancel {
            common,
            order_ref: r.u64(),
            cancelled_shares: r.u32(),
        }),
        b'C' => Message::OrderExecutedWithPrice(OrderExecutedWithPrice {
            common,
            order_ref: r.u64(),
            executed_shares: r.u32(),
            match_number: r.u64(),
            printable: r.u8(),
            execution_price: r.u32(),
        }),
        b'P' => {
            let order_ref = r.u64();
            let s = side(ty, r.u8())?;
            Message::Trade(Trade {
                common,
                order_ref,
                side: s,
                shares: r.u32(),
                stock: r.arr(),
                price: r.u32(),
                match_number: r.u64(),
            })
        }
        b'Q' => Message::CrossTrade(CrossTrade {
            common,
            shares: r.u64(),
            stock: r.arr(),
            cross_price: r.u32(),
            match_number: r.u64(),
            cross_type: r.u8(),
        }),
        b'B' => Message::BrokenTrade(BrokenTrade {
            common,
            match_number: r.u64(),
        }),
        b'S' => Message::SystemEvent(SystemEvent {
            common,
            event_code: r.u8(),
        }),
        b'R' => Message::StockDirectory(StockDirectory {
            common,
            stock: r.arr(),
            market_category: r.u8(),
            financial_status: r.u8(),
            round_lot_size: r.u32(),
            round_lots_only: r.u8(),
            issue_classification: r.u8(),
            issue_subtype: r.arr(),
            authenticity: r.u8(),
            short_sale_threshold: r.u8(),
            ipo_flag: r.u8(),
            luld_tier: r.u8(),
            etp_flag: r.u8(),
            etp_leverage: r.u32(),
            inverse: r.u8(),
        }),
        b'H' => Message::StockTradingAction(StockTradingAction {
            common,
            stock: r.arr(),
            trading_state: r.u8(),
            reserved: r.u8(),
            reason: r.arr(),
        }),
        b'Y' => Message::RegSho(RegSho {
            common,
            stock: r.arr(),
            action: r.u8(),
        }),
        b'L' => Message::MarketParticipantPosition(MarketParticipantPosition {
            common,
            mpid: r.arr(),
            stock: r.arr(),
            primary_market_maker: r.u8(),
            market_maker_mode: r.u8(),
            participant_state: r.u8(),
        }),
        b'V' => Message::MwcbDeclineLevel(MwcbDeclineLevel {
            common,
            level1: r.u64(),
            level2: r.u64(),
            level3: r.u64(),
        }),
        b'W' => Message::MwcbStatus(MwcbStatus {
            common,
            breached_level: r.u8(),
        }),
        b'K' => Message::IpoQuotingPeriod(IpoQuotingPeriod {
            common,
            stock: r.arr(),
            release_time: r.u32(),
            release_qualifier: r.u8(),
            ipo_price: r.u32(),
        }),
        b'J' => Message::LuldAuctionCollar(LuldAuctionCollar {
            common,
            stock: r.arr(),
            reference_price: r.u32(),
            upper_price: r.u32(),
            lower_price: r.u32(),
            extension: r.u32(),
        }),
        b'h' => Message::OperationalHalt(OperationalHalt {
            common,
            stock: r.arr(),
            market_code: r.u8(),
            action: r.u8(),
        }),
        b'I' => Message::Noii(Noii {
            common,
            paired_shares: r.u64(),
            imbalance_shares: r.u64(),
            imbalance_direction: r.u8(),
            stock: r.arr(),
            far_price: r.u32(),
            near_price: r.u32(),
            current_reference_price: r.u32(),
            cross_type: r.u8(),
            price_variation: r.u8(),
        }),
        b'N' => Message::Rpii(Rpii {
            common,
            stock: r.arr(),
            interest_flag: r.u8(),
        }),
        b'O' => Message::DlcrPriceDiscovery(DlcrPriceDiscovery {
            common,
            stock: r.arr(),
            open_eligibility: r.u8(),
            min_allowable_price: r.u32(),
            max_allowable_price: r.u32(),
            near_execution_price: r.u32(),
            near_execution_time: r.u64(),
            lower_price_range_collar: r.u32(),
            upper_price_range_collar: r.u32(),
        }),
        // `message_len` accepted the type, and every type it accepts has an arm above.
        _ => return Err(DecodeError::UnknownType { ty }),
    };
    debug_assert_eq!(
        r.at, need,
        "decoder for {:?} consumed {} of {need} bytes",
        ty as char, r.at
    );
    Ok(m)
}

#[cfg(test)]
mod tests {
    //! Every message type built by hand from the spec's byte layout (field by field, widths as
    //! in the TotalView-ITCH 5.0 specification), decoded, every field checked, and re-encoded to
    //! the same bytes.
    use super::*;
    use crate::itch::encode::encode;
    use proptest::prelude::*;

    /// A big-endian byte builder that knows nothing of the message types.
    struct B(Vec<u8>);
    impl B {
        fn hdr(ty: u8) -> B {
            // locate 0x0102, tracking 0x0304, timestamp 0x0000_1122_3344_5566 (6 bytes)
            B(vec![
                ty, 0x01, 0x02, 0x03, 0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
            ])
        }
        fn n(mut self, v: u64, width: usize) -> B {
            self.0.extend_from_slice(&v.to_be_bytes()[8 - width..]);
            self
        }
        fn a(mut self, s: &[u8]) -> B {
            self.0.extend_from_slice(s);
            self
        }
    }

    const C: Common = Common {
        stock_locate: 0x0102,
        tracking: 0x0304,
        timestamp: 0x1122_3344_5566,
    };

    fn check(bytes: B, want: Message) {
        let bytes = bytes.0;
        assert_eq!(
            Some(bytes.len()),
            message_len(bytes[0]),
            "layout length of {:?}",
            bytes[0] as char
        );
        assert_eq!(decode(&bytes), Ok(want));
        let mut again = Vec::new();
        encode(&want, &mut again);
        assert_eq!(again, bytes, "encode of {:?}", bytes[0] as char);
        for cut in 0..bytes.len() {
            let r = decode(&bytes[..cut]);
            assert!(
                r.is_err(),
                "a {cut}-byte prefix of {:?} decoded",
                bytes[0] as char
            );
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(decode(&long), Err(DecodeError::TooLong { .. })));
    }

    #[test]
    fn s_system_event() {
        check(
            B::hdr(b'S').a(b"Q"),
            Message::SystemEvent(SystemEvent {
                common: C,
                event_code: b'Q',
            }),
        );
    }

    #[test]
    fn r_stock_directory() {
        let b = B::hdr(b'R')
            .a(b"AAPL    ")
            .a(b"Q")
            .a(b"N")
            .n(100, 4)
            .a(b"N")
            .a(b"C")
            .a(b"Z ")
            .a(b"P")
            .a(b"N")
            .a(b"N")
            .a(b"1")
            .a(b"N")
            .n(3, 4)
            .a(b"Y");
        check(
            b,
            Message::StockDirectory(StockDirectory {
                common: C,
                stock: *b"AAPL    ",
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
                etp_leverage: 3,
                inverse: b'Y',
            }),
        );
    }

    #[test]
    fn h_trading_action() {
        check(
            B::hdr(b'H').a(b"MSFT    ").a(b"T").a(b" ").a(b"IPO1"),
            Message::StockTradingAction(StockTradingAction {
                common: C,
                stock: *b"MSFT    ",
                trading_state: b'T',
                reserved: b' ',
                reason: *b"IPO1",
            }),
        );
    }

    #[test]
    fn y_reg_sho() {
        check(
            B::hdr(b'Y').a(b"ZVZZT   ").a(b"1"),
            Message::RegSho(RegSho {
                common: C,
                stock: *b"ZVZZT   ",
                action: b'1',
            }),
        );
    }

    #[test]
    fn l_participant_position() {
        check(
            B::hdr(b'L')
                .a(b"GSCO")
                .a(b"IBM     ")
                .a(b"Y")
                .a(b"N")
                .a(b"A"),
            Message::MarketParticipantPosition(MarketParticipantPosition {
                common: C,
                mpid: *b"GSCO",
                stock: *b"IBM     ",
                primary_market_maker: b'Y',
                market_maker_mode: b'N',
                participant_state: b'A',
            }),
        );
    }

    #[test]
    fn v_mwcb_decline() {
        check(
            B::hdr(b'V').n(1, 8).n(2, 8).n(u64::MAX, 8),
            Message::MwcbDeclineLevel(MwcbDeclineLevel {
                common: C,
                level1: 1,
                level2: 2,
                level3: u64::MAX,
            }),
        );
    }

    #[test]
    fn w_mwcb_status() {
        check(
            B::hdr(b'W').a(b"2"),
            Message::MwcbStatus(MwcbStatus {
                common: C,
                breached_level: b'2',
            }),
        );
    }

    #[test]
    fn k_ipo_quoting() {
        check(
            B::hdr(b'K')
                .a(b"NEWCO   ")
                .n(34_200, 4)
                .a(b"A")
                .n(150_000, 4),
            Message::IpoQuotingPeriod(IpoQuotingPeriod {
                common: C,
                stock: *b"NEWCO   ",
                release_time: 34_200,
                release_qualifier: b'A',
                ipo_price: 150_000,
            }),
        );
    }

    #[test]
    fn j_luld_collar() {
        check(
            B::hdr(b'J')
                .a(b"TSLA    ")
                .n(1_000_000, 4)
                .n(1_100_000, 4)
                .n(900_000, 4)
                .n(2, 4),
            Message::LuldAuctionCollar(LuldAuctionCollar {
                common: C,
                stock: *b"TSLA    ",
                reference_price: 1_000_000,
                upper_price: 1_100_000,
                lower_price: 900_000,
                extension: 2,
            }),
        );
    }

    #[test]
    fn h_lower_operational_halt() {
        check(
            B::hdr(b'h').a(b"QQQ     ").a(b"Q").a(b"H"),
            Message::OperationalHalt(OperationalHalt {
                common: C,
                stock: *b"QQQ     ",
                market_code: b'Q',
                action: b'H',
            }),
        );
    }

    #[test]
    fn a_add_order() {
        check(
            B::hdr(b'A')
                .n(0xDEAD_BEEF_0001, 8)
                .a(b"B")
                .n(300, 4)
                .a(b"AAPL    ")
                .n(5_853_300, 4),
            Message::AddOrder(AddOrder {
                common: C,
                order_ref: 0xDEAD_BEEF_0001,
                side: b'B',
                shares: 300,
                stock: *b"AAPL    ",
                price: 5_853_300,
                attribution: None,
            }),
        );
    }

    #[test]
    fn f_add_order_mpid() {
        check(
            B::hdr(b'F')
                .n(7, 8)
                .a(b"S")
                .n(1, 4)
                .a(b"GOOG    ")
                .n(u64::from(u32::MAX), 4)
                .a(b"NITE"),
            Message::AddOrder(AddOrder {
                common: C,
                order_ref: 7,
                side: b'S',
                shares: 1,
                stock: *b"GOOG    ",
                price: u32::MAX,
                attribution: Some(*b"NITE"),
            }),
        );
    }

    #[test]
    fn e_executed() {
        check(
            B::hdr(b'E').n(42, 8).n(100, 4).n(9_999, 8),
            Message::OrderExecuted(OrderExecuted {
                common: C,
                order_ref: 42,
                executed_shares: 100,
                match_number: 9_999,
            }),
        );
    }

    #[test]
    fn c_executed_with_price() {
        check(
            B::hdr(b'C')
                .n(42, 8)
                .n(100, 4)
                .n(9_999, 8)
                .a(b"N")
                .n(123_456, 4),
            Message::OrderExecutedWithPrice(OrderExecutedWithPrice {
                common: C,
                order_ref: 42,
                executed_shares: 100,
                match_number: 9_999,
                printable: b'N',
                execution_price: 123_456,
            }),
        );
    }

    #[test]
    fn x_cancel() {
        check(
            B::hdr(b'X').n(42, 8).n(5, 4),
            Message::OrderCancel(OrderCancel {
                common: C,
                order_ref: 42,
                cancelled_shares: 5,
            }),
        );
    }

    #[test]
    fn d_delete() {
        check(
            B::hdr(b'D').n(42, 8),
            Message::OrderDelete(OrderDelete {
                common: C,
                order_ref: 42,
            }),
        );
    }

    #[test]
    fn u_replace() {
        check(
            B::hdr(b'U').n(42, 8).n(43, 8).n(200, 4).n(101_000, 4),
            Message::OrderReplace(OrderReplace {
                common: C,
                original_ref: 42,
                new_ref: 43,
                shares: 200,
                price: 101_000,
            }),
        );
    }

    #[test]
    fn p_trade() {
        check(
            B::hdr(b'P')
                .n(0, 8)
                .a(b"S")
                .n(50, 4)
                .a(b"SPY     ")
                .n(4_000_000, 4)
                .n(77, 8),
            Message::Trade(Trade {
                common: C,
                order_ref: 0,
                side: b'S',
                shares: 50,
                stock: *b"SPY     ",
                price: 4_000_000,
                match_number: 77,
            }),
        );
    }

    #[test]
    fn q_cross() {
        check(
            B::hdr(b'Q')
                .n(1 << 40, 8)
                .a(b"SPY     ")
                .n(4_000_100, 4)
                .n(78, 8)
                .a(b"O"),
            Message::CrossTrade(CrossTrade {
                common: C,
                shares: 1 << 40,
                stock: *b"SPY     ",
                cross_price: 4_000_100,
                match_number: 78,
                cross_type: b'O',
            }),
        );
    }

    #[test]
    fn b_broken_trade() {
        check(
            B::hdr(b'B').n(78, 8),
            Message::BrokenTrade(BrokenTrade {
                common: C,
                match_number: 78,
            }),
        );
    }

    #[test]
    fn i_noii() {
        check(
            B::hdr(b'I')
                .n(1000, 8)
                .n(200, 8)
                .a(b"B")
                .a(b"IBM     ")
                .n(1, 4)
                .n(2, 4)
                .n(3, 4)
                .a(b"C")
                .a(b"L"),
            Message::Noii(Noii {
                common: C,
                paired_shares: 1000,
                imbalance_shares: 200,
                imbalance_direction: b'B',
                stock: *b"IBM     ",
                far_price: 1,
                near_price: 2,
                current_reference_price: 3,
                cross_type: b'C',
                price_variation: b'L',
            }),
        );
    }

    #[test]
    fn n_rpii() {
        check(
            B::hdr(b'N').a(b"IBM     ").a(b"A"),
            Message::Rpii(Rpii {
                common: C,
                stock: *b"IBM     ",
                interest_flag: b'A',
            }),
        );
    }

    #[test]
    fn o_dlcr() {
        check(
            B::hdr(b'O')
                .a(b"DLCR    ")
                .a(b"Y")
                .n(1, 4)
                .n(2, 4)
                .n(3, 4)
                .n(4, 8)
                .n(5, 4)
                .n(6, 4),
            Message::DlcrPriceDiscovery(DlcrPriceDiscovery {
                common: C,
                stock: *b"DLCR    ",
                open_eligibility: b'Y',
                min_allowable_price: 1,
                max_allowable_price: 2,
                near_execution_price: 3,
                near_execution_time: 4,
                lower_price_range_collar: 5,
                upper_price_range_collar: 6,
            }),
        );
    }

    #[test]
    fn message_table_agrees_with_message_len() {
        // The spec has 23 types (A and F counted apart); the table and the length function the
        // decoder uses must agree on every one.
        assert_eq!(MESSAGE_TYPES.len(), 23);
        for (ty, len) in MESSAGE_TYPES {
            assert_eq!(message_len(ty), Some(len));
        }
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert_eq!(decode(&[]), Err(DecodeError::Empty));
        assert_eq!(
            decode(&[b'z', 0, 0]),
            Err(DecodeError::UnknownType { ty: b'z' })
        );
        let mut a = B::hdr(b'A')
            .n(1, 8)
            .a(b"X")
            .n(1, 4)
            .a(b"AAPL    ")
            .n(1, 4)
            .0;
        assert_eq!(
            decode(&a),
            Err(DecodeError::BadSide {
                ty: b'A',
                byte: b'X'
            })
        );
        a.truncate(20);
        assert_eq!(
            decode(&a),
            Err(DecodeError::Truncated {
                ty: b'A',
                need: 36,
                have: 20
            })
        );
        assert!(DecodeError::Truncated {
            ty: b'A',
            need: 36,
            have: 20
        }
        .to_string()
        .contains("'A'"));
    }

    fn common() -> impl Strategy<Value = Common> {
        (any::<u16>(), any::<u16>(), 0u64..(1 << 48)).prop_map(|(l, t, ts)| Common {
            stock_locate: l,
            tracking: t,
            timestamp: ts,
        })
    }

    fn side() -> impl Strategy<Value = u8> {
        prop_oneof![Just(b'B'), Just(b'S')]
    }

    fn any_message() -> impl Strategy<Value = Message> {
        let s8 = any::<[u8; 8]>;
        prop_oneof![
            (common(), any::<u8>()).prop_map(|(common, event_code)| Message::SystemEvent(
                SystemEvent { common, event_code }
            )),
            (
                common(),
                s8(),
                any::<[u8; 4]>(),
                any::<u32>(),
                any::<[u8; 2]>(),
                any::<u32>(),
                any::<[u8; 8]>()
            )
                .prop_map(
                    |(common, stock, a, round_lot_size, issue_subtype, etp_leverage, f)| {
                        Message::StockDirectory(StockDirectory {
                            common,
                            stock,
                            market_category: a[0],
                            financial_status: a[1],
                            round_lot_size,
                            round_lots_only: a[2],
                            issue_classification: a[3],
                            issue_subtype,
                            authenticity: f[0],
                            short_sale_threshold: f[1],
                            ipo_flag: f[2],
                            luld_tier: f[3],
                            etp_flag: f[4],
                            etp_leverage,
                            inverse: f[5],
                        })
                    }
                ),
            (common(), s8(), any::<u8>(), any::<u8>(), any::<[u8; 4]>()).prop_map(
                |(common, stock, trading_state, reserved, reason)| {
                    Message::StockTradingAction(StockTradingAction {
                        common,
                        stock,
                        trading_state,
                        reserved,
                        reason,
                    })
                }
            ),
            (common(), s8(), any::<u8>()).prop_map(|(common, stock, action)| Message::RegSho(
                RegSho {
                    common,
                    stock,
                    action
                }
            )),
            (common(), any::<[u8; 4]>(), s8(), any::<[u8; 3]>()).prop_map(
                |(common, mpid, stock, f)| {
                    Message::MarketParticipantPosition(MarketParticipantPosition {
                        common,
                        mpid,
                        stock,
                        primary_market_maker: f[0],
                        market_maker_mode: f[1],
                        participant_state: f[2],
                    })
                }
            ),
            (common(), any::<[u64; 3]>()).prop_map(|(common, l)| {
                Message::MwcbDeclineLevel(MwcbDeclineLevel {
                    common,
                    level1: l[0],
                    level2: l[1],
                    level3: l[2],
                })
            }),
            (common(), any::<u8>()).prop_map(|(common, breached_level)| Message::MwcbStatus(
                MwcbStatus {
                    common,
                    breached_level
                }
            )),
            (common(), s8(), any::<u32>(), any::<u8>(), any::<u32>()).prop_map(
                |(common, stock, release_time, release_qualifier, ipo_price)| {
                    Message::IpoQuotingPeriod(IpoQuotingPeriod {
                        common,
                        stock,
                        release_time,
                        release_qualifier,
                        ipo_price,
                    })
                }
            ),
            (common(), s8(), any::<[u32; 4]>()).prop_map(|(common, stock, p)| {
                Message::LuldAuctionCollar(LuldAuctionCollar {
                    common,
                    stock,
                    reference_price: p[0],
                    upper_price: p[1],
                    lower_price: p[2],
                    extension: p[3],
                })
            }),
            (common(), s8(), any::<u8>(), any::<u8>()).prop_map(
                |(common, stock, market_code, action)| {
                    Message::OperationalHalt(OperationalHalt {
                        common,
                        stock,
                        market_code,
                        action,
                    })
                }
            ),
            (
                common(),
                any::<u64>(),
                side(),
                any::<u32>(),
                s8(),
                any::<u32>(),
                proptest::option::of(any::<[u8; 4]>())
            )
                .prop_map(
                    |(common, order_ref, side, shares, stock, price, attribution)| {
                        Message::AddOrder(AddOrder {
                            common,
                            order_ref,
                            side,
                            shares,
                            stock,
                            price,
                            attribution,
                        })
                    }
                ),
            (common(), any::<u64>(), any::<u32>(), any::<u64>()).prop_map(
                |(common, order_ref, executed_shares, match_number)| {
                    Message::OrderExecuted(OrderExecuted {
                        common,
                        order_ref,
                        executed_shares,
                        match_number,
                    })
                }
            ),
            (
                common(),
                any::<u64>(),
                any::<u32>(),
                any::<u64>(),
                any::<u8>(),
                any::<u32>()
            )
                .prop_map(
                    |(
                        common,
                        order_ref,
                        executed_shares,
                        match_number,
                        printable,
                        execution_price,
                    )| {
                        Message::OrderExecutedWithPrice(OrderExecutedWithPrice {
                            common,
                            order_ref,
                            executed_shares,
                            match_number,
                            printable,
                            execution_price,
                        })
                    }
                ),
            (common(), any::<u64>(), any::<u32>()).prop_map(
                |(common, order_ref, cancelled_shares)| Message::OrderCancel(OrderCancel {
                    common,
                    order_ref,
                    cancelled_shares
                })
            ),
            (common(), any::<u64>()).prop_map(|(common, order_ref)| Message::OrderDelete(
                OrderDelete { common, order_ref }
            )),
            (
                common(),
                any::<u64>(),
                any::<u64>(),
                any::<u32>(),
                any::<u32>()
            )
                .prop_map(|(common, original_ref, new_ref, shares, price)| {
                    Message::OrderReplace(OrderReplace {
                        common,
                        original_ref,
                        new_ref,
                        shares,
                        price,
                    })
                }),
            (
                common(),
                any::<u64>(),
                side(),
                any::<u32>(),
                s8(),
                any::<u32>(),
                any::<u64>()
            )
                .prop_map(
                    |(common, order_ref, side, shares, stock, price, match_number)| {
                        Message::Trade(Trade {
                            common,
                            order_ref,
                            side,
                            shares,
                            stock,
                            price,
                            match_number,
                        })
                    }
                ),
            (
                common(),
                any::<u64>(),
                s8(),
                any::<u32>(),
                any::<u64>(),
                any::<u8>()
            )
                .prop_map(
                    |(common, shares, stock, cross_price, match_number, cross_type)| {
                        Message::CrossTrade(CrossTrade {
                            common,
                            shares,
                            stock,
                            cross_price,
                            match_number,
                            cross_type,
                        })
                    }
                ),
            (common(), any::<u64>()).prop_map(|(common, match_number)| Message::BrokenTrade(
                BrokenTrade {
                    common,
                    match_number
                }
            )),
            (
                common(),
                any::<[u64; 2]>(),
                s8(),
                any::<[u32; 3]>(),
                any::<[u8; 3]>()
            )
                .prop_map(|(common, sh, stock, p, f)| {
                    Message::Noii(Noii {
                        common,
                        paired_shares: sh[0],
                        imbalance_shares: sh[1],
                        imbalance_direction: f[0],
                        stock,
                        far_price: p[0],
                        near_price: p[1],
                        current_reference_price: p[2],
                        cross_type: f[1],
                        price_variation: f[2],
                    })
                }),
            (common(), s8(), any::<u8>()).prop_map(|(common, stock, interest_flag)| Message::Rpii(
                Rpii {
                    common,
                    stock,
                    interest_flag
                }
            )),
            (common(), s8(), any::<u8>(), any::<[u32; 5]>(), any::<u64>()).prop_map(
                |(common, stock, open_eligibility, p, t)| {
                    Message::DlcrPriceDiscovery(DlcrPriceDiscovery {
                        common,
                        stock,
                        open_eligibility,
                        min_allowable_price: p[0],
                        max_allowable_price: p[1],
                        near_execution_price: p[2],
                        near_execution_time: t,
                        lower_price_range_collar: p[3],
                        upper_price_range_collar: p[4],
                    })
                }
            ),
        ]
    }

    proptest! {
        #[test]
        fn decode_inverts_encode(m in any_message()) {
            let mut b = Vec::new();
            encode(&m, &mut b);
            prop_assert_eq!(Some(b.len()), message_len(m.type_byte()));
            prop_assert_eq!(decode(&b), Ok(m));
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn typed_prefix_is_truncated(m in any_message(), cut in 1usize..50) {
            let mut b = Vec::new();
            encode(&m, &mut b);
            let cut = cut.min(b.len() - 1);
            let is_truncated = matches!(decode(&b[..cut]), Err(DecodeError::Truncated { .. }));
            prop_assert!(is_truncated);
        }
    }
}
