#!/usr/bin/env bash
# Instructions per message of each JSON decode path, counted by callgrind: a figure that does
# not depend on what else the machine runs (unlike time). For every case of `ticklane bench
# json`, runs the release binary twice per path (N1 and N2 iterations) under
# `valgrind --tool=callgrind` and divides the difference by N2 - N1, so start-up and the
# digest check cancel out. Prints instructions/message and the serde_json/ours ratios.
# Usage: scripts/json-callgrind.sh [N1 N2]   (default 2000 12000)
set -euo pipefail
cd "$(dirname "$0")/.."
n1=${1:-2000}
n2=${2:-12000}
command -v valgrind >/dev/null || { echo "valgrind not found" >&2; exit 2; }
cargo build --release --locked --quiet
bin=target/release/ticklane
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
count() { # case path iters -> instructions
  valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$bin" bench json \
    --case "$1" --path "$2" --iters "$3" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
printf '%-24s %14s %10s %10s %15s %11s\n' case ticklane tape serde serde/ticklane serde/tape
cases=(
  binance_depth_300B binance_futures_depth binance_partial_depth5 binance_rest_depth_100x2
  binance_trade binance_agg_trade binance_book_ticker
  coinbase_snapshot_318lv coinbase_l2update coinbase_match coinbase_ticker
  cb_adv_l2_update cb_adv_l2_snapshot_200lv cb_adv_market_trades
  kraken_v2_book_snapshot kraken_v2_book_update
)
for c in "${cases[@]}"; do
  declare -A per=()
  for p in ticklane tape serde; do
    a=$(count "$c" "$p" "$n1")
    b=$(count "$c" "$p" "$n2")
    per[$p]=$(( (b - a) / (n2 - n1) ))
  done
  awk -v c="$c" -v o="${per[ticklane]}" -v t="${per[tape]}" -v s="${per[serde]}" \
    'BEGIN { printf "%-24s %14d %10d %10d %14.2fx %10.2fx\n", c, o, t, s, s / o, s / t }'
done
echo "instructions per message (callgrind), release build"
