//! Fuzz target `itch`: see `ticklane_fuzzing::itch::run`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ticklane_fuzzing::itch::run(data));
