//! The layers around a backend store, built in one place ([`stack`]), each written as a [`Layer`] that
//! overrides only what it changes:
//!
//! - [`metered::Metered`] (innermost): times every operation, so store latency is the backend's own;
//! - [`cached::Cached`]: the read cache of [`crate::cache`], invalidated by every write;
//! - [`detached::DetachedWrites`] (outermost): every write runs to completion in a task of its own, so a
//!   client that disconnects can lose the answer but never leave a write, or its invalidation, half done.
//!
//! [`Layer`] has a default for every [`Store`] method that passes the call to the inner store through
//! [`Layer::around`]; the one blanket `impl Store for L: Layer` below is the only place that lists them.

pub mod cached;
pub mod detached;
pub mod metered;

use super::{
    Applied, DynStore, Found, ListQuery, NewStatus, NewVersion, OwnedVersion, Records, SchemaState,
    SourceRecord, Store, StoreResult, SyncedVersion, VersionRef,
};
use crate::cache::CacheBackend;
use crate::metrics::Metrics;
use crate::model::ServerRecord;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use std::sync::Arc;

/// The store stack of a running registry: `backend` metered, then cached when a cache is configured, then
/// detached.
pub fn stack(
    backend: DynStore,
    metrics: &Arc<Metrics>,
    cache: Option<Arc<dyn CacheBackend>>,
) -> DynStore {
    let mut store = metered::Metered::wrap(backend, metrics.clone());
    if let Some(cache) = cache {
        store = cached::Cached::wrap(store, cache, metrics.cache_requests.clone());
    }
    detached::DetachedWrites::wrap(store)
}

/// A [`Store`] decorator. Every method defaults to calling the inner store's, through [`Layer::around`].
#[async_trait]
pub trait Layer: Send + Sync + 'static {
    /// The store this layer wraps.
    fn inner(&self) -> &DynStore;

    /// Runs around every call that a layer does not override; `op` names the operation (`list`, `get`, …).
    fn around<'a, T: Send + 'a>(
        &'a self,
        _op: &'static str,
        call: BoxFuture<'a, StoreResult<T>>,
    ) -> BoxFuture<'a, StoreResult<T>> {
        call
    }

    async fn migrate(&self) -> StoreResult<Vec<i64>> {
        self.around("migrate", self.inner().migrate()).await
    }
    async fn schema_state(&self) -> StoreResult<SchemaState> {
        self.around("schema_state", self.inner().schema_state())
            .await
    }
    async fn list(&self, q: &ListQuery) -> Records {
        self.around("list", self.inner().list(q)).await
    }
    async fn versions(&self, name: &str, include_deleted: bool) -> Records {
        self.around("versions", self.inner().versions(name, include_deleted))
            .await
    }
    async fn get(&self, name: &str, v: &VersionRef, include_deleted: bool) -> Found {
        self.around("get", self.inner().get(name, v, include_deleted))
            .await
    }
    async fn publish(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        self.around("publish", self.inner().publish(new)).await
    }
    async fn edit(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        self.around("edit", self.inner().edit(new)).await
    }
    async fn set_status(&self, name: &str, version: Option<&str>, change: &NewStatus) -> Records {
        self.around("set_status", self.inner().set_status(name, version, change))
            .await
    }
    async fn apply_synced(&self, source: &str, v: &SyncedVersion) -> StoreResult<Applied> {
        self.around("apply_synced", self.inner().apply_synced(source, v))
            .await
    }
    async fn owned_versions(&self, source: &str) -> StoreResult<Vec<OwnedVersion>> {
        self.around("owned_versions", self.inner().owned_versions(source))
            .await
    }
    async fn take_sync_lease(
        &self,
        source: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let call = self.inner().take_sync_lease(source, holder, now, until);
        self.around("take_sync_lease", call).await
    }
    async fn save_sync_state(
        &self,
        source: &str,
        holder: &str,
        state: &str,
        release: bool,
    ) -> StoreResult<bool> {
        let call = self.inner().save_sync_state(source, holder, state, release);
        self.around("save_sync_state", call).await
    }
    async fn sync_sources(&self) -> StoreResult<Vec<SourceRecord>> {
        self.around("sync_sources", self.inner().sync_sources())
            .await
    }
}

#[async_trait]
impl<L: Layer> Store for L {
    fn backend(&self) -> &'static str {
        self.inner().backend()
    }
    async fn migrate(&self) -> StoreResult<Vec<i64>> {
        Layer::migrate(self).await
    }
    async fn schema_state(&self) -> StoreResult<SchemaState> {
        Layer::schema_state(self).await
    }
    async fn list(&self, q: &ListQuery) -> Records {
        Layer::list(self, q).await
    }
    async fn versions(&self, name: &str, include_deleted: bool) -> Records {
        Layer::versions(self, name, include_deleted).await
    }
    async fn get(&self, name: &str, v: &VersionRef, include_deleted: bool) -> Found {
        Layer::get(self, name, v, include_deleted).await
    }
    async fn publish(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        Layer::publish(self, new).await
    }
    async fn edit(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        Layer::edit(self, new).await
    }
    async fn set_status(&self, name: &str, version: Option<&str>, change: &NewStatus) -> Records {
        Layer::set_status(self, name, version, change).await
    }
    async fn apply_synced(&self, source: &str, v: &SyncedVersion) -> StoreResult<Applied> {
        Layer::apply_synced(self, source, v).await
    }
    async fn owned_versions(&self, source: &str) -> StoreResult<Vec<OwnedVersion>> {
        Layer::owned_versions(self, source).await
    }
    async fn take_sync_lease(
        &self,
        source: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        Layer::take_sync_lease(self, source, holder, now, until).await
    }
    async fn save_sync_state(
        &self,
        source: &str,
        holder: &str,
        state: &str,
        release: bool,
    ) -> StoreResult<bool> {
        Layer::save_sync_state(self, source, holder, state, release).await
    }
    async fn sync_sources(&self) -> StoreResult<Vec<SourceRecord>> {
        Layer::sync_sources(self).await
    }
}
