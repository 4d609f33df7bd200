//! Test harness: hand-built events through a real L3 book, and the same orders aggregated into
//! a real L2 book, each with its own instance of the strategy under the engine's one strategy
//! runner ([`ticklane_engine::runner`]) — both must agree at every step — collecting
//! its signals (and, in `orders`, the orders it sends; in `sent`, every order action). Order
//! updates, written by the test as an exchange would send them, reach `on_order` through
//! [`Harness::update`].

use std::collections::BTreeMap;

use ticklane_engine::book::{L2Books, L3Books};
use ticklane_engine::runner::{OrderGateway, Runner};
use ticklane_engine::strategy::{Action, BookView, OrderIntent, OrderUpdate, Signal, Strategy};
use ticklane_engine::{Body, Event, Header, InstrumentIdx, Nanos, OrderId, Px, Qty, Side};

/// What one strategy instance sent and heard. The harness runs two instances: one on an L3
/// book, one on the same orders aggregated into an L2 (price-level) book, each through the
/// engine's one runner; after every step both must have emitted the same signals and sent
/// the same actions, so every strategy test is an L3 test and an L2 test at once.
#[derive(Default)]
struct Ledger {
    position: i64,
    /// Order updates written by the test, waiting for the next hook call.
    pending: Vec<OrderUpdate>,
    orders: Vec<OrderIntent>,
    sent: Vec<Action>,
}

pub(crate) struct Harness<S: Strategy> {
    pub books: L3Books,
    l2: L2Books,
    // Resting orders (side, price, quantity) by id, to aggregate into `l2`'s levels.
    resting: BTreeMap<u64, (Side, i64, u64)>,
    l3_runner: Runner<S>,
    l2_runner: Runner<S>,
    l3: Ledger,
    l2_ledger: Ledger,
    next_id: u64,
    /// The position both instances are told (tests may set it).
    pub position: i64,
    /// Every new order the strategy sent, in order.
    pub orders: Vec<OrderIntent>,
    /// Every order action (new, cancel, modify) the strategy sent, in order.
    pub sent: Vec<Action>,
}

/// The test's exchange: it records what the strategy sends and hands it the updates the test
/// wrote, a fill moving the position first (as the simulator does).
impl OrderGateway for Ledger {
    fn position(&self, _: InstrumentIdx) -> i64 {
        self.position
    }

    fn has_responses(&self, _: InstrumentIdx) -> bool {
        !self.pending.is_empty()
    }

    fn deliver(&mut self, _: InstrumentIdx, _: u64, f: &mut dyn FnMut(&OrderUpdate, i64)) {
        for u in std::mem::take(&mut self.pending) {
            let q = u.last_qty.0 as i64;
            self.position += if u.side == Side::Bid { q } else { -q };
            f(&u, self.position);
        }
    }

    fn submit(&mut self, _: InstrumentIdx, _: u64, action: &Action) {
        if let Action::Order(o) = action {
            self.orders.push(*o);
        }
        self.sent.push(*action);
    }
}

impl<S: Strategy> Harness<S> {
    /// A harness running the strategy `make` builds, twice (L3 and L2 books).
    pub fn new(make: impl Fn() -> S) -> Self {
        Harness {
            books: L3Books::new(),
            l2: L2Books::new(),
            resting: BTreeMap::new(),
            l3_runner: Runner::new(make(), 2),
            l2_runner: Runner::new(make(), 2),
            l3: Ledger::default(),
            l2_ledger: Ledger::default(),
            next_id: 1,
            position: 0,
            orders: Vec::new(),
            sent: Vec::new(),
        }
    }

    /// The strategy under test (the instance on the L3 book).
    pub fn strategy(&mut self) -> &mut S {
        &mut self.l3_runner.strategy
    }

