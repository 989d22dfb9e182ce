//! The SQL stores: one implementation of every read and write ([`SqlStore`]), generic over a small
//! [`Dialect`] that holds what really differs between SQLite and PostgreSQL — how values are bound and
//! rows decoded (SQLite keeps timestamps as microseconds and booleans as integers), how a write is
//! serialized (SQLite: one writer with `BEGIN IMMEDIATE`; PostgreSQL: an advisory lock per server name), the
//! search predicate, connections and migrations. Placeholders (`?` / `$n`) come from
//! sqlx's `QueryBuilder`, so the SQL text below is the same for both.

pub mod postgres;
pub mod sqlite;
mod synced;

/// The embedded default: one SQLite file.
pub type SqliteStore = SqlStore<sqlite::SqliteDb>;
/// PostgreSQL, for several replicas on one database.
pub type PostgresStore = SqlStore<postgres::PostgresDb>;

use super::StoreError;
use super::plan::{self, VersionMeta};
use super::{
    Applied, Found, ListQuery, NewStatus, NewVersion, OwnedVersion, Records, SchemaState,
    SourceRecord, Store, StoreResult, SyncedVersion, VersionFilter, VersionRef, like_pattern,
};
use crate::model::{ServerRecord, Status};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use sqlx::{Database, QueryBuilder, Transaction};

use std::str::FromStr;

type Conn<D> = <<D as Dialect>::DB as Database>::Connection;
type Row<D> = <<D as Dialect>::DB as Database>::Row;

/// What differs between the SQL backends. Values are bound and rows decoded here (concretely per backend),
/// so the generic code needs no trait bounds on sqlx's encoding.
#[async_trait]
pub trait Dialect: Send + Sync + Sized + 'static {
    type DB: Database;
    /// `sqlite` or `postgres`, for logs and metrics.
    const BACKEND: &'static str;
    /// The select list of whole rows (see `record`).
    const COLUMNS: &'static str;
    /// Appended to a bound server.json (PostgreSQL stores it as `json`).
    const JSON_CAST: &'static str;
    /// The latest-row predicate, literally as the partial indexes are declared (a bound value would keep
    /// the planner from using them), and the boolean literals for setting the flag.
    const IS_LATEST: &'static str;
    const TRUE: &'static str;
    const FALSE: &'static str;

    fn bind_str(q: &mut QueryBuilder<Self::DB>, v: String);
    fn bind_opt_str(q: &mut QueryBuilder<Self::DB>, v: Option<String>);
    fn bind_bool(q: &mut QueryBuilder<Self::DB>, v: bool);
    fn bind_i64(q: &mut QueryBuilder<Self::DB>, v: i64);
    fn bind_time(q: &mut QueryBuilder<Self::DB>, v: DateTime<Utc>);
    fn bind_opt_time(q: &mut QueryBuilder<Self::DB>, v: Option<DateTime<Utc>>);
    /// ` AND <the name matches this LIKE pattern>` (escape character `\`).
    fn push_search(q: &mut QueryBuilder<Self::DB>, pattern: String);

    /// Column readers: text, nullable text, the stored timestamp and boolean encodings.
    fn str_at(row: &Row<Self>, column: &str) -> StoreResult<String>;
    fn opt_str_at(row: &Row<Self>, column: &str) -> StoreResult<Option<String>>;
    fn time_at(row: &Row<Self>, column: &str) -> StoreResult<DateTime<Utc>>;
    fn opt_time_at(row: &Row<Self>, column: &str) -> StoreResult<Option<DateTime<Utc>>>;
    fn bool_at(row: &Row<Self>, column: &str) -> StoreResult<bool>;
    fn string_at(row: &Row<Self>, column: usize) -> StoreResult<String>;

    /// Run a query on the read side.
    async fn fetch_read(&self, q: QueryBuilder<Self::DB>) -> StoreResult<Vec<Row<Self>>>;
    /// Run a query inside a write transaction (plain functions, so [`same_for_every_driver`] can
    /// implement them for every driver at once).
    fn fetch<'c>(
        conn: &'c mut Conn<Self>,
        q: QueryBuilder<Self::DB>,
    ) -> BoxFuture<'c, StoreResult<Vec<Row<Self>>>>;
    fn execute<'c>(
        conn: &'c mut Conn<Self>,
        q: QueryBuilder<Self::DB>,
    ) -> BoxFuture<'c, StoreResult<()>>;

    /// A transaction in which the writes to `name` are serialized against every other writer of it.
    async fn begin_write(&self, name: &str) -> StoreResult<WriteTx<Self::DB>>;
    /// Called after a new version row is inserted (SQLite keeps a names table for search).
    async fn after_insert(conn: &mut Conn<Self>, name: &str) -> StoreResult<()>;

    async fn migrate(&self) -> StoreResult<Vec<i64>>;
    async fn schema_state(&self) -> StoreResult<SchemaState>;
}

