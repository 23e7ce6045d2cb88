//! Rate-limiting of warnings the daemon would otherwise repeat (a job still
//! running at every fire, a full disk at every write): at most one line per
//! key and period, saying how many were suppressed in between (SPEC 6).

use std::collections::HashMap;
use std::time::{Duration, Instant};

pub struct RateLimit {
    period: Duration,
    seen: HashMap<String, (Instant, u64)>,
}

impl RateLimit {
    pub fn new(period: Duration) -> RateLimit {
        RateLimit {
            period,
            seen: HashMap::new(),
        }
    }

    /// `Some(suppressed)` when a line for `key` may be written now, with the
    /// number held back since the last one; `None` to stay quiet.
    pub fn allow(&mut self, key: &str) -> Option<u64> {
        self.allow_at(key, Instant::now())
    }

    fn allow_at(&mut self, key: &str, now: Instant) -> Option<u64> {
        match self.seen.get_mut(key) {
            Some((last, suppressed)) if now.duration_since(*last) < self.period => {
                *suppressed += 1;
                None
            }
            Some((last, suppressed)) => {
                let n = *suppressed;
                *last = now;
                *suppressed = 0;
                Some(n)
            }
            None => {
                self.seen.insert(key.to_string(), (now, 0));
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_period_with_a_count() {
        let mut r = RateLimit::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(r.allow_at("a", t0), Some(0));
        assert_eq!(r.allow_at("a", t0 + Duration::from_secs(1)), None);
        assert_eq!(r.allow_at("a", t0 + Duration::from_secs(2)), None);
        assert_eq!(r.allow_at("b", t0 + Duration::from_secs(2)), Some(0));
        assert_eq!(r.allow_at("a", t0 + Duration::from_secs(61)), Some(2));
    }
}
