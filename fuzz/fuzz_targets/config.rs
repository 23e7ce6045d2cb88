//! `config::load_str` on any text: an error or a config, never a panic or a
//! hang (the YAML budget must hold).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use sundial::config::{self, ConfigError, Mode};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match config::load_str(text, Path::new("/fuzz/jobs.yaml"), Mode::User) {
        Ok(config) => {
            for job in &config.jobs {
                let _ = job.schedule.describe();
            }
        }
        Err(ConfigError::Invalid(all)) => {
            assert!(!all.is_empty(), "invalid without a diagnostic");
            for d in &all {
                assert!(d.line >= 1 && d.column >= 1, "{d}");
                let _ = d.to_string();
            }
        }
        Err(other) => {
            let _ = other.to_string();
        }
    }
});
