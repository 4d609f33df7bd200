#!/usr/bin/env bash
# Rewrites an ITCH 5.0 BinaryFILE so that its order references are spread over the whole 63-bit
# range instead of counting up: every reference r becomes r * K mod 2^63 for a large odd K (a
# bijection, so distinct orders stay distinct and every A/F/E/C/X/D/U/P message keeps naming the
# same order). Everything else is copied byte for byte. The output is deterministic, and its
# replay builds the same books as the input's: the benchmark input for "ids far apart"
# (per-symbol extracts of day-wide ids, as LOBSTER and Databento files are).
#
# usage: scripts/make-sparse-ids.sh IN.itch[.gz] OUT.itch [K]
set -euo pipefail
if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 IN.itch[.gz] OUT.itch [odd multiplier, default 0x9E3779B97F4A7C15]" >&2
    exit 2
fi
exec python3 - "$1" "$2" "${3:-0x9E3779B97F4A7C15}" <<'PY'
import gzip, struct, sys

src, dst, k = sys.argv[1], sys.argv[2], int(sys.argv[3], 0)
if k % 2 == 0:
    sys.exit("the multiplier must be odd (a bijection mod 2^63)")
MASK = (1 << 63) - 1
# Message type -> offsets of 8-byte order references (after the 2-byte length prefix is removed).
REFS = {b"A": (11,), b"F": (11,), b"E": (11,), b"C": (11,), b"X": (11,), b"D": (11,),
        b"U": (11, 19), b"P": (11,)}
data = (gzip.open if src.endswith(".gz") else open)(src, "rb").read()
out = bytearray(data)
pos, n, changed = 0, 0, 0
while pos + 2 <= len(data):
    (length,) = struct.unpack_from(">H", data, pos)
    body = pos + 2
    if body + length > len(data):
        sys.exit(f"{src}: truncated message at byte {pos}")
    for off in REFS.get(data[body:body + 1], ()):
        if off + 8 <= length:
            (r,) = struct.unpack_from(">Q", data, body + off)
            struct.pack_into(">Q", out, body + off, (r * k) & MASK)
            changed += 1
    pos = body + length
    n += 1
with open(dst, "wb") as f:
    f.write(out)
print(f"{dst}: {n} messages, {changed} order references rewritten", file=sys.stderr)
PY
