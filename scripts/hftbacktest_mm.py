"""The ticklane market_maker strategy written for hftbacktest, to compare backtest speed.

Same logic as strategies/src/market_maker.rs with its defaults: quote a bid and an ask
`half_spread` (one cent) either side of the microprice, shifted against the position by `skew`
($0.0001 per share), rounded outwards to the cent, `size` shares, post-only GTC, within
`max_position`; re-quote a side only when its price changes. Market-by-order data with
hftbacktest's L3 FIFO queue model, constant latency, no fees.

Usage: hftbacktest_mm.py DATA.npz [--runs N] [--warmup-rows N] [--latency-ns N]
Prints one JSON object: events, seconds of each run, events_per_sec (best run), fills, orders.
"""

import argparse
import json
import time

import numpy as np
from numba import njit

from hftbacktest import (
    BacktestAsset,
    HashMapMarketDepthBacktest,
    BUY,
    SELL,
    GTX,
    LIMIT,
)

HALF_SPREAD = 0.01  # 100 ITCH ticks
SKEW = 0.0001  # 1 ITCH tick per share of position
SIZE = 100.0
MAX_POSITION = 1000.0
TICK = 0.01


@njit
def quoting_loop(hbt):
    """Steps through every feed event; returns (orders submitted, fills seen)."""
    bid_id = 0
    ask_id = 0
    next_id = 1
    cur_bid = np.nan
    cur_ask = np.nan
    orders = 0
    status = 0
    while True:
        # Returns at the next feed event or order response: 2 feed, 3 response, 0 timeout
        # (an hour without either), 1 end of data, anything else an error.
        r = hbt.wait_next_feed(True, 3_600_000_000_000)
        if r == 1:
            break
        if r not in (0, 2, 3):
            status = r
            break
        depth = hbt.depth(0)
        bb = depth.best_bid
        ba = depth.best_ask
        bq = depth.best_bid_qty
        aq = depth.best_ask_qty
        if not (np.isfinite(bb) and np.isfinite(ba)) or bq + aq <= 0.0:
            continue
        fair = (bb * aq + ba * bq) / (bq + aq)
        pos = hbt.position(0)
        center = fair - SKEW * pos
        bid = np.floor(round((center - HALF_SPREAD) / TICK, 6)) * TICK
        ask = np.ceil(round((center + HALF_SPREAD) / TICK, 6)) * TICK
        want_bid = pos < MAX_POSITION and bid > 0.0
        want_ask = pos > -MAX_POSITION
        if want_bid and ask <= bid:
            ask = bid + TICK
        if want_bid:
            if bid != cur_bid:
                if bid_id != 0:
                    hbt.cancel(0, bid_id, False)
                bid_id = next_id
                next_id += 1
                hbt.submit_buy_order(0, bid_id, bid, SIZE, GTX, LIMIT, False)
                orders += 1
                cur_bid = bid
        elif bid_id != 0:
            hbt.cancel(0, bid_id, False)
            bid_id = 0
            cur_bid = np.nan
        if want_ask:
            if ask != cur_ask:
                if ask_id != 0:
                    hbt.cancel(0, ask_id, False)
                ask_id = next_id
                next_id += 1
                hbt.submit_sell_order(0, ask_id, ask, SIZE, GTX, LIMIT, False)
                orders += 1
                cur_ask = ask
        elif ask_id != 0:
            hbt.cancel(0, ask_id, False)
            ask_id = 0
            cur_ask = np.nan
        hbt.clear_inactive_orders(0)
    return orders, hbt.state_values(0).num_trades, status


def make_backtest(data, latency_ns):
    asset = (
        BacktestAsset()
        .data([data])
        .linear_asset(1.0)
        .constant_order_latency(latency_ns, latency_ns)
        .l3_fifo_queue_model()
        .no_partial_fill_exchange()
        .trading_value_fee_model(0.0, 0.0)
        .tick_size(TICK)
        .lot_size(1.0)
        .last_trades_capacity(0)
    )
    return HashMapMarketDepthBacktest([asset])


def run(data, latency_ns):
    hbt = make_backtest(data, latency_ns)
    t0 = time.perf_counter()
    orders, fills, status = quoting_loop(hbt)
    secs = time.perf_counter() - t0
    hbt.close()
    if status != 0:
        raise SystemExit(f"hftbacktest: wait_next_feed failed with code {status}")
    return secs, orders, fills


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup-rows", type=int, default=20000)
    ap.add_argument("--latency-ns", type=int, default=0)
    a = ap.parse_args()
    data = np.load(a.data)["data"]
    # numba compiles quoting_loop on its first call: do that on a small slice, untimed.
    run(data[: a.warmup_rows].copy(), a.latency_ns)
    times = []
    orders = fills = 0
    for _ in range(a.runs):
        secs, orders, fills = run(data, a.latency_ns)
        times.append(secs)
    best = min(times)
    print(
        json.dumps(
            {
                "events": int(len(data)),
                "seconds": times,
                "events_per_sec": len(data) / best,
                "orders_submitted": int(orders),
                "fills": int(fills),
            }
        )
    )


if __name__ == "__main__":
    main()