    /// The engine's one runner for instrument `instr` at `now`, on both books: answers, timer,
    /// book hook, actions. Returns the signals, checking both instances gave the same.
    fn hooks(&mut self, instr: InstrumentIdx, now: u64, book_changed: bool) -> Vec<Signal> {
        // Tests set the position directly, as an exchange's fills would have moved it.
        self.l3.position = self.position;
        self.l2_ledger.position = self.position;
        let mut out = Vec::new();
        self.l3_runner.run(
            instr,
            now,
            BookView::new(self.books.book(instr)),
            &mut self.l3,
            None,
            book_changed,
            &mut |sig| out.push(sig),
        );
        let mut l2_out = Vec::new();
        let view = self
            .l2
            .book(instr)
            .map_or(BookView::new(None), BookView::of);
        self.l2_runner.run(
            instr,
            now,
            view,
            &mut self.l2_ledger,
            None,
            book_changed,
            &mut |sig| l2_out.push(sig),
        );
        assert_eq!(
            out, l2_out,
            "signals on the L3 book and on the L2 book differ"
        );
        assert_eq!(
            self.l3.sent, self.l2_ledger.sent,
            "actions differ between L3 and L2"
        );
        assert_eq!(self.l3.position, self.l2_ledger.position);
        self.position = self.l3.position;
        self.orders.clone_from(&self.l3.orders);
        self.sent.clone_from(&self.l3.sent);
        out
    }

    fn run(&mut self, ev: Event) -> Vec<Signal> {
        self.books.apply(&ev).unwrap();
        // The same change as a price level: the level's new total.
        let (side, px, delta) = match ev.body {
            Body::Add {
                order_id,
                px,
                qty,
                side,
            } => {
                self.resting.insert(order_id.0, (side, px.0, qty.0));
                (side, px.0, qty.0 as i64)
            }
            Body::Delete { order_id } => {
                let (side, px, qty) = self.resting.remove(&order_id.0).unwrap();
                (side, px, -(qty as i64))
            }
            other => panic!("the harness adds and deletes orders, not {other:?}"),
        };
        let book = self.l2.book_mut(ev.hdr.instr);
        let now = book.level(side, Px(px)).map_or(0, |l| l.qty.0 as i64);
        book.set(side, Px(px), Qty((now + delta).max(0) as u64));
        self.hooks(ev.hdr.instr, ev.hdr.ts_exch.0, true)
    }

    /// Delivers an order update, as the simulator does: a fill moves `position` first.
    pub fn update(&mut self, u: OrderUpdate) {
        self.l3.pending.push(u);
        self.l2_ledger.pending.push(u);
        self.hooks(InstrumentIdx(1), u.ts_exch.0, false);
    }

    /// Adds an order; returns its id and the signals.
    pub fn add(&mut self, side: Side, px: i64, qty: u64) -> (u64, Vec<Signal>) {
        let id = self.next_id;
        self.next_id += 1;
        let hdr = Header {
            instr: InstrumentIdx(1),
            ts_exch: Nanos(id),
            ..Header::default()
        };
        (
            id,
            self.run(Event {
                hdr,
                body: Body::Add {
                    order_id: OrderId(id),
                    px: Px(px),
                    qty: Qty(qty),
                    side,
                },
            }),
        )
    }

    pub fn delete(&mut self, id: u64) -> Vec<Signal> {
        let hdr = Header {
            instr: InstrumentIdx(1),
            ..Header::default()
        };
        self.run(Event {
            hdr,
            body: Body::Delete {
                order_id: OrderId(id),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticklane_engine::strategy::{Ctx, SignalKind};

    /// Signals when two or more orders rest at the best bid: a fact of the L3 book that an L2
    /// book (price levels without order counts) cannot show.
    struct CountsOrders;

    impl Strategy for CountsOrders {
        fn name(&self) -> &'static str {
            "counts_orders"
        }

        fn on_book(&mut self, ctx: &mut Ctx<'_>) {
            if ctx.book.top().bid.is_some_and(|l| l.orders >= 2) {
                ctx.signal(Signal {
                    kind: SignalKind::Alert,
                    side: None,
                    value: 0.0,
                });
            }
        }
    }

    #[test]
    fn price_level_facts_agree_on_both_books() {
        let mut h = Harness::new(|| CountsOrders);
        assert!(h.add(Side::Bid, 100, 5).1.is_empty());
        assert!(h.add(Side::Ask, 101, 5).1.is_empty());
        let (id, _) = h.add(Side::Bid, 99, 5);
        assert!(h.delete(id).is_empty());
    }

    #[test]
    #[should_panic(expected = "signals on the L3 book and on the L2 book differ")]
    fn a_strategy_reading_order_counts_is_caught() {
        let mut h = Harness::new(|| CountsOrders);
        h.add(Side::Bid, 100, 5);
        h.add(Side::Bid, 100, 7);
    }
}
