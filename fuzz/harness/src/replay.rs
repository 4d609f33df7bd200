//! End to end: arbitrary bytes replayed as each input format through the replay library's
//! public entry points, the way `ticklane replay --format F --strategy market_maker` runs them:
//! decode → book → market_maker → execution simulator → accounts, BBO CSV, digest.
//!
//! Input layout: one byte (b % 5 picks ITCH, LOBSTER, Binance, Coinbase, Kraken; bit 7
//! reports unsynced L2 books too), then the file.
//!
//! Checked: nothing panics, and each replay gives the same digest when run twice.

use std::io::{sink, BufReader};
use std::path::Path;

use ticklane_engine::strategy::Strategy;
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_feeds::lobster::to_itch::{convert, ConvertOptions};
use ticklane_replay::backtest::{BacktestOptions, ExecConfig};
use ticklane_replay::l3::lobster::replay_lobster;
use ticklane_replay::stages::l2::{replay_l2, CryptoReplayOptions};
use ticklane_replay::venue::VenueFormat;
use ticklane_replay::{replay_itch_with, ItchReplayOptions};

/// The harness.
pub fn run(data: &[u8]) {
    let Some((&b, file)) = data.split_first() else {
        return;
    };
    let unsynced = b & 0x80 != 0;
    let digest = || match b % 5 {
        0 => itch(file),
        1 => lobster(file),
        2 => crypto(file, unsynced, VenueFormat::Binance),
        // Bit 6 picks Coinbase's Advanced Trade feed over its Exchange feed.
        3 if b & 0x40 != 0 => crypto(file, unsynced, VenueFormat::CoinbaseAdvanced),
        3 => crypto(file, unsynced, VenueFormat::Coinbase),
        _ => crypto(file, unsynced, VenueFormat::Kraken),
    };
    assert_eq!(digest(), digest(), "the same input gave two digests");
}

/// The strategy every replay runs.
fn strategy() -> Box<dyn Strategy + Send> {
    ticklane_strategies::build("market_maker", None).expect("defaults build")
}

/// The default backtest options; on L2 data 8-decimal prices and sizes and a queue model that
/// needs no order ids, as the command line sets them.
fn options(l2: bool) -> BacktestOptions {
    let mut cfg = ExecConfig::default();
    if l2 {
        cfg.ticks_per_unit = 100_000_000;
        cfg.lots_per_unit = 100_000_000;
        cfg.queue.model = "conservative".into();
    }
    cfg.to_options(Path::new("")).expect("defaults are valid")
}

/// ITCH BinaryFILE.
fn itch(file: &[u8]) -> Option<String> {
    let opts = ItchReplayOptions {
        bbo_csv: Some(Box::new(sink())),
        backtest: Some(options(false)),
        ..ItchReplayOptions::default()
    };
    let reader = FrameReader::with_capacity(file, 0);
    replay_itch_with(reader, opts, strategy())
        .ok()
        .map(|s| s.digest)
}

/// LOBSTER message file: its own replay (books checked row by row), and its ITCH conversion
/// replayed with the strategy.
fn lobster(file: &[u8]) -> Option<String> {
    let conv = ConvertOptions::default();
    let opts = ItchReplayOptions {
        bbo_csv: Some(Box::new(sink())),
        ..ItchReplayOptions::default()
    };
    let own = replay_lobster(file, None, false, &conv, opts)
        .ok()
        .map(|(s, _, _)| s.digest);
    let mut converted = Vec::new();
    convert(file, None, &conv, &mut converted).ok()?;
    let opts = ItchReplayOptions {
        backtest: Some(options(false)),
        ..ItchReplayOptions::default()
    };
    let reader = FrameReader::with_capacity(&converted[..], 0);
    let with = replay_itch_with(reader, opts, strategy())
        .ok()
        .map(|s| s.digest);
    Some(format!("{own:?} {with:?}"))
}

/// A capture of a price-level venue.
fn crypto(file: &[u8], accept_unsynced: bool, venue: VenueFormat) -> Option<String> {
    let opts = CryptoReplayOptions {
        accept_unsynced,
        bbo_csv: Some(Box::new(sink())),
        book_depth: None,
        wire_precision: Vec::new(),
        backtest: Some((strategy(), options(true))),
        max_time_jump_ns: None,
        sinks: Vec::new(),
    };
    replay_l2(venue, BufReader::new(file), opts)
        .ok()
        .map(|s| s.digest)
}
