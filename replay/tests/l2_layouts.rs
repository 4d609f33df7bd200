//! Price-level captures take the same path as ITCH: the venue's machine writes events, book
//! shards apply them, the merger puts the outputs back in input order. Inline and threaded
//! with 1, 2 or 3 shards must print one summary and one digest on every real capture; the
//! inline digests are pinned (the values the venue replays had before they became events).
//! Four Binance symbols and ten Coinbase products put books in every shard.

use std::io::BufReader;
use std::path::Path;

use ticklane_engine::wait::WaitStrategy;
use ticklane_replay::backtest::ExecConfig;
use ticklane_replay::stages::l2::{replay_l2, CryptoReplayOptions, L2Summary};
use ticklane_replay::stages::pipeline::{replay_l2_threaded, PipelineConfig};
use ticklane_replay::venue::VenueFormat;

const COINBASE_28: &str = "../../shared/data/cryptofeed/COINBASE.ws.28.0";
const COINBASE_SKL: &str = "../data/coinbase_skl-gbp.jsonl";
const KRAKEN_48: &str = "../../shared/data/cryptofeed/KRAKEN.ws.48.0";
const KRAKEN_49: &str = "../../shared/data/cryptofeed/KRAKEN.ws.49.0";
const BINANCE_SPOT: &str = "../../shared/data/binance/spot_btcusdt_20240808.gz";
const BINANCE_USDM: &str = "../../shared/data/binance/usdm_btcusdt_20240808.gz";
const BINANCE_NKN: &str = "../data/binance_nknusdt.cryptofeed";
const BINANCE_CF: &str = "../../shared/data/cryptofeed/BINANCE.ws.1.0";
const BINANCE_CF_FUTURES: &str = "../../shared/data/cryptofeed/BINANCE_FUTURES.ws.1.0";

fn opts(accept_unsynced: bool) -> CryptoReplayOptions<'static> {
    CryptoReplayOptions {
        accept_unsynced,
        ..CryptoReplayOptions::default()
    }
}

fn open(path: &str) -> Box<dyn std::io::Read + Send> {
    ticklane_replay::run::input::open(Path::new(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .reader
}

/// The summary without what a run measures of itself.
fn comparable(mut s: L2Summary) -> L2Summary {
    s.elapsed_s = 0.0;
    if let Some(b) = s.backtest.as_mut() {
        b.loop_s = 0.0;
        b.events_per_sec = 0.0;
    }
    s.backtest_data = None;
    s
}

fn inline(format: VenueFormat, path: &str, accept_unsynced: bool) -> L2Summary {
    comparable(replay_l2(format, BufReader::new(open(path)), opts(accept_unsynced)).unwrap())
}

fn threaded(format: VenueFormat, path: &str, accept_unsynced: bool, shards: usize) -> L2Summary {
    let cfg = PipelineConfig {
        shards,
        wait: WaitStrategy::Park,
        epoch: 64,
        ..PipelineConfig::default()
    };
    let none: Option<(ticklane_engine::strategy::NoStrategy, _)> = None;
    let (s, _) = replay_l2_threaded(format, open(path), opts(accept_unsynced), none, &cfg).unwrap();
    comparable(s)
}

#[test]
fn every_capture_prints_one_digest_in_every_layout() {
    for (format, path, accept, digest) in [
        (
            VenueFormat::Coinbase,
            COINBASE_28,
            false,
            "b6e0737b52e8f2c3504f729b285fd4fa",
        ),
        (
            VenueFormat::Coinbase,
            COINBASE_SKL,
            false,
            "89bb97e8269382218d235d7670f7844c",
        ),
        (
            VenueFormat::Kraken,
            KRAKEN_48,
            true,
            "67eb17976d91707313d31fa6f7c6011d",
        ),
        (
            VenueFormat::Kraken,
            KRAKEN_49,
            true,
            "4af12e3092798ffa2042931467042eb9",
        ),
        (
            VenueFormat::Binance,
            BINANCE_SPOT,
            false,
            "7264de64d2ec99c8f44fce486c1863fb",
        ),
        (
            VenueFormat::Binance,
            BINANCE_USDM,
            false,
            "6bbdf79a36d62d1ebea83011174dd032",
        ),
        (
            VenueFormat::Binance,
            BINANCE_NKN,
            false,
            "75b2f73a56e5b110468e2c10c7e94289",
        ),
        (
            VenueFormat::Binance,
            BINANCE_CF,
            true,
            "8b2eec9763a30912d0161cf0f3c00fdb",
        ),
        (
            VenueFormat::Binance,
            BINANCE_CF_FUTURES,
            true,
            "f9d67528c06cd4265b66ffc34f9a01e8",
        ),
    ] {
        let want = inline(format, path, accept);
        assert_eq!(want.digest, digest, "{path}: inline digest");
        for shards in 1..=3 {
            let got = threaded(format, path, accept, shards);
            assert_eq!(got, want, "{path}: {shards} shards vs inline");
        }
    }
}

#[test]
fn the_coinbase_capture_has_books_in_every_shard() {
    // Ten products: with three shards every shard holds books, so the merge is exercised.
    let s = inline(VenueFormat::Coinbase, COINBASE_28, false);
    assert_eq!(s.symbols.len(), 10);
    assert_eq!(s.snapshots, 10);
    assert_eq!(s.updates, 9719);
    assert_eq!(s.bbo_changes, 1778);
    assert_eq!(s.trades, 107);
}

#[test]
fn a_backtest_runs_threaded_in_one_shard_with_the_inline_digest() {
    let cfg_text = "[queue]\nmodel = \"conservative\"\n";
    let exec = ExecConfig::parse(cfg_text).unwrap();
    let bo = exec.to_options(Path::new(".")).unwrap();
    let strategy = || ticklane_strategies::build("market_maker", None).unwrap();
    let mut o = opts(false);
    o.backtest = Some((
        strategy() as Box<dyn ticklane_engine::strategy::Strategy>,
        bo.clone(),
    ));
    let want =
        comparable(replay_l2(VenueFormat::Coinbase, BufReader::new(open(COINBASE_28)), o).unwrap());
    assert_eq!(want.digest, "e0443cd18d2c6fbeabfb6d4d676291f0");
    let cfg = PipelineConfig {
        shards: 1,
        wait: WaitStrategy::Park,
        ..PipelineConfig::default()
    };
    let (got, _) = replay_l2_threaded(
        VenueFormat::Coinbase,
        open(COINBASE_28),
        opts(false),
        Some((strategy(), bo.clone())),
        &cfg,
    )
    .unwrap();
    assert_eq!(comparable(got), want);
    // Several shards would split the accounts: refused, with a message saying what to do.
    let cfg = PipelineConfig { shards: 2, ..cfg };
    let err = replay_l2_threaded(
        VenueFormat::Coinbase,
        open(COINBASE_28),
        opts(false),
        Some((strategy(), bo)),
        &cfg,
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("--shards 1"), "{err}");
}
