//! Builds a built-in strategy by name from TOML configuration.

use ticklane_engine::config::{Bound, Range, RangeError};
use ticklane_engine::strategy::Strategy;

use crate::ema_cross::{EmaCross, EmaCrossConfig};
use crate::market_maker::{MarketMaker, MarketMakerConfig};
use crate::mean_reversion::{MeanReversion, MeanReversionConfig};
use crate::obi::{ObiConfig, ObiTaker};

/// Why a strategy could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No built-in has that name.
    #[error("unknown strategy {name:?}; built-ins: {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names there are.
        known: String,
    },
    /// The configuration does not parse or has an unknown key (the message names it).
    #[error("strategy {name} config: {message}")]
    Config {
        /// The strategy.
        name: &'static str,
        /// What is wrong, from the TOML parser (it names the key and line).
        message: String,
    },
    /// A key's value is out of its range (NaN and infinities included).
    #[error("strategy {name} config: {error}")]
    Range {
        /// The strategy.
        name: &'static str,
        /// The key, its value and its range.
        error: RangeError,
    },
}

/// A built-in and its configuration keys.
#[derive(Clone, Debug)]
pub struct StrategyInfo {
    /// Name to pass to [`build`].
    pub name: &'static str,
    /// One line on what it does.
    pub about: &'static str,
    /// Every key.
    pub keys: Vec<KeyInfo>,
}

/// One configuration key of a built-in.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyInfo {
    /// The key.
    pub key: &'static str,
    /// Its default, as TOML writes it.
    pub default: String,
    /// Its valid values, `min..=max`.
    pub range: String,
    /// What it means, with its unit.
    pub meaning: &'static str,
}

fn key<T: Bound + ToString>(key: &'static str, default: T, range: Range<T>) -> KeyInfo {
    KeyInfo {
        key,
        default: default.to_string(),
        range: range.to_string(),
        meaning: range.what,
    }
}

/// Parses `toml_text` (`None`: the defaults) and checks every key's range with `validate`.
fn parse<T: serde::de::DeserializeOwned + Default>(
    name: &'static str,
    toml_text: Option<&str>,
    validate: fn(&T) -> Result<(), RangeError>,
) -> Result<T, RegistryError> {
    let cfg = match toml_text {
        None => T::default(),
        Some(t) => toml::from_str(t).map_err(|e| RegistryError::Config {
            name,
            message: e.to_string().trim().to_owned(),
        })?,
    };
    validate(&cfg).map_err(|error| RegistryError::Range { name, error })?;
    Ok(cfg)
}

/// Builds the built-in `name` with `config` (TOML text; `None` for the defaults).
///
/// ```
/// let s = ticklane_strategies::build("obi_taker", Some("threshold = 0.7")).unwrap();
/// assert_eq!(s.name(), "obi_taker");
/// let e = ticklane_strategies::build("obi_taker", Some("treshold = 0.7")).err().unwrap();
/// assert!(e.to_string().contains("treshold"));
/// ```
///
/// # Errors
/// [`RegistryError`].
pub fn build(name: &str, config: Option<&str>) -> Result<Box<dyn Strategy + Send>, RegistryError> {
    Ok(match name {
        "obi_taker" => Box::new(ObiTaker::new(parse(
            "obi_taker",
            config,
            ObiConfig::validate,
        )?)),
        "ema_cross" => Box::new(EmaCross::new(parse(
            "ema_cross",
            config,
            EmaCrossConfig::validate,
        )?)),
        "mean_reversion" => Box::new(MeanReversion::new(parse(
            "mean_reversion",
            config,
            MeanReversionConfig::validate,
        )?)),
        "market_maker" => Box::new(MarketMaker::new(parse(
            "market_maker",
            config,
            MarketMakerConfig::validate,
        )?)),
        _ => {
            return Err(RegistryError::Unknown {
                name: name.to_owned(),
                known: list().iter().map(|i| i.name).collect::<Vec<_>>().join(", "),
            })
        }
    })
}

