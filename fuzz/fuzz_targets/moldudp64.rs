//! Fuzz target `moldudp64`: see `ticklane_fuzzing::mold::run`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ticklane_fuzzing::mold::run(data));
