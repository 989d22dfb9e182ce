//! Queries shared by the readers and the writers: documents to records, the latest pointers, a
//! version's rows for the planners and the latest-only listing.

use super::MongoStore;
use super::documents::*;
use crate::model::{ServerRecord, Status};
use crate::store::plan::{self, VersionMeta};
use crate::store::{ListQuery, Records, StoreError, StoreResult};
use futures::TryStreamExt;
use mongodb::bson::{Document, doc};
use std::collections::HashMap;
use std::str::FromStr;

impl MongoStore {
    pub(super) async fn latest_of(&self, names: &[String]) -> StoreResult<HashMap<String, String>> {
        if names.is_empty() {
            return Ok(HashMap::new());
        }
        let docs: Vec<Document> = self
            .servers_coll()
            .find(doc! { "_id": { "$in": names } })
            .await
            .map_err(db_err)?
            .try_collect()
            .await
            .map_err(db_err)?;
        Ok(docs
            .into_iter()
            .filter_map(|d| {
                Some((
                    d.get_str("_id").ok()?.to_owned(),
                    d.get_str("latest").ok()?.to_owned(),
                ))
            })
            .collect())
    }

    pub(super) async fn records(&self, docs: Vec<Document>) -> Records {
        let mut names: Vec<String> = docs
            .iter()
            .filter_map(|d| d.get_str("name").ok().map(str::to_owned))
            .collect();
        names.sort();
        names.dedup();
        let latest = self.latest_of(&names).await?;
        docs.iter()
            .map(|d| {
                let name = d.get_str("name").unwrap_or_default();
                record(d, latest.get(name).map(String::as_str))
            })
            .collect()
    }

    pub(super) async fn find(
        &self,
        filter: Document,
        sort: Document,
        limit: Option<i64>,
    ) -> StoreResult<Vec<Document>> {
        let coll = self.versions_coll();
        let mut f = coll.find(filter).sort(sort);
        if let Some(l) = limit {
            f = f.limit(l);
        }
        f.await.map_err(db_err)?.try_collect().await.map_err(db_err)
    }

    pub(super) async fn load_meta(&self, name: &str) -> StoreResult<Vec<VersionMeta>> {
        let latest = self.latest_of(&[name.to_owned()]).await?;
        let latest = latest.get(name);
        let docs = self
            .find(doc! { "name": name }, doc! { "version": 1 }, None)
            .await?;
        docs.iter()
            .map(|d| {
                let version = str_of(d, "version")?;
                Ok(VersionMeta {
                    is_latest: latest == Some(&version),
                    version,
                    published_at: time_of(d, "published_at")?,
                    status: Status::from_str(&str_of(d, "status")?)
                        .map_err(StoreError::Unavailable)?,
                    status_message: opt_str(d, "status_message"),
                    source: opt_str(d, "source"),
                })
            })
            .collect()
    }

    pub(super) async fn fetch_one(&self, name: &str, version: &str) -> StoreResult<ServerRecord> {
        let d = self
            .versions_coll()
            .find_one(doc! { "name": name, "version": version })
            .await
            .map_err(db_err)?
            .ok_or_else(|| StoreError::NotFound(plan::VERSION_NOT_FOUND.into()))?;
        Ok(self.records(vec![d]).await?.remove(0))
    }

    pub(super) async fn list_latest(&self, q: &ListQuery) -> Records {
        // Walk the latest pointers in name order, then apply the per-version filters; repeat until the
        // page is full or the names run out.
        let mut out = Vec::new();
        let mut after_name: Option<String> = None;
        let batch = (q.limit * 2).max(32) as i64;
        loop {
            let mut filter = doc! { "latest": { "$type": "string" } };
            match (&after_name, &q.after) {
                (Some(n), _) => {
                    filter.insert("_id", doc! { "$gt": n });
                }
                (None, Some(c)) if c.version.is_some() => {
                    filter.insert("_id", doc! { "$gte": &c.name });
                }
                (None, Some(c)) => {
                    filter.insert("_id", doc! { "$gt": &c.name });
                }
                (None, None) => {}
            }
            if let Some(s) = &q.search {
                // Under $and so it does not replace the range condition on _id above.
                filter.insert(
                    "$and",
                    vec![doc! { "_id": { "$regex": literal_regex(s), "$options": "i" } }],
                );
            }
            let servers: Vec<Document> = self
                .servers_coll()
                .find(filter)
                .sort(doc! { "_id": 1 })
                .limit(batch)
                .await
                .map_err(db_err)?
                .try_collect()
                .await
                .map_err(db_err)?;
            if servers.is_empty() {
                return Ok(out);
            }
            after_name = servers
                .last()
                .and_then(|d| d.get_str("_id").ok().map(str::to_owned));
            let pairs: Vec<Document> = servers
                .iter()
                .filter_map(|d| Some(doc! { "name": d.get_str("_id").ok()?, "version": d.get_str("latest").ok()? }))
                .collect();
            let mut vfilter = doc! { "$or": pairs };
            if let Some(t) = q.updated_since {
                vfilter.insert("updated_at", doc! { "$gt": micros(t) });
            }
            if !q.include_deleted {
                vfilter.insert("status", doc! { "$ne": "deleted" });
            }
            let docs = self
                .find(vfilter, doc! { "name": 1, "version": 1 }, None)
                .await?;
            for r in self.records(docs).await? {
                let past_cursor = match &q.after {
                    Some(c) => {
                        (r.name.as_bytes(), r.version.as_bytes())
                            > (
                                c.name.as_bytes(),
                                c.version.as_deref().unwrap_or("").as_bytes(),
                            )
                    }
                    None => true,
                };
                if past_cursor {
                    out.push(r);
                    if out.len() == q.limit {
                        return Ok(out);
                    }
                }
            }
        }
    }
}
