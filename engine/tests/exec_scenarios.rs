//! Hand-computed backtest scenarios: the simulator against a real L3 book, step by step, with
//! the expected fills worked out in the comments.

use ticklane_engine::book::L3Books;
use ticklane_engine::exec::fees::Fees;
use ticklane_engine::exec::latency::{Constant, Latency, PerAction};
use ticklane_engine::exec::ledger::{Account, MONEY_PER_TICK_LOT};
use ticklane_engine::exec::queue::QueueKind;
use ticklane_engine::exec::sim::{ExecSim, SimConfig, SimOut};
use ticklane_engine::exec::{Liquidity, OrderStatus, OrderUpdate, RejectReason};
use ticklane_engine::strategy::{Action, OrderIntent, Tif};
use ticklane_engine::{Body, Event, Header, InstrumentIdx, Nanos, OrderId, Px, Qty, Side};

const I: InstrumentIdx = InstrumentIdx(1);

/// A book, the simulator, and everything it reported.
struct Bench {
    books: L3Books,
    sim: ExecSim,
    out: Vec<(u64, SimOut)>,
    updates: Vec<(u64, OrderUpdate)>,
}

impl Bench {
    fn new(cfg: SimConfig) -> Self {
        Bench {
            books: L3Books::new(),
            sim: ExecSim::new(cfg),
            out: Vec::new(),
            updates: Vec::new(),
        }
    }

    /// One market event at exchange time `ts`, run through the stage's sequence.
    fn event(&mut self, ts: u64, body: Body) {
        let ev = Event {
            hdr: Header {
                ts_exch: Nanos(ts),
                instr: I,
                ..Header::default()
            },
            body,
        };
        let out = &mut self.out;
        self.sim
            .before_event(&ev, &self.books, &mut |at, o| out.push((at.0, o)));
        self.books.apply(&ev).expect("consistent test stream");
        let local = self.sim.local_time(&ev);
        let updates = &mut self.updates;
        self.sim.deliver(I, local, |u, _| updates.push((local, *u)));
    }

    fn add(&mut self, ts: u64, id: u64, side: Side, px: i64, qty: u64) {
        self.event(
            ts,
            Body::Add {
                order_id: OrderId(id),
                px: Px(px),
                qty: Qty(qty),
                side,
            },
        );
    }

    fn send(&mut self, now: u64, a: Action) {
        self.sim.submit(I, now, &a);
    }

    fn fills(&self) -> Vec<(u64, u64, i64, u64, Liquidity)> {
        self.out
            .iter()
            .filter_map(|(at, o)| match o {
                SimOut::Fill(f) => Some((*at, f.client_id, f.px.0, f.qty.0, f.liquidity)),
                SimOut::Status { .. } => None,
            })
            .collect()
    }

    fn statuses(&self) -> Vec<(u64, OrderStatus)> {
        self.out
            .iter()
            .filter_map(|(_, o)| match o {
                SimOut::Status {
                    client_id, status, ..
                } => Some((*client_id, *status)),
                SimOut::Fill(_) => None,
            })
            .collect()
    }
}

fn limit(id: u64, side: Side, px: i64, qty: u64, tif: Tif) -> Action {
    Action::Order(OrderIntent {
        client_id: id,
        side,
        px: Some(Px(px)),
        qty: Qty(qty),
        tif,
    })
}

