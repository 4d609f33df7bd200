//! Binance captures from ../shared/data through the decoder and the synchronized L2 book.

use std::io::BufReader;

use ticklane_replay::binance::{replay_binance, BinanceReplayOptions, BinanceSummary};

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
fn run(name: &str, accept_unsynced: bool) -> (BinanceSummary, usize) {
    let mut csv = Vec::new();
    let s = {
        let opts = BinanceReplayOptions {
            accept_unsynced,
            bbo_csv: Some(Box::new(&mut csv)),
        };
        replay_binance(open(name), opts).unwrap()
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
    assert_eq!(s.symbol, "BTCUSDT");
    // The collector's REST snapshot is line 8: the 0.27 s before it are unsynced and unreported.
    assert_eq!(
        (s.snapshots, s.resyncs, s.bad_lines, s.stale_dropped),
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
    assert_eq!((s.snapshots, s.resyncs, s.bad_lines), (1, 0, 0));
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
    let s = replay_binance(cut.as_bytes(), BinanceReplayOptions::default()).unwrap();
    assert_eq!(s.resyncs, 1);
    assert!(
        !s.synced_at_end,
        "no snapshot after the gap: the book stays unsynced"
    );
    let strict_changes = s.bbo_changes;
    let lax = replay_binance(
        cut.as_bytes(),
        BinanceReplayOptions {
            accept_unsynced: true,
            bbo_csv: None,
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
    let s = replay_binance(text.as_bytes(), BinanceReplayOptions::default()).unwrap();
    assert_eq!((s.lines, s.trades, s.bad_lines), (3, 1, 2));
    assert!(replay_binance(&b"hello\nworld\n"[..], BinanceReplayOptions::default()).is_err());
}

/// The spot capture rewritten as our JSON lines (each frame's stream on the line, the inner
/// message as `data`; the REST snapshot as a line whose stream is its request URL) replays to
/// the same book and digest as the `<ns> <json>` original; a REST snapshot of another symbol is
/// counted and skipped, and a REST line that is not a snapshot is a bad line.
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
    let ns = replay_binance(text.as_bytes(), BinanceReplayOptions::default()).unwrap();
    let j = replay_binance(jsonl.as_bytes(), BinanceReplayOptions::default()).unwrap();
    assert_eq!(
        (ns.container.as_str(), j.container.as_str()),
        ("ns-lines", "jsonl")
    );
    assert_eq!(j.digest, ns.digest);
    assert_eq!(
        (
            j.snapshots,
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
    assert_eq!(
        (j.other_symbol, j.bad_lines),
        (ns.other_symbol + 1, ns.bad_lines + 1)
    );
    assert_eq!(j.lines, ns.lines + 2);
    assert!(j.synced_at_end && j.snapshots == 1);
}
