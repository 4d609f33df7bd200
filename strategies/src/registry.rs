//! Builds a built-in strategy by name from TOML configuration.

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
}

/// A built-in and its configuration keys.
#[derive(Clone, Debug)]
pub struct StrategyInfo {
    /// Name to pass to [`build`].
    pub name: &'static str,
    /// One line on what it does.
    pub about: &'static str,
    /// `(key, default, meaning)`.
    pub keys: Vec<(&'static str, String, &'static str)>,
}

fn parse<T: serde::de::DeserializeOwned + Default>(
    name: &'static str,
    toml_text: Option<&str>,
) -> Result<T, RegistryError> {
    match toml_text {
        None => Ok(T::default()),
        Some(t) => toml::from_str(t).map_err(|e| RegistryError::Config {
            name,
            message: e.to_string().trim().to_owned(),
        }),
    }
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
        "obi_taker" => Box::new(ObiTaker::new(parse::<ObiConfig>("obi_taker", config)?)),
        "ema_cross" => Box::new(EmaCross::new(parse::<EmaCrossConfig>("ema_cross", config)?)),
        "mean_reversion" => Box::new(MeanReversion::new(parse::<MeanReversionConfig>(
            "mean_reversion",
            config,
        )?)),
        "market_maker" => Box::new(MarketMaker::new(parse::<MarketMakerConfig>(
            "market_maker",
            config,
        )?)),
        _ => {
            return Err(RegistryError::Unknown {
                name: name.to_owned(),
                known: list().iter().map(|i| i.name).collect::<Vec<_>>().join(", "),
            })
        }
    })
}

/// Every built-in with its keys and defaults.
pub fn list() -> Vec<StrategyInfo> {
    let o = ObiConfig::default();
    let e = EmaCrossConfig::default();
    let m = MeanReversionConfig::default();
    let k = MarketMakerConfig::default();
    vec![
        StrategyInfo {
            name: "obi_taker",
            about: "take liquidity in the direction of a top-N order-book imbalance",
            keys: vec![
                (
                    "levels",
                    o.levels.to_string(),
                    "levels per side in the imbalance",
                ),
                (
                    "threshold",
                    o.threshold.to_string(),
                    "imbalance in (0, 1] that triggers",
                ),
                (
                    "reset",
                    o.reset.to_string(),
                    "fraction of threshold to fall within before re-arming",
                ),
                (
                    "size",
                    o.size.to_string(),
                    "lots per market order with a signal",
                ),
                (
                    "max_position",
                    o.max_position.to_string(),
                    "largest absolute position, lots (0: signals only)",
                ),
            ],
        },
        StrategyInfo {
            name: "ema_cross",
            about: "buy/sell on crosses of a fast and a slow EMA of the microprice, a market order each",
            keys: vec![
                (
                    "fast",
                    e.fast.to_string(),
                    "fast EMA length, microprice updates",
                ),
                (
                    "slow",
                    e.slow.to_string(),
                    "slow EMA length, microprice updates",
                ),
                (
                    "size",
                    e.size.to_string(),
                    "lots per market order with a signal",
                ),
                (
                    "max_position",
                    e.max_position.to_string(),
                    "largest absolute position, lots (0: signals only)",
                ),
            ],
        },
        StrategyInfo {
            name: "mean_reversion",
            about: "fade microprice z-score extremes with market orders, flatten near the mean",
            keys: vec![
                (
                    "window",
                    m.window.to_string(),
                    "microprice changes in the z-score window",
                ),
                ("entry", m.entry.to_string(), "|z| to enter"),
                ("exit", m.exit.to_string(), "|z| to exit"),
                (
                    "size",
                    m.size.to_string(),
                    "lots per entry market order (the exit flattens)",
                ),
                (
                    "max_position",
                    m.max_position.to_string(),
                    "largest absolute position, lots (0: signals only)",
                ),
            ],
        },
        StrategyInfo {
            name: "market_maker",
            about: "quote both sides around the microprice, skewed against inventory",
            keys: vec![
                (
                    "half_spread",
                    k.half_spread.to_string(),
                    "ticks from the microprice to each quote",
                ),
                (
                    "skew",
                    k.skew.to_string(),
                    "ticks of shift per lot of position",
                ),
                ("size", k.size.to_string(), "quote size, lots"),
                (
                    "max_position",
                    k.max_position.to_string(),
                    "largest absolute position, lots, counting what quotes could still fill",
                ),
                ("tick", k.tick.to_string(), "price grid, ticks"),
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
}
