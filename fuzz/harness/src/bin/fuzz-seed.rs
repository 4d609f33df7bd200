//! Writes the seed corpus of every fuzz target from real market data: single ITCH messages
//! and short runs, MoldUDP64 packets and journals built from them, LOBSTER lines, single JSON
//! frames of each venue (a few of each message kind), capture lines of each container, the
//! example configs, and short slices of each replay format.
//!
//! `fuzz-seed SHARED_DATA REPO_DATA OUT`, e.g. `fuzz-seed ../shared/data data fuzz/corpus`
//! (run by `scripts/fuzz-seed.sh`). OUT/TARGET/ is emptied and refilled; file names are
//! stable, so re-running on the same data gives the same corpus.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use ticklane_feeds::itch::framing::SliceFrames;
use ticklane_feeds::journal::{JournalWriter, RecordKind};
use ticklane_feeds::moldudp64::{end_of_session, heartbeat, PacketBuilder};

/// Frames larger than this are not single-frame seeds (a REST snapshot of 1000 levels).
const MAX_FRAME: usize = 4096;
/// The MoldUDP64 session of the built packets.
const SESSION: [u8; 10] = *b"SEED000001";

struct Out {
    root: PathBuf,
    files: BTreeMap<String, Vec<(String, Vec<u8>)>>,
}

impl Out {
    fn add(&mut self, target: &str, name: &str, bytes: Vec<u8>) {
        self.files
            .entry(target.to_owned())
            .or_default()
            .push((name.to_owned(), bytes));
    }

    fn write(self) -> std::io::Result<()> {
        for (target, files) in self.files {
            let dir = self.root.join(&target);
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
            std::fs::create_dir_all(&dir)?;
            let total: usize = files.iter().map(|f| f.1.len()).sum();
            println!("{target}: {} files, {total} bytes", files.len());
            for (name, bytes) in files {
                std::fs::write(dir.join(name), bytes)?;
            }
        }
        Ok(())
    }
}

fn read(p: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap_or_else(|e| panic!("gunzip {}: {e}", p.display()));
        bytes = out;
    }
    bytes
}

fn lines(b: &[u8]) -> impl Iterator<Item = &[u8]> {
    b.split(|&c| c == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
}

/// The first `n` lines, newline terminated.
fn head(b: &[u8], n: usize) -> Vec<u8> {
    head_short(b, n, usize::MAX)
}

/// The first `n` lines of at most `max` bytes, newline terminated.
fn head_short(b: &[u8], n: usize, max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for l in lines(b).filter(|l| l.len() <= max).take(n) {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    out
}

/// A message kind of a JSON frame, for picking a few of each: the value of the first of a
/// few well-known keys (the symbol cut off a Binance stream name), else the frame's start.
fn kind(frame: &[u8]) -> String {
    let s = String::from_utf8_lossy(frame);
    for key in [
        "\"stream\":\"",
        "\"e\":\"",
        "\"type\":\"",
        "\"channel\":\"",
        "\"event\":\"",
    ] {
        if let Some(i) = s.find(key) {
            let v = &s[i + key.len()..];
            let v = &v[..v.find('"').unwrap_or(v.len())];
            return v.rsplit('@').next().unwrap_or(v).to_owned();
        }
    }
    // Kraken v1 arrays: `[id, {...}, "book-10", "XBT/USD"]`.
    match s.rfind(",\"") {
        Some(i) => s[..i]
            .rsplit(",\"")
            .next()
            .unwrap_or("")
            .chars()
            .take(8)
            .collect(),
        None => s.chars().take(8).collect(),
    }
}

/// The JSON frame of a capture line (`<ns> <json>`, cryptofeed `t: json`, JSONL `data`).
fn frame_of(line: &[u8]) -> Option<&[u8]> {
    match ticklane_replay::venue::capture::classify(line)? {
        ticklane_replay::venue::capture::CaptureLine::Frame { json, .. }
        | ticklane_replay::venue::capture::CaptureLine::Rest { json, .. } => Some(json),
        ticklane_replay::venue::capture::CaptureLine::Meta { .. } => None,
    }
}

/// Up to `per_kind` frames of each kind (at most `max` in all) of a capture, each prefixed
/// with `prefix` (the precision byte).
fn frames(out: &mut Out, target: &str, tag: &str, capture: &[u8], prefix: &[u8], max: usize) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut n = 0;
    for line in lines(capture) {
        let Some(f) = frame_of(line) else { continue };
        if f.len() > MAX_FRAME || n >= max {
            continue;
        }
        let c = seen.entry(kind(f)).or_default();
        if *c >= 2 {
            continue;
        }
        *c += 1;
        n += 1;
        let mut b = prefix.to_vec();
        b.extend_from_slice(f);
        out.add(target, &format!("{tag}-{n:03}"), b);
    }
}

/// ITCH messages (no length prefix) of a BinaryFILE.
fn itch_messages(b: &[u8]) -> Vec<&[u8]> {
    SliceFrames::new(b)
        .filter_map(|f| f.ok())
        .map(|f| f.bytes)
        .collect()
}

/// A BinaryFILE of `msgs`.
fn binary_file(msgs: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        out.extend_from_slice(&(m.len() as u16).to_be_bytes());
        out.extend_from_slice(m);
    }
    out
}

