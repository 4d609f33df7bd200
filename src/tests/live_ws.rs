//! End-to-end tests of `ticklane live` with websocket sources, all through the CLI binary:
//! `ticklane serve ws` plays a real Binance or Coinbase capture as the venue (a child process),
//! `ticklane live --config` (another child) runs the crypto runner against it. The live digest
//! must equal `ticklane replay` of the daemon's journal, and the final books and BBO change
//! sequence must equal a file replay of the capture (the library's sync state machines over the
//! file, an independent path from the websocket one). Also: reconnect and resync seen growing
//! on `/metrics`, SIGINT and `max_duration_s`, and config errors.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};

use std::time::{Duration, Instant};

use ticklane_replay::live::session::{TopLevels, SUMMARY_LEVELS};
use ticklane_replay::venue::VenueFormat;

mod common;
use common::{bbo_rows, file_replay};

const BIN: &str = env!("CARGO_BIN_EXE_ticklane");
const BINANCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/binance/spot_btcusdt_20240808.gz"
);
const BINANCE_FUTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/binance/usdm_btcusdt_20240808.gz"
);
const COINBASE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/coinbase_skl-gbp.jsonl");
/// Stream frames of the spot capture (its one REST snapshot line is not a frame).
const BINANCE_FRAMES: u64 = 41_248;

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ticklane-live-ws-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A child process killed on drop, its stderr read line by line on a thread.
struct Proc {
    child: Child,
    stderr: Receiver<String>,
    seen: Vec<String>,
}

impl Proc {
    fn spawn(args: &[&str]) -> Proc {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn ticklane");
        let (tx, rx) = channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Proc {
            child,
            stderr: rx,
            seen: Vec::new(),
        }
    }

    /// Waits for a stderr line containing `what`; returns it.
    fn wait_line(&mut self, what: &str, timeout: Duration) -> String {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            match self.stderr.recv_timeout(Duration::from_millis(50)) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.contains(what) {
                        return l;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        let _ = self.child.kill();
        panic!(
            "no {what:?} on stderr within {timeout:?}:\n{}",
            self.seen.join("\n")
        );
    }

    /// Waits at most `limit` for the child to exit by itself (killing it after), with its
    /// stdout and the rest of its stderr.
    fn finish(mut self, limit: Duration) -> (Output, String) {
        let mut out = String::new();
        let mut stdout = self.child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let _ = stdout.read_to_string(&mut out);
            out
        });
        let t = Instant::now();
        while self.child.try_wait().unwrap().is_none() && t.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let status = self.child.wait().unwrap();
        let stdout = reader.join().unwrap();
        while let Ok(l) = self.stderr.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(l);
        }
        let err = self.seen.join("\n");
        (
            Output {
                status,
                stdout: stdout.into_bytes(),
                stderr: Vec::new(),
            },
            err,
        )
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ticklane serve ws` on a free port; returns it and the port.
fn serve(args: &[&str]) -> (Proc, u16) {
    let mut a = vec!["serve", "ws"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--port", "0"]);
    let mut p = Proc::spawn(&a);
    let line = p.wait_line("listening on 127.0.0.1:", Duration::from_secs(30));
    let port = line
        .split("listening on 127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    (p, port)
}

/// A live config in `dir` for a local `serve ws` on `port`; `extra` is appended.
fn config(dir: &Path, kind: &str, port: u16, source_keys: &str, extra: &str) -> PathBuf {
    let (url, rest, symbols) = match kind {
        "coinbase" => (format!("ws://127.0.0.1:{port}/"), String::new(), "SKL-GBP"),
        _ => (
            format!("ws://127.0.0.1:{port}/ws"),
            format!("rest_url = \"http://127.0.0.1:{port}\"\n"),
            "BTCUSDT",
        ),
    };
    let text = format!(
        "[[source]]\nkind = \"{kind}\"\nname = \"test\"\nurl = \"{url}\"\n{rest}\
         symbols = [\"{symbols}\"]\nbackoff_initial_ms = 20\nbackoff_max_ms = 200\n\
         snapshot_retry_ms = 20\nheartbeat_ms = 500\nconnect_timeout_ms = 2000\n{source_keys}\n\
         [sinks]\nbbo_csv = \"bbo.csv\"\nsummary_json = \"summary.json\"\n\
         [journal]\npath = \"live.journal\"\nfsync = \"never\"\n\
         [metrics]\nbind = \"127.0.0.1:0\"\n{extra}"
    );
    let p = dir.join("live.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// `ticklane live --config`, started; returns it and its metrics address once it serves them.
fn start_live(config: &Path) -> (Proc, String) {
    let mut p = Proc::spawn(&["live", "--config", config.to_str().unwrap()]);
    let line = p.wait_line("live: metrics at http://", Duration::from_secs(20));
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    p.wait_line("live: source test", Duration::from_secs(10));
    (p, addr)
}

use common::digest_in as digest_of;

fn replay_digest(path: &Path) -> String {
    let o = Command::new(BIN)
        .args(["replay", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("websocket"), "{text}");
    digest_of(&text)
}

/// The file replay of the Binance spot capture: final top levels and BBO rows.
fn binance_file() -> (TopLevels, Vec<String>) {
    binance_file_at(BINANCE)
}

/// The file replay of a one-symbol Binance capture.
fn binance_file_at(path: &str) -> (TopLevels, Vec<String>) {
    let r = file_replay(VenueFormat::Binance, path);
    assert!(r.summary.synced_at_end && r.summary.resyncs == 0);
    assert_eq!(r.tops.len(), 1);
    (r.tops.into_values().next().unwrap(), r.rows)
}

/// The file replay of the Coinbase SKL-GBP capture.
fn coinbase_file() -> (TopLevels, Vec<String>) {
    let mut r = file_replay(VenueFormat::Coinbase, COINBASE);
    (r.tops.remove("SKL-GBP").unwrap(), r.rows)
}

/// What `[sinks] summary_json` wrote: the whole JSON and the final levels by symbol.
fn summary(dir: &Path) -> (serde_json::Value, BTreeMap<String, TopLevels>) {
    let text = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let levels: Vec<(String, TopLevels)> = serde_json::from_value(v["levels"].clone()).unwrap();
    (v, levels.into_iter().collect())
}

/// A run that stopped because the venue went away (connects kept failing, as a finite `serve
/// ws` capture ends) exits 6 and says the source gave up, so a supervisor restarts it; a run
/// stopped by a signal or `max_duration_s` exits 0.
fn assert_exit(status: &std::process::ExitStatus, stdout: &str, stderr: &str) {
    if stdout.contains("stopped by the venue: connects kept failing") {
        assert_eq!(status.code(), Some(6), "{stdout}\n{stderr}");
        assert!(stderr.contains("error: source test gave up"), "{stderr}");
    } else {
        assert!(status.success(), "{status}\n{stdout}\n{stderr}");
    }
}

