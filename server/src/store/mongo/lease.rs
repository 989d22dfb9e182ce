//! The per-server write lease (see the module documentation): an insert into `locks` takes it, a
//! delete releases it and moves the latest pointer in the same step.

use super::documents::{db_err, is_duplicate_key, micros};
use super::{LEASE, LOCK_WAIT, MongoStore};
use crate::store::{StoreError, StoreResult};
use mongodb::bson::{Bson, doc};
use std::time::Duration;

impl MongoStore {
    /// Take the per-server lease; returns the owner token to release it with. The lease is a document
    /// in `locks` whose `_id` is the server name: taking it is an insert, which the unique `_id` makes
    /// atomic on every MongoDB-wire server. (A conditional update-with-upsert is not enough: FerretDB 1.x
    /// runs it as read-then-write, so two writers could both "take" a free lease.)
    pub(super) async fn lock(&self, name: &str) -> StoreResult<String> {
        let owner = uuid::Uuid::new_v4().to_string();
        let start = std::time::Instant::now();
        let mut wait = Duration::from_millis(2);
        loop {
            let now = micros(crate::model::now());
            let lease =
                doc! { "_id": name, "owner": &owner, "expires": now + LEASE.as_micros() as i64 };
            match self.locks_coll().insert_one(lease).await {
                Ok(_) => return Ok(owner),
                Err(e) if is_duplicate_key(&e) => {
                    // Held. Break it only when it expired (its writer crashed), then try again at once.
                    let held = self
                        .locks_coll()
                        .find_one(doc! { "_id": name })
                        .await
                        .map_err(db_err)?;
                    if let Some(h) = held
                        && h.get_i64("expires").is_ok_and(|exp| exp < now)
                    {
                        let stale_owner = h.get_str("owner").unwrap_or_default().to_owned();
                        tracing::warn!(
                            server = name,
                            "breaking an expired write lease (a writer died holding it)"
                        );
                        self.locks_coll()
                            .delete_one(doc! { "_id": name, "owner": stale_owner })
                            .await
                            .map_err(db_err)?;
                        continue;
                    }
                    if start.elapsed() > LOCK_WAIT {
                        return Err(StoreError::Unavailable(format!(
                            "timed out waiting for the write lock of {name}"
                        )));
                    }
                    // Jittered, so a crowd of writers does not retry in lockstep.
                    let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as u32;
                    tokio::time::sleep(wait + wait * jitter / 1000).await;
                    wait = (wait * 2).min(Duration::from_millis(100));
                }
                Err(e) => return Err(db_err(e)),
            }
        }
    }

    /// Move the latest pointer (when given; one atomic single-document write, done by the lease holder
    /// only), then release the lease.
    pub(super) async fn unlock(
        &self,
        name: &str,
        owner: &str,
        latest: Option<Option<&str>>,
    ) -> StoreResult<()> {
        if let Some(l) = latest {
            let value = l.map_or(Bson::Null, |v| Bson::String(v.to_owned()));
            self.servers_coll()
                .update_one(doc! { "_id": name }, doc! { "$set": { "latest": value } })
                .upsert(true)
                .await
                .map_err(db_err)?;
        }
        let r = self
            .locks_coll()
            .delete_one(doc! { "_id": name, "owner": owner })
            .await
            .map_err(db_err)?;
        if r.deleted_count == 0 {
            // The lease expired under us (a write slower than LEASE) and another writer may own it now.
            return Err(StoreError::Unavailable(format!(
                "lost the write lock of {name}; the change may be partly applied, retry it"
            )));
        }
        Ok(())
    }

    /// Run `f` holding the server's lease; the lease is released (and the latest pointer set, when `f`
    /// returns one) whatever the outcome.
    pub(super) async fn locked<T>(
        &self,
        name: &str,
        f: impl std::future::Future<Output = StoreResult<(T, Option<Option<String>>)>>,
    ) -> StoreResult<T> {
        let owner = self.lock(name).await?;
        let out = f.await;
        let latest = match &out {
            Ok((_, l)) => l.clone(),
            Err(_) => None,
        };
        self.unlock(name, &owner, latest.as_ref().map(|l| l.as_deref()))
            .await?;
        out.map(|(v, _)| v)
    }
}
