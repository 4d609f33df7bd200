#!/usr/bin/env python3
"""Reads the Parquet files of `ticklane replay ... --sink parquet://DIR` with DuckDB and checks
them against the same run's CSV outputs, row by row and in order:

    scripts/parquet-check.py DIR --bbo-csv BBO.csv [--signals SIGNALS.csv] [--trades TRADES.csv]

- bbo.parquet equals the BBO CSV (time, symbol, bid/ask price and size; an empty side empty);
- signals.parquet equals the signal CSV (`--signals FILE.csv`: time, symbol, kind, side, value);
- fills.parquet equals the backtest report's trades.csv (time, symbol, client id, side, price,
  quantity, liquidity).
Also: the decimal columns are the integer columns with their scale, and `ts` is `ts_ns`.
Exit 0 and one line of counts when all agree; exit 1 naming the first difference.

Needs the `duckdb` Python package (`python3 -m pip install duckdb`; scripts/test.sh installs it).
"""
import argparse
import csv
import sys
from datetime import datetime, timezone
from decimal import Decimal

try:
    import duckdb
except ImportError:
    sys.exit("parquet-check: the duckdb package is missing: python3 -m pip install duckdb")


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def fail(msg):
    sys.exit(f"parquet-check: {msg}")


def rows(con, path, cols):
    # In file order: the run's output order.
    return con.sql(
        f"SELECT {cols} FROM read_parquet('{path}', file_row_number = true) ORDER BY file_row_number"
    ).fetchall()


def dec(v):
    # DuckDB gives DECIMAL as Decimal; CSV fields are text.
    return "" if v is None else format(v, "f")


def check_bbo(con, d, path):
    got = rows(con, f"{d}/bbo.parquet",
               "ts_ns, symbol, bid_price, bid_size, ask_price, ask_size, bid_px, bid_qty, "
               "ask_px, ask_qty, ts")
    with open(path, newline="") as f:
        want = list(csv.DictReader(f))
    if len(got) != len(want):
        fail(f"bbo.parquet has {len(got)} rows, {path} {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        ts, sym, bp, bq, ap, aq, bpx, bqty, apx, aqty, tod = g
        # The CSV writes prices as decimals, sizes as integers in lots (the `*_qty` columns).
        have = [str(ts), sym, dec(bp), "" if bqty is None else str(bqty),
                dec(ap), "" if aqty is None else str(aqty)]
        exp = [w["ts_exch_ns"], w["symbol"], w["bid_px"], w["bid_qty"], w["ask_px"], w["ask_qty"]]
        if have != exp:
            fail(f"bbo row {i}: parquet {have}, csv {exp}")
        # The decimal columns hold the integer columns with their scale.
        for p, q in ((bp, bpx), (ap, apx)):
            if (p is None) != (q is None) or (p is not None and p.scaleb(-p.as_tuple().exponent) != q):
                fail(f"bbo row {i}: decimal {p} is not the integer {q} with its scale")
        for p, q in ((bq, bqty), (aq, aqty)):
            if (p is None) != (q is None) or (p is not None and p.scaleb(-p.as_tuple().exponent) != q):
                fail(f"bbo row {i}: size {p} is not the integer {q} with its scale")
        # `ts` (microseconds in Python) is `ts_ns`: a UTC timestamp, or a time of day.
        if isinstance(tod, datetime):
            d = tod - EPOCH
            us = (d.days * 86400 + d.seconds) * 10**6 + d.microseconds
        else:
            us = ((tod.hour * 60 + tod.minute) * 60 + tod.second) * 10**6 + tod.microsecond
        if us != ts // 1000:
            fail(f"bbo row {i}: ts {tod} is not ts_ns {ts}")
    return len(got)


def check_signals(con, d, path):
    got = rows(con, f"{d}/signals.parquet", "ts_ns, symbol, kind, side, value")
    with open(path, newline="") as f:
        want = list(csv.DictReader(f))
    if len(got) != len(want):
        fail(f"signals.parquet has {len(got)} rows, {path} {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        have = (str(g[0]), g[1], g[2], g[3] or "", float(g[4]))
        exp = (w["ts_exch_ns"], w["symbol"], w["kind"], w["side"], float(w["value"]))
        if have != exp:
            fail(f"signal row {i}: parquet {have}, csv {exp}")
    return len(got)


def check_fills(con, d, path):
    got = rows(con, f"{d}/fills.parquet", "ts_ns, symbol, client_id, side, price, qty, liquidity")
    with open(path, newline="") as f:
        want = list(csv.DictReader(f))
    if len(got) != len(want):
        fail(f"fills.parquet has {len(got)} rows, {path} {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        have = (str(g[0]), g[1], str(g[2]), g[3], Decimal(g[4]), str(g[5]), g[6])
        exp = (w["ts_exch_ns"], w["symbol"], w["client_id"], w["side"], Decimal(w["px"]),
               w["qty"], w["liquidity"])
        if have != exp:
            fail(f"fill row {i}: parquet {have}, csv {exp}")
    return len(got)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--bbo-csv", required=True)
    ap.add_argument("--signals")
    ap.add_argument("--trades")
    a = ap.parse_args()
    con = duckdb.connect()
    n = [f"{check_bbo(con, a.dir, a.bbo_csv)} bbo"]
    if a.signals:
        n.append(f"{check_signals(con, a.dir, a.signals)} signals")
    if a.trades:
        n.append(f"{check_fills(con, a.dir, a.trades)} fills")
    print(f"parquet-check: equal ({', '.join(n)}; read by duckdb {duckdb.__version__})")


if __name__ == "__main__":
    main()
