//! Token-bucket rate limiting per key: reads per client address, writes per client address (the official
//! registry's ingress: 180 per minute, burst 540) and writes per token. [`TokenBucketLimiter`] keeps buckets in process;
//! [`RedisLimiter`] shares them across replicas (one atomic Lua script per request) and falls back to its
//! own in-process buckets whenever Redis does not answer.

use crate::redis_handle::RedisHandle;
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[async_trait]
pub trait Limiter: Send + Sync {
    /// `Ok` to let the request through, `Err(retry_after)` to refuse it.
    async fn check(&self, key: &str) -> Result<(), Duration>;
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

#[async_trait]
impl Limiter for TokenBucketLimiter {
    async fn check(&self, key: &str) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }
}

/// Refill and take one token atomically, on Redis's clock (replicas' clocks may differ).
/// Returns {allowed (0|1), retry_after_ms}.
const BUCKET_SCRIPT: &str = r"
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local allowed, retry = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
elseif rate > 0 then
  retry = math.ceil((1 - tokens) * 1000 / rate)
else
  retry = 60000
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
local ttl = 60000
if rate > 0 then ttl = math.ceil(burst / rate * 1000) + 1000 end
redis.call('PEXPIRE', KEYS[1], ttl)
return {allowed, retry}
";

pub struct RedisLimiter {
    redis: Arc<RedisHandle>,
    prefix: String,
    per_second: f64,
    burst: u32,
    script: redis::Script,
    fallback: TokenBucketLimiter,
}

impl RedisLimiter {
    pub fn new(redis: Arc<RedisHandle>, prefix: &str, per_minute: u32, burst: u32) -> Self {
        RedisLimiter {
            redis,
            prefix: prefix.to_owned(),
            per_second: f64::from(per_minute) / 60.0,
            burst: burst.max(1),
            script: redis::Script::new(BUCKET_SCRIPT),
            fallback: TokenBucketLimiter::new(per_minute, burst),
        }
    }
}

#[async_trait]
impl Limiter for RedisLimiter {
    async fn check(&self, key: &str) -> Result<(), Duration> {
        let k = format!("{}:{key}", self.prefix);
        let (rate, burst, script) = (self.per_second, self.burst, &self.script);
        let out = self
            .redis
            .run(|mut c| async move {
                script
                    .key(k)
                    .arg(rate)
                    .arg(burst)
                    .invoke_async::<(i64, i64)>(&mut c)
                    .await
            })
            .await;
        match out {
            Some((1, _)) => Ok(()),
            Some((_, retry_ms)) => Err(Duration::from_millis(retry_ms.max(1) as u64)),
            // Redis unreachable: limit per process rather than not at all.
            None => self.fallback.check(key).await,
        }
    }
}

/// The three limiters a request may meet ([`crate::config::RateLimitConfig`]).
pub struct Limiters {
    pub read_ip: Arc<dyn Limiter>,
    pub write_ip: Arc<dyn Limiter>,
    pub write_token: Arc<dyn Limiter>,
}

impl Limiters {
    /// Shared through Redis (keys under `<key_prefix>:rl:`) when it is configured, else in process.
    pub fn new(
        rl: &crate::config::RateLimitConfig,
        redis: Option<&Arc<RedisHandle>>,
        key_prefix: &str,
    ) -> Limiters {
        let make = |name: &str, per_minute: u32, burst: u32| -> Arc<dyn Limiter> {
            match redis {
                Some(r) => Arc::new(RedisLimiter::new(
                    r.clone(),
                    &format!("{key_prefix}:rl:{name}"),
                    per_minute,
                    burst,
                )),
                None => Arc::new(TokenBucketLimiter::new(per_minute, burst)),
            }
        };
        Limiters {
            read_ip: make("read-ip", rl.reads_per_ip_per_minute, rl.read_burst),
            write_ip: make("ip", rl.writes_per_ip_per_minute, rl.write_burst),
            write_token: make(
                "token",
                rl.writes_per_token_per_minute,
                rl.writes_per_token_per_minute,
            ),
        }
    }
}

/// The client address in `X-Forwarded-For` entries (all headers, in order) behind `trusted` proxies: each
/// trusted proxy appends the address it received the request from, so the client is the `trusted`-th entry
/// from the right; anything further left was written by the client itself. `None` (use the peer) when no
/// proxy is trusted or there is no entry; with fewer entries than proxies, the leftmost.
pub fn forwarded_client<'a>(entries: &[&'a str], trusted: u32) -> Option<&'a str> {
    let trusted = usize::try_from(trusted).unwrap_or(usize::MAX);
    if trusted == 0 || entries.is_empty() {
        return None;
    }
    Some(entries[entries.len().saturating_sub(trusted)])
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

    #[test]
    fn the_client_is_the_entry_the_outermost_trusted_proxy_appended() {
        // The client sent "1.1.1.1" itself; the ingress appended the real peer 2.2.2.2.
        let xff = ["1.1.1.1", "2.2.2.2"];
        assert_eq!(forwarded_client(&xff, 0), None);
        assert_eq!(forwarded_client(&xff, 1), Some("2.2.2.2"));
        // Load balancer + ingress: the load balancer appended the client, the ingress the load balancer.
        let xff = ["6.6.6.6", "3.3.3.3", "10.0.0.7"];
        assert_eq!(forwarded_client(&xff, 2), Some("3.3.3.3"));
        assert_eq!(forwarded_client(&xff, 5), Some("6.6.6.6"));
        assert_eq!(forwarded_client(&[], 1), None);
    }
}