#[test]
fn passive_buy_behind_500_shares_fills_only_after_500_trade_or_cancel_ahead() {
    let mut b = Bench::new(SimConfig::default());
    // The bid level at 100.00 (1_000_000 ticks) holds 300 + 200 = 500 shares; the ask is 100.01.
    b.add(1, 1, Side::Bid, 1_000_000, 300);
    b.add(2, 2, Side::Bid, 1_000_000, 200);
    b.add(3, 3, Side::Ask, 1_000_100, 400);
    // Our 100-share buy at 100.00 arrives at t=10 (no latency): handled before the next event.
    b.send(10, limit(7, Side::Bid, 1_000_000, 100, Tif::Gtc));
    // Someone joins behind us with 1000 shares (this event is when our order reaches the book).
    b.add(11, 4, Side::Bid, 1_000_000, 1000);
    assert_eq!(b.sim.working(I), 1);
    // 250 of order 1 trades, then order 2 (200, ahead of us) cancels: 50 still ahead.
    b.event(
        12,
        Body::Execute {
            order_id: OrderId(1),
            qty: Qty(250),
        },
    );
    b.event(
        13,
        Body::Delete {
            order_id: OrderId(2),
        },
    );
    assert!(
        b.fills().is_empty(),
        "450 of the 500 ahead have gone: not yet"
    );
    // A cancel of the order behind us does not move us.
    b.event(
        14,
        Body::Reduce {
            order_id: OrderId(4),
            qty: Qty(500),
        },
    );
    assert!(b.fills().is_empty());
    // The last 50 ahead trade: still nothing for us (we are now first).
    b.event(
        15,
        Body::Execute {
            order_id: OrderId(1),
            qty: Qty(50),
        },
    );
    assert!(b.fills().is_empty());
    // Now 60 trade against order 4 (behind us): with nothing ahead, that liquidity was ours.
    b.event(
        16,
        Body::Execute {
            order_id: OrderId(4),
            qty: Qty(60),
        },
    );
    assert_eq!(b.fills(), vec![(16, 7, 1_000_000, 60, Liquidity::Maker)]);
    // Another 70: we take the last 40, and only 40 (the same liquidity never fills twice).
    b.event(
        17,
        Body::Execute {
            order_id: OrderId(4),
            qty: Qty(70),
        },
    );
    assert_eq!(b.fills()[1], (17, 7, 1_000_000, 40, Liquidity::Maker));
    assert_eq!(b.fills().len(), 2);
    assert_eq!(b.sim.working(I), 0);
    // The strategy heard: accepted, partially filled (60, leaves 40), filled.
    let st: Vec<_> = b
        .updates
        .iter()
        .map(|(_, u)| (u.status, u.filled.0, u.leaves.0))
        .collect();
    assert_eq!(
        st,
        vec![
            (OrderStatus::Accepted, 0, 100),
            (OrderStatus::PartiallyFilled, 60, 40),
            (OrderStatus::Filled, 100, 0)
        ]
    );
    assert_eq!(b.sim.position(I), 100);
}

#[test]
fn l2_conservative_model_needs_500_traded_ahead() {
    let mut b = Bench::new(SimConfig {
        queue: QueueKind::Conservative,
        ..SimConfig::default()
    });
    b.add(1, 1, Side::Bid, 1_000_000, 500);
    b.send(2, limit(7, Side::Bid, 1_000_000, 100, Tif::Gtc));
    b.add(3, 2, Side::Ask, 1_000_100, 100); // our order joins here, 500 ahead
                                            // A 300-share cancel: the conservative model does not move us (only caps at level size).
    b.event(
        4,
        Body::Reduce {
            order_id: OrderId(1),
            qty: Qty(300),
        },
    );
    assert!(b.fills().is_empty());
    // 200 trade: level had 200 left; ahead min(500, 200) = 200 -> 0; no fill yet.
    b.event(
        5,
        Body::Execute {
            order_id: OrderId(1),
            qty: Qty(200),
        },
    );
    assert!(b.fills().is_empty());
    // The next trade at our price reaches us: a hidden-order print of 30 at 100.00 against bids.
    b.event(
        6,
        Body::Trade {
            px: Px(1_000_000),
            qty: Qty(30),
            side: Some(Side::Bid),
        },
    );
    assert_eq!(b.fills(), vec![(6, 7, 1_000_000, 30, Liquidity::Maker)]);
}

#[test]
fn a_partial_fill_updates_position_cash_and_fees_exactly() {
    // Maker rebate 0.2 bps and 20 ticks ($0.0020) per share rebate; taker 3 bps.
    let fees = Fees::from_decimal(-0.2, 3.0, -20.0, 0.0);
    let mut b = Bench::new(SimConfig {
        fees,
        ..SimConfig::default()
    });
    b.add(1, 1, Side::Ask, 1_000_100, 100);
    b.add(2, 2, Side::Bid, 999_900, 100);
    // We offer 300 at 100.00 (inside the spread, so nothing ahead).
    b.send(3, limit(9, Side::Ask, 1_000_000, 300, Tif::PostOnly));
    b.add(4, 3, Side::Bid, 999_800, 10);
    // A buyer crosses with 120 at 100.00 (an add at our price on the other side): we sell 120.
    b.add(5, 4, Side::Bid, 1_000_000, 120);
    assert_eq!(b.fills(), vec![(5, 9, 1_000_000, 120, Liquidity::Maker)]);
    let f = fees.fee(Liquidity::Maker, Px(1_000_000), Qty(120));
    // Notional 120 * 1,000,000 = 120,000,000 tick-lots; 0.2 bps of it = 2,400; per share
    // 120 * 20 = 2,400; a rebate of 4,800 tick-lots.
    assert_eq!(f, -4_800 * MONEY_PER_TICK_LOT);
    let mut acc = Account::default();
    acc.fill(Side::Ask, Px(1_000_000), Qty(120), f);
    assert_eq!(acc.position, -120);
    assert_eq!(acc.cash, (120_000_000 + 4_800) * MONEY_PER_TICK_LOT);
    assert_eq!(acc.fees, -4_800 * MONEY_PER_TICK_LOT);
    // The order still works for 180.
    let last = b.updates.last().unwrap().1;
    assert_eq!(
        (last.status, last.filled.0, last.leaves.0),
        (OrderStatus::PartiallyFilled, 120, 180)
    );
    assert_eq!(b.sim.position(I), -120);
}

