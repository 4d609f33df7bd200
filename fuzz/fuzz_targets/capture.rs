//! Fuzz target `capture`: see `ticklane_fuzzing::capture::run`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ticklane_fuzzing::capture::run(data));
