//! The application builder: configuration in, a ready [`AppState`] out. `main` stays thin; tests build the
//! same state against a temporary store.

use crate::api::AppState;
use crate::cache::CacheBackend;
use crate::cache::memory::LocalCache;
use crate::cache::redis::RedisCache;
use crate::config::{Settings, StoreTarget};
use crate::metrics::Metrics;
use crate::ratelimit::Limiters;
use crate::redis_handle::RedisHandle;
use crate::store::PostgresStore;
use crate::store::SqliteStore;
use crate::store::mongo::MongoStore;
use crate::store::{DynStore, StoreError, layers};
use anyhow::Context;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// Open the configured store (no migration).
pub async fn open_store(target: &StoreTarget) -> anyhow::Result<DynStore> {
    Ok(match target {
        StoreTarget::Sqlite { path } => Arc::new(SqliteStore::open(path).await?),
        StoreTarget::Postgres {
            app,
            migration,
            max_connections,
            connect_timeout,
        } => Arc::new(PostgresStore::connect_lazy_failing_after(
            (**app).clone(),
            migration.as_deref().cloned(),
            *max_connections,
            *connect_timeout,
        )),
        StoreTarget::Mongo {
            uri,
            password,
            database,
            connect_timeout,
        } => Arc::new(
            MongoStore::connect_failing_after(uri, password.clone(), database, *connect_timeout)
                .await?,
        ),
    })
}

/// Apply migrations, retrying while the database is unreachable (it may still be starting next to us).
pub async fn migrate_with_retry(store: &DynStore, deadline: Duration) -> anyhow::Result<Vec<i64>> {
    let start = Instant::now();
    let mut wait = Duration::from_millis(250);
    loop {
        match store.migrate().await {
            Ok(applied) => return Ok(applied),
            Err(StoreError::Unavailable(e)) if start.elapsed() + wait < deadline => {
                tracing::warn!(error = %e, retry_in = ?wait, "store not reachable yet; retrying migration");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e).context("applying migrations"),
        }
    }
}

/// Everything the HTTP layer needs, from a loaded configuration: opens (and, when configured,
/// migrates) the store, then [`state_for`].
pub async fn build_state(settings: Settings) -> anyhow::Result<AppState> {
    let store = open_store(&settings.store).await?;
    if settings.config.storage.migrate_on_start {
        let applied = migrate_with_retry(&store, Duration::from_secs(60)).await?;
        tracing::info!(backend = store.backend(), applied = ?applied, "schema is current");
    }
    state_for(settings, store)
}

/// The state around an already opened store (tests use it to inject a store of their own).
pub fn state_for(settings: Settings, store: DynStore) -> anyhow::Result<AppState> {
    let Settings {
        config,
        redis,
        tokens,
        exchanges,
        ..
    } = settings;
    if config.auth.dev_mode {
        tracing::warn!(
            "auth.dev_mode is on: ANY bearer token is accepted as admin. Never use this outside local development."
        );
    } else if tokens.is_empty() {
        tracing::info!("no tokens configured: the registry is read-only");
    }
    let metrics = Metrics::new(store.backend());
    let c = &config.cache;
    let redis = redis
        .map(|r| RedisHandle::new(&r.url, r.password))
        .transpose()?;
    let cache: Option<Arc<dyn CacheBackend>> = if c.ttl.is_zero() {
        None
    } else {
        let backend: Arc<dyn CacheBackend> = match &redis {
            Some(r) => {
                let cache = RedisCache::new(r.clone(), &format!("{}:cache", c.key_prefix), c.ttl);
                cache.spawn_recovery_watch();
                cache
            }
            None => LocalCache::new(c.ttl, c.max_bytes),
        };
        Some(backend)
    };
    let store = layers::stack(store, &metrics, cache);
    let limiters = Arc::new(Limiters::new(
        &config.rate_limit,
        redis.as_ref(),
        &c.key_prefix,
    ));
    let sync = crate::sync::Syncer::new(store.clone(), &config.sync, &metrics)?;
    Ok(AppState {
        sync,
        store,
        tokens: Arc::new(tokens),
        exchanges,
        limiters,
        redis,
        metrics,
        config: Arc::new(config),
        draining: Arc::new(AtomicBool::new(false)),
        schema_checked: Arc::new(AtomicBool::new(false)),
    })
}
