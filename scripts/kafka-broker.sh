#!/usr/bin/env bash
# A Kafka-compatible broker on 127.0.0.1 for tests and demos (docs/kafka.md).
#
#   scripts/kafka-broker.sh start    start it (idempotent) and wait until its port answers
#   scripts/kafka-broker.sh stop     stop the one this script started (idempotent)
#   scripts/kafka-broker.sh status   say whether it runs
#   scripts/kafka-broker.sh address  print HOST:PORT to give --sink kafka://HOST:PORT/PREFIX
#   scripts/kafka-broker.sh path     print the broker binary it uses (building it if needed)
#
# With TICKLANE_KAFKA=HOST:PORT set, that broker is used and nothing is started or stopped.
# Otherwise the broker is tansu (in-memory storage): the one named by TICKLANE_TANSU, else
# `tansu` on PATH, else ../shared/tools/tansu beside this checkout, else one built once into
# target/tansu with `cargo install tansu --version 0.6.0 --locked --features dynostore` (it
# takes 10-30 minutes on 2 cores). TICKLANE_KAFKA_PORT picks the port (default 19092).
set -euo pipefail
cd "$(dirname "$0")/.."

port=${TICKLANE_KAFKA_PORT:-19092}
dir=target/kafka-broker
pidfile=$dir/tansu.pid
log=$dir/tansu.log

tansu_path() {
  if [ -n "${TICKLANE_TANSU:-}" ]; then
    [ -x "$TICKLANE_TANSU" ] || { echo "error: TICKLANE_TANSU=$TICKLANE_TANSU is not an executable" >&2; exit 2; }
    echo "$TICKLANE_TANSU"
  elif command -v tansu > /dev/null 2>&1; then
    command -v tansu
  elif [ -x ../shared/tools/tansu ]; then
    echo "$(cd ../shared/tools && pwd)/tansu"
  elif [ -x target/tansu/bin/tansu ]; then
    echo "$(pwd)/target/tansu/bin/tansu"
  else
    echo "kafka-broker: building tansu 0.6.0 into target/tansu (once; 10-30 minutes)" >&2
    cargo install tansu --version 0.6.0 --locked --features dynostore --root target/tansu >&2
    echo "$(pwd)/target/tansu/bin/tansu"
  fi
}

running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2> /dev/null
}

answers() {
  (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null
}

case "${1:-}" in
  start)
    if [ -n "${TICKLANE_KAFKA:-}" ]; then
      echo "kafka-broker: using TICKLANE_KAFKA=$TICKLANE_KAFKA (nothing started)"
      exit 0
    fi
    if running; then
      echo "kafka-broker: already running (pid $(cat "$pidfile")) on 127.0.0.1:$port"
      exit 0
    fi
    if answers; then
      echo "error: 127.0.0.1:$port is taken by another process; set TICKLANE_KAFKA_PORT or TICKLANE_KAFKA" >&2
      exit 1
    fi
    bin=$(tansu_path)
    mkdir -p "$dir"
    nohup "$bin" broker --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" --storage-engine memory://tansu/ \
      > "$log" 2>&1 < /dev/null &
    echo $! > "$pidfile"
    for _ in $(seq 300); do
      if answers; then
        echo "kafka-broker: tansu (pid $(cat "$pidfile")) on 127.0.0.1:$port"
        exit 0
      fi
      running || break
      sleep 0.1
    done
    echo "error: the broker did not answer on 127.0.0.1:$port in 30 s; its log:" >&2
    cat "$log" >&2 || true
    if running; then kill "$(cat "$pidfile")" 2> /dev/null || true; fi
    rm -f "$pidfile"
    exit 1
    ;;
  stop)
    if [ -n "${TICKLANE_KAFKA:-}" ] && ! [ -f "$pidfile" ]; then
      exit 0
    fi
    if running; then
      pid=$(cat "$pidfile")
      kill -CONT "$pid" 2> /dev/null || true
      kill "$pid" 2> /dev/null || true
      for _ in $(seq 100); do
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.1
      done
      if kill -0 "$pid" 2> /dev/null; then kill -9 "$pid" 2> /dev/null || true; fi
      echo "kafka-broker: stopped (pid $pid)"
    fi
    rm -f "$pidfile"
    ;;
  status)
    if [ -n "${TICKLANE_KAFKA:-}" ]; then
      echo "kafka-broker: TICKLANE_KAFKA=$TICKLANE_KAFKA"
    elif running; then
      echo "kafka-broker: running (pid $(cat "$pidfile")) on 127.0.0.1:$port"
    else
      echo "kafka-broker: not running"
      exit 1
    fi
    ;;
  address)
    echo "${TICKLANE_KAFKA:-127.0.0.1:$port}"
    ;;
  path)
    tansu_path
    ;;
  *)
    echo "usage: scripts/kafka-broker.sh start|stop|status|address|path" >&2
    exit 2
    ;;
esac
