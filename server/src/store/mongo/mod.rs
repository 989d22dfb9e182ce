//! MongoDB store (also runs on MongoDB-wire servers such as FerretDB). It needs no multi-document
//! transactions; the invariants rest on single-document atomicity:
//!
//! - `server_versions` holds one document per version, with a unique index on `(name, version)`, so a
//!   version is inserted at most once even if two writers raced past the lock;
//! - `servers` holds one document per name with the **latest pointer** (`latest`). `isLatest` is derived
//!   from that pointer when reading, so exactly one version is latest at every instant: moving the flag
//!   is one atomic update of one document;
//! - writes to one name first take a lease: inserting `{_id: name}` into `locks` (the unique `_id` makes
//!   that atomic; a taken lease makes the insert fail and the writer retries). Under the lease the writer
//!   decides with the shared planners, applies, moves the pointer, and deletes the lease. A crashed
//!   writer's lease expires and is broken by the next writer.
//!
//! All-or-nothing bulk status changes: every rule (the no-op rules of the planner) is checked under
//! the lease before the first write, so a rule can never fail half-way; only a database failure mid-way
//! could leave some versions changed, which the next status write completes.

use super::plan;
use super::{
    Applied, Found, ListQuery, NewStatus, NewVersion, OwnedVersion, Records, Rejection,
    SchemaState, SourceRecord, Store, StoreError, StoreResult, SyncedVersion, VersionFilter,
    VersionRef,
};
use crate::model::ServerRecord;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use documents::*;
use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::{ClientOptions, IndexOptions};
use mongodb::{Client, Collection, Database, IndexModel};
use std::time::Duration;

mod documents;
mod lease;
mod queries;
mod synced;

/// Schema versions this build knows; each is applied by `migrate` (indexes are idempotent).
const MIGRATIONS: &[i64] = &[20251121000001, 20261202000001];
/// A writer holding a server's lease longer than this is presumed dead. Longer than any request may
/// take (`server.request_timeout`), so only a crashed writer ever loses its lease.
const LEASE: Duration = Duration::from_secs(60);
/// How long a writer waits for another writer of the same server before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(60);

pub struct MongoStore {
    db: Database,
}

impl MongoStore {
    /// Parse the URI and create the client; connecting happens lazily on first use.
    pub async fn connect(uri: &str, password: Option<String>, database: &str) -> StoreResult<Self> {
        Self::connect_failing_after(uri, password, database, Duration::from_secs(5)).await
    }

    /// [`Self::connect`] with the time an operation waits for a reachable server before the store is called
    /// unavailable (`storage.connect_timeout`).
    pub async fn connect_failing_after(
        uri: &str,
        password: Option<String>,
        database: &str,
        connect_timeout: Duration,
    ) -> StoreResult<Self> {
        let mut opts = ClientOptions::parse(uri)
            .await
            .map_err(|e| StoreError::Unavailable(format!("invalid MongoDB URI: {e}")))?;
        if let Some(pw) = password {
            match opts.credential.as_mut() {
                Some(c) => c.password = Some(pw),
                None => {
                    return Err(StoreError::Unavailable(
                        "storage.mongodb.password_file is set but the URI names no user".into(),
                    ));
                }
            }
        }
        opts.app_name = Some("mcp-registry".into());
        opts.server_selection_timeout = Some(connect_timeout);
        opts.connect_timeout = Some(connect_timeout);
        let client = Client::with_options(opts).map_err(StoreError::unavailable)?;
        Ok(MongoStore {
            db: client.database(database),
        })
    }

    fn versions_coll(&self) -> Collection<Document> {
        self.db.collection("server_versions")
    }
    fn servers_coll(&self) -> Collection<Document> {
        self.db.collection("servers")
    }
    fn locks_coll(&self) -> Collection<Document> {
        self.db.collection("locks")
    }
    fn migrations_coll(&self) -> Collection<Document> {
        self.db.collection("schema_migrations")
    }
}

