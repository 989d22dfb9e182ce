//! [`Cached`]: reads served from a [`CacheBackend`] (list pages, version lists, gets), every write
//! followed by the invalidation of what it changed. The scheme (generations, exact across replicas, Redis
//! failures never failing a request) is described in [`crate::cache`].

use super::Layer;
use crate::cache::{CacheBackend, Lookup, Scope};
use crate::model::ServerRecord;
use crate::store::{
    Applied, DynStore, Found, ListQuery, NewStatus, NewVersion, Records, StoreResult,
    SyncedVersion, VersionRef,
};
use async_trait::async_trait;
use prometheus::IntCounterVec;
use std::sync::Arc;

pub struct Cached {
    inner: DynStore,
    cache: Arc<dyn CacheBackend>,
    requests: IntCounterVec,
}

impl Cached {
    pub fn wrap(
        inner: DynStore,
        cache: Arc<dyn CacheBackend>,
        requests: IntCounterVec,
    ) -> DynStore {
        Arc::new(Cached {
            inner,
            cache,
            requests,
        })
    }

    fn count(&self, result: &str) {
        self.requests
            .with_label_values(&[self.cache.kind(), result])
            .inc();
    }

    async fn cached<F, Fut, T>(&self, scope: Scope, key: String, load: F) -> StoreResult<T>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = StoreResult<T>>,
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        let generation = match self.cache.get(&scope, &key).await {
            Lookup::Hit(bytes) => match serde_json::from_slice(&bytes) {
                Ok(v) => {
                    self.count("hit");
                    return Ok(v);
                }
                Err(_) => None, // an entry from another version of the registry: reload it
            },
            Lookup::Miss(g) => Some(g),
            Lookup::Unavailable => {
                self.count("error");
                return load().await;
            }
        };
        self.count("miss");
        let value = load().await?;
        if let (Some(g), Ok(bytes)) = (generation, serde_json::to_vec(&value)) {
            self.cache.put(&scope, &g, &key, bytes).await;
        }
        Ok(value)
    }
}

fn list_key(q: &ListQuery) -> String {
    format!("list|{q:?}")
}

#[async_trait]
impl Layer for Cached {
    fn inner(&self) -> &DynStore {
        &self.inner
    }
    async fn list(&self, q: &ListQuery) -> Records {
        self.cached(Scope::Lists, list_key(q), || self.inner.list(q))
            .await
    }
    async fn versions(&self, name: &str, include_deleted: bool) -> Records {
        let key = format!("versions|{include_deleted}");
        self.cached(Scope::Server(name.to_owned()), key, || {
            self.inner.versions(name, include_deleted)
        })
        .await
    }
    async fn get(&self, name: &str, v: &VersionRef, include_deleted: bool) -> Found {
        let key = format!("get|{v:?}|{include_deleted}");
        self.cached(Scope::Server(name.to_owned()), key, || {
            self.inner.get(name, v, include_deleted)
        })
        .await
    }
    async fn publish(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        let name = new.name.clone();
        let out = self.inner.publish(new).await;
        self.cache.invalidate(&name).await;
        out
    }
    async fn edit(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        let name = new.name.clone();
        let out = self.inner.edit(new).await;
        self.cache.invalidate(&name).await;
        out
    }
    async fn set_status(&self, name: &str, version: Option<&str>, change: &NewStatus) -> Records {
        let out = self.inner.set_status(name, version, change).await;
        self.cache.invalidate(name).await;
        out
    }
    async fn apply_synced(&self, source: &str, v: &SyncedVersion) -> StoreResult<Applied> {
        let out = self.inner.apply_synced(source, v).await;
        // Also after an error: the write may have committed before the failure was seen.
        if !matches!(
            out,
            Ok(Applied::Unchanged | Applied::Conflict { .. } | Applied::Refused { .. })
        ) {
            self.cache.invalidate(&v.name).await;
        }
        out
    }
}
