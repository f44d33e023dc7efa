//! Fuzz target `event_payload`: see `frontdesk::fuzzing::event_payload` for what it feeds and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| frontdesk::fuzzing::event_payload(data));