/// Every built-in with its keys, defaults and ranges.
pub fn list() -> Vec<StrategyInfo> {
    use crate::limits::{MAX_POSITION, SIZE};
    type O = ObiConfig;
    type E = EmaCrossConfig;
    type M = MeanReversionConfig;
    type K = MarketMakerConfig;
    let (o, e, m, k) = (O::default(), E::default(), M::default(), K::default());
    vec![
        StrategyInfo {
            name: "obi_taker",
            about: "take liquidity in the direction of a top-N order-book imbalance",
            keys: vec![
                key("levels", o.levels, O::LEVELS),
                key("threshold", o.threshold, O::THRESHOLD),
                key("reset", o.reset, O::RESET),
                key("size", o.size, SIZE),
                key("max_position", o.max_position, MAX_POSITION),
            ],
        },
        StrategyInfo {
            name: "ema_cross",
            about: "buy/sell on crosses of a fast and a slow EMA of the microprice, a market order each",
            keys: vec![
                key("fast", e.fast, E::LENGTH),
                key("slow", e.slow, E::LENGTH),
                key("size", e.size, SIZE),
                key("max_position", e.max_position, MAX_POSITION),
            ],
        },
        StrategyInfo {
            name: "mean_reversion",
            about: "fade microprice z-score extremes with market orders, flatten near the mean",
            keys: vec![
                key("window", m.window, M::WINDOW),
                key("entry", m.entry, M::ENTRY),
                key("exit", m.exit, M::EXIT),
                key("size", m.size, SIZE),
                key("max_position", m.max_position, MAX_POSITION),
            ],
        },
        StrategyInfo {
            name: "market_maker",
            about: "quote both sides around the microprice, skewed against inventory",
            keys: vec![
                key("half_spread", k.half_spread, K::HALF_SPREAD),
                key("skew", k.skew, K::SKEW),
                key("size", k.size, SIZE),
                key("max_position", k.max_position, MAX_POSITION),
                key("tick", k.tick, K::TICK),
            ],
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_strategy_builds_with_defaults_and_rejects_unknown_keys() {
        for info in list() {
            assert_eq!(build(info.name, None).unwrap().name(), info.name);
            let e = build(info.name, Some("no_such_key = 1"))
                .err()
                .unwrap()
                .to_string();
            assert!(e.contains("no_such_key"), "{e}");
        }
        assert!(matches!(
            build("nope", None),
            Err(RegistryError::Unknown { .. })
        ));
        let e = build("ema_cross", Some("fast = \"x\""))
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("fast"), "{e}");
    }

    /// `(strategy, key = bad value, what the error must say)`: every numeric key of every
    /// built-in, out of range on each side where it has one, NaN and infinity for floats.
    const BAD: &[(&str, &str, &str)] = &[
        (
            "obi_taker",
            "levels = 0",
            "levels = 0 is out of range 1..=64",
        ),
        (
            "obi_taker",
            "levels = 65",
            "levels = 65 is out of range 1..=64",
        ),
        (
            "obi_taker",
            "threshold = -1",
            "threshold = -1 is out of range 0.01..=1",
        ),
        (
            "obi_taker",
            "threshold = nan",
            "threshold = nan is out of range 0.01..=1",
        ),
        (
            "obi_taker",
            "threshold = inf",
            "threshold = inf is out of range",
        ),
        (
            "obi_taker",
            "threshold = 1.5",
            "threshold = 1.5 is out of range",
        ),
        (
            "obi_taker",
            "reset = -0.1",
            "reset = -0.1 is out of range 0..=1",
        ),
        (
            "obi_taker",
            "reset = nan",
            "reset = nan is out of range 0..=1",
        ),
        ("obi_taker", "reset = 2", "reset = 2 is out of range 0..=1"),
        (
            "obi_taker",
            "size = 0",
            "size = 0 is out of range 1..=1000000000000",
        ),
        (
            "obi_taker",
            "size = 9223372036854775807",
            "size = 9223372036854775807",
        ),
        (
            "obi_taker",
            "max_position = -1",
            "max_position = -1 is out of range 0..=",
        ),
        (
            "obi_taker",
            "max_position = 9223372036854775807",
            "max_position = 9223372036854775807",
        ),
        (
            "ema_cross",
            "fast = 0",
            "fast = 0 is out of range 1..=1000000",
        ),
        (
            "ema_cross",
            "fast = 1000001",
            "fast = 1000001 is out of range",
        ),
        (
            "ema_cross",
            "slow = 0",
            "slow = 0 is out of range 1..=1000000",
        ),
        (
            "ema_cross",
            "slow = 9223372036854775807",
            "slow = 9223372036854775807",
        ),
        ("ema_cross", "size = 0", "size = 0 is out of range"),
        (
            "ema_cross",
            "max_position = -5",
            "max_position = -5 is out of range",
        ),
        (
            "mean_reversion",
            "window = 1",
            "window = 1 is out of range 2..=10000",
        ),
        (
            "mean_reversion",
            "window = 10001",
            "window = 10001 is out of range 2..=10000",
        ),
        (
            "mean_reversion",
            "entry = 0",
            "entry = 0 is out of range 0.1..=100",
        ),
        (
            "mean_reversion",
            "entry = nan",
            "entry = nan is out of range",
        ),
        (
            "mean_reversion",
            "entry = 101",
            "entry = 101 is out of range",
        ),
        (
            "mean_reversion",
            "exit = -1",
            "exit = -1 is out of range 0..=100",
        ),
        (
            "mean_reversion",
            "exit = -inf",
            "exit = -inf is out of range",
        ),
        ("mean_reversion", "size = 0", "size = 0 is out of range"),
        (
            "mean_reversion",
            "max_position = -1",
            "max_position = -1 is out of range",
        ),
        (
            "market_maker",
            "half_spread = -1",
            "half_spread = -1 is out of range 0..=1000000000000",
        ),
        (
            "market_maker",
            "half_spread = nan",
            "half_spread = nan is out of range",
        ),
        (
            "market_maker",
            "half_spread = 1e13",
            "half_spread = 10000000000000 is out of range",
        ),
        (
            "market_maker",
            "skew = -0.5",
            "skew = -0.5 is out of range 0..=1000000000",
        ),
        ("market_maker", "skew = inf", "skew = inf is out of range"),
        ("market_maker", "size = 0", "size = 0 is out of range"),
        (
            "market_maker",
            "max_position = -1",
            "max_position = -1 is out of range",
        ),
        (
            "market_maker",
            "tick = 0",
            "tick = 0 is out of range 1..=1000000000000",
        ),
        ("market_maker", "tick = -100", "tick = -100 is out of range"),
    ];

    #[test]
    fn every_key_out_of_range_is_an_error_naming_key_value_and_range() {
        for (name, line, want) in BAD {
            let e = build(name, Some(line)).err().unwrap_or_else(|| {
                panic!("{name}: {line} was accepted");
            });
            assert!(
                matches!(e, RegistryError::Range { .. }),
                "{name}: {line}: {e}"
            );
            let e = e.to_string();
            assert!(
                e.starts_with(&format!("strategy {name} config: ")) && e.contains(want),
                "{name}: {line}: {e}"
            );
        }
        // The table covers every key of every built-in.
        for info in list() {
            for k in &info.keys {
                assert!(
                    BAD.iter()
                        .any(|(n, l, _)| *n == info.name && l.starts_with(&format!("{} =", k.key))),
                    "{} {} has no out-of-range case",
                    info.name,
                    k.key
                );
            }
        }
    }

    #[test]
    fn every_key_accepts_both_ends_of_its_range_and_the_defaults_are_in_range() {
        for info in list() {
            for k in &info.keys {
                let (min, max) = k.range.split_once("..=").unwrap();
                for v in [min, max, k.default.as_str()] {
                    let line = format!("{} = {v}", k.key);
                    if let Err(e) = build(info.name, Some(&line)) {
                        panic!("{}: {line}: {e}", info.name);
                    }
                }
                assert!(!k.meaning.is_empty());
            }
        }
        assert!(ObiConfig::default().validate().is_ok());
        assert!(EmaCrossConfig::default().validate().is_ok());
        assert!(MeanReversionConfig::default().validate().is_ok());
        assert!(MarketMakerConfig::default().validate().is_ok());
    }

    #[test]
    fn the_reference_documents_every_key_with_its_range() {
        let doc = include_str!("../../docs/config.md");
        for info in list() {
            for k in &info.keys {
                let name = if ["size", "max_position"].contains(&k.key) {
                    "all"
                } else {
                    info.name
                };
                let row = format!("| {name} | `{}` | ", k.key);
                let line = doc.lines().find(|l| l.starts_with(&row));
                assert!(
                    line.is_some_and(|l| l.contains(&format!(" | {} | ", k.range))),
                    "docs/config.md: no row {row}... | {} |",
                    k.range
                );
            }
        }
    }
}
