//! Fuzz target `config_toml`: see `frontdesk::fuzzing::config_toml`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        frontdesk::fuzzing::config_toml(text);
    }
});
