#!/usr/bin/env bash
# Regenerates the golden replay summaries in data/golden/ with the release binary and shows
# what changed. Read the diff before committing: a changed digest means a changed result.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/ticklane
while read -r name input rest; do
  case "$name" in ''|'#'*) continue ;; esac
  # shellcheck disable=SC2086 # $rest holds extra flags, split on purpose
  "$bin" replay "$input" --no-progress $rest \
    | grep -v -E '^(elapsed|throughput):|events/s in the replay loop' > "data/golden/$name.txt"
  echo "updated data/golden/$name.txt"
done < data/golden/inputs.txt
git --no-pager diff --stat -- data/golden
git --no-pager diff -- data/golden
