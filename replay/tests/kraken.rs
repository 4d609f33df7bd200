//! Kraken replays: a hand-built v2 book sequence whose checksums were computed outside this code
//! (Python's zlib.crc32 over strings written by hand by the documented rule), and the real v1
//! captures in ../shared/data/cryptofeed.

use ticklane_feeds::json::Precision;
use ticklane_replay::stages::l2::{CryptoReplayOptions, L2Summary};
use ticklane_replay::venue::kraken::replay_kraken;

fn opts(depth: Option<usize>, accept_unsynced: bool) -> CryptoReplayOptions<'static> {
    CryptoReplayOptions {
        accept_unsynced,
        bbo_csv: None,
        book_depth: depth,
        // BTC/USD on Kraken: prices at 1 decimal, quantities at 8.
        wire_precision: vec![("BTC/USD".into(), Precision { px: 1, qty: 8 })],
        ..CryptoReplayOptions::default()
    }
}

fn frame(t: u32, json: &str) -> String {
    format!("{{\"ts_recv\":{t},\"venue\":\"kraken\",\"stream\":\"book\",\"data\":{json}}}\n")
}

// Book after it: asks 45285.2 x 0.001, 45286.0 x 2; bids 45283.5 x 0.1, 45283.4 x 1.2.
// String "452852100000" "452860200000000" "45283510000000" "452834120000000" -> crc32 2958113700.
const SNAP: &str = r#"{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[{"price":45283.5,"qty":0.10000000},{"price":45283.4,"qty":1.20000000}],"asks":[{"price":45285.2,"qty":0.00100000},{"price":45286.0,"qty":2.00000000}],"checksum":2958113700}]}"#;
// Removes ask 45285.2, adds bid 45284.0 x 0.5: "452860200000000" "45284050000000"
// "45283510000000" "452834120000000" -> 3682069327; truncated to depth 2 (bid 45283.4 gone)
// -> 224735156.
fn upd1(checksum: u32) -> String {
    format!(
        r#"{{"channel":"book","type":"update","data":[{{"symbol":"BTC/USD","bids":[{{"price":45284.0,"qty":0.50000000}}],"asks":[{{"price":45285.2,"qty":0}}],"checksum":{checksum},"timestamp":"2023-10-06T17:35:55.440295Z"}}]}}"#
    )
}
const UPD2: &str = r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":45284.0,"qty":0.6}],"asks":[],"checksum":0}]}"#;

fn run(text: &str, o: CryptoReplayOptions<'_>) -> L2Summary {
    replay_kraken(text.as_bytes(), o).unwrap()
}

#[test]
fn v2_checksums_verified_after_every_message() {
    let text = frame(1, SNAP) + &frame(2, &upd1(3_682_069_327));
    let s = run(&text, opts(None, false));
    let x = &s.symbols[0];
    assert_eq!((x.checksum_ok, x.checksum_bad, x.resyncs), (2, 0, 0));
    assert!(x.synced_at_end);
    assert_eq!(x.bid, Some((4_528_400_000_000, 50_000_000)));
    assert_eq!(x.ask, Some((4_528_600_000_000, 200_000_000)));
    assert_eq!(s.container, "jsonl");
}

#[test]
fn truncation_to_the_subscribed_depth_is_part_of_the_checksum() {
    let text = frame(1, SNAP) + &frame(2, &upd1(224_735_156));
    let s = run(&text, opts(Some(2), false));
    assert_eq!((s.checksum_ok, s.checksum_bad), (2, 0));
    // Without the truncation the same checksum is a mismatch.
    let s = run(&text, opts(Some(10), false));
    assert_eq!((s.checksum_ok, s.checksum_bad), (1, 1));
}

#[test]
fn a_wrong_checksum_invalidates_until_the_next_snapshot() {
    // upd1 with a wrong checksum, UPD2 while invalid, then a fresh snapshot.
    let text = frame(1, SNAP) + &frame(2, &upd1(12_345)) + &frame(3, UPD2) + &frame(5, SNAP);
    let s = run(&text, opts(None, false));
    let x = &s.symbols[0];
    assert_eq!((x.checksum_ok, x.checksum_bad, x.resyncs), (2, 1, 1));
    assert_eq!((x.updates, x.before_snapshot, x.snapshots), (1, 1, 2));
    // Unsynced from t=2 (the mismatch) to t=5 (the snapshot): 3 ns of receive time.
    assert_eq!(x.unsynced_ns, 3);
    assert!(x.synced_at_end);
    // Resynced: the book is the snapshot's.
    assert_eq!(x.bid, Some((4_528_350_000_000, 10_000_000)));
    // Without the pair's decimals the checksums cannot be verified, and say so.
    let mut o = opts(None, false);
    o.wire_precision.clear();
    let s = run(&text, o);
    assert_eq!(
        (s.checksum_ok, s.checksum_bad, s.checksum_unverified),
        (0, 0, 4)
    );
}

#[test]
fn v1_update_checksums_use_the_strings_decimals() {
    // Snapshot and update in v1 array form (cryptofeed lines). After the update the book is
    // asks 0.05005 x 0.00000500; bids 0.05000 x 0.00000304:
    // "5005" "500" "5000" "304" -> crc32 3866222920 (Python zlib over "50055005000304").
    let text = "\
1.0: [0,{\"as\":[[\"0.05005\",\"0.00000500\",\"1.0\"],[\"0.05010\",\"0.00000100\",\"1.0\"]],\"bs\":[[\"0.05000\",\"0.00000304\",\"1.0\"]]},\"book-10\",\"BTC/USD\"]
2.0: [0,{\"a\":[[\"0.05010\",\"0.00000000\",\"2.0\"]],\"c\":\"3866222920\"},\"book-10\",\"BTC/USD\"]
3.0: [0,{\"b\":[[\"0.04000\",\"1.00000000\",\"3.0\"]],\"c\":\"1\"},\"book-10\",\"BTC/USD\"]
";
    let mut o = opts(None, false);
    o.wire_precision.clear();
    let s = run(text, o);
    assert_eq!((s.checksum_ok, s.checksum_bad, s.resyncs), (1, 1, 1));
    assert!(!s.symbols[0].synced_at_end);
}

#[test]
fn real_v1_captures_decode_trades_and_tickers() {
    let read = |n: &str| {
        std::fs::read_to_string(format!(
            "{}/../../shared/data/cryptofeed/{n}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    };
    // These two captures hold the trade (48) and ticker (49) channels; no book channel.
    let s = run(&read("KRAKEN.ws.48.0"), opts(None, false));
    // Python's json over the file: 41 event objects (+1 header, 1 sent line), 10 trades in 8
    // arrays, pairs XMR/USD then SC/EUR.
    assert_eq!((s.control, s.trades, s.bad_total()), (43, 10, 0));
    let names: Vec<&str> = s.symbols.iter().map(|x| x.symbol.as_str()).collect();
    assert_eq!(names, ["XMR/USD", "SC/EUR"]);
    let t = run(&read("KRAKEN.ws.49.0"), opts(None, false));
    let tickers: u64 = t.symbols.iter().map(|x| x.tickers).sum();
    assert_eq!((tickers, t.symbols.len(), t.bad_total()), (18, 10, 0));
    // No book, so nothing to compare and nothing reported.
    assert_eq!(
        (t.tickers_compared, t.bbo_changes, t.checksum_ok),
        (0, 0, 0)
    );
}
