//! Fuzz target `rest_body`: see `frontdesk::fuzzing::rest_body` for what it feeds and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| frontdesk::fuzzing::rest_body(data));
