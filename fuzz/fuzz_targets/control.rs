//! The control socket's request decoder on any line: a request or an error
//! reply that serializes, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sundial::daemon::control;

fuzz_target!(|data: &[u8]| {
    match control::parse(data) {
        Ok(request) => {
            // What was accepted must survive a round trip.
            let line = serde_json::to_vec(&request).expect("a request serializes");
            assert_eq!(control::parse(&line).ok(), Some(request));
        }
        Err(reply) => {
            serde_json::to_vec(&*reply).expect("an error reply serializes");
        }
    }
});
