//! `ticklane`: the command line with the built-in strategies (see [`ticklane::cli`]).

use std::process::ExitCode;

use ticklane_strategies::Registry;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    ticklane::cli::main_with(Registry::builtins())
}
