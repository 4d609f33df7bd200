//! Fuzz target `replay`: see `ticklane_fuzzing::replay::run`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ticklane_fuzzing::replay::run(data));
