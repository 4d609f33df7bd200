#!/usr/bin/env bash
# The test command (README "Test"): builds everything, runs every test of the workspace,
# compiles and smoke-runs the criterion benches in test mode (one iteration each).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d ../shared/data ]; then
  echo "error: ../shared/data (real market data used by the tests) is missing beside this checkout" >&2
  exit 2
fi
# The Parquet sink's test reads its files back with DuckDB (from PyPI), an independent reader.
python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check 'duckdb==2.0.1'
cargo test --workspace --all-targets --locked
cargo test --workspace --doc --locked
# The Kafka sink (feature `kafka`, bundled librdkafka: a C compiler and make) against a real
# broker: scripts/kafka-broker.sh starts tansu on 127.0.0.1 (or uses TICKLANE_KAFKA) and the
# trap stops it; the backpressure tests start and stall a broker of their own.
broker_started=
stop_broker() {
  if [ -n "$broker_started" ]; then scripts/kafka-broker.sh stop || true; fi
}
trap stop_broker EXIT
scripts/kafka-broker.sh start
broker_started=1
TICKLANE_KAFKA=$(scripts/kafka-broker.sh address) TICKLANE_TANSU=$(scripts/kafka-broker.sh path) \
  cargo test --locked -p ticklane-replay --features kafka --test kafka
# The command line's --sink on the built binary: every record acknowledged, none lost.
cargo build --locked --features kafka
out=$(target/debug/ticklane replay data/AAPL_2012-06-21_lobster10.itch --strategy obi_taker \
  --sink "kafka://$(scripts/kafka-broker.sh address)/smoke-$$-$RANDOM?format=json")
sink_line=$(grep '^sink: ' <<< "$out")
echo "$sink_line"
if ! [[ "$sink_line" =~ queued\ ([0-9]+),\ sent\ ([0-9]+),\ acked\ ([0-9]+),\ dropped\ 0,\ conflated\ 0,\ errors\ 0$ ]] \
  || [ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[3]}" ] || [ "${BASH_REMATCH[1]}" = 0 ]; then
  echo "kafka: the replay's sink did not deliver every record: $sink_line" >&2
  exit 1
fi
# The live daemon's [[sink]]: an ITCH session from `ticklane serve` publishes every record, and
# /metrics shows the sink's counters while it runs.
ktmp=$(mktemp -d)
kport=$((20000 + RANDOM % 20000))
kgroup=239.255.88.$((1 + RANDOM % 200))
kmetrics=127.0.0.1:$((40000 + RANDOM % 20000))
cat > "$ktmp/live.toml" <<TOML
[[source]]
kind = "itch"
name = "kafka"
group = "$kgroup:$kport"
line_b = "$kgroup:$((kport + 1))"
request_server = "127.0.0.1:$((kport + 2))"
recv = "recvmmsg"
[strategy]
name = "obi_taker"
[metrics]
enabled = true
bind = "$kmetrics"
[[sink]]
url = "kafka://$(scripts/kafka-broker.sh address)/live-$$-$RANDOM"
TOML
timeout 120 target/debug/ticklane live --config "$ktmp/live.toml" > "$ktmp/live.out" 2> "$ktmp/live.err" &
klive=$!
for _ in $(seq 300); do
  grep -q '^live: source' "$ktmp/live.err" && break
  sleep 0.1
done
timeout 60 target/debug/ticklane serve itch data/AAPL_2012-06-21_lobster10.itch --group "$kgroup:$kport" \
  --line-b "$kgroup:$((kport + 1))" --rate 2000 --request-port $((kport + 2)) --linger-ms 1500 \
  > /dev/null 2> "$ktmp/serve.err" &
kserve=$!
while kill -0 "$kserve" 2> /dev/null; do
  # An HTTP/1.0 GET with bash alone (no curl needed); the last complete scrape is kept.
  if timeout 2 bash -c 'exec 3<> "/dev/tcp/${1%:*}/${1#*:}" && printf "GET /metrics HTTP/1.0\r\n\r\n" >&3 && cat <&3' _ "$kmetrics" \
    > "$ktmp/metrics.next" 2> /dev/null && grep -q '^ticklane_sink_records' "$ktmp/metrics.next"; then
    mv "$ktmp/metrics.next" "$ktmp/metrics"
  fi
  sleep 0.2
done
wait "$kserve" || { echo "kafka: serve failed: $(cat "$ktmp/serve.err")" >&2; exit 1; }
wait "$klive" || { echo "kafka: live failed: $(cat "$ktmp/live.err")" >&2; exit 1; }
sink_line=$(grep '^sink: ' "$ktmp/live.out" || true)
echo "live $sink_line"
if ! [[ "$sink_line" =~ queued\ ([0-9]+),\ sent\ ([0-9]+),\ acked\ ([0-9]+),\ dropped\ 0,\ conflated\ 0,\ errors\ 0$ ]] \
  || [ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[3]}" ] || [ "${BASH_REMATCH[1]}" = 0 ]; then
  echo "kafka: the live daemon's sink did not deliver every record: $sink_line $(cat "$ktmp/live.err")" >&2
  exit 1
fi
touch "$ktmp/metrics"
grep -q '^ticklane_sink_records_total{sink="kafka://.*",state="acked"} [1-9]' "$ktmp/metrics" \
  || { echo "kafka: /metrics has no acknowledged sink records: $(grep sink "$ktmp/metrics" || true)" >&2; exit 1; }
