//! Our JSON-lines capture format: data/coinbase_skl-gbp.jsonl (every SKL-GBP frame of the real
//! Coinbase capture, rebuilt by scripts/make-crypto-excerpt.sh) replays exactly like the same
//! frames in cryptofeed's raw format and as `<ns> <json>` lines, plain or gzip.

use std::io::{BufReader, Write};

use ticklane_replay::stages::l2::L2Summary;
use ticklane_replay::venue::coinbase::{replay_coinbase, CryptoReplayOptions};

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn run(text: &[u8]) -> L2Summary {
    replay_coinbase(text, CryptoReplayOptions::default()).unwrap()
}

#[test]
fn jsonl_excerpt_replays_like_the_raw_capture_in_every_container() {
    let jsonl = read("../data/coinbase_skl-gbp.jsonl");
    let raw: String = read("../../shared/data/cryptofeed/COINBASE.ws.28.0")
        .lines()
        .filter(|l| l.contains("\"SKL-GBP\"") && !l.contains(" <- "))
        .map(|l| format!("{l}\n"))
        .collect();
    let a = run(jsonl.as_bytes());
    let b = run(raw.as_bytes());
    assert_eq!(
        (a.container.as_str(), b.container.as_str()),
        ("jsonl", "cryptofeed")
    );
    assert_eq!(a.digest, b.digest);
    assert_eq!(a.symbols, b.symbols);
    // 1 snapshot; `grep -c l2update` on the excerpt: 289; SKL-GBP is the only product.
    assert_eq!(a.symbols.len(), 1);
    assert_eq!((a.snapshots, a.updates, a.bad_total()), (1, 289, 0));
    assert!(a.bbo_changes > 10);

    // The same frames as `<ns> <json>` lines: ts_recv, a space, the data object.
    let ns: String = jsonl
        .lines()
        .map(|l| {
            let ts = l
                .split(',')
                .next()
                .unwrap()
                .trim_start_matches("{\"ts_recv\":");
            let data = &l[l.find(",\"data\":").unwrap() + 8..l.len() - 1];
            format!("{ts} {data}\n")
        })
        .collect();
    let c = run(ns.as_bytes());
    assert_eq!(c.container, "ns-lines");
    assert_eq!(c.digest, a.digest);

    // gzip, detected by content through the same input path the CLI uses.
    let dir = std::env::temp_dir().join(format!("ticklane-jsonl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gz = dir.join("capture.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(jsonl.as_bytes()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let input = ticklane_replay::run::input::open(&gz).unwrap();
    let d = replay_coinbase(BufReader::new(input.reader), CryptoReplayOptions::default()).unwrap();
    assert_eq!(d.digest, a.digest);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn broken_jsonl_lines_are_counted_and_skipped() {
    let jsonl = read("../data/coinbase_skl-gbp.jsonl");
    let good = run(jsonl.as_bytes());
    let mut lines: Vec<String> = jsonl.lines().map(str::to_owned).collect();
    // A line cut in half, a line with no data, garbage JSON inside a valid wrapper.
    lines.insert(10, lines[20][..40].to_owned());
    lines.insert(11, "{\"ts_recv\":1,\"venue\":\"coinbase\"}".to_owned());
    lines.insert(
        12,
        "{\"ts_recv\":1,\"venue\":\"coinbase\",\"stream\":\"x\",\"data\":{nope}".to_owned(),
    );
    let text = lines.join("\n");
    let s = run(text.as_bytes());
    assert_eq!((s.bad_lines, s.bad_json), (2, 1));
    assert_eq!(s.updates, good.updates);
}
