//! Embedded SQLite store: the zero-setup default. One file, WAL mode; reads use a pool, writes go through a
//! single connection with `BEGIN IMMEDIATE`, which serializes every write (so per-server ordering holds
//! trivially) without blocking readers.

use super::plan::{self, VersionMeta};
use super::{
    ListQuery, NewVersion, SchemaState, StatusChange, Store, StoreError, StoreResult,
    VersionFilter, VersionRef, like_pattern,
};
use crate::model::{ServerRecord, Status};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

const COLUMNS: &str = "name, version, server_json, status, status_message, published_at, updated_at, \
                       status_changed_at, is_latest";

pub struct SqliteStore {
    read: SqlitePool,
    write: SqlitePool,
}

impl SqliteStore {
    /// Open (creating the file and its directory when missing) the database at `path`.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts.clone())
            .await
            .map_err(|e| StoreError::Unavailable(format!("open {}: {e}", path.display())))?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts.read_only(false))
            .await?;
        Ok(SqliteStore { read, write })
    }
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn time(us: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| StoreError::Unavailable(format!("stored timestamp out of range: {us}")))
}

fn status_of(s: &str) -> StoreResult<Status> {
    Status::from_str(s).map_err(StoreError::Unavailable)
}

fn record(row: &SqliteRow) -> StoreResult<ServerRecord> {
    Ok(ServerRecord {
        name: row.try_get("name")?,
        version: row.try_get("version")?,
        server_json: row.try_get("server_json")?,
        status: status_of(row.try_get("status")?)?,
        status_message: row.try_get("status_message")?,
        published_at: time(row.try_get("published_at")?)?,
        updated_at: time(row.try_get("updated_at")?)?,
        status_changed_at: time(row.try_get("status_changed_at")?)?,
        is_latest: row.try_get::<i64, _>("is_latest")? == 1,
    })
}

async fn load_meta(conn: &mut SqliteConnection, name: &str) -> StoreResult<Vec<VersionMeta>> {
    let rows = sqlx::query(
        "SELECT version, published_at, status, status_message, is_latest
         FROM server_versions WHERE name = ?",
    )
    .bind(name)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(VersionMeta {
                version: r.try_get("version")?,
                published_at: time(r.try_get("published_at")?)?,
                status: status_of(r.try_get("status")?)?,
                status_message: r.try_get("status_message")?,
                is_latest: r.try_get::<i64, _>("is_latest")? == 1,
            })
        })
        .collect()
}

/// Refuse URLs that a non-deleted version of another server name already uses.
async fn check_remote_urls(
    conn: &mut SqliteConnection,
    name: &str,
    urls: &[String],
) -> StoreResult<()> {
    for url in urls {
        let other: Option<String> = sqlx::query_scalar(
            "SELECT r.name FROM server_remote_urls r
             JOIN server_versions s ON s.name = r.name AND s.version = r.version
             WHERE r.url = ? AND r.name <> ? AND s.status <> 'deleted' LIMIT 1",
        )
        .bind(url)
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(other) = other {
            return Err(plan::remote_url_clash(url, &other));
        }
    }
    Ok(())
}

async fn urls_of_version(
    conn: &mut SqliteConnection,
    name: &str,
    version: &str,
) -> StoreResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT url FROM server_remote_urls WHERE name = ? AND version = ? ORDER BY url",
    )
    .bind(name)
    .bind(version)
    .fetch_all(&mut *conn)
    .await?)
}