#[test]
fn a_taker_walking_three_levels_gets_the_volume_weighted_price() {
    let mut b = Bench::new(SimConfig::default());
    b.add(1, 1, Side::Ask, 1_000_100, 100); // 100.01 x 100
    b.add(2, 2, Side::Ask, 1_000_200, 200); // 100.02 x 200
    b.add(3, 3, Side::Ask, 1_000_300, 300); // 100.03 x 300
    b.add(4, 4, Side::Bid, 999_900, 100);
    // Market buy 450: 100 @ 100.01, 200 @ 100.02, 150 @ 100.03.
    b.send(
        5,
        Action::Order(OrderIntent {
            client_id: 1,
            side: Side::Bid,
            px: None,
            qty: Qty(450),
            tif: Tif::Ioc,
        }),
    );
    b.add(6, 5, Side::Bid, 999_800, 1);
    let fills = b.fills();
    assert_eq!(
        fills.iter().map(|f| (f.2, f.3)).collect::<Vec<_>>(),
        vec![(1_000_100, 100), (1_000_200, 200), (1_000_300, 150)]
    );
    assert!(fills.iter().all(|f| f.4 == Liquidity::Taker));
    // Notional = 100*1,000,100 + 200*1,000,200 + 150*1,000,300
    //          = 100,010,000 + 200,040,000 + 150,045,000 = 450,095,000 tick-shares;
    // VWAP = 450,095,000 / 450 = 1,000,211.1 ticks ($100.02111), between the first and last level.
    let notional: i64 = fills.iter().map(|f| f.2 * f.3 as i64).sum();
    assert_eq!(notional, 450_095_000);
    assert_eq!(fills.iter().map(|f| f.3).sum::<u64>(), 450);
    assert_eq!(notional * 10 / 450, 10_002_111);
    assert_eq!(b.statuses().last().unwrap(), &(1, OrderStatus::Accepted));
    // A second market buy cannot take the same 600 again: only 150 is left at 100.03.
    b.send(
        7,
        Action::Order(OrderIntent {
            client_id: 2,
            side: Side::Bid,
            px: None,
            qty: Qty(500),
            tif: Tif::Ioc,
        }),
    );
    b.add(8, 6, Side::Bid, 999_800, 1);
    let second: Vec<_> = b
        .fills()
        .into_iter()
        .filter(|f| f.1 == 2)
        .map(|f| (f.2, f.3))
        .collect();
    assert_eq!(second, vec![(1_000_300, 150)]);
    assert_eq!(
        b.statuses().last().unwrap(),
        &(2, OrderStatus::Cancelled),
        "IOC rest cancelled"
    );
}

