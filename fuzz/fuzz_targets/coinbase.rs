//! Fuzz target `coinbase`: see `ticklane_fuzzing::json::coinbase`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ticklane_fuzzing::json::coinbase(data));
