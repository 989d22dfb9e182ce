//! Read cache for list pages, version lists and gets, as a [`Store`] decorator ([`CachedStore`]).
//!
//! Invalidation is by generation, so it is exact and works across replicas: every cached entry's key
//! contains the current generation of its scope (one for all list pages, one per server name), and every
//! write bumps the generations it affects **before** the write's response is sent. A reader that starts
//! after a write returned reads the new generation and misses; a reader that raced the write may store an
//! entry under the old generation, which nobody reads again. With Redis, generation and entry are read in
//! one round trip (a Lua script); without Redis the same scheme runs in process.
//!
//! Redis failures never fail a request: reads fall through to the store. A write whose invalidation could
//! not reach Redis marks an outage; when Redis answers again the cache's epoch is bumped, which retires
//! every entry written before the outage.

pub mod local;
pub mod redis;

use crate::model::ServerRecord;
use crate::store::{
    DynStore, ListQuery, NewVersion, SchemaState, StatusChange, Store, StoreResult, VersionRef,
};
use async_trait::async_trait;
use prometheus::IntCounterVec;
use std::sync::Arc;

/// What a cached entry depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Any list page: every write changes some page.
    Lists,
    /// Everything about one server name.
    Server(String),
}

/// A cache lookup: the entry, or the generation to store a fresh value under.
pub enum Lookup {
    Hit(Vec<u8>),
    Miss(String),
    Unavailable,
}

#[async_trait]
pub trait CacheBackend: Send + Sync {
    fn kind(&self) -> &'static str;
    async fn get(&self, scope: &Scope, key: &str) -> Lookup;
    async fn put(&self, scope: &Scope, generation: &str, key: &str, value: Vec<u8>);
    /// Retire everything that depends on `name` (its entries and every list page).
    async fn invalidate(&self, name: &str);
}

pub struct CachedStore {
    inner: DynStore,
    cache: Arc<dyn CacheBackend>,
    requests: IntCounterVec,
}

impl CachedStore {
    pub fn wrap(
        inner: DynStore,
        cache: Arc<dyn CacheBackend>,
        requests: IntCounterVec,
    ) -> DynStore {
        Arc::new(CachedStore {
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
impl Store for CachedStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }
    async fn migrate(&self) -> StoreResult<Vec<i64>> {
        self.inner.migrate().await
    }
    async fn schema_state(&self) -> StoreResult<SchemaState> {
        self.inner.schema_state().await
    }
    async fn list(&self, q: &ListQuery) -> StoreResult<Vec<ServerRecord>> {
        self.cached(Scope::Lists, list_key(q), || self.inner.list(q))
            .await
    }
    async fn versions(&self, name: &str, include_deleted: bool) -> StoreResult<Vec<ServerRecord>> {
        let key = format!("versions|{include_deleted}");
        self.cached(Scope::Server(name.to_owned()), key, || {
            self.inner.versions(name, include_deleted)
        })
        .await
    }
    async fn get(
        &self,
        name: &str,
        v: &VersionRef,
        include_deleted: bool,
    ) -> StoreResult<Option<ServerRecord>> {
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
    async fn set_status(
        &self,
        name: &str,
        version: Option<&str>,
        change: &StatusChange,
    ) -> StoreResult<Vec<ServerRecord>> {
        let out = self.inner.set_status(name, version, change).await;
        self.cache.invalidate(name).await;
        out
    }
}
