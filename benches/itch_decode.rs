//! ITCH 5.0 decode throughput: per message type, and a whole generated multi-symbol stream
//! (framing + decode), on bytes already in memory.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ticklane_feeds::itch::framing::SliceFrames;
use ticklane_feeds::itch::synth::{generate, SynthConfig};
use ticklane_feeds::itch::{decode, msg::MESSAGE_TYPES};

fn stream() -> Vec<u8> {
    let cfg = SynthConfig {
        seed: 7,
        symbols: 200,
        messages: 1_000_000,
        ..SynthConfig::default()
    };
    let mut out = Vec::new();
    generate(&cfg, &mut out).expect("generating into memory cannot fail");
    out
}

fn bench(c: &mut Criterion) {
    let data = stream();
    // One sample message of each type found in the stream, for per-type numbers.
    let mut samples: Vec<(u8, Vec<u8>)> = Vec::new();
    for f in SliceFrames::new(&data).flatten() {
        let ty = f.bytes[0];
        if !samples.iter().any(|(t, _)| *t == ty) {
            samples.push((ty, f.bytes.to_vec()));
        }
    }
    samples.sort_by_key(|(t, _)| MESSAGE_TYPES.iter().position(|(x, _)| x == t));

    let mut g = c.benchmark_group("itch_decode");
    for (ty, bytes) in &samples {
        g.throughput(Throughput::Elements(1));
        g.bench_function(format!("msg_{}", *ty as char), |b| {
            b.iter(|| decode(black_box(bytes)))
        });
    }
    let msgs = SliceFrames::new(&data).count() as u64;
    g.throughput(Throughput::Elements(msgs));
    g.sample_size(20);
    g.bench_function("stream_frame_and_decode", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for f in SliceFrames::new(black_box(&data)).flatten() {
                if let Ok(m) = decode(f.bytes) {
                    n = n.wrapping_add(m.common().timestamp);
                }
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
