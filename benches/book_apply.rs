//! L3 book apply throughput over a generated multi-symbol order flow: events are decoded and
//! normalized up front, so only the book is timed. A `Vec<Event>` copy pass is the baseline the
//! book is compared against in the same run.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ticklane_engine::book::L3Books;
use ticklane_engine::{Event, Nanos, SourceId};
use ticklane_feeds::itch::decode;
use ticklane_feeds::itch::framing::SliceFrames;
use ticklane_feeds::itch::normalize::Normalizer;
use ticklane_feeds::itch::synth::{generate, SynthConfig};

fn events() -> Vec<Event> {
    let cfg = SynthConfig {
        seed: 11,
        symbols: 200,
        messages: 1_000_000,
        ..SynthConfig::default()
    };
    let mut data = Vec::new();
    generate(&cfg, &mut data).expect("generating into memory cannot fail");
    let mut norm = Normalizer::new(SourceId(0));
    SliceFrames::new(&data)
        .flatten()
        .filter_map(|f| decode(f.bytes).ok())
        .enumerate()
        .filter_map(|(i, m)| norm.normalize(&m, i as u64, Nanos(0)))
        .collect()
}

fn bench(c: &mut Criterion) {
    let evs = events();
    let mut g = c.benchmark_group("book_apply");
    g.throughput(Throughput::Elements(evs.len() as u64));
    g.sample_size(20);
    g.bench_function("baseline_event_scan", |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for e in black_box(&evs) {
                acc = acc.wrapping_add(e.hdr.ts_exch.0);
            }
            acc
        })
    });
    g.bench_function("l3_all_symbols", |b| {
        b.iter_batched(
            || L3Books::with_capacity(256, 20, 1 << 16),
            |mut books| {
                for e in &evs {
                    let _ = black_box(books.apply(black_box(e)));
                }
                books
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
