//! The re-encoded real AAPL flow in `data/` replayed through the ITCH decoder and the L3 book,
//! checked against an independent reading of the same day: LOBSTER's own order-book file, which
//! holds the true top of book after every message.
//!
//! The ITCH file was made by `ticklane convert lobster` from LOBSTER's 10-level AAPL sample
//! (2012-06-21, first ~1000 messages). LOBSTER's order-book file is never read by the replay; this
//! test parses it with a few lines of its own and compares every best bid/ask state.

use std::collections::BTreeMap;

use ticklane_feeds::itch::framing::FrameReader;
use ticklane_replay::{replay_itch, ItchReplayOptions};

const ITCH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/AAPL_2012-06-21_lobster10.itch"
);
const MESSAGES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
);
const ORDERBOOK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
);

/// `seconds.fraction` after midnight to integer nanoseconds, without floats.
fn ns(t: &str) -> u64 {
    let (s, f) = t.split_once('.').unwrap_or((t, ""));
    let mut frac = f.to_string();
    frac.truncate(9);
    while frac.len() < 9 {
        frac.push('0');
    }
    s.parse::<u64>().unwrap() * 1_000_000_000 + frac.parse::<u64>().unwrap()
}

/// 4-decimal price string of a LOBSTER price (1/10000 USD), as the BBO CSV writes it.
fn px(p: i64) -> String {
    format!("{}.{:04}", p / 10_000, p % 10_000)
}

type State = (String, String, String, String); // bid px, bid qty, ask px, ask qty ("" if empty)

/// LOBSTER's top of book after the last message of each timestamp.
fn lobster_states() -> BTreeMap<u64, State> {
    let msgs = std::fs::read_to_string(MESSAGES).unwrap();
    let book = std::fs::read_to_string(ORDERBOOK).unwrap();
    let mut out = BTreeMap::new();
    for (m, b) in msgs.lines().zip(book.lines()) {
        let t = ns(m.split(',').next().unwrap());
        let c: Vec<i64> = b.split(',').map(|x| x.trim().parse().unwrap()).collect();
        let (ask_px, ask_qty, bid_px, bid_qty) = (c[0], c[1], c[2], c[3]);
        let side = |p: i64, q: i64| {
            if q == 0 || p.abs() == 9_999_999_999 {
                (String::new(), String::new())
            } else {
                (px(p), q.to_string())
            }
        };
        let (bp, bq) = side(bid_px, bid_qty);
        let (ap, aq) = side(ask_px, ask_qty);
        out.insert(t, (bp, bq, ap, aq));
    }
    out
}

fn replay_bbo() -> (ticklane_replay::Summary, String) {
    let mut csv = Vec::new();
    let summary = {
        let opts = ItchReplayOptions {
            bbo_csv: Some(Box::new(&mut csv)),
            ..Default::default()
        };
        let f = std::fs::File::open(ITCH).expect("data/ sample present");
        replay_itch(FrameReader::new(f), opts).unwrap()
    };
    (summary, String::from_utf8(csv).unwrap())
}

#[test]
fn every_top_of_book_state_matches_lobster() {
    let (summary, csv) = replay_bbo();
    assert_eq!(summary.errors.total(), 0, "{:?}", summary.errors);
    let mut ours: BTreeMap<u64, State> = BTreeMap::new();
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 6, "{line}");
        assert_eq!(f[1], "AAPL");
        ours.insert(
            f[0].parse().unwrap(),
            (f[2].into(), f[3].into(), f[4].into(), f[5].into()),
        );
    }
    let theirs = lobster_states();
    // Our CSV has a row only when the top changes; LOBSTER has a row per message. Walk
    // LOBSTER's timestamps and carry our last state forward: they must agree at every one.
    let mut cur: Option<&State> = None;
    let mut it = ours.iter().peekable();
    let mut compared = 0;
    for (t, want) in &theirs {
        while let Some((ts, st)) = it.peek() {
            if *ts <= t {
                cur = Some(st);
                it.next();
            } else {
                break;
            }
        }
        assert_eq!(
            cur,
            Some(want),
            "top of book differs from LOBSTER at t={t} ns"
        );
        compared += 1;
    }
    assert!(
        it.next().is_none(),
        "we report top-of-book changes after LOBSTER's last row"
    );
    // 999 LOBSTER rows fall on 890 distinct nanosecond timestamps; every one was compared.
    assert_eq!(compared, theirs.len());
    assert_eq!(compared, 890);
}

#[test]
fn pinned_bbo_rows() {
    // Read by hand from LOBSTER's files (message file rows 1, 4 and 11, and the order-book file's
    // first level on the same rows): after row 1 (buy 18 @ 585.33) the book is 585.33 x18 /
    // 585.94 x200; row 4 (sell 18 @ 585.91) improves the ask to 585.91 x18; row 11 deletes that
    // order and the ask falls back to 585.92 x18 (added on row 5).
    let (_, csv) = replay_bbo();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "ts_exch_ns,symbol,bid_px,bid_qty,ask_px,ask_qty");
    for want in [
        "34200004241176,AAPL,585.3300,18,585.9400,200",
        "34200025551909,AAPL,585.3300,18,585.9100,18",
        "34200201743336,AAPL,585.3300,18,585.9200,18",
    ] {
        assert!(
            rows.contains(&want),
            "missing {want}; first rows: {:?}",
            &rows[..rows.len().min(8)]
        );
    }
}
