//! The live daemon's core, next to the replay runtime it shares its stages with: the receive
//! backends over sockets the caller opened and the live clock ([`recv`]), the metrics registry
//! and its counters ([`metrics`]) and the daemon's configuration ([`config`]).
//!
//! The binary keeps what is specific to one process: flags, reading the config file, opening
//! and joining sockets, choosing the receive backend, signal handlers, the HTTP endpoint
//! serving the metrics, and printing.

pub mod config;
pub mod metrics;
pub mod recv;
