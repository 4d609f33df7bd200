//! The threaded pipeline gives exactly the inline run's results, whatever the layout: same
//! digest, same BBO CSV, same summary counts; and it finishes with more stages than cores (this
//! machine has 2). `pipeline_threads.rs` checks that no thread is left behind.

use ticklane_engine::wait::WaitStrategy;
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_feeds::itch::synth::{generate, SynthConfig};
use ticklane_replay::stages::pipeline::{replay_itch_threaded, PipelineConfig};
use ticklane_replay::{replay_itch, ItchReplayOptions, Summary};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../data/AAPL_2012-06-21_lobster10.itch"
);

fn inline(data: &[u8]) -> (Summary, String) {
    let mut csv = Vec::new();
    let s = {
        let opts = ItchReplayOptions {
            bbo_csv: Some(Box::new(&mut csv)),
            ..Default::default()
        };
        replay_itch(FrameReader::new(data), opts).unwrap()
    };
    (s, String::from_utf8(csv).unwrap())
}

fn threaded(data: &[u8], shards: usize, wait: WaitStrategy) -> (Summary, String) {
    let mut csv = Vec::new();
    let s = {
        let opts = ItchReplayOptions {
            bbo_csv: Some(Box::new(&mut csv)),
            ..Default::default()
        };
        let cfg = PipelineConfig {
            shards,
            cores: Vec::new(),
            wait,
            rate: None,
            epoch: if shards == 3 { 7 } else { 1024 },
            // Recording latency or not, the outputs are the same.
            latency: shards.is_multiple_of(2),
        };
        replay_itch_threaded(
            FrameReader::new(std::io::Cursor::new(data.to_vec())),
            opts,
            &cfg,
        )
        .unwrap()
        .summary
    };
    (s, String::from_utf8(csv).unwrap())
}

fn same(a: &(Summary, String), b: &(Summary, String), what: &str) {
    assert_eq!(a.0.digest, b.0.digest, "{what}: digest");
    assert_eq!(a.1, b.1, "{what}: BBO CSV");
    assert_eq!(
        (
            a.0.messages,
            a.0.book_events,
            a.0.trades,
            a.0.volume,
            a.0.bbo_changes,
            a.0.resting_orders
        ),
        (
            b.0.messages,
            b.0.book_events,
            b.0.trades,
            b.0.volume,
            b.0.bbo_changes,
            b.0.resting_orders
        ),
        "{what}: counts"
    );
    assert_eq!(a.0.top_symbols, b.0.top_symbols, "{what}: top symbols");
}

#[test]
fn real_sample_same_digest_in_every_layout() {
    let data = std::fs::read(SAMPLE).unwrap();
    let reference = inline(&data);
    assert_eq!(reference.0.errors.total(), 0);
    for shards in [1, 2, 3] {
        same(
            &reference,
            &threaded(&data, shards, WaitStrategy::SpinThenYield),
            &format!("{shards} shards"),
        );
    }
    for run in 0..3 {
        same(&reference, &inline(&data), &format!("inline run {run}"));
    }
}

#[test]
fn multi_symbol_stream_same_digest_with_more_stages_than_cores() {
    let cfg = SynthConfig {
        seed: 21,
        symbols: 60,
        messages: 300_000,
        ..SynthConfig::default()
    };
    let mut data = Vec::new();
    generate(&cfg, &mut data).unwrap();
    let reference = inline(&data);
    assert!(reference.0.bbo_changes > 100_000);
    // 2 shards with spin-then-yield; 6 shards (8 threads on 2 cores) with park.
    same(
        &reference,
        &threaded(&data, 2, WaitStrategy::SpinThenYield),
        "2 shards",
    );
    same(
        &reference,
        &threaded(&data, 6, WaitStrategy::Park),
        "6 shards, park",
    );
    same(
        &reference,
        &threaded(&data, 3, WaitStrategy::SpinThenYield),
        "3 shards",
    );
}