grep -q '^ticklane_sink_oldest_unacked_seconds{sink=' "$ktmp/metrics" \
  || { echo "kafka: /metrics has no sink lag gauge" >&2; exit 1; }
rm -rf "$ktmp"
scripts/kafka-broker.sh stop
broker_started=
trap - EXIT
# The out-of-tree strategy example: its own strategy registered beside the built-ins, and the
# whole command line built around it (ticklane::cli::main_with): a replay, a backtest with a
# report that verify re-runs, and a short live session against `ticklane serve`.
CARGO_TARGET_DIR=target/plugin cargo build --quiet --locked --manifest-path strategies/examples/plugin/Cargo.toml
plugin=target/plugin/debug/plugin
ticklane=target/debug/ticklane
sample=data/AAPL_2012-06-21_lobster10.itch
tmp=$(mktemp -d)
live_pid=
cleanup() {
  if [ -n "$live_pid" ]; then kill "$live_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "plugin example: $*" >&2
  exit 1
}
digest_of() { grep '^digest: [0-9a-f]\{32\}$' | tail -1; }

# 1. A replay with the plugin's strategy: signals, and the digest last.
out=$("$plugin" replay "$sample" --strategy tight_spread_pressure)
echo "$out" | tail -3
echo "$out" | grep -q '^strategy: *tight_spread_pressure: [1-9][0-9]* signals' || fail "replay: no signals"
replay_digest=$(echo "$out" | digest_of)
[ -n "$replay_digest" ] || fail "replay: no digest"
# Whole output first: `grep -q` quits at its match, and a writer still printing would die of SIGPIPE.
listed=$("$plugin" strategies)
grep -q '^tight_spread_pressure ' <<< "$listed" || fail "strategies: not listed"

# 2. A backtest of it with a report, which verify re-runs from another directory.
printf 'max_spread = 200\nsize = 50\n' > "$tmp/tsp.toml"
out=$("$plugin" replay "$sample" --strategy tight_spread_pressure --strategy-config "$tmp/tsp.toml" \
  --exec-config data/exec-example.toml --report "$tmp/report")
echo "$out" | grep -q '^strategy: *tight_spread_pressure: [1-9][0-9]* signals' || fail "backtest: no signals"
echo "$out" | grep -q 'backtest report' || fail "backtest: no statistics block"
backtest_digest=$(echo "$out" | digest_of)
[ -n "$backtest_digest" ] || fail "backtest: no digest"
for f in summary.json equity.svg trades.csv trades.parquet manifest.json; do
  [ -s "$tmp/report/$f" ] || fail "backtest: report file $f missing"
done
grep -q '"name": "tight_spread_pressure"' "$tmp/report/manifest.json" || fail "backtest: the manifest does not name the strategy"
verified=$(cd "$tmp" && "$OLDPWD/$plugin" verify report/manifest.json) || fail "verify: exit $?"
[ "$(echo "$verified" | digest_of)" = "$backtest_digest" ] || fail "verify: another digest"

# 3. A short live session: `ticklane serve` publishes the sample on two multicast lines, the
# plugin's daemon runs its strategy on them and must print the file replay's digest.
port=$((20000 + RANDOM % 20000))
group=239.255.87.$((1 + RANDOM % 200))
cat > "$tmp/live.toml" <<TOML
[[source]]
kind = "itch"
name = "plugin"
group = "$group:$port"
line_b = "$group:$((port + 1))"
request_server = "127.0.0.1:$((port + 2))"
recv = "recvmmsg"
[strategy]
name = "tight_spread_pressure"
[journal]
path = "live.journal"
fsync = "never"
[metrics]
enabled = false
[sinks]
bbo_csv = "bbo.csv"
[[sink]]
url = "parquet://pq"
TOML
timeout 60 "$plugin" live --config "$tmp/live.toml" > "$tmp/live.out" 2> "$tmp/live.err" &
live_pid=$!
for _ in $(seq 100); do
  grep -q '^live: source' "$tmp/live.err" && break
  sleep 0.1
done
grep -q '^live: source' "$tmp/live.err" || fail "live did not start: $(cat "$tmp/live.err")"
timeout 60 "$ticklane" serve itch "$sample" --group "$group:$port" --line-b "$group:$((port + 1))" \
  --rate 20000 --request-port $((port + 2)) --linger-ms 1500 > /dev/null 2> "$tmp/serve.err" \
  || fail "serve failed: $(cat "$tmp/serve.err")"
wait "$live_pid" || fail "live: exit $? $(cat "$tmp/live.err")"
live_pid=
grep -q 'tight_spread_pressure: [1-9][0-9]* signals' "$tmp/live.out" || fail "live: no signals: $(cat "$tmp/live.out")"
[ "$(digest_of < "$tmp/live.out")" = "$replay_digest" ] || fail "live: its digest is not the replay's: $(cat "$tmp/live.out")"
# Its Parquet sink (a directory relative to the config) holds the BBO CSV's rows, read by DuckDB.
scripts/parquet-check.py "$tmp/pq" --bbo-csv "$tmp/bbo.csv" || fail "live: its Parquet files differ from its BBO CSV"
tail -1 "$tmp/live.out"
echo "plugin example: 3 passed (replay, backtest + report + verify, live), 0 failed"
