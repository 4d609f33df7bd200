//! A simple market maker quoting around the microprice with inventory skew.
//!
//! The idea: rest a bid and an ask `half_spread` ticks either side of the microprice, and lean
//! both quotes against the position (a long position lowers both, so the ask is likelier to
//! fill and the bid less), by `skew` ticks per lot of position, within `max_position`. Quotes
//! change only when a price changes: two `quote` signals (value = price in ticks), and for the
//! orders: a post-only order of `size` lots on a side with none working, a modify of the working
//! one to the new price, or a cancel when a side stops quoting. Order updates keep track of
//! which quotes are still working (a filled, cancelled or rejected quote is replaced on the next
//! book change).

use serde::Deserialize;
use ticklane_engine::indicators::book::microprice;
use ticklane_engine::strategy::{
    Ctx, OrderIntent, OrderStatus, OrderUpdate, Signal, SignalKind, Strategy, Tif,
};
use ticklane_engine::{Px, Qty, Side};

use crate::per_instr::PerInstr;

/// Configuration.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MarketMakerConfig {
    /// Distance of each quote from the microprice, in ticks.
    pub half_spread: f64,
    /// Quote shift per lot of position, in ticks (against the position).
    pub skew: f64,
    /// Quote size, lots.
    pub size: u64,
    /// Stop quoting the side that would grow the position beyond this, lots.
    pub max_position: i64,
    /// Price grid: quotes are rounded to multiples of this many ticks (100 = one cent in ITCH).
    pub tick: i64,
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

/// One side's working quote: its client id and price.
#[derive(Clone, Copy, Debug, Default)]
struct Quote {
    id: Option<u64>,
    px: Option<i64>,
}

/// Per-instrument state.
#[derive(Clone, Debug, Default)]
struct Book {
    /// Last (bid, ask) target prices, for the quote signals.
    target: (Option<i64>, Option<i64>),
    /// Working orders, bid and ask.
    quotes: [Quote; 2],
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
}

impl Strategy for MarketMaker {
    fn name(&self) -> &'static str {
        "market_maker"
    }

    fn on_book(&mut self, ctx: &mut Ctx<'_>) {
        let Some(fair) = microprice(&ctx.book.top()) else {
            return;
        };
        let (bid, ask) = self.quote_prices(fair, ctx.position);
        let size = Qty(self.cfg.size);
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
            let q = &mut st.quotes[side.index()];
            match (q.id, want) {
                (Some(_), w) if q.px == w => {}
                (Some(id), None) => {
                    ctx.cancel(id);
                    *q = Quote::default();
                }
                (Some(id), Some(px)) => {
                    ctx.modify(id, Px(px), size);
                    q.px = Some(px);
                }
                (None, Some(px)) => {
                    st.next_id += 1;
                    let id = st.next_id;
                    if ctx.order(OrderIntent {
                        client_id: id,
                        side,
                        px: Some(Px(px)),
                        qty: size,
                        tif: Tif::PostOnly,
                    }) {
                        *q = Quote {
                            id: Some(id),
                            px: Some(px),
                        };
                    }
                }
                (None, None) => {}
            }
        }
    }

    fn on_order(&mut self, ctx: &mut Ctx<'_>, u: &OrderUpdate) {
        if matches!(u.status, OrderStatus::Rejected(_)) && u.leaves.0 > 0 {
            // A refused modify: the order still works at its old price.
            let st = self.books.get_or(ctx.instr, Book::default);
            for q in st.quotes.iter_mut() {
                if q.id == Some(u.client_id) {
                    q.px = u.px.map(|p| p.0);
                }
            }
            return;
        }
        let done = matches!(
            u.status,
            OrderStatus::Filled | OrderStatus::Cancelled | OrderStatus::Rejected(_)
        );
        if !done {
            return;
        }
        let st = self.books.get_or(ctx.instr, Book::default);
        for q in st.quotes.iter_mut() {
            if q.id == Some(u.client_id) {
                // Gone: the next book change quotes this side afresh.
                *q = Quote::default();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::Harness;

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
        let mut h = Harness::new(MarketMaker::new(MarketMakerConfig::default()));
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
