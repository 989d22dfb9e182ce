//! The application builder: configuration in, a ready [`AppState`] out. `main` stays thin; tests build the
//! same state against a temporary store.

use crate::api::AppState;
use crate::auth::TokenSet;
use crate::cache::CacheBackend;
use crate::cache::local::{LocalCache, RedisCache};
use crate::config::{Backend, Config, PostgresConfig, read_secret_file};
use crate::metrics::Metrics;
use crate::ratelimit::{Limiter, RedisLimiter, TokenBucketLimiter};
use crate::redis_handle::RedisHandle;
use crate::store::mongo::MongoStore;
use crate::store::postgres::PostgresStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{DynStore, StoreError, layers};
use anyhow::Context;
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// A URL given inline or, preferably, in a secret file (which wins when both are set).
fn url_from(inline: &str, file_key: &str, file: &str) -> anyhow::Result<Option<String>> {
    if !file.is_empty() {
        return Ok(Some(read_secret_file(file_key, file)?));
    }
    Ok((!inline.is_empty()).then(|| inline.to_owned()))
}

/// libpq-style options: URL (inline or file), then the password file; what the URL leaves out comes from
/// `PGHOST`/`PGUSER`/… and the password, failing all else, from `PGPASSWORD`, `PGPASSFILE` or `~/.pgpass`.
pub fn postgres_options(
    pg: &PostgresConfig,
) -> anyhow::Result<(PgConnectOptions, Option<PgConnectOptions>)> {
    let parse =
        |url: Option<String>, pw_key: &str, pw_file: &str| -> anyhow::Result<PgConnectOptions> {
            let mut o = match url {
                Some(u) => PgConnectOptions::from_str(&u).map_err(|e| {
                    anyhow::anyhow!(
                        "invalid PostgreSQL URL ({}): {e}",
                        crate::config::redact_url(&u)
                    )
                })?,
                None => PgConnectOptions::new(),
            };
            if !pw_file.is_empty() {
                o = o.password(&read_secret_file(pw_key, pw_file)?);
            }
            Ok(o.application_name("mcp-registry"))
        };
    let app_url = url_from(&pg.url, "storage.postgres.url_file", &pg.url_file)?;
    let app = parse(
        app_url.clone(),
        "storage.postgres.password_file",
        &pg.password_file,
    )?;
    let mig_url = url_from(
        &pg.migration_url,
        "storage.postgres.migration_url_file",
        &pg.migration_url_file,
    )?;
    let migration = if mig_url.is_some() || !pg.migration_password_file.is_empty() {
        Some(parse(
            mig_url.or(app_url),
            "storage.postgres.migration_password_file",
            &pg.migration_password_file,
        )?)
    } else {
        None
    };
    Ok((app, migration))
}

/// Open the configured store (no migration).
pub async fn open_store(config: &Config) -> anyhow::Result<DynStore> {
    let s = &config.storage;
    Ok(match s.backend {
        Backend::Sqlite => Arc::new(SqliteStore::open(&s.sqlite.path).await?),
        Backend::Postgres => {
            let (app, migration) = postgres_options(&s.postgres)?;
            Arc::new(PostgresStore::connect_lazy(
                app,
                migration,
                s.postgres.max_connections,
            ))
        }
        Backend::Mongodb => {
            let m = &s.mongodb;
            let uri =
                url_from(&m.uri, "storage.mongodb.uri_file", &m.uri_file)?.ok_or_else(|| {
                    anyhow::anyhow!("storage.mongodb.uri or storage.mongodb.uri_file is required")
                })?;
            let password = (!m.password_file.is_empty())
                .then(|| read_secret_file("storage.mongodb.password_file", &m.password_file))
                .transpose()?;
            Arc::new(MongoStore::connect(&uri, password, &m.database).await?)
        }
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
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let store = open_store(&config).await?;
    if config.storage.migrate_on_start {
        let applied = migrate_with_retry(&store, Duration::from_secs(60)).await?;
        tracing::info!(backend = store.backend(), applied = ?applied, "schema is current");
    }
    state_for(config, store)
}

/// The state around an already opened store (tests use it to inject a store of their own).
pub fn state_for(config: Config, store: DynStore) -> anyhow::Result<AppState> {
    let tokens = TokenSet::from_config(&config.auth)?;
    if config.auth.dev_mode {
        tracing::warn!(
            "auth.dev_mode is on: ANY bearer token is accepted as admin. Never use this outside local development."
        );
    } else if tokens.is_empty() {
        tracing::info!("no tokens configured: the registry is read-only");
    }
    let metrics = Metrics::new(store.backend());
    let c = &config.cache;
    let redis = if c.redis_url.is_empty() {
        None
    } else {
        let password = (!c.redis_password_file.is_empty())
            .then(|| read_secret_file("cache.redis_password_file", &c.redis_password_file))
            .transpose()?;
        Some(RedisHandle::new(&c.redis_url, password)?)
    };
    let cache: Option<Arc<dyn CacheBackend>> = if c.ttl.is_zero() {
        None
    } else {
        let backend: Arc<dyn CacheBackend> = match &redis {
            Some(r) => {
                let cache = RedisCache::new(r.clone(), &format!("{}:cache", c.key_prefix), c.ttl);
                cache.spawn_recovery_watch();
                cache
            }
            None => LocalCache::new(c.ttl),
        };
        Some(backend)
    };
    let store = layers::stack(store, &metrics, cache);
    let rl = &config.rate_limit;
    let token_burst = rl.per_token_per_minute.max(1);
    let (ip_limiter, token_limiter): (Arc<dyn Limiter>, Arc<dyn Limiter>) = match &redis {
        Some(r) => (
            Arc::new(RedisLimiter::new(
                r.clone(),
                &format!("{}:rl:ip", c.key_prefix),
                rl.per_ip_per_minute,
                rl.burst,
            )),
            Arc::new(RedisLimiter::new(
                r.clone(),
                &format!("{}:rl:token", c.key_prefix),
                rl.per_token_per_minute,
                token_burst,
            )),
        ),
        None => (
            Arc::new(TokenBucketLimiter::new(rl.per_ip_per_minute, rl.burst)),
            Arc::new(TokenBucketLimiter::new(
                rl.per_token_per_minute,
                token_burst,
            )),
        ),
    };
    Ok(AppState {
        store,
        tokens: Arc::new(tokens),
        ip_limiter,
        token_limiter,
        redis,
        metrics,
        config: Arc::new(config),
        draining: Arc::new(AtomicBool::new(false)),
    })
}