/// A write transaction, with the in-process turn of its server name when the backend takes one (so a
/// burst of writers of one name waits for its turn without holding pool connections).
pub struct WriteTx<DB: Database> {
    tx: Transaction<'static, DB>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<DB: Database> WriteTx<DB> {
    pub fn new(
        tx: Transaction<'static, DB>,
        turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    ) -> Self {
        WriteTx { tx, _turn: turn }
    }
    pub async fn commit(self) -> StoreResult<()> {
        Ok(self.tx.commit().await?)
    }
}

impl<DB: Database> std::ops::Deref for WriteTx<DB> {
    type Target = Transaction<'static, DB>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl<DB: Database> std::ops::DerefMut for WriteTx<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// The parts of a [`Dialect`] that read the same for every sqlx driver (typed per driver, so written once
/// here and expanded in each backend's `impl Dialect`), and the one choice that differs between them: how
/// timestamps and booleans are stored — `native` (PostgreSQL `timestamptz`, `boolean`) or `integers`
/// (SQLite: microseconds since the epoch, 0/1).
macro_rules! same_for_every_driver {
    ($db:ty, $conn:ty, $row:ty, stored: native) => {
        super::same_for_every_driver!($db, $conn, $row);
        fn bind_time(q: &mut QueryBuilder<$db>, v: DateTime<Utc>) {
            q.push_bind(v);
        }
        fn bind_opt_time(q: &mut QueryBuilder<$db>, v: Option<DateTime<Utc>>) {
            q.push_bind(v);
        }
        fn time_at(row: &$row, column: &str) -> StoreResult<DateTime<Utc>> {
            Ok(row.try_get(column)?)
        }
        fn opt_time_at(row: &$row, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
            Ok(row.try_get(column)?)
        }
        fn bool_at(row: &$row, column: &str) -> StoreResult<bool> {
            Ok(row.try_get(column)?)
        }
    };
    ($db:ty, $conn:ty, $row:ty, stored: integers) => {
        super::same_for_every_driver!($db, $conn, $row);
        fn bind_time(q: &mut QueryBuilder<$db>, v: DateTime<Utc>) {
            q.push_bind(v.timestamp_micros());
        }
        fn bind_opt_time(q: &mut QueryBuilder<$db>, v: Option<DateTime<Utc>>) {
            q.push_bind(v.map(|t| t.timestamp_micros()));
        }
        fn time_at(row: &$row, column: &str) -> StoreResult<DateTime<Utc>> {
            super::time_from_micros(row.try_get(column)?)
        }
        fn opt_time_at(row: &$row, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
            row.try_get::<Option<i64>, _>(column)?
                .map(super::time_from_micros)
                .transpose()
        }
        fn bool_at(row: &$row, column: &str) -> StoreResult<bool> {
            Ok(row.try_get::<i64, _>(column)? == 1)
        }
    };
    ($db:ty, $conn:ty, $row:ty) => {
        fn fetch<'c>(
            conn: &'c mut $conn,
            mut q: QueryBuilder<$db>,
        ) -> futures::future::BoxFuture<'c, StoreResult<Vec<$row>>> {
            Box::pin(async move { Ok(q.build().fetch_all(conn).await?) })
        }
        fn execute<'c>(
            conn: &'c mut $conn,
            mut q: QueryBuilder<$db>,
        ) -> futures::future::BoxFuture<'c, StoreResult<()>> {
            Box::pin(async move {
                q.build().execute(conn).await?;
                Ok(())
            })
        }
        fn bind_str(q: &mut QueryBuilder<$db>, v: String) {
            q.push_bind(v);
        }
        fn bind_opt_str(q: &mut QueryBuilder<$db>, v: Option<String>) {
            q.push_bind(v);
        }
        fn bind_bool(q: &mut QueryBuilder<$db>, v: bool) {
            q.push_bind(v);
        }
        fn bind_i64(q: &mut QueryBuilder<$db>, v: i64) {
            q.push_bind(v);
        }
        fn string_at(row: &$row, column: usize) -> StoreResult<String> {
            Ok(row.try_get(column)?)
        }
        fn str_at(row: &$row, column: &str) -> StoreResult<String> {
            Ok(row.try_get(column)?)
        }
        fn opt_str_at(row: &$row, column: &str) -> StoreResult<Option<String>> {
            Ok(row.try_get(column)?)
        }
    };
}
use same_for_every_driver;

