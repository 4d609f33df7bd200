#!/usr/bin/env bash
# Regenerates the checked-in seed corpus (fuzz/corpus/TARGET/) from real market data: the shared
# data set (../shared/data, see its README) and the repository's data/. Review the diff, then
# commit. The corpus stays small (single messages, frames and lines, short slices); a long
# fuzz run's corpus lives in fuzz/work/ and is not checked in.
#
#   scripts/fuzz-seed.sh [SHARED_DATA]     (default ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${1:-../shared/data}
[ -d "$shared" ] || { echo "error: $shared not found (the shared market data set)" >&2; exit 3; }
nice -n 10 cargo run --quiet -p ticklane-fuzzing --bin fuzz-seed -- "$shared" data fuzz/corpus
du -sh fuzz/corpus
