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
use ticklane_replay::live::session::WsSourceConfig;
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

/// The execution config, parsed, turned into options and run with market_maker.
fn exec(text: &str) {
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

    /// The values the config target once found out-of-memory and overflow with (when the harness
    /// had to pass over them) are refused by the configs' own range checks before anything is
    /// allocated or run, so the harness runs every config the libraries accept.
    #[test]
    fn the_former_findings_are_refused_by_the_range_checks() {
        for (name, text) in [
            ("mean_reversion", "window = 100000000000"),
            ("mean_reversion", "window = 65537"),
            ("obi_taker", "levels = 0x7fffffff"),
            (
                "market_maker",
                "half_spread = 3\nsize = 14444444444444444444",
            ),
            ("ema_cross", "size = 1099511627777"),
        ] {
            assert!(
                ticklane_strategies::build(name, Some(text)).is_err(),
                "{name}: {text}"
            );
        }
        let cfg = ExecConfig::parse("sample_interval_ns = 1").expect("parses");
        assert!(cfg.to_options(Path::new("")).is_err());
    }

    /// The former findings, as fuzz inputs, run through the harness without a finding.
    #[test]
    fn the_former_findings_run_through_the_harness() {
        run(b"\x03window = 100000000000");
        run(b"\x01levels = 0x7fffffff");
        run(b"\x04half_spread = 3\nsize = 14444444444444444444");
        run(b"\x00sample_interval_ns = 1");
        // In range, at the top: a backtest runs.
        run(b"\x03window = 10000\nsize = 1000000000000");
        run(b"\x00sample_interval_ns = 10000000\nmax_equity_samples = 67108864");
    }
}
