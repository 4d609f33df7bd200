//! Configuration files the libraries read: the backtest's execution config
//! ([`ExecConfig::parse`] and [`ExecConfig::to_options`]), each built-in strategy's TOML
//! ([`ticklane_strategies::build`]), the websocket source config
//! ([`WsSourceConfig`]: parse, validate, subscription messages) and the empirical latency CSV.
//! (The live daemon's config is read by the binary and is not reached from here.)
//!
//! Input layout: one byte choosing the parser (b % 7: exec, four strategies, websocket source,
//! latency CSV), then the text (UTF-8). A config that is accepted is used: the execution
//! config and each strategy run a backtest on a small synthetic ITCH session, the latency
//! model answers a few queries.

use std::path::Path;

use ticklane_engine::exec::latency::{ActionKind, Empirical, LatencyModel};
use ticklane_engine::Nanos;
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_replay::backtest::{BacktestOptions, ExecConfig};
use ticklane_replay::live_ws::WsSourceConfig;
use ticklane_replay::{replay_itch_with, ItchReplayOptions};

/// The built-in strategies, in selector order after the execution config.
const STRATEGIES: [&str; 4] = ["obi_taker", "ema_cross", "mean_reversion", "market_maker"];

/// The harness.
pub fn run(data: &[u8]) {
    let Some((&which, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    match which % 7 {
        0 => exec(text),
        k @ 1..=4 => {
            let name = STRATEGIES[usize::from(k - 1)];
            if outside_checked_ranges(text, &[("window", MAX_WINDOW), ("levels", MAX_WINDOW)]) {
                return;
            }
            if let Ok(s) = ticklane_strategies::build(name, Some(text)) {
                backtest(s, None);
            }
        }
        5 => {
            if let Ok(c) = toml::from_str::<WsSourceConfig>(text) {
                if c.validate().is_ok() {
                    let _ = c.subscribe_messages();
                }
            }
        }
        _ => {
            if let Ok(m) = Empirical::parse(text) {
                for t in [0, 1, 1_000, u64::MAX / 2, u64::MAX] {
                    let _ = m.entry(Nanos(t), ActionKind::New);
                    let _ = m.entry(Nanos(t), ActionKind::Cancel);
                    let _ = m.response(Nanos(t));
                }
            }
        }
    }
}

/// Window sizes (a strategy's `window`, `levels`) this harness passes on; see
/// [`outside_checked_ranges`].
const MAX_WINDOW: i64 = 1 << 16;

/// Equity samples the synthetic session (one second) may take; see
/// [`outside_checked_ranges`].
const MIN_SAMPLE_INTERVAL_NS: i64 = 1_000_000_000 >> 16;

/// Whether `text` sets one of `keys` above its bound (below, for a negative bound).
///
/// The strategy and execution configs do not yet bound the sizes that become allocations: a
/// rolling window of `window` values, an equity sample every `sample_interval_ns` over the
/// whole session. Those range checks are tracked as their own change; until they land, the
/// harness passes such configs over so that the fuzzer explores the rest instead of finding
/// the same out-of-memory again (the config target's first finding: mean_reversion with
/// `window = 100000000000` asks for 800 GB).
fn outside_checked_ranges(text: &str, keys: &[(&str, i64)]) -> bool {
    let Ok(table) = toml::from_str::<toml::Table>(text) else {
        return false;
    };
    keys.iter().any(
        |&(key, bound)| match table.get(key).and_then(toml::Value::as_integer) {
            Some(v) if bound < 0 => v < -bound,
            Some(v) => v > bound,
            None => false,
        },
    )
}

/// The execution config, parsed, turned into options and run with market_maker.
fn exec(text: &str) {
    if outside_checked_ranges(text, &[("sample_interval_ns", -MIN_SAMPLE_INTERVAL_NS)]) {
        return;
    }
    let Ok(mut cfg) = ExecConfig::parse(text) else {
        return;
    };
    // No file reads: the latency CSV's parser is fuzzed on its own (selector 6).
    cfg.latency.csv = None;
    let Ok(opts) = cfg.to_options(Path::new("")) else {
        return;
    };
    let s = ticklane_strategies::build("market_maker", None).expect("defaults build");
    backtest(s, Some(opts));
}

/// A backtest of `s` on the synthetic session.
fn backtest(
    s: Box<dyn ticklane_engine::strategy::Strategy + Send>,
    backtest: Option<BacktestOptions>,
) {
    let opts = ItchReplayOptions {
        backtest,
        ..ItchReplayOptions::default()
    };
    let reader = FrameReader::with_capacity(crate::synth::session(), 0);
    replay_itch_with(reader, opts, s).expect("the synthetic session replays");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_unchecked_sizes_are_passed_over() {
        let w = [("window", MAX_WINDOW)];
        assert!(outside_checked_ranges("window = 100000000000", &w));
        assert!(!outside_checked_ranges("window = 100\nentry = 2.0", &w));
        assert!(!outside_checked_ranges("not toml [", &w));
        let s = [("sample_interval_ns", -MIN_SAMPLE_INTERVAL_NS)];
        assert!(outside_checked_ranges("sample_interval_ns = 1", &s));
        assert!(!outside_checked_ranges(
            "sample_interval_ns = 1000000000",
            &s
        ));
    }
}
