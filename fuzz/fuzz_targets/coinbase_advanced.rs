//! Fuzz target `coinbase_advanced`: see `ticklane_fuzzing::json::coinbase_advanced`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ticklane_fuzzing::json::coinbase_advanced(data));
