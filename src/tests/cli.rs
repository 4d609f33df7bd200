//! End-to-end tests of the `ticklane` binary: what a person sees for good, bad, garbled,
//! truncated and compressed inputs, and the exit codes scripts rely on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

fn tmp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("ticklane-cli-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let p = tmp_dir().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
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

/// Byte offsets of every frame start, walked independently of the library.
fn frame_offsets(data: &[u8]) -> Vec<usize> {
    let mut v = Vec::new();
    let mut i = 0;
    while i + 2 <= data.len() {
        v.push(i);
        i += 2 + usize::from(u16::from_be_bytes([data[i], data[i + 1]]));
    }
    v
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn replay_prints_summary_and_digest_last() {
    let o = ticklane(&["replay", SAMPLE]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for want in [
        "messages:",
        "by type:",
        "symbols:",
        "book events:",
        "trades:",
        "final BBO",
        "elapsed:",
        "throughput:",
    ] {
        assert!(out.contains(want), "summary lacks {want:?}:\n{out}");
    }
    assert!(out.contains("AAPL"), "{out}");
    digest_of(&o);
}

#[test]
fn same_input_same_digest_and_gzip_is_detected_by_content() {
    let data = std::fs::read(SAMPLE).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&data).unwrap();
    // Deliberately no .gz suffix: detection is by magic bytes.
    let p = write_tmp("sample-compressed.itch", &gz.finish().unwrap());
    let a = digest_of(&ticklane(&["replay", SAMPLE]));
    let b = digest_of(&ticklane(&["replay", SAMPLE]));
    let c = digest_of(&ticklane(&["replay", path(&p)]));
    assert_eq!(a, b);
    assert_eq!(a, c);
}

#[test]
fn missing_file_is_exit_3_and_named() {
    let o = ticklane(&["replay", "no/such/file.itch"]);
    assert_eq!(o.status.code(), Some(3));
    let e = stderr(&o);
    assert!(
        e.contains("no/such/file.itch") && e.contains("no such file"),
        "{e}"
    );
}

#[test]
fn wrong_format_is_exit_3() {
    let csv = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
    );
    // A LOBSTER file name is replayed as LOBSTER; forced to ITCH it is rejected as not ITCH.
    let o = ticklane(&["replay", csv, "--format", "itch"]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    assert!(stderr(&o).contains("not an ITCH 5.0"), "{}", stderr(&o));
    // A LOBSTER-named file that is not LOBSTER.
    let p = write_tmp(
        "XYZ_2012-06-21_34200000_57600000_message_1.csv",
        b"not,lobster\n",
    );
    let o = ticklane(&["replay", path(&p)]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("no valid LOBSTER message row"),
        "{}",
        stderr(&o)
    );
    // Pure garbage, too.
    let noise: Vec<u8> = (0u32..4096)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let p = write_tmp("noise.bin", &noise);
    let o = ticklane(&["replay", path(&p)]);
    assert_eq!(o.status.code(), Some(3));
}

#[test]
fn truncated_tail_is_reported_with_its_offset() {
    let data = std::fs::read(NASDAQ).unwrap();
    let offsets = frame_offsets(&data);
    let last = *offsets.last().unwrap();
    // Cut the last frame in half.
    let cut = &data[..last + 6];
    let p = write_tmp("truncated.itch", cut);
    let o = ticklane(&["replay", path(&p)]);
    assert!(
        o.status.success(),
        "a truncated tail still replays what precedes it"
    );
    let e = stderr(&o);
    assert!(
        e.contains(&format!("at byte {last}")),
        "offset {last} not in: {e}"
    );
    assert!(
        stdout(&o).contains(&format!("messages:      {} ", offsets.len() - 1)),
        "{}",
        stdout(&o)
    );
    let o = ticklane(&["replay", path(&p), "--strict"]);
    assert_eq!(o.status.code(), Some(4));
}

#[test]
fn garbage_in_the_middle_is_skipped_counted_and_the_rest_replayed() {
    let data = std::fs::read(NASDAQ).unwrap();
    let offsets = frame_offsets(&data);
    let at = offsets[500];
    let mut bad = data[..at].to_vec();
    bad.extend_from_slice(&[0xFF; 37]);
    bad.extend_from_slice(&data[at..]);
    let p = write_tmp("garbled.itch", &bad);
    let o = ticklane(&["replay", path(&p)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("messages:      1000 "),
        "every real message is still replayed:\n{out}"
    );
    assert!(out.contains("garbage regions 1 / 37 bytes"), "{out}");
    // And the result equals the clean replay's.
    assert_eq!(digest_of(&o), digest_of(&ticklane(&["replay", NASDAQ])));
}

#[test]
fn summary_json_and_bbo_csv() {
    let d = tmp_dir();
    let json = d.join("summary.json");
    let csv = d.join("bbo.csv");
    let o = ticklane(&[
        "replay",
        SAMPLE,
        "--summary-json",
        path(&json),
        "--bbo-csv",
        path(&csv),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["digest"].as_str().unwrap(), digest_of(&o));
    assert!(v["messages"].as_u64().unwrap() > 1000);
    assert!(v["elapsed_s"].as_f64().is_some());
    assert!(v["msgs_per_sec"].as_f64().is_some());
    let csv = std::fs::read_to_string(&csv).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("ts_exch_ns,symbol,bid_px,bid_qty,ask_px,ask_qty")
    );
    let n = lines.count() as u64;
    assert_eq!(
        n,
        v["bbo_changes"].as_u64().unwrap(),
        "one CSV row per reported BBO change"
    );
}

#[test]
fn symbols_restrict_output_not_decoding() {
    let all = ticklane(&["replay", SAMPLE]);
    let other = ticklane(&["replay", SAMPLE, "--symbols", "MSFT"]);
    let aapl = ticklane(&["replay", SAMPLE, "--symbols", "aapl"]);
    assert!(aapl.status.success(), "{}", stderr(&aapl));
    // MSFT is not in the file: the summary and digest are still printed, with exit 3.
    assert_eq!(other.status.code(), Some(3), "{}", stderr(&other));
    assert_eq!(digest_of(&all), digest_of(&aapl), "AAPL is the only symbol");
    assert_ne!(
        digest_of(&all),
        digest_of(&other),
        "nothing of MSFT to digest"
    );
    let out = stdout(&other);
    assert!(out.contains("book events:"), "{out}");
    assert!(out.contains("bbo changes:   0"), "{out}");
    assert!(!out.contains("final BBO"), "{out}");
}

#[test]
fn help_explains_replay() {
    let o = ticklane(&["replay", "--help"]);
    let out = stdout(&o);
    for want in [
        "--symbols",
        "--bbo-csv",
        "--summary-json",
        "--strict",
        "gzip",
    ] {
        assert!(out.contains(want), "{want} missing from --help:\n{out}");
    }
}

const LOB_MSG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
);
const LOB_OB: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
);

#[test]
fn lobster_check_passes_and_a_corrupted_row_fails_with_exit_5() {
    let o = ticklane(&["replay", LOB_MSG, "--check", LOB_OB]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("999 rows compared at 10 levels a side, 999 equal, 0 differ"),
        "{}",
        stdout(&o)
    );
    // The LOBSTER path and the re-encoded ITCH file give one digest.
    assert_eq!(digest_of(&o), digest_of(&ticklane(&["replay", SAMPLE])));

    let ob = std::fs::read_to_string(LOB_OB).unwrap();
    let mut lines: Vec<String> = ob.lines().map(str::to_owned).collect();
    lines[41] = lines[41].replacen(',', ",1", 1); // row 42: ask size gains a leading 1
    let p = write_tmp(
        "AAPL_2012-06-21_34200000_57600000_orderbook_10.csv",
        (lines.join("\n") + "\n").as_bytes(),
    );
    let o = ticklane(&["replay", LOB_MSG, "--check", path(&p)]);
    assert_eq!(o.status.code(), Some(5));
    let out = stdout(&o);
    assert!(
        out.contains("mismatch at row 42:") && out.contains("998 equal, 1 differ"),
        "{out}"
    );
}

#[test]
fn bbo_csv_reference_check_for_any_input() {
    let d = tmp_dir();
    let reference = d.join("reference-bbo.csv");
    assert!(ticklane(&["replay", SAMPLE, "--bbo-csv", path(&reference)])
        .status
        .success());
    let o = ticklane(&["replay", SAMPLE, "--check", path(&reference)]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("487 BBO rows compared, 487 equal, 0 differ"),
        "{}",
        stdout(&o)
    );
    digest_of(&o);
    let text = std::fs::read_to_string(&reference).unwrap();
    let bad = d.join("bad-bbo.csv");
    std::fs::write(
        &bad,
        text.replacen("585.3300,18,585.9400,200", "585.3300,19,585.9400,200", 1),
    )
    .unwrap();
    let o = ticklane(&["replay", SAMPLE, "--check", path(&bad)]);
    assert_eq!(o.status.code(), Some(5));
    assert!(stdout(&o).contains("mismatch at BBO row"), "{}", stdout(&o));
}

#[test]
fn strategy_signals_and_config_errors() {
    let d = tmp_dir();
    let sig = d.join("signals.jsonl");
    let o = ticklane(&[
        "replay",
        SAMPLE,
        "--strategy",
        "obi_taker",
        "--signals",
        path(&sig),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let n: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("strategy:      obi_taker: "))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no strategy line:\n{out}"));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&sig)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, n);
    assert!(n > 0);
    assert_eq!(lines[0]["strategy"], "obi_taker");
    // Signals change the digest; the same run twice does not.
    assert_ne!(digest_of(&o), digest_of(&ticklane(&["replay", SAMPLE])));
    assert_eq!(
        digest_of(&o),
        digest_of(&ticklane(&["replay", SAMPLE, "--strategy", "obi_taker"]))
    );
    let cfg = d.join("bad.toml");
    std::fs::write(&cfg, "threshold = 0.7\nlevles = 3\n").unwrap();
    let o = ticklane(&[
        "replay",
        SAMPLE,
        "--strategy",
        "obi_taker",
        "--strategy-config",
        path(&cfg),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("levles"), "{}", stderr(&o));
    let o = ticklane(&["replay", SAMPLE, "--strategy", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("obi_taker"),
        "lists the built-ins: {}",
        stderr(&o)
    );
    let o = ticklane(&["strategies"]);
    assert!(stdout(&o).contains("market_maker") && stdout(&o).contains("half_spread"));
}

#[test]
fn binance_capture_replay() {
    let f = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/binance/spot_btcusdt_20240808.gz"
    );
    let o = ticklane(&["replay", f, "--format", "binance"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let row = out
        .lines()
        .find(|l| l.starts_with("  BTCUSDT "))
        .unwrap_or_else(|| panic!("no BTCUSDT row: {out}"));
    assert!(
        out.contains("format:        binance (")
            && out.contains(", 0 resyncs")
            && !row.contains('!'),
        "synced at end, never lost: {out}"
    );
    assert_eq!(
        digest_of(&o),
        digest_of(&ticklane(&["replay", f, "--format", "binance"]))
    );
    let o = ticklane(&["replay", SAMPLE, "--format", "binance"]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "an ITCH file is not a Binance capture"
    );
}

#[test]
fn coinbase_and_kraken_capture_replays() {
    let cb = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/cryptofeed/COINBASE.ws.28.0"
    );
    let dir = tmp_dir();
    let csv = dir.join("cb_bbo.csv");
    let o = ticklane(&[
        "replay",
        cb,
        "--format",
        "coinbase",
        "--bbo-csv",
        path(&csv),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("format:        coinbase (cryptofeed capture, 10 symbols)")
            && out.contains(" received, 97 aligned with the book compared, 90 equal"),
        "{out}"
    );
    // Pinned in replay/tests/coinbase.rs too.
    assert_eq!(digest_of(&o), "b6e0737b52e8f2c3504f729b285fd4fa");
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(rows.lines().count(), 1779, "header + 1778 BBO changes");
    // The JSONL excerpt of the same capture.
    let o = ticklane(&[
        "replay",
        "data/coinbase_skl-gbp.jsonl",
        "--format",
        "coinbase",
    ]);
    assert!(o.status.success() && stdout(&o).contains("(jsonl capture, 1 symbol)"));
    let kr = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/cryptofeed/KRAKEN.ws.48.0"
    );
    let o = ticklane(&["replay", kr, "--format", "kraken"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("10 trades"), "{}", stdout(&o));
    // Wrong venue: exit 3 with the reason; a bad option value: exit 2.
    let o = ticklane(&["replay", cb, "--format", "kraken"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        stderr(&o).contains("not a Kraken capture"),
        "{}",
        stderr(&o)
    );
    let o = ticklane(&[
        "replay",
        kr,
        "--format",
        "kraken",
        "--wire-precision",
        "BTC/USD",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

/// A journal of the sample published in order on line A and again on line B, as the live feed
/// records it.
fn journal_of_sample() -> Vec<u8> {
    use ticklane_feeds::journal::{JournalWriter, RecordKind};
    use ticklane_feeds::moldudp64::{end_of_session, PacketBuilder};
    let data = std::fs::read(SAMPLE).unwrap();
    let mut r = ticklane_feeds::itch::framing::FrameReader::new(&data[..]);
    let mut msgs = Vec::new();
    while let Some(f) = r.next_frame() {
        msgs.push(f.unwrap().bytes.to_vec());
    }
    let s = *b"SESSION001";
    let mut w = JournalWriter::new(Vec::new(), 0).unwrap();
    let (mut seq, mut i, mut t) = (1, 0, 0);
    while i < msgs.len() {
        let mut buf = Vec::new();
        let mut b = PacketBuilder::new(s, seq, 1400);
        while i < msgs.len() && b.push(&mut buf, &msgs[i]) {
            i += 1;
        }
        seq = b.finish(&mut buf);
        for line in [0, 1] {
            t += 1;
            w.append(RecordKind::Packet, t, line, &buf).unwrap();
        }
    }
    w.append(RecordKind::Packet, t + 1, 0, &end_of_session(s, seq))
        .unwrap();
    w.finish().unwrap()
}

#[test]
fn replay_of_a_journal_is_detected_by_magic_and_prints_the_file_digest() {
    let j = write_tmp("sample.journal", &journal_of_sample());
    let o = ticklane(&["replay", j.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("journal:"), "{}", stdout(&o));
    // The README's digest of this sample.
    assert_eq!(digest_of(&o), "a0abf44d760f8aab381cd1bc1bc14a9a");
    assert_eq!(digest_of(&ticklane(&["replay", SAMPLE])), digest_of(&o));
    // Every packet came twice: 1039 duplicates of the 1039 messages.
    assert!(stdout(&o).contains("1039 duplicates"), "{}", stdout(&o));

    // A flipped byte inside a record: counted, reported, exit 4 with --strict.
    let mut bad = journal_of_sample();
    bad[16 + 19 + 30] ^= 0x5A;
    let j = write_tmp("bad.journal", &bad);
    let o = ticklane(&["replay", j.to_str().unwrap(), "--strict"]);
    assert_eq!(o.status.code(), Some(4), "{}", stdout(&o));
    assert!(stdout(&o).contains("1 corrupt"), "{}", stdout(&o));
}

/// A free UDP port on 127.0.0.1 (bound, read, released).
fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn join_group(group: std::net::Ipv4Addr, port: u16) -> std::net::UdpSocket {
    use socket2::{Domain, Protocol, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    s.set_reuse_address(true).unwrap();
    s.set_recv_buffer_size(4 << 20).unwrap();
    s.bind(&std::net::SocketAddr::from((group, port)).into())
        .unwrap();
    s.join_multicast_v4(&group, &std::net::Ipv4Addr::LOCALHOST)
        .unwrap();
    s.set_nonblocking(true).unwrap();
    s.into()
}

#[test]
fn serve_itch_publishes_on_two_multicast_lines_and_answers_requests() {
    use std::time::{Duration, Instant};
    use ticklane_feeds::arbiter::{Arbiter, ArbiterConfig, Poll, LINE_RETRANS};
    use ticklane_feeds::journal::{JournalWriter, RecordKind};

    let group: std::net::Ipv4Addr = "239.255.77.1".parse().unwrap();
    let (pa, pb, preq) = (free_udp_port(), free_udp_port(), free_udp_port());
    let a = join_group(group, pa);
    let b = join_group(group, pb);
    let req = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    req.set_nonblocking(true).unwrap();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "itch",
            SAMPLE,
            "--group",
            &format!("{group}:{pa}"),
            "--line-b",
            &format!("{group}:{pb}"),
            "--rate",
            "20000",
            // High enough that, on 25 packets a line, some packet is lost on both lines and
            // only a retransmission can fill it.
            "--drop",
            "0.3",
            "--dup",
            "0.05",
            "--reorder",
            "0.05",
            "--seed",
            "7",
            "--request-port",
            &preq.to_string(),
            "--linger-ms",
            "1500",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut arb = Arbiter::new(ArbiterConfig::default());
    let mut journal = JournalWriter::new(Vec::new(), 0).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 2048];
    let mut released = 0u64;
    while !arb.finished() && started.elapsed() < Duration::from_secs(15) {
        let mut got = false;
        for (line, s) in [(0u16, &a), (1, &b), (LINE_RETRANS, &req)] {
            while let Ok((n, _)) = s.recv_from(&mut buf) {
                got = true;
                journal
                    .append(RecordKind::Packet, 0, line, &buf[..n])
                    .unwrap();
                arb.on_packet(line, &buf[..n], &mut |_, _| released += 1);
            }
        }
        match arb.poll(started.elapsed().as_nanos() as u64) {
            Poll::Request { seq, count } => {
                let r =
                    ticklane_feeds::moldudp64::encode_request(arb.session().unwrap(), seq, count);
                req.send_to(&r, ("127.0.0.1", preq)).unwrap();
            }
            Poll::Skip { .. } => panic!("a gap was given up: {:?}", arb.stats),
            Poll::Idle => {}
        }
        if !got {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    // serve exits by itself --linger-ms after the end of session; bounded, then killed.
    let waited = Instant::now();
    while child.try_wait().unwrap().is_none() && waited.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let serve_log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        arb.finished(),
        "session not complete: {:?}\n{serve_log}",
        arb.stats
    );
    assert_eq!(released, 1039, "{:?}", arb.stats);
    let st = arb.stats;
    assert!(
        st.packets[0] > 0 && st.packets[1] > 0,
        "both lines arrived: {st:?}"
    );
    assert!(st.duplicates > 0, "B repeats A: {st:?}");
    assert!(serve_log.contains("line B:"), "{serve_log}");
    assert!(
        st.requests > 0 && st.won[2] > 0,
        "retransmissions filled a gap: {st:?}\n{serve_log}"
    );
    assert!(!serve_log.contains("answered 0 "), "{serve_log}");
    eprintln!("{serve_log}{st:?}");
    let j = write_tmp("served.journal", &journal.finish().unwrap());
    let o = ticklane(&["replay", j.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(digest_of(&o), digest_of(&ticklane(&["replay", SAMPLE])));
}

/// `serve itch` on two lines holds packets back independently per line: every packet a line
/// sends, held or not, carries the sequence number of its own first message (the held packet's
/// number was once shared by the lines, so line B could send a packet under line A's number).
#[test]
fn serve_itch_reorder_on_two_lines_numbers_every_packet_by_its_own_messages() {
    use std::time::{Duration, Instant};
    let data = std::fs::read(SAMPLE).unwrap();
    let mut r = ticklane_feeds::itch::framing::FrameReader::new(&data[..]);
    let mut msgs = Vec::new();
    while let Some(f) = r.next_frame() {
        msgs.push(f.unwrap().bytes.to_vec());
    }
    let group: std::net::Ipv4Addr = "239.255.77.2".parse().unwrap();
    let mut buf = [0u8; 2048];
    for seed in 1..=10 {
        let (pa, pb) = (free_udp_port(), free_udp_port());
        let lines = [join_group(group, pa), join_group(group, pb)];
        let out = Command::new(BIN)
            .args([
                "serve",
                "itch",
                SAMPLE,
                "--group",
                &format!("{group}:{pa}"),
                "--line-b",
                &format!("{group}:{pb}"),
                "--reorder",
                "0.3",
                "--seed",
                &seed.to_string(),
            ])
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{log}");
        let (mut checked, mut out_of_order) = ([0u64; 2], [0u64; 2]);
        for (li, s) in lines.iter().enumerate() {
            let mut last_seq = 0;
            let t = Instant::now();
            // Everything was sent before serve exited: read until the end of session.
            loop {
                let Ok((n, _)) = s.recv_from(&mut buf) else {
                    assert!(t.elapsed() < Duration::from_secs(5), "no end of session");
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                };
                let p = ticklane_feeds::moldudp64::parse(&buf[..n]).unwrap();
                if p.kind() == ticklane_feeds::moldudp64::PacketKind::EndOfSession {
                    break;
                }
                if p.seq < last_seq {
                    out_of_order[li] += 1;
                }
                last_seq = p.seq;
                for m in p.messages() {
                    let (seq, m) = m.unwrap();
                    assert_eq!(
                        m,
                        &msgs[(seq - 1) as usize][..],
                        "seed {seed}, line {}: message {seq} carries another message's bytes\n{log}",
                        ["A", "B"][li]
                    );
                    checked[li] += 1;
                }
            }
        }
        // Each line really reordered, and (no drops) carried every message.
        assert!(
            out_of_order[0] > 0 && out_of_order[1] > 0,
            "seed {seed}: {log}"
        );
        assert_eq!(checked, [1039, 1039], "seed {seed}: {log}");
    }
}

/// `bench json` checks that our decoder, the simd-json tape path and serde_json read the same
/// fields before timing (a disagreement exits 1), then prints one row per message type with
/// both ratios; `--path --iters` runs one path untimed; an unknown case is a usage error.
#[test]
fn bench_json_agrees_then_reports_every_case() {
    let o = ticklane(&["bench", "json", "--runs", "1", "--ms", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // Every message type the crypto decoders read.
    for case in [
        "binance_depth_300B",
        "binance_futures_depth",
        "binance_partial_depth5",
        "binance_rest_depth_100x2",
        "binance_trade",
        "binance_agg_trade",
        "binance_book_ticker",
        "coinbase_snapshot_318lv",
        "coinbase_l2update",
        "coinbase_match",
        "coinbase_ticker",
        "cb_adv_l2_update",
        "cb_adv_l2_snapshot_200lv",
        "cb_adv_market_trades",
        "kraken_v2_book_snapshot",
        "kraken_v2_book_update",
    ] {
        let row = out
            .lines()
            .find(|l| l.starts_with(case))
            .unwrap_or_else(|| panic!("no row for {case}: {out}"));
        // name, bytes, three times, two ratios.
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cols.len(), 7, "{row}");
        assert!(cols[5].ends_with('x') && cols[6].ends_with('x'), "{row}");
        let ns: f64 = cols[2].parse().unwrap();
        assert!(ns > 0.0, "{row}");
    }
    let o = ticklane(&[
        "bench",
        "json",
        "--case",
        "binance_trade",
        "--path",
        "serde",
        "--iters",
        "10",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = ticklane(&["bench", "json", "--case", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("binance_depth_300B"), "{}", stderr(&o));
}

#[test]
fn a_reader_that_goes_away_ends_the_replay_quietly() {
    // `ticklane replay ... | head -1`: the pipe closes after one line; the replay must end as
    // other Unix tools do (SIGPIPE), not panic or report an error.
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    let mut child = Command::new(BIN)
        .args([
            "replay",
            "--format",
            "binance",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/data/binance/spot_btcusdt_20240808.gz"
            ),
            "--bbo-csv",
            "/dev/stdout",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("ts_"), "{first}");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        out.status.signal() == Some(13) || out.status.success(),
        "{:?} {err}",
        out.status
    );
}

#[test]
fn configs_out_of_range_exit_2_naming_key_value_and_range() {
    let d = tmp_dir();
    let run = |flag: &str, name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        let o = ticklane(&["replay", SAMPLE, "--strategy", "obi_taker", flag, path(&p)]);
        (o.status.code(), stderr(&o))
    };
    // A strategy config and an exec config out of range: both bad configuration, exit 2.
    let (code, err) = run("--strategy-config", "nan.toml", "threshold = nan\n");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "strategy obi_taker config: threshold = nan is out of range 0.01..=1 \
             (imbalance that triggers a signal)"
        ),
        "{err}"
    );
    let (code, err) = run("--exec-config", "exec.toml", "sample_interval_ns = 1\n");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("sample_interval_ns = 1 is out of range 10000000..=86400000000000"),
        "{err}"
    );
    // An unreadable strategy config is bad usage as an unreadable exec config is (it was 3).
    for flag in ["--strategy-config", "--exec-config"] {
        let missing = d.join("no-such-config.toml");
        let o = ticklane(&[
            "replay",
            SAMPLE,
            "--strategy",
            "obi_taker",
            flag,
            path(&missing),
        ]);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("cannot read {flag}")),
            "{}",
            stderr(&o)
        );
    }
    // A live config whose reorder window would not fit in memory fails at load (it aborted).
    let live = d.join("live-window.toml");
    std::fs::write(
        &live,
        "[[source]]\nkind = \"itch\"\ngroup = \"239.255.84.9:5000\"\n\n[source.arbiter]\n\
         window = 9223372036854775807\n",
    )
    .unwrap();
    let o = ticklane(&["live", "--config", path(&live)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "line 6: `window = 9223372036854775807`: [source.arbiter] window = \
             9223372036854775807 is out of range 16..=1048576"
        ),
        "{}",
        stderr(&o)
    );
    // A numeric flag out of range.
    let o = ticklane(&["replay", SAMPLE, "--top", "100000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--top = 100000 is out of range 0..=10000"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn crypto_captures_replay_threaded_with_the_inline_digest() {
    for (format, file) in [
        ("coinbase", "data/coinbase_skl-gbp.jsonl"),
        ("binance", "data/binance_nknusdt.cryptofeed"),
    ] {
        let inline = ticklane(&["replay", "--format", format, file]);
        assert!(inline.status.success(), "{}", stderr(&inline));
        let want = digest_of(&inline);
        for shards in ["1", "2"] {
            let o = ticklane(&[
                "replay",
                "--format",
                format,
                "--pipeline",
                "threads",
                "--shards",
                shards,
                file,
            ]);
            assert!(o.status.success(), "{}", stderr(&o));
            assert_eq!(digest_of(&o), want, "{format} with {shards} shards");
        }
    }
    // A backtest keeps one ledger: several shards are refused, saying what to do.
    let o = ticklane(&[
        "replay",
        "--format",
        "coinbase",
        "--strategy",
        "market_maker",
        "--queue",
        "conservative",
        "--pipeline",
        "threads",
        "--shards",
        "2",
        "data/coinbase_skl-gbp.jsonl",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--shards 1"), "{}", stderr(&o));
}

#[test]
fn a_bad_sink_url_is_a_usage_error_naming_what_is_wrong() {
    for (url, says) in [
        ("kafka://127.0.0.1:9092", "topic prefix"),
        (
            "kafka://127.0.0.1:9092/md?policy=lossy",
            "block, drop or conflate",
        ),
        (
            "kafka://127.0.0.1:9092/md?acks=1",
            "unknown option \"acks\"",
        ),
        ("nats://127.0.0.1:4222/md", "not a sink URL"),
    ] {
        let o = ticklane(&["replay", SAMPLE, "--sink", url]);
        assert_eq!(o.status.code(), Some(2), "{url}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{url}: {}", stderr(&o));
    }
    // A run without an output stream to publish refuses the flag rather than ignoring it.
    let lobster = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
    );
    let o = ticklane(&["replay", lobster, "--sink", "kafka://127.0.0.1:9092/md"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--sink"), "{}", stderr(&o));
}

#[cfg(not(feature = "kafka"))]
#[test]
fn a_kafka_sink_in_a_build_without_kafka_says_so_and_exits_2() {
    let o = ticklane(&["replay", SAMPLE, "--sink", "kafka://127.0.0.1:9092/md"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no Kafka support") && stderr(&o).contains("--features kafka"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty(), "nothing ran: {}", stdout(&o));
}

/// `python3 scripts/parquet-check.py ARGS`: DuckDB reads the Parquet files and compares them
/// with the CSV outputs of the same run.
fn parquet_check(args: &[&str]) -> Output {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/parquet-check.py");
    let o = std::process::Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        !stderr(&o).contains("duckdb package is missing"),
        "python3 -m pip install duckdb (scripts/test.sh does): {}",
        stderr(&o)
    );
    o
}

#[test]
fn parquet_sink_files_read_by_duckdb_equal_the_csv_outputs() {
    let dir = tmp_dir().join("parquet");
    let (bbo, sig, rep, pq) = (
        dir.join("bbo.csv"),
        dir.join("signals.csv"),
        dir.join("report"),
        dir.join("pq"),
    );
    let url = format!("parquet://{}?row_group=100", path(&pq));
    let o = ticklane(&[
        "replay",
        SAMPLE,
        "--strategy",
        "market_maker",
        "--exec-config",
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/exec-example.toml"),
        "--bbo-csv",
        path(&bbo),
        "--signals",
        path(&sig),
        "--report",
        path(&rep),
        "--sink",
        &url,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The sink leaves the digest as it is without it.
    let plain = ticklane(&[
        "replay",
        SAMPLE,
        "--strategy",
        "market_maker",
        "--exec-config",
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/exec-example.toml"),
    ]);
    assert_eq!(digest_of(&o), digest_of(&plain));
    let trades = rep.join("trades.csv");
    let c = parquet_check(&[
        path(&pq),
        "--bbo-csv",
        path(&bbo),
        "--signals",
        path(&sig),
        "--trades",
        path(&trades),
    ]);
    assert!(c.status.success(), "{}{}", stdout(&c), stderr(&c));
    assert!(
        stdout(&c).starts_with("parquet-check: equal (487 bbo, 834 signals, 109 fills"),
        "{}",
        stdout(&c)
    );
    // The check can fail: a BBO CSV cut short is not what the files hold.
    let short = dir.join("short.csv");
    let text = std::fs::read_to_string(&bbo).unwrap();
    std::fs::write(&short, text.lines().take(10).collect::<Vec<_>>().join("\n")).unwrap();
    let c = parquet_check(&[path(&pq), "--bbo-csv", path(&short)]);
    assert_eq!(c.status.code(), Some(1), "{}", stderr(&c));
    assert!(
        stderr(&c).contains("bbo.parquet has 487 rows"),
        "{}",
        stderr(&c)
    );

    // A price-level capture: UTC timestamps, 8 decimals.
    let (bbo2, pq2) = (dir.join("bbo2.csv"), dir.join("pq2"));
    let url = format!("parquet://{}", path(&pq2));
    let o = ticklane(&[
        "replay",
        "--format",
        "binance",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/binance_nknusdt.cryptofeed"
        ),
        "--bbo-csv",
        path(&bbo2),
        "--sink",
        &url,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains(": queued 39, sent 39, acked 39, dropped 0"),
        "38 BBO rows and a trade: {}",
        stdout(&o)
    );
    let c = parquet_check(&[path(&pq2), "--bbo-csv", path(&bbo2)]);
    assert!(c.status.success(), "{}{}", stdout(&c), stderr(&c));
    assert!(stdout(&c).starts_with("parquet-check: equal (38 bbo"));

    // Bad URLs are usage errors, before anything runs.
    for bad in [
        "parquet://",
        "parquet://x?row_group=0",
        "parquet://x?rows=5",
    ] {
        let o = ticklane(&["replay", SAMPLE, "--sink", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn signals_on_stdout_leave_stdout_to_the_json_lines_and_the_summary_to_stderr() {
    let o = ticklane(&[
        "replay",
        SAMPLE,
        "--strategy",
        "obi_taker",
        "--signals",
        "-",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let mut n = 0;
    for l in out.lines() {
        let v: serde_json::Value = serde_json::from_str(l)
            .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {l:?}"));
        assert_eq!(v["strategy"], "obi_taker", "{l}");
        n += 1;
    }
    assert!(n > 0, "no signals on stdout");
    let err = stderr(&o);
    assert!(
        err.lines().any(|l| l.starts_with("digest: ")),
        "no digest line on stderr:\n{err}"
    );
    assert!(
        err.contains(&format!("strategy:      obi_taker: {n} ")),
        "{err}"
    );
    // The same run with the signals in a file prints the same digest on stdout.
    let sig = tmp_dir().join("signals-stdout.jsonl");
    let f = ticklane(&[
        "replay",
        SAMPLE,
        "--strategy",
        "obi_taker",
        "--signals",
        path(&sig),
    ]);
    assert_eq!(common::digest_in(&err), digest_of(&f));
}

#[test]
fn a_symbols_filter_naming_an_absent_symbol_warns_and_exits_3() {
    let o = ticklane(&["replay", SAMPLE, "--symbols", "MSFT"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: --symbols: MSFT never appeared in the input"),
        "{}",
        stderr(&o)
    );
    // The summary is still there, digest last.
    assert!(
        stdout(&o).contains("output restricted to MSFT"),
        "{}",
        stdout(&o)
    );
    digest_of(&o);
    // Only the absent one is named; a filter the input satisfies exits 0 with no warning.
    let o = ticklane(&["replay", SAMPLE, "--symbols", "AAPL,MSFT,ZZZZ"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("warning: --symbols: MSFT,ZZZZ never appeared"),
        "{}",
        stderr(&o)
    );
    let o = ticklane(&["replay", SAMPLE, "--symbols", "AAPL"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning: --symbols"), "{}", stderr(&o));
}

#[test]
fn enum_flags_list_their_values_in_help_and_in_the_error() {
    let h = stdout(&ticklane(&["replay", "--help"]));
    for want in [
        "fifo",
        "conservative",
        "probabilistic", // --queue
        "spin",
        "yield",
        "park", // --wait
        "inline",
        "threads", // --pipeline
    ] {
        assert!(h.contains(want), "--help lacks {want:?}:\n{h}");
    }
    assert!(
        h.contains("[possible values: fifo, conservative, probabilistic]")
            || h.contains("Possible values:"),
        "{h}"
    );
    let o = ticklane(&[
        "replay",
        SAMPLE,
        "--strategy",
        "obi_taker",
        "--queue",
        "fifoo",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("'fifoo'") && e.contains("--queue"), "{e}");
    assert!(e.contains("fifo, conservative, probabilistic"), "{e}");
    assert!(!e.contains("default backtest configuration"), "{e}");
    let o = ticklane(&["replay", SAMPLE, "--wait", "spinn"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("--wait") && e.contains("spin, yield, park"),
        "{e}"
    );
    // The longer spellings still parse, in any case.
    let o = ticklane(&[
        "replay",
        SAMPLE,
        "--pipeline",
        "threads",
        "--wait",
        "Spin-Then-Yield",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = ticklane(&[
        "replay",
        SAMPLE,
        "--strategy",
        "market_maker",
        "--queue",
        "conservative",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn verify_of_a_missing_manifest_exits_3_naming_it() {
    let missing = tmp_dir().join("nowhere").join("manifest.json");
    let o = ticklane(&["verify", path(&missing)]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains(path(&missing)), "{e}");
    assert_eq!(e.matches("no such file").count(), 1, "{e}");
    assert!(!e.contains("entity not found"), "{e}");
}

#[test]
fn help_lists_every_exit_code_the_binary_uses() {
    let h = stdout(&ticklane(&["--help"]));
    for want in [
        "0 ok",
        "1 other failure",
        "2 bad usage",
        "3 input missing",
        "4 bad records",
        "5 a check",
        "6 `live` stopped on its own",
    ] {
        assert!(h.contains(want), "--help lacks {want:?}:\n{h}");
    }
}

#[test]
fn backtest_is_replay_with_a_strategy() {
    let b = ticklane(&[
        "backtest",
        SAMPLE,
        "--strategy",
        "market_maker",
        "--queue",
        "conservative",
    ]);
    assert!(b.status.success(), "{}", stderr(&b));
    let r = ticklane(&[
        "replay",
        SAMPLE,
        "--strategy",
        "market_maker",
        "--queue",
        "conservative",
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(digest_of(&b), digest_of(&r));
    assert!(
        stdout(&b).contains("strategy:      market_maker"),
        "{}",
        stdout(&b)
    );
    // Without --strategy: a usage error naming the flag.
    let o = ticklane(&["backtest", SAMPLE]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--strategy <NAME>"), "{}", stderr(&o));
    let h = stdout(&ticklane(&["backtest", "--help"]));
    assert!(h.contains("--exec-config") && h.contains("--report"), "{h}");
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    let o = ticklane(&["completions", "bash"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let b = stdout(&o);
    for want in [
        "replay",
        "backtest",
        "--strategy",
        "--queue",
        "conservative",
    ] {
        assert!(b.contains(want), "bash completions lack {want:?}");
    }
    for shell in ["zsh", "fish"] {
        let o = ticklane(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        assert!(stdout(&o).contains("--strategy"), "{shell}");
    }
    let o = ticklane(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bash"), "{}", stderr(&o));
}

/// Per-hop latency is printed only with --latency; the digest is the same with or without it,
/// and the inline layout, which has no hops, refuses the flag.
#[test]
fn latency_is_recorded_only_with_the_flag() {
    let plain = ticklane(&["replay", SAMPLE, "--pipeline", "threads"]);
    assert!(plain.status.success(), "{}", stderr(&plain));
    assert!(
        !stderr(&plain).contains("latency ingest"),
        "{}",
        stderr(&plain)
    );
    let timed = ticklane(&["replay", SAMPLE, "--pipeline", "threads", "--latency"]);
    assert!(timed.status.success(), "{}", stderr(&timed));
    assert!(
        stderr(&timed).contains("latency ingest→book:   p50 "),
        "{}",
        stderr(&timed)
    );
    assert!(
        stderr(&timed).contains("latency ingest→output: p50 "),
        "{}",
        stderr(&timed)
    );
    assert_eq!(digest_of(&timed), digest_of(&plain));
    let inline = ticklane(&["replay", SAMPLE, "--pipeline", "inline", "--latency"]);
    assert_eq!(inline.status.code(), Some(2), "{}", stderr(&inline));
    assert!(
        stderr(&inline).contains("--pipeline threads"),
        "{}",
        stderr(&inline)
    );
}

/// `--pipeline auto` names the layout it chose and why: the cores this process may use against
/// the threads the threaded layout needs (decode, one book shard, output: 3).
#[test]
fn auto_pipeline_says_which_layout_and_why() {
    let o = ticklane(&["replay", SAMPLE]);
    assert!(o.status.success(), "{}", stderr(&o));
    let line = stderr(&o)
        .lines()
        .find(|l| l.starts_with("pipeline: "))
        .unwrap_or_else(|| panic!("no plan line: {}", stderr(&o)))
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let s = if cores == 1 { "" } else { "s" };
    let why = format!("auto: {cores} core{s} available, threads need 3");
    // The sample is far below 32 MiB: inline whatever the machine.
    assert!(line.starts_with("pipeline: inline (auto: "), "{line}");
    assert!(line.contains(&why), "{line}");
    // With two shards the need grows by one.
    let o = ticklane(&["replay", SAMPLE, "--shards", "2"]);
    assert!(stderr(&o).contains("threads need 4"), "{}", stderr(&o));
    // A layout that was given is not explained.
    let o = ticklane(&["replay", SAMPLE, "--pipeline", "inline"]);
    assert!(!stderr(&o).contains("auto:"), "{}", stderr(&o));
}
