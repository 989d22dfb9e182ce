//! PostgreSQL store (sqlx). Writes to one server name are serialized by a transaction-scoped advisory lock
//! keyed by the name, as the official registry does; the unique partial index on `is_latest` backs it up.
//! Migrations are embedded, versioned, and run under sqlx's advisory lock, optionally with separate
//! (schema owner) credentials.

use super::plan::{self, VersionMeta};
use super::{
    ListQuery, NewVersion, SchemaState, StatusChange, Store, StoreError, StoreResult,
    VersionFilter, VersionRef, like_pattern,
};
use crate::model::{ServerRecord, Status};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, QueryBuilder, Row};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

const COLUMNS: &str = "name, version, server_json::text AS server_json, status, status_message, \
                       published_at, updated_at, status_changed_at, is_latest";

pub struct PostgresStore {
    pool: PgPool,
    /// Credentials for `migrate` (the schema owner); the app's when not configured separately.
    migration: PgConnectOptions,
}

impl PostgresStore {
    /// Create the pool without connecting: the server starts (and reports not-ready) while the database
    /// is still coming up, which is what Kubernetes rollouts want.
    pub fn connect_lazy(
        app: PgConnectOptions,
        migration: Option<PgConnectOptions>,
        max_connections: u32,
    ) -> Self {
        // Writers to one server queue on its advisory lock while holding a connection, so under a burst
        // the pool is the queue: wait for a connection as long as a request may take, not less.
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(app.clone());
        PostgresStore {
            pool,
            migration: migration.unwrap_or(app),
        }
    }
}

fn record(row: &PgRow) -> StoreResult<ServerRecord> {
    Ok(ServerRecord {
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        server_json: row.try_get("server_json")?,
        status: Status::from_str(row.try_get("status")?).map_err(StoreError::Unavailable)?,
        status_message: row.try_get("status_message")?,
        published_at: row.try_get("published_at")?,
        updated_at: row.try_get("updated_at")?,
        status_changed_at: row.try_get("status_changed_at")?,
        is_latest: row.try_get("is_latest")?,
    })
}

async fn lock_server(conn: &mut PgConnection, name: &str) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7150))")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn load_meta(conn: &mut PgConnection, name: &str) -> StoreResult<Vec<VersionMeta>> {
    let rows = sqlx::query(
        "SELECT version, published_at, status, status_message, is_latest
         FROM server_versions WHERE name = $1",
    )
    .bind(name)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(VersionMeta {
                version: r.try_get("version")?,
                published_at: r.try_get("published_at")?,
                status: Status::from_str(r.try_get("status")?).map_err(StoreError::Unavailable)?,
                status_message: r.try_get("status_message")?,
                is_latest: r.try_get("is_latest")?,
            })
        })
        .collect()
}

async fn check_remote_urls(
    conn: &mut PgConnection,
    name: &str,
    urls: &[String],
) -> StoreResult<()> {
    if urls.is_empty() {
        return Ok(());
    }
    // The per-name lock does not order two *different* names claiming one URL: take a lock per URL too
    // (sorted, so two writers never wait on each other in opposite orders).
    let mut sorted: Vec<&String> = urls.iter().collect();
    sorted.sort();
    for url in sorted {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('url:' || $1, 7150))")
            .bind(url)
            .execute(&mut *conn)
            .await?;
    }
    let clash: Option<(String, String)> = sqlx::query_as(
        "SELECT r.url, r.name FROM server_remote_urls r
         JOIN server_versions s ON s.name = r.name AND s.version = r.version
         WHERE r.url = ANY($1) AND r.name <> $2 AND s.status <> 'deleted'
         ORDER BY r.url LIMIT 1",
    )
    .bind(urls)
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?;
    match clash {
        Some((url, other)) => Err(plan::remote_url_clash(&url, &other)),
        None => Ok(()),
    }
}

