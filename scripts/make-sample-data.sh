#!/usr/bin/env bash
# Rebuilds data/AAPL_2012-06-21_lobster10.itch (the README's default input) from LOBSTER's AAPL
# sample in ../shared/data, and shows whether its bytes changed. A change means the converter's
# output changed: read why before committing it, then run scripts/update-goldens.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
lob=../shared/data/lobster
cargo build --release --quiet
target/release/ticklane convert lobster \
  "$lob/AAPL_2012-06-21_34200000_57600000_message_10.csv" \
  --orderbook "$lob/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv" \
  -o data/AAPL_2012-06-21_lobster10.itch
git --no-pager diff --stat -- data/AAPL_2012-06-21_lobster10.itch
