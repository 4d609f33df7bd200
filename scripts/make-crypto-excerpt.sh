#!/bin/sh
# Rebuilds data/binance_nknusdt.cryptofeed: the NKNUSDT lines of cryptofeed's raw Binance capture
# ../shared/data/cryptofeed/BINANCE.ws.1.0 (its connection header and every frame of that
# symbol, byte for byte) merged by receive time with the NKNUSDT REST depth snapshot recorded
# beside it in BINANCE.http.0.0, so one file replays and syncs (golden binance-nknusdt).
# And rebuilds data/coinbase_skl-gbp.jsonl: every received frame of the real Coinbase
# capture ../shared/data/cryptofeed/COINBASE.ws.28.0 that concerns SKL-GBP, in our
# JSON-lines capture format ({"ts_recv":ns,"venue":..,"stream":..,"data":frame}), frames byte for
# byte as received. replay/tests/jsonl.rs checks it replays exactly like the raw capture.
set -eu
cd "$(dirname "$0")/.."
python3 - ../shared/data/cryptofeed/COINBASE.ws.28.0 data/coinbase_skl-gbp.jsonl <<'PY'
import sys
from decimal import Decimal
src, dst = sys.argv[1], sys.argv[2]
with open(src) as f, open(dst, "w") as out:
    for line in f:
        line = line.rstrip("\n")
        head, sep, frame = line.partition(": ")
        if not sep or " " in head:
            continue  # header and sent lines
        if '"SKL-GBP"' not in frame:
            continue
        ns = int(Decimal(head) * 1_000_000_000)
        kind = frame.split('"type":"', 1)[1].split('"', 1)[0]
        stream = {"snapshot": "level2", "l2update": "level2", "match": "matches",
                  "last_match": "matches"}.get(kind, kind)
        out.write('{"ts_recv":%d,"venue":"coinbase","stream":"%s","data":%s}\n' % (ns, stream, frame))
PY
python3 - ../shared/data/cryptofeed/BINANCE.ws.1.0 ../shared/data/cryptofeed/BINANCE.http.0.0 data/binance_nknusdt.cryptofeed <<'PY'
import sys
from decimal import Decimal
ws, http, dst = sys.argv[1], sys.argv[2], sys.argv[3]
def ts(line):
    head = line.partition(": ")[0]
    return Decimal(head.rsplit(" ", 1)[-1])
lines = []
with open(ws) as f:
    for i, line in enumerate(f):
        line = line.rstrip("\n")
        if " <-> " in line or '"s":"NKNUSDT"' in line:
            lines.append((ts(line), i, line))
with open(http) as f:
    for i, line in enumerate(f):
        line = line.rstrip("\n")
        if "symbol=NKNUSDT&" in line:
            lines.append((ts(line), 1_000_000 + i, line))
with open(dst, "w") as out:
    for _, _, line in sorted(lines):
        out.write(line + "\n")
PY
