//! Test harness: hand-built events through a real L3 book and a strategy's hooks, collecting
//! its signals (and, in `orders`, the orders it sends; in `sent`, every order action). Order
//! updates, written by the test as an exchange would send them, reach `on_order` through
//! [`Harness::update`].

use ticklane_engine::book::L3Books;
use ticklane_engine::strategy::{
    Action, Actions, BookView, Ctx, OrderIntent, OrderUpdate, Signal, Strategy,
};
use ticklane_engine::{Body, Event, Header, InstrumentIdx, Nanos, OrderId, Px, Qty, Side};

pub(crate) struct Harness<S: Strategy> {
    pub books: L3Books,
    pub s: S,
    actions: Actions,
    next_id: u64,
    pub position: i64,
    /// Every new order the strategy sent, in order.
    pub orders: Vec<OrderIntent>,
    /// Every order action (new, cancel, modify) the strategy sent, in order.
    pub sent: Vec<Action>,
}

impl<S: Strategy> Harness<S> {
    pub fn new(s: S) -> Self {
        Harness {
            books: L3Books::new(),
            s,
            actions: Actions::default(),
            next_id: 1,
            position: 0,
            orders: Vec::new(),
            sent: Vec::new(),
        }
    }

    fn run(&mut self, ev: Event) -> Vec<Signal> {
        self.books.apply(&ev).unwrap();
        let mut ctx = Ctx {
            instr: ev.hdr.instr,
            now: ev.hdr.ts_exch,
            book: BookView::new(self.books.book(ev.hdr.instr)),
            position: self.position,
            actions: &mut self.actions,
        };
        self.s.on_book(&mut ctx);
        self.take_orders();
        let out = self
            .actions
            .as_slice()
            .iter()
            .filter_map(|a| {
                if let Action::Signal(s) = a {
                    Some(*s)
                } else {
                    None
                }
            })
            .collect();
        self.actions.clear();
        out
    }

    fn take_orders(&mut self) {
        for a in self.actions.as_slice() {
            match a {
                Action::Signal(_) => continue,
                Action::Order(o) => self.orders.push(*o),
                _ => {}
            }
            self.sent.push(*a);
        }
    }

    /// Delivers an order update, as the simulator does: a fill moves `position` first.
    pub fn update(&mut self, u: OrderUpdate) {
        let q = u.last_qty.0 as i64;
        self.position += if u.side == Side::Bid { q } else { -q };
        let instr = InstrumentIdx(1);
        let mut ctx = Ctx {
            instr,
            now: u.ts_exch,
            book: BookView::new(self.books.book(instr)),
            position: self.position,
            actions: &mut self.actions,
        };
        self.s.on_order(&mut ctx, &u);
        self.take_orders();
        self.actions.clear();
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
