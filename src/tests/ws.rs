//! The live websocket runner against `ticklane serve ws` (spawned as a child process) replaying
//! real captures: its final book and BBO change stream equal the file replay's, with and without
//! forced disconnects, and its journal replays to the digest it printed.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};

use std::time::{Duration, Instant};

use ticklane_feeds::journal::{JournalReader, JournalWriter, RecordKind};
use ticklane_replay::stages::l2::L2Summary;
use ticklane_replay::venue::VenueFormat;

mod common;
use common::{bbo_rows, file_replay, SharedBuf};
use ticklane_replay::live::session::{
    replay_ws_journal, run_ws, TopLevels, WsCounters, WsRunSummary, WsSourceConfig, SUMMARY_LEVELS,
};

const BINANCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/binance/spot_btcusdt_20240808.gz"
);
const COINBASE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/coinbase_skl-gbp.jsonl");
const BINANCE_FUTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/binance/usdm_btcusdt_20240808.gz"
);
const COINBASE_10: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/cryptofeed/COINBASE.ws.28.0"
);

/// `ticklane serve ws` as a child, killed on drop.
struct Server {
    child: Child,
    port: u16,
    stderr: Receiver<String>,
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ticklane"))
            .args(["serve", "ws"])
            .args(args)
            .args(["--port", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ticklane serve ws");
        let (tx, rx) = channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines() {
                let Ok(l) = l else { break };
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        let mut s = Server {
            child,
            port: 0,
            stderr: rx,
        };
        let line = s
            .stderr
            .recv_timeout(Duration::from_secs(30))
            .expect("the server prints its port");
        let port = line
            .split("listening on 127.0.0.1:")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        s.port = port;
        s
    }

    /// Waits for the server to finish the capture and exit; returns its `done:` line.
    fn wait_done(&mut self, timeout: Duration) -> String {
        let end = Instant::now() + timeout;
        let mut done = String::new();
        while Instant::now() < end {
            match self.stderr.recv_timeout(Duration::from_millis(100)) {
                Ok(l) if l.contains("serve ws: done:") => done = l,
                Ok(_) | Err(RecvTimeoutError::Timeout) => {}
                // Its stderr closed: it has exited, and every line it printed has been read.
                Err(RecvTimeoutError::Disconnected) => {
                    let st = self.child.wait().unwrap();
                    assert!(st.success(), "serve ws failed: {st}");
                    return done;
                }
            }
        }
        panic!("serve ws did not finish within {timeout:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The number before `what` in the server's done line.
fn count(done: &str, what: &str) -> u64 {
    let at = done
        .find(what)
        .unwrap_or_else(|| panic!("{what} in {done}"));
    done[..at]
        .trim_end()
        .rsplit(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("count before {what} in {done}"))
}

struct Live {
    summary: WsRunSummary,
    counters: WsCounters,
    bbo: Vec<String>,
    journal: Vec<u8>,
    server_done: String,
}

/// Runs the live runner against `server` until the server has finished and closed.
fn run_live(cfg: WsSourceConfig, server: &mut Server) -> Live {
    let counters = WsCounters::default();
    let stop = AtomicBool::new(false);
    let csv = SharedBuf::default();
    let mut journal = JournalWriter::new(Vec::new(), 50_000_000).unwrap();
    let mut server_done = String::new();
    let summary = std::thread::scope(|sc| {
        // Stops the runner however this scope ends, so a failed check fails the test instead of
        // leaving the scope waiting for the runner.
        struct StopOnDrop<'s>(&'s AtomicBool);
        impl Drop for StopOnDrop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _guard = StopOnDrop(&stop);
        let h = sc.spawn(|| {
            run_ws(
                &cfg,
                &stop,
                Some(&mut journal),
                &counters,
                Some(Box::new(csv.clone())),
                None,
            )
        });
        server_done = server.wait_done(Duration::from_secs(120));
        assert!(!server_done.is_empty(), "no done line");
        // The server closed every connection after its last frame: once the runner has seen
        // the close, it has processed everything.
        let t = Instant::now();
        while counters.connected.load(Ordering::Relaxed) != 0 {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "runner still connected"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        stop.store(true, Ordering::Relaxed);
        h.join().unwrap().unwrap()
    });
    let bbo = bbo_rows(&csv.0.lock().unwrap());
    Live {
        summary,
        counters,
        bbo,
        journal: journal.finish().unwrap(),
        server_done,
    }
}

fn binance_cfg(port: u16) -> WsSourceConfig {
    toml::from_str(&format!(
        r#"
        venue = "binance"
        url = "ws://127.0.0.1:{port}/ws"
        symbols = ["BTCUSDT"]
        rest_url = "http://127.0.0.1:{port}"
        backoff_initial_ms = 20
        backoff_max_ms = 200
        snapshot_retry_ms = 20
        heartbeat_ms = 500
        silence_timeout_ms = 10000
        connect_timeout_ms = 2000
        rest_timeout_ms = 5000
        "#
    ))
    .unwrap()
}

fn coinbase_cfg(port: u16) -> WsSourceConfig {
    toml::from_str(&format!(
        r#"
        venue = "coinbase"
        url = "ws://127.0.0.1:{port}/"
        symbols = ["SKL-GBP"]
        backoff_initial_ms = 20
        backoff_max_ms = 200
        heartbeat_ms = 500
        connect_timeout_ms = 2000
        "#
    ))
    .unwrap()
}

/// The file replay of the Binance spot capture: final top levels and BBO rows.
fn binance_file() -> (TopLevels, Vec<String>, u64) {
    binance_file_at(BINANCE)
}

/// The file replay of a one-symbol Binance capture.
fn binance_file_at(path: &str) -> (TopLevels, Vec<String>, u64) {
    let r = file_replay(VenueFormat::Binance, path);
    assert!(r.summary.synced_at_end && r.summary.resyncs == 0);
    assert_eq!(r.tops.len(), 1);
    let top = r.tops.into_values().next().unwrap();
    (top, r.rows, r.summary.bbo_changes)
}

/// The file replay of a Coinbase capture: each product's final top levels (by name) and the
/// BBO rows.
fn coinbase_file_at(path: &str) -> (BTreeMap<String, TopLevels>, Vec<String>) {
    let r = file_replay(VenueFormat::Coinbase, path);
    (r.tops, r.rows)
}

fn coinbase_file() -> (TopLevels, Vec<String>) {
    let (mut tops, rows) = coinbase_file_at(COINBASE);
    assert_eq!(tops.len(), 1);
    (tops.remove("SKL-GBP").unwrap(), rows)
}

/// Replays the journal and checks it gives the live digest; returns its reconnect records.
fn journal_matches(live: &Live) -> u64 {
    let c = WsCounters::default();
    let (s, st) = replay_ws_journal(&live.journal[..], false, None, &c, None).unwrap();
    assert_eq!(s.digest, live.summary.digest, "journal replay digest");
    assert!(
        same_but_elapsed(&s.book, &live.summary.book),
        "journal replay summary"
    );
    assert_eq!(s.levels, live.summary.levels);
    assert_eq!((st.corrupt, st.unknown_kind, st.cut), (0, 0, false));
    assert_eq!(st.frames, live.summary.frames);
    // Each reconnect record is one lost connection.
    let mut r = JournalReader::new(&live.journal[..]).unwrap();
    let mut reconnects = 0;
    while let Some(Ok(rec)) = r.next_record() {
        if rec.kind == RecordKind::Reconnect {
            reconnects += 1;
        }
    }
    assert_eq!(reconnects, st.reconnects);
    reconnects
}

/// Equal summaries, wall time aside.
fn same_but_elapsed(a: &L2Summary, b: &L2Summary) -> bool {
    let (mut x, mut y) = (a.clone(), b.clone());
    x.elapsed_s = 0.0;
    y.elapsed_s = 0.0;
    x == y
}

#[test]
fn binance_live_equals_the_file_replay() {
    let (file_top, file_bbo, changes) = binance_file();
    assert!(changes > 2_000);
    let mut server = Server::start(&["--format", "binance", BINANCE, "--linger-ms", "300"]);
    let live = run_live(binance_cfg(server.port), &mut server);
    let s = &live.summary;
    assert_eq!(s.levels.len(), 1);
    assert_eq!(
        s.levels[0].1, file_top,
        "final book, top {SUMMARY_LEVELS} levels"
    );
    assert_eq!(file_top.0.len(), SUMMARY_LEVELS);
    // The server held its stream at the capture's snapshot until we fetched ours, so we synced
    // where the recording client did: the same BBO changes, in order.
    assert_eq!(live.bbo.len(), file_bbo.len());
    assert!(live.bbo == file_bbo, "BBO change sequence differs");
    assert_eq!((s.reconnects, s.resyncs), (0, 0));
    assert_eq!(s.rest_snapshots, 1);
    assert_eq!(live.counters.bad_frames.load(Ordering::Relaxed), 0);
    // All 41 248 stream frames of the capture (its one snapshot line is REST, not a frame) plus
    // the subscribe reply.
    assert_eq!(s.frames, 41_248 + 1);
    assert_eq!(live.counters.control.load(Ordering::Relaxed), 1);
    // The journal holds the final close as a lost connection; replaying it gives our digest.
    assert_eq!(journal_matches(&live), 1);
    let text = s.to_string();
    assert!(
        text.lines().last().unwrap().starts_with("digest: "),
        "{text}"
    );
}

#[test]
fn binance_reconnects_resyncs_and_ends_with_the_file_book() {
    let (file_top, _, _) = binance_file();
    let mut server = Server::start(&[
        "--format",
        "binance",
        BINANCE,
        "--rate",
        "20000",
        "--disconnect-after",
        "15000",
        "--linger-ms",
        "500",
    ]);
    let live = run_live(binance_cfg(server.port), &mut server);
    let s = &live.summary;
    assert!(live.counters.reconnects.load(Ordering::Relaxed) >= 1);
    assert!(s.reconnects >= 1 && s.resyncs >= 1, "{s}");
    assert!(s.rest_snapshots >= 2);
    eprintln!("{s}");
    assert_eq!(s.levels[0].1, file_top, "final book after the resync");
    // Frames were missed while away: fewer than the capture's.
    assert!(s.frames < 41_248, "{}", s.frames);
    let reconnects = journal_matches(&live);
    assert!(reconnects >= 2, "the forced drop and the final close");
    // The CLI tells a websocket journal by its source record and prints the live digest.
    let path = std::env::temp_dir().join(format!("ticklane-ws-{}.journal", server.port));
    std::fs::write(&path, &live.journal).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ticklane"))
        .arg("replay")
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("journal:       ") && text.contains("binance websocket"),
        "{text}"
    );
    assert_eq!(
        text.lines().last(),
        Some(format!("digest: {}", s.digest).as_str())
    );
}

#[test]
fn bad_frames_are_counted_not_fatal() {
    let (file_top, file_bbo, _) = binance_file();
    let mut server = Server::start(&[
        "--format",
        "binance",
        BINANCE,
        "--bad-every",
        "500",
        "--seed",
        "7",
        "--linger-ms",
        "300",
    ]);
    let live = run_live(binance_cfg(server.port), &mut server);
    let bad = live.counters.bad_frames.load(Ordering::Relaxed);
    // 41 248 frames, one bad frame after every 500th.
    assert_eq!(bad, 41_248 / 500);
    assert_eq!(count(&live.server_done, "bad frames sent"), bad);
    let b = &live.summary.book;
    assert_eq!(b.bad_lines, bad);
    assert_eq!(live.summary.levels[0].1, file_top);
    assert!(live.bbo == file_bbo);
    journal_matches(&live);
}

#[test]
fn coinbase_live_equals_the_file_replay() {
    let (file_top, file_bbo) = coinbase_file();
    assert!(!file_bbo.is_empty());
    let mut server = Server::start(&["--format", "coinbase", COINBASE, "--linger-ms", "300"]);
    let live = run_live(coinbase_cfg(server.port), &mut server);
    let s = &live.summary;
    assert_eq!(s.levels.len(), 1);
    assert_eq!(s.levels[0].1, file_top);
    assert!(live.bbo == file_bbo, "{:?}\n{:?}", live.bbo, file_bbo);
    assert_eq!((s.reconnects, s.resyncs), (0, 0));
    journal_matches(&live);
}

#[test]
fn coinbase_bad_frames_are_counted_not_fatal() {
    let (file_top, file_bbo) = coinbase_file();
    let mut server = Server::start(&[
        "--format",
        "coinbase",
        COINBASE,
        "--bad-every",
        "20",
        "--seed",
        "3",
        "--linger-ms",
        "300",
    ]);
    let live = run_live(coinbase_cfg(server.port), &mut server);
    let bad = live.counters.bad_frames.load(Ordering::Relaxed);
    // 297 lines: 3 subscriptions and 1 snapshot answered the recorder, 293 frames are streamed,
    // a bad one after every 20th.
    assert_eq!(bad, 293 / 20);
    assert_eq!(count(&live.server_done, "bad frames sent"), bad);
    let l2 = &live.summary.book;
    assert_eq!(
        l2.bad_json, bad,
        "garbage and truncated frames are malformed JSON"
    );
    assert_eq!(live.summary.levels[0].1, file_top);
    assert!(live.bbo == file_bbo);
    journal_matches(&live);
}

#[test]
fn coinbase_reconnects_resyncs_and_ends_with_the_file_book() {
    let (file_top, _) = coinbase_file();
    let mut server = Server::start(&[
        "--format",
        "coinbase",
        COINBASE,
        "--rate",
        "400",
        "--disconnect-after",
        "100",
        "--linger-ms",
        "500",
    ]);
    let live = run_live(coinbase_cfg(server.port), &mut server);
    let s = &live.summary;
    assert!(s.reconnects >= 1 && s.resyncs >= 1, "{s}");
    assert_eq!(s.levels[0].1, file_top);
    assert!(journal_matches(&live) >= 2);
}

#[test]
fn coinbase_ten_products_live_equal_the_file_replay() {
    // The cryptofeed capture of 10 products (its sent subscribe lines are not frames).
    let (file_tops, file_bbo) = coinbase_file_at(COINBASE_10);
    assert_eq!(file_tops.len(), 10);
    let mut server = Server::start(&["--format", "coinbase", COINBASE_10, "--linger-ms", "300"]);
    let mut cfg = coinbase_cfg(server.port);
    cfg.symbols = file_tops.keys().cloned().collect();
    let live = run_live(cfg, &mut server);
    let live_tops: BTreeMap<String, TopLevels> = live.summary.levels.iter().cloned().collect();
    assert_eq!(live_tops.len(), 10);
    for (p, top) in &file_tops {
        assert_eq!(&live_tops[p], top, "{p}");
        assert!(!top.0.is_empty() && !top.1.is_empty(), "{p}");
    }
    assert!(live.bbo == file_bbo, "BBO change sequence differs");
    let l2 = &live.summary.book;
    assert_eq!((l2.snapshots, l2.resyncs), (10, 0));
    // Each product's book is published on its own: all 10 named, each with its own last update.
    let books: BTreeMap<String, u64> = live
        .counters
        .books
        .iter()
        .filter_map(|b| {
            Some((
                b.symbol.get()?.clone(),
                b.last_update_ns.load(Ordering::Relaxed),
            ))
        })
        .collect();
    assert_eq!(
        books.keys().collect::<Vec<_>>(),
        file_tops.keys().collect::<Vec<_>>()
    );
    assert!(books.values().all(|&t| t > 0), "{books:?}");
    let distinct: std::collections::BTreeSet<u64> = books.values().copied().collect();
    assert!(distinct.len() > 1, "per-product update times: {books:?}");
    journal_matches(&live);
}

fn futures_cfg(port: u16) -> WsSourceConfig {
    let mut cfg = binance_cfg(port);
    cfg.venue = ticklane_replay::live::session::WsVenue::BinanceFutures;
    cfg.channels = Some(vec![
        "depth@0ms".into(),
        "trade".into(),
        "bookTicker".into(),
    ]);
    cfg
}

#[test]
fn binance_futures_live_equals_the_file_replay_and_resyncs() {
    // USD-M futures: `pu` chaining, snapshots from /fapi/v1/depth.
    let (file_top, file_bbo, _) = binance_file_at(BINANCE_FUTURES);
    let mut server = Server::start(&["--format", "binance", BINANCE_FUTURES, "--linger-ms", "300"]);
    let live = run_live(futures_cfg(server.port), &mut server);
    assert_eq!(live.summary.levels[0].1, file_top);
    assert!(live.bbo == file_bbo, "BBO change sequence differs");
    // 93 953 stream frames (the capture's one snapshot is REST) and the subscribe reply.
    assert_eq!(live.summary.frames, 93_953 + 1);
    journal_matches(&live);
    let b = &live.summary.book;
    assert_eq!(
        (b.resyncs, b.tickers_compared, b.tickers_equal),
        (0, 126, 126)
    );

    // Dropped after 40 000 frames: the new connection resyncs from a /fapi/v1/depth snapshot
    // taken at a diff boundary, whose last diff (u == lastUpdateId) the sync applies first.
    let mut server = Server::start(&[
        "--format",
        "binance",
        BINANCE_FUTURES,
        "--rate",
        "40000",
        "--disconnect-after",
        "40000",
        "--linger-ms",
        "500",
    ]);
    let live = run_live(futures_cfg(server.port), &mut server);
    let s = &live.summary;
    assert!(s.reconnects >= 1 && s.resyncs >= 1, "{s}");
    assert_eq!(s.levels[0].1, file_top, "final book after the resync");
    let b = &s.book;
    assert!(b.synced_at_end);
    assert!(journal_matches(&live) >= 2);
}

#[test]
fn count_parses_the_done_line() {
    let l = "serve ws: done: 10 lines, 9 capture frames, 8 frames sent, 2 bad frames sent, 1 disconnects";
    assert_eq!(count(l, "bad frames sent"), 2);
    assert_eq!(count(l, "frames sent"), 8);
}
