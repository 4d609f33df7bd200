//! The market maker's position limit holds over whole runs, end to end through the execution
//! simulator with latency (fills and order answers arrive late, so the strategy quotes on a
//! position that is already stale): the largest absolute position in the trade log is at most
//! `max_position`, on generated ITCH days and on a real Binance capture; and a refused quote is
//! not re-sent on every book event.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ticklane_engine::exec::queue::QueueKind;
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_feeds::itch::synth::{generate, SynthConfig};
use ticklane_replay::backtest::{BacktestData, BacktestOptions, ExecConfig};
use ticklane_replay::stages::l2::{replay_l2, CryptoReplayOptions};
use ticklane_replay::venue::VenueFormat;
use ticklane_replay::{replay_itch_with, ItchReplayOptions};

/// Largest absolute position per instrument over the trade log.
fn peaks(d: &BacktestData) -> BTreeMap<u32, i64> {
    let mut m = BTreeMap::new();
    for f in &d.fills {
        let e = m.entry(f.instr).or_insert(0);
        *e = f.position.abs().max(*e);
    }
    m
}

fn with_latency() -> BacktestOptions {
    ExecConfig::parse(
        "[latency]\nmodel = \"per_action\"\nnew_ns = 50000\ncancel_ns = 20000\nmodify_ns = 50000\nresponse_ns = 30000\n",
    )
    .unwrap()
    .to_options(std::path::Path::new(""))
    .unwrap()
}

fn itch_day(seed: u64, symbols: u16, messages: u64, strategy_toml: &str) -> (u64, BacktestData) {
    let cfg = SynthConfig {
        seed,
        symbols,
        messages,
        ..SynthConfig::default()
    };
    let mut data = Vec::new();
    generate(&cfg, &mut data).unwrap();
    let opts = ItchReplayOptions {
        backtest: Some(with_latency()),
        ..Default::default()
    };
    let mm = ticklane_strategies::build("market_maker", Some(strategy_toml)).unwrap();
    let s = replay_itch_with(FrameReader::new(&data[..]), opts, mm).unwrap();
    (s.messages, s.backtest_data.unwrap())
}

/// Five symbols, a limit of three quotes: partial fills of quotes sized without counting what
/// was still working took symbol 1 to 349.
#[test]
fn the_limit_holds_over_a_generated_day() {
    let (_, d) = itch_day(1, 5, 1_000_000, "max_position = 300\nsize = 100\n");
    let peak = peaks(&d);
    assert!(d.fills.len() > 30, "the run must trade: {:?}", d.counts);
    assert!(peak.values().all(|&p| p <= 300), "{peak:?}");
    assert_eq!(
        peak.values().max(),
        Some(&300),
        "it reaches the limit: {peak:?}"
    );
}

/// One symbol with a strong skew, so quotes often lean through the book: refused post-only
/// modifies were re-sent on every event (1.97 M rejects in 2 M messages); now each waits for a
/// price change.
#[test]
fn refused_quotes_are_not_resent_on_every_event() {
    let (messages, d) = itch_day(
        7,
        1,
        2_000_000,
        "max_position = 250\nsize = 100\nskew = 4.0\n",
    );
    let c = &d.counts;
    assert!(
        c.rejected * 50 < messages,
        "{} rejects in {messages} messages: {c:?}",
        c.rejected
    );
    assert!(d.fills.len() > 20, "the run must trade: {c:?}");
    let peak = peaks(&d);
    assert!(peak.values().all(|&p| p <= 250), "{peak:?}");
}

/// NKNUSDT in 1e-8 units, quoted at the microprice on the 0.0001 USDT grid with a conservative
/// queue; `size` and `max_position` in NKN.
fn binance(size: u64, max: u64) -> BacktestData {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/binance_nknusdt.cryptofeed");
    let toml = format!(
        "half_spread = 0\nskew = 0\nsize = {}\nmax_position = {}\ntick = 10000\n",
        size * 100_000_000,
        max * 100_000_000
    );
    let mut bt = with_latency();
    bt.sim.queue = QueueKind::Conservative;
    let opts = CryptoReplayOptions {
        backtest: Some((
            ticklane_strategies::build("market_maker", Some(&toml)).unwrap(),
            bt,
        )),
        ..Default::default()
    };
    let input = ticklane_replay::run::input::open(&p).unwrap();
    let s = replay_l2(
        VenueFormat::Binance,
        std::io::BufReader::new(input.reader),
        opts,
    )
    .unwrap();
    s.backtest_data.unwrap()
}

#[test]
fn the_limit_holds_on_a_binance_capture() {
    // Quotes of 100 NKN under a limit of 30: a quote sized to the quote size alone sold 50 NKN
    // to a trade and ended 58 short.
    let d = binance(100, 30);
    let peak = peaks(&d);
    assert!(peak.values().all(|&p| p <= 30 * 100_000_000), "{peak:?}");
    // Quotes of 40 NKN under a limit of 60: the same capture trades.
    let d = binance(40, 60);
    let peak = peaks(&d);
    assert!(!d.fills.is_empty(), "the run must trade: {:?}", d.counts);
    assert!(peak.values().all(|&p| p <= 60 * 100_000_000), "{peak:?}");
}
