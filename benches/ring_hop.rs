//! Moving a 64-byte `Event` between two threads: our ring facade (single and batched), raw
//! `rtrb` (single and chunked), crossbeam's `ArrayQueue` and `std::sync::mpsc::sync_channel`,
//! all in the one criterion group `ring_hop`, so every ratio compares numbers from the same run.
//!
//! How to read it:
//! - `one_way/*`: a producer thread streams N = 100_000 events to the consumer (the bench
//!   thread); the time runs from the start signal until the consumer holds all N. Per-item cost
//!   is the reported time divided by N (criterion also prints elements per second).
//! - `round_trip/*`: one event goes to an echo thread and comes back through a second ring; the
//!   reported time is one round trip (two hops).
//! - `facade_single / rtrb_single` and `facade_batch64 / rtrb_chunk64` are the overhead of the
//!   facade (counters, wait strategy, end-of-stream checks) and should stay within a few percent
//!   of 1.0. `rtrb_single / rtrb_chunk64` is what batching buys. Crossbeam and `sync_channel` are
//!   the usual alternatives, for scale.
//!
//! The raw `rtrb` batch variant keeps its chunk code in two small functions, as a real stage
//! (and the facade) would; written straight into the bench loop, the same `fill_from_iter` call
//! compiled to a copy about three times slower, which would flatter the facade.
//!
//! Every variant waits the same way (about 100 `spin_loop` hints, then `yield_now`), never by
//! pure busy spinning, so the numbers stay sane on a 2-core machine. With two or more cores the
//! producer (or echo) thread is pinned to core 0 and the bench thread to core 1. On a shared VM,
//! expect run-to-run noise of several percent and occasional microsecond tails from the
//! hypervisor; compare ratios within one run, not absolute numbers across runs.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use crossbeam_queue::ArrayQueue;
use ticklane_engine::ring::{ring, RingRx, RingTx};
use ticklane_engine::wait::{SpinThenYield, Waiter};
use ticklane_engine::{Body, Event, Header, InstrumentIdx, Nanos, OrderId, Px, Qty, Side};

/// Events per one-way run.
const N: u64 = 100_000;
/// Ring capacity for the one-way stream.
const CAP: usize = 4096;
/// Batch size for the batched variants.
const BATCH: usize = 64;
/// Ring capacity for the round trip (only one event is ever in flight).
const RT_CAP: usize = 16;

const PRODUCER_CORE: usize = 0;
const CONSUMER_CORE: usize = 1;

fn ev(i: u64) -> Event {
    Event {
        hdr: Header {
            ts_exch: Nanos(i),
            ts_recv: Nanos(i),
            seq: i,
            instr: InstrumentIdx(7),
            ..Header::default()
        },
        body: Body::Add {
            order_id: OrderId(i),
            px: Px(10_000 + (i & 63) as i64),
            qty: Qty(100),
            side: Side::Bid,
        },
    }
}

/// Pins the calling thread to core `slot` when the machine has at least two cores.
fn pin(slot: usize) {
    if let Some(ids) = core_affinity::get_core_ids() {
        if ids.len() >= 2 {
            core_affinity::set_for_current(ids[slot]);
        }
    }
}

/// Spin-then-yields until `flag` is set.
fn wait_for(flag: &AtomicBool) {
    let mut w = SpinThenYield::default();
    while !flag.load(Ordering::Acquire) {
        w.wait();
    }
}

/// Runs `iters` one-way transfers of N events and returns their summed duration. `produce`
/// pushes all N events on a pinned producer thread; `consume` makes one attempt and returns how
/// many events it received.
fn one_way<S, R>(
    iters: u64,
    make: impl Fn() -> (S, R),
    produce: fn(S),
    mut consume: impl FnMut(&mut R) -> u64,
) -> Duration
where
    S: Send + 'static,
{
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let (s, mut r) = make();
        let go = Arc::new(AtomicBool::new(false));
        let producer = {
            let go = Arc::clone(&go);
            thread::spawn(move || {
                pin(PRODUCER_CORE);
                wait_for(&go);
                produce(s);
            })
        };
        let mut w = SpinThenYield::default();
        let mut got = 0u64;
        let start = Instant::now();
        go.store(true, Ordering::Release);
        while got < N {
            let n = consume(&mut r);
            if n == 0 {
                w.wait();
            } else {
                got += n;
                w.reset();
            }
        }
        total += start.elapsed();
        producer.join().expect("producer thread panicked");
    }
    total
}

