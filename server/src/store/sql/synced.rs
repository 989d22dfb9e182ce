//! Federation on the SQL stores (see [`crate::store::synced`]): applying synced versions under the same
//! per-server write serialization as publishes, and the `sync_sources` records with their leases. A lease
//! is taken by one conditional upsert, atomic on both databases (PostgreSQL locks the conflicting row;
//! SQLite has a single writer).

use super::{Dialect, Sql, SqlStore, fetch_one, load_meta, move_latest};
use crate::store::plan::{self, SyncAction};
use crate::store::{Applied, OwnedVersion, SourceRecord, StoreResult, SyncedVersion};
use chrono::{DateTime, Utc};
use std::str::FromStr;

impl<D: Dialect> SqlStore<D> {
    pub(super) async fn apply_synced_version(
        &self,
        source: &str,
        v: &SyncedVersion,
    ) -> StoreResult<Applied> {
        let mut tx = self.db.begin_write(&v.name).await?;
        let existing = load_meta::<D>(&mut tx, &v.name).await?;
        let stored_json = match existing.iter().any(|r| r.version == v.version) {
            true => Some(
                fetch_one::<D>(&mut tx, &v.name, &v.version)
                    .await?
                    .server_json,
            ),
            false => None,
        };
        let plan = match plan::plan_sync(&existing, source, v, stored_json.as_deref()) {
            Ok(p) => p,
            Err(refused) => return Ok(refused),
        };
        let now = crate::model::now();
        let applied = match plan.action {
            SyncAction::Unchanged => return Ok(Applied::Unchanged),
            SyncAction::Insert => {
                Sql::<D>::new(
                    "INSERT INTO server_versions (name, version, server_json, status, status_message, \
                     published_at, updated_at, status_changed_at, is_latest, source, source_updated_at) \
                     VALUES (",
                )
                .str(v.name.as_str())
                .sql(", ")
                .str(v.version.as_str())
                .sql(", ")
                .str(v.server_json.as_str())
                .sql(D::JSON_CAST)
                .sql(", ")
                .str(v.status.as_str())
                .sql(", ")
                .opt_str(v.status_message.clone())
                .sql(", ")
                .time(v.published_at)
                .sql(", ")
                .time(now)
                .sql(", ")
                .time(now)
                .sql(", ")
                .sql(D::FALSE)
                .sql(", ")
                .str(source)
                .sql(", ")
                .opt_time(v.upstream_updated_at)
                .sql(")")
                .execute(&mut tx)
                .await?;
                D::after_insert(&mut tx, &v.name).await?;
                Applied::Added
            }
            SyncAction::Update { status_changed } => {
                Sql::<D>::new("UPDATE server_versions SET server_json = ")
                    .str(v.server_json.as_str())
                    .sql(D::JSON_CAST)
                    .sql(", status = ")
                    .str(v.status.as_str())
                    .sql(", status_message = ")
                    .opt_str(v.status_message.clone())
                    .sql(", updated_at = ")
                    .time(now)
                    .sql(", status_changed_at = COALESCE(")
                    .opt_time(status_changed.then_some(now))
                    .sql(", status_changed_at), source_updated_at = ")
                    .opt_time(v.upstream_updated_at)
                    .sql(" WHERE name = ")
                    .str(v.name.as_str())
                    .sql(" AND version = ")
                    .str(v.version.as_str())
                    .execute(&mut tx)
                    .await?;
                Applied::Updated
            }
        };
        move_latest::<D>(&mut tx, &v.name, plan.latest.as_deref()).await?;
        tx.commit().await?;
        Ok(applied)
    }

    pub(super) async fn versions_owned_by(&self, source: &str) -> StoreResult<Vec<OwnedVersion>> {
        let q = Sql::<D>::new("SELECT name, version, status FROM server_versions WHERE source = ")
            .str(source)
            .sql(" ORDER BY name, version");
        let rows = self.db.fetch_read(q.0).await?;
        rows.iter()
            .map(|r| {
                Ok(OwnedVersion {
                    name: D::str_at(r, "name")?,
                    version: D::str_at(r, "version")?,
                    status: crate::model::Status::from_str(&D::str_at(r, "status")?)
                        .map_err(crate::store::StoreError::Unavailable)?,
                })
            })
            .collect()
    }

    pub(super) async fn lease_source(
        &self,
        source: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        // The write transaction of a name no server can have (names contain a '/'): the same
        // serialization as every other write, and a connection of the write side.
        let mut tx = self
            .db
            .begin_write(&format!("sync source {source}"))
            .await?;
        let taken =
            Sql::<D>::new("INSERT INTO sync_sources (name, lease_holder, lease_expires) VALUES (")
                .str(source)
                .sql(", ")
                .str(holder)
                .sql(", ")
                .time(until)
                .sql(
                    ") ON CONFLICT (name) DO UPDATE SET lease_holder = excluded.lease_holder, \
             lease_expires = excluded.lease_expires WHERE sync_sources.lease_holder IS NULL \
             OR sync_sources.lease_expires IS NULL OR sync_sources.lease_expires < ",
                )
                .time(now)
                .sql(" OR sync_sources.lease_holder = ")
                .str(holder)
                .sql(" RETURNING name")
                .fetch(&mut tx)
                .await?;
        tx.commit().await?;
        Ok(!taken.is_empty())
    }

    pub(super) async fn save_source_state(
        &self,
        source: &str,
        holder: &str,
        state: &str,
        release: bool,
    ) -> StoreResult<bool> {
        let mut tx = self
            .db
            .begin_write(&format!("sync source {source}"))
            .await?;
        let mut q = Sql::<D>::new("UPDATE sync_sources SET state = ").str(state);
        if release {
            q = q.sql(", lease_holder = NULL, lease_expires = NULL");
        }
        let saved = q
            .sql(" WHERE name = ")
            .str(source)
            .sql(" AND lease_holder = ")
            .str(holder)
            .sql(" RETURNING name")
            .fetch(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(!saved.is_empty())
    }

    pub(super) async fn source_records(&self) -> StoreResult<Vec<SourceRecord>> {
        let q = Sql::<D>::new(
            "SELECT name, lease_holder, lease_expires, state FROM sync_sources ORDER BY name",
        );
        let rows = self.db.fetch_read(q.0).await?;
        rows.iter()
            .map(|r| {
                Ok(SourceRecord {
                    name: D::str_at(r, "name")?,
                    lease_holder: D::opt_str_at(r, "lease_holder")?,
                    lease_expires: D::opt_time_at(r, "lease_expires")?,
                    state: D::str_at(r, "state")?,
                })
            })
            .collect()
    }
}
