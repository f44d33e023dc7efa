//! Fuzz target `ws_frame`: see `frontdesk::fuzzing::ws_frame` for what it feeds and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| frontdesk::fuzzing::ws_frame(data));
