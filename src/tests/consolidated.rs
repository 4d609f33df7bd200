//! `ticklane replay --consolidated`: the consolidated BBO of one asset across several captures,
//! checked against an independent merge of each source's own `--bbo-csv`, a hand-built
//! two-venue case, determinism, and bad specs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_ticklane");
const SPOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/binance/spot_btcusdt_20240808.gz"
);
const USDM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/binance/usdm_btcusdt_20240808.gz"
);

fn tmp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("ticklane-cbbo-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ticklane(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run ticklane")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn digest_of(o: &Output) -> String {
    common::digest_in(&stdout(o))
}

/// `61837.63000000` → 6183763000000 (1e-8 units), parsed here independently of the engine.
fn units(s: &str) -> i64 {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    assert!(frac.len() <= 8, "{s}");
    let frac = format!("{frac:0<8}");
    int.parse::<i64>().unwrap() * 100_000_000 + frac.parse::<i64>().unwrap()
}

/// A side of a row: (px in 1e-8, qty, venue).
type Side = Option<(i64, u64, String)>;

/// One consolidated row as parsed from the CSV.
#[derive(Debug, PartialEq)]
struct Row {
    ts: u64,
    bid: Side,
    ask: Side,
    state: String,
}

fn parse_consolidated(csv: &str) -> Vec<Row> {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("ts_recv_ns,bid_px,bid_qty,bid_venue,ask_px,ask_qty,ask_venue,state")
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 8, "{l}");
            let side = |p: &str, q: &str, v: &str| {
                (!p.is_empty()).then(|| (units(p), q.parse().unwrap(), v.to_owned()))
            };
            Row {
                ts: f[0].parse().unwrap(),
                bid: side(f[1], f[2], f[3]),
                ask: side(f[4], f[5], f[6]),
                state: f[7].to_owned(),
            }
        })
        .collect()
}

/// A source's own BBO CSV: (ts, bid (px, qty) or None, ask).
type Top = (Option<(i64, u64)>, Option<(i64, u64)>);

fn parse_single(csv: &str) -> Vec<(u64, Top)> {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("ts_exch_ns,symbol,bid_px,bid_qty,ask_px,ask_qty")
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 6, "{l}");
            let side =
                |p: &str, q: &str| (!p.is_empty()).then(|| (units(p), q.parse::<u64>().unwrap()));
            (f[0].parse().unwrap(), (side(f[2], f[3]), side(f[4], f[5])))
        })
        .collect()
}

/// The consolidated stream rebuilt from each source's own BBO rows: rows taken in order of
/// (ts, source index, row order) by a stable sort, each source's latest top kept (a source
/// counts from its first row: its book is synced from then on), best bid highest (first
/// source on equal prices), best ask lowest, a row on every change.
fn merge(sources: &[(&str, Vec<(u64, Top)>)]) -> Vec<Row> {
    let mut events: Vec<(u64, usize, Top)> = Vec::new();
    for (i, (_, rows)) in sources.iter().enumerate() {
        for w in rows.windows(2) {
            assert!(w[0].0 <= w[1].0, "source {i} rows go back in time");
        }
        events.extend(rows.iter().map(|&(ts, top)| (ts, i, top)));
    }
    events.sort_by_key(|&(ts, i, _)| (ts, i));
    let mut cur: Vec<Option<Top>> = vec![None; sources.len()];
    let mut out: Vec<Row> = Vec::new();
    let mut last: (Side, Side) = (None, None);
    for (ts, i, top) in events {
        cur[i] = Some(top);
        let mut bid: Option<(i64, u64, usize)> = None;
        let mut ask: Option<(i64, u64, usize)> = None;
        for (j, t) in cur.iter().enumerate() {
            let Some((b, a)) = t else { continue };
            if let Some((p, q)) = *b {
                if bid.is_none_or(|(bp, _, _)| p > bp) {
                    bid = Some((p, q, j));
                }
            }
            if let Some((p, q)) = *a {
                if ask.is_none_or(|(ap, _, _)| p < ap) {
                    ask = Some((p, q, j));
                }
            }
        }
        let name =
            |s: Option<(i64, u64, usize)>| s.map(|(p, q, j)| (p, q, sources[j].0.to_owned()));
        let now = (name(bid), name(ask));
        if now != last {
            let state = match (bid, ask) {
                (Some((b, ..)), Some((a, ..))) if b > a => "crossed",
                (Some((b, ..)), Some((a, ..))) if b == a => "locked",
                (Some(_), Some(_)) => "normal",
                _ => "one-sided",
            };
            out.push(Row {
                ts,
                bid: now.0.clone(),
                ask: now.1.clone(),
                state: state.into(),
            });
            last = now;
        }
    }
    out
}

