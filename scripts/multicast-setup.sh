#!/usr/bin/env bash
# Multicast on a single host for `ticklane serve itch` and the live feed.
#
# `serve` already sends with IP_MULTICAST_IF 127.0.0.1, multicast loop on and TTL 0, which is
# enough for receivers on this host that join on 127.0.0.1 (the tests rely on nothing else).
# Programs that do not set the interface need a route sending 224.0.0.0/4 to lo instead of the
# default route; this script adds it (root), or removes it with `--remove`.
set -euo pipefail
if [[ "${1:-}" == "--remove" ]]; then
    ip route del 224.0.0.0/4 dev lo 2>/dev/null || true
    echo "removed 224.0.0.0/4 dev lo"
    exit 0
fi
ip link set lo multicast on
ip route replace 224.0.0.0/4 dev lo
ip route show 224.0.0.0/4
