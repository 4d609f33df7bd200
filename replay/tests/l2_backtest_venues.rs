//! Backtests on the multi-product L2 replays (Coinbase; Kraken shares the same state): a
//! hand-computed scenario on a tiny hand-built capture, and the real Coinbase capture twice.

use std::path::PathBuf;

use ticklane_engine::exec::queue::QueueKind;
use ticklane_engine::exec::Liquidity;
use ticklane_engine::strategy::{Action, Ctx, OrderIntent, Strategy, Tif};
use ticklane_engine::{Px, Qty, Side};
use ticklane_replay::backtest::BacktestOptions;
use ticklane_replay::stages::l2::{CryptoReplayOptions, L2Summary};
use ticklane_replay::venue::coinbase::replay_coinbase;

const E8: i64 = 100_000_000;

/// Sends one post-only bid of 2 at 100.00 on its first book change.
struct OneBid(bool);

impl Strategy for OneBid {
    fn name(&self) -> &'static str {
        "one_bid"
    }
    fn on_book(&mut self, ctx: &mut Ctx<'_>) {
        if !self.0 {
            self.0 = true;
            ctx.actions.push(Action::Order(OrderIntent {
                client_id: 1,
                side: Side::Bid,
                px: Some(Px(100 * E8)),
                qty: Qty(2 * E8 as u64),
                tif: Tif::PostOnly,
            }));
        }
    }
}

fn update(side: &str, px: &str, qty: &str) -> String {
    format!(r#"{{"type":"l2update","product_id":"X-Y","changes":[["{side}","{px}","{qty}"]]}}"#)
}

fn matched(px: &str, qty: &str, maker_side: &str) -> String {
    format!(
        r#"{{"type":"match","trade_id":1,"sequence":1,"side":"{maker_side}","size":"{qty}","price":"{px}","product_id":"X-Y"}}"#
    )
}

/// The Binance passive scenario of `binance_backtest.rs` in Coinbase messages. Here the
/// snapshot itself is a book change the strategy sees (t=10), so the bid reaches the exchange
/// at t=10 and joins behind the 5 at 100.00 with the t=20 message. Conservative queue, ahead
/// of us: 5 (t=30, 5 -> 9 joins behind), 5 (t=40, 9 -> 6: capped at 6 only), 2 (t=50, a trade
/// of 3 at our price against the bid), 2 (t=60, 6 -> 3: that trade, not a cancel), and at
/// t=70 a trade of 3 uses the last 2 ahead and fills us for 1, 60 ns after joining.
#[test]
fn coinbase_conservative_queue_scenario() {
    let frames = [
        r#"{"type":"snapshot","product_id":"X-Y","bids":[["100.00","5"]],"asks":[["101.00","3"]]}"#
            .to_owned(),
        update("buy", "99.00", "1"),
        update("buy", "100.00", "9"),
        update("buy", "100.00", "6"),
        matched("100.00", "3", "buy"),
        update("buy", "100.00", "3"),
        matched("100.00", "3", "buy"),
    ];
    let text: String = frames
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{} {f}\n", (i + 1) * 10))
        .collect();
    let mut bt = BacktestOptions::default();
    bt.sim.queue = QueueKind::Conservative;
    let s = replay_coinbase(
        text.as_bytes(),
        CryptoReplayOptions {
            backtest: Some((Box::new(OneBid(false)), bt)),
            ..Default::default()
        },
    )
    .unwrap();
    let d = s.backtest_data.as_ref().expect("the strategy traded");
    let got: Vec<_> = d
        .fills
        .iter()
        .map(|f| {
            (
                f.ts_exch,
                f.px,
                f.qty,
                f.liquidity,
                f.queue_wait_ns,
                f.symbol_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![(
            70,
            100 * E8,
            E8 as u64,
            Liquidity::Maker,
            Some(60),
            "X-Y".to_owned()
        )]
    );
    assert_eq!(s.backtest.as_ref().unwrap().position, E8);
}

fn capture(backtest: bool) -> L2Summary {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/cryptofeed/COINBASE.ws.28.0");
    let input = ticklane_replay::run::input::open(&p).unwrap();
    let mut opts = CryptoReplayOptions::default();
    if backtest {
        let mut bt = BacktestOptions::default();
        bt.sim.queue = QueueKind::Conservative;
        // Quotes 1e-5 either side of the microprice, 1 unit, on the 1e-8 grid.
        let mm = ticklane_strategies::build(
            "market_maker",
            Some("half_spread = 1000\nskew = 0.0\nsize = 100000000\nmax_position = 1000000000\ntick = 1\n"),
        )
        .unwrap();
        opts.backtest = Some((mm, bt));
    }
    replay_coinbase(std::io::BufReader::new(input.reader), opts).unwrap()
}

#[test]
fn coinbase_capture_backtest_is_deterministic_and_leaves_the_market_data_alone() {
    let (a, b, plain) = (capture(true), capture(true), capture(false));
    assert_eq!(a.digest, b.digest);
    assert_eq!(a.backtest_data, b.backtest_data);
    let bt = a.backtest.as_ref().unwrap();
    assert!(bt.fills > 10 && bt.modifies_sent > 100, "{bt:?}");
    assert_ne!(a.digest, plain.digest);
    let tops = |s: &L2Summary| {
        s.symbols
            .iter()
            .map(|x| (x.symbol.clone(), x.bbo_changes, x.bid, x.ask))
            .collect::<Vec<_>>()
    };
    assert_eq!(tops(&a), tops(&plain));
    assert_eq!(plain.strategy, None);
    assert!(plain.backtest.is_none());
}

/// COINBASE.ws.28.0 holds products quoted in GBP, BTC, EUR and USD. The backtest's accounts are
/// in the first product's quote currency (SKL-GBP, the capture's first product: GBP): every fill
/// is of a GBP product, and each product quoted otherwise is listed as not traded.
#[test]
fn coinbase_backtest_trades_one_quote_currency_only() {
    let s = capture(true);
    let bt = s.backtest.as_ref().unwrap();
    let first = &s.symbols[0].symbol;
    let quote = |p: &str| p.rsplit('-').next().unwrap().to_owned();
    assert_eq!(bt.currency.as_deref(), Some(quote(first).as_str()));
    let others: Vec<String> = s
        .symbols
        .iter()
        .map(|x| x.symbol.clone())
        .filter(|p| quote(p) != quote(first))
        .collect();
    assert!(others.len() >= 3, "{others:?}");
    assert_eq!(bt.not_traded, others);
    let fills = &s.backtest_data.as_ref().unwrap().fills;
    assert!(!fills.is_empty());
    for f in fills {
        assert_eq!(quote(&f.symbol_str()), quote(first), "{f:?}");
    }
}
