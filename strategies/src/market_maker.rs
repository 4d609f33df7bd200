//! A simple market maker quoting around the microprice with inventory skew.
//!
//! The idea: rest a bid and an ask `half_spread` ticks either side of the microprice, and lean
//! both quotes against the position (a long position lowers both, so the ask is likelier to
//! fill and the bid less), by `skew` ticks per lot of position, within `max_position`. Quotes
//! change only when a price changes: two `quote` signals (value = price in ticks), and for the
//! orders: a post-only order on a side with none working, a modify of the working one to the
//! new price, or a cancel when a side stops quoting.
//!
//! Two rules keep the orders honest:
//!
//! - **The limit counts what could still fill.** `max_position` bounds the position a run can
//!   reach, not the position at the time of quoting: a bid is sized so that the position plus
//!   everything the bid could still buy stays within the limit (the ask likewise). Fills arrive
//!   after a response latency, so what "could still fill" is counted conservatively: an order's
//!   quantity counts until the exchange says it is gone, and while a modify is on its way the
//!   old remainder (which may still fill) counts on top of the new one. One request per side is
//!   in flight at a time, so this bound stays exact once the answer arrives.
//! - **A refused quote waits for a price change.** A post-only quote (or modify) the exchange
//!   refused (it would have crossed) is not sent again at the same price until that price or
//!   the best price of the side it would have crossed changes; re-sending it on every book
//!   event only collects rejects.

use serde::Deserialize;
use ticklane_engine::config::{Range, RangeError};
use ticklane_engine::indicators::book::microprice;
use ticklane_engine::strategy::{
    Ctx, OrderIntent, OrderStatus, OrderUpdate, RejectReason, Signal, SignalKind, Strategy, Tif,
};
use ticklane_engine::{Px, Qty, Side};

use crate::limits;
use crate::per_instr::PerInstr;

/// Configuration. Each key's valid range is the associated constant of its name in capitals,
/// checked by [`validate`](Self::validate) when the registry builds the strategy. Ticks and lots
/// are the data's (ITCH: $0.0001 and a share; the L2 crypto captures: 1e-8 of the quote
/// currency and of the coin), hence the wide ranges.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MarketMakerConfig {
    /// Distance of each quote from the microprice, in ticks
    /// ([`HALF_SPREAD`](Self::HALF_SPREAD): 0..=1e12).
    pub half_spread: f64,
    /// Quote shift per lot of position, in ticks (against the position)
    /// ([`SKEW`](Self::SKEW): 0..=1e9).
    pub skew: f64,
    /// Quote size, lots ([`SIZE`](crate::limits::SIZE)).
    pub size: u64,
    /// Bound on the absolute position, lots: each side is sized so that the position plus what
    /// its working order could still fill stays within it, and stops quoting at the limit
    /// ([`MAX_POSITION`](crate::limits::MAX_POSITION)).
    pub max_position: i64,
    /// Price grid: quotes are rounded to multiples of this many ticks (100 = one cent in ITCH)
    /// ([`TICK`](Self::TICK): 1..=1e12).
    pub tick: i64,
}

impl MarketMakerConfig {
    /// Valid `half_spread` (1e12 ticks: $100M on ITCH, 10,000 USDT on Binance).
    pub const HALF_SPREAD: Range<f64> =
        Range::new(0.0, 1e12, "ticks from the microprice to each quote");
    /// Valid `skew`.
    pub const SKEW: Range<f64> = Range::new(0.0, 1e9, "ticks of shift per lot of position");
    /// Valid `tick`.
    pub const TICK: Range<i64> = Range::new(1, 1_000_000_000_000, "price grid, ticks");

    /// Checks every key against its range.
    ///
    /// # Errors
    /// The first key out of range.
    pub fn validate(&self) -> Result<(), RangeError> {
        Self::HALF_SPREAD.check("half_spread", self.half_spread)?;
        Self::SKEW.check("skew", self.skew)?;
        limits::SIZE.check("size", self.size)?;
        limits::MAX_POSITION.check("max_position", self.max_position)?;
        Self::TICK.check("tick", self.tick)?;
        Ok(())
    }
}

