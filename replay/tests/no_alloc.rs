//! The replay loop allocates nothing per message once warm: a counting global allocator watches
//! the real `replay_itch` loop over a generated multi-symbol stream, sampled through the progress
//! callback (called every 64Ki messages, from inside the loop).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use ticklane_feeds::itch::framing::FrameReader;
use ticklane_feeds::itch::synth::{generate, SynthConfig};
use ticklane_replay::{replay_itch, ItchReplayOptions};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards every call unchanged to the system allocator; only counts.
#[allow(unsafe_code)] // a global allocator can only be written with `unsafe impl`
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn replay_loop_does_not_allocate_per_message() {
    let cfg = SynthConfig { seed: 5, symbols: 100, messages: 1_500_000, ..SynthConfig::default() };
    let mut data = Vec::new();
    generate(&cfg, &mut data).unwrap();

    let samples = Mutex::new(Vec::with_capacity(64));
    let opts = ItchReplayOptions {
        progress: Some(Box::new(|_| {
            let n = ALLOCS.load(Ordering::Relaxed);
            // `try_lock` + pre-sized Vec: the probe itself never allocates.
            if let Ok(mut v) = samples.try_lock() {
                if v.len() < v.capacity() {
                    v.push(n);
                }
            }
        })),
        ..Default::default()
    };
    let summary = replay_itch(FrameReader::new(&data[..]), opts).unwrap();
    let v = samples.into_inner().unwrap();
    assert!(summary.messages >= 1_500_000, "generator wrote {}", summary.messages);
    assert!(summary.book_events > 1_000_000, "the stream must exercise the book");
    assert_eq!(summary.errors.total(), 0, "{:?}", summary.errors);
    // 64Ki messages between samples; the first few are warm-up (books, levels and the order
    // window reach their working size). The final sample is taken after the loop.
    assert!(v.len() > 10, "too few samples: {}", v.len());
    let warm = &v[4..v.len() - 1];
    let allocated = warm.last().unwrap() - warm.first().unwrap();
    assert_eq!(
        allocated, 0,
        "{allocated} allocations over {} messages after warm-up (samples: {v:?})",
        (warm.len() - 1) * 65536
    );
}
