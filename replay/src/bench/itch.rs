//! Decode and book throughput on an ITCH file held in memory, and the per-message book-apply
//! latency distribution: what `ticklane bench itch` measures.
//!
//! Throughput is the best of several passes (the least disturbed by the machine's other work);
//! the book's share is decode + book less decode alone. Latency times one book apply in every
//! N messages (timing every one would measure the clock more than the book), and the cost of
//! reading the clock twice is measured too, to read the percentiles against.

use std::fmt;
use std::hint::black_box;
use std::time::Instant;

use hdrhistogram::Histogram;
use ticklane_engine::book::L3Books;
use ticklane_engine::{Nanos, SourceId};
use ticklane_feeds::itch::decode;
use ticklane_feeds::itch::framing::SliceFrames;
use ticklane_feeds::itch::normalize::Normalizer;

/// One timed pass.
#[derive(Clone, Copy, Debug)]
pub struct Pass {
    /// Messages decoded.
    pub msgs: u64,
    /// Seconds it took.
    pub secs: f64,
}

impl Pass {
    fn line(&self, what: &str) -> String {
        format!(
            "{what:<14} {:>12.0} msgs/s  {:>7.1} ns/msg  ({} msgs in {:.3} s)",
            self.msgs as f64 / self.secs,
            self.secs * 1e9 / self.msgs as f64,
            self.msgs,
            self.secs
        )
    }
}

/// Whether `data` starts with ITCH 5.0 BinaryFILE frames.
pub fn looks_like_itch(data: &[u8]) -> bool {
    SliceFrames::new(data).take(4).filter(Result::is_ok).count() > 0
}

fn decode_pass(data: &[u8]) -> Pass {
    let t = Instant::now();
    let mut msgs = 0u64;
    let mut acc = 0u64;
    for f in SliceFrames::new(data).flatten() {
        if let Ok(m) = decode(black_box(f.bytes)) {
            acc = acc.wrapping_add(m.common().timestamp);
            msgs += 1;
        }
    }
    black_box(acc);
    Pass {
        msgs,
        secs: t.elapsed().as_secs_f64(),
    }
}

fn book_pass(data: &[u8]) -> (Pass, u64) {
    let mut books = L3Books::with_capacity(1 << 14, 16, 0);
    let mut norm = Normalizer::new(SourceId(0));
    let t = Instant::now();
    let mut msgs = 0u64;
    let mut errors = 0u64;
    for f in SliceFrames::new(data).flatten() {
        let Ok(m) = decode(black_box(f.bytes)) else {
            continue;
        };
        msgs += 1;
        if let Some(ev) = norm.normalize(&m, msgs, Nanos(0)) {
            if books.apply(&ev).is_err() {
                errors += 1;
            }
        }
    }
    let secs = t.elapsed().as_secs_f64();
    black_box(&books);
    (Pass { msgs, secs }, errors)
}

fn latency_pass(data: &[u8], every: u64) -> (Histogram<u64>, u64) {
    let mut books = L3Books::with_capacity(1 << 14, 16, 0);
    let mut norm = Normalizer::new(SourceId(0));
    let mut hist = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3)
        .expect("static histogram bounds are valid");
    let every = every.max(1);
    let mut n = 0u64;
    for f in SliceFrames::new(data).flatten() {
        let Ok(m) = decode(f.bytes) else { continue };
        n += 1;
        let Some(ev) = norm.normalize(&m, n, Nanos(0)) else {
            continue;
        };
        if n.is_multiple_of(every) {
            let t = Instant::now();
            let r = books.apply(black_box(&ev));
            let dt = t.elapsed().as_nanos() as u64;
            black_box(r).ok();
            hist.saturating_record(dt.max(1));
        } else {
            books.apply(&ev).ok();
        }
    }
    // The cost of reading the clock twice, to read the percentiles against.
    let mut overhead = Histogram::<u64>::new_with_bounds(1, 10_000_000, 3)
        .expect("static histogram bounds are valid");
    for _ in 0..100_000 {
        let t = Instant::now();
        overhead.saturating_record((t.elapsed().as_nanos() as u64).max(1));
    }
    (hist, overhead.value_at_quantile(0.5))
}

