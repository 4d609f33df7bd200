//! ticklane-replay: historical replays through the same decode → book path the live feed runs,
//! with a summary, optional BBO CSV and the run digest.
// No unsafe code, but for the live receive backends' system calls (`live::recv`, which allows
// it locally, each block with its SAFETY comment).
#![deny(unsafe_code)]

pub mod backtest;
pub mod bbo_csv;
pub mod bench;
pub mod binance;
pub mod capture;
pub mod coinbase;
pub mod consolidated;
pub mod convert;
pub mod digest;
pub mod input;
pub mod itch;
pub mod journal;
pub mod kraken;
pub mod l2backtest;
pub mod l2state;
pub mod latency_report;
pub mod live;
pub mod live_ws;
pub mod lobster;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod run;
pub mod signals;
pub mod stages;
pub mod summary;
pub mod venue;

pub use itch::{replay_itch, replay_itch_with, ItchEngine, ItchReplayOptions, ReplayError};
pub use summary::Summary;
