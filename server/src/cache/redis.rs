//! The cache over Redis ([`RedisCache`]): the generation scheme of the module docs, shared by replicas.

use super::{CacheBackend, Lookup, Scope};
use crate::redis_handle::RedisHandle;
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// Reads the epoch, the scope's generation and the entry in one round trip.
const GET_SCRIPT: &str = r"
local epoch = redis.call('GET', KEYS[1]) or '0'
local gen = redis.call('GET', KEYS[2]) or '0'
local g = epoch .. '.' .. gen
return {g, redis.call('GET', ARGV[1] .. g .. '|' .. ARGV[2])}
";

pub struct RedisCache {
    redis: Arc<RedisHandle>,
    prefix: String,
    ttl: Duration,
    script: redis::Script,
}

impl RedisCache {
    pub fn new(redis: Arc<RedisHandle>, prefix: &str, ttl: Duration) -> Arc<Self> {
        Arc::new(RedisCache {
            redis,
            prefix: prefix.to_owned(),
            ttl,
            script: redis::Script::new(GET_SCRIPT),
        })
    }

    fn epoch_key(&self) -> String {
        format!("{}:epoch", self.prefix)
    }
    fn gen_key(&self, scope: &Scope) -> String {
        match scope {
            Scope::Lists => format!("{}:gen:lists", self.prefix),
            Scope::Server(n) => format!("{}:gen:server:{n}", self.prefix),
        }
    }
    fn entry_prefix(&self, scope: &Scope) -> String {
        format!("{}:entry:{}|", self.prefix, self.gen_key(scope))
    }

    /// Watch for Redis coming back even when no request arrives, so entries from before an outage are
    /// retired promptly on every replica's behalf.
    pub fn spawn_recovery_watch(self: &Arc<Self>) {
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let Some(cache) = me.upgrade() else { return };
                if !cache.redis.is_healthy() {
                    cache.redis.ping().await;
                }
                cache.after_outage().await;
            }
        });
    }

    /// After an outage, retire every entry written before it (another replica may have written while
    /// this one could not invalidate).
    async fn after_outage(&self) {
        if self.redis.take_recovered() {
            let key = self.epoch_key();
            let bumped = self
                .redis
                .run(|mut c| async move {
                    redis::cmd("INCR")
                        .arg(&key)
                        .query_async::<i64>(&mut c)
                        .await
                })
                .await;
            if bumped.is_some() {
                tracing::info!(
                    "redis is back: cache epoch bumped, entries from before the outage retired"
                );
            }
        }
    }
}

#[async_trait]
impl CacheBackend for RedisCache {
    fn kind(&self) -> &'static str {
        "redis"
    }
    async fn get(&self, scope: &Scope, key: &str) -> Lookup {
        self.after_outage().await;
        let (epoch, gen_key, prefix) = (
            self.epoch_key(),
            self.gen_key(scope),
            self.entry_prefix(scope),
        );
        let script = &self.script;
        let out = self
            .redis
            .run(|mut c| async move {
                script
                    .key(epoch)
                    .key(gen_key)
                    .arg(prefix)
                    .arg(key)
                    .invoke_async::<(String, Option<Vec<u8>>)>(&mut c)
                    .await
            })
            .await;
        match out {
            Some((_, Some(v))) => Lookup::Hit(v),
            Some((g, None)) => Lookup::Miss(g),
            None => Lookup::Unavailable,
        }
    }
    async fn put(&self, scope: &Scope, generation: &str, key: &str, value: Vec<u8>) {
        let k = format!("{}{generation}|{key}", self.entry_prefix(scope));
        let ttl = self.ttl.as_millis().max(1) as u64;
        self.redis
            .run(|mut c| async move {
                redis::cmd("SET")
                    .arg(k)
                    .arg(value)
                    .arg("PX")
                    .arg(ttl)
                    .query_async::<()>(&mut c)
                    .await
            })
            .await;
    }
    async fn invalidate(&self, name: &str) {
        let lists = self.gen_key(&Scope::Lists);
        let server = self.gen_key(&Scope::Server(name.to_owned()));
        let done = self
            .redis
            .run(|mut c| async move {
                redis::pipe()
                    .atomic()
                    .incr(lists, 1)
                    .incr(server, 1)
                    .query_async::<(i64, i64)>(&mut c)
                    .await
            })
            .await;
        if done.is_none() {
            tracing::warn!(
                server = name,
                "could not invalidate the shared cache; entries retire when redis is back"
            );
        }
    }
}
