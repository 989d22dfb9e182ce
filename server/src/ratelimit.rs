//! In-process token-bucket rate limiting per key (client IP, token). Defaults follow the official
//! registry's ingress: 180 requests per minute per IP with a burst of 540. A shared (Redis) limiter for
//! multi-replica deployments plugs in behind the same [`Limiter`] trait.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub trait Limiter: Send + Sync {
    /// `Ok` to let the request through, `Err(retry_after)` to refuse it.
    fn check(&self, key: &str) -> Result<(), Duration>;
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

pub struct TokenBucketLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// Above this many tracked keys, full (idle) buckets are dropped: they carry no state worth keeping.
const MAX_TRACKED_KEYS: usize = 100_000;

impl TokenBucketLimiter {
    pub fn new(per_minute: u32, burst: u32) -> Self {
        TokenBucketLimiter {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().expect("limiter lock poisoned");
        if buckets.len() >= MAX_TRACKED_KEYS && !buckets.contains_key(key) {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.updated).as_secs_f64() * per_second < burst
            });
        }
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(b.updated).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_second).min(self.burst);
        b.updated = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else if self.per_second <= 0.0 {
            Err(Duration::from_secs(60))
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / self.per_second))
        }
    }
}

impl Limiter for TokenBucketLimiter {
    fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let l = TokenBucketLimiter::new(60, 3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.check_at("a", t0).is_ok());
        }
        let retry = l.check_at("a", t0).unwrap_err();
        assert!(
            retry <= Duration::from_secs(1) && retry > Duration::from_millis(900),
            "{retry:?}"
        );
        // Other keys are independent.
        assert!(l.check_at("b", t0).is_ok());
        // One token per second comes back.
        assert!(l.check_at("a", t0 + Duration::from_millis(1001)).is_ok());
        assert!(l.check_at("a", t0 + Duration::from_millis(1002)).is_err());
    }

    #[test]
    fn exactly_burst_requests_pass_at_once() {
        let l = TokenBucketLimiter::new(180, 540);
        let t0 = Instant::now();
        let passed = (0..1000).filter(|_| l.check_at("ip", t0).is_ok()).count();
        assert_eq!(passed, 540);
    }
}
