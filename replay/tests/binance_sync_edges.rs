//! Hand-built Binance sync edges: diffs before the snapshot, stale diffs, a gap in U/u (spot),
//! a `pu` mismatch (USD-M futures), each ending in a resynced book or an invalid one.

use ticklane_replay::stages::l2::{replay_l2, CryptoReplayOptions, L2Summary};
use ticklane_replay::venue::VenueFormat;

fn spot(u0: u64, u1: u64, bid: &str) -> String {
    format!(
        r#"{{"stream":"x@depth@100ms","data":{{"e":"depthUpdate","E":1,"s":"X","U":{u0},"u":{u1},"b":[["{bid}","2"]],"a":[]}}}}"#
    )
}

fn fut(u0: u64, u1: u64, pu: u64, bid: &str) -> String {
    format!(
        r#"{{"stream":"x@depth","data":{{"e":"depthUpdate","E":1,"T":1,"s":"X","U":{u0},"u":{u1},"pu":{pu},"b":[["{bid}","2"]],"a":[]}}}}"#
    )
}

fn snap(id: u64) -> String {
    format!(r#"{{"lastUpdateId":{id},"bids":[["100.00","1"]],"asks":[["101.00","1"]]}}"#)
}

fn run(frames: &[String]) -> L2Summary {
    let text: String = frames
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{} {f}\n", (i + 1) * 10))
        .collect();
    replay_l2(
        VenueFormat::Binance,
        text.as_bytes(),
        CryptoReplayOptions::default(),
    )
    .unwrap()
}

/// 1e-8 units: 100.5 -> 10_050_000_000.
const E8: i64 = 100_000_000;

#[test]
fn spot_diffs_before_snapshot_stale_and_a_gap_then_resync() {
    let f = [
        spot(5, 7, "99.00"),  // before the snapshot, u <= 8: stale once it arrives
        spot(8, 10, "99.50"), // brackets lastUpdateId + 1 = 9: applied
        snap(8),
        spot(11, 12, "100.50"), // continues: applied
        spot(14, 15, "100.75"), // U != 13: a gap
    ];
    let s = run(&f);
    assert_eq!((s.stale_dropped, s.applied, s.resyncs), (1, 2, 1));
    assert!(
        !s.synced_at_end,
        "a gap leaves the book invalid until a snapshot"
    );
    // A new snapshot at 15 makes the buffered 14..15 diff stale; 16..17 brackets 16.
    let mut g = f.to_vec();
    g.push(snap(15));
    g.push(spot(16, 17, "100.25"));
    let s = run(&g);
    assert_eq!((s.stale_dropped, s.resyncs), (2, 1));
    assert!(s.synced_at_end);
    // The resynced book: the snapshot's bid 100 x 1 under the applied 100.25 x 2.
    assert_eq!(s.symbols[0].bid, Some((10_025 * E8 / 100, 2 * E8)));
    assert_eq!(s.symbols[0].ask, Some((101 * E8, E8)));
}

#[test]
fn futures_pu_mismatch_marks_the_book_invalid() {
    let ok = [
        snap(100),
        fut(95, 105, 90, "100.50"),   // U <= 100 <= u: applied
        fut(106, 110, 105, "100.60"), // pu == previous u: applied
    ];
    let s = run(&ok);
    assert_eq!((s.applied, s.resyncs), (2, 0));
    assert!(s.synced_at_end);
    assert_eq!(s.symbols[0].bid, Some((10_060 * E8 / 100, 2 * E8)));
    let mut bad = ok.to_vec();
    bad.push(fut(112, 115, 111, "100.70")); // pu 111 != 110
    let s = run(&bad);
    assert_eq!(s.resyncs, 1);
    assert!(!s.synced_at_end);
    // A first diff that does not bracket the snapshot is a break too.
    let s = run(&[snap(100), fut(102, 105, 101, "100.50")]);
    assert_eq!((s.applied, s.resyncs), (0, 1));
}

#[test]
fn futures_diff_ending_at_the_snapshot_id_is_applied_first() {
    // Futures drop only `u < lastUpdateId`: a diff ending exactly at the snapshot's id brackets
    // it (U <= 100 <= u), buffered before the snapshot or arriving after it.
    let buffered = [
        fut(90, 95, 89, "99.00"),  // u < 100: stale
        fut(96, 100, 95, "99.50"), // u == 100: applied first
        snap(100),
        fut(101, 104, 100, "100.50"), // pu == 100: continues
    ];
    let s = run(&buffered);
    assert_eq!((s.stale_dropped, s.applied, s.resyncs), (1, 2, 0));
    assert!(s.synced_at_end);
    assert_eq!(s.symbols[0].bid, Some((10_050 * E8 / 100, 2 * E8)));
    let after = [
        snap(100),
        fut(96, 100, 95, "99.50"),
        fut(101, 104, 100, "100.50"),
    ];
    let s = run(&after);
    assert_eq!((s.stale_dropped, s.applied, s.resyncs), (0, 2, 0));
    assert!(s.synced_at_end);
    // Spot keeps dropping `u <= lastUpdateId`: 9..10 is stale, 11..12 brackets 11 and applies.
    let s = run(&[snap(10), spot(9, 10, "99.50"), spot(11, 12, "100.50")]);
    assert_eq!((s.stale_dropped, s.applied, s.resyncs), (1, 1, 0));
}

/// Two symbols in one capture, each synced by its own snapshot: a REST snapshot line by the
/// symbol in its URL, a partial-depth frame by its stream's name. A gap in one symbol's diffs
/// leaves the other's book synced.
#[test]
fn two_symbols_sync_and_break_independently() {
    let diff = |sym: &str, u0: u64, u1: u64, bid: &str| {
        format!(
            r#"{{"stream":"{}@depth@100ms","data":{{"e":"depthUpdate","E":1,"s":"{sym}","U":{u0},"u":{u1},"b":[["{bid}","2"]],"a":[]}}}}"#,
            sym.to_ascii_lowercase()
        )
    };
    let lines = [
        format!("10 {}", diff("AAA", 5, 6, "10.00")),
        format!("20 {}", diff("BBB", 50, 60, "20.00")),
        // BBB's partial-depth frame: a snapshot at 55 of BBB only (the buffered 50..60 diff
        // brackets 56 and is applied over it).
        r#"30 {"stream":"bbb@depth5@100ms","data":{"lastUpdateId":55,"bids":[["19.00","1"]],"asks":[["21.00","1"]]}}"#.to_owned(),
        // AAA's REST snapshot at 6: the buffered 5..6 diff is stale.
        r#"{"ts_recv":40,"venue":"binance","stream":"https://api.binance.com/api/v3/depth?symbol=AAA&limit=5","data":{"lastUpdateId":6,"bids":[["9.00","1"]],"asks":[["11.00","1"]]}}"#.to_owned(),
        format!("50 {}", diff("AAA", 7, 8, "9.50")),
        format!("60 {}", diff("BBB", 62, 63, "20.50")), // U != 61: BBB breaks
    ];
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let s = replay_l2(
        VenueFormat::Binance,
        text.as_bytes(),
        CryptoReplayOptions::default(),
    )
    .unwrap();
    let names: Vec<&str> = s.symbols.iter().map(|x| x.symbol.as_str()).collect();
    assert_eq!(names, ["AAA", "BBB"]);
    let (a, b) = (&s.symbols[0], &s.symbols[1]);
    assert_eq!(
        (a.snapshots, a.stale_dropped, a.applied, a.resyncs),
        (1, 1, 1, 0)
    );
    assert_eq!(
        (b.snapshots, b.stale_dropped, b.applied, b.resyncs),
        (1, 0, 1, 1)
    );
    assert!(a.synced_at_end && !b.synced_at_end && !s.synced_at_end);
    // AAA: the snapshot's 9 x 1 and ask 11 x 1 under the applied 9.50 x 2.
    assert_eq!(a.bid, Some((950 * E8 / 100, 2 * E8)));
    assert_eq!(a.ask, Some((11 * E8, E8)));
    // The totals add up the symbols.
    assert_eq!((s.snapshots, s.applied, s.resyncs), (2, 2, 1));
}
