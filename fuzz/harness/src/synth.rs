//! A small synthetic ITCH session, generated once per process: the market the config target
//! runs a fuzzed strategy or execution configuration on.

use std::sync::OnceLock;

use ticklane_feeds::itch::synth::{generate, SynthConfig};

/// 3 symbols, 1000 order-flow messages over one second.
pub(crate) fn session() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let cfg = SynthConfig {
            seed: 7,
            symbols: 3,
            messages: 1000,
            span_ns: 1_000_000_000,
            ..SynthConfig::default()
        };
        let mut out = Vec::new();
        generate(&cfg, &mut out).expect("writing to memory");
        out
    })
}
