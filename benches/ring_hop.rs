//! One-way hop and round trip of a 64-byte `Event` between two threads, through our ring
//! facade, raw `rtrb`, crossbeam's `ArrayQueue` and `std::sync::mpsc::sync_channel`, in one
//! criterion group so the ratios come from the same run. Read it as: facade / raw rtrb should be
//! within a few percent (the facade adds counters once per batch); the others are the usual
//! alternatives. Every waiting loop spins briefly then yields, so the bench also behaves on a
//! 2-core machine; threads are pinned to cores 0 and 1 when there are two or more.

use std::hint::black_box;
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use crossbeam_queue::ArrayQueue;
use ticklane_engine::ring::ring;
use ticklane_engine::wait::{SpinThenYield, Waiter};
use ticklane_engine::{Body, Event, Header, OrderId};

const N: u64 = 100_000;
const CAP: usize = 4096;

fn ev(i: u64) -> Event {
    Event { hdr: Header { seq: i, ..Header::default() }, body: Body::Delete { order_id: OrderId(i) } }
}

fn pin(i: usize) {
    if let Some(ids) = core_affinity::get_core_ids() {
        if ids.len() >= 2 {
            core_affinity::set_for_current(ids[i % ids.len()]);
        }
    }
}

/// Times `iters` transfers of N events one way; returns the total time.
fn one_way<S, R>(iters: u64, make: impl Fn() -> (S, R), send: fn(&mut S, Event), recv: fn(&mut R) -> Option<Event>) -> Duration
where
    S: Send + 'static,
    R: Send + 'static,
{
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let (mut s, mut r) = make();
        let producer = thread::spawn(move || {
            pin(0);
            for i in 0..N {
                send(&mut s, ev(i));
            }
            s
        });
        pin(1);
        let t = Instant::now();
        let mut got = 0u64;
        let mut w = SpinThenYield::default();
        while got < N {
            match recv(&mut r) {
                Some(e) => {
                    black_box(e);
                    got += 1;
                    w.reset();
                }
                None => w.wait(),
            }
        }
        total += t.elapsed();
        drop(producer.join());
    }
    total
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("ring_hop");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N));

    g.bench_function("one_way/facade_batch64", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (mut tx, mut rx) = ring::<Event>(CAP, "bench");
                let producer = thread::spawn(move || {
                    pin(0);
                    let mut w = SpinThenYield::default();
                    let mut buf = [ev(0); 64];
                    let mut i = 0;
                    while i < N {
                        let k = (N - i).min(64) as usize;
                        for (j, e) in buf[..k].iter_mut().enumerate() {
                            *e = ev(i + j as u64);
                        }
                        tx.push_batch_wait(&buf[..k], &mut w).unwrap();
                        i += k as u64;
                    }
                });
                pin(1);
                let t = Instant::now();
                let mut out = [ev(0); 64];
                let mut got = 0u64;
                let mut w = SpinThenYield::default();
                while got < N {
                    let n = rx.pop_batch(&mut out);
                    if n == 0 {
                        w.wait();
                    } else {
                        black_box(&out[..n]);
                        got += n as u64;
                        w.reset();
                    }
                }
                total += t.elapsed();
                producer.join().unwrap();
            }
            total
        })
    });
    g.bench_function("one_way/rtrb_chunk64", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (mut p, mut c) = rtrb::RingBuffer::<Event>::new(CAP);
                let producer = thread::spawn(move || {
                    pin(0);
                    let mut w = SpinThenYield::default();
                    let mut i = 0;
                    while i < N {
                        let k = ((N - i).min(64) as usize).min(p.slots());
                        if k == 0 {
                            w.wait();
                            continue;
                        }
                        w.reset();
                        if let Ok(chunk) = p.write_chunk_uninit(k) {
                            chunk.fill_from_iter((i..i + k as u64).map(ev));
                        }
                        i += k as u64;
                    }
                });
                pin(1);
                let t = Instant::now();
                let mut out = [ev(0); 64];
                let mut got = 0u64;
                let mut w = SpinThenYield::default();
                while got < N {
                    let n = c.slots().min(64);
                    if n == 0 {
                        w.wait();
                        continue;
                    }
                    if let Ok(chunk) = c.read_chunk(n) {
                        let (a, b2) = chunk.as_slices();
                        out[..a.len()].copy_from_slice(a);
                        out[a.len()..n].copy_from_slice(b2);
                        chunk.commit_all();
                    }
                    black_box(&out[..n]);
                    got += n as u64;
                    w.reset();
                }
                total += t.elapsed();
                producer.join().unwrap();
            }
            total
        })
    });
    g.bench_function("one_way/facade_single", |b| {
        b.iter_custom(|iters| {
            one_way(
                iters,
                || ring::<Event>(CAP, "bench"),
                |tx, e| {
                    let mut w = SpinThenYield::default();
                    tx.push_wait(e, &mut w).unwrap();
                },
                |rx| rx.try_pop(),
            )
        })
    });
    g.bench_function("one_way/rtrb_single", |b| {
        b.iter_custom(|iters| {
            one_way(
                iters,
                || rtrb::RingBuffer::<Event>::new(CAP),
                |p, mut e| {
                    let mut w = SpinThenYield::default();
                    while let Err(rtrb::PushError::Full(back)) = p.push(e) {
                        e = back;
                        w.wait();
                    }
                },
                |c| c.pop().ok(),
            )
        })
    });
    g.bench_function("one_way/crossbeam_array_queue", |b| {
        b.iter_custom(|iters| {
            one_way(
                iters,
                || {
                    let q = Arc::new(ArrayQueue::<Event>::new(CAP));
                    (q.clone(), q)
                },
                |q, mut e| {
                    let mut w = SpinThenYield::default();
                    while let Err(back) = q.push(e) {
                        e = back;
                        w.wait();
                    }
                },
                |q| q.pop(),
            )
        })
    });
    g.bench_function("one_way/std_sync_channel", |b| {
        b.iter_custom(|iters| one_way(iters, || sync_channel::<Event>(CAP), |s, e| s.send(e).unwrap(), |r| r.try_recv().ok()))
    });

    // Round trip: ping-pong of one event through two rings, reported per round trip.
    g.throughput(Throughput::Elements(1));
    const ROUNDS: u64 = 20_000;
    g.bench_function("round_trip/facade", |b| {
        b.iter_custom(|iters| {
            let (mut atx, mut arx) = ring::<Event>(16, "ping");
            let (mut btx, mut brx) = ring::<Event>(16, "pong");
            let total = iters * ROUNDS;
            let echo = thread::spawn(move || {
                pin(0);
                let mut w = SpinThenYield::default();
                for _ in 0..total {
                    let e = arx.pop_wait(&mut w).unwrap();
                    btx.push_wait(e, &mut w).unwrap();
                }
            });
            pin(1);
            let mut w = SpinThenYield::default();
            let t = Instant::now();
            for i in 0..total {
                atx.push_wait(ev(i), &mut w).unwrap();
                black_box(brx.pop_wait(&mut w).unwrap());
            }
            let d = t.elapsed();
            echo.join().unwrap();
            d / ROUNDS as u32
        })
    });
    g.bench_function("round_trip/rtrb", |b| {
        b.iter_custom(|iters| {
            let (mut ap, mut ac) = rtrb::RingBuffer::<Event>::new(16);
            let (mut bp, mut bc) = rtrb::RingBuffer::<Event>::new(16);
            let total = iters * ROUNDS;
            let echo = thread::spawn(move || {
                pin(0);
                let mut w = SpinThenYield::default();
                for _ in 0..total {
                    let e = loop {
                        if let Ok(e) = ac.pop() {
                            w.reset();
                            break e;
                        }
                        w.wait();
                    };
                    while bp.push(e).is_err() {
                        w.wait();
                    }
                }
            });
            pin(1);
            let mut w = SpinThenYield::default();
            let t = Instant::now();
            for i in 0..total {
                while ap.push(ev(i)).is_err() {
                    w.wait();
                }
                loop {
                    if let Ok(e) = bc.pop() {
                        black_box(e);
                        w.reset();
                        break;
                    }
                    w.wait();
                }
            }
            let d = t.elapsed();
            echo.join().unwrap();
            d / ROUNDS as u32
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