/// MoldUDP64 packets of `msgs`, up to `per` messages each, from sequence 1.
fn packets(msgs: &[&[u8]], per: usize) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    let mut seq = 1;
    for chunk in msgs.chunks(per) {
        let mut buf = Vec::new();
        let mut b = PacketBuilder::new(SESSION, seq, 1400);
        for m in chunk {
            assert!(b.push(&mut buf, m), "a seed message fits a packet");
        }
        seq = b.finish(&mut buf);
        v.push(buf);
    }
    v.push(heartbeat(SESSION, seq).to_vec());
    v.push(end_of_session(SESSION, seq).to_vec());
    v
}

/// The arbiter target's input: two config bytes, then (op, dt, length, packet) records.
fn arbiter_input(cfg: [u8; 2], records: &[(u8, u8, &[u8])]) -> Vec<u8> {
    let mut out = cfg.to_vec();
    for (line, dt, p) in records {
        out.push(*line);
        out.push(*dt);
        out.extend_from_slice(&(p.len() as u16).to_be_bytes());
        out.extend_from_slice(p);
    }
    out
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, shared, data, root] = &args[..] else {
        eprintln!("usage: fuzz-seed SHARED_DATA REPO_DATA OUT");
        std::process::exit(2);
    };
    let (shared, data) = (Path::new(shared), Path::new(data));
    let mut out = Out {
        root: PathBuf::from(root),
        files: BTreeMap::new(),
    };

    // ITCH: two messages of each type from the NASDAQ day start and the LOBSTER conversion,
    // one run of consecutive messages from each.
    let nasdaq = read(&shared.join("itch/nasdaq-first-1000.itch"));
    let lobster_itch = read(&data.join("AAPL_2012-06-21_lobster10.itch"));
    let mut msgs_all: Vec<&[u8]> = Vec::new();
    for (tag, file) in [("nasdaq", &nasdaq), ("aapl", &lobster_itch)] {
        let msgs = itch_messages(file);
        let mut seen: BTreeMap<u8, usize> = BTreeMap::new();
        for m in &msgs {
            let c = seen.entry(m[0]).or_default();
            if *c < 2 {
                *c += 1;
                let name = format!("{tag}-{}-{}", m[0] as char, c);
                out.add("itch", &name, binary_file(&[m]));
            }
        }
        out.add(
            "itch",
            &format!("{tag}-run"),
            binary_file(&msgs[..msgs.len().min(40)]),
        );
        let run = binary_file(&msgs[..msgs.len().min(150)]);
        out.add(
            "replay",
            &format!("itch-{tag}"),
            [&[0u8][..], &run].concat(),
        );
        msgs_all.extend(msgs.iter().take(200));
    }

    // MoldUDP64 and the arbiter: in order on A; A and B both, B late; a gap on A filled
    // from B; a gap filled by the retransmission line after a request.
    let p = packets(&msgs_all[..60], 4);
    let rec = |v: &[(u8, u8, usize)]| -> Vec<(u8, u8, &[u8])> {
        v.iter().map(|&(l, dt, i)| (l, dt, &p[i][..])).collect()
    };
    let n = p.len();
    let in_order: Vec<_> = (0..n).map(|i| (0, 1, i)).collect();
    out.add(
        "moldudp64",
        "a-only",
        arbiter_input([0, 0x21], &rec(&in_order)),
    );
    let both: Vec<_> = (0..n)
        .flat_map(|i| [(0, 1, i), (1, 0, i.saturating_sub(1))])
        .collect();
    out.add(
        "moldudp64",
        "a-and-b",
        arbiter_input([1, 0x22], &rec(&both)),
    );
    let gap: Vec<_> = (0..n)
        .filter(|&i| i != 3)
        .map(|i| (0, 1, i))
        .chain([(1, 2, 3)])
        .collect();
    out.add(
        "moldudp64",
        "gap-from-b",
        arbiter_input([0x12, 0x23], &rec(&gap)),
    );
    let retrans: Vec<_> = (0..n)
        .filter(|&i| i != 2 && i != 5)
        .map(|i| (0, 30, i))
        .chain([(2, 40, 2), (2, 40, 5)])
        .collect();
    out.add(
        "moldudp64",
        "retransmitted",
        arbiter_input([0x10, 0x06], &rec(&retrans)),
    );

    // Journals: an ITCH one (packets on A and B, notes, a skip) and a websocket one, each
    // with its CRCs as written (mode 1: recomputed after mutation; mode 0: as they are).
    let mut w = JournalWriter::new(Vec::new(), 0).expect("memory");
    let mut ts = 1_000;
    for (i, pk) in p.iter().enumerate().take(12) {
        ts += 1_000;
        if i != 4 {
            w.append(RecordKind::Packet, ts, 0, pk).expect("memory");
        }
        if i % 3 == 0 {
            w.append(RecordKind::Packet, ts + 10, 1, pk)
                .expect("memory");
        }
    }
    let range = ticklane_feeds::journal::range_payload(17, 4);
    w.append(RecordKind::Gap, ts, 0, &range).expect("memory");
    w.append(RecordKind::Request, ts, 0, &range)
        .expect("memory");
    w.append(RecordKind::Skip, ts, 0, &range).expect("memory");
    w.append(RecordKind::End, ts, 0, b"").expect("memory");
    let itch_journal = w.finish().expect("memory");
    out.add(
        "journal",
        "itch-mode1",
        [&[1u8][..], &itch_journal].concat(),
    );
    out.add(
        "journal",
        "itch-mode0",
        [&[0u8][..], &itch_journal].concat(),
    );
    let spot = read(&shared.join("binance/spot_btcusdt_20240808.gz"));
    let mut w = JournalWriter::new(Vec::new(), 0).expect("memory");
    w.append(RecordKind::Source, 0, 0, b"binance")
        .expect("memory");
    let rest = read(&data.join("json/binance_rest_depth_nknusdt_100.json"));
    w.append(RecordKind::Rest, 1, 0, &rest[..rest.len().min(1500)])
        .expect("memory");
    for (i, l) in lines(&spot)
        .filter(|l| l.len() <= 1500)
        .take(10)
        .enumerate()
    {
        if let Some((t, f)) = ticklane_feeds::binance::split_capture_line(l) {
            w.append(RecordKind::Frame, t, 0, f).expect("memory");
        }
        if i == 6 {
            w.append(RecordKind::Reconnect, 2, 0, b"").expect("memory");
        }
    }
    out.add(
        "journal",
        "ws-binance-mode1",
        [&[1u8][..], &w.finish().expect("memory")].concat(),
    );

    // LOBSTER: the first rows of the 10-level sample, with and without its order-book file,
    // and a file name.
    let msg = read(&shared.join("lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"));
    let ob = read(&shared.join("lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"));
    out.add(
        "lobster",
        "messages-40",
        [&[0u8][..], &head(&msg, 40)].concat(),
    );
    out.add(
        "lobster",
        "with-orderbook-12",
        [&[1u8][..], &head(&msg, 12), b"\0", &head(&ob, 12)].concat(),
    );
    let tail: Vec<u8> = lines(&msg)
        .skip(400)
        .take(30)
        .flat_map(|l| [l, b"\n"].concat())
        .collect();
    out.add("lobster", "messages-400-430", [&[0u8][..], &tail].concat());
    out.add(
        "lobster",
        "file-name",
        b"\0AAPL_2012-06-21_34200000_57600000_message_10.csv".to_vec(),
    );
    out.add(
        "replay",
        "lobster-aapl",
        [&[1u8][..], &head(&msg, 80)].concat(),
    );

    // JSON venues: single frames, a few of each kind; P (80) is 8 price and 8 size decimals,
    // 29 is 2 and 3 (USD-M futures BTCUSDT).
    let usdm = read(&shared.join("binance/usdm_btcusdt_20240808.gz"));
    let cf = |n: &str| read(&shared.join("cryptofeed").join(n));
    frames(&mut out, "binance", "spot", &spot, b"P", 20);
    frames(&mut out, "binance", "usdm", &usdm, &[29], 20);
    frames(
        &mut out,
        "binance",
        "cf-spot",
        &cf("BINANCE.ws.1.0"),
        b"P",
        20,
    );
    frames(
        &mut out,
        "binance",
        "cf-futures",
        &cf("BINANCE_FUTURES.ws.1.0"),
        b"P",
        20,
    );
    out.add("binance", "rest-depth", [&b"P"[..], &rest].concat());
    let coinbase = cf("COINBASE.ws.28.0");
    frames(&mut out, "coinbase", "cf", &coinbase, b"P", 30);
    frames(
        &mut out,
        "coinbase",
        "jsonl",
        &read(&data.join("coinbase_skl-gbp.jsonl")),
        b"P",
        20,
    );
    let snap = read(&data.join("json/coinbase_snapshot_band-gbp.json"));
    out.add("coinbase", "snapshot", [&b"P"[..], &snap].concat());
    let adv = read(&data.join("json/coinbase_advanced_snapshot_band-gbp_200.json"));
    out.add(
        "coinbase_advanced",
        "snapshot-200",
        [&b"P"[..], &adv[..]].concat(),
    );
    out.add(
        "coinbase_advanced",
        "l2-update",
        [&b"P"[..], ADV_L2_UPDATE.as_bytes()].concat(),
    );
    out.add(
        "coinbase_advanced",
        "trades",
        [&b"P"[..], ADV_TRADES.as_bytes()].concat(),
    );
    let (k48, k49) = (cf("KRAKEN.ws.48.0"), cf("KRAKEN.ws.49.0"));
    frames(&mut out, "kraken", "v1-48", &k48, b"", 20);
    frames(&mut out, "kraken", "v1-49", &k49, b"", 20);
    out.add("kraken", "v2-book", KRAKEN_V2_BOOK.as_bytes().to_vec());

    // Capture lines of each container.
    out.add("capture", "ns-lines", head(&spot, 6));
    out.add(
        "capture",
        "cryptofeed-binance",
        head(&cf("BINANCE.ws.1.0"), 6),
    );
    out.add(
        "capture",
        "cryptofeed-http",
        head(&cf("BINANCE.http.0.0"), 1)[..2000].to_vec(),
    );
    out.add("capture", "cryptofeed-kraken", head(&k48, 8));
    out.add(
        "capture",
        "jsonl",
        head(&read(&data.join("coinbase_skl-gbp.jsonl")), 6),
    );

    // Configs: the example execution config, each strategy's keys at their defaults, the
    // websocket source, a latency CSV.
    out.add(
        "config",
        "exec-example",
        [&[0u8][..], &read(&data.join("exec-example.toml"))].concat(),
    );
    for (i, info) in ticklane_strategies::list().iter().enumerate() {
        let k = ["obi_taker", "ema_cross", "mean_reversion", "market_maker"]
            .iter()
            .position(|n| *n == info.name)
            .unwrap_or(i);
        let toml: String = info
            .keys
            .iter()
            .map(|k| format!("{} = {}\n", k.key, k.default))
            .collect();
        out.add(
            "config",
            &format!("strategy-{}", info.name),
            [&[k as u8 + 1][..], toml.as_bytes()].concat(),
        );
    }
    out.add(
        "config",
        "mm-btcusdt",
        [&[4u8][..], &read(&data.join("mm-btcusdt.toml"))].concat(),
    );
    out.add(
        "config",
        "ws-binance",
        [&[5u8][..], WS_BINANCE.as_bytes()].concat(),
    );
    out.add(
        "config",
        "ws-coinbase",
        [&[5u8][..], WS_COINBASE.as_bytes()].concat(),
    );
    out.add(
        "config",
        "latency-csv",
        [&[6u8][..], LATENCY_CSV.as_bytes()].concat(),
    );

    // End to end: short captures of each L2 venue.
    // Lines of at most 2 KB: no full-book snapshot, so these books start unsynced (bit 7 of
    // the first byte reports them anyway).
    let short = |b: &[u8], n| head_short(b, n, 2048);
    out.add(
        "replay",
        "binance-spot",
        [&[0x82u8][..], &short(&spot, 25)].concat(),
    );
    let nkn = read(&data.join("binance_nknusdt.cryptofeed"));
    out.add(
        "replay",
        "binance-nknusdt",
        [&[2u8][..], &short(&nkn, 25)].concat(),
    );
    out.add(
        "replay",
        "coinbase",
        [&[0x83u8][..], &short(&coinbase, 25)].concat(),
    );
    let cb = read(&data.join("coinbase_skl-gbp.jsonl"));
    out.add(
        "replay",
        "coinbase-jsonl",
        [&[3u8][..], &short(&cb, 40)].concat(),
    );
    out.add("replay", "kraken", [&[4u8][..], &head(&k49, 60)].concat());

    out.write().expect("writing the corpus");
}

