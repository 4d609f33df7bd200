#!/usr/bin/env bash
# Backtest speed, ticklane against hftbacktest, on the same market-by-order data and the same
# quoting strategy (scripts/hftbacktest_mm.py is ticklane's market_maker written for
# hftbacktest; L3 FIFO queue model on both sides, constant latency, no fees).
#
# Usage: scripts/compare-hftbacktest.sh [ITCH_FILE]
#   Without ITCH_FILE: a seeded one-symbol file of 2,000,000 messages (ticklane gen itch).
#   RUNS=N            timed runs per engine (default 3; the best is reported)
#   EXEC_CONFIG=PATH  passed to `ticklane replay --exec-config` when the replay has that option
#
# Builds ticklane (release), converts the ITCH file with `ticklane convert hftbacktest`,
# installs hftbacktest from PyPI into a throwaway virtualenv under target/, and prints events/s
# of each backtest loop (start-up, data loading and numba's compile excluded) and the ratio.
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
WORK=target/hbt-compare
VENV=target/hbt-venv
HBT_VERSION=2.4.4
NUMPY_VERSION=2.2.6
NUMBA_VERSION=0.68.1
mkdir -p "$WORK"

cargo build --release -q -p ticklane
TL=target/release/ticklane

ITCH=${1:-}
if [ -z "$ITCH" ]; then
  ITCH=$WORK/gen-seed7-1sym-2m.itch
  [ -f "$ITCH" ] || "$TL" gen itch --seed 7 --symbols 1 --messages 2000000 -o "$ITCH"
fi
[ -f "$ITCH" ] || { echo "error: $ITCH: no such file" >&2; exit 3; }

NPZ=$WORK/$(basename "${ITCH%.gz}" .itch).npz
"$TL" convert hftbacktest "$ITCH" -o "$NPZ"

if ! "$VENV/bin/python" -c "import hftbacktest, numba, numpy" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "hftbacktest==$HBT_VERSION" "numpy==$NUMPY_VERSION" "numba==$NUMBA_VERSION"
fi

# ticklane: the best of RUNS replays; the loop rate from the summary.
exec_args=()
if [ -n "${EXEC_CONFIG:-}" ] && "$TL" replay --help | grep -q -- '--exec-config'; then
  exec_args=(--exec-config "$EXEC_CONFIG")
fi
best_tl=0
field=""
for i in $(seq "$RUNS"); do
  "$TL" replay "$ITCH" --strategy market_maker "${exec_args[@]}" --pipeline inline \
    --no-progress --summary-json "$WORK/ticklane-summary.json" > "$WORK/ticklane-run.txt"
  read -r rate field < <("$VENV/bin/python" - "$WORK/ticklane-summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
b = s.get("backtest")
if isinstance(b, dict) and "events_per_sec" in b:
    print(b["events_per_sec"], ".backtest.events_per_sec")
else:
    print(s["msgs_per_sec"], ".msgs_per_sec")
PY
)
  echo "ticklane run $i: $(printf '%.0f' "$rate") events/s ($field)"
  best_tl=$("$VENV/bin/python" -c "print(max($best_tl, $rate))")
done

# hftbacktest: warm-up on a slice, then RUNS timed runs of the whole array.
hbt_json=$("$VENV/bin/python" scripts/hftbacktest_mm.py "$NPZ" --runs "$RUNS")
echo "hftbacktest: $hbt_json"

"$VENV/bin/python" - "$best_tl" "$field" "$hbt_json" "$WORK/ticklane-summary.json" <<'PY'
import json, sys
tl, field, hbt, summary = float(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), json.load(open(sys.argv[4]))
b = summary.get("backtest") or {}
print()
print(f"ticklane    {tl:>14,.0f} events/s  (best run, from {field}"
      + (f"; {b.get('fills')} fills, {b.get('orders_submitted')} orders" if b else "; no execution simulator in this build") + ")")
print(f"hftbacktest {hbt['events_per_sec']:>14,.0f} events/s  (best of {len(hbt['seconds'])}, {hbt['events']} L3 rows; "
      f"{hbt['fills']} fills, {hbt['orders_submitted']} orders)")
print(f"ratio (ticklane / hftbacktest): {tl / hbt['events_per_sec']:.2f}")
PY