/// A timestamp stored as microseconds since the epoch.
fn time_from_micros(us: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us)
        .ok_or_else(|| StoreError::Unavailable(format!("stored timestamp out of range: {us}")))
}

fn status_at<D: Dialect>(row: &Row<D>) -> StoreResult<Status> {
    Status::from_str(&D::str_at(row, "status")?).map_err(StoreError::Unavailable)
}

/// A row of [`Dialect::COLUMNS`].
fn record<D: Dialect>(row: &Row<D>) -> StoreResult<ServerRecord> {
    Ok(ServerRecord {
        name: D::str_at(row, "name")?,
        version: D::str_at(row, "version")?,
        server_json: D::str_at(row, "server_json")?,
        status: status_at::<D>(row)?,
        status_message: D::opt_str_at(row, "status_message")?,
        published_at: D::time_at(row, "published_at")?,
        updated_at: D::time_at(row, "updated_at")?,
        status_changed_at: D::time_at(row, "status_changed_at")?,
        is_latest: D::bool_at(row, "is_latest")?,
        source: D::opt_str_at(row, "source")?,
        source_updated_at: D::opt_time_at(row, "source_updated_at")?,
    })
}

fn meta<D: Dialect>(row: &Row<D>) -> StoreResult<VersionMeta> {
    Ok(VersionMeta {
        version: D::str_at(row, "version")?,
        published_at: D::time_at(row, "published_at")?,
        status: status_at::<D>(row)?,
        status_message: D::opt_str_at(row, "status_message")?,
        is_latest: D::bool_at(row, "is_latest")?,
        source: D::opt_str_at(row, "source")?,
    })
}

/// A query under construction: SQL text and bound values, in order.
struct Sql<D: Dialect>(QueryBuilder<D::DB>);

impl<D: Dialect> Sql<D> {
    fn new(sql: &str) -> Self {
        let mut q = QueryBuilder::default();
        q.push(sql);
        Sql(q)
    }
    fn select(condition: &str) -> Self {
        Sql::new(&format!(
            "SELECT {} FROM server_versions WHERE {condition}",
            D::COLUMNS
        ))
    }
    fn sql(mut self, text: &str) -> Self {
        self.0.push(text);
        self
    }
    fn str(mut self, v: impl Into<String>) -> Self {
        D::bind_str(&mut self.0, v.into());
        self
    }
    fn opt_str(mut self, v: Option<String>) -> Self {
        D::bind_opt_str(&mut self.0, v);
        self
    }
    fn bool(mut self, v: bool) -> Self {
        D::bind_bool(&mut self.0, v);
        self
    }
    fn i64(mut self, v: i64) -> Self {
        D::bind_i64(&mut self.0, v);
        self
    }
    fn time(mut self, v: DateTime<Utc>) -> Self {
        D::bind_time(&mut self.0, v);
        self
    }
    fn opt_time(mut self, v: Option<DateTime<Utc>>) -> Self {
        D::bind_opt_time(&mut self.0, v);
        self
    }
    async fn fetch(self, conn: &mut Conn<D>) -> StoreResult<Vec<Row<D>>> {
        D::fetch(conn, self.0).await
    }
    async fn execute(self, conn: &mut Conn<D>) -> StoreResult<()> {
        D::execute(conn, self.0).await
    }
    /// Whole rows, read on the read side.
    async fn read_records(self, db: &D) -> Records {
        db.fetch_read(self.0)
            .await?
            .iter()
            .map(record::<D>)
            .collect()
    }
    async fn records(self, conn: &mut Conn<D>) -> Records {
        self.fetch(conn).await?.iter().map(record::<D>).collect()
    }
}

/// A store on a SQL database; `D` says which (see [`SqliteStore`], [`PostgresStore`]).
pub struct SqlStore<D: Dialect> {
    db: D,
}

/// Every version of a server, newest first: the order of `versions` and of a bulk status change's answer.
const NEWEST_FIRST: &str = " ORDER BY published_at DESC, version DESC";

