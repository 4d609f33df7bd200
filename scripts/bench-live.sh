#!/usr/bin/env bash
# Loss bench for `ticklane live`: `ticklane serve itch` publishes synthetic ITCH on lines A and B
# over loopback multicast at a sustained rate (the file looped with continuing sequence numbers,
# at least SECS seconds a step), the daemon receives it (journal on, no request server, so no
# loss can be hidden by a retransmission), and the rate steps up. Per step it reports the
# datagrams each line lost in the kernel (sent by serve minus received by live) and the messages
# lost after A/B arbitration; the answer is the highest rate where both are 0.
#
#   scripts/bench-live.sh                      # defaults below
#   RATES="500000 1000000" SECS=10 RECV=recvmmsg scripts/bench-live.sh
#   FSYNC='"every_batch"' scripts/bench-live.sh   # the journal synced before each release
#
# Not a test: it takes about (SECS + 3) s per step and wants an idle machine for a figure worth
# quoting (say what else ran).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/ticklane}
RATES=${RATES:-"250000 500000 1000000 2000000 4000000"}
SECS=${SECS:-10}
RECV=${RECV:-auto}
MODE=${MODE:-inline}
MESSAGES=${MESSAGES:-1000000}
FSYNC=${FSYNC:-"{ interval_ms = 1000 }"}   # the [journal] fsync policy
[[ -x $BIN ]] || cargo build --release --locked
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$BIN" gen itch --seed 11 --symbols 500 --messages "$MESSAGES" -o "$work/gen.itch" >/dev/null
per_file=$("$BIN" replay "$work/gen.itch" | awk '/^messages:/ {print $2}')
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "loss bench: $per_file messages a pass, ${SECS} s a step, recv $RECV, pipeline $MODE, $(nproc) cores"
printf '%12s %10s %10s %10s %10s %12s %12s %s\n' "target/s" "achieved/s" "sent A" "lost A" "lost B" "published" "lost msgs" "backend"
best=0
step=0
for rate in $RATES; do
    step=$((step + 1))
    loops=$(( (rate * SECS + per_file - 1) / per_file ))
    pa=$(free_port); pb=$(free_port)
    group="239.255.99.$step"
    cat >"$work/live.toml" <<EOF
[[source]]
kind = "itch"
name = "bench"
group = "$group:$pa"
line_b = "$group:$pb"
recv = "$RECV"
recv_buffer = 33554432
batch = 256
[source.arbiter]
# No request server: a gap is given up quickly and shows as lost messages.
request_delay_ms = 5.0
request_timeout_ms = 10.0
max_timeout_ms = 10.0
max_attempts = 1
[pipeline]
mode = "$MODE"
[journal]
path = "$work/live.journal"
fsync = $FSYNC
[metrics]
enabled = false
[run]
stop_at_end = true
linger_ms = 100
max_duration_s = $((SECS * 3 + 30))
EOF
    "$BIN" live --config "$work/live.toml" >"$work/live.out" 2>"$work/live.err" &
    live_pid=$!
    for _ in $(seq 100); do grep -q '^live: source' "$work/live.err" && break; sleep 0.05; done
    "$BIN" serve itch "$work/gen.itch" --group "$group:$pa" --line-b "$group:$pb" \
        --rate "$rate" --loop "$loops" --linger-ms 0 2>"$work/serve.err" || true
    # The end of session is sent three times; if every copy was lost, stop the daemon.
    for _ in $(seq 200); do kill -0 "$live_pid" 2>/dev/null || break; sleep 0.05; done
    kill -INT "$live_pid" 2>/dev/null || true
    wait "$live_pid" || true
    sent_a=$(awk '/line A:/ {print $4}' "$work/serve.err")
    sent_b=$(awk '/line B:/ {print $4}' "$work/serve.err")
    achieved=$(awk '/msgs\/s/ {gsub(/[(]/, "", $7); print $7}' "$work/serve.err")
    got_a=$(awk '/^packets:/ {print $3}' "$work/live.out")
    got_b=$(awk '/^packets:/ {print $5}' "$work/live.out")
    released=$(awk '/^arbiter:/ {print $2}' "$work/live.out")
    backend=$(awk -F'[ ,]+' '/^receive:/ {print $2}' "$work/live.out")
    published=$((per_file * loops))
    # Serve sends the end of session 3 times a line besides its data packets (and no
    # heartbeats: pacing never idles for a second at these rates).
    lost_a=$((sent_a + 3 - got_a)); lost_b=$((sent_b + 3 - got_b)); lost=$((published - released))
    printf '%12s %10s %10s %10s %10s %12s %12s %s\n' "$rate" "$achieved" "$sent_a" "$lost_a" "$lost_b" "$published" "$lost" "$backend"
    if (( lost_a == 0 && lost_b == 0 && lost == 0 )); then
        best=$achieved
    else
        break
    fi
done
echo "highest rate without loss: $best messages/s (achieved by serve; loopback, both lines)"