/// Runs `iters` round trips and returns their summed duration. `echo` returns each of `iters`
/// events on a pinned thread; `ping` sends one event and waits for it to come back.
fn round_trip<A, B>(
    iters: u64,
    make: impl Fn() -> (A, B),
    echo: fn(A, u64),
    mut ping: impl FnMut(&mut B, Event) -> Event,
) -> Duration
where
    A: Send + 'static,
{
    let (a, mut b) = make();
    let ready = Arc::new(AtomicBool::new(false));
    let echoer = {
        let ready = Arc::clone(&ready);
        thread::spawn(move || {
            pin(PRODUCER_CORE);
            ready.store(true, Ordering::Release);
            echo(a, iters);
        })
    };
    wait_for(&ready);
    let start = Instant::now();
    for i in 0..iters {
        black_box(ping(&mut b, black_box(ev(i))));
    }
    let elapsed = start.elapsed();
    echoer.join().expect("echo thread panicked");
    elapsed
}

/// Fills `buf` with the events numbered `next..next + buf.len()`.
fn fill(buf: &mut [Event], next: u64) {
    for (j, e) in buf.iter_mut().enumerate() {
        *e = ev(next + j as u64);
    }
}

fn facade_single_produce(mut tx: RingTx<Event>) {
    let mut w = SpinThenYield::default();
    for i in 0..N {
        tx.push_wait(black_box(ev(i)), &mut w)
            .expect("consumer alive");
    }
}

fn facade_batch_produce(mut tx: RingTx<Event>) {
    let mut w = SpinThenYield::default();
    let mut buf = [ev(0); BATCH];
    let mut next = 0;
    while next < N {
        let k = (N - next).min(BATCH as u64) as usize;
        fill(&mut buf[..k], next);
        tx.push_batch_wait(black_box(&buf[..k]), &mut w)
            .expect("consumer alive");
        next += k as u64;
    }
}

fn rtrb_single_produce(mut p: rtrb::Producer<Event>) {
    let mut w = SpinThenYield::default();
    for i in 0..N {
        let mut e = black_box(ev(i));
        while let Err(rtrb::PushError::Full(back)) = p.push(e) {
            e = back;
            w.wait();
        }
        w.reset();
    }
}

/// Writes as many of `items` as fit with one synchronization; returns how many.
#[inline]
fn rtrb_write(p: &mut rtrb::Producer<Event>, items: &[Event]) -> usize {
    let n = items.len().min(p.slots());
    if n == 0 {
        return 0;
    }
    match p.write_chunk_uninit(n) {
        Ok(chunk) => chunk.fill_from_iter(items[..n].iter().copied()),
        Err(_) => 0,
    }
}

/// Reads up to `out.len()` items with one synchronization; returns how many.
#[inline]
fn rtrb_read(c: &mut rtrb::Consumer<Event>, out: &mut [Event]) -> usize {
    let n = out.len().min(c.slots());
    if n == 0 {
        return 0;
    }
    let Ok(chunk) = c.read_chunk(n) else { return 0 };
    let (a, b) = chunk.as_slices();
    let (head, rest) = out.split_at_mut(a.len());
    head.copy_from_slice(a);
    rest[..b.len()].copy_from_slice(b);
    chunk.commit_all();
    n
}

fn rtrb_chunk_produce(mut p: rtrb::Producer<Event>) {
    let mut w = SpinThenYield::default();
    let mut buf = [ev(0); BATCH];
    let mut next = 0;
    while next < N {
        let k = (N - next).min(BATCH as u64) as usize;
        fill(&mut buf[..k], next);
        let mut rest = black_box(&buf[..k]);
        while !rest.is_empty() {
            let n = rtrb_write(&mut p, rest);
            if n == 0 {
                w.wait();
            } else {
                w.reset();
                rest = &rest[n..];
            }
        }
        next += k as u64;
    }
}

