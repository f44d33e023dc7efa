//! Fuzz target `query_string`: see `frontdesk::fuzzing::query_string`. The query is also decoded
//! with `serde_urlencoded` into a map, as `warp::query` does for the history route.
#![no_main]

use std::collections::HashMap;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(q) = std::str::from_utf8(data) {
        let decoded = serde_urlencoded::from_str::<HashMap<String, String>>(q).ok();
        frontdesk::fuzzing::query_string(q, decoded.as_ref());
    }
});