#[test]
fn latency_makes_a_cancel_arrive_after_the_fill() {
    // Orders take 100 ns to arrive, cancels 50 ns, answers 1000 ns to come back.
    let mut b = Bench::new(SimConfig {
        latency: Latency::PerAction(PerAction {
            new: 100,
            cancel: 50,
            modify: 100,
            response: 1_000,
        }),
        ..SimConfig::default()
    });
    b.add(1, 1, Side::Ask, 1_000_100, 100);
    b.add(2, 2, Side::Bid, 999_900, 100);
    // Sent at 10, our bid at 100.00 (inside the spread) reaches the exchange at 110.
    b.send(10, limit(5, Side::Bid, 1_000_000, 100, Tif::Gtc));
    b.add(120, 3, Side::Bid, 999_800, 1); // handled at 120: accepted (exchange time 110)
    assert_eq!(b.statuses(), vec![(5, OrderStatus::Accepted)]);
    // At 200 a seller hits 100.00 for 100: we are filled (exchange time 200).
    b.add(200, 4, Side::Ask, 1_000_000, 100);
    assert_eq!(b.fills(), vec![(200, 5, 1_000_000, 100, Liquidity::Maker)]);
    // The strategy, not yet knowing (the accept reaches it at 1110, the fill at 1200), cancels
    // at 300; the cancel arrives at 350, after the fill: rejected as an unknown order.
    assert!(b.updates.is_empty());
    b.send(300, Action::Cancel { client_id: 5 });
    b.add(400, 5, Side::Bid, 999_700, 1);
    assert_eq!(b.out.last().map(|o| o.0), Some(350));
    assert_eq!(
        b.statuses().last().unwrap(),
        &(5, OrderStatus::Rejected(RejectReason::UnknownOrder))
    );
    // The answers come back in the order they happened, each 1000 ns later.
    b.add(5_000, 6, Side::Bid, 999_600, 1);
    let seen: Vec<_> = b
        .updates
        .iter()
        .map(|(_, u)| (u.ts_exch.0, u.status))
        .collect();
    assert_eq!(
        seen,
        vec![
            (110, OrderStatus::Accepted),
            (200, OrderStatus::Filled),
            (350, OrderStatus::Rejected(RejectReason::UnknownOrder))
        ]
    );
    // (The cancel was handled at the event at 400, the first after its arrival at 350, and is
    // stamped with its arrival time: that is when the exchange refused it.)
}

#[test]
fn a_post_only_order_that_would_cross_is_rejected() {
    let mut b = Bench::new(SimConfig {
        latency: Latency::Constant(Constant {
            entry: 0,
            response: 0,
        }),
        ..SimConfig::default()
    });
    b.add(1, 1, Side::Ask, 1_000_100, 100);
    b.add(2, 2, Side::Bid, 999_900, 100);
    // A post-only buy at the ask price would trade: rejected, nothing fills.
    b.send(3, limit(1, Side::Bid, 1_000_100, 10, Tif::PostOnly));
    // A post-only buy one tick below rests.
    b.send(3, limit(2, Side::Bid, 1_000_000, 10, Tif::PostOnly));
    b.add(4, 3, Side::Bid, 999_800, 1);
    assert_eq!(
        b.statuses(),
        vec![
            (1, OrderStatus::Rejected(RejectReason::WouldCross)),
            (2, OrderStatus::Accepted)
        ]
    );
    assert!(b.fills().is_empty());
    assert_eq!(b.sim.working(I), 1);
    // Modifying it to cross is refused too, and the order keeps working at its price.
    b.send(
        5,
        Action::Modify {
            client_id: 2,
            px: Px(1_000_200),
            qty: Qty(10),
        },
    );
    b.add(6, 4, Side::Bid, 999_800, 1);
    let last = b.updates.last().unwrap().1;
    assert_eq!(last.status, OrderStatus::Rejected(RejectReason::WouldCross));
    assert_eq!((last.px, last.leaves.0), (Some(Px(1_000_000)), 10));
    assert_eq!(b.sim.working(I), 1);
    // A duplicate client id while it works is refused.
    b.send(7, limit(2, Side::Bid, 999_000, 10, Tif::Gtc));
    b.add(8, 5, Side::Bid, 999_800, 1);
    assert_eq!(
        b.statuses().last().unwrap(),
        &(2, OrderStatus::Rejected(RejectReason::DuplicateClientId))
    );
}

#[test]
fn modify_down_keeps_the_queue_place_and_a_new_price_loses_it() {
    let mut b = Bench::new(SimConfig::default());
    b.add(1, 1, Side::Bid, 1_000_000, 200);
    b.add(2, 2, Side::Ask, 1_000_100, 100);
    b.send(3, limit(1, Side::Bid, 1_000_000, 100, Tif::Gtc));
    b.add(4, 3, Side::Bid, 1_000_000, 300); // behind us
                                            // Reduce to 50 at the same price: still 200 ahead, not behind order 3.
    b.send(
        5,
        Action::Modify {
            client_id: 1,
            px: Px(1_000_000),
            qty: Qty(50),
        },
    );
    b.add(6, 4, Side::Bid, 999_000, 1);
    b.event(
        7,
        Body::Execute {
            order_id: OrderId(1),
            qty: Qty(200),
        },
    );
    b.event(
        8,
        Body::Execute {
            order_id: OrderId(3),
            qty: Qty(80),
        },
    );
    // 80 behind us traded with nothing ahead: our 50 filled.
    assert_eq!(b.fills(), vec![(8, 1, 1_000_000, 50, Liquidity::Maker)]);
}
