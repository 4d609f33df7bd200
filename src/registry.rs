//! The strategies this process builds by name.

use std::sync::OnceLock;

use ticklane_strategies::Registry;

/// The strategies of this process: the registry `cli::main_with` was given (the built-ins when
/// nothing set one). Process-wide because every subcommand reaches it (a replay, a backtest,
/// `verify`, the live daemon's `[strategy]`, `bench backtest`), and it never changes once
/// the command line has started.
static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// The strategies the commands build by name.
pub(crate) fn strategies() -> &'static Registry {
    REGISTRY.get_or_init(Registry::builtins)
}

/// Sets the process's registry (the first call wins; `cli::main_with` makes it, once).
pub(crate) fn set(registry: Registry) {
    let _ = REGISTRY.set(registry);
}