async fn load_meta<D: Dialect>(conn: &mut Conn<D>, name: &str) -> StoreResult<Vec<VersionMeta>> {
    let rows = Sql::<D>::new(
        "SELECT version, published_at, status, status_message, is_latest, source \
         FROM server_versions WHERE name = ",
    )
    .str(name)
    .fetch(conn)
    .await?;
    rows.iter().map(meta::<D>).collect()
}

async fn fetch_one<D: Dialect>(
    conn: &mut Conn<D>,
    name: &str,
    version: &str,
) -> StoreResult<ServerRecord> {
    let mut rows = Sql::<D>::select("name = ")
        .str(name)
        .sql(" AND version = ")
        .str(version)
        .records(conn)
        .await?;
    rows.pop().ok_or_else(|| {
        super::StoreError::Unavailable(format!("{name} {version} vanished inside its transaction"))
    })
}

/// Give `is_latest` to `latest` (or to no row). Clear first, then set: the unique partial index never sees
/// two latest rows.
async fn move_latest<D: Dialect>(
    conn: &mut Conn<D>,
    name: &str,
    latest: Option<&str>,
) -> StoreResult<()> {
    Sql::<D>::new("UPDATE server_versions SET is_latest = ")
        .sql(D::FALSE)
        .sql(" WHERE name = ")
        .str(name)
        .sql(" AND ")
        .sql(D::IS_LATEST)
        .sql(" AND version IS DISTINCT FROM ")
        .opt_str(latest.map(str::to_owned))
        .execute(conn)
        .await?;
    if let Some(latest) = latest {
        Sql::<D>::new("UPDATE server_versions SET is_latest = ")
            .sql(D::TRUE)
            .sql(" WHERE name = ")
            .str(name)
            .sql(" AND version = ")
            .str(latest)
            .sql(" AND NOT ")
            .sql(D::IS_LATEST)
            .execute(conn)
            .await?;
    }
    Ok(())
}