async fn fetch_one(
    conn: &mut SqliteConnection,
    name: &str,
    version: &str,
) -> StoreResult<ServerRecord> {
    let sql = format!("SELECT {COLUMNS} FROM server_versions WHERE name = ? AND version = ?");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(name)
        .bind(version)
        .fetch_one(&mut *conn)
        .await?;
    record(&row)
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> StoreResult<Vec<i64>> {
        let before = self.schema_state().await?;
        MIGRATOR
            .run(&self.write)
            .await
            .map_err(|e| StoreError::Fatal(format!("migration failed: {e}")))?;
        Ok(before.pending())
    }

    async fn schema_state(&self) -> StoreResult<SchemaState> {
        let known = MIGRATOR.iter().map(|m| m.version).collect();
        let exists: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_one(&self.read)
        .await?;
        let applied = if exists == 1 {
            sqlx::query_scalar(
                "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
            )
            .fetch_all(&self.read)
            .await?
        } else {
            Vec::new()
        };
        Ok(SchemaState { applied, known })
    }

    async fn list(&self, q: &ListQuery) -> StoreResult<Vec<ServerRecord>> {
        let mut b: QueryBuilder<Sqlite> =
            QueryBuilder::new(format!("SELECT {COLUMNS} FROM server_versions WHERE 1 = 1"));
        if let Some(c) = &q.after {
            match &c.version {
                // A row-value comparison: SQLite turns it into a primary-key range search, while the
                // equivalent `name > ? OR (name = ? AND version > ?)` makes it scan from the start.
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
            // Match against the names table, then read only the matching servers' rows.
            b.push(" AND name IN (SELECT name FROM server_names WHERE lower(name) LIKE ")
                .push_bind(like_pattern(s))
                .push(" ESCAPE '\\')");
        }
        if let Some(t) = q.updated_since {
            b.push(" AND updated_at > ").push_bind(micros(t));
        }
        match &q.version {
            Some(VersionFilter::Latest) => {
                b.push(" AND is_latest = 1");
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
        let rows = b.build().fetch_all(&self.read).await?;
        rows.iter().map(record).collect()
    }

    async fn versions(&self, name: &str, include_deleted: bool) -> StoreResult<Vec<ServerRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM server_versions WHERE name = ? AND (? OR status <> 'deleted')
             ORDER BY published_at DESC, version DESC"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(name)
            .bind(include_deleted)
            .fetch_all(&self.read)
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
                    "SELECT {COLUMNS} FROM server_versions WHERE name = ? AND is_latest = 1
                     AND (? OR status <> 'deleted')"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(name)
                    .bind(include_deleted)
                    .fetch_optional(&self.read)
                    .await?
            }
            VersionRef::Exact(v) => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM server_versions WHERE name = ? AND version = ?
                     AND (? OR status <> 'deleted')"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(name)
                    .bind(v)
                    .bind(include_deleted)
                    .fetch_optional(&self.read)
                    .await?
            }
        };
        row.as_ref().map(record).transpose()
    }

    async fn publish(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let existing = load_meta(&mut tx, &new.name).await?;
        let now = crate::model::now();
        let plan = plan::plan_publish(&existing, &new.version, now)?;
        check_remote_urls(&mut tx, &new.name, &new.remote_urls).await?;
        if let Some(old) = &plan.clear_latest {
            sqlx::query("UPDATE server_versions SET is_latest = 0 WHERE name = ? AND version = ?")
                .bind(&new.name)
                .bind(old)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO server_versions (name, version, server_json, status, status_message,
               published_at, updated_at, status_changed_at, is_latest)
             VALUES (?, ?, ?, 'active', NULL, ?, ?, ?, ?)",
        )
        .bind(&new.name)
        .bind(&new.version)
        .bind(&new.server_json)
        .bind(micros(now))
        .bind(micros(now))
        .bind(micros(now))
        .bind(plan.new_is_latest as i64)
        .execute(&mut *tx)
        .await?;
        for url in &new.remote_urls {
            sqlx::query("INSERT INTO server_remote_urls (url, name, version) VALUES (?, ?, ?)")
                .bind(url)
                .bind(&new.name)
                .bind(&new.version)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("INSERT OR IGNORE INTO server_names (name) VALUES (?)")
            .bind(&new.name)
            .execute(&mut *tx)
            .await?;
        let rec = fetch_one(&mut tx, &new.name, &new.version).await?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn edit(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let existing = load_meta(&mut tx, &new.name).await?;
        plan::check_edit_target(&existing, &new.version)?;
        check_remote_urls(&mut tx, &new.name, &new.remote_urls).await?;
        sqlx::query(
            "UPDATE server_versions SET server_json = ?, updated_at = ? WHERE name = ? AND version = ?",
        )
        .bind(&new.server_json)
        .bind(micros(crate::model::now()))
        .bind(&new.name)
        .bind(&new.version)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM server_remote_urls WHERE name = ? AND version = ?")
            .bind(&new.name)
            .bind(&new.version)
            .execute(&mut *tx)
            .await?;
        for url in &new.remote_urls {
            sqlx::query("INSERT INTO server_remote_urls (url, name, version) VALUES (?, ?, ?)")
                .bind(url)
                .bind(&new.name)
                .bind(&new.version)
                .execute(&mut *tx)
                .await?;
        }
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
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let existing = load_meta(&mut tx, name).await?;
        let plan = plan::plan_status(&existing, version, change, crate::model::now())?;
        for v in &plan.restored {
            let urls = urls_of_version(&mut tx, name, v).await?;
            check_remote_urls(&mut tx, name, &urls).await?;
        }
        for u in &plan.updates {
            sqlx::query(
                "UPDATE server_versions SET status = ?, status_message = ?, updated_at = ?,
                   status_changed_at = COALESCE(?, status_changed_at)
                 WHERE name = ? AND version = ?",
            )
            .bind(u.status.as_str())
            .bind(&u.status_message)
            .bind(micros(u.updated_at))
            .bind(u.status_changed_at.map(micros))
            .bind(name)
            .bind(&u.version)
            .execute(&mut *tx)
            .await?;
        }
        // Clear first, then set: the unique partial index never sees two latest rows.
        sqlx::query("UPDATE server_versions SET is_latest = 0 WHERE name = ? AND is_latest = 1 AND version IS NOT ?")
            .bind(name)
            .bind(&plan.latest)
            .execute(&mut *tx)
            .await?;
        if let Some(latest) = &plan.latest {
            sqlx::query("UPDATE server_versions SET is_latest = 1 WHERE name = ? AND version = ?")
                .bind(name)
                .bind(latest)
                .execute(&mut *tx)
                .await?;
        }
        let out = match version {
            Some(v) => vec![fetch_one(&mut tx, name, v).await?],
            None => {
                let sql = format!(
                    "SELECT {COLUMNS} FROM server_versions WHERE name = ?
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