#[async_trait]
impl Store for MongoStore {
    fn backend(&self) -> &'static str {
        "mongodb"
    }

    async fn migrate(&self) -> StoreResult<Vec<i64>> {
        let before = self.schema_state().await?;
        let index = |name: &str, keys: Document, unique: bool| {
            let opts = IndexOptions::builder()
                .name(name.to_owned())
                .unique(unique)
                .build();
            IndexModel::builder().keys(keys).options(opts).build()
        };
        let wanted = vec![
            index("name_version", doc! { "name": 1, "version": 1 }, true),
            index("updated_at", doc! { "updated_at": 1 }, false),
            // 20261202000001: the versions a sync source owns.
            index(
                "source",
                doc! { "source": 1, "name": 1, "version": 1 },
                false,
            ),
        ];
        // Create only what is missing: re-creating an existing index crashes FerretDB 1.24's handler
        // (a slice-bounds panic that drops the connection), and it is needless work on MongoDB.
        // An error here means the collection does not exist yet: nothing to skip.
        let existing: Vec<String> = self
            .versions_coll()
            .list_index_names()
            .await
            .unwrap_or_default();
        let missing: Vec<IndexModel> = wanted
            .into_iter()
            .filter(|m| {
                let name = m
                    .options
                    .as_ref()
                    .and_then(|o| o.name.clone())
                    .unwrap_or_default();
                !existing.contains(&name)
            })
            .collect();
        if !missing.is_empty() {
            // Reachable (schema_state above worked): an index the server refuses is not worth retrying.
            self.versions_coll()
                .create_indexes(missing)
                .await
                .map_err(|e| StoreError::Fatal(format!("creating indexes failed: {e}")))?;
        }
        for v in before.pending() {
            self.migrations_coll()
                .update_one(
                    doc! { "_id": v },
                    doc! { "$set": { "applied_at": micros(crate::model::now()) } },
                )
                .upsert(true)
                .await
                .map_err(db_err)?;
        }
        Ok(before.pending())
    }

    async fn schema_state(&self) -> StoreResult<SchemaState> {
        let docs: Vec<Document> = self
            .migrations_coll()
            .find(doc! {})
            .await
            .map_err(db_err)?
            .try_collect()
            .await
            .map_err(db_err)?;
        let mut applied: Vec<i64> = docs.iter().filter_map(|d| d.get_i64("_id").ok()).collect();
        applied.sort();
        Ok(SchemaState {
            applied,
            known: MIGRATIONS.to_vec(),
        })
    }

    async fn list(&self, q: &ListQuery) -> Records {
        if q.version == Some(VersionFilter::Latest) {
            return self.list_latest(q).await;
        }
        let mut and: Vec<Document> = Vec::new();
        if let Some(c) = &q.after {
            and.push(match &c.version {
                Some(v) => doc! { "$or": [ { "name": { "$gt": &c.name } }, { "name": &c.name, "version": { "$gt": v } } ] },
                None => doc! { "name": { "$gt": &c.name } },
            });
        }
        if let Some(s) = &q.search {
            // An unanchored regex cannot use an index: run it over the names (one document per server),
            // not over every version.
            let names: Vec<String> = self
                .servers_coll()
                .find(doc! { "_id": { "$regex": literal_regex(s), "$options": "i" } })
                .projection(doc! { "_id": 1 })
                .await
                .map_err(db_err)?
                .try_collect::<Vec<Document>>()
                .await
                .map_err(db_err)?
                .into_iter()
                .filter_map(|d| d.get_str("_id").ok().map(str::to_owned))
                .collect();
            if names.is_empty() {
                return Ok(Vec::new());
            }
            and.push(doc! { "name": { "$in": names } });
        }
        if let Some(t) = q.updated_since {
            and.push(doc! { "updated_at": { "$gt": micros(t) } });
        }
        if let Some(VersionFilter::Exact(v)) = &q.version {
            and.push(doc! { "version": v });
        }
        if !q.include_deleted {
            and.push(not_deleted());
        }
        let filter = if and.is_empty() {
            doc! {}
        } else {
            doc! { "$and": and }
        };
        let docs = self
            .find(
                filter,
                doc! { "name": 1, "version": 1 },
                Some(q.limit as i64),
            )
            .await?;
        self.records(docs).await
    }

    async fn versions(&self, name: &str, include_deleted: bool) -> Records {
        let mut filter = doc! { "name": name };
        if !include_deleted {
            filter.extend(not_deleted());
        }
        let docs = self
            .find(filter, doc! { "published_at": -1, "version": -1 }, None)
            .await?;
        self.records(docs).await
    }

    async fn get(&self, name: &str, version: &VersionRef, include_deleted: bool) -> Found {
        let wanted = match version {
            VersionRef::Exact(v) => v.clone(),
            VersionRef::Latest => match self.latest_of(&[name.to_owned()]).await?.remove(name) {
                Some(v) => v,
                None => return Ok(None),
            },
        };
        let mut filter = doc! { "name": name, "version": &wanted };
        if !include_deleted {
            filter.extend(not_deleted());
        }
        match self
            .versions_coll()
            .find_one(filter)
            .await
            .map_err(db_err)?
        {
            Some(d) => Ok(self.records(vec![d]).await?.pop()),
            None => Ok(None),
        }
    }

    async fn publish(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        let name = new.name.clone();
        let version = new.version.clone();
        // Versions are immutable and never removed: one that exists is a duplicate for good, which needs no
        // lock to decide (and spares a crowd of duplicate publishes the queue on the lease).
        if self
            .versions_coll()
            .find_one(doc! { "name": &new.name, "version": &new.version })
            .projection(doc! { "_id": 1 })
            .await
            .map_err(db_err)?
            .is_some()
        {
            return Err(Rejection::DuplicateVersion {
                name: new.name.clone(),
                version: new.version.clone(),
            }
            .into());
        }
        self.locked(&name, async {
            let existing = self.load_meta(&new.name).await?;
            let now = crate::model::now();
            let plan = plan::plan_publish(&existing, &new.name, &new.version, now)?;
            super::liveness::still_wanted()?;
            let d = doc! {
                "name": &new.name, "version": &new.version, "server_json": &new.server_json,
                "status": "active", "status_message": Bson::Null,
                "published_at": micros(now), "updated_at": micros(now), "status_changed_at": micros(now),
            };
            match self.versions_coll().insert_one(d).await {
                Ok(_) => {}
                Err(e) if is_duplicate_key(&e) => return Err(Rejection::DuplicateVersion {
                name: new.name.clone(),
                version: new.version.clone(),
            }
            .into()),
                Err(e) => return Err(db_err(e)),
            }
            let latest = plan.new_is_latest.then(|| Some(new.version.clone()));
            Ok(((), latest))
        })
        .await?;
        self.fetch_one(&name, &version).await
    }

    async fn edit(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        self.locked(&new.name, async {
            let existing = self.load_meta(&new.name).await?;
            plan::check_edit_target(&existing, &new.name, &new.version)?;
            super::liveness::still_wanted()?;
            self.versions_coll()
                .update_one(
                    doc! { "name": &new.name, "version": &new.version },
                    doc! { "$set": { "server_json": &new.server_json, "updated_at": micros(crate::model::now()) } },
                )
                .await
                .map_err(db_err)?;
            Ok(((), None))
        })
        .await?;
        self.fetch_one(&new.name, &new.version).await
    }

    async fn set_status(&self, name: &str, version: Option<&str>, change: &NewStatus) -> Records {
        self.locked(name, async {
            let existing = self.load_meta(name).await?;
            let plan = plan::plan_status(&existing, version, change, crate::model::now())?;
            super::liveness::still_wanted()?;
            for u in &plan.updates {
                let mut set = doc! {
                    "status": u.status.as_str(),
                    "status_message": u.status_message.clone().map_or(Bson::Null, Bson::String),
                    "updated_at": micros(u.updated_at),
                };
                if let Some(t) = u.status_changed_at {
                    set.insert("status_changed_at", micros(t));
                }
                self.versions_coll()
                    .update_one(
                        doc! { "name": name, "version": &u.version },
                        doc! { "$set": set },
                    )
                    .await
                    .map_err(db_err)?;
            }
            Ok(((), Some(plan.latest.clone())))
        })
        .await?;
        match version {
            Some(v) => Ok(vec![self.fetch_one(name, v).await?]),
            None => self.versions(name, true).await,
        }
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
