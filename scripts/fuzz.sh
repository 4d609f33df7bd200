#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz, libFuzzer, nightly) of every target, or those named, for
# SECONDS each; see docs/fuzzing.md.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      (default 600 s, every target)
#
# Each run starts from the checked-in seeds (fuzz/corpus/TARGET) and grows its own corpus in
# fuzz/work/TARGET (kept between runs, not checked in). Findings (crash-, leak-, timeout-,
# oom- files) go to fuzz/artifacts/TARGET. Per target it prints executions, corpus size and
# findings of this run; it exits 1 if any run found something.
#
# Environment: JOBS=2 runs two targets at a time (default 1); NICE (default 10) the niceness;
# RSS_MB (default 2048) libFuzzer's memory limit per run; CARGO_TARGET_DIR (default
# fuzz/target).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
jobs=${JOBS:-1}
nice_level=${NICE:-10}
rss=${RSS_MB:-2048}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/fuzz/target}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    nice -n 10 cargo install cargo-fuzz --locked
fi

all=$(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^ticklane-fuzz$')
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets <<<"$all"
for t in "${targets[@]}"; do
    grep -qx "$t" <<<"$all" || { echo "error: no fuzz target $t (have: $(echo $all))" >&2; exit 2; }
done

# Largest input per target: single messages and frames are small; replays and journals carry
# a few dozen lines or packets.
max_len() {
    case $1 in
        itch | lobster | capture | config) echo 8192 ;;
        moldudp64 | journal) echo 16384 ;;
        *) echo 32768 ;;
    esac
}

# AddressSanitizer's quarantine keeps freed memory out of reuse, so a harness that builds books
# and windows of a few MB per input spends most of its time in page faults: the replay-shaped
# targets run without it (about 2-3x the executions; the code under test forbids unsafe). The
# JSON decoders, whose simd-json dependency is unsafe code, keep the default.
asan_options() {
    case $1 in
        binance | coinbase | coinbase_advanced | kraken) echo "${ASAN_OPTIONS:-}" ;;
        *) echo "quarantine_size_mb=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" ;;
    esac
}

# -a: debug assertions and overflow checks on, as in the tests.
( cd fuzz && nice -n "$nice_level" cargo +nightly fuzz build -a )

run_one() {
    local t=$1
    local work=fuzz/work/$t art=fuzz/artifacts/$t log=fuzz/work/$t.log
    mkdir -p "$work" "$art"
    local stamp
    stamp=$(mktemp)
    ( cd fuzz && ASAN_OPTIONS=$(asan_options "$t") nice -n "$nice_level" cargo +nightly fuzz run -a "$t" "../$work" "corpus/$t" -- \
        -max_total_time="$secs" -rss_limit_mb="$rss" -malloc_limit_mb="$rss" -max_len="$(max_len "$t")" \
        -timeout=10 -print_final_stats=1 -artifact_prefix="../$art/" ) >"$log" 2>&1 || true
    local execs corpus findings
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    corpus=$(find "$work" -maxdepth 1 -type f | wc -l)
    findings=$(find "$art" -maxdepth 1 -type f -newer "$stamp" \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
    rm -f "$stamp"
    printf '%-18s executions %12s   corpus %6s   findings %3s   (%s s, log %s)\n' \
        "$t" "${execs:-?}" "$corpus" "$findings" "$secs" "$log" | tee "fuzz/work/$t.result"
}

rm -f fuzz/work/*.result
running=0
for t in "${targets[@]}"; do
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
done
wait
found=$(cat fuzz/work/*.result | awk '{ s += $7 } END { print s + 0 }')
echo "findings in all: $found"
[ "$found" -eq 0 ]