fn single(file: &str, csv: &Path) -> Output {
    let o = ticklane(&[
        "replay",
        "--format",
        "binance",
        file,
        "--bbo-csv",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(" 0 resyncs, synced at end"),
        "the independent merge assumes books that never lose sync once synced:\n{}",
        stdout(&o)
    );
    o
}

#[test]
fn binance_spot_and_futures_equal_an_independent_merge_of_their_own_bbo_csvs() {
    let d = tmp_dir();
    let (spot_csv, usdm_csv, cons_csv, json) = (
        d.join("spot.csv"),
        d.join("usdm.csv"),
        d.join("cons.csv"),
        d.join("cons.json"),
    );
    let spot = single(SPOT, &spot_csv);
    let usdm = single(USDM, &usdm_csv);
    let o = ticklane(&[
        "replay",
        "--consolidated",
        &format!("binance:{SPOT},label=spot"),
        "--consolidated",
        &format!("binance:{USDM},label=usdm"),
        "--bbo-csv",
        cons_csv.to_str().unwrap(),
        "--summary-json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let got = parse_consolidated(&std::fs::read_to_string(&cons_csv).unwrap());
    let want = merge(&[
        (
            "spot",
            parse_single(&std::fs::read_to_string(&spot_csv).unwrap()),
        ),
        (
            "usdm",
            parse_single(&std::fs::read_to_string(&usdm_csv).unwrap()),
        ),
    ]);
    assert!(want.len() > 5000, "{}", want.len());
    assert_eq!(got.len(), want.len());
    for (n, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "row {}", n + 1);
    }
    // Both venues hold a side at some point, and the futures book trades below spot: crossed.
    assert!(got.iter().any(|r| r.state == "crossed"));
    assert!(got
        .iter()
        .any(|r| r.bid.as_ref().is_some_and(|b| b.2 == "usdm")));
    // Each source's own digest is its single replay's.
    let out = stdout(&o);
    assert!(
        out.contains(&format!("digest {}", digest_of(&spot))),
        "{out}"
    );
    assert!(
        out.contains(&format!("digest {}", digest_of(&usdm))),
        "{out}"
    );
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(j["asset"], "BTC/USDT");
    assert_eq!(j["changes"], want.len() as u64);
    assert_eq!(
        j["sources"][0]["digest"].as_str().unwrap(),
        digest_of(&spot)
    );
    assert_eq!(
        j["sources"][1]["digest"].as_str().unwrap(),
        digest_of(&usdm)
    );
    // Crossed episodes: transitions into "crossed" in the independent rows.
    let episodes = want
        .windows(2)
        .filter(|w| w[1].state == "crossed" && w[0].state != "crossed")
        .count()
        + usize::from(want[0].state == "crossed");
    assert_eq!(j["crossed"], episodes as u64);
}

fn cb_snapshot(product: &str, bids: &str, asks: &str) -> String {
    format!(r#"{{"type":"snapshot","product_id":"{product}","bids":[{bids}],"asks":[{asks}]}}"#)
}

fn cb_update(product: &str, changes: &str) -> String {
    format!(
        r#"{{"type":"l2update","product_id":"{product}","changes":[{changes}],"time":"2021-04-17T16:43:37.078325Z"}}"#
    )
}

/// Two Coinbase captures of BTC-USD, `<ns> <json>` lines: `a` is synced from t=100; `b` sends an
/// update before its snapshot (unsynced, excluded), also holds ETH-USD (picked out with
/// product=), syncs at t=400 with a bid above `a`'s ask (crossed), and ties `a`'s bid at t=600.
fn hand_built() -> (PathBuf, PathBuf) {
    let d = tmp_dir();
    let a = [
        (
            100,
            cb_snapshot(
                "BTC-USD",
                r#"["100.00","1"]"#,
                r#"["101.00","2"],["103.00","1"]"#,
            ),
        ),
        (300, cb_update("BTC-USD", r#"["buy","100.50","3"]"#)),
        (500, cb_update("BTC-USD", r#"["sell","101.00","0"]"#)),
    ];
    let b = [
        (200, cb_update("BTC-USD", r#"["buy","102.00","5"]"#)),
        (
            250,
            cb_snapshot("ETH-USD", r#"["3000","1"]"#, r#"["3001","1"]"#),
        ),
        (
            400,
            cb_snapshot(
                "BTC-USD",
                r#"["101.50","4"],["100.00","1"]"#,
                r#"["102.00","1"]"#,
            ),
        ),
        (
            600,
            cb_update("BTC-USD", r#"["buy","101.50","0"],["buy","100.50","2"]"#),
        ),
    ];
    let write = |name: &str, lines: &[(u64, String)]| {
        let p = d.join(name);
        let text: String = lines.iter().map(|(t, j)| format!("{t} {j}\n")).collect();
        std::fs::write(&p, text).unwrap();
        p
    };
    (write("a.lines", &a), write("b.lines", &b))
}

#[test]
fn hand_built_two_venues_crossed_moment_and_unsynced_venue_excluded() {
    let (a, b) = hand_built();
    let d = tmp_dir();
    let (csv, json) = (d.join("hand.csv"), d.join("hand.json"));
    let o = ticklane(&[
        "replay",
        "--consolidated",
        &format!("coinbase:{},label=a", a.display()),
        "--consolidated",
        &format!("coinbase:{},label=b,product=BTC-USD", b.display()),
        "--bbo-csv",
        csv.to_str().unwrap(),
        "--summary-json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        "ts_recv_ns,bid_px,bid_qty,bid_venue,ask_px,ask_qty,ask_venue,state\n\
         100,100.00000000,100000000,a,101.00000000,200000000,a,normal\n\
         300,100.50000000,300000000,a,101.00000000,200000000,a,normal\n\
         400,101.50000000,400000000,b,101.00000000,200000000,a,crossed\n\
         500,101.50000000,400000000,b,102.00000000,100000000,b,normal\n\
         600,100.50000000,300000000,a,102.00000000,100000000,b,normal\n"
    );
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(j["asset"], "BTC/USD");
    assert_eq!(j["lines"], 7);
    assert_eq!(j["changes"], 5);
    assert_eq!(
        (j["start_ns"].as_u64(), j["end_ns"].as_u64()),
        (Some(100), Some(600))
    );
    assert_eq!(
        (j["crossed"].as_u64(), j["crossed_ns"].as_u64()),
        (Some(1), Some(100))
    );
    assert_eq!(
        (j["locked"].as_u64(), j["locked_ns"].as_u64()),
        (Some(0), Some(0))
    );
    let s = &j["sources"];
    // a held the bid 100..400 (b's bid 101.50 from 400 to 600, then the tie goes to a, first
    // given), the ask 100..500.
    assert_eq!(s[0]["excluded_ns"], 0);
    assert_eq!(s[0]["best_bid_ns"], 300);
    assert_eq!(s[0]["best_ask_ns"], 400);
    // b was excluded from the start (100) to its snapshot (400).
    assert_eq!(s[1]["excluded_ns"], 300);
    assert_eq!(s[1]["exclusions"], 0);
    assert_eq!(s[1]["best_bid_ns"], 200);
    assert_eq!(s[1]["best_ask_ns"], 100);
    assert_eq!(s[1]["product"], "BTC-USD");
    assert_eq!(s[1]["lines"], 4);
    // b's own digest is its single replay's.
    let single = ticklane(&["replay", "--format", "coinbase", b.to_str().unwrap()]);
    assert!(single.status.success(), "{}", stderr(&single));
    assert_eq!(s[1]["digest"].as_str().unwrap(), digest_of(&single));
}

#[test]
fn same_sources_in_the_same_order_give_the_same_digest_and_rows() {
    let d = tmp_dir();
    let run = |csv: &PathBuf| {
        let o = ticklane(&[
            "replay",
            "--consolidated",
            &format!("binance:{SPOT}"),
            "--consolidated",
            &format!("binance:{USDM}"),
            "--bbo-csv",
            csv.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        digest_of(&o)
    };
    let (c1, c2) = (d.join("det1.csv"), d.join("det2.csv"));
    let (d1, d2) = (run(&c1), run(&c2));
    assert_eq!(d1, d2);
    assert_eq!(std::fs::read(&c1).unwrap(), std::fs::read(&c2).unwrap());
    // Default labels: format and file name.
    let rows = std::fs::read_to_string(&c1).unwrap();
    assert!(rows.contains(",binance-spot_btcusdt_20240808,"));
    assert!(rows.contains(",binance-usdm_btcusdt_20240808,"));
}

#[test]
fn bad_specs_are_refused_with_clear_errors() {
    let (a, b) = hand_built();
    let (a, b) = (
        a.to_str().unwrap().to_owned(),
        b.to_str().unwrap().to_owned(),
    );
    let cases: &[(&[&str], i32, &str)] = &[
        (
            &["bitmex:x.gz", "binance:y.gz"],
            2,
            "unknown format \"bitmex\"",
        ),
        (&["x.gz", "binance:y.gz"], 2, "no FORMAT: prefix"),
        (&["binance:", "binance:y.gz"], 2, "empty PATH"),
        (
            &["binance:x.gz,depth=5", "binance:y.gz"],
            2,
            "unknown key \"depth\"",
        ),
        (
            &["binance:x.gz,label=a,label=b", "binance:y.gz"],
            2,
            "label given twice",
        ),
        (&[SPOT], 2, "at least two sources"),
        (&[SPOT, SPOT], 2, "two sources are labelled"),
    ];
    for (specs, code, msg) in cases {
        let mut args = vec!["replay".to_owned()];
        for s in *specs {
            args.push("--consolidated".into());
            args.push(if s.contains(':') {
                (*s).to_owned()
            } else if *s == SPOT {
                format!("binance:{SPOT}")
            } else {
                (*s).to_owned()
            });
        }
        let o = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(*code), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{args:?}: {}", stderr(&o));
    }
    // A missing capture: exit 3, named.
    let o = ticklane(&[
        "replay",
        "--consolidated",
        &format!("binance:{SPOT}"),
        "--consolidated",
        "binance:no/such/file.gz,label=nope",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("source nope: cannot open no/such/file.gz"));
    // Different quote currencies: BTCUSDT and BTC-USD.
    let o = ticklane(&[
        "replay",
        "--consolidated",
        &format!("binance:{SPOT},label=spot"),
        "--consolidated",
        &format!("coinbase:{a},label=cb"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("quote currencies differ"),
        "{}",
        stderr(&o)
    );
    // A capture with several products and no product=.
    let o = ticklane(&[
        "replay",
        "--consolidated",
        &format!("coinbase:{a},label=a"),
        "--consolidated",
        &format!("coinbase:{b},label=b"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "source b holds several products (BTC-USD, ETH-USD): pick one with product=NAME"
        ),
        "{}",
        stderr(&o)
    );
    // A product the capture does not hold.
    let o = ticklane(&[
        "replay",
        "--consolidated",
        &format!("coinbase:{a},label=a"),
        "--consolidated",
        &format!("coinbase:{b},label=b,product=SOL-USD"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("product SOL-USD not found"),
        "{}",
        stderr(&o)
    );
    // A positional FILE or --strategy with --consolidated is a usage error.
    let o = ticklane(&[
        "replay",
        &a,
        "--consolidated",
        &format!("coinbase:{a}"),
        "--consolidated",
        &format!("coinbase:{b}"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
    let o = ticklane(&[
        "replay",
        "--format",
        "binance",
        "--consolidated",
        &format!("coinbase:{a}"),
        "--consolidated",
        &format!("coinbase:{b}"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
    // --help documents it.
    let h = stdout(&ticklane(&["replay", "--help"]));
    assert!(h.contains("--consolidated <FORMAT:PATH[,label=NAME][,product=ID]>"));
    assert!(h.contains("equal prices: the source"));
}

#[test]
fn kraken_source_with_a_bad_checksum_is_excluded_until_the_end() {
    let (a, _) = hand_built();
    let d = tmp_dir();
    let k = d.join("k.lines");
    std::fs::write(
        &k,
        "150 [0,{\"as\":[[\"100.80000\",\"1.00000000\",\"1.0\"]],\"bs\":[[\"100.20000\",\"2.00000000\",\"1.0\"]]},\"book-10\",\"XBT/USD\"]\n\
         350 [0,{\"b\":[[\"100.60000\",\"1.00000000\",\"3.0\"]],\"c\":\"1\"},\"book-10\",\"XBT/USD\"]\n",
    )
    .unwrap();
    let (csv, json) = (d.join("kr.csv"), d.join("kr.json"));
    let o = ticklane(&[
        "replay",
        "--consolidated",
        &format!("coinbase:{},label=c", a.display()),
        "--consolidated",
        &format!("kraken:{},label=k", k.display()),
        "--bbo-csv",
        csv.to_str().unwrap(),
        "--summary-json",
        json.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap(),
        "ts_recv_ns,bid_px,bid_qty,bid_venue,ask_px,ask_qty,ask_venue,state\n\
         100,100.00000000,100000000,c,101.00000000,200000000,c,normal\n\
         150,100.20000000,200000000,k,100.80000000,100000000,k,normal\n\
         300,100.50000000,300000000,c,100.80000000,100000000,k,normal\n\
         350,100.50000000,300000000,c,101.00000000,200000000,c,normal\n\
         500,100.50000000,300000000,c,103.00000000,100000000,c,normal\n"
    );
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    // XBT/USD and BTC-USD are one asset.
    assert_eq!(j["asset"], "BTC/USD");
    let s = &j["sources"][1];
    assert_eq!(s["product"], "XBT/USD");
    assert_eq!(s["resyncs"], 1);
    assert_eq!(s["exclusions"], 1);
    assert_eq!(s["synced_at_end"], false);
    // Excluded 100..150 (not synced yet) and 350..500 (checksum mismatch).
    assert_eq!(s["excluded_ns"], 200);
    assert_eq!(
        (s["best_bid_ns"].as_u64(), s["best_ask_ns"].as_u64()),
        (Some(150), Some(200))
    );
    assert!(stdout(&o).contains("UNSYNCED at end"), "{}", stdout(&o));
}

/// cryptofeed's raw spot capture of four symbols (BINANCE.ws.1.0) merged by receive time with
/// its REST snapshots (BINANCE.http.0.0), written to `path`.
fn four_symbol_capture(path: &Path) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/cryptofeed");
    let ws = std::fs::read_to_string(format!("{dir}/BINANCE.ws.1.0")).unwrap();
    let http = std::fs::read_to_string(format!("{dir}/BINANCE.http.0.0")).unwrap();
    // `... <seconds.fraction>: <json>` (a header line `URL <-> t` sorts first: no colon-space).
    let ts = |l: &str| -> f64 {
        l.split_once(": ")
            .and_then(|(h, _)| h.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0.0)
    };
    let mut lines: Vec<(usize, &str)> = ws.lines().chain(http.lines()).enumerate().collect();
    lines.sort_by(|a, b| ts(a.1).total_cmp(&ts(b.1)).then(a.0.cmp(&b.0)));
    let text: String = lines.iter().map(|(_, l)| format!("{l}\n")).collect();
    std::fs::write(path, text).unwrap();
}

/// A Binance source holding several symbols must name one; with `product=` its book is the
/// one used: the consolidated rows equal an independent merge of that symbol's rows of the
/// capture's own BBO CSV with the NKNUSDT excerpt's.
#[test]
fn binance_source_with_several_symbols_takes_the_named_one() {
    let d = tmp_dir();
    let (cap, multi_csv, excerpt_csv, cons_csv) = (
        d.join("four.cryptofeed"),
        d.join("four.csv"),
        d.join("excerpt.csv"),
        d.join("cons.csv"),
    );
    four_symbol_capture(&cap);
    let excerpt = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/binance_nknusdt.cryptofeed"
    );
    let o = ticklane(&[
        "replay",
        "--consolidated",
        &format!("binance:{},label=a", cap.display()),
        "--consolidated",
        &format!("binance:{excerpt},label=b"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("source a holds several products (NKNUSDT, BLZETH")
            && stderr(&o).contains("pick one with product=NAME"),
        "{}",
        stderr(&o)
    );

    single(cap.to_str().unwrap(), &multi_csv);
    single(excerpt, &excerpt_csv);
    let o = ticklane(&[
        "replay",
        "--consolidated",
        &format!("binance:{},label=a,product=NKNUSDT", cap.display()),
        "--consolidated",
        &format!("binance:{excerpt},label=b"),
        "--bbo-csv",
        cons_csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let only_nkn: String = std::fs::read_to_string(&multi_csv)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(i, l)| *i == 0 || l.split(',').nth(1) == Some("NKNUSDT"))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let a = parse_single(&only_nkn);
    let b = parse_single(&std::fs::read_to_string(&excerpt_csv).unwrap());
    // The excerpt is the capture's NKNUSDT lines: the same rows.
    assert_eq!(a, b);
    let want = merge(&[("a", a), ("b", b)]);
    let got = parse_consolidated(&std::fs::read_to_string(&cons_csv).unwrap());
    assert!(want.len() > 10, "{}", want.len());
    assert_eq!(got, want);
}
