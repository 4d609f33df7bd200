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
