//! ticklane-strategies: built-in strategies and the registry that builds one from config.
//!
//! The strategy plugin trait itself lives in `ticklane-engine`, so a user's strategy crate
//! depends on the engine alone.
#![forbid(unsafe_code)]
