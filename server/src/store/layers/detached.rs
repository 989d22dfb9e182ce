//! [`DetachedWrites`]: every write runs to completion in a task of its own, even when the client goes away.
//!
//! The server drops a request's future when its client disconnects. A write dropped half-way is rolled back
//! by the SQL stores (the transaction is never committed), but the MongoDB store has no transaction: a
//! dropped write could leave its lease held until it expires, or a version inserted without its latest
//! pointer moved, and the cache layer could miss its invalidation. Detaching writes makes "the request
//! was cancelled" mean "the answer was lost", never "the write was half done". Reads pass through.
//!
//! A write whose request ended before its point of no return is not committed at all ([`liveness`]).

use super::Layer;
use crate::model::ServerRecord;
use crate::store::{DynStore, NewStatus, NewVersion, Records, StoreError, StoreResult, liveness};
use async_trait::async_trait;
use std::sync::Arc;

pub struct DetachedWrites {
    inner: DynStore,
}

impl DetachedWrites {
    pub fn wrap(inner: DynStore) -> DynStore {
        Arc::new(DetachedWrites { inner })
    }
}

/// Runs `write` in a task of its own that knows whether this request still waits for it.
async fn detach<T: Send + 'static>(
    write: impl std::future::Future<Output = StoreResult<T>> + Send + 'static,
) -> StoreResult<T> {
    let (requester, wanted) = liveness::Requester::new();
    let out = tokio::spawn(liveness::run_for(wanted, write))
        .await
        .map_err(|e| StoreError::Unavailable(format!("write task failed: {e}")))?;
    requester.answered();
    out
}

#[async_trait]
impl Layer for DetachedWrites {
    fn inner(&self) -> &DynStore {
        &self.inner
    }
    async fn publish(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        let inner = self.inner.clone();
        detach(async move { inner.publish(new).await }).await
    }
    async fn edit(&self, new: NewVersion) -> StoreResult<ServerRecord> {
        let inner = self.inner.clone();
        detach(async move { inner.edit(new).await }).await
    }
    async fn set_status(&self, name: &str, version: Option<&str>, change: &NewStatus) -> Records {
        let (inner, name, version, change) = (
            self.inner.clone(),
            name.to_owned(),
            version.map(str::to_owned),
            change.clone(),
        );
        detach(async move { inner.set_status(&name, version.as_deref(), &change).await }).await
    }
}
