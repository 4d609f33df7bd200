//! ns per update of every indicator, and ns per event of every built-in strategy, on inputs
//! prepared outside the timed loop.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ticklane_engine::book::{Level, Top};
use ticklane_engine::indicators::bars::{TimeBars, VolumeBars};
use ticklane_engine::indicators::book::{imbalance, microprice, Ofi, TradeFlowImbalance};
use ticklane_engine::indicators::ma::{Ema, Sma, Wma};
use ticklane_engine::indicators::oscillators::{Bollinger, Macd, Rsi};
use ticklane_engine::indicators::rolling::{RollingMinMax, RollingStd};
use ticklane_engine::indicators::vwap::{RealizedVol, SessionVwap, WindowVwap};
use ticklane_engine::{Nanos, Px, Qty, Side, SourceId};
use ticklane_feeds::itch::decode;
use ticklane_feeds::itch::framing::SliceFrames;
use ticklane_feeds::itch::normalize::Normalizer;
use ticklane_feeds::itch::synth::{generate, SynthConfig};
use ticklane_replay::stages::BookStage;

const N: usize = 10_000;

fn prices() -> Vec<f64> {
    let mut x = 1_000_000.0f64;
    let mut r = 0x2545_f491_4f6c_dd1du64;
    (0..N)
        .map(|_| {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            x += (r % 201) as f64 - 100.0;
            x
        })
        .collect()
}

macro_rules! per_update {
    ($g:expr, $name:literal, $make:expr, |$ind:ident, $i:ident, $x:ident| $body:expr) => {
        $g.bench_function($name, |b| {
            let xs = prices();
            b.iter_batched_ref(
                || $make,
                |$ind| {
                    for ($i, &$x) in xs.iter().enumerate() {
                        $body;
                    }
                },
                BatchSize::SmallInput,
            )
        });
    };
}

fn indicators(c: &mut Criterion) {
    let mut g = c.benchmark_group("indicators");
    g.throughput(Throughput::Elements(N as u64));
    per_update!(g, "sma_50", Sma::new(50), |s, _i, x| {
        s.update(x);
        black_box(s.value())
    });
    per_update!(g, "ema_50", Ema::new(50), |s, _i, x| {
        s.update(x);
        black_box(s.value())
    });
    per_update!(g, "wma_50", Wma::new(50), |s, _i, x| {
        s.update(x);
        black_box(s.value())
    });
    per_update!(
        g,
        "rolling_min_max_50",
        RollingMinMax::new(50),
        |s, _i, x| {
            s.update(x);
            black_box((s.min(), s.max()))
        }
    );
    per_update!(g, "rolling_std_z_50", RollingStd::new(50), |s, _i, x| {
        s.update(x);
        black_box(s.zscore())
    });
    per_update!(g, "rsi_14", Rsi::new(14), |s, _i, x| {
        s.update(x);
        black_box(s.value())
    });
    per_update!(g, "macd_12_26_9", Macd::new(12, 26, 9), |s, _i, x| {
        s.update(x);
        black_box(s.value())
    });
    per_update!(g, "bollinger_20_2", Bollinger::new(20, 2.0), |s, _i, x| {
        s.update(x);
        black_box(s.value())
    });
    per_update!(g, "vwap_session", SessionVwap::new(), |s, i, x| {
        s.update(Px(x as i64), Qty(i as u64 % 500 + 1));
        black_box(s.value())
    });
    per_update!(
        g,
        "vwap_window_1ms",
        WindowVwap::new(Nanos(1_000_000), 256),
        |s, i, x| {
            s.update(Nanos(i as u64 * 10_000), Px(x as i64), Qty(100));
            black_box(s.value())
        }
    );
    per_update!(
        g,
        "realized_vol_1ms",
        RealizedVol::new(Nanos(1_000_000), 256),
        |s, i, x| {
            s.update(Nanos(i as u64 * 10_000), x);
            black_box(s.value())
        }
    );
    per_update!(
        g,
        "time_bars_100us",
        TimeBars::new(Nanos(100_000)),
        |s, i, x| { black_box(s.update(Nanos(i as u64 * 10_000), Px(x as i64), Qty(100))) }
    );
    per_update!(
        g,
        "volume_bars_5000",
        VolumeBars::new(Qty(5_000)),
        |s, i, x| { black_box(s.update(Nanos(i as u64), Px(x as i64), Qty(100))) }
    );
    let top = |x: f64, i: usize| Top {
        bid: Some(Level {
            px: Px(x as i64),
            qty: Qty(100 + (i as u64 % 7) * 50),
            orders: 1,
        }),
        ask: Some(Level {
            px: Px(x as i64 + 100),
            qty: Qty(100 + (i as u64 % 5) * 70),
            orders: 1,
        }),
    };
    per_update!(g, "microprice", (), |_s, i, x| {
        black_box(microprice(&top(x, i)))
    });
    per_update!(g, "ofi_100", Ofi::new(100), |s, i, x| {
        s.update(&top(x, i));
        black_box(s.value())
    });
    per_update!(
        g,
        "trade_flow_100",
        TradeFlowImbalance::new(100),
        |s, i, _x| {
            s.update(if i % 3 == 0 { Side::Bid } else { Side::Ask }, Qty(100));
            black_box(s.value())
        }
    );
    per_update!(g, "imbalance_top5", [Level::default(); 5], |lv, i, x| {
        lv[i % 5] = Level {
            px: Px(x as i64),
            qty: Qty(i as u64 % 300 + 1),
            orders: 1,
        };
        black_box(imbalance(lv.iter(), lv.iter().rev(), 5))
    });
    g.finish();
}

fn strategy_eval(c: &mut Criterion) {
    let cfg = SynthConfig {
        seed: 4,
        symbols: 50,
        messages: 200_000,
        ..SynthConfig::default()
    };
    let mut data = Vec::new();
    generate(&cfg, &mut data).expect("generating into memory cannot fail");
    let mut norm = Normalizer::new(SourceId(0));
    let events: Vec<_> = SliceFrames::new(&data)
        .flatten()
        .filter_map(|f| decode(f.bytes).ok())
        .enumerate()
        .filter_map(|(i, m)| norm.normalize(&m, i as u64, Nanos(0)))
        .collect();
    let mut g = c.benchmark_group("strategy_eval");
    g.throughput(Throughput::Elements(events.len() as u64));
    g.sample_size(10);
    // Baseline: the same book stage with no strategy; the difference is the strategy's cost.
    g.bench_function("none", |b| {
        b.iter_batched_ref(
            BookStage::new,
            |st| {
                for e in &events {
                    st.on_event(e, &mut |o| {
                        black_box(o);
                    });
                }
            },
            BatchSize::LargeInput,
        )
    });
    for name in ["obi_taker", "ema_cross", "mean_reversion", "market_maker"] {
        g.bench_function(name, |b| {
            b.iter_batched_ref(
                || {
                    BookStage::with_strategy(
                        ticklane_strategies::build(name, None).expect("built-in"),
                    )
                },
                |st| {
                    for e in &events {
                        st.on_event(e, &mut |o| {
                            black_box(o);
                        });
                    }
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, indicators, strategy_eval);
criterion_main!(benches);
