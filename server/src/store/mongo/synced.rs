//! Federation on MongoDB (see [`crate::store::synced`]): synced versions are applied under the same
//! per-server lease as publishes. A source's lease is a document of its own in `sync_leases`, taken by
//! inserting it (the unique `_id` makes that atomic on every MongoDB-wire server; a conditional update is
//! not, on FerretDB 1.x) and broken only once expired; the source's state lives in `sync_sources` and is
//! written only after the holder has checked that it still holds the lease.

use super::MongoStore;
use super::documents::*;
use crate::model::Status;
use crate::store::plan::{self, SyncAction};
use crate::store::{Applied, OwnedVersion, SourceRecord, StoreError, StoreResult, SyncedVersion};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::{Bson, Document, doc};
use std::str::FromStr;

impl MongoStore {
    fn sync_sources_coll(&self) -> Collection<Document> {
        self.db.collection("sync_sources")
    }
    fn sync_leases_coll(&self) -> Collection<Document> {
        self.db.collection("sync_leases")
    }

    pub(super) async fn apply_synced_version(
        &self,
        source: &str,
        v: &SyncedVersion,
    ) -> StoreResult<Applied> {
        self.locked(&v.name, async {
            let existing = self.load_meta(&v.name).await?;
            let stored_json = match existing.iter().any(|r| r.version == v.version) {
                true => Some(self.fetch_one(&v.name, &v.version).await?.server_json),
                false => None,
            };
            let plan = match plan::plan_sync(&existing, source, v, stored_json.as_deref()) {
                Ok(p) => p,
                Err(refused) => return Ok((refused, None)),
            };
            let now = micros(crate::model::now());
            let message = v.status_message.clone().map_or(Bson::Null, Bson::String);
            let upstream = v
                .upstream_updated_at
                .map_or(Bson::Null, |t| Bson::Int64(micros(t)));
            let applied = match plan.action {
                SyncAction::Unchanged => return Ok((Applied::Unchanged, None)),
                SyncAction::Insert => {
                    let d = doc! {
                        "name": &v.name, "version": &v.version, "server_json": &v.server_json,
                        "status": v.status.as_str(), "status_message": message,
                        "published_at": micros(v.published_at), "updated_at": now,
                        "status_changed_at": now, "source": source, "source_updated_at": upstream,
                    };
                    self.versions_coll().insert_one(d).await.map_err(db_err)?;
                    Applied::Added
                }
                SyncAction::Update { status_changed } => {
                    let mut set = doc! {
                        "server_json": &v.server_json, "status": v.status.as_str(),
                        "status_message": message, "updated_at": now, "source_updated_at": upstream,
                    };
                    if status_changed {
                        set.insert("status_changed_at", now);
                    }
                    self.versions_coll()
                        .update_one(
                            doc! { "name": &v.name, "version": &v.version },
                            doc! { "$set": set },
                        )
                        .await
                        .map_err(db_err)?;
                    Applied::Updated
                }
            };
            Ok((applied, Some(plan.latest.clone())))
        })
        .await
    }

    pub(super) async fn versions_owned_by(&self, source: &str) -> StoreResult<Vec<OwnedVersion>> {
        let docs: Vec<Document> = self
            .versions_coll()
            .find(doc! { "source": source })
            .projection(doc! { "name": 1, "version": 1, "status": 1 })
            .sort(doc! { "name": 1, "version": 1 })
            .await
            .map_err(db_err)?
            .try_collect()
            .await
            .map_err(db_err)?;
        docs.iter()
            .map(|d| {
                Ok(OwnedVersion {
                    name: str_of(d, "name")?,
                    version: str_of(d, "version")?,
                    status: Status::from_str(&str_of(d, "status")?)
                        .map_err(StoreError::Unavailable)?,
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
        let leases = self.sync_leases_coll();
        // Twice at most: the second attempt follows the removal of an expired lease.
        for _ in 0..2 {
            let lease = doc! { "_id": source, "holder": holder, "expires": micros(until) };
            match leases.insert_one(lease).await {
                Ok(_) => return Ok(true),
                Err(e) if is_duplicate_key(&e) => {}
                Err(e) => return Err(db_err(e)),
            }
            let Some(held) = leases
                .find_one(doc! { "_id": source })
                .await
                .map_err(db_err)?
            else {
                continue; // released in between: insert again
            };
            let current = held.get_str("holder").unwrap_or_default().to_owned();
            let expires = held.get_i64("expires").unwrap_or(0);
            if current == holder {
                // Renewal: only the holder writes its own lease.
                let r = leases
                    .update_one(
                        doc! { "_id": source, "holder": holder },
                        doc! { "$set": { "expires": micros(until) } },
                    )
                    .await
                    .map_err(db_err)?;
                return Ok(r.matched_count == 1);
            }
            if expires >= micros(now) {
                return Ok(false);
            }
            // Expired (its holder died): remove exactly that lease, then compete for a new one by insert.
            leases
                .delete_one(doc! { "_id": source, "holder": current, "expires": expires })
                .await
                .map_err(db_err)?;
        }
        Ok(false)
    }

    pub(super) async fn save_source_state(
        &self,
        source: &str,
        holder: &str,
        state: &str,
        release: bool,
    ) -> StoreResult<bool> {
        let held = self
            .sync_leases_coll()
            .find_one(doc! { "_id": source, "holder": holder })
            .await
            .map_err(db_err)?;
        if held.is_none() {
            return Ok(false);
        }
        self.sync_sources_coll()
            .update_one(doc! { "_id": source }, doc! { "$set": { "state": state } })
            .upsert(true)
            .await
            .map_err(db_err)?;
        if release {
            self.sync_leases_coll()
                .delete_one(doc! { "_id": source, "holder": holder })
                .await
                .map_err(db_err)?;
        }
        Ok(true)
    }

    pub(super) async fn source_records(&self) -> StoreResult<Vec<SourceRecord>> {
        let all = |coll: Collection<Document>| async move {
            coll.find(doc! {})
                .await
                .map_err(db_err)?
                .try_collect::<Vec<Document>>()
                .await
                .map_err(db_err)
        };
        let states = all(self.sync_sources_coll()).await?;
        let leases = all(self.sync_leases_coll()).await?;
        let mut names: Vec<String> = states
            .iter()
            .chain(leases.iter())
            .filter_map(|d| d.get_str("_id").ok().map(str::to_owned))
            .collect();
        names.sort();
        names.dedup();
        Ok(names
            .into_iter()
            .map(|name| {
                let state = states
                    .iter()
                    .find(|d| d.get_str("_id") == Ok(name.as_str()));
                let lease = leases
                    .iter()
                    .find(|d| d.get_str("_id") == Ok(name.as_str()));
                SourceRecord {
                    lease_holder: lease.and_then(|l| opt_str(l, "holder")),
                    lease_expires: lease
                        .and_then(|l| l.get_i64("expires").ok())
                        .and_then(DateTime::from_timestamp_micros),
                    state: state
                        .and_then(|s| opt_str(s, "state"))
                        .unwrap_or_else(|| "{}".into()),
                    name,
                }
            })
            .collect())
    }
}
