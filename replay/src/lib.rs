//! ticklane-replay: the runtime. Every venue's data takes one path — decode (a venue's sync
//! machine, or the ITCH decoder) → [`Event`](ticklane_engine::Event)s → book stage(s) with the
//! strategy runner → outputs in input order → sinks — inline or on pinned threads joined by
//! SPSC rings, in a replay, a backtest or the live daemon. `docs/architecture.md` in the
//! repository is the map.
//!
//! | folder | concern |
//! |---|---|
//! | [`run`] | the run as a value ([`run::RunSpec`]), running it, recording and verifying it; opening inputs |
//! | [`venue`] | price-level venues: the sync machines behind [`venue::VenueSync`] and their registry, capture containers, the consolidated BBO |
//! | [`l3`] | order-by-order inputs: ITCH, LOBSTER, journals of the live ITCH feed, and their summary |
//! | [`stages`] | the stages (decode, L3 and L2 book stages, outputs) and the threaded pipeline |
//! | [`sink`] | what outputs go to: the digest encodings, the BBO CSV, signals |
//! | [`backtest`] | the simulator's configuration, the recorder, backtests on price-level data |
//! | [`report`] | backtest reports: statistics, CSV, Parquet, SVG, the manifest |
//! | [`live`] | the live daemon's core: config, receive loop, journal segments, metrics, websocket sessions |
//! | [`bench`](mod@bench), [`convert`] | benchmark runners; converters to other tools' formats |
// No unsafe code, but for the live receive backends' system calls (`live::recv`, which allows
// it locally, each block with its SAFETY comment).
#![deny(unsafe_code)]

pub mod backtest;
pub mod bench;
pub mod convert;
pub mod l3;
pub mod live;
pub mod report;
pub mod run;
pub mod sink;
pub mod stages;
pub mod venue;

pub use l3::itch::{replay_itch, replay_itch_with, ItchEngine, ItchReplayOptions, ReplayError};
pub use l3::summary::Summary;