fn crossbeam_produce(q: Arc<ArrayQueue<Event>>) {
    let mut w = SpinThenYield::default();
    for i in 0..N {
        let mut e = black_box(ev(i));
        while let Err(back) = q.push(e) {
            e = back;
            w.wait();
        }
        w.reset();
    }
}

fn std_produce(s: SyncSender<Event>) {
    let mut w = SpinThenYield::default();
    for i in 0..N {
        let mut e = black_box(ev(i));
        loop {
            match s.try_send(e) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) => {
                    e = back;
                    w.wait();
                }
                Err(TrySendError::Disconnected(_)) => panic!("consumer gone"),
            }
        }
        w.reset();
    }
}

fn rtrb_pop_wait(c: &mut rtrb::Consumer<Event>) -> Event {
    let mut w = SpinThenYield::default();
    loop {
        if let Ok(e) = c.pop() {
            return e;
        }
        w.wait();
    }
}

fn rtrb_push_wait(p: &mut rtrb::Producer<Event>, mut e: Event) {
    let mut w = SpinThenYield::default();
    while let Err(rtrb::PushError::Full(back)) = p.push(e) {
        e = back;
        w.wait();
    }
}

fn crossbeam_pop_wait(q: &ArrayQueue<Event>) -> Event {
    let mut w = SpinThenYield::default();
    loop {
        if let Some(e) = q.pop() {
            return e;
        }
        w.wait();
    }
}

fn crossbeam_push_wait(q: &ArrayQueue<Event>, mut e: Event) {
    let mut w = SpinThenYield::default();
    while let Err(back) = q.push(e) {
        e = back;
        w.wait();
    }
}

fn std_recv_wait(r: &Receiver<Event>) -> Event {
    let mut w = SpinThenYield::default();
    loop {
        if let Ok(e) = r.try_recv() {
            return e;
        }
        w.wait();
    }
}

fn std_send_wait(s: &SyncSender<Event>, mut e: Event) {
    let mut w = SpinThenYield::default();
    loop {
        match s.try_send(e) {
            Ok(()) => return,
            Err(TrySendError::Full(back)) => {
                e = back;
                w.wait();
            }
            Err(TrySendError::Disconnected(_)) => panic!("peer gone"),
        }
    }
}

