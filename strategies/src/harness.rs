//! Test harness: hand-built events through a real L3 book and the engine's one strategy runner
//! ([`ticklane_engine::runner`]), collecting
//! its signals (and, in `orders`, the orders it sends; in `sent`, every order action). Order
//! updates, written by the test as an exchange would send them, reach `on_order` through
//! [`Harness::update`].

use ticklane_engine::book::L3Books;
use ticklane_engine::runner::{OrderGateway, Runner};
use ticklane_engine::strategy::{Action, BookView, OrderIntent, OrderUpdate, Signal, Strategy};
use ticklane_engine::{Body, Event, Header, InstrumentIdx, Nanos, OrderId, Px, Qty, Side};

pub(crate) struct Harness<S: Strategy> {
    pub books: L3Books,
    runner: Runner<S>,
    next_id: u64,
    pub position: i64,
    /// Order updates written by the test, waiting for the next hook call.
    pending: Vec<OrderUpdate>,
    /// Every new order the strategy sent, in order.
    pub orders: Vec<OrderIntent>,
    /// Every order action (new, cancel, modify) the strategy sent, in order.
    pub sent: Vec<Action>,
}

/// The test's exchange: it records what the strategy sends and hands it the updates the test
/// wrote, a fill moving the position first (as the simulator does).
struct Recording<'a> {
    position: &'a mut i64,
    pending: &'a mut Vec<OrderUpdate>,
    orders: &'a mut Vec<OrderIntent>,
    sent: &'a mut Vec<Action>,
}

impl OrderGateway for Recording<'_> {
    fn position(&self, _: InstrumentIdx) -> i64 {
        *self.position
    }

    fn has_responses(&self, _: InstrumentIdx) -> bool {
        !self.pending.is_empty()
    }

    fn deliver(&mut self, _: InstrumentIdx, _: u64, f: &mut dyn FnMut(&OrderUpdate, i64)) {
        for u in self.pending.drain(..) {
            let q = u.last_qty.0 as i64;
            *self.position += if u.side == Side::Bid { q } else { -q };
            f(&u, *self.position);
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
    pub fn new(s: S) -> Self {
        Harness {
            books: L3Books::new(),
            runner: Runner::new(s, 2),
            next_id: 1,
            position: 0,
            pending: Vec::new(),
            orders: Vec::new(),
            sent: Vec::new(),
        }
    }

    /// The strategy under test.
    pub fn strategy(&mut self) -> &mut S {
        &mut self.runner.strategy
    }

    /// The engine's one runner for instrument `instr` at `now`: answers, timer, book hook,
    /// actions; returns the signals.
    fn hooks(&mut self, instr: InstrumentIdx, now: u64, book_changed: bool) -> Vec<Signal> {
        let mut gw = Recording {
            position: &mut self.position,
            pending: &mut self.pending,
            orders: &mut self.orders,
            sent: &mut self.sent,
        };
        let mut out = Vec::new();
        self.runner.run(
            instr,
            now,
            BookView::new(self.books.book(instr)),
            &mut gw,
            None,
            book_changed,
            &mut |sig| out.push(sig),
        );
        out
    }

    fn run(&mut self, ev: Event) -> Vec<Signal> {
        self.books.apply(&ev).unwrap();
        self.hooks(ev.hdr.instr, ev.hdr.ts_exch.0, true)
    }

    /// Delivers an order update, as the simulator does: a fill moves `position` first.
    pub fn update(&mut self, u: OrderUpdate) {
        self.pending.push(u);
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
