//! Fuzz target `binance`: see `ticklane_fuzzing::json::binance`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ticklane_fuzzing::json::binance(data));
