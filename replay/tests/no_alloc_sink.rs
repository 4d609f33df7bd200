//! A publishing sink's hot side allocates nothing per output: encoding into a fixed-size
//! record and pushing it into the ring (with a transport that takes every record, so the
//! publisher thread, which the counting allocator also sees, keeps up without allocating).

use std::sync::Arc;
use std::time::Duration;

use ticklane_engine::clock::MonoClock;
use ticklane_engine::{InstrumentIdx, Nanos};
use ticklane_replay::sink::publish::{
    Policy, PublishConfig, PublishSink, SendError, SinkStats, Transport,
};
use ticklane_replay::sink::record::{RecordBuf, Source, Venue};
use ticklane_replay::sink::Sink;
use ticklane_replay::stages::output::{Output, OutputKind};

mod common;
use common::{Counting, ALLOCS};

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Discard(Arc<SinkStats>);

impl Transport for Discard {
    fn send(&mut self, _: &RecordBuf) -> Result<(), SendError> {
        self.0
            .acked
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
    fn poll(&mut self, _: Duration) {}
    fn in_flight(&self) -> u64 {
        0
    }
    fn oldest_unacked(&self) -> Option<u64> {
        None
    }
    fn flush(&mut self, _: Duration) -> Result<(), String> {
        Ok(())
    }
    fn first_error(&self) -> Option<String> {
        None
    }
}

#[test]
fn the_sink_hot_side_does_not_allocate_per_output() {
    for policy in [Policy::Block, Policy::Drop, Policy::Conflate] {
        let stats = Arc::new(SinkStats::default());
        let cfg = PublishConfig {
            name: "discard".into(),
            ring: 1024,
            policy,
            source: Source {
                venue: Venue::Itch,
                px_exp: -4,
                qty_exp: 0,
            },
            flush_timeout: Duration::from_secs(5),
        };
        let mut sink =
            PublishSink::start(cfg, Discard(stats.clone()), stats.clone(), MonoClock::new())
                .unwrap();
        let out = |i: u64| Output {
            seq: i,
            ts: Nanos(i),
            instr: InstrumentIdx((i % 64) as u32),
            kind: OutputKind::Bbo([(i as i64, 1), (i as i64 + 1, 2)]),
            stamp: 0,
        };
        // Warm-up: the conflation table reaches its size.
        for i in 0..10_000 {
            sink.on_output(&out(i), "AAPL").unwrap();
        }
        let before = ALLOCS.load(std::sync::atomic::Ordering::Relaxed);
        for i in 10_000..210_000 {
            sink.on_output(&out(i), "AAPL").unwrap();
        }
        let allocated = ALLOCS.load(std::sync::atomic::Ordering::Relaxed) - before;
        sink.finish().unwrap();
        assert_eq!(
            allocated, 0,
            "{policy:?}: {allocated} allocations over 200000 outputs"
        );
        let s = stats.snapshot();
        assert_eq!(
            s.queued + s.dropped + s.conflated,
            210_000,
            "{policy:?}: {s}"
        );
    }
}