const ADV_L2_UPDATE: &str = r#"{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":7,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"2023-02-09T20:32:50.714964855Z","price_level":"21921.73","new_quantity":"0.06317902"},{"side":"offer","event_time":"2023-02-09T20:32:50.714964855Z","price_level":"21921.74","new_quantity":"0"}]}]}"#;
const ADV_TRADES: &str = r#"{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":3,"events":[{"type":"update","trades":[{"trade_id":"1","product_id":"ETH-USD","price":"1260.01","size":"0.3","side":"BUY","time":"2019-08-14T20:42:27.265Z"},{"trade_id":"2","product_id":"ETH-USD","price":"1260.00","size":"1","side":"SELL","time":"2019-08-14T20:42:27.266Z"}]}]}"#;
const KRAKEN_V2_BOOK: &str = r#"{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":45284.0,"qty":0.5}],"asks":[{"price":45285.2,"qty":0}],"checksum":3682069327,"timestamp":"2023-10-06T17:35:55.440295Z"}]}"#;
const WS_BINANCE: &str = "venue = \"binance\"\nurl = \"wss://stream.binance.com:9443/ws\"\nsymbols = [\"BTCUSDT\"]\nchannels = [\"depth@100ms\", \"trade\", \"bookTicker\"]\nrest_url = \"https://api.binance.com\"\nsnapshot_depth = 1000\n";
const WS_COINBASE: &str = "venue = \"coinbase\"\nurl = \"wss://ws-feed.exchange.coinbase.com\"\nsymbols = [\"BTC-USD\", \"ETH-USD\"]\nchannels = [\"level2\", \"matches\", \"ticker\"]\n";
const LATENCY_CSV: &str = "ts_ns,entry_ns,response_ns\n0,100,50\n1000,300,70\n5000,250,60\n";
