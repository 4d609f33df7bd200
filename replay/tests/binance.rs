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
            ..Default::default()
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
    let s = replay_binance(text.as_bytes(), BinanceReplayOptions::default()).unwrap();
    assert_eq!((s.lines, s.trades, s.bad_lines), (3, 1, 2));
    assert!(replay_binance(&b"hello\nworld\n"[..], BinanceReplayOptions::default()).is_err());
}
