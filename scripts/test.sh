#!/usr/bin/env bash
# The test command (README "Test"): builds everything, runs every test of the workspace,
# compiles and smoke-runs the criterion benches in test mode (one iteration each).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d ../shared/data ]; then
  echo "error: ../shared/data (real market data used by the tests) is missing beside this checkout" >&2
  exit 2
fi
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked
# The out-of-tree strategy example builds against the engine alone and runs a replay.
out=$(CARGO_TARGET_DIR=target/plugin cargo run --quiet --locked --manifest-path strategies/examples/plugin/Cargo.toml -- data/AAPL_2012-06-21_lobster10.itch)
echo "$out" | tail -3
echo "$out" | grep -q '^strategy: *tight_spread_pressure: [1-9][0-9]* signals' || { echo "plugin example: no signals" >&2; exit 1; }
echo "$out" | grep -q '^digest: [0-9a-f]\{32\}$' || { echo "plugin example: no digest" >&2; exit 1; }
echo "plugin example: 1 passed, 0 failed"
