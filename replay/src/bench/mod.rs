//! The benchmark runners behind `ticklane bench` (the criterion benches in `benches/` share the
//! JSON cases): each times the library's own code paths in one process and returns numbers,
//! whose `Display` is the report the command prints.
//!
//! - [`itch`]: ITCH decode and decode + book throughput, book-apply latency.
//! - [`latency`]: the threaded pipeline's hop latency and rings at a target rate.
//! - [`backtest`]: the backtest loop against the loop without a strategy, on reused engines.
//! - [`json`]: each JSON message type through our decoder, our tape path and serde_json
//!   ([`json_cases`]).

pub mod backtest;
pub mod itch;
pub mod json;
pub mod json_cases;
pub mod latency;
pub mod latency_report;
