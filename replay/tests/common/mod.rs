//! A counting global allocator for the no-allocation tests: each test binary installs it with
//! `#[global_allocator]` and reads [`ALLOCS`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

/// Allocations (and reallocations) so far, on every thread.
pub static ALLOCS: AtomicU64 = AtomicU64::new(0);

/// Forwards to the system allocator and counts.
pub struct Counting;

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

/// Records the allocation count into `samples` (a progress-callback probe). `try_lock` and a
/// pre-sized `Vec` keep the probe itself from allocating; once full it records nothing more.
#[allow(dead_code)] // each test binary includes this module; not all probe through a callback
pub fn record_allocs(samples: &std::sync::Mutex<Vec<u64>>) {
    let n = ALLOCS.load(Ordering::Relaxed);
    if let Ok(mut v) = samples.try_lock() {
        if v.len() < v.capacity() {
            v.push(n);
        }
    }
}
