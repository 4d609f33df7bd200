//! Binance captures from ../shared/data through the decoder and the synchronized L2 book.

use std::io::BufReader;

use ticklane_replay::stages::l2::{replay_l2, CryptoReplayOptions, L2Summary};
use ticklane_replay::venue::VenueFormat;

fn open(name: &str) -> BufReader<flate2::read::MultiGzDecoder<std::fs::File>> {
    let p = format!(
        "{}/../../shared/data/binance/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    BufReader::new(flate2::read::MultiGzDecoder::new(
        std::fs::File::open(p).unwrap(),
    ))
}

/// Replays with the BBO CSV captured; checks the book was never crossed in any reported row.
fn run(name: &str, accept_unsynced: bool) -> (L2Summary, usize) {
    let mut csv = Vec::new();
    let s = {
        let opts = CryptoReplayOptions {
            accept_unsynced,
            bbo_csv: Some(Box::new(&mut csv)),
            ..Default::default()
        };
        replay_l2(VenueFormat::Binance, open(name), opts).unwrap()
    };
    let text = String::from_utf8(csv).unwrap();
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if let (Ok(b), Ok(a)) = (f[2].parse::<f64>(), f[4].parse::<f64>()) {
            assert!(b < a, "crossed book reported: {line}");
        }
        rows += 1;
    }
    assert_eq!(rows as u64, s.bbo_changes);
    (s, rows)
}

#[test]
fn spot_capture_syncs_on_its_snapshot() {
    let (s, rows) = run("spot_btcusdt_20240808.gz", false);
    assert_eq!(s.symbols[0].symbol, "BTCUSDT");
    // The collector's REST snapshot is line 8: the 0.27 s before it are unsynced and unreported.
    assert_eq!(
        (s.snapshots, s.resyncs, s.bad_total(), s.stale_dropped),
        (1, 0, 0, 2)
    );
    assert_eq!(s.applied + s.stale_dropped, s.depth);
    assert!(s.synced_at_end && rows > 2_000);
    assert!(
        (260_000_000..280_000_000).contains(&s.unsynced_ns),
        "{}",
        s.unsynced_ns
    );
    // Same input, same digest.
    assert_eq!(s.digest, run("spot_btcusdt_20240808.gz", false).0.digest);
}

#[test]
fn futures_capture_matches_its_book_tickers() {
    let (s, _) = run("usdm_btcusdt_20240808.gz", false);
    assert_eq!((s.snapshots, s.resyncs, s.bad_total()), (1, 0, 0));
    assert!(s.synced_at_end);
    // Every bookTicker stamped with the update id our book has just reached shows our top.
    assert_eq!(s.tickers_compared, 126);
    assert_eq!(s.tickers_equal, s.tickers_compared);
}

