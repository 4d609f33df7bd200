//! Backtests on L2 data: a scripted strategy on tiny hand-built Binance spot captures, with every
//! expected fill computed by hand in the comments; then the real spot capture, twice.

use std::path::PathBuf;

use ticklane_engine::exec::queue::{Probabilistic, QueueKind};
use ticklane_engine::exec::Liquidity;
use ticklane_engine::strategy::{Action, Ctx, OrderIntent, Strategy, Tif};
use ticklane_engine::{Px, Qty, Side};
use ticklane_replay::backtest::BacktestOptions;
use ticklane_replay::report::FillRecord;
use ticklane_replay::stages::l2::{replay_l2, CryptoReplayError, CryptoReplayOptions, L2Summary};
use ticklane_replay::venue::VenueFormat;

/// 1e-8 units: "100.00" is 100 * E8.
const E8: i64 = 100_000_000;

fn spot(u: u64, bids: &str, asks: &str) -> String {
    format!(
        r#"{{"stream":"x@depth@100ms","data":{{"e":"depthUpdate","E":1,"s":"X","U":{u},"u":{u},"b":[{bids}],"a":[{asks}]}}}}"#
    )
}

fn trade(px: &str, qty: &str, buyer_maker: bool) -> String {
    format!(
        r#"{{"stream":"x@trade","data":{{"e":"trade","E":1,"s":"X","t":1,"p":"{px}","q":"{qty}","T":1,"m":{buyer_maker},"M":true}}}}"#
    )
}

fn snap(id: u64, bids: &str, asks: &str) -> String {
    format!(r#"{{"lastUpdateId":{id},"bids":[{bids}],"asks":[{asks}]}}"#)
}

/// Sends the actions of step `k` on its `k`-th book change, then nothing.
struct Script(Vec<Vec<Action>>, usize);

impl Strategy for Script {
    fn name(&self) -> &'static str {
        "script"
    }
    fn on_book(&mut self, ctx: &mut Ctx<'_>) {
        if let Some(step) = self.0.get(self.1) {
            for a in step {
                ctx.actions.push(*a);
            }
        }
        self.1 += 1;
    }
}

fn order(id: u64, side: Side, px: Option<i64>, qty: i64, tif: Tif) -> Action {
    Action::Order(OrderIntent {
        client_id: id,
        side,
        px: px.map(Px),
        qty: Qty(qty as u64),
        tif,
    })
}

