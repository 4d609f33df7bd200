//! Fuzz target `kraken`: see `ticklane_fuzzing::json::kraken`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ticklane_fuzzing::json::kraken(data));
