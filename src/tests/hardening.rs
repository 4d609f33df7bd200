//! Bad input and faults, end to end through the binary: impossible timestamps, memory bounded
//! by configuration under an address-space limit, corrupt compressed inputs, devices and
//! files without newlines. Each test failed before the fix it guards.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_ticklane");
const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/AAPL_2012-06-21_lobster10.itch"
);
/// The first 1000 messages of a real NASDAQ day file (so without the end-of-session frame that
/// ends the whole file).
const NASDAQ: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/itch/nasdaq-first-1000.itch"
);
const COINBASE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/coinbase_skl-gbp.jsonl");
const BINANCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/data/binance_nknusdt.cryptofeed"
);

fn tmp(name: &str, bytes: &[u8]) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ticklane-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run ticklane")
}

/// Runs the binary with its address space limited to 1 GiB (`ulimit -v`).
fn run_limited(args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(BIN)
        .args(args)
        .output()
        .expect("run ticklane under ulimit")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn p(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The Coinbase sample with one receive time given an extra digit (the year 2482).
fn coinbase_2482() -> PathBuf {
    let text = std::fs::read_to_string(COINBASE).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let n = lines.len() / 2;
    assert!(lines[n].starts_with("{\"ts_recv\":1"), "{}", lines[n]);
    lines[n] = lines[n].replacen("{\"ts_recv\":1", "{\"ts_recv\":16", 1);
    tmp("coinbase-2482.jsonl", (lines.join("\n") + "\n").as_bytes())
}

#[test]
fn a_receive_time_in_the_year_2482_is_counted_and_the_backtest_finishes_within_1_gib() {
    let f = coinbase_2482();
    let o = run_limited(&[
        "replay",
        "--format",
        "coinbase",
        p(&f),
        "--strategy",
        "market_maker",
        "--queue",
        "conservative",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", out(&o), err(&o));
    let s = out(&o);
    assert!(s.contains("time jumps:    1 ahead, 0 back"), "{s}");
    // The curve spans the real capture (under a minute at 1 s), not 456 years.
    let samples: u64 = s
        .lines()
        .find_map(|l| l.trim().strip_prefix("equity curve"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no equity curve line in {s}"));
    assert!(samples < 100, "{samples} samples");
    // The plain replay counts it too, and --strict turns it into exit 4.
    let o = run(&["replay", "--format", "coinbase", p(&f), "--strict"]);
    assert_eq!(o.status.code(), Some(4), "{}", out(&o));
    assert!(out(&o).contains("time jumps:    1 ahead"), "{}", out(&o));
    // The bound is the user's: at 1 ms, the capture's ordinary pauses count too.
    let o = run(&[
        "replay",
        "--format",
        "coinbase",
        COINBASE,
        "--max-time-jump",
        "1ms",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let line = out(&o)
        .lines()
        .find(|l| l.starts_with("time jumps:"))
        .unwrap_or_else(|| panic!("{}", out(&o)))
        .to_owned();
    assert!(!line.starts_with("time jumps:    0 ahead"), "{line}");
}

#[test]
fn a_one_nanosecond_sampling_interval_finishes_or_fails_clearly_within_1_gib() {
    let cfg = tmp("si1.toml", b"sample_interval_ns = 1\n");
    for input in [
        vec!["replay", SAMPLE, "--strategy", "market_maker"],
        vec![
            "replay",
            "--format",
            "coinbase",
            COINBASE,
            "--strategy",
            "market_maker",
            "--queue",
            "conservative",
        ],
    ] {
        let mut args = input.clone();
        args.extend(["--exec-config", p(&cfg)]);
        let o = run_limited(&args);
        match o.status.code() {
            Some(0) => assert!(out(&o).contains("equity curve"), "{}", out(&o)),
            Some(2) => assert!(err(&o).contains("sample_interval_ns"), "{}", err(&o)),
            c => panic!("{input:?}: exit {c:?}\n{}{}", out(&o), err(&o)),
        }
    }
}

/// An ITCH message timestamp's top byte set: 2^40 ns ahead of its neighbours (18 minutes
/// times 256): counted in every layout, and the digest is one.
#[test]
fn an_itch_time_jump_is_counted_and_the_same_in_every_layout() {
    let mut d = std::fs::read(SAMPLE).unwrap();
    // The 500th frame: timestamp bytes 5..11 of the message (after the 2-byte length).
    let mut at = 0;
    for _ in 0..500 {
        at += 2 + usize::from(u16::from_be_bytes([d[at], d[at + 1]]));
    }
    d[at + 2 + 5] = 0xff;
    let f = tmp("jump.itch", &d);
    let inline = run(&["replay", p(&f)]);
    assert_eq!(inline.status.code(), Some(0));
    assert!(
        out(&inline).contains("time jumps 1 ahead / 0 back"),
        "{}",
        out(&inline)
    );
    for shards in ["1", "2"] {
        let t = run(&["replay", p(&f), "--pipeline", "threads", "--shards", shards]);
        assert_eq!(
            common::digest_in(&out(&t)),
            common::digest_in(&out(&inline)),
            "{shards} shards"
        );
        assert!(out(&t).contains("time jumps 1 ahead / 0 back"));
    }
    let bad = run(&["replay", p(&f), "--max-time-jump", "6"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(err(&bad).contains("needs a unit"), "{}", err(&bad));
}

fn corrupt_gzip(path: &str) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&std::fs::read(path).unwrap()).unwrap();
    let mut d = gz.finish().unwrap();
    for b in &mut d[2000..2100] {
        *b ^= 0x5a;
    }
    d
}

#[test]
fn a_corrupt_gzip_input_is_bad_input_exit_3() {
    let f = tmp("bad.itch.gz", &corrupt_gzip(SAMPLE));
    let o = run(&["replay", p(&f)]);
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert!(err(&o).contains("reading stopped"), "{}", err(&o));
    assert!(out(&o).contains("read error 1"), "{}", out(&o));
    // The summary of what was read still ends with its digest.
    assert_eq!(common::digest_in(&out(&o)).len(), 32);
    let f = tmp("bad-binance.gz", &corrupt_gzip(BINANCE));
    let o = run(&["replay", "--format", "binance", p(&f)]);
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert!(err(&o).contains("bad-binance.gz"), "{}", err(&o));
}

#[test]
fn a_truncated_file_names_its_truncated_tail_in_the_errors_line() {
    let d = std::fs::read(SAMPLE).unwrap();
    let f = tmp("cut.itch", &d[..d.len() - 20]);
    let o = run(&["replay", p(&f)]);
    let line = out(&o)
        .lines()
        .find(|l| l.starts_with("errors:"))
        .unwrap()
        .to_owned();
    assert!(line.starts_with("errors:        1 ("), "{line}");
    assert!(line.contains("truncated tail 1"), "{line}");
}

/// NASDAQ day files end with a zero-length frame, the end-of-session marker: a clean file, not
/// a truncated one, in every pipeline; the same frame anywhere else is still bad input.
#[test]
fn the_end_of_session_frame_ends_a_file_cleanly() {
    let d = std::fs::read(NASDAQ).unwrap();
    assert_ne!(
        d[d.len() - 2..],
        [0, 0],
        "the excerpt stops before the end of the day"
    );
    let plain = run(&["replay", NASDAQ]);
    assert!(!out(&plain).contains("end of session"), "{}", out(&plain));
    let mut whole = d.clone();
    whole.extend_from_slice(&[0, 0]);
    let f = tmp("session.itch", &whole);
    for layout in [
        &[][..],
        &["--pipeline", "threads", "--shards", "1"],
        &["--pipeline", "threads", "--shards", "2"],
    ] {
        let mut args = vec!["replay", p(&f), "--strict"];
        args.extend_from_slice(layout);
        let o = run(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{layout:?}: {}{}",
            out(&o),
            err(&o)
        );
        assert!(
            out(&o).contains("errors:        none"),
            "{layout:?}: {}",
            out(&o)
        );
        assert!(
            out(&o).contains("end of session"),
            "{layout:?}: {}",
            out(&o)
        );
        assert_eq!(common::digest_in(&out(&o)), common::digest_in(&out(&plain)));
    }
    // In the middle of the file it is not a frame: two bytes of garbage.
    let mut mid = d[..1000].to_vec();
    let cut = {
        let mut at = 0;
        while at + 2 + usize::from(u16::from_be_bytes([d[at], d[at + 1]])) <= 1000 {
            at += 2 + usize::from(u16::from_be_bytes([d[at], d[at + 1]]));
        }
        at
    };
    mid.truncate(cut);
    mid.extend_from_slice(&[0, 0]);
    mid.extend_from_slice(&d[cut..]);
    let f = tmp("zero-mid.itch", &mid);
    let o = run(&["replay", p(&f), "--strict"]);
    assert_eq!(o.status.code(), Some(4), "{}{}", out(&o), err(&o));
    assert!(
        out(&o).contains("garbage regions 1 / 2 bytes"),
        "{}",
        out(&o)
    );
    assert!(!out(&o).contains("end of session"), "{}", out(&o));
}

#[test]
fn a_device_is_not_an_empty_file_and_a_line_without_end_is_bounded() {
    let o = run(&["replay", "/dev/null"]);
    assert_eq!(o.status.code(), Some(3));
    let o = Command::new("sh")
        .arg("-c")
        .arg("head -c 1000000 /dev/zero | \"$0\" replay /dev/stdin")
        .arg(BIN)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(!err(&o).contains("file is empty"), "{}", err(&o));
    assert!(err(&o).contains("not an ITCH"), "{}", err(&o));
    // 40 MiB without a newline as a Binance capture: one bad line, bounded memory.
    let o = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && head -c 41943040 /dev/zero | tr '\\0' x | \"$0\" replay --format binance /dev/stdin")
        .arg(BIN)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}{}", out(&o), err(&o));
    assert!(
        err(&o).contains("not a Binance capture") || err(&o).contains("1 bad"),
        "{}",
        err(&o)
    );
}

/// Every numeric flag of `serve itch` is range-checked (NaN, negative and huge values were
/// once taken as they came): exit 2, the flag named.
#[test]
fn serve_itch_flags_out_of_range_are_usage_errors() {
    for (flag, value) in [
        ("--drop", "nan"),
        ("--dup=-0.5", ""),
        ("--reorder", "1.5"),
        ("--mtu", "70000"),
        ("--ttl", "256"),
        ("--linger-ms", "3600001"),
        ("--loop", "0"),
        ("--rate", "inf"),
        ("--rate", "0x"),
    ] {
        let mut args = vec!["serve", "itch", SAMPLE, "--group", "127.0.0.1:9", flag];
        if !value.is_empty() {
            args.push(value);
        }
        let o = run(&args);
        let name = flag.split('=').next().unwrap();
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}", err(&o));
        assert!(err(&o).contains(name), "{flag} {value}: {}", err(&o));
    }
}