#[test]
fn a_gap_marks_the_book_unsynced_and_accept_unsynced_still_reports() {
    // Drop one depth diff from the spot capture after the snapshot: the U/u chain breaks.
    let raw = {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut open("spot_btcusdt_20240808.gz"), &mut s).unwrap();
        s
    };
    let mut dropped = false;
    let mut depth_seen = 0;
    let cut: String = raw
        .lines()
        .filter(|l| {
            if l.contains("@depth") {
                depth_seen += 1;
                if depth_seen == 100 && !dropped {
                    dropped = true;
                    return false;
                }
            }
            true
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let s = replay_l2(
        VenueFormat::Binance,
        cut.as_bytes(),
        CryptoReplayOptions::default(),
    )
    .unwrap();
    assert_eq!(s.resyncs, 1);
    assert!(
        !s.synced_at_end,
        "no snapshot after the gap: the book stays unsynced"
    );
    let strict_changes = s.bbo_changes;
    let lax = replay_l2(
        VenueFormat::Binance,
        cut.as_bytes(),
        CryptoReplayOptions {
            accept_unsynced: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        lax.bbo_changes > strict_changes,
        "accept_unsynced reports the diff-built book"
    );
    assert!(lax.unsynced_ns > 0);
}

#[test]
fn garbage_is_counted_not_fatal_and_non_binance_is_an_error() {
    let text = "1 {\"e\":\"trade\",\"s\":\"X\",\"t\":1,\"T\":1,\"p\":\"1.0\",\"q\":\"2.0\",\"m\":true}\nnot a line\n2 {broken\n";
    let s = replay_l2(
        VenueFormat::Binance,
        text.as_bytes(),
        CryptoReplayOptions::default(),
    )
    .unwrap();
    assert_eq!((s.lines, s.trades, s.bad_total()), (3, 1, 2));
    assert!(replay_l2(
        VenueFormat::Binance,
        &b"hello\nworld\n"[..],
        CryptoReplayOptions::default()
    )
    .is_err());
}

/// The spot capture rewritten as our JSON lines (each frame's stream on the line, the inner
/// message as `data`; the REST snapshot as a line whose stream is its request URL) replays to
/// the same book and digest as the `<ns> <json>` original; a REST snapshot of another symbol
/// gives that symbol a book of its own, and a REST line that is not a snapshot is a bad line.
#[test]
fn jsonl_capture_with_rest_snapshot_lines_replays_like_ns_lines() {
    use std::io::Read;
    let mut text = String::new();
    open("spot_btcusdt_20240808.gz")
        .read_to_string(&mut text)
        .unwrap();
    let mut jsonl = String::new();
    for line in text.lines() {
        let (ts, frame) = line.split_once(' ').unwrap();
        if let Some(rest) = frame.strip_prefix(r#"{"stream":""#) {
            let (stream, tail) = rest.split_once('"').unwrap();
            let data = tail
                .strip_prefix(r#","data":"#)
                .and_then(|d| d.strip_suffix('}'))
                .unwrap();
            jsonl += &format!(
                "{{\"ts_recv\":{ts},\"venue\":\"binance\",\"stream\":\"{stream}\",\"data\":{data}}}\n"
            );
        } else {
            assert!(frame.starts_with(r#"{"lastUpdateId":"#), "{line}");
            // Another symbol's snapshot first, then this capture's.
            jsonl += &format!(
                "{{\"ts_recv\":{ts},\"venue\":\"binance\",\"stream\":\"https://api.binance.com/api/v3/depth?symbol=ETHUSDT&limit=1000\",\"data\":{{\"lastUpdateId\":1,\"bids\":[],\"asks\":[]}}}}\n"
            );
            jsonl += &format!(
                "{{\"ts_recv\":{ts},\"venue\":\"binance\",\"stream\":\"https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000\",\"data\":{frame}}}\n"
            );
            jsonl += &format!(
                "{{\"ts_recv\":{ts},\"venue\":\"binance\",\"stream\":\"https://api.binance.com/api/v3/ticker?symbol=BTCUSDT\",\"data\":{{\"u\":1,\"s\":\"BTCUSDT\",\"b\":\"1.0\",\"B\":\"1.0\",\"a\":\"2.0\",\"A\":\"1.0\"}}}}\n"
            );
        }
    }
    let ns = replay_l2(
        VenueFormat::Binance,
        text.as_bytes(),
        CryptoReplayOptions::default(),
    )
    .unwrap();
    let j = replay_l2(
        VenueFormat::Binance,
        jsonl.as_bytes(),
        CryptoReplayOptions::default(),
    )
    .unwrap();
    assert_eq!(
        (ns.container.as_str(), j.container.as_str()),
        ("ns-lines", "jsonl")
    );
    assert_eq!(j.digest, ns.digest);
    assert_eq!(
        (
            j.snapshots - 1,
            j.applied,
            j.bbo_changes,
            j.tickers_equal,
            j.resyncs
        ),
        (
            ns.snapshots,
            ns.applied,
            ns.bbo_changes,
            ns.tickers_equal,
            ns.resyncs
        )
    );
    // The other symbol's snapshot gave that symbol a book of its own (and nothing else); the
    // ticker REST line is not a depth snapshot: a bad line.
    assert_eq!(
        (j.symbols.len(), ns.symbols.len(), j.bad_lines),
        (2, 1, ns.bad_lines + 1)
    );
    assert_eq!(
        (
            j.symbols[1].symbol.as_str(),
            j.symbols[1].snapshots,
            j.symbols[1].bbo_changes
        ),
        ("ETHUSDT", 1, 0)
    );
    assert_eq!(j.lines, ns.lines + 2);
    assert!(j.synced_at_end && j.snapshots == 2);
}

/// Receive time of a cryptofeed line (`... t: ...` or `URL -> t: ...`), ns, by string surgery.
fn cryptofeed_ts(line: &str) -> Option<u64> {
    let head = line.split(": ").next()?;
    let t = head.rsplit(' ').next()?;
    let (s, f) = t.split_once('.')?;
    Some(s.parse::<u64>().ok()? * 1_000_000_000 + format!("{f:0<9}")[..9].parse::<u64>().ok()?)
}

/// cryptofeed's raw Binance capture (BINANCE.ws.1.0, four symbols) merged by receive time
/// with the REST snapshots recorded beside it (BINANCE.http.0.0, one per symbol): every symbol
/// gets its own book, synced from the REST snapshot its URL names, and each symbol's BBO rows
/// equal a book built here independently from the same frames (a map per side, the snapshot,
/// then every diff past it, each continuing the last).
#[test]
fn cryptofeed_capture_syncs_every_symbol_from_its_rest_snapshot() {
    cryptofeed_capture("BINANCE", false);
}

/// The same for USD-M futures (BINANCE_FUTURES.ws.1.0 and .http.0.0): continuity by `pu`.
#[test]
fn cryptofeed_futures_capture_syncs_every_symbol_from_its_rest_snapshot() {
    cryptofeed_capture("BINANCE_FUTURES", true);
}

fn cryptofeed_capture(venue: &str, futures: bool) {
    let dir = format!(
        "{}/../../shared/data/cryptofeed",
        env!("CARGO_MANIFEST_DIR")
    );
    let ws = std::fs::read_to_string(format!("{dir}/{venue}.ws.1.0")).unwrap();
    let http = std::fs::read_to_string(format!("{dir}/{venue}.http.0.0")).unwrap();
    let mut lines: Vec<(u64, usize, &str)> = ws
        .lines()
        .chain(http.lines())
        .enumerate()
        .filter_map(|(i, l)| Some((cryptofeed_ts(l)?, i, l)))
        .collect();
    lines.sort();
    let merged: String = lines.iter().map(|(_, _, l)| format!("{l}\n")).collect();
    // The symbols of the REST snapshots, in the http file's order.
    let snapshot_symbols: Vec<&str> = http
        .lines()
        .filter_map(|l| l.split("symbol=").nth(1)?.split('&').next())
        .collect();
    assert_eq!(snapshot_symbols.len(), 4, "{snapshot_symbols:?}");

    let mut csv = Vec::new();
    let s = replay_l2(
        VenueFormat::Binance,
        merged.as_bytes(),
        CryptoReplayOptions {
            bbo_csv: Some(Box::new(&mut csv)),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.container, "cryptofeed");
    let mut names: Vec<&str> = s.symbols.iter().map(|x| x.symbol.as_str()).collect();
    names.sort_unstable();
    let mut want = snapshot_symbols.clone();
    want.sort_unstable();
    assert_eq!(names, want);
    for x in &s.symbols {
        assert_eq!(
            (x.symbol.as_str(), x.snapshots, x.resyncs),
            (x.symbol.as_str(), 1, 0)
        );
        assert!(x.synced_at_end, "{}", x.symbol);
    }
    assert_eq!((s.snapshots, s.resyncs), (4, 0));
    assert!(s.synced_at_end);
    let csv = String::from_utf8(csv).unwrap();
    let mut total_rows = 0;
    for x in &s.symbols {
        let tops = independent_tops(&lines, &x.symbol, futures);
        let rows = csv_rows(&csv, &x.symbol);
        assert_eq!(rows.len() as u64, x.bbo_changes, "{}", x.symbol);
        assert_eq!(rows, tops, "{}", x.symbol);
        total_rows += rows.len();
    }
    assert_eq!(total_rows as u64, s.bbo_changes);
    assert!(total_rows > 10, "{total_rows}");
}

/// The BBO rows of `symbol` in a replay's CSV (`ts,symbol,bid,bid qty,ask,ask qty`), decimals
/// dropped (every value has 8).
fn csv_rows(csv: &str, symbol: &str) -> Vec<[i64; 4]> {
    csv.lines()
        .skip(1)
        .filter(|r| r.split(',').nth(1) == Some(symbol))
        .map(|r| {
            let f: Vec<&str> = r.split(',').collect();
            let n = |s: &str| {
                if s.is_empty() {
                    0
                } else {
                    s.replace('.', "").parse::<i64>().unwrap()
                }
            };
            [n(f[2]), n(f[3]), n(f[4]), n(f[5])]
        })
        .collect()
}

/// `symbol`'s top of book after each change, built from the merged capture lines with maps.
fn independent_tops(lines: &[(u64, usize, &str)], symbol: &str, futures: bool) -> Vec<[i64; 4]> {
    // "7.611" -> 761_100_000, "6" -> 600_000_000: the integer part and the fraction padded
    // to 8 digits.
    let dec = |v: &serde_json::Value| -> i64 {
        let t = v.as_str().unwrap();
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        format!("{int}{frac:0<8}").parse().unwrap()
    };
    type Side = std::collections::BTreeMap<i64, i64>;
    let set = |side: &mut Side, lv: &serde_json::Value| {
        for l in lv.as_array().unwrap() {
            let (px, qty) = (dec(&l[0]), dec(&l[1]));
            if qty == 0 {
                side.remove(&px);
            } else {
                side.insert(px, qty);
            }
        }
    };
    let (mut bids, mut asks) = (Side::new(), Side::new());
    // The last update id, and whether the next diff is the first after the snapshot.
    let mut last_u: Option<(u64, bool)> = None;
    let mut pending: Vec<serde_json::Value> = Vec::new();
    let mut tops: Vec<[i64; 4]> = Vec::new();
    let top = |bids: &Side, asks: &Side| {
        let b = bids.iter().next_back().map_or((0, 0), |(p, q)| (*p, *q));
        let a = asks.iter().next().map_or((0, 0), |(p, q)| (*p, *q));
        [b.0, b.1, a.0, a.1]
    };
    let apply = |d: &serde_json::Value,
                 bids: &mut Side,
                 asks: &mut Side,
                 last_u: &mut Option<(u64, bool)>| {
        let (first, u) = (d["U"].as_u64().unwrap(), d["u"].as_u64().unwrap());
        let (prev, bracketing) = last_u.unwrap();
        // Binance's rules: on futures the first diff after a snapshot may end at its id
        // (`U <= lastUpdateId <= u`), later ones chain by `pu`; on spot the first must hold
        // `lastUpdateId + 1`, later ones start right after the last.
        if u < prev || (u == prev && !(futures && bracketing)) {
            return;
        }
        match (futures, bracketing) {
            (true, true) => assert!(first <= prev, "gap before {first}"),
            (true, false) => assert_eq!(d["pu"].as_u64(), Some(prev), "gap before {first}"),
            (false, _) => assert!(first <= prev + 1, "gap before {first}"),
        }
        set(bids, &d["b"]);
        set(asks, &d["a"]);
        *last_u = Some((u, false));
    };
    for (_, _, l) in lines {
        let Some(json) = l.split_once(": ").map(|x| x.1) else {
            continue;
        };
        if l.contains("depth?symbol=") {
            if !l.contains(&format!("symbol={symbol}&")) {
                continue;
            }
            let snap: serde_json::Value = serde_json::from_str(json).unwrap();
            set(&mut bids, &snap["bids"]);
            set(&mut asks, &snap["asks"]);
            last_u = Some((snap["lastUpdateId"].as_u64().unwrap(), true));
            for d in pending.drain(..) {
                apply(&d, &mut bids, &mut asks, &mut last_u);
            }
            tops.push(top(&bids, &asks));
            continue;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(json) else {
            continue;
        };
        let d = &v["data"];
        if d["e"] != "depthUpdate" || d["s"] != symbol {
            continue;
        }
        if last_u.is_none() {
            pending.push(d.clone());
        } else {
            apply(d, &mut bids, &mut asks, &mut last_u);
            tops.push(top(&bids, &asks));
        }
    }
    tops.dedup();
    tops
}