/// Receive times 10, 20, 30, ... ns. Every scenario opens with a snapshot, the first book
/// change the strategy sees (as on every venue); the script's steps start at the first diff.
fn run(
    frames: &[String],
    mut script: Vec<Vec<Action>>,
    queue: QueueKind,
) -> Result<L2Summary, CryptoReplayError> {
    assert!(frames[0].starts_with(r#"{"lastUpdateId""#));
    script.insert(0, Vec::new());
    let text: String = frames
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{} {f}\n", (i + 1) * 10))
        .collect();
    let mut bt = BacktestOptions::default();
    bt.sim.queue = queue;
    let opts = CryptoReplayOptions {
        backtest: Some((Box::new(Script(script, 0)), bt)),
        ..Default::default()
    };
    replay_l2(VenueFormat::Binance, text.as_bytes(), opts)
}

fn fills(s: &L2Summary) -> Vec<(u64, i64, u64, Liquidity, Option<u64>)> {
    s.backtest_data
        .as_ref()
        .map(|d| {
            d.fills
                .iter()
                .map(|f: &FillRecord| (f.ts_exch, f.px, f.qty, f.liquidity, f.queue_wait_ns))
                .collect()
        })
        .unwrap_or_default()
}

/// The passive scenario. Our post-only bid of 2 at 100.00 (sent on the first diff, no latency)
/// reaches the exchange at t=20 and joins behind the 5 resting there when the next message
/// comes (t=30). Then, with the quantity ahead of us after each line:
///
/// | t  | message                         | conservative            | probabilistic (n = 3)                    |
/// |----|---------------------------------|-------------------------|------------------------------------------|
/// | 30 | bid 100.00: 5 -> 9 (joins behind us) | 5                  | 5                                        |
/// | 40 | bid 100.00: 9 -> 6 (3 cancelled) | min(5, 6) = 5          | front 5, back 4: p(behind) = 4^3/(4^3+5^3) = 64/189; 5 - (125/189)*3 = 3.016 -> 3 |
/// | 50 | trade 3 @ 100.00 (a sell)       | 5 - 3 = 2, no fill      | 3 - 3 = 0, no fill                        |
/// | 60 | bid 100.00: 6 -> 3 (that trade) | the 3 already traded are not a cancel: 2 | 0                     |
/// | 70 | trade 3 @ 100.00                | 3 - 2 = 1 fills us      | all 3 reach us: our 2 fill               |
///
/// (That a decrease a trade explains is not also taken for a cancel is checked on its own in
/// `a_level_decrease_that_a_trade_explains_is_not_counted_twice`.)
fn passive_frames() -> Vec<String> {
    vec![
        snap(8, r#"["100.00","5"]"#, r#"["101.00","3"]"#),
        spot(9, r#"["99.00","1"]"#, ""),
        spot(10, r#"["100.00","9"]"#, ""),
        spot(11, r#"["100.00","6"]"#, ""),
        trade("100.00", "3", true),
        spot(12, r#"["100.00","3"]"#, ""),
        trade("100.00", "3", true),
    ]
}

fn passive_script() -> Vec<Vec<Action>> {
    vec![vec![order(
        1,
        Side::Bid,
        Some(100 * E8),
        2 * E8,
        Tif::PostOnly,
    )]]
}

#[test]
fn conservative_queue_advances_only_on_trades_at_our_price() {
    let s = run(&passive_frames(), passive_script(), QueueKind::Conservative).unwrap();
    // One fill of 1 at t=70, 50 ns after joining at t=20.
    assert_eq!(
        fills(&s),
        vec![(70, 100 * E8, E8 as u64, Liquidity::Maker, Some(50))]
    );
    let b = s.backtest.as_ref().unwrap();
    assert_eq!((b.orders_submitted, b.orders_accepted), (1, 1));
    assert_eq!(b.position, E8);
    assert_eq!(b.queue_model, "conservative");
}

#[test]
fn probabilistic_queue_also_advances_on_cancels() {
    let s = run(
        &passive_frames(),
        passive_script(),
        QueueKind::Probabilistic(Probabilistic { power: 3.0 }),
    )
    .unwrap();
    assert_eq!(
        fills(&s),
        vec![(70, 100 * E8, 2 * E8 as u64, Liquidity::Maker, Some(50))]
    );
    assert_eq!(s.backtest.as_ref().unwrap().position, 2 * E8);
}

/// Joined behind 5 (t=30, the level unchanged by that message: an ask elsewhere moves); a
/// trade of 4 at our price leaves 1 ahead (t=40); the diff at t=50 shows the level 5 -> 1, the
/// 4 that traded: not a cancel, so 1 stays ahead and the trade of 2 at t=60 fills us for 1. If
/// the decrease were also counted as a cancel, the probabilistic model would take part of it
/// from the front (front 1, back 4, cut 4: p(behind) = 64/65, 1 - 4/65 = 0.94 -> 0) and leave
/// 0 ahead, filling us for 2.
#[test]
fn a_level_decrease_that_a_trade_explains_is_not_counted_twice() {
    let frames = vec![
        snap(8, r#"["100.00","5"]"#, r#"["101.00","3"]"#),
        spot(9, r#"["99.00","1"]"#, ""),
        spot(10, "", r#"["102.00","1"]"#),
        trade("100.00", "4", true),
        spot(11, r#"["100.00","1"]"#, ""),
        trade("100.00", "2", true),
    ];
    let s = run(
        &frames,
        passive_script(),
        QueueKind::Probabilistic(Probabilistic { power: 3.0 }),
    )
    .unwrap();
    assert_eq!(
        fills(&s),
        vec![(60, 100 * E8, E8 as u64, Liquidity::Maker, Some(40))]
    );
}

/// Taker orders walk the L2 book and never take the same liquidity twice. Asks: 3 @ 101.00,
/// 2 @ 102.00. On the first diff (t=20) a market buy of 4: 3 @ 101 and 1 @ 102. On the next
/// (t=30, a bid change that leaves the asks alone) a market buy of 2: nothing is left at 101
/// (we took all 3), 1 at 102 (2 there, 1 taken): it fills 1 @ 102 and the rest is cancelled.
/// The t=40 diff refills 101.00 from 3 to 5: only the 2 added are new (we took the other 3);
/// a market buy of 3 at t=40 takes those 2 @ 101, finds nothing left at 102 (2 there, 2
/// taken) and the rest is cancelled.
#[test]
fn takers_walk_the_l2_book_without_reusing_liquidity() {
    let frames = vec![
        snap(8, r#"["100.00","5"]"#, r#"["101.00","3"],["102.00","2"]"#),
        spot(9, r#"["99.00","1"]"#, ""),
        spot(10, r#"["99.00","2"]"#, ""),
        spot(11, "", r#"["101.00","5"]"#),
        spot(12, r#"["99.00","3"]"#, ""),
    ];
    let mkt = |id, q| order(id, Side::Bid, None, q * E8, Tif::Ioc);
    let script = vec![vec![mkt(1, 4)], vec![mkt(2, 2)], vec![mkt(3, 3)]];
    let s = run(&frames, script, QueueKind::Conservative).unwrap();
    let t = Liquidity::Taker;
    // Each market order reaches the exchange with the message after the one that triggered it.
    assert_eq!(
        fills(&s),
        vec![
            (20, 101 * E8, 3 * E8 as u64, t, None),
            (20, 102 * E8, E8 as u64, t, None),
            (30, 102 * E8, E8 as u64, t, None),
            (40, 101 * E8, 2 * E8 as u64, t, None),
        ]
    );
    let b = s.backtest.as_ref().unwrap();
    // Orders 2 and 3 left unfilled remainders: cancelled.
    assert_eq!((b.orders_submitted, b.cancelled, b.fills), (3, 2, 4));
    assert_eq!(b.position, 7 * E8);
}

#[test]
fn fifo_is_refused_on_l2_data() {
    let e = run(&passive_frames(), passive_script(), QueueKind::Fifo).unwrap_err();
    assert!(matches!(e, CryptoReplayError::Backtest(_)), "{e}");
    assert!(e.to_string().contains("fifo"), "{e}");
}

fn real_run(strategy_toml: &str) -> L2Summary {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/binance/spot_btcusdt_20240808.gz");
    let input = ticklane_replay::run::input::open(&p).unwrap();
    let mut bt = BacktestOptions::default();
    bt.sim.queue = QueueKind::Conservative;
    let mm = ticklane_strategies::build("market_maker", Some(strategy_toml)).unwrap();
    let opts = CryptoReplayOptions {
        backtest: Some((mm, bt)),
        ..Default::default()
    };
    replay_l2(
        VenueFormat::Binance,
        std::io::BufReader::new(input.reader),
        opts,
    )
    .unwrap()
}

/// The market maker on the real spot capture: quotes a cent either side of the microprice,
/// 0.001 BTC, on a cent grid.
const MM: &str =
    "half_spread = 1000000\nskew = 0.5\nsize = 100000\nmax_position = 1000000\ntick = 1000000\n";

#[test]
fn a_real_capture_backtest_is_deterministic_and_trades() {
    let a = real_run(MM);
    let b = real_run(MM);
    assert_eq!(a.digest, b.digest);
    assert_eq!(a.backtest_data, b.backtest_data);
    let bt = a.backtest.as_ref().unwrap();
    assert!(bt.fills > 10 && bt.modifies_sent > 10, "{bt:?}");
    // Every fill is a maker fill at a price the book or a trade offered: within the session's
    // price range, on the cent grid, never more than the quote size.
    for f in &a.backtest_data.as_ref().unwrap().fills {
        assert_eq!(f.liquidity, Liquidity::Maker);
        assert_eq!(f.px % 1_000_000, 0, "{f:?}");
        assert!((60_000 * E8..63_000 * E8).contains(&f.px), "{f:?}");
        assert!(f.qty <= 100_000, "{f:?}");
    }
    // The market-data part of the run is untouched: the same book, BBO changes and final top
    // as without a strategy; only the digest (which now also covers orders) differs.
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/binance/spot_btcusdt_20240808.gz");
    let plain = replay_l2(
        VenueFormat::Binance,
        std::io::BufReader::new(ticklane_replay::run::input::open(&p).unwrap().reader),
        CryptoReplayOptions::default(),
    )
    .unwrap();
    assert_eq!(
        (a.bbo_changes, a.applied, a.symbols[0].bid, a.symbols[0].ask),
        (
            plain.bbo_changes,
            plain.applied,
            plain.symbols[0].bid,
            plain.symbols[0].ask
        )
    );
    assert_ne!(a.digest, plain.digest);
}
