//! `ticklane`, the command line, as a library: [`cli::main_with`] runs the whole command line
//! (replay, backtests and reports, verify, live, serve, bench, convert) with the strategies
//! of a [`Registry`](ticklane_strategies::Registry), so a crate of your own can build the
//! full CLI with its strategies registered beside the built-ins. Thin by design: parsing
//! arguments, opening files, showing progress and mapping errors to exit codes; the work
//! happens in the library crates (a replay or backtest is a
//! [`RunSpec`](ticklane_replay::run::RunSpec) run by `ticklane_replay::run`).

pub mod cli;

mod args;
mod backtest;
mod bench;
mod bench_json;
mod convert;
mod failure;
mod hftbacktest;
mod live;
mod registry;
mod replay;
mod serve;
mod serve_ws;

// The subcommands' shared helpers, at the crate root where they have always been.
pub(crate) use args::{in_range, parse_time_jump, LayoutArgs};
pub(crate) use failure::{
    create, exit, exit_code, input_failure, read_config, ticklane_replay_input, usage_failure,
    Failure,
};
pub(crate) use registry::strategies;
