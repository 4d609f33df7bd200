//! Fuzz target `lobster`: see `ticklane_fuzzing::lobster::run`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ticklane_fuzzing::lobster::run(data));
