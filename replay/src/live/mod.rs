//! The live daemon's core, next to the replay runtime it shares its stages with: the metrics
//! registry and its counters ([`metrics`]) and the daemon's configuration ([`config`]).
//!
//! The binary keeps what is specific to one process: flags, reading the config file, opening
//! and joining sockets, signal handlers, the HTTP endpoint serving the metrics, and printing.

pub mod config;
pub mod metrics;
