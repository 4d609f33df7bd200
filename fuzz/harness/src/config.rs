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
use ticklane_strategies::ema_cross::EmaCrossConfig;
use ticklane_strategies::market_maker::MarketMakerConfig;
use ticklane_strategies::mean_reversion::MeanReversionConfig;
use ticklane_strategies::obi::ObiConfig;

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
            if window_outside_checked_range(text) {
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

/// Window sizes (`mean_reversion`'s `window`, `obi_taker`'s `levels`) and equity-sample
/// intervals (`sample_interval_ns`) this harness passes over.
///
/// The strategy and execution configs do not yet bound the sizes that become allocations: a
/// rolling window of `window` values, an equity sample every `sample_interval_ns` over the
/// whole run. Those range checks are a change of their own; until it lands, the harness skips
/// such values (read with the configs' own types, as the library reads them) so that the
/// fuzzer explores the rest instead of finding the same out-of-memory again (the config
/// target's first finding: mean_reversion with `window = 100000000000` asks for 800 GB).
const MAX_WINDOW: usize = 1 << 16;

/// See [`MAX_WINDOW`]: at most 65,536 equity samples over the one-second synthetic session.
const MIN_SAMPLE_INTERVAL_NS: u64 = 1_000_000_000 >> 16;

/// Order sizes (every strategy's `size`, lots) this harness passes over: the strategy configs
/// do not bound them either, and the simulator's quantity counters overflow on sizes near
/// u64::MAX (the config target's fourth finding: market_maker with `size = 1.4e19`).
const MAX_SIZE: u64 = 1 << 40;

/// Whether a strategy config sets a window beyond [`MAX_WINDOW`] or a size beyond
/// [`MAX_SIZE`].
fn window_outside_checked_range(text: &str) -> bool {
    let mr = toml::from_str::<MeanReversionConfig>(text)
        .is_ok_and(|c| c.window > MAX_WINDOW || c.size > MAX_SIZE);
    let obi =
        toml::from_str::<ObiConfig>(text).is_ok_and(|c| c.levels > MAX_WINDOW || c.size > MAX_SIZE);
    let ema = toml::from_str::<EmaCrossConfig>(text).is_ok_and(|c| c.size > MAX_SIZE);
    let mm = toml::from_str::<MarketMakerConfig>(text).is_ok_and(|c| c.size > MAX_SIZE);
    mr || obi || ema || mm
}

/// The execution config, parsed, turned into options and run with market_maker.
fn exec(text: &str) {
    let Ok(mut cfg) = ExecConfig::parse(text) else {
        return;
    };
    if cfg.sample_interval_ns < MIN_SAMPLE_INTERVAL_NS {
        return;
    }
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
    fn only_the_unchecked_windows_are_passed_over() {
        assert!(window_outside_checked_range("window = 100000000000"));
        assert!(window_outside_checked_range(
            "window = 10000000000073709551"
        ));
        assert!(window_outside_checked_range("levels = 0x7fffffff"));
        assert!(window_outside_checked_range(
            "half_spread = 3\nsize = 14444444444444444444"
        ));
        assert!(!window_outside_checked_range("window = 100\nentry = 2.0"));
        assert!(!window_outside_checked_range("not toml ["));
    }
}
