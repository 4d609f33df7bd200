//! ticklane-fuzzing: the body of every fuzz target, as a plain function over bytes.
//!
//! Why a crate of its own: the same function must run under two drivers. The cargo-fuzz crate
//! around it (`fuzz/`: nightly, libFuzzer, coverage-guided) calls it from a one-line target,
//! and the stable test in `tests/corpus.rs` calls it on every checked-in corpus file and former
//! crasher, so `cargo test --workspace` catches a regression without a nightly toolchain. The end-to-end
//! target runs a built-in strategy, which the replay crate does not depend on, so the harnesses
//! cannot live inside one of the library crates.
//!
//! A harness panics (and the driver reports a finding) only when a library panics, or when an
//! invariant the library promises does not hold: both decode paths of a JSON venue agree, the
//! streaming and in-memory ITCH framers agree, decode(encode(m)) = m, the arbiter releases
//! messages in sequence, a replay gives the same digest twice. Inputs are bounded by the
//! driver (`-max_len`), not here.
#![forbid(unsafe_code)]

pub mod capture;
pub mod config;
pub mod cursor;
pub mod itch;
pub mod journal;
pub mod json;
pub mod lobster;
pub mod mold;
pub mod replay;
mod synth;

/// One fuzz target.
#[derive(Clone, Copy, Debug)]
pub struct Target {
    /// Its name: the cargo-fuzz target and the folder of its corpus (`fuzz/corpus/NAME`) and
    /// former crashers (`fuzz/regressions/NAME`).
    pub name: &'static str,
    /// The harness.
    pub run: fn(&[u8]),
    /// What it covers, one line.
    pub about: &'static str,
}

/// Every target, in the order `scripts/fuzz.sh` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "itch",
        run: itch::run,
        about: "ITCH 5.0 framing (streaming = in-memory), decode, re-encode, normalize",
    },
    Target {
        name: "moldudp64",
        run: mold::run,
        about: "MoldUDP64 parse and the A/B/retransmission arbiter under a fake clock",
    },
    Target {
        name: "journal",
        run: journal::run,
        about: "journal reader, ITCH journal replay, websocket journal replay",
    },
    Target {
        name: "lobster",
        run: lobster::run,
        about: "LOBSTER message/order-book lines, file names, conversion to ITCH",
    },
    Target {
        name: "binance",
        run: json::binance,
        about: "Binance JSON: one-pass scanner = simd-json tape path",
    },
    Target {
        name: "coinbase",
        run: json::coinbase,
        about: "Coinbase Exchange JSON: one-pass scanner = simd-json tape path",
    },
    Target {
        name: "coinbase_advanced",
        run: json::coinbase_advanced,
        about: "Coinbase Advanced Trade JSON: one-pass scanner = simd-json tape path",
    },
    Target {
        name: "kraken",
        run: json::kraken,
        about: "Kraken v1/v2 JSON: one-pass scanner = simd-json tape path",
    },
    Target {
        name: "capture",
        run: capture::run,
        about: "capture-line classification (JSONL, ns lines, cryptofeed)",
    },
    Target {
        name: "config",
        run: config::run,
        about: "exec config, strategy configs, websocket source config, latency CSV",
    },
    Target {
        name: "replay",
        run: replay::run,
        about: "end to end: bytes as ITCH, LOBSTER, Binance, Coinbase, Kraken with market_maker",
    },
];

/// The target called `name`.
///
/// ```
/// assert_eq!(ticklane_fuzzing::target("itch").unwrap().name, "itch");
/// assert!(ticklane_fuzzing::target("nope").is_none());
/// ```
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