#[test]
fn not_itch_is_reported_by_the_threaded_pipeline_too() {
    let text = b"this is not an ITCH file, just some text that goes on for a while\n".repeat(10);
    let cfg = PipelineConfig::default();
    let r = replay_itch_threaded(
        FrameReader::new(std::io::Cursor::new(text)),
        ItchReplayOptions::default(),
        &cfg,
    );
    assert!(matches!(r, Err(ticklane_replay::ReplayError::NotItch(_))));
}

/// Byte offsets of every order-referencing message (execute, cancel, delete, replace) of a
/// BinaryFILE, at its message type byte.
fn order_messages(data: &[u8]) -> Vec<usize> {
    let mut at = Vec::new();
    let mut i = 0;
    while i + 2 < data.len() {
        let n = u16::from_be_bytes([data[i], data[i + 1]]) as usize;
        if matches!(data[i + 2], b'E' | b'C' | b'X' | b'D' | b'U') {
            at.push(i + 2);
        }
        i += 2 + n;
    }
    at
}

/// A message whose stock locate disagrees with its order's is refused by one rule in every
/// layout (the order is unknown under that locate), so inline and sharded runs build the same
/// books and print the same digest and counts. Before the rule, inline runs resolved such a
/// message by order reference while sharded runs routed it by locate.
#[test]
fn corrupted_locates_give_one_digest_in_every_layout() {
    let data = std::fs::read(SAMPLE).unwrap();
    let at = order_messages(&data);
    assert!(at.len() > 400, "the sample has {} order messages", at.len());
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut refused = 0;
    for copy in 0..24 {
        let mut d = data.clone();
        // Three order messages per copy get another locate (AAPL's is 1 in the sample; 2..=4
        // land in other shards of a 2- or 3-shard layout than 1 does, or in the same one).
        for _ in 0..3 {
            let t = at[(next() % at.len() as u64) as usize];
            let locate = 2 + (next() % 3) as u16;
            d[t + 1..t + 3].copy_from_slice(&locate.to_be_bytes());
        }
        let one = inline(&d);
        refused += one.0.errors.unknown_order;
        for shards in [2, 3] {
            let other = threaded(&d, shards, WaitStrategy::SpinThenYield);
            same(&one, &other, &format!("copy {copy}, {shards} shards"));
            assert_eq!(
                one.0.errors.unknown_order, other.0.errors.unknown_order,
                "copy {copy}, {shards} shards: orders unknown under their locate"
            );
            assert_eq!(
                one.0.errors.overfill, other.0.errors.overfill,
                "copy {copy}, {shards} shards: overfills"
            );
        }
    }
    // Every corrupted message names an order that does not rest under its new locate (some
    // also leave a later message of the same order unknown, or hit an order already gone).
    assert!(refused >= 24 * 3, "{refused} refused");
}

/// Latency is recorded only when asked: off, the histograms stay empty (no clock read or sample
/// per event); on, every event and every output has its sample. The outputs are the same.
#[test]
fn latency_is_recorded_only_when_asked() {
    let data = std::fs::read(SAMPLE).unwrap();
    let run = |latency: bool| {
        let cfg = PipelineConfig {
            latency,
            ..PipelineConfig::default()
        };
        replay_itch_threaded(
            FrameReader::new(std::io::Cursor::new(data.clone())),
            ItchReplayOptions::default(),
            &cfg,
        )
        .unwrap()
    };
    let (off, on) = (run(false), run(true));
    assert_eq!(off.summary.digest, on.summary.digest);
    assert_eq!(off.latency.ingest_to_book.len(), 0);
    assert_eq!(off.latency.ingest_to_output.len(), 0);
    assert!(on.latency.ingest_to_book.len() >= on.summary.book_events.max(1));
    assert!(on.latency.ingest_to_output.len() >= on.summary.bbo_changes);
}
