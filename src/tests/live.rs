//! End-to-end tests of `ticklane live`: `ticklane serve itch` publishes a capture on two
//! multicast lines with seeded faults and answers retransmission requests; the daemon, a child
//! process, must recover every gap and print the digest a file replay of the same capture
//! prints, and its journal must replay to that digest. Also: SIGINT, the metrics endpoint and
//! config errors.
//!
//! Multicast stays on this host: serve sends with IP_MULTICAST_IF 127.0.0.1 and TTL 0, the
//! daemon joins on 127.0.0.1, so nothing but `lo` is needed. Every test uses its own group and
//! free ports, so they run in parallel.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_ticklane");
const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/AAPL_2012-06-21_lobster10.itch"
);
const NASDAQ: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/itch/nasdaq-first-1000.itch"
);

fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ticklane-live-{}-{name}", std::process::id()));
    // A journal left by an earlier process of the same id would be continued, not replaced.
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Kills the child when the test ends, however it ends.
struct Guard(Option<Child>);

impl Guard {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().unwrap()
    }
    /// Waits at most `limit` for the child to exit by itself, then kills it.
    fn finish(mut self, limit: Duration) -> Output {
        let mut c = self.0.take().unwrap();
        let t = Instant::now();
        while c.try_wait().unwrap().is_none() && t.elapsed() < limit {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        c.wait_with_output().unwrap()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

use common::digest_in as digest_of;

fn replay_digest(path: &Path) -> String {
    let o = Command::new(BIN)
        .args(["replay", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    digest_of(&String::from_utf8_lossy(&o.stdout))
}

use common::count_before;

struct Feed {
    group: String,
    pa: u16,
    pb: u16,
    preq: u16,
}

impl Feed {
    fn new(group: &str) -> Self {
        Feed {
            group: group.into(),
            pa: free_udp_port(),
            pb: free_udp_port(),
            preq: free_udp_port(),
        }
    }

    fn config(&self, recv: &str, dir: &Path, extra: &str) -> PathBuf {
        let text = format!(
            "[[source]]\nkind = \"itch\"\nname = \"test\"\ngroup = \"{g}:{a}\"\nline_b = \"{g}:{b}\"\n\
             request_server = \"127.0.0.1:{r}\"\nrecv = \"{recv}\"\n\
             [journal]\npath = \"live.journal\"\nfsync = \"never\"\n{extra}",
            g = self.group,
            a = self.pa,
            b = self.pb,
            r = self.preq
        );
        let p = dir.join("live.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    fn serve(&self, file: &str, faults: &[&str], rate: &str) -> Guard {
        let mut args: Vec<String> = [
            "serve",
            "itch",
            file,
            "--group",
            &format!("{}:{}", self.group, self.pa),
            "--line-b",
            &format!("{}:{}", self.group, self.pb),
            "--rate",
            rate,
            "--request-port",
            &self.preq.to_string(),
            "--linger-ms",
            "1500",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(faults.iter().map(|s| s.to_string()));
        Guard(Some(
            Command::new(BIN)
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        ))
    }
}

/// Starts `live` and waits for its start-up line on stderr (sockets joined); returns the
/// guard and the stderr lines as they come.
fn start_live(config: &Path) -> (Guard, mpsc::Receiver<String>, Vec<String>) {
    let mut g = Guard(Some(
        Command::new(BIN)
            .args(["live", "--config", config.to_str().unwrap()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let err = g.child().stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(l) => {
                let ready = l.starts_with("live: source");
                seen.push(l);
                if ready {
                    return (g, rx, seen);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Ok(Some(_)) = g.child().try_wait() {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    let out = g.finish(Duration::from_secs(1));
    panic!(
        "live did not start: {}\n{}{}",
        out.status,
        seen.join("\n"),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn io_uring_unsupported(config: &Path) -> Option<String> {
    // The daemon's own probe decides; an unsupported kernel makes `recv = "io_uring"` fail
    // at start with the reason.
    let o = Command::new(BIN)
        .args(["live", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    (!o.status.success() && err.contains("recv = \"io_uring\"")).then_some(err)
}

/// Serve `file` with `faults`, run live with `recv`, and check the digests; returns live's
/// stdout.
fn live_round_trip(name: &str, group: &str, file: &str, faults: &[&str], recv: &str) -> String {
    let dir = tmp_dir(name);
    let feed = Feed::new(group);
    let config = feed.config(recv, &dir, "[metrics]\nenabled = false\n");
    if recv == "io_uring" {
        let probe_cfg = dir.join("probe.toml");
        std::fs::write(
            &probe_cfg,
            std::fs::read_to_string(&config)
                .unwrap()
                .replace("[journal]", "[run]\nmax_duration_s = 0.01\n[journal]"),
        )
        .unwrap();
        if let Some(why) = io_uring_unsupported(&probe_cfg) {
            eprintln!("skipping the io_uring run: the kernel probe says: {why}");
            return String::new();
        }
    }
    let (live, _err, _) = start_live(&config);
    let serve = feed.serve(file, faults, "20000");
    let out = live.finish(Duration::from_secs(30));
    let serve_out = serve.finish(Duration::from_secs(10));
    let serve_log = String::from_utf8_lossy(&serve_out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "live failed: {}\n{stdout}\n{}\n{serve_log}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("stopped by end of session, every gap closed"),
        "{stdout}\n{serve_log}"
    );
    assert_eq!(
        count_before(&stdout, "arbiter:", "skipped"),
        0,
        "nothing given up\n{stdout}"
    );
    assert_eq!(count_before(&stdout, "arbiter:", "missing"), 0, "{stdout}");
    let want_backend = if recv == "io_uring" {
        "receive:       io_uring"
    } else {
        "receive:       recvmmsg"
    };
    assert!(stdout.contains(want_backend), "{stdout}");
    let live_digest = digest_of(&stdout);
    assert_eq!(
        live_digest,
        replay_digest(Path::new(file)),
        "live digest = file replay digest\n{stdout}\n{serve_log}"
    );
    assert_eq!(
        replay_digest(&dir.join("live.journal")),
        live_digest,
        "the daemon's journal replays to its digest"
    );
    stdout
}

fn high_faults() -> Vec<&'static str> {
    // On ~25 packets a line, 30% drop loses some packet on both lines: only a retransmission
    // can fill it.
    vec![
        "--drop",
        "0.3",
        "--dup",
        "0.05",
        "--reorder",
        "0.05",
        "--seed",
        "7",
    ]
}

fn low_faults() -> Vec<&'static str> {
    vec![
        "--drop",
        "0.01",
        "--dup",
        "0.01",
        "--reorder",
        "0.01",
        "--seed",
        "3",
    ]
}

fn assert_recovered(stdout: &str) {
    if stdout.is_empty() {
        return; // skipped (io_uring unsupported)
    }
    assert!(
        count_before(stdout, "arbiter:", "recovered") > 0,
        "{stdout}"
    );
    assert!(count_before(stdout, "arbiter:", "requests") > 0, "{stdout}");
    assert!(count_before(stdout, "packets:", "retrans") > 0 || stdout.contains("retrans"));
}

#[test]
fn live_recvmmsg_recovers_every_gap_on_the_sample_at_30_percent_drop() {
    let out = live_round_trip("s30m", "239.255.81.1", SAMPLE, &high_faults(), "recvmmsg");
    assert_recovered(&out);
    assert!(out.contains("timestamps kernel SO_TIMESTAMPNS"), "{out}");
    assert!(out.contains("messages:      1039"), "{out}");
}

#[test]
fn live_io_uring_recovers_every_gap_on_the_sample_at_30_percent_drop() {
    let out = live_round_trip("s30u", "239.255.81.2", SAMPLE, &high_faults(), "io_uring");
    assert_recovered(&out);
}

#[test]
fn live_recvmmsg_matches_the_replay_on_the_sample_at_1_percent_faults() {
    live_round_trip("s1m", "239.255.81.3", SAMPLE, &low_faults(), "recvmmsg");
}

#[test]
fn live_io_uring_matches_the_replay_on_the_sample_at_1_percent_faults() {
    live_round_trip("s1u", "239.255.81.4", SAMPLE, &low_faults(), "io_uring");
}

#[test]
fn live_recvmmsg_on_real_nasdaq_data_at_1_and_30_percent() {
    live_round_trip("n1m", "239.255.81.5", NASDAQ, &low_faults(), "recvmmsg");
    let out = live_round_trip("n30m", "239.255.81.6", NASDAQ, &high_faults(), "recvmmsg");
    assert_recovered(&out);
}

#[test]
fn live_io_uring_on_real_nasdaq_data_at_1_and_30_percent() {
    live_round_trip("n1u", "239.255.81.7", NASDAQ, &low_faults(), "io_uring");
    let out = live_round_trip("n30u", "239.255.81.8", NASDAQ, &high_faults(), "io_uring");
    assert_recovered(&out);
}

fn signal(child: &Child, sig: &str) {
    let st = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

fn sigint(child: &Child) {
    signal(child, "-INT");
}

#[test]
fn sigint_stops_live_with_a_summary_and_a_journal_that_replays_to_its_digest() {
    interrupted_run("sigint", "239.255.82.1", "-INT");
}

#[test]
fn sigterm_stops_live_with_a_summary_and_a_journal_that_replays_to_its_digest() {
    interrupted_run("sigterm", "239.255.82.2", "-TERM");
}

fn interrupted_run(name: &str, group: &str, sig: &str) {
    let dir = tmp_dir(name);
    let feed = Feed::new(group);
    let config = feed.config(
        "auto",
        &dir,
        "[metrics]\nenabled = false\n[run]\nstop_at_end = false\n",
    );
    let (mut live, _err, _) = start_live(&config);
    // 1039 messages at 400/s: about 2.6 s of feed; interrupt once some packets are journaled
    // (flushed every 10 ms), well before the end.
    let serve = feed.serve(SAMPLE, &["--seed", "5"], "400");
    let journal = dir.join("live.journal");
    let t = Instant::now();
    while std::fs::metadata(&journal).map_or(0, |m| m.len()) < 4000 {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "no packets journaled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    signal(live.child(), sig);
    let out = live.finish(Duration::from_secs(10));
    drop(serve);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {}: {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("stopped by signal"), "{stdout}");
    let released = count_before(&stdout, "arbiter:", "released");
    assert!(
        released > 0 && released < 1039,
        "interrupted mid-feed: {released} released\n{stdout}"
    );
    assert!(stdout.contains("book events:"), "{stdout}");
    let d = digest_of(&stdout);
    assert_eq!(replay_digest(&dir.join("live.journal")), d);
    // And the interrupted run is not the whole file's digest.
    assert_ne!(d, replay_digest(Path::new(SAMPLE)));
}

/// `GET path` on `addr` as a one-shot client (`Connection: close`); the response's head and
/// body, or why there was none within `limit`.
fn http_get(addr: &str, path: &str, limit: Duration) -> Result<(String, String), String> {
    let mut s = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(limit)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)
        .map_err(|e| format!("{e} after {} bytes", resp.len()))?;
    let (head, body) = resp
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("not an HTTP response: {resp:?}"))?;
    Ok((head.to_owned(), body.to_owned()))
}

fn scrape(addr: &str) -> String {
    let (head, body) = http_get(addr, "/metrics", Duration::from_secs(5)).unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text; version=1.0.0"),
        "{head}"
    );
    body
}

/// The metrics address from live's start-up lines.
fn metrics_addr(seen: &[String]) -> String {
    seen.iter()
        .find_map(|l| l.strip_prefix("live: metrics at http://"))
        .and_then(|r| r.strip_suffix("/metrics"))
        .unwrap_or_else(|| panic!("no metrics address in {seen:?}"))
        .to_owned()
}

/// Connections that say nothing do not hold up a scrape (the endpoint once served one
/// connection at a time, waiting up to 2 s on each). A liveness bound, not a timing test.
#[test]
fn a_scrape_is_answered_while_idle_connections_are_open() {
    let dir = tmp_dir("idle");
    let feed = Feed::new("239.255.83.2");
    let config = feed.config(
        "recvmmsg",
        &dir,
        "[metrics]\nbind = \"127.0.0.1:0\"\n[run]\nstop_at_end = false\n",
    );
    let (mut live, _err, seen) = start_live(&config);
    let addr = metrics_addr(&seen);
    let idle: Vec<std::net::TcpStream> = (0..3)
        .map(|_| std::net::TcpStream::connect(&addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    let got = http_get(&addr, "/metrics", Duration::from_secs(2));
    let took = t.elapsed();
    let health = http_get(&addr, "/healthz", Duration::from_secs(2));
    let missing = http_get(&addr, "/nope", Duration::from_secs(2));
    drop(idle);
    sigint(live.child());
    let out = live.finish(Duration::from_secs(10));
    let (head, body) = got.unwrap_or_else(|e| panic!("no scrape answer within 2 s: {e}"));
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        body.contains("ticklane_packets_total{source=\"test\",line=\"A\"}"),
        "{body}"
    );
    let (head, body) = health.unwrap();
    assert!(
        head.starts_with("HTTP/1.1 200") && body == "ok\n",
        "{head}\n{body}"
    );
    let (head, _) = missing.unwrap();
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Checks the exposition line by line and returns `name{labels}` → value.
fn parse_exposition(text: &str) -> std::collections::BTreeMap<String, f64> {
    let mut samples = std::collections::BTreeMap::new();
    let (mut helps, mut types) = (0, 0);
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# ") {
            let kw = rest.split_whitespace().next().unwrap_or_default();
            match kw {
                "HELP" => helps += 1,
                "TYPE" => {
                    types += 1;
                    let t = rest.split_whitespace().nth(2).unwrap_or_default();
                    assert!(
                        ["counter", "gauge", "histogram", "info", "unknown"].contains(&t),
                        "{line}"
                    );
                }
                "EOF" | "UNIT" => {}
                _ => panic!("unexpected comment line {line:?}"),
            }
            continue;
        }
        assert!(!line.is_empty(), "empty line in the exposition");
        // name{labels} value  or  name value
        let (key, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line:?}"));
        let name_end = key.find('{').unwrap_or(key.len());
        let name = &key[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name in {line:?}"
        );
        if name_end < key.len() {
            assert!(key.ends_with('}'), "{line:?}");
            for pair in key[name_end + 1..key.len() - 1].split("\",") {
                let (k, v) = pair.split_once("=\"").unwrap_or_else(|| panic!("{line:?}"));
                assert!(!k.is_empty() && !v.contains('\n'), "{line:?}");
            }
        }
        let v: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("value not a number in {line:?}"));
        samples.insert(key.to_owned(), v);
    }
    assert!(helps > 5 && helps == types, "HELP {helps} TYPE {types}");
    samples
}

fn sum_of(samples: &std::collections::BTreeMap<String, f64>, name: &str) -> f64 {
    samples
        .iter()
        .filter(|(k, _)| k.split('{').next() == Some(name))
        .map(|(_, v)| v)
        .sum()
}

#[test]
fn metrics_endpoint_serves_growing_counters_during_a_run() {
    let dir = tmp_dir("metrics");
    let feed = Feed::new("239.255.83.1");
    let config = feed.config(
        "recvmmsg",
        &dir,
        "[metrics]\nbind = \"127.0.0.1:0\"\n[run]\nstop_at_end = false\n",
    );
    let (mut live, _err, seen) = start_live(&config);
    let addr = metrics_addr(&seen);
    let serve = feed.serve(SAMPLE, &["--seed", "9"], "400");
    // First scrape once packets are flowing (the feed lasts about 2.6 s from then).
    let t = Instant::now();
    let first = loop {
        let m = parse_exposition(&scrape(&addr));
        if sum_of(&m, "ticklane_packets_total") > 0.0 {
            break m;
        }
        assert!(t.elapsed() < Duration::from_secs(20), "no packets counted");
        std::thread::sleep(Duration::from_millis(50));
    };
    std::thread::sleep(Duration::from_millis(800));
    let second_text = scrape(&addr);
    let second = parse_exposition(&second_text);
    sigint(live.child());
    let out = live.finish(Duration::from_secs(10));
    drop(serve);
    assert!(out.status.success());
    let (p1, p2) = (
        sum_of(&first, "ticklane_packets_total"),
        sum_of(&second, "ticklane_packets_total"),
    );
    let (m1, m2) = (
        sum_of(&first, "ticklane_messages_total"),
        sum_of(&second, "ticklane_messages_total"),
    );
    assert!(p1 > 0.0 && p2 > p1, "packets {p1} then {p2}\n{second_text}");
    assert!(m1 > 0.0 && m2 > m1, "messages {m1} then {m2}");
    // Families present, labelled by source.
    for key in [
        "ticklane_packets_total{source=\"test\",line=\"A\"}",
        "ticklane_gaps_total{source=\"test\"}",
        "ticklane_conflicts_total{source=\"test\"}",
        "ticklane_rejected_datagrams_total{source=\"test\"}",
        "ticklane_resyncs_total{source=\"test\"}",
        "ticklane_ring_occupancy_bytes{source=\"test\"}",
        "ticklane_stage_latency_ns{source=\"test\",stage=\"process\",quantile=\"0.99\"}",
    ] {
        assert!(second.contains_key(key), "{key} missing in\n{second_text}");
    }
    assert!(
        second
            .keys()
            .any(|k| k.starts_with("ticklane_messages_total{source=\"test\",type=\"A\"}")),
        "{second_text}"
    );
    let aapl = second
        .iter()
        .find(|(k, _)| {
            k.starts_with("ticklane_book_staleness_seconds") && k.contains("symbol=\"AAPL\"")
        })
        .unwrap_or_else(|| panic!("no AAPL staleness in\n{second_text}"));
    assert!(*aapl.1 >= 0.0 && *aapl.1 < 60.0, "{aapl:?}");
    assert!(
        sum_of(&second, "ticklane_stage_latency_samples_total") > 0.0,
        "latency published within the run\n{second_text}"
    );
}

fn live_fails(config_text: Option<&str>, name: &str) -> (i32, String) {
    let dir = tmp_dir(name);
    let p = dir.join("bad.toml");
    if let Some(t) = config_text {
        std::fs::write(&p, t).unwrap();
    }
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
fn config_errors_are_clear_and_exit_non_zero() {
    let (code, err) = live_fails(
        Some("[[source]]\nkind = \"itch\"\ngroup = \"239.255.84.1:5000\"\nrecv_bufer = 1\n"),
        "unknown",
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("recv_bufer") && err.contains("bad.toml"),
        "{err}"
    );
    let (code, err) = live_fails(
        Some("[[source]]\nkind = \"itch\"\ngroup = \"239.255.84.1:notaport\"\n"),
        "badaddr",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("group"), "{err}");
    let (code, err) = live_fails(
        Some("[[source]]\nkind = \"itch\"\ngroup = \"192.0.2.1:5000\"\n"),
        "unicast",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a multicast group"), "{err}");
    let (code, err) = live_fails(
        Some("[[source]]\nkind = \"itch\"\ngroup = \"239.255.84.1:5000\"\n[strategy]\nname = \"nope\"\n"),
        "strategy",
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown strategy \"nope\""), "{err}");
    let (code, err) = live_fails(None, "missing");
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("cannot read") && err.contains("bad.toml"),
        "{err}"
    );
}

#[test]
fn threaded_pipeline_with_a_strategy_and_bbo_csv_matches_the_file_replay() {
    let dir = tmp_dir("threads");
    let feed = Feed::new("239.255.85.1");
    let config = feed.config(
        "recvmmsg",
        &dir,
        "[metrics]\nenabled = false\n[pipeline]\nmode = \"threads\"\nshards = 2\n\
         [strategy]\nname = \"obi_taker\"\n[strategy.params]\nthreshold = 0.5\n\
         [sinks]\nbbo_csv = \"live-bbo.csv\"\n",
    );
    // Not the default threshold (0.6): the journal replay must be given the live run's keys.
    std::fs::write(dir.join("obi.toml"), "threshold = 0.5\n").unwrap();
    let (live, _err, _) = start_live(&config);
    let serve = feed.serve(SAMPLE, &high_faults(), "20000");
    let out = live.finish(Duration::from_secs(30));
    drop(serve);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("pipeline:      ingest→book"), "{stdout}");
    assert!(
        stdout.contains("strategy:") || stdout.contains("signals"),
        "{stdout}"
    );
    let d = digest_of(&stdout);
    let file_bbo = dir.join("file-bbo.csv");
    let run = |args: &[&str]| {
        let o = Command::new(BIN).args(args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        digest_of(&String::from_utf8_lossy(&o.stdout))
    };
    let strat_cfg = dir.join("obi.toml");
    let file_digest = run(&[
        "replay",
        SAMPLE,
        "--strategy",
        "obi_taker",
        "--strategy-config",
        strat_cfg.to_str().unwrap(),
        "--bbo-csv",
        file_bbo.to_str().unwrap(),
    ]);
    assert_eq!(d, file_digest, "threaded live with obi_taker = file replay");
    // Without the strategy the digest differs: the strategy's signals are in it.
    assert_ne!(d, replay_digest(Path::new(SAMPLE)));
    let journal_digest = run(&[
        "replay",
        dir.join("live.journal").to_str().unwrap(),
        "--strategy",
        "obi_taker",
        "--strategy-config",
        strat_cfg.to_str().unwrap(),
    ]);
    assert_eq!(journal_digest, d);
    // Without the live run's keys the journal replays another strategy: another digest.
    let default_keys = run(&[
        "replay",
        dir.join("live.journal").to_str().unwrap(),
        "--strategy",
        "obi_taker",
    ]);
    assert_ne!(default_keys, d);
    // Backtest-only options are refused on an ITCH journal, not ignored.
    let o = Command::new(BIN)
        .args([
            "replay",
            dir.join("live.journal").to_str().unwrap(),
            "--strategy",
            "obi_taker",
            "--queue",
            "conservative",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--queue is not available"));
    let live_bbo = std::fs::read_to_string(dir.join("live-bbo.csv")).unwrap();
    let file_bbo = std::fs::read_to_string(&file_bbo).unwrap();
    assert!(live_bbo.lines().count() > 100, "{}", live_bbo.len());
    assert_eq!(
        live_bbo, file_bbo,
        "the BBO CSV sink writes what the replay writes"
    );
}

#[test]
fn a_looped_feed_continues_the_sequence_and_is_recovered() {
    let dir = tmp_dir("loop");
    let feed = Feed::new("239.255.86.1");
    let config = feed.config("recvmmsg", &dir, "[metrics]\nenabled = false\n");
    let (live, _err, _) = start_live(&config);
    let mut faults = high_faults();
    faults.extend(["--loop", "3"]);
    let serve = feed.serve(SAMPLE, &faults, "40000");
    let out = live.finish(Duration::from_secs(30));
    drop(serve);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    assert_eq!(
        count_before(&stdout, "arbiter:", "released"),
        3 * 1039,
        "{stdout}"
    );
    assert_eq!(count_before(&stdout, "arbiter:", "skipped"), 0, "{stdout}");
    assert!(
        count_before(&stdout, "arbiter:", "recovered") > 0,
        "{stdout}"
    );
    assert_eq!(replay_digest(&dir.join("live.journal")), digest_of(&stdout));
}

/// `serve itch` on two lines with 30% of the packets held back on each: the daemon's digest is
/// the file's and nothing conflicts, for 10 seeds (a held packet once went out under the other
/// line's sequence number: a conflicting copy, and a wrong book when it came first).
#[test]
fn live_matches_the_file_at_30_percent_reorder_on_both_lines_for_10_seeds() {
    let want = replay_digest(Path::new(SAMPLE));
    for seed in 1..=10u32 {
        let dir = tmp_dir(&format!("reorder{seed}"));
        let feed = Feed::new(&format!("239.255.87.{seed}"));
        // Both receive backends (auto picks io_uring where the kernel has it).
        let recv = if seed % 2 == 0 { "recvmmsg" } else { "auto" };
        let config = feed.config(recv, &dir, "[metrics]\nenabled = false\n");
        let (live, _err, _) = start_live(&config);
        let seed_arg = seed.to_string();
        let serve = feed.serve(SAMPLE, &["--reorder", "0.3", "--seed", &seed_arg], "20000");
        let out = live.finish(Duration::from_secs(30));
        drop(serve);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "seed {seed}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains("stopped by end of session, every gap closed"),
            "seed {seed}: {stdout}"
        );
        assert_eq!(
            count_before(&stdout, "arbiter:", "conflicting"),
            0,
            "seed {seed}: {stdout}"
        );
        assert_eq!(digest_of(&stdout), want, "seed {seed}: {stdout}");
        assert_eq!(
            replay_digest(&dir.join("live.journal")),
            want,
            "seed {seed}"
        );
    }
}

/// The sample's messages.
fn sample_messages() -> Vec<Vec<u8>> {
    let data = std::fs::read(SAMPLE).unwrap();
    let mut r = ticklane_feeds::itch::framing::FrameReader::new(&data[..]);
    let mut msgs = Vec::new();
    while let Some(f) = r.next_frame() {
        msgs.push(f.unwrap().bytes.to_vec());
    }
    msgs
}

/// Messages `first..end` (sequence numbers from 1) of `msgs` in MoldUDP64 packets of at most
/// 1400 bytes.
fn pack(session: [u8; 10], msgs: &[Vec<u8>], first: u64, end: u64) -> Vec<Vec<u8>> {
    use ticklane_feeds::moldudp64::PacketBuilder;
    let mut out = Vec::new();
    let mut seq = first;
    while seq < end {
        let mut buf = Vec::new();
        let mut b = PacketBuilder::new(session, seq, 1400);
        while seq < end && b.push(&mut buf, &msgs[(seq - 1) as usize]) {
            seq += 1;
        }
        b.finish(&mut buf);
        out.push(buf);
    }
    out
}

/// The sample in MoldUDP64 packets, and the next sequence number after the last.
fn sample_packets(session: [u8; 10]) -> (Vec<Vec<u8>>, u64) {
    let msgs = sample_messages();
    let end = msgs.len() as u64 + 1;
    (pack(session, &msgs, 1, end), end)
}

/// A UDP socket that sends multicast on 127.0.0.1 (TTL 0), as `serve itch` does.
fn multicast_sender() -> std::net::UdpSocket {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    s.set_multicast_if_v4(&std::net::Ipv4Addr::LOCALHOST)
        .unwrap();
    s.set_multicast_loop_v4(true).unwrap();
    s.set_multicast_ttl_v4(0).unwrap();
    s.bind(&std::net::SocketAddr::from((std::net::Ipv4Addr::UNSPECIFIED, 0)).into())
        .unwrap();
    s.into()
}

/// Line B repeats line A's packets, two of them with a message changed: the daemon keeps A's
/// copies (the file's digest), counts the two as conflicting rather than duplicate, journals
/// them, and the journal's replay finds the same two and prints the same digest.
#[test]
fn a_copy_with_other_bytes_is_counted_as_a_conflict_journaled_and_replayed() {
    let dir = tmp_dir("conflict");
    let feed = Feed::new("239.255.88.1");
    let config = feed.config("auto", &dir, "[metrics]\nenabled = false\n");
    let session = *b"CONFLICT01";
    let (packets, next) = sample_packets(session);
    let (live, _err, _) = start_live(&config);
    let tx = multicast_sender();
    let a = format!("{}:{}", feed.group, feed.pa);
    let b = format!("{}:{}", feed.group, feed.pb);
    for p in &packets {
        tx.send_to(p, &a).unwrap();
    }
    // Let A's copies be released first, then repeat them on B with the last byte of the first
    // message of packets 3 and 7 changed.
    std::thread::sleep(Duration::from_millis(200));
    for (i, p) in packets.iter().enumerate() {
        let mut p = p.clone();
        if i == 3 || i == 7 {
            let len = usize::from(u16::from_be_bytes([p[20], p[21]]));
            p[22 + len - 1] ^= 0xff;
        }
        tx.send_to(&p, &b).unwrap();
    }
    let eos = ticklane_feeds::moldudp64::end_of_session(session, next);
    tx.send_to(&eos, &a).unwrap();
    tx.send_to(&eos, &b).unwrap();
    let out = live.finish(Duration::from_secs(30));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        count_before(&stdout, "arbiter:", "conflicting"),
        2,
        "{stdout}"
    );
    assert_eq!(
        count_before(&stdout, "arbiter:", "duplicates"),
        1037,
        "{stdout}"
    );
    let d = digest_of(&stdout);
    assert_eq!(d, replay_digest(Path::new(SAMPLE)), "A's copies were kept");
    let o = Command::new(BIN)
        .args(["replay", dir.join("live.journal").to_str().unwrap()])
        .output()
        .unwrap();
    let replayed = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        replayed.contains("1037 duplicates, 2 conflicting (2 journaled)"),
        "{replayed}"
    );
    assert_eq!(digest_of(&replayed), d);
}

/// A packet lost on both lines is requested; before the request server answers, a valid
/// MoldUDP64 packet carrying a trade at the missing sequence number reaches the daemon's
/// request socket from another port of this host. The daemon ignores and counts it, takes the
/// server's answer, and ends with the file's digest (the forged trade is in neither the book
/// nor the journal).
fn forged_retransmission_is_ignored_and_counted(name: &str, group: &str, recv: &str) {
    use ticklane_feeds::moldudp64::{end_of_session, parse_request, PacketBuilder};
    let dir = tmp_dir(name);
    let feed = Feed::new(group);
    let config = feed.config(recv, &dir, "[metrics]\nenabled = false\n");
    if recv == "io_uring" {
        let probe_cfg = dir.join("probe.toml");
        std::fs::write(
            &probe_cfg,
            std::fs::read_to_string(&config)
                .unwrap()
                .replace("[journal]", "[run]\nmax_duration_s = 0.01\n[journal]"),
        )
        .unwrap();
        if let Some(why) = io_uring_unsupported(&probe_cfg) {
            eprintln!("skipping the io_uring run: the kernel probe says: {why}");
            return;
        }
    }
    // This test is the request server; the forger is another port on the same host.
    let server = std::net::UdpSocket::bind(("127.0.0.1", feed.preq)).unwrap();
    server
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let forger = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let session = *b"FORGERY001";
    let msgs = sample_messages();
    let end = msgs.len() as u64 + 1;
    let packets = pack(session, &msgs, 1, end);
    let (mut live, _err, _) = start_live(&config);
    let tx = multicast_sender();
    let lost = 5;
    for dest in [
        format!("{}:{}", feed.group, feed.pa),
        format!("{}:{}", feed.group, feed.pb),
    ] {
        for (i, p) in packets.iter().enumerate() {
            if i != lost {
                tx.send_to(p, &dest).unwrap();
            }
        }
        tx.send_to(&end_of_session(session, end), &dest).unwrap();
    }
    let (mut requests, mut forged) = (0, 0);
    let mut buf = [0u8; 2048];
    let t = Instant::now();
    while live.child().try_wait().unwrap().is_none() && t.elapsed() < Duration::from_secs(20) {
        let Ok((n, from)) = server.recv_from(&mut buf) else {
            continue;
        };
        let (s, seq, count) = parse_request(&buf[..n]).unwrap();
        assert_eq!(s, session);
        requests += 1;
        if forged == 0 {
            // A non-cross trade ('P', 44 bytes) of 100 AAPL at 1.0000 on the missing message's
            // instrument.
            let m = &msgs[(seq - 1) as usize];
            let mut trade = vec![b'P'];
            trade.extend_from_slice(&m[1..3]); // stock locate
            trade.extend_from_slice(&[0, 0]); // tracking number
            trade.extend_from_slice(&m[5..11]); // timestamp
            trade.extend_from_slice(&7u64.to_be_bytes()); // order reference
            trade.push(b'B');
            trade.extend_from_slice(&100u32.to_be_bytes());
            trade.extend_from_slice(b"AAPL    ");
            trade.extend_from_slice(&10_000u32.to_be_bytes());
            trade.extend_from_slice(&99u64.to_be_bytes()); // match number
            assert_eq!(trade.len(), 44);
            let mut p = Vec::new();
            let mut b = PacketBuilder::new(session, seq, 1400);
            assert!(b.push(&mut p, &trade));
            b.finish(&mut p);
            forger.send_to(&p, from).unwrap();
            forged += 1;
        }
        for p in pack(session, &msgs, seq, (seq + u64::from(count)).min(end)) {
            server.send_to(&p, from).unwrap();
        }
    }
    let out = live.finish(Duration::from_secs(10));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(requests > 0 && forged == 1, "{requests} requests\n{stdout}");
    assert!(
        stdout.contains("stopped by end of session, every gap closed"),
        "{stdout}"
    );
    let d = digest_of(&stdout);
    assert_eq!(
        d,
        replay_digest(Path::new(SAMPLE)),
        "no forged trade\n{stdout}"
    );
    assert_eq!(replay_digest(&dir.join("live.journal")), d);
    assert_eq!(count_before(&stdout, "receive:", "rejected"), 1, "{stdout}");
    assert!(
        count_before(&stdout, "arbiter:", "recovered") > 0,
        "{stdout}"
    );
}

#[test]
fn a_forged_retransmission_is_ignored_and_counted_with_recvmmsg() {
    forged_retransmission_is_ignored_and_counted("forgem", "239.255.89.1", "recvmmsg");
}

#[test]
fn a_forged_retransmission_is_ignored_and_counted_with_io_uring() {
    forged_retransmission_is_ignored_and_counted("forgeu", "239.255.89.2", "io_uring");
}

/// The `messages:` count of a replay's summary (messages released to the books).
fn messages_in(stdout: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("messages:"))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no messages: line in\n{stdout}"))
}

fn replay_out(path: &Path) -> String {
    let o = Command::new(BIN)
        .args(["replay", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// `kill -9` of the daemon mid-stream at 60 000 msgs/s: every message it had released (its
/// `/metrics` count, scraped just before the kill; released messages are counted after their
/// packet was written) is in the journal, and the journal's replay says its end record is
/// missing. A journal flushed from a buffer every 100 ms lost thousands here.
#[test]
fn kill_9_mid_stream_loses_nothing_released_and_the_replay_says_the_end_is_missing() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tmp_dir("kill9");
    let feed = Feed::new("239.255.88.1");
    let config = feed.config(
        "auto",
        &dir,
        "[metrics]\nbind = \"127.0.0.1:0\"\n[run]\nstop_at_end = false\n",
    );
    let (mut live, _err, seen) = start_live(&config);
    let addr = metrics_addr(&seen);
    // The sample 200 times over (207 800 messages) at 60 000 msgs/s: about 3.5 s of feed.
    let total = 200 * 1039;
    let serve = feed.serve(SAMPLE, &["--loop", "200"], "60000");
    let released = |text: &str| sum_of(&parse_exposition(text), "ticklane_messages_total") as u64;
    let t = Instant::now();
    let before_kill = loop {
        let n = released(&scrape(&addr));
        if n >= 30_000 {
            break n;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the feed did not flow: {n} released"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    signal(live.child(), "-KILL");
    let out = live.finish(Duration::from_secs(10));
    drop(serve);
    assert_eq!(out.status.signal(), Some(9), "{}", out.status);
    let text = replay_out(&dir.join("live.journal"));
    let journaled = messages_in(&text);
    assert!(
        journaled >= before_kill,
        "the journal holds {journaled} messages, the daemon had released {before_kill}\n{text}"
    );
    assert!(journaled < total, "killed mid-stream: {journaled}\n{text}");
    assert!(
        text.contains("journal ends without its end record: the daemon did not stop cleanly"),
        "{text}"
    );
}

/// Restarting the daemon twice on the same journal path: each run continues the journal in a
/// new segment (the first segment is never touched again), each segment alone replays to its
/// run's digest, and the whole journal replays the three sessions one after the other: the
/// digest of a replay of the file three times over.
#[test]
fn restarts_continue_the_journal_in_new_segments_and_its_replay_is_the_combined_digest() {
    let dir = tmp_dir("restart");
    let feed = Feed::new("239.255.88.2");
    let config = feed.config("recvmmsg", &dir, "[metrics]\nenabled = false\n");
    let file_digest = replay_digest(Path::new(SAMPLE));
    let journal = dir.join("live.journal");
    let mut first = Vec::new();
    for run in 0..3 {
        let (live, _err, _) = start_live(&config);
        let serve = feed.serve(SAMPLE, &low_faults(), "20000");
        let out = live.finish(Duration::from_secs(30));
        drop(serve);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "run {run}: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(digest_of(&stdout), file_digest, "run {run}: {stdout}");
        assert!(
            stdout.contains(&format!("segment {run}, last")),
            "run {run}: {stdout}"
        );
        if run == 0 {
            first = std::fs::read(&journal).unwrap();
        } else {
            assert_eq!(
                std::fs::read(&journal).unwrap(),
                first,
                "run {run} kept segment 0"
            );
        }
    }
    let seg2 = dir.join("live.journal.2");
    assert!(dir.join("live.journal.1").exists() && seg2.exists());
    assert_eq!(replay_digest(&seg2), file_digest);
    let tripled = dir.join("sample-x3.itch");
    std::fs::write(&tripled, std::fs::read(SAMPLE).unwrap().repeat(3)).unwrap();
    let want = replay_digest(&tripled);
    assert_ne!(want, file_digest);
    let text = replay_out(&journal);
    assert_eq!(digest_of(&text), want, "{text}");
    assert_eq!(messages_in(&text), 3 * 1039, "{text}");
    assert!(text.contains("3 segments (2 restarts)"), "{text}");
    assert!(!text.contains("without its end record"), "{text}");
}

/// Every socket and port is bound before any file is created: a daemon refused for a busy
/// metrics port leaves nothing behind. And `on_exists = "refuse"` with a journal present
/// refuses to start (exit 2) and leaves the journal as it was.
#[test]
fn a_daemon_refused_for_a_busy_port_leaves_no_file_and_refuse_keeps_the_journal() {
    let dir = tmp_dir("busy");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let feed = Feed::new("239.255.88.3");
    let config = feed.config(
        "recvmmsg",
        &dir,
        &format!("[metrics]\nbind = \"127.0.0.1:{port}\"\n[sinks]\nbbo_csv = \"bbo.csv\"\n"),
    );
    let files = || {
        let mut v: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let o = Command::new(BIN)
        .args(["live", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("[metrics] bind = \"127.0.0.1:{port}\"")),
        "{err}"
    );
    assert_eq!(files(), vec!["live.toml"], "{err}");
    drop(busy);

    std::fs::write(dir.join("live.journal"), b"an earlier run").unwrap();
    let config = feed.config(
        "recvmmsg",
        &dir,
        "on_exists = \"refuse\"\n[metrics]\nenabled = false\n",
    );
    let o = Command::new(BIN)
        .args(["live", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("on_exists = \"refuse\""), "{err}");
    assert_eq!(
        std::fs::read(dir.join("live.journal")).unwrap(),
        b"an earlier run"
    );
    assert_eq!(files(), vec!["live.journal", "live.toml"]);
}

/// A journal rolled by size: `segment_bytes = 65536` splits the run's journal (the sample
/// looped 3 times, about 150 KB) into several segments (each closed, each after the first
/// marked as continuing the run), and the replay of the first one goes through all of them
/// with one arbiter, to the daemon's digest: that of the file written three times over.
#[test]
fn a_journal_rolled_by_size_replays_across_its_segments_to_the_live_digest() {
    let dir = tmp_dir("roll");
    let feed = Feed::new("239.255.88.4");
    let config = feed.config(
        "recvmmsg",
        &dir,
        "segment_bytes = 65536\n[metrics]\nenabled = false\n",
    );
    let (live, _err, _) = start_live(&config);
    let mut faults = high_faults();
    faults.extend(["--loop", "3"]);
    let serve = feed.serve(SAMPLE, &faults, "40000");
    let out = live.finish(Duration::from_secs(30));
    drop(serve);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}");
    let tripled = dir.join("sample-x3.itch");
    std::fs::write(&tripled, std::fs::read(SAMPLE).unwrap().repeat(3)).unwrap();
    let want = replay_digest(&tripled);
    assert_eq!(digest_of(&stdout), want, "{stdout}");
    assert!(dir.join("live.journal.1").exists(), "{stdout}");
    assert!(stdout.contains("segments 0..="), "{stdout}");
    let text = replay_out(&dir.join("live.journal"));
    assert_eq!(digest_of(&text), want, "{text}");
    assert!(text.contains(" segments (0 restarts)"), "{text}");
    assert!(
        !text.contains("not closed") && !text.contains("without its end record"),
        "{text}"
    );
}

/// `/healthz` answers from the start; `/readyz` is 503 with its reason until the first packet
/// arrives, then 200; `/metrics` carries the build's version.
#[test]
fn readyz_turns_ready_once_packets_arrive_and_build_info_is_served() {
    let dir = tmp_dir("readyz");
    let feed = Feed::new("239.255.83.7");
    let config = feed.config(
        "recvmmsg",
        &dir,
        "[metrics]\nbind = \"127.0.0.1:0\"\n[run]\nstop_at_end = false\n",
    );
    let (mut live, _err, seen) = start_live(&config);
    let addr = metrics_addr(&seen);
    let (head, body) = http_get(&addr, "/healthz", Duration::from_secs(5)).unwrap();
    assert!(
        head.starts_with("HTTP/1.1 200") && body == "ok\n",
        "{head}{body}"
    );
    let (head, body) = http_get(&addr, "/readyz", Duration::from_secs(5)).unwrap();
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert_eq!(body, "not ready: source test: no packet received yet\n");
    let serve = feed.serve(SAMPLE, &["--seed", "9"], "400");
    let t = Instant::now();
    loop {
        let (head, body) = http_get(&addr, "/readyz", Duration::from_secs(5)).unwrap();
        if head.starts_with("HTTP/1.1 200") {
            assert_eq!(body, "ready\n");
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(20), "never ready: {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let m = scrape(&addr);
    let want = format!(
        "ticklane_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    assert!(m.contains(&want), "{m}");
    sigint(live.child());
    let out = live.finish(Duration::from_secs(10));
    drop(serve);
    assert!(out.status.success());
}
