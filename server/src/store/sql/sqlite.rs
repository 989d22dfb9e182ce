//! Embedded SQLite: the zero-setup default. One file, WAL mode; reads use a pool, writes go through a
//! single connection with `BEGIN IMMEDIATE`, which serializes every write (so per-server ordering holds
//! trivially) without blocking readers. Timestamps are stored as microseconds since the epoch, booleans as
//! 0/1. Search matches a table of names (one row per server) and then reads only the matching servers' rows.

use super::{Dialect, SqlStore, WriteTx};
use crate::store::{SchemaState, StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
use std::path::Path;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteDb {
    read: SqlitePool,
    write: SqlitePool,
}

impl SqlStore<SqliteDb> {
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
        Ok(SqlStore {
            db: SqliteDb { read, write },
        })
    }
}

#[async_trait]
impl Dialect for SqliteDb {
    type DB = Sqlite;
    const BACKEND: &'static str = "sqlite";
    const COLUMNS: &'static str = "name, version, server_json, status, status_message, published_at, \
                                   updated_at, status_changed_at, is_latest, source, source_updated_at";
    const JSON_CAST: &'static str = "";
    const IS_LATEST: &'static str = "is_latest = 1";
    const TRUE: &'static str = "1";
    const FALSE: &'static str = "0";

    super::same_for_every_driver!(Sqlite, SqliteConnection, SqliteRow, stored: integers);

    fn push_search(q: &mut QueryBuilder<Sqlite>, pattern: String) {
        q.push(" AND name IN (SELECT name FROM server_names WHERE lower(name) LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\')");
    }

    async fn fetch_read(&self, mut q: QueryBuilder<Sqlite>) -> StoreResult<Vec<SqliteRow>> {
        Ok(q.build().fetch_all(&self.read).await?)
    }
    async fn begin_write(&self, _name: &str) -> StoreResult<WriteTx<Sqlite>> {
        // The single write connection and IMMEDIATE (write lock at BEGIN) serialize all writers.
        Ok(WriteTx::new(
            self.write.begin_with("BEGIN IMMEDIATE").await?,
            None,
        ))
    }
    async fn after_insert(conn: &mut SqliteConnection, name: &str) -> StoreResult<()> {
        sqlx::query("INSERT OR IGNORE INTO server_names (name) VALUES (?)")
            .bind(name)
            .execute(conn)
            .await?;
        Ok(())
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
}