impl Default for MarketMakerConfig {
    fn default() -> Self {
        MarketMakerConfig {
            half_spread: 100.0,
            skew: 1.0,
            size: 100,
            max_position: 1000,
            tick: 100,
        }
    }
}

/// One side's order: its client id, price and how much of it could still fill.
///
/// `commit` bounds the total quantity the order can ever fill; `filled` is what fills reported
/// so far (already in the position the strategy sees). `commit - filled` is what could still
/// fill, and it counts until the exchange says the order is gone *and* every fill of it has been
/// reported.
#[derive(Clone, Copy, Debug, Default)]
struct Quote {
    /// `None`: no order on this side.
    id: Option<u64>,
    /// The order's price once the request in flight is done; `None` while a cancel is.
    px: Option<i64>,
    commit: u64,
    filled: u64,
    /// A new order, modify or cancel is on its way; nothing else is sent for this side until
    /// its answer arrives.
    pending: bool,
    /// The exchange accepted it (a refusal with nothing left then means "gone", not "refused").
    accepted: bool,
    /// The exchange no longer has it; the slot frees once its fills are all reported.
    gone: bool,
}

impl Quote {
    /// What the order could still fill, lots.
    fn open(&self) -> u64 {
        self.commit.saturating_sub(self.filled)
    }
}

/// A quote (new order or modify) the exchange refused: not sent again while the price we want for the side
/// is still `px` and the opposite best price (the one it would have crossed) is still `opp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Backoff {
    px: i64,
    opp: Option<i64>,
}

/// Per-instrument state.
#[derive(Clone, Debug, Default)]
struct Book {
    /// Last (bid, ask) target prices, for the quote signals.
    target: (Option<i64>, Option<i64>),
    /// Orders, bid and ask.
    quotes: [Quote; 2],
    /// Refused quotes waiting for a price change, bid and ask.
    backoff: [Option<Backoff>; 2],
    next_id: u64,
}

/// The strategy.
#[derive(Clone, Debug, Default)]
pub struct MarketMaker {
    cfg: MarketMakerConfig,
    books: PerInstr<Book>,
}

impl MarketMaker {
    /// With `cfg`.
    pub fn new(cfg: MarketMakerConfig) -> Self {
        MarketMaker {
            cfg,
            books: PerInstr::default(),
        }
    }

    /// The (bid, ask) quote prices for a fair value and a position.
    pub fn quote_prices(&self, fair: f64, position: i64) -> (Option<i64>, Option<i64>) {
        let c = &self.cfg;
        let tick = c.tick.max(1) as f64;
        let center = fair - c.skew * position as f64;
        // Saturating: a half spread or skew far beyond any price (a config value) puts the
        // quote at the end of the i64 grid instead of overflowing.
        let bid = (((center - c.half_spread) / tick).floor() as i64).saturating_mul(c.tick.max(1));
        let ask = (((center + c.half_spread) / tick).ceil() as i64).saturating_mul(c.tick.max(1));
        let bid = (position < c.max_position && bid > 0).then_some(bid);
        let ask = (position > -c.max_position)
            .then_some(ask.max(bid.map_or(0, |b| b.saturating_add(c.tick.max(1)))));
        (bid, ask)
    }

    /// Lots `side` may still commit at `position` before the limit: the position plus what a
    /// bid could buy stays at or below `max_position`; minus what an ask could sell, at or
    /// above `-max_position`.
    fn room(&self, side: Side, position: i64) -> u64 {
        let max = self.cfg.max_position;
        let room = match side {
            Side::Bid => max.saturating_sub(position),
            Side::Ask => max.saturating_add(position),
        };
        u64::try_from(room).unwrap_or(0)
    }
}