/// What [`run`] measured; its `Display` is the report `ticklane bench itch` prints after the
/// input line.
#[derive(Debug)]
pub struct ItchBench {
    /// Timed passes per measurement.
    pub runs: u32,
    /// The best decode-only pass.
    pub decode: Pass,
    /// The best decode + book pass.
    pub book: Pass,
    /// Events inconsistent with the book (counted and skipped).
    pub book_errors: u64,
    /// One book apply in this many messages was timed.
    pub sample_every: u64,
    /// The timed book applies, ns (the clock reads included).
    pub latency: Histogram<u64>,
    /// The median cost of reading the clock twice, ns.
    pub clock_pair_ns: u64,
}

/// Times `runs` decode-only and decode + book passes over `data` (an ITCH 5.0 BinaryFILE in
/// memory), keeping the best of each, then the latency of one book apply in every
/// `sample_every` messages.
pub fn run(data: &[u8], runs: u32, sample_every: u64) -> ItchBench {
    let runs = runs.max(1);
    let best = |mut v: Vec<Pass>| {
        v.sort_by(|x, y| x.secs.total_cmp(&y.secs));
        v.swap_remove(0)
    };
    let decode = best((0..runs).map(|_| decode_pass(data)).collect());
    let mut book_errors = 0;
    let book = best(
        (0..runs)
            .map(|_| {
                let (p, e) = book_pass(data);
                book_errors = e;
                p
            })
            .collect(),
    );
    let (latency, clock_pair_ns) = latency_pass(data, sample_every);
    ItchBench {
        runs,
        decode,
        book,
        book_errors,
        sample_every,
        latency,
        clock_pair_ns,
    }
}

impl fmt::Display for ItchBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (dec, book, h) = (&self.decode, &self.book, &self.latency);
        writeln!(f, "{}", dec.line("decode:"))?;
        writeln!(f, "{}", book.line("decode+book:"))?;
        writeln!(
            f,
            "book share:    {:.1} ns/msg of book apply on top of decode (best of {} runs each)",
            (book.secs - dec.secs).max(0.0) * 1e9 / book.msgs as f64,
            self.runs
        )?;
        if self.book_errors > 0 {
            writeln!(
                f,
                "book errors:   {} (events inconsistent with the book, counted and skipped)",
                self.book_errors
            )?;
        }
        writeln!(
            f,
            "book apply latency (1 in {} messages, {} samples; clock read pair costs ~{} ns and is included):",
            self.sample_every,
            h.len(),
            self.clock_pair_ns
        )?;
        writeln!(
            f,
            "  p50 {} ns  p90 {} ns  p99 {} ns  p99.9 {} ns  p99.99 {} ns  max {} ns",
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.9),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.value_at_quantile(0.9999),
            h.max()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticklane_feeds::itch::synth::{generate, SynthConfig};

    #[test]
    fn passes_count_every_message_and_the_report_names_them() {
        let cfg = SynthConfig {
            seed: 3,
            symbols: 10,
            messages: 20_000,
            ..SynthConfig::default()
        };
        let mut data = Vec::new();
        generate(&cfg, &mut data).unwrap();
        assert!(looks_like_itch(&data));
        assert!(!looks_like_itch(b"not an ITCH file at all"));
        let b = run(&data, 2, 8);
        assert_eq!(b.decode.msgs, b.book.msgs);
        assert!(b.decode.msgs >= 20_000, "{}", b.decode.msgs);
        assert_eq!(b.book_errors, 0);
        assert!(
            b.latency.len() >= b.decode.msgs / 8 / 2,
            "{}",
            b.latency.len()
        );
        let text = b.to_string();
        assert!(text.starts_with("decode:  "), "{text}");
        assert!(text.contains("\ndecode+book: "), "{text}");
        assert!(text.contains("(best of 2 runs each)"), "{text}");
    }
}
