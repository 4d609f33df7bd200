//! Builds a strategy by name from TOML configuration: the built-ins ([`build`], [`list`]),
//! and a [`Registry`] holding them beside a user's own, so the command line can run strategies
//! written in other crates.

use ticklane_engine::config::{Bound, Range, RangeError};
use ticklane_engine::strategy::Strategy;

use crate::ema_cross::{EmaCross, EmaCrossConfig};
use crate::market_maker::{MarketMaker, MarketMakerConfig};
use crate::mean_reversion::{MeanReversion, MeanReversionConfig};
use crate::obi::{ObiConfig, ObiTaker};

/// Why a strategy could not be built.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No strategy has that name.
    #[error("unknown strategy {name:?}; known strategies: {known}")]
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
    /// A strategy of that name is registered already.
    #[error("a strategy named {name:?} is registered already")]
    Duplicate {
        /// The name.
        name: String,
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

/// Parses a strategy's configuration from TOML text (`None`: `T::default()`), as every
/// built-in does: a key the struct does not have is an error naming it when `T` is
/// `#[serde(deny_unknown_fields)]`. For a user's strategy registered in a [`Registry`].
///
/// ```
/// #[derive(Default, serde::Deserialize)]
/// #[serde(deny_unknown_fields, default)]
/// struct Cfg { width: u32 }
/// let c: Cfg = ticklane_strategies::registry::parse_config("mine", Some("width = 3")).unwrap();
/// assert_eq!(c.width, 3);
/// let e = ticklane_strategies::registry::parse_config::<Cfg>("mine", Some("wdth = 3"));
/// assert!(e.err().unwrap().to_string().contains("wdth"));
/// ```
///
/// # Errors
/// [`RegistryError::Config`] when the text does not parse or has an unknown key.
pub fn parse_config<T: serde::de::DeserializeOwned + Default>(
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

/// Parses `toml_text` (`None`: the defaults) and checks every key's range with `validate`.
fn parse<T: serde::de::DeserializeOwned + Default>(
    name: &'static str,
    toml_text: Option<&str>,
    validate: fn(&T) -> Result<(), RangeError>,
) -> Result<T, RegistryError> {
    let cfg = parse_config(name, toml_text)?;
    validate(&cfg).map_err(|error| RegistryError::Range { name, error })?;
    Ok(cfg)
}

/// A built-in by name, or `None` when no built-in has it.
fn builtin(
    name: &str,
    config: Option<&str>,
) -> Option<Result<Box<dyn Strategy + Send>, RegistryError>> {
    fn boxed<S: Strategy + Send + 'static>(
        s: Result<S, RegistryError>,
    ) -> Result<Box<dyn Strategy + Send>, RegistryError> {
        s.map(|s| Box::new(s) as Box<dyn Strategy + Send>)
    }
    Some(match name {
        "obi_taker" => boxed(parse("obi_taker", config, ObiConfig::validate).map(ObiTaker::new)),
        "ema_cross" => {
            boxed(parse("ema_cross", config, EmaCrossConfig::validate).map(EmaCross::new))
        }
        "mean_reversion" => boxed(
            parse("mean_reversion", config, MeanReversionConfig::validate).map(MeanReversion::new),
        ),
        "market_maker" => {
            boxed(parse("market_maker", config, MarketMakerConfig::validate).map(MarketMaker::new))
        }
        _ => return None,
    })
}

/// Builds the built-in `name` with `config` (TOML text; `None` for the defaults). A
/// [`Registry`] builds the built-ins the same way, and the strategies registered beside them.
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
    builtin(name, config).unwrap_or_else(|| {
        Err(RegistryError::Unknown {
            name: name.to_owned(),
            known: list().iter().map(|i| i.name).collect::<Vec<_>>().join(", "),
        })
    })
}

/// What a [`Registry`] calls to build a strategy: its TOML configuration text (`None`: the
/// defaults) in, the strategy or the reason it cannot be built out.
pub type Constructor =
    dyn Fn(Option<&str>) -> Result<Box<dyn Strategy + Send>, RegistryError> + Send + Sync;

/// One registered strategy.
struct Entry {
    info: StrategyInfo,
    make: Box<Constructor>,
}

/// Strategies by name: the built-ins, and those a user's crate registers beside them, each
/// built from its TOML configuration. The command line takes one
/// (`ticklane::cli::main_with(registry)`), so a crate of your own gets every command (replay,
/// backtests and reports, verify, live) with its strategies in them.
///
/// ```
/// use ticklane_engine::strategy::{NoStrategy, Strategy};
/// use ticklane_strategies::registry::{Registry, StrategyInfo};
///
/// let mut r = Registry::builtins();
/// r.register(
///     StrategyInfo { name: "idle", about: "does nothing", keys: Vec::new() },
///     |_config| Ok(Box::new(NoStrategy) as Box<dyn Strategy + Send>),
/// )
/// .unwrap();
/// assert!(r.build("idle", None).is_ok());
/// assert_eq!(r.build("market_maker", None).unwrap().name(), "market_maker");
/// assert!(r.register(StrategyInfo { name: "idle", about: "", keys: Vec::new() },
///     |_| Ok(Box::new(NoStrategy) as Box<dyn Strategy + Send>)).is_err());
/// ```
pub struct Registry {
    /// In registration order: the built-ins first, as [`list`] gives them.
    entries: Vec<Entry>,
}

