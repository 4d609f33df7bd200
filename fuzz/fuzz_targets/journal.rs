//! Fuzz target `journal`: see `ticklane_fuzzing::journal::run`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ticklane_fuzzing::journal::run(data));