impl Strategy for MarketMaker {
    fn name(&self) -> &'static str {
        "market_maker"
    }

    fn on_book(&mut self, ctx: &mut Ctx<'_>) {
        let top = ctx.book.top();
        let Some(fair) = microprice(&top) else {
            return;
        };
        let (bid, ask) = self.quote_prices(fair, ctx.position);
        let room = [
            self.room(Side::Bid, ctx.position),
            self.room(Side::Ask, ctx.position),
        ];
        let size = self.cfg.size;
        let st = self.books.get_or(ctx.instr, Book::default);
        if st.target != (bid, ask) {
            st.target = (bid, ask);
            for (side, px) in [(Side::Bid, bid), (Side::Ask, ask)] {
                if let Some(px) = px {
                    ctx.signal(Signal {
                        kind: SignalKind::Quote,
                        side: Some(side),
                        value: px as f64,
                    });
                }
            }
        }
        for (side, want) in [(Side::Bid, bid), (Side::Ask, ask)] {
            let i = side.index();
            let opp = match side {
                Side::Bid => top.ask,
                Side::Ask => top.bid,
            }
            .map(|l| l.px.0);
            if let Some(b) = st.backoff[i] {
                if want == Some(b.px) && opp == b.opp {
                    continue;
                }
                st.backoff[i] = None;
            }
            let q = &mut st.quotes[i];
            if q.pending || q.gone {
                continue;
            }
            match (q.id, want) {
                (Some(_), w) if q.px == w => {}
                (Some(id), None) => {
                    if ctx.cancel(id) {
                        q.px = None;
                        q.pending = true;
                    }
                }
                (Some(id), Some(px)) => {
                    // Until the modify arrives the old remainder may still fill, and the
                    // modify then rests its full quantity: both count.
                    let qty = size.min(room[i].saturating_sub(q.open()));
                    if qty == 0 {
                        if ctx.cancel(id) {
                            q.px = None;
                            q.pending = true;
                        }
                    } else if ctx.modify(id, Px(px), Qty(qty)) {
                        q.px = Some(px);
                        q.commit += qty;
                        q.pending = true;
                    }
                }
                (None, Some(px)) => {
                    let qty = size.min(room[i]);
                    if qty == 0 {
                        continue;
                    }
                    st.next_id += 1;
                    let id = st.next_id;
                    if ctx.order(OrderIntent {
                        client_id: id,
                        side,
                        px: Some(Px(px)),
                        qty: Qty(qty),
                        tif: Tif::PostOnly,
                    }) {
                        *q = Quote {
                            id: Some(id),
                            px: Some(px),
                            commit: qty,
                            pending: true,
                            ..Quote::default()
                        };
                    }
                }
                (None, None) => {}
            }
        }
    }

    fn on_order(&mut self, ctx: &mut Ctx<'_>, u: &OrderUpdate) {
        let top = ctx.book.top();
        let st = self.books.get_or(ctx.instr, Book::default);
        let Some(i) = st.quotes.iter().position(|q| q.id == Some(u.client_id)) else {
            return;
        };
        let q = &mut st.quotes[i];
        q.filled += u.last_qty.0;
        match u.status {
            OrderStatus::Accepted => {
                q.accepted = true;
                q.pending = false;
            }
            OrderStatus::Modified => {
                // The exact total now: what filled before the modify plus what rests.
                q.commit = u.filled.0 + u.leaves.0;
                q.pending = false;
            }
            OrderStatus::PartiallyFilled => {}
            OrderStatus::Filled | OrderStatus::Cancelled => {
                q.commit = u.filled.0;
                q.pending = false;
                q.gone = true;
            }
            OrderStatus::Rejected(why) => {
                // The price asked for (a refused modify reports the order's old one); an
                // unknown order is one that filled, not a refused price.
                let asked = q.px.filter(|_| why != RejectReason::UnknownOrder);
                q.pending = false;
                if u.leaves.0 > 0 {
                    // A refused modify: the order still works at its old price.
                    q.px = u.px.map(|p| p.0);
                    q.commit = u.filled.0 + u.leaves.0;
                } else if q.accepted {
                    // A cancel or modify of an order the exchange no longer has: it filled,
                    // and that report settles the slot.
                    q.gone = true;
                } else {
                    // A refused new order: it never rested.
                    q.commit = 0;
                    q.gone = true;
                }
                if let Some(px) = asked {
                    let opp = if i == Side::Bid.index() {
                        top.ask
                    } else {
                        top.bid
                    };
                    st.backoff[i] = Some(Backoff {
                        px,
                        opp: opp.map(|l| l.px.0),
                    });
                }
            }
        }
        let q = &mut st.quotes[i];
        if q.gone && q.filled >= q.commit {
            // Gone and settled: the next book change quotes this side afresh.
            *q = Quote::default();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::Harness;
    use ticklane_engine::strategy::{Action, Liquidity};
    use ticklane_engine::{InstrumentIdx, Nanos};

    /// An update for `o` as the exchange sends it: `fill` lots traded now, `filled` so far,
    /// `leaves` still resting, at `px`.
    fn upd(
        o: &OrderIntent,
        status: OrderStatus,
        fill: u64,
        filled: u64,
        leaves: u64,
    ) -> OrderUpdate {
        OrderUpdate {
            client_id: o.client_id,
            status,
            side: o.side,
            px: o.px,
            last_px: o.px.unwrap_or_default(),
            last_qty: Qty(fill),
            liquidity: (fill > 0).then_some(Liquidity::Maker),
            filled: Qty(filled),
            leaves: Qty(leaves),
            ts_exch: Nanos(0),
        }
    }

    /// What the position could reach if every working bid filled, and (negated) every ask.
    fn worst(h: &mut Harness<MarketMaker>) -> (i64, i64) {
        let st = h.strategy().books.get_or(InstrumentIdx(1), Book::default);
        let [b, a] = st.quotes.map(|q| q.open() as i64);
        (h.position + b, h.position - a)
    }

    fn modifies(h: &Harness<MarketMaker>) -> Vec<(u64, i64, u64)> {
        h.sent
            .iter()
            .filter_map(|a| match *a {
                Action::Modify { client_id, px, qty } => Some((client_id, px.0, qty.0)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_refused_quote_waits_for_a_price_change() {
        let mut h = Harness::new(|| MarketMaker::new(MarketMakerConfig::default()));
        h.add(Side::Bid, 10_000, 100);
        h.add(Side::Ask, 10_100, 100); // microprice 10050: bid 9900, ask 10200
        assert_eq!(h.orders.len(), 2);
        let (bid, ask) = (h.orders[0], h.orders[1]);
        assert_eq!((bid.px, ask.px), (Some(Px(9_900)), Some(Px(10_200))));
        h.update(upd(&ask, OrderStatus::Accepted, 0, 0, 100));
        // The bid would have crossed when it arrived.
        h.update(upd(
            &bid,
            OrderStatus::Rejected(RejectReason::WouldCross),
            0,
            0,
            0,
        ));
        for i in 0..5 {
            // Deeper orders: the same top, the same quotes.
            h.add(Side::Bid, 9_000 - i, 100);
            h.add(Side::Ask, 11_000 + i, 100);
        }
        assert_eq!(
            h.orders.len(),
            2,
            "re-sent with no price change: {:?}",
            h.orders
        );
        // The best ask moves (microprice 10045: still bid 9900): the bid is worth one more try.
        h.add(Side::Ask, 10_090, 100);
        assert_eq!(h.orders.len(), 3);
        let bid = h.orders[2];
        assert_eq!((bid.side, bid.px), (Side::Bid, Some(Px(9_900))));
        h.update(upd(&bid, OrderStatus::Accepted, 0, 0, 100));

        // A refused modify backs off the same way; the order keeps working at its old price.
        let bid_modifies = |h: &Harness<MarketMaker>| {
            modifies(h)
                .into_iter()
                .filter(|m| m.0 == bid.client_id)
                .collect::<Vec<_>>()
        };
        h.position = -200; // center 10245: bid 10100, through the best ask (10090)
        h.add(Side::Bid, 100, 1);
        assert_eq!(bid_modifies(&h), vec![(bid.client_id, 10_100, 100)]);
        h.update(OrderUpdate {
            px: Some(Px(9_900)),
            ..upd(
                &bid,
                OrderStatus::Rejected(RejectReason::WouldCross),
                0,
                0,
                100,
            )
        });
        for i in 0..5 {
            h.add(Side::Bid, 200 + i, 1);
            h.add(Side::Ask, 10_500 + i, 1);
        }
        assert_eq!(bid_modifies(&h).len(), 1, "re-sent: {:?}", bid_modifies(&h));
        // The best ask moves: microprice (10000*1 + 10087*100)/101 = 10086.1, center 10286.1,
        // still bid 10100: one more try.
        h.add(Side::Ask, 10_087, 1);
        assert_eq!(bid_modifies(&h).len(), 2);
    }

    #[test]
    fn an_order_that_filled_under_a_modify_is_quoted_again_without_waiting() {
        let mut h = Harness::new(|| {
            MarketMaker::new(MarketMakerConfig {
                skew: 0.0,
                ..MarketMakerConfig::default()
            })
        });
        h.add(Side::Bid, 10_000, 100); // book order 1
        h.add(Side::Ask, 10_100, 100); // bid 9900
        let bid = h.orders[0];
        h.update(upd(&bid, OrderStatus::Accepted, 0, 0, 100));
        h.add(Side::Bid, 9_800, 100);
        h.delete(1); // bid 9800: a modify
        assert_eq!(modifies(&h).len(), 1);
        // The order filled before the modify arrived; the refusal is heard of first, then
        // the fill. The side is not backed off: the fill, not the price, ended it.
        h.update(upd(
            &bid,
            OrderStatus::Rejected(RejectReason::UnknownOrder),
            0,
            0,
            0,
        ));
        h.add(Side::Ask, 10_500, 1);
        assert_eq!(h.orders.len(), 2, "not before the fill is reported");
        h.update(upd(&bid, OrderStatus::Filled, 100, 100, 0));
        h.add(Side::Ask, 10_501, 1); // no price change
        assert_eq!(h.orders.len(), 3);
        assert_eq!(
            (h.orders[2].side, h.orders[2].px),
            (Side::Bid, Some(Px(9_800)))
        );
    }

    #[test]
    fn a_new_quote_is_sized_to_the_room_left() {
        let mut h = Harness::new(|| {
            MarketMaker::new(MarketMakerConfig {
                skew: 0.0,
                ..MarketMakerConfig::default()
            })
        });
        h.position = 950;
        h.add(Side::Bid, 10_000, 100);
        h.add(Side::Ask, 10_100, 100);
        let q: Vec<_> = h.orders.iter().map(|o| (o.side, o.qty.0)).collect();
        // Buying 100 at 950 would end at 1050.
        assert_eq!(q, vec![(Side::Bid, 50), (Side::Ask, 100)]);
        assert_eq!(worst(&mut h), (1_000, 850));
    }

    #[test]
    fn partial_fills_and_modifies_never_pass_the_limit() {
        let mut h = Harness::new(|| {
            MarketMaker::new(MarketMakerConfig {
                skew: 0.0,
                max_position: 150,
                ..MarketMakerConfig::default()
            })
        });
        h.add(Side::Bid, 10_000, 100); // book order 1
        h.add(Side::Ask, 10_100, 100); // microprice 10050: bid 9900 x 100
        let bid = h.orders[0];
        assert_eq!((bid.side, bid.qty), (Side::Bid, Qty(100)));
        h.update(upd(&bid, OrderStatus::Accepted, 0, 0, 100));
        h.update(upd(&bid, OrderStatus::PartiallyFilled, 60, 60, 40));
        assert_eq!((h.position, worst(&mut h).0), (60, 100));
        // The best bid drops to 9800: microprice 9950, bid 9800. The 40 left may still fill
        // before the modify arrives, and the modify then rests its whole size:
        // 60 + 40 + q <= 150, so q = 50 (not the full 100).
        h.add(Side::Bid, 9_800, 100);
        h.delete(1);
        assert_eq!(modifies(&h), vec![(bid.client_id, 9_800, 50)]);
        assert_eq!(worst(&mut h).0, 150);
        // The old order trades 30 more, then the modify lands: 90 filled, 50 resting.
        h.update(upd(&bid, OrderStatus::PartiallyFilled, 30, 90, 10));
        assert!(worst(&mut h).0 <= 150);
        h.update(upd(&bid, OrderStatus::Modified, 0, 90, 50));
        assert_eq!((h.position, worst(&mut h).0), (90, 140));
        h.update(upd(&bid, OrderStatus::Filled, 50, 140, 0));
        assert_eq!((h.position, worst(&mut h).0), (140, 140));
        // The side is free again: a fresh bid for the 10 lots left.
        h.add(Side::Ask, 10_300, 1);
        let last = *h.orders.last().unwrap();
        assert_eq!((last.side, last.qty), (Side::Bid, Qty(10)));
        assert_eq!(worst(&mut h).0, 150);
        // At the limit the bid is cancelled; it still counts until the cancel is answered.
        h.update(upd(&last, OrderStatus::Accepted, 0, 0, 10));
        let n = h.sent.len();
        h.position = 150;
        h.add(Side::Ask, 10_301, 1);
        assert!(
            matches!(h.sent[n..], [Action::Cancel { client_id }] if client_id == last.client_id),
            "{:?}",
            &h.sent[n..]
        );
        h.position = 140;
        h.add(Side::Ask, 10_302, 1);
        assert_eq!(
            h.sent.len(),
            n + 1,
            "nothing more while the cancel is on its way"
        );
        assert_eq!(worst(&mut h).0, 150);
    }

    /// Found by the config fuzz target: `half_spread = 1.4e60, tick = 552` overflowed the
    /// multiplication back onto the tick grid (a panic in debug builds).
    #[test]
    fn a_huge_half_spread_does_not_overflow() {
        let mm = MarketMaker::new(MarketMakerConfig {
            half_spread: 1.4e60,
            tick: 552,
            ..MarketMakerConfig::default()
        });
        let (bid, ask) = mm.quote_prices(10_050.0, 0);
        assert_eq!(bid, None, "the bid is below zero");
        assert_eq!(ask, Some(i64::MAX));
        let mm = MarketMaker::new(MarketMakerConfig {
            half_spread: -1.4e60,
            tick: 552,
            ..MarketMakerConfig::default()
        });
        assert_eq!(
            mm.quote_prices(10_050.0, 0),
            (Some(i64::MAX), Some(i64::MAX))
        );
    }

    #[test]
    fn quotes_skew_against_inventory() {
        let mm = MarketMaker::new(MarketMakerConfig::default()); // half 100, skew 1, tick 100, max 1000
                                                                 // fair 10050: bid floor(99.5) * 100 = 9900, ask ceil(101.5) * 100 = 10200.
        assert_eq!(mm.quote_prices(10_050.0, 0), (Some(9_900), Some(10_200)));
        // Long 50: center 10000: bid 9900, ask 10100 (the ask comes closer).
        assert_eq!(mm.quote_prices(10_050.0, 50), (Some(9_900), Some(10_100)));
        // Short 50: center 10100: bid 10000, ask 10200.
        assert_eq!(mm.quote_prices(10_050.0, -50), (Some(10_000), Some(10_200)));
        // At the limit, stop bidding.
        assert_eq!(mm.quote_prices(10_050.0, 1_000).0, None);
    }

    #[test]
    fn requotes_only_when_a_price_changes() {
        let mut h = Harness::new(|| MarketMaker::new(MarketMakerConfig::default()));
        assert!(h.add(Side::Bid, 10_000, 100).1.is_empty());
        let (_, s) = h.add(Side::Ask, 10_100, 100); // microprice 10050
        let q: Vec<_> = s.iter().map(|x| (x.kind, x.side, x.value)).collect();
        assert_eq!(
            q,
            vec![
                (SignalKind::Quote, Some(Side::Bid), 9_900.0),
                (SignalKind::Quote, Some(Side::Ask), 10_200.0)
            ]
        );
        assert!(
            h.add(Side::Bid, 9_000, 100).1.is_empty(),
            "deep order: same microprice, same quotes"
        );
        // More bid size: microprice (10000*100 + 10100*300) / 400 = 10075: bid 9900, ask 10200: same.
        assert!(h.add(Side::Bid, 10_000, 200).1.is_empty());
        h.position = 60; // center 10015: bid 9900, ask 10200 -> ceil(101.15) = 102: same
        let (_, s) = h.add(Side::Ask, 10_100, 1_000); // microprice (10000*1100 + 10100*300)/1400 = 10021.4; center 9961.4: bid 9800, ask 10100
        let q: Vec<_> = s.iter().map(|x| x.value).collect();
        assert_eq!(q, vec![9_800.0, 10_100.0]);
    }
}
