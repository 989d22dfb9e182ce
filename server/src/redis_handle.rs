//! The shared Redis connection: created lazily (the registry starts and serves while Redis is down), every
//! operation under a short timeout (a slow Redis must never stall a request: the store answers instead),
//! and a health flag that readiness, metrics and the recovery logic read.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, IntoConnectionInfo};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Longest a cache or limiter call may take before the request goes on without Redis.
const OP_TIMEOUT: Duration = Duration::from_millis(500);
/// After a failed connection attempt, wait this long before the next one.
const RECONNECT_EVERY: Duration = Duration::from_millis(500);

pub struct RedisHandle {
    client: Client,
    manager: Mutex<Option<ConnectionManager>>,
    /// Milliseconds since `started` of the last failed connection attempt (0: none).
    last_failure_ms: AtomicU64,
    started: Instant,
    healthy: AtomicBool,
    /// Set when an operation failed; cleared by [`RedisHandle::take_recovered`] once Redis answers again,
    /// so the cache can drop everything written before the outage.
    had_outage: AtomicBool,
}

impl RedisHandle {
    /// Parse the URL (and password file) now, connect later.
    pub fn new(url: &str, password: Option<String>) -> anyhow::Result<Arc<Self>> {
        let mut info = url
            .into_connection_info()
            .map_err(|e| anyhow::anyhow!("cache.redis_url: invalid Redis URL: {e}"))?;
        if let Some(pw) = password {
            let settings = info.redis_settings().clone().set_password(pw);
            info = info.set_redis_settings(settings);
        }
        let client = Client::open(info).map_err(|e| anyhow::anyhow!("cache.redis_url: {e}"))?;
        Ok(Arc::new(RedisHandle {
            client,
            manager: Mutex::new(None),
            last_failure_ms: AtomicU64::new(0),
            started: Instant::now(),
            healthy: AtomicBool::new(false),
            had_outage: AtomicBool::new(false),
        }))
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::SeqCst)
    }

    fn mark(&self, ok: bool) {
        self.healthy.store(ok, Ordering::SeqCst);
        if !ok {
            self.had_outage.store(true, Ordering::SeqCst);
        }
    }

    /// True once after Redis answered again following a failure.
    pub fn take_recovered(&self) -> bool {
        self.is_healthy() && self.had_outage.swap(false, Ordering::SeqCst)
    }

    async fn connection(&self) -> Option<ConnectionManager> {
        let mut guard = self.manager.lock().await;
        if let Some(m) = guard.as_ref() {
            return Some(m.clone());
        }
        let last = self.last_failure_ms.load(Ordering::SeqCst);
        let now = self.started.elapsed().as_millis() as u64;
        if last != 0 && now.saturating_sub(last) < RECONNECT_EVERY.as_millis() as u64 {
            return None;
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(OP_TIMEOUT))
            .set_response_timeout(Some(OP_TIMEOUT))
            .set_number_of_retries(1);
        match tokio::time::timeout(
            OP_TIMEOUT * 2,
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await
        {
            Ok(Ok(m)) => {
                *guard = Some(m.clone());
                Some(m)
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "redis unreachable; serving from the store and limiting per process");
                self.last_failure_ms.store(now.max(1), Ordering::SeqCst);
                self.mark(false);
                None
            }
            Err(_) => {
                self.last_failure_ms.store(now.max(1), Ordering::SeqCst);
                self.mark(false);
                None
            }
        }
    }

    /// Run one operation; `None` when Redis is unreachable, slow or failed (already logged and counted).
    pub async fn run<T, F, Fut>(&self, op: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let conn = self.connection().await?;
        match tokio::time::timeout(OP_TIMEOUT, op(conn)).await {
            Ok(Ok(v)) => {
                self.mark(true);
                Some(v)
            }
            Ok(Err(e)) => {
                if self.is_healthy() {
                    tracing::warn!(error = %e, "redis operation failed; degrading");
                }
                self.mark(false);
                None
            }
            Err(_) => {
                self.mark(false);
                None
            }
        }
    }

    pub async fn ping(&self) -> bool {
        self.run(|mut c| async move { redis::cmd("PING").query_async::<String>(&mut c).await })
            .await
            .is_some()
    }
}