fn bench(c: &mut Criterion) {
    pin(CONSUMER_CORE);
    let mut g = c.benchmark_group("ring_hop");
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(2));

    g.throughput(Throughput::Elements(N));
    g.bench_function("one_way/facade_single", |b| {
        b.iter_custom(|iters| {
            one_way(
                iters,
                || ring::<Event>(CAP, "bench"),
                facade_single_produce,
                |rx: &mut RingRx<Event>| match rx.try_pop() {
                    Some(e) => {
                        black_box(e);
                        1
                    }
                    None => 0,
                },
            )
        })
    });
    g.bench_function("one_way/rtrb_single", |b| {
        b.iter_custom(|iters| {
            one_way(
                iters,
                || rtrb::RingBuffer::<Event>::new(CAP),
                rtrb_single_produce,
                |c: &mut rtrb::Consumer<Event>| match c.pop() {
                    Ok(e) => {
                        black_box(e);
                        1
                    }
                    Err(_) => 0,
                },
            )
        })
    });
    g.bench_function("one_way/facade_batch64", |b| {
        b.iter_custom(|iters| {
            let mut out = [ev(0); BATCH];
            one_way(
                iters,
                || ring::<Event>(CAP, "bench"),
                facade_batch_produce,
                move |rx: &mut RingRx<Event>| {
                    let n = rx.pop_batch(&mut out);
                    black_box(&out[..n]);
                    n as u64
                },
            )
        })
    });
    g.bench_function("one_way/rtrb_chunk64", |b| {
        b.iter_custom(|iters| {
            let mut out = [ev(0); BATCH];
            one_way(
                iters,
                || rtrb::RingBuffer::<Event>::new(CAP),
                rtrb_chunk_produce,
                move |c: &mut rtrb::Consumer<Event>| {
                    let n = rtrb_read(c, &mut out);
                    black_box(&out[..n]);
                    n as u64
                },
            )
        })
    });
    g.bench_function("one_way/crossbeam_array_queue", |b| {
        b.iter_custom(|iters| {
            one_way(
                iters,
                || {
                    let q = Arc::new(ArrayQueue::<Event>::new(CAP));
                    (Arc::clone(&q), q)
                },
                crossbeam_produce,
                |q: &mut Arc<ArrayQueue<Event>>| match q.pop() {
                    Some(e) => {
                        black_box(e);
                        1
                    }
                    None => 0,
                },
            )
        })
    });
    g.bench_function("one_way/std_sync_channel", |b| {
        b.iter_custom(|iters| {
            one_way(
                iters,
                || sync_channel::<Event>(CAP),
                std_produce,
                |r: &mut Receiver<Event>| match r.try_recv() {
                    Ok(e) => {
                        black_box(e);
                        1
                    }
                    Err(_) => 0,
                },
            )
        })
    });

    g.throughput(Throughput::Elements(1));
    g.bench_function("round_trip/facade", |b| {
        b.iter_custom(|iters| {
            round_trip(
                iters,
                || {
                    let (atx, arx) = ring::<Event>(RT_CAP, "ping");
                    let (btx, brx) = ring::<Event>(RT_CAP, "pong");
                    ((arx, btx), (atx, brx))
                },
                |(mut rx, mut tx): (RingRx<Event>, RingTx<Event>), n| {
                    let mut w = SpinThenYield::default();
                    for _ in 0..n {
                        let e = rx.pop_wait(&mut w).expect("pinger alive");
                        tx.push_wait(e, &mut w).expect("pinger alive");
                    }
                },
                |(tx, rx): &mut (RingTx<Event>, RingRx<Event>), e| {
                    let mut w = SpinThenYield::default();
                    tx.push_wait(e, &mut w).expect("echo alive");
                    rx.pop_wait(&mut w).expect("echo alive")
                },
            )
        })
    });
    g.bench_function("round_trip/rtrb", |b| {
        b.iter_custom(|iters| {
            round_trip(
                iters,
                || {
                    let (ap, ac) = rtrb::RingBuffer::<Event>::new(RT_CAP);
                    let (bp, bc) = rtrb::RingBuffer::<Event>::new(RT_CAP);
                    ((ac, bp), (ap, bc))
                },
                |(mut c, mut p): (rtrb::Consumer<Event>, rtrb::Producer<Event>), n| {
                    for _ in 0..n {
                        let e = rtrb_pop_wait(&mut c);
                        rtrb_push_wait(&mut p, e);
                    }
                },
                |(p, c): &mut (rtrb::Producer<Event>, rtrb::Consumer<Event>), e| {
                    rtrb_push_wait(p, e);
                    rtrb_pop_wait(c)
                },
            )
        })
    });
    g.bench_function("round_trip/crossbeam_array_queue", |b| {
        b.iter_custom(|iters| {
            round_trip(
                iters,
                || {
                    let a = Arc::new(ArrayQueue::<Event>::new(RT_CAP));
                    let b = Arc::new(ArrayQueue::<Event>::new(RT_CAP));
                    ((Arc::clone(&a), Arc::clone(&b)), (a, b))
                },
                |(a, b): (Arc<ArrayQueue<Event>>, Arc<ArrayQueue<Event>>), n| {
                    for _ in 0..n {
                        let e = crossbeam_pop_wait(&a);
                        crossbeam_push_wait(&b, e);
                    }
                },
                |(a, b): &mut (Arc<ArrayQueue<Event>>, Arc<ArrayQueue<Event>>), e| {
                    crossbeam_push_wait(a, e);
                    crossbeam_pop_wait(b)
                },
            )
        })
    });
    g.bench_function("round_trip/std_sync_channel", |b| {
        b.iter_custom(|iters| {
            round_trip(
                iters,
                || {
                    let (a_tx, a_rx) = sync_channel::<Event>(RT_CAP);
                    let (b_tx, b_rx) = sync_channel::<Event>(RT_CAP);
                    ((a_rx, b_tx), (a_tx, b_rx))
                },
                |(rx, tx): (Receiver<Event>, SyncSender<Event>), n| {
                    for _ in 0..n {
                        let e = std_recv_wait(&rx);
                        std_send_wait(&tx, e);
                    }
                },
                |(tx, rx): &mut (SyncSender<Event>, Receiver<Event>), e| {
                    std_send_wait(tx, e);
                    std_recv_wait(rx)
                },
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
