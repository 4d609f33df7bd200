//! L3 book apply throughput over a generated multi-symbol order flow: events are decoded and
//! normalized up front, so only the book is timed. A `Vec<Event>` copy pass is the baseline the
//! book is compared against in the same run. The same flow runs twice: with the generator's
//! dense, increasing order ids, and with every id multiplied by a large odd constant mod 2^63
//! (ids far apart, as in per-symbol extracts of day-wide ids); the order table must not care.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ticklane_engine::book::L3Books;
use ticklane_engine::{Body, Event, Nanos, OrderId, SourceId};
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

/// The same events with every order id `r` replaced by `r * K mod 2^63` (a bijection).
fn sparse_ids(evs: &[Event]) -> Vec<Event> {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let f = |id: OrderId| OrderId(id.0.wrapping_mul(K) & (u64::MAX >> 1));
    evs.iter()
        .map(|e| {
            let mut e = *e;
            match &mut e.body {
                Body::Add { order_id, .. }
                | Body::Reduce { order_id, .. }
                | Body::Execute { order_id, .. }
                | Body::ExecuteAtPx { order_id, .. }
                | Body::Delete { order_id } => *order_id = f(*order_id),
                Body::Replace { old_id, new_id, .. } => {
                    *old_id = f(*old_id);
                    *new_id = f(*new_id);
                }
                _ => {}
            }
            e
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let evs = events();
    let sparse = sparse_ids(&evs);
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
    for (name, evs) in [
        ("l3_all_symbols", &evs),
        ("l3_all_symbols_sparse_ids", &sparse),
    ] {
        g.bench_function(name, |b| {
            b.iter_batched(
                || L3Books::with_capacity(256, 16, 0),
                |mut books| {
                    for e in evs {
                        let _ = black_box(books.apply(black_box(e)));
                    }
                    books
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