async fn insert_urls(conn: &mut PgConnection, new: &NewVersion) -> StoreResult<()> {
    if !new.remote_urls.is_empty() {
        sqlx::query(
            "INSERT INTO server_remote_urls (url, name, version)
             SELECT unnest($1::text[]), $2, $3",
        )
        .bind(&new.remote_urls)
        .bind(&new.name)
        .bind(&new.version)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn fetch_one(
    conn: &mut PgConnection,
    name: &str,
    version: &str,
) -> StoreResult<ServerRecord> {
    let sql = format!("SELECT {COLUMNS} FROM server_versions WHERE name = $1 AND version = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(name)
        .bind(version)
        .fetch_one(&mut *conn)
        .await?;
    record(&row)
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> StoreResult<Vec<i64>> {
        // A one-connection pool of its own: the migration credentials may differ from the app's.
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(self.migration.clone())
            .await
            .map_err(|e| StoreError::Unavailable(format!("connect for migration: {e}")))?;
        let applied: Vec<i64> = sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&pool)
        .await
        .unwrap_or_default(); // the table does not exist before the first migration
        let result = MIGRATOR.run(&pool).await;
        pool.close().await;
        // Connecting worked, so a failure here is the migration itself (privileges, a changed migration):
        // retrying will not help.
        result.map_err(|e| StoreError::Fatal(format!("migration failed: {e}")))?;
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

    async fn list(&self, q: &ListQuery) -> StoreResult<Vec<ServerRecord>> {
        let mut b: QueryBuilder<Postgres> =
            QueryBuilder::new(format!("SELECT {COLUMNS} FROM server_versions WHERE true"));
        if let Some(c) = &q.after {
            match &c.version {
                Some(v) => {
                    b.push(" AND (name, version) > (")
                        .push_bind(c.name.clone())
                        .push(", ")
                        .push_bind(v.clone())
                        .push(")");
                }
                None => {
                    b.push(" AND name > ").push_bind(c.name.clone());
                }
            }
        }
        if let Some(s) = &q.search {
            b.push(" AND lower(name) LIKE ")
                .push_bind(like_pattern(s))
                .push(" ESCAPE '\\'");
        }
        if let Some(t) = q.updated_since {
            b.push(" AND updated_at > ").push_bind(t);
        }
        match &q.version {
            Some(VersionFilter::Latest) => {
                b.push(" AND is_latest");
            }
            Some(VersionFilter::Exact(v)) => {
                b.push(" AND version = ").push_bind(v.clone());
            }
            None => {}
        }
        if !q.include_deleted {
            b.push(" AND status <> 'deleted'");
        }
        b.push(" ORDER BY name, version LIMIT ")
            .push_bind(q.limit as i64);
        let rows = b.build().fetch_all(&self.pool).await?;
        rows.iter().map(record).collect()
    }

    async fn versions(&self, name: &str, include_deleted: bool) -> StoreResult<Vec<ServerRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM server_versions WHERE name = $1 AND ($2 OR status <> 'deleted')
             ORDER BY published_at DESC, version DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .bind(include_deleted)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record).collect()
    }

    async fn get(
        &self,
        name: &str,
        version: &VersionRef,
        include_deleted: bool,
    ) -> StoreResult<Option<ServerRecord>> {
        let row = match version {
            VersionRef::Latest => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM server_versions WHERE name = $1 AND is_latest
                     AND ($2 OR status <> 'deleted')"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(name)
                    .bind(include_deleted)
                    .fetch_optional(&self.pool)
                    .await?
            }
            VersionRef::Exact(v) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM server_versions WHERE name = $1 AND version = $2
                     AND ($3 OR status <> 'deleted')"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(name)
                    .bind(v)
                    .bind(include_deleted)
                    .fetch_optional(&self.pool)
                    .await?
            }
        };
        row.as_ref().map(record).transpose()
    }

    async fn publish(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        let mut tx = self.pool.begin().await?;
        lock_server(&mut tx, &new.name).await?;
        let existing = load_meta(&mut tx, &new.name).await?;
        let now = crate::model::now();
        let plan = plan::plan_publish(&existing, &new.version, now)?;
        check_remote_urls(&mut tx, &new.name, &new.remote_urls).await?;
        if let Some(old) = &plan.clear_latest {
            sqlx::query(
                "UPDATE server_versions SET is_latest = false WHERE name = $1 AND version = $2",
            )
            .bind(&new.name)
            .bind(old)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "INSERT INTO server_versions (name, version, server_json, status, status_message,
               published_at, updated_at, status_changed_at, is_latest)
             VALUES ($1, $2, $3::json, 'active', NULL, $4, $4, $4, $5)",
        )
        .bind(&new.name)
        .bind(&new.version)
        .bind(&new.server_json)
        .bind(now)
        .bind(plan.new_is_latest)
        .execute(&mut *tx)
        .await?;
        insert_urls(&mut tx, &new).await?;
        let rec = fetch_one(&mut tx, &new.name, &new.version).await?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn edit(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        let mut tx = self.pool.begin().await?;
        lock_server(&mut tx, &new.name).await?;
        let existing = load_meta(&mut tx, &new.name).await?;
        plan::check_edit_target(&existing, &new.version)?;
        check_remote_urls(&mut tx, &new.name, &new.remote_urls).await?;
        sqlx::query(
            "UPDATE server_versions SET server_json = $1::json, updated_at = $2
             WHERE name = $3 AND version = $4",
        )
        .bind(&new.server_json)
        .bind(crate::model::now())
        .bind(&new.name)
        .bind(&new.version)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM server_remote_urls WHERE name = $1 AND version = $2")
            .bind(&new.name)
            .bind(&new.version)
            .execute(&mut *tx)
            .await?;
        insert_urls(&mut tx, &new).await?;
        let rec = fetch_one(&mut tx, &new.name, &new.version).await?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn set_status(
        &self,
        name: &str,
        version: Option<&str>,
        change: &StatusChange,
    ) -> StoreResult<Vec<ServerRecord>> {
        let mut tx = self.pool.begin().await?;
        lock_server(&mut tx, name).await?;
        let existing = load_meta(&mut tx, name).await?;
        let plan = plan::plan_status(&existing, version, change, crate::model::now())?;
        for v in &plan.restored {
            let urls: Vec<String> = sqlx::query_scalar(
                "SELECT url FROM server_remote_urls WHERE name = $1 AND version = $2",
            )
            .bind(name)
            .bind(v)
            .fetch_all(&mut *tx)
            .await?;
            check_remote_urls(&mut tx, name, &urls).await?;
        }
        for u in &plan.updates {
            sqlx::query(
                "UPDATE server_versions SET status = $1, status_message = $2, updated_at = $3,
                   status_changed_at = COALESCE($4, status_changed_at)
                 WHERE name = $5 AND version = $6",
            )
            .bind(u.status.as_str())
            .bind(&u.status_message)
            .bind(u.updated_at)
            .bind(u.status_changed_at)
            .bind(name)
            .bind(&u.version)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE server_versions SET is_latest = false
             WHERE name = $1 AND is_latest AND version IS DISTINCT FROM $2",
        )
        .bind(name)
        .bind(&plan.latest)
        .execute(&mut *tx)
        .await?;
        if let Some(latest) = &plan.latest {
            sqlx::query(
                "UPDATE server_versions SET is_latest = true WHERE name = $1 AND version = $2",
            )
            .bind(name)
            .bind(latest)
            .execute(&mut *tx)
            .await?;
        }
        let out = match version {
            Some(v) => vec![fetch_one(&mut tx, name, v).await?],
            None => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM server_versions WHERE name = $1
                     ORDER BY published_at DESC, version DESC"
                );
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(name)
                    .fetch_all(&mut *tx)
                    .await?;
                rows.iter().map(record).collect::<StoreResult<_>>()?
            }
        };
        tx.commit().await?;
        Ok(out)
    }
}