impl Registry {
    /// A registry with no strategy in it.
    pub fn empty() -> Registry {
        Registry {
            entries: Vec::new(),
        }
    }

    /// The built-ins ([`list`]), built as [`build`] builds them.
    pub fn builtins() -> Registry {
        let mut r = Registry::empty();
        for info in list() {
            let name = info.name;
            r.entries.push(Entry {
                info,
                make: Box::new(move |config| build(name, config)),
            });
        }
        r
    }

    /// Adds a strategy under `info.name`, built by `make` from its configuration text.
    ///
    /// # Errors
    /// [`RegistryError::Duplicate`] when a strategy of that name is already registered (a
    /// built-in included): names must stay unambiguous in configs and manifests.
    pub fn register<F>(&mut self, info: StrategyInfo, make: F) -> Result<&mut Self, RegistryError>
    where
        F: Fn(Option<&str>) -> Result<Box<dyn Strategy + Send>, RegistryError>
            + Send
            + Sync
            + 'static,
    {
        if self.contains(info.name) {
            return Err(RegistryError::Duplicate {
                name: info.name.to_owned(),
            });
        }
        self.entries.push(Entry {
            info,
            make: Box::new(make),
        });
        Ok(self)
    }

    /// True when a strategy is registered as `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.iter().any(|e| e.info.name == name)
    }

    /// Builds the strategy registered as `name` with `config` (TOML text; `None` for its
    /// defaults).
    ///
    /// # Errors
    /// [`RegistryError::Unknown`] (listing the names there are), or the constructor's error.
    pub fn build(
        &self,
        name: &str,
        config: Option<&str>,
    ) -> Result<Box<dyn Strategy + Send>, RegistryError> {
        match self.entries.iter().find(|e| e.info.name == name) {
            Some(e) => (e.make)(config),
            None => Err(RegistryError::Unknown {
                name: name.to_owned(),
                known: self.names().collect::<Vec<_>>().join(", "),
            }),
        }
    }

    /// Every registered strategy with its keys, in registration order.
    pub fn infos(&self) -> impl Iterator<Item = &StrategyInfo> {
        self.entries.iter().map(|e| &e.info)
    }

    /// Every registered name, in registration order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.entries.iter().map(|e| e.info.name)
    }
}

impl Default for Registry {
    /// The built-ins.
    fn default() -> Self {
        Registry::builtins()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
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

    #[derive(Default, serde::Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct QuietConfig {
        every: u32,
    }

    /// A user's strategy, with a configuration of one key.
    struct Quiet;

    impl Strategy for Quiet {
        fn name(&self) -> &'static str {
            "quiet"
        }
    }

    fn quiet_info() -> StrategyInfo {
        StrategyInfo {
            name: "quiet",
            about: "never signals",
            keys: Vec::new(),
        }
    }

    #[test]
    fn a_registry_builds_builtins_and_registered_strategies_by_name() {
        let mut r = Registry::builtins();
        assert_eq!(
            r.names().collect::<Vec<_>>(),
            list().iter().map(|i| i.name).collect::<Vec<_>>()
        );
        r.register(quiet_info(), |c| {
            let cfg: QuietConfig = parse_config("quiet", c)?;
            if cfg.every > 10 {
                return Err(RegistryError::Config {
                    name: "quiet",
                    message: format!("every = {} is more than 10", cfg.every),
                });
            }
            Ok(Box::new(Quiet))
        })
        .unwrap();
        assert!(r.contains("quiet") && r.contains("market_maker"));
        assert_eq!(r.build("quiet", Some("every = 3")).unwrap().name(), "quiet");
        let e = r
            .build("quiet", Some("evry = 3"))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("strategy quiet config") && e.contains("evry"),
            "{e}"
        );
        assert!(r.build("quiet", Some("every = 11")).is_err());
        // The built-ins build as `build` builds them, errors included.
        assert_eq!(
            r.build("obi_taker", Some("levels = 0"))
                .err()
                .unwrap()
                .to_string(),
            build("obi_taker", Some("levels = 0"))
                .err()
                .unwrap()
                .to_string()
        );
        // An unknown name lists every registered one, the user's included.
        let e = r.build("nope", None).err().unwrap().to_string();
        assert!(e.contains("obi_taker") && e.contains("quiet"), "{e}");
        // A name can be registered once, built-in names included.
        let again = r.register(quiet_info(), |_| Ok(Box::new(Quiet)));
        assert!(matches!(again, Err(RegistryError::Duplicate { .. })));
        let shadow = StrategyInfo {
            name: "market_maker",
            ..quiet_info()
        };
        assert!(r.register(shadow, |_| Ok(Box::new(Quiet))).is_err());
        assert_eq!(r.infos().last().unwrap().about, "never signals");
        assert!(Registry::empty().build("market_maker", None).is_err());
    }

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
