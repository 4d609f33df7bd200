//! Fuzz target `config`: see `ticklane_fuzzing::config::run`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ticklane_fuzzing::config::run(data));
