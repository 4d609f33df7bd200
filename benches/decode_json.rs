//! JSON decode per message type, one criterion group each: our decoder (frame copied into a
//! reused buffer, decoded into typed records, decimals converted to integers), our simd-json
//! tape path alone (what the one-pass path in front of it falls back to), and the same typed
//! records through `serde_json` (derived `Deserialize` on parallel structs with borrowed
//! strings, then the same exact decimal conversion). The cases (every Binance, Coinbase
//! Exchange, Coinbase Advanced Trade and Kraken v2 book message type the feeds decode) live in
//! the library (`ticklane_replay::bench::json_cases`), shared with `ticklane bench json`, which
//! prints the ratios from one process.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

use ticklane_replay::bench::json_cases::{Decoders, CASES};

fn bench(c: &mut Criterion) {
    let mut d = Decoders::default();
    for case in &CASES {
        let mut g = c.benchmark_group(case.name);
        g.sample_size(30);
        g.warm_up_time(std::time::Duration::from_millis(500));
        g.measurement_time(std::time::Duration::from_secs(2));
        let mut paths = vec![("ticklane", case.ours), ("serde_json", case.serde)];
        if let Some(t) = case.tape {
            paths.insert(1, ("simd_json_tape", t));
        }
        for (name, f) in paths {
            g.bench_function(name, |b| b.iter(|| f(&mut d, black_box(case.frame))));
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
