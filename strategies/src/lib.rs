//! ticklane-strategies: built-in strategies and the registry that builds one from config.
//!
//! The [`Strategy`](ticklane_engine::strategy::Strategy) trait itself lives in
//! `ticklane-engine`, so a user's strategy crate depends on the engine alone. Each built-in has a
//! config struct read from TOML (unknown keys are an error naming the key) with documented
//! defaults and ranges (a value out of range is an error naming the key, the value and the
//! range), and keeps its state per instrument.
#![forbid(unsafe_code)]

pub mod ema_cross;
pub mod limits;
pub mod market_maker;
pub mod mean_reversion;
pub mod obi;
mod orders;
mod per_instr;
pub mod registry;

pub use registry::{build, list, KeyInfo, Registry, RegistryError, StrategyInfo};

#[cfg(test)]
mod harness;