/// A finished live run: its stdout and stderr; checks its exit status and that its digest
/// replays.
struct Run {
    stdout: String,
    stderr: String,
    digest: String,
}

fn finish_live(live: Proc, dir: &Path, limit: Duration) -> Run {
    let (out, stderr) = live.finish(limit);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_exit(&out.status, &stdout, &stderr);
    let digest = digest_of(&stdout);
    assert_eq!(
        replay_digest(&dir.join("live.journal")),
        digest,
        "journal replay digest\n{stdout}"
    );
    Run {
        stdout,
        stderr,
        digest,
    }
}

use common::count_before;

fn scrape(addr: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    let (head, body) = resp.split_once("\r\n\r\n")?;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    Some(body.to_owned())
}

/// `name{labels}` → value.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').unwrap_or_else(|| panic!("{l:?}"));
            (k.to_owned(), v.parse().unwrap_or_else(|_| panic!("{l:?}")))
        })
        .collect()
}

const FINITE: &str = "max_reconnect_attempts = 3";

#[test]
fn binance_live_digest_equals_the_journal_replay_and_the_book_the_file_replay() {
    let (file_top, file_bbo) = binance_file();
    assert!(file_bbo.len() > 2_000);
    let dir = tmp_dir("binance");
    let (server, port) = serve(&["--format", "binance", BINANCE, "--linger-ms", "300"]);
    let cfg = config(&dir, "binance", port, FINITE, "");
    let (live, _) = start_live(&cfg);
    let run = finish_live(live, &dir, Duration::from_secs(120));
    drop(server);
    assert!(
        run.stdout
            .contains("stopped by the venue: connects kept failing"),
        "{}",
        run.stdout
    );
    let (s, levels) = summary(&dir);
    assert_eq!(levels.len(), 1);
    assert_eq!(
        levels["BTCUSDT"], file_top,
        "final book, top {SUMMARY_LEVELS} levels"
    );
    assert_eq!(file_top.0.len(), SUMMARY_LEVELS);
    let bbo = bbo_rows(&std::fs::read(dir.join("bbo.csv")).unwrap());
    assert_eq!(bbo.len(), file_bbo.len());
    assert!(bbo == file_bbo, "BBO change sequence differs");
    // Every stream frame of the capture plus the subscribe reply; one REST snapshot.
    assert_eq!(s["frames"], BINANCE_FRAMES + 1);
    assert_eq!(s["resyncs"], 0);
    assert_eq!(s["rest_snapshots"], 1);
    assert_eq!(s["digest"], run.digest.as_str());
    assert_eq!(count_before(&run.stdout, "source:", "resynced"), 0);
    assert!(run.stdout.contains("journal:       "), "{}", run.stdout);
    assert!(run.stderr.contains("binance websocket"), "{}", run.stderr);
}