#[async_trait]
impl<D: Dialect> Store for SqlStore<D> {
    fn backend(&self) -> &'static str {
        D::BACKEND
    }

    async fn migrate(&self) -> StoreResult<Vec<i64>> {
        self.db.migrate().await
    }

    async fn schema_state(&self) -> StoreResult<SchemaState> {
        self.db.schema_state().await
    }

    async fn list(&self, q: &ListQuery) -> Records {
        let mut s = Sql::<D>::select("true");
        if let Some(c) = &q.after {
            s = match &c.version {
                // A row-value comparison: both databases turn it into a primary-key range search, while
                // the equivalent `name > ? OR (name = ? AND version > ?)` makes SQLite scan from the start.
                Some(v) => s
                    .sql(" AND (name, version) > (")
                    .str(c.name.as_str())
                    .sql(", ")
                    .str(v.as_str())
                    .sql(")"),
                None => s.sql(" AND name > ").str(c.name.as_str()),
            };
        }
        if let Some(term) = &q.search {
            D::push_search(&mut s.0, like_pattern(term));
        }
        if let Some(t) = q.updated_since {
            s = s.sql(" AND updated_at > ").time(t);
        }
        s = match &q.version {
            Some(VersionFilter::Latest) => s.sql(" AND ").sql(D::IS_LATEST),
            Some(VersionFilter::Exact(v)) => s.sql(" AND version = ").str(v.as_str()),
            None => s,
        };
        if !q.include_deleted {
            s = s.sql(" AND status <> 'deleted'");
        }
        let s = s.sql(" ORDER BY name, version LIMIT ").i64(q.limit as i64);
        s.read_records(&self.db).await
    }

    async fn versions(&self, name: &str, include_deleted: bool) -> Records {
        let s = Sql::<D>::select("name = ")
            .str(name)
            .sql(" AND (")
            .bool(include_deleted)
            .sql(" OR status <> 'deleted')")
            .sql(NEWEST_FIRST);
        s.read_records(&self.db).await
    }

    async fn get(&self, name: &str, version: &VersionRef, include_deleted: bool) -> Found {
        let s = Sql::<D>::select("name = ").str(name);
        let s = match version {
            VersionRef::Latest => s.sql(" AND ").sql(D::IS_LATEST),
            VersionRef::Exact(v) => s.sql(" AND version = ").str(v.as_str()),
        };
        let s = s
            .sql(" AND (")
            .bool(include_deleted)
            .sql(" OR status <> 'deleted')");
        Ok(s.read_records(&self.db).await?.pop())
    }

    async fn publish(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        let mut tx = self.db.begin_write(&new.name).await?;
        let existing = load_meta::<D>(&mut tx, &new.name).await?;
        let now = crate::model::now();
        let plan = plan::plan_publish(&existing, &new.name, &new.version, now)?;
        if let Some(old) = &plan.clear_latest {
            Sql::<D>::new("UPDATE server_versions SET is_latest = ")
                .sql(D::FALSE)
                .sql(" WHERE name = ")
                .str(new.name.as_str())
                .sql(" AND version = ")
                .str(old.as_str())
                .execute(&mut tx)
                .await?;
        }
        Sql::<D>::new(
            "INSERT INTO server_versions (name, version, server_json, status, status_message, \
             published_at, updated_at, status_changed_at, is_latest) VALUES (",
        )
        .str(new.name.as_str())
        .sql(", ")
        .str(new.version.as_str())
        .sql(", ")
        .str(new.server_json.as_str())
        .sql(D::JSON_CAST)
        .sql(", 'active', NULL, ")
        .time(now)
        .sql(", ")
        .time(now)
        .sql(", ")
        .time(now)
        .sql(", ")
        .bool(plan.new_is_latest)
        .sql(")")
        .execute(&mut tx)
        .await?;
        D::after_insert(&mut tx, &new.name).await?;
        let rec = fetch_one::<D>(&mut tx, &new.name, &new.version).await?;
        super::liveness::still_wanted()?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn edit(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        let mut tx = self.db.begin_write(&new.name).await?;
        let existing = load_meta::<D>(&mut tx, &new.name).await?;
        plan::check_edit_target(&existing, &new.name, &new.version)?;
        Sql::<D>::new("UPDATE server_versions SET server_json = ")
            .str(new.server_json.as_str())
            .sql(D::JSON_CAST)
            .sql(", updated_at = ")
            .time(crate::model::now())
            .sql(" WHERE name = ")
            .str(new.name.as_str())
            .sql(" AND version = ")
            .str(new.version.as_str())
            .execute(&mut tx)
            .await?;
        let rec = fetch_one::<D>(&mut tx, &new.name, &new.version).await?;
        super::liveness::still_wanted()?;
        tx.commit().await?;
        Ok(rec)
    }

    async fn set_status(&self, name: &str, version: Option<&str>, change: &NewStatus) -> Records {
        let mut tx = self.db.begin_write(name).await?;
        let existing = load_meta::<D>(&mut tx, name).await?;
        let plan = plan::plan_status(&existing, version, change, crate::model::now())?;
        for u in &plan.updates {
            Sql::<D>::new("UPDATE server_versions SET status = ")
                .str(u.status.as_str())
                .sql(", status_message = ")
                .opt_str(u.status_message.clone())
                .sql(", updated_at = ")
                .time(u.updated_at)
                .sql(", status_changed_at = COALESCE(")
                .opt_time(u.status_changed_at)
                .sql(", status_changed_at) WHERE name = ")
                .str(name)
                .sql(" AND version = ")
                .str(u.version.as_str())
                .execute(&mut tx)
                .await?;
        }
        move_latest::<D>(&mut tx, name, plan.latest.as_deref()).await?;
        let out = match version {
            Some(v) => vec![fetch_one::<D>(&mut tx, name, v).await?],
            None => {
                Sql::<D>::select("name = ")
                    .str(name)
                    .sql(NEWEST_FIRST)
                    .records(&mut tx)
                    .await?
            }
        };
        super::liveness::still_wanted()?;
        tx.commit().await?;
        Ok(out)
    }

    async fn apply_synced(&self, source: &str, v: &SyncedVersion) -> StoreResult<Applied> {
        self.apply_synced_version(source, v).await
    }
    async fn owned_versions(&self, source: &str) -> StoreResult<Vec<OwnedVersion>> {
        self.versions_owned_by(source).await
    }
    async fn take_sync_lease(
        &self,
        source: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        self.lease_source(source, holder, now, until).await
    }
    async fn save_sync_state(
        &self,
        source: &str,
        holder: &str,
        state: &str,
        release: bool,
    ) -> StoreResult<bool> {
        self.save_source_state(source, holder, state, release).await
    }
    async fn sync_sources(&self) -> StoreResult<Vec<SourceRecord>> {
        self.source_records().await
    }
}
