//! Every indicator against a naive recomputation over its whole window, on random inputs,
//! through warm-up and window eviction: exact for integer features, 1e-9 relative for floats.

use proptest::prelude::*;

use super::bars::{TimeBars, VolumeBars};
use super::book::{Ofi, TradeFlowImbalance};
use super::ma::{Ema, Sma, Wma};
use super::oscillators::{Bollinger, Macd, Rsi};
use super::rolling::{RollingMinMax, RollingStd};
use super::vwap::{RealizedVol, SessionVwap, WindowVwap};
use crate::book::{Level, Top};
use crate::{Nanos, Px, Qty, Side};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn close_opt(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => close(x, y),
        (None, None) => true,
        _ => false,
    }
}

fn prices() -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec((1_000_000i64..1_010_000).prop_map(|v| v as f64), 0..300)
}

fn naive_ema_seeded(xs: &[f64], n: usize) -> Option<f64> {
    if xs.len() < n {
        return None;
    }
    let a = 2.0 / (n as f64 + 1.0);
    let mut v = xs[..n].iter().sum::<f64>() / n as f64;
    for &x in &xs[n..] {
        v += a * (x - v);
    }
    Some(v)
}

proptest! {
    #[test]
    fn sma_wma_ema(xs in prices(), n in 1usize..40) {
        let (mut s, mut w, mut e) = (Sma::new(n), Wma::new(n), Ema::new(n));
        for i in 0..xs.len() {
            s.update(xs[i]);
            w.update(xs[i]);
            e.update(xs[i]);
            let seen = &xs[..=i];
            let win = &seen[seen.len().saturating_sub(n)..];
            let full = seen.len() >= n;
            let sma = full.then(|| win.iter().sum::<f64>() / n as f64);
            let wma = full.then(|| {
                win.iter().enumerate().map(|(k, x)| (k + 1) as f64 * x).sum::<f64>() / (n * (n + 1) / 2) as f64
            });
            prop_assert!(close_opt(s.value(), sma), "sma {:?} {:?}", s.value(), sma);
            prop_assert!(close_opt(w.value(), wma), "wma {:?} {:?}", w.value(), wma);
            prop_assert!(close_opt(e.value(), naive_ema_seeded(seen, n)));
        }
    }

    #[test]
    fn rolling_min_max_std_z(xs in prices(), n in 1usize..40) {
        let (mut mm, mut sd) = (RollingMinMax::new(n), RollingStd::new(n));
        for i in 0..xs.len() {
            mm.update(xs[i]);
            sd.update(xs[i]);
            let seen = &xs[..=i];
            let win = &seen[seen.len().saturating_sub(n)..];
            let full = seen.len() >= n;
            prop_assert_eq!(mm.min(), full.then(|| win.iter().cloned().fold(f64::INFINITY, f64::min)));
            prop_assert_eq!(mm.max(), full.then(|| win.iter().cloned().fold(f64::NEG_INFINITY, f64::max)));
            let mean = win.iter().sum::<f64>() / win.len() as f64;
            let var = win.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / win.len() as f64;
            prop_assert!(close_opt(sd.mean(), full.then_some(mean)));
            // std from sums of squares: compare relative to the price scale.
            if let Some(s) = sd.std() {
                prop_assert!((s - var.sqrt()).abs() <= 1e-9 * mean, "std {} vs {}", s, var.sqrt());
            } else {
                prop_assert!(!full);
            }
        }
    }

    #[test]
    fn rsi_macd_bollinger(xs in prices(), n in 2usize..20) {
        let mut rsi = Rsi::new(n);
        let mut macd = Macd::new(3, 7, 4);
        let mut bb = Bollinger::new(n, 2.0);
        for i in 0..xs.len() {
            rsi.update(xs[i]);
            macd.update(xs[i]);
            bb.update(xs[i]);
            let seen = &xs[..=i];
            // RSI: Wilder, seeded with the plain averages of the first n changes.
            let naive_rsi = (seen.len() > n).then(|| {
                let ch: Vec<f64> = seen.windows(2).map(|w| w[1] - w[0]).collect();
                let mut g = ch[..n].iter().map(|c| c.max(0.0)).sum::<f64>() / n as f64;
                let mut l = ch[..n].iter().map(|c| (-c).max(0.0)).sum::<f64>() / n as f64;
                for c in &ch[n..] {
                    g = (g * (n as f64 - 1.0) + c.max(0.0)) / n as f64;
                    l = (l * (n as f64 - 1.0) + (-c).max(0.0)) / n as f64;
                }
                if l == 0.0 { if g == 0.0 { 50.0 } else { 100.0 } } else { 100.0 - 100.0 / (1.0 + g / l) }
            });
            prop_assert!(close_opt(rsi.value(), naive_rsi), "rsi {:?} {:?}", rsi.value(), naive_rsi);
            // MACD from seeded EMAs.
            let naive_macd = (|| {
                let mut line = Vec::new();
                for j in 0..seen.len() {
                    if let (Some(f), Some(s)) = (naive_ema_seeded(&seen[..=j], 3), naive_ema_seeded(&seen[..=j], 7)) {
                        line.push(f - s);
                    }
                }
                let sig = naive_ema_seeded(&line, 4)?;
                Some((line[line.len() - 1], sig))
            })();
            match (macd.value(), naive_macd) {
                (Some(v), Some((m, s))) => prop_assert!(close(v.macd, m) && close(v.signal, s) && close(v.histogram, m - s)),
                (None, None) => {}
                (a, b) => prop_assert!(false, "macd {:?} vs {:?}", a, b),
            }
            let win = &seen[seen.len().saturating_sub(n)..];
            if let Some(b) = bb.value() {
                let m = win.iter().sum::<f64>() / n as f64;
                let sd = (win.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64).sqrt();
                prop_assert!(close(b.middle, m));
                prop_assert!((b.upper - (m + 2.0 * sd)).abs() <= 1e-9 * m && (b.lower - (m - 2.0 * sd)).abs() <= 1e-9 * m);
            } else {
                prop_assert!(seen.len() < n);
            }
        }
    }

    #[test]
    fn vwaps_and_realized_vol(trades in proptest::collection::vec((0u64..5_000, 10_000i64..10_100, 1u64..500), 0..200), window in 1u64..20_000) {
        let mut ts = 0u64;
        let mut all: Vec<(u64, i64, u64)> = Vec::new();
        let (mut sv, mut wv, mut rv) = (SessionVwap::new(), WindowVwap::new(Nanos(window), 4), RealizedVol::new(Nanos(window), 4));
        for (dt, px, q) in trades {
            ts += dt;
            all.push((ts, px, q));
            sv.update(Px(px), Qty(q));
            wv.update(Nanos(ts), Px(px), Qty(q));
            rv.update(Nanos(ts), px as f64);
            let pq: f64 = all.iter().map(|t| t.1 as f64 * t.2 as f64).sum();
            let qq: u64 = all.iter().map(|t| t.2).sum();
            prop_assert!(close_opt(sv.value(), Some(pq / qq as f64)));
            let inwin: Vec<_> = all.iter().filter(|t| t.0 + window > ts).collect();
            let wq: u64 = inwin.iter().map(|t| t.2).sum();
            let wpq: f64 = inwin.iter().map(|t| t.1 as f64 * t.2 as f64).sum();
            prop_assert!(close_opt(wv.value(), (wq > 0).then(|| wpq / wq as f64)));
            // Returns are stamped at the later observation's time.
            let r2: Vec<f64> = all.windows(2).filter(|w| w[1].0 + window > ts).map(|w| ((w[1].1 as f64) / (w[0].1 as f64)).ln().powi(2)).collect();
            let want = (!r2.is_empty()).then(|| r2.iter().sum::<f64>().sqrt());
            match (rv.value(), want) {
                (Some(a), Some(b)) => prop_assert!((a - b).abs() <= 1e-9, "{} {}", a, b),
                (None, None) => {}
                (a, b) => prop_assert!(false, "rv {:?} vs {:?}", a, b),
            }
        }
    }

    #[test]
    #[allow(clippy::type_complexity)] // (bucket, trades) groups, spelled out for the naive check
    fn bars(trades in proptest::collection::vec((0u64..700, 100i64..200, 1u64..50), 1..200), interval in 1u64..2_000, per_bar in 1u64..300) {
        let (mut tb, mut vb) = (TimeBars::new(Nanos(interval)), VolumeBars::new(Qty(per_bar)));
        let mut ts = 0u64;
        let mut closed_t = Vec::new();
        let mut closed_v = Vec::new();
        let mut all = Vec::new();
        for (dt, px, q) in trades {
            ts += dt;
            all.push((ts, px, q));
            if let Some(b) = tb.update(Nanos(ts), Px(px), Qty(q)) { closed_t.push(b); }
            if let Some(b) = vb.update(Nanos(ts), Px(px), Qty(q)) { closed_v.push(b); }
        }
        // Naive time bars: group by ts / interval.
        let mut groups: Vec<(u64, Vec<(u64, i64, u64)>)> = Vec::new();
        for &t in &all {
            let k = t.0 / interval;
            match groups.last_mut() { Some((g, v)) if *g == k => v.push(t), _ => groups.push((k, vec![t])) }
        }
        prop_assert_eq!(closed_t.len() + 1, groups.len());
        for (b, (k, v)) in closed_t.iter().chain(tb.current()).zip(&groups) {
            prop_assert_eq!(b.start.0, k * interval);
            prop_assert_eq!(b.open.0, v[0].1);
            prop_assert_eq!(b.close.0, v[v.len() - 1].1);
            prop_assert_eq!(b.high.0, v.iter().map(|t| t.1).max().unwrap());
            prop_assert_eq!(b.low.0, v.iter().map(|t| t.1).min().unwrap());
            prop_assert_eq!(b.volume.0, v.iter().map(|t| t.2).sum::<u64>());
        }
        // Naive volume bars.
        let (mut acc, mut n_closed) = (0u64, 0usize);
        for t in &all { acc += t.2; if acc >= per_bar { n_closed += 1; acc = 0; } }
        prop_assert_eq!(closed_v.len(), n_closed);
        prop_assert!(closed_v.iter().all(|b| b.volume.0 >= per_bar));
        let total: u64 = closed_v.iter().map(|b| b.volume.0).sum::<u64>() + vb.current().map_or(0, |b| b.volume.0);
        prop_assert_eq!(total, all.iter().map(|t| t.2).sum::<u64>());
    }

    #[test]
    fn ofi_and_trade_flow(tops in proptest::collection::vec((0i64..4, 1u64..100, 0i64..4, 1u64..100), 0..150),
                          trades in proptest::collection::vec((any::<bool>(), 1u64..100), 0..150), n in 1usize..20) {
        let mut ofi = Ofi::new(n);
        let mut seen = Vec::new();
        for (b, bq, a, aq) in tops {
            let top = Top {
                bid: Some(Level { px: Px(100 + b), qty: Qty(bq), orders: 1 }),
                ask: Some(Level { px: Px(105 + a), qty: Qty(aq), orders: 1 }),
            };
            ofi.update(&top);
            seen.push((Px(100 + b), Qty(bq), Px(105 + a), Qty(aq)));
            let es: Vec<i64> = seen.windows(2).map(|w| Ofi::event(w[0], w[1])).collect();
            let want = (es.len() >= n).then(|| es[es.len() - n..].iter().sum::<i64>());
            prop_assert_eq!(ofi.value(), want);
        }
        let mut tfi = TradeFlowImbalance::new(n);
        let mut tv = Vec::new();
        for (ask, q) in trades {
            tfi.update(if ask { Side::Ask } else { Side::Bid }, Qty(q));
            tv.push(if ask { q as i64 } else { -(q as i64) });
            let want = (tv.len() >= n).then(|| {
                let w = &tv[tv.len() - n..];
                w.iter().sum::<i64>() as f64 / w.iter().map(|v| v.unsigned_abs()).sum::<u64>() as f64
            });
            prop_assert!(close_opt(tfi.value(), want));
        }
    }
}

#[test]
fn book_feature_formulas() {
    use super::book::*;
    let l = |px, qty| Level {
        px: Px(px),
        qty: Qty(qty),
        orders: 1,
    };
    let top = Top {
        bid: Some(l(100, 300)),
        ask: Some(l(102, 100)),
    };
    assert_eq!(spread(&top), Some(2));
    assert_eq!(mid(&top), Some(101.0));
    // More bid size: the microprice leans toward the ask: (100*100 + 102*300) / 400 = 101.5.
    assert_eq!(microprice(&top), Some(101.5));
    let bids = [l(100, 300), l(99, 100)];
    let asks = [l(102, 100), l(103, 100)];
    assert_eq!(imbalance(bids.iter(), asks.iter(), 1), Some(0.5));
    assert_eq!(
        imbalance(bids.iter(), asks.iter(), 2),
        Some(0.333_333_333_333_333_3)
    );
    // (99.75 + 102.5) / 2
    assert_eq!(weighted_mid(bids.iter(), asks.iter(), 2), Some(101.125));
    assert_eq!(
        microprice(&Top {
            bid: None,
            ask: Some(l(1, 1))
        }),
        None
    );
}