#[test]
fn binance_live_reconnects_and_resyncs_seen_on_metrics_and_ends_with_the_file_book() {
    let (file_top, _) = binance_file();
    let dir = tmp_dir("binance-drop");
    let (server, port) = serve(&[
        "--format",
        "binance",
        BINANCE,
        "--rate",
        "10000",
        "--disconnect-after",
        "12000",
        "--linger-ms",
        "500",
    ]);
    let cfg = config(&dir, "binance", port, FINITE, "");
    let (mut live, addr) = start_live(&cfg);
    // Scrape until the daemon ends (the capture lasts about 4 s at this rate).
    let mut seen: Vec<(f64, f64, f64, f64)> = Vec::new();
    let mut staleness = Vec::new();
    let mut last_text = String::new();
    let t = Instant::now();
    while live.child.try_wait().unwrap().is_none() {
        assert!(t.elapsed() < Duration::from_secs(120), "live did not end");
        if let Some(text) = scrape(&addr) {
            let m = samples(&text);
            let get = |k: &str| *m.get(k).unwrap_or_else(|| panic!("{k} missing in\n{text}"));
            seen.push((
                get("ticklane_reconnects_total{source=\"test\"}"),
                get("ticklane_resyncs_total{source=\"test\"}"),
                get("ticklane_ws_frames_total{source=\"test\"}"),
                // No row before the instrument's first book message.
                m.get("ticklane_book_valid{source=\"test\",symbol=\"BTCUSDT\"}")
                    .copied()
                    .unwrap_or(0.0),
            ));
            if let Some(v) =
                m.get("ticklane_book_staleness_seconds{source=\"test\",symbol=\"BTCUSDT\"}")
            {
                staleness.push(*v);
            }
            last_text = text;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let run = finish_live(live, &dir, Duration::from_secs(10));
    drop(server);
    assert!(seen.len() >= 5, "{} scrapes", seen.len());
    // Counters never go back, and the reconnect and the resync were watched happening.
    for w in seen.windows(2) {
        assert!(
            w[1].0 >= w[0].0 && w[1].1 >= w[0].1 && w[1].2 >= w[0].2,
            "{w:?}"
        );
    }
    let (first, last) = (seen[0], seen[seen.len() - 1]);
    assert!(last.0 >= 1.0 && last.1 >= 1.0, "{last:?}\n{last_text}");
    assert!(
        first.0 < last.0 && first.1 < last.1,
        "reconnects and resyncs did not grow during the scrapes: {first:?} → {last:?}"
    );
    assert!(seen.iter().any(|s| s.3 == 1.0), "book valid at some scrape");
    // Published while the book was synced; seconds since its last update, which at 10 000
    // frames/s is well under a second while frames flow.
    assert!(!staleness.is_empty(), "no staleness row in any scrape");
    assert!(
        staleness.iter().all(|&v| (0.0..60.0).contains(&v)),
        "{staleness:?}"
    );
    assert!(last.2 > 0.0);
    for family in [
        "ticklane_ws_bytes_total{source=\"test\"}",
        "ticklane_gaps_total{source=\"test\"}",
        "ticklane_malformed_total{source=\"test\"}",
        "ticklane_messages_total{source=\"test\",type=\"depth\"}",
        "ticklane_messages_total{source=\"test\",type=\"trade\"}",
        "ticklane_snapshot_fetches_total{source=\"test\"}",
        "ticklane_connected{source=\"test\"}",
    ] {
        assert!(
            last_text.contains(family),
            "{family} missing in\n{last_text}"
        );
    }
    let (s, levels) = summary(&dir);
    assert_eq!(levels["BTCUSDT"], file_top, "final book after the resync");
    assert!(s["reconnects"].as_u64().unwrap() >= 1, "{s}");
    assert!(s["resyncs"].as_u64().unwrap() >= 1, "{s}");
    assert!(s["rest_snapshots"].as_u64().unwrap() >= 2, "{s}");
    // Frames were missed while away.
    assert!(s["frames"].as_u64().unwrap() < BINANCE_FRAMES, "{s}");
    assert!(count_before(&run.stdout, "source:", "resynced") >= 1);
}

#[test]
fn binance_futures_live_round_trip() {
    let (file_top, file_bbo) = binance_file_at(BINANCE_FUTURES);
    let dir = tmp_dir("futures");
    let (server, port) = serve(&["--format", "binance", BINANCE_FUTURES, "--linger-ms", "300"]);
    let keys = format!("{FINITE}\nchannels = [\"depth@0ms\", \"trade\", \"bookTicker\"]");
    // The alternative spelling of the kind.
    let cfg = config(&dir, "binance_futures", port, &keys, "");
    let (live, _) = start_live(&cfg);
    let run = finish_live(live, &dir, Duration::from_secs(120));
    drop(server);
    let (s, levels) = summary(&dir);
    assert_eq!(s["venue"], "binance-futures");
    assert_eq!(levels["BTCUSDT"], file_top);
    let bbo = bbo_rows(&std::fs::read(dir.join("bbo.csv")).unwrap());
    assert!(bbo == file_bbo, "BBO change sequence differs");
    // 93 953 stream frames and the subscribe reply.
    assert_eq!(s["frames"], 93_953 + 1);
    assert_eq!(s["digest"], run.digest.as_str());
}

#[test]
fn coinbase_live_round_trip() {
    let (file_top, file_bbo) = coinbase_file();
    assert!(!file_bbo.is_empty());
    let dir = tmp_dir("coinbase");
    let (server, port) = serve(&["--format", "coinbase", COINBASE, "--linger-ms", "300"]);
    let cfg = config(&dir, "coinbase", port, FINITE, "");
    let (live, _) = start_live(&cfg);
    let run = finish_live(live, &dir, Duration::from_secs(60));
    drop(server);
    let (s, levels) = summary(&dir);
    assert_eq!(levels.len(), 1);
    assert_eq!(levels["SKL-GBP"], file_top);
    let bbo = bbo_rows(&std::fs::read(dir.join("bbo.csv")).unwrap());
    assert!(bbo == file_bbo, "{bbo:?}\n{file_bbo:?}");
    assert_eq!(s["resyncs"], 0);
    assert_eq!(s["venue"], "coinbase");
    assert_eq!(s["digest"], run.digest.as_str());
}

#[test]
fn sigint_and_max_duration_stop_a_websocket_run_with_a_digest_the_journal_replays() {
    for (name, how) in [("sigint", "SIGINT"), ("max-duration", "[run]")] {
        let dir = tmp_dir(name);
        // Slow enough that the capture is far from over when the run is stopped.
        let (server, port) = serve(&["--format", "binance", BINANCE, "--rate", "2000"]);
        let extra = if how == "[run]" {
            "[run]\nmax_duration_s = 2.0\n"
        } else {
            ""
        };
        let cfg = config(&dir, "binance", port, "", extra);
        let (live, addr) = start_live(&cfg);
        let t = Instant::now();
        if how == "SIGINT" {
            // Once frames are flowing.
            loop {
                let frames = scrape(&addr)
                    .map(|text| {
                        samples(&text)
                            .get("ticklane_ws_frames_total{source=\"test\"}")
                            .copied()
                            .unwrap_or(0.0)
                    })
                    .unwrap_or(0.0);
                if frames > 100.0 {
                    break;
                }
                assert!(t.elapsed() < Duration::from_secs(30), "no frames");
                std::thread::sleep(Duration::from_millis(50));
            }
            let st = Command::new("kill")
                .args(["-INT", &live.child.id().to_string()])
                .status()
                .unwrap();
            assert!(st.success());
        }
        let run = finish_live(live, &dir, Duration::from_secs(30));
        drop(server);
        let want = if how == "SIGINT" {
            "stopped by signal"
        } else {
            "stopped by max_duration_s"
        };
        assert!(run.stdout.contains(want), "{}", run.stdout);
        let (s, _) = summary(&dir);
        let frames = s["frames"].as_u64().unwrap();
        assert!(frames > 100 && frames < BINANCE_FRAMES, "{frames}");
        if how == "[run]" {
            assert!(t.elapsed() >= Duration::from_secs(2));
        }
    }
}

fn live_fails(text: &str, name: &str) -> (i32, String) {
    let dir = tmp_dir(name);
    let p = dir.join("bad.toml");
    std::fs::write(&p, text).unwrap();
    let o = Command::new(BIN)
        .args(["live", "--config", p.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    assert!(o.stdout.is_empty(), "nothing on stdout for a config error");
    (o.status.code().unwrap_or(-1), err)
}

#[test]
fn websocket_config_errors_are_clear_and_exit_2() {
    let ok = "[[source]]\nkind = \"binance\"\nurl = \"ws://127.0.0.1:9/ws\"\nsymbols = [\"BTCUSDT\"]\nrest_url = \"http://127.0.0.1:9\"\n";
    let (code, err) = live_fails(&format!("{ok}symbol = \"ETHUSDT\"\n"), "unknown");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("symbol") && err.contains("line 6") && err.contains("bad.toml"),
        "{err}"
    );
    let (code, err) = live_fails(
        "[[source]]\nkind = \"coinbase\"\nurl = \"https://ws-feed.exchange.coinbase.com\"\nsymbols = [\"BTC-USD\"]\n",
        "badurl",
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("line 3")
            && err.contains("https://ws-feed.exchange.coinbase.com")
            && err.contains("ws://"),
        "{err}"
    );
    let (code, err) = live_fails(
        "[[source]]\nkind = \"binance\"\nurl = \"ws://127.0.0.1:99999/ws\"\nsymbols = [\"BTCUSDT\"]\nrest_url = \"http://127.0.0.1:9\"\n",
        "badport",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("127.0.0.1:99999"), "{err}");
    // A strategy on L2 books needs an L2 queue model, named or from its exec config.
    let (code, err) = live_fails(
        &format!("{ok}[strategy]\nname = \"obi_taker\"\n"),
        "strategy",
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("line 6")
            && err.contains("queue = \"conservative\"")
            && err.contains("exec_config"),
        "{err}"
    );
    let (code, err) = live_fails(
        &format!("{ok}[strategy]\nname = \"obi_taker\"\nqueue = \"fifo\"\n"),
        "strategy-fifo",
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("line 8") && err.contains("order-by-order"),
        "{err}"
    );
    // An exec config whose queue model is FIFO: refused by the backtest plan, before connecting.
    let dir = tmp_dir("strategy-exec-fifo");
    std::fs::write(dir.join("exec.toml"), "[queue]\nmodel = \"fifo\"\n").unwrap();
    let (code, err) = live_fails(
        &format!(
            "{ok}[strategy]\nname = \"obi_taker\"\nexec_config = \"{}\"\n",
            dir.join("exec.toml").display()
        ),
        "strategy-exec-fifo-cfg",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("[strategy]") && err.contains("fifo"), "{err}");
    let (code, err) = live_fails(
        &format!("{ok}[strategy]\nname = \"no_such\"\nqueue = \"conservative\"\n"),
        "strategy-name",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no_such"), "{err}");
    let (code, err) = live_fails("[[source]]\nkind = \"kraken\"\nurl = \"ws://h/\"\n", "kind");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("kraken") && err.contains("line 2"), "{err}");
}

/// The strategy lines of a summary: `strategy:` and `backtest:` with the backtest's second
/// line (orders, fills, position, PnL), not the third (the loop's speed).
fn strategy_lines(stdout: &str) -> Vec<String> {
    let lines: Vec<&str> = stdout.lines().collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if l.starts_with("strategy:") {
            out.push(l.to_string());
        }
        if l.starts_with("backtest:") {
            out.push(l.to_string());
            out.push(lines.get(i + 1).unwrap_or(&"").to_string());
        }
    }
    out
}

#[test]
fn binance_live_paper_trades_the_market_maker_and_the_journal_replay_repeats_it() {
    let dir = tmp_dir("binance-mm");
    let mm = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mm-btcusdt.toml");
    let (server, port) = serve(&["--format", "binance", BINANCE, "--linger-ms", "300"]);
    let cfg = config(
        &dir,
        "binance",
        port,
        FINITE,
        &format!(
            "[strategy]\nname = \"market_maker\"\nconfig = \"{mm}\"\nqueue = \"conservative\"\n"
        ),
    );
    let (live, _) = start_live(&cfg);
    let (out, stderr) = live.finish(Duration::from_secs(120));
    drop(server);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_exit(&out.status, &stdout, &stderr);
    assert!(
        stderr.contains("strategy market_maker paper-trading (queue model conservative)"),
        "{stderr}"
    );
    let digest = digest_of(&stdout);
    let lines = strategy_lines(&stdout);
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with("strategy:      market_maker ("),
        "{stdout}"
    );
    let orders = count_before(&stdout, "backtest:", "orders");
    let fills = count_before(&lines[2], "", "fills");
    assert!(orders > 0 && fills > 0, "{stdout}");
    assert!(lines[2].contains("queue model conservative"), "{stdout}");
    // An independent path: the file backtest of the capture (the file's sync, its receive
    // times) makes the same decisions and fills; only the times, so the digest, differ.
    let o = Command::new(BIN)
        .args([
            "replay",
            "--format",
            "binance",
            BINANCE,
            "--strategy",
            "market_maker",
            "--strategy-config",
            mm,
            "--queue",
            "conservative",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        strategy_lines(&String::from_utf8_lossy(&o.stdout)),
        lines,
        "live strategy lines against the file backtest's"
    );
    // The market data ran as without a strategy: every frame, synced, the book of the file.
    let (s, levels) = summary(&dir);
    assert_eq!(s["frames"], BINANCE_FRAMES + 1);
    assert_eq!(levels["BTCUSDT"], binance_file().0);
    assert_eq!(s["book"]["strategy"], "market_maker");
    assert_eq!(s["book"]["backtest"]["orders_submitted"], orders);
    assert_eq!(s["digest"], digest.as_str());

    // The journal replayed with the same strategy: the same strategy lines and digest.
    let journal = dir.join("live.journal");
    let o = Command::new(BIN)
        .args([
            "replay",
            journal.to_str().unwrap(),
            "--strategy",
            "market_maker",
            "--strategy-config",
            mm,
            "--queue",
            "conservative",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(strategy_lines(&text), lines, "{text}");
    assert_eq!(digest_of(&text), digest, "journal replay digest\n{text}");
    // The orders and fills are in the digest: without the strategy the journal gives another
    // one. FIFO cannot run on L2 books: refused, exit 2.
    assert_ne!(replay_digest(&journal), digest);
    let o = Command::new(BIN)
        .args([
            "replay",
            journal.to_str().unwrap(),
            "--strategy",
            "market_maker",
            "--strategy-config",
            mm,
            "--queue",
            "fifo",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("fifo") && err.contains("conservative"),
        "{err}"
    );
}

#[test]
fn coinbase_live_strategy_from_an_exec_config_and_its_journal_replay() {
    let dir = tmp_dir("coinbase-obi");
    // The queue model from an exec config beside the live config (found relative to it).
    std::fs::write(
        dir.join("exec.toml"),
        "[queue]\nmodel = \"probabilistic\"\n",
    )
    .unwrap();
    let (server, port) = serve(&["--format", "coinbase", COINBASE, "--linger-ms", "300"]);
    let cfg = config(
        &dir,
        "coinbase",
        port,
        FINITE,
        "[strategy]\nname = \"obi_taker\"\nexec_config = \"exec.toml\"\n",
    );
    let (live, _) = start_live(&cfg);
    let (out, stderr) = live.finish(Duration::from_secs(60));
    drop(server);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_exit(&out.status, &stdout, &stderr);
    let digest = digest_of(&stdout);
    let lines = strategy_lines(&stdout);
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(count_before(&stdout, "backtest:", "orders") > 0, "{stdout}");
    assert!(lines[2].contains("queue model probabilistic"), "{stdout}");
    let (s, levels) = summary(&dir);
    assert_eq!(levels["SKL-GBP"], coinbase_file().0);
    assert_eq!(s["book"]["strategy"], "obi_taker");

    let journal = dir.join("live.journal");
    let exec = dir.join("exec.toml");
    let o = Command::new(BIN)
        .args([
            "replay",
            journal.to_str().unwrap(),
            "--strategy",
            "obi_taker",
            "--exec-config",
            exec.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(strategy_lines(&text), lines, "{text}");
    assert_eq!(digest_of(&text), digest, "journal replay digest\n{text}");
    assert_ne!(replay_digest(&journal), digest);
    // --report is refused on a websocket journal, not ignored.
    let o = Command::new(BIN)
        .args([
            "replay",
            journal.to_str().unwrap(),
            "--strategy",
            "obi_taker",
            "--exec-config",
            exec.to_str().unwrap(),
            "--report",
            dir.join("report").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.join("report").exists());
}
