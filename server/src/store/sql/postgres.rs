//! PostgreSQL (sqlx). Writes to one server name are serialized by a transaction-scoped advisory lock keyed by
//! the name, as the official registry does; the unique partial index on `is_latest` backs it up. Migrations are embedded,
//! versioned, and run under sqlx's advisory lock, optionally with separate (schema owner) credentials.

use super::{Dialect, SqlStore, WriteTx};
use crate::store::{SchemaState, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, QueryBuilder, Row};
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PostgresDb {
    pool: PgPool,
    /// In-process turns of the writers, by a hash of the server name: writers of one name wait here, not
    /// on the advisory lock while holding a pool connection — a burst of publishes of one name would
    /// otherwise take every connection and starve the reads and the writes of every other name.
    turns: Vec<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// Credentials for `migrate` (the schema owner); the app's when not configured separately.
    migration: PgConnectOptions,
}

impl SqlStore<PostgresDb> {
    /// Create the pool without connecting: the server starts (and reports not-ready) while the database
    /// is still coming up, which is what Kubernetes rollouts want.
    pub fn connect_lazy(
        app: PgConnectOptions,
        migration: Option<PgConnectOptions>,
        max_connections: u32,
    ) -> Self {
        Self::connect_lazy_failing_after(app, migration, max_connections, DEFAULT_CONNECT_TIMEOUT)
    }

    /// [`Self::connect_lazy`] with the time a request waits for a connection before the store is called
    /// unavailable (`storage.connect_timeout`). Short, so an outage answers 503 at once instead of queueing
    /// requests that clients give up on (and that would commit after they left); a burst of writers of one
    /// name, who queue on its advisory lock while holding connections, must fit in it.
    pub fn connect_lazy_failing_after(
        app: PgConnectOptions,
        migration: Option<PgConnectOptions>,
        max_connections: u32,
        connect_timeout: Duration,
    ) -> Self {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(connect_timeout)
            .connect_lazy_with(app.clone());
        SqlStore {
            db: PostgresDb {
                pool,
                turns: (0..TURNS)
                    .map(|_| std::sync::Arc::new(tokio::sync::Mutex::new(())))
                    .collect(),
                migration: migration.unwrap_or(app),
            },
        }
    }
}

/// `storage.connect_timeout` by default.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How many in-process turns the writers hash into (names sharing one wait for each other in this
/// process only; the advisory lock still decides across replicas).
const TURNS: usize = 256;

/// The advisory-lock key space of the registry (second argument of `hashtextextended`).
const LOCK_SEED: i64 = 7150;

#[async_trait]
impl Dialect for PostgresDb {
    type DB = Postgres;
    const BACKEND: &'static str = "postgres";
    const COLUMNS: &'static str = "name, version, server_json::text AS server_json, status, status_message, \
                                   published_at, updated_at, status_changed_at, is_latest, source, source_updated_at";
    const JSON_CAST: &'static str = "::json";
    const IS_LATEST: &'static str = "is_latest";
    const TRUE: &'static str = "true";
    const FALSE: &'static str = "false";

    super::same_for_every_driver!(Postgres, PgConnection, PgRow, stored: native);

    fn push_search(q: &mut QueryBuilder<Postgres>, pattern: String) {
        // lower(name) has a trigram index where pg_trgm is available (migrations).
        q.push(" AND lower(name) LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\'");
    }

    async fn fetch_read(&self, mut q: QueryBuilder<Postgres>) -> StoreResult<Vec<PgRow>> {
        Ok(q.build().fetch_all(&self.pool).await?)
    }
    async fn begin_write(&self, name: &str) -> StoreResult<WriteTx<Postgres>> {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        name.hash(&mut h);
        let turn = self.turns[(h.finish() as usize) % TURNS]
            .clone()
            .lock_owned()
            .await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))")
            .bind(name)
            .bind(LOCK_SEED)
            .execute(&mut *tx)
            .await?;
        Ok(WriteTx::new(tx, Some(turn)))
    }
    async fn after_insert(_conn: &mut PgConnection, _name: &str) -> StoreResult<()> {
        Ok(()) // search reads server_versions directly
    }

    async fn migrate(&self) -> StoreResult<Vec<i64>> {
        // A pool of its own (the migration credentials may differ from the app's): one connection holds
        // the lock below, the migrator uses the other.
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(self.migration.clone())
            .await
            .map_err(|e| StoreError::Unavailable(format!("connect for migration: {e}")))?;
        // Under a lock of our own, so that what is read as applied before and what the migrator then
        // applies belong together: migrators starting at once (one per replica) each report only what they
        // applied themselves, and together every migration exactly once. The migrator's own lock would
        // serialise the DDL but not this report.
        let result = async {
            let mut lock = pool.acquire().await?;
            sqlx::query("SELECT pg_advisory_lock(hashtextextended('mcp-registry migrate', $1))")
                .bind(LOCK_SEED)
                .execute(&mut *lock)
                .await?;
            let applied: Vec<i64> = sqlx::query_scalar(
                "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
            )
            .fetch_all(&pool)
            .await
            .unwrap_or_default(); // the table does not exist before the first migration
            let run = MIGRATOR.run(&pool).await;
            // Closing the pool releases the lock too; release it explicitly all the same.
            let _ = sqlx::query("SELECT pg_advisory_unlock_all()")
                .execute(&mut *lock)
                .await;
            anyhow::Ok(run.map(|()| applied))
        }
        .await
        .map_err(|e| StoreError::Unavailable(format!("lock for migration: {e}")))?;
        pool.close().await;
        // Connecting worked, so a failure here is the migration itself (privileges, a changed migration):
        // retrying will not help.
        let applied = result.map_err(|e| StoreError::Fatal(format!("migration failed: {e}")))?;
        Ok(MIGRATOR
            .iter()
            .map(|m| m.version)
            .filter(|v| !applied.contains(v))
            .collect())
    }

    async fn schema_state(&self) -> StoreResult<SchemaState> {
        let known = MIGRATOR.iter().map(|m| m.version).collect();
        let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&self.pool)
            .await?;
        let applied = if exists {
            sqlx::query_scalar(
                "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
            )
            .fetch_all(&self.pool)
            .await?
        } else {
            Vec::new()
        };
        Ok(SchemaState { applied, known })
    }
}
